"""Step 4 of the lesion stage: the continuous measures of each MASI region."""

from __future__ import annotations

import cv2
import numpy as np

from .. import colour
from ._ops import _disk, _label
from .types import RegionMeasures

__all__ = ["patch_diameter_iod", "measure_region"]


def patch_diameter_iod(lesion, region, iod_px: float, closing_iod: float = 0.03) -> float:
    """The pattern of involvement: area-weighted mean diameter of the lesion patches, in IOD.

    MASI's homogeneity grades the pattern from specks through small patches (< 1.5 cm) and
    patches (> 2 cm) to uniform involvement (Kimbrough-Green 1994; docs/grading_scale.md).
    Patches are the connected lesion components after a closing with a disc of ``closing_iod``
    (specks a hair apart are one patch); each counts with its equivalent-circle diameter,
    weighted by its area.

    Examples
    --------
    >>> lesion = np.zeros((100, 100), bool); lesion[10:50, 10:50] = True
    >>> round(patch_diameter_iod(lesion, np.ones((100, 100), bool), 100.0), 3)  # a 40 px square: 45 px circle
    0.451
    """
    lesion = lesion & region
    if not lesion.any():
        return 0.0
    closed = cv2.morphologyEx(lesion.astype(np.uint8), cv2.MORPH_CLOSE, _disk(closing_iod * iod_px)).astype(bool)
    labels, count = _label(closed & region)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(np.float64)
    areas = areas[areas > 0]
    diameters = 2.0 * np.sqrt(areas / np.pi) / iod_px
    return float(np.sum(areas * diameters) / np.sum(areas))


def measure_region(region, polygon_px: int, lesion, lesion_at: dict, contrast_jnd, melanin_excess_od, lab,
                   reference_lab, iod_px: float, closing_iod: float) -> RegionMeasures:
    """Continuous measures of one region (see :class:`RegionMeasures`).

    Parameters
    ----------
    region : numpy.ndarray of bool
        The region's visible skin: what the area is a share of.
    polygon_px : int
        Pixels of the whole region polygon (for the coverage).
    lesion : numpy.ndarray of bool
        The lesions at the detection level.
    lesion_at : dict of float to numpy.ndarray of bool
        The lesions at each reported level (:data:`~pigmentscan.lesions.types.AREA_LEVELS_JND`).
    contrast_jnd, melanin_excess_od : numpy.ndarray
        Each pixel's contrast on the face's skin (JND) and melanin excess (OD).
    lab : numpy.ndarray, (H, W, 3)
        CIELAB of the pixels (read only where ``region``).
    reference_lab : numpy.ndarray, (3,)
        The normal skin's CIELAB.
    iod_px, closing_iod : float
    """
    skin_px = np.count_nonzero(region)  # masks are counted with count_nonzero: no cast to int for a sum
    coverage = skin_px / polygon_px if polygon_px else 0.0
    at = {level: (100.0 * float(np.count_nonzero(mask & region)) / skin_px if skin_px else 0.0)
          for level, mask in lesion_at.items()}
    lesion = lesion & region
    lesion_px = np.count_nonzero(lesion)
    if skin_px == 0 or lesion_px == 0:
        return RegionMeasures(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, skin_px, float(coverage), at)
    delta = lab[lesion].mean(axis=0) - reference_lab
    return RegionMeasures(
        area_fraction=lesion_px / skin_px,
        darkness_jnd=float(np.median(contrast_jnd[lesion])),
        melanin_contrast=float(np.median(melanin_excess_od[lesion])),
        delta_e=float(np.linalg.norm(delta)),
        delta_l_star=float(delta[0]),
        delta_melanin_takiwaki=float(colour.takiwaki_delta_melanin(delta[0], delta[1])),
        patch_diameter_iod=patch_diameter_iod(lesion, region, iod_px, closing_iod),
        n_lesions=_label(lesion)[1],
        skin_px=skin_px,
        coverage=float(coverage),
        area_pct_at=at,
    )
