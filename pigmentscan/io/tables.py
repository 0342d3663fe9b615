"""Reading the manifest and scores tables of CONTRACT.md, and ordering visit labels."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ManifestError
_REGIONS = ("forehead", "right_malar", "left_malar", "chin")  # CONTRACT.md region keys
# Physician score ranges: MASI 0-48, area 0-6, darkness and homogeneity 0-4
# (Kimbrough-Green 1994); mMASI 0-24 (Pandya 2011).
_SCORE_RANGES = {"physician_masi": 48, "physician_mmasi": 24} | {
    f"physician_{region}_{part}": top for region in _REGIONS
    for part, top in (("area", 6), ("darkness", 4), ("homogeneity", 4))}
_MANIFEST_TEXT = ("image", "subject", "visit", "date", "arm")
_SCORES_TEXT = _MANIFEST_TEXT + ("status", "error", "model", "pigmentscan_version")
# Visit labels. Days per unit: day 1, week 7, month 30, year 365; None: a visit number.
_UNITS = {
    **dict.fromkeys(("d", "day", "days"), 1), **dict.fromkeys(("w", "wk", "week", "weeks"), 7),
    **dict.fromkeys(("m", "mo", "month", "months"), 30),
    **dict.fromkeys(("y", "year", "years"), 365),
    **dict.fromkeys(("v", "visit", "visite", "visita", "t"), None)}
_BASELINE = {"baseline", "base line", "bl", "base"}
_SCREENING = {"screening", "screen", "scr"}
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_UNIT_FIRST = re.compile(rf"(?P<unit>[a-z]+)(?:-| ?[#.:]? ?)(?P<num>{_NUMBER})")  # week-4, day -7
_UNIT_LAST = re.compile(rf"(?P<num>{_NUMBER}) ?-? ?(?P<unit>[a-z]+)")


def visit_order_key(label) -> tuple[int, float]:
    """Sort key of a visit label: ``sorted(visits, key=visit_order_key)``.

    Order: screening; anything before day 0 (``"day -14"``, negative numbers);
    baseline (``"baseline"``, ``"BL"``, ``"V0"``, ``"visit 0"``, ``"day 0"``, ``0``);
    numbered visits by number (``2``, ``"V2"``, ``"visit 3"``, ``"T1"``); time points by
    days (``"day 14"``, ``"week 4"``, ``"W12"``, ``"4 weeks"``, ``"month 3"``; a week is 7
    days, a month 30). Labels meaning the same time get the same key (``"week 4"`` and
    ``"day 28"``). A study should use one scheme: visit numbers and time points are not
    on one scale, so all numbered visits sort before all time points.

    Raises
    ------
    ValueError
        If the label fits none of these forms.

    Examples
    --------
    >>> sorted(["week 12", "baseline", "week 4", "screening"], key=visit_order_key)
    ['screening', 'baseline', 'week 4', 'week 12']
    """
    per_day = None
    if isinstance(label, (int, float, np.integer, np.floating)) and not isinstance(label, bool):
        number = float(label)
    else:
        text = " ".join(str(label).lower().replace("_", " ").split())
        if text in _SCREENING:
            return (0, -math.inf)
        if text in _BASELINE:
            return (1, 0.0)
        match = _UNIT_FIRST.fullmatch(text) or _UNIT_LAST.fullmatch(text)
        if match and match["unit"] in _UNITS:
            number, per_day = float(match["num"]), _UNITS[match["unit"]]
        elif re.fullmatch(_NUMBER, text):
            number = float(text)
        else:
            raise ValueError(f"visit label {label!r} cannot be ordered: use a number, "
                             "'baseline' or 'screening', 'V2' / 'visit 2', or a time "
                             "such as 'day 14', 'week 4' or 'month 3'")
    if not math.isfinite(number):
        raise ValueError(f"visit label {label!r} cannot be ordered: not a finite number")
    value = number * (per_day or 1)
    if value < 0:
        return (0, value)
    if value == 0:
        return (1, 0.0)
    return (2 if per_day is None else 3, value)


def _read_table(path, required: tuple[str, ...], text_columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV table, text columns as str ('' when empty); refuse unusable files."""
    path = Path(path)
    if not path.is_file():
        reason = "is a folder, not a CSV file" if path.is_dir() else "no such file"
        raise ManifestError(path, reason)
    try:
        with open(path, "rb") as handle:
            start = handle.read(4096)
        if start.startswith(b"PK\x03\x04"):
            raise ManifestError(path, "looks like an Excel workbook: save it as 'CSV UTF-8'")
        if b"\0" in start:
            raise ManifestError(path, "binary file, not a CSV table")
        table = pd.read_csv(path, dtype={c: str for c in text_columns}, encoding="utf-8-sig",
                            keep_default_na=False, na_values=[""], skipinitialspace=True)
    except ManifestError:
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
    return table


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
    return _read_table(path, ("image", "status"), _SCORES_TEXT)
