"""Calibration to physicians: the estimator contract, recovery of known thresholds, held-out agreement.

No physician data ships, so "physicians" here are SIMULATED raters: either grades computed from
known thresholds applied to continuous measures (+ noise), or raters grading the known truth of
melasma phantoms (``pigmentscan.phantom``) scored by the real pipeline. No expected number is
copied from pigmentscan's output: thresholds and gains are the ones the simulation used.
"""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.utils import estimator_checks

from pigmentscan.calibration import (
    MasiCalibrator,
    calibrate_files,
    cross_validated_predictions,
    grade_table,
    measure_columns,
    physician_totals,
)
from pigmentscan.calibration.fits import ordinal_thresholds
from pigmentscan.errors import ManifestError
from pigmentscan.scoring import load_model, model_from_dict

REGIONS = ("forehead", "right_malar", "left_malar", "chin")
PARTS = ("area", "darkness", "homogeneity")
# The simulation's truth (not pigmentscan's defaults): what calibration must find again.
TRUE_DARKNESS = (0.0, 1.7, 3.1, 4.9)  # JND
TRUE_HOMOGENEITY = (0.0, 0.13, 0.33, 0.62)
TRUE_GAIN = {"forehead": 1.4, "right_malar": 1.9, "left_malar": 1.7, "chin": 1.2}


# --- simulated raters -----------------------------------------------------------------------------

def synthetic_measures(n, seed):
    """Continuous measures spread over the ranges real phantom scores show (area 0-60 %, darkness
    0.8-7 JND, patch diameter 0.03-0.75 IOD), 10 % of regions clear."""
    rng = np.random.default_rng(seed)
    columns = {}
    for region in REGIONS:
        columns[f"{region}_area_pct"] = rng.uniform(0.5, 60, n) * (rng.random(n) > 0.1)
        columns[f"{region}_darkness_jnd"] = rng.uniform(0.8, 7.0, n)
        columns[f"{region}_patch_diameter_iod"] = rng.uniform(0.03, 0.75, n)
    return pd.DataFrame(columns)


def rater_from_thresholds(X, seed, *, p_off=0.3):
    """Components a rater gives when grading with the TRUE thresholds and gains, off by one grade
    ``p_off`` of the time (symmetrically, clipped to 1-4); area bands exact."""
    rng = np.random.default_rng(seed)
    truth = grade_table(X, replace(load_model().grading, darkness_thresholds=TRUE_DARKNESS,
                                   homogeneity_thresholds=TRUE_HOMOGENEITY, area_gain=TRUE_GAIN))
    y = pd.DataFrame(index=X.index)
    for region in REGIONS:
        area = truth[f"{region}_area_score"]
        y[f"physician_{region}_area"] = area
        for part in ("darkness", "homogeneity"):
            noise = rng.choice([-1, 0, 1], len(X), p=[p_off / 2, 1 - p_off, p_off / 2])
            y[f"physician_{region}_{part}"] = np.where(area > 0, np.clip(truth[f"{region}_{part}"] + noise, 1, 4), 0)
    totals = physician_totals(y)
    y["physician_masi"], y["physician_mmasi"] = totals["masi"], totals["mmasi"]
    return y


def rate_phantom(truth, rng):
    """A simulated rater grading a phantom's true components: area with multiplicative noise
    (log-normal SD 0.25), darkness and homogeneity off by one 30 % of the time."""
    from pigmentscan.scoring import area_score

    out = {}
    for region in REGIONS:
        t = truth[region]
        area = area_score(min(100.0, t["area_pct"] * float(np.exp(rng.normal(0, 0.25))))) if t["area_score"] else 0
        out[f"physician_{region}_area"] = area
        for part in ("darkness", "homogeneity"):
            off = rng.choice([-1, 0, 1], p=[0.15, 0.7, 0.15])
            out[f"physician_{region}_{part}"] = int(np.clip(t[part] + off, 1, 4)) if area else 0
    parts = {r: {p: out[f"physician_{r}_{p}"] for p in PARTS} for r in REGIONS}
    w = {"forehead": 0.3, "right_malar": 0.3, "left_malar": 0.3, "chin": 0.1}  # Kimbrough-Green 1994
    out["physician_masi"] = sum(w[r] * c["area"] * (c["darkness"] + c["homogeneity"]) for r, c in parts.items())
    out["physician_mmasi"] = sum(w[r] * c["area"] * c["darkness"] for r, c in parts.items())
    return out


@pytest.fixture(scope="module")
def phantoms(faces_dir, tmp_path_factory):
    """24 phantoms (one per London face, at 0.6 scale to save time) scored by the real pipeline,
    a manifest of one simulated rater's grades, and the scores CSV. Built once per module.
    (With 12, a calibrator fitted on 6 noisy ratings was as likely to do worse as better on the
    other 6: its agreement line's slope followed the rater's noise.)"""
    import cv2

    from pigmentscan.errors import PigmentScanError
    from pigmentscan.io import atomic_write_text, read_image, write_png
    from pigmentscan.phantom import make_phantom
    from pigmentscan.pipeline import score_images

    folder = tmp_path_factory.mktemp("calibration_phantoms")
    rng = np.random.default_rng(7)
    rows, paths = [], []
    for i, face in enumerate(sorted(faces_dir.glob("*.jpg"))[:24]):
        rgb = cv2.resize(read_image(face), None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
        try:
            phantom = make_phantom(rgb, seed=100 + i)
        except PigmentScanError:
            continue
        paths.append(write_png(folder / f"s{i:02d}.png", phantom.image))
        rows.append({"image": f"s{i:02d}.png", "subject": f"S{i:02d}", "visit": "baseline",
                     **rate_phantom(phantom.truth, rng), "true_masi": phantom.masi})
    manifest = pd.DataFrame(rows)
    atomic_write_text(folder / "manifest.csv", manifest.drop(columns="true_masi").to_csv(index=False))
    scores = score_images(paths, jobs=2)
    atomic_write_text(folder / "scores.csv", scores.to_csv(index=False))
    table = pd.concat([manifest, scores.drop(columns=["image", "subject", "visit"])], axis=1)
    assert (table["status"] != "error").all(), table.loc[table["status"] == "error", "error"]
    return {"folder": folder, "table": table, "paths": paths}


def physician(table):
    return table[[c for c in table.columns if c.startswith("physician_")]]


# --- the scikit-learn estimator contract ----------------------------------------------------------

def test_scikit_learn_contract():
    X = synthetic_measures(60, seed=1)
    y = rater_from_thresholds(X, seed=2)
    est = MasiCalibrator(area_gain_bounds=(0.5, 3.0), totals_fit="least_squares")
    # sklearn's own checks that need no numpy X (this estimator reads named DataFrame columns)
    for check in (estimator_checks.check_no_attributes_set_in_init, estimator_checks.check_get_params_invariance,
                  estimator_checks.check_set_params, estimator_checks.check_parameters_default_constructible):
        check("MasiCalibrator", est)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    assert twin.set_params(totals_fit="agreement") is twin and twin.totals_fit == "agreement"
    with pytest.raises(NotFittedError):
        est.predict(X)
    with pytest.raises(NotFittedError):
        est.to_model()
    X_before, y_before = X.copy(), y.copy()
    assert est.fit(X, y) is est  # fit returns self ...
    pd.testing.assert_frame_equal(X, X_before)  # ... and leaves its inputs alone
    pd.testing.assert_frame_equal(y, y_before)
    assert est.get_params()["area_gain_bounds"] == (0.5, 3.0)  # fitting does not touch the parameters
    learned = [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]
    assert {"darkness_thresholds_", "homogeneity_thresholds_", "area_gain_", "masi_scale_", "mmasi_offset_"} <= set(learned)
    refit = clone(est).fit(X, y)
    assert refit.grading_ == est.grading_  # deterministic
    with pytest.raises(ValueError, match="totals_fit"):
        MasiCalibrator(totals_fit="magic").fit(X, y)
    with pytest.raises(ValueError, match="lacks the continuous measure"):
        MasiCalibrator().fit(X.drop(columns="chin_darkness_jnd"), y)


def test_cross_validation_keeps_each_subject_on_one_side():
    X = synthetic_measures(90, seed=3)
    y = rater_from_thresholds(X, seed=4)
    subjects = np.repeat(np.arange(30), 3)  # three photos per subject
    scores = cross_val_score(MasiCalibrator(), X, y, groups=subjects, cv=GroupKFold(n_splits=3))
    assert scores.shape == (3,) and np.all(scores > 0.8)  # Lin's CCC on held-out folds
    out = cross_validated_predictions(X, y, subjects, folds=5)
    assert out.groupby(subjects)["fold"].nunique().max() == 1 and set(out["fold"]) == set(range(5))
    assert out[["calibrated_masi", "default_masi", "physician_masi"]].notna().all().all()


# --- fitting --------------------------------------------------------------------------------------

def test_ordinal_thresholds_is_the_exact_least_absolute_error_fit():
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = np.round(rng.uniform(0, 1, 9), 1)  # ties included
        y = rng.integers(1, 5, 9).astype(float)
        cuts = ordinal_thresholds(x, y, prior=(0.3, 0.6, 0.9))
        fitted = np.abs(1 + np.searchsorted(cuts, x, side="right") - y).sum()
        values = np.unique(x)
        gaps = np.concatenate([[values[0] - 1], (values[1:] + values[:-1]) / 2, [values[-1] + 1]])
        best = min(np.abs(1 + np.searchsorted(c, x, side="right") - y).sum()
                   for c in combinations_with_replacement(gaps, 3))
        assert fitted == best


def test_recovers_known_thresholds_and_gains_from_component_grades():
    X = synthetic_measures(400, seed=6)
    y = rater_from_thresholds(X, seed=7)
    cal = MasiCalibrator().fit(X, y)
    np.testing.assert_allclose(cal.darkness_thresholds_[1:], TRUE_DARKNESS[1:], atol=0.25)  # 4 % of the range
    np.testing.assert_allclose(cal.homogeneity_thresholds_[1:], TRUE_HOMOGENEITY[1:], atol=0.04)
    for region, gain in TRUE_GAIN.items():
        assert cal.area_gain_[region] == pytest.approx(gain, rel=0.05), region
    assert cal.fitted_from_["darkness_thresholds"] == "physician_<region>_darkness"
    assert cal.masi_scale_ == pytest.approx(1.0, abs=0.1)  # components right: little left for the line


def test_raters_who_grade_fainter_pigment_get_the_fainter_level():
    """Areas at several contrast levels are in the scores: calibration picks the raters' level, no rescoring."""
    from pigmentscan.calibration.estimator import level_columns

    X = synthetic_measures(300, seed=12)
    rng = np.random.default_rng(13)
    levels = {0.75: 1.6, 1.0: 1.0, 1.5: 0.7, 2.0: 0.45, 3.0: 0.2}  # less area at higher levels
    extra = rng.uniform(0.8, 1.2, (len(X), 4))  # levels do not differ by one factor: a gain cannot stand in
    for level, share in levels.items():
        X[level_columns(level)] = np.minimum(100.0, X[[f"{r}_area_pct" for r in REGIONS]].to_numpy() * share
                                             * (extra if level == 0.75 else 1.0))
    faint = grade_table(X, load_model().grading, 0.75)  # raters who see pigment down to 0.75 JND
    y = pd.DataFrame({f"physician_{r}_area": faint[f"{r}_area_score"] for r in REGIONS})
    cal = MasiCalibrator().fit(X, y)
    assert cal.detection_level_ == 0.75 and cal.fitted_from_["detection_level"] == "physician_<region>_area"
    assert cal.to_model().lesion.detection_level_jnd == 0.75
    assert (cal.predict(X)[[f"{r}_area_score" for r in REGIONS]].to_numpy() == y.to_numpy()).mean() > 0.95
    # raters who grade what the default sees keep the default level
    y_default = pd.DataFrame({f"physician_{r}_area": grade_table(X, load_model().grading)[f"{r}_area_score"]
                              for r in REGIONS})
    assert MasiCalibrator().fit(X, y_default).detection_level_ == load_model().lesion.detection_level_jnd


@pytest.mark.parametrize("total", ["physician_masi", "physician_mmasi"])
def test_recovers_darkness_thresholds_from_totals_only(total):
    X = synthetic_measures(400, seed=8)
    gain = {r: 1.6 for r in REGIONS}  # from totals only a common gain is identifiable
    truth = grade_table(X, replace(load_model().grading, darkness_thresholds=TRUE_DARKNESS,
                                   homogeneity_thresholds=TRUE_HOMOGENEITY, area_gain=gain))
    rng = np.random.default_rng(9)
    name = total.removeprefix("physician_")
    y = pd.DataFrame({total: np.clip(truth[f"{name}_raw"] + rng.normal(0, 0.5, len(X)), 0, None)})
    cal = MasiCalibrator().fit(X, y)
    np.testing.assert_allclose(cal.darkness_thresholds_[1:], TRUE_DARKNESS[1:], atol=0.5)  # 8 % of the range
    assert cal.area_gain_["chin"] == pytest.approx(1.6, rel=0.1)
    assert cal.fitted_from_["darkness_thresholds"] == f"{total} (bounded search)"


@pytest.mark.parametrize("given", ["physician_masi", "physician_mmasi", "components"])
def test_fits_what_the_physician_data_identify(given):
    X = synthetic_measures(120, seed=10)
    y = rater_from_thresholds(X, seed=11)
    columns = [c for c in y if c.count("_") >= 2 and not c.endswith("masi")] if given == "components" else [given]
    cal = MasiCalibrator().fit(X, y[columns])
    base = load_model().grading
    how = cal.fitted_from_
    if given == "physician_mmasi":  # mMASI has no homogeneity, and says nothing about MASI's line
        assert cal.homogeneity_thresholds_ == base.homogeneity_thresholds and how["homogeneity_thresholds"] == "base model"
        assert (cal.masi_scale_, cal.masi_offset_) == (base.masi_scale, base.masi_offset)
        assert how["mmasi_scale/offset"].startswith("physician_mmasi")
    elif given == "physician_masi":
        assert how["homogeneity_thresholds"] == "physician_masi (bounded search)"
        assert (cal.mmasi_scale_, cal.mmasi_offset_) == (base.mmasi_scale, base.mmasi_offset)
        assert len(set(cal.area_gain_.values())) == 1  # one common factor
    else:
        assert how["area_gain"] == "physician_<region>_area"
        assert how["masi_scale/offset"].startswith("formula of physician components")
    predicted = cal.predict(X)
    assert predicted[["masi", "mmasi"]].notna().all().all()
    reference = physician_totals(y)["masi" if given != "physician_mmasi" else "mmasi"]
    default = grade_table(X, base)["masi" if given != "physician_mmasi" else "mmasi"]
    measure = "masi" if given != "physician_mmasi" else "mmasi"
    assert np.mean(np.abs(predicted[measure] - reference)) < np.mean(np.abs(default - reference))


# --- on real phantom scores -----------------------------------------------------------------------

def test_grade_table_is_what_score_image_computes(phantoms):
    from pigmentscan.lesions import RegionMeasures
    from pigmentscan.scoring import grade_region, totals

    table = phantoms["table"]
    grading = replace(load_model().grading, darkness_thresholds=(0.0, 1.5, 3.0, 5.0), area_gain=TRUE_GAIN,
                      masi_scale=1.2, masi_offset=0.5)
    fast = grade_table(table, grading)
    for i, row in table.iterrows():
        regions = {r: grade_region(r, RegionMeasures(row[f"{r}_area_pct"] / 100, row[f"{r}_darkness_jnd"], 0, 0, 0, 0,
                                                     row[f"{r}_patch_diameter_iod"], 0, 1, 1.0), grading)
                   for r in REGIONS}
        for r, s in regions.items():
            assert (fast.at[i, f"{r}_area_score"], fast.at[i, f"{r}_darkness"], fast.at[i, f"{r}_homogeneity"]) == (
                s.area_score, s.darkness, s.homogeneity)
        assert fast.at[i, "masi"] == pytest.approx(totals(regions, grading)["masi"])


def test_calibration_improves_agreement_on_held_out_subjects(phantoms):
    from pigmentscan.validation import agreement

    table = phantoms["table"]
    train, test = table.iloc[::2], table.iloc[1::2]  # different subjects (one photo each)
    # A site whose raters total MASI 30 % higher than the phantom truth (the default model now
    # agrees with the truth itself, so only a site's own systematic difference is left to learn).
    site = physician(table).assign(physician_masi=lambda t: 1.3 * t["physician_masi"])
    cal = MasiCalibrator().fit(train, site.loc[train.index])
    calibrated = agreement(cal.predict(test)["masi"], site.loc[test.index, "physician_masi"])
    default = agreement(grade_table(test, load_model().grading)["masi"], site.loc[test.index, "physician_masi"])
    assert calibrated["mae"] < default["mae"]
    assert abs(calibrated["bias"]) < abs(default["bias"])


def test_json_round_trip_keeps_predictions_identical(phantoms, tmp_path):
    table = phantoms["table"]
    cal = MasiCalibrator().fit(table, physician(table), groups=table["subject"])
    model = cal.to_model(name="site-A")
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    loaded = load_model(path)
    again = model_from_dict(json.loads(model.to_json()))
    assert loaded.grading == model.grading == again.grading
    # the lesion stage is the base model's but for the contrast level the raters' areas matched best
    assert replace(loaded.lesion, detection_level_jnd=load_model().lesion.detection_level_jnd) == load_model().lesion
    assert loaded.lesion.detection_level_jnd == cal.detection_level_
    # the clean-face template travels with the calibrated model (the same expectation as the base model)
    assert loaded.face_template.to_dict() == load_model().face_template.to_dict()
    assert loaded.content_hash == model.content_hash and loaded.label.startswith("site-A@")
    pd.testing.assert_frame_equal(grade_table(table, loaded.grading, cal.area_level_), cal.predict(table))
    info = json.loads(path.read_text())["calibration"]
    assert info["training_set"]["n_photos"] == len(table) and info["training_set"]["n_subjects"] == len(table)
    assert info["base_model"] == load_model().label and info["pigmentscan_version"]
    assert info["training_set"]["physician_ranges"]["physician_masi"][1] == pytest.approx(table["physician_masi"].max())
    assert "pickle" not in path.read_text()


def test_cli_calibrate_writes_a_model_score_image_loads(phantoms, tmp_path, capsys):
    import pigmentscan
    from pigmentscan import cli

    folder = phantoms["folder"]
    out = tmp_path / "calibrated.json"
    assert cli.main(["calibrate", str(folder / "manifest.csv"), "--out", str(out),
                     "--scores", str(folder / "scores.csv"), "--folds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "ICC(A,1)" in printed and "calibrated" in printed and "default" in printed and "3 folds" in printed
    model = load_model(out)
    assert model.extra["calibration"]["cross_validation"]["folds"] == 3
    score = pigmentscan.score_image(phantoms["paths"][0], model=out)
    assert score.model == model.label
    expected = MasiCalibrator().fit(phantoms["table"], physician(phantoms["table"])).predict(phantoms["table"].iloc[:1])
    # the calibrated model draws lesions at its fitted contrast level: the area is the one predict read from
    # the scores' level columns, darkness and pattern are measured anew on those lesions (predict kept the
    # default level's), so the totals agree to within a fraction of one grade step
    assert score.masi == pytest.approx(expected["masi"].iloc[0], abs=0.5)


def test_calibrate_files_reports_cross_validated_default_and_calibrated(phantoms, tmp_path):
    folder = phantoms["folder"]
    result = calibrate_files(folder / "manifest.csv", tmp_path / "m.json", scores_csv=folder / "scores.csv", folds=4)
    assert set(result.agreement["model"]) == {"default", "calibrated"} and result.folds == 4
    assert {"icc2_1", "icc2_1_ci_low", "icc2_1_ci_high", "mae", "bias", "loa_lower", "loa_upper"} <= set(result.agreement)
    assert result.n_subjects == len(phantoms["table"]) and (tmp_path / "m.json").is_file()


def test_validate_cli_end_to_end_with_a_note(phantoms, tmp_path):
    from pigmentscan import cli

    folder = phantoms["folder"]
    note = "Physician scores here are SIMULATED raters, not physicians."
    assert cli.main(["validate", str(folder / "scores.csv"), "--reference", str(folder / "manifest.csv"),
                     "--out", str(tmp_path / "v"), "--note", note]) == 0
    assert json.loads((tmp_path / "v" / "agreement.json").read_text())["metadata"]["note"] == note
    assert note in (tmp_path / "v" / "report.html").read_text()


# --- bad input ------------------------------------------------------------------------------------

def test_malformed_inputs_raise_manifest_errors_naming_the_file(phantoms, tmp_path, capsys):
    from pigmentscan import cli

    folder = phantoms["folder"]
    no_image = tmp_path / "no_image.csv"
    no_image.write_text("photo,physician_masi\ns00.png,3\n")
    with pytest.raises(ManifestError, match="no_image.csv.*'image'"):
        calibrate_files(no_image, tmp_path / "m.json", scores_csv=folder / "scores.csv")
    assert cli.main(["calibrate", str(no_image), "--out", str(tmp_path / "m.json")]) == 1
    assert "no_image.csv" in capsys.readouterr().err
    no_reference = tmp_path / "no_reference.csv"
    no_reference.write_text("image,subject\ns00.png,S00\n")
    with pytest.raises(ManifestError, match="no_reference.csv.*no physician score column"):
        calibrate_files(no_reference, tmp_path / "m.json")
    scores = pd.read_csv(folder / "scores.csv")
    other = tmp_path / "other_model.csv"
    scores.assign(model="someone-else@0123456789abcdef").to_csv(other, index=False)
    with pytest.raises(ManifestError, match="other_model.csv.*someone-else"):
        calibrate_files(folder / "manifest.csv", tmp_path / "m.json", scores_csv=other)
    bare = tmp_path / "bare.csv"
    scores.drop(columns=measure_columns()[:3]).to_csv(bare, index=False)
    with pytest.raises(ManifestError, match="bare.csv.*continuous measure"):
        calibrate_files(folder / "manifest.csv", tmp_path / "m.json", scores_csv=bare)
    assert not (tmp_path / "m.json").exists()
