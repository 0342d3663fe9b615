"""Visit-to-visit comparison on phantom series: real faces, simulated pigment that fades (or not),
acquisition drift at every visit; batch scoring, changes from baseline, before/after panels.

Faces: London set (DeBruine & Jones 2017, CC BY 4.0) with simulated pigment and drift added.
"""

from __future__ import annotations

import csv
import re

import cv2
import numpy as np
import pandas as pd
import pytest

from pigmentscan.batch import run_batch
from pigmentscan.io import read_scores
from pigmentscan.longitudinal import add_lesion_pigment, changes_from_baseline, compare_files, smallest_detectable_change
from pigmentscan.report import comparison_panel, warp_to_reference

phantom = pytest.importorskip("pigmentscan.phantom", reason="pigmentscan.phantom (simulated pigment) not available")

VISITS = ("baseline", "week 4", "week 8", "week 12")
#: Fading series: lesion share and darkness grade per visit (area bands A3, A2, A2, A1; D 4 to 1).
#: The baseline's patches shrink in place (``pattern_area_fraction``), as melasma fades.
FADING = [{"area_fraction": a, "darkness": d, "homogeneity": 3, "pattern_area_fraction": 0.40}
          for a, d in zip((0.40, 0.25, 0.15, 0.05), (4, 3, 2, 1))]
STABLE = [{"area_fraction": 0.30, "darkness": 3, "homogeneity": 3}] * 4
#: Smallest detectable change of MASI between two photos of unchanged skin under acquisition drift,
#: measured on 12 other faces by benchmarks/longitudinal.py at 2786c6a (test-retest, 4 drifted photos
#: each): 95th percentile of |change| 1.57, 1.96 * sqrt(2) * SD_within 1.32; rounded up. Banded MASI
#: moves in steps of 0.3 * (D + H) when a region's area crosses a band edge.
SDC_MASI = 1.6


def _series(folder, face_rgb, subject, pigments, seed):
    from pigmentscan.landmarks import detect_landmarks

    landmarks = detect_landmarks(face_rgb)
    centre = tuple(landmarks.points_px.mean(axis=0))
    rows, truth = [], []
    for visit, pigment in enumerate(pigments):
        made = phantom.make_phantom(face_rgb, seed=seed, landmarks=landmarks, **pigment)
        drift = phantom.random_drift(seed * 10 + visit)
        photo, _ = phantom.reacquire(made.image, seed=seed * 10 + visit, centre_xy=centre, **drift)
        name = f"{subject}_{visit}.png"
        cv2.imwrite(str(folder / name), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        rows.append([name, subject, VISITS[visit]])
        truth.append({"subject": subject, "visit": VISITS[visit], "true_masi": made.masi})
    return rows, truth


@pytest.fixture(scope="module")
def trial(tmp_path_factory, face_path):
    folder = tmp_path_factory.mktemp("trial")
    rows, truth = [], []
    for face, subject, pigments in (("004_03.jpg", "F004", FADING), ("021_03.jpg", "S021", STABLE)):
        rgb = cv2.cvtColor(cv2.imread(str(face_path(face))), cv2.COLOR_BGR2RGB)
        more_rows, more_truth = _series(folder, rgb, subject, pigments, seed=int(face[:3]))
        rows += more_rows
        truth += more_truth
    with open(folder / "manifest.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["image", "subject", "visit"]] + rows)
    result = run_batch(folder / "manifest.csv", folder / "out", jobs=2, overlays=False, progress=False)
    scores = add_lesion_pigment(read_scores(result.scores_path), folder / "out" / "maps")
    assert (scores["status"] != "error").all(), scores[["image", "error"]]
    changes = changes_from_baseline(scores).merge(pd.DataFrame(truth), on=["subject", "visit"])
    changes["true_change"] = changes["true_masi"] - changes.groupby("subject")["true_masi"].transform("first")
    return result.scores_path, scores, changes


def test_fading_pigment_scores_fall_visit_by_visit(trial):
    _, _, changes = trial
    fading = changes[changes["subject"] == "F004"].sort_values("visit_order")
    assert np.all(np.diff(fading["true_masi"]) < 0)  # the design
    assert np.all(np.diff(fading["masi"]) < 0), fading[["visit", "masi", "true_masi"]]
    post = fading[~fading["is_baseline"]]
    assert (post["masi_change"] < -SDC_MASI).all()  # every real improvement detected


def test_drift_alone_changes_nothing_beyond_the_sdc(trial):
    _, _, changes = trial
    stable = changes[changes["subject"] == "S021"]
    assert (stable["true_change"] == 0).all()
    assert (stable["masi_change"].abs() <= SDC_MASI).all(), stable[["visit", "masi", "masi_change"]]


def test_change_follows_the_truth_for_one_fading_and_one_stable_subject(trial):
    # A small check of the whole chain; the change agreement over a phantom trial (several faces and
    # responses) is measured by benchmarks/longitudinal.py.
    _, _, changes = trial
    post = changes[~changes["is_baseline"]]
    assert len(post) == 6
    assert np.corrcoef(post["true_change"], post["masi_change"])[0, 1] >= 0.9


@pytest.fixture(scope="module")
def retest_scores(tmp_path_factory, face_path):
    """Two other faces, their pigment unchanged, photographed at four visits under drift."""
    folder = tmp_path_factory.mktemp("retest")
    rows = []
    for face in ("063_03.jpg", "010_03.jpg"):
        rgb = cv2.cvtColor(cv2.imread(str(face_path(face))), cv2.COLOR_BGR2RGB)
        rows += _series(folder, rgb, f"R{face[:3]}", STABLE, seed=int(face[:3]))[0]
    with open(folder / "manifest.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["image", "subject", "visit"]] + rows)
    result = run_batch(folder / "manifest.csv", folder / "out", jobs=2, overlays=False, progress=False)
    return add_lesion_pigment(read_scores(result.scores_path), folder / "out" / "maps")


def test_retest_sdc_tells_fading_from_drift(trial, retest_scores):
    reliability = smallest_detectable_change(retest_scores)
    assert reliability.table["measure"].tolist() == ["masi", "mmasi", "lesion_area_pct", "lesion_pigment_pct"]
    assert reliability.table["n_sessions"].tolist() == [8, 8, 8, 8]
    # drift alone moves the weighted lesion area by a few points, and the baseline lesions' pigment
    # by a few percent of it, not by tens
    assert 0 < reliability.sdc["lesion_area_pct"] < 5.0, reliability.table
    assert 0 < reliability.sdc["lesion_pigment_pct"] < 15.0, reliability.table
    _, scores, _ = trial
    for detect_by in (None, "lesion_area_pct", "lesion_pigment_pct"):
        table = changes_from_baseline(scores, sdc=reliability, detect_by=detect_by)
        changes = table.set_index(["subject", "visit"])["detected_change"]
        detail = (detect_by, reliability.sdc, table[["subject", "visit", "lesion_area_pct_change", "lesion_pigment_pct_change"]])
        assert changes["F004"].tolist() == ["none", "improved", "improved", "improved"], detail  # every real improvement
        # drift alone: nothing beyond the SDC, but for the false alarm a 95 % SDC measured on two
        # faces allows (S021's area moved 0.91 points at one visit against an SDC of 0.82)
        stable = changes["S021"].tolist()
        assert stable[0] == "none" and sum(call != "none" for call in stable[1:]) <= 1, detail


def test_pigment_in_the_baseline_lesions_falls_as_it_fades(trial):
    _, _, changes = trial
    fading = changes[changes["subject"] == "F004"].sort_values("visit_order")
    assert fading["lesion_pigment_pct"].iloc[0] == pytest.approx(100.0, abs=0.01)
    assert np.all(np.diff(fading["lesion_pigment_pct"]) < 0), fading[["visit", "lesion_pigment_pct"]]
    assert fading["lesion_pigment_pct"].iloc[-1] < 30  # area 40 % -> 5 %, darkness 4 -> 1
    stable = changes[changes["subject"] == "S021"]
    assert stable["lesion_pigment_pct_change"].abs().max() < 10, stable[["visit", "lesion_pigment_pct"]]


@pytest.fixture(scope="module")
def stable_scores(trial):
    import pigmentscan

    scores_path, scores, _ = trial
    paths = scores.loc[scores["subject"] == "S021", "image"]
    return [pigmentscan.score_image(scores_path.parent / p) for p in paths]


def test_warp_undoes_a_known_move(stable_scores):
    """A face moved by a known affine map (rotation, scale, shift) is put back where it was."""
    base = stable_scores[0]
    image, points = base.analysis_image, base.analysis_points_px
    shape = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((shape[1] / 2, shape[0] / 2), 4.0, 1.06)
    matrix[:, 2] += (6.0, -4.0)
    moved = cv2.warpAffine(image, matrix, shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    moved_points = points @ matrix[:, :2].T + matrix[:, 2]
    back, valid = warp_to_reference(moved, moved_points, points, shape)
    skin = np.logical_or.reduce(list(base.analysis.region_masks.values())) & valid
    assert skin.mean() > 0.1
    error_back = np.abs(back.astype(float) - image)[skin].mean()
    error_moved = np.abs(moved.astype(float) - image)[skin].mean()
    assert error_back < 0.35 * error_moved, (error_back, error_moved)


def test_warp_puts_a_drifted_photo_on_the_baseline_face(stable_scores):
    base, visit = stable_scores[0], stable_scores[2]
    shape = base.analysis_image.shape[:2]
    # landmarks map onto the baseline's: the warp of the visit's eye corners lands on the baseline's
    points = visit.analysis_points_px
    marks = np.zeros(visit.analysis_image.shape[:2], np.uint8)
    for x, y in points[[33, 263]].round().astype(int):
        cv2.circle(marks, (int(x), int(y)), 3, 255, -1)
    moved = warp_to_reference(marks, points, base.analysis_points_px, shape)[0]
    for x, y in base.analysis_points_px[[33, 263]]:
        assert moved[int(round(y)) - 2:int(round(y)) + 3, int(round(x)) - 2:int(round(x)) + 3].max() > 0


def test_panel_shows_less_pigment_where_it_faded(trial):
    import pigmentscan

    scores_path, scores, _ = trial
    paths = scores.loc[scores["subject"] == "F004", "image"].tolist()
    visits = [("baseline", pigmentscan.score_image(scores_path.parent / paths[0])),
              ("week 12", pigmentscan.score_image(scores_path.parent / paths[-1]))]
    panel = comparison_panel(visits, tile_height=240)
    third = panel.shape[0] // 3
    change_tile = panel[2 * third:, panel.shape[1] // 2 + 3:].astype(int)  # bottom row, week 12 column
    blue = ((change_tile[..., 2] - change_tile[..., 0]) > 80).sum()
    red = ((change_tile[..., 0] - change_tile[..., 2]) > 80).sum()
    assert blue > 2000 and blue > 4 * red, (blue, red)


def test_compare_embeds_one_panel_per_subject(trial, tmp_path):
    from pigmentscan.cli import main

    scores_path, _, _ = trial
    compare_files(scores_path, tmp_path / "with", panels=True)
    page = (tmp_path / "with" / "report.html").read_text()
    images = re.findall(r'<img alt="before and after, subject (\w+)" src="data:image/jpeg;base64,', page)
    assert images == ["F004", "S021"]  # downscaled JPEG panels keep the page small
    # pigment that fades and acquisition drift do not make a subject's photos look like another face
    photos = pd.read_csv(tmp_path / "with" / "photos.csv")
    assert photos["same_face"].all() and photos["used"].all()
    assert main(["compare", str(scores_path), "--out", str(tmp_path / "without"), "--no-panels", "--no-maps"]) == 0
    assert "before and after" not in (tmp_path / "without" / "report.html").read_text()
    # the batch's maps/ beside the scores give the pigment left in the baseline lesions; --no-maps leaves it out
    with_maps = pd.read_csv(tmp_path / "with" / "changes.csv")
    assert with_maps.loc[with_maps["subject"] == "F004", "lesion_pigment_pct_change"].iloc[-1] < -50
    assert "kept" in page and "of their pigment" in page
    assert "lesion_pigment_pct" not in pd.read_csv(tmp_path / "without" / "changes.csv").columns
