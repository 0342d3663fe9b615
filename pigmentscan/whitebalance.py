"""White balance from the whites of the eyes, for photos without a colour chart.

A trial site's camera, flash and white balance differ from any other's. A per-channel camera gain
is an offset in optical density that the lesion stage's contrasts cancel, but the contrast a
physician sees (in JND on the face's own skin, docs/grading_scale.md), the reported skin colour
(ITA) and the hair and glare tests read absolute colour. The whites of the eyes are the one
near-neutral surface in every frontal photo, lit like the skin: :func:`white_balance` finds the
per-channel gains (in linear light) that give them the colour they have in well-balanced studio
photos, and says when a cast is too strong to be trusted to a correction (a webcam under warm
indoor light): the photo is then ruled out by quality control, not scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import colour
from .landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE
from .regions import FACE_OUTLINE, FEATURE_LANDMARKS, polygon_mask

__all__ = ["WhiteBalance", "white_balance", "apply_gains", "sclera_lab", "TYPICAL_SCLERA_LAB"]

#: CIELAB a*, b* of the whites of the eyes in well-balanced studio photos: the median of the London
#: set's tune faces (a* 1.3 to 5.8, b* 0.0 to 4.6 from the 10th to the 90th percentile).
TYPICAL_SCLERA_LAB = (3.2, 2.2)
#: FaceMesh eye landmarks: upper and lower lid mid-points, then the two corners.
_EYE_OPENING = {"right_eye": (159, 145, 33, 133), "left_eye": (386, 374, 263, 362)}
_IRIS = {"right_eye": RIGHT_IRIS_CENTRE, "left_eye": LEFT_IRIS_CENTRE}  # centre; the next 4 are its rim
#: Lid gap / eye width below which an eye counts as closed (open eyes measure about 0.3).
MIN_EYE_OPENING = 0.2
#: How much darker (L*) than the skin the "whites" may be before they are taken for
#: lids or lashes (the London sclerae: 5 darker to 38 lighter than the skin).
SCLERA_MAX_DARKER_L_STAR = 10.0
_MIN_SCLERA_PX = 30


def sclera_lab(rgb, points_px, *, skin_l_star: float | None = None) -> np.ndarray | None:
    """CIELAB colour of the whites of the eyes, or ``None`` when they cannot be seen.

    The eye openings (FaceMesh eye contours, shrunk by one pixel to leave the lids and
    lashes out) minus the iris (a disc 1.15 × its radius from the iris landmarks); of
    those pixels the brightest 30 % (the sclera, not lashes or shadow), and their
    median L*, a*, b*. ``None`` when both eyes are closed (lid gap under
    :data:`MIN_EYE_OPENING` of the eye's width), fewer than 30 pixels remain, or they
    are over :data:`SCLERA_MAX_DARKER_L_STAR` darker than the skin (``skin_l_star``):
    a squint, glasses or a small face, where the contour holds lids, not sclera.
    """
    points = np.asarray(points_px, dtype=np.float64)
    shape = rgb.shape[:2]
    pixels = []
    for eye, (upper, lower, corner_a, corner_b) in _EYE_OPENING.items():
        width = np.linalg.norm(points[corner_a] - points[corner_b])
        if width <= 0 or np.linalg.norm(points[upper] - points[lower]) / width < MIN_EYE_OPENING:
            continue
        contour = points[list(FEATURE_LANDMARKS[eye])]
        (x0, y0), (x1, y1) = _window(contour, shape, margin_px=2)
        opening = polygon_mask((y1 - y0, x1 - x0), contour - (x0, y0)).astype(np.uint8)
        opening = cv2.erode(opening, np.ones((3, 3), np.uint8)).astype(bool)
        centre = points[_IRIS[eye]]
        radius = np.linalg.norm(points[_IRIS[eye] + 1: _IRIS[eye] + 5] - centre, axis=1).mean()
        rows, cols = np.nonzero(opening)
        rows, cols = rows + y0, cols + x0
        outside_iris = (cols - centre[0]) ** 2 + (rows - centre[1]) ** 2 > (1.15 * radius) ** 2
        pixels.append(rgb[rows[outside_iris], cols[outside_iris]])
    pixels = np.concatenate(pixels) if pixels else np.zeros((0, 3), np.uint8)
    if len(pixels) < _MIN_SCLERA_PX:
        return None
    lab = colour.rgb_to_lab(pixels)
    sclera = np.median(lab[lab[:, 0] >= np.quantile(lab[:, 0], 0.7)], axis=0)
    if skin_l_star is not None and sclera[0] < skin_l_star - SCLERA_MAX_DARKER_L_STAR:
        return None
    return sclera


def _window(points, shape, *, margin_px: int):
    """Integer box ``(x0, y0), (x1, y1)`` round ``points`` plus a margin, inside an image of ``shape``."""
    x0, y0 = np.maximum(np.floor(points.min(axis=0)).astype(int) - margin_px, 0)
    x1, y1 = np.minimum(np.ceil(points.max(axis=0)).astype(int) + margin_px + 1, (shape[1], shape[0]))
    return (int(x0), int(y0)), (int(max(x1, x0 + 1)), int(max(y1, y0 + 1)))




@dataclass(frozen=True)
class WhiteBalance:
    """The white balance of one photo from its eye whites.

    ``gains`` (R, G, B, linear light, green 1) bring the whites to :data:`TYPICAL_SCLERA_LAB`;
    ``sclera_lab`` is their colour as photographed (``None`` when they cannot be seen: gains 1).
    Quality control decides how large a correction can be trusted
    (``QualityLimits.max_white_balance_ratio``).
    """

    gains: tuple
    sclera_lab: tuple | None

    @property
    def gain_ratio(self) -> float:
        return float(max(self.gains) / min(self.gains))

    def to_dict(self) -> dict:
        return {"qc_wb_gain_r": round(float(self.gains[0]), 4), "qc_wb_gain_b": round(float(self.gains[2]), 4),
                "qc_wb_from_sclera": self.sclera_lab is not None}


def white_balance(rgb, points_px) -> WhiteBalance:
    """Per-channel gains that give the whites of the eyes their usual colour.

    The target is the measured whites' own lightness with :data:`TYPICAL_SCLERA_LAB`'s a*, b*; the
    gains are the ratio of its linear RGB to the measured one, normalised to green 1. Whites
    darker than the face's skin (lids, lashes, tinted glasses; :func:`sclera_lab`) are not used.

    Examples
    --------
    >>> import pigmentscan
    >>> crop, landmarks = pigmentscan.pipeline.face_crop(pigmentscan.data.sample_images()[0])
    >>> balance = white_balance(crop, landmarks.points_px)
    >>> balance.sclera_lab is not None, balance.gain_ratio < 1.3  # a studio portrait: a small correction
    (True, True)
    """
    skin = polygon_mask(rgb.shape[:2], np.asarray(points_px)[list(FACE_OUTLINE)])[::4, ::4]
    skin_l_star = float(np.median(colour.rgb_to_lab(rgb[::4, ::4][skin])[:, 0])) if skin.any() else None
    sclera = sclera_lab(rgb, points_px, skin_l_star=skin_l_star)  # not lids, lashes or tinted glasses
    if sclera is None:
        return WhiteBalance((1.0, 1.0, 1.0), None)
    target = np.array([sclera[0], *TYPICAL_SCLERA_LAB])
    measured, wanted = (colour.lab_to_linear_rgb(lab) for lab in (sclera, target))
    gains = wanted / np.maximum(measured, 1e-6)
    gains = gains / gains[1]
    return WhiteBalance(tuple(float(g) for g in gains), tuple(float(v) for v in sclera))


def apply_gains(rgb, gains) -> np.ndarray:
    """An RGB uint8 photo with per-channel gains applied in linear light (clipped at white).

    Each channel's 256 code values are converted once, as a table (``cv2.LUT``).

    Examples
    --------
    >>> apply_gains(np.array([[[128, 128, 128]]], np.uint8), (1.2, 1.0, 0.8)).tolist()
    [[[139, 128, 115]]]
    """
    codes = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    linear = colour.srgb_to_linear(codes) * np.asarray(gains, np.float32)
    table = np.clip(np.rint(colour.linear_to_srgb(linear) * 255.0), 0, 255).astype(np.uint8)
    return cv2.LUT(np.ascontiguousarray(rgb, dtype=np.uint8), table.reshape(1, 256, 3))

