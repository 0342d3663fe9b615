"""A learned lesion classifier: per-pixel pigment features and a small neural network over them.

In :func:`~pigmentscan.lesions.analyse_face` the classifier's lesions are the mask, and a
rule-based patch it has not found is added whole (alone, it missed the real brown spots of
London faces 001 and 038: phantom pigment is not all pigment). The threshold rules of
:func:`~pigmentscan.lesions.find_lesions` compare each pixel with one estimate of the normal
skin around it, and faint patches that cover most of a region defeat every single estimate. The classifier instead sees, for each pixel of a MASI region,
its melanin, haemoglobin and darkening against the face's skin at several scales (a local
mean of 0.08 to 0.6 IOD, the smooth surface, the skin outside the regions), the rule-based
candidate and contrast, the local texture, the face's tone and noise, and where on the face
the pixel is (a mirror-symmetric position in IOD around the pupils, so it can learn the
natural browner skin of the forehead and temples). :func:`pixel_features` computes them.

The network (:class:`PixelClassifier`) is a multilayer perceptron: standardised features,
ReLU hidden layers, a logistic output. It is fitted with scikit-learn
(:func:`~pigmentscan.lesions.fitting.fit_pixel_classifier`) and stored as plain numbers in the model's JSON
(``lesion_classifier``), so loading it never runs code. pigmentscan's default is fitted on
melasma phantoms (:mod:`pigmentscan.phantom`) of the tune split of the London faces
(``benchmarks/train_lesion_classifier.py``): it has learned what phantom pigment looks like
on real skin; refit it on annotated photos of your own when you have them. Its features are
computed on the lesion analysis's working copy (``LesionParams.work_iod_px`` between the
pupils), where it was fitted: a model that changes ``work_iod_px`` should be refitted.

A pixel's features say little about the patch it belongs to, so the classifier may carry a
second, context stage (auto-context: Tu & Bai 2010, IEEE TPAMI 32:1744): a network over the
same features plus the first stage's probabilities around the pixel (:func:`context_features`:
local means at 0.03 to 0.2 IOD, the nearby maximum, the region's mean and share of probable
lesion). A faint pixel in the middle of a probable patch then counts as lesion, an isolated
probable one less. It is fitted on first-stage probabilities of faces the first stage was
not fitted on (cross-fitting, :func:`~pigmentscan.lesions.fitting.fit_lesion_classifier`), so it learns how far to trust
them on new faces. The default model has one (``benchmarks/train_lesion_classifier.py
--context``): on the phantom test split lesion Dice rose from 0.844 to 0.856 and area-% MAE
fell from 5.1 to 4.2 points; the retest smallest detectable change went from 1.09 to 1.41 MASI
points (within the 1.5 target), and on the phantom trial series of
``benchmarks/longitudinal.py`` from 1.81 to 1.18. (With 0.1.0's lesion analysis the same stage
had made retests worse, 2.4 instead of 1.7, and the default then went without it.)

Networks fitted alike but with different seeds find much the same lesions on the faces they
were fitted on and differ on new ones. A :class:`ClassifierEnsemble` averages the final
probabilities of several (``benchmarks/train_lesion_classifier.py --members``); the default
model's is five networks at a mean probability of 0.6. On tune faces none of them saw, the
phantom trial change r of ``benchmarks/longitudinal.py`` rose from 0.875 (one network) to 0.903
(three) and the retest smallest detectable change fell from 0.89 to 0.50 MASI points; five
networks gave 0.933 against three's 0.924 on the same photos, and ten no more (0.930). The
model's provenance has the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .. import colour
from ..regions import REGION_KEYS
from ._ops import _disk, _gaussian

__all__ = ["PIXEL_FEATURES", "REFERENCE_SCALES_IOD", "CONTEXT_SCALES_IOD", "CONTEXT_FEATURES", "REGION_CONTEXT_FEATURES",
           "PixelClassifier", "ClassifierEnsemble", "classifier_from_dict", "pixel_features", "context_features"]

#: Scales (Gaussian sigma, IOD) of the local normal-skin means the features compare against.
REFERENCE_SCALES_IOD = (0.08, 0.15, 0.3, 0.6)
#: Names of the per-pixel features, in the order of :func:`pixel_features`' last axis.
PIXEL_FEATURES = (
    ("melanin", "haemoglobin", "shading", "contrast", "candidate", "melanin_wide")
    + tuple(f"{map_}_vs_{scale}" for scale in REFERENCE_SCALES_IOD for map_ in ("melanin", "darkening", "haemoglobin"))
    + ("melanin_vs_surface", "melanin_vs_outside", "darkening_vs_outside", "melanin_vs_q25", "melanin_texture",
       "across_iod", "down_iod", "noise", "ita_deg", "l_star", "region")
)
#: Scales (Gaussian sigma, IOD) of the local means of the first stage's probability (context stage).
CONTEXT_SCALES_IOD = (0.03, 0.08, 0.2)
#: Diameter (IOD) of the neighbourhood whose highest first-stage probability is a context feature.
_CONTEXT_MAX_IOD = 0.1
#: Names of the context stage's extra features (:func:`context_features`), after :data:`PIXEL_FEATURES`.
CONTEXT_FEATURES = (("probability",) + tuple(f"probability_mean_{scale}" for scale in CONTEXT_SCALES_IOD)
                    + ("probability_max", "region_mean_probability", "region_probable_share"))
#: The context features that summarise a whole region; a context stage fitted with
#: ``region_context=False`` does not use them (:func:`~pigmentscan.lesions.fitting.fit_context_stage`).
REGION_CONTEXT_FEATURES = ("region_mean_probability", "region_probable_share")


def pixel_features(maps, where=None) -> np.ndarray:
    """Per-pixel features of one face for the lesion classifier.

    Parameters
    ----------
    maps : SkinMaps
        The pigment maps and rule-based results of one face at the working scale
        (:func:`pigmentscan.lesions.skin_maps`).
    where : numpy.ndarray of bool, optional
        The pixels to describe; by default the clean skin of the MASI regions.

    Returns
    -------
    numpy.ndarray, shape (N, len(PIXEL_FEATURES)), float32
        One row per pixel of ``where``, in row-major order.
    """
    from .reference import melanin_noise, skin_references, surface_reference

    iod, clean = maps.iod_px, maps.clean
    in_regions = np.logical_or.reduce(list(maps.regions.values()))
    rows, cols = np.nonzero(clean & in_regions if where is None else where)

    def at(image):  # the described pixels of a map: all arithmetic below is on these only
        return image[rows, cols]

    melanin, darkness, haemoglobin = at(maps.melanin), at(maps.darkness), at(maps.haemoglobin)
    per_od = maps.od_per_melanin
    face_skin, melanin_centre, noise = maps.clean, 0.0, maps.noise
    if maps.params.face_skin_margin_iod > 0:  # the face-wide figures from its normal skin
        face_skin = _face_skin(maps)
        melanin_centre, noise = float(np.median(maps.melanin[face_skin])), melanin_noise(maps.melanin, face_skin, iod)
    columns = [melanin - melanin_centre, haemoglobin, at(maps.shading), at(maps.contrast), at(maps.candidates),
               at(_gaussian(maps.melanin, 0.06 * iod)) - melanin_centre]
    for melanin_ref, darkness_ref, haemoglobin_ref in skin_references(
            (maps.melanin, maps.darkness, maps.haemoglobin), clean, iod, REFERENCE_SCALES_IOD, 0.6):
        columns += [melanin - at(melanin_ref), (darkness - at(darkness_ref)) / per_od,
                    haemoglobin - at(haemoglobin_ref)]
    columns.append(melanin - at(surface_reference(maps.melanin, clean, iod, maps.params)))
    outside = face_skin & ~cv2.dilate(in_regions.astype(np.uint8), _disk(0.05 * iod)).astype(bool)  # 0.05 IOD off
    if outside.sum() < 50:
        outside = face_skin
    columns += [melanin - np.median(maps.melanin[outside]), (darkness - np.median(maps.darkness[outside])) / per_od,
                melanin - np.quantile(maps.melanin[face_skin], 0.25)]
    local_mean = at(_gaussian(maps.melanin, 0.05 * iod))
    columns.append(np.sqrt(np.maximum(at(_gaussian(maps.melanin * maps.melanin, 0.05 * iod)) - local_mean**2, 0.0)))
    skin_lab = maps.lab[face_skin].mean(axis=0) if face_skin.any() else np.zeros(3, np.float32)
    region = np.zeros(rows.size, np.float32)
    for number, key in enumerate(REGION_KEYS, start=1):
        region[at(maps.regions[key])] = number
    columns += [*_face_position(rows, cols, maps.points_px, iod), noise, float(colour.ita_deg(skin_lab)),
                skin_lab[0], region]
    out = np.empty((rows.size, len(PIXEL_FEATURES)), np.float32)
    for k, column in enumerate(columns):
        out[:, k] = column
    return out


def _face_skin(maps) -> np.ndarray:
    """The normal skin the face-wide features are measured on (``LesionParams.face_skin_margin_iod``).

    The clean skin off the rule-based candidates grown by the margin; all of the clean skin
    when that leaves under a tenth of it (a face the rules find mostly pigmented).
    """
    margin_iod = maps.params.face_skin_margin_iod
    grown = cv2.dilate(maps.candidates.astype(np.uint8), _disk(2 * margin_iod * maps.iod_px)).astype(bool)
    normal = maps.clean & ~grown
    return normal if normal.sum() >= max(50, 0.1 * maps.clean.sum()) else maps.clean


def context_features(probability, inside, region, iod_px: float) -> np.ndarray:
    """Per-pixel context of a first-stage lesion probability, for the context stage.

    Parameters
    ----------
    probability : numpy.ndarray, shape (N,)
        First-stage lesion probability of each pixel of ``inside``, in row-major order (as
        :func:`pixel_features` describes them).
    inside : numpy.ndarray of bool, shape (H, W)
        The described pixels (N of them).
    region : numpy.ndarray, shape (N,)
        Each pixel's MASI region number (1-4; :func:`pixel_features`' ``region`` column).
    iod_px : float
        Inter-ocular distance in pixels.

    Returns
    -------
    numpy.ndarray, shape (N, len(CONTEXT_FEATURES)), float32
        The probability itself; its mean over the described pixels around each one (Gaussian
        weights, sigma :data:`CONTEXT_SCALES_IOD`, normalised by the weight of described
        pixels, so the skin outside does not count as normal); its highest value within
        0.05 IOD; the region's mean probability and share of pixels at 0.5 or above.
    """
    rows, cols = np.nonzero(inside)
    probability = np.asarray(probability, np.float32)
    if probability.shape != rows.shape:
        raise ValueError(f"probability has {probability.size} values for {rows.size} described pixels")
    image, weight = np.zeros(inside.shape, np.float32), inside.astype(np.float32)
    image[rows, cols] = probability
    columns = [probability]
    for scale in CONTEXT_SCALES_IOD:
        columns.append(_gaussian(image, scale * iod_px)[rows, cols]
                       / np.maximum(_gaussian(weight, scale * iod_px)[rows, cols], 1e-3))
    columns.append(cv2.dilate(image, _disk(_CONTEXT_MAX_IOD * iod_px))[rows, cols])
    region = np.asarray(region).astype(np.intp)
    count = np.maximum(np.bincount(region, minlength=len(REGION_KEYS) + 1), 1)
    columns.append((np.bincount(region, weights=probability, minlength=count.size) / count)[region])
    columns.append((np.bincount(region, weights=probability >= 0.5, minlength=count.size) / count)[region])
    return np.stack(columns, axis=1).astype(np.float32)


def _face_position(rows, cols, points_px, iod_px: float):
    """Distance across the face from its midline (mirror-symmetric) and down from the pupils, in IOD."""
    right_pupil, left_pupil = points_px[468], points_px[473]  # FaceMesh iris centres (refine_landmarks)
    centre = (right_pupil + left_pupil) / 2.0
    axis = (left_pupil - right_pupil) / max(float(np.linalg.norm(left_pupil - right_pupil)), 1e-6)
    dx, dy = (cols - centre[0]) / iod_px, (rows - centre[1]) / iod_px
    return np.abs(dx * axis[0] + dy * axis[1]), dy * axis[0] - dx * axis[1]


@dataclass(frozen=True, eq=False)
class PixelClassifier:
    """A multilayer perceptron over :data:`PIXEL_FEATURES`, stored as numbers.

    Attributes
    ----------
    feature_names : tuple of str
    feature_mean, feature_scale : numpy.ndarray
        Standardisation of each feature (its training mean and standard deviation).
    weights, biases : tuple of numpy.ndarray
        Layer ``k`` maps ``x`` to ``x @ weights[k] + biases[k]``; ReLU between layers,
        logistic at the end.
    threshold : float
        Probability at or above which a pixel is lesion.
    training : dict
        What it was fitted on (free-form summary, kept in the model file).
    context : PixelClassifier or None
        The context stage (module docstring), over :data:`PIXEL_FEATURES` followed by
        :data:`CONTEXT_FEATURES`; when present, its probability and threshold decide.
    """

    feature_names: tuple
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    weights: tuple
    biases: tuple
    threshold: float = 0.5
    training: dict = field(default_factory=dict)
    context: PixelClassifier | None = None

    def probability(self, features) -> np.ndarray:
        """Lesion probability of each row of ``features`` (shape (N, n_features))."""
        x = (np.asarray(features, np.float32) - self.feature_mean) / self.feature_scale
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w + b
            if k < len(self.weights) - 1:
                np.maximum(x, 0.0, out=x)
        return 1.0 / (1.0 + np.exp(-np.clip(x[:, 0], -50.0, 50.0)))

    def final_probability(self, features, inside, iod_px: float) -> np.ndarray:
        """Lesion probability of each described pixel, through the context stage if there is one.

        Parameters
        ----------
        features : numpy.ndarray, shape (N, len(PIXEL_FEATURES))
            :func:`pixel_features` of the pixels of ``inside``.
        inside : numpy.ndarray of bool, shape (H, W)
        iod_px : float
            Inter-ocular distance of the image the features were computed on, in pixels.
        """
        features = np.asarray(features, np.float32)
        probability = self.probability(features)
        if self.context is None:
            return probability
        extra = context_features(probability, inside, features[:, PIXEL_FEATURES.index("region")], iod_px)
        return self.context.probability(np.concatenate([features, extra], axis=1))

    @property
    def decision_threshold(self) -> float:
        """The threshold :meth:`predict` applies: the context stage's when there is one."""
        return self.threshold if self.context is None else self.context.threshold

    def predict(self, features, inside, iod_px: float) -> np.ndarray:
        """Lesion (True) or not for each described pixel (:meth:`final_probability` at :attr:`decision_threshold`)."""
        return self.final_probability(features, inside, iod_px) >= self.decision_threshold

    def to_dict(self) -> dict:
        def rounded(a):
            return np.round(np.asarray(a, np.float64), 6).tolist()

        return {"kind": "mlp", "feature_names": list(self.feature_names), "feature_mean": rounded(self.feature_mean),
                "feature_scale": rounded(self.feature_scale), "weights": [rounded(w) for w in self.weights],
                "biases": [rounded(b) for b in self.biases], "threshold": float(self.threshold),
                "training": dict(self.training)} | ({"context": self.context.to_dict()} if self.context else {})

    @classmethod
    def from_dict(cls, data, _names=PIXEL_FEATURES) -> PixelClassifier:
        """Rebuild from :meth:`to_dict`'s output; ``ValueError`` says what is wrong."""
        if not isinstance(data, dict) or data.get("kind") != "mlp":
            raise ValueError('lesion_classifier must be an object with "kind": "mlp"')
        names = tuple(data.get("feature_names", ()))
        if names != _names:
            raise ValueError("lesion_classifier was fitted on other features than this pigmentscan computes")
        context = None
        if data.get("context") is not None:
            if _names != PIXEL_FEATURES:
                raise ValueError("lesion_classifier's context stage cannot have a context stage of its own")
            context = cls.from_dict(data["context"], PIXEL_FEATURES + CONTEXT_FEATURES)
        try:
            mean, scale = (np.asarray(data[k], np.float32) for k in ("feature_mean", "feature_scale"))
            weights = tuple(np.asarray(w, np.float32) for w in data["weights"])
            biases = tuple(np.asarray(b, np.float32) for b in data["biases"])
            threshold = float(data.get("threshold", 0.5))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"lesion_classifier is malformed: {error}") from None
        width = len(names)
        for w, b in zip(weights, biases):
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],) or not np.isfinite(w).all():
                raise ValueError("lesion_classifier layers do not chain (or hold non-finite numbers)")
            width = w.shape[1]
        if mean.shape != (len(names),) or scale.shape != mean.shape or not (scale > 0).all() or width != 1 \
                or len(weights) != len(biases) or not weights or not 0.0 < threshold < 1.0:
            raise ValueError("lesion_classifier has the wrong shapes, a non-positive scale or a threshold outside 0-1")
        return cls(names, mean, scale, weights, biases, threshold, dict(data.get("training", {})), context)


@dataclass(frozen=True, eq=False)
class ClassifierEnsemble:
    """Several :class:`PixelClassifier` fitted alike with different seeds; their probabilities are averaged.

    Each member sees its own random pixels of the training photos and starts from its own
    weights, so members disagree most where the training faces say least: on new faces. The
    mean of their :meth:`PixelClassifier.final_probability` (bagging: Breiman 1996, Machine
    Learning 24:123) varies less from face to face and from one photo of a face to the next
    than any one member's (``benchmarks/train_lesion_classifier.py --members``).

    Attributes
    ----------
    members : tuple of PixelClassifier
    threshold : float
        Mean probability at or above which a pixel is lesion.
    training : dict
        What it was fitted on (free-form summary, kept in the model file).
    """

    members: tuple
    threshold: float = 0.5
    training: dict = field(default_factory=dict)

    def final_probability(self, features, inside, iod_px: float) -> np.ndarray:
        """Mean lesion probability of the members for each described pixel (as :meth:`PixelClassifier.final_probability`)."""
        features = np.asarray(features, np.float32)
        return np.mean([member.final_probability(features, inside, iod_px) for member in self.members], axis=0)

    def predict(self, features, inside, iod_px: float) -> np.ndarray:
        """Lesion (True) or not for each described pixel: the members' mean probability at :attr:`threshold`."""
        return self.final_probability(features, inside, iod_px) >= self.threshold

    def to_dict(self) -> dict:
        return {"kind": "ensemble", "threshold": float(self.threshold), "training": dict(self.training),
                "members": [member.to_dict() for member in self.members]}

    @classmethod
    def from_dict(cls, data) -> ClassifierEnsemble:
        """Rebuild from :meth:`to_dict`'s output; ``ValueError`` says what is wrong."""
        members = data.get("members") if isinstance(data, dict) else None
        if not isinstance(members, list) or not members:
            raise ValueError('a lesion_classifier of "kind": "ensemble" needs a non-empty list of "members"')
        threshold = data.get("threshold", 0.5)
        if not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
            raise ValueError("lesion_classifier ensemble threshold must be a number within 0-1")
        return cls(tuple(PixelClassifier.from_dict(m) for m in members), float(threshold), dict(data.get("training", {})))


def classifier_from_dict(data) -> PixelClassifier | ClassifierEnsemble:
    """A model file's ``lesion_classifier``: one network (``"kind": "mlp"``) or an ensemble of them."""
    if isinstance(data, dict) and data.get("kind") == "ensemble":
        return ClassifierEnsemble.from_dict(data)
    return PixelClassifier.from_dict(data)
