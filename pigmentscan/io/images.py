"""Reading photos: JPEG, PNG, TIFF (8/16-bit), EXIF orientation, ICC to sRGB, hostile files refused."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import struct
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from ..errors import ImageReadError
from .files import open_input
from .jpeg import decode_plain_jpeg

MAX_IMAGE_PIXELS = 100_000_000

#: Smallest accepted side, in pixels (a parameter, not a published number): a smaller
#: file is a thumbnail or an icon, far below what face landmarking needs.
MIN_IMAGE_SIDE_PX = 64

_REDUCE_FACTORS = (1, 2, 4, 8)  # the DCT scalings libjpeg can decode directly
_GREY_MODES = {"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"}
_COLOUR_MODES = {"RGB", "RGBA", "RGBX", "RGBa", "P", "PA", "YCbCr", "CMYK"}
_GREY_REASON = "grayscale image: colour is the measurement, pigmentscan needs an RGB photo"
# EXIF orientation (tag 0x0112, EXIF 2.32 §4.6.4) -> the transpose that shows the photo
# upright; the same table as PIL.ImageOps.exif_transpose, applied here to both decoders.
_T = Image.Transpose
_ORIENT = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM,
           5: _T.TRANSPOSE, 6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90}
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class ImageHeader:
    """What a photo's header says, read without decoding its pixels.

    Attributes
    ----------
    width, height : int
        Size in pixels as displayed, i.e. after the EXIF orientation is applied.
    format : str
        ``"JPEG"``, ``"MPO"`` (multi-picture JPEG), ``"PNG"`` or ``"TIFF"``.
    mode : str
        Pillow's mode of the stored pixels (``"RGB"``, ``"CMYK"``, ``"L"``, ...).
    bit_depth : int
        Bits per sample as stored (8 or 16 for photos; 1-8 for palette indices).
    has_icc_profile : bool
        Whether an ICC colour profile is embedded.
    exif_orientation : int
        EXIF orientation 1-8 (1, upright, when absent or invalid).
    """

    width: int
    height: int
    format: str
    mode: str
    bit_depth: int
    has_icc_profile: bool
    exif_orientation: int

    def to_dict(self) -> dict:
        return asdict(self)


_TIFF = TiffImagePlugin.TiffImageFile
# Magic numbers of the accepted formats -> the Pillow plugin that reads the header.
_OPENERS = ((b"\xff\xd8\xff", JpegImagePlugin.jpeg_factory),
            (b"\x89PNG\r\n\x1a\n", PngImagePlugin.PngImageFile),
            (b"II*\0", _TIFF), (b"MM\0*", _TIFF), (b"II+\0", _TIFF), (b"MM\0+", _TIFF))


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, Image.DecompressionBombError):
        return f"{text}; refusing to decode (decompression bomb?)"
    if isinstance(exc, EOFError) or "truncated" in text.lower():
        return f"truncated image data ({text}); was the copy interrupted?"
    if isinstance(exc, SyntaxError):  # what Pillow's plugins raise for a bad header
        return f"corrupt image header ({text})"
    return f"corrupt or unsupported image ({type(exc).__name__}: {text})"


@contextlib.contextmanager
def _opened(path):
    """Open ``path`` lazily (header only); every failure, here or in the ``with``
    body, becomes an :class:`ImageReadError` naming the file.

    The format is chosen from the file's first bytes, and the Pillow plugin is called
    directly: Pillow's own pixel limit (a process-wide setting) is neither relied on
    nor changed; :func:`read_image` applies ``max_pixels`` from the header instead.
    """
    try:
        if Path(path).is_dir():
            raise ImageReadError(None, "is a folder, not an image file")
        with open_input(path, error=ImageReadError) as fp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd-EXIF and pixel-limit warnings: we check
            prefix = fp.read(32)
            if not prefix:
                raise ImageReadError(None, "empty file (0 bytes); was the copy interrupted?")
            factory = next((f for magic, f in _OPENERS if prefix.startswith(magic)), None)
            if factory is None:
                raise ImageReadError(None, "not a JPEG, PNG or TIFF image")
            fp.seek(0)
            yield fp, prefix, factory(fp, os.fspath(path))
    except ImageReadError as exc:
        raise (exc if exc.source else ImageReadError(path, exc.reason)) from None
    except FileNotFoundError:
        raise ImageReadError(path, "no such file") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied: cannot read the file") from None
    except MemoryError:
        raise ImageReadError(path, "not enough memory to decode the image") from None
    except Exception as exc:  # decoders raise OSError, SyntaxError, struct.error, ...
        raise ImageReadError(path, _describe(exc)) from exc


def _header_of(im, prefix: bytes) -> ImageHeader:
    # Not im.getexif(): for a PNG it decodes the pixels to look for a late eXIf chunk.
    if im.format == "TIFF":
        orientation = im.tag_v2.get(0x0112, 1)
    else:
        exif = Image.Exif()
        if im.info.get("exif"):
            exif.load(im.info["exif"])
        orientation = exif.get(0x0112, 1)
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    width, height = _stored_size(im)[::-1] if orientation >= 5 else _stored_size(im)
    depth = 8
    if im.format == "PNG" and prefix[12:16] == b"IHDR":
        depth = prefix[24]  # IHDR bit depth (PNG spec, 11.2.2)
    elif im.format == "TIFF":
        bits = im.tag_v2.get(258, 8)  # BitsPerSample (TIFF 6.0)
        depth = max(bits) if isinstance(bits, tuple) else bits
    return ImageHeader(int(width), int(height), im.format, im.mode, int(depth),
                       bool(im.info.get("icc_profile")), orientation)


def _stored_size(im) -> tuple[int, int]:
    """Width and height of the pixels as stored (before the EXIF orientation)."""
    if im.format == "TIFF":  # Pillow reports (and loads) a TIFF already oriented
        return im.tag_v2[256], im.tag_v2[257]  # ImageWidth, ImageLength (TIFF 6.0)
    return im.size


def _mp(pixels: float) -> str:
    megapixels = pixels / 1e6
    return f"{megapixels:.0f}" if megapixels >= 10 else f"{megapixels:.3g}"


def _size_problem(width: int, height: int) -> str | None:
    if min(width, height) < MIN_IMAGE_SIDE_PX:
        return f"image is {width}×{height} pixels, too small to find a face"
    return None


def _header_problem(h: ImageHeader, max_pixels: int) -> str | None:
    if h.width * h.height > max_pixels:
        return (f"header claims {h.width}×{h.height} pixels ({_mp(h.width * h.height)} MP), "
                f"above the limit of {_mp(max_pixels)} MP; refusing to decode "
                "(decompression bomb?)")
    if h.mode in _GREY_MODES:
        return _GREY_REASON
    if h.mode not in _COLOUR_MODES:
        return f"unsupported colour mode {h.mode!r}: pigmentscan needs an RGB photo"
    return _size_problem(h.width, h.height)


def _frames_problem(im) -> str | None:
    """A PNG or TIFF holding several pictures (an animated PNG, a multi-page TIFF) is refused:
    which of them is the photo cannot be guessed. (A JPEG's extra pictures, MPO previews or
    depth maps, are not photos of their own: the first is the photo.)"""
    if im.format not in ("PNG", "TIFF"):
        return None
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        kind = "an animated PNG" if im.format == "PNG" else "a multi-page TIFF"
        return f"{kind} of {frames} pictures: save the one photo to score as its own file"
    return None


def _scale16(values: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 with rounding: round(v * 255 / 65535) = round(v / 257)."""
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _decode_16bit(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Decode a 16-bit RGB(A) PNG/TIFF of ``size`` with OpenCV (Pillow keeps only 8 bits, unrounded)."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if (bgr is None or bgr.ndim != 3 or bgr.shape[2] not in (3, 4)
            or bgr.dtype != np.uint16 or bgr.shape[1::-1] != size):
        raise ImageReadError(None, "corrupt or truncated 16-bit image data")
    return Image.fromarray(_scale16(bgr[..., 2::-1]))  # BGR(A) -> RGB, alpha dropped


@functools.cache
def _opencv_orients_tiff() -> bool:
    """Whether OpenCV's TIFF decoder applies the orientation tag itself (4.11 does,
    even with IMREAD_UNCHANGED; its PNG decoder does not): decode a 2×1 16-bit TIFF,
    red then blue, tagged "mirrored" (orientation 2), and see which pixel comes first."""
    entries = [(256, 3, 1, 2), (257, 3, 1, 1), (258, 3, 3, 146), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, 152), (274, 3, 1, 2), (277, 3, 1, 3),
               (278, 3, 1, 1), (279, 4, 1, 12), (284, 3, 1, 1)]  # TIFF 6.0 baseline tags
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", *entry) for entry in entries) + b"\0" * 4
    data = (b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<3H", 16, 16, 16)
            + struct.pack("<6H", 65535, 0, 0, 0, 0, 65535))
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return bool(bgr is not None and bgr[0, 0, 0] == 65535)  # blue first: mirrored


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the embedded profile to sRGB. Relative colorimetric intent:
    colours inside the sRGB gamut are kept exactly, since colour is the measurement."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(
            img, source, _SRGB, outputMode="RGB",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        raise ImageReadError(None, f"the embedded ICC colour profile cannot be applied "
                                   f"({exc}); export the photo as sRGB") from None


def _plain_jpeg(fp, im, header: ImageHeader, reduce: int) -> np.ndarray | None:
    """A complete colour JPEG without an ICC profile decoded by OpenCV (see
    :func:`pigmentscan.io.jpeg.decode_plain_jpeg`), or ``None`` for Pillow to decode
    the file (and word any error)."""
    if im.format != "JPEG" or im.mode != "RGB" or header.has_icc_profile:
        return None
    fp.seek(0)
    return decode_plain_jpeg(fp.read(), _reduced_size(*im.size, reduce), reduce, header.exif_orientation)


def _reduced_size(width: int, height: int, reduce: int) -> tuple[int, int]:
    if reduce not in _REDUCE_FACTORS:
        raise ValueError(f"reduce must be one of {_REDUCE_FACTORS}, not {reduce!r}")
    return -(-width // reduce), -(-height // reduce)


def _downscale(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if size != rgb.shape[1::-1]:
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def image_header(path) -> ImageHeader:
    """Read a photo's header (size, format, mode, ICC, orientation) without its pixels.

    Only an unreadable file is refused: the checks on content (size limits, grayscale)
    are :func:`read_image`'s, so a header can be inspected whatever it says.

    Raises
    ------
    ImageReadError
        Missing, empty, a folder, not a JPEG/PNG/TIFF, or a corrupt header.

    Examples
    --------
    >>> image_header("visit2/S017.jpg").width  # doctest: +SKIP
    1350
    """
    with _opened(path) as (_fp, prefix, im):
        return _header_of(im, prefix)


def read_image(path, *, reduce: int = 1, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Read a JPEG, PNG or TIFF photo as an upright sRGB uint8 array.

    The EXIF orientation is applied, an embedded ICC profile converted to sRGB,
    CMYK and palette images converted to RGB, alpha dropped, 16-bit samples rounded
    to 8 bits. Size limits are checked from the header before any pixel is decoded.

    Parameters
    ----------
    path : str or os.PathLike
        The photo.
    reduce : {1, 2, 4, 8}
        Decode at 1/reduce of the size: JPEGs by DCT scaling in the decoder (fast;
        plain JPEGs, without an ICC profile, by OpenCV, the others by Pillow),
        other formats by a full decode and ``cv2.INTER_AREA``. The result is
        ``ceil(width / reduce)`` × ``ceil(height / reduce)`` of the upright image,
        which is what libjpeg gives.
    max_pixels : int
        Refuse files whose header claims more pixels than this.

    Returns
    -------
    numpy.ndarray
        uint8, shape (H, W, 3), C-contiguous, sRGB.

    Raises
    ------
    ImageReadError
        For any file that cannot be used (missing, unreadable, not an image, truncated,
        grayscale, too small, too large, unusable ICC profile); nothing else escapes.
    ValueError
        If ``reduce`` is not 1, 2, 4 or 8.

    Examples
    --------
    >>> rgb = read_image("visit2/S017.jpg", reduce=2)  # doctest: +SKIP
    >>> rgb.shape, rgb.dtype  # doctest: +SKIP
    ((675, 675, 3), dtype('uint8'))
    """
    _reduced_size(1, 1, reduce)  # check it before opening anything
    with _opened(path) as (fp, prefix, im):
        header = _header_of(im, prefix)
        problem = _header_problem(header, max_pixels) or _frames_problem(im)
        if problem:
            raise ImageReadError(path, problem)
        plain = _plain_jpeg(fp, im, header, reduce)
        if plain is not None:
            return np.ascontiguousarray(plain)
        if header.bit_depth == 16 and im.mode in ("RGB", "RGBA"):
            oriented = im.format == "TIFF" and _opencv_orients_tiff()
            fp.seek(0)
            img = _decode_16bit(fp.read(), (header.width, header.height) if oriented
                                else _stored_size(im))
        else:
            if reduce > 1 and isinstance(im, JpegImagePlugin.JpegImageFile):
                im.draft("RGB", (im.size[0] // reduce, im.size[1] // reduce))
            im.load()  # (Pillow's TIFF loader applies the orientation itself)
            img = im if im.mode in ("RGB", "CMYK") else im.convert("RGB")
            oriented = im.format == "TIFF"
        icc = im.info.get("icc_profile")
        if icc:
            img = _to_srgb(img, icc)
        elif img.mode != "RGB":  # (convert would copy an RGB image too)
            img = img.convert("RGB")
        if header.exif_orientation in _ORIENT and not oriented:
            img = img.transpose(_ORIENT[header.exif_orientation])
        # the JPEG decoder has already scaled; other formats are resized here
        return _downscale(np.array(img), _reduced_size(header.width, header.height, reduce))


def as_rgb_array(image, *, source: str = "<array>") -> np.ndarray:
    """Check a user-supplied image array and return it as RGB uint8 (H, W, 3).

    uint8 (H, W, 3) passes through (made C-contiguous, not copied if it already is);
    a fourth (alpha) channel is dropped; uint16 is rounded to 8 bits; float in [0, 1]
    is scaled by 255 and rounded.

    Raises
    ------
    ImageReadError
        Grayscale (2-D, one or two channels), another shape, another dtype, NaN or
        infinite values, floats outside [0, 1], or a side under MIN_IMAGE_SIDE_PX.

    Examples
    --------
    >>> as_rgb_array(np.ones((64, 64, 4))).dtype
    dtype('uint8')
    """
    try:
        arr = np.asarray(image)
    except Exception as exc:
        raise ImageReadError(source, f"cannot be read as an image array ({exc})") from None
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 2)):
        raise ImageReadError(source, _GREY_REASON)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ImageReadError(source, f"expected an RGB image of shape (H, W, 3), got {arr.shape}")
    problem = _size_problem(arr.shape[1], arr.shape[0])
    if problem:
        raise ImageReadError(source, problem)
    if arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.dtype == np.uint16:
        arr = _scale16(arr)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageReadError(source, "image array contains NaN or infinite values")
        low, high = float(arr.min()), float(arr.max())
        if low < 0 or high > 1:
            raise ImageReadError(source, f"float image values must lie in [0, 1], found "
                                         f"{low:.4g} to {high:.4g} (divide 0-255 data by 255)")
        arr = np.rint(arr * 255.0).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise ImageReadError(source, f"unsupported image dtype {arr.dtype}: "
                                     "use uint8 (0-255), uint16, or float in [0, 1]")
    return np.ascontiguousarray(arr)


def load_rgb(image, *, reduce: int = 1) -> tuple[np.ndarray, str]:
    """A path or an array -> ``(rgb uint8 (H, W, 3), source name for messages)``.

    Paths go to :func:`read_image`, arrays to :func:`as_rgb_array` (then downscaled
    with ``cv2.INTER_AREA`` to the size :func:`read_image` would give).
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image, reduce=reduce), os.fspath(image)
    rgb = as_rgb_array(image)
    return _downscale(rgb, _reduced_size(rgb.shape[1], rgb.shape[0], reduce)), "<array>"
