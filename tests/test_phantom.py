"""The melasma phantom generator (pigmentscan.phantom) and what the analysis finds in it, on real faces."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import pigmentscan
from pigmentscan import colour
from pigmentscan.landmarks import detect_landmarks
from pigmentscan.phantom import (MELANIN_OD_DIRECTION, make_phantom, visible_truth, graded_truth, melanin_for_delta_e, random_drift,
                                 reacquire)
from pigmentscan.regions import REGION_KEYS

from helpers import dice, mask_in_analysis_crop, read_rgb


@pytest.fixture(scope="module")
def face(face_path):
    rgb = read_rgb(face_path("063_03.jpg"))
    return rgb, detect_landmarks(rgb)


def test_melanin_direction_follows_the_spectrum():
    # melanin absorbs ~ lambda^-3.5 (MASI.md): blue > green > red in optical density
    r, g, b = MELANIN_OD_DIRECTION
    assert b > g > r > 0 and np.linalg.norm(MELANIN_OD_DIRECTION) == pytest.approx(1)


def test_darkness_amounts_give_their_delta_e():
    skin = (65.0, 12.0, 17.0)
    for delta_e in (4.6, 6.9, 10.35, 13.8):
        amount = melanin_for_delta_e(delta_e, skin)
        from pigmentscan.colour import lab_to_linear_rgb
        linear = lab_to_linear_rgb(skin)
        lab = colour.xyz_to_lab(colour.linear_rgb_to_xyz(linear * np.exp(-amount * MELANIN_OD_DIRECTION)))
        assert np.linalg.norm(lab - np.array(skin)) == pytest.approx(delta_e, abs=0.01)


def test_truth_matches_the_mask_and_seeds_reproduce(face):
    rgb, landmarks = face
    a = make_phantom(rgb, seed=7, landmarks=landmarks)
    for key in REGION_KEYS:
        region = a.region_masks[key]
        assert a.truth[key]["area_fraction"] == (a.lesion_mask & region).sum() / region.sum()
        assert a.truth[key]["area_pct"] == pytest.approx(100 * a.truth[key]["area_fraction"])
    b = make_phantom(rgb, seed=7, landmarks=landmarks)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.lesion_mask, b.lesion_mask) and a.truth == b.truth
    c = make_phantom(rgb, seed=8, landmarks=landmarks)
    assert not np.array_equal(a.lesion_mask, c.lesion_mask)
    # pigment only darkens: nowhere brighter than the photo (beyond rounding)
    assert (a.image.astype(int) <= rgb.astype(int) + 1).all()


def test_fading_shrinks_the_same_patches_in_place(face):
    rgb, landmarks = face
    baseline = make_phantom(rgb, seed=7, landmarks=landmarks, area_fraction=0.3, darkness=3, homogeneity=3)
    same = make_phantom(rgb, seed=7, landmarks=landmarks, area_fraction=0.3, darkness=3, homogeneity=3,
                        pattern_area_fraction=0.3)
    assert np.array_equal(same.image, baseline.image)  # the default draws for the area asked
    faded = make_phantom(rgb, seed=7, landmarks=landmarks, area_fraction=0.2, darkness=3, homogeneity=3,
                         pattern_area_fraction=0.3)
    for key in REGION_KEYS:
        assert faded.truth[key]["area_pct"] == pytest.approx(20.0, abs=1.5)
    inside = (faded.lesion_mask & baseline.lesion_mask).sum() / faded.lesion_mask.sum()
    assert inside > 0.98  # what is left lies where the baseline's patches were
    redrawn = make_phantom(rgb, seed=7, landmarks=landmarks, area_fraction=0.2, darkness=3, homogeneity=3)
    assert (redrawn.lesion_mask & baseline.lesion_mask).sum() / redrawn.lesion_mask.sum() < inside


def test_requested_grades_are_met(face):
    rgb, landmarks = face
    p = make_phantom(rgb, seed=1, landmarks=landmarks, area_fraction={"forehead": 0.4, "right_malar": 0.6,
                     "left_malar": 0.05, "chin": 0.0}, darkness=3, homogeneity={"right_malar": 3, "left_malar": 1})
    assert p.truth["forehead"]["area_pct"] == pytest.approx(40, abs=3)
    assert p.truth["right_malar"]["area_pct"] == pytest.approx(60, abs=3)
    assert p.truth["chin"] == {**p.truth["chin"], "area_score": 0, "darkness": 0, "homogeneity": 0}
    assert p.truth["right_malar"]["darkness"] == 3
    assert p.truth["right_malar"]["homogeneity"] >= 3 and p.truth["left_malar"]["homogeneity"] <= 2
    assert p.masi > 0 and p.to_dict()["truth"]["forehead"]["area_score"] == 3


def test_reacquire_moves_the_mask_with_the_photo(face):
    rgb, landmarks = face
    p = make_phantom(rgb, seed=2, landmarks=landmarks, area_fraction=0.3, darkness=2)
    drift = random_drift(np.random.default_rng(0))
    assert -0.1 <= drift["exposure"] <= 0.1 and 85 <= drift["jpeg_quality"] <= 95
    image, mask = reacquire(p.image, seed=1, mask=p.lesion_mask, exposure=0.1, rotation_deg=2, scale=1.05,
                            jpeg_quality=90)
    assert image.shape == rgb.shape and mask.shape == p.lesion_mask.shape
    assert mask.sum() == pytest.approx(1.05**2 * p.lesion_mask.sum(), rel=0.05)
    same, _ = reacquire(p.image, seed=1)
    assert np.abs(same.astype(int) - p.image).max() <= 3


MALAR = ("right_malar", "left_malar")


def test_the_true_lesion_is_found(face):
    # The truth on the grading scale: the skin the added melanin makes 1 JND or more
    # (visible_truth), not the phantom's half-maximum outline, which leaves out a visible rim.
    rgb, landmarks = face
    p = make_phantom(rgb, seed=11, landmarks=landmarks, area_fraction={"forehead": 0.2, "right_malar": 0.4,
                     "left_malar": 0.3, "chin": 0.0}, darkness=3, homogeneity={"forehead": 2, "right_malar": 3, "left_malar": 3})
    score = pigmentscan.score_image(p.image)
    visible, involved = visible_truth(p)
    true = mask_in_analysis_crop(involved, score)
    for key in ("forehead", *MALAR):
        region = mask_in_analysis_crop(p.region_masks[key], score)
        assert visible[key]["area_pct"] >= p.truth[key]["area_pct"], key  # the rim is seen
        assert dice(true & region, score.analysis.lesion_mask & region) > 0.6, key
        assert abs(score.regions[key].area_pct - visible[key]["area_pct"]) < 15, key
    assert score.regions["chin"].area_pct < 5
    truth = graded_truth(p)
    assert abs(score.masi - truth["masi"]) < 0.35 * truth["masi"]


def test_a_darker_phototype_without_lesions_stays_near_zero(face, face_path):
    for name, darkening in (("063_03.jpg", 0.8), ("009_03.jpg", 0.5)):
        rgb = read_rgb(face_path(name))
        p = make_phantom(rgb, seed=3, area_fraction=0.0, constitutive_darkening=darkening)
        assert p.masi == 0 and not p.lesion_mask.any()
        darker = pigmentscan.score_image(p.image)
        assert darker.analysis.reference.ita_deg < pigmentscan.score_image(rgb).analysis.reference.ita_deg - 10
        assert darker.masi <= 3.5, name  # the clean faces' 90th-percentile bound (test_pipeline)


def test_darker_true_grades_measure_darker(face):
    rgb, landmarks = face
    contrasts = []
    for grade in (1, 2, 3, 4):  # the same pattern (same seed), more pigment
        p = make_phantom(rgb, seed=5, landmarks=landmarks, area_fraction={"right_malar": 0.5, "left_malar": 0.5,
                         "forehead": 0.0, "chin": 0.0}, darkness=grade, homogeneity=3)
        score = pigmentscan.score_image(p.image)
        contrasts.append([score.regions[k].measures.melanin_contrast for k in MALAR])
    contrasts = np.asarray(contrasts)
    assert (np.diff(contrasts, axis=0) > 0).all(), contrasts


def test_a_retest_changes_masi_little(face):
    rgb, landmarks = face
    p = make_phantom(rgb, seed=21, landmarks=landmarks, area_fraction={"forehead": 0.3, "right_malar": 0.5,
                     "left_malar": 0.4, "chin": 0.2}, darkness=3)
    rng = np.random.default_rng(4)
    takes = [pigmentscan.score_image(reacquire(p.image, seed=k, **random_drift(rng))[0]).masi for k in range(2)]
    assert abs(takes[0] - takes[1]) <= 3.0, takes


def test_expected_grades_steady_a_retest_that_flips_a_band(face):
    """Every region's true area on the 30 % band edge: between drifted takes the banded grades flip,
    the expected grades the totals use (scoring.expected_grade) move a little."""
    rgb, landmarks = face
    # A pattern whose measured areas straddle the edge between takes (seed 21's no longer does
    # with the steadier masks of the default classifier's context stage: banded range 0.2)
    p = make_phantom(rgb, seed=3, landmarks=landmarks, area_fraction=0.3, darkness=3)
    rng = np.random.default_rng(4)
    scores = [pigmentscan.score_image(reacquire(p.image, seed=k, **random_drift(rng))[0]) for k in range(4)]
    scored, banded = (np.array([getattr(s, name) for s in scores]) for name in ("masi", "masi_banded"))
    assert np.ptp(banded) >= 1.0, banded  # a whole band step of a malar region is 1.8 points here
    spread = {name: sum(abs(a - b) for a, b in itertools.combinations(values, 2))
              for name, values in (("scored", scored), ("banded", banded))}
    # the takes differ in more than the flip (their areas and darkness drift too): the expected
    # grades take out the flip, not the rest
    assert spread["scored"] < 0.8 * spread["banded"], (scored, banded)


def test_the_working_scale_does_not_change_what_is_measured(face):
    # The lesion analysis runs on a copy at work_iod_px (100 px) and returns masks at the crop's
    # scale (200 px); run in full, it must find the same lesion and the same areas.
    import dataclasses

    from pigmentscan.lesions import analyse_face
    from pigmentscan.scoring import load_model

    rgb, landmarks = face
    p = make_phantom(rgb, seed=11, landmarks=landmarks, area_fraction={"forehead": 0.2, "right_malar": 0.4,
                     "left_malar": 0.3, "chin": 0.0}, darkness=3, homogeneity={"forehead": 2, "right_malar": 3, "left_malar": 3})
    model = load_model(None)
    score = pigmentscan.score_image(p.image, model=model)
    params = model.lesion
    crop = score.landmarks.transformed(score.crop_scale, score.crop_offset_px)  # the pipeline's crop frame
    assert params.work_iod_px < crop.iod_px  # the copy really is smaller
    full = analyse_face(score.analysis_image, crop.points_px, crop.iod_px, dataclasses.replace(params, work_iod_px=0),
                        model.face_template)
    work = score.analysis
    assert work.lesion_mask.shape == full.lesion_mask.shape == score.analysis_image.shape[:2]
    assert dice(work.lesion_mask, full.lesion_mask) > 0.95  # 0.98 here
    for key in ("forehead", *MALAR):
        # differences here: <= 0.01 area, <= 0.008 coverage; regions misplaced by 0.04 IOD on the copy: 0.055 coverage
        assert work.measures[key].area_fraction == pytest.approx(full.measures[key].area_fraction, abs=0.02), key
        assert work.measures[key].coverage == pytest.approx(full.measures[key].coverage, abs=0.025), key
        assert work.region_masks[key].sum() == pytest.approx(full.region_masks[key].sum(), rel=0.05), key


def test_sensor_noise_alone_does_not_move_the_lesion_area(face_path):
    # Brown face 129 with faint (darkness 2) pigment, photographed again with nothing changed but
    # the sensor noise (0.6 code values): with the skin's typical optical density taken as the
    # plain median of the 8-bit working copy, it jumped by whole code values and the weighted
    # lesion area with it (25.3-33.0 % over eight takes); now it moves by well under a point.
    from pigmentscan.longitudinal import lesion_area_pct

    rgb = read_rgb(face_path("129_03.jpg"))
    landmarks = detect_landmarks(rgb)
    p = make_phantom(rgb, seed=7, landmarks=landmarks, area_fraction=0.3, darkness=2, homogeneity=3)
    centre = tuple(landmarks.points_px.mean(axis=0))
    areas = []
    for seed in (1000, 1003):  # the takes that read 33.0 % and 25.3 % before
        score = pigmentscan.score_image(reacquire(p.image, seed=seed, centre_xy=centre)[0])
        table = pd.DataFrame({f"{key}_area_pct": [region.area_pct] for key, region in score.regions.items()})
        areas.append(float(lesion_area_pct(table).iloc[0]))
    assert abs(areas[0] - areas[1]) < 1.5, areas


def test_a_centrofacial_phantom_is_one_confluent_pattern_past_the_regions(face):
    rgb, landmarks = face
    p = make_phantom(rgb, seed=5, landmarks=landmarks, area_fraction=0.9, darkness=2, homogeneity=4, layout="centrofacial")
    regions = np.logical_or.reduce([p.region_masks[k] for k in REGION_KEYS])
    outside = p.lesion_mask & ~regions  # nose, upper lip, temples: the pigment ignores the polygons
    assert outside.sum() > 0.2 * (p.lesion_mask & regions).sum()
    assert {p.truth[k]["darkness"] for k in REGION_KEYS} == {2}
    assert all(p.truth[k]["area_pct"] > 50 for k in REGION_KEYS)
    with pytest.raises(ValueError, match="layout"):
        make_phantom(rgb, seed=5, landmarks=landmarks, layout="diagonal")


def test_confluent_centrofacial_pigment_is_measured_not_taken_for_the_faces_tone(face):
    # Pigment over most of the face outnumbers the clear skin left; it must still read as lesion,
    # on three of four draws (a draw that leaves almost no skin clear reads as the face's tone).
    rgb, landmarks = face
    measured = 0
    for seed in range(4):
        p = make_phantom(rgb, seed=seed, landmarks=landmarks, area_fraction=0.8, darkness=3, homogeneity=4,
                         layout="centrofacial")
        truth = graded_truth(p)
        score = pigmentscan.score_image(p.image)
        measured += all(abs(score.regions[k].area_pct - truth["regions"][k]["area_pct"]) < 15 for k in REGION_KEYS)
    assert measured >= 3


def test_pigment_turned_towards_grey_is_graded_by_the_contrast_the_photo_shows(face):
    # The truth grades the contrast the pigment makes along its own direction: it must match the
    # colour difference measured in the photos (phantom against the clean photo) at the lesion's
    # core, where the added melanin is the region's amount.
    from pigmentscan.phantom import greyer_direction

    rgb, landmarks = face
    direction = greyer_direction(20.0)
    assert np.degrees(np.arccos(direction @ MELANIN_OD_DIRECTION)) == pytest.approx(20.0)
    p = make_phantom(rgb, seed=8, landmarks=landmarks, area_fraction=0.4, darkness=3, homogeneity=3,
                     melanin_od_direction=direction)
    assert np.allclose(p.params["melanin_od_direction"], direction)
    truth = graded_truth(p)
    seen_jnd = np.linalg.norm(colour.rgb_to_lab(p.image.reshape(-1, 3)) - colour.rgb_to_lab(rgb.reshape(-1, 3)),
                              axis=1).reshape(rgb.shape[:2]) / 2.3  # 1 JND = dE*ab 2.3 (MASI.md)
    for key in REGION_KEYS:
        amount = p.truth[key]["melanin_od"]
        core = p.region_masks[key] & (np.abs(p.lesion_melanin_od - amount) < 0.05 * amount)
        assert truth["regions"][key]["darkness_jnd"] == pytest.approx(np.median(seen_jnd[core]), rel=0.12), key
    with pytest.raises(ValueError, match="melanin_od_direction"):
        make_phantom(rgb, seed=8, landmarks=landmarks, melanin_od_direction=(0, 0, 0))
