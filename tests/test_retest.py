"""Smallest detectable change from test-retest photos, and detection of change against it.

Hand-built score tables; expected numbers are hand arithmetic written out here (one-way ANOVA
within-subject SD, Weir 2005), or scipy's normal quantile.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from scipy import stats

from pigmentscan.cli import main
from pigmentscan.errors import ManifestError
from pigmentscan.longitudinal import (
    RetestReliability,
    changes_from_baseline,
    compare,
    compare_files,
    lesion_area_pct,
    smallest_detectable_change,
)
from pigmentscan.longitudinal.reliability import parse_sdc

REGIONS = ("forehead", "right_malar", "left_malar", "chin")


def _photo(subject, visit, masi, areas=(10.0, 10.0, 10.0, 10.0), status="ok"):
    return {"image": f"{subject}_{visit}_{masi}.jpg", "subject": subject, "visit": visit, "status": status,
            "masi": masi, "mmasi": masi / 2} | {f"{r}_area_pct": a for r, a in zip(REGIONS, areas)}


def test_lesion_area_is_the_masi_weighted_share_of_the_regions():
    scores = pd.DataFrame([_photo("a", "baseline", 1.0, areas=(10.0, 20.0, 30.0, 40.0))])
    assert lesion_area_pct(scores).iloc[0] == pytest.approx(0.3 * 10 + 0.3 * 20 + 0.3 * 30 + 0.1 * 40)
    changes = changes_from_baseline(pd.concat([scores, pd.DataFrame([_photo("a", "week 4", 1.0)])]))
    assert changes["lesion_area_pct_change"].tolist() == pytest.approx([0.0, 10.0 - 22.0])


def test_sdc_is_weir_from_the_pooled_within_subject_sd():
    # a: sessions 10 and 12 (deviations +-1); b: 4, 4, 4 (none); c: one session only, left out.
    retest = pd.DataFrame([_photo("a", "1", 10.0), _photo("a", "2", 12.0), _photo("b", "1", 4.0),
                           _photo("b", "2", 4.0), _photo("b", "3", 4.0), _photo("c", "1", 7.0),
                           _photo("b", "4", 99.0, status="error")])
    result = smallest_detectable_change(retest, measures=["masi", "mmasi"])
    sd_within = math.sqrt((1 + 1 + 0) / (5 - 2))  # sum of squares within / (sessions - subjects)
    row = result.table.set_index("measure").loc["masi"]
    assert (row["n_subjects"], row["n_sessions"]) == (2, 5)
    assert row["sd_within"] == pytest.approx(sd_within)
    assert result.sdc["masi"] == pytest.approx(stats.norm.ppf(0.975) * math.sqrt(2) * sd_within)
    assert result.sdc["mmasi"] == pytest.approx(result.sdc["masi"] / 2)
    # 3 degrees of freedom: sigma lies within SD_w * sqrt(3 / chi2(0.975, 3)) .. sqrt(3 / chi2(0.025, 3))
    assert (row["sdc_ci_low"], row["sdc_ci_high"]) == pytest.approx(
        (row["sdc"] * math.sqrt(3 / 9.348404), row["sdc"] * math.sqrt(3 / 0.2157953)), rel=1e-5)
    wider = smallest_detectable_change(retest, measures=["masi"], confidence=0.99).sdc["masi"]
    assert wider == pytest.approx(stats.norm.ppf(0.995) * math.sqrt(2) * sd_within)
    assert json.loads(json.dumps(result.to_dict()))["sdc"] == pytest.approx(result.sdc)


def test_photos_of_one_session_are_averaged_first():
    # Two photos per session: session means 10 and 12 again, whatever the spread within a session.
    retest = pd.DataFrame([_photo("a", "1", 9.0), _photo("a", "1", 11.0), _photo("a", "2", 11.0),
                           _photo("a", "2", 13.0)])
    row = smallest_detectable_change(retest, measures=["masi"]).table.iloc[0]
    assert (row["n_sessions"], row["sd_within"]) == (2, pytest.approx(math.sqrt(2.0)))
    # Without visits each photo is a session: deviations from 11 are -2, 0, 0, 2 over 3 df.
    alone = smallest_detectable_change(retest.drop(columns="visit"), measures=["masi"]).table.iloc[0]
    assert alone["sd_within"] == pytest.approx(math.sqrt(8 / 3))


def test_a_retest_without_repeats_or_measure_is_refused():
    once = pd.DataFrame([_photo("a", "1", 10.0), _photo("b", "1", 4.0)])
    with pytest.raises(ManifestError, match="at least twice"):
        smallest_detectable_change(once)
    with pytest.raises(ManifestError, match="no 'melanin' column"):
        smallest_detectable_change(pd.DataFrame([_photo("a", "1", 1.0), _photo("a", "2", 1.0)]), measures=["melanin"])


def _visits():
    # MASI 10 -> 8 -> 9.5; lesion area 10 -> 6 -> 13 (every region alike, so the weighted area is the same).
    return pd.DataFrame([_photo("s", "baseline", 10.0), _photo("s", "week 4", 8.0, areas=(6.0,) * 4),
                         _photo("s", "week 8", 9.5, areas=(13.0,) * 4)])


def test_detected_change_by_lesion_area_by_default():
    changes = changes_from_baseline(_visits(), sdc={"masi": 1.0, "lesion_area_pct": 2.5})
    by_visit = changes.set_index("visit")
    # area -4 (beyond 2.5) and +3 (beyond): improved, then worsened although MASI fell by 0.5
    assert by_visit["detected_change"].to_dict() == {"baseline": "none", "week 4": "improved", "week 8": "worsened"}
    assert by_visit["masi_beyond_sdc"].tolist() == [False, True, False]
    assert by_visit["lesion_area_pct_beyond_sdc"].tolist() == [False, True, True]
    assert by_visit["beyond_sdc"].tolist() == [False, True, True]


def test_detect_by_several_measures_reports_mixed():
    changes = changes_from_baseline(_visits(), sdc={"masi": 0.4, "lesion_area_pct": 2.5},
                                    detect_by=["masi", "lesion_area_pct"])
    # week 8: MASI -0.5 (down beyond 0.4), area +3 (up beyond 2.5)
    assert changes.set_index("visit")["detected_change"]["week 8"] == "mixed"
    masi_only = changes_from_baseline(_visits(), sdc={"masi": 0.4, "lesion_area_pct": 2.5}, detect_by="masi")
    assert masi_only.set_index("visit")["detected_change"]["week 8"] == "improved"


def test_a_number_is_masi_points_as_before():
    changes = changes_from_baseline(_visits(), sdc=1.5)
    assert changes["beyond_sdc"].tolist() == [False, True, False]  # |-2| > 1.5, |-0.5| is not
    assert changes["detected_change"].tolist() == ["none", "improved", "none"]
    assert not any(c.endswith("_beyond_sdc") and c != "beyond_sdc" for c in changes.columns)


def test_bad_sdc_and_detect_by_are_refused():
    with pytest.raises(ValueError, match="finite number"):
        changes_from_baseline(_visits(), sdc={"masi": -1.0})
    with pytest.raises(ValueError, match="detect_by"):
        changes_from_baseline(_visits(), sdc={"masi": 1.0}, detect_by="lesion_area_pct")
    with pytest.raises(ManifestError, match="lack"):
        changes_from_baseline(_visits().drop(columns="mmasi"), sdc={"mmasi": 1.0})
    assert parse_sdc("0.64") == 0.64
    assert parse_sdc("masi=0.64, lesion_area_pct=2.3") == {"masi": 0.64, "lesion_area_pct": 2.3}
    with pytest.raises(ValueError, match="measure=value"):
        parse_sdc("masi=high")


def test_compare_takes_a_retest_result_and_summarises_detection():
    retest = pd.DataFrame([_photo("r", "1", 10.0, areas=(10.0,) * 4), _photo("r", "2", 10.0, areas=(11.0,) * 4)])
    reliability = smallest_detectable_change(retest)
    assert isinstance(reliability, RetestReliability)
    assert reliability.sdc["lesion_area_pct"] == pytest.approx(stats.norm.ppf(0.975) * math.sqrt(2) * math.sqrt(0.5))
    comparison = compare(_visits(), sdc=reliability)
    assert comparison.detect_by == ("lesion_area_pct",) and set(comparison.sdc) == {"masi", "mmasi", "lesion_area_pct"}
    summary = comparison.summary.set_index("visit")
    assert (summary.loc["week 4", "improved_fraction"], summary.loc["week 8", "worsened_fraction"]) == (1.0, 1.0)
    assert summary.loc["week 4", "lesion_area_pct_change_mean"] == pytest.approx(-4.0)


def test_compare_files_and_cli_measure_the_sdc_from_retest_scores(tmp_path, capsys):
    scores, retest = tmp_path / "scores.csv", tmp_path / "retest.csv"
    _visits().to_csv(scores, index=False)
    pd.DataFrame([_photo("r", "1", 10.0, areas=(10.0,) * 4),
                  _photo("r", "2", 10.0, areas=(11.0,) * 4)]).to_csv(retest, index=False)
    comparison = compare_files(scores, tmp_path / "api", retest=retest, panels=False)
    written = pd.read_csv(tmp_path / "api" / "sdc.csv").set_index("measure")["sdc"]
    assert written.to_dict() == pytest.approx(comparison.sdc)
    html = (tmp_path / "api" / "report.html").read_text(encoding="utf-8")
    assert "(SDC, 95 %) of repeat photography; source: measured on the retest photos retest.csv" in html
    assert "At week 8: 0 of 1 improved beyond noise, 1 worsened, 0 within noise." in html  # week 8 worsened

    assert main(["compare", str(scores), "--out", str(tmp_path / "cli"), "--retest", str(retest),
                 "--sdc", "masi=5", "--no-panels"]) == 0
    changes = pd.read_csv(tmp_path / "cli" / "changes.csv")
    assert changes["masi_beyond_sdc"].tolist() == [False, False, False]  # --sdc wins over the retest's
    assert "detected by lesion_area_pct" in capsys.readouterr().out
    assert main(["compare", str(scores), "--out", str(tmp_path / "bad"), "--sdc", "1",
                 "--detect-by", "lesion_area_pct", "--no-panels"]) == 2
    assert "detect_by" in capsys.readouterr().err
    once = tmp_path / "once.csv"
    pd.DataFrame([_photo("r", "1", 10.0)]).to_csv(once, index=False)
    assert main(["compare", str(scores), "--out", str(tmp_path / "x"), "--retest", str(once), "--no-panels"]) == 1
    assert "once.csv" in capsys.readouterr().err
