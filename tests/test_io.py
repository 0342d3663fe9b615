"""Tests of pigmentscan.io: reading photos (friendly and hostile) and writing PNGs.

The reference images are built here from a real face photo with Pillow / OpenCV /
numpy, and expected values come from published definitions (the sRGB transfer
function of IEC 61966-2-1, the EXIF orientation table), never from pigmentscan itself.
"""

from __future__ import annotations

import io
import os
import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from pigmentscan.errors import ImageReadError, PigmentScanError
from pigmentscan.io import (
    MAX_IMAGE_PIXELS,
    MIN_IMAGE_SIDE_PX,
    ImageHeader,
    as_rgb_array,
    image_header,
    load_rgb,
    read_image,
    write_png,
)

from helpers import png_chunk_types

FACE = "004_03.jpg"  # 1350×1350 JPEG


# ----------------------------------------------------------------------------- helpers


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type+data (PNG spec §5.3)."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def insert_exif_chunk(png: bytes, orientation: int) -> bytes:
    """Add an eXIf chunk (PNG 1.5 extension) with an orientation after IHDR."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
    ihdr_end = 8 + 12 + 13
    return png[:ihdr_end] + png_chunk(b"eXIf", payload) + png[ihdr_end:]


def save(tmp_path, name: str, rgb: np.ndarray, **kwargs):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, **kwargs)
    return path


def write_16bit(path, rgb16: np.ndarray):
    ok, encoded = cv2.imencode(path.suffix, np.ascontiguousarray(rgb16[..., ::-1]))
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer function, IEC 61966-2-1:1999 (linear 0-1 -> encoded 0-1)."""
    linear = np.asarray(linear, dtype=float)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def linear_srgb_icc() -> bytes:
    """A valid ICC v2 matrix/TRC RGB profile: sRGB primaries with gamma 1.0 (linear light).

    Colorants are the sRGB primaries adapted to the D50 PCS with Bradford, as in the
    ICC's sRGB profiles; 'curv' with no entries is the identity curve (ICC.1:2001-04 §6.5.3).
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    def text(kind: bytes, value: bytes) -> bytes:
        if kind == b"desc":  # textDescriptionType: ASCII, empty Unicode and ScriptCode parts
            return (b"desc\0\0\0\0" + struct.pack(">I", len(value) + 1) + value + b"\0"
                    + b"\0" * 8 + b"\0" * 3 + b"\0" * 67)
        return b"text\0\0\0\0" + value + b"\0"

    identity = b"curv\0\0\0\0" + struct.pack(">I", 0)
    tags = [
        (b"desc", text(b"desc", b"linear sRGB (test)")),
        (b"cprt", text(b"text", b"public domain")),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4360747, 0.2225045, 0.0139322)),
        (b"gXYZ", xyz(0.3850649, 0.7168786, 0.0971045)),
        (b"bXYZ", xyz(0.1430804, 0.0606169, 0.7141733)),
        (b"rTRC", identity),
        (b"gTRC", identity),
        (b"bTRC", identity),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(
        ">I4sI4s4s4s6H4s4sI4sIQI12s4s16s28s",
        size, b"none", 0x02100000, b"mntr", b"RGB ", b"XYZ ", 2024, 1, 1, 0, 0, 0,
        b"acsp", b"APPL", 0, b"none", 0, 0, 0, s15(0.9642) + s15(1.0) + s15(0.8249),
        b"none", b"\0" * 16, b"\0" * 28,
    )
    return header + struct.pack(">I", len(tags)) + table + body


def assert_refused(path, *fragments):
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def face_file(face_path):
    return face_path(FACE)


@pytest.fixture(scope="module")
def face(face_file) -> np.ndarray:
    """The photo as Pillow decodes it (the reference, 1350×1350×3)."""
    return np.array(Image.open(face_file).convert("RGB"))


@pytest.fixture(scope="module")
def small(face) -> np.ndarray:
    """A non-square 300×360 version (so a swapped width/height shows)."""
    return cv2.resize(face[:, 100:1225], (300, 360), interpolation=cv2.INTER_AREA)


# ----------------------------------------------------------------------------- friendly


def test_jpeg_reads_as_pillow_decodes_it(face_file, face):
    rgb = read_image(face_file)
    assert rgb.dtype == np.uint8 and rgb.shape == (1350, 1350, 3) and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, face)


def test_rgba_png_equals_rgb_version(tmp_path, small):
    alpha = np.linspace(0, 255, small.shape[1]).astype(np.uint8)[None, :].repeat(small.shape[0], 0)
    rgba = np.dstack([small, alpha])
    np.testing.assert_array_equal(read_image(save(tmp_path, "a.png", rgba)), small)
    np.testing.assert_array_equal(read_image(save(tmp_path, "b.png", small)), small)


def test_palette_png_is_converted(tmp_path, small):
    palette = Image.fromarray(small).quantize(64)
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), np.array(palette.convert("RGB")))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_is_rounded_to_8bit(tmp_path, small, suffix):
    # Each 8-bit value v becomes 257·v ± up to 128: rounding v16/257 gives v back exactly,
    # truncation (v16 >> 8) or Pillow's 8-bit read would not.
    noise = np.random.default_rng(0).integers(-128, 129, small.shape)
    rgb16 = np.clip(small.astype(np.int64) * 257 + noise, 0, 65535).astype(np.uint16)
    path = write_16bit(tmp_path / f"deep{suffix}", rgb16)
    assert image_header(path).bit_depth == 16
    rgb = read_image(path)
    assert rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    assert np.abs(rgb.astype(int) - small).max() <= 1
    np.testing.assert_array_equal(rgb, small)


def test_16bit_rgba_png_drops_alpha(tmp_path, small):
    rgba16 = np.dstack([small, np.full(small.shape[:2], 7, np.uint8)]).astype(np.uint16) * 257
    ok, encoded = cv2.imencode(".png", rgba16[..., [2, 1, 0, 3]])
    (tmp_path / "a16.png").write_bytes(encoded.tobytes())
    np.testing.assert_array_equal(read_image(tmp_path / "a16.png"), small)


def test_cmyk_jpeg_loads_as_rgb(tmp_path, face):
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(face).convert("CMYK").save(path, quality=95)
    assert image_header(path).mode == "CMYK"
    rgb = read_image(path)
    assert rgb.shape == face.shape
    assert np.abs(rgb.astype(int) - face).mean() < 2


def test_path_with_spaces_and_non_ascii(tmp_path, small):
    path = save(tmp_path, "visite 2/Zoë müller.jpg", small, quality=95)
    rgb, source = load_rgb(path)
    assert source == str(path) and rgb.shape == small.shape
    deep = write_16bit(tmp_path / "visite 2" / "Zoë müller 16.png", small.astype(np.uint16) * 257)
    np.testing.assert_array_equal(read_image(deep), small)


# The stored pixels for each EXIF orientation, built from the upright image with the
# inverse of the EXIF 2.32 table (tag 0x0112).
STORED = {
    1: lambda up: up,
    2: lambda up: up[:, ::-1],
    3: lambda up: up[::-1, ::-1],
    4: lambda up: up[::-1],
    5: lambda up: up.transpose(1, 0, 2),
    6: lambda up: np.rot90(up, 1),
    7: lambda up: np.rot90(up, 2).transpose(1, 0, 2),
    8: lambda up: np.rot90(up, -1),
}


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_exif_orientation_png(tmp_path, small, orientation):
    stored = np.ascontiguousarray(STORED[orientation](small))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(tmp_path, "o.png", stored, exif=exif)
    # the test's table agrees with Pillow's reading of the tag ...
    np.testing.assert_array_equal(np.array(ImageOps.exif_transpose(Image.open(path))), small)
    # ... and so does pigmentscan, for the 8-bit and the 16-bit decoders
    np.testing.assert_array_equal(read_image(path), small)
    header = image_header(path)
    assert (header.height, header.width, header.exif_orientation) == (*small.shape[:2], orientation)
    deep = tmp_path / "o16.png"
    stored16 = np.ascontiguousarray(stored[..., ::-1]).astype(np.uint16) * 257
    ok, encoded = cv2.imencode(".png", stored16)
    deep.write_bytes(insert_exif_chunk(encoded.tobytes(), orientation))
    np.testing.assert_array_equal(read_image(deep), small)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_tiff(tmp_path, small, orientation):
    stored = np.ascontiguousarray(STORED[orientation](small))
    path = tmp_path / "o.tif"
    Image.fromarray(stored).save(path, tiffinfo={0x0112: orientation}, compression="tiff_lzw")
    np.testing.assert_array_equal(read_image(path), small)
    assert image_header(path).width == small.shape[1]
    tifffile = pytest.importorskip("tifffile")  # writes a 16-bit TIFF with an orientation tag
    deep = tmp_path / "o16.tif"
    tifffile.imwrite(deep, stored.astype(np.uint16) * 257, photometric="rgb",
                     extratags=[(0x0112, "H", 1, orientation, True)])
    assert image_header(deep).bit_depth == 16
    np.testing.assert_array_equal(read_image(deep), small)


@pytest.mark.parametrize("orientation, turns", [(6, 1), (8, -1)])
def test_exif_rotated_jpeg_comes_back_upright(tmp_path, face, orientation, turns):
    upright = face[:, 100:1200]  # 1350 high, 1100 wide
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(tmp_path, "rotated.jpg", np.ascontiguousarray(np.rot90(upright, turns)),
                quality=95, exif=exif)
    rgb = read_image(path)
    assert rgb.shape == upright.shape
    assert np.abs(rgb.astype(int) - upright).mean() < 2  # JPEG re-encoding noise only
    header = image_header(path)
    assert (header.width, header.height, header.exif_orientation) == (1100, 1350, orientation)


@pytest.mark.parametrize("reduce", [2, 4, 8])
def test_reduce_jpeg_is_a_fast_downscale(face_file, face, reduce):
    rgb = read_image(face_file, reduce=reduce)
    side = -(-1350 // reduce)  # libjpeg's DCT scaling rounds up
    assert rgb.shape == (side, side, 3) and rgb.flags.c_contiguous
    reference = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    assert np.abs(rgb.astype(int) - reference).mean() < 2.5


@pytest.mark.parametrize("reduce", [2, 4, 8])
def test_reduce_rotated_and_png(tmp_path, face, reduce):
    upright = face[:, 100:1200]
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = np.ascontiguousarray(np.rot90(upright, 1))
    jpeg = save(tmp_path, "r.jpg", stored, quality=95, exif=exif)
    png = save(tmp_path, "r.png", upright)
    expected = (-(-1350 // reduce), -(-1100 // reduce), 3)
    reference = cv2.resize(upright, expected[1::-1], interpolation=cv2.INTER_AREA)
    for path in (jpeg, png):
        rgb = read_image(path, reduce=reduce)
        assert rgb.shape == expected, path
        assert np.abs(rgb.astype(int) - reference).mean() < 2.5, path


def test_reduce_jpeg_uses_dct_scaling(face_file, tmp_path, monkeypatch):
    """Both JPEG decoders are set to a quarter size, not the image resized afterwards."""
    from pigmentscan.io import images

    requests = []
    draft, imdecode = JpegImagePlugin.JpegImageFile.draft, cv2.imdecode

    def spy_draft(self, mode, size):
        result = draft(self, mode, size)
        requests.append(("pillow", size, self.size))
        return result

    def spy_imdecode(data, flags):
        requests.append(("opencv", flags & ~cv2.IMREAD_IGNORE_ORIENTATION))
        return imdecode(data, flags)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy_draft)
    monkeypatch.setattr(images.cv2, "imdecode", spy_imdecode)
    # a plain JPEG: OpenCV's libjpeg, DCT-scaled
    assert read_image(face_file, reduce=4).shape == (338, 338, 3)
    assert requests == [("opencv", cv2.IMREAD_REDUCED_COLOR_4)]
    # a JPEG with an ICC profile: Pillow's draft mode
    requests.clear()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_icc = tmp_path / "icc.jpg"
    Image.open(face_file).save(with_icc, quality=90, icc_profile=icc)
    assert read_image(with_icc, reduce=4).shape == (338, 338, 3)
    assert requests == [("pillow", (337, 337), (338, 338))]


@pytest.mark.parametrize("reduce", [1, 2, 4])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_opencv_jpeg_decode_equals_pillows(tmp_path, small, orientation, reduce, monkeypatch):
    """Plain JPEGs are decoded by OpenCV: the very pixels Pillow gives, every EXIF orientation."""
    from pigmentscan.io import images

    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(tmp_path, "o.jpg", small, quality=90, exif=exif)
    rgb = read_image(path, reduce=reduce)
    monkeypatch.setattr(images, "_plain_jpeg", lambda *args: None)  # Pillow's path only
    np.testing.assert_array_equal(rgb, read_image(path, reduce=reduce))
    if reduce == 1:  # and the orientation is the one ImageOps applies
        np.testing.assert_array_equal(rgb, np.array(ImageOps.exif_transpose(Image.open(path)).convert("RGB")))


def test_jpeg_without_its_end_marker_is_refused(tmp_path, face_file):
    """OpenCV would decode it (grey where data is missing): such a file goes to Pillow, which refuses it."""
    path = tmp_path / "no_eoi.jpg"
    path.write_bytes(face_file.read_bytes()[:-2])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(path)


def test_reduce_must_be_a_dct_factor(face_file):
    with pytest.raises(ValueError, match="reduce"):
        read_image(face_file, reduce=3)


def test_linear_icc_profile_is_converted_to_srgb(tmp_path, small):
    icc = linear_srgb_icc()
    ImageCms.ImageCmsProfile(io.BytesIO(icc))  # the test profile itself is valid
    grey = np.full((80, 80, 3), 51, np.uint8)  # linear 0.2 -> sRGB 0.4845 -> 123.6
    rgb = read_image(save(tmp_path, "g.png", grey, icc_profile=icc))
    np.testing.assert_allclose(rgb, 124, atol=1)
    expected = 255 * srgb_encode(small / 255.0)
    path = save(tmp_path, "lin.png", small, icc_profile=icc)
    assert image_header(path).has_icc_profile
    rgb = read_image(path).astype(float)
    assert np.abs(rgb - expected).mean() < 0.6
    assert np.abs(rgb - expected).max() <= 3
    # through the JPEG decoder too (APP2 ICC_PROFILE segment)
    jpeg = save(tmp_path, "lin.jpg", small, icc_profile=icc, quality=95)
    decoded = np.array(Image.open(jpeg).convert("RGB")) / 255.0
    assert np.abs(read_image(jpeg) - 255 * srgb_encode(decoded)).mean() < 0.6


def test_srgb_icc_profile_leaves_pixels_alone(tmp_path, small):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = read_image(save(tmp_path, "s.png", small, icc_profile=icc))
    assert np.abs(rgb.astype(int) - small).max() <= 1


# ----------------------------------------------------------------------------- hostile


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("patient notes, not a photo\n" * 20)
    assert_refused(path, "not a JPEG, PNG or TIFF image")


def test_gif_is_not_accepted(tmp_path, small):
    assert_refused(save(tmp_path, "anim.jpg", small, format="GIF"), "not a JPEG, PNG or TIFF")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert_refused(path, "empty file")


@pytest.mark.parametrize("name", ["half.jpg", "half.png", "half16.png", "half16.tif"])
def test_truncated(tmp_path, small, name):
    path = tmp_path / name
    if "16" in name:
        write_16bit(path, small.astype(np.uint16) * 257)
    else:
        Image.fromarray(small).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = assert_refused(path)
    assert "truncated" in message or "corrupt" in message, message


@pytest.mark.parametrize("mode, suffix", [("L", ".jpg"), ("L", ".png"), ("LA", ".png"),
                                          ("1", ".png"), ("L", ".tif")])
def test_grayscale_refused(tmp_path, small, mode, suffix):
    path = tmp_path / f"grey{suffix}"
    Image.fromarray(small).convert(mode).save(path)
    assert_refused(path, "grayscale image: colour is the measurement, "
                         "pigmentscan needs an RGB photo")


def test_grayscale_16bit_png_refused(tmp_path, small):
    path = tmp_path / "grey16.png"
    assert cv2.imwrite(str(path), cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257)
    assert_refused(path, "grayscale image")


def test_too_small(tmp_path, small):
    path = save(tmp_path, "tiny.png", np.ascontiguousarray(small[:24, :24]))
    assert_refused(path, "image is 24×24 pixels, too small to find a face")
    short = MIN_IMAGE_SIDE_PX - 1  # one pixel under the limit is refused, the limit itself is read
    path = save(tmp_path, "strip.jpg", np.ascontiguousarray(small[:short]))
    assert_refused(path, f"image is 300×{short} pixels")
    path = save(tmp_path, "least.png", np.ascontiguousarray(small[:MIN_IMAGE_SIDE_PX]))
    assert read_image(path).shape == (MIN_IMAGE_SIDE_PX, 300, 3)


def bomb_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def test_decompression_bomb_png_refused_from_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(20000, 20000))
    assert path.stat().st_size < 200
    assert image_header(path).width == 20000  # the header is readable ...
    start = time.perf_counter()
    assert 20000 * 20000 > MAX_IMAGE_PIXELS  # the default limit is what refuses it
    assert_refused(path, f"claims 20000×20000 pixels (400 MP), above the limit of {MAX_IMAGE_PIXELS / 1e6:g} MP",
                   "refusing to decode (decompression bomb?)")
    assert time.perf_counter() - start < 0.5  # ... and nothing was allocated or decoded


def test_decompression_bomb_jpeg_refused_from_header(tmp_path, small):
    data = bytearray(cv2.imencode(".jpg", small)[1].tobytes())
    sof = data.index(b"\xff\xc0")  # baseline SOF0: length(2) precision(1) height(2) width(2)
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30000, 30000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    assert_refused(path, "claims 30000×30000 pixels (900 MP)", "decompression bomb?")


def test_max_pixels_is_the_limit(face_file):
    limit = r"1350×1350 pixels \(1.82 MP\), above the limit of 1 MP"
    with pytest.raises(ImageReadError, match=limit):
        read_image(face_file, max_pixels=1_000_000)
    assert read_image(face_file, max_pixels=1350 * 1350).shape == (1350, 1350, 3)


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "nowhere.jpg", "no such file")


def test_directory(tmp_path):
    (tmp_path / "folder.jpg").mkdir()
    assert_refused(tmp_path / "folder.jpg", "is a folder, not an image file")


def test_permission_denied_is_reported(tmp_path, small, monkeypatch):
    path = save(tmp_path, "locked.jpg", small)

    real_open = os.open

    def refuse(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)  # inputs are opened by os.open (pigmentscan.io.open_input); works as root
    assert_refused(path, "permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path, small):
    path = save(tmp_path, "locked.jpg", small)
    path.chmod(0)
    try:
        assert_refused(path, "permission denied")
    finally:
        path.chmod(0o644)


def test_broken_icc_profile_refused(tmp_path, small):
    path = save(tmp_path, "badicc.jpg", small, icc_profile=b"this is not a colour profile" * 4)
    assert_refused(path, "ICC colour profile cannot be applied")


def test_header_errors_name_the_file(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(ImageReadError) as info:
        image_header(path)
    assert str(info.value).startswith(str(path))
    assert isinstance(info.value, PigmentScanError)


# ----------------------------------------------------------------------------- header


def test_image_header(tmp_path, small):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    header = image_header(save(tmp_path, "h.png", small, icc_profile=icc))
    assert header == ImageHeader(300, 360, "PNG", "RGB", 8, True, 1)
    assert header.to_dict()["bit_depth"] == 8
    with pytest.raises(Exception):
        header.width = 1  # frozen


# ----------------------------------------------------------------------------- arrays


def test_as_rgb_array_accepts(small):
    assert as_rgb_array(small) is small  # contiguous uint8 passes through
    strided = small[:, ::2]
    out = as_rgb_array(strided)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, strided)
    np.testing.assert_array_equal(as_rgb_array(np.dstack([small, small[..., :1]])), small)
    np.testing.assert_array_equal(as_rgb_array(small.astype(np.uint16) * 257), small)
    np.testing.assert_array_equal(as_rgb_array(small / 255.0), small)
    np.testing.assert_array_equal(as_rgb_array((small / 255.0).astype(np.float32)), small)


@pytest.mark.parametrize(
    "array, fragment",
    [
        (np.zeros((100, 100), np.uint8), "grayscale image"),
        (np.zeros((100, 100, 1), np.uint8), "grayscale image"),
        (np.zeros((100, 100, 5), np.uint8), "shape (H, W, 3)"),
        (np.zeros((5, 100, 100, 3), np.uint8), "shape (H, W, 3)"),
        (np.zeros((100, 100, 3), np.int32), "unsupported image dtype int32"),
        (np.zeros((100, 100, 3), bool), "unsupported image dtype bool"),
        (np.full((100, 100, 3), np.nan), "NaN"),
        (np.full((100, 100, 3), 2.0), "[0, 1]"),
        (np.zeros((24, 24, 3), np.uint8), "image is 24×24 pixels, too small"),
        ("not an array", "shape (H, W, 3)"),
    ],
)
def test_as_rgb_array_refuses(array, fragment):
    with pytest.raises(ImageReadError) as info:
        as_rgb_array(array, source="upload #3")
    assert str(info.value).startswith("upload #3: ")
    assert fragment in str(info.value)


def test_load_rgb_dispatches(face_file, face, small):
    rgb, source = load_rgb(str(face_file))
    assert source == str(face_file)
    np.testing.assert_array_equal(rgb, face)
    rgb, source = load_rgb(face_file, reduce=2)
    assert rgb.shape == (675, 675, 3)
    rgb, source = load_rgb(small)
    assert source == "<array>" and rgb is small
    rgb, _ = load_rgb(small, reduce=4)
    assert rgb.shape == (90, 75, 3)


# ----------------------------------------------------------------------------- writing


def test_write_png_carries_no_metadata(tmp_path, small):
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0132] = "2024:05:01 10:00:00"  # DateTime
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = save(tmp_path, "photo.jpg", small, exif=exif, icc_profile=icc, quality=95)
    assert Image.open(source).getexif().get_ifd(0x8825)[2] == (48.0, 51.0, 24.0)  # has GPS

    out = write_png(tmp_path / "out" / "overlay.png", read_image(source))
    assert out == tmp_path / "out" / "overlay.png"
    kinds = png_chunk_types(out.read_bytes())
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert set(kinds) == {b"IHDR", b"IDAT", b"IEND"}
    written = Image.open(out)
    assert not written.getexif()
    assert "icc_profile" not in written.info and "exif" not in written.info
    assert b"Canon" not in out.read_bytes()
    np.testing.assert_array_equal(np.array(written), read_image(source))
    assert sorted(p.name for p in out.parent.iterdir()) == ["overlay.png"]  # no temp file left


def test_write_png_refuses_non_rgb(tmp_path):
    with pytest.raises(ValueError):
        write_png(tmp_path / "x.png", np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        write_png(tmp_path / "x.png", np.zeros((10, 10, 3), np.float32))
    assert not (tmp_path / "x.png").exists()


# ----------------------------------------------------------------------------- fuzz


@pytest.fixture(scope="module")
def fuzz_bases(face, tmp_path_factory):
    """Small real files to mutate: JPEG with EXIF, PNG, TIFF, and 16-bit PNG and TIFF."""
    crop = np.ascontiguousarray(cv2.resize(face[200:1100, 300:1050], (75, 90)))
    exif = Image.Exif()
    exif[0x0112] = 6
    bases = {}
    for name, kwargs in {"jpg": {"quality": 80, "exif": exif}, "png": {}, "tif": {}}.items():
        buffer = io.BytesIO()
        kind = {"jpg": "JPEG", "tif": "TIFF"}.get(name, "PNG")
        Image.fromarray(crop).save(buffer, format=kind, **kwargs)
        bases[name] = buffer.getvalue()
    for suffix in ("png", "tif"):
        encoded = cv2.imencode(f".{suffix}", crop.astype(np.uint16) * 257)[1]
        bases[f"{suffix}16"] = encoded.tobytes()
    return bases, tmp_path_factory.mktemp("fuzz")


position = st.one_of(st.integers(0, 400), st.integers(0, 1 << 20))
mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(1, 255)),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), position, st.integers(1, 64)),
    st.tuples(st.just("truncate"), position, st.none()),
)


def mutate(data: bytes, mutations) -> bytes:
    buffer = bytearray(data)
    for kind, where, arg in mutations:
        where %= max(len(buffer), 1)
        if kind == "flip" and buffer:
            buffer[where] ^= arg
        elif kind == "insert":
            buffer[where:where] = arg
        elif kind == "delete":
            del buffer[where : where + arg]
        elif kind == "truncate":
            del buffer[where:]
    return bytes(buffer)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(["jpg", "png", "png16", "tif", "tif16"]),
       mutations=st.lists(mutation, min_size=1, max_size=4))
def test_fuzzed_files_raise_only_image_read_error(fuzz_bases, base, mutations):
    bases, folder = fuzz_bases
    path = folder / f"fuzz.{base.removesuffix('16')}"
    path.write_bytes(mutate(bases[base], mutations))
    try:
        rgb = read_image(path)
    except ImageReadError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
