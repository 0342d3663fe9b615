"""Lesion analysis: normal-skin reference, pigment contrast, lesion masks and per-region measures.

Works on a face crop resampled to a fixed inter-ocular distance (``iod_px``), so every
size here is a fraction of the IOD and results do not depend on camera resolution.

The pigment contrast of a pixel is its melanin amount (Tsumura OD decomposition,
:mod:`pigmentscan.colour`) minus that of the same face's normal skin. Normal skin is
found from the photo itself: the lower mode of the melanin distribution over all
visible facial skin (lesions only ever ADD melanin, so the lower side of the
distribution is clean skin, on light and dark faces alike), with the noise scale from
the spread below that mode.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
from scipy import ndimage

from . import colour
from .regions import REGION_KEYS, face_mask, feature_mask, region_masks

__all__ = [
    "LesionParams",
    "ReferenceSkin",
    "RegionMeasures",
    "FaceAnalysis",
    "pigment_maps",
    "non_skin_mask",
    "reference_level",
    "local_reference",
    "melanin_noise",
    "lesion_mask",
    "patch_diameter_iod",
    "measure_region",
    "analyse_face",
]


@dataclass(frozen=True)
class LesionParams:
    """Parameters of lesion detection; they live in the calibration file (``lesion`` section).

    Sizes are fractions of the inter-ocular distance; contrasts are melanin amounts
    in optical-density units along the unit melanin direction.
    """

    melanin_od_direction: tuple = (0.319, 0.459, 0.829)
    haemoglobin_od_direction: tuple = (0.20, 0.85, 0.50)
    smoothing_iod: float = 0.025
    shading_scale_iod: float = 0.15
    noise_k: float = 4.0
    min_contrast: float = 0.3
    hysteresis_ratio: float = 0.6
    min_lesion_diameter_iod: float = 0.035
    hole_diameter_iod: float = 0.03
    homogeneity_closing_iod: float = 0.03
    reference_radius_iod: float = 0.3
    reference_quantile: float = 0.5
    reference_degree: int = 2
    surface_threshold_factor: float = 1.5
    darkening_ratio: float = 0.7
    hair_shading: float = 1.8
    hair_density: float = 0.3
    highlight_shading: float = -1.0

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> LesionParams:
        known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class ReferenceSkin:
    """The face's own normal skin: the baseline every contrast is measured against."""

    od: np.ndarray
    lab: np.ndarray
    ita_deg: float
    melanin_noise: float

    def to_dict(self) -> dict:
        return {
            "reference_skin_lab": [round(float(v), 4) for v in self.lab],
            "reference_skin_ita_deg": float(self.ita_deg),
            "reference_skin_category": colour.ita_category(self.ita_deg),
            "melanin_noise": float(self.melanin_noise),
        }


@dataclass(frozen=True)
class RegionMeasures:
    """Continuous measures of one MASI region.

    Attributes
    ----------
    area_fraction : float
        Lesion pixels / visible skin pixels of the region (0-1).
    melanin_contrast : float
        Median melanin contrast of the lesion pixels against normal skin (OD units);
        0 when the region has no lesion. The continuous darkness measure.
    delta_e : float
        CIE76 colour difference ΔE*ab of the lesion's mean colour from normal skin.
    delta_l_star : float
        L* of the lesion minus L* of normal skin (negative = darker).
    delta_melanin_takiwaki : float
        Takiwaki (2002) ΔMelanin of the lesion against normal skin.
    patch_diameter_iod : float
        Area-weighted mean diameter of the lesion patches in inter-ocular distances:
        the continuous homogeneity measure (see :func:`patch_diameter_iod`).
    n_lesions : int
        Connected lesion components in the region.
    skin_px : int
        Visible skin pixels in the region, at the analysis scale.
    coverage : float
        Visible skin / whole region polygon (hair, highlights and shadow removed).
    """

    area_fraction: float
    melanin_contrast: float
    delta_e: float
    delta_l_star: float
    delta_melanin_takiwaki: float
    patch_diameter_iod: float
    n_lesions: int
    skin_px: int
    coverage: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FaceAnalysis:
    """Everything measured on one face, at the analysis scale."""

    region_masks: dict
    lesion_mask: np.ndarray
    melanin_contrast: np.ndarray
    non_skin: np.ndarray
    reference: ReferenceSkin
    measures: dict = field(default_factory=dict)


def _gaussian(image, sigma_px):
    return cv2.GaussianBlur(image, (0, 0), sigmaX=max(float(sigma_px), 0.3), borderType=cv2.BORDER_REFLECT)


def _disk(diameter_px: float) -> np.ndarray:
    radius = max(1, int(round(diameter_px / 2)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def pigment_maps(rgb, skin, iod_px: float, params: LesionParams):
    """Melanin, haemoglobin and shading amounts of each pixel, relative to the face's median skin.

    Returns
    -------
    amounts : numpy.ndarray, shape (H, W, 3), float32
        Melanin, haemoglobin, shading, each smoothed at ``smoothing_iod``.
    od : numpy.ndarray, shape (H, W, 3), float32
        Optical density of each pixel.
    basis : numpy.ndarray, shape (3, 3)
    """
    od = colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
    basis = colour.pigment_basis(params.melanin_od_direction, params.haemoglobin_od_direction)
    median_od = np.median(od[skin], axis=0) if skin.any() else np.median(od.reshape(-1, 3), axis=0)
    amounts = colour.pigment_decomposition(od - median_od.astype(np.float32), basis).astype(np.float32)
    amounts = _gaussian(amounts, params.smoothing_iod * iod_px)
    return amounts, od, basis


def non_skin_mask(rgb, shading, skin, iod_px: float, params: LesionParams) -> np.ndarray:
    """Pixels of the face that are not measurable skin.

    Hair, beard and deep shadow are far darker in every channel than the face's skin
    (a large shading term); where such pixels are dense the whole neighbourhood is
    hair (a beard, a fringe). Highlights are much brighter than the skin, or clipped.
    """
    dark = (shading > params.hair_shading) & skin
    window = max(3, int(round(0.08 * iod_px)) | 1)
    density = cv2.boxFilter(dark.astype(np.float32), -1, (window, window), borderType=cv2.BORDER_REFLECT)
    hairy = density > params.hair_density
    bright = (shading < params.highlight_shading) | (rgb.max(axis=2) >= 250)
    out = (dark | hairy | bright) & skin
    out = cv2.dilate(out.astype(np.uint8), _disk(0.02 * iod_px)).astype(bool)
    return out & skin


def reference_level(values: np.ndarray) -> float:
    """Normal-skin melanin level: the lower mode of the sample.

    The peak of a smoothed histogram of the values: lesions add melanin and cover a
    minority of the whole face's skin (nose, jaw and perioral skin included), so the
    clean skin forms the main mode.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size < 50:
        return float(np.median(values)) if values.size else 0.0
    low, high = np.percentile(values, [1, 99])
    histogram, edges = np.histogram(values, bins=64, range=(low, max(high, low + 1e-6)))
    smooth = ndimage.gaussian_filter1d(histogram.astype(float), 2)
    peak = int(np.argmax(smooth))
    return float((edges[peak] + edges[peak + 1]) / 2)


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
    labels, count = ndimage.label(weak)
    if count == 0:
        return np.zeros_like(skin)
    keep = np.zeros(count + 1, dtype=bool)
    keep[np.unique(labels[strong & (labels > 0)])] = True
    min_area = np.pi * (params.min_lesion_diameter_iod * iod_px / 2) ** 2
    keep &= np.bincount(labels.ravel(), minlength=count + 1) >= min_area
    keep[0] = False
    mask = keep[labels]
    hole_area = np.pi * (params.hole_diameter_iod * iod_px / 2) ** 2
    holes = ndimage.binary_fill_holes(mask) & ~mask
    hole_labels, _ = ndimage.label(holes)
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
    labels, count = ndimage.label(closed.astype(bool) & region)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(np.float64)
    diameters = 2.0 * np.sqrt(areas / np.pi) / iod_px
    return float(np.sum(areas * diameters) / np.sum(areas))


def measure_region(region, polygon_px_count: int, lesion, contrast, lab, reference_lab, iod_px, params) -> RegionMeasures:
    """Continuous measures of one region (see :class:`RegionMeasures`)."""
    skin_px = int(region.sum())
    lesion = lesion & region
    lesion_px = int(lesion.sum())
    coverage = skin_px / polygon_px_count if polygon_px_count else 0.0
    if skin_px == 0 or lesion_px == 0:
        return RegionMeasures(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, skin_px, coverage)
    delta = lab[lesion].mean(axis=0) - reference_lab
    return RegionMeasures(
        area_fraction=lesion_px / skin_px,
        melanin_contrast=float(np.median(contrast[lesion])),
        delta_e=float(np.linalg.norm(delta)),
        delta_l_star=float(delta[0]),
        delta_melanin_takiwaki=float(colour.takiwaki_delta_melanin(delta[0], delta[1])),
        patch_diameter_iod=patch_diameter_iod(lesion, region, iod_px, params),
        n_lesions=int(ndimage.label(lesion)[1]),
        skin_px=skin_px,
        coverage=float(coverage),
    )


def _shading_crosstalk(melanin, shading, skin, iod_px, params):
    """Remove the part of the melanin map that follows the slow shading field.

    Shadowed skin is lit by light that has bounced off skin, so it looks more
    saturated than flat-lit skin, which leaks into the melanin amount; highlights do
    the opposite. The skin is binned by slow shading (scale ``shading_scale_iod``, so a
    lesion never forms its own bin) and the 40th percentile of melanin in each bin
    (lesions sit above it) gives a piecewise-linear trend that is subtracted.
    """
    slow = _gaussian(shading, params.shading_scale_iod * iod_px)
    x, y = slow[skin], melanin[skin]
    if x.size < 500 or np.ptp(x) < 1e-3:
        return melanin
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 13)))
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    centres, levels = [], []
    for b in range(len(edges) - 1):
        inside = index == b
        if inside.sum() >= 50:
            centres.append(float(np.median(x[inside])))
            levels.append(float(np.quantile(y[inside], 0.4)))
    if len(centres) < 3:
        return melanin
    trend = np.interp(slow, centres, levels) - np.interp(np.median(x), centres, levels)
    return melanin - trend.astype(melanin.dtype)


def _nan_quantile(rows: np.ndarray, q: float) -> np.ndarray:
    """``np.nanquantile(rows, q, axis=-1)`` (linear interpolation), vectorised: NaNs sort last."""
    ordered = np.sort(rows, axis=-1)
    count = np.sum(~np.isnan(rows), axis=-1)
    position = q * (count - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, count - 1)
    fraction = position - low
    take = lambda index: np.take_along_axis(ordered, index[:, None], axis=-1)[:, 0]  # noqa: E731
    return take(low) * (1 - fraction) + take(high) * fraction


def local_reference(values, valid, iod_px: float, params: LesionParams) -> np.ndarray:
    """Normal-skin level around every pixel: a quantile of the valid skin within a disc.

    The level at each point of a coarse grid (step 0.1 IOD, on a copy at an IOD of
    20 px) is the ``reference_quantile`` of the ``valid`` pixels within
    ``reference_radius_iod``; grid points with too little valid skin take the value of
    the nearest point that has enough, so the inside of a large lesion (excluded from
    ``valid`` by the caller) takes the level of the clean skin around it. The grid is
    smoothed and interpolated back to every pixel. The disc follows the slow colour
    drift across a face (forehead versus cheeks, curvature, side light).
    """
    factor = min(1.0, 20.0 / iod_px)
    small = cv2.resize(values, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    small_valid = cv2.resize(valid.astype(np.float32), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA) > 0.5
    step = 2  # 0.1 IOD at an IOD of 20 px
    radius = max(2, int(round(params.reference_radius_iod * iod_px * factor)))
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    outside_disc = (yy**2 + xx**2) > radius**2
    padded = np.pad(np.where(small_valid, small, np.nan), radius, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (2 * radius + 1, 2 * radius + 1))[::step, ::step]
    windows = np.where(outside_disc, np.nan, windows).reshape(windows.shape[0], windows.shape[1], -1)
    counts = np.sum(~np.isnan(windows), axis=-1)
    enough = counts >= 0.1 * (~outside_disc).sum()
    if not enough.any():
        level = float(np.median(values[valid])) if valid.any() else 0.0
        return np.full(values.shape, level, np.float32)
    grid = np.full(enough.shape, np.nan)
    grid[enough] = _nan_quantile(windows[enough], params.reference_quantile)
    if not enough.all():
        nearest = ndimage.distance_transform_edt(~enough, return_distances=False, return_indices=True)
        grid = grid[tuple(nearest)]
    grid = ndimage.gaussian_filter(grid, 1.0, mode="nearest")
    # Grid point k sits at pixel k*step of the small copy; map it back to full resolution.
    ys = np.clip(np.arange(values.shape[0]) * factor / step, 0, grid.shape[0] - 1).astype(np.float32)
    xs = np.clip(np.arange(values.shape[1]) * factor / step, 0, grid.shape[1] - 1).astype(np.float32)
    map_x, map_y = np.meshgrid(xs, ys)
    return cv2.remap(grid.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR)


def surface_reference(values, valid, iod_px: float, params: LesionParams) -> np.ndarray:
    """Normal-skin level as a smooth surface over the face: a low-order polynomial fit.

    A polynomial of degree ``reference_degree`` in the pixel coordinates (in IOD units)
    is fitted to the ``valid`` skin by iteratively reweighted least squares that
    down-weights values far ABOVE the surface (lesions add melanin), so it follows the
    slow drift of skin colour across the face (forehead versus cheeks, shading,
    side light) but, having few degrees of freedom, not a lesion patch of any size.
    """
    factor = min(1.0, 20.0 / iod_px)
    small = cv2.resize(values, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA).astype(np.float64)
    small_valid = cv2.resize(valid.astype(np.float32), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA) > 0.5
    rows, cols = np.nonzero(small_valid)
    if rows.size < 30:
        level = float(np.median(values[valid])) if valid.any() else 0.0
        return np.full(values.shape, level, np.float32)
    scale = iod_px * factor
    centre = np.array([rows.mean(), cols.mean()])

    def design(r, c):
        y, x = (r - centre[0]) / scale, (c - centre[1]) / scale
        return np.column_stack([x**i * y**j for i in range(params.reference_degree + 1)
                                for j in range(params.reference_degree + 1 - i)])

    a, b = design(rows, cols), small[rows, cols]
    weights = np.ones_like(b)
    for _ in range(6):
        coef = np.linalg.lstsq(a * weights[:, None], b * weights, rcond=None)[0]
        residual = b - a @ coef
        spread = 1.4826 * np.median(np.abs(residual)) + 1e-6
        # Tukey biweight above the surface only; values below it keep full weight.
        u = np.clip(residual / (4.685 * spread), 0.0, None)
        weights = np.where(u < 1, (1 - u**2) ** 2, 0.0)
    # Evaluate the polynomial separably: each term x^i y^j is an outer product.
    y = (np.arange(values.shape[0]) * factor - centre[0]) / scale
    x = (np.arange(values.shape[1]) * factor - centre[1]) / scale
    full = np.zeros(values.shape, dtype=np.float64)
    terms = [(i, j) for i in range(params.reference_degree + 1) for j in range(params.reference_degree + 1 - i)]
    for (i, j), c in zip(terms, coef):
        full += c * np.outer(y**j, x**i)
    return full.astype(np.float32)


def melanin_noise(melanin, skin, iod_px: float) -> float:
    """Fine-scale noise of the melanin map: robust spread of its high-pass over skin."""
    if skin.sum() < 50:
        return 0.0
    detail = melanin - _gaussian(melanin, 0.05 * iod_px)
    values = detail[skin]
    # 1.4826 turns a median absolute deviation into a normal standard deviation.
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def analyse_face(rgb, points_px, iod_px: float, params: LesionParams) -> FaceAnalysis:
    """Run the lesion analysis on a face crop at the analysis scale.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 crop, shape (H, W, 3).
    points_px : numpy.ndarray, shape (478, 2)
        Landmarks in the crop's pixels.
    iod_px : float
        Inter-ocular distance in the crop's pixels.
    params : LesionParams

    Returns
    -------
    FaceAnalysis
    """
    shape = rgb.shape[:2]
    features = feature_mask(shape, points_px, iod_px)
    polygons = region_masks(shape, points_px, iod_px, features=features)
    in_regions = np.zeros(shape, dtype=bool)
    for mask in polygons.values():
        in_regions |= mask
    skin = face_mask(shape, points_px, iod_px, features=features) | in_regions
    amounts, od, basis = pigment_maps(rgb, skin, iod_px, params)
    melanin, shading = amounts[..., 0], amounts[..., 2]
    non_skin = non_skin_mask(rgb, shading, skin, iod_px, params)
    clean = skin & ~non_skin
    melanin = _shading_crosstalk(melanin, shading, clean, iod_px, params)
    noise = melanin_noise(melanin, clean, iod_px)
    threshold = max(params.min_contrast, params.noise_k * noise)
    # Mean optical density over the channels: how much darker than the skin around.
    darkness = _gaussian(od.mean(axis=2), params.smoothing_iod * iod_px)
    # OD gained per unit of melanin along the unit melanin direction, averaged over channels.
    od_per_melanin = float(np.mean(basis[:, 0]))
    # Two references of normal skin: a local one (the skin within reference_radius_iod)
    # finds lesions of any contrast up to about that size; a smooth surface over the
    # whole face finds patches of any size, at a stricter threshold because it also
    # sees the face's broad natural colour drift. A pixel is lesion if either finds it.
    lesions = np.zeros_like(clean)
    contrast = np.zeros_like(melanin)
    for reference, factor in ((local_reference, 1.0), (surface_reference, params.surface_threshold_factor)):
        if factor <= 0:
            continue
        melanin_contrast = (melanin - reference(melanin, clean, iod_px, params)).astype(np.float32)
        darkening = (darkness - reference(darkness, clean, iod_px, params)) / od_per_melanin
        found = lesion_mask(melanin_contrast, darkening, clean, iod_px, factor * threshold, params)
        lesions |= found
        contrast = np.maximum(contrast, melanin_contrast)

    lab = np.zeros(rgb.shape, dtype=np.float32)
    lab[clean] = colour.rgb_to_lab(rgb[clean])  # only skin pixels are ever read
    normal = clean & (np.abs(contrast) <= max(noise, 1e-6))
    if normal.sum() < 50:
        normal = clean
    reference_lab = lab[normal].mean(axis=0)
    reference = ReferenceSkin(
        od=np.zeros(3),
        lab=reference_lab,
        ita_deg=float(colour.ita_deg(reference_lab)),
        melanin_noise=noise,
    )
    masks, measures = {}, {}
    for key in REGION_KEYS:
        region = polygons[key] & ~non_skin
        masks[key] = region
        measures[key] = measure_region(region, int(polygons[key].sum()), lesions, contrast, lab, reference_lab, iod_px, params)
    return FaceAnalysis(masks, lesions, contrast, non_skin, reference, measures)
