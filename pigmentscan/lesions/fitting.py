"""Fitting the learned lesion classifier (:class:`~pigmentscan.lesions.classifier.PixelClassifier`).

A first stage over :data:`~pigmentscan.lesions.classifier.PIXEL_FEATURES`, and optionally a
context stage over those and the first stage's cross-fitted probabilities around each pixel
(:func:`fit_lesion_classifier`). scikit-learn's ``MLPClassifier`` fits each stage; the result is
plain numbers (``PixelClassifier.to_dict``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .classifier import (
    CONTEXT_FEATURES,
    PIXEL_FEATURES,
    REGION_CONTEXT_FEATURES,
    ClassifierEnsemble,
    PixelClassifier,
    context_features,
)

__all__ = ["fit_pixel_classifier", "fit_context_stage", "cross_fitted_probabilities", "fit_lesion_classifier",
           "fit_classifier_ensemble"]


def fit_pixel_classifier(features, labels, *, hidden_layers=(32, 16), seed: int = 0, training=None,
                         unused_features=()) -> PixelClassifier:
    """Fit one stage of a :class:`PixelClassifier` with scikit-learn's ``MLPClassifier``.

    Parameters
    ----------
    features : array-like, shape (N, len(PIXEL_FEATURES)) or (N, len(PIXEL_FEATURES) + len(CONTEXT_FEATURES))
        :func:`pixel_features` (a first stage), or those followed by :func:`context_features`
        (a context stage).
    labels : array-like of bool, shape (N,)
        True for lesion pixels.
    hidden_layers : tuple of int
    seed : int
        Weight initialisation and the early-stopping split.
    training : dict, optional
        Summary stored with the classifier.
    unused_features : sequence of str
        Names of features the network must not use: they are held at their mean while it is
        fitted and their input weights are zero, so the stored classifier ignores them.
    """
    from sklearn.neural_network import MLPClassifier

    x = np.asarray(features, np.float64)
    y = np.asarray(labels, bool)
    names = {len(PIXEL_FEATURES): PIXEL_FEATURES, len(PIXEL_FEATURES + CONTEXT_FEATURES): PIXEL_FEATURES + CONTEXT_FEATURES}
    if x.ndim != 2 or x.shape[1] not in names or len(y) != len(x):
        raise ValueError(f"features must be (N, {len(PIXEL_FEATURES)}) or (N, {len(PIXEL_FEATURES + CONTEXT_FEATURES)}) "
                         f"with one label per row")
    if y.all() or not y.any():
        raise ValueError("labels need both lesion and normal pixels")
    feature_names = names[x.shape[1]]
    unknown = set(unused_features) - set(feature_names)
    if unknown:
        raise ValueError(f"unused_features names features the classifier does not have: {sorted(unknown)}")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-6, scale, 1.0)
    standardised = (x - mean) / scale
    unused = [feature_names.index(name) for name in unused_features]
    standardised[:, unused] = 0.0
    network = MLPClassifier(hidden_layers, max_iter=300, early_stopping=True, random_state=seed)
    network.fit(standardised, y)
    weights = [w.astype(np.float32) for w in network.coefs_]
    weights[0][unused, :] = 0.0
    return PixelClassifier(feature_names, mean.astype(np.float32), scale.astype(np.float32), tuple(weights),
                           tuple(b.astype(np.float32) for b in network.intercepts_), 0.5, dict(training or {}))


def fit_context_stage(photos, probabilities, iod_px: float, *, pixels_per_photo: int = 1500, seed: int = 0,
                      region_context: bool = True, **fit_options) -> PixelClassifier:
    """Fit the context stage on first-stage probabilities the first stage did not see the answers of.

    Parameters
    ----------
    photos : sequence of (features, labels, inside)
        Per photo: :func:`pixel_features` (N, F), the true lesion label of each row (N,) and
        the described pixels (H, W) bool.
    probabilities : sequence of numpy.ndarray
        Per photo, the first-stage probability of each row from a first stage fitted on
        other faces (:func:`cross_fitted_probabilities`).
    iod_px : float
        Inter-ocular distance of the photos, in pixels (the working copy's).
    pixels_per_photo : int
        Pixels drawn at random from each photo to fit on.
    region_context : bool
        Also use :data:`~pigmentscan.lesions.classifier.REGION_CONTEXT_FEATURES` (the region's
        mean probability and probable share), as the default model's context stage does. Without
        them (``benchmarks/train_lesion_classifier.py --local-context``) the stage tracked change
        better on new faces (phantom trial series of ``benchmarks/longitudinal.py``: tune faces
        scored by stages fitted on the other half of them, change r 0.930 vs 0.895; test faces
        0.862 vs 0.840; accuracy.py test retest SDC 0.88 vs 1.41 MASI points) but read more
        pigment on clean skin (clean brown test faces: 8.0 vs 4.8 % of a region; clean-face MASI
        median 1.85 vs 0.93; dark minus light clean MASI 1.01 points, over the test suite's 1.0).
        At a decision threshold of 0.7 it reads clean skin as the default does and still tracks
        change better (test faces r 0.869), but outlines lesions worse (test Dice 0.842 vs 0.856):
        the model's provenance has the figures.
    """
    rng = np.random.default_rng(seed)
    if not region_context:
        fit_options["unused_features"] = tuple(fit_options.get("unused_features", ())) + REGION_CONTEXT_FEATURES
    xs, ys = [], []
    for (features, labels, inside), probability in zip(photos, probabilities):
        pick = rng.choice(len(labels), min(len(labels), pixels_per_photo), replace=False)
        extra = context_features(probability, inside, features[:, PIXEL_FEATURES.index("region")], iod_px)
        xs.append(np.concatenate([features[pick], extra[pick]], axis=1))
        ys.append(np.asarray(labels)[pick])
    return fit_pixel_classifier(np.concatenate(xs), np.concatenate(ys), seed=seed, **fit_options)


def cross_fitted_probabilities(photos, groups, *, folds: int = 4, pixels_per_photo: int = 1500, seed: int = 0,
                               **fit_options) -> list:
    """First-stage probabilities of each photo from a first stage fitted on the other groups' photos.

    ``photos`` as for :func:`fit_context_stage`; ``groups`` one label per photo (the face):
    the groups are dealt at random into ``folds`` folds, and each fold's photos are scored
    by a stage fitted on the other folds, so no face is scored by a stage that saw it.
    """
    rng = np.random.default_rng(seed)
    names = sorted(set(groups))
    fold_of = {name: k % folds for k, name in enumerate(rng.permutation(names))}
    probabilities = [None] * len(photos)
    for fold in range(folds):
        train = [photo for photo, group in zip(photos, groups) if fold_of[group] != fold]
        stage = fit_pixel_classifier(*_sample(train, pixels_per_photo, rng), seed=seed + fold, **fit_options)
        for k, (photo, group) in enumerate(zip(photos, groups)):
            if fold_of[group] == fold:
                probabilities[k] = stage.probability(photo[0])
    return probabilities


def fit_lesion_classifier(photos, groups, iod_px: float, *, context: bool = True, folds: int = 4,
                          pixels_per_photo: int = 1500, seed: int = 0, training=None, region_context: bool = True,
                          **fit_options) -> PixelClassifier:
    """Fit a :class:`PixelClassifier` on labelled photos: the first stage and, by default, a context stage.

    Parameters
    ----------
    photos : sequence of (features, labels, inside)
        As for :func:`fit_context_stage`.
    groups : sequence
        The face of each photo (cross-fitting keeps a face's photos together).
    iod_px : float
        Inter-ocular distance of the photos, in pixels.
    context : bool
        Fit the context stage (module docstring) on cross-fitted first-stage probabilities.
    folds, pixels_per_photo, seed
        Cross-fitting folds, pixels drawn from each photo, random seed.
    region_context : bool
        Let the context stage use the region-wide context features (:func:`fit_context_stage`).
    training : dict, optional
        Summary stored with the classifier.
    """
    rng = np.random.default_rng(seed)
    first = fit_pixel_classifier(*_sample(photos, pixels_per_photo, rng), seed=seed, training=training, **fit_options)
    if not context:
        return first
    probabilities = cross_fitted_probabilities(photos, groups, folds=folds, pixels_per_photo=pixels_per_photo,
                                               seed=seed + 1, **fit_options)
    stage = fit_context_stage(photos, probabilities, iod_px, pixels_per_photo=pixels_per_photo, seed=seed,
                              region_context=region_context, **fit_options)
    return replace(first, context=stage)


def fit_classifier_ensemble(photos, groups, iod_px: float, *, members: int = 3, seed: int = 0, jobs: int = 1,
                            training=None, **options) -> ClassifierEnsemble:
    """Fit ``members`` classifiers as :func:`fit_lesion_classifier` does, with seeds ``seed``, ``seed + 1``, ...

    Each member draws its own pixels from every photo and starts from its own weights; the
    :class:`~pigmentscan.lesions.classifier.ClassifierEnsemble` averages their probabilities.
    ``jobs`` members are fitted at a time (joblib processes); ``options`` go to
    :func:`fit_lesion_classifier` (``context``, ``folds``, ``pixels_per_photo``, ...).
    """
    from joblib import Parallel, delayed

    if members < 1:
        raise ValueError("an ensemble needs at least one member")
    fitted = Parallel(n_jobs=min(jobs, members))(
        delayed(fit_lesion_classifier)(photos, groups, iod_px, seed=seed + k, **options) for k in range(members))
    return ClassifierEnsemble(tuple(fitted), 0.5, dict(training or {}))


def _sample(photos, pixels_per_photo: int, rng):
    """Features and labels of ``pixels_per_photo`` random pixels of each photo."""
    xs, ys = [], []
    for features, labels, _ in photos:
        pick = rng.choice(len(labels), min(len(labels), pixels_per_photo), replace=False)
        xs.append(features[pick])
        ys.append(np.asarray(labels)[pick])
    return np.concatenate(xs), np.concatenate(ys)
