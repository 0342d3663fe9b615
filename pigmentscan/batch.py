"""Resumable batch scoring of a trial manifest, on local cores or a Dask cluster.

::

    manifest.csv --run_batch--> DIR/scores.csv (+ DIR/overlays/*.png)

Nothing finished is lost: ``scores.csv`` doubles as a journal while the batch runs.
Each row is appended as soon as its photo is done (one complete line, flushed and
fsynced), so a crash, ``kill`` or Ctrl-C leaves a valid CSV; a trailing partial line
(power cut in mid-write) is dropped when the batch starts again. A re-run skips every
photo already scored with the same image content (SHA-256 of the file's bytes, column
``image_sha256``), the same model (``model``, ``name@hash``) and the same pigmentscan
version, and an error row too when the same bytes always give that error (``error_type``
unreadable photo, no face, QC rejection); other errors are tried again. At the end
``scores.csv`` is rewritten atomically in manifest order, one row per manifest row.

Workers only read photos and return rows and overlay PNG bytes: every file is written
by the process that called :func:`run_batch`. Local workers are fresh interpreters
(joblib's loky; MediaPipe is not fork-safe). On a Dask cluster, every worker needs
pigmentscan installed and must see the photos at the paths the manifest resolves to.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io as _stdio
import itertools
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import ManifestError, PigmentScanError
from .io import atomic_open, atomic_write_bytes, atomic_write_text, read_manifest
from .pipeline import error_row, rows_to_frame, score_image, score_row
from .scoring import load_model

__all__ = ["BatchResult", "run_batch", "file_sha256", "read_journal", "IDENTITY_COLUMNS", "SHA_COLUMN"]

#: Manifest columns copied into every scores row.
IDENTITY_COLUMNS = ("subject", "visit", "date", "arm")
#: Scores column holding the SHA-256 of the photo file that was scored.
SHA_COLUMN = "image_sha256"
#: Errors that the same bytes and model always give again: such rows are reused on a re-run
#: (``error_type`` column); any other error (a worker that died, ...) is tried again.
REPRODUCIBLE_ERRORS = ("ImageReadError", "NoFaceError", "QualityError")
SCORES_NAME = "scores.csv"
_LOCK_NAME = ".batch.lock"
_WORKER_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}  # MediaPipe's C++ logging


@dataclass(frozen=True)
class BatchResult:
    """What one :func:`run_batch` did. Every manifest row is in exactly one of the counts.

    Attributes
    ----------
    n_processed : int
        Photos scored in this run (status ``ok`` or ``warn``).
    n_skipped : int
        Photos already scored (``ok`` or ``warn``) by an earlier run with the same content,
        model and version: their rows were reused.
    n_errors : int
        Rows with status ``error`` (unreadable photo, no face, QC rejection, manifest
        problem), whether found in this run or reused from an earlier one.
    scores_path : pathlib.Path
    elapsed_s : float
    """

    n_processed: int
    n_skipped: int
    n_errors: int
    scores_path: Path
    elapsed_s: float

    def to_dict(self) -> dict:
        return {"n_processed": self.n_processed, "n_skipped": self.n_skipped, "n_errors": self.n_errors,
                "scores_path": str(self.scores_path), "elapsed_s": self.elapsed_s}


def file_sha256(path, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes; ``""`` when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(chunk_bytes):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


# --------------------------------------------------------------------------- worker side

def _score_task(task, model) -> dict:
    """Score one photo (runs in a worker): ``{"index", "row", "overlay"}``; never raises."""
    index, image_path, identity, want_overlay = task
    sha = file_sha256(image_path)  # of the bytes this worker scores, even if the file just changed
    try:
        score = score_image(image_path, model=model)
        row = score_row(score, **identity) | {SHA_COLUMN: sha}
        overlay = None
        if want_overlay:
            import cv2

            from .report import render_overlay

            overlay = cv2.imencode(".png", cv2.cvtColor(render_overlay(score), cv2.COLOR_RGB2BGR))[1].tobytes()
    except Exception as error:  # noqa: BLE001 - one photo never stops the batch
        return {"index": index, "row": _error(image_path, error, model.label, identity, sha), "overlay": None}
    return {"index": index, "row": row, "overlay": overlay}


def _error(image, error, model_label: str, identity: dict, sha: str = "") -> dict:
    return error_row(image, error, model=model_label, **identity) | {SHA_COLUMN: sha, "error_type": type(error).__name__}


# --------------------------------------------------------------------------- the journal

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


# --------------------------------------------------------------------------- executors

def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the batch process is gone (even after ``kill -9``)."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="pigmentscan-parent-watch").start()


def _run_local(tasks, model, jobs: int):
    """Yield results as they finish: in this process (1 job) or in loky worker processes."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield _score_task(task, model)
        return
    from concurrent.futures import FIRST_COMPLETED, wait

    from joblib.externals.loky import ProcessPoolExecutor

    # loky workers are fresh interpreters (MediaPipe is not fork-safe) and, unlike
    # multiprocessing's spawn, do not re-run a calling script that lacks a __main__ guard.
    jobs = min(jobs, len(tasks))
    executor = ProcessPoolExecutor(max_workers=jobs, env=_WORKER_ENV, initializer=_exit_with_parent,
                                   initargs=(os.getpid(),))
    waiting, running = iter(tasks), {}
    try:
        while True:
            # At most one task queued per worker beyond the running ones: memory stays flat for any
            # manifest, and an interrupted shutdown has (almost) nothing queued to unwind.
            for task in itertools.islice(waiting, jobs + 1 - len(running)):
                running[executor.submit(_score_task, task, model)] = task
            if not running:
                return
            for future in wait(running, return_when=FIRST_COMPLETED).done:
                task = running.pop(future)
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 - a worker died: an error row, tried again next run
                    result = {"index": task[0], "row": _error(task[1], error, model.label, task[2]), "overlay": None}
                yield result
    finally:
        executor.shutdown(wait=not running, kill_workers=bool(running))


def _run_dask(tasks, model, scheduler):
    """Yield results as they finish on a Dask distributed cluster (address or Client)."""
    from distributed import Client, as_completed

    own = not hasattr(scheduler, "submit")
    client = Client(scheduler, set_as_default=False) if own else scheduler
    futures = {}
    try:
        if tasks:
            model_future = client.scatter(model, broadcast=True)
            futures = {client.submit(_score_task, task, model_future, pure=False): task for task in tasks}
        for future in as_completed(list(futures), loop=client.loop):
            task = futures.pop(future)
            try:
                yield future.result()
            except Exception as error:  # noqa: BLE001 - e.g. KilledWorker: an error row, tried again next run
                yield {"index": task[0], "row": _error(task[1], error, model.label, task[2]), "overlay": None}
            future.release()
    finally:
        if futures:
            client.cancel(list(futures))
        if own:
            client.close()


# --------------------------------------------------------------------------- the batch

def _overlay_names(overlay_dir: Path, manifest) -> list[Path]:
    from .report import overlay_paths

    images = [path or f"row_{i + 2}" for i, path in enumerate(manifest["image_path"])]
    return overlay_paths(overlay_dir, images)


def run_batch(manifest_csv, out_dir, *, model=None, jobs: int | None = None, scheduler=None,
              overlays: bool = True, progress: bool = True) -> BatchResult:
    """Score every photo of a manifest into ``out_dir/scores.csv``, resumably.

    Parameters
    ----------
    manifest_csv : str or os.PathLike
        Manifest (CONTRACT.md): ``image`` and optionally ``subject``, ``visit``, ``date``,
        ``arm``, which are copied into each scores row.
    out_dir : str or os.PathLike
        Folder for ``scores.csv`` and ``overlays/`` (created if needed).
    model : None, path or ScoringModel
        Scoring model; ``None`` for the shipped default.
    jobs : int, optional
        Local worker processes; default all cores. 1 scores in this process.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:8786``) or a connected client: score on
        that cluster instead of local processes (``jobs`` is then ignored).
    overlays : bool
        Write one overlay PNG per scored photo into ``out_dir/overlays`` (a photo whose
        overlay is missing is scored again).
    progress : bool
        Show a progress bar (photos done, rate, time left) on stderr.

    Returns
    -------
    BatchResult

    Raises
    ------
    PigmentScanError
        ``ManifestError`` (unreadable manifest), ``ModelError`` (unusable model), or
        another batch is writing into ``out_dir``.
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after the workers were stopped; finished rows stay in
        ``scores.csv`` and the next run resumes from them.

    Examples
    --------
    >>> result = run_batch("study/manifest.csv", "study/out", jobs=2)  # doctest: +SKIP
    >>> result.n_processed, result.n_skipped, result.n_errors  # doctest: +SKIP
    """
    from tqdm import tqdm

    start = time.perf_counter()
    manifest = read_manifest(manifest_csv).reset_index(drop=True)
    scoring_model = load_model(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scores_path = out / SCORES_NAME
    names = _overlay_names(out / "overlays", manifest) if overlays else [None] * len(manifest)
    identity_columns = [c for c in IDENTITY_COLUMNS if c in manifest.columns]

    with _exclusive(out), _sigterm_as_interrupt():
        previous = read_journal(scores_path)
        reusable = {row[SHA_COLUMN]: row for row in previous
                    if row.get(SHA_COLUMN) and row.get("model") == scoring_model.label
                    and row.get("pigmentscan_version") == __version__
                    and (row.get("status") in ("ok", "warn") or row.get("error_type") in REPRODUCIBLE_ERRORS)}
        final, tasks = {}, []
        for index, record in manifest.iterrows():
            identity = {c: record[c] for c in identity_columns}
            image = record["image_path"] or record["image"]
            if record["manifest_error"]:
                final[index] = _error(image, ManifestError(None, record["manifest_error"]), scoring_model.label,
                                      identity)
                continue
            sha = file_sha256(image)
            earlier = reusable.get(sha) if sha else None
            wants_overlay = names[index] is not None and earlier is not None and earlier["status"] != "error"
            if earlier is not None and not (wants_overlay and not names[index].exists()):
                final[index] = {**earlier, "image": image, **identity, "_skipped": True}
            elif not sha:  # missing or unreadable: the error row costs nothing, no worker needed
                final[index] = _score_task((index, image, identity, False), scoring_model)["row"]
            else:
                tasks.append((index, image, identity, names[index] is not None))

        journal = _Journal(scores_path, previous)
        if progress:
            print(f"{len(manifest)} manifest rows: {len(final)} already scored or unusable, {len(tasks)} to score",
                  file=sys.stderr, flush=True)
        bar = tqdm(total=len(tasks), unit="photo", desc="scoring", file=sys.stderr, disable=not progress or not tasks,
                   dynamic_ncols=True, smoothing=0.1)
        results = (_run_dask(tasks, scoring_model, scheduler) if scheduler is not None
                   else _run_local(tasks, scoring_model, jobs or os.cpu_count() or 1))
        try:
            for result in results:
                index = result["index"]
                if result["overlay"] is not None:
                    atomic_write_bytes(names[index], result["overlay"])
                journal.append(result["row"])
                final[index] = result["row"]
                bar.update(1)
        finally:
            results.close()  # stops the workers when interrupted
            bar.close()
            journal.close()

        rows = [{k: v for k, v in final[i].items() if k != "_skipped"} for i in range(len(manifest))]
        frame = rows_to_frame(rows)
        atomic_write_text(scores_path, frame.to_csv(index=False, lineterminator="\n"))

    n_skipped = sum(1 for row in final.values() if row.get("_skipped") and row["status"] != "error")
    n_errors = int((frame["status"] == "error").sum())
    return BatchResult(n_processed=len(manifest) - n_skipped - n_errors, n_skipped=n_skipped, n_errors=n_errors,
                       scores_path=scores_path, elapsed_s=time.perf_counter() - start)
