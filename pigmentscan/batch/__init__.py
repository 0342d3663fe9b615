"""Resumable batch scoring of a trial manifest, on local cores or a Dask cluster.

::

    manifest.csv --run_batch--> DIR/scores.csv (+ DIR/overlays/*.png)

Nothing finished is lost: ``scores.csv`` doubles as a journal while the batch runs.
Each row is appended as soon as its photo is done (one complete line, flushed and
fsynced), so a crash, ``kill`` or Ctrl-C leaves a valid CSV; a trailing partial line
(power cut in mid-write) is dropped when the batch starts again. A re-run skips every
photo already scored with the same image content (SHA-256 of the file's bytes, column
``image_sha256``), the same model (``model``, ``name@hash``), the same quality-control
limits (``quality_limits``, ``default@hash`` or ``custom@hash``) and the same pigmentscan
version, and an error row too when the same bytes always give that error (``error_type``
unreadable photo, no face, QC rejection); other errors are tried again. At the end
``scores.csv`` is rewritten atomically in manifest order, one row per manifest row.

Where a photo is read, the work on it is done (:mod:`.workers`): the worker hashes it, decides
whether an earlier row still holds, scores it and writes its overlay and maps; only rows travel
back, and :mod:`.journal` appends them to ``scores.csv`` without holding them in memory. A
bounded number of photos is in flight, on local cores as on a cluster. Local workers are fresh
interpreters (joblib's loky; MediaPipe is not fork-safe). On a Dask cluster, every worker needs
pigmentscan installed and must see the photos and the output folder at the same paths as the
process that runs the batch.

A failure of the workers themselves (a worker process killed, a cluster that lost all its
workers or its scheduler) is never written as a photo's error row: the batch stops with
:class:`~pigmentscan.errors.IncompleteBatchError` (exit status 1 on the command line), the
finished rows stay, and the next run scores the rest. Before any work, the output paths are
checked (:func:`pigmentscan.io.check_outputs`): no overlay may replace a photo, ``scores.csv``
may not be a link, the folder must be writable.
"""

from .journal import SCORES_NAME, Journal, read_journal  # noqa: F401
from .run import (  # noqa: F401
    IDENTITY_COLUMNS,
    LIMITS_COLUMN,
    REPRODUCIBLE_ERRORS,
    REUSE_COLUMNS,
    BatchResult,
    quality_limits_label,
    run_batch,
)
from .workers import SHA_COLUMN, Task, file_sha256, score_task

__all__ = ["BatchResult", "run_batch", "file_sha256", "read_journal", "IDENTITY_COLUMNS", "SHA_COLUMN",
           "LIMITS_COLUMN", "quality_limits_label"]
