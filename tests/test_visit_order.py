"""One rule for visit order and baseline: compare, validate and the report's panels agree.

:func:`pigmentscan.io.visit_order` decides; ``changes_from_baseline`` (compare),
``validation.change_from_baseline`` (validate) and ``report.panel_visits`` (the before/after
panels) each call it. Hand-built tables, no photos.
"""

from __future__ import annotations

import pandas as pd

from pigmentscan.io import visit_order
from pigmentscan.longitudinal import changes_from_baseline
from pigmentscan.report import panel_visits
from pigmentscan.validation import change_from_baseline, merge_scores

# subject, visit, MASI: a screening visit, a run-in visit at day -7, baseline, week 4; S2 missed its
# baseline visit (its baseline is then its last visit before day 0); S3 starts after day 0 (none).
VISITS = [("S1", "screening", 20.0), ("S1", "day -7", 18.0), ("S1", "baseline", 16.0), ("S1", "week 4", 10.0),
          ("S2", "week 4", 7.0), ("S2", "screening", 14.0), ("S2", "day -7", 12.0),
          ("S3", "week 4", 5.0), ("S3", "week 8", 4.0)]
EXPECTED_BASELINES = {"S1": "baseline", "S2": "day -7"}


def _scores() -> pd.DataFrame:
    return pd.DataFrame([{"image": f"{s}_{v}.jpg", "subject": s, "visit": v, "status": "ok", "error": "", "masi": m,
                          "physician_masi": m + 1.0} for s, v, m in VISITS])


def test_visit_order_puts_screening_and_run_in_before_baseline():
    scores = _scores()
    order = visit_order(scores["subject"], scores["visit"])
    ranked = scores.assign(rank=order["visit_rank"]).sort_values(["subject", "rank"])
    assert ranked.loc[ranked["subject"] == "S1", "visit"].tolist() == ["screening", "day -7", "baseline", "week 4"]
    baselines = scores.loc[order["is_baseline"], ["subject", "visit"]]
    assert dict(baselines.to_numpy()) == EXPECTED_BASELINES
    assert (order.loc[scores["subject"] == "S3", "baseline_rank"] == -1).all()


def test_compare_validate_and_panels_agree_on_the_baseline():
    scores = _scores()
    changes = changes_from_baseline(scores)
    from_compare = dict(changes.loc[changes["is_baseline"], ["subject", "visit"]].to_numpy())
    assert changes.loc[changes["subject"] == "S3", "note"].str.startswith("no baseline visit").all()

    reference = scores[["image", "subject", "visit", "physician_masi"]]
    validated = change_from_baseline(merge_scores(scores.drop(columns=["physician_masi"]), reference), "masi")
    # week 4 - baseline for S1 (10 - 16), week 4 - day -7 for S2 (7 - 12): against screening they
    # would be -10 and -7; S3 has no baseline, and visits before the baseline are not changes from it
    assert validated.values.tolist() == [["S1", "week 4", -6.0, -6.0], ["S2", "week 4", -5.0, -5.0]]
    from_validate = {"S1": "baseline", "S2": "day -7"}  # what those numbers say

    from_panels = {subject: visit.label for subject, visits in panel_visits(scores).items()
                   for visit in visits if visit.baseline}
    assert [v.label for v in panel_visits(scores)["S1"]] == ["screening", "day -7", "baseline", "week 4"]

    assert from_compare == from_validate == from_panels == EXPECTED_BASELINES


def test_a_study_without_day_0_starts_at_its_first_visit():
    order = visit_order(["a", "a", "b", "b"], ["V1", "V2", "V2", "V3"])
    assert order["is_baseline"].tolist() == [True, False, False, False]  # b missed V1: no baseline
    assert order["baseline_rank"].tolist() == [0, 0, -1, -1]


def test_dates_order_when_labels_cannot():
    order = visit_order(["a", "a", "b"], ["first look", "later", "first look"], ["2024-03-01", "2024-01-05", "2024-02-01"])
    assert order.attrs["by"] == "date"
    assert order["is_baseline"].tolist() == [False, True, True]  # each subject's first date
