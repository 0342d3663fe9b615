"""The command line, run in-process on the shipped sample images."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from PIL import Image

from pigmentscan.cli import main
from pigmentscan.pipeline import SCORE_COLUMNS

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"


def test_score_writes_one_row_and_one_overlay_per_photo(tmp_path):
    photos = sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".tiff"))
    assert photos
    out = tmp_path / "out" / "scores.csv"
    report = tmp_path / "report.html"
    assert main(["score", str(SAMPLES), "--out", str(out), "--overlays", str(tmp_path / "overlays"),
                 "--report", str(report)]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns[: len(SCORE_COLUMNS)]) == SCORE_COLUMNS
    assert len(table) == len(photos)
    assert set(table["status"]) <= {"ok", "warn"}
    overlays = sorted((tmp_path / "overlays").glob("*.png"))
    assert [p.stem for p in overlays] == sorted(p.stem for p in photos)
    for overlay in overlays:
        with Image.open(overlay) as image:
            assert image.mode == "RGB" and image.width > 600
            assert not image.info.get("exif") and not image.getexif()
    assert sorted(p.name for p in out.parent.iterdir()) == ["scores.columns.json", "scores.csv"]  # nothing half-written
    # the report page: every photo listed with its MASI, its overlay embedded, nothing fetched from a network
    page = report.read_text(encoding="utf-8")
    assert page.count('src="data:image/jpeg;base64,') == len(photos)
    for photo, masi in zip(table["image"], table["masi"]):
        assert f"{Path(photo).name}: MASI {float(masi):.1f}" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_score_with_a_bad_file_still_exits_0(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SAMPLES / "grace_hopper.jpg", folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"not a photo")
    out = tmp_path / "s.csv"
    assert main(["score", str(folder), "--out", str(out)]) == 0
    table = pd.read_csv(out, keep_default_na=False).set_index("image")
    assert table.loc[str(folder / "b.jpg"), "status"] == "error"
    assert table.loc[str(folder / "a.jpg"), "status"] in ("ok", "warn")


def test_nothing_scored_exits_nonzero(tmp_path):
    (tmp_path / "b.jpg").write_bytes(b"junk")
    assert main(["score", str(tmp_path / "b.jpg"), "--out", str(tmp_path / "s.csv")]) == 1
    assert main(["score", str(tmp_path / "missing_folder"), "--out", str(tmp_path / "s.csv")]) == 1
