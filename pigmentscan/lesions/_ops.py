"""Small image operations shared by the lesion modules (OpenCV, sizes in pixels)."""

from __future__ import annotations

import cv2
import numpy as np


def _gaussian(image, sigma_px):
    return cv2.GaussianBlur(image, (0, 0), sigmaX=max(float(sigma_px), 0.3), borderType=cv2.BORDER_REFLECT)


def _disk(diameter_px: float) -> np.ndarray:
    radius = max(1, int(round(diameter_px / 2)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _channel_medians(image, mask) -> np.ndarray:
    """``np.median(image[mask], axis=0)`` of an (H, W, C) image, one channel plane at a time.

    The same values (each channel's median is of the same pixels), without gathering (N, C)
    pixel rows or partitioning along a strided axis.
    """
    return np.array([np.median(plane[mask]) for plane in cv2.split(np.asarray(image))])


def _label(mask):
    """4-connected components (as :func:`scipy.ndimage.label`), with OpenCV's faster labelling."""
    count, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=4)
    return labels, count - 1


def _hole_areas(mask):
    """The holes of ``mask`` (as :func:`scipy.ndimage.binary_fill_holes` finds them) and their areas.

    One 4-connected labelling of the background, padded by a ring so that everything that
    reaches the border is one component, the outside; every other background component is a hole.

    Returns
    -------
    labels : numpy.ndarray of int32
        ``mask``'s shape: each pixel's background component (0 on ``mask``).
    areas : numpy.ndarray
        Pixels of each label's hole; 0 for label 0 and for the outside.
    """
    padded = np.pad(~np.asarray(mask, dtype=bool), 1, constant_values=True).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(padded, connectivity=4)
    areas = stats[:, cv2.CC_STAT_AREA].copy()
    areas[0] = areas[labels[0, 0]] = 0  # label 0 is ``mask``; the padded corner lies outside
    return labels[1:-1, 1:-1], areas
