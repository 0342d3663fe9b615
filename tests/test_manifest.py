"""Tests of the manifest / scores readers and of visit ordering in pigmentscan.io."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pigmentscan.errors import ManifestError
from pigmentscan.io import read_manifest, read_scores, visit_order_key


def write(path, text: str, encoding: str = "utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def refused(reader, path, *fragments):
    with pytest.raises(ManifestError) as info:
        reader(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ----------------------------------------------------------------------------- whole file


def test_missing_image_column(tmp_path):
    path = write(tmp_path / "m.csv", "photo,subject\na.jpg,001\n")
    refused(read_manifest, path, "required column 'image' is missing", "photo, subject")


def test_semicolon_file_gets_a_hint(tmp_path):
    path = write(tmp_path / "m.csv", "image;subject\na.jpg;001\n")
    refused(read_manifest, path, "'image' is missing", "separated by ';'")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty file"),
        (b"image,subject,visit\n", "header but no rows"),
        (b"PK\x03\x04" + b"\0" * 100, "Excel workbook"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF\0", "binary file"),
        ("image\nZo\xeb.jpg\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unusable_files(tmp_path, content, fragment):
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    refused(read_manifest, path, fragment)


def test_missing_file_and_folder(tmp_path):
    refused(read_manifest, tmp_path / "none.csv", "no such file")
    refused(read_manifest, tmp_path, "is a folder")


def test_excel_bom_and_spaces_are_tolerated(tmp_path):
    path = write(tmp_path / "m.csv", " image , subject\na.jpg, 001\n", encoding="utf-8-sig")
    table = read_manifest(path)
    assert list(table["subject"]) == ["001"]
    assert table["manifest_error"].tolist() == [""]


# ----------------------------------------------------------------------------- rows


def test_relative_and_absolute_paths(tmp_path):
    elsewhere = tmp_path / "store" / "c.jpg"
    path = write(
        tmp_path / "study" / "manifest.csv",
        "image,subject\nphotos/a.jpg,1\n./photos/../photos/b.jpg,2\n"
        f"{elsewhere},3\n../store/d.jpg,4\n",
    )
    table = read_manifest(path)
    study = (tmp_path / "study").resolve()
    assert table["image_path"].tolist() == [
        str(study / "photos" / "a.jpg"),
        str(study / "photos" / "b.jpg"),
        str(elsewhere.resolve()),
        str((tmp_path / "store" / "d.jpg").resolve()),
    ]
    assert table["image"].tolist()[0] == "photos/a.jpg"  # the original column is kept
    assert (table["manifest_error"] == "").all()  # outside paths are fine by default

    strict = read_manifest(path, allow_outside=False)
    assert strict["manifest_error"].tolist()[:2] == ["", ""]
    assert "outside the manifest's folder" in strict["manifest_error"][2]
    assert "outside the manifest's folder" in strict["manifest_error"][3]


def test_relative_to_the_manifest_not_the_working_directory(tmp_path, monkeypatch):
    path = write(tmp_path / "study" / "manifest.csv", "image\na.jpg\n")
    monkeypatch.chdir(tmp_path)
    table = read_manifest("study/manifest.csv")
    assert table["image_path"][0] == str((tmp_path / "study" / "a.jpg").resolve())


def test_duplicates_and_empty_cells(tmp_path):
    path = write(
        tmp_path / "m.csv",
        "image,subject,visit\n"
        "a.jpg,001,baseline\n"   # row 2
        "b.jpg,001,week 4\n"     # row 3
        "./a.jpg,001,baseline\n"  # row 4: same photo, subject and visit as row 2
        "a.jpg,001,week 4\n"     # row 5: same photo at another visit: not a duplicate row
        ",002,baseline\n"        # row 6: no image
        "a.jpg,001,baseline\n",  # row 7
    )
    errors = read_manifest(path)["manifest_error"].tolist()
    assert errors == ["", "", "duplicate of row 2", "", "empty image cell", "duplicate of row 2"]


def test_visit_labels_checked(tmp_path):
    path = write(tmp_path / "m.csv",
                 "image,visit\na.jpg,baseline\nb.jpg,W12\nc.jpg,follow-up\nd.jpg,\ne.jpg,3\n")
    table = read_manifest(path)
    assert table["visit"].tolist() == ["baseline", "W12", "follow-up", "", "3"]
    errors = table["manifest_error"].tolist()
    assert errors[:2] == ["", ""] and errors[3:] == ["", ""]
    assert "visit label 'follow-up' cannot be ordered" in errors[2]


def test_physician_scores_checked(tmp_path):
    path = write(
        tmp_path / "m.csv",
        "image,physician_masi,physician_mmasi,physician_forehead_area,physician_chin_darkness,"
        "physician_left_malar_homogeneity\n"
        "a.jpg,12.5,6,3,2,1\n"
        "b.jpg,48.5,,,,\n"
        "c.jpg,,25,7,-1,4.5\n"
        "d.jpg,n/a,0,0,0,0\n",
    )
    table = read_manifest(path)
    errors = table["manifest_error"].tolist()
    assert errors[0] == ""
    assert errors[1] == "physician_masi 48.5 is outside 0-48"
    for fragment in ("physician_mmasi 25 is outside 0-24",
                     "physician_forehead_area 7 is outside 0-6",
                     "physician_chin_darkness -1 is outside 0-4",
                     "physician_left_malar_homogeneity 4.5 is outside 0-4"):
        assert fragment in errors[2]
    assert errors[2].count("; ") == 3
    assert errors[3] == "physician_masi 'n/a' is not a number"
    assert table["physician_masi"].dtype == float
    assert table["physician_masi"][0] == 12.5 and math.isnan(table["physician_masi"][3])
    assert math.isnan(table["physician_mmasi"][1])  # empty is allowed


def test_text_columns_stay_text_and_extras_are_kept(tmp_path):
    path = write(tmp_path / "m.csv",
                 "image,subject,visit,date,arm,age,notes\n"
                 "a.jpg,001,01,2024-01-05,TXA,41,\nb.jpg,NA,2,2024-02-05,placebo,38,left-handed\n")
    table = read_manifest(path)
    assert table["subject"].tolist() == ["001", "NA"]
    assert table["visit"].tolist() == ["01", "2"]
    assert table["arm"].tolist() == ["TXA", "placebo"]
    assert table["age"].tolist() == [41, 38]
    assert table["notes"][1] == "left-handed"
    assert list(table.columns[:7]) == ["image", "subject", "visit", "date", "arm", "age", "notes"]
    assert {"image_path", "manifest_error"} <= set(table.columns)


# ----------------------------------------------------------------------------- visits


def test_visit_order_time_points():
    labels = ["week 12", "Month 6", "baseline", "W4", "day 14", "screening", "month 1", "week 5"]
    assert sorted(labels, key=visit_order_key) == [
        "screening", "baseline", "day 14", "W4", "month 1", "week 5", "week 12", "Month 6"]


def test_visit_order_numbers_and_visit_numbers():
    assert sorted(["V3", "V10", "V0", "V2"], key=visit_order_key) == ["V0", "V2", "V3", "V10"]
    assert sorted([10, 2, "1", 0, "1.5"], key=visit_order_key) == [0, "1", "1.5", 2, 10]
    assert sorted(["visit 3", "Visit_2", "BL"], key=visit_order_key) == ["BL", "Visit_2", "visit 3"]
    assert visit_order_key(np.int64(4)) == visit_order_key("V4") == visit_order_key("visit 4")


def test_visit_order_baseline_synonyms_and_equal_times():
    synonyms = ["baseline", "BL", "V0", "day 0", "Visit 0", 0, "0", "week 0", "base line"]
    baseline = {visit_order_key(label) for label in synonyms}
    assert len(baseline) == 1
    assert visit_order_key("screening") < visit_order_key("day -14") < visit_order_key("BL")
    assert visit_order_key("BL") < visit_order_key("V1")
    assert visit_order_key("BL") < visit_order_key("day 1")
    assert visit_order_key("week 4") == visit_order_key("day 28") == visit_order_key("4 weeks")
    assert visit_order_key("week-4") == visit_order_key("wk 4")
    assert visit_order_key("month 3") == visit_order_key("day 90")  # a month is 30 days


@pytest.mark.parametrize("label", ["follow-up", "", "week", "xx 3", "nan", float("nan"), None, True,
                                   "week 4 (V2)"])
def test_visit_order_refuses(label):
    with pytest.raises(ValueError, match="visit label .* cannot be ordered"):
        visit_order_key(label)


# ----------------------------------------------------------------------------- scores


def test_read_scores(tmp_path):
    path = write(tmp_path / "scores.csv",
                 "image,subject,visit,status,error,masi,mmasi,model\n"
                 "a.jpg,001,01,ok,,12.3,6.1,default\n"
                 "b.jpg,002,02,error,no face found,,,default\n")
    table = read_scores(path)
    assert table["subject"].tolist() == ["001", "002"]
    assert table["visit"].tolist() == ["01", "02"]
    assert table["error"].tolist() == ["", "no face found"]
    assert table["masi"][0] == 12.3 and math.isnan(table["masi"][1])
    assert pd.api.types.is_float_dtype(table["masi"])


@pytest.mark.parametrize("header, missing", [("image,subject", "status"), ("status,masi", "image")])
def test_read_scores_required_columns(tmp_path, header, missing):
    path = write(tmp_path / "scores.csv", f"{header}\nx,y\n")
    refused(read_scores, path, f"required column '{missing}' is missing")
