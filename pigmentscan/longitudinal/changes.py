"""Change of each measure from each subject's baseline visit (:func:`changes_from_baseline`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io as _io
from ..errors import ManifestError
from ..qc import worst_status
from ..regions import REGION_KEYS
from ..scoring.grading import REGION_WEIGHTS
from .split_face import add_side_differences, hemi_measures

#: Responder thresholds, improvement from baseline as a fraction. >=50 % is the usual melasma-trial
#: responder definition (MASI.md "Photos in trials"; e.g. tranexamic-acid RCTs); >=75 % is the
#: stricter grade reported beside it (by analogy with PASI-75 in psoriasis trials).
RESPONDER_THRESHOLDS = (0.50, 0.75)
#: Confidence level of every interval of a comparison: the two-sided Student-t intervals of group
#: means, mean +- t(n-1) * sd / sqrt(n) (statistics.py), and the coverage of the smallest detectable
#: change, SDC = z * sqrt(2) * SEM with z = 1.96 at 95 % (reliability.py; Weir 2005, J Strength Cond
#: Res 19:231-40; de Vet et al. 2006, J Clin Epidemiol 59:1033-9).
CONFIDENCE = 0.95
# Float slack so that exactly 75 % counts (1.4 -> 0.35 gives 0.7499999999999999). Not clinical.
_EPS = 1e-9
_ID_COLUMNS = ("subject", "visit", "arm", "date")
#: Measures whose change can be tested against a smallest detectable change (reliability.py).
DETECTION_MEASURES = ("masi", "mmasi", "lesion_area_pct", "lesion_pigment_pct")
#: Measures without a percent change: lesion_pigment_pct is already a percentage of the baseline's
#: pigment (its change is in those points), and the darkness grades are ordinal.
_NO_PERCENT_CHANGE = ("lesion_pigment_pct",) + tuple(f"{r}_darkness" for r in REGION_KEYS)


def lesion_area_pct(scores: pd.DataFrame) -> pd.Series:
    """Lesion share of the four MASI regions, weighted as in MASI (%, continuous, no bands).

    ``sum(w_r * <r>_area_pct)`` with the MASI weights 0.3, 0.3, 0.3, 0.1: the measure whose
    change follows the true change of pigment most closely, since it is not cut into the area
    score's bands (a region at 29 % and one at 31 % differ by a whole area score).
    """
    return sum(REGION_WEIGHTS[r] * pd.to_numeric(scores[f"{r}_area_pct"], errors="coerce") for r in REGION_KEYS)


def _text(value) -> str | None:
    """An identifier as text ("001" stays "001", 3.0 becomes "3"); None when blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def comparable_scores(scores: pd.DataFrame) -> tuple[pd.DataFrame, list[str], bool]:
    """The scores as every comparison reads them: ``(frame, measures, by_label)``.

    ``frame`` is a copy of ``scores`` with the identifiers as text, the measures as numbers, and
    private columns: ``_usable`` (scored, and not another face), ``_rank`` and ``_baseline_rank``
    (the visit's place and the subject's baseline, :func:`pigmentscan.io.visit_order`), ``_label``
    (the visit's name) and, with dates, ``_date``. ``measures`` are the columns compared;
    ``by_label`` is True when the visits are ordered by their labels (else by date).

    Raises
    ------
    ManifestError
        Without ``subject``, ``visit`` or ``masi``, with rows lacking a subject, or with visits that
        neither their labels nor dates can order.
    """
    for column in ("subject", "visit", "masi"):
        if column not in scores.columns:
            raise ManifestError(None, f"no '{column}' column: compare needs subject, visit and masi for every photo")
    frame = scores.copy()
    for column in (c for c in _ID_COLUMNS if c in frame.columns):
        frame[column] = frame[column].map(_text).astype(object)
    has_date = "date" in frame.columns and frame["date"].notna().any()
    if frame["subject"].isna().all() or (frame["visit"].isna().all() and not has_date):
        raise ManifestError(None, "the 'subject' or 'visit' column is empty: fill in who was photographed when")
    if frame["subject"].isna().any():
        lines = (np.flatnonzero(frame["subject"].isna().to_numpy()) + 2)[:5].tolist()
        raise ManifestError(None, f"rows without a subject (CSV lines {lines}): fill them in or remove them")
    measures = [m for m in ("masi", "mmasi", "lesion_pigment_pct") if m in frame.columns] + [
        f"{r}_{s}" for r in REGION_KEYS for s in ("area_pct", "darkness", "melanin_contrast")
        if f"{r}_{s}" in frame.columns]
    for column in measures:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if all(f"{r}_area_pct" in frame.columns for r in REGION_KEYS):
        frame["lesion_area_pct"] = lesion_area_pct(frame)
        measures.insert(len([m for m in measures if m in ("masi", "mmasi", "lesion_pigment_pct")]), "lesion_area_pct")
    frame["_status"] = frame["status"].map(lambda v: (_text(v) or "ok").lower()) if "status" in frame.columns else "ok"
    # A photo is used when it was scored and, where faces were compared (identity.check_identity), is the subject's.
    frame["_same_face"] = _flag(frame, "same_face")
    frame["_usable"] = frame["_status"].ne("error").to_numpy() & ~frame["_same_face"].eq(False).fillna(False).to_numpy()

    order = _io.visit_order(frame["subject"], frame["visit"], frame["date"] if has_date else None)
    by_label = order.attrs["by"] == "visit"
    if not order.attrs["by"]:
        bad = sorted({str(label) for label in frame["visit"].dropna() if not _orders(label)})
        what = f"visit labels {bad[:5]} cannot be ordered" if bad else "some rows have no visit"
        raise ManifestError(None, f"{what}: use labels like 'baseline', 'week 4', 'V2', or add an ISO 'date' column")
    frame["_rank"], frame["_baseline_rank"] = order["visit_rank"], order["baseline_rank"]
    if has_date:
        frame["_date"] = pd.to_datetime(frame["date"], errors="coerce", format="ISO8601")
    frame["_label"] = frame["visit"] if by_label else frame["visit"].where(
        frame["visit"].notna(), frame["_date"].dt.strftime("%Y-%m-%d"))
    return frame, measures, by_label


def _orders(label) -> bool:
    try:
        _io.visit_order_key(label)
    except ValueError:
        return False
    return True


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    """A boolean column as nullable booleans ("False" read from a CSV included); all NA when absent."""
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    words = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
    return frame[column].map(lambda v: words.get(str(v).strip().lower(), pd.NA)).astype("boolean")


def _photo_problem(row) -> str:
    """What is wrong with one photo, for the visit's ``qc_reasons`` (empty when nothing)."""
    name = Path(str(row.get("image") or "")).name or "photo"
    problems = []
    if row["_status"] == "error":
        problems.append(f"not scored: {_text(row.get('error')) or 'error'}")
    elif row["_status"] == "warn":
        problems.append(f"QC warning: {_text(row.get('error')) or _text(row.get('qc_reasons')) or 'see qc columns'}")
    if row.get("_same_face") is False:
        problems.append(f"not used: {_text(row.get('identity_note')) or 'not the same face'}")
    return f"{name}: " + "; ".join(problems) if problems else ""


def _visit_quality(at: pd.DataFrame) -> dict:
    """``qc_status``, ``qc_reasons``, ``same_face``, ``identity_note`` of the photos of one visit."""
    used = at[at["_usable"]]
    problems = [p for p in (_photo_problem(row) for row in at.to_dict("records")) if p]
    same = at["_same_face"].dropna()
    notes = sorted({_text(n) for n in at.get("identity_note", ())} - {None})
    return {"qc_status": worst_status(*(used if len(used) else at)["_status"]),
            "qc_reasons": " | ".join(problems),
            "same_face": pd.NA if same.empty else bool(same.all()), "identity_note": "; ".join(notes)}


def photo_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Every photo in subject and visit order: its QC status and reason, whether it was used.

    Columns (those the scores have): ``subject``, ``arm``, ``visit``, ``date``, ``image``,
    ``status``, ``error``, ``used`` (in the changes: scored, and not another face), the identity
    columns of :func:`~pigmentscan.longitudinal.check_identity`, ``lesion_pigment_pct`` and
    ``lesion_pigment_note``.

    Examples
    --------
    >>> scores = pd.DataFrame({"image": ["b.jpg", "a.jpg"], "subject": "1", "visit": ["week 4", "baseline"],
    ...                        "status": ["error", "ok"], "error": ["no face found", ""], "masi": [None, 3.0]})
    >>> photo_table(scores)[["image", "used"]].values.tolist()
    [['a.jpg', True], ['b.jpg', False]]
    """
    frame, _, _ = comparable_scores(scores)
    frame["used"] = frame["_usable"].astype(bool)
    columns = [c for c in ("subject", "arm", "visit", "date", "image", "status", "error", "used", "face_distance_iod",
                           "skin_tone_difference_deg", "same_face", "identity_note", "lesion_pigment_pct",
                           "lesion_pigment_note") if c in frame.columns]
    return frame.sort_values(["subject", "_rank"], kind="stable")[columns].reset_index(drop=True)


def visit_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Each subject's usable photos of one visit averaged: ``subject``, ``visit``, ``n_images``, measures."""
    frame, measures, _ = comparable_scores(scores)
    usable = frame[frame["_usable"]]
    grouped = usable.groupby(["subject", "_rank"], sort=True)
    means = grouped[measures].mean()
    means.insert(0, "n_images", grouped.size())
    means.insert(0, "visit", grouped["_label"].first())
    return means.reset_index().drop(columns="_rank")


def sdc_mapping(sdc) -> dict[str, float]:
    """``sdc`` of :func:`changes_from_baseline` as ``{measure: smallest detectable change}``.

    A number is MASI points; a mapping names its measures; a
    :class:`~pigmentscan.longitudinal.reliability.RetestReliability` gives its ``sdc``.
    """
    sdc = getattr(sdc, "sdc", sdc)
    mapping = {str(k): float(v) for k, v in sdc.items()} if isinstance(sdc, Mapping) else {"masi": float(sdc)}
    bad = {k: v for k, v in mapping.items() if not (math.isfinite(v) and v >= 0)}
    if bad or not mapping:
        raise ValueError(f"a smallest detectable change must be a finite number >= 0 per measure, got {sdc!r}")
    return mapping


def detection_measures(sdc, detect_by=None) -> tuple[str, ...]:
    """The measures whose change decides ``detected_change``.

    ``detect_by`` when given; else the first of ``lesion_pigment_pct`` (the pigment left in the
    baseline's lesions, :func:`~pigmentscan.longitudinal.add_lesion_pigment`) and
    ``lesion_area_pct`` that has an SDC; else every measure given an SDC. On the phantom trials
    of benchmarks/longitudinal.py (test faces) the lesion pigment detected all 243 improving
    visits, the area 233 and MASI 205, flagging 5, 3 and 10 of 81 stable visits. The lesion pigment does not see
    new patches away from the baseline's; ``detect_by=("lesion_pigment_pct", "lesion_area_pct")``
    also calls a visit worsened when its lesion area grew beyond its SDC (more false alarms).
    """
    mapping = sdc_mapping(sdc)
    if detect_by is None:
        preferred = [m for m in ("lesion_pigment_pct", "lesion_area_pct") if m in mapping]
        return tuple(preferred[:1]) if preferred else tuple(mapping)
    chosen = (detect_by,) if isinstance(detect_by, str) else tuple(detect_by)
    if not chosen or set(chosen) - set(mapping):
        raise ValueError(f"detect_by {list(chosen)} must name measures given a smallest detectable change "
                         f"{sorted(mapping)}")
    return chosen


def detect_changes(changes: pd.DataFrame, sdc, detect_by=None) -> pd.DataFrame:
    """Mark the changes larger than the smallest detectable change (in place; returned).

    ``changes``: a table with ``<m>_change`` columns (:func:`changes_from_baseline`); ``sdc`` and
    ``detect_by`` as there. Adds ``beyond_sdc``, ``detected_change`` and, when ``sdc`` is a
    mapping, ``<m>_beyond_sdc``.
    """
    mapping, per_measure = sdc_mapping(sdc), isinstance(getattr(sdc, "sdc", sdc), Mapping)
    missing = sorted(set(mapping) - {c[: -len("_change")] for c in changes.columns if c.endswith("_change")})
    if missing:
        raise ManifestError(None, f"a smallest detectable change is given for {missing}, which the scores lack")
    detect_by = detection_measures(mapping, detect_by)
    flags = {}
    for measure, limit in mapping.items():
        change = changes[f"{measure}_change"]
        flags[measure] = (change.where(change.abs() > limit, 0.0).apply(np.sign)).mask(change.isna())
        if per_measure:
            changes[f"{measure}_beyond_sdc"] = pd.Series(flags[measure] != 0, dtype="boolean").mask(change.isna())
    signs = pd.concat([flags[m] for m in detect_by], axis=1)
    known = signs.notna().all(axis=1)
    changes["beyond_sdc"] = pd.Series(signs.ne(0).any(axis=1), dtype="boolean").mask(~known)
    down, up = signs.lt(0).any(axis=1), signs.gt(0).any(axis=1)
    detected = np.select([down & up, down, up], ["mixed", "improved", "worsened"], "none")
    changes["detected_change"] = pd.Series(detected, index=changes.index, dtype=object).where(known)
    return changes


def _baseline_note(sub: pd.DataFrame) -> str:
    """Why a subject (its rows in visit order) has no changes, or empty."""
    if sub["_baseline_rank"].iloc[0] < 0:
        return f"no baseline visit (first visit: {sub['_label'].iloc[0]})"
    first = sub[sub["_rank"].eq(sub["_baseline_rank"].iloc[0])]
    used = first[first["_usable"]]
    if used.empty:
        if first["_same_face"].eq(False).fillna(False).any():  # the photo's own row says why (qc_reasons)
            return "baseline photo not used: not the same face as the subject's other photos"
        errors = sorted({_text(e) or "error" for e in first.get("error", pd.Series("error", index=first.index))})
        return f"baseline photo not scored ({'; '.join(errors)})"
    if used["masi"].isna().all():
        return "baseline MASI missing"
    return ""


def changes_from_baseline(scores: pd.DataFrame, *, sdc=None, detect_by=None, split_face: bool = False,
                          treated_side: str | None = None) -> pd.DataFrame:
    """Change of each measure from each subject's baseline visit.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table (CONTRACT.md); optional ``arm`` and ``date``, and the identity columns of
        :func:`~pigmentscan.longitudinal.check_identity`. Photos with status ``error`` or
        ``same_face`` false are not used, but their visit keeps its row (NaN measures, the reason
        in ``qc_reasons``); several usable photos of one subject at one visit are averaged.
    sdc : float, mapping or RetestReliability, optional
        Smallest detectable change: MASI points, or ``{measure: sdc}`` for any of
        ``DETECTION_MEASURES`` (in the measure's units), or the result of
        :func:`~pigmentscan.longitudinal.smallest_detectable_change`. Adds ``beyond_sdc``
        (some ``detect_by`` measure changed by more than its SDC), ``detected_change``
        (``improved``: a ``detect_by`` measure fell beyond its SDC and none rose beyond it;
        ``worsened``; ``mixed``; ``none``) and, for a mapping, ``<m>_beyond_sdc`` per measure.
    detect_by : str or sequence of str, optional
        The measures ``beyond_sdc`` and ``detected_change`` look at (default: see
        :func:`detection_measures`; ``lesion_pigment_pct``, else ``lesion_area_pct``, when it
        has an SDC).
    split_face : bool
        Split-face trial: also follow each side's hemi-face measures (``hemi_right_masi``,
        ``hemi_left_masi``, their ``mmasi`` and ``lesion_area_pct``; :mod:`pigmentscan.split_face`)
        and add the between-side columns of :func:`~pigmentscan.longitudinal.split_face.add_side_differences`.
        The scores must have ``hemi_right_masi`` and ``hemi_left_masi``.
    treated_side : {"right", "left"}, optional
        With ``split_face``: the treated side of every subject (default: each subject's ``arm``
        when it names a side, else unknown).

    Returns
    -------
    pandas.DataFrame
        One row per subject x visit with a photo, baseline included (change 0): ``subject``,
        [``arm``], ``visit``, ``visit_order`` (0, 1, ... in study order), ``n_images`` (photos
        used), ``n_images_failed`` (not used), ``qc_status`` (worst status of the photos used,
        else of all the visit's photos: ``error`` when none was scored), ``qc_reasons`` (each photo with a problem: file name and
        reason), ``same_face`` and ``identity_note`` (NA / empty when not checked), ``note``,
        ``is_baseline``, [``date``, ``days_from_baseline``]; for masi, mmasi, ``lesion_pigment_pct`` (when the
        scores have it: :func:`~pigmentscan.longitudinal.add_lesion_pigment`), ``lesion_area_pct`` (see
        :func:`lesion_area_pct`; when every region's area is present) and each region's ``area_pct``,
        ``darkness`` and ``melanin_contrast`` (those present): ``<m>``, ``<m>_baseline``,
        ``<m>_change`` (visit - baseline), ``<m>_change_pct`` (change / baseline * 100, NaN when
        baseline is 0; not for the ordinal darkness grades, nor for ``lesion_pigment_pct``, which
        is already % of the baseline); for masi and mmasi ``<m>_responder_50`` / ``_75``
        (improvement >= 50 % / 75 %, nullable boolean, NA at baseline); with ``split_face`` the
        same ``<m>`` columns of each ``hemi_<side>_<measure>``, then ``treated_side`` and the
        between-side differences (:func:`~pigmentscan.longitudinal.split_face.add_side_differences`).
        A subject without a usable baseline keeps its values, has a ``note`` and NaN changes.

    Examples
    --------
    >>> scores = pd.DataFrame({"subject": "1", "visit": ["week 12", "baseline"], "masi": [4.0, 10.0]})
    >>> changes_from_baseline(scores)["masi_change"].tolist()
    [0.0, -6.0]
    """
    frame, measures, by_label = comparable_scores(scores)
    if split_face:
        hemi = hemi_measures(frame.columns)
        if not {"hemi_right_masi", "hemi_left_masi"} <= set(hemi):
            raise ManifestError(None, "no hemi-face columns (hemi_right_masi, hemi_left_masi): a split-face comparison "
                                      "needs scores from a pigmentscan that reports them (score the photos again)")
        for column in hemi:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        measures = measures + hemi
    has_arm, has_date = "arm" in frame.columns, "_date" in frame.columns
    rows = []
    for subject, sub in frame.groupby("subject", sort=True):
        sub = sub.sort_values("_rank", kind="stable")
        arms = sorted(set(sub["arm"].dropna())) if has_arm else []
        if len(arms) > 1:
            raise ManifestError(None, f"subject {subject} is listed in several arms {arms}")
        base_rank = sub["_baseline_rank"].iloc[0]  # -1: the subject has no baseline visit
        note = _baseline_note(sub)
        start = sub.loc[sub["_rank"].eq(base_rank), "_date"].min() if has_date and base_rank >= 0 else None
        for rank, at in sub.groupby("_rank", sort=True):  # every visit, its failed photos too: nothing vanishes
            used = at[at["_usable"]]
            row = {"subject": subject, "arm": arms[0] if arms else None, "visit": at["_label"].iloc[0], "_rank": rank,
                   "n_images": len(used), "n_images_failed": len(at) - len(used), **_visit_quality(at), "note": note,
                   "is_baseline": bool(rank == base_rank), "_before_baseline": bool(rank < base_rank)}
            if has_date:  # days since the baseline (since the first visit when the subject has none)
                delta = at["_date"].min() - (sub["_date"].iloc[0] if start is None else start)
                row["date"], row["days_from_baseline"] = at["_date"].min(), delta.days if pd.notna(delta) else math.nan
            rows.append(row | used[measures].mean().to_dict())
    changes = pd.DataFrame(rows).drop(columns=[] if has_arm else ["arm"])
    if has_date:
        changes["date"] = pd.to_datetime(changes["date"]).dt.strftime("%Y-%m-%d")
    if by_label:  # labels with the same order key share a place
        order = changes["_rank"].map({r: i for i, r in enumerate(sorted(changes["_rank"].unique()))})
    else:  # by date: labels ordered by first use within subjects, then by date
        first_use = pd.DataFrame({"visit": changes["visit"], "seq": changes.groupby("subject").cumcount(),
                                  "rank": changes["_rank"]}).groupby("visit").min().sort_values(["seq", "rank"])
        order = changes["visit"].map({label: i for i, label in enumerate(first_use.index)})
    changes.insert(changes.columns.get_loc("visit") + 1, "visit_order", order.astype(int))
    before = changes.pop("_before_baseline").astype(bool)
    changes = changes.drop(columns="_rank")

    valid = changes["note"].eq("")
    for m in measures:
        base = changes[m].where(changes["is_baseline"] & valid).groupby(changes["subject"]).transform("first")
        base = base.where(valid)
        nonzero = base.where(base != 0)
        changes[f"{m}_baseline"], changes[f"{m}_change"] = base, changes[m] - base
        if m not in _NO_PERCENT_CHANGE:
            changes[f"{m}_change_pct"] = (changes[m] - base) / nonzero * 100.0
        improvement = (base - changes[m]) / nonzero
        for threshold in RESPONDER_THRESHOLDS if m in ("masi", "mmasi") else ():
            flag = pd.Series(improvement >= threshold - _EPS, dtype="boolean")
            changes[f"{m}_responder_{round(threshold * 100)}"] = flag.mask(improvement.isna() | changes["is_baseline"] | before)
    if split_face:
        changes = add_side_differences(changes, treated_side=treated_side)
    if sdc is not None:
        changes = detect_changes(changes, sdc, detect_by)
    return changes.sort_values(["subject", "visit_order"], kind="stable").reset_index(drop=True)
