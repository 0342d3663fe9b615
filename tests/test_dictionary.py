"""Data dictionaries of the CSV outputs (pigmentscan.dictionary)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pigmentscan.dictionary import describe_column, dictionary_path, undescribed_columns, write_dictionary
from pigmentscan.regions import REGION_KEYS


def test_per_region_columns_are_described_by_one_pattern_for_every_region():
    for region in REGION_KEYS:
        info = describe_column(f"{region}_area_pct")
        assert info.unit == "%" and info.range == "0 to 100"
        assert describe_column(f"qc_{region}_coverage").unit == "fraction"
    assert describe_column("nose_area_pct") is None  # not a MASI region


def test_an_undocumented_column_is_reported_and_derived_columns_follow_their_measure():
    frame = pd.DataFrame(columns=["masi", "forehead_area_pct", "shiny_new_measure"])
    assert undescribed_columns(frame) == ["shiny_new_measure"]
    changes = pd.DataFrame(columns=["masi_change", "chin_area_pct_change_pct", "shiny_new_measure_change"])
    assert undescribed_columns(changes, "changes") == ["shiny_new_measure_change"]
    assert describe_column("masi_change", "changes").range == "-48 to 48"  # from MASI's 0-48
    assert describe_column("masi_change_pct_ci_high", "summary").unit == "%"


def test_no_percent_change_of_an_ordinal_grade_is_described():
    assert describe_column("forehead_darkness_change", "changes") is not None
    assert describe_column("forehead_darkness_change_pct", "changes") is None


def test_the_dictionary_file_lists_every_column_in_order_and_is_deterministic(tmp_path):
    frame = pd.DataFrame({"image": ["a.jpg"], "masi": [3.0], "zzz": [1]})
    csv = tmp_path / "scores.csv"
    frame.to_csv(csv, index=False)
    path = write_dictionary(frame, csv)
    assert path == dictionary_path(csv) == tmp_path / "scores.columns.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["file"] == "scores.csv" and [c["name"] for c in document["columns"]] == ["image", "masi", "zzz"]
    assert document["columns"][1]["unit"] == "points" and document["columns"][2]["meaning"] == ""
    first = path.read_bytes()
    assert write_dictionary(frame, csv).read_bytes() == first
    with pytest.raises(ValueError, match="unknown table"):
        describe_column("masi", "nonsense")
