"""Tests of pigmentscan.validation against published worked examples and hand arithmetic.

No expected number here was copied from pigmentscan's own output: each is either printed in the
cited paper or worked out by hand in the test.
"""

from __future__ import annotations

import json
import math
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pigmentscan.errors import ManifestError
from pigmentscan.validation import (
    agreement,
    bland_altman,
    intraclass_correlation,
    lin_ccc,
    merge_scores,
    validate,
    validate_files,
    weighted_kappa,
    write_validation_report,
)

# Shrout & Fleiss 1979, Table 2: six targets rated by four judges.
SHROUT_FLEISS = pd.DataFrame(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    columns=["J1", "J2", "J3", "J4"],
)

# Bland & Altman 1986 (Lancet i:307-10), Table 1: PEFR (l/min), first reading with each meter.
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


# --- intraclass correlation -------------------------------------------------------------------

def test_icc_reproduces_shrout_fleiss_1979_table_2():
    icc = intraclass_correlation(SHROUT_FLEISS).set_index("type")
    published = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71,
                 "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91}
    for form, value in published.items():
        assert round(icc.at[form, "icc"], 2) == value, form
        assert icc.at[form, "ci_low"] <= icc.at[form, "icc"] <= icc.at[form, "ci_high"], form
    assert icc.at["ICC(2,1)", "mcgraw_wong"] == "ICC(A,1)"
    assert icc.at["ICC(3,1)", "mcgraw_wong"] == "ICC(C,1)"
    assert (icc["n_targets"] == 6).all() and (icc["n_raters"] == 4).all() and (icc["reason"] == "").all()


def test_icc_ci_is_not_rounded_and_pingouin_options_are_restored():
    import pingouin

    before = dict(pingouin.options)
    ci = intraclass_correlation(SHROUT_FLEISS).set_index("type").at["ICC(3,1)", "ci_low"]
    assert dict(pingouin.options) == before
    assert ci != round(ci, 2)  # pingouin rounds CIs to 2 decimals by default


@pytest.mark.parametrize(
    "table, words",
    [
        (pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0]}), "at least 3"),
        (pd.DataFrame({"a": [3.0, 3, 3, 3], "b": [3.0, 3, 3, 3]}), "no variance"),
        (pd.DataFrame({"a": [1.0, 2, 3, 4]}), "at least 2"),
        (pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 1, 0, -1]}), "between-target"),
        (pd.DataFrame({"a": [1.0, np.nan, 3], "b": [1.0, 2, np.nan]}), "at least 3"),
    ],
)
def test_icc_degenerate_tables_give_nan_and_a_reason(table, words):
    icc = intraclass_correlation(table)
    assert len(icc) == 6 and icc["icc"].isna().all()
    assert (icc["reason"].str.contains(words)).all()


def test_icc_drops_incomplete_targets_and_is_one_for_identical_columns():
    table = pd.DataFrame({"a": [1.0, 2, 3, 4, np.nan], "b": [1.0, 2, 3, 4, 5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        icc = intraclass_correlation(table).set_index("type")
    assert icc.at["ICC(2,1)", "n_targets"] == 4
    assert icc.at["ICC(2,1)", "icc"] == pytest.approx(1.0)
    assert icc.at["ICC(3,1)", "icc"] == pytest.approx(1.0)


# --- Lin's concordance correlation ------------------------------------------------------------

def test_lin_ccc_identity_is_one():
    c = lin_ccc([1.0, 4, 2, 8, 5], [1.0, 4, 2, 8, 5])
    assert (c.ccc, c.ci_low, c.ci_high, c.n) == (1.0, 1.0, 1.0, 5)


def test_lin_ccc_shifted_vector_matches_hand_arithmetic():
    x = [1, 2, 3, 4]
    # y = x + 1. Means 5/2 and 7/2; n-divisor moments: s_x^2 = s_y^2 = s_xy = (9/4+1/4+1/4+9/4)/4 = 5/4.
    sxy = sx2 = sy2 = Fraction(5, 4)
    ccc = 2 * sxy / (sx2 + sy2 + (Fraction(5, 2) - Fraction(7, 2)) ** 2)
    assert ccc == Fraction(5, 7)
    # Lin 1989/2000 variance of z = atanh(ccc) with r = 1, u^2 = (mean difference)^2 / (s_x s_y) = 4/5:
    # [2 p^3 (1-p) u^2 / (1-p^2)^2 - p^4 u^4 / (2 (1-p^2)^2)] / (n-2) = (25/36 - 25/72) / 2 = 25/144.
    p, u2, q = Fraction(5, 7), Fraction(4, 5), 1 - Fraction(25, 49)
    var_z = (2 * p**3 * (1 - p) * u2 / q**2 - p**4 * u2**2 / (2 * q**2)) / 2
    assert var_z == Fraction(25, 144)
    z, half = math.atanh(5 / 7), stats.norm.ppf(0.975) * 5 / 12  # atanh(5/7) = ln(6)/2
    assert z == pytest.approx(math.log(6) / 2)
    c = lin_ccc(x, [2, 3, 4, 5])
    assert c.ccc == pytest.approx(5 / 7)
    assert c.pearson_r == pytest.approx(1.0) and c.accuracy == pytest.approx(5 / 7)
    assert c.ci_low == pytest.approx(math.tanh(z - half)) and c.ci_high == pytest.approx(math.tanh(z + half))


@pytest.mark.parametrize("seed", range(5))
def test_lin_ccc_never_exceeds_absolute_pearson(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, 30)
    y = 0.7 * x + rng.normal(2, 2, 30)
    c = lin_ccc(x, y)
    assert abs(c.ccc) <= abs(stats.pearsonr(x, y)[0]) + 1e-12
    assert c.ci_low < c.ccc < c.ci_high


# --- Bland-Altman ------------------------------------------------------------------------------

def test_bland_altman_known_bias_and_sd():
    b, d, n = 0.7, 0.5, 8
    reference = np.arange(n) * 3.0
    measured = reference + b + d * (-1.0) ** np.arange(n)  # differences b+d, b-d, b+d, ...
    ba = bland_altman(measured, reference)
    sd = d * math.sqrt(n / (n - 1))  # sum of squares n d^2 over n-1 degrees of freedom
    assert ba.n == n and ba.bias == pytest.approx(b) and ba.sd == pytest.approx(sd)
    assert ba.lower == pytest.approx(b - 1.96 * sd) and ba.upper == pytest.approx(b + 1.96 * sd)
    t = stats.t.ppf(0.975, n - 1)
    assert ba.bias_ci_low == pytest.approx(b - t * sd / math.sqrt(n))
    se_limit = sd * math.sqrt(1 / n + 1.96**2 / (2 * (n - 1)))  # Bland & Altman 1999
    assert ba.upper_ci_high == pytest.approx(b + 1.96 * sd + t * se_limit)
    assert ba.lower_ci_low == pytest.approx(b - 1.96 * sd - t * se_limit)
    old = bland_altman(measured, reference, limits_se="1986")
    assert old.upper_ci_low == pytest.approx(b + 1.96 * sd - t * sd * math.sqrt(3 / n))
    assert set(ba.to_dict()) >= {"bias", "sd", "lower", "upper", "bias_ci_low", "upper_ci_high"}


def test_bland_altman_reproduces_the_1986_pefr_example():
    # Published: mean difference (Wright - mini Wright) -2.1 l/min, s = 38.8, limits of agreement
    # d - 2s = -79.7 and d + 2s = 75.5; 95 % CI of the bias -2.1 +/- 2.12 x 9.4 = -22.0 to 17.8; of the
    # lower limit -79.7 +/- 2.12 x 16.3 (SE = sqrt(3 s^2 / n)) = -114.3 to -45.1. The paper rounds
    # d, s and each SE to one decimal before combining them, hence the tolerances.
    ba = bland_altman(WRIGHT, MINI_WRIGHT, limit_z=2.0, limits_se="1986")
    assert ba.n == 17
    assert ba.bias == pytest.approx(-2.1, abs=0.05) and ba.sd == pytest.approx(38.8, abs=0.05)
    assert ba.lower == pytest.approx(-79.7, abs=0.1) and ba.upper == pytest.approx(75.5, abs=0.1)
    assert (ba.bias_ci_low, ba.bias_ci_high) == (pytest.approx(-22.0, abs=0.1), pytest.approx(17.8, abs=0.1))
    assert (ba.lower_ci_low, ba.lower_ci_high) == (pytest.approx(-114.3, abs=0.2), pytest.approx(-45.1, abs=0.2))
    # The paper also reports r = 0.94 for these data, to show correlation is not agreement.
    assert agreement(WRIGHT, MINI_WRIGHT)["pearson_r"] == pytest.approx(0.94, abs=0.005)


# --- weighted kappa ----------------------------------------------------------------------------

def test_quadratic_kappa_3x3_by_hand():
    measured, reference = [0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 2]
    # Observed counts [[1,1,0],[0,1,1],[0,0,2]], weights (i-j)^2: sum w*O = 1 + 1 = 2.
    # Margins: rows 2,2,2; columns 1,2,3 -> expected E_ij = 2 c_j / 6 = [1/3, 2/3, 1] in every row;
    # sum w*E = (2/3 + 4) + (1/3 + 1) + (4/3 + 2/3) = 8; kappa = 1 - 2/8 = 0.75.
    assert weighted_kappa(measured, reference, labels=range(3)) == pytest.approx(0.75)
    # Unused grades 3 and 4 of a 0-4 scale have empty margins and leave quadratic kappa unchanged.
    assert weighted_kappa(measured, reference, labels=range(5)) == pytest.approx(0.75)
    # Continuous objective grades are rounded to the nearest grade first.
    assert weighted_kappa([0.2, -0.3, 1.4, 0.6, 2.4, 1.9], reference, labels=range(5)) == pytest.approx(0.75)


def test_quadratic_kappa_2x2_equals_cohens_kappa_by_hand():
    # po = 3/4, pe = (2*1 + 2*3)/16 = 1/2, kappa = (3/4 - 1/2) / (1/2) = 0.5
    assert weighted_kappa([0, 1, 0, 1], [0, 1, 1, 1], labels=range(2)) == pytest.approx(0.5)
    assert math.isnan(weighted_kappa([2, 2, 2], [2, 2, 2], labels=range(5)))


def test_agreement_drops_nan_pairs_and_reports_n():
    a = agreement([1.0, 2, np.nan, 4, 5, 6], [1.5, 2.5, 3, np.nan, 5.5, 6.5], ordinal_labels=range(7))
    assert a["n"] == 4 and a["bias"] == pytest.approx(-0.5) and a["mae"] == pytest.approx(0.5)
    assert a["rmse"] == pytest.approx(0.5) and a["icc3_1"] == pytest.approx(1.0) and a["icc2_1"] < 1
    assert a["spearman_rho"] == pytest.approx(1.0) and "kappa_quadratic" in a
    short = agreement([1.0, 2], [1.0, 2])
    assert short["n"] == 2 and math.isnan(short["icc2_1"]) and "at least 3" in short["reason"]


# --- validate() on a synthetic study -----------------------------------------------------------

VISITS = ("week 12", "baseline", "week 4")  # deliberately not in time order


def _study(offset=0.0, visits=VISITS, error_row=True, mmasi=True):
    """Scores and manifest for 4 subjects x visits; objective = physician (+ offset on MASI)."""
    scores, manifest = [], []
    for s in range(4):
        for j, visit in enumerate(visits):
            name = f"S{s}_{visit.replace(' ', '')}.jpg"
            masi = 30.0 - 7 * j + 2.5 * s + (s * j) % 3
            area, dark, hom = (s + j) % 7, (2 * s + j) % 5, (s + 2 * j) % 5
            row = {"image": f"photos/{name}", "subject": f"S{s}", "visit": visit,
                   "physician_masi": masi, "physician_mmasi": masi / 2,
                   "physician_forehead_area": area, "physician_forehead_darkness": dark,
                   "physician_forehead_homogeneity": hom}
            manifest.append(row)
            scores.append({"image": f"/elsewhere/{name}", "subject": f"S{s}", "visit": visit,
                           "status": "warn" if (s, j) == (1, 1) else "ok", "error": "",
                           "masi": masi + offset, "mmasi": masi / 2, "forehead_area_score": area,
                           "forehead_darkness": dark, "forehead_homogeneity": hom})
    scores, manifest = pd.DataFrame(scores), pd.DataFrame(manifest)
    if not mmasi:
        scores, manifest = scores.drop(columns="mmasi"), manifest.drop(columns="physician_mmasi")
    if error_row:  # S0's baseline photo could not be scored: it must not count
        bad = scores.index[(scores["subject"] == "S0") & (scores["visit"] == "baseline")]
        scores.loc[bad, ["status", "error", "masi"]] = ["error", "no face found", 99.0]
    return scores, manifest


def _row(table, measure, component="total", analysis="visit", visit="all"):
    hit = table[(table["analysis"] == analysis) & (table["visit"] == visit)
                & (table["measure"] == measure) & (table["component"] == component)]
    assert len(hit) == 1, (measure, component, analysis, visit)
    return hit.iloc[0]


def test_validate_identical_scores_agree_perfectly():
    scores, manifest = _study(visits=("baseline",))
    table = validate(scores, manifest)
    masi = _row(table, "masi")
    assert masi["n"] == 3 and masi["n_subjects"] == 3  # 4 photos, one with status error
    assert masi["icc2_1"] == pytest.approx(1.0) and masi["icc3_1"] == pytest.approx(1.0)
    assert masi["bias"] == 0 and masi["mae"] == 0 and masi["ccc"] == pytest.approx(1.0)
    for comp in ("area", "darkness", "homogeneity"):
        assert _row(table, comp, "forehead")["kappa_quadratic"] == pytest.approx(1.0)
    assert set(table["component"]) == {"total", "forehead"}  # regions absent from both are skipped


def test_validate_constant_offset_shows_as_bias_not_as_consistency():
    scores, manifest = _study(offset=1.5, visits=("baseline",), error_row=False)
    masi = _row(validate(scores, manifest), "masi")
    assert masi["bias"] == pytest.approx(1.5) and masi["sd_diff"] == pytest.approx(0, abs=1e-12)
    assert masi["loa_lower"] == pytest.approx(1.5) and masi["loa_upper"] == pytest.approx(1.5)
    assert masi["icc3_1"] == pytest.approx(1.0) and masi["icc2_1"] < 1
    assert masi["pearson_r"] == pytest.approx(1.0) and masi["ccc"] < 1


def test_merge_joins_on_file_name_and_marks_unusable_rows():
    scores, manifest = _study(visits=("baseline",))
    merged = merge_scores(scores, manifest)
    assert merged.attrs["join"] == "file_name" and len(merged) == 4
    assert merged["usable"].tolist() == [False, True, True, True]
    exact = merge_scores(scores.assign(image=manifest["image"]), manifest)
    assert exact.attrs["join"] == "exact"


def test_merge_prefers_resolved_path_to_file_name(tmp_path):
    scores, manifest = _study(visits=("baseline",))
    scores["image_path"] = [str(tmp_path / "a" / ".." / p) for p in manifest["image"]]
    manifest["image_path"] = [str(tmp_path / p) for p in manifest["image"]]
    assert merge_scores(scores, manifest).attrs["join"] == "resolved_path"


def test_merge_skips_rows_read_manifest_flagged_and_treats_empty_cells_as_missing():
    scores, manifest = _study(visits=("baseline",), error_row=False)
    manifest["manifest_error"] = ["", "physician_masi 60 is outside 0-48", "", ""]
    scores["subject"] = ""  # read_scores gives "" for an empty cell: the manifest's subject is used
    merged = merge_scores(scores, manifest)
    assert len(merged) == 3 and merged.attrs["manifest_rows_skipped"] == [
        "photos/S1_baseline.jpg: physician_masi 60 is outside 0-48"]
    assert merged["subject"].tolist() == ["S0", "S2", "S3"]


def test_merge_errors_name_both_files():
    scores, manifest = _study(visits=("baseline",))
    sources = {"scores": "run1/scores.csv", "reference": "trial/manifest.csv"}
    with pytest.raises(ManifestError, match="run1/scores.csv and trial/manifest.csv.*no scored image"):
        merge_scores(scores.assign(image=[f"x{i}.png" for i in range(4)]), manifest, sources=sources)
    with pytest.raises(ManifestError, match="listed twice"):
        merge_scores(scores, pd.concat([manifest, manifest]), sources=sources)
    with pytest.raises(ManifestError, match="nothing to compare"):
        validate(scores, manifest[["image", "subject"]])


def test_validate_per_visit_and_change_from_baseline_rows():
    scores, manifest = _study(offset=1.5)
    table = validate(scores, manifest)
    visit_rows = table[(table["analysis"] == "visit") & (table["measure"] == "masi")]
    assert visit_rows["visit"].tolist() == ["all", "baseline", "week 4", "week 12"]
    assert visit_rows["n"].tolist() == [11, 3, 4, 4]
    change = _row(table, "masi", analysis="change_from_baseline")
    # S0's baseline photo failed, so only S1-S3 have changes: 3 subjects x 2 later visits.
    assert change["n"] == 6 and change["n_subjects"] == 3
    # A constant offset cancels in a change from baseline.
    assert change["bias"] == pytest.approx(0, abs=1e-12) and change["icc2_1"] == pytest.approx(1.0)
    later = table[(table["analysis"] == "change_from_baseline") & (table["measure"] == "mmasi")]
    assert later["visit"].tolist() == ["all", "week 4", "week 12"]


# --- files -------------------------------------------------------------------------------------

def _write_inputs(tmp_path, visits, mmasi=True):
    scores, manifest = _study(visits=visits, mmasi=mmasi)
    scores.to_csv(tmp_path / "scores.csv", index=False)
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    return tmp_path / "scores.csv", tmp_path / "manifest.csv"


def _check_report(tmp_path, out, expected_pngs, n_subjects):
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "out", "scores.csv"]
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["agreement.json", "agreement.csv", "agreement.columns.json", "report.html", *expected_pngs])
    doc = json.loads((out / "agreement.json").read_text())
    meta = doc["metadata"]
    assert meta["n_photos"] == len(pd.read_csv(tmp_path / "scores.csv")) - 1 and meta["n_photos_excluded"] == 1
    assert meta["n_subjects"] == n_subjects and meta["sources"]["reference"]["path"].endswith("manifest.csv")
    assert len(meta["sources"]["scores"]["sha256"]) == 64 and "pigmentscan_version" in meta
    assert len(doc["statistics"]) == len(pd.read_csv(out / "agreement.csv"))
    html = (out / "report.html").read_text()
    assert 'class="note">Physician scores here are SIMULATED' in html
    assert html.count("data:image/png;base64,") == len(expected_pngs)
    return doc


def test_validate_files_writes_the_report_and_nothing_else(tmp_path):
    scores_csv, manifest_csv = _write_inputs(tmp_path, ("baseline",))
    note = "Physician scores here are SIMULATED: not a clinical validation."
    table = validate_files(scores_csv, manifest_csv, tmp_path / "out", note=note)
    doc = _check_report(tmp_path, tmp_path / "out", ["scatter_masi.png", "bland_altman_masi.png",
                                                      "scatter_mmasi.png", "bland_altman_mmasi.png"], 3)
    assert doc["metadata"]["join"] == "file_name" and doc["metadata"]["note"] == note
    assert doc["statistics"][0]["measure"] == "masi" and doc["statistics"][0]["n"] == 3
    assert _row(table, "masi")["bias"] == 0
    # Deterministic: a second run writes identical bytes.
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    validate_files(scores_csv, manifest_csv, tmp_path / "out", note=note)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == first


def test_report_includes_change_from_baseline_figures(tmp_path):
    scores_csv, manifest_csv = _write_inputs(tmp_path, ("baseline", "week 4"), mmasi=False)
    table = validate_files(scores_csv, manifest_csv, tmp_path / "out",
                           note="Physician scores here are SIMULATED.")
    pngs = [f"{kind}_masi{suffix}.png" for kind in ("scatter", "bland_altman") for suffix in ("", "_change")]
    _check_report(tmp_path, tmp_path / "out", pngs, 4)
    assert "change_from_baseline" in set(table["analysis"])


def test_validate_files_reports_unreadable_input(tmp_path):
    with pytest.raises(ManifestError, match="missing.csv"):
        validate_files(tmp_path / "missing.csv", tmp_path / "missing.csv", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_write_validation_report_from_tables(tmp_path):
    scores, manifest = _study(visits=("baseline",), mmasi=False)
    scores, manifest = scores.drop(columns="masi"), manifest.drop(columns="physician_masi")
    merged = merge_scores(scores, manifest)
    paths = write_validation_report(validate(scores, manifest), merged, tmp_path / "r")
    assert sorted(paths) == ["columns", "csv", "html", "json"]  # no MASI or mMASI: no figures
    assert all(p.parent == tmp_path / "r" and p.exists() for p in paths.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert "<h2>Summary</h2>" in paths["html"].read_text()


# --- undefined statistics and other reference columns (issue #37) --------------------------------

def test_a_constant_reference_makes_agreement_undefined_not_zero():
    # the physician graded every photo 2: ICC, CCC, correlation and kappa have nothing to agree on
    a = agreement([1.0, 2, 3, 4], [2.0, 2, 2, 2], ordinal_labels=range(5))
    for key in ("icc2_1", "icc2_1_ci_low", "icc3_1", "ccc", "pearson_r", "kappa_quadratic"):
        assert math.isnan(a[key]), key
    assert "reference gives every photo the same value (2)" in a["reason"]
    assert a["bias"] == pytest.approx(0.5) and a["mae"] == pytest.approx(1.0)  # differences stay defined


def test_reference_columns_by_another_prefix_give_the_same_statistics():
    scores, manifest = _study(offset=1.5)
    renamed = manifest.rename(columns=lambda c: c.replace("physician_", "derm_"))
    table, other = validate(scores, manifest), validate(scores, renamed, reference_prefix="derm_")
    stats = [c for c in table.columns if c not in ("physician", "reason")]
    pd.testing.assert_frame_equal(table[stats], other[stats])
    assert set(other["physician"]) == {c.replace("physician_", "derm_") for c in table["physician"]}
    with pytest.raises(ManifestError, match="derm_masi"):  # the prefix is not physician_ there
        validate(scores, manifest, reference_prefix="derm_")


def test_the_report_opens_with_agreement_in_plain_words_and_names_what_is_not_defined(tmp_path):
    scores, manifest = _study(offset=1.5, visits=("baseline", "week 4"))
    manifest["physician_forehead_darkness"] = 2  # a constant reference grade
    scores.to_csv(tmp_path / "scores.csv", index=False)
    manifest.rename(columns=lambda c: c.replace("physician_", "derm_")).to_csv(tmp_path / "derm.csv", index=False)
    from pigmentscan.cli import main

    assert main(["validate", str(tmp_path / "scores.csv"), "--reference", str(tmp_path / "derm.csv"),
                 "--out", str(tmp_path / "out"), "--reference-prefix", "derm_"]) == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    headline = html[html.index('class="headline"'):html.index("</div>", html.index('class="headline"'))]
    assert html.index('class="headline"') < html.index("<table")  # the summary comes first
    assert "derm_* columns" in headline and "MASI (7 photos): ICC(2,1) " in headline
    assert "physicians agree with each other (ICC 0.82, Majid et al. 2016)" in headline
    assert "pigmentscan reads 1.5 points higher on average" in headline  # the offset, as bias
    # the darkness grade the dermatologist gave every photo: agreement not defined, said so, not printed as 0
    row = html[html.index("<td class=\"text\">forehead</td><td class=\"text\">darkness</td>"):]
    assert "not defined (the reference gives every photo the same value (2)" in row[:row.index("</tr>")]
    assert "icc2_1" in html[html.index("<details>"):]  # the raw table is there, folded away
