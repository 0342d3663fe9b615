"""Group statistics of the changes: summaries per visit (and arm) and between-arm rank tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .changes import (CONFIDENCE, RESPONDER_THRESHOLDS, changes_from_baseline, detection_measures, photo_table,
                      sdc_mapping)
from .split_face import SIDE_MEASURES, hemi_measures


def _mean_ci(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval (NaN bounds when n < 2)."""
    x = pd.Series(values, dtype="Float64").dropna().to_numpy(float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    if x.size < 2:
        return float(x.mean()), math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def _fraction(flags: pd.Series) -> float:
    return float(flags.astype("Float64").mean()) if flags.notna().any() else math.nan


def visit_name(group: pd.DataFrame) -> str:
    """The name of one place in the visit order: its labels together ("day 28 / week 4").

    ``group`` is the rows of the changes at that place (a ``visit`` column).
    """
    return " / ".join(sorted(set(group["visit"])))


def group_summary(changes: pd.DataFrame, *, measures=("masi", "mmasi", "lesion_area_pct", "lesion_pigment_pct"),
                  confidence: float = CONFIDENCE, differences=()) -> pd.DataFrame:
    """Mean change and percent change with t intervals, and responder shares, per visit (and arm).

    Parameters
    ----------
    changes : pandas.DataFrame
        Output of :func:`changes_from_baseline`; subjects with a ``note`` are left out.
    measures : sequence of str
        Measures to summarise (those absent from ``changes`` are skipped).
    confidence : float
        Level of the two-sided Student-t intervals.
    differences : sequence of str
        Columns of ``changes`` that are changes already (a split face's
        ``hemi_masi_change_right_minus_left`` ...): their ``_mean``, ``_ci_low``, ``_ci_high``
        (those absent are skipped).

    Returns
    -------
    pandas.DataFrame
        One row per [arm x] visit: ``n`` (subjects with a MASI change) and per measure ``<m>_mean``,
        ``<m>_change_mean`` / ``_ci_low`` / ``_ci_high``, the same for ``<m>_change_pct`` (where
        the changes have it), ``<m>_responder_50_fraction`` / ``_75_fraction``; with an SDC
        ``beyond_sdc_fraction`` and the fractions of subjects whose ``detected_change`` is
        improved or worsened (``improved_fraction``, ``worsened_fraction``). Fractions are 0-1.
    """
    keys = (["arm"] if "arm" in changes.columns else []) + ["visit_order"]
    rows = []
    for key, group in changes[changes["note"].eq("")].groupby(keys, sort=True, dropna=False):
        row = dict(zip(keys, key)) | {"visit": visit_name(group), "n": int(group["masi_change"].notna().sum())}
        for m in (m for m in measures if f"{m}_change" in group.columns):
            row[f"{m}_mean"] = float(group[m].mean())
            for c in (c for c in (f"{m}_change", f"{m}_change_pct") if c in group.columns):
                row[f"{c}_mean"], row[f"{c}_ci_low"], row[f"{c}_ci_high"] = _mean_ci(group[c], confidence)
            for c in (f"{m}_responder_{round(t * 100)}" for t in RESPONDER_THRESHOLDS):
                if c in group.columns:
                    row[f"{c}_fraction"] = _fraction(group[c])
        for c in (c for c in differences if c in group.columns):
            row[f"{c}_mean"], row[f"{c}_ci_low"], row[f"{c}_ci_high"] = _mean_ci(group[c], confidence)
        if "beyond_sdc" in group.columns:
            row["beyond_sdc_fraction"] = _fraction(group["beyond_sdc"])
            for kind in ("improved", "worsened"):
                row[f"{kind}_fraction"] = _fraction(group["detected_change"].eq(kind).mask(group["detected_change"].isna()))
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else keys + ["visit", "n"])


def compare_arms(changes: pd.DataFrame, *, visit=None,
                 measures=("masi_change", "masi_change_pct")) -> pd.DataFrame:
    """Rank test of the change between treatment arms at each post-baseline visit.

    Two arms: Mann-Whitney U (scipy defaults: two-sided, exact for small samples without ties),
    rank-biserial r = P(a > b) - P(a < b) (Kerby 2014; pingouin's ``RBC`` sign) and the
    Hodges-Lehmann shift median(a_i - b_j) (Hodges & Lehmann 1963); arms in sorted order, ``a``
    first. More arms: Kruskal-Wallis H, epsilon-squared = H / (n - 1) (Tomczak & Tomczak 2014).
    p-values are not adjusted for the number of visits or measures.

    Parameters
    ----------
    changes : pandas.DataFrame
        Output of :func:`changes_from_baseline` with an ``arm`` column.
    visit : str, optional
        Only this visit label.
    measures : sequence of str
        Columns of ``changes`` to compare.

    Returns
    -------
    pandas.DataFrame
        One row per visit x measure with a value in some arm: ``test``, ``arms``, ``statistic``,
        ``p_value``, ``effect_size``, ``effect_size_name``, ``hl_shift``, ``n_<arm>``,
        ``median_<arm>``. Empty with < 2 arms.
    """
    if "arm" not in changes.columns or changes["arm"].nunique() < 2:
        return pd.DataFrame()
    arms = sorted(changes["arm"].dropna().unique())
    post = changes[~changes["is_baseline"].astype(bool) & changes["arm"].notna()]
    if visit is not None:
        if str(visit) not in set(post["visit"]):
            raise ValueError(f"visit {visit!r} has no post-baseline rows; known: {sorted(set(post['visit']))}")
        post = post[post["visit_order"].isin(post.loc[post["visit"] == str(visit), "visit_order"])]
    rows = []
    for order, group in post.groupby("visit_order", sort=True):
        label = visit_name(group)
        for measure in measures:
            samples = {arm: group.loc[group["arm"] == arm, measure].dropna().to_numpy(float) for arm in arms}
            present = [arm for arm in arms if samples[arm].size]
            if not present:  # a visit whose photos all failed: nothing to compare
                continue
            row = {"visit": label, "visit_order": order, "measure": measure, "test": "", "arms": " vs ".join(present)}
            row |= dict.fromkeys(("statistic", "p_value", "effect_size"), math.nan) | {"effect_size_name": ""}
            row["hl_shift"] = math.nan
            if len(present) == 2:
                a, b = samples[present[0]], samples[present[1]]
                result = stats.mannwhitneyu(a, b, alternative="two-sided")
                row |= {"test": "Mann-Whitney U", "statistic": float(result.statistic), "p_value": float(result.pvalue),
                        "effect_size": 2.0 * float(result.statistic) / (a.size * b.size) - 1.0,
                        "effect_size_name": "rank-biserial r", "hl_shift": float(np.median(np.subtract.outer(a, b)))}
            elif len(present) > 2:
                h, p = stats.kruskal(*(samples[arm] for arm in present))
                n = sum(samples[arm].size for arm in present)
                row |= {"test": "Kruskal-Wallis", "statistic": float(h), "p_value": float(p),
                        "effect_size": float(h) / (n - 1), "effect_size_name": "epsilon-squared"}
            for arm in arms:
                row[f"n_{arm}"] = int(samples[arm].size)
                row[f"median_{arm}"] = float(np.median(samples[arm])) if samples[arm].size else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


def side_difference_columns(changes: pd.DataFrame) -> list[str]:
    """The between-side columns of a split-face comparison present in ``changes``, in order."""
    names = [name for m in SIDE_MEASURES for name in (
        f"hemi_{m}_change_right_minus_left", f"hemi_treated_{m}_change", f"hemi_untreated_{m}_change",
        f"hemi_{m}_change_treated_minus_untreated")]
    return [c for c in names if c in changes.columns]


def split_face_summary(changes: pd.DataFrame, *, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Each side's change and the difference between sides per visit, pooled over every subject.

    A split-face trial's comparison is within subjects: the mean of the per-subject differences
    with its Student-t interval is the paired t interval of the difference between sides. Arms
    are pooled (an arm is often just the side treated); :func:`group_summary` gives them apart.

    Parameters
    ----------
    changes : pandas.DataFrame
        Output of :func:`changes_from_baseline` with ``split_face=True``; subjects with a
        ``note`` are left out.
    confidence : float
        Level of the two-sided Student-t intervals.

    Returns
    -------
    pandas.DataFrame
        One row per visit: ``visit_order``, ``visit``, ``n`` (subjects with both sides'
        hemi-MASI change), ``n_treated_side`` (of them, those whose treated side is known) and,
        for each hemi-face measure, ``<c>_mean``, ``<c>_ci_low``, ``<c>_ci_high`` of the columns
        ``hemi_right_<m>_change``, ``hemi_left_<m>_change`` and the between-side columns
        (:func:`~pigmentscan.longitudinal.split_face.add_side_differences`).

    Examples
    --------
    >>> changes = pd.DataFrame({"visit_order": [1, 1], "visit": "week 12", "note": "",
    ...     "arm": ["right", "left"], "hemi_right_masi_change": [-4.0, -1.0],
    ...     "hemi_left_masi_change": [-1.0, -3.0]})
    >>> from pigmentscan.longitudinal.split_face import add_side_differences
    >>> row = split_face_summary(add_side_differences(changes)).iloc[0]
    >>> [float(row[f"hemi_masi_change_{c}_mean"]) for c in ("right_minus_left", "treated_minus_untreated")]
    [-0.5, -2.5]
    """
    columns = [c for m in SIDE_MEASURES for c in (f"hemi_right_{m}_change", f"hemi_left_{m}_change")
               if c in changes.columns] + side_difference_columns(changes)
    rows = []
    for order, group in changes[changes["note"].eq("")].groupby("visit_order", sort=True):
        both = group["hemi_right_masi_change"].notna() & group["hemi_left_masi_change"].notna()
        known = both & group["treated_side"].notna() if "treated_side" in group.columns else both & False
        row = {"visit_order": order, "visit": visit_name(group), "n": int(both.sum()),
               "n_treated_side": int(known.sum())}
        for c in columns:
            row[f"{c}_mean"], row[f"{c}_ci_low"], row[f"{c}_ci_high"] = _mean_ci(group.loc[both, c], confidence)
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["visit_order", "visit", "n", "n_treated_side"])


@dataclass(frozen=True, eq=False)
class Comparison:
    """``changes`` (subject x visit), ``summary`` (visit [x arm]), ``arms`` (between-arm tests,
    empty with fewer than two arms), the ``sdc`` used (MASI points, or ``{measure: sdc}``; None:
    no noise judgement), the measures ``detect_by`` that decide ``detected_change``, ``photos``
    (every photo with its QC and identity check, :func:`~.changes.photo_table`) and
    ``sdc_source``, where the SDC came from (or why there is none), in words; for a split-face
    comparison, ``split_face``, each side's change and the difference between sides per visit
    (:func:`split_face_summary`; None otherwise)."""

    changes: pd.DataFrame
    summary: pd.DataFrame
    arms: pd.DataFrame
    sdc: float | dict | None = None
    detect_by: tuple = ()
    photos: pd.DataFrame | None = None
    sdc_source: str = ""
    split_face: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """JSON-ready: tables as lists of records, NaN / NA as None."""
        def records(frame):
            return [] if frame is None else frame.astype(object).where(frame.notna(), None).to_dict("records")

        return {"sdc": self.sdc, "sdc_source": self.sdc_source, "detect_by": list(self.detect_by),
                "changes": records(self.changes), "summary": records(self.summary), "arms": records(self.arms),
                "photos": records(self.photos),
                "split_face": None if self.split_face is None else records(self.split_face)}


def compare(scores: pd.DataFrame, *, sdc=None, detect_by=None, sdc_source: str = "", split_face: bool = False,
            treated_side: str | None = None) -> Comparison:
    """Changes from baseline, their group summary, the between-arm tests and the photos' checks.

    ``sdc`` and ``detect_by`` as in :func:`changes_from_baseline`: MASI points, ``{measure: sdc}``
    or a :class:`~pigmentscan.longitudinal.RetestReliability`. ``sdc_source`` says in words where
    the SDC comes from (shown in the report). ``split_face`` (a split-face trial) and
    ``treated_side`` as in :func:`changes_from_baseline`: each side's hemi-face change is
    followed, the summary has the sides and their difference per arm, and
    :attr:`Comparison.split_face` pooled over every subject (:func:`split_face_summary`).
    """
    changes = changes_from_baseline(scores, sdc=sdc, detect_by=detect_by, split_face=split_face,
                                    treated_side=treated_side)
    photos = photo_table(scores)
    if split_face:
        measures = ("masi", "mmasi", "lesion_area_pct", "lesion_pigment_pct") + tuple(hemi_measures(changes.columns))
        summary = group_summary(changes, measures=measures, differences=side_difference_columns(changes))
        sides = split_face_summary(changes)
    else:
        summary, sides = group_summary(changes), None
    if sdc is None:
        return Comparison(changes, summary, compare_arms(changes), photos=photos,
                          sdc_source=sdc_source or "none given", split_face=sides)
    mapping = sdc_mapping(sdc)
    kept = mapping if isinstance(getattr(sdc, "sdc", sdc), Mapping) else mapping["masi"]
    return Comparison(changes, summary, compare_arms(changes), kept,
                      detection_measures(mapping, detect_by), photos, sdc_source or "given by the caller", sides)
