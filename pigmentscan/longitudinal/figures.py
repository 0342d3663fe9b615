"""Figures of a comparison: each subject's change against the noise band, and the group trajectories.

Every visit of the changes table is drawn, the failed ones too (a grey cross: no photo could be
used) and those whose photo is not the subject's face (a red question mark); a photo scored
with a quality warning has an orange ring. With dates, the x-axis is days since baseline.
Figures are drawn on an Agg canvas: pyplot's global backend is left alone.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .changes import sdc_mapping
from .statistics import CONFIDENCE, Comparison, visit_name

#: Subjects per figure of per-subject panels (5 rows of 4): several figures for a large trial.
SUBJECTS_PER_FIGURE = 20
#: Names of the measures on axes and in the report.
MEASURE_NAMES = {"masi": "MASI (points)", "mmasi": "mMASI (points)",
                 "lesion_area_pct": "lesion area (% of the regions)",
                 "lesion_pigment_pct": "pigment in the baseline lesions (% of baseline)"}
_KIND_STYLE = {"improved": ("#1a7f37", "v", "improved beyond noise"), "worsened": ("#cf222e", "^", "worsened beyond noise"),
               "mixed": ("#8250df", "D", "mixed"), "none": ("#6e7781", "o", "within noise"),
               None: ("#0969da", "o", "no noise judgement")}


def _figure(nrows=1, ncols=1, size=(7, 4.2), share=True):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, squeeze=False, sharex=share, sharey=share)


def _is_false(value) -> bool:
    """False (not NA, not missing) in a nullable boolean column."""
    return value is not None and value is not pd.NA and not (isinstance(value, float) and math.isnan(value)) \
        and not bool(value)


def x_axis(changes: pd.DataFrame) -> tuple[str, str]:
    """The column visits are placed by and its axis label: days since baseline when dates exist."""
    if "days_from_baseline" in changes.columns and changes["days_from_baseline"].notna().any():
        return "days_from_baseline", "days since baseline"
    return "visit_order", "visit"


def plotted_measure(comparison: Comparison) -> str:
    """The measure of the per-subject figures: the first that decides ``detected_change``, else MASI."""
    return comparison.detect_by[0] if comparison.sdc is not None and comparison.detect_by else "masi"


def _visit_ticks(ax, changes: pd.DataFrame, column: str, label: str) -> None:
    if column == "visit_order":
        ticks = changes.groupby("visit_order")[["visit"]].apply(visit_name)
        ax.set_xticks(ticks.index, ticks.tolist(), rotation=30, fontsize=7, ha="right")
    ax.set_xlabel(label, fontsize=8)


def _subject_axes(ax, sub: pd.DataFrame, measure: str, limit: float | None, column: str) -> None:
    """One subject: its change of ``measure``, the ±SDC band, each visit marked by what was found."""
    x, y = sub[column].to_numpy(float), sub[f"{measure}_change"].to_numpy(float)
    if limit is not None:
        ax.axhspan(-limit, limit, color="#d0d7de", alpha=0.6, lw=0)
    ax.axhline(0, color="grey", lw=0.6)
    ax.plot(x, y, "-", color="#8c959f", lw=1)
    kinds = sub["detected_change"] if "detected_change" in sub.columns else pd.Series(None, index=sub.index)
    for xi, yi, kind, status, same in zip(x, y, kinds, sub["qc_status"], sub["same_face"]):
        if _is_false(same):
            ax.text(xi, 0, "?", color="#cf222e", fontsize=13, fontweight="bold", ha="center", va="center")
        elif status == "error":
            ax.plot(xi, 0, "x", color="#6e7781", ms=8, mew=2)
        elif not math.isfinite(yi):  # a photo, but no change: the subject has no usable baseline
            continue
        else:
            colour, marker, _ = _KIND_STYLE.get(kind if isinstance(kind, str) else None, _KIND_STYLE[None])
            ax.plot(xi, yi, marker, color=colour, ms=6, mec="#fb8500" if status == "warn" else colour,
                    mew=2 if status == "warn" else 1)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=7)


def subject_figures(comparison: Comparison, *, per_figure: int = SUBJECTS_PER_FIGURE) -> list:
    """Per-subject panels of the change from baseline, ``per_figure`` subjects a figure.

    The measure is :func:`plotted_measure`: the one whose change beyond its smallest
    detectable change marks a visit improved (green) or worsened (red), with the ±SDC noise
    band in grey; without an SDC, MASI, without a band (blue points).
    """
    changes = comparison.changes
    measure = plotted_measure(comparison)
    limit = sdc_mapping(comparison.sdc).get(measure) if comparison.sdc is not None else None
    column, label = x_axis(changes)
    subjects = sorted(changes["subject"].unique())
    arm_of = changes.groupby("subject")["arm"].first() if "arm" in changes.columns else {}
    figures = []
    for start in range(0, len(subjects), per_figure):
        chunk = subjects[start:start + per_figure]
        ncols = min(4, len(chunk))
        nrows = math.ceil(len(chunk) / ncols)
        figure, axes = _figure(nrows, ncols, (2.9 * ncols, 2.3 * nrows + 0.9))
        for ax, subject in zip(axes.flat, chunk):
            sub = changes[changes["subject"] == subject]
            _subject_axes(ax, sub, measure, limit, column)
            arm = arm_of.get(subject) if len(arm_of) else None
            title = str(subject) if arm is None or pd.isna(arm) else f"{subject} ({arm})"
            if sub["note"].iloc[0]:
                title += ": no baseline"
                ax.text(0.5, 0.5, "no usable baseline:\nno change", transform=ax.transAxes, ha="center",
                        va="center", fontsize=8, color="#6e7781")
            ax.set_title(title, fontsize=8.5)
        for ax in axes[-1]:
            _visit_ticks(ax, changes, column, label)
        for ax in axes[:, 0]:
            ax.set_ylabel(f"change, {MEASURE_NAMES.get(measure, measure)}", fontsize=7.5)
        for ax in list(axes.flat)[len(chunk):]:
            ax.set_visible(False)
        _legend(figure, limit)
        figure.tight_layout(rect=(0, 0, 1, 1 - 0.55 / figure.get_figheight()))
        figures.append(figure)
    return figures


def _legend(figure, limit) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    kinds = ("improved", "worsened", "none") if limit is not None else (None,)
    handles = [Line2D([], [], ls="", marker=_KIND_STYLE[k][1], color=_KIND_STYLE[k][0], label=_KIND_STYLE[k][2])
               for k in kinds]
    handles += [Line2D([], [], ls="", marker="o", color="#6e7781", mec="#fb8500", mew=2, label="photo with QC warning"),
                Line2D([], [], ls="", marker="x", color="#6e7781", mew=2, label="no usable photo"),
                Line2D([], [], ls="", marker="$?$", color="#cf222e", label="not the same face")]
    if limit is not None:
        handles.insert(0, Patch(color="#d0d7de", label=f"noise band ±{limit:.3g} (SDC)"))
    figure.legend(handles=handles, loc="upper center", ncol=min(len(handles), 4), fontsize=7.5, frameon=False)


def group_figures(comparison: Comparison) -> dict:
    """``trajectories`` (every subject's MASI) and ``group_change`` (mean MASI change with its interval)."""
    changes, summary = comparison.changes, comparison.summary
    column, label = x_axis(changes)
    arms = sorted(set(changes["arm"].dropna())) if "arm" in changes.columns else []
    colour = {arm: f"C{i % 10}" for i, arm in enumerate(arms)}
    figures = {}
    figure, axes = _figure()
    ax, labelled = axes[0, 0], set()
    for subject, sub in changes.groupby("subject", sort=True):
        arm = sub["arm"].iloc[0] if arms else None
        shown = sub[np.isfinite(sub["masi"].to_numpy(float))]
        ax.plot(shown[column], shown["masi"], "o-", alpha=0.7, color=colour.get(arm, "C0"),
                label=arm if arm in colour and arm not in labelled else None)
        labelled.add(arm)
        failed = sub[sub["qc_status"].eq("error")]
        ax.plot(failed[column], np.zeros(len(failed)), "x", color="#6e7781", ms=7, mew=2,
                label="no usable photo" if len(failed) and "failed" not in labelled else None)
        labelled.add("failed" if len(failed) else None)
    _visit_ticks(ax, changes, column, label)
    ax.set(ylabel="MASI (0-48)", title="MASI per subject")
    ax.grid(alpha=0.3)
    if labelled - {None}:
        ax.legend(fontsize=8)
    figures["trajectories"] = figure
    if summary.empty:
        return figures
    figure, axes = _figure()
    ax = axes[0, 0]
    groups = summary.groupby("arm", sort=True, dropna=False) if "arm" in summary.columns else [("all", summary)]
    for i, (arm, group) in enumerate(groups):
        group = group[group["n"] > 0]
        y = group["masi_change_mean"].to_numpy(float)
        err = np.vstack([y - group["masi_change_ci_low"], group["masi_change_ci_high"] - y])
        ax.errorbar(group["visit_order"].to_numpy(float) + 0.06 * i, y, yerr=np.nan_to_num(err), fmt="o-", capsize=3,
                    color=colour.get(arm, f"C{i}"), label=str(arm))
    ax.axhline(0, color="grey", lw=0.8)
    _visit_ticks(ax, changes, "visit_order", "visit")
    ax.set(ylabel="MASI change from baseline (points)", title=f"Mean MASI change with {CONFIDENCE:.0%} CI")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figures["group_change"] = figure
    return figures
