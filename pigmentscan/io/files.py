"""Reading input files safely, writing output files safely, and finding photos in folders.

Inputs are opened only when they are regular files (:func:`open_input`): a named pipe, a
device such as ``/dev/zero`` or a folder is refused at once instead of hanging or reading
forever, and :func:`read_input` reads at most the size a caller allows, whatever size the file
reports. Outputs are written atomically (:func:`atomic_open`: a temporary file beside the
target, then a rename) with the permissions the user's umask gives a new file, and never over
a file named by :func:`protect_inputs`.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import secrets
import stat
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageReadError, MapsError, OutputError, PigmentScanError

#: File endings searched for when a folder is given (CONTRACT.md).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words: ``"a regular file"``, ``"a folder"``, ``"a named pipe (FIFO)"``, ...

    Examples
    --------
    >>> file_kind(os.stat(".").st_mode)
    'a folder'
    """
    return next((name for test, name in _KINDS if test(mode)), "a regular file" if stat.S_ISREG(mode) else "a special file")


def open_input(path, *, error=PigmentScanError):
    """Open an input file for binary reading, refusing anything but a regular file.

    The file is opened without blocking and checked on the open descriptor (no race with a
    file swapped in between): a named pipe, ``/dev/zero``, a socket or a folder is refused at
    once rather than hanging the command or reading forever.

    Parameters
    ----------
    path : str or os.PathLike
    error : type
        The :class:`~pigmentscan.errors.PigmentScanError` subclass raised, naming ``path``.

    Returns
    -------
    io.BufferedReader
        Use it as a context manager.

    Raises
    ------
    PigmentScanError
        Of class ``error``: no such file, permission denied, not a regular file, unreadable.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(path, "no such file") from None
    except PermissionError:
        raise error(path, "permission denied: cannot read the file") from None
    except OSError as exc:
        raise error(path, f"cannot open the file ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(path, f"is {file_kind(mode)}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path, *, max_bytes: int, what: str = "an input file", error=PigmentScanError) -> bytes:
    """The bytes of a regular input file of at most ``max_bytes`` (:func:`open_input`).

    The limit is enforced on the bytes actually read, not on the size the file system
    reports (which a special or growing file can misstate).

    Raises
    ------
    PigmentScanError
        Of class ``error``, naming ``path``: as :func:`open_input`, or larger than ``max_bytes``.
    """
    with open_input(path, error=error) as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise error(path, f"cannot read the file ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise error(path, f"larger than {max_bytes / 1e6:g} MB: not {what}")
    return data


# --------------------------------------------------------------------------- outputs

_PROTECTED: contextvars.ContextVar[frozenset] = contextvars.ContextVar("pigmentscan_protected_inputs",
                                                                       default=frozenset())


def _identities(path) -> set:
    """(device, inode) of a path and, when it is a link, of what it points to; empty when absent."""
    found = set()
    for follow in (False, True):
        with contextlib.suppress(OSError, ValueError):
            info = os.stat(path, follow_symlinks=follow)
            found.add((info.st_dev, info.st_ino))
    return found


@contextlib.contextmanager
def protect_inputs(paths):
    """While the ``with`` block runs, :func:`atomic_open` refuses to replace any of ``paths``.

    The last line of defence under :func:`pigmentscan.io.check_outputs`: whatever a command
    writes, in this process, cannot land on one of its inputs (a file is recognised by its
    device and inode, so another name or a link to it is recognised too).
    """
    keys = set(_PROTECTED.get())
    for path in paths:
        if path is not None:
            keys |= _identities(path)
    token = _PROTECTED.set(frozenset(keys))
    try:
        yield
    finally:
        _PROTECTED.reset(token)


def is_protected(path) -> bool:
    """Whether ``path`` is an input named by an enclosing :func:`protect_inputs`."""
    protected = _PROTECTED.get()
    return bool(protected) and not protected.isdisjoint(_identities(path))


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", **kwargs):
    """Open a temporary file beside ``path`` and move it over ``path`` on success.

    A crash or exception inside the ``with`` block leaves ``path`` as it was (or
    absent): no half-written output file is ever seen under the final name. The file gets
    the permissions the process's umask gives any new file (``0o666 & ~umask``).

    Raises
    ------
    OutputError
        If ``path`` is an input named by an enclosing :func:`protect_inputs`.
    """
    path = Path(path)
    if is_protected(path):
        raise OutputError(path, "is an input of this command: pigmentscan never writes over its inputs")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)  # umask applies
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


def remove_stale(path) -> None:
    """Remove an output left by an earlier run (a failed photo's old overlay); nothing if absent.

    Only a regular file or a link is removed, and never an input named by :func:`protect_inputs`.
    """
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        if not is_protected(path) and not path.is_dir():
            path.unlink()


def display_path(path) -> str:
    """A path as text that any output can hold: a file name's undecodable bytes shown as ``\\xNN``.

    On POSIX a file name is bytes; one that is not UTF-8 (``caf\\xe9.jpg`` from a Latin-1
    system) reaches Python with surrogate escapes, which no UTF-8 file can hold.

    Examples
    --------
    >>> display_path(os.fsdecode(b"caf\\xe9.jpg")), display_path("Zoë.jpg")
    ('caf\\\\xe9.jpg', 'Zoë.jpg')
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


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
        Naming the file: missing, not a regular file (a named pipe is refused, not waited
        on), not an npz archive, or holding pickled objects.
    """
    import zipfile

    try:
        with open_input(path, error=MapsError) as handle, np.load(handle, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, TypeError, AttributeError, zipfile.BadZipFile) as error:  # .npy: no archive
        raise MapsError(path, f"not a readable npz archive of plain arrays ({error})") from None
