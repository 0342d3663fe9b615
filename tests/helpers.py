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


def highlight_rolloff(rgb: np.ndarray, gain: float, knee: float = 1.0) -> np.ndarray:
    """A photo re-exposed ``gain`` times brighter (linear light) through a camera's highlight shoulder.

    Above ``knee`` (linear) the values roll off smoothly towards white (``knee + (1 - knee) ·
    tanh((x - knee) / (1 - knee))``), as a camera's tone curve compresses highlights instead of
    clipping them; ``knee=1`` only clips. Each channel is compressed by its own level, so bright
    skin loses chroma that darker skin keeps.
    """
    from chart_helpers import in_linear_light

    def rolled_off(linear):
        linear = linear * gain
        if knee >= 1.0:
            return linear
        over = (linear - knee) / (1.0 - knee)
        return np.where(linear > knee, knee + (1.0 - knee) * np.tanh(np.maximum(over, 0.0)), linear)

    return in_linear_light(rgb, rolled_off)


def saturated(rgb: np.ndarray, factor: float) -> np.ndarray:
    """A photo with its colours ``factor`` times as saturated about their luminance (linear sRGB), as a
    camera's more vivid colour rendering makes them: a 3x3 matrix that a colour chart undoes."""
    from chart_helpers import shifted

    luminance = colour.SRGB_TO_XYZ[1]  # Y of each sRGB primary (IEC 61966-2-1)
    return shifted(rgb, (1.0 - factor) * np.outer(np.ones(3), luminance) + factor * np.eye(3))


def disc_mask(shape, centre_xy, radius_px) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - centre_xy[0]) ** 2 + (yy - centre_xy[1]) ** 2 <= radius_px**2


def mask_in_analysis_crop(mask: np.ndarray, score) -> np.ndarray:
    """A mask on the scored photo, resampled onto the score's analysis crop (the pipeline's own crop)."""
    from pigmentscan.pipeline import crop_to_analysis

    crop, *_ = crop_to_analysis(mask.astype(np.float32), score.landmarks, score.crop_scale * score.landmarks.iod_px)
    return crop >= 0.5


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two boolean masks (1 when both are empty)."""
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * (a & b).sum() / total)


def read_rgb(path) -> np.ndarray:
    """A photo as RGB uint8, read with OpenCV (independently of pigmentscan's loader)."""
    import cv2

    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def png_chunk_types(data: bytes) -> list[bytes]:
    """Chunk types of a PNG file, in order (PNG spec §5.3)."""
    import struct

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds
