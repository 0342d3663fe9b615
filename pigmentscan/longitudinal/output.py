"""The files of a comparison (the only part of :mod:`pigmentscan.longitudinal` that reads and writes).

:func:`compare_files` reads a scores CSV, checks each subject's photos show one face
(:mod:`.identity`), adds the pigment left in the baseline lesions from the batch's maps
(:mod:`.pigment`), chooses the smallest detectable change (given, measured on retest photos, or
stored with the scoring model) and writes the tables, their data dictionaries, the figures and
the report (:func:`write_comparison_report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .. import io as _io
from ..dictionary import write_dictionary
from ..errors import ImageReadError, ManifestError, PigmentScanError
from ..face_maps import MAPS_DIR
from .changes import DETECTION_MEASURES, comparable_scores, sdc_mapping
from .figures import group_figures, subject_figures
from .identity import check_identity, face_points
from .pigment import add_lesion_pigment
from .reliability import RetestReliability, model_sdc, smallest_detectable_change
from .report import comparison_page
from .statistics import Comparison, compare

_PNG, _JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


def _picture(subject, data) -> tuple[bytes, str]:
    data = bytes(data)
    if data.startswith(_PNG):
        return data, "image/png"
    if data.startswith(_JPEG):
        return data, "image/jpeg"
    raise ValueError(f"panel for subject {subject!r} is not PNG or JPEG data")


def _write_table(frame: pd.DataFrame, path: Path, table: str) -> Path:
    written = _io.write_table(frame, path)
    write_dictionary(frame, written, table)
    return written


def write_comparison_report(comparison: Comparison, out_dir, *, panels: Mapping[str, bytes] | None = None) -> dict:
    """Write ``changes.csv``, ``summary.csv``, [``arms.csv``], ``photos.csv``, [``split_face.csv``]
    (each with its ``.columns.json`` data dictionary), the figures (PNG) and ``report.html``.

    Every file is written atomically, only under ``out_dir``, byte-identical for the same input.

    Parameters
    ----------
    comparison : Comparison
        Output of :func:`compare`.
    out_dir : str or os.PathLike
        Folder to write into (created if needed).
    panels : mapping of subject -> PNG or JPEG bytes, optional
        Before/after photo panels embedded per subject (:func:`pigmentscan.report.comparison_panels`).

    Returns
    -------
    dict of str -> pathlib.Path
        Keys: changes, summary, [arms], photos, [split_face], trajectories,
        trajectories_by_subject[_2, ...], [group_change], report.
    """
    from ..report import figure_png_bytes, fit_panels

    for subject, data in (panels or {}).items():
        _picture(subject, data)  # PNG or JPEG, else refused
    fitted, scale = fit_panels(dict(panels or {}))
    pictures = {subject: _picture(subject, data) for subject, data in fitted.items()}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    tables = {"changes": comparison.changes, "summary": comparison.summary, "arms": comparison.arms,
              "photos": comparison.photos, "split_face": comparison.split_face}
    for name, frame in tables.items():
        if frame is not None and (name != "arms" or len(frame)):
            paths[name] = _write_table(frame, out / f"{name}.csv", name)
    by_subject = []
    for i, figure in enumerate(subject_figures(comparison)):
        name = "trajectories_by_subject" + (f"_{i + 1}" if i else "")
        by_subject.append(figure_png_bytes(figure, dpi=90))
        paths[name] = _io.atomic_write_bytes(out / f"{name}.png", by_subject[-1])
    groups = {}
    for name, figure in group_figures(comparison).items():
        groups[name] = figure_png_bytes(figure, dpi=90)
        paths[name] = _io.atomic_write_bytes(out / f"{name}.png", groups[name])
    page = comparison_page(comparison, groups, subject_figures=by_subject, panels=pictures, panel_scale=scale)
    paths["report"] = page.write(out / "report.html")
    return paths


def _progress(iterable, total: int, what: str, progress: bool):
    if not progress:
        return iterable
    import sys

    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=what, unit="photo", file=sys.stderr, dynamic_ncols=True, leave=False)


def _with_identity(scores: pd.DataFrame, folder: Path, progress: bool) -> pd.DataFrame:
    """:func:`check_identity` with the landmarks found on each scored photo (relative to ``folder``)."""
    if "subject" not in scores.columns or "image" not in scores.columns:
        return scores  # compare refuses such a table with a clear error
    status = scores.get("status", pd.Series("ok", index=scores.index)).astype(str).str.lower()
    rows = scores.index[status.ne("error")]
    points = {i: face_points(folder / str(scores.at[i, "image"]).strip())
              for i in _progress(rows, len(rows), "checking faces", progress)}
    return check_identity(scores, points)


def _with_lesion_pigment(scores: pd.DataFrame, scores_csv: Path) -> pd.DataFrame:
    """``add_lesion_pigment`` from the batch's ``maps/`` beside ``scores_csv``, when it has them."""
    maps_dir = scores_csv.parent / MAPS_DIR
    if not maps_dir.is_dir() or "image_sha256" not in scores.columns:
        return scores
    return add_lesion_pigment(scores, maps_dir)


def prepared_scores(scores_csv, *, maps: bool = True, identity: bool = True, progress: bool = False) -> pd.DataFrame:
    """A scores CSV read for comparison: identity columns (``identity``) and, from the batch's maps
    beside it (``maps``), ``lesion_pigment_pct``. Errors name the file."""
    path = Path(scores_csv)
    scores = _io.read_scores(path)  # ids as text: "001" stays "001"
    try:
        scores = _with_identity(scores, path.parent, progress) if identity else scores
        return _with_lesion_pigment(scores, path) if maps else scores
    except ManifestError as error:
        raise ManifestError(path, error.reason) from error


def _available(scores: pd.DataFrame) -> list[str]:
    """The measures of DETECTION_MEASURES these scores have values of."""
    frame, measures, _ = comparable_scores(scores)
    return [m for m in DETECTION_MEASURES if m in measures and frame[m].notna().any()]


def choose_sdc(scores: pd.DataFrame, *, sdc=None, retest: RetestReliability | None = None, retest_name: str = "",
               model=None) -> tuple:
    """The smallest detectable change to judge ``scores`` by, and where it comes from, in words.

    In order: ``sdc`` as given (MASI points or ``{measure: sdc}``, overriding a retest's measure
    by measure); measured on ``retest`` photos; stored with the scoring ``model``
    (:func:`~.reliability.model_sdc`, only the measures the scores have); else None, and the
    sentence says there is none.
    """
    if retest is not None:
        n = int(retest.table["n_subjects"].max()) if len(retest.table) else 0
        given = {} if sdc is None else sdc_mapping(sdc)
        source = f"measured on the retest photos {retest_name} ({n} stable subjects)"
        return retest.sdc | given, source + (f"; given for {', '.join(sorted(given))}" if given else "")
    if sdc is not None:
        return sdc, "given for this comparison (--sdc)"
    labels = scores["model"].dropna().unique() if "model" in scores.columns else ()
    return model_sdc(model, measures=_available(scores), scores_models=labels)


def compare_files(scores_csv, out_dir, *, sdc=None, panels: bool = True, retest=None, detect_by=None,
                  maps: bool = True, model=None, identity: bool = True, progress: bool = False,
                  split_face: bool = False, treated_side: str | None = None) -> Comparison:
    """Read a scores CSV, compare visits and write the report into ``out_dir``.

    Parameters
    ----------
    scores_csv : path
        Scores (CONTRACT.md) with ``subject`` and ``visit``; photos relative to its folder.
    out_dir : path
    sdc, detect_by
        As in :func:`compare`; ``sdc`` overrides the other sources (:func:`choose_sdc`).
    panels : bool
        Before/after panels aligned on each baseline face: each photo a panel shows is scored
        once (:func:`panel_scores`) and drawn (:func:`pigmentscan.report.comparison_panels`).
    retest : path, optional
        Scores CSV of repeat photos of stable subjects: the smallest detectable changes are
        measured from it (written to ``sdc.csv``).
    maps : bool
        Measure ``lesion_pigment_pct`` from the ``maps/`` folder the batch wrote beside each CSV.
    model : None, path or ScoringModel
        The scoring model whose stored smallest detectable change applies without a retest,
        and which the panels use (default: the shipped model).
    identity : bool
        Check that each subject's photos show one face (:func:`~.identity.check_identity`).
    progress : bool
        Progress bars on stderr while photos are read again.
    split_face, treated_side
        A split-face trial: each side's hemi-face change and the difference between the sides
        (``split_face.csv``; see :func:`compare` and :mod:`pigmentscan.longitudinal.split_face`).

    Raises
    ------
    ManifestError
        Naming the file, when it cannot be read or ``subject``/``visit`` are missing or empty.
    """
    path = Path(scores_csv)
    scores = prepared_scores(path, maps=maps, identity=identity, progress=progress)
    measured = None
    if retest is not None:
        measured = smallest_detectable_change_file(retest, maps=maps, identity=identity, progress=progress)
    try:
        chosen, source = choose_sdc(scores, sdc=sdc, retest=measured, retest_name=Path(retest or "").name, model=model)
        comparison = compare(scores, sdc=chosen, detect_by=detect_by, sdc_source=source, split_face=split_face,
                             treated_side=treated_side)
    except ManifestError as error:
        if error.source is not None:
            raise
        raise ManifestError(path, error.reason) from error
    if measured is not None:
        _write_table(measured.table, Path(out_dir) / "sdc.csv", "sdc")
    pictures = None
    if panels:
        from ..report import comparison_panels

        pictures = comparison_panels(scores, panel_scores(scores, path.parent, model=model, progress=progress))
    write_comparison_report(comparison, out_dir, panels=pictures)
    return comparison


def panel_scores(scores: pd.DataFrame, folder, *, model=None, progress: bool = False) -> dict:
    """Each photo the before/after panels show (:func:`pigmentscan.report.panel_visits`), scored once.

    Returns ``{row index of scores: FaceScore, or why the photo could not be scored}``, what
    :func:`pigmentscan.report.comparison_panels` draws from; photos are relative to ``folder``.
    """
    from ..pipeline import score_image
    from ..report import panel_visits

    rows = [visit.index for visits in panel_visits(scores).values() for visit in visits if visit.mark != "error"]
    faces = {}
    for index in _progress(rows, len(rows), "before/after panels", progress):
        path = Path(folder) / str(scores.at[index, "image"]).strip()
        try:
            if not path.is_file():
                raise ImageReadError(path, "no such file")
            faces[index] = score_image(path, model=model)
        except PigmentScanError as error:
            faces[index] = error.reason
    return faces


def smallest_detectable_change_file(retest_csv, *, maps: bool = True, identity: bool = True,
                                    progress: bool = False):
    """:func:`smallest_detectable_change` of a retest scores CSV, read as :func:`prepared_scores`."""
    path = Path(retest_csv)
    scores = prepared_scores(path, maps=maps, identity=identity, progress=progress)
    try:  # photos of another face are left out as in the changes (changes.visit_means)
        return smallest_detectable_change(scores)
    except ManifestError as error:
        raise ManifestError(path, error.reason) from error
