"""Colour chart: find an X-Rite ColorChecker Classic (24 patches) in a photo and correct
the photo's colours to the chart's published reference before analysis.

Pure functions over RGB uint8 arrays (H, W, 3), as in :mod:`pigmentscan.colour`::

    rgb --detect_chart--> ChartDetection --fit_chart_correction--> ChartCorrection
        --correct_colours--> rgb corrected              (chart_correction does all three)

Detection uses OpenCV's ``mcc`` module (``opencv-contrib-python``, the one OpenCV the
project ships: no second OpenCV, no network model), after a cheap screen
(:mod:`pigmentscan.chart_screen`: a grid of flat, square patches on a thumbnail) has
found that the photo could show a chart; most photos show none, and are spared the
search. The patch colours are then sampled
by this module on the inner half of each patch, as medians in linear light, and both
patch orders the 4x6 grid allows (upright, or turned by 180 degrees) are tried.

The correction is a 3x3 matrix in linear sRGB, fitted by least squares from the
measured patches to the reference patches: it undoes exposure, white balance and the
camera's channel mixing. The residual is the mean CIE 1976 colour difference between
the corrected and the reference patches, in CIELAB (D50, the reference's white).

References
----------
.. [1] X-Rite (2016). New color specifications for ColorChecker SG and Classic Charts
       (L*a*b* D50, 2 degree, charts made after November 2014). The same values are
       tabulated in colour-science as ``CCS_COLOURCHECKERS["ColorChecker24 - After
       November 2014"]``; the test suite checks this module against it.
.. [2] ICC.1:2010 (Profile version 4.3.0.0), PCS illuminant D50 XYZ (0.9642, 1.0,
       0.8249) and the linearised Bradford chromatic adaptation (Annex E).
.. [3] Lam KM (1985). Metamerism and colour constancy. PhD thesis, University of
       Bradford (the Bradford cone-response matrix).
.. [4] IEC 61966-2-1:1999 (sRGB), via :mod:`pigmentscan.colour`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from . import colour
from .chart_screen import may_show_chart

__all__ = [
    "PATCH_NAMES",
    "REFERENCE_LAB_D50",
    "reference_linear_rgb",
    "linear_rgb_to_lab_d50",
    "ChartDetection",
    "ChartCorrection",
    "detect_chart",
    "fit_chart_correction",
    "correct_colours",
    "chart_correction",
]

#: Patch names in the chart's reading order (4 rows of 6, dark skin top left).
PATCH_NAMES = (
    "dark skin", "light skin", "blue sky", "foliage", "blue flower", "bluish green",
    "orange", "purplish blue", "moderate red", "purple", "yellow green", "orange yellow",
    "blue", "green", "red", "yellow", "magenta", "cyan",
    "white 9.5", "neutral 8", "neutral 6.5", "neutral 5", "neutral 3.5", "black 2",
)
#: X-Rite ColorChecker Classic, charts made after November 2014: CIE L*a*b*, D50, 2 degree
#: observer, in PATCH_NAMES order. Source: X-Rite (2016) [1], as published.
REFERENCE_LAB_D50 = np.array([
    (37.54, 14.37, 14.92), (64.66, 19.27, 17.50), (49.32, -3.82, -22.54),
    (43.46, -12.74, 22.72), (54.94, 9.61, -24.79), (70.48, -32.26, -0.37),
    (62.73, 35.83, 56.50), (39.43, 10.75, -45.17), (50.57, 48.64, 16.67),
    (30.10, 22.54, -20.87), (71.77, -24.13, 58.19), (71.51, 18.24, 67.37),
    (28.37, 15.42, -49.80), (54.38, -39.72, 32.27), (42.43, 51.05, 28.62),
    (81.80, 2.67, 80.41), (50.63, 51.28, -14.12), (49.57, -29.71, -28.32),
    (95.19, -1.03, 2.93), (81.29, -0.57, 0.44), (66.89, -0.75, -0.06),
    (50.76, -0.13, 0.14), (35.63, -0.46, -0.48), (20.64, 0.07, -0.46),
])
#: ICC D50 (PCS illuminant), XYZ with Y = 1: ICC.1:2010 [2].
D50_WHITE_XYZ = np.array([0.9642, 1.0, 0.8249])
#: Bradford cone-response matrix: Lam 1985 [3], as printed in ICC.1:2010 Annex E [2].
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
# The neutral row (white 9.5 ... black 2): its luminance must fall patch by patch.
_NEUTRALS = slice(18, 24)
# Patch samples nearer than this to the ends of the 8-bit range are clipped: not fitted.
_CLIP_LOW, _CLIP_HIGH = 3, 252
# Fraction of each patch's side sampled (its centre), away from edges and the black frame.
_PATCH_INNER = 0.5
#: Longest side of the copy the detector sees (the chart stays dozens of pixels per patch).
DETECT_MAX_SIDE_PX = 1024
#: A fit leaving a larger mean ΔE*ab is taken for a misdetection and not applied. A sanity
#: limit, not a colour-accuracy criterion (ΔE 2.3 is one just-noticeable difference, MASI.md).
MAX_RESIDUAL_DELTA_E = 10.0
_ENCODE_LEVELS = 1 << 14
_ENCODE_LUT = None


def _bradford(source_white, target_white) -> np.ndarray:
    """Linearised Bradford adaptation matrix (XYZ -> XYZ) from one white to another [2]."""
    gain = (BRADFORD @ np.asarray(target_white, float)) / (BRADFORD @ np.asarray(source_white, float))
    return np.linalg.inv(BRADFORD) @ np.diag(gain) @ BRADFORD


def reference_linear_rgb() -> np.ndarray:
    """The 24 reference patches in linear sRGB (D65), shape (24, 3).

    L*a*b* D50 [1] -> XYZ D50 -> Bradford to the sRGB white [2] -> linear sRGB [4].
    Values are not clipped: cyan lies outside the sRGB gamut (its red is below 0).

    Examples
    --------
    >>> np.round(colour.linear_to_srgb(reference_linear_rgb()[18]) * 255).astype(int).tolist()
    [241, 242, 235]
    """
    xyz_d65 = colour.lab_to_xyz(REFERENCE_LAB_D50, D50_WHITE_XYZ) @ _bradford(D50_WHITE_XYZ, colour.D65_WHITE_XYZ).T
    return xyz_d65 @ np.linalg.inv(colour.SRGB_TO_XYZ).T


def linear_rgb_to_lab_d50(linear) -> np.ndarray:
    """Linear sRGB to CIELAB under D50 (Bradford-adapted), to compare with REFERENCE_LAB_D50."""
    xyz_d50 = colour.linear_rgb_to_xyz(np.asarray(linear, float)) @ _bradford(colour.D65_WHITE_XYZ, D50_WHITE_XYZ).T
    return colour.xyz_to_lab(xyz_d50, white=D50_WHITE_XYZ)


@dataclass(frozen=True)
class ChartDetection:
    """A ColorChecker found in a photo.

    Attributes
    ----------
    patches_rgb : numpy.ndarray, shape (24, 3)
        Median sRGB code value (0-255, float) of the inner part of each patch, in
        PATCH_NAMES order.
    patches_px : numpy.ndarray, shape (24, 4, 2)
        Corners (x, y) of each patch in the photo's pixels.
    """

    patches_rgb: np.ndarray
    patches_px: np.ndarray

    @property
    def box_px(self) -> np.ndarray:
        """Bounding box of the chart's patches, ``[[x0, y0], [x1, y1]]``."""
        points = self.patches_px.reshape(-1, 2)
        return np.array([points.min(axis=0), points.max(axis=0)])


@dataclass(frozen=True)
class ChartCorrection:
    """The colour correction fitted to a chart.

    Attributes
    ----------
    matrix : numpy.ndarray, shape (3, 3)
        ``corrected_linear = matrix @ photo_linear`` (linear sRGB, per pixel).
    residual_delta_e : float
        Mean ΔE*ab (CIE 1976, D50) between corrected and reference patches.
    max_delta_e : float
        Largest of those differences.
    n_patches : int
        Patches fitted (clipped and out-of-gamut patches are left out).
    used : bool
        ``False`` when the fit was rejected (residual above ``MAX_RESIDUAL_DELTA_E``).
    detection : ChartDetection
    """

    matrix: np.ndarray
    residual_delta_e: float
    max_delta_e: float
    n_patches: int
    used: bool
    detection: ChartDetection

    def to_dict(self) -> dict:
        return {"chart_used": self.used, "chart_residual_delta_e": self.residual_delta_e,
                "chart_max_delta_e": self.max_delta_e, "chart_n_patches": self.n_patches,
                "chart_matrix": self.matrix.round(6).tolist(), "chart_box_px": self.detection.box_px.round(1).tolist()}


def _sample_patches(rgb, corners) -> np.ndarray:
    """Median code value of the centre (``_PATCH_INNER`` of the side) of each quadrilateral."""
    values = np.empty((len(corners), 3))
    for i, quad in enumerate(corners):
        centre = quad.mean(axis=0)
        inner = centre + _PATCH_INNER * (quad - centre)
        x0, y0 = np.maximum(np.floor(inner.min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(inner.max(axis=0)).astype(int) + 1, (rgb.shape[1], rgb.shape[0]))
        if x1 - x0 < 2 or y1 - y0 < 2:  # a patch (partly) outside the photo
            values[i] = np.nan
            continue
        window = rgb[y0:y1, x0:x1]
        mask = np.zeros(window.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, np.round((inner - (x0, y0)) * 16).astype(np.int32), 1, cv2.LINE_8, shift=4)
        pixels = window[mask.astype(bool)]
        values[i] = np.median(pixels, axis=0) if len(pixels) else np.nan
    return values


def detect_chart(rgb, *, max_side: int = DETECT_MAX_SIDE_PX, prescreen: bool = True) -> ChartDetection | None:
    """Find a ColorChecker Classic 24 in an RGB photo.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8, shape (H, W, 3).
    max_side : int
        Longest side of the copy OpenCV's ``mcc`` detector searches.
    prescreen : bool
        First look for a grid of chart-like patches on a thumbnail
        (:func:`pigmentscan.chart_screen.may_show_chart`, a few milliseconds), and run
        the ``mcc`` search (0.1-0.2 s) only when there is one. The screen is built to
        pass every chart ``mcc`` finds; ``False`` searches every photo.

    Returns
    -------
    ChartDetection or None
        ``None`` when no chart is found, or when what was found is not a plausible chart
        (its grey row does not darken from white to black).

    Examples
    --------
    >>> detect_chart(np.full((480, 640, 3), 128, np.uint8)) is None
    True
    """
    rgb = np.asarray(rgb)
    if prescreen and not may_show_chart(rgb):
        return None
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    small = rgb if scale >= 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    detector = cv2.mcc.CCheckerDetector_create()
    try:
        if not detector.process(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), cv2.mcc.MCC24, 1):
            return None
    except cv2.error:  # the detector failing on an odd photo is "no chart", never a failed score
        return None
    corners = np.asarray(detector.getBestColorChecker().getColorCharts(), float).reshape(24, 4, 2) / scale
    patches = _sample_patches(rgb, corners)
    if not np.isfinite(patches).all():
        return None
    grey = colour.srgb_to_linear(patches[_NEUTRALS] / 255.0).sum(axis=1)
    if not (np.all(np.diff(grey) < 0) or np.all(np.diff(grey[::-1]) < 0)):
        return None  # not a chart: its neutral row must darken step by step (either way round)
    return ChartDetection(patches_rgb=patches, patches_px=corners)


def _fit(measured_linear, reference_linear, usable):
    matrix_t, *_ = np.linalg.lstsq(measured_linear[usable], reference_linear[usable], rcond=None)
    matrix = matrix_t.T
    delta_e = np.linalg.norm(linear_rgb_to_lab_d50(measured_linear[usable] @ matrix.T)
                             - REFERENCE_LAB_D50[usable], axis=1)
    return matrix, delta_e


def fit_chart_correction(detection: ChartDetection, *, max_residual_delta_e: float = MAX_RESIDUAL_DELTA_E,
                         ) -> ChartCorrection:
    """Fit the 3x3 linear-sRGB matrix taking the measured patches to the reference ones.

    Least squares over the patches that are neither clipped in the photo (a channel
    within 3 code values of 0 or 255) nor outside the sRGB gamut in the reference
    (cyan). Both patch orders of the grid are tried (the chart may be upside down);
    the one with the smaller residual is kept.

    Parameters
    ----------
    detection : ChartDetection
    max_residual_delta_e : float
        A fit leaving a larger mean ΔE*ab is returned with ``used=False``.

    Returns
    -------
    ChartCorrection
    """
    reference = reference_linear_rgb()
    in_gamut = np.all((reference >= 0) & (reference <= 1), axis=1)
    best = None
    for order in (np.arange(24), np.arange(24)[::-1]):
        patches = detection.patches_rgb[order]
        usable = in_gamut & np.all((patches >= _CLIP_LOW) & (patches <= _CLIP_HIGH), axis=1)
        if usable.sum() < 12:
            continue
        matrix, delta_e = _fit(colour.srgb_to_linear(patches / 255.0), reference, usable)
        if best is None or delta_e.mean() < best[1].mean():
            best = (matrix, delta_e, order)
    if best is None:
        return ChartCorrection(np.eye(3), math.nan, math.nan, 0, False, detection)
    matrix, delta_e, order = best
    ordered = ChartDetection(detection.patches_rgb[order], detection.patches_px[order])
    residual = float(delta_e.mean())
    return ChartCorrection(matrix, residual, float(delta_e.max()), int(len(delta_e)),
                           bool(residual <= max_residual_delta_e), ordered)


def _encode_lut() -> np.ndarray:
    global _ENCODE_LUT
    if _ENCODE_LUT is None:
        levels = np.arange(_ENCODE_LEVELS, dtype=np.float64) / (_ENCODE_LEVELS - 1)
        _ENCODE_LUT = np.round(colour.linear_to_srgb(levels) * 255.0).astype(np.uint8)
    return _ENCODE_LUT


def correct_colours(rgb, matrix) -> np.ndarray:
    """Apply a 3x3 linear-sRGB matrix to an sRGB uint8 image (clipped to the gamut).

    Decoding and encoding go through lookup tables (2^14 linear levels: under half a
    code value of error, also near black).

    Examples
    --------
    >>> correct_colours(np.full((2, 2, 3), 100, np.uint8), np.eye(3))[0, 0].tolist()
    [100, 100, 100]
    """
    linear = colour.srgb_to_linear(np.asarray(rgb, np.uint8))
    corrected = linear @ np.asarray(matrix, np.float32).T
    index = np.clip(corrected * np.float32(_ENCODE_LEVELS - 1) + np.float32(0.5), 0, _ENCODE_LEVELS - 1)
    return _encode_lut()[index.astype(np.uint16)]


def chart_correction(rgb, *, max_residual_delta_e: float = MAX_RESIDUAL_DELTA_E):
    """The colour step of the pipeline: correct a photo to its chart, if it shows one.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8, shape (H, W, 3).
    max_residual_delta_e : float
        Fits worse than this are not applied.

    Returns
    -------
    rgb : numpy.ndarray
        The corrected photo, or ``rgb`` itself when no usable chart was found.
    correction : ChartCorrection or None
        ``None`` when no chart was found; ``.used`` says whether it was applied.

    Examples
    --------
    >>> photo = np.full((480, 640, 3), 128, np.uint8)
    >>> chart_correction(photo)[1] is None
    True
    """
    detection = detect_chart(rgb)
    if detection is None:
        return rgb, None
    correction = fit_chart_correction(detection, max_residual_delta_e=max_residual_delta_e)
    return (correct_colours(rgb, correction.matrix) if correction.used else rgb), correction
