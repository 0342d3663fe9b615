"""The face of a photo at the analysis scale: decoded as small as it may be, found, cropped, resampled.

The first steps of :func:`pigmentscan.score_image`: :func:`load_face` decodes a photo (a large JPEG
at a reduced DCT scale) and finds its landmarks; :func:`crop_to_analysis` crops the face with a
margin and resamples it so the pupils are the model's ``analysis_iod_px`` apart, which makes every
result independent of camera resolution.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from .io import image_header, load_rgb
from .landmarks import FaceLandmarks, detect_landmarks
from .regions import FOREHEAD_EXTENSION_IOD

__all__ = ["CROP_MARGIN_IOD", "DECODE_MIN_SIDE_PX", "load_face", "crop_to_analysis"]

#: Margin around the landmarks kept in the analysis crop, in inter-ocular distances.
CROP_MARGIN_IOD = 0.3
#: Shortest side a large JPEG is first decoded at (DCT-scaled by 2, 4 or 8 while it
#: stays this long), for both the landmarks and the analysis. A frontal face photo
#: framed head and shoulders has its pupils about 12-16 % of the short side apart
#: (the London set 16 %, benchmarks/speed.py's frames 12.7 %), so at 1500 px they are
#: at least the 180 px the analysis scale needs (90 % of 200) and one decode serves
#: both; a smaller face is decoded a second time, at the finer scale it needs.
DECODE_MIN_SIDE_PX = 1500


def _largest_reduce(size_px: float, minimum_px: float) -> int:
    """Largest JPEG DCT scaling (1, 2, 4 or 8) that keeps ``size_px / reduce >= minimum_px``."""
    reduce = 1
    while reduce < 8 and size_px / (reduce * 2) >= minimum_px:
        reduce *= 2
    return reduce


def load_face(image, analysis_iod_px: float, *, mirrored: bool = False):
    """Decode a photo at the smallest scale that still holds the face at the analysis scale.

    JPEGs decode in the DCT domain at 1/2, 1/4 or 1/8 of their size far faster than
    in full. A large JPEG is decoded once with its short side at least
    DECODE_MIN_SIDE_PX; landmarks are found on a halved copy of that (see
    :func:`~pigmentscan.landmarks.detect_landmarks`), and the same decode is analysed
    when its pupils are at least 90 % of ``analysis_iod_px`` apart. Only a face too
    small for that is decoded again, at the largest reduction that keeps them so.

    Parameters
    ----------
    image : str, os.PathLike or numpy.ndarray
        A photo's path or an RGB uint8 array (as :func:`pigmentscan.score_image` takes).
    analysis_iod_px : float
        The inter-ocular distance the face is analysed at (the scoring model's ``analysis_iod_px``).
    mirrored : bool
        Flip the photo left-right first (a selfie), so the patient's right stays ``right_``.

    Returns
    -------
    (numpy.ndarray, FaceLandmarks, int, str)
        The decoded RGB photo, its landmarks in its pixels, the JPEG reduction it was decoded at
        (1 for anything else) and the photo's name for messages.
    """

    def oriented(rgb):
        return np.ascontiguousarray(rgb[:, ::-1]) if mirrored else rgb

    is_path = isinstance(image, (str, os.PathLike))
    header = image_header(image) if is_path else None
    if header is None or header.format != "JPEG":
        rgb, source = load_rgb(image)
        rgb = oriented(rgb)
        return rgb, detect_landmarks(rgb, source=source), 1, source
    first_reduce = _largest_reduce(min(header.width, header.height), DECODE_MIN_SIDE_PX)
    rgb, source = load_rgb(image, reduce=first_reduce)
    rgb = oriented(rgb)
    landmarks = detect_landmarks(rgb, source=source)
    reduce = _largest_reduce(landmarks.iod_px * header.width / rgb.shape[1], 0.9 * analysis_iod_px)
    if reduce >= first_reduce:  # the face is large enough in this decode
        return rgb, landmarks, first_reduce, source
    finer, _ = load_rgb(image, reduce=reduce)
    finer = oriented(finer)
    return finer, landmarks.transformed(finer.shape[1] / rgb.shape[1], image_shape=finer.shape[:2]), reduce, source


def crop_to_analysis(rgb, landmarks: FaceLandmarks, analysis_iod_px: float):
    """The face cropped and resampled so the pupils are ``analysis_iod_px`` apart.

    Returns ``(crop, crop_landmarks, (x0, y0), scale)``: ``crop = resize(rgb[y0:, x0:], scale)``.
    Works on any image the landmarks belong to (a photo, a mask as float).
    """
    points = landmarks.points_px
    margin = CROP_MARGIN_IOD * landmarks.iod_px
    top_extra = FOREHEAD_EXTENSION_IOD * landmarks.iod_px
    x0 = int(max(0, np.floor(points[:, 0].min() - margin)))
    y0 = int(max(0, np.floor(points[:, 1].min() - margin - top_extra)))
    x1 = int(min(rgb.shape[1], np.ceil(points[:, 0].max() + margin)))
    y1 = int(min(rgb.shape[0], np.ceil(points[:, 1].max() + margin)))
    scale = analysis_iod_px / landmarks.iod_px
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(rgb[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=interpolation)
    return crop, landmarks.transformed(scale, (x0, y0), crop.shape[:2]), (x0, y0), scale
