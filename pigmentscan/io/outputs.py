"""The output-path guard every command runs before any work: :func:`check_outputs`.

pigmentscan promises that it never writes over one of its inputs, never writes two outputs to
one file, and never finds out only at the end of a run that an output cannot be written.
Each command (and :func:`pigmentscan.score_images` and :func:`pigmentscan.batch.run_batch` for
the files only they know, such as the overlays) lists what it will write and what it reads, and
:func:`check_outputs` refuses, with one line naming the file and the reason:

- an output file that *is* an input (the same file, whatever the name or link that leads to it:
  ``--overlays`` into the folder of the PNG photos it scores, ``--out`` or ``--report`` on a photo);
- two outputs on one file (``--out`` and ``--report`` the same);
- an output that is a folder where a file is meant, a file where a folder is meant, a symbolic
  link (pigmentscan never writes through one: a link ``DIR/scores.csv`` would carry the batch's
  writes outside ``DIR``) or a special file (``/dev/null``, a named pipe);
- an output whose folder cannot be created or written (checked by creating a file there and
  removing it at once), so a bad path fails in a second instead of after hours of scoring;
- an input inside a folder the command owns entirely (a batch's ``maps/``).

:func:`pigmentscan.io.protect_inputs` then keeps the inputs safe from anything the command
writes in its own process, whatever the file's name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from ..errors import OutputError
from .files import file_kind

__all__ = ["check_outputs"]


def _identity(path: Path):
    """(device, inode) of an existing path (links followed), else None."""
    try:
        info = path.stat()
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _probe_folder(folder: Path, label: str) -> None:
    """Refuse a folder that cannot be created or written: try to create a file in it (or in the
    nearest folder above it that exists) and remove it again."""
    existing = folder
    while not os.path.lexists(existing):
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        what = file_kind(existing.stat().st_mode) if existing.exists() else "missing"
        raise OutputError(folder, f"{label}: cannot write here: {existing} is {what}, not a folder")
    probe = existing / f".pigmentscan-write-test-{secrets.token_hex(6)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise OutputError(folder, f"{label}: cannot write in {existing} ({error.strerror or error})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _check_file(path: Path, label: str) -> None:
    """Refuse an existing output file that is a link, a folder or a special file."""
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):  # the folder check says why it cannot be written
        return
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(path, f"{label}: is a symbolic link; pigmentscan never writes through one "
                                "(remove the link or choose another name)")
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(path, f"{label}: exists and is {file_kind(info.st_mode)}, not a file")


def _check_folder(path: Path, label: str) -> None:
    if os.path.lexists(path) and not path.is_dir():
        raise OutputError(path, f"{label}: exists and is {file_kind(path.lstat().st_mode)}, not a folder")
    _probe_folder(path, label)


def check_outputs(files=(), folders=(), inputs=(), owned_folders=()) -> None:
    """Refuse, before any work is done, outputs that would replace an input or each other, or cannot be written.

    Parameters
    ----------
    files : iterable of (str, path)
        Each output file with the name the user knows it by (``"--out"``, ``"--report"``,
        ``"--overlays DIR (overlay of a.png)"``).
    folders : iterable of (str, path)
        Output folders, created later if missing.
    inputs : iterable of path
        Every file the command reads (photos, manifest, model, limits); ``None`` entries and
        missing files are ignored (they cannot be overwritten).
    owned_folders : iterable of path
        Folders whose whole content the command writes: no input may lie inside one.

    Raises
    ------
    OutputError
        Naming the output and the reason; see the module docstring for the rules.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "a.png").write_bytes(b"a photo")
    7
    >>> check_outputs([("--out", folder / "s.csv")], inputs=[folder / "a.png"])
    >>> check_outputs([("--overlays", folder / "a.png")], inputs=[folder / "a.png"])
    Traceback (most recent call last):
    ...
    pigmentscan.errors.OutputError: ...a.png: --overlays would replace the input ...a.png; ...
    """
    files = [(label, Path(path)) for label, path in files if path is not None]
    folders = [(label, Path(path)) for label, path in folders if path is not None]
    inputs = [Path(path) for path in inputs if path is not None]
    for label, folder in folders:
        _check_folder(folder, label)
    parents: dict = {}  # each folder probed once, its real path found once
    seen: dict = {}
    existing = {}
    for label, path in files:
        _check_file(path, label)
        if path.parent not in parents:
            _probe_folder(path.parent, label)
            parents[path.parent] = Path(os.path.realpath(path.parent))
        key = os.path.normcase(str(parents[path.parent] / path.name))
        if key in seen:
            raise OutputError(path, f"{label} and {seen[key]} are the same file: give each output its own name")
        seen[key] = label
        identity = _identity(path)
        if identity is not None:
            existing[identity] = (label, path)
    for source in inputs if existing else ():  # only an output that exists can be an input
        identity = _identity(source)
        if identity in existing:
            label, path = existing[identity]
            raise OutputError(path, f"{label} would replace the input {source}; "
                                    "pigmentscan never writes over its inputs: choose another output")
    for folder in owned_folders:
        if not os.path.isdir(folder):
            continue  # nothing can be inside it yet
        root = os.path.realpath(folder)
        for source in inputs:
            if os.path.realpath(source).startswith(root + os.sep):
                raise OutputError(source, f"is an input inside {folder}, a folder pigmentscan writes: move it out")
