"""Self-contained HTML pages (:class:`HtmlReport`) and PNG figures without metadata."""

from __future__ import annotations

import base64
import html
import io as _io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from ..io import atomic_write_bytes, atomic_write_text

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

    def image(self, data: bytes, *, alt: str = "", mime: str = "image/png") -> None:
        """Embed an encoded image (PNG by default; ``mime="image/jpeg"`` for a JPEG)."""
        encoded = base64.b64encode(data).decode("ascii")
        self.blocks.append(f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{encoded}">')

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
