"""A compare report of 50 subjects stays one page under 3 MB, panels included (issue #37)."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pandas as pd
import pytest

import pigmentscan
from pigmentscan.data import sample_images
from pigmentscan.longitudinal import compare, write_comparison_report
from pigmentscan.report import comparison_panel, comparison_panels, panel_visits
from pigmentscan.report.panels import PANEL_LABEL_PX

from report_trial import chromium, page_layout

N_SUBJECTS = 50
VISITS = ("baseline", "week 4", "week 8", "week 12")


def _scores() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for s in range(N_SUBJECTS):
        base = rng.uniform(5, 20)
        for v, visit in enumerate(VISITS):
            masi = base * (1 - 0.15 * v * (s % 3))
            rows.append({"image": f"S{s:02d}_{v}.jpg", "subject": f"S{s:02d}", "visit": visit, "arm": "AB"[s % 2],
                         "date": f"2024-0{v + 1}-0{1 + s % 9}", "status": "error" if (s, v) == (7, 2) else "ok",
                         "error": "no face found" if (s, v) == (7, 2) else "", "masi": masi, "mmasi": masi / 2,
                         **{f"{r}_area_pct": 3 * masi for r in ("forehead", "right_malar", "left_malar", "chin")}})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_fifty_subjects_with_panels_stay_under_3_mb(tmp_path):
    photos = [pigmentscan.score_image(p) for p in sample_images("grace_hopper*")]
    # a panel as compare makes it: four visits at full size, JPEG (about 100 kB each)
    panel = comparison_panel(list(zip(VISITS, photos * 2)))
    data = cv2.imencode(".jpg", cv2.cvtColor(panel, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    assert len(data) * N_SUBJECTS > 3_000_000  # as they come, the panels alone would be too much
    comparison = compare(_scores(), sdc={"masi": 1.5, "lesion_area_pct": 3.0})
    paths = write_comparison_report(comparison, tmp_path, panels={f"S{s:02d}": data for s in range(N_SUBJECTS)})
    html = paths["report"].read_text(encoding="utf-8")
    assert paths["report"].stat().st_size < 3_000_000
    assert len(re.findall(r'alt="before and after, subject S\d\d" src="data:image/jpeg;base64,', html)) == N_SUBJECTS
    assert "of their size to keep this page small" in html
    assert len(re.findall(r'alt="change from baseline per subject', html)) == 3  # 20 subjects a figure
    if chromium() is not None:  # and it lays out within a 1400 px window, every table in its box
        width, overflowing = page_layout(paths["report"], width=1400)
        assert width <= 1400 and overflowing == 0, (width, overflowing)


def test_a_failed_visit_keeps_a_grey_column_with_its_reason_in_the_panel():
    photos = [pigmentscan.score_image(p) for p in sample_images("grace_hopper*")]
    visits = [("baseline", photos[0]), ("week 4", None, "error", "no face found"), ("week 8", photos[1])]
    panel = comparison_panel(visits, tile_height=120)
    width, rows = (panel.shape[1] - 2 * 6) // 3, panel.shape[0] // 3  # three columns, three rows of tiles
    label = PANEL_LABEL_PX  # each tile's label above its picture
    for row in range(3):
        pictures = panel[row * rows + label:(row + 1) * rows]
        failed = pictures[:, width + 6:2 * width + 6].astype(int)
        grey = (np.abs(failed - 225) < 3).all(axis=2)
        assert grey.mean() > 0.8 and (failed < 150).any()  # grey, with its reason written on it
        photo = pictures[:, :width].astype(int)
        assert (np.abs(photo - 225) < 3).all(axis=2).mean() < 0.3  # the photos are photos


def test_panels_are_drawn_from_the_scores_given():
    """comparison_panels scores nothing: it draws the FaceScores the caller computed once (compare's
    panel_scores), and a photo it was given no score for keeps a grey column."""
    photos = [pigmentscan.score_image(p) for p in sample_images("grace_hopper*")]
    scores = pd.DataFrame({"image": ["b.jpg", "a.jpg", "c.jpg", "d.jpg"], "subject": ["S", "S", "S", "T"],
                           "visit": ["week 4", "baseline", "week 8", "baseline"], "status": "ok", "error": ""})
    visits = panel_visits(scores)
    assert list(visits) == ["S"]  # T has one visit: no panel
    assert [(v.label, v.index, v.baseline) for v in visits["S"]] == [
        ("baseline", 1, True), ("week 4", 0, False), ("week 8", 2, False)]
    panels = comparison_panels(scores, {1: photos[0], 0: photos[1], 2: "no face found"})
    picture = cv2.imdecode(np.frombuffer(panels["S"], np.uint8), cv2.IMREAD_COLOR)
    drawn = comparison_panel([("baseline", photos[0]), ("week 4", photos[1]), ("week 8", None, "error", "x")])
    assert picture.shape == drawn.shape  # the three visits, the failed one a grey column
    assert comparison_panels(scores, {}) == {}  # nothing scored: nothing to draw
