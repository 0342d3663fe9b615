"""An HTML page of a scores table: what ``pigmentscan score --report`` writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..regions import REGION_KEYS
from .page import HtmlReport

__all__ = ["scores_report", "MAX_EMBEDDED_OVERLAYS"]

#: Overlays embedded in the page at most; more photos are listed without them.
MAX_EMBEDDED_OVERLAYS = 100
#: Width (px) and JPEG quality of the embedded copies of the overlays (~0.1 MB each instead of ~1 MB of PNG).
_EMBED_WIDTH_PX, _EMBED_JPEG_QUALITY = 900, 85


def _embedded_copy(path) -> bytes:
    """A JPEG copy of an overlay PNG, at most ``_EMBED_WIDTH_PX`` wide, for the page."""
    import cv2

    picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if picture.shape[1] > _EMBED_WIDTH_PX:
        scale = _EMBED_WIDTH_PX / picture.shape[1]
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, _EMBED_JPEG_QUALITY])
    return data.tobytes()


def calibration_statement(scores: pd.DataFrame) -> str:
    """What ``masi`` is in these scores: the model's calibrated estimate, or the uncalibrated formula.

    Examples
    --------
    >>> calibration_statement(pd.DataFrame({"masi": [3.0], "masi_raw": [3.0]}))[:40]
    'MASI here is the MASI formula over the m'
    """
    if {"masi", "masi_raw"} <= set(scores.columns):
        pairs = scores[["masi", "masi_raw"]].apply(pd.to_numeric, errors="coerce").dropna()
        if len(pairs) and np.allclose(pairs["masi"], pairs["masi_raw"], atol=1e-4):
            return ("MASI here is the MASI formula over the measured grades: the scoring model is not calibrated "
                    "to physicians (masi equals masi_raw). Calibrate to your raters with pigmentscan calibrate.")
        if len(pairs):
            return "MASI here is the scoring model's calibrated estimate of a physician's MASI (masi_raw: before it)."
    return "MASI 0-48 and mMASI 0-24 are the scoring model's scores."


def _headline(scores: pd.DataFrame) -> list[str]:
    status = scores["status"].fillna("error").astype(str)
    counts = status.value_counts().to_dict()
    lines = [f"{len(scores)} photo(s): {counts.get('ok', 0)} ok, {counts.get('warn', 0)} scored with a quality "
             f"warning, {counts.get('error', 0)} not scored."]
    masi = pd.to_numeric(scores.loc[status != "error", "masi"], errors="coerce").dropna()
    if len(masi):
        lines.append(f"MASI median {masi.median():.1f} (range {masi.min():.1f} to {masi.max():.1f}) of 48.")
    for kind, words in (("error", "Not scored"), ("warn", "Check")):
        names = [Path(str(p)).name for p in scores.loc[status == kind, "image"]]
        if names:
            lines.append(f"{words}: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''} (reasons below).")
    lines.append(calibration_statement(scores))
    return lines


def scores_report(scores: pd.DataFrame, *, overlays=None, title: str = "pigmentscan: MASI scores") -> HtmlReport:
    """A self-contained HTML page of a scores table (CONTRACT.md columns).

    The page opens with a summary in plain words (photos scored, with warnings, not scored and
    which; MASI's range; whether the model is calibrated), then every photo's totals, QC status
    (coloured) and reason and each region's area %, then a JPEG copy (at most 900 px wide) of
    each scored photo's overlay (region outlines, lesion tint, A/D/H) when ``overlays`` gives
    its file; a photo that was not scored keeps its place there with its reason. It opens in a
    browser with no network: images are embedded, nothing is fetched.

    Parameters
    ----------
    scores : pandas.DataFrame
        Rows as :func:`pigmentscan.score_images` returns them.
    overlays : sequence of path or None, optional
        The overlay PNG of each row (``None`` or a missing file: no picture), in the
        order of ``scores``; at most :data:`MAX_EMBEDDED_OVERLAYS` are embedded. A row with
        status ``error`` never shows one.
    title : str

    Returns
    -------
    HtmlReport
        Call ``.write(path)`` to save it.

    Examples
    --------
    >>> table = pd.DataFrame({"image": ["a.jpg"], "status": ["error"], "error": ["no face"],
    ...                       "masi": [np.nan], "mmasi": [np.nan]})
    >>> "no face" in scores_report(table).to_html()
    True
    """
    report = HtmlReport(title)
    report.headline(_headline(scores))
    scored = scores[scores["status"] != "error"]
    if len(scored):
        report.heading("Totals")
        summary = scored[["masi", "mmasi"]].astype(float).describe(percentiles=[0.5, 0.9]).T
        summary = summary[["count", "mean", "50%", "90%", "max"]].rename(columns={"count": "n", "50%": "median",
                                                                                  "90%": "90th percentile"})
        report.table(summary.reset_index().rename(columns={"index": "score"}), float_format="{:.2f}",
                     formats={"n": "{:.0f}"})
    report.heading("Photos")
    report.paragraph("Lesion area: % of the region's visible skin (the continuous measure behind the area grade). "
                     "Status: ok, warn (scored; check the reason), error (not scored).")
    columns = {"image": "image", "status": "status", "masi": "MASI", "mmasi": "mMASI"}
    columns |= {f"{key}_area_pct": f"{key.replace('_', ' ')} area %" for key in REGION_KEYS} | {"error": "reason"}
    table = scores.reindex(columns=list(columns)).rename(columns=columns)
    table["image"] = [Path(str(p)).name for p in table["image"]]
    report.table(table, float_format="{:.1f}", long_columns=("reason",),
                 row_classes=["failed" if s == "error" else "" for s in scores["status"]])
    if overlays is not None:
        _overlays(report, scores, overlays)
    return report


def _overlays(report: HtmlReport, scores: pd.DataFrame, overlays) -> None:
    """Each photo in order: its overlay, or why it has none; warnings above their picture."""
    rows = list(zip(scores.itertuples(index=False), overlays))
    if not any(path is not None and Path(path).is_file() for _, path in rows):
        return
    report.heading("Overlays")
    shown = 0
    for row, path in rows:
        name, status, reason = Path(str(row.image)).name, str(row.status), str(getattr(row, "error", "") or "")
        has_picture = path is not None and Path(path).is_file()
        if status == "error" or not has_picture:
            report.paragraph(f"{name}: not scored ({reason or 'no overlay'}).", alert=status == "error")
            continue
        shown += 1
        if shown == MAX_EMBEDDED_OVERLAYS + 1:
            report.paragraph(f"Only the first {MAX_EMBEDDED_OVERLAYS} overlays are shown; the others are in the "
                             "overlay folder.", note=True)
        if shown > MAX_EMBEDDED_OVERLAYS:
            continue
        report.paragraph(f"{name}: MASI {float(getattr(row, 'masi', np.nan)):.1f} ({status})"
                         + (f": {reason}" if status == "warn" and reason else ""), note=status == "warn")
        report.image(_embedded_copy(path), alt=name, mime="image/jpeg")
