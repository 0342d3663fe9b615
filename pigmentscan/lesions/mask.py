"""Step 3 of the lesion stage: which skin is lesion.

Skin is involved where its pigment excess reaches a level (1 JND by default,
docs/grading_scale.md). Clean skin crosses that level here and there: its melanin varies about
the expectation by about half a JND. So a patch of involved skin counts as a lesion only when it
has more support than clean faces produce in all but about one region in fifty (the model's
``min_support_*``, one per region). A pixel's support (:func:`cluster_support`) is threshold-free cluster
enhancement, from brain imaging (Smith & Nichols, NeuroImage 2009;44:83-98): it sums, over
heights from the level up, the extent of the patch the pixel belongs to at that height, so a
wide faint patch and a small dark one both have it, and the scattered, faint specks of normal
variation little. Each pixel's extent counts in proportion to how quiet clean skin is at that
point of the face (the template's natural spread): the same excess at the hairline, where clean
faces vary most, is weaker evidence than mid-cheek.
"""

from __future__ import annotations

import numpy as np

from ._ops import _hole_areas, _label

__all__ = ["cluster_support", "lesion_masks", "support_thresholds"]

#: Height step of :func:`cluster_support`, JND (parameter).
SUPPORT_STEP_JND = 0.25
#: Exponents of extent and height in :func:`cluster_support` (Smith & Nichols 2009's E and H).
SUPPORT_EXTENT_POWER, SUPPORT_HEIGHT_POWER = 0.5, 2.0


def cluster_support(excess_jnd, skin, level_jnd: float, iod_px: float, weight=None) -> np.ndarray:
    """Threshold-free cluster enhancement of the excess (Smith & Nichols 2009).

    Each pixel's support sums, over heights h from ``level_jnd`` up in steps of
    :data:`SUPPORT_STEP_JND`, e^0.5 · h^2 · dh, where e is the extent (IOD², each pixel
    counted by ``weight``) of the patch of ``skin`` at or above h that holds the pixel.

    Examples
    --------
    >>> excess = np.zeros((60, 60)); excess[5:25, 5:25] = 1.6; excess[40:44, 40:44] = 6.0
    >>> support = cluster_support(excess, np.ones((60, 60), bool), 1.0, 20.0)
    >>> bool(support[10, 10] > 0 and support[42, 42] > support[10, 10])  # the small dark patch has more
    True
    """
    excess = np.where(skin, np.asarray(excess_jnd, np.float64), -np.inf)
    weight = np.ones(excess.shape) if weight is None else np.asarray(weight, np.float64)
    # Only pixels at or above the first height ever gain support: the loop reads and adds on
    # them alone (in raster order, so each patch's extent sums the same weights in the same order).
    candidates = np.flatnonzero(excess >= level_jnd)
    values, weight = excess.ravel()[candidates], weight.ravel()[candidates]
    gained = np.zeros(candidates.size)
    mask = np.zeros(excess.size, np.uint8)
    top = float(np.max(excess)) if np.isfinite(excess).any() else level_jnd
    for height in np.arange(level_jnd, top + SUPPORT_STEP_JND, SUPPORT_STEP_JND):
        mask[:] = 0
        mask[candidates[values >= height]] = 1
        labels, count = _label(mask.reshape(excess.shape))
        if count == 0:
            break
        labels = labels.ravel()[candidates]
        extent = np.bincount(labels, weights=weight, minlength=count + 1) / iod_px**2
        extent[0] = 0.0
        gained += (extent ** SUPPORT_EXTENT_POWER * height**SUPPORT_HEIGHT_POWER * SUPPORT_STEP_JND)[labels]
    support = np.zeros(excess.shape)
    support.ravel()[candidates] = gained
    return support


def support_thresholds(region_polygons: dict, min_support_by_region: dict, shape) -> np.ndarray:
    """Per-pixel ``min_support``: each region's own, the largest of them outside every region.

    Examples
    --------
    >>> polygons = {"forehead": np.eye(3, dtype=bool), "chin": np.zeros((3, 3), bool)}
    >>> support_thresholds(polygons, {"forehead": 4.0, "chin": 2.0}, (3, 3))[0].tolist()
    [4.0, 4.0, 4.0]
    """
    thresholds = np.full(shape, max(min_support_by_region.values()), np.float32)
    for key, polygon in region_polygons.items():
        thresholds[polygon] = min_support_by_region[key]
    return thresholds


def _with_small_holes_filled(mask, skin, iod_px: float, hole_diameter_iod: float) -> np.ndarray:
    if not mask.any():  # no lesion at this level: no holes either
        return mask & skin
    labels, areas = _hole_areas(mask)
    small = (areas > 0) & (areas < np.pi * (hole_diameter_iod * iod_px / 2) ** 2)
    return ((mask | small[labels]) if small.any() else mask) & skin


def lesion_masks(excess_jnd, skin, iod_px: float, levels, *, support_level_jnd: float, min_support,
                 hole_diameter_iod: float, weight=None, outline_jnd=None) -> dict:
    """Lesions at each of ``levels`` (JND): the skin at or above the level, in patches that are lesions.

    A patch is a lesion when a pixel of it has :func:`cluster_support` (from
    ``support_level_jnd``) of at least ``min_support`` (a number, or one per pixel:
    :func:`support_thresholds`). At each level, the lesions are the
    connected parts of the skin at or above it that hold such a pixel: below the detection
    level a lesion widens into its fainter rim, above it shrinks to its darker core. The outline is
    drawn on ``outline_jnd`` when given (a less smoothed map: smoothing widens a dark patch past
    its edge), the support read on ``excess_jnd``. Holes narrower than
    ``hole_diameter_iod`` (a pore, a hair across a patch) are filled.

    Returns
    -------
    dict of float to numpy.ndarray of bool

    Examples
    --------
    >>> excess = np.zeros((40, 40)); excess[5:15, 5:15] = 2.0; excess[5:15, 15:20] = 0.8; excess[30, 30] = 3.0
    >>> masks = lesion_masks(excess, np.ones((40, 40), bool), 20.0, (0.75, 1.0), support_level_jnd=1.0,
    ...                      min_support=1.0, hole_diameter_iod=0.05)
    >>> int(masks[1.0].sum()), int(masks[0.75].sum()), bool(masks[1.0][30, 30])  # the lone pixel is no lesion
    (100, 150, False)
    """
    excess = np.asarray(excess_jnd)
    supported = (cluster_support(excess, skin, support_level_jnd, iod_px, weight) >= min_support) & skin
    outline = excess if outline_jnd is None else np.asarray(outline_jnd)
    if not supported.any():  # no lesion (most faces): nothing to outline at any level
        return {level: np.zeros(excess.shape, bool) for level in levels}
    masks = {}
    for level in levels:
        labels, count = _label((outline >= level) & skin)
        keep = np.zeros(count + 1, bool)
        keep[np.unique(labels[supported & (labels > 0)])] = True
        keep[0] = False
        masks[level] = _with_small_holes_filled(keep[labels], skin, iod_px, hole_diameter_iod)
    return masks
