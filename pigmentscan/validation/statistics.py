"""Agreement statistics: ICC (Shrout & Fleiss; McGraw & Wong), Lin's CCC, Bland-Altman, weighted kappa."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

# pingouin labels (>= 0.6: McGraw & Wong 1996; older: ICC1 ...) -> Shrout & Fleiss 1979 / McGraw & Wong.
_ICC_FORMS = {"ICC(1,1)": ("ICC(1,1)", "ICC(1)"), "ICC1": ("ICC(1,1)", "ICC(1)"),
              "ICC(A,1)": ("ICC(2,1)", "ICC(A,1)"), "ICC2": ("ICC(2,1)", "ICC(A,1)"),
              "ICC(C,1)": ("ICC(3,1)", "ICC(C,1)"), "ICC3": ("ICC(3,1)", "ICC(C,1)"),
              "ICC(1,k)": ("ICC(1,k)", "ICC(k)"), "ICC1k": ("ICC(1,k)", "ICC(k)"),
              "ICC(A,k)": ("ICC(2,k)", "ICC(A,k)"), "ICC2k": ("ICC(2,k)", "ICC(A,k)"),
              "ICC(C,k)": ("ICC(3,k)", "ICC(C,k)"), "ICC3k": ("ICC(3,k)", "ICC(C,k)")}
_NAN = float("nan")


def numeric_values(values) -> np.ndarray:
    """``values`` flattened to a float array; text that is not a number, None and NA become NaN."""
    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce").to_numpy(float)


def finite_pairs(a, b):
    """The pairs of :func:`numeric_values` of ``a`` and ``b`` where both are finite, as two arrays.

    Raises
    ------
    ValueError
        When ``a`` and ``b`` differ in length.
    """
    a, b = numeric_values(a), numeric_values(b)
    if a.shape != b.shape:
        raise ValueError(f"measured has {a.size} values but reference has {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else _NAN


def intraclass_correlation(table: pd.DataFrame) -> pd.DataFrame:
    """Six intraclass correlations with 95 % confidence intervals (``pingouin.intraclass_corr``).

    Parameters
    ----------
    table : DataFrame
        One row per target (photo), one column per rater or method; targets with a missing
        rating are dropped.

    Returns
    -------
    DataFrame
        One row per form, ``type`` in Shrout & Fleiss's names (ICC(1,1), ICC(2,1), ICC(3,1),
        ICC(1,k), ICC(2,k), ICC(3,k)) and ``mcgraw_wong`` (ICC(1), ICC(A,1), ICC(C,1), ...), with
        ``icc``, ``ci_low``, ``ci_high``, ``F``, ``df1``, ``df2``, ``pval``, ``n_targets``,
        ``n_raters`` and ``reason``: empty, or why everything is NaN (fewer than 3 targets, no
        variance). A CI that is undefined (zero error variance) is NaN. Never raises on such data.

    References
    ----------
    Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. Psychol
    Bull 1979;86:420-8. McGraw KO, Wong SP. Forming inferences about some intraclass correlation
    coefficients. Psychol Methods 1996;1:30-46.

    Examples
    --------
    >>> r = intraclass_correlation(pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 4, 5]})).set_index("type")
    >>> round(r.at["ICC(3,1)", "icc"], 3), bool(r.at["ICC(2,1)", "icc"] < 1)
    (1.0, True)
    """
    import pingouin

    wide = pd.DataFrame(table).apply(pd.to_numeric, errors="coerce").dropna(how="any")
    values = wide.to_numpy(float)
    n, k = values.shape
    reason = ("" if k >= 2 and n >= 3 and np.ptp(values) > 0 and np.ptp(values.mean(axis=1)) > 0 else
              f"{k} rater(s): at least 2 needed" if k < 2 else
              f"{n} complete target(s): at least 3 needed" if n < 3 else
              "every rating is identical: no variance" if np.ptp(values) == 0 else
              "the targets do not differ: no between-target variance")
    rows = {sf: {"type": sf, "mcgraw_wong": mw, "icc": _NAN, "ci_low": _NAN, "ci_high": _NAN, "F": _NAN,
                 "df1": _NAN, "df2": _NAN, "pval": _NAN} for sf, mw in dict(_ICC_FORMS.values()).items()}
    if not reason:
        long = pd.DataFrame({"target": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
                             "rating": values.ravel()})
        saved = dict(pingouin.options)
        pingouin.options.update({"round": None, "round.column.CI95": None})  # CIs at full precision
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                result = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="rating")
        finally:
            pingouin.options.clear()
            pingouin.options.update(saved)
        for rec in result.to_dict("records"):
            row = rows[_ICC_FORMS[rec["Type"]][0]]
            row.update(icc=float(rec["ICC"]), ci_low=_finite(rec["CI95"][0]), ci_high=_finite(rec["CI95"][1]),
                       F=float(rec["F"]), df1=float(rec["df1"]), df2=float(rec["df2"]), pval=float(rec["pval"]))
    return pd.DataFrame([{**row, "n_targets": n, "n_raters": k, "reason": reason} for row in rows.values()])


@dataclass(frozen=True)
class Concordance:
    """Lin's concordance correlation ``ccc`` = precision (``pearson_r``) x ``accuracy`` (C_b)."""

    n: int
    ccc: float
    ci_low: float
    ci_high: float
    pearson_r: float
    accuracy: float

    def to_dict(self) -> dict:
        return asdict(self)


def lin_ccc(x, y, *, confidence: float = 0.95) -> Concordance:
    """Lin's concordance correlation coefficient with its confidence interval.

    ``ccc = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2)`` with n-divisor moments (Lin 1989).
    The interval is Fisher's z = atanh(ccc) +/- z_(1-a/2) * se, with Lin's asymptotic variance of z
    as corrected in Lin (2000); NaN when undefined (r = 0, fewer than 3 pairs).

    References
    ----------
    Lin LI. A concordance correlation coefficient to evaluate reproducibility. Biometrics
    1989;45:255-68. Lin LI. A note on the concordance correlation coefficient. Biometrics 2000;56:324-5.

    Examples
    --------
    >>> round(lin_ccc([1, 2, 3, 4], [2, 3, 4, 5]).ccc, 4)  # 2*1.25 / (1.25 + 1.25 + 1) = 5/7
    0.7143
    """
    x, y = finite_pairs(x, y)
    n = int(x.size)
    mx, my, sx2, sy2 = (x.mean(), y.mean(), x.var(), y.var()) if n >= 3 else (0, 0, 0, 0)
    denom = sx2 + sy2 + (mx - my) ** 2
    if denom == 0:
        return Concordance(n, _NAN, _NAN, _NAN, _NAN, _NAN)
    p = float(2 * np.mean((x - mx) * (y - my)) / denom)
    r = float(np.mean((x - mx) * (y - my)) / math.sqrt(sx2 * sy2)) if sx2 > 0 and sy2 > 0 else _NAN
    lo = hi = _NAN
    if p >= 1 - 1e-12:
        p = lo = hi = 1.0  # identical values: the interval shrinks to a point
    elif math.isfinite(r) and r != 0 and p > -1 + 1e-12:
        u2, q = (my - mx) ** 2 / math.sqrt(sx2 * sy2), 1 - p**2  # u^2 of Lin 1989
        var_z = ((1 - r**2) * p**2 / (q * r**2) + 2 * p**3 * (1 - p) * u2 / (r * q**2)
                 - p**4 * u2**2 / (2 * r**2 * q**2)) / (n - 2)
        if var_z >= 0:
            half = stats.norm.ppf(0.5 + confidence / 2) * math.sqrt(var_z)
            lo, hi = math.tanh(math.atanh(p) - half), math.tanh(math.atanh(p) + half)
    return Concordance(n, p, lo, hi, r, p / r if math.isfinite(r) and r != 0 else _NAN)


@dataclass(frozen=True)
class BlandAltman:
    """Bland-Altman bias (mean of measured - reference), limits of agreement and their CIs."""

    n: int
    bias: float
    sd: float
    lower: float
    upper: float
    bias_ci_low: float
    bias_ci_high: float
    lower_ci_low: float
    lower_ci_high: float
    upper_ci_low: float
    upper_ci_high: float
    limit_z: float = 1.96

    def to_dict(self) -> dict:
        return asdict(self)


def bland_altman(measured, reference, *, limit_z: float = 1.96, confidence: float = 0.95,
                 limits_se: str = "1999") -> BlandAltman:
    """Bias and limits of agreement ``bias +/- limit_z * sd`` of the differences measured - reference.

    CIs use Student's t on n-1 df. The standard error of a limit is ``sd*sqrt(1/n + z^2/(2(n-1)))``
    (``limits_se="1999"``, Bland & Altman 1999) or ``sd*sqrt(3/n)`` (``"1986"``, Bland & Altman
    1986, whose worked example also used ``limit_z=2``).

    References
    ----------
    Bland JM, Altman DG. Statistical methods for assessing agreement between two methods of clinical
    measurement. Lancet 1986;i:307-10. Bland JM, Altman DG. Measuring agreement in method comparison
    studies. Stat Methods Med Res 1999;8:135-60.

    Examples
    --------
    >>> ba = bland_altman([3, 5, 3, 5], [1, 1, 1, 1])  # differences 2, 4, 2, 4: sd = sqrt(4/3)
    >>> ba.bias, round(ba.upper, 4)
    (3.0, 5.2632)
    """
    if limits_se not in ("1999", "1986"):
        raise ValueError(f"limits_se must be '1999' or '1986', not {limits_se!r}")
    m, r = finite_pairs(measured, reference)
    d, n = m - r, int(m.size)
    if n < 2:
        return BlandAltman(n, float(d.mean()) if n else _NAN, *([_NAN] * 9), limit_z=limit_z)
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    se_limit = sd * math.sqrt(1 / n + limit_z**2 / (2 * (n - 1)) if limits_se == "1999" else 3 / n)
    lower, upper, half_bias = bias - limit_z * sd, bias + limit_z * sd, t * sd / math.sqrt(n)
    return BlandAltman(n, bias, sd, lower, upper, bias - half_bias, bias + half_bias, lower - t * se_limit,
                       lower + t * se_limit, upper - t * se_limit, upper + t * se_limit, limit_z=limit_z)


def weighted_kappa(measured, reference, *, labels, weights: str = "quadratic") -> float:
    """Weighted Cohen's kappa over the full ordinal range ``labels`` (scikit-learn).

    Values are rounded to the nearest grade and clipped into ``labels`` first (objective grades may
    be continuous). NaN with fewer than 2 pairs or no expected disagreement (one grade used).

    References
    ----------
    Cohen J. Weighted kappa: nominal scale agreement with provision for scaled disagreement or
    partial credit. Psychol Bull 1968;70:213-20.

    Examples
    --------
    >>> weighted_kappa([0, 1, 2, 3], [0, 1, 2, 3], labels=range(5))
    1.0
    """
    from sklearn.metrics import cohen_kappa_score

    labels = [int(v) for v in labels]
    m, r = finite_pairs(measured, reference)
    if m.size < 2:
        return _NAN
    m, r = (np.clip(np.rint(v), min(labels), max(labels)).astype(int) for v in (m, r))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _finite(cohen_kappa_score(m, r, labels=labels, weights=weights))


def agreement(measured, reference, *, ordinal_labels=None) -> dict:
    """All agreement statistics for one measure, as one flat dict (a table row).

    Keys: ``n``; ``icc2_1``, ``icc3_1``, ``ccc`` (each with ``_ci_low``/``_ci_high``); ``pearson_r``,
    ``pearson_p``, ``spearman_rho``, ``spearman_p``, ``mae``, ``rmse``; Bland-Altman ``bias`` (+CI),
    ``sd_diff``, ``loa_lower`` and ``loa_upper`` (+CI); ``kappa_quadratic`` when ``ordinal_labels``
    is given; ``reason`` (why values are NaN, else empty).

    When either side gives every photo the same value (a constant reference grade), agreement
    beyond chance is not defined: ICC, CCC, the correlations and kappa are NaN (not the 0 the
    formulas would print) and ``reason`` says which side is constant; the differences (bias,
    MAE, limits of agreement) are still reported.

    Examples
    --------
    >>> a = agreement([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    >>> a["n"], round(a["icc2_1"], 3), a["bias"], a["mae"]
    (5, 1.0, 0.0, 0.0)
    """
    m, r = finite_pairs(measured, reference)
    n, d = int(m.size), m - r
    out: dict = {"n": n}
    icc = intraclass_correlation(pd.DataFrame({"measured": m, "reference": r})).set_index("type")
    for form, key in (("ICC(2,1)", "icc2_1"), ("ICC(3,1)", "icc3_1")):
        out.update({key: icc.at[form, "icc"], f"{key}_ci_low": icc.at[form, "ci_low"],
                    f"{key}_ci_high": icc.at[form, "ci_high"]})
    ccc = lin_ccc(m, r)
    out.update(ccc=ccc.ccc, ccc_ci_low=ccc.ci_low, ccc_ci_high=ccc.ci_high)
    varied = n >= 3 and np.ptp(m) > 0 and np.ptp(r) > 0
    pr, sr = (stats.pearsonr(m, r), stats.spearmanr(m, r)) if varied else ((_NAN, _NAN), (_NAN, _NAN))
    out.update(pearson_r=float(pr[0]), pearson_p=float(pr[1]), spearman_rho=float(sr[0]), spearman_p=float(sr[1]),
               mae=float(np.mean(np.abs(d))) if n else _NAN, rmse=float(np.sqrt(np.mean(d**2))) if n else _NAN)
    ba = bland_altman(m, r)
    out.update(bias=ba.bias, bias_ci_low=ba.bias_ci_low, bias_ci_high=ba.bias_ci_high, sd_diff=ba.sd,
               loa_lower=ba.lower, loa_lower_ci_low=ba.lower_ci_low, loa_lower_ci_high=ba.lower_ci_high,
               loa_upper=ba.upper, loa_upper_ci_low=ba.upper_ci_low, loa_upper_ci_high=ba.upper_ci_high)
    if ordinal_labels is not None:
        out["kappa_quadratic"] = weighted_kappa(m, r, labels=ordinal_labels)
    out["reason"] = icc.at["ICC(2,1)", "reason"] if n >= 3 else f"{n} pair(s): at least 3 needed"
    constant = [f"the {side} gives every photo the same value ({values[0]:g})"
                for side, values in (("reference", r), ("measured score", m)) if n >= 3 and np.ptp(values) == 0]
    if constant:
        for key in ("icc2_1", "icc3_1", "ccc", "kappa_quadratic"):
            for suffix in ("", "_ci_low", "_ci_high"):
                if key + suffix in out:
                    out[key + suffix] = _NAN
        out["reason"] = " and ".join(constant) + ": no variance to agree on"
    return out
