"""Data dictionaries: what each column of pigmentscan's CSV outputs means, in what unit and range.

Every CSV that pigmentscan writes gets a dictionary beside it, ``<name>.columns.json``
(:func:`write_dictionary`): one entry per column with its ``meaning``, ``unit``, ``range``
and ``source`` (the step or reference it comes from). Columns that repeat per region are
described once by pattern (``<region>_area_pct``); the tables of ``compare`` and their group
summaries are described by suffix rules over the measures they derive from
(``<measure>_change``, ``<column>_ci_low``), so a new measure needs one line here and its
derived columns follow.

Naming convention of the outputs: ``_pct`` is a percentage (0-100), ``_fraction`` a
fraction (0-1), ``_deg`` degrees, ``_px`` pixels, ``_iod`` inter-ocular distances.

:func:`undescribed_columns` lists what this module cannot describe: the test suite asks it of
every CSV every command writes, so an undocumented column fails the tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from ._version import __version__
from .columns import GRADE, TABLES
from .io import atomic_write_text
from .regions import REGION_KEYS, SPLIT_REGIONS

__all__ = ["ColumnInfo", "TABLES", "describe_column", "data_dictionary", "undescribed_columns",
           "dictionary_path", "write_dictionary"]

#: Suffix of a CSV's dictionary: ``scores.csv`` -> ``scores.columns.json``.
DICTIONARY_SUFFIX = ".columns.json"


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a table: its ``name``, ``meaning``, ``unit``, ``range`` and ``source``."""

    name: str
    meaning: str
    unit: str = ""
    range: str = ""
    source: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _range(bounds) -> str:
    """``(0, 48)`` -> ``"0 to 48"``; ``(0, None)`` -> ``"0 or more"``; text stays as it is."""
    if isinstance(bounds, str):
        return bounds
    low, high = bounds
    if low is None and high is None:
        return "any"
    if high is None:
        return f"{low:g} or more"
    if low is None:
        return f"{high:g} or less"
    return f"{low:g} to {high:g}"


_PLACEHOLDERS = {"<region>": "(?:" + "|".join(REGION_KEYS) + ")", "<arm>": ".+", "<side>": "(?:right|left)",
                 "<half>": "(?:" + "|".join(SPLIT_REGIONS) + ")_(?:right|left)"}
_PATTERN_CACHE: dict = {}


def _patterns(table: str) -> list:
    if table not in _PATTERN_CACHE:
        entries = []
        for name, meaning, unit, bounds, source in TABLES[table][0]:
            regex = re.escape(name)
            for placeholder, part in _PLACEHOLDERS.items():
                regex = regex.replace(re.escape(placeholder), part)
            entries.append((re.compile(regex + r"\Z"), meaning, unit, bounds, source))
        _PATTERN_CACHE[table] = entries
    return _PATTERN_CACHE[table]


def _derived_bounds(bounds, rule: str):
    if rule == "same":
        return bounds
    if rule == "fraction":
        return (0, 1)
    if rule == "boolean":
        return "True, False, empty"
    if rule == "pct_change":
        return (-100, None)
    if isinstance(bounds, str) or None in bounds:
        return (None, None)
    return (bounds[0] - bounds[1], bounds[1] - bounds[0])


def _lookup(name: str, table: str | None):
    """(meaning, unit, bounds, source) of a column of ``table``, or None.

    The table's own columns first, then its suffix rules over any column it can describe, then
    the table it derives from (``changes`` holds the scores' measures, ``summary`` the changes').
    """
    if table is None:
        return None
    for regex, meaning, unit, bounds, source in _patterns(table):
        if regex.match(name):
            return meaning, unit, bounds, source
    _, rules, base_table = TABLES[table]
    for suffix, meaning, unit, rule in sorted(rules, key=lambda r: -len(r[0])):
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            found = _lookup(base, table)
            if found is not None and not (rule == "pct_change" and found[1] == GRADE):  # no % change of grades
                return meaning.format(b=base), unit.format(u=found[1]), _derived_bounds(found[2], rule), found[3]
    return _lookup(name, base_table)


def describe_column(name: str, table: str = "scores") -> ColumnInfo | None:
    """The :class:`ColumnInfo` of column ``name`` of ``table`` (a key of :data:`TABLES`), or None.

    Examples
    --------
    >>> describe_column("left_malar_area_pct").unit
    '%'
    >>> describe_column("masi_change_pct", "changes").range
    '-100 or more'
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; known: {sorted(TABLES)}")
    found = _lookup(str(name), table)
    if found is None:
        return None
    meaning, unit, bounds, source = found
    return ColumnInfo(str(name), meaning, unit, _range(bounds), source)


def undescribed_columns(frame: pd.DataFrame, table: str = "scores") -> list[str]:
    """The columns of ``frame`` that :func:`describe_column` cannot describe, in order.

    Examples
    --------
    >>> undescribed_columns(pd.DataFrame(columns=["masi", "chin_area_pct", "my_note"]))
    ['my_note']
    """
    return [str(c) for c in frame.columns if describe_column(str(c), table) is None]


def data_dictionary(frame: pd.DataFrame, table: str = "scores") -> pd.DataFrame:
    """One row per column of ``frame``: ``name``, ``meaning``, ``unit``, ``range``, ``source``.

    A column this module cannot describe has an empty meaning (see :func:`undescribed_columns`).
    """
    rows = [(describe_column(str(c), table) or ColumnInfo(str(c), "")).to_dict() for c in frame.columns]
    return pd.DataFrame(rows, columns=list(ColumnInfo.__dataclass_fields__))


def dictionary_path(csv_path) -> Path:
    """Where the dictionary of ``csv_path`` goes: ``scores.csv`` -> ``scores.columns.json``."""
    path = Path(csv_path)
    return path.with_name(path.stem + DICTIONARY_SUFFIX)


def write_dictionary(frame: pd.DataFrame, csv_path, table: str = "scores") -> Path:
    """Write the data dictionary of ``frame`` (written to ``csv_path``) beside it; returns its path.

    The file (:func:`dictionary_path`) is JSON: the CSV's name, the pigmentscan version, the naming
    convention and one entry per column, in the CSV's order. Deterministic: no time stamp.
    """
    entries = data_dictionary(frame, table).to_dict("records")
    document = {"file": Path(csv_path).name, "table": table, "pigmentscan_version": __version__,
                "convention": "_pct: percent (0-100); _fraction: fraction (0-1); empty cell: not available",
                "columns": entries}
    return atomic_write_text(dictionary_path(csv_path), json.dumps(document, indent=1, ensure_ascii=False) + "\n")
