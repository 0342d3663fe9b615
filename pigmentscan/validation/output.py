"""Writing the agreement report: JSON, CSV, PNG figures and a self-contained HTML page."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..dictionary import write_dictionary
from ..io import atomic_write_bytes, atomic_write_text, write_table
from . import summary
from .statistics import finite_pairs
from .study import REFERENCE_PREFIX, validation_table, change_from_baseline, merge_scores


def _plots(x, y, label, row):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..report import figure_png_bytes

    scatter, ba = Figure(figsize=(5, 4.4)), Figure(figsize=(5, 4.4))
    FigureCanvasAgg(scatter), FigureCanvasAgg(ba)  # Agg rendering without touching pyplot's backend
    ax = scatter.add_subplot()
    ax.scatter(y, x, s=18, alpha=0.7)
    lim = [min(x.min(initial=0), y.min(initial=0)), max(x.max(initial=1), y.max(initial=1))]
    ax.plot(lim, lim, color="grey", lw=1, label="identity")
    ax.set(xlabel=f"physician {label}", ylabel=f"pigmentscan {label}",
           title=f"{label}: ICC(2,1) = " + (f"{row['icc2_1']:.2f}" if math.isfinite(row["icc2_1"]) else "not defined")
           + f" (n = {row['n']})")
    ax.legend(loc="upper left")
    ax = ba.add_subplot()
    ax.scatter((x + y) / 2, x - y, s=18, alpha=0.7)
    ax.axhline(0, color="grey", lw=0.8)
    for value, style, name in ((row["bias"], "-", "bias"), (row["loa_lower"], "--", "lower limit"),
                               (row["loa_upper"], "--", "upper limit")):
        if math.isfinite(value):
            ax.axhline(value, color="C3", ls=style, lw=1, label=f"{name} {value:.2f}")
    ax.set(xlabel=f"mean of pigmentscan and physician {label}", ylabel="pigmentscan - physician",
           title=f"Bland-Altman: {label}")
    ax.legend(loc="best", fontsize="small")
    return figure_png_bytes(scatter), figure_png_bytes(ba)


_EXPLAIN = [
    "ICC: ICC(2,1) (absolute agreement) asks whether pigmentscan gives the same number as the physician "
    "for the same photo; ICC(3,1) (consistency) only asks whether both rank photos alike, ignoring a "
    "constant offset. 1 is perfect; two physicians reach about 0.82 on MASI (Majid et al. 2016).",
    "CCC: Lin's concordance correlation is the correlation penalised for any departure from the "
    "identity line (an offset or a different scale); 1 means every point lies on that line.",
    "Correlation: Pearson r measures a straight-line relation, Spearman rho a monotone one. Both ignore "
    "offsets, so a high r does not make the scores interchangeable. A published automated mMASI "
    "reached r = 0.74 before treatment (Tay et al. 2015).",
    "MAE and RMSE: the typical absolute difference in score points; RMSE weighs large misses more.",
    "Bland-Altman: the bias is the mean of pigmentscan minus physician; 95 % of differences are "
    "expected between the limits of agreement (bias +/- 1.96 SD). Ask whether a difference that large "
    "would change a clinical decision.",
    "Kappa: for the banded grades (area 0-6, darkness and homogeneity 0-4) quadratic-weighted kappa "
    "credits near misses; 1 is perfect agreement and 0 is chance.",
    "Change from baseline: compares the change each method sees in the same subject between the "
    "baseline visit and a later one, the quantity a trial endpoint uses.",
]


def _jsonable(value):
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_validation_report(table: pd.DataFrame, merged: pd.DataFrame, out_dir, *, note=None,
                            sources=None, reference_prefix: str = REFERENCE_PREFIX) -> dict:
    """Write ``agreement.json``, ``agreement.csv`` (with ``agreement.columns.json``), PNG figures and
    ``report.html`` under ``out_dir``.

    The page opens with the agreement in plain words (ICC with its interval against the
    physicians' own agreement, bias and limits of agreement; "not defined (reason)" where a
    statistic is not), then readable tables, the figures (masi, mmasi and their change from
    baseline when present: a scatter against the reference with the identity line and ICC(2,1),
    and a Bland-Altman plot), and the full table of statistics folded away. ``note`` is shown
    at the top of the page and stored in the JSON. Output holds no timestamp, so it is
    deterministic; every file is written atomically. Returns ``{name: Path}``.
    """
    from ..report import HtmlReport

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    usable = merged[merged["usable"].astype(bool)]
    meta = {"pigmentscan_version": __version__, "n_photos": len(usable),
            "n_photos_excluded": len(merged) - len(usable),
            "n_subjects": int(usable["subject"].nunique()) if "subject" in usable else None,
            "manifest_rows_skipped": len(merged.attrs.get("manifest_rows_skipped", [])),
            "join": merged.attrs.get("join"), "sources": sources or merged.attrs.get("sources"), "note": note,
            "reference_prefix": reference_prefix}
    records = [{k: _jsonable(v) for k, v in rec.items()} for rec in table.to_dict("records")]
    text = json.dumps({"metadata": meta, "statistics": records}, indent=2, allow_nan=False) + "\n"
    paths = {"json": atomic_write_text(out / "agreement.json", text),
             "csv": write_table(table, out / "agreement.csv")}
    paths["columns"] = write_dictionary(table, paths["csv"], "agreement")
    report = HtmlReport("pigmentscan: agreement with physician scores")
    if note:
        report.paragraph(note, note=True)
    report.headline(summary.headline(table, meta))
    report.paragraph(f"Photos matched on: {meta['join']}. MASI here is pigmentscan's; the reference is the "
                     f"{reference_prefix}* columns of the manifest.")
    if merged.attrs.get("manifest_rows_skipped"):
        rows = merged.attrs["manifest_rows_skipped"]
        report.paragraph(f"{len(rows)} manifest row(s) left out as malformed: " + "; ".join(rows[:5])
                         + (" ..." if len(rows) > 5 else ""), alert=True)
    glance = summary.glance_table(table)
    report.heading("Summary")
    if len(glance):
        report.table(glance, formats={"n": "{:.0f}"})
    else:
        report.paragraph("Neither MASI nor mMASI has a reference to compare with: see the components below.")
    components = summary.components_table(table)
    if len(components):
        report.heading("MASI components (all visits)")
        report.table(components, formats={"n": "{:.0f}"}, long_columns=("weighted kappa",))
    visits = summary.visits_table(table)
    if len(visits):
        report.heading("Per visit")
        report.table(visits, formats={"n": "{:.0f}"}, long_columns=("agreement",))
    figures = _figures(table, merged, usable, reference_prefix)
    if figures:
        report.heading("Figures")
    for name, (png, alt) in figures.items():
        paths[name] = atomic_write_bytes(out / f"{name}.png", png)
        report.image(png, alt=alt)
    report.heading("All statistics")
    report.table(table, collapsed=f"The {len(table)} rows of agreement.csv (columns described in "
                                  "agreement.columns.json)", long_columns=("reason",))
    report.heading("What the statistics mean")
    for text in _EXPLAIN:
        report.paragraph(text)
    paths["html"] = report.write(out / "report.html")
    return paths


def _figures(table, merged, usable, prefix) -> dict:
    """``{file stem: (PNG, alt text)}``: a scatter and a Bland-Altman plot per total measure and its change."""
    figures = {}
    for analysis, suffix in (("visit", ""), ("change_from_baseline", "_change")):
        for measure in ("masi", "mmasi"):
            hit = table[(table["analysis"] == analysis) & (table["visit"] == "all") & (table["measure"] == measure)]
            if hit.empty:
                continue
            pair = (usable[measure], usable[f"{prefix}{measure}"]) if not suffix else \
                tuple(change_from_baseline(merged, measure, prefix=prefix)[["objective", "physician"]].T.to_numpy())
            label = {"masi": "MASI", "mmasi": "mMASI"}[measure] + (" change from baseline" if suffix else "")
            for kind, png in zip(("scatter", "bland_altman"), _plots(*finite_pairs(*pair), label, hit.iloc[0])):
                figures[f"{kind}_{measure}{suffix}"] = (png, f"{kind.replace('_', '-')} plot, {label}")
    return figures


def validate_files(scores_csv, manifest_csv, out_dir, *, note=None, reference_prefix: str = REFERENCE_PREFIX) -> pd.DataFrame:
    """Read a scores CSV and a manifest CSV, run :func:`validate`, write the report; return the table.

    Files are read with ``pigmentscan.io.read_scores`` and ``read_manifest``. For the path join,
    relative manifest paths are resolved against the manifest's folder (CONTRACT.md) and relative
    scores paths against the current folder. The JSON names both input files with their SHA-256.
    This is what ``pigmentscan validate`` calls.
    """
    from ..io import read_manifest, read_scores

    scores, manifest = read_scores(scores_csv), read_manifest(manifest_csv)  # manifest gets image_path
    if "image_path" not in scores:
        scores["image_path"] = scores["image"].astype(str)
    sources = {"scores": str(scores_csv), "reference": str(manifest_csv)}
    merged = merge_scores(scores, manifest, sources=sources)
    table = validation_table(merged, reference_prefix)
    files = {k: {"path": v, "sha256": hashlib.sha256(Path(v).read_bytes()).hexdigest()} for k, v in sources.items()}
    write_validation_report(table, merged, out_dir, note=note, sources=files, reference_prefix=reference_prefix)
    return table
