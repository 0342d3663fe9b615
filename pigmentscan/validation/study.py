"""Joining objective scores to physicians' and tabulating agreement per visit, component and change."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ManifestError
from ..io import visit_order
from ..regions import REGION_KEYS
from .statistics import agreement, numeric_values

#: Full range of each banded MASI component (Kimbrough-Green 1994): area 0-6, D and H 0-4.
ORDINAL_LABELS = {"area": tuple(range(7)), "darkness": tuple(range(5)), "homogeneity": tuple(range(5))}
_SCORE_SUFFIX = {"area": "area_score", "darkness": "darkness", "homogeneity": "homogeneity"}  # CONTRACT.md


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


def _ordered_visits(values) -> list:
    """Visit labels in time order (:func:`pigmentscan.io.visit_order`); labels it cannot order go last, by name."""
    labels = list(pd.unique(values.dropna()))
    ranks = visit_order([None] * len(labels), labels)["visit_rank"].tolist()
    ordered = sorted(zip(ranks, labels), key=lambda pair: (pair[0] < 0, pair[0], str(pair[1])))
    return [label for _, label in ordered]


#: Prefix of the reference columns in a manifest (CONTRACT.md: physician_masi, ...).
REFERENCE_PREFIX = "physician_"


def change_from_baseline(merged: pd.DataFrame, measure: str, *, prefix: str = REFERENCE_PREFIX) -> pd.DataFrame:
    """Objective and physician change of ``measure`` from baseline, one row per subject and later visit.

    Each subject's baseline is chosen by :func:`pigmentscan.io.visit_order`, as ``compare`` chooses
    it (its day-0 visit, else its last visit before day 0; by ``date`` when the labels cannot be
    ordered); a subject without a baseline visit contributes no change, and one without a usable
    baseline photo no objective change (NaN). Photos of one subject at one visit are averaged.
    Columns: ``subject``, ``visit``, ``objective``, ``physician``.
    """
    cols, out = ["subject", "visit", measure, f"{prefix}{measure}"], ["subject", "visit", "objective", "physician"]
    if not set(cols) <= set(merged.columns):
        return pd.DataFrame(columns=out)
    data = merged[cols].apply(lambda c: c if c.name in cols[:2] else pd.to_numeric(c, errors="coerce"))
    data[measure] = data[measure].where(merged["usable"].astype(bool))
    data = data.dropna(subset=cols[:2])
    order = visit_order(data["subject"], data["visit"], merged.loc[data.index, "date"] if "date" in merged else None)
    data = data.assign(_rank=order["visit_rank"], _base=order["baseline_rank"])
    data = data[data["_rank"].ge(0) & data["_base"].ge(0)]
    means = data.groupby(["subject", "_rank"], sort=True).agg(
        visit=("visit", "first"), base=("_base", "first"), objective=(cols[2], "mean"), physician=(cols[3], "mean"))
    rows = []
    for (subject, rank), visit in means.iterrows():
        if rank > visit["base"] and (subject, visit["base"]) in means.index:
            base = means.loc[(subject, visit["base"])]
            rows.append({"rank": rank, "subject": subject, "visit": visit["visit"],
                         "objective": visit["objective"] - base["objective"],
                         "physician": visit["physician"] - base["physician"]})
    rows.sort(key=lambda row: row["rank"])  # visit by visit, subjects in order within each
    return pd.DataFrame(rows, columns=["rank"] + out).drop(columns="rank")


def reference_columns(prefix: str = REFERENCE_PREFIX) -> list[str]:
    """The reference columns validate looks for: ``<prefix>masi``, ``<prefix>mmasi``, and per region
    ``<prefix><region>_area`` (0-6), ``_darkness`` and ``_homogeneity`` (0-4).

    Examples
    --------
    >>> reference_columns("derm_")[:3]
    ['derm_masi', 'derm_mmasi', 'derm_forehead_area']
    """
    return [f"{prefix}{m}" for m in ("masi", "mmasi")] + [
        f"{prefix}{region}_{comp}" for region in REGION_KEYS for comp in _SCORE_SUFFIX]


def _specs(merged, prefix: str = REFERENCE_PREFIX) -> list:
    specs = [(m, "total", m, f"{prefix}{m}", None) for m in ("masi", "mmasi")]
    specs += [(comp, region, f"{region}_{suffix}", f"{prefix}{region}_{comp}", ORDINAL_LABELS[comp])
              for region in REGION_KEYS for comp, suffix in _SCORE_SUFFIX.items()]
    return [s for s in specs if s[2] in merged.columns and s[3] in merged.columns]


def _row(analysis, visit, spec, objective, physician, subjects) -> dict:
    measure, component, objective_col, physician_col, labels = spec
    keep = np.isfinite(numeric_values(objective)) & np.isfinite(numeric_values(physician))
    return {"analysis": analysis, "visit": str(visit), "measure": measure, "component": component,
            "objective": objective_col, "physician": physician_col,
            "n_subjects": int(pd.Series(subjects)[keep].nunique()) if subjects is not None else np.nan,
            **agreement(objective, physician, ordinal_labels=labels)}


def validation_table(merged: pd.DataFrame, prefix: str = REFERENCE_PREFIX) -> pd.DataFrame:
    """The table of :func:`validate` from scores already joined to the reference (:func:`merge_scores`).

    Raises
    ------
    ManifestError
        Naming the reference, when it has none of the :func:`reference_columns` of ``prefix``.
    """
    specs = _specs(merged, prefix)
    if not specs:
        raise ManifestError(merged.attrs.get("sources", {}).get("reference"),
                            f"nothing to compare: no reference column, expected any of {prefix}masi, {prefix}mmasi, "
                            f"{prefix}<region>_area / _darkness / _homogeneity (--reference-prefix sets the prefix)")
    ok = merged[merged["usable"].astype(bool)]
    groups = [("all", ok)]
    if "visit" in ok and ok["visit"].nunique() > 1:
        groups += [(v, ok[ok["visit"] == v]) for v in _ordered_visits(ok["visit"])]
    rows = [_row("visit", v, s, part[s[2]], part[s[3]], part["subject"] if "subject" in part else None)
            for v, part in groups for s in specs]
    for spec in (s for s in specs if s[1] == "total"):
        ch = change_from_baseline(merged, spec[0], prefix=prefix)  # empty without subject and visit columns
        if ch.empty:
            continue
        parts = [("all", ch)]
        if ch["visit"].nunique() > 1:
            parts += [(v, ch[ch["visit"] == v]) for v in _ordered_visits(ch["visit"])]
        rows += [_row("change_from_baseline", v, spec, p["objective"], p["physician"], p["subject"])
                 for v, p in parts]
    return pd.DataFrame(rows)


def validate(scores: pd.DataFrame, reference: pd.DataFrame, *, reference_prefix: str = REFERENCE_PREFIX) -> pd.DataFrame:
    """Agreement of pigmentscan's scores with physicians': one row per analysis, visit, measure, component.

    Photos are joined by :func:`merge_scores`; only status ok/warn count. Rows: ``masi``, ``mmasi``
    (component ``total``) and, per region, ``area`` / ``darkness`` / ``homogeneity`` (with kappa)
    wherever both tables have the columns: the reference's are named ``reference_prefix`` +
    ``masi``, ... (:func:`reference_columns`). ``analysis`` is ``"visit"`` (``visit`` = ``"all"``
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
    return validation_table(merge_scores(scores, reference), reference_prefix)
