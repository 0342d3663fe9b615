"""Fast downscaled copies of a photo for the detectors (landmarks, colour chart).

The detectors see a small copy of the photo, not the photo: FaceMesh crops the face
to 192 px, and the chart detector needs a dozen pixels per patch. Area averaging
(``cv2.INTER_AREA``) is the right filter for a downscale (no aliasing), but OpenCV
runs it fast only at a factor of exactly two: halving a 2000×1500 photo takes about
1 ms, a 2000→1024 resize about 35 ms. So the copies are made by repeated halving,
each step the exact mean of 2×2 pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["halved", "halvings_to_fit"]


def halvings_to_fit(shape, max_side: int) -> int:
    """How many halvings bring the longest side of ``shape`` to at most ``max_side``.

    Examples
    --------
    >>> halvings_to_fit((1500, 2000), 1024), halvings_to_fit((2000, 3000), 1024), halvings_to_fit((600, 800), 1024)
    (1, 2, 0)
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    longest, count = max(shape[:2]), 0
    while longest > max_side:
        longest //= 2
        count += 1
    return count


def halved(image, times: int) -> np.ndarray:
    """Halve an image ``times`` times, each pixel the mean of 2×2 (``cv2.INTER_AREA``).

    An odd last row or column is dropped before each halving, so pixel ``(i, j)`` of
    the result covers exactly pixels ``2**times * i ... 2**times * (i + 1) - 1`` of the
    input (an image coordinate ``x`` in the copy is ``x * 2**times`` in the input).

    Parameters
    ----------
    image : numpy.ndarray
        (H, W) or (H, W, C), any dtype OpenCV resizes (uint8, float32, ...).
    times : int
        Number of halvings (0 returns ``image`` itself).

    Returns
    -------
    numpy.ndarray
        ``(H >> times, W >> times[, C])``.

    Examples
    --------
    >>> halved(np.arange(16, dtype=np.float32).reshape(4, 4), 1).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    out = image
    for _ in range(times):
        height, width = out.shape[0] // 2, out.shape[1] // 2
        if min(height, width) < 1:
            raise ValueError(f"cannot halve an image of shape {out.shape}")
        out = cv2.resize(out[: 2 * height, : 2 * width], (width, height), interpolation=cv2.INTER_AREA)
    return out
