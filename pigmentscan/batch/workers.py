"""Worker side of a batch: one photo checked, scored and written (:func:`score_task`), and the
photos run on local processes (:func:`run_local`) or a Dask cluster (:func:`run_dask`).

Where the photo is read, the work on it is done: the worker hashes the photo, decides whether
an earlier run's row still holds (same bytes, overlay and maps present), and writes the
overlay and maps itself, into the output folder (on a cluster, shared storage that every
worker sees at the same path). Only rows travel back to the process that runs the batch.
Both runners keep a bounded number of tasks in flight (:func:`pigmentscan.parallel.bounded`).

A worker that dies, a cancelled task or a cluster without workers is not a photo's fault: such
a task is yielded with its exception instead of a result, and the batch records no row for it
(the next run scores it). A local worker's death stops the run (:class:`WorkersLost`); a Dask
cluster reschedules a lost worker's tasks itself, and the run stops only when the cluster has
had no worker for :data:`NO_WORKER_TIMEOUT_S` or its scheduler stops answering.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import PigmentScanError
from ..face_maps import face_maps_bytes, maps_path
from ..io import atomic_write_bytes, open_input, remove_stale
from ..parallel import bounded
from ..pipeline import error_row, score_image, score_row

#: Scores column holding the SHA-256 of the photo file that was scored.
SHA_COLUMN = "image_sha256"
_WORKER_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}  # MediaPipe's C++ logging
#: Seconds to wait for a Dask scheduler to answer a new client (Dask's own default).
SCHEDULER_TIMEOUT_S = 30.0
#: Seconds a Dask cluster may have no worker before the batch stops (its unscored photos are scored by the next run).
NO_WORKER_TIMEOUT_S = 60.0
#: Seconds between looks at the cluster while no result comes.
_POLL_S = 2.0


class WorkersLost(Exception):
    """The workers (not a photo) failed: the run stops, and the photos it did not score get no row."""


def file_sha256(path, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a regular file's bytes; ``""`` when it cannot be read (missing, a pipe, a device)."""
    digest = hashlib.sha256()
    try:
        with open_input(path) as handle:
            while block := handle.read(chunk_bytes):
                digest.update(block)
    except (PigmentScanError, OSError):
        return ""
    return digest.hexdigest()


# --------------------------------------------------------------------------- worker side

@dataclass(frozen=True)
class Task:
    """One manifest row to score.

    Attributes
    ----------
    index : int
        The manifest row (0-based, header excluded).
    image : str
        The photo, as the manifest resolves it.
    identity : dict
        Manifest columns copied into the row (subject, visit, date, arm).
    source : str
        The manifest's ``image`` cell, recorded in the maps instead of the resolved path.
    overlay : str or None
        Where to write the overlay PNG.
    maps_dir : str or None
        Folder of the face maps (``<sha256>.npz``).
    earlier : dict or None
        An earlier run's row for this photo that may be reused.
    """

    index: int
    image: str
    identity: dict
    source: str = ""
    overlay: str | None = None
    maps_dir: str | None = None
    earlier: dict | None = None


def _earlier_holds(task: Task, sha: str) -> bool:
    earlier = task.earlier
    if earlier is None or not sha or earlier.get(SHA_COLUMN) != sha:
        return False
    if earlier.get("status") == "error":
        return True
    return ((task.overlay is None or Path(task.overlay).exists())
            and (task.maps_dir is None or maps_path(task.maps_dir, sha).exists()))


def score_task(task: Task, model, qc_limits=None) -> dict:
    """Score one photo and write its overlay and maps (runs in a worker); never raises for a photo.

    Returns ``{"index", "reused": True}`` when the earlier row holds (the photo's bytes are the
    ones it was scored from, and its overlay and maps are there), else ``{"index", "row"}``; a
    photo that cannot be scored is an error row, and any overlay of its name from an earlier
    run is removed.
    """
    sha = file_sha256(task.image)  # of the bytes this worker reads, even if the file just changed
    if _earlier_holds(task, sha):
        return {"index": task.index, "reused": True}
    try:
        score = score_image(task.image, model=model, qc_limits=qc_limits)
        row = score_row(score, **task.identity) | {SHA_COLUMN: sha}
        if task.overlay is not None:
            from ..overlay import write_overlay

            write_overlay(task.overlay, score)
        if task.maps_dir is not None and sha:
            atomic_write_bytes(maps_path(task.maps_dir, sha),
                               face_maps_bytes(score, source=task.source, image_sha256=sha))
    except Exception as error:  # noqa: BLE001 - one photo never stops the batch
        if task.overlay is not None:
            remove_stale(task.overlay)
        return {"index": task.index, "row": error_row_of(task.image, error, model.label, task.identity, sha)}
    return {"index": task.index, "row": row}


def error_row_of(image, error, model_label: str, identity: dict, sha: str = "") -> dict:
    """The scores row of a photo that could not be scored, with its hash and error type."""
    return error_row(image, error, model=model_label, **identity) | {SHA_COLUMN: sha, "error_type": type(error).__name__}


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the batch process is gone (even after ``kill -9``)."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="pigmentscan-parent-watch").start()


def _outcome(future):
    """A finished future's result, or the exception that ended it (a dead worker, a cancellation)."""
    try:
        return future.result()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - asyncio's CancelledError is a BaseException
        return error


# --------------------------------------------------------------------------- local processes

def run_local(tasks, model, jobs: int, qc_limits=None):
    """Yield ``(task, result or exception)`` as tasks finish: in this process (1 job) or in loky workers.

    At most two tasks per worker are in flight. A worker that dies ends the run after its task
    is yielded (:class:`WorkersLost`).
    """
    if jobs <= 1:
        for task in tasks:
            yield task, score_task(task, model, qc_limits)
        return
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    from joblib.externals.loky import ProcessPoolExecutor

    # loky workers are fresh interpreters (MediaPipe is not fork-safe) and, unlike
    # multiprocessing's spawn, do not re-run a calling script that lacks a __main__ guard.
    executor = ProcessPoolExecutor(max_workers=jobs, env=_WORKER_ENV, initializer=_exit_with_parent,
                                   initargs=(os.getpid(),))

    def submit(task):
        try:
            return executor.submit(score_task, task, model, qc_limits)
        except Exception as error:  # noqa: BLE001 - a broken pool: this task is lost, not failed
            failed = Future()
            failed.set_exception(error)
            return failed

    finished = False
    try:
        for task, future in bounded(tasks, submit, lambda fs: wait(fs, return_when=FIRST_COMPLETED).done, 2 * jobs):
            outcome = _outcome(future)
            yield task, outcome
            if isinstance(outcome, BaseException):
                raise WorkersLost(f"a worker process died ({type(outcome).__name__}: {outcome})")
        finished = True
    finally:
        executor.shutdown(wait=finished, kill_workers=not finished)


# --------------------------------------------------------------------------- Dask

def _same(value):
    return value


class _Cluster:
    """What the batch needs to know of a Dask cluster: how many tasks to keep in flight, and whether it has workers."""

    def __init__(self, client):
        self.client, self._threads, self._asked, self._empty_since = client, 0, -1e9, None

    def threads(self) -> int:
        now = time.monotonic()
        if now - self._asked > _POLL_S:
            try:
                self._threads, self._asked = sum(self.client.nthreads().values()), now
            except Exception as error:  # noqa: BLE001 - the scheduler is gone
                raise WorkersLost(f"the Dask scheduler stopped answering ({type(error).__name__}: {error})") from None
        return self._threads

    def limit(self) -> int:
        """Tasks in flight: two per worker thread (one running, one waiting), at least 2."""
        return max(2, 2 * self.threads())

    def check(self) -> None:
        """Raise :class:`WorkersLost` when the cluster has had no worker for NO_WORKER_TIMEOUT_S."""
        if self.threads():
            self._empty_since = None
            return
        self._empty_since = self._empty_since or time.monotonic()
        if time.monotonic() - self._empty_since > NO_WORKER_TIMEOUT_S:
            raise WorkersLost(f"the Dask cluster has had no worker for {NO_WORKER_TIMEOUT_S:g} s")


def connect(scheduler):
    """A Dask client of ``scheduler`` (an address, or a client returned as it is) and whether it is ours to close.

    Raises
    ------
    PigmentScanError
        Naming the address, when no scheduler answers within SCHEDULER_TIMEOUT_S.
    """
    if hasattr(scheduler, "submit"):
        return scheduler, False
    from distributed import Client

    try:
        return Client(scheduler, set_as_default=False, timeout=SCHEDULER_TIMEOUT_S), True
    except (OSError, TimeoutError, ValueError) as error:
        raise PigmentScanError(str(scheduler), f"cannot reach the Dask scheduler within {SCHEDULER_TIMEOUT_S:g} s "
                                               f"({type(error).__name__}: {error}); is it running, and is the "
                                               "address right?") from None


def run_dask(tasks, model, scheduler, qc_limits=None):
    """Yield ``(task, result or exception)`` as tasks finish on a Dask distributed cluster (address or Client).

    The model goes to the cluster once, as a task (not scattered data: if every worker holding
    it dies, the scheduler computes it again). Each photo's task may be retried twice by the
    scheduler; at most two tasks per worker thread are in flight.
    """
    import queue

    client, own = connect(scheduler)
    cluster, live, finished = _Cluster(client), set(), queue.SimpleQueue()
    model_future = None
    try:
        model_future = client.submit(_same, model, key=f"pigmentscan-model-{model.content_hash}", pure=False)

        def submit(task):
            try:
                future = client.submit(score_task, task, model_future, qc_limits, pure=False, retries=2)
            except Exception as error:  # noqa: BLE001
                raise WorkersLost(f"the Dask scheduler refused a task ({type(error).__name__}: {error})") from None
            live.add(future)
            future.add_done_callback(finished.put)  # finished, failed or cancelled
            return future

        def wait_any(futures):
            done = set()
            with contextlib.suppress(queue.Empty):
                done.add(finished.get(timeout=_POLL_S))
                while True:
                    done.add(finished.get_nowait())
            if not done:
                cluster.check()
            return done & set(futures)

        for task, future in bounded(tasks, submit, wait_any, cluster.limit):
            outcome = _outcome(future)
            live.discard(future)
            future.release()
            yield task, outcome
    finally:
        with contextlib.suppress(Exception):  # a scheduler that is gone cannot cancel anything
            if live:
                client.cancel(list(live))
            if model_future is not None:
                model_future.release()
        if own:
            with contextlib.suppress(Exception):
                client.close()
