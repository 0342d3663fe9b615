"""Pigment maps and the face's normal-skin reference: what every lesion contrast is measured against."""

from __future__ import annotations

import cv2
import numpy as np

from .. import colour
from ._ops import _disk, _gaussian
from .types import LesionParams

__all__ = ["pigment_maps", "typical_od", "non_skin_parts", "non_skin_mask", "brighter_than", "surface_reference", "skin_reference", "skin_references", "melanin_noise"]


def pigment_maps(rgb, skin, iod_px: float, params: LesionParams):
    """Melanin, haemoglobin and shading amounts of each pixel, relative to the face's median skin.

    Returns
    -------
    amounts : numpy.ndarray, shape (H, W, 3), float32
        Melanin, haemoglobin, shading, each smoothed at ``smoothing_iod``.
    melanin_measured : numpy.ndarray, shape (H, W), float32
        Melanin smoothed at ``contrast_smoothing_iod``: what a lesion's colour is measured on.
    od : numpy.ndarray, shape (H, W, 3), float32
        Optical density of each pixel.
    basis : numpy.ndarray, shape (3, 3)
    """
    od = colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
    basis = colour.pigment_basis(params.melanin_od_direction, params.haemoglobin_od_direction)
    median_od = typical_od(od, skin)
    amounts = colour.pigment_decomposition(od - median_od.astype(np.float32), basis).astype(np.float32)
    melanin = amounts[..., 0]
    amounts = _gaussian(amounts, params.smoothing_iod * iod_px)
    if params.contrast_smoothing_iod == params.smoothing_iod:
        return amounts, amounts[..., 0], od, basis
    return amounts, _gaussian(np.ascontiguousarray(melanin), params.contrast_smoothing_iod * iod_px), od, basis


def typical_od(od, skin) -> np.ndarray:
    """The skin's median optical density per channel, taken after a 1-px Gaussian smoothing.

    The working copy is 8-bit: the plain median sits on a whole code value and jumps to the
    next one (0.02-0.03 OD on brown skin) when sensor noise moves a few pixels across it, and
    every pigment amount, measured from this median, jumps with it (phantom face 129, noise
    only: weighted lesion area 25-33 %). Smoothed values are not quantised, so the median moves
    smoothly. The whole image when ``skin`` is empty.
    """
    smooth = _gaussian(np.ascontiguousarray(od, dtype=np.float32), 1.0)
    return np.median(smooth[skin], axis=0) if skin.any() else np.median(smooth.reshape(-1, 3), axis=0)


def non_skin_parts(rgb, shading, skin, iod_px: float, params: LesionParams) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the face that are not measurable skin, and which of them are highlights.

    Hair, beard and deep shadow are far darker in every channel than the face's skin
    (a large shading term); where such pixels are dense the whole neighbourhood is
    hair (a beard, a fringe). Highlights are much brighter than the skin, or clipped:
    skin whose colour the light reflected from its surface hides. Both are widened by
    0.02 IOD.

    Returns
    -------
    non_skin, highlight : numpy.ndarray of bool
        ``highlight`` is the part of ``non_skin`` that is neither hair nor shadow.
    """
    dark = (shading > params.hair_shading) & skin
    window = max(3, int(round(0.08 * iod_px)) | 1)
    density = cv2.boxFilter(dark.astype(np.float32), -1, (window, window), borderType=cv2.BORDER_REFLECT)
    hairy = density > params.hair_density
    covered = cv2.dilate(((dark | hairy) & skin).astype(np.uint8), _disk(0.02 * iod_px)).astype(bool) & skin
    highlight = brighter_than(rgb, shading, skin, iod_px, params.highlight_shading) & ~covered
    return covered | highlight, highlight


def brighter_than(rgb, shading, skin, iod_px: float, limit: float) -> np.ndarray:
    """Skin brighter than ``limit`` (shading relative to the face's median skin) or clipped, widened by 0.02 IOD.

    The highlights of :func:`non_skin_parts` at ``highlight_shading``; at
    ``rule_highlight_shading`` also the sheen the rule-based candidates set aside.
    """
    bright = (shading < limit) | (rgb.max(axis=2) >= 250)
    return cv2.dilate((bright & skin).astype(np.uint8), _disk(0.02 * iod_px)).astype(bool) & skin


def non_skin_mask(rgb, shading, skin, iod_px: float, params: LesionParams) -> np.ndarray:
    """Pixels of the face that are not measurable skin: hair, beard, deep shadow, highlights (:func:`non_skin_parts`)."""
    return non_skin_parts(rgb, shading, skin, iod_px, params)[0]


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
    # Evaluate the polynomial separably: sum of c_ij x^i y^j = Y @ C @ X.T (powers of y and x).
    degree = params.reference_degree
    y = (np.arange(values.shape[0]) * factor - centre[0]) / scale
    x = (np.arange(values.shape[1]) * factor - centre[1]) / scale
    matrix = np.zeros((degree + 1, degree + 1))
    terms = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]
    for (i, j), c in zip(terms, coef):
        matrix[j, i] = c
    powers_y, powers_x = np.vander(y, degree + 1, increasing=True), np.vander(x, degree + 1, increasing=True)
    return (powers_y @ matrix @ powers_x.T).astype(np.float32)


def skin_reference(maps, keep, iod_px: float, scale_iod: float, fill_iod: float):
    """Normal-skin level of each map around every pixel, from the ``keep`` skin only.

    A Gaussian mean (σ = ``scale_iod``) of the kept skin, on a copy at an IOD of 40 px;
    deep inside a large area that is not kept, where no kept skin is near, the mean at the
    wider ``fill_iod`` takes over, so the inside of a large
    patch gets the level of the skin around it.
    """
    return skin_references(maps, keep, iod_px, (scale_iod,), fill_iod)[0]


def skin_references(maps, keep, iod_px: float, scales_iod, fill_iod: float):
    """:func:`skin_reference` at several scales at once: a list (one per scale) of lists (one per map)."""
    factor = min(1.0, 40.0 / iod_px)
    size = (max(1, int(round(keep.shape[1] * factor))), max(1, int(round(keep.shape[0] * factor))))
    weights = cv2.resize(keep.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    # All maps at once, as the channels of one image.
    stacked = np.where(keep[..., None], np.stack(maps, axis=-1), 0).astype(np.float32)
    small = cv2.resize(stacked, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], len(maps))
    weighted = small / np.maximum(weights[..., None], 1e-6) * weights[..., None]
    # A weighted Gaussian mean at each scale; where no kept skin is near, the wider fill_iod
    # mean (computed once for all scales, at 0.02 of the weight) takes over.
    blurred = {}

    def blur(sigma_iod):
        if sigma_iod not in blurred:
            sigma_px = sigma_iod * iod_px * factor
            values = _gaussian(weighted, sigma_px).reshape(size[1], size[0], len(maps))
            blurred[sigma_iod] = (values, _gaussian(weights, sigma_px)[..., None])
        return blurred[sigma_iod]

    far_values, far_weights = blur(fill_iod)
    levels = []
    for scale in scales_iod:
        near_values, near_weights = blur(scale)
        levels.append((near_values + 0.02 * far_values) / (near_weights + 0.02 * far_weights + 1e-9))
    level = cv2.resize(np.concatenate(levels, axis=-1), keep.shape[::-1], interpolation=cv2.INTER_LINEAR)
    level = level.reshape(keep.shape + (len(maps) * len(levels),))
    return [[level[..., i * len(maps) + k] for k in range(len(maps))] for i in range(len(levels))]


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
