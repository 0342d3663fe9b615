"""Agreement between pigmentscan's objective scores and physicians' scores.

Pure functions over arrays and tables, then :func:`write_validation_report` and
:func:`validate_files`, the only ones that touch files. Pairs with a value missing on either side
are dropped; ``n`` always says how many pairs were used.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from .errors import ManifestError
from .io import atomic_write_bytes, atomic_write_text
from .regions import REGION_KEYS

__all__ = ["ORDINAL_LABELS", "BlandAltman", "Concordance", "agreement", "bland_altman",
           "change_from_baseline", "intraclass_correlation", "lin_ccc", "merge_scores", "validate",
           "validate_files", "weighted_kappa", "write_validation_report"]

#: Full range of each banded MASI component (Kimbrough-Green 1994): area 0-6, D and H 0-4.
ORDINAL_LABELS = {"area": tuple(range(7)), "darkness": tuple(range(5)), "homogeneity": tuple(range(5))}
_SCORE_SUFFIX = {"area": "area_score", "darkness": "darkness", "homogeneity": "homogeneity"}  # CONTRACT.md
# pingouin labels (>= 0.6: McGraw & Wong 1996; older: ICC1 ...) -> Shrout & Fleiss 1979 / McGraw & Wong.
_ICC_FORMS = {"ICC(1,1)": ("ICC(1,1)", "ICC(1)"), "ICC1": ("ICC(1,1)", "ICC(1)"),
              "ICC(A,1)": ("ICC(2,1)", "ICC(A,1)"), "ICC2": ("ICC(2,1)", "ICC(A,1)"),
              "ICC(C,1)": ("ICC(3,1)", "ICC(C,1)"), "ICC3": ("ICC(3,1)", "ICC(C,1)"),
              "ICC(1,k)": ("ICC(1,k)", "ICC(k)"), "ICC1k": ("ICC(1,k)", "ICC(k)"),
              "ICC(A,k)": ("ICC(2,k)", "ICC(A,k)"), "ICC2k": ("ICC(2,k)", "ICC(A,k)"),
              "ICC(C,k)": ("ICC(3,k)", "ICC(C,k)"), "ICC3k": ("ICC(3,k)", "ICC(C,k)")}
_NAN = float("nan")


def _numeric(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce").to_numpy(float)


def _pairs(a, b):
    a, b = _numeric(a), _numeric(b)
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
    x, y = _pairs(x, y)
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
    m, r = _pairs(measured, reference)
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
    m, r = _pairs(measured, reference)
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

    Examples
    --------
    >>> a = agreement([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    >>> a["n"], round(a["icc2_1"], 3), a["bias"], a["mae"]
    (5, 1.0, 0.0, 0.0)
    """
    m, r = _pairs(measured, reference)
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
    return out


_JOIN_KEYS = {"exact": lambda f: f["image"].astype(str).str.strip(),
              "resolved_path": lambda f: f["image_path"].map(lambda p: str(Path(str(p)).expanduser().resolve())),
              "file_name": lambda f: f["image"].map(lambda p: re.split(r"[\\/]", str(p))[-1])}


def merge_scores(scores: pd.DataFrame, reference: pd.DataFrame, *, sources=None) -> pd.DataFrame:
    """Join a scores table (CONTRACT scores CSV) to a reference manifest, one row per matched photo.

    Keys tried in order: the ``image`` strings exactly; the resolved absolute ``image_path`` (only
    when both tables have one); the file name alone (only when names are unique on both sides). The
    first key matching as many photos as the best one wins and is named in ``attrs["join"]``.
    ``subject`` and ``visit`` come from the reference (else the scores). ``usable`` is True for
    status ``ok``/``warn`` (all rows when there is no ``status`` column). Reference rows flagged
    in a ``manifest_error`` column (``pigmentscan.io.read_manifest``) are left out and listed in
    ``attrs["manifest_rows_skipped"]``.

    Raises
    ------
    ManifestError
        A table has no ``image`` column, an image is listed twice, or no image matches; the message
        names both ``sources`` (``{"scores": ..., "reference": ...}``, file names or labels).
    """
    sources = dict(sources or {"scores": "scores", "reference": "reference"})
    both = f"{sources['scores']} and {sources['reference']}"
    for frame, name in ((scores, sources["scores"]), (reference, sources["reference"])):
        if "image" not in frame.columns:
            raise ManifestError(name, "has no 'image' column")
    skipped = []
    if "manifest_error" in reference:
        flagged = reference["manifest_error"].fillna("").astype(str).str.strip() != ""
        skipped = [f"{i}: {e}" for i, e in reference.loc[flagged, ["image", "manifest_error"]].to_numpy()]
        reference = reference[~flagged]
    found = {}
    for how, key in _JOIN_KEYS.items():
        if how == "resolved_path" and not ("image_path" in scores and "image_path" in reference):
            continue
        sk, rk = key(scores), key(reference)
        twice = sorted(set(sk[sk.duplicated()]) | set(rk[rk.duplicated()]))
        if twice and how == "exact":
            raise ManifestError(both, f"image(s) listed twice: {', '.join(twice[:3])}")
        if not twice:
            found[how] = (sk, rk, int(sk.isin(set(rk)).sum()))
    best = max((v[2] for v in found.values()), default=0)
    if best == 0:
        example = f"; e.g. {scores['image'].iloc[0]!r} vs {reference['image'].iloc[0]!r}" if (
            len(scores) and len(reference)) else ""
        raise ManifestError(both, "no scored image matches a manifest image (tried the exact path, the "
                            f"resolved path and the file name{example})")
    how = next(h for h, v in found.items() if v[2] == best)
    sk, rk, _ = found[how]
    merged = scores.assign(_key=sk.to_numpy()).merge(reference.assign(_key=rk.to_numpy()), on="_key",
                                                     suffixes=("", "_reference")).drop(columns="_key")
    for col in ("subject", "visit"):
        for name in (col, f"{col}_reference"):
            if name in merged:  # read_scores / read_manifest give "" for an empty cell
                merged[name] = merged[name].where(merged[name].astype(str).str.strip() != "")
        if f"{col}_reference" in merged:
            ref = merged.pop(f"{col}_reference")
            merged[col] = ref.where(ref.notna(), merged[col] if col in merged else np.nan)
    merged["usable"] = (merged["status"].astype(str).str.strip().str.lower().isin(["ok", "warn"])
                        if "status" in merged else True)
    merged.attrs.update(join=how, sources=sources, manifest_rows_skipped=skipped)
    return merged


def _ordered_visits(values, *, orderable_only: bool = False) -> list:
    """Visit labels in time order (``visit_order_key``); labels it cannot order go last, by name."""
    from .io import visit_order_key

    def key(label):
        try:
            return (0, visit_order_key(label), "")
        except ValueError:
            return (1, (0, 0.0), str(label))

    labels = sorted(pd.unique(values.dropna()), key=key)
    return [v for v in labels if key(v)[0] == 0] if orderable_only else labels


def change_from_baseline(merged: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Objective and physician change of ``measure`` from baseline, one row per subject and later visit.

    The baseline is the study's first visit by ``pigmentscan.io.visit_order_key``; a subject
    without a usable baseline photo contributes no change (NaN). Photos of one subject at one visit
    are averaged. Columns: ``subject``, ``visit``, ``objective``, ``physician``.
    """
    cols, out = ["subject", "visit", measure, f"physician_{measure}"], ["subject", "visit", "objective", "physician"]
    if not set(cols) <= set(merged.columns):
        return pd.DataFrame(columns=out)
    data = merged[cols].apply(lambda c: c if c.name in cols[:2] else pd.to_numeric(c, errors="coerce"))
    data[measure] = data[measure].where(merged["usable"].astype(bool))
    data = data.dropna(subset=cols[:2])
    visits = _ordered_visits(data["visit"], orderable_only=True)
    if len(visits) < 2:
        return pd.DataFrame(columns=out)
    means = data.groupby(["subject", "visit"], sort=False)[cols[2:]].mean()
    base = means.xs(visits[0], level="visit")
    rows = [{"subject": s, "visit": v, "objective": val[cols[2]] - base.at[s, cols[2]],
             "physician": val[cols[3]] - base.at[s, cols[3]]}
            for visit in visits[1:] for (s, v), val in means.iterrows() if v == visit and s in base.index]
    return pd.DataFrame(rows, columns=out)


def _specs(merged) -> list:
    specs = [(m, "total", m, f"physician_{m}", None) for m in ("masi", "mmasi")]
    specs += [(comp, region, f"{region}_{suffix}", f"physician_{region}_{comp}", ORDINAL_LABELS[comp])
              for region in REGION_KEYS for comp, suffix in _SCORE_SUFFIX.items()]
    return [s for s in specs if s[2] in merged.columns and s[3] in merged.columns]


def _row(analysis, visit, spec, objective, physician, subjects) -> dict:
    measure, component, objective_col, physician_col, labels = spec
    keep = np.isfinite(_numeric(objective)) & np.isfinite(_numeric(physician))
    return {"analysis": analysis, "visit": str(visit), "measure": measure, "component": component,
            "objective": objective_col, "physician": physician_col,
            "n_subjects": int(pd.Series(subjects)[keep].nunique()) if subjects is not None else _NAN,
            **agreement(objective, physician, ordinal_labels=labels)}


def _table(merged: pd.DataFrame) -> pd.DataFrame:
    specs = _specs(merged)
    if not specs:
        raise ManifestError(merged.attrs.get("sources", {}).get("reference"),
                            "no physician_* column matches a score column: nothing to compare")
    ok = merged[merged["usable"].astype(bool)]
    groups = [("all", ok)]
    if "visit" in ok and ok["visit"].nunique() > 1:
        groups += [(v, ok[ok["visit"] == v]) for v in _ordered_visits(ok["visit"])]
    rows = [_row("visit", v, s, part[s[2]], part[s[3]], part["subject"] if "subject" in part else None)
            for v, part in groups for s in specs]
    for spec in (s for s in specs if s[1] == "total"):
        ch = change_from_baseline(merged, spec[0])  # empty without subject and visit columns
        if ch.empty:
            continue
        parts = [("all", ch)]
        if ch["visit"].nunique() > 1:
            parts += [(v, ch[ch["visit"] == v]) for v in _ordered_visits(ch["visit"])]
        rows += [_row("change_from_baseline", v, spec, p["objective"], p["physician"], p["subject"])
                 for v, p in parts]
    return pd.DataFrame(rows)


def validate(scores: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Agreement of pigmentscan's scores with physicians': one row per analysis, visit, measure, component.

    Photos are joined by :func:`merge_scores`; only status ok/warn count. Rows: ``masi``, ``mmasi``
    (component ``total``) and, per region, ``area`` / ``darkness`` / ``homogeneity`` (with kappa)
    wherever both tables have the columns. ``analysis`` is ``"visit"`` (``visit`` = ``"all"``
    pooled, then each visit) or ``"change_from_baseline"`` (masi/mmasi, see
    :func:`change_from_baseline`; pooled change rows hold several, correlated, changes per
    subject). The statistics columns are those of :func:`agreement`.

    Examples
    --------
    >>> s = pd.DataFrame({"image": ["a.jpg", "b.jpg", "c.jpg"], "status": "ok", "masi": [1.0, 5, 9]})
    >>> ref = pd.DataFrame({"image": ["x/a.jpg", "x/b.jpg", "x/c.jpg"], "physician_masi": [1.0, 5, 9]})
    >>> validate(s, ref)[["measure", "n", "bias"]].to_dict("records")
    [{'measure': 'masi', 'n': 3, 'bias': 0.0}]
    """
    return _table(merge_scores(scores, reference))


def _plots(x, y, label, row):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .report import figure_png_bytes

    scatter, ba = Figure(figsize=(5, 4.4)), Figure(figsize=(5, 4.4))
    FigureCanvasAgg(scatter), FigureCanvasAgg(ba)  # Agg rendering without touching pyplot's backend
    ax = scatter.add_subplot()
    ax.scatter(y, x, s=18, alpha=0.7)
    lim = [min(x.min(initial=0), y.min(initial=0)), max(x.max(initial=1), y.max(initial=1))]
    ax.plot(lim, lim, color="grey", lw=1, label="identity")
    ax.set(xlabel=f"physician {label}", ylabel=f"pigmentscan {label}",
           title=f"{label}: ICC(2,1) = {row['icc2_1']:.2f} (n = {row['n']})")
    ax.legend(loc="upper left")
    ax = ba.add_subplot()
    ax.scatter((x + y) / 2, x - y, s=18, alpha=0.7)
    ax.axhline(0, color="grey", lw=0.8)
    for value, style, name in ((row["bias"], "-", "bias"), (row["loa_lower"], "--", "lower limit"),
                               (row["loa_upper"], "--", "upper limit")):
        if math.isfinite(value):
            ax.axhline(value, color="C3", ls=style, lw=1, label=f"{name} {value:.2f}")
    ax.set(xlabel=f"mean of pigmentscan and physician {label}", ylabel="pigmentscan - physician",
           title=f"Bland-Altman: {label}")
    ax.legend(loc="best", fontsize="small")
    return figure_png_bytes(scatter), figure_png_bytes(ba)


_EXPLAIN = [
    "ICC: ICC(2,1) (absolute agreement) asks whether pigmentscan gives the same number as the physician "
    "for the same photo; ICC(3,1) (consistency) only asks whether both rank photos alike, ignoring a "
    "constant offset. 1 is perfect; two physicians reach about 0.82 on MASI (Majid et al. 2016).",
    "CCC: Lin's concordance correlation is the correlation penalised for any departure from the "
    "identity line (an offset or a different scale); 1 means every point lies on that line.",
    "Correlation: Pearson r measures a straight-line relation, Spearman rho a monotone one. Both ignore "
    "offsets, so a high r does not make the scores interchangeable. A published automated mMASI "
    "reached r = 0.74 before treatment (Tay et al. 2015).",
    "MAE and RMSE: the typical absolute difference in score points; RMSE weighs large misses more.",
    "Bland-Altman: the bias is the mean of pigmentscan minus physician; 95 % of differences are "
    "expected between the limits of agreement (bias +/- 1.96 SD). Ask whether a difference that large "
    "would change a clinical decision.",
    "Kappa: for the banded grades (area 0-6, darkness and homogeneity 0-4) quadratic-weighted kappa "
    "credits near misses; 1 is perfect agreement and 0 is chance.",
    "Change from baseline: compares the change each method sees in the same subject between the "
    "baseline visit and a later one, the quantity a trial endpoint uses.",
]


def _jsonable(value):
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_validation_report(table: pd.DataFrame, merged: pd.DataFrame, out_dir, *, note=None,
                            sources=None) -> dict:
    """Write ``agreement.json``, ``agreement.csv``, PNG figures and ``report.html`` under ``out_dir``.

    Figures (masi, mmasi and their change from baseline when present): a scatter against the
    physician with the identity line and ICC(2,1), and a Bland-Altman plot. ``note`` is shown at the
    top of the page and stored in the JSON. Output holds no timestamp, so it is deterministic; every
    file is written atomically. Returns ``{name: Path}``.
    """
    from .report import HtmlReport

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    usable = merged[merged["usable"].astype(bool)]
    meta = {"pigmentscan_version": __version__, "n_photos": len(usable),
            "n_photos_excluded": len(merged) - len(usable),
            "n_subjects": int(usable["subject"].nunique()) if "subject" in usable else None,
            "manifest_rows_skipped": len(merged.attrs.get("manifest_rows_skipped", [])),
            "join": merged.attrs.get("join"), "sources": sources or merged.attrs.get("sources"), "note": note}
    records = [{k: _jsonable(v) for k, v in rec.items()} for rec in table.to_dict("records")]
    text = json.dumps({"metadata": meta, "statistics": records}, indent=2, allow_nan=False) + "\n"
    paths = {"json": atomic_write_text(out / "agreement.json", text),
             "csv": atomic_write_text(out / "agreement.csv", table.to_csv(index=False))}
    report = HtmlReport("pigmentscan: agreement with physician scores")
    if note:
        report.paragraph(note, note=True)
    report.paragraph(f"{meta['n_photos']} photos ({meta['n_subjects'] or 'unknown number of'} subjects) "
                     f"compared with physician scores; {meta['n_photos_excluded']} matched photo(s) not "
                     f"scored (status error) left out. Photos matched on: {meta['join']}.")
    if merged.attrs.get("manifest_rows_skipped"):
        rows = merged.attrs["manifest_rows_skipped"]
        report.paragraph(f"{len(rows)} manifest row(s) left out as malformed: " + "; ".join(rows[:5])
                         + (" ..." if len(rows) > 5 else ""))
    report.heading("Summary")
    cols = ["analysis", "visit", "measure", "component", "n", "icc2_1", "icc2_1_ci_low", "icc2_1_ci_high",
            "icc3_1", "ccc", "pearson_r", "mae", "bias", "loa_lower", "loa_upper", "kappa_quadratic"]
    report.table(table[[c for c in cols if c in table]])
    report.heading("Figures")
    for analysis, suffix in (("visit", ""), ("change_from_baseline", "_change")):
        for measure in ("masi", "mmasi"):
            hit = table[(table["analysis"] == analysis) & (table["visit"] == "all") & (table["measure"] == measure)]
            if hit.empty:
                continue
            pair = (usable[measure], usable[f"physician_{measure}"]) if not suffix else \
                tuple(change_from_baseline(merged, measure)[["objective", "physician"]].T.to_numpy())
            label = {"masi": "MASI", "mmasi": "mMASI"}[measure] + (" change from baseline" if suffix else "")
            for kind, png in zip(("scatter", "bland_altman"), _plots(*_pairs(*pair), label, hit.iloc[0])):
                paths[f"{kind}_{measure}{suffix}"] = atomic_write_bytes(out / f"{kind}_{measure}{suffix}.png", png)
                report.image(png, alt=f"{kind.replace('_', '-')} plot, {label}")
    report.heading("What the statistics mean")
    for text in _EXPLAIN:
        report.paragraph(text)
    paths["html"] = report.write(out / "report.html")
    return paths


def validate_files(scores_csv, manifest_csv, out_dir, *, note=None) -> pd.DataFrame:
    """Read a scores CSV and a manifest CSV, run :func:`validate`, write the report; return the table.

    Files are read with ``pigmentscan.io.read_scores`` and ``read_manifest``. For the path join,
    relative manifest paths are resolved against the manifest's folder (CONTRACT.md) and relative
    scores paths against the current folder. The JSON names both input files with their SHA-256.
    This is what ``pigmentscan validate`` calls.
    """
    from .io import read_manifest, read_scores

    scores, manifest = read_scores(scores_csv), read_manifest(manifest_csv)  # manifest gets image_path
    if "image_path" not in scores:
        scores["image_path"] = scores["image"].astype(str)
    sources = {"scores": str(scores_csv), "reference": str(manifest_csv)}
    merged = merge_scores(scores, manifest, sources=sources)
    table = _table(merged)
    files = {k: {"path": v, "sha256": hashlib.sha256(Path(v).read_bytes()).hexdigest()} for k, v in sources.items()}
    write_validation_report(table, merged, out_dir, note=note, sources=files)
    return table
