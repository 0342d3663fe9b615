"""Lesion masks (two-pass, :func:`find_lesions`) and the measures of one region."""

from __future__ import annotations

import cv2
import numpy as np

from .. import colour
from ._ops import _disk, _fill_holes, _gaussian, _label
from .reference import skin_reference, surface_reference
from .types import LesionParams, RegionMeasures

__all__ = ["lesion_mask", "find_lesions", "reference_around", "patch_diameter_iod", "measure_region",
           "add_distinct_patches", "fill_hidden"]


def lesion_mask(contrast, darkening, skin, iod_px: float, threshold: float, params: LesionParams) -> np.ndarray:
    """Clean lesion mask from the melanin contrast and the darkening maps.

    A lesion pixel is browner than the normal skin around it (melanin contrast) AND
    darker (optical-density contrast at least ``darkening_ratio`` of what that much
    melanin gives): natural colour variation, make-up and blush change colour without
    darkening, shadow darkens without browning. Hysteresis: a lesion must reach
    ``threshold`` somewhere and extends to ``hysteresis_ratio`` of it. Components smaller
    than a disc of ``min_lesion_diameter_iod`` are dropped (salt noise, pores), holes
    smaller than ``hole_diameter_iod`` filled.
    """
    def above(level):
        return (contrast >= level) & (darkening >= params.darkening_ratio * level) & skin

    weak, strong = above(params.hysteresis_ratio * threshold), above(threshold)
    weak = cv2.morphologyEx(weak.astype(np.uint8), cv2.MORPH_OPEN, _disk(0.5 * params.min_lesion_diameter_iod * iod_px))
    labels, count = _label(weak)
    if count == 0:
        return np.zeros_like(skin)
    keep = np.zeros(count + 1, dtype=bool)
    keep[np.unique(labels[strong & (labels > 0)])] = True
    min_area = np.pi * (params.min_lesion_diameter_iod * iod_px / 2) ** 2
    keep &= np.bincount(labels.ravel(), minlength=count + 1) >= min_area
    keep[0] = False
    mask = keep[labels]
    hole_area = np.pi * (params.hole_diameter_iod * iod_px / 2) ** 2
    holes = _fill_holes(mask) & ~mask
    hole_labels, _ = _label(holes)
    small_holes = (np.bincount(hole_labels.ravel()) < hole_area)[hole_labels] & holes
    return (mask | small_holes) & skin


def patch_diameter_iod(lesion, region, iod_px: float, params: LesionParams) -> float:
    """The pattern of involvement: area-weighted mean diameter of the lesion patches, in IOD.

    MASI's homogeneity grades the pattern from specks of involvement through small
    patches (< 1.5 cm) and patches (> 2 cm) to uniform involvement without clear skin
    (Kimbrough-Green 1994; descriptors as tabulated by Pandya 2011). Patches are the
    connected lesion components after a closing with a disc of
    ``homogeneity_closing_iod`` (specks a hair apart are one patch); each counts with
    its equivalent-circle diameter, weighted by its area. At an adult inter-pupillary
    distance of about 63 mm (Dodgson 2004), 1.5 cm is 0.24 IOD and 2 cm 0.32 IOD;
    uniform involvement of a region is a patch the size of the region (≥ 0.6 IOD).
    """
    lesion = lesion & region
    if not lesion.any():
        return 0.0
    closed = cv2.morphologyEx(lesion.astype(np.uint8), cv2.MORPH_CLOSE, _disk(params.homogeneity_closing_iod * iod_px))
    labels, count = _label(closed.astype(bool) & region)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(np.float64)
    diameters = 2.0 * np.sqrt(areas / np.pi) / iod_px
    return float(np.sum(areas * diameters) / np.sum(areas))


def measure_region(region, polygon_px_count: int, lesion, contrast, lab, reference_lab, iod_px, params,
                   measured=None) -> RegionMeasures:
    """Continuous measures of one region (see :class:`RegionMeasures`).

    ``region`` is the skin the area is a share of; the colour measures (contrast, CIELAB)
    are taken on its ``measured`` pixels (default: all of it), so a lesion decision
    inferred under a highlight (:func:`fill_hidden`) counts in the area and the pattern,
    not in the colour.
    """
    skin_px = int(region.sum())
    lesion = lesion & region
    lesion_px = int(lesion.sum())
    coverage = skin_px / polygon_px_count if polygon_px_count else 0.0
    if skin_px == 0 or lesion_px == 0:
        return RegionMeasures(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, skin_px, coverage)
    seen = lesion if measured is None else lesion & measured
    if not seen.any():  # every lesion pixel inferred: its colour is that of the pixels themselves
        seen = lesion
    delta = lab[seen].mean(axis=0) - reference_lab
    return RegionMeasures(
        area_fraction=lesion_px / skin_px,
        melanin_contrast=float(np.median(contrast[seen])),
        delta_e=float(np.linalg.norm(delta)),
        delta_l_star=float(delta[0]),
        delta_melanin_takiwaki=float(colour.takiwaki_delta_melanin(delta[0], delta[1])),
        patch_diameter_iod=patch_diameter_iod(lesion, region, iod_px, params),
        n_lesions=_label(lesion)[1],
        skin_px=skin_px,
        coverage=float(coverage),
    )


def find_lesions(melanin, darkness, clean, iod_px: float, threshold: float, od_per_melanin: float,
                 params: LesionParams):
    """Lesion mask and melanin contrast (against the final reference), in two passes (module docstring).

    ``melanin`` and ``darkness`` (mean OD) are smoothed maps, ``clean`` the measurable skin,
    ``threshold`` the contrast a lesion must reach (:func:`lesion_mask`) and
    ``od_per_melanin`` the mean OD one unit of melanin adds (darkening in melanin units).
    """
    melanin_ref, darkness_ref = skin_reference((melanin, darkness), clean, iod_px, params.reference_radius_iod / 2,
                                               params.reference_fill_iod)
    contrast = (melanin - melanin_ref).astype(np.float32)
    darkening = (darkness - darkness_ref) / od_per_melanin
    candidates = lesion_mask(contrast, darkening, clean, iod_px, threshold, params)
    # Shading is not smooth over a whole face, so only melanin is tested against the
    # surface; the final pass checks darkening against the skin around each patch.
    contrast = (melanin - surface_reference(melanin, clean, iod_px, params)).astype(np.float32)
    candidates |= lesion_mask(contrast, np.full_like(contrast, np.inf), clean, iod_px,
                              params.surface_threshold_factor * threshold, params)
    zone, (melanin_ref, darkness_ref) = reference_around(candidates, (melanin, darkness), clean, iod_px, params)
    contrast = (melanin - melanin_ref).astype(np.float32)
    darkening = (darkness - darkness_ref) / od_per_melanin
    # The final pass decides the extent of the candidates; it adds no new ones.
    return lesion_mask(contrast, darkening, clean, iod_px, threshold, params) & zone, contrast


def reference_around(lesions, maps, clean, iod_px: float, params: LesionParams):
    """Normal-skin level of each of ``maps`` from the skin AROUND the ``lesions``.

    The lesions (holes filled) grown by twice ``peel_margin_iod`` are the zone left out;
    the level is the Gaussian mean (``reference_scale_iod``, ``reference_fill_iod`` where
    no skin is near; :func:`skin_reference`) of the clean skin outside it, so the inside of
    a large patch is compared with the skin at its border. Returns the zone and the levels.
    """
    zone = cv2.dilate(_fill_holes(lesions).astype(np.uint8), _disk(2 * params.peel_margin_iod * iod_px)).astype(bool)
    return zone, skin_reference(maps, clean & ~zone, iod_px, params.reference_scale_iod, params.reference_fill_iod)


def add_distinct_patches(mask, candidates, max_overlap_ratio: float) -> np.ndarray:
    """``mask`` plus every connected patch of ``candidates`` that ``mask`` has (almost) not found.

    A patch of ``candidates`` of which at most ``max_overlap_ratio`` lies inside ``mask`` is
    added whole; a patch that ``mask`` already covers more than that keeps ``mask``'s extent.
    This is how the learned lesions take the rule-based ones: the classifier's outline of a
    patch both found wins, and a spot only the rules found is kept.
    """
    labels, count = _label(candidates)
    if count == 0:
        return np.asarray(mask, bool).copy()
    size = np.bincount(labels.ravel(), minlength=count + 1)
    covered = np.bincount(labels.ravel(), weights=np.asarray(mask, np.float64).ravel(), minlength=count + 1)
    distinct = covered <= max_overlap_ratio * size
    distinct[0] = False
    return np.asarray(mask, bool) | distinct[labels]


def fill_hidden(lesion, hidden, measured, iod_px: float, max_distance_iod: float, vote_sigma_iod: float):
    """Lesion decisions for ``hidden`` pixels, from the ``measured`` skin around them.

    A highlight hides the colour of the skin under it, not the skin: a patch whose middle
    catches the light is one patch. Each ``hidden`` pixel at most ``max_distance_iod``
    (IOD) from ``measured`` skin is lesion where most of the measured skin near it is: a
    Gaussian-weighted vote (normalised convolution, sigma ``vote_sigma_iod``), so the thin,
    paler rim a highlight leaves on a patch does not outvote the patch as the single
    nearest pixel would. Farther pixels stay unmeasured.

    Returns
    -------
    lesion : numpy.ndarray of bool
        ``lesion`` with the filled decisions.
    filled : numpy.ndarray of bool
        The ``hidden`` pixels that were given a decision (lesion or not).

    Examples
    --------
    >>> lesion = np.zeros((9, 30), bool); lesion[:, :15] = True
    >>> hidden = np.zeros((9, 30), bool); hidden[:, 12:18] = True
    >>> out, filled = fill_hidden(lesion, hidden, ~hidden, 20.0, 0.5, 0.15)
    >>> out[4, 10:20].astype(int).tolist(), int(filled.sum())
    ([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 54)
    """
    lesion, hidden, measured = (np.asarray(a, bool) for a in (lesion, hidden, measured))
    if not hidden.any() or not measured.any() or max_distance_iod <= 0:
        return lesion.copy(), np.zeros_like(hidden)
    distance = cv2.distanceTransform(np.where(measured, 0, 255).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    filled = hidden & (distance <= max_distance_iod * iod_px)
    weight = _gaussian(measured.astype(np.float32), vote_sigma_iod * iod_px)
    votes = _gaussian((lesion & measured).astype(np.float32), vote_sigma_iod * iod_px)
    return lesion | (filled & (votes > 0.5 * weight)), filled
