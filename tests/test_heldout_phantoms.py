"""Held-out phantoms (pigmentscan.heldout_phantoms): the truth follows the painted pigment.

The pure-array tests run anywhere; the ones on a real London face (an odd-numbered one, 041)
need the photos of ../shared/faces or $PIGMENTSCAN_FACES and MediaPipe, and are in the slow
tier (tests/conftest.py marks every test using the ``face_path`` fixture ``faces`` and ``slow``).
"""

import json

import numpy as np
import pytest

from pigmentscan.colour import JND_DELTA_E, rgb_to_lab, srgb_to_linear
from pigmentscan.heldout_phantoms import add_flush, draw_case, draw_parameters, mirror, retake
from pigmentscan.heldout_phantoms.colour_model import (DERMAL_MELANIN, EPIDERMAL_MELANIN, HAEMOGLOBIN,
                                                       delta_e_of_amount)
from pigmentscan.heldout_phantoms.truth import area_score, contrast_map, masi_of

FACE = "041_03.jpg"


# --- pure arrays ------------------------------------------------------------------------------

def test_pigment_directions_follow_skin_optics():
    # epidermal melanin absorbs most in blue; dermal melanin, seen through the dermis, in red;
    # haemoglobin in green
    assert EPIDERMAL_MELANIN[2] > EPIDERMAL_MELANIN[1] > EPIDERMAL_MELANIN[0]
    assert DERMAL_MELANIN[0] > DERMAL_MELANIN[2]
    assert np.argmax(HAEMOGLOBIN) == 1


def test_brown_pigment_is_browner_and_dermal_greyer():
    skin = srgb_to_linear(np.array([0.85, 0.68, 0.58]))
    lab_epi = _lab_of_linear(skin * np.exp(-0.4 * EPIDERMAL_MELANIN))
    lab_derm = _lab_of_linear(skin * np.exp(-0.4 * DERMAL_MELANIN))
    lab_skin = _lab_of_linear(skin)
    assert lab_epi[0] < lab_skin[0] and lab_derm[0] < lab_skin[0]
    assert lab_epi[2] > lab_skin[2]  # brown: b* up
    assert lab_derm[2] < lab_skin[2]  # grey-blue: b* down
    assert delta_e_of_amount(skin, 0.4, EPIDERMAL_MELANIN) > JND_DELTA_E


def _lab_of_linear(linear):
    from pigmentscan.colour import linear_rgb_to_xyz, xyz_to_lab
    return xyz_to_lab(linear_rgb_to_xyz(np.asarray(linear, float)))


def test_contrast_map_counts_only_the_difference():
    clean = np.full((40, 40, 3), 160, np.uint8)
    assert contrast_map(clean, clean, 100.0).max() == 0
    painted = clean.copy()
    painted[10:30, 10:30] = (140, 120, 100)
    c = contrast_map(painted, clean, 100.0)
    assert c[20, 20] > 3 and c[0, 0] < 0.05


def test_masi_formula_and_bands():
    regions = {"forehead": {"area_score": 3, "darkness_grade": 2, "homogeneity_grade": 3},
               "right_malar": {"area_score": 6, "darkness_grade": 4, "homogeneity_grade": 4},
               "left_malar": {"area_score": 0, "darkness_grade": 0, "homogeneity_grade": 0},
               "chin": {"area_score": 2, "darkness_grade": 1, "homogeneity_grade": 1}}
    assert masi_of(regions) == pytest.approx(0.3 * 3 * 5 + 0.3 * 6 * 8 + 0.1 * 2 * 2)
    assert masi_of(regions, modified=True) == pytest.approx(0.3 * 3 * 2 + 0.3 * 6 * 4 + 0.1 * 2 * 1)
    assert [area_score(p) for p in (0, 5, 10, 69.9, 70, 95)] == [0, 1, 2, 4, 5, 6]


def test_parameter_draws_cover_the_brief():
    draws = [draw_parameters(np.random.default_rng(s)) for s in range(600)]
    share = lambda key, value: np.mean([d[key] == value for d in draws])  # noqa: E731
    assert 0.05 < share("clear", True) < 0.16
    for pattern in ("centrofacial", "malar", "mandibular"):
        assert 0.25 < share("pattern", pattern) < 0.42
    for texture in ("blotchy", "speckled", "reticulated"):
        assert 0.25 < share("texture", texture) < 0.42
    for kind in ("brown", "grey-blue", "mixed"):
        assert share("kind", kind) > 0.18
    dark = np.array([d["darkness_jnd"] for d in draws])
    inv = np.array([d["involvement"] for d in draws])
    assert dark.min() >= 1.0 and dark.max() <= 8.0 and 0.3 < np.mean(dark <= 2.5) < 0.5
    assert np.mean(inv >= 0.7) > 0.35 and inv.min() < 0.1


def test_draws_are_deterministic():
    a = draw_parameters(np.random.default_rng(5))
    b = draw_parameters(np.random.default_rng(5))
    assert a == b


# --- on a real face ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def face(face_path):
    from pigmentscan.io import load_rgb
    from pigmentscan.landmarks import detect_landmarks
    rgb, _ = load_rgb(face_path(FACE))
    return rgb, detect_landmarks(rgb)


@pytest.fixture(scope="module")
def malar_case(face):
    rgb, landmarks = face
    return draw_case(rgb, 11, landmarks=landmarks, clear=False, pattern="malar", kind="brown",
                     texture="blotchy", involvement=0.6, darkness_jnd=3.0, side_weights={"right": 1.0, "left": 0.3})


def test_clear_case_has_zero_truth(face):
    rgb, landmarks = face
    case = draw_case(rgb, 3, landmarks=landmarks, clear=True)
    assert np.array_equal(case.image, rgb)
    assert not case.truth_mask.any() and case.contrast_jnd.max() == 0 and case.masi == 0
    assert all(r["area_pct"] == 0 and r["area_score"] == 0 for r in case.regions.values())
    assert case.skin_mask.sum() > 0.05 * case.skin_mask.size


def test_truth_is_the_painted_difference(malar_case, face):
    rgb, _ = face
    case = malar_case
    changed = np.abs(case.image.astype(int) - rgb.astype(int)).max(axis=-1) > 2
    assert changed.sum() > 1000
    assert case.truth_mask.sum() > 0
    assert not (case.truth_mask & ~case.skin_mask).any()
    # involved pixels were painted, and the region darkness is the requested contrast (±20 %)
    assert changed[case.truth_mask].mean() > 0.9
    assert case.regions["right_malar"]["darkness_jnd"] == pytest.approx(3.0, rel=0.2)
    assert case.regions["right_malar"]["area_pct"] > case.regions["left_malar"]["area_pct"]
    json.dumps(case.to_dict())
    for key in ("pattern", "texture", "kind", "darkness_jnd", "involvement", "ita_deg"):
        assert key in case.to_dict()["params"]


def test_darker_pigment_gives_larger_contrast(face):
    rgb, landmarks = face
    common = dict(landmarks=landmarks, clear=False, pattern="centrofacial", kind="mixed", texture="reticulated",
                  involvement=0.5)
    faint = draw_case(rgb, 21, darkness_jnd=1.5, **common)
    dark = draw_case(rgb, 21, darkness_jnd=6.0, **common)
    assert dark.contrast_jnd.max() > faint.contrast_jnd.max()
    assert np.median(dark.contrast_jnd[dark.truth_mask]) > 2 * np.median(faint.contrast_jnd[faint.truth_mask])
    assert dark.truth_mask.sum() >= faint.truth_mask.sum()
    assert dark.masi > faint.masi
    assert faint.regions["forehead"]["darkness_grade"] <= 2


def test_confluent_centrofacial_runs_past_the_regions(face):
    from pigmentscan.regions import region_masks
    rgb, landmarks = face
    case = draw_case(rgb, 4, landmarks=landmarks, clear=False, pattern="centrofacial", kind="brown",
                     texture="blotchy", involvement=0.95, darkness_jnd=4.0)
    masks = region_masks(rgb.shape, landmarks.points_px, landmarks.iod_px)
    inside = np.zeros(rgb.shape[:2], bool)
    for mask in masks.values():
        inside |= mask
    outside = case.truth_mask & ~inside
    assert outside.sum() > 0.1 * case.truth_mask.sum()
    assert min(r["area_pct"] for r in case.regions.values()) > 50
    assert max(r["area_score"] for r in case.regions.values()) >= 5


def test_mirror_swaps_malar_truth(malar_case):
    m = mirror(malar_case)
    assert m.regions["right_malar"] == malar_case.regions["left_malar"]
    assert m.regions["left_malar"] == malar_case.regions["right_malar"]
    assert m.regions["forehead"] == malar_case.regions["forehead"]
    assert np.array_equal(m.contrast_jnd, malar_case.contrast_jnd[:, ::-1])
    assert np.array_equal(m.image, malar_case.image[:, ::-1])
    # the stronger (patient's right) cheek is now on the image's right
    width = m.image.shape[1]
    cols = np.nonzero(m.truth_mask)[1]
    assert np.mean(cols > width / 2) > 0.5
    assert mirror(m).regions == malar_case.regions


def test_flush_keeps_truth_and_adds_redness(malar_case):
    for kind in ("diffuse", "patchy"):
        flushed = add_flush(malar_case, strength=0.7, kind=kind, seed=1)
        assert np.array_equal(flushed.truth_mask, malar_case.truth_mask)
        assert np.array_equal(flushed.contrast_jnd, malar_case.contrast_jnd)
        assert flushed.regions == malar_case.regions and flushed.masi == malar_case.masi
        skin = malar_case.skin_mask
        a_before = rgb_to_lab(malar_case.image)[skin][:, 1].mean()
        a_after = rgb_to_lab(flushed.image)[skin][:, 1].mean()
        assert a_after > a_before + 0.5, kind


def test_flush_on_a_plain_photo(face):
    rgb, landmarks = face
    out = add_flush(rgb, strength=0.5, kind="patchy", seed=2, landmarks=landmarks)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert rgb_to_lab(out)[..., 1].mean() > rgb_to_lab(rgb)[..., 1].mean()


def test_retake_moves_truth_with_pixels(malar_case):
    again = retake(malar_case, seed=5)
    assert not np.array_equal(again.image, malar_case.image)
    for key, region in malar_case.regions.items():
        assert again.regions[key]["area_pct"] == pytest.approx(region["area_pct"], abs=3.0)
    step = again.history[-1]
    # the truth mask follows the warp: its centroid moves with the shift (within 2 px of the affine)
    matrix_shift = np.array(step["shift_px"])
    before = np.array(np.nonzero(malar_case.truth_mask)[::-1]).mean(axis=1)
    after = np.array(np.nonzero(again.truth_mask)[::-1]).mean(axis=1)
    centre = (np.array(malar_case.image.shape[1::-1]) - 1) / 2
    expected = centre + step["scale"] * _rotate(before - centre, step["angle_deg"]) + matrix_shift
    assert np.abs(after - expected).max() < 2.0
    assert retake(again, seed=6).regions.keys() == malar_case.regions.keys()


def _rotate(vector, angle_deg):
    # cv2.getRotationMatrix2D: positive angles turn counter-clockwise in the image (y down)
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return rot @ vector
