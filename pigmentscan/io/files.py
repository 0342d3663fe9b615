"""Writing output files safely, and finding photos in folders."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageReadError, MapsError
#: File endings searched for when a folder is given (CONTRACT.md).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", **kwargs):
    """Open a temporary file beside ``path`` and move it over ``path`` on success.

    A crash or exception inside the ``with`` block leaves ``path`` as it was (or
    absent): no half-written output file is ever seen under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + rename)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary file + rename)."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return Path(path)


def find_images(paths) -> list[Path]:
    """Expand files and folders into a sorted list of image files.

    Folders are searched recursively for :data:`IMAGE_SUFFIXES` (case-insensitive);
    hidden files and folders are skipped. A named file is kept whatever its ending,
    so that a mistyped file becomes an error row rather than silently vanishing.

    Raises
    ------
    ImageReadError
        If a named path does not exist.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES:
                    found.append(child)
        elif path.exists():
            found.append(path)
        else:
            raise ImageReadError(path, "no such file or folder")
    return found


# --------------------------------------------------------------------------- photos

#: Largest image decoded, in pixels. The largest sensors used in clinical photography
#: give about 60 MP; a header claiming more than 100 MP is a corrupt or hostile file
#: (a "decompression bomb": a few bytes that would expand to gigabytes), not a face photo.

def write_png(path, rgb) -> Path:
    """Write an RGB uint8 (H, W, 3) array as a PNG, atomically.

    The file holds pixels only (IHDR, IDAT, IEND): no EXIF, GPS, ICC or text chunk
    from any source photo can leak into it.

    Raises
    ------
    ValueError
        If ``rgb`` is not uint8 of shape (H, W, 3).
    OSError
        If the file cannot be written.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"write_png needs uint8 (H, W, 3), got {rgb.dtype} {rgb.shape}")
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("OpenCV could not encode the image as PNG")
    return atomic_write_bytes(path, encoded.tobytes())


# --------------------------------------------------------------------------- tables


def npz_bytes(arrays: dict) -> bytes:
    """Compressed ``.npz`` bytes of named numpy arrays (no pickled objects)."""
    import io as _bytes_io

    buffer = _bytes_io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


def read_npz(path) -> dict:
    """The arrays of an ``.npz`` file, refusing pickled objects (a stranger's file must not run code).

    Raises
    ------
    MapsError
        Naming the file: missing, not an npz archive, or holding pickled objects.
    """
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise MapsError(path, "no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise MapsError(path, f"not a readable npz archive of plain arrays ({error})") from None
