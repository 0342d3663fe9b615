"""``scores.csv`` as a journal while a batch runs: append-only, fsynced, repaired on restart; one batch per folder."""

from __future__ import annotations

import contextlib
import csv
import io as _stdio
import math
import os
import signal
import threading
from pathlib import Path

from ..errors import PigmentScanError
from ..io import atomic_open
from ..pipeline import rows_to_frame

SCORES_NAME = "scores.csv"
_LOCK_NAME = ".batch.lock"


def _cell(value) -> str:
    """A CSV cell of the journal: one line always (newlines would break the partial-line repair)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).splitlines()) if isinstance(value, str) else str(value)


def _ordered_columns(columns) -> list[str]:
    """Columns in scores-CSV order (CONTRACT.md first), as :func:`rows_to_frame` orders them."""
    return list(rows_to_frame([dict.fromkeys(columns, "")]).columns)


def read_journal(path) -> list[dict]:
    """Rows of a scores CSV being written by :func:`run_batch` (all values as text).

    A trailing partial line (the process died in mid-write) is cut off the file first;
    lines whose number of fields does not match the header are ignored.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as handle:
            handle.truncate(cut)
            handle.flush()
            os.fsync(handle.fileno())
        data = data[:cut]
    lines = list(csv.reader(_stdio.StringIO(data.decode("utf-8-sig", errors="replace"))))
    if not lines:
        return []
    header = lines[0]
    return [dict(zip(header, line)) for line in lines[1:] if len(line) == len(header)]


def _line(values) -> str:
    buffer = _stdio.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_cell(v) for v in values])
    return buffer.getvalue()


class _Journal:
    """scores.csv while the batch runs: append one complete, fsynced line per finished photo."""

    def __init__(self, path: Path, rows: list[dict]):
        self.path, self.rows, self.header, self.handle = path, list(rows), [], None
        if rows:  # the file exists and is valid: keep appending to it
            self.header, self.handle = list(rows[0]), open(path, "a", encoding="utf-8", newline="")

    def _rewrite(self) -> None:
        if self.handle is not None:
            self.handle.close()
        with atomic_open(self.path, "w", encoding="utf-8", newline="") as handle:
            handle.write(_line(self.header))
            for row in self.rows:
                handle.write(_line(row.get(c, "") for c in self.header))
        self.handle = open(self.path, "a", encoding="utf-8", newline="")

    def append(self, row: dict) -> None:
        self.rows.append(row)
        if not set(row) <= set(self.header):  # first row, or new columns: rewrite with a wider header
            self.header = _ordered_columns(list(self.header) + [c for c in row if c not in self.header])
            self._rewrite()
            return
        self.handle.write(_line(row.get(c, "") for c in self.header))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


@contextlib.contextmanager
def _exclusive(folder: Path):
    """One batch at a time per output folder (advisory lock; no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(folder / _LOCK_NAME, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PigmentScanError(folder, "another pigmentscan batch is writing into this folder; wait for it "
                                           "or choose another --out folder") from None
        yield


@contextlib.contextmanager
def _sigterm_as_interrupt():
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
