"""The face's skin as pigment maps: melanin, haemoglobin and shading, and which pixels can be measured."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import colour
from ..regions import FEATURE_LANDMARKS, face_mask, feature_mask, region_masks
from ._ops import _channel_medians, _disk, _gaussian, _label
from .excess import melanin_for_jnd
from .types import LesionParams

#: Largest patch of skin, IOD², taken as part of the hair that closes it in (parameter: a lit
#: tuft of a fringe; a lesion surrounded by hair is not measured either way).
HAIR_ISLAND_IOD2 = 0.02
#: Brightest channel (sRGB code value) from which skin is not read (parameter; its effect:
#: ``benchmarks/camera_rendering.py``): a camera's tone curve rolls highlights off below white,
#: each channel by its own level, so bright skin loses chroma that the darker skin around it
#: keeps, and that skin would read as melanin against it.
HIGHLIGHT_LEVEL = 235

__all__ = ["SkinMaps", "skin_maps", "typical_od", "non_skin_parts", "masked_smooth", "masked_smooths"]


@dataclass(frozen=True, eq=False)
class SkinMaps:
    """The pigment maps of one face crop and its measurable skin.

    ``melanin``, ``haemoglobin`` and ``shading`` are the unsmoothed amounts (OD along each unit
    direction) relative to the face's median skin; ``od`` the optical density of each pixel;
    ``skin`` the face (outline and regions, features removed); ``measurable`` the skin that is
    not hair, beard, deep shadow or glare; ``non_skin`` the rest of ``skin``; ``regions`` each
    MASI region's polygon (features removed).
    """

    od: np.ndarray
    melanin: np.ndarray
    haemoglobin: np.ndarray
    shading: np.ndarray
    basis: np.ndarray
    skin: np.ndarray
    measurable: np.ndarray
    non_skin: np.ndarray
    regions: dict


def typical_od(od, skin) -> np.ndarray:
    """The skin's median optical density per channel, taken after a 1-px Gaussian smoothing.

    An 8-bit median sits on a whole code value and jumps to the next when sensor noise moves a
    few pixels across it; smoothed values are not quantised, so the median moves smoothly.
    The whole image when ``skin`` is empty.
    """
    smooth = _gaussian(np.ascontiguousarray(od, dtype=np.float32), 1.0)
    return _channel_medians(smooth, skin) if skin.any() else np.median(smooth.reshape(-1, 3), axis=0)


def texture_ratio(rgb, skin, iod_px: float) -> np.ndarray:
    """Fine detail of each pixel's neighbourhood against the face's skin: hair strands are busy, skin is smooth.

    The squared gradient of log luminance (after a 0.005-IOD blur that quiets sensor noise),
    averaged over 0.03 IOD, divided by its median over ``skin``.
    """
    luminance = np.log(rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) + 1.0)
    luminance = _gaussian(luminance, 0.005 * iod_px)
    gx, gy = cv2.Sobel(luminance, cv2.CV_32F, 1, 0), cv2.Sobel(luminance, cv2.CV_32F, 0, 1)
    energy = _gaussian(gx * gx + gy * gy, 0.03 * iod_px)
    return energy / max(float(np.median(energy[skin])) if skin.any() else 1.0, 1e-9)


def non_skin_parts(rgb, amounts, skin, iod_px: float, params: LesionParams, *, brow_row: float | None = None,
                   tip_melanin: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the face that are not measurable skin, and which of them are glare.

    Hair, beard and deep shadow are far darker in every channel than the face's skin (a large
    shading term). Lighter hair (a blond or brown fringe) is browner than any skin of the face
    and busy with strands where a lesion is smooth: much melanin (``hair_melanin``) with fine
    detail (``hair_texture``), looked for above the brows only (a fringe; below them a small dark
    lesion's edge is as busy). Where such pixels are dense the whole neighbourhood is hair (a
    beard, a fringe), and so is the skin above the brows (``brow_row``, a pixel row) joined to it
    with more melanin than ``tip_melanin`` (OD): a fringe's smooth tips (a forehead lesion that
    runs into the hairline darker than that is lost with it). Glare is much brighter than the skin, or has a channel in the camera's highlight
    roll-off (:data:`HIGHLIGHT_LEVEL` or more). Both are widened by 0.02 IOD.

    Parameters
    ----------
    amounts : numpy.ndarray, (H, W, 3)
        Melanin, haemoglobin and shading relative to the face's median skin.

    Returns
    -------
    non_skin, glare : numpy.ndarray of bool
    """
    shading, melanin = amounts[..., 2], amounts[..., 0]
    above_brows = skin.copy()  # a fringe's place; below the brows, brown and busy is a dark lesion's edge
    if brow_row is not None:
        above_brows[int(max(0, brow_row)):] = False
    light_hair = (melanin > params.hair_melanin) & above_brows & (texture_ratio(rgb, skin, iod_px) > params.hair_texture)
    dark = ((shading > params.hair_shading) | light_hair) & skin
    window = max(3, int(round(0.08 * iod_px)) | 1)
    density = cv2.boxFilter(dark.astype(np.float32), -1, (window, window), borderType=cv2.BORDER_REFLECT)
    hairy = (density > params.hair_density) & skin
    # A fringe is hair down to its smooth tips: the brown skin joined to hair found above is hair too.
    labels, count = _label((melanin > tip_melanin) & above_brows)
    joined = np.zeros(count + 1, bool)
    joined[np.unique(labels[hairy & (labels > 0)])] = True
    joined[0] = False
    grow = _disk(0.02 * iod_px)
    covered = cv2.dilate(((dark | hairy | joined[labels]) & skin).astype(np.uint8), grow).astype(bool) & skin
    # Specks of "skin" closed in by hair are lit strands of it.
    islands, count = _label(skin & ~covered)
    small = np.bincount(islands.ravel(), minlength=count + 1) < HAIR_ISLAND_IOD2 * iod_px**2
    small[0] = False
    enclosed = small[islands] & ~cv2.dilate((~skin).astype(np.uint8), grow).astype(bool)
    covered |= enclosed
    bright = (shading < params.highlight_shading) | (colour.channel_max(rgb) >= HIGHLIGHT_LEVEL)
    glare = cv2.dilate((bright & skin).astype(np.uint8), grow).astype(bool) & skin & ~covered
    return covered | glare, glare


def _optical_density_uint8(rgb) -> np.ndarray:
    """Optical density (float32) of an RGB photo; uint8 through a 256-entry table (the same values)."""
    if np.asarray(rgb).dtype != np.uint8:
        return colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
    table = colour.optical_density(colour.srgb_to_linear(np.arange(256, dtype=np.uint8))).astype(np.float32)
    return table[rgb]


def masked_smooth(values, weights, sigma_px: float) -> np.ndarray:
    """Gaussian mean of ``values`` over the pixels where ``weights`` is set (normalised convolution).

    Hair and glare next to the skin do not bleed into it, as they would in a plain blur.
    """
    return masked_smooths([values], weights, sigma_px)[0]


def masked_smooths(maps, weights, sigma_px: float) -> list:
    """:func:`masked_smooth` of each of several maps over the same ``weights`` (blurred once for all)."""
    weights = np.asarray(weights, np.float32)
    den = np.maximum(_gaussian(weights, sigma_px), 1e-6)
    return [_gaussian(np.asarray(values, np.float32) * weights, sigma_px) / den for values in maps]


def skin_maps(rgb, points_px, iod_px: float, params: LesionParams) -> SkinMaps:
    """Pigment amounts and measurable skin of one face crop (no resampling).

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 face crop, shape (H, W, 3), with the pupils ``iod_px`` apart.
    points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks in the crop's pixels.
    iod_px : float
    params : LesionParams

    Returns
    -------
    SkinMaps
    """
    shape = rgb.shape[:2]
    features = feature_mask(shape, points_px, iod_px)
    polygons = region_masks(shape, points_px, iod_px, features=features)
    skin = face_mask(shape, points_px, iod_px, features=features) | np.logical_or.reduce(list(polygons.values()))
    od = _optical_density_uint8(rgb)
    basis = colour.pigment_basis(params.melanin_od_direction, params.haemoglobin_od_direction)
    typical = typical_od(od, skin)
    # od - typical in float32, by OpenCV (numpy's broadcast of a 3-vector over the pixels is slow)
    delta = cv2.subtract(od, tuple(float(v) for v in typical.astype(np.float32)) + (0.0,))
    amounts = colour.pigment_decomposition(delta, basis).astype(np.float32, copy=False)
    brow_row = float(np.mean(np.asarray(points_px)[list(FEATURE_LANDMARKS["right_brow"] + FEATURE_LANDMARKS["left_brow"]), 1]))
    skin_linear = np.exp(-typical)  # the face's median skin colour, linear RGB
    tip_melanin = melanin_for_jnd(params.hair_tip_contrast_jnd, skin_linear, params.melanin_od_direction)
    non_skin, _ = non_skin_parts(rgb, amounts, skin, iod_px, params, brow_row=brow_row, tip_melanin=tip_melanin)
    return SkinMaps(od, amounts[..., 0], amounts[..., 1], amounts[..., 2], basis, skin, skin & ~non_skin, non_skin,
                    polygons)
