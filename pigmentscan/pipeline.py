"""Score face photos end to end: photo → landmarks → regions → lesions → MASI.

This is the public entry point (re-exported as ``pigmentscan.score_image`` and
``pigmentscan.score_images``). One photo is analysed at a normalised face scale: the
face is cropped and resampled so the pupils are ``analysis_iod_px`` apart (200 px by
default; :mod:`pigmentscan.crop`), which makes every result independent of camera resolution
and keeps the work per photo small.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._version import __version__
from .chart import ChartCorrection, chart_correction
from .crop import crop_to_analysis, load_face
from .errors import PigmentScanError
from .io import check_outputs, display_path, remove_stale
from .landmarks import FaceLandmarks
from .lesions import AREA_LEVELS_JND, FaceAnalysis, analyse_face, level_suffix
from .overlay import overlay_paths, score_html, write_overlay
from .parallel import worker_count
from .qc import QualityLimits, QualityReport, assess_quality, measure_photo
from .regions import REGION_KEYS
from .whitebalance import apply_gains, white_balance
from .scoring import RegionScore, ScoringModel, grade_region, load_model, totals
from .split_face import SplitFace, split_face

__all__ = ["FaceScore", "score_image", "score_images", "score_row", "SCORE_COLUMNS", "error_row", "face_crop", "crop_to_analysis",
           "rows_to_frame"]

_REGION_COLUMNS = ("area_pct", "area_score", "darkness", "homogeneity")
_REGION_EXTRAS = ("darkness_jnd", "melanin_contrast", "delta_e", "delta_l_star", "delta_melanin_takiwaki",
                  "patch_diameter_iod", "n_lesions") + tuple(f"area_pct_{level_suffix(level)}" for level in AREA_LEVELS_JND)
#: CONTRACT.md scores columns that precede the QC columns.
SCORE_COLUMNS = (
    ["image", "subject", "visit", "status", "error", "masi", "mmasi"]
    + [f"{r}_{c}" for r in REGION_KEYS for c in _REGION_COLUMNS]
)


@dataclass(frozen=True)
class FaceScore:
    """The score of one face photo.

    Attributes
    ----------
    source : str
        The photo's path (or ``<array>``).
    masi, mmasi : float
        MASI (0–48) and mMASI (0–24) of the scoring model: a calibrated model's estimate of
        a physician's score; with the default model, which is not calibrated to physicians,
        equal to ``masi_raw`` / ``mmasi_raw``.
    masi_raw, mmasi_raw : float
        The formulas applied to the graded components (their expected grades, see
        :func:`pigmentscan.scoring.expected_grade`), before calibration.
    regions : dict of str to RegionScore
        Grades and continuous measures per region key.
    qc : QualityReport
    model : str
        ``name@hash`` of the scoring model.
    pigmentscan_version : str
    landmarks : FaceLandmarks
        In the pixels of the photo as loaded (EXIF orientation applied).
    analysis_image : numpy.ndarray
        The face crop at the analysis scale (RGB uint8).
    analysis : FaceAnalysis
        Region masks, lesion mask and contrast map on ``analysis_image``.
    crop_offset_px, crop_scale : tuple, float
        ``analysis = (photo - crop_offset_px) * crop_scale``: maps photo pixels to the crop.
    chart : ChartCorrection or None
        The ColorChecker found in the photo and the colour correction fitted to it
        (applied before analysis when ``chart.used``); ``None`` without a chart.
    masi_banded, mmasi_banded : float
        The formulas applied to the regions' banded grades (``area_score``, ``darkness``,
        ``homogeneity``), uncalibrated: the totals of the grades as listed.
    split_face : SplitFace or None
        Hemi-face MASI and mMASI of the patient's right and left sides, for split-face trials
        (:mod:`pigmentscan.split_face`): each malar region with that side's half of the forehead
        and chin, cut at the face's midline.
    """

    source: str
    masi: float
    mmasi: float
    masi_raw: float
    mmasi_raw: float
    regions: dict
    qc: QualityReport
    model: str
    pigmentscan_version: str
    landmarks: FaceLandmarks
    analysis_image: np.ndarray
    analysis: FaceAnalysis
    crop_offset_px: tuple
    crop_scale: float
    chart: ChartCorrection | None = None
    masi_banded: float = float("nan")
    mmasi_banded: float = float("nan")
    split_face: SplitFace | None = None

    @property
    def status(self) -> str:
        return self.qc.status

    def __repr__(self) -> str:
        """One line: the photo, the totals, the QC status and the model (the arrays stay out of it)."""
        name = os.path.basename(str(self.source)) or str(self.source)
        return (f"FaceScore({name!r}, masi={self.masi:.2f}, mmasi={self.mmasi:.2f}, status={self.status!r}, "
                f"model={self.model!r})")

    def _repr_html_(self) -> str:
        """A notebook's view: the overlay beside the table of regions (:func:`pigmentscan.overlay.score_html`)."""
        return score_html(self)

    @property
    def analysis_points_px(self) -> np.ndarray:
        """The landmarks (478, 2) in the pixels of ``analysis_image``."""
        return (np.asarray(self.landmarks.points_px, float) - self.crop_offset_px) * self.crop_scale

    def to_dict(self) -> dict:
        """Plain-Python summary (no arrays): totals, regions, QC, reference skin, provenance."""
        return {
            "image": self.source,
            "status": self.status,
            "masi": self.masi,
            "mmasi": self.mmasi,
            "masi_raw": self.masi_raw,
            "mmasi_raw": self.mmasi_raw,
            "masi_banded": self.masi_banded,
            "mmasi_banded": self.mmasi_banded,
            "regions": {key: score.to_dict() for key, score in self.regions.items()},
            "split_face": None if self.split_face is None else self.split_face.to_dict(),
            "qc": self.qc.to_dict(),
            "reference_skin": self.analysis.reference.to_dict(),
            "landmarks": self.landmarks.to_dict(),
            "chart": None if self.chart is None else self.chart.to_dict(),
            "model": self.model,
            "pigmentscan_version": self.pigmentscan_version,
        }


def face_crop(image, *, model=None, mirrored: bool = False):
    """The face of a photo at the analysis scale, as :func:`score_image` sees it (no colour chart step).

    Returns ``(crop, landmarks)``: the RGB uint8 crop and its :class:`~pigmentscan.landmarks.FaceLandmarks`.

    Examples
    --------
    >>> crop, landmarks = face_crop("sample_images/grace_hopper.jpg")
    >>> round(landmarks.iod_px) == load_model().analysis_iod_px  # the pupils at the model's analysis scale
    True
    """
    scoring_model = load_model(model)
    rgb, landmarks, _, _ = load_face(image, scoring_model.analysis_iod_px, mirrored=mirrored)
    crop, crop_landmarks, _, _ = crop_to_analysis(rgb, landmarks, scoring_model.analysis_iod_px)
    return crop, crop_landmarks


def score_image(image, *, model=None, mirrored: bool = False, qc_limits: QualityLimits | None = None) -> FaceScore:
    """Score one face photo.

    Parameters
    ----------
    image : str, os.PathLike or numpy.ndarray
        A path to a JPEG, PNG or TIFF photo, or an RGB uint8 array (H, W, 3).
    model : None, str, os.PathLike or ScoringModel
        Scoring model; ``None`` for the default shipped with pigmentscan.
    mirrored : bool
        ``True`` for a mirrored (selfie) photo: it is flipped back first, so that
        ``right_malar`` is still the patient's right cheek.
    qc_limits : QualityLimits, optional
        Limits of the quality checks.

    Returns
    -------
    FaceScore

    Raises
    ------
    PigmentScanError
        ``ImageReadError`` for an unreadable photo, ``NoFaceError`` when no face is
        found, ``QualityError`` when a quality check rules the photo out (its
        ``report`` attribute holds the :class:`~pigmentscan.qc.QualityReport`); the
        message names the file and the reason.

    Examples
    --------
    >>> import pigmentscan
    >>> from pigmentscan.data import sample_images
    >>> score = pigmentscan.score_image(sample_images("grace_hopper.jpg")[0])
    >>> sorted(score.regions)
    ['chin', 'forehead', 'left_malar', 'right_malar']
    >>> score.status in ("ok", "warn"), 0 <= score.masi <= 48, 0 <= score.regions["right_malar"].area_score <= 6
    (True, True, True)
    """
    from .errors import QualityError

    scoring_model: ScoringModel = load_model(model)
    rgb, landmarks, reduce, source = load_face(image, scoring_model.analysis_iod_px, mirrored=mirrored)
    rgb, chart = chart_correction(rgb)  # a ColorChecker in the photo: its colours corrected to the chart's reference
    crop, crop_landmarks, offset, scale = crop_to_analysis(rgb, landmarks, scoring_model.analysis_iod_px)
    balance, as_taken = None, crop
    if chart is None or not chart.used:  # no chart: the whites of the eyes set the white balance
        balance = white_balance(crop, crop_landmarks.points_px)
        limit = (qc_limits or QualityLimits()).max_white_balance_ratio
        crop = apply_gains(crop, balance.gains) if balance.sclera_lab is not None and balance.gain_ratio <= limit else crop
    analysis = analyse_face(crop, crop_landmarks.points_px, crop_landmarks.iod_px, scoring_model.lesion,
                            scoring_model.face_template)
    # Report face size in the pixels of the photo as stored, whatever the decode scale.
    photo_landmarks = landmarks.transformed(float(reduce), image_shape=(rgb.shape[0] * reduce, rgb.shape[1] * reduce))
    photo = measure_photo(crop, crop_landmarks.points_px, crop_landmarks.iod_px, analysis, photo_iod_px=photo_landmarks.iod_px,
                          as_taken=as_taken)
    qc = assess_quality(photo_landmarks, {k: m.coverage for k, m in analysis.measures.items()}, limits=qc_limits,
                        photo=photo, balance=balance)
    if qc.status == "error":
        error = QualityError(source, "; ".join(qc.reasons))
        error.report = qc  # the QC measures, for the error row of a batch
        raise error
    regions: dict[str, RegionScore] = {
        key: grade_region(key, analysis.measures[key], scoring_model.grading) for key in REGION_KEYS
    }
    total = totals(regions, scoring_model.grading)
    hemi = split_face(analysis, crop_landmarks.points_px, crop_landmarks.iod_px, regions, scoring_model.grading,
                      closing_iod=scoring_model.lesion.homogeneity_closing_iod)
    return FaceScore(
        source=source,
        regions=regions,
        qc=qc,
        model=scoring_model.label,
        pigmentscan_version=__version__,
        landmarks=landmarks,
        analysis_image=crop,
        analysis=analysis,
        crop_offset_px=offset,
        crop_scale=scale,
        chart=chart,
        split_face=hemi,
        **total,
    )


def _round(value, digits=4):
    return round(float(value), digits)


def score_row(score: FaceScore, **identity) -> dict:
    """The scores-CSV row (CONTRACT.md column order) of a :class:`FaceScore`."""
    row = {"image": display_path(score.source), "subject": "", "visit": "", **identity}
    row.update({"status": score.status, "error": "; ".join(score.qc.reasons), "masi": _round(score.masi), "mmasi": _round(score.mmasi)})
    for key, region in score.regions.items():
        row.update({f"{key}_area_pct": _round(region.area_pct, 3), f"{key}_area_score": region.area_score,
                    f"{key}_darkness": region.darkness, f"{key}_homogeneity": region.homogeneity})
    row.update(score.qc.to_dict())
    row.update({"model": score.model, "pigmentscan_version": score.pigmentscan_version})
    row.update({name: _round(getattr(score, name)) for name in ("masi_raw", "mmasi_raw", "masi_banded", "mmasi_banded")})
    for key, region in score.regions.items():
        measures = region.measures.to_dict()
        row.update({f"{key}_{name}": (_round(measures[name]) if isinstance(measures[name], float) else measures[name])
                    for name in _REGION_EXTRAS})
    row.update({k: (_round(v) if isinstance(v, float) else v) for k, v in score.analysis.reference.to_dict().items()
                if not isinstance(v, list)})
    chart = score.chart  # colour chart step (pigmentscan.chart); a chart found but not used keeps its residual
    row.update({"chart_used": bool(chart is not None and chart.used),
                "chart_residual_delta_e": np.nan if chart is None else _round(chart.residual_delta_e, 3)})
    if score.split_face is not None:  # hemi-face scores for split-face trials (pigmentscan.split_face)
        row.update(score.split_face.columns())
    return row


def error_row(source, error: Exception, *, model: str = "", **identity) -> dict:
    """A scores-CSV row for a photo that could not be scored."""
    reason = error.reason if isinstance(error, PigmentScanError) else f"{type(error).__name__}: {error}"
    row = {"image": display_path(str(source)), "subject": "", "visit": "", **identity, "status": "error",
           "error": reason}
    report = getattr(error, "report", None)  # a QualityError keeps the measures that ruled the photo out
    if isinstance(report, QualityReport):
        row.update(report.to_dict())
    return {**row, "model": model, "pigmentscan_version": __version__}


def _score_one(task):
    image, model, overlay_path, identity, *rest = task
    qc_limits = rest[0] if rest else None
    scoring_model = load_model(model)
    try:
        score = score_image(image, model=scoring_model, qc_limits=qc_limits)
        row = score_row(score, **identity)
        if overlay_path is not None:
            write_overlay(overlay_path, score)
    except Exception as error:  # noqa: BLE001 - a batch never dies on one photo (PigmentScanError or a bug)
        if overlay_path is not None:
            remove_stale(overlay_path)  # an earlier run's overlay must not pass for this photo's
        return error_row(image, error, model=scoring_model.label, **identity)
    return row


def score_images(images, *, model=None, jobs: int = 1, overlay_dir=None,
                 qc_limits: QualityLimits | None = None, progress: bool = False) -> pd.DataFrame:
    """Score many photos; one row per photo, a bad photo is a row with ``status == "error"``.

    Parameters
    ----------
    images : iterable of paths or arrays
    model : None, path or ScoringModel
    jobs : int
        Worker processes (1 scores in this process); capped at the cores and the photos
        (:func:`pigmentscan.parallel.worker_count`).
    overlay_dir : path, optional
        Write one overlay PNG per scored photo into this folder; a photo that fails has
        any overlay of its name from an earlier run removed, so the folder never shows
        another photo's overlay under its name.
    qc_limits : QualityLimits, optional
        Limits of the quality checks (see :func:`score_image`).
    progress : bool
        Show a progress bar (photos done, rate, time left) on stderr.

    Returns
    -------
    pandas.DataFrame
        The scores table of CONTRACT.md, in the order of ``images``.

    Raises
    ------
    OutputError
        Before any photo is scored, if an overlay would replace one of the photos
        (:func:`pigmentscan.io.check_outputs`) or ``overlay_dir`` cannot be written.
    """
    scoring_model = load_model(model)
    images = list(images)
    targets = overlay_paths(overlay_dir, images) if overlay_dir is not None else [None] * len(images)
    if overlay_dir is not None:
        photos = [image for image in images if isinstance(image, (str, os.PathLike))]
        check_outputs([(f"overlay_dir (the overlay of {display_path(image)})", target)
                       for image, target in zip(images, targets)],
                      folders=[("overlay_dir", overlay_dir)], inputs=photos)
    tasks = [(image, scoring_model, target, {}, qc_limits) for image, target in zip(images, targets)]
    jobs = worker_count(jobs, len(tasks))
    if jobs > 1:
        # joblib's loky workers are fresh interpreters: MediaPipe is not fork-safe, and
        # unlike multiprocessing's spawn, loky does not re-run a script lacking a
        # __main__ guard.
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs, backend="loky", return_as="generator")(delayed(_score_one)(t) for t in tasks)
    else:
        results = (_score_one(task) for task in tasks)
    from tqdm import tqdm

    with tqdm(total=len(tasks), unit="photo", desc="scoring", file=sys.stderr, disable=not progress,
              dynamic_ncols=True) as bar:
        rows = []
        for row in results:  # in the order of the tasks
            rows.append(row)
            bar.update(1)
    for row, task in zip(rows, tasks):
        if not isinstance(task[0], (str, os.PathLike)):
            row["image"] = "<array>"
    return rows_to_frame(rows)


def rows_to_frame(rows) -> pd.DataFrame:
    """Scores rows as a DataFrame with the CONTRACT.md columns first, in order."""
    frame = pd.DataFrame(list(rows))
    for column in SCORE_COLUMNS:
        if column not in frame:
            frame[column] = np.nan if column not in ("image", "subject", "visit", "status", "error") else ""
    qc_columns = [c for c in frame.columns if c.startswith("qc_")]
    tail = [c for c in ("model", "pigmentscan_version") if c in frame.columns]
    rest = [c for c in frame.columns if c not in SCORE_COLUMNS and c not in qc_columns and c not in tail]
    return frame[list(SCORE_COLUMNS) + qc_columns + tail + rest]

