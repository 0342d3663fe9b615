"""The batch itself: :func:`run_batch` over a manifest, reusing what an earlier run scored."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._version import __version__
from ..dictionary import write_dictionary
from ..errors import IncompleteBatchError, ManifestError
from ..face_maps import MAPS_DIR
from ..io import check_outputs, protect_inputs, read_manifest
from ..parallel import worker_count
from ..qc import QualityLimits
from ..scoring import ScoringModel, load_model
from .journal import SCORES_NAME, Journal, exclusive_folder, sigterm_as_interrupt
from .workers import SHA_COLUMN, Task, WorkersLost, error_row_of, run_dask, run_local

#: Manifest columns copied into every scores row.
IDENTITY_COLUMNS = ("subject", "visit", "date", "arm")
#: Errors that the same bytes, model and limits always give again: such rows are reused on a re-run
#: (``error_type`` column); any other error (a worker that died, ...) is tried again.
REPRODUCIBLE_ERRORS = ("ImageReadError", "NoFaceError", "QualityError")
#: Columns an earlier row is judged by for reuse (read from the journal without the rest of the row).
REUSE_COLUMNS = ("image", SHA_COLUMN, "model", "pigmentscan_version", "quality_limits", "status", "error_type")
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
    from ..overlay import overlay_paths

    images = [path or f"row_{i + 2}" for i, path in enumerate(manifest["image_path"])]
    return overlay_paths(overlay_dir, images)


def _reusable(journal: Journal, model_label: str, limits_label: str) -> dict:
    """Image path -> ordinal of the journal row an earlier run scored it in, with this model, limits and
    version, when that row may be reused (scored, or an error the same bytes always give)."""
    earlier = {}
    for ordinal, row in journal.rows(REUSE_COLUMNS):
        if (row.get(SHA_COLUMN) and row.get("model") == model_label and row.get("pigmentscan_version") == __version__
                and row.get(LIMITS_COLUMN) == limits_label
                and (row.get("status") in ("ok", "warn") or row.get("error_type") in REPRODUCIBLE_ERRORS)):
            earlier[row["image"]] = ordinal
    return earlier


def _check_outputs(out: Path, manifest, names, model, manifest_csv, maps: bool) -> None:
    """The output-path guard (:func:`pigmentscan.io.check_outputs`) on everything a batch writes."""
    photos = [path for path in manifest["image_path"] if path]
    files = [("--out DIR (its scores.csv)", out / SCORES_NAME)]
    files += [(f"--out DIR (the overlay of {image})", name) for image, name in zip(manifest["image"], names) if name]
    folders = [("--out", out)] + ([("--out DIR (its maps/)", out / MAPS_DIR)] if maps else [])
    check_outputs(files, folders=folders, owned_folders=[out / MAPS_DIR],
                  inputs=[manifest_csv, None if isinstance(model, ScoringModel) else model, *photos])


def run_batch(manifest_csv, out_dir, *, model=None, jobs: int | None = None, scheduler=None,
              overlays: bool = True, progress: bool = True, qc_limits: QualityLimits | None = None,
              maps: bool = True) -> BatchResult:
    """Score every photo of a manifest into ``out_dir/scores.csv``, resumably.

    Parameters
    ----------
    manifest_csv : str or os.PathLike
        Manifest (CONTRACT.md): ``image`` and optionally ``subject``, ``visit``, ``date``,
        ``arm``, which are copied into each scores row. A column the manifest no longer has
        is removed from every row, reused ones included (a blinded manifest gives a blinded
        ``scores.csv``).
    out_dir : str or os.PathLike
        Folder for ``scores.csv``, ``overlays/`` and ``maps/`` (created if needed; on a
        cluster, on storage every worker sees at the same path: the workers write the
        overlays and maps).
    model : None, path or ScoringModel
        Scoring model; ``None`` for the shipped default.
    jobs : int, optional
        Local worker processes; default all cores; capped at the cores and the photos
        (:func:`pigmentscan.parallel.worker_count`). 1 scores in this process.
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
        ``ManifestError`` (unreadable manifest), ``ModelError`` (unusable model),
        ``OutputError`` (before any work: an output would replace an input, or cannot be
        written), or another batch is writing into ``out_dir``.
    IncompleteBatchError
        When workers were lost (a local worker died, the cluster lost all its workers or its
        scheduler): the finished rows stay in ``scores.csv``, the photos not scored have no
        row, and the next run scores them.
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
    out = Path(out_dir).absolute()
    scores_path = out / SCORES_NAME
    names = _overlay_names(out / "overlays", manifest) if overlays else [None] * len(manifest)
    _check_outputs(out, manifest, names, model, manifest_csv, maps)
    out.mkdir(parents=True, exist_ok=True)
    maps_dir = str(out / MAPS_DIR) if maps else None
    identity_columns = [c for c in IDENTITY_COLUMNS if c in manifest.columns]
    stamp = {LIMITS_COLUMN: quality_limits_label(qc_limits)}

    with exclusive_folder(out), sigterm_as_interrupt(), protect_inputs([manifest_csv]), \
            contextlib.closing(Journal(scores_path, drop=set(IDENTITY_COLUMNS) - set(identity_columns))) as journal:
        earlier = _reusable(journal, scoring_model.label, stamp[LIMITS_COLUMN])
        ordinals = array("q", [-1]) * len(manifest)

        def identity(index):
            return {c: manifest.at[index, c] for c in identity_columns}

        to_score = []
        for index, record in enumerate(manifest.itertuples(index=False)):
            if record.manifest_error:
                row = error_row_of(record.image_path or record.image, ManifestError(None, record.manifest_error),
                                   scoring_model.label, identity(index))
                ordinals[index] = journal.append(row | stamp)
            else:
                to_score.append(index)

        def tasks():
            for index in to_score:
                image = manifest.at[index, "image_path"]
                reuse = earlier.get(image)
                yield Task(index, image, identity(index), source=str(manifest.at[index, "image"]).strip(),
                           overlay=None if names[index] is None else str(names[index]), maps_dir=maps_dir,
                           earlier=None if reuse is None else journal.row(reuse) | {"_ordinal": reuse})

        if progress:
            print(f"{len(manifest)} manifest rows: {len(manifest) - len(to_score)} unusable, {len(to_score)} to check "
                  "(photos already scored are skipped)", file=sys.stderr, flush=True)
        bar = tqdm(total=len(to_score), unit="photo", desc="scoring", file=sys.stderr,
                   disable=not progress or not to_score, dynamic_ncols=True, smoothing=0.1)
        results = (run_dask(tasks(), scoring_model, scheduler, qc_limits) if scheduler is not None
                   else run_local(tasks(), scoring_model, worker_count(jobs, len(to_score)), qc_limits))
        n_skipped, lost, stopped = 0, [], None
        try:
            for task, outcome in results:
                bar.update(1)
                if isinstance(outcome, BaseException):
                    lost.append((task, outcome))
                elif outcome.get("reused"):
                    ordinals[task.index] = task.earlier["_ordinal"]
                    n_skipped += task.earlier.get("status") != "error"
                else:
                    ordinals[task.index] = journal.append(outcome["row"] | stamp)
        except WorkersLost as error:
            stopped = error
        finally:
            results.close()  # stops the workers when interrupted
            bar.close()

        unscored = sum(1 for ordinal in ordinals if ordinal < 0)
        if unscored:
            reason = stopped or (f"{len(lost)} task(s) were lost by the workers (the first: {lost[0][0].image}: "
                                 f"{type(lost[0][1]).__name__}: {lost[0][1]})")
            raise IncompleteBatchError(scores_path, f"{unscored} of {len(manifest)} photo(s) not scored: {reason}. "
                                                    f"The {len(manifest) - unscored} finished row(s) are kept; run "
                                                    "the same command again to score the rest")

        def final(position, row):  # the manifest's identity columns now, whatever an earlier run wrote
            return {k: v for k, v in row.items() if k not in IDENTITY_COLUMNS} | identity(position)

        n_errors = journal.write_ordered(scores_path, ordinals, final)
        write_dictionary(pd.read_csv(scores_path, nrows=0), scores_path, "scores")

    return BatchResult(n_processed=len(manifest) - n_skipped - n_errors, n_skipped=n_skipped, n_errors=n_errors,
                       scores_path=scores_path, elapsed_s=time.perf_counter() - start)
