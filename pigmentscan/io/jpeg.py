"""Plain JPEGs decoded by OpenCV: DCT-scaled, straight into an RGB array.

A plain JPEG is a complete (it ends with the EOI marker) colour JPEG without an ICC
profile: nothing to convert. OpenCV's libjpeg-turbo decodes it to 1/2, 1/4 or 1/8 of
its size in the DCT domain, with the same pixels as Pillow (same library, same
settings; tests/test_io.py checks it for every EXIF orientation) and without Pillow's
image-to-array copy. :func:`pigmentscan.io.images.read_image` sends every other file,
and any file OpenCV cannot decode to the size its header gives, to Pillow.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["decode_plain_jpeg", "oriented_array"]

# EXIF orientation (tag 0x0112, EXIF 2.32 §4.6.4) -> (transpose?, rotation, flip) that shows
# the photo upright: the same as images._ORIENT (PIL.ImageOps.exif_transpose's table).
_ORIENT_ARRAY = {2: (False, None, 1), 3: (False, cv2.ROTATE_180, None), 4: (False, None, 0),
                 5: (True, None, None), 6: (False, cv2.ROTATE_90_CLOCKWISE, None),
                 7: (True, cv2.ROTATE_180, None), 8: (False, cv2.ROTATE_90_COUNTERCLOCKWISE, None)}
# OpenCV's decode at 1/reduce of the size (libjpeg's DCT scaling), in the stored orientation.
_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}
_EOI = b"\xff\xd9"  # end-of-image marker (ITU-T T.81, B.1.1.3)


def oriented_array(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an image array.

    Examples
    --------
    >>> oriented_array(np.arange(6).reshape(2, 3), 6).tolist()  # stored turned: rotate 90° clockwise
    [[3, 0], [4, 1], [5, 2]]
    """
    if orientation not in _ORIENT_ARRAY:
        return rgb
    transpose, rotate, flip = _ORIENT_ARRAY[orientation]
    if transpose:
        rgb = cv2.transpose(rgb)
    if rotate is not None:
        rgb = cv2.rotate(rgb, rotate)
    if flip is not None:
        rgb = cv2.flip(rgb, flip)
    return rgb


def decode_plain_jpeg(data: bytes, size: tuple[int, int], reduce: int, orientation: int) -> np.ndarray | None:
    """Decode a plain JPEG's bytes at 1/reduce of its size, upright, as RGB uint8.

    Parameters
    ----------
    data : bytes
        The whole file.
    size : tuple of int
        (width, height) the decode must have: the stored size divided by ``reduce``,
        rounded up (what libjpeg gives).
    reduce : {1, 2, 4, 8}
    orientation : int
        EXIF orientation, applied after decoding.

    Returns
    -------
    numpy.ndarray or None
        ``None`` when the file does not end with the EOI marker (truncated, or bytes
        after the image: Pillow's decoder judges those) or OpenCV cannot decode it to
        ``size``.
    """
    if data[-2:] != _EOI:
        return None
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[reduce] | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.shape != (size[1], size[0], 3) or bgr.dtype != np.uint8:
        return None
    return oriented_array(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr), orientation)
