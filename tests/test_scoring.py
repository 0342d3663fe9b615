"""MASI / mMASI formulas and grading against hand-computed cases (Kimbrough-Green 1994, Pandya 2011)."""

import json

import numpy as np
import pytest

from pigmentscan.errors import ModelError
from pigmentscan.lesions import RegionMeasures
from pigmentscan.scoring import (
    Grading,
    area_score,
    expected_grade,
    grade_region,
    load_model,
    masi,
    mmasi,
    model_from_dict,
    totals,
)

REGIONS = ("forehead", "right_malar", "left_malar", "chin")


def components(area, darkness, homogeneity):
    return {r: {"area": area, "darkness": darkness, "homogeneity": homogeneity} for r in REGIONS}


def test_all_zero():
    assert masi(components(0, 0, 0)) == 0.0
    assert mmasi(components(0, 0, 0)) == 0.0


def test_maximum_is_48_and_24():
    # 0.3*6*8 * 3 + 0.1*6*8 = 43.2 + 4.8 = 48; mMASI: 0.3*6*4*3 + 0.1*6*4 = 21.6 + 2.4 = 24
    assert masi(components(6, 4, 4)) == pytest.approx(48.0)
    assert mmasi(components(6, 4, 4)) == pytest.approx(24.0)


def test_region_with_zero_area_contributes_nothing():
    parts = components(0, 4, 4)
    parts["right_malar"] = {"area": 3, "darkness": 2, "homogeneity": 1}
    # only right malar: 0.3 * 3 * (2 + 1) = 2.7 ; mMASI 0.3 * 3 * 2 = 1.8
    assert masi(parts) == pytest.approx(2.7)
    assert mmasi(parts) == pytest.approx(1.8)


def test_weights_by_hand():
    parts = {
        "forehead": {"area": 2, "darkness": 1, "homogeneity": 2},     # 0.3*2*3 = 1.8
        "right_malar": {"area": 4, "darkness": 3, "homogeneity": 3},  # 0.3*4*6 = 7.2
        "left_malar": {"area": 1, "darkness": 1, "homogeneity": 1},   # 0.3*1*2 = 0.6
        "chin": {"area": 5, "darkness": 2, "homogeneity": 4},         # 0.1*5*6 = 3.0
    }
    assert masi(parts) == pytest.approx(12.6)
    assert mmasi(parts) == pytest.approx(0.3 * 2 * 1 + 0.3 * 4 * 3 + 0.3 * 1 * 1 + 0.1 * 5 * 2)


@pytest.mark.parametrize(
    "pct, expected",
    [(0, 0), (0.01, 1), (9.9, 1), (10, 2), (29.99, 2), (30, 3), (49.9, 3), (50, 4), (69.9, 4), (70, 5), (89.9, 5), (90, 6), (100, 6)],
)
def test_area_bands(pct, expected):
    assert area_score(pct) == expected


@pytest.mark.parametrize("bad", [-1, 100.5, float("nan")])
def test_area_out_of_range(bad):
    with pytest.raises(ValueError):
        area_score(bad)


def test_out_of_range_component_is_refused():
    with pytest.raises(ValueError):
        masi(components(7, 1, 1))


def measures(area_fraction, contrast=0.5, patch=0.3):
    """RegionMeasures with a darkness of ``contrast`` (JND) and a pattern size of ``patch`` (IOD)."""
    return RegionMeasures(area_fraction, contrast, 0.1, 5.0, -3.0, 4.0, patch, 1, 1000, 1.0)


def test_grade_region_uses_thresholds():
    grading = Grading(darkness_thresholds=(0.0, 0.4, 0.6, 0.8), homogeneity_thresholds=(0.0, 0.1, 0.3, 0.6))
    # darkness 0.65 reaches three of (0, 0.4, 0.6, 0.8); pattern 0.2 two of (0, 0.1, 0.3, 0.6)
    score = grade_region("forehead", measures(0.35, contrast=0.65, patch=0.2), grading)
    assert (score.area_score, score.darkness, score.homogeneity) == (3, 3, 2)
    assert score.area_pct == pytest.approx(35.0)


def test_tiny_area_is_none():
    score = grade_region("chin", measures(0.001), Grading(min_area_pct=0.5))
    assert (score.area_score, score.darkness, score.homogeneity) == (0, 0, 0)


def test_area_gain_corrects_measured_area():
    grading = Grading(area_gain={"forehead": 1.5, "right_malar": 1, "left_malar": 1, "chin": 1})
    assert grade_region("forehead", measures(0.2), grading).area_pct == pytest.approx(30.0)


def test_rewording_the_model_card_keeps_the_identity_and_the_scores(tmp_path):
    model = load_model()
    data = json.loads(model.to_json())
    data["provenance"] = {"face_template": "reworded entirely", "note": "a new sentence"}
    data["description"] = "another description"
    path = tmp_path / "reworded.json"
    path.write_text(json.dumps(data))
    reworded = load_model(path)
    assert reworded.content_hash == model.content_hash and reworded.label == model.label
    data["lesion"]["min_support_malar"] = model.lesion.min_support_malar * 1.1  # a parameter: a new identity
    path.write_text(json.dumps(data))
    assert load_model(path).content_hash != model.content_hash


def test_model_round_trip_and_hash_changes(tmp_path):
    model = load_model()
    path = tmp_path / "m.json"
    path.write_text(model.to_json())
    again = load_model(path)
    assert again.content_hash == model.content_hash
    changed = model.with_grading(masi_scale=1.2)
    assert changed.content_hash != model.content_hash


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="pickle"), "not a pigmentscan model"),
        (lambda d: d.update(format_version=99), "format_version"),
        (lambda d: d["grading"].update(darkness_thresholds=[0.5, 0.1, 0.2, 0.3]), "ascending"),
        (lambda d: d["grading"].update(darkness_thresholds="__import__('os')"), "list of 4"),
        (lambda d: d["lesion"].update(min_support_malar="0.3"), "finite number"),
        (lambda d: d["lesion"].update(evil=1), "unknown lesion"),
        (lambda d: d.update(region_template="other-v9"), "region template"),
        (lambda d: d["lesion"].update(melanin_od_direction=[0, 0, 0]), "absorption direction"),
        (lambda d: d["lesion"].update(smoothing_iod=-0.1), "plausible range"),
        (lambda d: d["lesion"].update(detection_level_jnd=1e308), "plausible range"),
        (lambda d: d.update(lesion_classifier={}), "no learned classifier"),
        (lambda d: d["face_template"].update(mode_variance=[-1.0] * 6), "mode_variance"),
        (lambda d: d["face_template"].update(mean_jnd=[[0.0] * 300] * 300), "pixels"),
        (lambda d: d.update(name={"$eval": "x"}), "must be text"),
        (lambda d: d["grading"].update(area_uncertainty_pct=-2.0), "0 or more"),
        (lambda d: d["grading"].update(darkness_uncertainty="0.1"), "finite number"),
    ],
)
def test_bad_models_are_refused(tmp_path, mutate, message):
    data = json.loads(load_model().to_json())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message) as info:
        load_model(path)
    assert "bad.json" in str(info.value)


def test_not_json_model(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\x80\x04\x95 pickle bytes")
    with pytest.raises(ModelError, match="model.json"):
        load_model(path)
    with pytest.raises(ModelError):
        model_from_dict([1, 2, 3])


# --- expected grades: the bands averaged over the measure's uncertainty ---------------------------

def test_expected_grade_is_the_banded_grade_without_uncertainty():
    values = [0.0, 9.99, 10.0, 45.0, 95.0]
    assert expected_grade(values, (10.0, 30.0, 50.0, 70.0, 90.0), 0.0).tolist() == [0, 0, 1, 2, 5]


def test_expected_grade_by_hand():
    # on an edge: half a grade from it, the edges 20 points away count whole (Phi(4) = 0.99997)
    assert expected_grade(30.0, (10.0, 30.0, 50.0), 5.0) == pytest.approx(1.5, abs=1e-4)
    # three SD above one edge, one below the next, five below the last: Phi(3) + Phi(-1) + Phi(-5)
    # = 0.998650 + 0.158655 + 0.0000003 (standard normal table)
    assert expected_grade(25.0, (10.0, 30.0, 50.0), 5.0) == pytest.approx(1.157305, abs=1e-5)
    # far from every edge it is the banded grade
    assert expected_grade(40.0, (10.0, 30.0, 50.0), 1.0) == pytest.approx(2.0, abs=1e-12)


def test_expected_grade_is_monotone_and_continuous_across_an_edge():
    values = np.linspace(0, 100, 2001)
    graded = expected_grade(values, (10.0, 30.0, 50.0, 70.0, 90.0), 3.0)
    assert np.all(np.diff(graded) > 0)
    assert np.max(np.diff(graded)) < 0.01  # a step of 0.05 points never moves it by a hundredth of a grade


def test_a_band_edge_costs_a_whole_grade_banded_but_not_expected():
    grading = Grading(area_uncertainty_pct=4.0, darkness_uncertainty=0.05, homogeneity_uncertainty_iod=0.03)
    below, above = (grade_region("right_malar", measures(f), grading) for f in (0.299, 0.301))
    assert (below.area_score, above.area_score) == (2, 3)
    assert abs(above.expected_area_score - below.expected_area_score) < 0.05
    assert below.expected_area_score == pytest.approx(2.5, abs=0.05)


def test_totals_use_expected_grades_and_report_the_banded_formula():
    grading = Grading(area_uncertainty_pct=5.0, darkness_uncertainty=0.0, homogeneity_uncertainty_iod=0.0,
                      darkness_thresholds=(0.0, 0.4, 0.6, 0.8),
                      homogeneity_thresholds=(0.0, 0.1, 0.3, 0.6))
    # every region: 30 % area (on an edge: A 3 banded, 2.5 expected), contrast 0.5 (D 2), patch 0.45 (H 3)
    regions = {r: grade_region(r, measures(0.30, contrast=0.5, patch=0.45), grading) for r in REGIONS}
    result = totals(regions, grading)
    assert result["masi_banded"] == pytest.approx(3 * 0.3 * 3 * 5 + 0.1 * 3 * 5)    # 15.0
    assert result["mmasi_banded"] == pytest.approx(3 * 0.3 * 3 * 2 + 0.1 * 3 * 2)   # 6.0
    # darkness and homogeneity are 0.1 and 0.15 from their thresholds, uncertainty 0: exact
    assert result["masi"] == pytest.approx(3 * 0.3 * 2.5 * 5 + 0.1 * 2.5 * 5, abs=1e-3)  # 12.5
    assert result["mmasi"] == pytest.approx(3 * 0.3 * 2.5 * 2 + 0.1 * 2.5 * 2, abs=1e-3)  # 5.0


def test_without_uncertainty_totals_are_the_banded_formula():
    grading = Grading(area_uncertainty_pct=0.0, darkness_uncertainty=0.0, homogeneity_uncertainty_iod=0.0)
    regions = {r: grade_region(r, measures(0.30 + 0.1 * i, contrast=0.5 + 0.2 * i), grading) for i, r in enumerate(REGIONS)}
    result = totals(regions, grading)
    assert result["masi"] == result["masi_banded"] == result["masi_raw"]


def test_uncertainties_round_trip_through_the_model_file(tmp_path):
    model = load_model().with_grading(area_uncertainty_pct=3.5, darkness_uncertainty=0.04,
                                      homogeneity_uncertainty_iod=0.02)
    path = tmp_path / "m.json"
    path.write_text(model.to_json())
    again = load_model(path)
    assert again.grading == model.grading
    assert again.content_hash == model.content_hash


def test_the_code_defaults_score_as_the_shipped_model():
    # LesionParams() and Grading() are the shipped analysis: a model built from them (with the
    # shipped clean-face template, which only the file holds) scores a photo exactly as the default
    import dataclasses

    import pigmentscan
    from pigmentscan.lesions import LesionParams

    shipped = load_model()
    own = dataclasses.replace(shipped, lesion=LesionParams(), grading=Grading())
    photo = "sample_images/grace_hopper_phantom.png"
    a, b = pigmentscan.score_image(photo, model=shipped), pigmentscan.score_image(photo, model=own)
    assert a.masi == b.masi and a.masi > 1
    assert [r.area_pct for r in a.regions.values()] == [r.area_pct for r in b.regions.values()]
    assert own.content_hash == shipped.content_hash
