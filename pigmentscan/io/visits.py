"""When each photo was taken in a study, and which visit is each subject's baseline.

:func:`visit_order_key` orders visit labels (``screening``, ``day -7``, ``baseline``, ``week 4``,
``V2``, ...); :func:`visit_order` applies it to a table of photos and decides each subject's
baseline visit. It is the one rule for every part of pigmentscan that puts visits in order or
measures change from baseline: ``compare`` (:mod:`pigmentscan.longitudinal`), ``validate``
(:func:`pigmentscan.validation.change_from_baseline`) and the before/after panels
(:mod:`pigmentscan.report.panels`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

__all__ = ["visit_order_key", "visit_order", "BASELINE_KEY"]

# Visit labels. Days per unit: day 1, week 7, month 30, year 365; None: a visit number.
_UNITS = {
    **dict.fromkeys(("d", "day", "days"), 1), **dict.fromkeys(("w", "wk", "week", "weeks"), 7),
    **dict.fromkeys(("m", "mo", "month", "months"), 30),
    **dict.fromkeys(("y", "year", "years"), 365),
    **dict.fromkeys(("v", "visit", "visite", "visita", "t"), None)}
_BASELINE = {"baseline", "base line", "bl", "base"}
_SCREENING = {"screening", "screen", "scr"}
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_UNIT_FIRST = re.compile(rf"(?P<unit>[a-z]+)(?:-| ?[#.:]? ?)(?P<num>{_NUMBER})")  # week-4, day -7
_UNIT_LAST = re.compile(rf"(?P<num>{_NUMBER}) ?-? ?(?P<unit>[a-z]+)")


def visit_order_key(label) -> tuple[int, float]:
    """Sort key of a visit label: ``sorted(visits, key=visit_order_key)``.

    Order: screening; anything before day 0 (``"day -14"``, negative numbers);
    baseline (``"baseline"``, ``"BL"``, ``"V0"``, ``"visit 0"``, ``"day 0"``, ``0``);
    numbered visits by number (``2``, ``"V2"``, ``"visit 3"``, ``"T1"``); time points by
    days (``"day 14"``, ``"week 4"``, ``"W12"``, ``"4 weeks"``, ``"month 3"``; a week is 7
    days, a month 30). Labels meaning the same time get the same key (``"week 4"`` and
    ``"day 28"``). A study should use one scheme: visit numbers and time points are not
    on one scale, so all numbered visits sort before all time points.

    Raises
    ------
    ValueError
        If the label fits none of these forms.

    Examples
    --------
    >>> sorted(["week 12", "baseline", "week 4", "screening"], key=visit_order_key)
    ['screening', 'baseline', 'week 4', 'week 12']
    """
    per_day = None
    if isinstance(label, (int, float, np.integer, np.floating)) and not isinstance(label, bool):
        number = float(label)
    else:
        text = " ".join(str(label).lower().replace("_", " ").split())
        if text in _SCREENING:
            return (0, -math.inf)
        if text in _BASELINE:
            return (1, 0.0)
        match = _UNIT_FIRST.fullmatch(text) or _UNIT_LAST.fullmatch(text)
        if match and match["unit"] in _UNITS:
            number, per_day = float(match["num"]), _UNITS[match["unit"]]
        elif re.fullmatch(_NUMBER, text):
            number = float(text)
        else:
            raise ValueError(f"visit label {label!r} cannot be ordered: use a number, "
                             "'baseline' or 'screening', 'V2' / 'visit 2', or a time "
                             "such as 'day 14', 'week 4' or 'month 3'")
    if not math.isfinite(number):
        raise ValueError(f"visit label {label!r} cannot be ordered: not a finite number")
    value = number * (per_day or 1)
    if value < 0:
        return (0, value)
    if value == 0:
        return (1, 0.0)
    return (2 if per_day is None else 3, value)


#: :func:`visit_order_key` of day 0: ``"baseline"``, ``"BL"``, ``"V0"``, ``"visit 0"``, ``"day 0"``, ``0``.
BASELINE_KEY = (1, 0.0)


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""


def visit_order(subjects, visits, dates=None) -> pd.DataFrame:
    """The time order of a study's photos and each subject's baseline visit.

    **Order.** By the visit labels (:func:`visit_order_key`) when every photo's label can be
    ordered; else by ``dates`` when every photo has one; else only the photos whose label can be
    ordered get a place (``by`` is ``""``: a caller that needs every photo refuses the table).

    **Baseline.** By labels: the study's baseline is day 0 (``baseline``, ``BL``, ``V0``,
    ``day 0``) when any photo was taken at day 0, else the study's first visit. Each subject's
    baseline is its last visit at or before the study's: its own day-0 visit, or, when that one
    is missing, the last visit before it (a run-in ``day -7``, else ``screening``), as trials
    define a baseline (the last observation before treatment). Visits before it (screening,
    run-in) keep their place in the order. A subject whose visits all come later has no
    baseline. By dates: each subject's first date. Whether the baseline photo could be scored
    is the caller's to check: the baseline is decided by the labels alone.

    Parameters
    ----------
    subjects, visits : sequence or pandas.Series
        The subject and visit label of each photo (blank or NaN when unknown).
    dates : sequence or pandas.Series, optional
        The ISO date of each photo.

    Returns
    -------
    pandas.DataFrame
        One row per photo, with the index of ``visits`` when it is a Series:
        ``visit_rank`` (int: the visit's place in the study, 0 first; photos of one time point
        share it, ``"week 4"`` and ``"day 28"`` too; -1 when the photo cannot be ordered),
        ``baseline_rank`` (int: the ``visit_rank`` of the subject's baseline, -1 when it has
        none) and ``is_baseline`` (bool). ``attrs["by"]`` is ``"visit"``, ``"date"`` or ``""``.

    Examples
    --------
    >>> order = visit_order(["a", "a", "a", "b", "b"], ["screening", "baseline", "week 4", "day -7", "week 4"])
    >>> order["visit_rank"].tolist(), order["is_baseline"].tolist()
    ([0, 2, 3, 1, 3], [False, True, False, True, False])
    """
    index = visits.index if isinstance(visits, pd.Series) else pd.RangeIndex(len(visits))
    subjects, labels = list(subjects), list(visits)
    if len(subjects) != len(labels):
        raise ValueError(f"{len(subjects)} subjects for {len(labels)} visits")
    keys = []
    for label in labels:
        try:
            keys.append(None if _blank(label) else visit_order_key(label))
        except ValueError:
            keys.append(None)
    by = "visit"
    if any(key is None for key in keys):
        when = None if dates is None else pd.to_datetime(pd.Series(list(dates), dtype=object), errors="coerce",
                                                        format="ISO8601")
        if when is not None and len(when) == len(keys) and when.notna().all():
            by, keys = "date", [(stamp - pd.Timestamp("1970-01-01")).days for stamp in when]
        else:
            by = ""
    ordered = sorted({key for key in keys if key is not None})
    rank = {key: i for i, key in enumerate(ordered)}
    visit_rank = np.array([-1 if key is None else rank[key] for key in keys], dtype=int)
    if by == "date":
        limit = math.inf  # each subject's first date
    else:
        limit = rank.get(BASELINE_KEY, 0)  # day 0, else the study's first visit
    per_subject: dict = {}
    for subject, place in zip(subjects, visit_rank):
        if _blank(subject) or place < 0:
            continue
        best = per_subject.get(subject, -1)
        if by == "date":
            per_subject[subject] = place if best < 0 else min(best, place)
        elif place <= limit:
            per_subject[subject] = max(best, place)
    baseline_rank = np.array([-1 if _blank(s) else per_subject.get(s, -1) for s in subjects], dtype=int)
    frame = pd.DataFrame({"visit_rank": visit_rank, "baseline_rank": baseline_rank,
                          "is_baseline": (visit_rank >= 0) & (visit_rank == baseline_rank)}, index=index)
    frame.attrs["by"] = by
    return frame
