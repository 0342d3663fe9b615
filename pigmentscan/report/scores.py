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


def scores_report(scores: pd.DataFrame, *, overlays=None, title: str = "pigmentscan: MASI scores") -> HtmlReport:
    """A self-contained HTML page of a scores table (CONTRACT.md columns).

    The page summarises the photos (status counts, MASI and mMASI distribution), lists
    every photo's totals, QC status and reason and each region's area %, and embeds a
    JPEG copy (at most 900 px wide) of each scored photo's overlay (region outlines,
    lesion tint, A/D/H) when ``overlays`` gives its file. It opens in a browser with no
    network: images are embedded, nothing is fetched.

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
    counts = scores["status"].value_counts().to_dict() if len(scores) else {}
    report.paragraph(f"{len(scores)} photo(s): " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "warn", "error"))
                     + ". MASI 0-48 and mMASI 0-24 are the scoring model's estimate of a physician's score; "
                     "area % is the continuous measure behind each area grade.")
    scored = scores[scores["status"] != "error"]
    if len(scored):
        report.heading("Totals")
        summary = scored[["masi", "mmasi"]].astype(float).describe(percentiles=[0.5, 0.9]).T
        report.table(summary[["count", "mean", "50%", "90%", "max"]].reset_index().rename(columns={"index": "score"}),
                     float_format="{:.2f}")
    report.heading("Photos")
    columns = ["image", "status", "masi", "mmasi"] + [f"{key}_area_pct" for key in REGION_KEYS] + ["error"]
    table = scores.reindex(columns=columns).copy()
    table["image"] = [Path(str(p)).name for p in table["image"]]
    report.table(table.rename(columns={"error": "QC / error"}), float_format="{:.1f}")
    if overlays is not None:
        # a photo that was not scored has no overlay: a file of its name is another run's (another patient's)
        pictures = [(row, path) for row, path in zip(scores.itertuples(index=False), overlays)
                    if path is not None and row.status != "error" and Path(path).is_file()]
        if pictures:
            report.heading("Overlays")
            if len(pictures) > MAX_EMBEDDED_OVERLAYS:
                report.paragraph(f"The first {MAX_EMBEDDED_OVERLAYS} of {len(pictures)} overlays; "
                                 "the others are in the overlay folder.", note=True)
            for row, path in pictures[:MAX_EMBEDDED_OVERLAYS]:
                masi = getattr(row, "masi", np.nan)
                report.paragraph(f"{Path(str(row.image)).name}: MASI {float(masi):.1f} ({row.status})")
                report.image(_embedded_copy(path), alt=Path(str(row.image)).name, mime="image/jpeg")
    return report
