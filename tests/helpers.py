"""Test helpers shared by several test modules (not fixtures)."""

from __future__ import annotations

import numpy as np

from pigmentscan import colour
from pigmentscan.lesions import LesionParams

MELANIN = np.asarray(LesionParams().melanin_od_direction, float)
MELANIN = MELANIN / np.linalg.norm(MELANIN)


def paint_melanin(rgb: np.ndarray, mask: np.ndarray, amount: float, *, soften_px: float = 2.0) -> np.ndarray:
    """Add melanin (optical density along the melanin direction) inside ``mask``, edges softened."""
    import cv2

    weight = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), soften_px) if soften_px > 0 else mask.astype(np.float32)
    od = colour.optical_density(colour.srgb_to_linear(rgb))
    return colour.od_to_srgb(od + amount * weight[..., None] * MELANIN)


def disc_mask(shape, centre_xy, radius_px) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - centre_xy[0]) ** 2 + (yy - centre_xy[1]) ** 2 <= radius_px**2
