"""Tests for pigmentscan.longitudinal on hand-built score tables (no images).

Expected numbers are hand arithmetic written out here, or computed independently with
scipy.stats (t intervals, Mann-Whitney U, Kruskal-Wallis) — never copied from our own output.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pigmentscan.errors import ManifestError
from pigmentscan.longitudinal import (
    Comparison,
    changes_from_baseline,
    compare,
    compare_arms,
    compare_files,
    group_summary,
    write_comparison_report,
)

# MASI at baseline, week 4, week 12.
ARM_A = {"001": (10.0, 6.0, 5.0), "002": (8.0, 6.0, 2.0), "003": (12.0, 10.0, 9.0)}
ARM_B = {"004": (10.0, 10.0, 11.0), "005": (6.0, 6.0, 5.0), "006": (9.0, 8.0, 8.0)}


def _row(subject, visit, masi, arm=None, status="ok"):
    row = {"image": f"{subject}_{visit}.jpg", "subject": subject, "visit": visit, "status": status,
           "error": "" if status == "ok" else "no face found", "masi": masi,
           "mmasi": None if masi is None else masi / 2,
           "forehead_area_pct": None if masi is None else 3 * masi,
           "forehead_darkness": None if masi is None else masi / 4,
           "forehead_melanin_contrast": None if masi is None else masi / 10}
    return row if arm is None else row | {"arm": arm}


def _trial() -> pd.DataFrame:
    rows = []
    for arm, table in (("A", ARM_A), ("B", ARM_B)):
        for subject, (base, w4, w12) in table.items():
            # "week 12" listed first: it sorts before "week 4" as text.
            rows += [_row(subject, "week 12", w12, arm), _row(subject, "baseline", base, arm),
                     _row(subject, "week 4", w4, arm)]
    rows.append(_row("003", "week 4", 99.0, "A", status="error"))  # error beside a good photo
    rows.append(_row("005", "week 8", 0.0, "B", status="error"))  # visit with only an error row
    rows += [_row("007", "week 4", 3.0, "B"), _row("007", "week 12", 2.0, "B")]  # never had a baseline
    rows += [_row("008", "baseline", None, "A", status="error"), _row("008", "week 12", 4.0, "A")]
    return pd.DataFrame(rows)


def _at(changes, subject, visit):
    hit = changes[(changes["subject"] == subject) & (changes["visit"] == visit)]
    assert len(hit) == 1, (subject, visit)
    return hit.iloc[0]


def test_changes_match_hand_arithmetic():
    changes = changes_from_baseline(_trial())
    sub = changes[changes["subject"] == "002"]
    assert sub["visit"].tolist() == ["baseline", "week 4", "week 12"]
    assert sub["visit_order"].tolist() == [0, 1, 3]  # week 8 (subject 005's failed photo) is a visit of the study
    assert sub["is_baseline"].tolist() == [True, False, False]
    base, w4, w12 = (_at(changes, "002", v) for v in ("baseline", "week 4", "week 12"))
    assert base["masi_change"] == 0 and base["masi_change_pct"] == 0 and base["masi_baseline"] == 8
    assert w4["masi_change"] == 6 - 8 and w4["masi_change_pct"] == pytest.approx(-25.0)
    assert w12["masi_change"] == 2 - 8 and w12["masi_change_pct"] == pytest.approx(-75.0)
    assert w12["mmasi_change"] == pytest.approx(1 - 4)
    assert w12["forehead_area_pct_change"] == pytest.approx(6 - 24)
    assert w12["forehead_darkness_change"] == pytest.approx(0.5 - 2)
    assert w12["forehead_melanin_contrast_change_pct"] == pytest.approx(100 * (0.2 - 0.8) / 0.8)
    worse = _at(changes, "004", "week 12")  # 10 -> 11: worse, negative improvement
    assert worse["masi_change"] == 1 and worse["masi_change_pct"] == pytest.approx(10.0)
    assert not worse["masi_responder_50"]


def test_responders_at_exact_thresholds():
    changes = changes_from_baseline(_trial())
    exactly_half = _at(changes, "001", "week 12")  # 10 -> 5
    assert exactly_half["masi_change_pct"] == -50.0
    assert exactly_half["masi_responder_50"] and not exactly_half["masi_responder_75"]
    three_quarters = _at(changes, "002", "week 12")  # 8 -> 2
    assert three_quarters["masi_responder_50"] and three_quarters["masi_responder_75"]
    assert three_quarters["mmasi_responder_75"]
    quarter = _at(changes, "003", "week 12")  # 12 -> 9
    assert not quarter["masi_responder_50"] and not quarter["masi_responder_75"]
    # (1.4 - 0.35) / 1.4 is 0.7499999999999999 in binary floating point: still a 75 % responder.
    trap = pd.DataFrame([_row("x", "baseline", 1.4), _row("x", "week 12", 0.35)])
    assert _at(changes_from_baseline(trap), "x", "week 12")["masi_responder_75"]


def test_error_rows_are_not_averaged_but_their_visit_stays_with_its_reason():
    changes = changes_from_baseline(_trial())
    kept = _at(changes, "003", "week 4")
    assert kept["masi"] == 10 and kept["n_images"] == 1  # the status-error 99 is not averaged in
    assert kept["n_images_failed"] == 1 and kept["qc_status"] == "ok"
    assert kept["qc_reasons"] == "003_week 4.jpg: not scored: no face found"
    failed = _at(changes, "005", "week 8")  # a visit whose only photo failed is shown, not dropped
    assert failed["n_images"] == 0 and failed["qc_status"] == "error" and math.isnan(failed["masi"])
    assert "005_week 8.jpg: not scored: no face found" in failed["qc_reasons"]
    assert math.isnan(failed["masi_change"]) and pd.isna(failed["masi_responder_50"])


def test_warned_photos_are_used_and_flagged():
    scores = pd.DataFrame([_row("w", "baseline", 10.0), _row("w", "week 4", 6.0) | {
        "status": "warn", "error": "photo soft (blur 0.70, warn beyond 0.65)"}])
    visit = _at(changes_from_baseline(scores), "w", "week 4")
    assert visit["masi_change"] == -4.0 and visit["qc_status"] == "warn"
    assert visit["qc_reasons"] == "w_week 4.jpg: QC warning: photo soft (blur 0.70, warn beyond 0.65)"


def test_no_percent_change_of_grades_or_of_a_measure_already_relative_to_baseline():
    scores = pd.DataFrame([_row("g", "baseline", 8.0) | {"lesion_pigment_pct": 100.0},
                           _row("g", "week 4", 4.0) | {"lesion_pigment_pct": 60.0}])
    changes = changes_from_baseline(scores)
    assert "forehead_darkness_change" in changes and "forehead_darkness_change_pct" not in changes
    assert "lesion_pigment_pct_change" in changes and "lesion_pigment_pct_change_pct" not in changes
    assert _at(changes, "g", "week 4")["lesion_pigment_pct_change"] == -40.0
    assert not any("improvement_rate" in c for c in changes.columns)
    # responders are undefined at baseline (NA), decided later
    assert pd.isna(_at(changes, "g", "baseline")["masi_responder_50"])
    assert _at(changes, "g", "week 4")["masi_responder_50"]


def test_subjects_without_usable_baseline_are_reported():
    changes = changes_from_baseline(_trial())
    never = changes[changes["subject"] == "007"]
    assert never["visit"].tolist() == ["week 4", "week 12"]
    assert never["note"].str.contains("no baseline visit").all()
    assert never["masi_change"].isna().all() and not never["is_baseline"].any()
    assert never["masi"].tolist() == [3.0, 2.0]  # values kept, only the changes are missing
    failed = changes[changes["subject"] == "008"]
    assert failed["visit"].tolist() == ["baseline", "week 12"]
    assert failed["note"].str.contains("not scored").all()
    assert failed["n_images"].tolist() == [0, 1] and failed["masi_change"].isna().all()
    summary = group_summary(changes)
    b_week4 = summary[(summary["arm"] == "B") & (summary["visit"] == "week 4")]
    assert b_week4["masi_mean"].item() == pytest.approx((10 + 6 + 8) / 3)  # 007's 3.0 is not in the mean
    assert summary.loc[(summary["arm"] == "A") & (summary["visit"] == "week 12"), "n"].item() == 3


@pytest.mark.parametrize("labels", [("V1", "V2", "V10"), ("1", "2", "10"), ("baseline", "week 4", "week 12")])
def test_visit_labels_are_ordered_not_sorted_as_text(labels):
    first, second, third = labels
    scores = pd.DataFrame([_row("s", third, 2.0), _row("s", second, 3.0), _row("s", first, 4.0)])
    changes = changes_from_baseline(scores)
    assert changes["visit"].tolist() == [first, second, third]
    assert changes["masi_change"].tolist() == [0.0, -1.0, -2.0]


def test_dates_order_visits_when_labels_are_missing():
    scores = pd.DataFrame([_row("s", None, 2.0) | {"date": "2024-03-01"}, _row("s", None, 5.0) | {"date": "2023-12-01"},
                           _row("s", None, 4.0) | {"date": "2024-01-05"}])
    changes = changes_from_baseline(scores)
    assert changes["date"].tolist() == ["2023-12-01", "2024-01-05", "2024-03-01"]
    assert changes["days_from_baseline"].tolist() == [0, 35, 91]
    assert changes["masi_change"].tolist() == [0.0, -1.0, -3.0]


def test_unorderable_visits_without_dates_raise():
    scores = pd.DataFrame([_row("s", "first look", 2.0), _row("s", "later on", 1.0)])
    with pytest.raises(ManifestError, match="cannot be ordered"):
        changes_from_baseline(scores)


def test_zero_baseline_and_sdc():
    scores = pd.DataFrame([_row("z", "baseline", 0.0), _row("z", "week 4", 1.0),
                           _row("y", "baseline", 10.0), _row("y", "week 4", 7.5), _row("y", "week 12", 8.0)])
    changes = changes_from_baseline(scores, sdc=2.0)
    zero = _at(changes, "z", "week 4")
    assert zero["masi_change"] == 1.0 and math.isnan(zero["masi_change_pct"])
    assert pd.isna(zero["masi_responder_50"])
    # |-2.5| > 2 is beyond the SDC; |-2.0| is not (strictly greater); no change at baseline.
    assert changes.set_index(["subject", "visit"])["beyond_sdc"].to_dict() == {
        ("y", "baseline"): False, ("y", "week 4"): True, ("y", "week 12"): False,
        ("z", "baseline"): False, ("z", "week 4"): False}


def test_group_summary_interval_matches_scipy_t():
    summary = group_summary(changes_from_baseline(_trial(), sdc=2.0))
    row = summary[(summary["arm"] == "A") & (summary["visit"] == "week 12")].iloc[0]
    change = np.array([5 - 10, 2 - 8, 9 - 12], dtype=float)
    low, high = stats.t.interval(0.95, df=2, loc=change.mean(), scale=stats.sem(change))
    assert row["n"] == 3
    assert row["masi_change_mean"] == pytest.approx(change.mean())
    assert (row["masi_change_ci_low"], row["masi_change_ci_high"]) == pytest.approx((low, high))
    pct = np.array([-50.0, -75.0, -25.0])
    low, high = stats.t.interval(0.95, df=2, loc=pct.mean(), scale=stats.sem(pct))
    assert (row["masi_change_pct_ci_low"], row["masi_change_pct_ci_high"]) == pytest.approx((low, high))
    assert row["masi_responder_50_fraction"] == pytest.approx(2 / 3)
    assert row["masi_responder_75_fraction"] == pytest.approx(1 / 3)
    assert row["beyond_sdc_fraction"] == pytest.approx(1.0)
    assert not any(c.endswith("_share") or "improvement_rate" in c for c in summary.columns)  # fractions: _fraction
    # week 8 was a visit of arm B (subject 005's photo failed): it has a row with no subject counted
    assert summary["visit"].tolist() == ["baseline", "week 4", "week 12"] + ["baseline", "week 4", "week 8", "week 12"]
    assert summary.loc[summary["visit"] == "week 8", "n"].tolist() == [0]


def test_two_arms_mann_whitney_and_rank_biserial():
    arms = compare_arms(changes_from_baseline(_trial()))
    row = arms[(arms["visit"] == "week 12") & (arms["measure"] == "masi_change")].iloc[0]
    a, b = [-5.0, -6.0, -3.0], [1.0, -1.0, -1.0]  # every arm-A change is below every arm-B change
    assert row["test"] == "Mann-Whitney U" and row["arms"] == "A vs B"
    assert row["p_value"] == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    assert row["effect_size"] == pytest.approx(-1.0)
    assert row["hl_shift"] == pytest.approx(-4.0)  # median of the 9 pairwise differences a_i - b_j
    assert (row["n_A"], row["n_B"], row["median_A"], row["median_B"]) == (3, 3, -5.0, -1.0)
    pct = arms[(arms["visit"] == "week 12") & (arms["measure"] == "masi_change_pct")].iloc[0]
    assert pct["effect_size"] == pytest.approx(-1.0)  # arm A's percent changes all below arm B's
    assert set(arms["visit"]) == {"week 4", "week 12"}
    only = compare_arms(changes_from_baseline(_trial()), visit="week 4")
    assert set(only["visit"]) == {"week 4"}


def test_three_arms_kruskal_wallis():
    rows = []
    for arm, finals in (("A", (2, 3, 4)), ("B", (5, 6, 6.5)), ("C", (7, 8, 9.5))):
        for i, final in enumerate(finals):
            rows += [_row(f"{arm}{i}", "baseline", 10.0, arm), _row(f"{arm}{i}", "week 12", float(final), arm)]
    row = compare_arms(changes_from_baseline(pd.DataFrame(rows))).query("measure == 'masi_change'").iloc[0]
    h, p = stats.kruskal([-8, -7, -6], [-5, -4, -3.5], [-3, -2, -0.5])
    assert row["test"] == "Kruskal-Wallis"
    assert (row["statistic"], row["p_value"]) == pytest.approx((h, p))
    assert row["effect_size"] == pytest.approx(h / (9 - 1))


def test_without_arms():
    scores = _trial().drop(columns="arm")
    comparison = compare(scores)
    assert comparison.arms.empty and "arm" not in comparison.summary.columns
    assert comparison.summary["visit"].tolist() == ["baseline", "week 4", "week 8", "week 12"]
    assert comparison.summary["n"].tolist() == [6, 6, 0, 6]


def test_to_dict_is_json_ready():
    data = compare(_trial(), sdc=1.0).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert data["sdc"] == 1.0 and "NaN" not in text
    assert len(data["changes"]) == len(changes_from_baseline(_trial()))


def _png() -> bytes:
    from pigmentscan.report import figure_png_bytes
    from matplotlib.figure import Figure

    return figure_png_bytes(Figure(figsize=(1, 1)))


def test_report_files_are_self_contained_deterministic_and_local(tmp_path):
    source = tmp_path / "in" / "scores.csv"
    source.parent.mkdir()
    _trial().to_csv(source, index=False)
    comparison = compare_files(source, tmp_path / "out", sdc=2.0)
    assert isinstance(comparison, Comparison)
    assert "001" in set(comparison.changes["subject"])  # identifiers stay text
    out = tmp_path / "out"
    tables = {"changes", "summary", "arms", "photos"}  # each CSV with its data dictionary
    names = {f"{t}.csv" for t in tables} | {f"{t}.columns.json" for t in tables} | {
        "trajectories.png", "trajectories_by_subject.png", "group_change.png", "report.html"}
    assert {p.name for p in out.iterdir()} == names  # no temporary files left behind
    assert {p.name for p in tmp_path.iterdir()} == {"in", "out"}
    assert {p.name for p in source.parent.iterdir()} == {"scores.csv"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    assert "http://" not in html and "https://" not in html
    assert "Subject 007: no baseline visit" in html
    assert pd.read_csv(out / "changes.csv", dtype={"subject": str})["subject"].iloc[0] == "001"

    again = write_comparison_report(comparison, tmp_path / "again", panels={"001": _png()})
    for name in names - {"report.html"}:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    with_panel = again["report"].read_text(encoding="utf-8")
    assert with_panel.count("data:image/png;base64,") == 4 and "Before / after photos" in with_panel
    write_comparison_report(comparison, tmp_path / "third")
    assert (tmp_path / "third" / "report.html").read_text(encoding="utf-8") == html
    with pytest.raises(ValueError, match="not PNG"):
        write_comparison_report(comparison, tmp_path / "bad", panels={"001": b"GIF89a"})


@pytest.mark.parametrize("drop, blank", [("visit", None), ("subject", None), (None, "subject"), (None, "visit")])
def test_compare_files_names_the_file_when_ids_are_missing(tmp_path, drop, blank):
    scores = _trial()
    if drop:
        scores = scores.drop(columns=drop)
    if blank:
        scores[blank] = ""
    path = tmp_path / "bad_scores.csv"
    scores.to_csv(path, index=False)
    with pytest.raises(ManifestError, match="bad_scores.csv") as raised:
        compare_files(path, tmp_path / "out")
    assert (drop or blank) in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_screening_counts_as_baseline_and_same_time_labels_share_a_visit():
    scores = pd.DataFrame([
        _row("s1", "screening", 12.0), _row("s1", "week 4", 6.0),  # first visit = screening
        _row("s2", "BL", 10.0), _row("s2", "day 28", 5.0),  # day 28 is week 4
        _row("s3", "W4", 4.0), _row("s3", "W12", 2.0)])  # starts after day 0: no baseline
    changes = changes_from_baseline(scores)
    assert changes.loc[changes["subject"] != "s3", "note"].eq("").all()
    assert _at(changes, "s1", "week 4")["masi_change"] == -6.0
    assert _at(changes, "s2", "day 28")["masi_change"] == -5.0
    assert changes.loc[changes["subject"] == "s3", "note"].str.contains("no baseline visit").all()
    summary = group_summary(changes)
    assert summary["visit"].tolist() == ["screening", "BL", "day 28 / week 4"]
    assert summary["n"].tolist() == [1, 1, 2]
    assert summary["masi_change_mean"].tolist() == [0.0, 0.0, -5.5]
