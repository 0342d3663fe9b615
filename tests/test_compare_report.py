"""Reports a clinician can act on (issue #37), on a trial of the bundled sample photos with a photo
without a face, a blurred photo and a baseline photo of another person (tests/report_trial.py):
every one appears, marked, with its reason; the noise judgement says where it comes from; every
CSV in every output folder has its data dictionary, every column described."""

from __future__ import annotations

import json
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pigmentscan.cli import main
from pigmentscan.dictionary import dictionary_path, undescribed_columns
from pigmentscan.scoring import load_model

from report_trial import PROBLEMS, chromium, page_layout, write_trial

SDC_SOURCE = "phantom retests: made up for this test"
# Every test reads the trial the module's fixture scores, compares and validates (about 20 s).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    root = tmp_path_factory.mktemp("trial")
    manifest = write_trial(root / "photos")
    out = {name: root / name for name in ("batch", "compare", "compare_model", "compare_retest", "validate", "score")}
    assert main(["batch", str(manifest), "--out", str(out["batch"]), "--jobs", "2"]) == 0
    scores = out["batch"] / "scores.csv"
    assert main(["compare", str(scores), "--out", str(out["compare"])]) == 0
    model = json.loads(load_model().to_json())
    model["smallest_detectable_change"] = {"masi": 1.0, "lesion_area_pct": 3.0, "source": SDC_SOURCE}
    (root / "model.json").write_text(json.dumps(model))
    assert main(["compare", str(scores), "--out", str(out["compare_model"]), "--model", str(root / "model.json"),
                 "--no-panels"]) == 0
    assert main(["compare", str(scores), "--out", str(out["compare_retest"]), "--retest", str(scores),
                 "--no-panels"]) == 0
    assert main(["validate", str(scores), "--reference", str(manifest), "--out", str(out["validate"])]) == 0
    assert main(["score", str(root / "photos"), "--out", str(out["score"] / "scores.csv"), "--jobs", "1",
                 "--report", str(out["score"] / "report.html")]) == 0
    return out


def _row_of(html: str, text: str) -> str:
    """The table row (``<tr ...>...</tr>``) of the first table cell holding ``text``."""
    cell = html.index(f">{text}<")
    return html[html.rindex("<tr", 0, cell):html.index("</tr>", cell)]


def test_every_problem_photo_is_listed_marked_and_explained(trial):
    photos = pd.read_csv(trial["compare"] / "photos.csv")
    photos = photos.set_index(photos["image"].map(lambda p: Path(p).name))
    wall, blurred, swapped = (photos.loc[name] for name in ("e_week8_wall.jpg", "g_week8_blurred.jpg",
                                                             "x_baseline_swapped.png"))
    assert wall["status"] == "error" and not wall["used"] and "no face found" in wall["error"]
    assert blurred["status"] == "warn" and blurred["used"] and "photo soft" in blurred["error"]
    assert not swapped["same_face"] and not swapped["used"] and "does not match" in swapped["identity_note"]
    others = photos.drop(index=list(PROBLEMS))
    assert others["used"].all()  # the subject's own photos, its phantom pigment and the blur do not look foreign
    html = (trial["compare"] / "report.html").read_text(encoding="utf-8")
    table = html[html.index("<h2>Photos to check</h2>"):]
    for name, reason in PROBLEMS.items():
        assert html_escape(reason) in _row_of(table, name), name
    assert 'class="failed"' in _row_of(table, "e_week8_wall.jpg")
    assert 'class="flagged"' in _row_of(table, "x_baseline_swapped.png")
    headline = html[html.index('class="headline"'):html.index("</div>")]
    assert "1 not scored" in headline and html_escape("1 not the subject's face") in headline


def test_failed_visits_keep_their_place_and_a_swapped_baseline_gives_no_change(trial):
    changes = pd.read_csv(trial["compare"] / "changes.csv", keep_default_na=False, na_values=[""])
    at = changes.set_index(["subject", "visit"])
    assert at.loc[("E", "week 8"), "qc_status"] == "error" and at.loc[("E", "week 8"), "n_images"] == 0
    assert "e_week8_wall.jpg: not scored: no face found" in at.loc[("E", "week 8"), "qc_reasons"]
    assert at.loc[("G", "week 8"), "qc_status"] == "warn" and pd.notna(at.loc[("G", "week 8"), "masi_change"])
    swapped = changes[changes["subject"] == "X"]
    assert swapped["note"].str.startswith("baseline photo not used").all() and swapped["masi_change"].isna().all()
    pct = changes.filter(like="_change_pct").to_numpy(float).ravel()
    assert (pct[~np.isnan(pct)] >= -100).all()  # no impossible change
    html = (trial["compare"] / "report.html").read_text(encoding="utf-8")
    panels = re.findall(r'alt="before and after, subject (\w+)" src="data:image/jpeg;base64,', html)
    assert panels == ["E", "G", "X"]  # the wall keeps its (grey) column in E's panel; X's panel shows the swap


def test_noise_judgement_says_which_sdc_and_where_it_came_from(trial):
    default = (trial["compare"] / "report.html").read_text(encoding="utf-8")
    if load_model().smallest_detectable_change:  # once the shipped model carries one, it is used and named
        assert "source: stored with the scoring model default@" in default
    else:
        assert "No noise judgement" in default and "stores no smallest detectable change" in default
    stored = (trial["compare_model"] / "report.html").read_text(encoding="utf-8")
    assert f"source: stored with the scoring model default@" in stored and SDC_SOURCE in stored
    # the SDC section does not change a score, so the model is the shipped one (one identity): no warning
    assert "not with this model: it may not apply" not in stored
    changes = pd.read_csv(trial["compare_model"] / "changes.csv")
    judged = changes[~changes["is_baseline"] & changes["lesion_area_pct_change"].notna()]
    expected = judged["lesion_area_pct_change"].map(lambda c: "improved" if c < -3 else "worsened" if c > 3 else "none")
    assert judged["detected_change"].tolist() == expected.tolist()  # the model's SDC of the lesion area decides
    retest = (trial["compare_retest"] / "report.html").read_text(encoding="utf-8")
    assert "source: measured on the retest photos scores.csv" in retest


def test_every_csv_of_every_output_folder_has_its_dictionary_and_every_column_is_described(trial):
    tables = {"scores": "scores", "changes": "changes", "summary": "summary", "arms": "arms", "photos": "photos",
              "sdc": "sdc", "agreement": "agreement"}
    csvs = sorted(p for folder in trial.values() for p in Path(folder).glob("*.csv"))
    assert {p.stem for p in csvs} == set(tables)  # every kind of CSV the commands write is checked here
    for csv in csvs:
        frame = pd.read_csv(csv)
        document = json.loads(dictionary_path(csv).read_text(encoding="utf-8"))
        assert [c["name"] for c in document["columns"]] == list(frame.columns), csv
        assert undescribed_columns(frame, tables[csv.stem]) == [], csv
        assert all(c["meaning"] and c["unit"] for c in document["columns"]), csv
        # one convention: fractions are _fraction (0-1), percentages _pct; nothing else
        assert not [c for c in frame.columns if c.endswith(("_share", "_rate"))], csv
        for column in (c for c in frame.columns if c.endswith("_fraction")):
            assert frame[column].dropna().between(0, 1).all(), (csv, column)
    units = {c["name"]: c["unit"] for c in json.loads(dictionary_path(trial["batch"] / "scores.csv").read_text())["columns"]}
    assert "OD" in units["forehead_melanin_contrast"] and units["chin_delta_e"] == "ΔE*ab"
    assert units["qc_blur"] == "ratio" and "JND" in units["normal_skin_spread_jnd"]


def test_score_report_marks_failed_and_warned_photos(trial):
    html = (trial["score"] / "report.html").read_text(encoding="utf-8")
    assert 'class="failed"' in _row_of(html, "e_week8_wall.jpg") and "no face found" in _row_of(html, "e_week8_wall.jpg")
    assert '<td class="text warn">warn</td>' in _row_of(html, "g_week8_blurred.jpg")
    assert "photo soft" in _row_of(html, "g_week8_blurred.jpg")
    assert ">n<" in html and "count" not in html[:html.index("<h2>Photos</h2>")]  # n, as a whole number


@pytest.mark.skipif(chromium() is None, reason="headless Chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("report", ["score", "compare", "validate"])
def test_reports_fit_a_1400_px_window(trial, report):
    width, overflowing = page_layout(trial[report] / "report.html", width=1400)
    assert width <= 1400 and overflowing == 0, (width, overflowing)
