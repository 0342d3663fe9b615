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

Workers only read photos and return rows and overlay PNG bytes: every file is written
by the process that called :func:`run_batch`. Local workers are fresh interpreters
(joblib's loky; MediaPipe is not fork-safe). On a Dask cluster, every worker needs
pigmentscan installed and must see the photos at the paths the manifest resolves to.
"""

from .journal import SCORES_NAME, _exclusive, read_journal  # noqa: F401 - _exclusive: tests/test_batch.py
from .run import (  # noqa: F401
    IDENTITY_COLUMNS,
    LIMITS_COLUMN,
    REPRODUCIBLE_ERRORS,
    BatchResult,
    quality_limits_label,
    run_batch,
)
from .workers import SHA_COLUMN, file_sha256

__all__ = ["BatchResult", "run_batch", "file_sha256", "read_journal", "IDENTITY_COLUMNS", "SHA_COLUMN",
           "LIMITS_COLUMN", "quality_limits_label"]
