"""The truth of a phantom, measured and graded exactly by docs/grading_scale.md.

- **Contrast** at a pixel: CIE76 ΔE*ab between the photo with the pigment and the
  same photo without it (the clean input), both seen at the physician's scale
  (linear light blurred by a Gaussian whose full width at half maximum is 0.02 IOD),
  divided by 2.3 (1 JND). Erythema, lighting and retakes come later and never enter.
- **Involved** skin: visible skin whose contrast reaches 1 JND.
- Per region (``masi-regions-v1``, visible skin = the polygon less features and the
  phantom's non-skin): area % of visible skin, area score A (Kimbrough-Green 1994),
  darkness = median contrast over involved skin and grade D (edges 1, 2, 3.5, 5.5
  JND), pattern size = area-weighted mean equivalent-circle diameter of the patches
  (connected parts of the involved skin after a closing of 0.03 IOD, restricted to
  the region), in IOD, and grade H (edges 0.08, 0.28, 0.6 IOD).
- MASI and mMASI by :func:`pigmentscan.scoring.masi` / :func:`~pigmentscan.scoring.mmasi`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .. import colour, regions, scoring

__all__ = [
    "JND_DELTA_E",
    "PHYSICIAN_SCALE_IOD",
    "PATCH_CLOSING_IOD",
    "DARKNESS_EDGES_JND",
    "HOMOGENEITY_EDGES_IOD",
    "RegionTruth",
    "physician_sigma_px",
    "contrast_jnd",
    "darkness_grade",
    "homogeneity_grade",
    "region_truth",
    "totals",
]

#: 1 JND = ΔE*ab 2.3 (MASI.md; grading_scale.md).
JND_DELTA_E = 2.3
#: Details smaller than 0.02 IOD are blurred away at the physician's scale (grading_scale.md).
PHYSICIAN_SCALE_IOD = 0.02
#: Gaps up to 0.03 IOD are closed before patches are counted (grading_scale.md).
PATCH_CLOSING_IOD = 0.03
#: Darkness grade edges in JND: D1 from 1, D2 from 2, D3 from 3.5, D4 from 5.5 (grading_scale.md).
DARKNESS_EDGES_JND = (1.0, 2.0, 3.5, 5.5)
#: Homogeneity grade edges in IOD: H2 from 0.08, H3 from 0.28, H4 from 0.6 (grading_scale.md).
HOMOGENEITY_EDGES_IOD = (0.08, 0.28, 0.6)
# A Gaussian of full width at half maximum w has sigma = w / (2 sqrt(2 ln 2)).
_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


@dataclass(frozen=True)
class RegionTruth:
    """Truth of one MASI region, graded by docs/grading_scale.md.

    Attributes
    ----------
    area_pct : float
        Involved share of the region's visible skin, %.
    area_score : int
        A, 0-6 (Kimbrough-Green 1994 bands).
    darkness_jnd : float
        Median contrast over the involved skin, JND (0 when none).
    darkness : int
        D, 0-4.
    pattern_size_iod : float
        Area-weighted mean equivalent-circle diameter of the patches, IOD (0 when none).
    homogeneity : int
        H, 0-4.
    visible_px, involved_px : int
        Pixel counts behind ``area_pct``.
    """

    area_pct: float
    area_score: int
    darkness_jnd: float
    darkness: int
    pattern_size_iod: float
    homogeneity: int
    visible_px: int
    involved_px: int

    def to_dict(self) -> dict:
        return asdict(self)


def physician_sigma_px(iod_px: float) -> float:
    """Sigma of the physician-scale Gaussian: FWHM = 0.02 IOD."""
    return PHYSICIAN_SCALE_IOD * float(iod_px) * _FWHM_TO_SIGMA


def _seen(rgb_uint8, sigma: float) -> np.ndarray:
    linear = colour.srgb_to_linear(rgb_uint8)
    if sigma > 0.3:
        linear = cv2.GaussianBlur(linear, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return colour.xyz_to_lab(colour.linear_rgb_to_xyz(linear))


def contrast_jnd(clean_rgb, pigmented_rgb, iod_px: float) -> np.ndarray:
    """Pigment contrast at every pixel in JND: ΔE*ab of with vs without pigment, at the physician's scale.

    Parameters
    ----------
    clean_rgb, pigmented_rgb : numpy.ndarray, uint8, shape (H, W, 3)
        The same photo without and with the simulated pigment (nothing else changed).
    iod_px : float
        Inter-ocular distance in pixels of these images.

    Returns
    -------
    numpy.ndarray, float32, shape (H, W)

    Examples
    --------
    >>> clean = np.full((8, 8, 3), 180, np.uint8)
    >>> float(contrast_jnd(clean, clean, 100.0).max())
    0.0
    """
    sigma = physician_sigma_px(iod_px)
    delta = _seen(pigmented_rgb, sigma) - _seen(clean_rgb, sigma)
    return (np.sqrt(np.sum(delta * delta, axis=-1)) / JND_DELTA_E).astype(np.float32)


def darkness_grade(darkness_jnd: float) -> int:
    """D of a region's median contrast (0 below 1 JND, i.e. not involved).

    Examples
    --------
    >>> [darkness_grade(x) for x in (0.5, 1.0, 1.99, 2.0, 3.5, 5.49, 5.5, 9.0)]
    [0, 1, 1, 2, 3, 3, 4, 4]
    """
    return int(np.searchsorted(DARKNESS_EDGES_JND, darkness_jnd, side="right"))


def homogeneity_grade(pattern_size_iod: float, involved: bool = True) -> int:
    """H of a region's pattern size (0 when the region is not involved).

    Examples
    --------
    >>> [homogeneity_grade(x) for x in (0.01, 0.08, 0.279, 0.28, 0.6, 2.0)]
    [1, 2, 2, 3, 4, 4]
    """
    if not involved:
        return 0
    return 1 + int(np.searchsorted(HOMOGENEITY_EDGES_IOD, pattern_size_iod, side="right"))


def _pattern_size_iod(closed_region: np.ndarray, iod_px: float) -> float:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed_region.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    if areas.size == 0:
        return 0.0
    diameters = 2.0 * np.sqrt(areas / np.pi) / iod_px
    return float(np.sum(areas * diameters) / np.sum(areas))


def region_truth(contrast, skin, points_px, iod_px: float) -> dict[str, RegionTruth]:
    """Grade every MASI region of a contrast map (docs/grading_scale.md).

    Parameters
    ----------
    contrast : numpy.ndarray, shape (H, W)
        Pigment contrast in JND (:func:`contrast_jnd`).
    skin : numpy.ndarray of bool, shape (H, W)
        Visible skin (hair, glare and non-face removed).
    points_px : array_like, shape (478, 2)
        Landmarks in pixels of this grid.
    iod_px : float
        Inter-ocular distance in pixels of this grid.

    Returns
    -------
    dict of str to RegionTruth, keyed by :data:`pigmentscan.regions.REGION_KEYS`.
    """
    skin = np.asarray(skin, dtype=bool)
    involved = (np.asarray(contrast) >= 1.0) & skin
    masks = regions.region_masks(skin.shape, points_px, iod_px, exclude=~skin)
    diameter = max(int(round(PATCH_CLOSING_IOD * iod_px)), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter | 1, diameter | 1))
    closed = cv2.morphologyEx(involved.astype(np.uint8), cv2.MORPH_CLOSE, kernel).astype(bool)
    out = {}
    for key in regions.REGION_KEYS:
        region = masks[key]
        visible, hit = int(region.sum()), int((involved & region).sum())
        area_pct = 100.0 * hit / visible if visible else 0.0
        darkness = float(np.median(contrast[involved & region])) if hit else 0.0
        size = _pattern_size_iod(closed & region, iod_px) if hit else 0.0
        out[key] = RegionTruth(
            area_pct=area_pct,
            area_score=scoring.area_score(min(area_pct, 100.0)),
            darkness_jnd=darkness,
            darkness=darkness_grade(darkness) if hit else 0,
            pattern_size_iod=size,
            homogeneity=homogeneity_grade(size, involved=hit > 0),
            visible_px=visible,
            involved_px=hit,
        )
    return out


def totals(region_scores: dict) -> tuple[float, float]:
    """MASI and mMASI of graded regions (Kimbrough-Green 1994; Pandya 2011) via pigmentscan.scoring.

    Examples
    --------
    >>> full = {k: RegionTruth(100.0, 6, 6.0, 4, 1.0, 4, 1, 1) for k in regions.REGION_KEYS}
    >>> [round(x, 6) for x in totals(full)]
    [48.0, 24.0]
    """
    components = {k: {"area": r.area_score, "darkness": r.darkness, "homogeneity": r.homogeneity}
                  for k, r in region_scores.items()}
    return scoring.masi(components), scoring.mmasi(components)
