"""Reading the manifest and scores tables of CONTRACT.md, and writing every CSV.

Every CSV pigmentscan writes goes through :func:`write_table` (and a running batch's journal
through :func:`table_line`, its one-line form): atomic, UTF-8, one line per row, numbers in one
format whatever their origin (:func:`format_cell`), and text that a spreadsheet would run as a
formula made inert (:func:`escape_formula`). :func:`read_scores` undoes that escape, so a table
read back holds the values that were written.
"""

from __future__ import annotations

import csv
import io as _stdio
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ManifestError
from .files import atomic_open, display_path, open_input
from .visits import visit_order_key

_REGIONS = ("forehead", "right_malar", "left_malar", "chin")  # CONTRACT.md region keys
# Physician score ranges: MASI 0-48, area 0-6, darkness and homogeneity 0-4
# (Kimbrough-Green 1994); mMASI 0-24 (Pandya 2011).
_SCORE_RANGES = {"physician_masi": 48, "physician_mmasi": 24} | {
    f"physician_{region}_{part}": top for region in _REGIONS
    for part, top in (("area", 6), ("darkness", 4), ("homogeneity", 4))}
_MANIFEST_TEXT = ("image", "subject", "visit", "date", "arm")
#: Columns of a scores CSV that are text whatever they hold (subject "001" stays "001").
SCORES_TEXT_COLUMNS = _MANIFEST_TEXT + ("status", "error", "model", "pigmentscan_version")


def _read_table(path, required: tuple[str, ...], text_columns: tuple[str, ...], *,
                unescape: bool = False) -> pd.DataFrame:
    """Read a CSV table, text columns as str ('' when empty); refuse unusable files.

    ``unescape``: undo :func:`escape_formula` in every text cell (tables pigmentscan wrote).
    """
    path = Path(path)
    try:
        with open_input(path, error=ManifestError) as handle:
            start = handle.read(4096)
            if start.startswith(b"PK\x03\x04"):
                raise ManifestError(path, "looks like an Excel workbook: save it as 'CSV UTF-8'")
            if b"\0" in start:
                raise ManifestError(path, "binary file, not a CSV table")
            handle.seek(0)
            table = pd.read_csv(handle, dtype={c: str for c in text_columns}, encoding="utf-8-sig",
                                keep_default_na=False, na_values=[""], skipinitialspace=True)
    except ManifestError as error:
        if error.reason == "is a folder, not a regular file":
            raise ManifestError(path, "is a folder, not a CSV file") from None
        raise
    except pd.errors.EmptyDataError:
        raise ManifestError(path, "empty file: expected a CSV table with a header row") from None
    except UnicodeDecodeError:
        raise ManifestError(path, "not UTF-8 text: save the table as 'CSV UTF-8'") from None
    except Exception as exc:  # ParserError, OSError, ...
        raise ManifestError(path, f"not a readable CSV table ({exc})") from None
    table.columns = [str(name).strip() for name in table.columns]
    for column in required:
        if column not in table.columns:
            hint = "; is it separated by ';'? use commas" if ";" in "".join(table.columns) else ""
            raise ManifestError(path, f"required column {column!r} is missing (found: "
                                      f"{', '.join(table.columns)}){hint}")
    if table.empty:
        raise ManifestError(path, "the table has a header but no rows")
    for column in text_columns:
        if column in table.columns:
            table[column] = table[column].fillna("").astype(str)
    if unescape:
        for column in table.columns:
            if pd.api.types.is_string_dtype(table[column].dtype) or table[column].dtype == object:
                table[column] = table[column].map(lambda v: unescape_formula(v) if isinstance(v, str) else v)
    return table.copy()  # one block per dtype again: columns replaced one by one fragment the frame


def read_manifest(path, *, allow_outside: bool = True) -> pd.DataFrame:
    """Read a manifest CSV (CONTRACT.md) and check it row by row.

    Columns are kept (``image``, ``subject``, ``visit``, ``date``, ``arm`` as text, so
    subject ``"001"`` stays ``"001"``; physician score columns as numbers, NaN when
    empty or not a number; other columns as pandas reads them), and two are added:
    ``image_path`` (absolute, resolved; relative paths are relative to the manifest's
    folder) and ``manifest_error`` (``""`` when the row is fine). Problems of one row
    never raise: an empty ``image`` cell, a repeated row (same ``image_path``,
    ``subject`` and ``visit``: later ones are "duplicate of row N", rows numbered as in
    a spreadsheet, the header being row 1), a ``visit`` that :func:`visit_order_key`
    cannot order, a physician score out of range or not a number, and, with
    ``allow_outside=False``, an image resolving (symlinks followed) outside the
    manifest's folder. ``allow_outside`` defaults to True because absolute paths to a
    shared photo store are a normal way to write a manifest.

    Raises
    ------
    ManifestError
        Missing, empty, not a CSV, no ``image`` column, or no rows.

    Examples
    --------
    >>> table = read_manifest("study/manifest.csv")  # doctest: +SKIP
    >>> table.loc[table.manifest_error != "", ["image", "manifest_error"]]  # doctest: +SKIP
    """
    path = Path(path)
    table = _read_table(path, ("image",), _MANIFEST_TEXT)
    folder = path.resolve().parent
    problems: list[list[str]] = [[] for _ in range(len(table))]
    image_paths = []
    for row, cell in enumerate(table["image"].str.strip()):
        resolved = (folder / cell).resolve() if cell else None
        if not cell:
            problems[row].append("empty image cell")
        elif not allow_outside and not resolved.is_relative_to(folder):
            problems[row].append(f"image {cell!r} is outside the manifest's folder {folder}")
        image_paths.append(str(resolved) if resolved else "")
    table["image_path"] = image_paths
    keys = zip(*(table[c] for c in ("image_path", "subject", "visit") if c in table.columns))
    first_row: dict[tuple, int] = {}
    for row, key in enumerate(keys):
        if key[0] and key in first_row:
            problems[row].append(f"duplicate of row {first_row[key] + 2}")
        first_row.setdefault(key, row)
    for row, visit in enumerate(table["visit"] if "visit" in table.columns else []):
        if visit.strip():
            try:
                visit_order_key(visit)
            except ValueError as exc:
                problems[row].append(str(exc))
    for column, top in _SCORE_RANGES.items():
        if column not in table.columns:
            continue
        raw = table[column]
        values = pd.to_numeric(raw, errors="coerce")
        for row, (text, value) in enumerate(zip(raw, values)):
            if pd.isna(value) and not pd.isna(text):
                problems[row].append(f"{column} {text!r} is not a number")
            elif not pd.isna(value) and not 0 <= value <= top:
                problems[row].append(f"{column} {value:g} is outside 0-{top}")
        table[column] = values.astype(float)
    table["manifest_error"] = ["; ".join(p) for p in problems]
    return table


def read_scores(path) -> pd.DataFrame:
    """Read a scores CSV (CONTRACT.md) written by pigmentscan.

    ``image``, ``subject``, ``visit``, ``status``, ``error``, ``model`` and the other
    text columns are read as text (``""`` when empty), so subject ``"001"`` stays
    ``"001"``; the score and QC columns as pandas reads them (NaN when empty).

    Raises
    ------
    ManifestError
        Missing, empty, not a CSV, no ``image`` or ``status`` column, or no rows.
    """
    return _read_table(path, ("image", "status"), SCORES_TEXT_COLUMNS, unescape=True)


# --------------------------------------------------------------------------- writing

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _is_formula(text: str) -> bool:
    bare = text.lstrip("'")
    return bare[:1] in FORMULA_TRIGGERS and bare[:1] != "" and not _PLAIN_NUMBER.fullmatch(bare)


def escape_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert by a leading ``'`` (OWASP).

    A cell starting with ``= + - @``, a tab or a carriage return gets a ``'`` in front,
    unless it is a plain number (``-7``, ``+0.5``: a number cannot run anything). Text that
    already starts with ``'`` followed by such a cell gets one more, so
    :func:`unescape_formula` gives back exactly what was escaped.

    Examples
    --------
    >>> escape_formula("=1+2"), escape_formula("-7"), escape_formula("S01")
    ("'=1+2", '-7', 'S01')
    >>> unescape_formula(escape_formula("'@x")) == "'@x"
    True
    """
    return "'" + text if _is_formula(text) else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula` (other text is returned as it is)."""
    return text[1:] if text[:1] == "'" and _is_formula(text[1:]) else text


def format_cell(value) -> str:
    """One CSV cell as pigmentscan writes it, the same whatever the value's origin.

    Empty for None and NaN; ``True`` / ``False``; a whole number without a decimal point
    (``1``, whether it was the integer 1 or the float 1.0); other numbers in the shortest
    form that reads back to the same value; text on one line (a line break becomes a space),
    with undecodable file-name bytes shown as ``\\xNN`` and formulas escaped
    (:func:`escape_formula`).

    Examples
    --------
    >>> [format_cell(v) for v in (1, 1.0, np.float64(2.5), np.nan, None, True, "=1+1")]
    ['1', '1', '2.5', '', '', 'True', "'=1+1"]
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
        if "\n" in text or "\r" in text:
            text = " ".join(text.splitlines())
        if not text.isascii():
            text = display_path(text)  # a file name's undecodable bytes
        return escape_formula(text)
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if math.isfinite(value) and value == int(value) and abs(value) < 2**53:
            return str(int(value))
        return str(value)
    if pd.isna(value) is True:  # pd.NA, NaT
        return ""
    return format_cell(str(value))


def table_line(values) -> str:
    """One CSV line (``\\n``-ended) of :func:`format_cell` cells, quoted as the csv module quotes."""
    buffer = _stdio.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([format_cell(v) for v in values])
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path) -> Path:
    """Write a table as CSV, the one way every CSV of pigmentscan is written.

    Atomic (a temporary file renamed over ``path``: a crash leaves the old file or none),
    with the permissions the umask gives a new file, UTF-8, one line per row, no index,
    cells by :func:`format_cell` (formula-like text escaped with a leading ``'``; numbers
    in one format). :func:`read_scores` reads such a table back.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OSError
        If the file cannot be written; ``OutputError`` if ``path`` is a protected input
        (:func:`pigmentscan.io.protect_inputs`).

    Examples
    --------
    >>> import tempfile, os
    >>> path = write_table(pd.DataFrame({"subject": ["=cmd"], "masi": [1.0]}), os.path.join(tempfile.mkdtemp(), "t.csv"))
    >>> print(path.read_text(), end="")
    subject,masi
    '=cmd,1
    """
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(table_line(frame.columns))
        for row in frame.itertuples(index=False, name=None):
            handle.write(table_line(row))
    return Path(path)
