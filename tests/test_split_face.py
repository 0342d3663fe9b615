"""Split-face trials (issue #37, item 3): a hemi-face MASI per side, cut at the face's midline,
and ``compare --split-face``.

The photo tests paint melanin (optical density along the melanin direction) on ONE side of a real
face, the image left of ``sample_images/astronaut_eileen_collins.png``: the patient's right
(MASI.md "Sides"). The pigment is placed from a few landmarks and clipped to the image left of the
midline landmarks' mean column, independently of :func:`pigmentscan.regions.midline_halves`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pigmentscan
from pigmentscan.cli import main
from pigmentscan.dictionary import dictionary_path, undescribed_columns
from pigmentscan.errors import ManifestError
from pigmentscan.landmarks import detect_landmarks
from pigmentscan.lesions import FaceAnalysis, ReferenceSkin, RegionMeasures
from pigmentscan.longitudinal import compare
from pigmentscan.pipeline import face_crop, score_row
from pigmentscan.regions import MIDLINE_LANDMARKS, REGION_KEYS, midline_halves, polygon_mask, region_polygons
from pigmentscan.scoring import Grading, formula, grade_region
from pigmentscan.split_face import SPLIT_FACE_COLUMNS, hemi_formula, split_face

from helpers import paint_melanin, read_rgb

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
#: OD of melanin painted: the cheek reads about 6 JND, the forehead strip under the fringe about 3.5, well
#: clear of the 1 JND detection level, so that the flipped photo finds it as well (at 0.6 OD the forehead
#: strip, narrow under the fringe, was found on one orientation only).
PAINT_OD = 0.9


def test_hemi_formula_against_hand_computed_cases_and_the_sides_add_up_to_masi():
    full, mfull = hemi_formula([6, 6, 6], [4, 4, 4], [4, 4, 4])
    assert (float(full), float(mfull)) == pytest.approx((24.0, 12.0))  # 0.5 * 48, 0.5 * 24
    # forehead half A2 D1 H2, malar A3 D2 H3, chin half A1 D1 H1: 0.15*2*3 + 0.3*3*5 + 0.05*1*2 = 0.9 + 4.5 + 0.1
    masi, mmasi = hemi_formula([2, 3, 1], [1, 2, 1], [2, 3, 1])
    assert float(masi) == pytest.approx(5.5) and float(mmasi) == pytest.approx(0.15 * 2 + 0.3 * 6 + 0.05 * 1)
    # each half graded like its region: the two sides are MASI shared out, right + left = MASI
    a, d, h = [3, 4, 2, 1], [2, 3, 1, 2], [3, 3, 2, 1]  # forehead, right malar, left malar, chin
    right = hemi_formula([a[0], a[1], a[3]], [d[0], d[1], d[3]], [h[0], h[1], h[3]])
    left = hemi_formula([a[0], a[2], a[3]], [d[0], d[2], d[3]], [h[0], h[2], h[3]])
    whole = formula(a, d, h)
    assert float(right[0] + left[0]) == pytest.approx(float(whole[0]))
    assert float(right[1] + left[1]) == pytest.approx(float(whole[1]))


@pytest.mark.parametrize("photo", ["astronaut_eileen_collins.png", "grace_hopper.jpg"])
def test_the_midline_cuts_forehead_and_chin_into_halves_of_similar_size_on_a_frontal_face(photo):
    crop, landmarks = face_crop(SAMPLES / photo)  # both photos frontal: |yaw| < 1 degree
    halves = midline_halves(crop.shape, landmarks.points_px, landmarks.iod_px)
    assert not (halves["right"] & halves["left"]).any() and (halves["right"] | halves["left"]).all()
    polygons = region_polygons(landmarks.points_px, landmarks.iod_px)
    for region in ("forehead", "chin"):
        mask = polygon_mask(crop.shape, polygons[region])
        right, left = int((mask & halves["right"]).sum()), int((mask & halves["left"]).sum())
        assert 0.9 < right / left < 1.1, (region, right, left)  # measured 0.97-1.04 on these faces
    # the patient's right half is the side the template's right malar region is drawn on (image left)
    for side, other in (("right", "left"), ("left", "right")):
        malar = polygon_mask(crop.shape, polygons[f"{side}_malar"])
        assert (malar & halves[side]).sum() == malar.sum() and not (malar & halves[other]).any()
    assert np.median(landmarks.points_px[list(MIDLINE_LANDMARKS), 0]) > landmarks.points_px[234, 0]


def _measures(darkness_jnd=0.0, area=0.0):
    return RegionMeasures(area, darkness_jnd, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 100, 1.0)


def test_a_half_s_area_and_darkness_on_a_drawn_analysis():
    """A 100 x 100 analysis, midline at x = 50 (pixels on it go right), patient's right at image left."""
    points = np.zeros((478, 2))
    points[:, 0] = 50.0
    points[list(MIDLINE_LANDMARKS), 1] = np.linspace(10, 90, len(MIDLINE_LANDMARKS))
    points[234, 0], points[454, 0] = 20.0, 80.0
    xx = np.arange(100)[None, :].repeat(100, axis=0)
    forehead, chin = np.zeros((100, 100), bool), np.zeros((100, 100), bool)
    forehead[10:31, 20:80] = True  # 21 rows; right half x 20-50 (31 columns), left x 51-79 (29)
    chin[70:91, 30:70] = True  # right half x 30-50 (21 columns)
    lesion = forehead | (chin & (xx <= 50))  # the whole forehead; the chin's right half only
    excess = np.where(forehead & (xx <= 50), 4.0, 0.0) + np.where(forehead & (xx > 50), 2.0, 0.0)
    excess += np.where(chin & (xx <= 50), 3.0, 0.0)
    empty = np.zeros((100, 100), bool)
    masks = {"forehead": forehead, "right_malar": empty, "left_malar": empty, "chin": chin}
    reference = ReferenceSkin(np.zeros(3), np.array([60.0, 10.0, 15.0]), 30.0, 0.5, 10.0)
    analysis = FaceAnalysis(masks, lesion, excess.astype(np.float32), empty, reference)
    grading = Grading(area_uncertainty_pct=0.0, darkness_uncertainty=0.0, homogeneity_uncertainty_iod=0.0)  # banded grades: the halves' own
    # the regions' own darkness (the viewing-scale contrast, not kept with the analysis): 3.0 JND each
    regions = {key: grade_region(key, _measures(3.0 if key in ("forehead", "chin") else 0.0), grading)
               for key in REGION_KEYS}
    split = split_face(analysis, points, 30.0, regions, grading)
    halves = split.halves
    assert halves["forehead_right"].skin_px == 31 * 21 and halves["forehead_left"].skin_px == 29 * 21
    # the forehead's lesion excess: median 4 (more right pixels than left); each half is the region's
    # 3.0 JND times its own median over the region's: right 3.0 * 4/4, left 3.0 * 2/4
    assert halves["forehead_right"].darkness_jnd == pytest.approx(3.0)
    assert halves["forehead_left"].darkness_jnd == pytest.approx(1.5)
    assert (halves["chin_right"].area_pct, halves["chin_left"].area_pct) == (100.0, 0.0)
    assert halves["chin_right"].darkness_jnd == pytest.approx(3.0)  # all the chin's lesion is on the right
    grades = {k: (h.area_score, h.darkness, h.homogeneity) for k, h in halves.items()}
    # D: 3.0 JND -> 2, 1.5 -> 1 (1, 2, 3.5, 5.5 JND); H: blocks 0.8-0.96 IOD across -> 4 (from 0.6 IOD)
    assert grades == {"forehead_right": (6, 2, 4), "forehead_left": (6, 1, 4), "chin_right": (6, 2, 4),
                      "chin_left": (0, 0, 0)}
    # right: 0.15*6*(2+4) + 0 (malar) + 0.05*6*(2+4) = 7.2; left: 0.15*6*(1+4) = 4.5
    assert (split.right.masi, split.left.masi) == pytest.approx((7.2, 4.5))
    assert (split.right.mmasi, split.left.mmasi) == pytest.approx((0.15 * 6 * 2 + 0.05 * 6 * 2, 0.15 * 6 * 1))
    assert split.right.lesion_area_pct == pytest.approx((0.15 * 100 + 0.05 * 100) / 0.5)


@pytest.fixture(scope="module")
def painted():
    """The astronaut with melanin on the patient's right (image left) cheek, forehead strip and chin."""
    rgb = read_rgb(SAMPLES / "astronaut_eileen_collins.png")
    points = detect_landmarks(rgb).points_px
    iod = float(np.linalg.norm(points[468] - points[473]))  # the pupils
    up = points[10] - points[152]
    up /= np.linalg.norm(up)
    yy, xx = np.mgrid[: rgb.shape[0], : rgb.shape[1]]

    def ellipse(centre, rx, ry):
        return ((xx - centre[0]) / rx) ** 2 + ((yy - centre[1]) / ry) ** 2 <= 1

    mask = ellipse((points[205] + points[123]) / 2, 0.32 * iod, 0.30 * iod)  # cheek
    mask |= ellipse(points[105] + 0.22 * iod * up, 0.5 * iod, 0.16 * iod)  # the skin above the brow
    mask |= ellipse((points[200] + points[211]) / 2, 0.22 * iod, 0.18 * iod)  # chin
    mask &= xx < points[[10, 9, 168, 2, 17, 200, 152], 0].mean() - 0.06 * iod  # one side only
    photo = paint_melanin(rgb, mask, PAINT_OD)
    flipped = np.ascontiguousarray(np.fliplr(photo))
    return {"photo": pigmentscan.score_image(photo), "flipped": pigmentscan.score_image(flipped),
            "flipped_back": pigmentscan.score_image(flipped, mirrored=True)}


def test_pigment_on_one_side_raises_that_side_s_hemi_masi(painted):
    split = painted["photo"].split_face
    right, left = split.right, split.left
    assert right.masi > 5.0 and right.masi > 5 * left.masi, (right.masi, left.masi)  # measured 14.0 vs 0.6
    assert right.mmasi > 5 * left.mmasi
    assert right.lesion_area_pct > left.lesion_area_pct + 40  # measured 66 % vs 3 %
    halves = split.halves
    # the painted half of each region reads more lesion than the clean half (the astronaut's forehead is
    # mostly under her fringe, and the fringe's shadow reads as some pigment on both halves)
    assert halves["chin_right"].area_pct > halves["chin_left"].area_pct + 20
    assert halves["forehead_right"].area_pct > halves["forehead_left"].area_pct + 10
    assert right.malar is painted["photo"].regions["right_malar"]  # the face's own cheek grades
    assert 0 <= left.masi <= right.masi <= 24 and 0 <= right.mmasi <= 12


def test_the_mirrored_photo_swaps_the_sides(painted):
    """The flipped photo is read afresh: FaceMesh's landmarks on it are not the exact mirror of the
    original's, so region borders, the midline and the lesion stage's expectation move a little.
    Hemi-MASI moves in band steps; allow 1.5 points: more than one area step of a half region at
    the darkness and pattern found here (0.15 * (D + H) <= 0.15 * (3 + 3) = 0.9) and less than one
    of a malar region (0.3 * (4 + 3) = 2.1; the painted cheek, ~80 %, is mid-band for area and reads
    the same darkness, 5.8 JND, both ways). Measured differences: 0.05-0.45 points. The continuous
    lesion area is held to 5 points (measured within 3)."""
    original, flipped = painted["photo"].split_face, painted["flipped"].split_face
    for side, other in (("right", "left"), ("left", "right")):
        a, b = original.side(side), flipped.side(other)
        assert b.masi == pytest.approx(a.masi, abs=1.5), side
        assert b.mmasi == pytest.approx(a.mmasi, abs=1.5), side
        assert b.lesion_area_pct == pytest.approx(a.lesion_area_pct, abs=5.0), side
    assert flipped.left.masi > 5 * flipped.right.masi  # the pigment is now on the patient's left


def test_a_flipped_photo_scored_as_mirrored_gives_the_original_s_sides(painted):
    original, back = painted["photo"], painted["flipped_back"]
    assert back.split_face.columns() == original.split_face.columns()
    assert back.split_face.to_dict() == original.split_face.to_dict()


def test_scores_row_and_to_dict_carry_the_hemi_face_scores_and_every_column_is_described(painted):
    score = painted["photo"]
    row = score_row(score)
    assert [c for c in row if c in SPLIT_FACE_COLUMNS] == list(SPLIT_FACE_COLUMNS)
    assert row["hemi_right_masi"] == pytest.approx(score.split_face.right.masi, abs=1e-4)
    assert row["forehead_right_area_score"] == score.split_face.halves["forehead_right"].area_score
    assert undescribed_columns(pd.DataFrame(columns=list(SPLIT_FACE_COLUMNS))) == []
    as_dict = json.loads(json.dumps(score.to_dict()))  # plain Python
    assert as_dict["split_face"]["right"]["masi"] == pytest.approx(score.split_face.right.masi)
    assert set(as_dict["split_face"]["left"]["chin"]) >= {"area_pct", "area_score", "darkness", "homogeneity"}


def _trial() -> pd.DataFrame:
    """Two subjects, baseline and week 12; A treated on the right (arm "right"), B on the left (arm "TXA left").

    A: right 10 -> 4 (-6), left 9 -> 8 (-1); B: right 6 -> 5 (-1), left 8 -> 2 (-6).
    """
    rows = [("A", "right", "baseline", 10.0, 9.0, 5.0, 4.0), ("A", "right", "week 12", 4.0, 8.0, 2.0, 4.0),
            ("B", "TXA left", "baseline", 6.0, 8.0, 3.0, 4.0), ("B", "TXA left", "week 12", 5.0, 2.0, 2.0, 1.0)]
    frame = pd.DataFrame(rows, columns=["subject", "arm", "visit", "hemi_right_masi", "hemi_left_masi",
                                        "hemi_right_mmasi", "hemi_left_mmasi"])
    frame["masi"] = frame["hemi_right_masi"] + frame["hemi_left_masi"]
    frame["image"] = [f"{s}_{v}.jpg" for s, v in zip(frame["subject"], frame["visit"])]
    frame["status"] = "ok"
    return frame


def test_compare_split_face_changes_and_side_differences_computed_by_hand():
    comparison = compare(_trial(), split_face=True)
    at = comparison.changes.set_index(["subject", "visit"])
    a, b = at.loc[("A", "week 12")], at.loc[("B", "week 12")]
    assert (a["hemi_right_masi_change"], a["hemi_left_masi_change"]) == (-6.0, -1.0)
    assert a["hemi_right_masi_change_pct"] == pytest.approx(-60.0)
    assert (a["hemi_masi_change_right_minus_left"], b["hemi_masi_change_right_minus_left"]) == (-5.0, 5.0)
    assert (a["treated_side"], b["treated_side"]) == ("right", "left")
    assert (a["hemi_treated_masi_change"], a["hemi_untreated_masi_change"]) == (-6.0, -1.0)
    assert (b["hemi_treated_masi_change"], b["hemi_untreated_masi_change"]) == (-6.0, -1.0)
    treated_minus_untreated = at.xs("week 12", level="visit")[["hemi_masi_change_treated_minus_untreated",
                                                               "hemi_mmasi_change_treated_minus_untreated"]]
    # MASI -5 for both; mMASI: A right 5 -> 2 (-3), left 4 -> 4 (0); B right 3 -> 2 (-1), left 4 -> 1 (-3)
    assert treated_minus_untreated.to_numpy().tolist() == [[-5.0, -3.0], [-5.0, -2.0]]
    assert at.loc[("A", "baseline"), "hemi_masi_change_right_minus_left"] == 0.0
    # pooled over both subjects: sides cancel right - left (mean 0), treated - untreated is -5 for both
    week12 = comparison.split_face.set_index("visit").loc["week 12"]
    assert (week12["n"], week12["n_treated_side"]) == (2, 2)
    assert (week12["hemi_right_masi_change_mean"], week12["hemi_left_masi_change_mean"]) == (-3.5, -3.5)
    assert week12["hemi_masi_change_right_minus_left_mean"] == 0.0
    half = 12.7062047 * np.std([-5.0, 5.0], ddof=1) / np.sqrt(2)  # t(0.975, 1 df) * sd / sqrt(n)
    assert week12["hemi_masi_change_right_minus_left_ci_high"] == pytest.approx(half, rel=1e-6)
    assert week12[["hemi_masi_change_treated_minus_untreated_mean", "hemi_masi_change_treated_minus_untreated_ci_low",
                   "hemi_masi_change_treated_minus_untreated_ci_high"]].tolist() == [-5.0, -5.0, -5.0]
    assert week12["hemi_mmasi_change_treated_minus_untreated_mean"] == -2.5
    # summary.csv: per arm (one subject each)
    summary = comparison.summary[comparison.summary["visit"] == "week 12"].set_index("arm")
    assert summary.loc["right", "hemi_masi_change_right_minus_left_mean"] == -5.0
    assert summary.loc["TXA left", "hemi_left_masi_change_mean"] == -6.0
    assert summary.loc["TXA left", "hemi_masi_change_treated_minus_untreated_mean"] == -5.0
    for table, name in ((comparison.changes, "changes"), (comparison.summary, "summary"),
                        (comparison.split_face, "split_face")):
        assert undescribed_columns(table, name) == [], name


def test_treated_side_option_overrides_the_arms_and_without_split_face_nothing_changes():
    comparison = compare(_trial(), split_face=True, treated_side="right")
    changes = comparison.changes[comparison.changes["visit"] == "week 12"].set_index("subject")
    assert changes["treated_side"].tolist() == ["right", "right"]
    assert changes["hemi_masi_change_treated_minus_untreated"].tolist() == [-5.0, 5.0]  # = right - left
    plain = compare(_trial())
    assert plain.split_face is None and not [c for c in plain.changes.columns if "hemi" in c or c == "treated_side"]
    unknown = compare(_trial().assign(arm="TXA"), split_face=True)
    assert unknown.changes["treated_side"].isna().all()
    assert unknown.changes["hemi_masi_change_treated_minus_untreated"].isna().all()
    with pytest.raises(ValueError, match="right' or 'left"):
        compare(_trial(), split_face=True, treated_side="both")
    with pytest.raises(ManifestError, match="hemi-face columns"):
        compare(_trial().drop(columns=["hemi_left_masi"]), split_face=True)


def test_cli_compare_split_face_writes_the_tables_their_dictionaries_and_the_report(tmp_path):
    scores = tmp_path / "scores.csv"
    _trial().to_csv(scores, index=False)
    out = tmp_path / "out"
    assert main(["compare", str(scores), "--out", str(out), "--split-face", "--no-identity", "--no-panels",
                 "--no-maps"]) == 0
    split = pd.read_csv(out / "split_face.csv")
    assert split.loc[split["visit"] == "week 12", "hemi_masi_change_treated_minus_untreated_mean"].item() == -5.0
    for name in ("changes", "summary", "split_face"):
        frame = pd.read_csv(out / f"{name}.csv")
        document = json.loads(dictionary_path(out / f"{name}.csv").read_text(encoding="utf-8"))
        assert [c["name"] for c in document["columns"]] == list(frame.columns)
        assert all(c["meaning"] and c["unit"] for c in document["columns"]), name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Split face: each side" in html
    assert "Split face, at week 12 (n = 2)" in html and "treated - untreated -5.0 (-5.0 to -5.0)" in html
    assert main(["compare", str(scores), "--out", str(tmp_path / "x"), "--treated-side", "left"]) == 2
