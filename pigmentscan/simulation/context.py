"""One face prepared for simulation: landmarks, the crop around the face, its working grid and skin."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..io import load_rgb
from ..landmarks import FaceLandmarks, detect_landmarks
from . import geometry

__all__ = ["FaceContext", "as_landmarks", "face_context"]

# Margin around the paint area kept in the crop, IOD (room for the physician-scale blur).
_CROP_MARGIN_IOD = 0.15


@dataclass(frozen=True, eq=False)
class FaceContext:
    """A face ready to paint.

    Attributes
    ----------
    rgb : numpy.ndarray
        The full photo, uint8.
    landmarks : FaceLandmarks
        In pixels of ``rgb``.
    box : tuple of int
        (x0, y0, x1, y1) of the crop holding the face.
    scale : float
        Working-grid pixels per photo pixel.
    skin : numpy.ndarray of bool
        Visible skin of the crop at full resolution.
    skin_small : numpy.ndarray of bool
        The same on the working grid.
    """

    rgb: np.ndarray
    landmarks: FaceLandmarks
    box: tuple
    scale: float
    skin: np.ndarray
    skin_small: np.ndarray

    @property
    def iod_px(self) -> float:
        return self.landmarks.iod_px

    @property
    def crop(self) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return self.rgb[y0:y1, x0:x1]

    @property
    def points_crop(self) -> np.ndarray:
        """Landmarks in pixels of the crop."""
        return self.landmarks.points_px - np.array(self.box[:2], dtype=np.float64)

    @property
    def small_shape(self) -> tuple:
        x0, y0, x1, y1 = self.box
        return (max(int(round((y1 - y0) * self.scale)), 1), max(int(round((x1 - x0) * self.scale)), 1))

    def small(self, array, interpolation=cv2.INTER_AREA) -> np.ndarray:
        """A crop-sized array resampled onto the working grid."""
        return geometry.resize_to(array, self.small_shape, interpolation=interpolation)

    def full(self, array: np.ndarray) -> np.ndarray:
        """A crop-sized array placed in a photo-sized array of zeros."""
        out = np.zeros(self.rgb.shape[:2] + array.shape[2:], dtype=array.dtype)
        x0, y0, x1, y1 = self.box
        out[y0:y1, x0:x1] = array
        return out


def as_landmarks(landmarks, rgb) -> FaceLandmarks:
    """FaceLandmarks from ``None`` (detect), a FaceLandmarks, or a (478, 2) array of points."""
    if landmarks is None:
        return detect_landmarks(rgb)
    if isinstance(landmarks, FaceLandmarks):
        return landmarks
    points = np.asarray(landmarks, dtype=np.float64)
    return FaceLandmarks(points, np.zeros(len(points)), tuple(rgb.shape[:2]))


def face_context(image, landmarks=None, *, skin=None) -> FaceContext:
    """Prepare a photo (path or RGB array) for painting.

    Parameters
    ----------
    image : str, path or numpy.ndarray
        The photo.
    landmarks : FaceLandmarks or array_like, optional
        Detected with MediaPipe FaceMesh when omitted.
    skin : numpy.ndarray of bool, optional
        Photo-sized visible-skin mask to use instead of computing one.
    """
    rgb, _ = load_rgb(image)
    landmarks = as_landmarks(landmarks, rgb)
    iod = landmarks.iod_px
    height, width = rgb.shape[:2]
    area = geometry.paint_area((height, width), landmarks.points_px, iod)
    ys, xs = np.nonzero(area)
    margin = int(np.ceil(_CROP_MARGIN_IOD * iod))
    if ys.size == 0:
        box = (0, 0, width, height)
    else:
        box = (max(int(xs.min()) - margin, 0), max(int(ys.min()) - margin, 0),
               min(int(xs.max()) + margin + 1, width), min(int(ys.max()) + margin + 1, height))
    scale = geometry.work_scale(iod)
    x0, y0, x1, y1 = box
    crop = rgb[y0:y1, x0:x1]
    points = landmarks.points_px - np.array([x0, y0], dtype=np.float64)
    small_shape = (max(int(round((y1 - y0) * scale)), 1), max(int(round((x1 - x0) * scale)), 1))
    if skin is None:
        small = geometry.resize_to(crop, small_shape, interpolation=cv2.INTER_AREA)
        skin_small = geometry.skin_mask(small, points, iod, scale=scale)
        full = geometry.resize_to(skin_small.astype(np.float32), crop.shape) >= 0.5
        full &= area[y0:y1, x0:x1] & ~(crop.max(axis=-1) >= 250)
    else:
        full = np.asarray(skin, dtype=bool)[y0:y1, x0:x1]
        skin_small = geometry.resize_to(full.astype(np.float32), small_shape, interpolation=cv2.INTER_AREA) >= 0.5
    return FaceContext(rgb=rgb, landmarks=landmarks, box=box, scale=scale, skin=full, skin_small=skin_small)
