"""The face's skin as pigment maps: melanin, haemoglobin and shading, and which pixels can be measured."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import colour
from ..regions import face_mask, feature_mask, region_masks
from ._ops import _disk, _gaussian
from .types import LesionParams

__all__ = ["SkinMaps", "skin_maps", "typical_od", "non_skin_parts", "masked_smooth"]


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
    return np.median(smooth[skin], axis=0) if skin.any() else np.median(smooth.reshape(-1, 3), axis=0)


def non_skin_parts(rgb, shading, skin, iod_px: float, params: LesionParams) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the face that are not measurable skin, and which of them are glare.

    Hair, beard and deep shadow are far darker in every channel than the face's skin (a large
    shading term); where such pixels are dense the whole neighbourhood is hair (a beard, a
    fringe). Glare is much brighter than the skin, or clipped. Both are widened by 0.02 IOD.

    Returns
    -------
    non_skin, glare : numpy.ndarray of bool
    """
    dark = (shading > params.hair_shading) & skin
    window = max(3, int(round(0.08 * iod_px)) | 1)
    density = cv2.boxFilter(dark.astype(np.float32), -1, (window, window), borderType=cv2.BORDER_REFLECT)
    hairy = density > params.hair_density
    grow = _disk(0.02 * iod_px)
    covered = cv2.dilate(((dark | hairy) & skin).astype(np.uint8), grow).astype(bool) & skin
    bright = (shading < params.highlight_shading) | (rgb.max(axis=2) >= 250)
    glare = cv2.dilate((bright & skin).astype(np.uint8), grow).astype(bool) & skin & ~covered
    return covered | glare, glare


def masked_smooth(values, weights, sigma_px: float) -> np.ndarray:
    """Gaussian mean of ``values`` over the pixels where ``weights`` is set (normalised convolution).

    Hair and glare next to the skin do not bleed into it, as they would in a plain blur.
    """
    weights = np.asarray(weights, np.float32)
    num = _gaussian(np.asarray(values, np.float32) * weights, sigma_px)
    den = _gaussian(weights, sigma_px)
    return num / np.maximum(den, 1e-6)


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
    od = colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
    basis = colour.pigment_basis(params.melanin_od_direction, params.haemoglobin_od_direction)
    amounts = colour.pigment_decomposition(od - typical_od(od, skin).astype(np.float32), basis).astype(np.float32)
    non_skin, _ = non_skin_parts(rgb, amounts[..., 2], skin, iod_px, params)
    return SkinMaps(od, amounts[..., 0], amounts[..., 1], amounts[..., 2], basis, skin, skin & ~non_skin, non_skin,
                    polygons)
