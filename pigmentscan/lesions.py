"""Lesion analysis: normal-skin reference, pigment contrast, lesion masks and per-region measures.

Works on a face crop resampled to a fixed inter-ocular distance (``iod_px``), so every
size here is a fraction of the IOD and results do not depend on camera resolution.

The pigment contrast of a pixel is its melanin amount (Tsumura OD decomposition,
:mod:`pigmentscan.colour`) minus that of the same face's normal skin around it. Lesions
only ever ADD melanin, and melasma patches range from specks to a whole region, so the
normal skin is found in two passes (:func:`find_lesions`):

1. candidates against two references that miss different things: the mean skin around
   each pixel (:func:`skin_reference`; follows the face's natural colour drift, but a
   patch as large as its scale raises it) and a smooth surface through the lower part of
   the whole face's skin (:func:`surface_reference`; sees patches of any size, but also
   the natural drift, so at a stricter threshold);
2. the candidates (holes filled, grown by a margin) are taken out, and the reference of the
   final pass is the skin AROUND them: the inside of a large patch is compared with the
   clean skin at its border, not with itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from . import colour
from .regions import REGION_KEYS, face_mask, feature_mask, region_masks

__all__ = [
    "LesionParams", "ReferenceSkin", "RegionMeasures", "FaceAnalysis", "pigment_maps", "non_skin_mask",
    "skin_reference", "surface_reference", "find_lesions", "melanin_noise", "lesion_mask", "patch_diameter_iod",
    "measure_region", "analyse_face",
]


@dataclass(frozen=True)
class LesionParams:
    """Parameters of lesion detection; they live in the calibration file (``lesion`` section).

    Sizes are fractions of the inter-ocular distance; contrasts are melanin amounts
    in optical-density units along the unit melanin direction. Parameters a model file
    does not name take these defaults.
    """

    melanin_od_direction: tuple = (0.319, 0.459, 0.829)
    haemoglobin_od_direction: tuple = (0.20, 0.85, 0.50)
    smoothing_iod: float = 0.025
    shading_scale_iod: float = 0.15  # unused (shading cross-talk step removed); kept so older model files load
    noise_k: float = 4.0
    min_contrast: float = 0.3
    hysteresis_ratio: float = 0.6
    min_lesion_diameter_iod: float = 0.035
    hole_diameter_iod: float = 0.03
    homogeneity_closing_iod: float = 0.03
    reference_radius_iod: float = 0.3
    reference_quantile: float = 0.5  # unused (quantile reference replaced); kept so older model files load
    reference_degree: int = 3
    surface_threshold_factor: float = 2.0
    surface_start_quantile: float = 0.5
    peel_margin_iod: float = 0.04
    reference_scale_iod: float = 0.08
    reference_fill_iod: float = 0.3
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


def _label(mask):
    """4-connected components (as :func:`scipy.ndimage.label`), with OpenCV's faster labelling."""
    count, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=4)
    return labels, count - 1


def _fill_holes(mask) -> np.ndarray:
    """``mask`` with every hole filled (as :func:`scipy.ndimage.binary_fill_holes`), by a flood
    fill of the background from the border."""
    padded = np.pad(np.asarray(mask, dtype=np.uint8), 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1, flags=4)
    return (padded | (flood == 0))[1:-1, 1:-1].astype(bool)


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
        n_lesions=_label(lesion)[1],
        skin_px=skin_px,
        coverage=float(coverage),
    )


def surface_reference(values, valid, iod_px: float, params: LesionParams) -> np.ndarray:
    """Normal-skin level as a smooth surface over the face: a low-order polynomial fit.

    A polynomial of degree ``reference_degree`` in the pixel coordinates (in IOD units)
    is fitted to the ``valid`` skin by iteratively reweighted least squares that starts
    from the lowest ``surface_start_quantile`` of the values (lesions may cover much of a
    face) and down-weights values far ABOVE the surface (lesions add melanin; the spread
    is taken from the skin below it), so it follows the slow drift of skin colour across
    the face but, having few degrees of freedom, not a lesion patch of any size.
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
    # Start from the lower part of the skin (lesions may cover most of the face).
    weights = (b <= np.quantile(b, params.surface_start_quantile)).astype(np.float64)
    for _ in range(6):
        coef = np.linalg.lstsq(a * weights[:, None], b * weights, rcond=None)[0]
        residual = b - a @ coef
        below = np.abs(residual[residual <= 0])
        spread = 1.4826 * (np.median(below) if below.size > 10 else np.median(np.abs(residual))) + 1e-6
        # Tukey biweight above the surface only (spread from the skin below it); values below keep full weight.
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


def _normalized_blur(values, weights, sigma_px, fill_sigma_px):
    """Weighted Gaussian mean of ``values``; where no weight is near, the wider ``fill_sigma_px`` mean."""
    weighted = values * weights
    near = (_gaussian(weighted, sigma_px), _gaussian(weights, sigma_px))
    far = (_gaussian(weighted, fill_sigma_px), _gaussian(weights, fill_sigma_px))
    return (near[0] + 0.02 * far[0]) / (near[1] + 0.02 * far[1] + 1e-9)


def skin_reference(maps, keep, iod_px: float, scale_iod: float, fill_iod: float):
    """Normal-skin level of each map around every pixel, from the ``keep`` skin only.

    A Gaussian mean (σ = ``scale_iod``) of the kept skin, on a copy at an IOD of 40 px;
    deep inside a large area that is not kept, where no kept skin is near, the mean at the
    wider ``fill_iod`` takes over (:func:`_normalized_blur`), so the inside of a large
    patch gets the level of the skin around it.
    """
    factor = min(1.0, 40.0 / iod_px)
    size = (max(1, int(round(keep.shape[1] * factor))), max(1, int(round(keep.shape[0] * factor))))
    weights = cv2.resize(keep.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    out = []
    for values in maps:
        small = cv2.resize(np.where(keep, values, 0).astype(np.float32), size, interpolation=cv2.INTER_AREA)
        level = _normalized_blur(small / np.maximum(weights, 1e-6), weights, scale_iod * iod_px * factor,
                                 fill_iod * iod_px * factor)
        out.append(cv2.resize(level, keep.shape[::-1], interpolation=cv2.INTER_LINEAR))
    return out


def melanin_noise(melanin, skin, iod_px: float) -> float:
    """Fine-scale noise of the melanin map over the quiet part of the skin.

    The high-pass of the map (minus its Gaussian mean at 0.05 IOD) is averaged in
    absolute value over windows of 0.2 IOD; the 25th percentile of that local level over
    the skin is the noise of quiet skin: lesion edges and mottling, which raise the level
    wherever pigment is, do not count. sqrt(pi/2) turns a mean absolute deviation into
    a normal standard deviation.
    """
    if skin.sum() < 50:
        return 0.0
    detail = np.abs(melanin - _gaussian(melanin, 0.05 * iod_px)) * skin
    window = max(3, int(round(0.2 * iod_px)) | 1)
    total = cv2.boxFilter(detail.astype(np.float32), -1, (window, window), normalize=False, borderType=cv2.BORDER_REFLECT)
    count = cv2.boxFilter(skin.astype(np.float32), -1, (window, window), normalize=False, borderType=cv2.BORDER_REFLECT)
    local = total[skin] / np.maximum(count[skin], 1.0)
    return float(np.sqrt(np.pi / 2) * np.quantile(local, 0.25))


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
    zone = cv2.dilate(_fill_holes(candidates).astype(np.uint8),
                      _disk(2 * params.peel_margin_iod * iod_px)).astype(bool)
    melanin_ref, darkness_ref = skin_reference((melanin, darkness), clean & ~zone, iod_px, params.reference_scale_iod,
                                               params.reference_fill_iod)
    contrast = (melanin - melanin_ref).astype(np.float32)
    darkening = (darkness - darkness_ref) / od_per_melanin
    # The final pass decides the extent of the candidates; it adds no new ones.
    return lesion_mask(contrast, darkening, clean, iod_px, threshold, params) & zone, contrast


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
    noise = melanin_noise(melanin, clean, iod_px)
    threshold = max(params.min_contrast, params.noise_k * noise)
    # Mean optical density over the channels: how much darker than the skin around.
    darkness = _gaussian(od.mean(axis=2), params.smoothing_iod * iod_px)
    # OD gained per unit of melanin along the unit melanin direction, averaged over channels.
    od_per_melanin = float(np.mean(basis[:, 0]))
    lesions, contrast = find_lesions(melanin, darkness, clean, iod_px, threshold, od_per_melanin, params)
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
