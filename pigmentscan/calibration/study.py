"""Calibrating from files: subject-grouped cross-validation, agreement tables, ``calibrate_files``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ManifestError
from ..scoring import (
    ScoringModel,
    load_model,
)
from .estimator import (
    PARTS,
    REGIONS,
    MasiCalibrator,
    grade_table,
    measure_columns,
    physician_totals,
)


def cross_validated_predictions(X, y, groups, *, folds: int = 5, estimator=None) -> pd.DataFrame:
    """Out-of-fold calibrated MASI/mMASI beside the base model's, ``GroupKFold`` by subject.

    All photos of one subject fall in one fold, so no subject is both fitted on and tested on.
    Columns ``fold`` and ``physician_`` / ``default_`` / ``calibrated_`` ``masi`` and ``mmasi``.
    """
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    estimator = MasiCalibrator() if estimator is None else estimator
    n_groups = len(pd.unique(np.asarray(groups)))
    if n_groups < 2:
        raise ValueError(f"cross-validation needs at least 2 subjects, got {n_groups}")
    default, phys = grade_table(X, load_model(estimator.base_model).grading), physician_totals(y)
    out = pd.DataFrame({"fold": -1, "calibrated_masi": np.nan, "calibrated_mmasi": np.nan}, index=X.index)
    for fold, (train, test) in enumerate(GroupKFold(n_splits=min(folds, n_groups)).split(X, groups=np.asarray(groups))):
        predicted = clone(estimator).fit(X.iloc[train], y.iloc[train]).predict(X.iloc[test])
        out.iloc[test, 0] = fold
        out.iloc[test, 1:] = predicted[["masi", "mmasi"]].to_numpy()
    for name in ("masi", "mmasi"):
        out[f"physician_{name}"], out[f"default_{name}"] = phys[name], default[name]
    return out


def agreement_table(predictions: pd.DataFrame) -> pd.DataFrame:
    """``validation.agreement`` of default and calibrated MASI/mMASI with the physicians', one row each."""
    from ..validation import agreement

    rows = []
    for measure in ("masi", "mmasi"):
        if np.isfinite(predictions[f"physician_{measure}"]).sum() < 3:
            continue
        for model in ("default", "calibrated"):
            rows.append({"measure": measure, "model": model,
                         **agreement(predictions[f"{model}_{measure}"], predictions[f"physician_{measure}"])})
    return pd.DataFrame(rows)


def _jsonable(value):
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate_files` did: the model, where it went, and cross-validated agreement."""

    model: ScoringModel
    model_path: Path
    agreement: pd.DataFrame
    predictions: pd.DataFrame
    n_photos: int
    n_subjects: int
    folds: int
    fitted_from: dict = field(default_factory=dict)
    notes: tuple = ()

    def to_dict(self) -> dict:
        return {"model": self.model.label, "model_path": str(self.model_path), "n_photos": self.n_photos,
                "n_subjects": self.n_subjects, "folds": self.folds, "fitted_from": dict(self.fitted_from),
                "notes": list(self.notes),
                "agreement": [{k: _jsonable(v) for k, v in r.items()} for r in self.agreement.to_dict("records")]}

    def summary(self) -> str:
        """Human-readable summary: what was fitted, and default vs calibrated agreement."""
        lines = [f"calibrated model {self.model.label} -> {self.model_path}",
                 f"fitted on {self.n_photos} photo(s) of {self.n_subjects} subject(s):"]
        lines += [f"  {k:<24} {v}" for k, v in self.fitted_from.items()]
        lines += [f"note: {n}" for n in self.notes]
        if not self.agreement.empty:
            lines.append(f"cross-validated agreement with the physicians ({self.folds} folds grouped by subject: "
                         "no subject is in both the fitting and the testing part of a fold):")
            lines.append(f"  {'measure':<7} {'model':<11} {'n':>4}  {'ICC(A,1) [95% CI]':<22} {'MAE':>6} "
                         f"{'bias':>6}  limits of agreement")
            for r in self.agreement.to_dict("records"):
                lines.append(f"  {r['measure'].upper() if r['measure'] == 'masi' else 'mMASI':<7} {r['model']:<11} "
                             f"{r['n']:>4}  {r['icc2_1']:.3f} [{r['icc2_1_ci_low']:.3f}, {r['icc2_1_ci_high']:.3f}]"
                             f"{'':<3} {r['mae']:>6.2f} {r['bias']:>6.2f}  {r['loa_lower']:.2f} to {r['loa_upper']:.2f}")
            icc = self.agreement.set_index(["measure", "model"])["icc2_1"]
            worse = [m for m in ("masi", "mmasi") if (m, "calibrated") in icc and icc[m, "calibrated"] < icc[m, "default"]]
            if worse:
                lines.append(f"warning: on held-out subjects the calibrated {' and '.join(worse)} agrees less with the "
                             "physicians than the default model's: calibrate on more photos, or keep the default model")
        return "\n".join(lines)


def _physician_columns() -> list[str]:
    return ["physician_masi", "physician_mmasi"] + [f"physician_{r}_{p}" for r in REGIONS for p in PARTS]


def calibrate_files(manifest_csv, out_json, *, scores_csv=None, jobs: int = 1, folds: int = 5,
                    base_model=None, estimator=None, name: str = "calibrated") -> CalibrationResult:
    """Fit a calibrated model to the physician scores of a manifest and write it as JSON.

    The photos are scored with ``base_model`` (or ``scores_csv``, a scores CSV written with that
    model, is reused), :class:`MasiCalibrator` is fitted on every usable photo with a physician
    score, and the model is written atomically to ``out_json``. Agreement is estimated by
    ``folds``-fold cross-validation grouped by subject (photos without a subject are their own
    group), for the base and the calibrated model. This is what ``pigmentscan calibrate`` runs.

    Raises
    ------
    ManifestError
        The manifest (or scores CSV) is unusable, has no physician score column, the scores
        were made with another model, or fewer than 3 scored photos have physician scores.
    """
    from sklearn.base import clone

    from ..io import atomic_write_text, read_manifest, read_scores
    from ..pipeline import score_images
    from ..validation import merge_scores

    manifest = read_manifest(manifest_csv)
    physician = [c for c in _physician_columns() if c in manifest.columns]
    if not physician:
        raise ManifestError(manifest_csv, "no physician score column (physician_masi, physician_mmasi or "
                                          "physician_<region>_<area|darkness|homogeneity>): nothing to calibrate to")
    base = load_model(base_model)
    notes = []
    if scores_csv is None:
        good = manifest[manifest["manifest_error"] == ""]
        scores = score_images(list(good["image_path"]), model=base, jobs=jobs)
        scores["image"] = good["image"].to_numpy()
        scores["image_path"] = good["image_path"].to_numpy()
        sources = {"scores": f"{manifest_csv} (scored now)", "reference": str(manifest_csv)}
    else:
        scores = read_scores(scores_csv)
        missing = [c for c in measure_columns() if c not in scores.columns]
        if missing:
            raise ManifestError(scores_csv, f"lacks the continuous measure columns ({', '.join(missing[:3])}, ...): "
                                            "score the photos with pigmentscan score, or omit --scores")
        made_with = set(scores.loc[scores["status"].isin(["ok", "warn"]), "model"]) - {base.label} if "model" in scores else set()
        if made_with:
            raise ManifestError(scores_csv, f"was scored with model {', '.join(sorted(made_with))}; calibration "
                                            f"needs the measures of the base model {base.label}: score the photos "
                                            "again with it, or omit --scores")
        if "image_path" not in scores:
            scores["image_path"] = scores["image"].astype(str)
        sources = {"scores": str(scores_csv), "reference": str(manifest_csv)}
    merged = merge_scores(scores, manifest, sources=sources)
    has_reference = merged[physician].notna().any(axis=1)
    usable = merged[merged["usable"].astype(bool) & has_reference].reset_index(drop=True)
    dropped = int((~merged["usable"].astype(bool)).sum())
    if dropped:
        notes.append(f"{dropped} photo(s) could not be scored (status error) and were left out")
    if merged.attrs.get("manifest_rows_skipped"):
        notes.append(f"{len(merged.attrs['manifest_rows_skipped'])} malformed manifest row(s) left out")
    if len(usable) < 3:
        raise ManifestError(manifest_csv, f"only {len(usable)} scored photo(s) with a physician score: "
                                          "at least 3 needed to calibrate")
    subjects = usable["subject"] if "subject" in usable else pd.Series(np.nan, index=usable.index)
    groups = subjects.where(subjects.notna() & (subjects.astype(str) != ""), "photo:" + usable["image"].astype(str))
    if subjects.isna().all():
        notes.append("no subject column: each photo is its own cross-validation group")
    estimator = clone(estimator) if estimator is not None else MasiCalibrator(base_model=base)
    estimator.set_params(base_model=base)
    X, y = usable, usable[physician]
    n_groups = int(groups.nunique())
    predictions, table = pd.DataFrame(), pd.DataFrame()
    if n_groups < 2:
        notes.append("one subject only: no cross-validation")
    else:
        try:
            predictions = cross_validated_predictions(X, y, groups, folds=folds, estimator=estimator)
            table = agreement_table(predictions)
        except ValueError as error:  # a fold too small to fit on: the model is still fitted on every photo
            notes.append(f"no cross-validation: a fold could not be fitted ({error}); use fewer --folds or "
                         "add subjects")
    estimator.fit(X, y, groups=groups)
    cv = {"folds": min(folds, n_groups), "grouped_by": "subject",
          "agreement": [{k: _jsonable(r[k]) for k in ("measure", "model", "n", "icc2_1", "icc2_1_ci_low",
                                                      "icc2_1_ci_high", "mae", "bias", "loa_lower", "loa_upper")}
                        for r in table.to_dict("records")]}
    model = estimator.to_model(name=name, description=f"Calibrated to the physician scores of "
                                                      f"{Path(manifest_csv).name} ({len(usable)} photos).",
                               extra={"cross_validation": cv, "manifest": Path(manifest_csv).name})
    path = atomic_write_text(out_json, model.to_json())
    return CalibrationResult(model=model, model_path=Path(path), agreement=table, predictions=predictions,
                             n_photos=len(usable), n_subjects=n_groups, folds=cv["folds"],
                             fitted_from=dict(estimator.fitted_from_), notes=tuple(notes))
