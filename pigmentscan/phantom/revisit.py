"""Simulated revisits: the same skin photographed again with acquisition drift."""

from __future__ import annotations

import io as _io

import cv2
import numpy as np

from .. import colour


def random_drift(rng) -> dict:
    """Acquisition drift between two visits, as keyword arguments of :func:`reacquire`.

    Exposure ±10 %, white-balance gain ±5 % per channel, rotation ±2°, scale ±5 %,
    JPEG quality 85-95 (uniform; the issue's ranges for a standardised set-up).
    """
    rng = np.random.default_rng(rng)
    return {"exposure": float(rng.uniform(-0.10, 0.10)),
            "white_balance": tuple(float(v) for v in rng.uniform(-0.05, 0.05, 3)),
            "rotation_deg": float(rng.uniform(-2.0, 2.0)), "scale": float(rng.uniform(0.95, 1.05)),
            "jpeg_quality": int(rng.integers(85, 96))}


def reacquire(rgb, *, seed: int, exposure: float = 0.0, white_balance=(0.0, 0.0, 0.0), rotation_deg: float = 0.0,
              scale: float = 1.0, jpeg_quality=None, mask=None, centre_xy=None):
    """Simulate another photo of the same skin: the geometry and the camera drift, not the skin.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 photo.
    seed : int
        Seed of the sensor noise (σ = 0.6 code values, before quantisation).
    exposure : float
        Relative exposure change in linear light (0.1 = 10 % brighter).
    white_balance : tuple of 3 floats
        Relative gain change of the R, G, B channels in linear light.
    rotation_deg, scale : float
        Rotation (counter-clockwise, degrees) and scale about the face centre.
    jpeg_quality : int, optional
        Re-encode as JPEG at this quality (4:2:0), as a camera would.
    mask : numpy.ndarray of bool, optional
        A mask on ``rgb`` (e.g. the true lesion) moved with the photo.
    centre_xy : tuple, optional
        Centre of rotation in pixels; the centre of the detected face when not given
        (the image centre if no face is found).

    Returns
    -------
    rgb : numpy.ndarray
    mask : numpy.ndarray of bool or None
    """
    rgb = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    height, width = rgb.shape[:2]
    if centre_xy is None:
        centre_xy = (width / 2.0, height / 2.0)
        if rotation_deg or scale != 1.0:
            from ..errors import NoFaceError
            from ..landmarks import detect_landmarks

            try:
                centre_xy = tuple(detect_landmarks(rgb).points_px.mean(axis=0))
            except NoFaceError:
                pass
    out = rgb
    if rotation_deg or scale != 1.0:
        matrix = cv2.getRotationMatrix2D((float(centre_xy[0]), float(centre_xy[1])), float(rotation_deg), float(scale))
        out = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if mask is not None:
            moved = cv2.warpAffine(np.asarray(mask, np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            mask = moved >= 0.5
    gain = (1.0 + float(exposure)) * (1.0 + np.asarray(white_balance, dtype=np.float32))
    linear = colour.srgb_to_linear(out) * gain.astype(np.float32)
    encoded = colour.linear_to_srgb(linear) * 255.0
    encoded += np.random.default_rng(seed).normal(0.0, 0.6, encoded.shape)
    out = np.clip(np.rint(encoded), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        from PIL import Image

        buffer = _io.BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(jpeg_quality))
        out = np.asarray(Image.open(_io.BytesIO(buffer.getvalue())).convert("RGB"))
    return out, (None if mask is None else np.asarray(mask, bool))
