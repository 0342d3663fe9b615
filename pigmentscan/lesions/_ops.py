"""Small image operations shared by the lesion modules (OpenCV, sizes in pixels)."""

from __future__ import annotations

import cv2
import numpy as np


def _gaussian(image, sigma_px):
    return cv2.GaussianBlur(image, (0, 0), sigmaX=max(float(sigma_px), 0.3), borderType=cv2.BORDER_REFLECT)


def _disk(diameter_px: float) -> np.ndarray:
    radius = max(1, int(round(diameter_px / 2)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _label(mask):
    """4-connected components (as :func:`scipy.ndimage.label`), with OpenCV's faster labelling."""
    count, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=4)
    return labels, count - 1


def _fill_holes(mask) -> np.ndarray:
    """``mask`` with every hole filled (as :func:`scipy.ndimage.binary_fill_holes`), by a flood
    fill of the background from the border."""
    padded = np.pad(np.asarray(mask, dtype=np.uint8), 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1, flags=4)
    return (padded | (flood == 0))[1:-1, 1:-1].astype(bool)
