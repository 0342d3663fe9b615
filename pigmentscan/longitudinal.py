"""Change across visits: per subject, per visit and per treatment arm.

Pure functions over the scores table (CONTRACT.md "Scores CSV") and one writer::

    scores --changes_from_baseline--> changes --group_summary--> summary
                                              --compare_arms---> arms

Baseline is each subject's first visit in the order of :func:`pigmentscan.io.visit_order_key`
(by ``date`` when visit labels are missing or cannot be ordered). A subject whose first visit comes
after both day 0 ("baseline") and the study's first visit, or whose baseline photo was not scored,
gets a ``note`` and no changes; it is never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import io as _io
from .errors import ManifestError
from .regions import REGION_KEYS

__all__ = ["Comparison", "changes_from_baseline", "group_summary", "compare_arms", "compare",
           "write_comparison_report", "compare_files"]

#: Region keys (CONTRACT.md).
#: Responder thresholds, improvement from baseline as a fraction. >=50 % is the usual melasma-trial
#: responder definition (MASI.md "Photos in trials"; e.g. tranexamic-acid RCTs); >=75 % is the
#: stricter grade reported beside it (by analogy with PASI-75 in psoriasis trials).
RESPONDER_THRESHOLDS = (0.50, 0.75)
#: Level of the two-sided Student-t intervals of group means: mean +- t(n-1) * sd / sqrt(n).
CONFIDENCE = 0.95
# Float slack so that exactly 75 % counts (1.4 -> 0.35 gives 0.7499999999999999). Not clinical.
_EPS = 1e-9
# One panel per subject only up to this many subjects (presentation choice).
_SMALL_MULTIPLES_MAX = 16
_ID_COLUMNS = ("subject", "visit", "arm", "date")


def _text(value) -> str | None:
    """An identifier as text ("001" stays "001", 3.0 becomes "3"); None when blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _prepare(scores: pd.DataFrame) -> tuple[pd.DataFrame, list[str], bool]:
    """Clean identifiers, mark usable rows, order visits (``_rank``, comparable within a subject)."""
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
    measures = [m for m in ("masi", "mmasi") if m in frame.columns] + [
        f"{r}_{s}" for r in REGION_KEYS for s in ("area_pct", "darkness", "melanin_contrast")
        if f"{r}_{s}" in frame.columns]
    for column in measures:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    status = frame["status"].map(lambda v: (_text(v) or "").lower()) if "status" in frame.columns else None
    frame["_usable"] = True if status is None else status.ne("error").to_numpy()

    keys, bad = [], []
    for label in frame["visit"]:
        try:
            keys.append(None if label is None else _io.visit_order_key(label))
        except ValueError:
            keys.append(None)
            bad.append(label)
    dates = pd.to_datetime(frame["date"], errors="coerce", format="ISO8601") if has_date else None
    if dates is not None:
        frame["_date"] = dates
    if all(k is not None for k in keys):
        ranks = {key: i for i, key in enumerate(sorted(set(keys)))}
        frame["_rank"], frame["_label"] = [ranks[k] for k in keys], frame["visit"]
        # A subject lacks a baseline when its first visit is after both day 0 and the study's first visit.
        limit = max(min(keys), _io.visit_order_key("baseline"))
        frame["_late"] = [k > limit for k in keys]
        return frame, measures, True
    if dates is not None and dates.notna().all():
        frame["_rank"] = (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
        frame["_label"] = frame["visit"].where(frame["visit"].notna(), dates.dt.strftime("%Y-%m-%d"))
        return frame, measures, False
    what = f"visit labels {sorted(set(bad))[:5]} cannot be ordered" if bad else "some rows have no visit"
    raise ManifestError(None, f"{what}: use labels like 'baseline', 'week 4', 'V2', or add an ISO 'date' column")


def changes_from_baseline(scores: pd.DataFrame, *, sdc: float | None = None) -> pd.DataFrame:
    """Change of each measure from each subject's baseline visit.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table (CONTRACT.md); optional ``arm`` and ``date``. Rows with status ``error``
        are skipped; several usable photos of one subject at one visit are averaged (``n_images``).
    sdc : float, optional
        Smallest detectable change in MASI points; adds ``beyond_sdc`` (|MASI change| > sdc).

    Returns
    -------
    pandas.DataFrame
        One row per subject x visit, baseline included (change 0): ``subject``, [``arm``],
        ``visit``, ``visit_order`` (0, 1, ... in study order), [``date``, ``days_from_baseline``],
        ``n_images``, ``is_baseline``, ``note``; for masi, mmasi and each region's ``area_pct``,
        ``darkness`` and ``melanin_contrast`` (those present): ``<m>``, ``<m>_baseline``,
        ``<m>_change`` (visit - baseline), ``<m>_change_pct`` (change / baseline * 100, NaN when
        baseline is 0), ``<m>_improvement_rate`` ((baseline - visit) / baseline); for masi and
        mmasi ``<m>_responder_50`` / ``_75`` (improvement >= 50 % / 75 %, nullable boolean).
        A subject without a usable baseline keeps its values, has a ``note`` and NaN changes.

    Examples
    --------
    >>> scores = pd.DataFrame({"subject": "1", "visit": ["week 12", "baseline"], "masi": [4.0, 10.0]})
    >>> changes_from_baseline(scores)["masi_change"].tolist()
    [0.0, -6.0]
    """
    frame, measures, by_label = _prepare(scores)
    has_arm, has_date = "arm" in frame.columns, "_date" in frame.columns
    rows = []
    for subject, sub in frame.groupby("subject", sort=True):
        sub = sub.sort_values("_rank", kind="stable")
        arms = sorted(set(sub["arm"].dropna())) if has_arm else []
        if len(arms) > 1:
            raise ManifestError(None, f"subject {subject} is listed in several arms {arms}")
        first, usable = sub["_rank"].iloc[0], sub[sub["_usable"]]
        note = ""
        if by_label and sub["_late"].iloc[0]:
            note = f"no baseline visit (first visit: {sub['visit'].iloc[0]})"
        elif not usable["_rank"].eq(first).any():
            note = f"baseline photo not scored (status error at {sub['_label'].iloc[0]})"
        elif usable.loc[usable["_rank"].eq(first), "masi"].isna().all():
            note = "baseline MASI missing"
        groups = list(usable.groupby("_rank", sort=True))
        if not usable["_rank"].eq(first).any():  # show the failed first visit, never drop the subject
            groups.insert(0, (first, sub[sub["_rank"].eq(first)].assign(**{m: np.nan for m in measures})))
        for rank, at in groups:
            row = {"subject": subject, "arm": arms[0] if arms else None, "visit": at["_label"].iloc[0], "_rank": rank,
                   "n_images": int(at["_usable"].sum()), "note": note,
                   "is_baseline": bool(rank == first) and not note.startswith("no baseline visit")}
            if has_date:
                delta = at["_date"].min() - sub["_date"].iloc[0]
                row["date"], row["days_from_baseline"] = at["_date"].min(), delta.days if pd.notna(delta) else math.nan
            rows.append(row | at[measures].mean().to_dict())
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
    changes = changes.drop(columns="_rank")

    valid = changes["note"].eq("")
    for m in measures:
        base = changes[m].where(changes["is_baseline"] & valid).groupby(changes["subject"]).transform("first")
        base = base.where(valid)
        nonzero = base.where(base != 0)
        changes[f"{m}_baseline"], changes[f"{m}_change"] = base, changes[m] - base
        changes[f"{m}_change_pct"] = (changes[m] - base) / nonzero * 100.0
        changes[f"{m}_improvement_rate"] = rate = (base - changes[m]) / nonzero
        for threshold in RESPONDER_THRESHOLDS if m in ("masi", "mmasi") else ():
            flag = pd.Series(rate >= threshold - _EPS, dtype="boolean").mask(rate.isna())
            changes[f"{m}_responder_{round(threshold * 100)}"] = flag
    if sdc is not None:
        change = changes["masi_change"]
        changes["beyond_sdc"] = pd.Series(change.abs() > float(sdc), dtype="boolean").mask(change.isna())
    return changes.sort_values(["subject", "visit_order"], kind="stable").reset_index(drop=True)


def _mean_ci(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval (NaN bounds when n < 2)."""
    x = pd.Series(values, dtype="Float64").dropna().to_numpy(float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    if x.size < 2:
        return float(x.mean()), math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def _share(flags: pd.Series) -> float:
    return float(flags.astype("Float64").mean()) if flags.notna().any() else math.nan


def _visit_name(group: pd.DataFrame) -> str:
    """Labels sharing one place in the visit order ("week 4" and "day 28") are shown together."""
    return " / ".join(sorted(set(group["visit"])))


def group_summary(changes: pd.DataFrame, *, measures=("masi", "mmasi"), confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean change, percent change and improvement rate with t intervals, per visit (and arm).

    Parameters
    ----------
    changes : pandas.DataFrame
        Output of :func:`changes_from_baseline`; subjects with a ``note`` are left out.
    measures : sequence of str
        Measures to summarise (those absent from ``changes`` are skipped).
    confidence : float
        Level of the two-sided Student-t intervals.

    Returns
    -------
    pandas.DataFrame
        One row per [arm x] visit: ``n`` (subjects with a MASI change) and per measure ``<m>_mean``,
        ``<m>_change_mean`` / ``_ci_low`` / ``_ci_high``, the same for ``<m>_change_pct`` and
        ``<m>_improvement_rate``, ``<m>_responder_50_share`` / ``_75_share``; ``beyond_sdc_share``.
    """
    keys = (["arm"] if "arm" in changes.columns else []) + ["visit_order"]
    rows = []
    for key, group in changes[changes["note"].eq("")].groupby(keys, sort=True, dropna=False):
        row = dict(zip(keys, key)) | {"visit": _visit_name(group), "n": int(group["masi_change"].notna().sum())}
        for m in (m for m in measures if f"{m}_change" in group.columns):
            row[f"{m}_mean"] = float(group[m].mean())
            for c in (f"{m}_change", f"{m}_change_pct", f"{m}_improvement_rate"):
                row[f"{c}_mean"], row[f"{c}_ci_low"], row[f"{c}_ci_high"] = _mean_ci(group[c], confidence)
            for c in (f"{m}_responder_{round(t * 100)}" for t in RESPONDER_THRESHOLDS):
                if c in group.columns:
                    row[f"{c}_share"] = _share(group[c])
        if "beyond_sdc" in group.columns:
            row["beyond_sdc_share"] = _share(group["beyond_sdc"])
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else keys + ["visit", "n"])


def compare_arms(changes: pd.DataFrame, *, visit=None,
                 measures=("masi_change", "masi_improvement_rate")) -> pd.DataFrame:
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
        One row per visit x measure: ``test``, ``arms``, ``statistic``, ``p_value``, ``effect_size``,
        ``effect_size_name``, ``hl_shift``, ``n_<arm>``, ``median_<arm>``. Empty with < 2 arms.
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
        label = _visit_name(group)
        for measure in measures:
            samples = {arm: group.loc[group["arm"] == arm, measure].dropna().to_numpy(float) for arm in arms}
            present = [arm for arm in arms if samples[arm].size]
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


@dataclass(frozen=True, eq=False)
class Comparison:
    """``changes`` (subject x visit), ``summary`` (visit [x arm]), ``arms`` (between-arm tests,
    empty with fewer than two arms) and the ``sdc`` (MASI points) used."""

    changes: pd.DataFrame
    summary: pd.DataFrame
    arms: pd.DataFrame
    sdc: float | None = None

    def to_dict(self) -> dict:
        """JSON-ready: tables as lists of records, NaN / NA as None."""
        def records(frame):
            return frame.astype(object).where(frame.notna(), None).to_dict("records")

        return {"sdc": self.sdc, "changes": records(self.changes), "summary": records(self.summary),
                "arms": records(self.arms)}


def compare(scores: pd.DataFrame, *, sdc: float | None = None) -> Comparison:
    """Changes from baseline, their group summary and the between-arm tests."""
    changes = changes_from_baseline(scores, sdc=sdc)
    return Comparison(changes, group_summary(changes), compare_arms(changes), None if sdc is None else float(sdc))


def _figures(comparison: Comparison) -> dict:
    """Trajectory figures on an Agg canvas (pyplot's global backend is left alone)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    changes, summary = comparison.changes, comparison.summary
    ticks = changes.groupby("visit_order")[["visit"]].apply(_visit_name)
    arm_of = changes.groupby("subject")["arm"].first() if "arm" in changes.columns else {}
    colour = {arm: f"C{i % 10}" for i, arm in enumerate(sorted(set(changes.get("arm", pd.Series()).dropna())))}

    def axes_grid(nrows=1, ncols=1, size=(7, 4.2)):
        figure = Figure(figsize=size)
        FigureCanvasAgg(figure)  # Agg, whatever backend pyplot uses
        return figure, figure.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)

    def style(ax, ylabel, title):
        ax.set_xticks(ticks.index, ticks.tolist(), rotation=30, fontsize=8)
        ax.set(ylabel=ylabel, title=title)
        ax.grid(alpha=0.3)

    figures = {}
    figure, axes = axes_grid()
    labelled = set()
    for subject, sub in changes.groupby("subject", sort=True):
        arm = arm_of.get(subject)
        label = arm if arm in colour and arm not in labelled else None
        labelled.add(arm)
        axes[0, 0].plot(sub["visit_order"], sub["masi"], "o-", alpha=0.7, color=colour.get(arm, "C0"), label=label)
    style(axes[0, 0], "MASI (0-48)", "MASI per subject")
    if len(arm_of):
        axes[0, 0].legend(title="arm", fontsize=8)
    figures["trajectories"] = figure

    subjects = sorted(changes["subject"].unique())
    if 1 < len(subjects) <= _SMALL_MULTIPLES_MAX:
        ncols = min(4, len(subjects))
        nrows = math.ceil(len(subjects) / ncols)
        figure, axes = axes_grid(nrows, ncols, (2.6 * ncols, 2.2 * nrows))
        for ax, subject in zip(axes.flat, subjects):
            sub, arm = changes[changes["subject"] == subject], arm_of.get(subject)
            ax.plot(sub["visit_order"], sub["masi"], "o-", color=colour.get(arm, "C0"))
            style(ax, "MASI", subject if arm is None else f"{subject} ({arm})")
            ax.label_outer()
        for ax in list(axes.flat)[len(subjects):]:
            ax.set_visible(False)
        figures["trajectories_by_subject"] = figure

    if summary.empty:
        return figures
    figure, axes = axes_grid()
    ax = axes[0, 0]
    groups = summary.groupby("arm", sort=True, dropna=False) if "arm" in summary.columns else [("all", summary)]
    for i, (arm, group) in enumerate(groups):
        y = group["masi_change_mean"].to_numpy(float)
        err = np.vstack([y - group["masi_change_ci_low"], group["masi_change_ci_high"] - y])
        ax.errorbar(group["visit_order"].to_numpy(float) + 0.06 * i, y, yerr=np.nan_to_num(err), fmt="o-", capsize=3,
                    color=colour.get(arm, f"C{i}"), label=str(arm))
    ax.axhline(0, color="grey", lw=0.8)
    style(ax, "MASI change from baseline (points)", f"Mean MASI change with {CONFIDENCE:.0%} CI")
    ax.legend(fontsize=8)
    figures["group_change"] = figure
    return figures


def _plain_language(comparison: Comparison) -> list[str]:
    changes, summary, arms = comparison.changes, comparison.summary, comparison.arms
    n_all, n_ok = changes["subject"].nunique(), changes.loc[changes["note"].eq(""), "subject"].nunique()
    text = [f"{n_all} subjects; {n_ok} have a usable baseline and are counted in the changes below."]
    post = summary[summary["visit_order"] > 0] if len(summary) else pd.DataFrame(columns=["visit_order", "n"])
    for arm, group in post.groupby("arm", sort=True) if "arm" in post.columns else [(None, post)]:
        for _, r in group[group["n"] > 0].tail(1).iterrows():
            ci = "" if pd.isna(r["masi_change_ci_low"]) else (
                f" ({CONFIDENCE:.0%} CI {r['masi_change_ci_low']:+.1f} to {r['masi_change_ci_high']:+.1f})")
            share = r["masi_responder_50_share"]
            text.append(f"{'At' if arm is None else f'In arm {arm}, at'} {r['visit']} (n = {r['n']}) MASI changed by "
                        f"{r['masi_change_mean']:+.1f} points on average{ci}"
                        + ("." if pd.isna(share) else f"; {share:.0%} of subjects improved by at least 50%."))
    tested = arms[arms["measure"].eq("masi_change") & arms["p_value"].notna()] if len(arms) else arms
    for _, r in tested.tail(1).iterrows():
        text.append(f"At {r['visit']}, the MASI change of arms {r['arms']} was compared with the {r['test']} test: "
                    f"p = {r['p_value']:.3g}, {r['effect_size_name']} = {r['effect_size']:+.2f} "
                    "(not adjusted for the number of visits).")
    text.append("MASI here is the software's estimate of what a physician would score, not a physician score"
                + (f"; changes of {comparison.sdc:g} points or less are within measurement noise."
                   if comparison.sdc is not None else "."))
    return text


def write_comparison_report(comparison: Comparison, out_dir, *, panels: Mapping[str, bytes] | None = None) -> dict:
    """Write ``changes.csv``, ``summary.csv``, [``arms.csv``], trajectory PNGs and ``report.html``.

    Every file is written atomically, only under ``out_dir``, byte-identical for the same input.

    Parameters
    ----------
    comparison : Comparison
        Output of :func:`compare`.
    out_dir : str or os.PathLike
        Folder to write into (created if needed).
    panels : mapping of subject -> PNG bytes, optional
        Before/after photo panels embedded per subject: the hook for landmark-aligned panels
        made elsewhere (this module does not build them).

    Returns
    -------
    dict of str -> pathlib.Path
        Keys: changes, summary, [arms], trajectories, [trajectories_by_subject], group_change, report.
    """
    from .report import HtmlReport, figure_png_bytes

    for subject, data in (panels or {}).items():
        if bytes(data[:8]) != b"\x89PNG\r\n\x1a\n":
            raise ValueError(f"panel for subject {subject!r} is not PNG data")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    tables = {"changes": comparison.changes, "summary": comparison.summary, "arms": comparison.arms}
    for name, frame in tables.items():
        if name != "arms" or len(frame):
            paths[name] = _io.atomic_write_text(out / f"{name}.csv", frame.to_csv(index=False, lineterminator="\n"))

    report = HtmlReport("Change in MASI from baseline")
    for line in _plain_language(comparison):
        report.paragraph(line)
    for _, r in comparison.changes.drop_duplicates("subject").query("note != ''").iterrows():
        report.paragraph(f"Subject {r['subject']}: {r['note']}; not counted in the changes.", note=True)
    report.heading("Summary per visit")
    summary = comparison.summary
    report.table(summary[[c for c in summary.columns if c in ("arm", "visit", "n") or c.startswith("masi_")]],
                 float_format="{:.2f}")
    if len(comparison.arms):
        report.heading("Between arms")
        report.table(comparison.arms.drop(columns="visit_order"), float_format="{:.3g}")
    report.heading("Trajectories")
    for name, figure in _figures(comparison).items():
        data = figure_png_bytes(figure)
        paths[name] = _io.atomic_write_bytes(out / f"{name}.png", data)
        report.image(data, alt=name.replace("_", " "))
    if panels:
        report.heading("Before / after photos")
        for subject in sorted(panels):
            report.paragraph(f"Subject {subject}")
            report.image(bytes(panels[subject]), alt=f"before and after, subject {subject}")
    report.heading("Per subject")
    report.table(comparison.changes[[c for c in ("subject", "arm", "visit", "masi", "masi_change", "masi_change_pct",
                                                 "masi_responder_50", "beyond_sdc", "note")
                                     if c in comparison.changes.columns]], float_format="{:.2f}")
    report.paragraph(f"Baseline is each subject's first visit. Change = visit - baseline; improvement rate = "
                     f"(baseline - visit) / baseline; responders improved by at least 50% (or 75%). Intervals are "
                     f"{CONFIDENCE:.0%} Student-t intervals of the mean. Photos that could not be scored are left out.")
    paths["report"] = report.write(out / "report.html")
    return paths


def compare_files(scores_csv, out_dir, *, sdc: float | None = None, panels: bool = True) -> Comparison:
    """Read a scores CSV, compare visits and write the report into ``out_dir``.

    With ``panels`` the photos in the ``image`` column (relative to the CSV's folder) are
    analysed again for before/after panels aligned on each baseline face
    (:func:`pigmentscan.report.comparison_panels`), embedded in ``report.html``; subjects
    whose photos cannot be read get none.

    Raises
    ------
    ManifestError
        Naming the file, when it cannot be read or ``subject``/``visit`` are missing or empty.
    """
    path = Path(scores_csv)
    scores = _io.read_scores(path)  # ids as text: "001" stays "001"
    try:
        comparison = compare(scores, sdc=sdc)
    except ManifestError as error:
        if error.source is not None:
            raise
        raise ManifestError(path, error.reason) from error
    pictures = None
    if panels:
        from .report import comparison_panels

        pictures = comparison_panels(scores, path.parent)
    write_comparison_report(comparison, out_dir, panels=pictures)
    return comparison
