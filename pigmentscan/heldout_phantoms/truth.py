"""Ground truth of the held-out phantoms, on pigmentscan's grading scale (docs/grading_scale.md).

Definitions
-----------
* **Contrast** (per pixel, JND): the CIE76 ΔE*ab between the pigmented photo and the same
  photo without the pigment (the clean photo, same geometry and exposure), both first blurred
  in linear light with a Gaussian of sigma :data:`VIEW_SIGMA_IOD` × IOD (0.01 IOD, so details
  under about 0.02 IOD, ~1.3 mm, are blurred away: the physician's viewing scale), divided by
  :data:`~pigmentscan.colour.JND_DELTA_E` (2.3). Redness, shading and sheen are the same in
  both photos and add nothing.
* **Visible skin**: inside the face outline (FaceMesh FACE_OVAL) or the forehead polygon of
  ``masi-regions-v1`` (which reaches above the mesh), less the eyes, brows, lips and nostrils
  with the template's margins (:func:`pigmentscan.regions.feature_mask`), less non-skin found
  by colour on the clean photo (hair, beard, deep shadow: under 30 % of the skin's luminance
  or off its chromaticity, :func:`skin_colour_mask`), less clipped pixels (a channel at 250+ or all at 8 or less).
* **Involved**: visible skin with contrast ≥ 1 JND.
* Per region (pigmentscan's polygons, restricted to visible skin): **area %**, **A**
  (Kimbrough-Green bands), **darkness** = median contrast over involved skin (JND; 0 when
  none), **D** by grading_scale.md's edges 1 / 2 / 3.5 / 5.5 JND, **H** by grading_scale.md:
  patches = connected involved skin after a closing of 0.03 IOD, pattern size = area-weighted
  mean equivalent-circle diameter (IOD), H = 1 below 0.08, 2 from 0.08, 3 from 0.28, 4 from
  0.6; D = H = 0 when A = 0.
* **MASI** = 0.3·A_f(D_f+H_f) + 0.3·A_rm(D_rm+H_rm) + 0.3·A_lm(D_lm+H_lm) + 0.1·A_c(D_c+H_c);
  mMASI drops H (Kimbrough-Green 1994; Pandya 2011).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from ..colour import JND_DELTA_E, linear_rgb_to_xyz, srgb_to_linear, xyz_to_lab
from ..regions import FACE_OUTLINE, REGION_KEYS, feature_mask, polygon_mask, region_masks, region_polygons

__all__ = [
    "VIEW_SIGMA_IOD",
    "CLOSING_IOD",
    "REGION_WEIGHTS",
    "area_score",
    "darkness_grade",
    "homogeneity_grade",
    "face_geometry_mask",
    "skin_colour_mask",
    "visible_skin",
    "contrast_map",
    "region_truth",
    "masi_of",
]

#: Gaussian sigma of the physician's viewing scale, in IOD (grading_scale.md: details under ~0.02 IOD).
VIEW_SIGMA_IOD = 0.01
#: Gap closed before counting patches, IOD (grading_scale.md).
CLOSING_IOD = 0.03
#: MASI weights (Kimbrough-Green 1994).
REGION_WEIGHTS = {"forehead": 0.3, "right_malar": 0.3, "left_malar": 0.3, "chin": 0.1}
_AREA_EDGES = (10.0, 30.0, 50.0, 70.0, 90.0)  # A 1..6 lower edges, % (A = 1 for any involvement < 10 %)
_DARKNESS_EDGES = (1.0, 2.0, 3.5, 5.5)  # grading_scale.md
_PATTERN_EDGES = (0.08, 0.28, 0.6)  # grading_scale.md, IOD
_CLIP_HIGH, _CLIP_LOW = 250, 8


def area_score(area_pct: float) -> int:
    """MASI area score A from the involved percentage (Kimbrough-Green 1994).

    Examples
    --------
    >>> [area_score(p) for p in (0, 0.1, 9.9, 10, 29.9, 30, 50, 70, 89.9, 90, 100)]
    [0, 1, 1, 2, 2, 3, 4, 5, 5, 6, 6]
    """
    if area_pct <= 0:
        return 0
    return 1 + int(np.searchsorted(_AREA_EDGES, area_pct, side="right"))


def darkness_grade(darkness_jnd: float, involved: bool = True) -> int:
    """Darkness grade D from the median contrast (JND), grading_scale.md; 0 when not involved.

    Examples
    --------
    >>> [darkness_grade(x) for x in (1.0, 1.99, 2.0, 3.49, 3.5, 5.5, 9.0)]
    [1, 1, 2, 2, 3, 4, 4]
    """
    if not involved:
        return 0
    return max(1, int(np.searchsorted(_DARKNESS_EDGES, darkness_jnd, side="right")))


def homogeneity_grade(pattern_size_iod: float, involved: bool = True) -> int:
    """Homogeneity grade H from the pattern size (IOD), grading_scale.md; 0 when not involved.

    Examples
    --------
    >>> [homogeneity_grade(x) for x in (0.01, 0.08, 0.27, 0.28, 0.6, 1.2)]
    [1, 2, 2, 3, 4, 4]
    """
    if not involved:
        return 0
    return 1 + int(np.searchsorted(_PATTERN_EDGES, pattern_size_iod, side="right"))


def face_geometry_mask(shape, points_px, iod_px: float) -> np.ndarray:
    """Face outline polygon united with the (extended) forehead polygon, less the features."""
    points_px = np.asarray(points_px, np.float64)
    inside = polygon_mask(shape, points_px[list(FACE_OUTLINE)])
    inside |= polygon_mask(shape, region_polygons(points_px, iod_px)["forehead"])
    return inside & ~feature_mask(shape, points_px, iod_px)


def skin_colour_mask(linear, reference, *, min_luminance_ratio: float = 0.3, max_chroma_z: float = 5.0) -> np.ndarray:
    """Pixels whose colour could be the face's own skin, lit more or less brightly.

    Shading and sheen change how much light comes back more than its chromaticity, hair and
    deep shadow are far darker than skin: a pixel is kept when its luminance is at least
    ``min_luminance_ratio`` of the reference skin's median and its chromaticity (r, g =
    R/(R+G+B), G/(R+G+B) in linear light) is within ``max_chroma_z`` robust standard deviations
    (floored at 0.006) of the reference's.

    Parameters
    ----------
    linear : numpy.ndarray, shape (..., 3)
        Linear sRGB of the (slightly blurred) clean photo.
    reference : numpy.ndarray, shape (n, 3)
        Linear sRGB of pixels that are surely skin (the malar regions).

    Returns
    -------
    numpy.ndarray of bool, the leading shape of ``linear``.

    Examples
    --------
    >>> ref = np.tile([[0.5, 0.3, 0.2]], (10, 1))
    >>> skin_colour_mask(np.array([[0.25, 0.15, 0.1], [0.05, 0.03, 0.02], [0.3, 0.3, 0.3]]), ref).tolist()
    [True, False, False]
    """
    linear = np.asarray(linear, np.float32)
    ref = np.asarray(reference, np.float64)
    lum = linear @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    ref_lum = float(np.median(ref @ np.array([0.2126, 0.7152, 0.0722])))
    chroma = linear[..., :2] / np.maximum(linear.sum(axis=-1, keepdims=True), 1e-6)
    ref_chroma = ref[:, :2] / np.maximum(ref.sum(axis=-1, keepdims=True), 1e-9)
    centre = np.median(ref_chroma, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(ref_chroma - centre), axis=0), 0.006)
    z = (chroma - centre.astype(np.float32)) / spread.astype(np.float32)
    return (lum >= min_luminance_ratio * ref_lum) & (np.sum(z * z, axis=-1) <= max_chroma_z**2)


def visible_skin(rgb, points_px, iod_px: float) -> np.ndarray:
    """Visible skin of a clean photo (module docstring), boolean (H, W)."""
    rgb = np.asarray(rgb)
    shape = rgb.shape[:2]
    geometry = face_geometry_mask(shape, points_px, iod_px)
    if not geometry.any():
        return geometry
    sigma = max(VIEW_SIGMA_IOD * iod_px, 0.5)
    linear = cv2.GaussianBlur(srgb_to_linear(rgb), (0, 0), sigma)
    malar = region_masks(shape, points_px, iod_px)
    reference_mask = (malar["right_malar"] | malar["left_malar"]) & geometry
    if reference_mask.sum() < 50:
        reference_mask = geometry
    colour_ok = skin_colour_mask(linear, linear[reference_mask])
    clipped = (rgb.max(axis=-1) >= _CLIP_HIGH) | (rgb.max(axis=-1) <= _CLIP_LOW)
    clipped = ndimage.binary_dilation(clipped, iterations=2)
    skin = geometry & colour_ok & ~clipped
    # drop isolated specks and fill pin-holes (pores, single dark hairs) under ~0.02 IOD
    radius = max(int(round(0.01 * iod_px)), 1)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_CLOSE, disk).astype(bool)
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, disk).astype(bool)
    return skin & geometry & ~clipped


def _lab_blurred(rgb, sigma: float) -> np.ndarray:
    linear = cv2.GaussianBlur(srgb_to_linear(np.asarray(rgb, np.uint8)), (0, 0), sigma)
    return xyz_to_lab(linear_rgb_to_xyz(linear))


def contrast_map(pigmented_rgb, clean_rgb, iod_px: float, *, box=None) -> np.ndarray:
    """Contrast of the pigment, JND, per pixel (module docstring), float32 (H, W).

    Parameters
    ----------
    pigmented_rgb, clean_rgb : numpy.ndarray, uint8 (H, W, 3)
        The photo with the pigment and the same photo without it.
    iod_px : float
        Inter-ocular distance, pixels (sets the viewing blur).
    box : tuple of int, optional
        (y0, y1, x0, x1): compute only there (the rest is 0); the pigment must lie well inside.

    Examples
    --------
    >>> clean = np.full((20, 20, 3), 150, np.uint8); dark = clean.copy(); dark[5:15, 5:15] = 120
    >>> c = contrast_map(dark, clean, 50.0)
    >>> bool(c[10, 10] > 4 and c[0, 0] < 0.01)
    True
    """
    height, width = clean_rgb.shape[:2]
    y0, y1, x0, x1 = box if box is not None else (0, height, 0, width)
    sigma = max(VIEW_SIGMA_IOD * iod_px, 0.5)
    out = np.zeros((height, width), np.float32)
    lab_p = _lab_blurred(pigmented_rgb[y0:y1, x0:x1], sigma)
    lab_c = _lab_blurred(clean_rgb[y0:y1, x0:x1], sigma)
    out[y0:y1, x0:x1] = np.linalg.norm(lab_p - lab_c, axis=-1) / JND_DELTA_E
    return out


def _pattern_size_iod(involved, region, iod_px: float) -> float:
    radius = max(int(round(0.5 * CLOSING_IOD * iod_px)), 1)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    closed = cv2.morphologyEx(involved.astype(np.uint8), cv2.MORPH_CLOSE, disk).astype(bool) & region
    labels, count = ndimage.label(closed)
    if count == 0:
        return 0.0
    areas = np.bincount(labels.ravel())[1:].astype(np.float64)
    diameters = np.sqrt(4.0 * areas / np.pi) / iod_px
    return float(np.sum(areas * diameters) / np.sum(areas))


def region_truth(contrast_jnd, skin, points_px, iod_px: float, *, swap_sides: bool = False) -> dict:
    """Per-region truth (module docstring) from a contrast map and the visible skin.

    Parameters
    ----------
    contrast_jnd : numpy.ndarray, float (H, W)
    skin : numpy.ndarray, bool (H, W)
    points_px : numpy.ndarray, shape (478, 2)
        Landmarks in anatomical order (FaceMesh's low indices on the patient's right).
    iod_px : float
    swap_sides : bool
        The photo is mirrored: what a detector calls the right malar region is the patient's
        left, so the two malar entries are exchanged.

    Returns
    -------
    dict
        region -> dict(area_pct, area_score, darkness_jnd, darkness_grade, pattern_size_iod,
        homogeneity_grade, visible_px).
    """
    skin = np.asarray(skin, bool)
    involved = skin & (np.asarray(contrast_jnd) >= 1.0)
    masks = region_masks(skin.shape, points_px, iod_px, exclude=~skin)
    out = {}
    for key in REGION_KEYS:
        region = masks[key] & skin
        visible = int(region.sum())
        inv = involved & region
        n_inv = int(inv.sum())
        area = 100.0 * n_inv / visible if visible else 0.0
        a_score = area_score(area)
        darkness = float(np.median(contrast_jnd[inv])) if n_inv else 0.0
        size = _pattern_size_iod(inv, region, iod_px) if n_inv else 0.0
        out[key] = {
            "area_pct": float(area),
            "area_score": a_score,
            "darkness_jnd": darkness,
            "darkness_grade": darkness_grade(darkness, a_score > 0),
            "pattern_size_iod": size,
            "homogeneity_grade": homogeneity_grade(size, a_score > 0),
            "visible_px": visible,
        }
    if swap_sides:
        out["right_malar"], out["left_malar"] = out["left_malar"], out["right_malar"]
    return out


def masi_of(regions: dict, *, modified: bool = False) -> float:
    """MASI (or mMASI) from per-region truth (Kimbrough-Green 1994; Pandya 2011).

    Examples
    --------
    >>> r = {k: {"area_score": 6, "darkness_grade": 4, "homogeneity_grade": 4} for k in REGION_WEIGHTS}
    >>> round(masi_of(r), 6), round(masi_of(r, modified=True), 6)
    (48.0, 24.0)
    """
    total = 0.0
    for key, weight in REGION_WEIGHTS.items():
        r = regions[key]
        grades = r["darkness_grade"] + (0 if modified else r["homogeneity_grade"])
        total += weight * r["area_score"] * grades
    return float(total)
