"""Colour chart detection and correction (pigmentscan.chart), on real faces with a synthetic chart.

The reference values are checked against colour-science (an independent implementation of the
X-Rite data and of the colour conversions); the correction against a known colour shift.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import pigmentscan
from pigmentscan import chart, colour
from pigmentscan.pipeline import score_row

from chart_helpers import draw_chart, shifted, with_chart

# A colour shift a camera or a lamp could introduce: per-channel gains, then channel mixing (linear sRGB).
GAINS = np.diag([1.22, 0.96, 0.72])
MIXING = 0.92 * np.array([[0.90, 0.12, 0.02], [0.06, 0.86, 0.08], [0.01, 0.10, 0.74]])


@pytest.fixture(scope="module")
def face(face_path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(face_path("063_03.jpg"))), cv2.COLOR_BGR2RGB)


def test_reference_values_match_colour_science():
    colour_science = pytest.importorskip("colour")
    checker = colour_science.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyz = colour_science.xyY_to_XYZ(np.array(list(checker.data.values())))
    lab = colour_science.XYZ_to_Lab(xyz, checker.illuminant)
    np.testing.assert_allclose(chart.REFERENCE_LAB_D50, lab, atol=0.006)
    assert [name.split(" (")[0] for name in checker.data] == list(chart.PATCH_NAMES)
    linear = colour_science.XYZ_to_RGB(xyz, "sRGB", checker.illuminant, chromatic_adaptation_transform="Bradford",
                                       apply_cctf_encoding=False)
    # colour-science derives the sRGB matrix from primaries; IEC prints it to 4 decimals: ~1e-4 apart.
    np.testing.assert_allclose(chart.reference_linear_rgb(), linear, atol=2e-3)
    np.testing.assert_allclose(chart.linear_rgb_to_lab_d50(chart.reference_linear_rgb()), chart.REFERENCE_LAB_D50,
                               atol=1e-9)


@pytest.mark.parametrize("name, matrix", [("gains", GAINS), ("mixing", MIXING)])
def test_shifted_chart_is_corrected_back(face, name, matrix):
    original = with_chart(face, draw_chart())
    photo = shifted(original, matrix)
    corrected, correction = chart.chart_correction(photo)
    assert correction is not None and correction.used, name
    assert correction.residual_delta_e < 1.5 and correction.n_patches >= 20
    # the fitted matrix undoes the shift (the photo's sRGB clipping and 8-bit rounding aside)
    np.testing.assert_allclose(correction.matrix @ matrix, np.eye(3), atol=0.03)
    skin = (slice(350, 800), slice(420, 930))  # cheeks, nose and mouth of face 063
    lab_original = colour.rgb_to_lab(original[skin]).reshape(-1, 3).mean(axis=0)
    lab_shifted = colour.rgb_to_lab(photo[skin]).reshape(-1, 3).mean(axis=0)
    lab_corrected = colour.rgb_to_lab(corrected[skin]).reshape(-1, 3).mean(axis=0)
    assert np.linalg.norm(lab_shifted - lab_original) > 4.0  # the shift is visible (JND 2.3, MASI.md)
    assert np.linalg.norm(lab_corrected - lab_original) < 1.0  # and is undone


def test_upside_down_and_small_charts(face):
    card = draw_chart(patch_px=34, gap_px=7)
    photo = shifted(with_chart(face, np.ascontiguousarray(card[::-1, ::-1])), GAINS)
    correction = chart.chart_correction(photo)[1]
    assert correction is not None and correction.used and correction.residual_delta_e < 1.5
    assert correction.detection.patches_rgb[18].sum() > correction.detection.patches_rgb[23].sum() * 3  # white first


def test_no_chart_no_change_and_no_false_charts(faces_dir):
    for path in sorted(faces_dir.glob("*.jpg"))[::5]:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        corrected, correction = chart.chart_correction(rgb)
        assert correction is None, path.name
        assert corrected is rgb


def test_a_grid_of_wrong_colours_is_not_used(face):
    card = draw_chart()
    patches = card.copy()
    rng = np.random.default_rng(0)
    for value in np.unique(card.reshape(-1, 3), axis=0):  # every patch a random colour, grey row included
        if value.sum() > 3 * 18:
            patches[np.all(card == value, axis=2)] = rng.integers(20, 235, 3)
    correction = chart.chart_correction(with_chart(face, patches))[1]
    assert correction is None or not correction.used


def test_score_image_records_the_chart_and_skin_colour_returns(face, tmp_path):
    original = with_chart(face, draw_chart())
    photo = shifted(original, MIXING)
    scores = {}
    for name, rgb in (("original", original), ("shifted", photo), ("shifted_no_chart", shifted(face, MIXING))):
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        scores[name] = pigmentscan.score_image(path)
    rows = {name: score_row(score) for name, score in scores.items()}
    assert rows["original"]["chart_used"] and rows["shifted"]["chart_used"]
    assert rows["original"]["chart_residual_delta_e"] < 1.0 and rows["shifted"]["chart_residual_delta_e"] < 1.5
    assert rows["shifted_no_chart"]["chart_used"] is False
    assert np.isnan(rows["shifted_no_chart"]["chart_residual_delta_e"])
    lab = {name: np.asarray(score.analysis.reference.lab, float) for name, score in scores.items()}
    # without a chart the whites of the eyes correct the cast only in part (they are white, the skin's
    # colour shift is not a gain); the chart corrects it fully
    assert np.linalg.norm(lab["shifted_no_chart"] - lab["original"]) > 2.0
    assert np.linalg.norm(lab["shifted"] - lab["original"]) < 1.0
    assert scores["shifted"].to_dict()["chart"]["chart_used"] is True


def test_a_chart_cut_by_the_frame_never_fails_the_photo(face):
    card = draw_chart()
    for cut in (0.2, 0.5, 0.8):  # this share of the chart's width outside the photo, on the right
        photo = face.copy()
        visible = card[:, : int(card.shape[1] * (1 - cut))]
        photo[900:900 + visible.shape[0], photo.shape[1] - visible.shape[1]:] = visible
        corrected, correction = chart.chart_correction(photo)
        assert corrected.shape == photo.shape
        assert correction is None or correction.n_patches <= 24


@pytest.mark.parametrize("name", ["122_03.jpg", "120_03.jpg"])
def test_a_more_saturated_cameras_clean_face_reads_clean_with_a_chart(face_path, name):
    # A camera whose colours are 1.3x as saturated scales every melanin contrast of the skin; the
    # chart's 3x3 correction undoes it, so the clean face reads as it does as taken.
    from helpers import read_rgb, saturated

    face = read_rgb(face_path(name))
    as_taken = pigmentscan.score_image(with_chart(face, draw_chart()))
    vivid = pigmentscan.score_image(saturated(with_chart(face, draw_chart()), 1.3))
    vivid_no_chart = pigmentscan.score_image(saturated(face, 1.3))
    assert vivid.to_dict()["chart"]["chart_used"] is True
    assert as_taken.masi <= 0.5 and vivid.masi <= 0.5
    assert vivid_no_chart.masi > 3.0  # the rendering matters: without a chart its clean face reads pigment
