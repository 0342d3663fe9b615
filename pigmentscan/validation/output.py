"""Writing the agreement report: JSON, CSV, PNG figures and a self-contained HTML page."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..io import atomic_write_bytes, atomic_write_text, write_table
from .statistics import _pairs
from .study import _table, change_from_baseline, merge_scores


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
           title=f"{label}: ICC(2,1) = {row['icc2_1']:.2f} (n = {row['n']})")
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
                            sources=None) -> dict:
    """Write ``agreement.json``, ``agreement.csv``, PNG figures and ``report.html`` under ``out_dir``.

    Figures (masi, mmasi and their change from baseline when present): a scatter against the
    physician with the identity line and ICC(2,1), and a Bland-Altman plot. ``note`` is shown at the
    top of the page and stored in the JSON. Output holds no timestamp, so it is deterministic; every
    file is written atomically. Returns ``{name: Path}``.
    """
    from ..report import HtmlReport

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    usable = merged[merged["usable"].astype(bool)]
    meta = {"pigmentscan_version": __version__, "n_photos": len(usable),
            "n_photos_excluded": len(merged) - len(usable),
            "n_subjects": int(usable["subject"].nunique()) if "subject" in usable else None,
            "manifest_rows_skipped": len(merged.attrs.get("manifest_rows_skipped", [])),
            "join": merged.attrs.get("join"), "sources": sources or merged.attrs.get("sources"), "note": note}
    records = [{k: _jsonable(v) for k, v in rec.items()} for rec in table.to_dict("records")]
    text = json.dumps({"metadata": meta, "statistics": records}, indent=2, allow_nan=False) + "\n"
    paths = {"json": atomic_write_text(out / "agreement.json", text),
             "csv": write_table(table, out / "agreement.csv")}
    report = HtmlReport("pigmentscan: agreement with physician scores")
    if note:
        report.paragraph(note, note=True)
    report.paragraph(f"{meta['n_photos']} photos ({meta['n_subjects'] or 'unknown number of'} subjects) "
                     f"compared with physician scores; {meta['n_photos_excluded']} matched photo(s) not "
                     f"scored (status error) left out. Photos matched on: {meta['join']}.")
    if merged.attrs.get("manifest_rows_skipped"):
        rows = merged.attrs["manifest_rows_skipped"]
        report.paragraph(f"{len(rows)} manifest row(s) left out as malformed: " + "; ".join(rows[:5])
                         + (" ..." if len(rows) > 5 else ""))
    report.heading("Summary")
    cols = ["analysis", "visit", "measure", "component", "n", "icc2_1", "icc2_1_ci_low", "icc2_1_ci_high",
            "icc3_1", "ccc", "pearson_r", "mae", "bias", "loa_lower", "loa_upper", "kappa_quadratic"]
    report.table(table[[c for c in cols if c in table]])
    report.heading("Figures")
    for analysis, suffix in (("visit", ""), ("change_from_baseline", "_change")):
        for measure in ("masi", "mmasi"):
            hit = table[(table["analysis"] == analysis) & (table["visit"] == "all") & (table["measure"] == measure)]
            if hit.empty:
                continue
            pair = (usable[measure], usable[f"physician_{measure}"]) if not suffix else \
                tuple(change_from_baseline(merged, measure)[["objective", "physician"]].T.to_numpy())
            label = {"masi": "MASI", "mmasi": "mMASI"}[measure] + (" change from baseline" if suffix else "")
            for kind, png in zip(("scatter", "bland_altman"), _plots(*_pairs(*pair), label, hit.iloc[0])):
                paths[f"{kind}_{measure}{suffix}"] = atomic_write_bytes(out / f"{kind}_{measure}{suffix}.png", png)
                report.image(png, alt=f"{kind.replace('_', '-')} plot, {label}")
    report.heading("What the statistics mean")
    for text in _EXPLAIN:
        report.paragraph(text)
    paths["html"] = report.write(out / "report.html")
    return paths


def validate_files(scores_csv, manifest_csv, out_dir, *, note=None) -> pd.DataFrame:
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
    table = _table(merged)
    files = {k: {"path": v, "sha256": hashlib.sha256(Path(v).read_bytes()).hexdigest()} for k, v in sources.items()}
    write_validation_report(table, merged, out_dir, note=note, sources=files)
    return table
