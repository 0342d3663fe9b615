"""Self-contained HTML pages (:class:`HtmlReport`) and PNG figures without metadata."""

from __future__ import annotations

import base64
import html
import io as _io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..io import atomic_write_bytes, atomic_write_text

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #ccc;padding-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top}th{background:#f3f3f3}
td.text,th.text{text-align:left}td.long{min-width:22em;max-width:40em;text-align:left}
tr.failed td{background:#f1f1f1;color:#555}tr.flagged td{background:#fdecea}
td.ok{color:#1a7f37;font-weight:600}tr td.warn{background:#fff4ce;font-weight:600}
tr td.error{background:#fde2e1;color:#a40e26;font-weight:600}
td.improved{color:#1a7f37;font-weight:600}td.worsened{color:#a40e26;font-weight:600}
.headline{background:#eef5ff;border-left:5px solid #3b82f6;padding:.6em 1.2em;margin:1em 0}
.headline li{margin:.25em 0}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}
.alert{background:#fde2e1;border-left:4px solid #d1242f;padding:.5em 1em}
details{margin:.8em 0}summary{cursor:pointer;color:#0550ae}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.4em 0}
footer{margin-top:3em;color:#777;font-size:.85em}
"""

#: Columns whose cells are coloured by value (the CSS classes above).
_COLOURED = {"status": {"ok", "warn", "error"}, "qc_status": {"ok", "warn", "error"},
             "detected_change": {"improved", "worsened"}, "beyond noise": {"improved", "worsened"}}


def _is_text(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def _cell_text(value, form) -> str:
    """A cell as text: NaN / NA empty, floats by ``form`` (a format string or a function)."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if callable(form):
        return str(form(value))
    if isinstance(value, (float, np.floating)):
        return form.format(value)
    return str(value)


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

    def paragraph(self, text: str, *, note: bool = False, alert: bool = False) -> None:
        """A paragraph; ``note`` highlights it (yellow), ``alert`` marks a problem (red)."""
        css = ' class="alert"' if alert else (' class="note"' if note else "")
        self.blocks.append(f"<p{css}>{html.escape(text)}</p>")

    def headline(self, lines) -> None:
        """A short summary in plain words, shown as a highlighted list: what a reader needs first."""
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        self.blocks.append(f'<div class="headline"><ul>{items}</ul></div>')

    def table(self, frame: pd.DataFrame, *, float_format: str = "{:.3f}", index: bool = False, formats=None,
              row_classes=None, long_columns=(), collapsed: str | None = None) -> None:
        """A table that never widens the page (it scrolls inside its box instead).

        Parameters
        ----------
        frame : pandas.DataFrame
        float_format : str
            Format of float cells (``formats`` overrides it per column); NaN is an empty cell.
        index : bool
            Show the index as the first column.
        formats : dict of str to str or callable, optional
            Per column: a format string or a function of the value returning text.
        row_classes : sequence of str, optional
            A CSS class per row: ``failed`` (greyed) or ``flagged`` (red tint).
        long_columns : sequence of str
            Columns of sentences (reasons, notes): given a readable width, wrapped by words.
        collapsed : str, optional
            Put the table in a closed ``<details>`` block with this summary line.

        Cells of a ``status`` / ``qc_status`` column (ok, warn, error) and of ``detected_change``
        (improved, worsened) are coloured.
        """
        frame = frame.reset_index() if index else frame
        formats = dict(formats or {})
        head = "".join(f'<th class="{"text" if _is_text(frame[c]) else "num"}">{html.escape(str(c))}</th>'
                       for c in frame.columns)
        body = []
        for i, row in enumerate(frame.itertuples(index=False)):
            cells = []
            for column, value in zip(frame.columns, row):
                text = _cell_text(value, formats.get(column, float_format))
                css = ["long" if column in long_columns else ("text" if _is_text(frame[column]) else "num")]
                if column in _COLOURED and text in _COLOURED[column]:
                    css.append(text)
                cells.append(f'<td class="{" ".join(css)}">{html.escape(text)}</td>')
            css = f' class="{row_classes[i]}"' if row_classes is not None and row_classes[i] else ""
            body.append(f"<tr{css}>{''.join(cells)}</tr>")
        table = f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
        if collapsed:
            table = f"<details><summary>{html.escape(collapsed)}</summary>{table}</details>"
        self.blocks.append(table)

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
