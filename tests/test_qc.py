"""Quality control on real faces: every check tripped by a photo made to fail it, and clean photos that pass.

The failing photos are made from real London faces (DeBruine & Jones 2017, CC BY 4.0;
altered here: warped, blurred, brightened, darkened, colour-cast, hair painted on,
two faces side by side). Limits are the defaults of ``QualityLimits`` unless a test
says otherwise.
"""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pandas as pd
import pytest

import pigmentscan
from pigmentscan import colour
from pigmentscan.cli import main
from pigmentscan.errors import PigmentScanError, QualityError
from pigmentscan.landmarks import detect_landmarks
from pigmentscan.pipeline import SCORE_COLUMNS
from pigmentscan.qc import (
    QualityLimits,
    blur_effect,
    blur_measure,
    exposure_pct,
    load_quality_limits,
    sclera_lab,
    skin_hue_deg,
)
from pigmentscan.regions import region_masks

from helpers import read_rgb

NEW_CHECKS = ("soft", "blurred", "exposed", "colour cast")
LIMITS = QualityLimits()  # the limits score_image applies when given none


@pytest.fixture(scope="module")
def face(face_path):
    """Face 063 (clean, light skin): the photo every failing copy is made from."""
    rgb = read_rgb(face_path("063_03.jpg"))
    return rgb, detect_landmarks(rgb)


def turned(rgb, landmarks, squeeze: float, *, side: str = "image_left") -> np.ndarray:
    """Simulate a head turn: squeeze one half of the face horizontally towards its outer edge.

    The nose tip (landmark 1) moves towards the cheek edge (234 or 454) to ``squeeze``
    of its distance, the other half of the face stretches: what a turn does to the
    projected face. The 3-D landmarks FaceMesh infers from it change with it.
    """
    h, w = rgb.shape[:2]
    points = landmarks.points_px
    nose, left, right = points[1, 0], points[234, 0], points[454, 0]
    xs = np.arange(w, dtype=np.float32)
    if side == "image_left":
        moved = left + squeeze * (nose - left)
    else:
        moved = right - squeeze * (right - nose)
    source_x = np.interp(xs, [0, left, moved, right, w - 1], [0, left, nose, right, w - 1]).astype(np.float32)
    map_x = np.tile(source_x, (h, 1))
    map_y = np.tile(np.arange(h, dtype=np.float32)[:, None], (1, w))
    return cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def with_linear_gains(rgb, gains) -> np.ndarray:
    """A white-balance error: per-channel gains in linear light (IEC 61966-2-1 transfer)."""
    linear = np.clip(colour.srgb_to_linear(rgb) * np.asarray(gains), 0, 1)
    return (colour.linear_to_srgb(linear) * 255 + 0.5).astype(np.uint8)


def brighter(rgb, factor: float) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def reasons(score) -> str:
    return "; ".join(score.qc.reasons)


# --------------------------------------------------------------------------- clean photos


@pytest.mark.parametrize("name", ["038_03.jpg", "063_03.jpg", "068_03.jpg", "082_03.jpg", "135_03.jpg", "172_03.jpg"])
def test_clean_photos_pass_the_image_checks(face_path, name):
    # very light to dark skin; 068 has the lowest skin hue of the London set, 135 the
    # highest blur, 082 the darkest skin (its malar coverage is a separate matter)
    score = pigmentscan.score_image(face_path(name))
    assert not any(word in reasons(score) for word in NEW_CHECKS + ("head turned", "faces")), reasons(score)
    qc = score.qc.measures
    assert qc["qc_blur"] < 0.55 and qc["qc_clipped_pct"] < 0.5 and qc["qc_crushed_pct"] < 0.5
    assert LIMITS.min_skin_hue_deg < qc["qc_skin_hue_deg"] < LIMITS.max_skin_hue_deg
    assert abs(qc["qc_sclera_b_star"]) < 9
    if name in ("038_03.jpg", "063_03.jpg", "068_03.jpg", "135_03.jpg"):
        assert score.status == "ok" and qc["qc_pass"]


def test_qc_columns_sit_between_the_regions_and_the_model(face_path):
    table = pigmentscan.score_images([face_path("038_03.jpg")])
    columns = list(table.columns)
    assert columns[: len(SCORE_COLUMNS)] == SCORE_COLUMNS
    qc = [c for c in columns if c.startswith("qc_")]
    assert columns[len(SCORE_COLUMNS): len(SCORE_COLUMNS) + len(qc)] == qc
    assert columns[len(SCORE_COLUMNS) + len(qc)] == "model"
    for name in ("qc_yaw_deg", "qc_iod_px", "qc_blur", "qc_clipped_pct", "qc_crushed_pct", "qc_sclera_a_star",
                 "qc_sclera_b_star", "qc_skin_hue_deg", "qc_forehead_coverage", "qc_n_faces", "qc_status", "qc_reasons"):
        assert name in qc


# --------------------------------------------------------------------------- head pose


def test_landmark_yaw_follows_a_simulated_turn(face):
    rgb, landmarks = face
    base = landmarks.pose_deg[0]
    yaws = [detect_landmarks(turned(rgb, landmarks, k)).pose_deg[0] for k in (0.8, 0.6, 0.4, 0.2)]
    assert all(a > b for a, b in zip([base] + yaws, yaws)), (base, yaws)  # turns one way, further and further
    assert yaws[-1] - base < -25
    other = detect_landmarks(turned(rgb, landmarks, 0.4, side="image_right")).pose_deg[0]
    assert other - base > 15  # the other way: the other sign


def test_turned_head_warns_then_errors(face):
    rgb, landmarks = face
    warn = pigmentscan.score_image(turned(rgb, landmarks, 0.55))
    assert warn.status == "warn" and "head turned" in reasons(warn), reasons(warn)
    assert LIMITS.max_yaw_warn_deg < abs(warn.qc.measures["qc_yaw_deg"]) <= LIMITS.max_yaw_error_deg
    with pytest.raises(QualityError, match=rf"head turned [-+]\d+° \(limit ±{LIMITS.max_yaw_error_deg:g}°\): "
                                           "retake a frontal photo") as info:
        pigmentscan.score_image(turned(rgb, landmarks, 0.15))
    assert abs(info.value.report.measures["qc_yaw_deg"]) > LIMITS.max_yaw_error_deg


# --------------------------------------------------------------------------- sharpness


def test_blur_measure_grows_with_blur_and_ignores_exposure(face):
    rgb, _ = face
    values = [blur_measure(cv2.GaussianBlur(rgb, (0, 0), s) if s else rgb) for s in (0, 1, 2, 4)]
    assert values == sorted(values) and values[-1] - values[0] > 0.3
    assert blur_measure(brighter(rgb, 0.5)) == pytest.approx(values[0], abs=0.03)


@pytest.mark.parametrize("name", ["001_03.jpg", "038_03.jpg", "063_03.jpg", "144_03.jpg"])
def test_blur_effect_equals_scikit_images(face_path, name):
    """The OpenCV blur effect is scikit-image's (Crété-Roffet 2007), on sharp and blurred real faces."""
    from skimage.measure import blur_effect as skimage_blur_effect

    rgb = read_rgb(face_path(name))[200:1000, 300:1000]
    for sigma in (0, 1.5):
        grey = (cv2.GaussianBlur(rgb, (0, 0), sigma) if sigma else rgb).astype(np.float32).mean(axis=2)
        assert blur_effect(grey) == pytest.approx(skimage_blur_effect(grey), abs=1e-5)


def test_blurred_photo_warns_then_errors(face):
    rgb, landmarks = face
    scale = landmarks.iod_px / 200  # blur widths at the 200 px face scale
    soft = pigmentscan.score_image(cv2.GaussianBlur(rgb, (0, 0), 2.0 * scale))
    assert soft.status == "warn" and "photo soft" in reasons(soft), reasons(soft)
    with pytest.raises(QualityError, match="photo blurred .*retake"):
        pigmentscan.score_image(cv2.GaussianBlur(rgb, (0, 0), 5.0 * scale))


def test_small_sharp_face_is_not_called_blurred(face_path):
    rgb = read_rgb(face_path("038_03.jpg"))
    small = cv2.resize(rgb, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)  # pupils ~86 px apart
    score = pigmentscan.score_image(small)
    assert "face small" in reasons(score)
    assert "soft" not in reasons(score) and "blurred" not in reasons(score)
    assert score.qc.measures["qc_blur"] < LIMITS.max_blur_warn


# --------------------------------------------------------------------------- exposure


def test_exposure_pct_counts_clipped_and_crushed_pixels():
    rgb = np.full((10, 10, 3), 128, np.uint8)
    rgb[0, :, 0] = 250  # one channel at the clipping level
    rgb[1, :5] = 255
    rgb[9, :, 2] = 5  # one channel crushed
    regions = np.ones((10, 10), bool)
    assert exposure_pct(rgb, regions) == (15.0, 10.0)
    hair = np.zeros((10, 10), bool)
    hair[9, :4] = True  # set aside as hair: not counted as crushed
    assert exposure_pct(rgb, regions, hair) == (15.0, 6.0)
    assert exposure_pct(rgb, np.zeros((10, 10), bool)) == (0.0, 0.0)


def test_over_exposed_photo_warns_then_errors(face):
    rgb, _ = face
    warn = pigmentscan.score_image(brighter(rgb, 1.3))
    assert warn.status == "warn" and "over-exposed" in reasons(warn), reasons(warn)
    assert LIMITS.max_clipped_pct_warn < warn.qc.measures["qc_clipped_pct"] <= LIMITS.max_clipped_pct_error
    with pytest.raises(QualityError, match=rf"over-exposed or glare: \d+ % of the skin is burnt out white "
                                           rf"\(limit {LIMITS.max_clipped_pct_error:g} %\)"):
        pigmentscan.score_image(brighter(rgb, 1.45))


def test_under_exposed_dark_face_errors(face_path):
    rgb = read_rgb(face_path("082_03.jpg"))
    with pytest.raises(QualityError, match=r"under-exposed: \d+ % of the skin is black .*more light"):
        pigmentscan.score_image(brighter(rgb, 0.12))


# --------------------------------------------------------------------------- colour cast


def test_a_mild_colour_cast_is_corrected_from_the_eyes_and_scored_like_the_original(face):
    rgb, _ = face
    original = pigmentscan.score_image(rgb)
    for gains in ((1.08, 1.0, 0.85), (0.9, 0.97, 1.12), (0.93, 1.07, 0.93)):  # warm, blue, green
        score = pigmentscan.score_image(with_linear_gains(rgb, gains))
        assert "colour cast" not in reasons(score), (gains, reasons(score))
        # the gains put back undo the cast: the measured white balance is the inverse of the one applied
        applied = np.array([score.qc.measures["qc_wb_gain_r"], 1.0, score.qc.measures["qc_wb_gain_b"]])
        assert np.allclose(applied * np.array(gains) / gains[1], [original.qc.measures["qc_wb_gain_r"], 1.0,
                                                                   original.qc.measures["qc_wb_gain_b"]], rtol=0.06)
        assert abs(score.analysis.reference.ita_deg - original.analysis.reference.ita_deg) < 5
        assert abs(score.masi - original.masi) <= 1.0


def test_a_strong_cast_the_eyes_cannot_undo_is_an_error_with_its_reason(face):
    rgb, _ = face
    # tungsten light on a camera set for daylight: red about 2.5 times blue (the webcam of issue #34)
    with pytest.raises(QualityError, match="colour cannot be trusted: the whites of the eyes need gains"):
        pigmentscan.score_image(with_linear_gains(rgb, (1.3, 1.0, 0.55)))


def test_sclera_and_skin_hue_measures(face):
    rgb, landmarks = face
    lab = sclera_lab(rgb, landmarks.points_px)
    assert lab is not None and lab[0] > 40 and abs(lab[1]) < 9 and abs(lab[2]) < 9
    closed = landmarks.points_px.copy()
    for upper, lower in ((159, 145), (386, 374)):  # lids together: eyes closed
        closed[upper] = closed[lower]
    assert sclera_lab(rgb, closed) is None
    assert sclera_lab(rgb, landmarks.points_px, skin_l_star=lab[0] + 20) is None  # "whites" darker than skin
    assert skin_hue_deg([50, 10, 10]) == pytest.approx(45)
    assert skin_hue_deg([50, -10, 0]) == pytest.approx(180)


# --------------------------------------------------------------------------- coverage, faces


def test_hair_over_the_forehead_warns(face):
    rgb, landmarks = face
    forehead = region_masks(rgb.shape, landmarks.points_px, landmarks.iod_px)["forehead"]
    rows = np.flatnonzero(forehead.any(axis=1))
    fringe = forehead.copy()
    fringe[rows[0] + 2 * (rows[-1] - rows[0]) // 3:] = False  # the upper two thirds: a fringe
    texture = np.random.default_rng(1).normal(0, 8, rgb.shape)
    hairy = rgb.copy()
    hairy[fringe] = np.clip(np.array([45, 32, 25]) + texture[fringe], 0, 255).astype(np.uint8)
    score = pigmentscan.score_image(hairy)
    assert score.status == "warn" and "little visible skin" in reasons(score) and "forehead" in reasons(score)
    assert score.qc.measures["qc_forehead_coverage"] < 0.5


def test_two_faces_warn(face, face_path):
    rgb, _ = face
    score = pigmentscan.score_image(np.hstack([rgb, read_rgb(face_path("038_03.jpg"))]))
    assert score.qc.measures["qc_n_faces"] == 2 and "2 faces in the photo" in reasons(score)
    assert score.status == "warn"


# --------------------------------------------------------------------------- user limits


def test_user_limits_through_score_image_and_score_images(face_path, tmp_path):
    path = face_path("038_03.jpg")  # yaw about +5°
    strict = QualityLimits(max_yaw_warn_deg=2, max_yaw_error_deg=3)
    with pytest.raises(QualityError, match=r"038_03.jpg: head turned \+5° \(limit ±3°\)"):
        pigmentscan.score_image(path, qc_limits=strict)
    table = pigmentscan.score_images([path], qc_limits=strict)
    row = table.iloc[0]
    assert row["status"] == "error" and "head turned" in row["error"]
    assert row["qc_yaw_deg"] > 3 and row["qc_status"] == "error"  # an error row keeps its QC measures


def test_cli_qc_limits_file(face_path, tmp_path, capsys):
    limits = tmp_path / "limits.json"
    limits.write_text(json.dumps({"max_yaw_warn_deg": 2}))
    out = tmp_path / "scores.csv"
    assert main(["score", str(face_path("038_03.jpg")), "--out", str(out), "--qc-limits", str(limits)]) == 0
    row = pd.read_csv(out, keep_default_na=False).iloc[0]
    assert row["status"] == "warn" and "warn beyond ±2°" in row["error"]
    limits.write_text(json.dumps({"max_yaw": 2}))
    with pytest.raises(SystemExit) as info:
        main(["score", str(face_path("038_03.jpg")), "--out", str(out), "--qc-limits", str(limits)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "limits.json" in err and "unknown quality limit(s) 'max_yaw'" in err and "max_yaw_warn_deg" in err


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"max_yaw": 2}, "unknown quality limit(s) 'max_yaw'"),
        ({"max_blur_warn": "0.5"}, "max_blur_warn must be a finite number"),
        ({"min_iod_px": True}, "min_iod_px must be a finite number"),
        ({"min_iod_px": float("nan")}, "min_iod_px must be a finite number"),
        ({"max_roll_warn_deg": -1}, "must not be negative"),
        ({"max_yaw_warn_deg": 40}, "max_yaw_warn_deg (40) must not exceed max_yaw_error_deg"),
        ({"min_region_coverage": 50}, "share (0-1)"),
    ],
)
def test_quality_limits_are_validated(values, fragment):
    with pytest.raises(ValueError) as info:
        QualityLimits.from_dict(values)
    assert fragment in str(info.value)


def test_quality_limits_file_errors_name_the_file(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"max_yaw_warn_deg": 10, "min_sclera_a_star": -4}')
    assert load_quality_limits(good) == QualityLimits(max_yaw_warn_deg=10, min_sclera_a_star=-4)
    cases = {"missing.json": (None, "no such file"), "text.json": ("max_yaw_warn_deg = 10", "not valid JSON"),
             "list.json": ("[10, 20]", "expected a JSON object"), "deep.json": ("[" * 100_000, "cannot read"),
             "bad.json": ('{"min_iod_px": "big"}', "min_iod_px must be a finite number")}
    for name, (text, fragment) in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(PigmentScanError) as info:
            load_quality_limits(path)
        assert str(info.value).startswith(str(path)) and fragment in str(info.value), str(info.value)
