"""The agreement table in plain words: the headline of the validation report and its readable tables.

A statistic that is not defined (too few pairs, a constant reference grade) is written
"not defined (reason)", never as a number.
"""

from __future__ import annotations

import math

import pandas as pd

#: Inter-rater ICC of MASI between physicians (Majid et al., Indian J Dermatol 2016;61:39-44; MASI.md):
#: the agreement a measurement should be compared with.
PHYSICIAN_ICC_MASI = 0.816
_NAMES = {"masi": "MASI", "mmasi": "mMASI"}


def _defined(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def icc_text(row, *, label: str = "ICC(2,1) ") -> str:
    """``ICC(2,1) 0.87 (95 % CI 0.80 to 0.92)``, or ``ICC(2,1) not defined (reason)``."""
    if not _defined(row.get("icc2_1")):
        return f"{label}not defined ({row.get('reason') or 'no pairs'})"
    ci = (f" (95 % CI {row['icc2_1_ci_low']:.2f} to {row['icc2_1_ci_high']:.2f})"
          if _defined(row.get("icc2_1_ci_low")) else "")
    return f"{label}{row['icc2_1']:.2f}{ci}"


def physician_comparison(row) -> str:
    """How an ICC of MASI compares with physicians' agreement with each other, by its interval."""
    anchor = f"physicians agree with each other (ICC {PHYSICIAN_ICC_MASI:.2f}, Majid et al. 2016)"
    if not _defined(row.get("icc2_1")):
        return ""
    low, high = row.get("icc2_1_ci_low"), row.get("icc2_1_ci_high")
    if not (_defined(low) and _defined(high)):
        return f"no interval to compare with how {anchor}"
    if low > PHYSICIAN_ICC_MASI:
        return f"better than {anchor}"
    if high < PHYSICIAN_ICC_MASI:
        return f"worse than {anchor}"
    return f"not distinguishable from how {anchor}: the interval includes it"


def bias_text(row, unit: str = "points") -> str:
    """Bias and limits of agreement in words, or why they are not defined."""
    if not _defined(row.get("bias")):
        return "bias not defined (no pairs)"
    direction = "higher" if row["bias"] > 0 else "lower"
    text = f"pigmentscan reads {abs(row['bias']):.1f} {unit} {direction} on average"
    if _defined(row.get("loa_lower")):
        text += (f"; 95 % of the differences lie between {row['loa_lower']:+.1f} and {row['loa_upper']:+.1f} {unit} "
                 "(limits of agreement)")
    else:
        text += " (limits of agreement not defined: fewer than 2 pairs)"
    return text


def _row(table, analysis, measure, visit="all"):
    hit = table[(table["analysis"] == analysis) & (table["measure"] == measure) & (table["visit"] == visit)
                & (table["component"] == "total")]
    return None if hit.empty else hit.iloc[0].to_dict()


def headline(table: pd.DataFrame, meta: dict) -> list[str]:
    """The validation report's opening lines: what was compared, then agreement of MASI, mMASI and their change.

    Examples
    --------
    >>> row = {"analysis": "visit", "visit": "all", "measure": "masi", "component": "total", "n": 40,
    ...        "icc2_1": 0.9, "icc2_1_ci_low": 0.85, "icc2_1_ci_high": 0.94, "bias": 0.4, "loa_lower": -2.0,
    ...        "loa_upper": 2.8, "reason": ""}
    >>> headline(pd.DataFrame([row]), {"n_photos": 40, "n_subjects": 10})[1][:60]
    'MASI (40 photos): ICC(2,1) 0.90 (95 % CI 0.85 to 0.94), bett'
    """
    lines = [f"{meta.get('n_photos')} photos of {meta.get('n_subjects') or 'an unknown number of'} subjects "
             f"compared with the reference scores ({meta.get('reference_prefix', 'physician_')}* columns)"
             + (f"; {meta['n_photos_excluded']} matched photo(s) not scored are left out"
                if meta.get("n_photos_excluded") else "") + "."]
    for analysis, what in (("visit", "{name} ({n} photos)"), ("change_from_baseline", "Change of {name} from baseline "
                                                                                      "({n} changes)")):
        for measure, name in _NAMES.items():
            row = _row(table, analysis, measure)
            if row is None:
                continue
            versus = physician_comparison(row) if measure == "masi" and analysis == "visit" else ""
            lines.append(f"{what.format(name=name, n=row['n'])}: {icc_text(row)}" + (f", {versus}" if versus else "")
                         + f". {bias_text(row)}.")
    return lines


def glance_table(table: pd.DataFrame) -> pd.DataFrame:
    """MASI and mMASI, at the visits and as change from baseline: one readable row each."""
    rows = []
    for analysis, label in (("visit", ""), ("change_from_baseline", " change from baseline")):
        for measure, name in _NAMES.items():
            row = _row(table, analysis, measure)
            if row is None:
                continue
            undefined = "not defined"

            def number(key, form="{:.2f}", r=row):
                return form.format(r[key]) if _defined(r.get(key)) else undefined

            rows.append({"score": name + label, "n": int(row["n"]), "ICC(2,1)": icc_text(row, label=""),
                         "CCC": number("ccc"), "Pearson r": number("pearson_r"),
                         "MAE": number("mae"), "bias": number("bias", "{:+.2f}"),
                         "limits of agreement": (f"{row['loa_lower']:+.2f} to {row['loa_upper']:+.2f}"
                                                 if _defined(row.get("loa_lower")) else undefined)})
    return pd.DataFrame(rows)


def components_table(table: pd.DataFrame) -> pd.DataFrame:
    """Each region's banded grades (all visits): kappa, bias and MAE, or why they are not defined."""
    parts = table[(table["analysis"] == "visit") & (table["visit"] == "all") & (table["component"] != "total")]
    rows = []
    for row in parts.to_dict("records"):
        kappa = row.get("kappa_quadratic")
        rows.append({"region": str(row["component"]).replace("_", " "), "grade": row["measure"], "n": int(row["n"]),
                     "weighted kappa": f"{kappa:.2f}" if _defined(kappa) else f"not defined ({row.get('reason') or 'n < 2'})",
                     "bias": f"{row['bias']:+.2f}" if _defined(row.get("bias")) else "not defined",
                     "MAE": f"{row['mae']:.2f}" if _defined(row.get("mae")) else "not defined"})
    return pd.DataFrame(rows)


def visits_table(table: pd.DataFrame) -> pd.DataFrame:
    """MASI and mMASI at each visit and for each visit's change: n, ICC, bias, limits."""
    parts = table[(table["visit"] != "all") & (table["component"] == "total")]
    return pd.DataFrame([{"score": _NAMES.get(r["measure"], r["measure"]) + (" change" if r["analysis"] != "visit"
                                                                            else ""),
                          "visit": r["visit"], "n": int(r["n"]), "ICC(2,1)": icc_text(r, label=""),
                          "agreement": bias_text(r)} for r in parts.to_dict("records")])
