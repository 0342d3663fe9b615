"""Step 1 of the lesion stage: what this face's normal skin should read at each point.

The expectation is the face's own tone plus the natural pattern of clean faces
(:class:`~pigmentscan.lesions.template.FaceTemplate`), scaled to this face, plus how its melanin
reading follows the photo's shading and redness (a per-face linear term in each: exposure
falloff, side light and a flush move the reading a little even where the pigment does not
change), plus the template's principal modes, each held to its spread among clean faces.

It is fitted to the MODE of the face's skin, not its mean: the fit starts from the lower part of
the skin and then weighs each pixel by a biweight window around the current fit, a few spreads
of the normal skin wide, so pigment well above normal skin has no weight. Pigment only adds
melanin, so when confluent pigment covers most of the face and the fit settles on it, the skin
it outnumbered is left as a population below the fit: when one holds a tenth of the skin, the fit
restarts from it. Nothing compares a pixel with the skin next to it: a lesion that fills a region
and runs past its border is measured against what that part of this face should look like. Skin
covered all over (no tenth of it clear) has nothing to be measured against and reads as the
face's tone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["Expectation", "normal_skin_expectation"]

#: Share of the skin, from the bottom, that the fit starts from (parameter: clear of pigment
#: on faces whose lesions cover up to two thirds of the skin).
START_QUANTILE = 0.3
#: Reweighting rounds of the fit (parameter; the fit settles within about ten).
ITERATIONS = 15
#: Most skin pixels the fit reads, on a regular grid (parameter: the terms are smooth).
MAX_FIT_PIXELS = 6000
#: The least-pigmented population of the skin holding at least this share of it (parameter)...
LOW_MODE_SHARE = 0.1
#: ... whose peak lies more than this below the fit (JND) is the normal skin the fit restarts from;
#: populations are told apart on the residuals' histogram smoothed by this (JND, parameters).
LOW_MODE_GAP_JND, LOW_MODE_BANDWIDTH_JND = 1.0, 0.3
#: The residuals' histogram: bin width and reach either side of the fit (JND, parameters: fine
#: beside the bandwidth; residuals farther out, hair and glare left in the skin, share the end bins).
_BIN_JND, _HISTOGRAM_REACH_JND = 0.05, 12.0
# Median absolute deviation -> standard deviation of a normal distribution.
_MAD_TO_SD = 1.4826


@dataclass(frozen=True, eq=False)
class Expectation:
    """The expected normal-skin melanin of one face (JND) and how its normal skin spreads about it.

    ``expected_jnd`` is 0-based like the reading it was fitted to; ``spread_jnd`` is the standard
    deviation of normal skin below the expectation (robust); ``coefficients`` the fitted terms
    (tone, template scale, the covariates, then the modes).
    """

    expected_jnd: np.ndarray
    spread_jnd: float
    coefficients: np.ndarray


def _grid_sample(mask, most: int) -> np.ndarray:
    """Flat indices of ``mask`` on a regular grid of at most ``most`` points (deterministic)."""
    count = np.count_nonzero(mask)
    if count <= most:
        return np.flatnonzero(mask)
    step = int(np.ceil(np.sqrt(count / most)))
    rows, cols = np.nonzero(mask[::step, ::step])  # the grid's points, in raster order
    return np.ravel_multi_index((rows * step, cols * step), mask.shape)


def normal_skin_expectation(reading_jnd, covariates, template, mode_variance, skin, *, width: float,
                            prior_weight: float, restart: bool = True) -> Expectation:
    """Fit the expected normal-skin reading of one face.

    Parameters
    ----------
    reading_jnd : numpy.ndarray, (H, W)
        The face's smoothed melanin reading, in JND of its skin.
    covariates : sequence of numpy.ndarray, each (H, W)
        Maps the reading may follow linearly (shading, haemoglobin), free per face.
    template : numpy.ndarray, (H, W, 1 + M)
        The natural pattern and its M modes on this face (:func:`~pigmentscan.lesions.template.template_maps`).
    mode_variance : numpy.ndarray, (M,)
        Each mode's variance among clean faces (JND²): its prior.
    skin : numpy.ndarray of bool, (H, W)
        The measurable skin the fit may read.
    width : float
        Half-width of the weight window, in spreads of the normal skin.
    prior_weight : float
        Pixels that count as one independent observation against the modes' priors.
    restart : bool
        Restart from a population well below the fit (pigment covering most of the skin). False
        where the skin is known to be clean: learning the template, whose early rounds fit a face
        without its natural pattern, where a lower-reading part of the face is no sign of pigment.

    Returns
    -------
    Expectation

    Examples
    --------
    >>> yy, xx = np.mgrid[:60, :60]
    >>> reading = 0.02 * xx + np.where((yy > 20) & (xx > 20), 3.0, 0.0)  # a gradient and a patch of 3 JND
    >>> fit = normal_skin_expectation(reading, [0.02 * xx], np.zeros((60, 60, 1)), np.zeros(0),
    ...                               np.ones((60, 60), bool), width=2.5, prior_weight=50.0)
    >>> round(float(np.median((reading - fit.expected_jnd)[(yy > 20) & (xx > 20)])), 2)  # the patch keeps its 3 JND
    3.0
    """
    n_modes = len(mode_variance)
    free = [np.ones_like(reading_jnd), template[..., 0], *covariates]
    terms = free + [template[..., 1 + i] for i in range(n_modes)]
    n_free, n_terms = len(free), len(free) + n_modes
    index = _grid_sample(skin, MAX_FIT_PIXELS)  # the fit reads the terms at these pixels only
    pixels = np.unravel_index(index, np.shape(reading_jnd))  # (no copy of a strided template plane)
    a = np.stack([np.asarray(term)[pixels].astype(np.float64) for term in terms], axis=1)
    y = np.asarray(reading_jnd)[pixels].astype(np.float64)
    if y.size < 3 * n_terms:
        level = float(np.median(y)) if y.size else 0.0
        return Expectation(np.full(reading_jnd.shape, level, np.float32), 0.0, np.array([level]))
    start = (y <= np.quantile(y, START_QUANTILE)).astype(np.float64)
    coefficients, residual, spread = _reweighted_fit(a, y, start, mode_variance, n_free, width, prior_weight)
    basin = _lowest_population(residual) if restart else None
    if basin is not None:
        # Pigment only adds melanin: a population well below the fit is normal skin that
        # pigment covering most of the face outnumbered. The fit restarts from it.
        coefficients, residual, spread = _reweighted_fit(a, y, basin.astype(np.float64), mode_variance, n_free,
                                                         width, prior_weight)
    expected, product = np.zeros((2,) + np.shape(reading_jnd), np.float64)
    for coefficient, term in zip(coefficients, terms):
        product[...] = term  # in float64, as the fit (one buffer for every term)
        product *= coefficient
        expected += product
    expected = expected.astype(np.float32)
    return Expectation(expected, spread, coefficients)


def _lowest_population(residual_jnd):
    """The pixels of the least-pigmented population of the residuals, when it lies below the fit.

    The residuals' histogram (bins of :data:`_BIN_JND`, residuals beyond ±:data:`_HISTOGRAM_REACH_JND`
    counted in the end bins, smoothed by :data:`LOW_MODE_BANDWIDTH_JND`) is cut at its valleys;
    the lowest part holding at least :data:`LOW_MODE_SHARE` of the pixels is the normal skin.
    Returns its pixels when its peak is more than :data:`LOW_MODE_GAP_JND` below 0, else ``None``.
    """
    n_bins = int(round(2 * _HISTOGRAM_REACH_JND / _BIN_JND))
    bins = np.clip(np.floor((np.asarray(residual_jnd) + _HISTOGRAM_REACH_JND) / _BIN_JND), 0, n_bins - 1).astype(int)
    counts = np.bincount(bins, minlength=n_bins)
    density = ndimage.gaussian_filter1d(counts.astype(float), LOW_MODE_BANDWIDTH_JND / _BIN_JND)
    valleys = np.flatnonzero((density[1:-1] < density[:-2]) & (density[1:-1] <= density[2:])) + 1
    cuts = np.concatenate([[0], valleys, [n_bins]])
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        if counts[lo:hi].sum() >= LOW_MODE_SHARE * bins.size:
            peak_jnd = (lo + int(np.argmax(density[lo:hi])) + 0.5) * _BIN_JND - _HISTOGRAM_REACH_JND
            if peak_jnd >= -LOW_MODE_GAP_JND:
                return None
            return (bins >= lo) & (bins < hi)
    return None


def _reweighted_fit(a, y, weights, mode_variance, n_free: int, width: float, prior_weight: float):
    """Biweight-reweighted least squares of ``y`` on the columns of ``a`` from starting ``weights``.

    Returns ``(coefficients, residual, spread)``; the modes (the columns after ``n_free``) are
    held to ``mode_variance`` by a prior worth ``prior_weight`` pixels.
    """
    n_terms = a.shape[1]
    prior = np.zeros((n_terms, n_terms))
    spread = float(np.std(y)) + 1e-6
    coefficients, residual = np.zeros(n_terms), y
    for _ in range(ITERATIONS):
        if n_terms > n_free:
            prior[n_free:, n_free:] = np.diag(prior_weight * spread**2 / np.asarray(mode_variance, float))
        weighted = (a * weights[:, None]).T
        gram = weighted @ a + prior + 1e-9 * np.eye(n_terms)
        coefficients = np.linalg.solve(gram, weighted @ y)
        residual = y - a @ coefficients
        below = -residual[residual < 0]
        spread = _MAD_TO_SD * float(np.median(below)) + 1e-6 if below.size > 20 else float(np.std(residual)) + 1e-6
        u = np.abs(residual) / (width * spread)
        weights = np.where(u < 1, (1 - u**2) ** 2, 0.0)
    return coefficients, residual, spread
