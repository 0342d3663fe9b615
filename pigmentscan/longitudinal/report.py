"""The HTML page of a comparison: a headline in plain words first, then what to check, then the detail.

Nothing is left out silently: every photo that failed quality control, was scored with a
warning or does not show the subject's face is listed with its reason, and its visit keeps its
place in the tables and figures. Which smallest detectable change judged the noise, and where it
came from, is stated; so is its absence.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .changes import sdc_mapping
from .figures import MEASURE_NAMES, plotted_measure
from .statistics import CONFIDENCE, Comparison, visit_name


def _arm_counts(changes: pd.DataFrame) -> str:
    if "arm" not in changes.columns or changes["arm"].dropna().empty:
        return ""
    counts = changes.drop_duplicates("subject")["arm"].value_counts().sort_index()
    return " (" + ", ".join(f"arm {arm}: {n}" for arm, n in counts.items()) + ")"


def _photo_problems(photos: pd.DataFrame) -> dict:
    status = photos["status"].astype(str) if "status" in photos.columns else pd.Series("ok", index=photos.index)
    other = photos["same_face"].eq(False).fillna(False) if "same_face" in photos.columns else status.eq("-")
    return {"not scored": status.eq("error"), "scored with a quality warning": status.eq("warn"),
            "not the subject's face": other.astype(bool)}


def _detection_line(changes: pd.DataFrame) -> str | None:
    """How many subjects improved or worsened beyond noise at the last visit with a judgement, per arm."""
    judged = changes[~changes["is_baseline"].astype(bool) & changes["detected_change"].notna()]
    if judged.empty:
        return None
    last = judged[judged["visit_order"] == judged["visit_order"].max()]

    def counts(rows):
        kinds = rows["detected_change"].value_counts()
        return (f"{kinds.get('improved', 0)} of {len(rows)} improved beyond noise, {kinds.get('worsened', 0)} worsened, "
                f"{kinds.get('none', 0)} within noise" + (f", {kinds.get('mixed', 0)} mixed" if kinds.get("mixed") else ""))

    text = f"At {visit_name(last)}: {counts(last)}"
    if "arm" in last.columns and last["arm"].nunique() > 1:
        text += " (" + "; ".join(f"arm {arm}: {counts(rows)}" for arm, rows in last.groupby("arm", sort=True)) + ")"
    return text + "."


def _masi_lines(comparison: Comparison) -> list[str]:
    summary, lines = comparison.summary, []
    post = summary[(summary["visit_order"] > 0) & (summary["n"] > 0)] if len(summary) else summary
    for arm, group in post.groupby("arm", sort=True) if "arm" in post.columns else [(None, post)]:
        for _, r in group.tail(1).iterrows():
            ci = "" if pd.isna(r["masi_change_ci_low"]) else (
                f" ({CONFIDENCE:.0%} CI {r['masi_change_ci_low']:+.1f} to {r['masi_change_ci_high']:+.1f})")
            share = r.get("masi_responder_50_fraction", math.nan)
            lines.append(f"{'At' if arm is None else f'Arm {arm}, at'} {r['visit']} (n = {r['n']}): MASI changed by "
                         f"{r['masi_change_mean']:+.1f} points on average{ci}"
                         + ("." if pd.isna(share) else f"; {share:.0%} improved by at least 50 %."))
            kept = r.get("lesion_pigment_pct_change_mean", math.nan)
            if pd.notna(kept):
                lines.append(f"The baseline's lesions kept {100 + kept:.0f} % of their pigment on average (each photo "
                             "aligned on the baseline face and read in the same pixels).")
    return lines


def _interval(row, column: str, digits: int = 1) -> str:
    """``-2.3 (-3.1 to -1.5)``: a mean and its interval from a summary row; empty without a mean."""
    mean = row.get(f"{column}_mean", math.nan)
    if pd.isna(mean):
        return ""
    low, high = row.get(f"{column}_ci_low", math.nan), row.get(f"{column}_ci_high", math.nan)
    return f"{mean:+.{digits}f}" + ("" if pd.isna(low) else f" ({low:+.{digits}f} to {high:+.{digits}f})")


def split_face_lines(comparison: Comparison) -> list[str]:
    """The split-face headline: each side's mean hemi-MASI change at the last visit, and the difference."""
    table = comparison.split_face
    if table is None or table.empty:
        return []
    post = table[(table["visit_order"] > 0) & (table["n"] > 0)]
    if post.empty:
        return ["Split face: no subject has a hemi-face change from baseline on both sides."]
    r = post.iloc[-1]
    text = (f"Split face, at {r['visit']} (n = {r['n']}): hemi-MASI changed by {r['hemi_right_masi_change_mean']:+.1f} "
            f"on the right and {r['hemi_left_masi_change_mean']:+.1f} on the left (patient's sides); right - left "
            f"{_interval(r, 'hemi_masi_change_right_minus_left')}")
    if r.get("n_treated_side", 0) > 0 and pd.notna(r.get("hemi_masi_change_treated_minus_untreated_mean", math.nan)):
        text += (f"; treated - untreated {_interval(r, 'hemi_masi_change_treated_minus_untreated')} "
                 f"({r['n_treated_side']} subjects whose treated side is known; negative: the treated side "
                 "improved more)")
    else:
        text += "; the treated side is not known (--treated-side, or an arm naming the side)"
    return [text + "."]


def split_face_table(comparison: Comparison) -> pd.DataFrame:
    """The report's split-face table: per visit, each side's mean change and the differences (95 % intervals)."""
    table = comparison.split_face
    if (table["visit_order"] > 0).any():  # the baseline's changes are 0 by definition
        table = table[table["visit_order"] > 0]
    out = pd.DataFrame({"visit": table["visit"], "n": table["n"]})
    columns = {"hemi_right_masi_change": "right hemi-MASI change", "hemi_left_masi_change": "left hemi-MASI change",
               "hemi_masi_change_right_minus_left": "right - left",
               "hemi_masi_change_treated_minus_untreated": "treated - untreated",
               "hemi_lesion_area_pct_change_treated_minus_untreated": "treated - untreated, lesion area (points)"}
    records = table.to_dict("records")
    for column, name in columns.items():
        if f"{column}_mean" in table.columns and table[f"{column}_mean"].notna().any():
            out[name] = [_interval(r, column, 2) for r in records]
    if "treated - untreated" in out.columns:
        out["n (treated side known)"] = table["n_treated_side"]
    return out


def noise_sentence(comparison: Comparison, *, short: bool = False) -> str:
    """Which smallest detectable change judged the changes, and where it came from (or that none did)."""
    if comparison.sdc is None and short:
        return "No noise judgement: no smallest detectable change is available (see the red note below)."
    if comparison.sdc is None:
        return ("No noise judgement: no smallest detectable change is available (" + comparison.sdc_source + "). "
                "A change cannot be told from the noise of repeat photography; give --retest RETEST.csv (repeat "
                "photos of stable subjects) or --sdc.")
    limits = sdc_mapping(comparison.sdc)
    used = " or ".join(f"{MEASURE_NAMES.get(m, m)} exceeds {limits[m]:.3g}" for m in comparison.detect_by)
    return (f"Noise: a visit counts as improved or worsened when its change in {used}, the smallest detectable "
            f"change (SDC, 95 %) of repeat photography; source: {comparison.sdc_source}.")


def headline(comparison: Comparison) -> list[str]:
    """The report's opening lines in plain words: who, how many, what changed beyond noise, what to check."""
    changes, photos = comparison.changes, comparison.photos
    lines = [f"{changes['subject'].nunique()} subjects{_arm_counts(changes)}, {changes['visit_order'].nunique()} "
             f"visits" + ("" if photos is None else f", {len(photos)} photos") + "."]
    detected = _detection_line(changes) if comparison.sdc is not None else None
    lines += [detected] if detected else []
    lines += _masi_lines(comparison)
    lines += split_face_lines(comparison)
    arms = comparison.arms
    tested = arms[arms["measure"].eq("masi_change") & arms["p_value"].notna()] if len(arms) else arms
    for _, r in tested.tail(1).iterrows():
        lines.append(f"At {r['visit']}, the MASI change of arms {r['arms']} compared: p = {r['p_value']:.3g} "
                     f"({r['test']}, {r['effect_size_name']} {r['effect_size']:+.2f}; not adjusted for several visits).")
    if photos is not None:
        problems = {k: int(v.sum()) for k, v in _photo_problems(photos).items() if v.any()}
        lines.append("Photos to check: " + ", ".join(f"{n} {k}" for k, n in problems.items())
                     + " (listed below, each in its place)." if problems else
                     "Every photo passed quality control" + (" and the identity check."
                                                            if "same_face" in photos.columns else "."))
    missing = changes.drop_duplicates("subject").query("note != ''")
    if len(missing):
        lines.append(f"{len(missing)} subject(s) without a usable baseline have no change (see below).")
    lines.append(noise_sentence(comparison, short=True))
    return lines


def photos_to_check(comparison: Comparison) -> pd.DataFrame:
    """The photos with a problem: subject, visit, photo, status, used, reason."""
    photos = comparison.photos
    if photos is None or photos.empty:
        return pd.DataFrame(columns=["subject", "visit", "photo", "status", "used", "reason"])
    flagged = pd.concat(list(_photo_problems(photos).values()), axis=1).any(axis=1)
    rows = photos[flagged]
    reason = rows["error"].fillna("").astype(str) if "error" in rows.columns else pd.Series("", index=rows.index)
    if "identity_note" in rows.columns:
        note = rows["identity_note"].fillna("").astype(str)
        reason = reason.where(~rows["same_face"].eq(False).fillna(False), (note + "; " + reason).str.strip("; "))
    return pd.DataFrame({"subject": rows["subject"], "visit": rows["visit"],
                         "photo": [Path(str(p)).name for p in rows.get("image", pd.Series("", index=rows.index))],
                         "status": rows.get("status", "ok"), "used": rows["used"].map({True: "yes", False: "no"}),
                         "reason": reason})


def _subject_table(comparison: Comparison) -> tuple[pd.DataFrame, list[str]]:
    changes, measure = comparison.changes, plotted_measure(comparison)
    columns = {"subject": "subject", "arm": "arm", "visit": "visit", "days_from_baseline": "days",
               "qc_status": "status", "masi": "MASI", "masi_change": "MASI change", "masi_change_pct": "MASI % change"}
    if measure != "masi":
        columns[f"{measure}_change"] = MEASURE_NAMES.get(measure, measure).split(" (")[0] + " change"
    columns |= {"hemi_right_masi_change": "right hemi-MASI change", "hemi_left_masi_change": "left hemi-MASI change",
                "treated_side": "treated side",
                "hemi_masi_change_treated_minus_untreated": "treated - untreated"}  # split face, when compared so
    columns["detected_change"] = "beyond noise"
    table = changes.reindex(columns=[c for c in columns if c in changes.columns]).rename(columns=columns)
    note = changes["note"].where(~changes["subject"].duplicated(), "")  # a subject's note once, on its first row
    table["problems"] = [" | ".join(x for x in (str(q or ""), str(n or "")) if x)
                         for q, n in zip(changes["qc_reasons"], note)]
    classes = ["flagged" if same is False else ("failed" if status == "error" else "")
               for same, status in zip(changes["same_face"].astype(object), changes["qc_status"])]
    return table, classes


def _summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    def interval(row, column):
        if pd.isna(row.get(f"{column}_mean")):
            return ""
        ci = "" if pd.isna(row.get(f"{column}_ci_low")) else f" ({row[f'{column}_ci_low']:+.2f} to {row[f'{column}_ci_high']:+.2f})"
        return f"{row[f'{column}_mean']:+.2f}{ci}"

    out = summary.reindex(columns=[c for c in ("arm", "visit", "n", "masi_mean") if c in summary.columns]).copy()
    out = out.rename(columns={"masi_mean": "mean MASI"})
    out[f"MASI change ({CONFIDENCE:.0%} CI)"] = [interval(r, "masi_change") for r in summary.to_dict("records")]
    out["MASI % change"] = [interval(r, "masi_change_pct") for r in summary.to_dict("records")]
    for column, name in (("masi_responder_50_fraction", "improved ≥ 50 %"), ("improved_fraction", "improved beyond noise"),
                         ("worsened_fraction", "worsened beyond noise")):
        if column in summary.columns:
            out[name] = [f"{v:.0%}" if pd.notna(v) else "" for v in summary[column]]
    return out


def comparison_page(comparison: Comparison, figures: dict, *, subject_figures=(), panels=None,
                    panel_scale: float = 1.0):
    """The :class:`~pigmentscan.report.HtmlReport` of a comparison.

    ``figures``: PNG bytes of the group figures by name; ``subject_figures``: PNG bytes of the
    per-subject figures; ``panels``: ``{subject: (bytes, mime)}`` before/after pictures, shown at
    ``panel_scale`` of their size (to keep the page small; said on the page).
    """
    from ..report import HtmlReport

    report = HtmlReport("Change in MASI from baseline")
    report.headline(headline(comparison))
    if comparison.sdc is None:
        report.paragraph(noise_sentence(comparison), alert=True)
    for _, r in comparison.changes.drop_duplicates("subject").query("note != ''").iterrows():
        report.paragraph(f"Subject {r['subject']}: {r['note']}; not counted in the changes.", alert=True)
    check = photos_to_check(comparison)
    if len(check):
        report.heading("Photos to check")
        report.paragraph("Photos not scored or not the subject's face are not used; their visit stays in the tables "
                         "and figures (a grey cross, a red question mark). Photos with a quality warning are used.")
        report.table(check, long_columns=("reason",), row_classes=[  # not used though scored: another face
            "failed" if status == "error" else ("flagged" if used == "no" else "")
            for status, used in zip(check["status"], check["used"])])
    if comparison.split_face is not None:
        report.heading("Split face: each side")
        report.paragraph("Hemi-face MASI (0-24) of each side: its malar region with its half of the forehead and of "
                         "the chin, cut at the face's midline; right and left are the patient's. Change = visit - "
                         "baseline per side; the differences are taken within each subject, so their intervals are "
                         "paired (95 % Student-t). Treated - untreated needs the treated side (--treated-side, or "
                         "an arm that names the side); negative means the treated side improved more. All subjects "
                         "pooled; summary.csv has them per arm.")
        report.table(split_face_table(comparison), formats={"n": "{:.0f}", "n (treated side known)": "{:.0f}"})
    report.heading("Each subject")
    for data in subject_figures:
        report.image(data, alt="change from baseline per subject, with the noise band")
    if panels:
        report.heading("Before / after photos")
        report.paragraph("Each visit aligned on the baseline face. Rows: the photo; lesions (magenta) with the "
                         "baseline's regions; pigment against baseline (blue less, red more)."
                         + (f" Shown at {panel_scale:.0%} of their size to keep this page small." if panel_scale < 1
                            else ""))
        for subject in sorted(panels):
            data, mime = panels[subject]
            report.paragraph(f"Subject {subject}")
            report.image(data, alt=f"before and after, subject {subject}", mime=mime)
    report.heading("Summary per visit")
    report.table(_summary_table(comparison.summary), float_format="{:.2f}", formats={"n": "{:.0f}"})
    if len(comparison.arms):
        report.heading("Between arms")
        arms = comparison.arms.drop(columns=["visit_order", "test"] if "test" in comparison.arms else "visit_order")
        report.paragraph(f"Test: {comparison.arms['test'].iloc[0] or 'none'} (p not adjusted for several visits).")
        report.table(arms, float_format="{:.3g}")
    report.heading("Per subject and visit")
    table, classes = _subject_table(comparison)
    report.table(table, float_format="{:.2f}", formats={"days": "{:.0f}"}, long_columns=("problems",),
                 row_classes=classes)
    report.heading("Trajectories")
    for name, data in figures.items():
        report.image(data, alt=name.replace("_", " "))
    report.paragraph("Baseline is each subject's first visit. Change = visit - baseline; % change = change / baseline; "
                     "responders improved by at least 50 % (or 75 %). Intervals are "
                     f"{CONFIDENCE:.0%} Student-t intervals of the mean. MASI here is the software's measure, not a "
                     "physician's score. Every column of the CSV files is described in its .columns.json.")
    return report
