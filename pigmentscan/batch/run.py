"""The batch itself: :func:`run_batch` over a manifest, reusing what an earlier run scored."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..dictionary import write_dictionary
from ..errors import ManifestError
from ..face_maps import MAPS_DIR, maps_path
from ..io import atomic_write_bytes, atomic_write_text, read_manifest
from ..pipeline import rows_to_frame
from ..qc import QualityLimits
from ..scoring import load_model
from .journal import (
    SCORES_NAME,
    _exclusive,
    _Journal,
    _sigterm_as_interrupt,
    read_journal,
)
from .workers import SHA_COLUMN, _error, _run_dask, _run_local, _score_task, file_sha256

#: Manifest columns copied into every scores row.
IDENTITY_COLUMNS = ("subject", "visit", "date", "arm")
#: Errors that the same bytes, model and limits always give again: such rows are reused on a re-run
#: (``error_type`` column); any other error (a worker that died, ...) is tried again.
REPRODUCIBLE_ERRORS = ("ImageReadError", "NoFaceError", "QualityError")
#: Scores column naming the quality-control limits a row was checked with (:func:`quality_limits_label`):
#: a re-run reuses only rows checked with the same limits.
LIMITS_COLUMN = "quality_limits"


@dataclass(frozen=True)
class BatchResult:
    """What one :func:`run_batch` did. Every manifest row is in exactly one of the counts.

    Attributes
    ----------
    n_processed : int
        Photos scored in this run (status ``ok`` or ``warn``).
    n_skipped : int
        Photos already scored (``ok`` or ``warn``) by an earlier run with the same content,
        model, quality-control limits and version: their rows were reused.
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


def quality_limits_label(limits: QualityLimits | None = None) -> str:
    """``default@<hash>`` or ``custom@<hash>``: which quality-control limits a row was checked with.

    The hash (12 hex digits of SHA-256) is of the limits as JSON, so a change of the shipped
    defaults changes it too.

    Examples
    --------
    >>> quality_limits_label().startswith("default@")
    True
    >>> quality_limits_label(QualityLimits(max_yaw_warn_deg=10)).startswith("custom@")
    True
    """
    limits = QualityLimits() if limits is None else limits
    digest = hashlib.sha256(json.dumps(limits.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    return f"{'default' if limits == QualityLimits() else 'custom'}@{digest}"


def _overlay_names(overlay_dir: Path, manifest) -> list[Path]:
    from ..report import overlay_paths

    images = [path or f"row_{i + 2}" for i, path in enumerate(manifest["image_path"])]
    return overlay_paths(overlay_dir, images)


def run_batch(manifest_csv, out_dir, *, model=None, jobs: int | None = None, scheduler=None,
              overlays: bool = True, progress: bool = True, qc_limits: QualityLimits | None = None,
              maps: bool = True) -> BatchResult:
    """Score every photo of a manifest into ``out_dir/scores.csv``, resumably.

    Parameters
    ----------
    manifest_csv : str or os.PathLike
        Manifest (CONTRACT.md): ``image`` and optionally ``subject``, ``visit``, ``date``,
        ``arm``, which are copied into each scores row.
    out_dir : str or os.PathLike
        Folder for ``scores.csv``, ``overlays/`` and ``maps/`` (created if needed).
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
    maps : bool
        Write the face maps of each scored photo (:func:`pigmentscan.face_maps.face_maps`,
        about 20 kB) to ``out_dir/maps/<image_sha256>.npz``, which ``compare`` reads to measure
        the pigment left in each subject's baseline lesions (a photo whose maps are missing is
        scored again).
    progress : bool
        Show a progress bar (photos done, rate, time left) on stderr.
    qc_limits : QualityLimits, optional
        Limits of the quality checks (see :func:`pigmentscan.score_image`); ``None`` for the
        defaults. Every row names them in the ``quality_limits`` column, and a re-run reuses
        only rows checked with the same limits.

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
    maps_dir = out / MAPS_DIR
    identity_columns = [c for c in IDENTITY_COLUMNS if c in manifest.columns]
    limits_label = quality_limits_label(qc_limits)
    stamp = {LIMITS_COLUMN: limits_label}

    with _exclusive(out), _sigterm_as_interrupt():
        previous = read_journal(scores_path)
        reusable = {row[SHA_COLUMN]: row for row in previous
                    if row.get(SHA_COLUMN) and row.get("model") == scoring_model.label
                    and row.get("pigmentscan_version") == __version__ and row.get(LIMITS_COLUMN) == limits_label
                    and (row.get("status") in ("ok", "warn") or row.get("error_type") in REPRODUCIBLE_ERRORS)}
        final, tasks = {}, []
        for index, record in manifest.iterrows():
            identity = {c: record[c] for c in identity_columns}
            image = record["image_path"] or record["image"]
            if record["manifest_error"]:
                final[index] = _error(image, ManifestError(None, record["manifest_error"]), scoring_model.label,
                                      identity) | stamp
                continue
            sha = file_sha256(image)
            earlier = reusable.get(sha) if sha else None
            scored = earlier is not None and earlier["status"] != "error"
            lacks_overlay = scored and names[index] is not None and not names[index].exists()
            lacks_maps = scored and maps and not maps_path(maps_dir, sha).exists()
            if earlier is not None and not (lacks_overlay or lacks_maps):
                final[index] = {**earlier, "image": image, **identity, "_skipped": True}
            elif not sha:  # missing or unreadable: the error row costs nothing, no worker needed
                final[index] = _score_task((index, image, identity, False, False), scoring_model, qc_limits)["row"] | stamp
            else:
                tasks.append((index, image, identity, names[index] is not None, maps))

        journal = _Journal(scores_path, previous)
        if progress:
            print(f"{len(manifest)} manifest rows: {len(final)} already scored or unusable, {len(tasks)} to score",
                  file=sys.stderr, flush=True)
        bar = tqdm(total=len(tasks), unit="photo", desc="scoring", file=sys.stderr, disable=not progress or not tasks,
                   dynamic_ncols=True, smoothing=0.1)
        results = (_run_dask(tasks, scoring_model, scheduler, qc_limits) if scheduler is not None
                   else _run_local(tasks, scoring_model, jobs or os.cpu_count() or 1, qc_limits))
        try:
            for result in results:
                index = result["index"]
                if result["overlay"] is not None:
                    atomic_write_bytes(names[index], result["overlay"])
                if result["maps"] is not None and result["row"].get(SHA_COLUMN):
                    atomic_write_bytes(maps_path(maps_dir, result["row"][SHA_COLUMN]), result["maps"])
                final[index] = row = result["row"] | stamp
                journal.append(row)
                bar.update(1)
        finally:
            results.close()  # stops the workers when interrupted
            bar.close()
            journal.close()

        rows = [{k: v for k, v in final[i].items() if k != "_skipped"} for i in range(len(manifest))]
        frame = rows_to_frame(rows)
        atomic_write_text(scores_path, frame.to_csv(index=False, lineterminator="\n"))
        write_dictionary(frame, scores_path, "scores")

    n_skipped = sum(1 for row in final.values() if row.get("_skipped") and row["status"] != "error")
    n_errors = int((frame["status"] == "error").sum())
    return BatchResult(n_processed=len(manifest) - n_skipped - n_errors, n_skipped=n_skipped, n_errors=n_errors,
                       scores_path=scores_path, elapsed_s=time.perf_counter() - start)
