"""Figures, the HTML report and the files of a comparison (the only part that writes)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io as _io
from ..errors import ManifestError
from ..face_maps import MAPS_DIR
from .changes import sdc_mapping
from .pigment import add_lesion_pigment
from .reliability import smallest_detectable_change
from .statistics import CONFIDENCE, Comparison, _visit_name, compare

# One panel per subject only up to this many subjects (presentation choice).
_SMALL_MULTIPLES_MAX = 16
_MEASURE_NAMES = {"masi": "MASI (points)", "mmasi": "mMASI (points)",
                  "lesion_area_pct": "lesion area (% of the regions)",
                  "lesion_pigment_pct": "pigment in the baseline lesions (% of baseline)"}


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
            kept = r.get("lesion_pigment_pct_change_mean", float("nan"))
            if pd.notna(kept):
                text.append(f"The baseline's lesions kept {100 + kept:.0f} % of their pigment on average (each photo "
                            "aligned on the baseline face and read in the same pixels).")
    tested = arms[arms["measure"].eq("masi_change") & arms["p_value"].notna()] if len(arms) else arms
    for _, r in tested.tail(1).iterrows():
        text.append(f"At {r['visit']}, the MASI change of arms {r['arms']} was compared with the {r['test']} test: "
                    f"p = {r['p_value']:.3g}, {r['effect_size_name']} = {r['effect_size']:+.2f} "
                    "(not adjusted for the number of visits).")
    text.append("MASI here is the software's estimate of what a physician would score, not a physician score.")
    if comparison.sdc is not None:
        limits = sdc_mapping(comparison.sdc)
        text.append("Smallest detectable changes (changes this small or smaller are within measurement noise): "
                    + ", ".join(f"{_MEASURE_NAMES.get(m, m)} {v:.3g}" for m, v in limits.items())
                    + ". A visit counts as improved (or worsened) when its change in "
                    + " or ".join(_MEASURE_NAMES.get(m, m) for m in comparison.detect_by) + " is larger.")
        post = comparison.changes[~comparison.changes["is_baseline"] & comparison.changes["detected_change"].notna()]
        last = post[post["visit_order"] == post["visit_order"].max()] if len(post) else post
        if len(last):
            counts = last["detected_change"].value_counts()
            text.append(f"At {_visit_name(last)}, {counts.get('improved', 0)} of {len(last)} subjects improved beyond "
                        f"measurement noise and {counts.get('worsened', 0)} worsened.")
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
    from ..report import HtmlReport, figure_png_bytes

    for subject, data in (panels or {}).items():
        if bytes(data[:8]) != b"\x89PNG\r\n\x1a\n":
            raise ValueError(f"panel for subject {subject!r} is not PNG data")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    tables = {"changes": comparison.changes, "summary": comparison.summary, "arms": comparison.arms}
    for name, frame in tables.items():
        if name != "arms" or len(frame):
            paths[name] = _io.write_table(frame, out / f"{name}.csv")

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
                                                 "masi_responder_50", "lesion_area_pct_change",
                                                 "lesion_pigment_pct_change", "detected_change",
                                                 "note")
                                     if c in comparison.changes.columns]], float_format="{:.2f}")
    report.paragraph(f"Baseline is each subject's first visit. Change = visit - baseline; improvement rate = "
                     f"(baseline - visit) / baseline; responders improved by at least 50% (or 75%). Intervals are "
                     f"{CONFIDENCE:.0%} Student-t intervals of the mean. Photos that could not be scored are left out.")
    paths["report"] = report.write(out / "report.html")
    return paths


def compare_files(scores_csv, out_dir, *, sdc=None, panels: bool = True, retest=None,
                  detect_by=None, maps: bool = True) -> Comparison:
    """Read a scores CSV, compare visits and write the report into ``out_dir``.

    ``sdc`` and ``detect_by`` as in :func:`compare`. ``retest``: a scores CSV of repeat photos
    of stable subjects; the smallest detectable changes are measured from it
    (:func:`~pigmentscan.longitudinal.smallest_detectable_change`, written to ``sdc.csv``) and
    used where ``sdc`` does not give one.

    With ``maps``, when a CSV's folder has the ``maps/`` its batch wrote, each photo's pigment in
    its subject's baseline lesions is measured from them
    (:func:`~pigmentscan.longitudinal.add_lesion_pigment`, ``lesion_pigment_pct``), for the
    trial's scores and the retest's alike.

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
        scores = _with_lesion_pigment(scores, path) if maps else scores
        if retest is not None:
            measured = _retest_sdc(Path(retest), maps)
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            _io.write_table(measured.table, Path(out_dir) / "sdc.csv")
            sdc = measured.sdc | ({} if sdc is None else sdc_mapping(sdc))
        comparison = compare(scores, sdc=sdc, detect_by=detect_by)
    except ManifestError as error:
        if error.source is not None:
            raise
        raise ManifestError(path, error.reason) from error
    pictures = None
    if panels:
        from ..report import comparison_panels

        pictures = comparison_panels(scores, path.parent)
    write_comparison_report(comparison, out_dir, panels=pictures)
    return comparison


def _with_lesion_pigment(scores: pd.DataFrame, scores_csv: Path) -> pd.DataFrame:
    """``add_lesion_pigment`` from the batch's ``maps/`` beside ``scores_csv``, when it has them."""
    maps_dir = scores_csv.parent / MAPS_DIR
    if not maps_dir.is_dir() or "image_sha256" not in scores.columns:
        return scores
    return add_lesion_pigment(scores, maps_dir)


def _retest_sdc(path: Path, maps: bool = True):
    """Smallest detectable changes from a retest scores CSV; errors name the file."""
    try:
        scores = _io.read_scores(path)
        return smallest_detectable_change(_with_lesion_pigment(scores, path) if maps else scores)
    except ManifestError as error:
        raise ManifestError(path, error.reason) from error
