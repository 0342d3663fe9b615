"""``scores.csv`` as a journal while a batch runs: append-only, fsynced, repaired on restart; one batch per folder.

The journal is never held in memory: :class:`Journal` keeps one byte offset per line and reads
a row back only when it is needed (an earlier row to reuse, the final rewrite in manifest
order), so the memory of the process that runs a batch does not grow with the trial. Lines are
written by :func:`pigmentscan.io.table_line`, the one-line form of the one CSV writer, so a
reused row and a new one are written alike.
"""

from __future__ import annotations

import contextlib
import csv
import io as _stdio
import math
import os
import signal
import threading
from array import array
from pathlib import Path

from ..errors import PigmentScanError
from ..io import SCORES_TEXT_COLUMNS, atomic_open, table_line, unescape_formula
from ..pipeline import rows_to_frame

SCORES_NAME = "scores.csv"
_LOCK_NAME = ".batch.lock"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # the journal is never written through a link
#: Columns read back as text whatever they hold (an all-digit SHA-256 stays text).
TEXT_COLUMNS = frozenset(SCORES_TEXT_COLUMNS) | {"image_sha256", "quality_limits", "error_type", "qc_status", "qc_reasons"}


def _repair(path: Path) -> None:
    """Cut a trailing partial line (the process died in mid-write) off the file."""
    try:
        fd = os.open(path, os.O_RDWR | _NOFOLLOW)
    except FileNotFoundError:
        return
    with os.fdopen(fd, "r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        cut, position = 0, size
        while position > 0 and not cut:  # the last newline, read backwards in blocks
            start = max(0, position - (1 << 16))
            handle.seek(start)
            block = handle.read(position - start)
            found = block.rfind(b"\n")
            cut = start + found + 1 if found >= 0 else 0
            position = start if found < 0 else 0
        handle.truncate(cut)
        handle.flush()
        os.fsync(handle.fileno())


def _fields(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8-sig", errors="replace")]), [])


def read_journal(path) -> list[dict]:
    """Rows of a scores CSV being written by :func:`run_batch` (all values as text, as written).

    A trailing partial line (the process died in mid-write) is cut off the file first;
    lines whose number of fields does not match the header are ignored.
    """
    path = Path(path)
    _repair(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = list(csv.reader(_stdio.StringIO(data.decode("utf-8-sig", errors="replace"))))
    if not lines:
        return []
    header = lines[0]
    return [dict(zip(header, line)) for line in lines[1:] if len(line) == len(header)]


def typed_cell(column: str, text: str):
    """A journal cell back as the value it was written from (:func:`pigmentscan.io.format_cell`'s inverse).

    Text columns stay text; elsewhere ``""`` is NaN, ``True``/``False`` booleans, and numbers
    numbers. Formula escapes are undone.

    Examples
    --------
    >>> typed_cell("subject", "001"), typed_cell("masi", "1"), typed_cell("masi", ""), typed_cell("error", "'=x")
    ('001', 1, nan, '=x')
    """
    if column in TEXT_COLUMNS:
        return unescape_formula(text)
    if text == "":
        return math.nan
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return unescape_formula(text)


def ordered_columns(columns) -> list[str]:
    """Columns in scores-CSV order (CONTRACT.md first), as :func:`rows_to_frame` orders them."""
    return list(rows_to_frame([dict.fromkeys(columns, "")]).columns)


class Journal:
    """``scores.csv`` while a batch runs: one complete, fsynced line appended per finished photo.

    Rows are known by their ordinal (0 for the first line after the header); only their byte
    offsets are kept. A row with columns the header lacks widens the header (the file is
    rewritten line by line, atomically).

    Parameters
    ----------
    path : pathlib.Path
        Created if missing; a trailing partial line is cut off first.
    drop : iterable of str
        Columns to remove from the rows already there (trial metadata the manifest no
        longer has must not survive in the file).
    """

    def __init__(self, path: Path, drop=()):
        self.path, self.header, self.offsets = Path(path), [], array("q")
        self._append = self._read = None
        _repair(self.path)
        self._scan()
        if set(drop) & set(self.header):
            self._rewrite([c for c in self.header if c not in set(drop)])

    def _scan(self) -> None:
        """Index the lines of the file; lines whose field count does not match the header are skipped."""
        self.offsets = array("q")
        self._close()
        try:
            handle = open(os.open(self.path, os.O_RDONLY | _NOFOLLOW), "rb")
        except FileNotFoundError:
            self.header = []
            return
        with handle:
            first = handle.readline()
            self.header = _fields(first) if first.strip() else []
            offset = handle.tell()
            for line in iter(handle.readline, b""):
                if len(_fields(line)) == len(self.header):
                    self.offsets.append(offset)
                offset += len(line)

    def __len__(self) -> int:
        return len(self.offsets)

    def _reader(self):
        if self._read is None:
            self._read = open(os.open(self.path, os.O_RDONLY | _NOFOLLOW), "rb")
        return self._read

    def row(self, ordinal: int, columns=None) -> dict:
        """The row at ``ordinal``, its values typed (:func:`typed_cell`); only ``columns`` when given."""
        handle = self._reader()
        handle.seek(self.offsets[ordinal])
        cells = zip(self.header, _fields(handle.readline()))
        return {c: typed_cell(c, v) for c, v in cells if columns is None or c in columns}

    def rows(self, columns=None):
        """``(ordinal, row)`` for every row, read one at a time (only ``columns`` when given)."""
        for ordinal in range(len(self.offsets)):
            yield ordinal, self.row(ordinal, columns)

    def _rewrite(self, header: list[str]) -> None:
        """Write every row again under ``header`` (atomically), then index the new file."""
        with atomic_open(self.path, "w", encoding="utf-8", newline="") as out:
            out.write(table_line(header))
            for _, row in self.rows():
                out.write(table_line(row.get(c, "") for c in header))
        self._scan()

    def append(self, row: dict) -> int:
        """Append one row (fsynced before returning); returns its ordinal."""
        if not self.header or not set(row) <= set(self.header):  # first row, or new columns: a wider header
            self._rewrite(ordered_columns(list(self.header) + [c for c in row if c not in self.header]))
        if self._append is None:
            self._append = open(os.open(self.path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW), "ab")
        offset = self._append.seek(0, os.SEEK_END)
        self._append.write(table_line(row.get(c, "") for c in self.header).encode("utf-8"))
        self._append.flush()
        os.fsync(self._append.fileno())
        self.offsets.append(offset)
        return len(self.offsets) - 1

    def write_ordered(self, path: Path, ordinals, update) -> int:
        """Write the rows at ``ordinals``, in that order, to ``path`` (atomically); returns the error rows.

        ``update(position, row) -> row`` gives each row its final form (the manifest's current
        identity columns); the header is every column of the updated rows, in scores-CSV order.
        """
        def final_rows():
            for position, ordinal in enumerate(ordinals):
                yield update(position, self.row(ordinal))

        columns = {}
        for row in final_rows():  # a first pass finds the columns, reading one row at a time
            columns.update(dict.fromkeys(row))
        header = ordered_columns(columns)
        errors = 0
        with atomic_open(path, "w", encoding="utf-8", newline="") as out:
            out.write(table_line(header))
            for row in final_rows():
                errors += row.get("status") == "error"
                out.write(table_line(row.get(c, "") for c in header))
        self._scan()
        return errors

    def _close(self) -> None:
        for handle in (self._append, self._read):
            if handle is not None:
                handle.close()
        self._append = self._read = None

    def close(self) -> None:
        self._close()


@contextlib.contextmanager
def exclusive_folder(folder: Path):
    """One batch at a time per output folder: a context manager holding an advisory lock on
    ``folder/.batch.lock`` (a no-op where fcntl is missing).

    Raises
    ------
    PigmentScanError
        Naming the folder, when another batch holds it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder / _LOCK_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o666)
    with os.fdopen(fd, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PigmentScanError(folder, "another pigmentscan batch is writing into this folder; wait for it "
                                           "or choose another --out folder") from None
        yield


@contextlib.contextmanager
def sigterm_as_interrupt():
    """``kill`` (SIGTERM) stops the batch like Ctrl-C: workers are shut down, the journal stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
