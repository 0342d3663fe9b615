"""The figures of ``benchmarks/domains.py`` from its scored rows (pure functions over DataFrames).

Statistics come from the library (:func:`pigmentscan.validation.agreement`, ICC(A,1) through
accuracy.py's ``_icc``, :func:`pigmentscan.longitudinal.smallest_detectable_change`).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from accuracy import DARK_ITA, LIGHT_ITA, REGIONS, _fmt, _icc
from domain_cases import LIGHTS, SWAP

SCORED = ("ok", "warn")  # an error photo has no MASI: left out of every agreement figure
JND_BINS = ((1.0, 1.5), (1.5, 2.0), (2.0, 3.0), (3.0, 4.5), (4.5, 6.0), (6.0, np.inf))
TONES = (("light", LIGHT_ITA, np.inf), ("interm./tan", DARK_ITA, LIGHT_ITA), ("brown/dark", -np.inf, DARK_ITA))


def tone(ita) -> str:
    """light (ITA > 41), interm./tan (10-41), brown/dark (< 10): Chardon 1991's bands, grouped."""
    for name, low, high in TONES:
        if np.isfinite(ita) and low < ita <= high:
            return name
    return "unknown"


def _reason(text: str) -> str:
    """A QC sentence without its numbers and details: 'head turned +12° (limit ...)' -> 'head turned'."""
    text = re.split(r" \(|: ", text, maxsplit=1)[0]
    return re.sub(r"[+-]?\d+(\.\d+)?\s*(%|°|px)?", "#", text).strip()


def reason_counts(statuses, reasons, status: str) -> list:
    """[(reason, count)] of the photos with ``status``, most common first."""
    counter = Counter()
    for s, text in zip(statuses, reasons):
        if s == status and isinstance(text, str) and text:
            counter.update({_reason(part) for part in text.split(" | ")})
    return counter.most_common()


def status_figures(frame: pd.DataFrame, prefix: str = "") -> dict:
    status = frame[f"{prefix}status"].fillna("not generated")
    reasons = frame[f"{prefix}reasons"] if f"{prefix}reasons" in frame else pd.Series("", index=frame.index)
    return {"n": len(frame), **{s: int((status == s).sum()) for s in ("ok", "warn", "error", "not generated")},
            "errors": reason_counts(status, reasons, "error"), "warns": reason_counts(status, reasons, "warn"),
            "unmade": reason_counts(status, reasons, "not generated")}


def clean_figures(frame: pd.DataFrame) -> dict:
    """Clean faces: status counts and reasons; MASI median, p90 and max over the scored photos; ok above 3."""
    scored = frame[frame["status"].isin(SCORED)]
    masi = scored["masi"].astype(float)
    high = scored[(scored["status"] == "ok") & (masi > 3)].sort_values("masi", ascending=False)
    return {**status_figures(frame), "scored": len(scored), "median": masi.median(), "p90": masi.quantile(0.9),
            "max": masi.max(), "ok_above_3": len(high), "warn_above_3": int(((scored["status"] == "warn") & (masi > 3)).sum()),
            "above_3_faces": [f"{r.face} {r.masi:.1f}" for r in high.itertuples()]}


def flush_figures(frame: pd.DataFrame) -> dict:
    """Flushed clean faces: MASI median and p90 over the scored photos; the median move from the clean photo."""
    scored = frame[frame["status"].isin(SCORED)]
    moved = (scored["masi"] - scored["clean_masi"]).dropna()
    return {**status_figures(frame), "scored": len(scored), "median": scored["masi"].median(),
            "p90": scored["masi"].quantile(0.9), "max": scored["masi"].max(), "median_move": moved.median(),
            "strengths": (frame["strength"].min(), frame["strength"].max()) if "strength" in frame else (np.nan, np.nan)}


def regions_long(frame: pd.DataFrame, prefix: str = "base") -> pd.DataFrame:
    """One row per phantom and region: true area %, true darkness (JND), measured area %, Dice."""
    parts = []
    for key in REGIONS:
        parts.append(pd.DataFrame({"region": key, "true_area_pct": frame[f"{key}_true_area_pct"],
                                   "true_area_score": frame[f"{key}_true_area_score"],
                                   "true_darkness_jnd": frame[f"{key}_true_darkness_jnd"],
                                   "area_pct": frame[f"{prefix}_{key}_area_pct"],
                                   "dice": frame.get(f"{key}_dice", pd.Series(np.nan, index=frame.index))}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _scored(frame: pd.DataFrame, *variants) -> pd.DataFrame:
    keep = np.ones(len(frame), bool)
    for v in variants:
        keep &= frame.get(f"{v}_status", pd.Series("", index=frame.index)).isin(SCORED).to_numpy()
    return frame[keep]


def _median(values) -> float:
    values = pd.Series(values, dtype=float).dropna()
    return float(values.median()) if len(values) else np.nan


def phantom_figures(frame: pd.DataFrame) -> dict:
    """Every phantom figure of one set of phantoms (a domain, a skin tone, or all)."""
    from pigmentscan.validation import agreement

    out = {"status": status_figures(frame, "base_") if "base_status" in frame else {"n": 0}}
    ok = _scored(frame, "base")
    out["n"] = len(ok)
    out["clear"] = int(ok["param_pattern"].isna().sum()) if "param_pattern" in ok else 0
    out["true_median"] = ok["true_masi"].median() if len(ok) else np.nan
    for total in ("masi", "mmasi"):
        out[total] = agreement(ok[f"base_{total}"], ok[f"true_{total}"]) if len(ok) else {"n": 0}
    long = regions_long(ok)
    out["dice"] = float(np.nanmean(long.loc[long["true_area_score"] > 0, "dice"])) if len(long) and \
        long["dice"].notna().any() else np.nan
    out["area_mae"] = float(np.mean(np.abs(long["area_pct"] - long["true_area_pct"]))) if len(long) else np.nan
    found = long[long["true_area_pct"] >= 2].assign(ratio=lambda d: d["area_pct"] / d["true_area_pct"]) \
        if len(long) else pd.DataFrame(columns=["true_darkness_jnd", "ratio", "true_area_pct"])
    out["bins"] = [(low, high, _median(part["ratio"]), len(part)) for low, high in JND_BINS
                   for part in [found[(found["true_darkness_jnd"] >= low) & (found["true_darkness_jnd"] < high)]]]
    strong, faint = found[found["true_darkness_jnd"] >= 2], found[found["true_darkness_jnd"].between(1.5, 2, inclusive="left")]
    big = found[found["true_area_pct"] >= 70]
    out.update(ratio_2jnd=(_median(strong["ratio"]), len(strong)), ratio_15_2jnd=(_median(faint["ratio"]), len(faint)),
               ratio_big=(_median(big["ratio"]), len(big)))
    for variant in ("flush", *LIGHTS):  # each confounder against the same phantom without it
        pair = _scored(frame, "base", variant)
        delta = pair.get(f"{variant}_masi", pd.Series(np.nan, index=pair.index)) - pair["base_masi"]
        out[variant] = {"n": len(pair), "mean": delta.mean(), "mean_abs": delta.abs().mean(),
                        "errors": int((frame.get(f"{variant}_status", pd.Series(dtype=str)) == "error").sum())}
    out["retest"] = retest_figures(frame)
    out["mirror"] = mirror_figures(frame)
    return out


def retest_figures(frame: pd.DataFrame) -> dict:
    """Two retakes per phantom: SDC95 = 1.96·√2·SD_within (the library's), ICC(A,1) between the takes,
    and the same SDC of the truth (a retake re-grades the moved truth maps: the truth's own jitter)."""
    from pigmentscan.longitudinal import smallest_detectable_change

    pairs = _scored(frame, "retake_a", "retake_b")
    out = {"n": len(pairs), "errors": int(frame.get("retake_a_status", pd.Series(dtype=str)).eq("error").sum()
                                          + frame.get("retake_b_status", pd.Series(dtype=str)).eq("error").sum())}
    if len(pairs) < 3:
        return out
    for name, column in (("sdc", "masi"), ("sdc_mmasi", "mmasi"), ("truth_sdc", "true_masi")):
        takes = np.column_stack([pairs[f"retake_a_{column}"], pairs[f"retake_b_{column}"]]).ravel()
        scores = pd.DataFrame({"subject": np.repeat([f"p{i}" for i in range(len(pairs))], 2),
                               "visit": ["V1", "V2"] * len(pairs), "masi": takes})  # each measure as the 'masi' column
        table = smallest_detectable_change(scores, measures=["masi"]).table.iloc[0]
        out[name] = float(table["sdc"])
        if name == "sdc":
            out["sd_within"], out["sdc_ci"] = float(table["sd_within"]), (table["sdc_ci_low"], table["sdc_ci_high"])
    out["icc"] = _icc(pairs["retake_a_masi"], pairs["retake_b_masi"])
    return out


def mirror_figures(frame: pd.DataFrame) -> dict:
    """The flipped photo against the photo: each region's area % against its mirror region's, and MASI."""
    pairs = _scored(frame, "base", "mirror")
    if not len(pairs):
        return {"n": 0}
    area = np.concatenate([np.abs(pairs[f"base_{k}_area_pct"] - pairs[f"mirror_{SWAP.get(k, k)}_area_pct"]) for k in REGIONS])
    masi = np.abs(pairs["base_masi"] - pairs["mirror_masi"]).to_numpy()
    return {"n": len(pairs), "regions": len(area), "area_within3": float(np.mean(area <= 3)), "area_max": float(area.max()),
            "masi_within05": float(np.mean(masi <= 0.5)), "masi_max": float(masi.max())}


# --- formatting ----------------------------------------------------------------------------------

def f2(value, digits=2) -> str:
    return _fmt(value, digits)


def _pct(value) -> str:
    return "nan" if value is None or not np.isfinite(value) else f"{100 * value:.0f} %"


def phantom_rows(figures: dict) -> list:
    """(label, cell) rows of one column of the phantom table."""
    m, mm, rt, mi = figures["masi"], figures["mmasi"], figures["retest"], figures["mirror"]
    st = figures["status"]
    rows = [("phantoms made / scored (ok+warn)", f"{st.get('n', 0) - st.get('not generated', 0)} / {figures['n']}"),
            ("  status warn / error", f"{st.get('warn', 0)} / {st.get('error', 0)}"),
            ("  clear (no pigment) / true MASI median", f"{figures['clear']} / {f2(figures['true_median'], 1)}"),
            ("MASI Spearman rho", f2(m.get("spearman_rho"))),
            ("MASI ICC(A,1)", f2(m.get("icc2_1"))),
            ("MASI Bland-Altman bias", f2(m.get("bias"))),
            ("MASI limits of agreement", f"{f2(m.get('loa_lower'), 1)}..{f2(m.get('loa_upper'), 1)}"),
            ("MASI MAE", f2(m.get("mae"))),
            ("mMASI Spearman rho", f2(mm.get("spearman_rho"))),
            ("mMASI ICC(A,1)", f2(mm.get("icc2_1"))),
            ("mMASI bias / MAE", f"{f2(mm.get('bias'))} / {f2(mm.get('mae'))}"),
            ("lesion Dice (regions with lesion)", f2(figures["dice"])),
            ("area-% MAE (points, all regions)", f2(figures["area_mae"], 1))]
    for key, label in (("ratio_2jnd", "area found/true, >= 2 JND"), ("ratio_15_2jnd", "area found/true, 1.5-2 JND"),
                       ("ratio_big", "area found/true, true area >= 70 %")):
        value, n = figures[key]
        rows.append((f"{label} (median, N)", f"{f2(value)} ({n})"))
    for variant, label in (("flush", "flush"), ("side", "side light"), ("flash", "flash"), ("warm", "warm WB")):
        d = figures[variant]
        rows.append((f"{label}: mean |dMASI| / mean dMASI", f"{f2(d['mean_abs'])} / {f2(d['mean'])}"))
        rows.append((f"  {label}: pairs scored / errors", f"{d['n']} / {d['errors']}"))
    rows += [("retest SDC95 MASI (pairs)", f"{f2(rt.get('sdc'))} ({rt['n']})"),
             ("  SDC 95 % interval", "{}..{}".format(*(f2(v) for v in rt.get("sdc_ci", (np.nan, np.nan))))),
             ("  retest ICC(A,1) between takes", f2(rt.get("icc"), 3)),
             ("  retest SDC95 mMASI", f2(rt.get("sdc_mmasi"))),
             ("  truth's own SDC95 between takes", f2(rt.get("truth_sdc"))),
             ("  retake photos ruled out (error)", str(rt.get("errors", 0))),
             ("mirror: regions within 3 area points", f"{_pct(mi.get('area_within3', np.nan))} of {mi.get('regions', 0)}"),
             ("mirror: max area difference (points)", f2(mi.get("area_max"), 1)),
             ("mirror: photos within 0.5 MASI", f"{_pct(mi.get('masi_within05', np.nan))} of {mi['n']}"),
             ("mirror: max |dMASI|", f2(mi.get("masi_max")))]
    return rows


def table(columns: dict, rows_of, label_width: int = 42, width: int = 19) -> list:
    """Lines of a table: one column per entry of ``columns`` (name -> figures), rows from ``rows_of``."""
    names = list(columns)
    cells = {name: rows_of(columns[name]) for name in names}
    lines = [f"{'':<{label_width}}" + "".join(f"{n:>{width}}" for n in names)]
    for i, (label, _) in enumerate(cells[names[0]]):
        lines.append(f"{label:<{label_width}}" + "".join(f"{cells[n][i][1]:>{width}}" for n in names))
    return lines


def bin_rows(figures: dict) -> list:
    return [(f"true darkness [{low:g}, {high:g}) JND" if np.isfinite(high) else f"true darkness >= {low:g} JND",
             f"{f2(median)} ({n})") for low, high, median, n in figures["bins"]]


def reason_lines(title: str, counts: list, top: int = 3) -> list:
    if not counts:
        return []
    return [f"  {title}: " + "; ".join(f"{reason} ({n})" for reason, n in counts[:top])]
