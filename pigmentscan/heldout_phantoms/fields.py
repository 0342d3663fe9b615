"""Spatial fields of the held-out phantoms: noise, the sites melasma favours, lesion envelope, texture.

Everything here is a pure function of arrays, landmarks (pixels) and a numpy Generator; sizes
are in inter-ocular distances (IOD, about 63 mm in an adult) so a phantom looks the same at any
resolution.

The lesion is built in three layers, each in [0, 1] or around 1:

1. **Site propensity** ``W``: for each site a clinical pattern involves (Sanchez 1981, MASI.md:
   centrofacial = forehead, cheeks, nose, upper lip, chin; malar = cheeks and nose;
   mandibular = along the jaw), a Gaussian ridge around a FaceMesh landmark polyline, weighted
   per site and per side (roughly symmetric, rarely one-sided). ``W`` is the maximum over sites.
   The sites are anatomical places, not pigmentscan's region polygons: the pigment crosses them.
2. **Envelope**: ``W`` plus multi-scale (fractal) noise, thresholded at the level that covers
   the requested share of the key regions' skin. Thresholding a fractal field gives the
   irregular, geographic borders of melasma; a low threshold gives confluent involvement that
   runs past the regions into the surrounding face.
3. **Texture** ``M`` (median about 1 inside the lesion): blotchy (patches of uneven intensity),
   speckled (discrete specks, denser to confluent towards the lesion's core) or reticulated
   (a pigment network around paler holes).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "SITES",
    "PATTERN_SITES",
    "PATTERN_KEY_REGIONS",
    "TEXTURES",
    "smooth_noise",
    "fractal_noise",
    "polyline_distance",
    "site_propensity",
    "threshold_for_share",
    "envelope",
    "texture_field",
]

#: Sites: name -> (landmark polylines, side, sigma in IOD, shift up the face in IOD, shift
#: towards the nose in IOD). Side "right" is the patient's right (FaceMesh's low indices).
SITES = {
    "forehead_right": (((104, 69, 108, 151),), "right", 0.30, 0.12, 0.0),
    "forehead_left": (((151, 337, 299, 333),), "left", 0.30, 0.12, 0.0),
    "cheek_right": (((118, 50, 187), (101, 50, 205)), "right", 0.26, 0.0, 0.0),
    "cheek_left": (((347, 280, 411), (330, 280, 425)), "left", 0.26, 0.0, 0.0),
    "nose": (((168, 6, 197, 195, 5, 4),), None, 0.09, 0.0, 0.0),
    "upper_lip": (((165, 167, 164, 393, 391),), None, 0.07, 0.0, 0.0),
    "chin": (((208, 199, 428), (18, 200, 175)), None, 0.15, 0.0, 0.0),
    "jaw_right": (((132, 58, 172, 136, 150, 149, 176, 148, 152),), "right", 0.15, 0.0, 0.12),
    "jaw_left": (((361, 288, 397, 365, 379, 378, 400, 377, 152),), "left", 0.15, 0.0, 0.12),
}
#: Sites of each clinical pattern with their base weight (Sanchez 1981).
PATTERN_SITES = {
    "centrofacial": {"forehead_right": 1.0, "forehead_left": 1.0, "cheek_right": 1.0, "cheek_left": 1.0,
                     "nose": 0.9, "upper_lip": 0.85, "chin": 0.9},
    "malar": {"cheek_right": 1.0, "cheek_left": 1.0, "nose": 0.85},
    "mandibular": {"jaw_right": 1.0, "jaw_left": 1.0, "chin": 0.75},
}
#: MASI regions whose skin the requested involvement refers to, per pattern.
PATTERN_KEY_REGIONS = {
    "centrofacial": ("forehead", "right_malar", "left_malar", "chin"),
    "malar": ("right_malar", "left_malar"),
    "mandibular": ("chin",),
}
TEXTURES = ("blotchy", "speckled", "reticulated")
_UP_FROM, _UP_TO, _NOSE = 152, 10, 4  # chin, top of the mesh, nose tip (FaceMesh)


def smooth_noise(shape, scale_px: float, rng: np.random.Generator) -> np.ndarray:
    """Isotropic Gaussian-correlated noise of zero mean and unit standard deviation.

    White noise on a grid of spacing ``scale_px / 4`` is blurred (sigma 2 cells, so the
    correlation length is about ``scale_px / 2``) and resized to ``shape``.

    Examples
    --------
    >>> n = smooth_noise((64, 80), 16.0, np.random.default_rng(0))
    >>> n.shape, bool(abs(n.mean()) < 1e-6 and abs(n.std() - 1) < 1e-6)
    ((64, 80), True)
    """
    height, width = int(shape[0]), int(shape[1])
    cell = max(float(scale_px) / 4.0, 1.0)
    small = (max(int(np.ceil(height / cell)) + 8, 8), max(int(np.ceil(width / cell)) + 8, 8))
    white = rng.standard_normal(small).astype(np.float32)
    blurred = cv2.GaussianBlur(white, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT)
    big = cv2.resize(blurred, (int(round(small[1] * cell)), int(round(small[0] * cell))), interpolation=cv2.INTER_LINEAR)
    field = big[4 * int(cell) // 2: 4 * int(cell) // 2 + height, 4 * int(cell) // 2: 4 * int(cell) // 2 + width]
    if field.shape != (height, width):  # tiny cells: fall back to the top-left corner
        field = big[:height, :width]
    field = field - field.mean()
    return (field / max(float(field.std()), 1e-9)).astype(np.float32)


def fractal_noise(shape, largest_px: float, rng: np.random.Generator, *, octaves: int = 4,
                  persistence: float = 0.6) -> np.ndarray:
    """Sum of :func:`smooth_noise` octaves (scale halves, amplitude × ``persistence``), unit std.

    Examples
    --------
    >>> f = fractal_noise((50, 50), 20.0, np.random.default_rng(1))
    >>> round(float(f.std()), 6)
    1.0
    """
    total = np.zeros(shape[:2], np.float32)
    for k in range(octaves):
        total += (persistence**k) * smooth_noise(shape, largest_px / 2.0**k, rng)
    total -= total.mean()
    return total / max(float(total.std()), 1e-9)


def polyline_distance(shape, points_xy) -> np.ndarray:
    """Euclidean distance (pixels) from every pixel to a polyline through ``points_xy`` (k × 2).

    Examples
    --------
    >>> d = polyline_distance((5, 9), np.array([[2.0, 2.0], [6.0, 2.0]]))
    >>> d[2, 4], d[4, 4]
    (0.0, 2.0)
    """
    canvas = np.full(shape[:2], 255, np.uint8)
    pts = np.round(np.asarray(points_xy, np.float64) * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [pts], False, 0, thickness=1, lineType=cv2.LINE_8, shift=4)
    return cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _face_up(points_px) -> np.ndarray:
    up = points_px[_UP_TO] - points_px[_UP_FROM]
    return up / max(float(np.linalg.norm(up)), 1e-9)


def site_propensity(shape, points_px, iod_px: float, site_weights: dict, *, spread: float = 1.0) -> np.ndarray:
    """Site propensity ``W``: the maximum over sites of ``weight * exp(-d^2 / (2 sigma^2))``.

    Parameters
    ----------
    shape : tuple
        (height, width) of the frame the landmarks are in.
    points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks in that frame.
    iod_px : float
        Inter-ocular distance in pixels.
    site_weights : dict
        Site name (:data:`SITES`) -> weight (0-1).
    spread : float
        Multiplies every site's sigma (a wider or narrower lesion).

    Returns
    -------
    numpy.ndarray, float32, shape (height, width), values in [0, max weight].
    """
    points_px = np.asarray(points_px, np.float64)
    up = _face_up(points_px)
    out = np.zeros(shape[:2], np.float32)
    for name, weight in site_weights.items():
        polylines, _side, sigma_iod, up_iod, nose_iod = SITES[name]
        sigma = sigma_iod * spread * iod_px
        distance = np.full(shape[:2], np.inf, np.float32)
        for line in polylines:
            pts = points_px[list(line)] + up_iod * iod_px * up
            if nose_iod:
                towards = points_px[_NOSE] - pts
                pts = pts + nose_iod * iod_px * towards / np.maximum(np.linalg.norm(towards, axis=1, keepdims=True), 1e-9)
            distance = np.minimum(distance, polyline_distance(shape, pts))
        out = np.maximum(out, (weight * np.exp(-0.5 * (distance / sigma) ** 2)).astype(np.float32))
    return out


def threshold_for_share(field, where, share: float) -> float:
    """The level of ``field`` exceeded on ``share`` (0-1) of the pixels ``where`` is True.

    Examples
    --------
    >>> f = np.arange(10, dtype=float).reshape(2, 5)
    >>> round(threshold_for_share(f, np.ones_like(f, bool), 0.3), 6)
    6.3
    """
    values = np.asarray(field)[np.asarray(where, bool)]
    if values.size == 0:
        return float("inf")
    share = float(np.clip(share, 0.0, 1.0))
    if share >= 1.0:
        return float(values.min()) - 1e-3
    return float(np.quantile(values, 1.0 - share))


def envelope(field, level: float, softness: float) -> np.ndarray:
    """Smooth step of ``field`` across ``level``: 0 below ``level - softness``, 1 above ``level + softness``.

    Examples
    --------
    >>> envelope(np.array([0.0, 0.5, 1.0]), 0.5, 0.1).tolist()
    [0.0, 0.5, 1.0]
    """
    x = np.clip((np.asarray(field, np.float32) - level) / (2.0 * softness) + 0.5, 0.0, 1.0)
    return (x * x * (3.0 - 2.0 * x)).astype(np.float32)


def texture_field(shape, texture: str, iod_px: float, core, rng: np.random.Generator) -> np.ndarray:
    """Texture modulation ``M`` of the pigment amount inside the lesion (about 1 where it is full).

    Parameters
    ----------
    shape : tuple
        (height, width).
    texture : str
        ``"blotchy"``, ``"speckled"`` or ``"reticulated"`` (:data:`TEXTURES`).
    iod_px : float
        Inter-ocular distance in pixels (sets the sizes).
    core : numpy.ndarray
        Depth inside the lesion, 0 at its border to 1 well inside (speckles merge towards it).
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, float32, non-negative.

    Notes
    -----
    Sizes (IOD; 0.01 IOD is about 0.6 mm): blotchy patches 0.15-0.3 with 0.05 detail, amount
    ×0.55-1.6; speckles about 0.015-0.03 across (1-2 mm), sparse at the border and denser inside; reticulated: a
    network of broad lines around holes about 0.03-0.05 across (2-3 mm), holes at 40-60 % of the line's amount.
    """
    core = np.asarray(core, np.float32)
    if texture == "blotchy":
        coarse = smooth_noise(shape, rng.uniform(0.15, 0.3) * iod_px, rng)
        fine = smooth_noise(shape, 0.05 * iod_px, rng)
        return np.exp(0.28 * coarse + 0.10 * fine).astype(np.float32)
    if texture == "speckled":
        specks = smooth_noise(shape, rng.uniform(0.025, 0.045) * iod_px, rng)
        # a speck where the noise exceeds a level that falls towards the core (confluent middle)
        level = 1.2 - rng.uniform(0.3, 0.8) * core
        on = envelope(specks, level, 0.45)
        floor = rng.uniform(0.25, 0.45)
        return (floor + (1.25 - floor) * on).astype(np.float32)
    if texture == "reticulated":
        scale = rng.uniform(0.05, 0.08) * iod_px
        band = smooth_noise(shape, scale, rng) - 0.5 * smooth_noise(shape, 2.5 * scale, rng)
        band /= max(float(band.std()), 1e-9)
        lines = np.exp(-0.5 * (band / rng.uniform(0.6, 0.9)) ** 2)
        floor = rng.uniform(0.4, 0.6)
        return (floor + (1.3 - floor) * lines).astype(np.float32)
    raise ValueError(f"unknown texture {texture!r}; expected one of {TEXTURES}")
