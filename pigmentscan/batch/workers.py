"""Worker side of a batch: score one photo, and run the photos on local processes or a Dask cluster."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time

from ..face_maps import face_maps_bytes
from ..pipeline import error_row, score_image, score_row

#: Scores column holding the SHA-256 of the photo file that was scored.
SHA_COLUMN = "image_sha256"
_WORKER_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}  # MediaPipe's C++ logging


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

def _score_task(task, model, qc_limits=None) -> dict:
    """Score one photo (runs in a worker): ``{"index", "row", "overlay", "maps"}``; never raises.

    ``task``: (index, image path, identity columns, want the overlay PNG, want the face maps npz).
    """
    index, image_path, identity, want_overlay, want_maps = task
    sha = file_sha256(image_path)  # of the bytes this worker scores, even if the file just changed
    try:
        score = score_image(image_path, model=model, qc_limits=qc_limits)
        row = score_row(score, **identity) | {SHA_COLUMN: sha}
        overlay = None
        if want_overlay:
            import cv2

            from ..report import render_overlay

            overlay = cv2.imencode(".png", cv2.cvtColor(render_overlay(score), cv2.COLOR_RGB2BGR))[1].tobytes()
        maps = face_maps_bytes(score) if want_maps else None
    except Exception as error:  # noqa: BLE001 - one photo never stops the batch
        return {"index": index, "row": _error(image_path, error, model.label, identity, sha), "overlay": None,
                "maps": None}
    return {"index": index, "row": row, "overlay": overlay, "maps": maps}


def _error(image, error, model_label: str, identity: dict, sha: str = "") -> dict:
    return error_row(image, error, model=model_label, **identity) | {SHA_COLUMN: sha, "error_type": type(error).__name__}


def _lost(task, error, model) -> dict:
    """The result of a task whose worker failed (died, was killed): an error row, tried again next run."""
    return {"index": task[0], "row": _error(task[1], error, model.label, task[2]), "overlay": None, "maps": None}


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the batch process is gone (even after ``kill -9``)."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="pigmentscan-parent-watch").start()


def _run_local(tasks, model, jobs: int, qc_limits=None):
    """Yield results as they finish: in this process (1 job) or in loky worker processes."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield _score_task(task, model, qc_limits)
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
                running[executor.submit(_score_task, task, model, qc_limits)] = task
            if not running:
                return
            for future in wait(running, return_when=FIRST_COMPLETED).done:
                task = running.pop(future)
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 - a worker died
                    result = _lost(task, error, model)
                yield result
    finally:
        executor.shutdown(wait=not running, kill_workers=bool(running))


def _run_dask(tasks, model, scheduler, qc_limits=None):
    """Yield results as they finish on a Dask distributed cluster (address or Client)."""
    from distributed import Client, as_completed

    own = not hasattr(scheduler, "submit")
    client = Client(scheduler, set_as_default=False) if own else scheduler
    futures = {}
    try:
        if tasks:
            model_future = client.scatter(model, broadcast=True)
            futures = {client.submit(_score_task, task, model_future, qc_limits, pure=False): task for task in tasks}
        for future in as_completed(list(futures), loop=client.loop):
            task = futures.pop(future)
            try:
                yield future.result()
            except Exception as error:  # noqa: BLE001 - e.g. KilledWorker
                yield _lost(task, error, model)
            future.release()
    finally:
        if futures:
            client.cancel(list(futures))
        if own:
            client.close()
