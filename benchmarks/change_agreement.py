"""How the measured change from baseline compares with the truth (benchmarks/longitudinal.py's tables).

Helpers of ``longitudinal.py``: Pearson r with a bootstrap interval over subjects, MASI with parts
of the measurement replaced by the truth, and the library's change detection against the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pigmentscan.longitudinal import detect_changes
from pigmentscan.scoring import REGION_WEIGHTS as WEIGHTS  # 0.3, 0.3, 0.3, 0.1 (Kimbrough-Green 1994)


def true_part_totals(table: pd.DataFrame, model=None) -> pd.DataFrame:
    """Each photo's MASI with parts of the measurement replaced by the truth.

    ``table``: scores rows with the per-region truth of ``make_visit``. Columns: the true area
    grades (``masi_true_area``) or the true darkness grades (``masi_true_darkness``) in place of
    the measured ones; and the true area % plus only one part of the measured area's error:
    its mean over the subject's visits, per region (``masi_area_bias_only``: what stays when
    the error is the same at every visit), or the rest (``masi_area_noise_only``: the error
    from visit to visit). How close the change of each follows the true change says which
    part of MASI, and which part of the area error, a change error comes from.
    """
    from pigmentscan.regions import REGION_KEYS
    from pigmentscan.scoring import load_model
    from pigmentscan.scoring.grading import formula, region_grades

    grading = load_model(model).grading

    def per_region(pattern):
        return np.stack([table[pattern.format(k)].to_numpy(float) for k in REGION_KEYS], axis=1)

    def expected_grades(area_pct):  # the scores' area % has the model's area gain applied already
        graded = region_grades(np.clip(area_pct, 0.0, 100.0), per_region("{}_melanin_contrast"),
                               per_region("{}_patch_diameter_iod"), grading, area_gain=np.ones(len(REGION_KEYS)))
        return tuple(graded[f"expected_{p}"] for p in ("area_score", "darkness", "homogeneity"))

    measured = per_region("{}_area_pct")
    area, darkness, homogeneity = expected_grades(measured)
    true_area, true_darkness = per_region("true_{}_area_score"), per_region("true_{}_darkness")
    true_pct = per_region("true_{}_area_pct")
    bias = pd.DataFrame(measured - true_pct).groupby(table["subject"].to_numpy()).transform("mean").to_numpy()

    return pd.DataFrame({  # a true lesion the measurement missed takes the lowest grades, 1
        "subject": table["subject"], "visit": table["visit"],
        "masi_true_area": formula(true_area, darkness.clip(1), homogeneity.clip(1))[0],
        "masi_true_darkness": formula(area, np.where(area > 0, np.maximum(true_darkness, 1), 0), homogeneity)[0],
        "masi_area_bias_only": formula(*expected_grades(true_pct + bias))[0],
        "masi_area_noise_only": formula(*expected_grades(measured - bias))[0]})


def print_detection(post: pd.DataFrame, sdcs: dict) -> None:
    """Every visit of a subject whose pigment faded is a real improvement: how many are detected.

    By the library's rule (``detect_changes``, ``detected_change``) on each measure alone, and on
    the lesion pigment and area together (the default when both have an SDC): a visit is
    ``improved`` when a measure fell by more than its SDC and none rose beyond it. Stable
    subjects: false alarms."""
    fading = ~post["subject"].str.endswith("r0")
    rules = [(m,) for m in sdcs]
    if {"lesion_pigment_pct", "lesion_area_pct"} <= set(sdcs):
        rules.append(("lesion_pigment_pct", "lesion_area_pct"))
    for rule in rules:
        flagged = detect_changes(post.copy(), {m: sdcs[m] for m in rule}, rule)["detected_change"]
        hit = flagged[fading].eq("improved")
        by_cell = hit.groupby([post.loc[fading, "subject"].str[-1].rename("response"),
                               post.loc[fading, "visit"]]).agg(lambda x: f"{int(x.sum())}/{len(x)}")
        limits = ", ".join(f"{m} {sdcs[m]:.2f}" for m in rule)
        print(f"  by {' + '.join(rule)} (SDC {limits}): improving visits (pigment faded) detected {int(hit.sum())} of "
              f"{int(fading.sum())}; at the last visit {int(hit[post.loc[fading, 'visit_order'].eq(3)].sum())} of "
              f"{int((fading & post['visit_order'].eq(3)).sum())} subjects; stable visits flagged "
              f"{int(flagged[~fading].ne('none').sum())} of {int((~fading).sum())}; by response (1-3, thirds) and "
              f"visit: {by_cell.to_dict()}")
        missed = post[fading & flagged.ne("improved")]
        if len(missed):
            print(f"    missed: {missed[['subject', 'visit']].to_dict('records')}")
        if len(rule) == 1 and f"true_{rule[0].replace('lesion_', '')}_change" in post:
            real = post[f"true_{rule[0].replace('lesion_', '')}_change"] < -sdcs[rule[0]]
            print(f"    true {rule[0]} changes beyond its SDC: {int(real.sum())}, detected "
                  f"{int((real & flagged.eq('improved')).sum())}")


def pearson_with_ci(table: pd.DataFrame, x: str, y: str, n_boot: int = 2000, seed: int = 0) -> tuple:
    """Pearson r of two columns and its 95 % bootstrap interval, resampling whole subjects."""
    r = float(np.corrcoef(table[x], table[y])[0, 1])
    groups = [g[[x, y]].to_numpy(float) for _, g in table.groupby("subject")]
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        sample = np.concatenate([groups[j] for j in rng.integers(0, len(groups), len(groups))])
        if sample[:, 0].std() > 0 and sample[:, 1].std() > 0:
            boots.append(np.corrcoef(sample[:, 0], sample[:, 1])[0, 1])
    low, high = np.quantile(boots, [0.025, 0.975])
    return r, float(low), float(high)
