"""Human-readable reports: self-contained HTML pages and PNG figures.

Reports open in a browser with no network: figures are embedded as base64 PNG,
there is no script, font or stylesheet fetched from anywhere. Files are written
atomically and only under the folder the caller names.
"""

from __future__ import annotations

import base64
import html
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from . import __version__
from .io import atomic_write_bytes, atomic_write_text

__all__ = ["HtmlReport", "figure_png_bytes", "save_figure", "render_overlay", "overlay_paths", "write_overlay"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #ccc;padding-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.4em 0}
footer{margin-top:3em;color:#777;font-size:.85em}
"""


def figure_png_bytes(figure, *, dpi: int = 110) -> bytes:
    """Render a matplotlib figure to PNG bytes carrying no metadata."""
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def save_figure(figure, path) -> Path:
    """Write a matplotlib figure to ``path`` as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    data = figure_png_bytes(figure)
    plt.close(figure)
    return atomic_write_bytes(path, data)


@dataclass
class HtmlReport:
    """A self-contained HTML page built block by block.

    Examples
    --------
    >>> report = HtmlReport("Agreement")
    >>> report.heading("Totals")
    >>> report.paragraph("MASI against physicians.")
    >>> "<h2>Totals</h2>" in report.to_html()
    True
    """

    title: str
    blocks: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        css = ' class="note"' if note else ""
        self.blocks.append(f"<p{css}>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, *, float_format: str = "{:.3f}", index: bool = False) -> None:
        formatters = {
            column: (lambda v, f=float_format: "" if pd.isna(v) else f.format(v))
            for column in frame.columns
            if pd.api.types.is_float_dtype(frame[column])
        }
        self.blocks.append(frame.to_html(index=index, formatters=formatters, border=0, escape=True, na_rep=""))

    def image(self, png_bytes: bytes, *, alt: str = "") -> None:
        encoded = base64.b64encode(png_bytes).decode("ascii")
        self.blocks.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">')

    def figure(self, figure, *, alt: str = "") -> None:
        """Embed a matplotlib figure (and close it)."""
        import matplotlib.pyplot as plt

        self.image(figure_png_bytes(figure), alt=alt)
        plt.close(figure)

    def to_html(self) -> str:
        body = "\n".join(self.blocks)
        title = html.escape(self.title)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_CSS}</style></head><body>\n<h1>{title}</h1>\n{body}\n"
            f"<footer>pigmentscan {__version__}</footer></body></html>\n"
        )

    def write(self, path) -> Path:
        """Write the page to ``path`` atomically."""
        return atomic_write_text(path, self.to_html())


# --- overlays ---------------------------------------------------------------------
#: Outline colour (RGB) of each region in overlays.
REGION_COLOURS = {"forehead": (255, 170, 0), "right_malar": (0, 200, 255), "left_malar": (60, 255, 60), "chin": (255, 90, 255)}
_LESION_TINT = np.array([200, 0, 120], dtype=np.float32)
_OVERLAY_HEIGHT_PX = 800


def render_overlay(score) -> np.ndarray:
    """An RGB picture of one score: region outlines, lesions tinted, each region's A/D/H and the totals.

    Parameters
    ----------
    score : pigmentscan.FaceScore

    Returns
    -------
    numpy.ndarray
        RGB uint8: the face at the analysis scale (enlarged to 800 px high) beside a
        text panel. Carries nothing of the source photo's metadata.
    """
    analysis = score.analysis
    picture = score.analysis_image.astype(np.float32)
    lesion = analysis.lesion_mask
    picture[lesion] = 0.55 * picture[lesion] + 0.45 * _LESION_TINT
    picture = np.clip(picture, 0, 255).astype(np.uint8)
    zoom = _OVERLAY_HEIGHT_PX / picture.shape[0]
    picture = cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_LINEAR)
    for key, mask in analysis.region_masks.items():
        big = cv2.resize(mask.astype(np.uint8), (picture.shape[1], picture.shape[0]), interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(picture, contours, -1, REGION_COLOURS[key], 2, lineType=cv2.LINE_AA)
    panel = np.full((picture.shape[0], 380, 3), 255, dtype=np.uint8)
    lines = [
        (f"MASI  {score.masi:5.1f} / 48", (0, 0, 0), 0.8),
        (f"mMASI {score.mmasi:5.1f} / 24", (0, 0, 0), 0.8),
        (f"QC: {score.status}", (0, 0, 0) if score.status == "ok" else (200, 90, 0), 0.6),
        ("", (0, 0, 0), 0.5),
    ]
    for key, region in score.regions.items():
        lines.append((key.replace("_", " "), REGION_COLOURS[key], 0.65))
        lines.append((f"  A {region.area_score}  D {region.darkness}  H {region.homogeneity}   {region.area_pct:4.1f} %", (0, 0, 0), 0.6))
    lines += [("", (0, 0, 0), 0.5), ("lesion tinted magenta", (200, 0, 120), 0.5),
              ("right malar = patient's right", (90, 90, 90), 0.5), (f"model {score.model}", (90, 90, 90), 0.42),
              (f"pigmentscan {score.pigmentscan_version}", (90, 90, 90), 0.42)]
    y = 40
    for text, colour_rgb, size in lines:
        if text:
            cv2.putText(panel, text, (14, y), cv2.FONT_HERSHEY_SIMPLEX, size, colour_rgb, 2 if size >= 0.6 else 1, cv2.LINE_AA)
        y += int(44 * size) + 8
    return np.hstack([picture, panel])


#: Characters kept in overlay file names: letters and digits of any script, ``_ . -`` and space.
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


def _safe_stem(text: str, fallback: str) -> str:
    """A file stem that cannot leave its folder: no separators, no leading dot, ≤ 120 characters."""
    stem = _UNSAFE_NAME.sub("_", text).strip(" .")[:120].strip(" .")
    return stem or fallback


def overlay_paths(overlay_dir, images) -> list:
    """One distinct overlay file name per photo in ``overlay_dir``: ``<stem>.png``.

    Photos whose stems collide (``visit1/S01.jpg`` and ``visit2/S01.jpg``; compared
    ignoring case, as on macOS and Windows) get the parent folder's name in front, and
    a number behind if that still collides; arrays get ``image_<n>.png``. Characters
    other than letters, digits, ``_ . -`` and space become ``_`` and leading dots go, so
    a name such as ``../../x.jpg`` or ``a\\..\\x.jpg`` stays inside ``overlay_dir``.
    """
    import os
    from collections import Counter

    overlay_dir = Path(overlay_dir)
    is_path = [isinstance(p, (str, os.PathLike)) for p in images]
    stems = [_safe_stem(Path(p).stem, f"image_{i}") if ok else f"image_{i}"
             for i, (p, ok) in enumerate(zip(images, is_path))]
    counts = Counter(stem.casefold() for stem in stems)
    taken: set[str] = set()
    paths = []
    for i, (stem, image, ok) in enumerate(zip(stems, images, is_path)):
        if ok and counts[stem.casefold()] > 1:
            stem = _safe_stem(f"{Path(image).parent.name}_{stem}", stem)
        name = stem
        while name.casefold() in taken:
            name = f"{stem}_{i}" if name == stem else f"{name}_"
        taken.add(name.casefold())
        path = overlay_dir / f"{name}.png"
        if path.parent != overlay_dir:  # cannot happen with the names above; never write elsewhere
            raise ValueError(f"overlay name {name!r} would leave {overlay_dir}")
        paths.append(path)
    return paths


def write_overlay(path, score) -> Path:
    """Render :func:`render_overlay` and write it as a PNG without metadata, atomically."""
    from .io import write_png

    return write_png(path, render_overlay(score))
