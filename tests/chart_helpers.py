"""Synthetic ColorChecker charts in real photos, for the chart tests and benchmarks/chart_screen.py.

The patch colours come from colour-science (X-Rite's published values), not from pigmentscan.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest


def reference_srgb() -> np.ndarray:
    """The 24 patches as sRGB uint8 (gamut-clipped), from colour-science, not from pigmentscan."""
    colour_science = pytest.importorskip("colour")
    checker = colour_science.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyz = colour_science.xyY_to_XYZ(np.array(list(checker.data.values())))
    rgb = colour_science.XYZ_to_sRGB(xyz, checker.illuminant, chromatic_adaptation_transform="Bradford")
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def draw_chart(patch_px: int = 44, gap_px: int = 9) -> np.ndarray:
    """A ColorChecker Classic: 4 x 6 patches on a black card with black borders."""
    patches = reference_srgb()
    card = np.full((4 * patch_px + 5 * gap_px, 6 * patch_px + 7 * gap_px, 3), 18, np.uint8)
    for i, value in enumerate(patches):
        row, col = divmod(i, 6)
        y, x = gap_px + row * (patch_px + gap_px), gap_px + col * (patch_px + gap_px)
        card[y:y + patch_px, x:x + patch_px] = value
    return card


def with_chart(rgb, card, corner_xy=(40, 950)) -> np.ndarray:
    out = rgb.copy()
    x, y = corner_xy
    out[y:y + card.shape[0], x:x + card.shape[1]] = card
    return out


def in_linear_light(rgb, change) -> np.ndarray:
    """Change an sRGB uint8 image in linear light (colour-science's sRGB transfer functions)."""
    colour_science = pytest.importorskip("colour")
    linear = change(colour_science.cctf_decoding(rgb / 255.0, function="sRGB"))
    return np.round(colour_science.cctf_encoding(np.clip(linear, 0, 1), function="sRGB") * 255).astype(np.uint8)


def shifted(rgb, matrix) -> np.ndarray:
    """Apply a linear-sRGB matrix to every pixel."""
    return in_linear_light(rgb, lambda linear: linear @ np.asarray(matrix).T)


def chart_photo(rgb, *, patch_px: float, gap_ratio: float = 0.2, angle_deg: float = 0.0, tilt: float = 0.0,
                centre_xy=(0.2, 0.75), matrix=None, shading: float = 0.0, blur_px: float = 0.0, noise: float = 0.0,
                jpeg_quality: int | None = None, seed: int = 0) -> np.ndarray:
    """A photo with a chart as a camera would see it.

    The chart (patches ``patch_px`` photo pixels wide, gaps ``gap_ratio`` of that) is
    turned by ``angle_deg``, foreshortened by ``tilt`` (0: square on; 0.3: its far side
    30 % shorter), centred at ``centre_xy`` (fractions of the width and height); then the
    whole photo gets a colour shift ``matrix`` (linear sRGB), uneven light (falling
    linearly across the width to ``1 - shading`` of the light), a Gaussian blur of
    ``blur_px``, Gaussian noise of ``noise`` code values and a JPEG round trip.
    """
    fine = draw_chart(patch_px=round(4 * patch_px), gap_px=max(1, round(4 * gap_ratio * patch_px)))
    card = cv2.resize(fine, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)  # anti-aliased edges
    h, w = card.shape[:2]
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    corners = source - (w / 2, h / 2)
    corners[2:, 0] *= 1 - tilt  # the bottom edge shorter: the chart leans back
    theta = np.radians(angle_deg)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    target = corners @ rotation.T + (centre_xy[0] * rgb.shape[1], centre_xy[1] * rgb.shape[0])
    homography = cv2.getPerspectiveTransform(source.astype(np.float32), target.astype(np.float32))
    size = (rgb.shape[1], rgb.shape[0])
    warped = cv2.warpPerspective(card, homography, size, flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), homography, size, flags=cv2.INTER_LINEAR)
    alpha = (inside.astype(np.float32) / 255.0)[..., None]
    out = np.round(rgb * (1 - alpha) + warped * alpha).astype(np.uint8)
    if matrix is not None:
        out = shifted(out, matrix)
    if shading > 0:
        light = np.linspace(1.0, 1.0 - shading, out.shape[1])[None, :, None]
        out = in_linear_light(out, lambda linear: linear * light)
    if blur_px > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_px)
    if noise > 0:
        rng = np.random.default_rng(seed)
        out = np.clip(out + rng.normal(0, noise, out.shape), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        out = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return out
