"""The image-quality measures of one face: blur, exposure, colour cast (the QC columns' inputs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .. import colour
from ..regions import polygon_mask, region_polygons
from ..whitebalance import MIN_EYE_OPENING, SCLERA_MAX_DARKER_L_STAR, sclera_lab  # noqa: F401 - QC's colour-cast inputs

__all__ = ["PhotoMeasures", "blur_effect", "blur_measure", "exposure_pct", "skin_hue_deg", "sclera_lab", "measure_photo"]

#: Face scale of the blur measure: pupils this many pixels apart (the default analysis
#: scale). A face photographed smaller is measured at its own resolution instead, so a
#: small face is reported once (``qc_iod_px``), not also as blurred.
BLUR_IOD_PX = 200.0
#: 8-bit levels at which a channel no longer measures the light (parameters): at or
#: above ``CLIPPED_LEVEL`` the sensor or the JPEG has saturated, at or below
#: ``CRUSHED_LEVEL`` the signal is lost in the noise floor and the sRGB toe.
CLIPPED_LEVEL, CRUSHED_LEVEL = 250, 5


def blur_measure(rgb, mask=None, *, scale: float = 1.0) -> float:
    """Blur of an image, 0 (sharp) to 1 (featureless): the Crété-Roffet blur effect.

    The grey image is re-blurred with an 11-tap averaging filter and the loss of
    neighbouring-pixel differences compared with the original's: a sharp image loses
    much, a blurred one little. A ratio, so it does not depend on contrast, exposure
    or skin tone (the variance of the Laplacian of the skin, the usual focus measure,
    varied tenfold between the sharp London faces). Only the bounding box of ``mask``
    (the face) is measured, after resampling by ``scale`` when it is below 1.

    References
    ----------
    .. [1] Crété-Roffet F, Dolmiere T, Ladret P, Nicolas M. The blur effect:
       perception and estimation with a new no-reference perceptual blur metric.
       Proc SPIE 6492, Human Vision and Electronic Imaging XII, 2007. Computed by
       :func:`blur_effect`, as :func:`skimage.measure.blur_effect`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)
    >>> blur_measure(noise) < blur_measure(cv2.GaussianBlur(noise, (0, 0), 3))
    True
    """
    rgb = np.asarray(rgb)
    if mask is not None and np.any(mask):
        x, y, width, height = cv2.boundingRect(np.asarray(mask, dtype=np.uint8))
        rgb = rgb[y: y + height, x: x + width]
    grey = _grey(rgb)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if min(grey.shape) < 16:
        return float("nan")
    return blur_effect(grey)


def _grey(rgb: np.ndarray) -> np.ndarray:
    """Mean of the channels, float32 (the sum is exact; as ``rgb.mean(axis=2)`` in float32)."""
    channels = [c.astype(np.float32) for c in cv2.split(np.ascontiguousarray(rgb))]
    return (channels[0] + channels[1] + channels[2]) / np.float32(3)


#: Re-blurring filter of the blur effect, in pixels (Crété-Roffet et al. 2007; skimage's default).
_REBLUR_PX = 11
# Sobel derivative scaled as scikit-image's (smoothing weights 1, 2, 1 over 4).
_SOBEL_SCALE = 0.25


def blur_effect(grey) -> float:
    """The Crété-Roffet blur effect of a grey image, the larger of its two directions.

    The same computation as :func:`skimage.measure.blur_effect` (``h_size=11``,
    reflected borders, a 2-pixel frame left out of the sums), with OpenCV's filters:
    several times faster (the test suite checks they agree).

    References
    ----------
    .. [1] Crété-Roffet F, Dolmiere T, Ladret P, Nicolas M. The blur effect:
       perception and estimation with a new no-reference perceptual blur metric.
       Proc SPIE 6492, Human Vision and Electronic Imaging XII, 2007.

    Examples
    --------
    >>> ramp = np.tile(np.arange(64, dtype=np.float32), (64, 1))
    >>> round(blur_effect(ramp), 3)  # a smooth ramp loses nothing to re-blurring: 1
    1.0
    """
    grey = np.asarray(grey, dtype=np.float32)
    border = cv2.BORDER_REFLECT  # scipy.ndimage's "reflect"
    inner = (slice(2, grey.shape[0] - 1), slice(2, grey.shape[1] - 1))
    effects = []
    for dx, dy, box in ((0, 1, (1, _REBLUR_PX)), (1, 0, (_REBLUR_PX, 1))):  # down the rows, then along them
        reblurred = cv2.blur(grey, box, borderType=border)
        sharp = np.abs(cv2.Sobel(grey, cv2.CV_32F, dx, dy, ksize=3, scale=_SOBEL_SCALE, borderType=border))
        soft = np.abs(cv2.Sobel(reblurred, cv2.CV_32F, dx, dy, ksize=3, scale=_SOBEL_SCALE, borderType=border))
        sharp, soft = sharp[inner], soft[inner]
        total = float(sharp.sum(dtype=np.float64))
        lost = float(np.maximum(sharp - soft, 0).sum(dtype=np.float64))
        effects.append(abs(total - lost) / total if total > 0 else 1.0)
    return max(effects)


def exposure_pct(rgb, regions, set_aside=None) -> tuple[float, float]:
    """Share (%) of the ``regions`` pixels that are clipped (a channel ≥ 250) and crushed (a channel ≤ 5).

    Pixels in ``set_aside`` (what the lesion analysis took for hair, beard, shadow or
    highlight) are not counted as crushed: hair is black in a well-exposed photo.
    Clipped pixels count wherever they are: no skin is white.

    Examples
    --------
    >>> rgb = np.full((10, 10, 3), 128, np.uint8); rgb[:2] = 255; rgb[-1] = 0
    >>> exposure_pct(rgb, np.ones((10, 10), bool))
    (20.0, 10.0)
    """
    rgb = np.asarray(rgb)
    regions = np.asarray(regions, dtype=bool)
    total = np.count_nonzero(regions)
    if total == 0:
        return 0.0, 0.0
    channels = cv2.split(np.ascontiguousarray(rgb))
    brightest = cv2.max(cv2.max(channels[0], channels[1]), channels[2])
    darkest = cv2.min(cv2.min(channels[0], channels[1]), channels[2])
    clipped = np.count_nonzero((brightest >= CLIPPED_LEVEL) & regions)
    crushed = (darkest <= CRUSHED_LEVEL) & regions
    if set_aside is not None:
        crushed &= ~np.asarray(set_aside, dtype=bool)
    return 100.0 * clipped / total, 100.0 * np.count_nonzero(crushed) / total


def skin_hue_deg(lab) -> float:
    """CIELAB hue angle h_ab = atan2(b*, a*) in degrees (CIE 015:2018), in (-180, 180].

    Examples
    --------
    >>> round(skin_hue_deg([60.0, 10.0, 10.0]), 1)
    45.0
    """
    lab = np.asarray(lab, dtype=np.float64)
    return float(np.degrees(np.arctan2(lab[2], lab[1])))


@dataclass(frozen=True)
class PhotoMeasures:
    """Image-quality measures of one face at the analysis scale (see :func:`measure_photo`)."""

    blur: float
    clipped_pct: float
    crushed_pct: float
    sclera_a_star: float
    sclera_b_star: float
    skin_hue_deg: float

    def to_dict(self) -> dict:
        return asdict(self)


def measure_photo(rgb, points_px, iod_px: float, analysis, *, photo_iod_px: float, as_taken=None) -> PhotoMeasures:
    """Blur, exposure and colour cast of the analysis crop ``rgb``.

    ``points_px`` and ``iod_px`` are the landmarks and inter-ocular distance in the
    crop, ``analysis`` its :class:`~pigmentscan.lesions.FaceAnalysis` (region masks,
    set-aside pixels, normal skin); ``photo_iod_px`` the inter-ocular distance in the
    photo as stored: the blur is measured at ``min(BLUR_IOD_PX, photo_iod_px)``.
    ``as_taken`` is the crop before any white-balance correction (default ``rgb``): clipping
    and crushing are read on the channels as the camera recorded them.
    """
    shape = rgb.shape[:2]
    outlines = np.zeros(shape, dtype=bool)
    for polygon in region_polygons(points_px, iod_px).values():
        outlines |= polygon_mask(shape, polygon)
    skin = np.zeros(shape, dtype=bool)
    for mask in analysis.region_masks.values():
        skin |= mask
    # The regions as drawn (eyes, brows, lips, nostrils removed), set-aside pixels included.
    regions = skin | (analysis.non_skin & outlines)
    clipped, crushed = exposure_pct(rgb if as_taken is None else as_taken, regions, analysis.non_skin)
    blur = blur_measure(rgb, regions, scale=min(BLUR_IOD_PX, photo_iod_px) / iod_px)
    sclera = sclera_lab(rgb, points_px, skin_l_star=float(analysis.reference.lab[0]))
    a_star, b_star = (float("nan"), float("nan")) if sclera is None else (float(sclera[1]), float(sclera[2]))
    return PhotoMeasures(blur, clipped, crushed, a_star, b_star, skin_hue_deg(analysis.reference.lab))
