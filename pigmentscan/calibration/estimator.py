"""The calibration estimator: :class:`MasiCalibrator` and grading of a whole scores table."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._version import __version__
from ..lesions import AREA_LEVELS_JND, level_suffix
from ..scoring import (
    AREA_BAND_EDGES_PCT,
    MASI_MAX,
    MMASI_MAX,
    REGION_WEIGHTS,
    ScoringModel,
    calibrated_totals,
    formula,
    load_model,
    model_from_dict,
    region_grades,
)
from .fits import ordinal_thresholds, totals_line

REGIONS = tuple(REGION_WEIGHTS)  # CONTRACT.md order
MEASURES = ("area_pct", "darkness_jnd", "patch_diameter_iod")  # scores-table suffixes
PARTS = {"area": 6, "darkness": 4, "homogeneity": 4}  # grade ranges, Kimbrough-Green 1994
_GRADES = ("area_score", "darkness", "homogeneity")
_MIN_PAIRS = 5  # fewer pairs than this: a parameter is not fitted from them (design choice)


def measure_columns() -> list[str]:
    """The scores-table columns :class:`MasiCalibrator` reads."""
    return [f"{r}_{m}" for r in REGIONS for m in MEASURES]


def level_columns(level_jnd: float) -> list[str]:
    """The scores-table columns of each region's lesion area at a contrast level (``<region>_area_pct_1p5jnd``)."""
    return [f"{r}_area_pct_{level_suffix(level_jnd)}" for r in REGIONS]


def _area_levels(X) -> dict:
    """Each lesion-area level the scores table reports for every region: level (JND) -> (n, 4) area %."""
    return {level: X[level_columns(level)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            for level in AREA_LEVELS_JND if set(level_columns(level)) <= set(X.columns)}


def _measures(X, level_jnd: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area_pct, darkness_jnd, patch_diameter_iod), each (n, 4), from a scores table.

    With ``level_jnd`` the area is the one at that contrast level (its ``_area_pct_<level>jnd``
    columns), else the detection level's (``_area_pct``).
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError("X must be a pandas DataFrame holding a scores table's continuous measures "
                        f"({', '.join(measure_columns()[:3])}, ...)")
    missing = [c for c in measure_columns() if c not in X.columns]
    if missing:
        raise ValueError(f"X lacks the continuous measure column(s) {missing}: pass a scores table "
                         "written by pigmentscan (its extra columns hold them)")
    cube = X[measure_columns()].apply(pd.to_numeric, errors="coerce").to_numpy(float).reshape(len(X), 4, 3)
    if level_jnd is not None:
        missing = [c for c in level_columns(level_jnd) if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the lesion areas at {level_jnd:g} JND ({missing[0]}, ...)")
        return _area_levels(X)[level_jnd], cube[..., 1], cube[..., 2]
    return cube[..., 0], cube[..., 1], cube[..., 2]


def _grades(area, contrast, diameter, grading, gain=None):
    """``scoring.region_grades`` of (n, 4) measure arrays: (area %, A, D, H), the grades the totals use."""
    graded = region_grades(area, contrast, diameter, grading, area_gain=gain)
    return graded["area_pct"], graded["expected_area_score"], graded["expected_darkness"], graded["expected_homogeneity"]


def grade_table(X, grading, level_jnd: float | None = None) -> pd.DataFrame:
    """Grade a scores table's continuous measures with ``grading`` for all rows at once.

    The same arithmetic as ``scoring.grade_region`` and ``scoring.totals`` per photo. Returns one
    row per row of ``X`` (same index): ``masi``, ``mmasi``, ``masi_raw``, ``mmasi_raw``,
    ``masi_banded``, ``mmasi_banded`` and ``<region>_area_pct`` / ``_area_score`` / ``_darkness`` /
    ``_homogeneity`` (the banded grades); NaN rows where a measure is missing (an error row).
    ``level_jnd``: grade the lesion area at that contrast level (a calibrated model's).

    Examples
    --------
    >>> from pigmentscan.scoring import Grading
    >>> g = Grading(darkness_thresholds=(0, 0.5, 0.7, 1.0), homogeneity_thresholds=(0, 0.1, 0.25, 0.5),
    ...             area_uncertainty_pct=0, darkness_uncertainty=0, homogeneity_uncertainty_iod=0)
    >>> row = {f"{r}_{m}": v for r in REGIONS for m, v in zip(MEASURES, (35.0, 0.6, 0.3))}  # darkness 0.6 JND
    >>> graded = grade_table(pd.DataFrame([row]), g)  # every region: A 3 (30-49 %), D 2, H 3
    >>> graded.loc[0, ["chin_area_score", "chin_darkness", "chin_homogeneity", "masi"]].tolist()  # 3*0.3*3*5 + 0.1*3*5
    [3.0, 2.0, 3.0, 15.0]
    """
    area, contrast, diameter = _measures(X, level_jnd)
    graded = region_grades(area, contrast, diameter, grading)
    raw_masi, raw_mmasi = formula(*(graded[f"expected_{k}"] for k in _GRADES))
    banded_masi, banded_mmasi = formula(*(graded[k] for k in _GRADES))
    calibrated = calibrated_totals(raw_masi, raw_mmasi, grading)
    out = {"masi": calibrated[0], "mmasi": calibrated[1], "masi_raw": raw_masi, "mmasi_raw": raw_mmasi,
           "masi_banded": banded_masi, "mmasi_banded": banded_mmasi}
    for i, region in enumerate(REGIONS):
        for name in ("area_pct",) + _GRADES:
            out[f"{region}_{name}"] = graded[name][:, i]
    frame = pd.DataFrame(out, index=X.index).astype(float)
    frame.loc[~np.isfinite(np.stack([area, contrast, diameter])).all(axis=(0, 2)), :] = np.nan
    return frame


def _targets(y, n: int) -> dict:
    """Physician values as arrays, NaN where not reported: masi, mmasi (n,); area, darkness, homogeneity (n, 4)."""
    y = y.to_frame() if isinstance(y, pd.Series) else y
    if not isinstance(y, pd.DataFrame):
        raise TypeError("y must be a DataFrame (or named Series) of physician_* columns (CONTRACT.md)")
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}")

    def column(name, top):
        values = pd.to_numeric(y[name], errors="coerce").to_numpy(float) if name in y else np.full(n, np.nan)
        if np.any((values < 0) | (values > top)):
            raise ValueError(f"{name} must lie within 0-{top:g}")
        return values

    out = {"masi": column("physician_masi", MASI_MAX), "mmasi": column("physician_mmasi", MMASI_MAX)}
    out.update({p: np.stack([column(f"physician_{r}_{p}", top) for r in REGIONS], axis=1) for p, top in PARTS.items()})
    if not any(np.isfinite(v).any() for v in out.values()):
        raise ValueError("y has no physician score: give physician_masi, physician_mmasi or "
                         "physician_<region>_<area|darkness|homogeneity> columns")
    return out


def physician_totals(y) -> pd.DataFrame:
    """Physician MASI and mMASI per row: as reported, else the formula of the reported components."""
    target = _targets(y, len(y))
    from_components = dict(zip(("masi", "mmasi"), formula(*(target[p] for p in PARTS))))
    return pd.DataFrame({k: np.where(np.isfinite(target[k]), target[k], from_components[k]) for k in ("masi", "mmasi")},
                        index=y.index)


class MasiCalibrator(BaseEstimator):
    """Fit a model's grading (area gain, grade thresholds, totals maps) to physicians' scores.

    Parameters
    ----------
    base_model : None, path or ScoringModel
        The model whose measures ``X`` holds (``None``: the default). The result keeps its
        lesion parameters, its grading uncertainties (the measures' repeatability, under which
        the totals use expected grades: ``scoring.expected_grade``), and its values for
        whatever cannot be fitted.
    area_gain_bounds : (float, float)
        Search range of the multiplicative area correction.
    from_totals : tuple of str
        Which of ``"area_gain"``, ``"darkness"``, ``"homogeneity"`` may be fitted from totals
        when the physician components that identify them are absent.
    totals_fit : {"agreement", "least_squares", "none"}
        Line from the formula's total to the physician's: standardised major axis, least
        squares, or the base model's.
    n_candidates, max_passes : int
        Candidate cut points per threshold and passes of the totals-only coordinate search.

    Attributes
    ----------
    grading_ : scoring.Grading
    detection_level_ : float
        The contrast (JND) from which skin of a lesion counts as involved for these raters: the
        level of the scores' ``<region>_area_pct_<level>jnd`` columns that best matches the
        physicians' area grades (the base model's when they give none); a calibrated model's
        ``lesion.detection_level_jnd``.
    area_level_ : float or None
        That level when it is not the base model's (``predict`` grades its areas), else None.
    area_gain_ : dict
    darkness_thresholds_, homogeneity_thresholds_ : tuple of 4 floats
    masi_scale_, masi_offset_, mmasi_scale_, mmasi_offset_ : float
    fitted_from_ : dict
        Parameter -> what it was fitted from (``"physician_<region>_area"``, ``"physician_masi
        (bounded search)"``, ``"base model"``, ...).
    training_summary_ : dict
        Photos, subjects, physician-score and measure ranges of the training set.
    base_model_ : ScoringModel

    Examples
    --------
    >>> cal = MasiCalibrator().fit(scores, manifest[["physician_masi"]])  # doctest: +SKIP
    >>> cal.predict(new_scores)["masi"]  # doctest: +SKIP
    >>> Path("calibrated.json").write_text(cal.to_model().to_json())  # doctest: +SKIP
    """

    def __init__(self, base_model=None, *, area_gain_bounds=(0.25, 4.0),
                 from_totals=("area_gain", "darkness", "homogeneity"), totals_fit="agreement",
                 n_candidates=48, max_passes=4):
        self.base_model = base_model
        self.area_gain_bounds = area_gain_bounds
        self.from_totals = from_totals
        self.totals_fit = totals_fit
        self.n_candidates = n_candidates
        self.max_passes = max_passes

    def fit(self, X, y, *, groups=None):
        """Fit to physician scores ``y`` (rows aligned with the scores table ``X``); returns self.

        ``groups`` (else an ``X["subject"]`` column) only feeds ``training_summary_``.
        """
        if self.totals_fit not in ("agreement", "least_squares", "none"):
            raise ValueError(f"totals_fit must be 'agreement', 'least_squares' or 'none', not {self.totals_fit!r}")
        if set(self.from_totals) - {"area_gain", "darkness", "homogeneity"}:
            raise ValueError(f"from_totals: unknown parameter(s) {sorted(set(self.from_totals) - {'area_gain', 'darkness', 'homogeneity'})}")
        base = load_model(self.base_model)
        area, contrast, diameter = _measures(X)
        target = _targets(y, len(X))
        ok = np.isfinite(np.stack([area, contrast, diameter])).all(axis=(0, 2))
        if ok.sum() < 3:
            raise ValueError(f"only {int(ok.sum())} row(s) with all measures: at least 3 needed")
        area, contrast, diameter = area[ok], contrast[ok], diameter[ok]
        target = {k: v[ok] for k, v in target.items()}
        g = base.grading
        cuts = {"darkness": np.array(g.darkness_thresholds), "homogeneity": np.array(g.homogeneity_thresholds)}
        how = dict.fromkeys(("area_gain", "darkness", "homogeneity", "detection_level"), "base model")
        # 1. the contrast level and the area gain per region, from physician area grades
        level, gain, how["area_gain"], loss = None, *self._area_gain(area, target["area"], g)
        for candidate, areas in _area_levels(X).items():
            candidate_gain, fitted_from, candidate_loss = self._area_gain(areas[ok], target["area"], g)
            if fitted_from != "base model" and candidate_loss < loss - 1e-9:
                level, gain, loss, area = candidate, candidate_gain, candidate_loss, areas[ok]
                how["detection_level"] = "physician_<region>_area"
        # 2. thresholds from physician grades, where both the physician and pigmentscan see a lesion
        involved = np.minimum(100.0, area * gain) >= g.min_area_pct
        for part, measure in (("darkness", contrast), ("homogeneity", diameter)):
            keep = involved & (np.nan_to_num(target[part]) >= 0.5)
            if keep.sum() >= _MIN_PAIRS:
                fitted = ordinal_thresholds(measure[keep], np.clip(target[part][keep], 1, 4), cuts[part][1:])
                cuts[part], how[part] = np.array([min(cuts[part][0], fitted[0]), *fitted]), f"physician_<region>_{part}"
        # 3. from a total, what the components did not give
        total = next((t for t in ("masi", "mmasi") if np.isfinite(target[t]).sum() >= _MIN_PAIRS), None)
        free = [p for p in ("area_gain", "darkness", "homogeneity") if total and p in self.from_totals
                and how[p] == "base model" and not (p == "homogeneity" and total == "mmasi")]
        if free:
            gain, cuts = self._search_totals(free, total, area, contrast, diameter, target[total], g, gain, cuts)
            how.update(dict.fromkeys(free, f"physician_{total} (bounded search)"))
        grading = replace(g, area_gain=dict(zip(REGIONS, map(float, gain))),
                          darkness_thresholds=tuple(map(float, cuts["darkness"])),
                          homogeneity_thresholds=tuple(map(float, cuts["homogeneity"])))
        # 4. linear totals maps
        raw = dict(zip(("masi", "mmasi"), formula(*_grades(area, contrast, diameter, grading)[1:])))
        from_components = dict(zip(("masi", "mmasi"), formula(*(target[p] for p in PARTS))))
        maps = {}
        for name in ("masi", "mmasi"):
            maps[name], how[f"{name}_scale/offset"] = (getattr(g, f"{name}_scale"), getattr(g, f"{name}_offset")), "base model"
            for source, values in ((f"physician_{name}", target[name]), ("formula of physician components", from_components[name])):
                if np.isfinite(values).sum() >= _MIN_PAIRS and self.totals_fit != "none":
                    maps[name], how[f"{name}_scale/offset"] = totals_line(raw[name], values, self.totals_fit), f"{source} ({self.totals_fit})"
                    break
        self.grading_ = replace(grading, masi_scale=maps["masi"][0], masi_offset=maps["masi"][1],
                                mmasi_scale=maps["mmasi"][0], mmasi_offset=maps["mmasi"][1])
        self.detection_level_ = base.lesion.detection_level_jnd if level is None else float(level)
        self.area_level_ = level
        self.base_model_ = base
        self.area_gain_ = dict(self.grading_.area_gain)
        self.darkness_thresholds_ = self.grading_.darkness_thresholds
        self.homogeneity_thresholds_ = self.grading_.homogeneity_thresholds
        self.masi_scale_, self.masi_offset_ = self.grading_.masi_scale, self.grading_.masi_offset
        self.mmasi_scale_, self.mmasi_offset_ = self.grading_.mmasi_scale, self.grading_.mmasi_offset
        self.fitted_from_ = {(k if k in ("area_gain", "detection_level") or "/" in k else f"{k}_thresholds"): v
                             for k, v in how.items()}
        subjects = groups if groups is not None else (X["subject"] if "subject" in X.columns else None)
        self.training_summary_ = self._summary(target, area, contrast, diameter, ok, subjects)
        self.n_features_in_ = len(measure_columns())
        return self

    def _area_gain(self, area, physician_area, g):
        """Per-region area gains from physician area grades: (gains, what they came from, mean |A - A_phys|)."""
        gain = np.array([g.area_gain[r] for r in REGIONS], float)
        grid = np.exp(np.linspace(*np.log(self.area_gain_bounds), 121))
        how, losses = "base model", []
        for i in range(4):
            keep = np.isfinite(physician_area[:, i])
            if keep.sum() >= _MIN_PAIRS:
                pct = np.minimum(100.0, area[keep, i][None, :] * grid[:, None])
                bands = np.where(pct < g.min_area_pct, 0, 1 + np.searchsorted(AREA_BAND_EDGES_PCT, pct, side="right"))
                loss = np.abs(bands - physician_area[keep, i]).mean(axis=1) + 1e-6 * np.abs(np.log(grid))
                gain[i], how = grid[int(np.argmin(loss))], "physician_<region>_area"
                losses.append(float(loss.min()))
        return gain, how, (float(np.mean(losses)) if losses else np.inf)

    def _search_totals(self, free, total, area, contrast, diameter, phys, g, gain, cuts):
        """Coordinate search over ``free`` minimising mean |formula total - physician total|.

        One factor on all regions' gains (log grid within ``area_gain_bounds``); each cut point
        over midpoints of the observed measure between its neighbours (the loss only changes
        there). A move must strictly lower the loss, so ties keep the current value.
        """
        keep = np.isfinite(phys)
        area, contrast, diameter, phys = area[keep], contrast[keep], diameter[keep], phys[keep]
        state = {"area_gain": np.array([1.0]), "darkness": cuts["darkness"].copy(), "homogeneity": cuts["homogeneity"].copy()}
        measure = {"darkness": contrast, "homogeneity": diameter}

        def loss():
            grading = replace(g, darkness_thresholds=tuple(state["darkness"]), homogeneity_thresholds=tuple(state["homogeneity"]))
            raw = formula(*_grades(area, contrast, diameter, grading, gain=gain * state["area_gain"][0])[1:])
            return float(np.mean(np.abs(raw[0 if total == "masi" else 1] - phys)))

        current = loss()
        for _ in range(int(self.max_passes)):
            before = current
            for p in free:
                for k in ([0] if p == "area_gain" else [1, 2, 3]):
                    if p == "area_gain":
                        candidates = np.exp(np.linspace(*np.log(self.area_gain_bounds), 81))
                    else:
                        t = state[p]
                        upper = t[k + 1] if k < 3 else np.inf
                        seen = np.unique(measure[p][(measure[p] > t[k - 1]) & (measure[p] < upper)])
                        mids = (seen[1:] + seen[:-1]) / 2
                        if mids.size > self.n_candidates:
                            mids = np.quantile(mids, np.linspace(0, 1, int(self.n_candidates)))
                        beyond = seen.max() * 1.05 + 1e-3 if seen.size else t[k]  # grade k+1 never given
                        candidates = np.append(mids, beyond if k == 3 else min(beyond, upper))
                    best = state[p][k]
                    for c in candidates:
                        state[p][k] = c
                        value = loss()
                        if value < current - 1e-9:
                            best, current = float(c), value
                    state[p][k] = best
            if current >= before - 1e-9:
                break
        return gain * state["area_gain"][0], {"darkness": state["darkness"], "homogeneity": state["homogeneity"]}

    @staticmethod
    def _summary(target, area, contrast, diameter, ok, subjects) -> dict:
        def span(values):
            values = np.asarray(values, float)[np.isfinite(values)]
            return [round(float(values.min()), 4), round(float(values.max()), 4)] if values.size else None

        subjects = None if subjects is None else pd.Series(np.asarray(subjects)[ok]).replace("", np.nan)
        ranges = {f"physician_{k}": span(v) for k, v in target.items()}
        return {"n_photos": int(ok.sum()), "n_rows_without_measures": int((~ok).sum()),
                "n_subjects": None if subjects is None else int(subjects.nunique()),
                "n_photos_reporting": {f"physician_{k}": int(np.isfinite(v).reshape(len(v), -1).any(axis=1).sum())
                                       for k, v in target.items()},
                "physician_ranges": {k: v for k, v in ranges.items() if v is not None},
                "measure_ranges": dict(zip(MEASURES, map(span, (area, contrast, diameter))))}

    def predict(self, X) -> pd.DataFrame:
        """Calibrated grades and totals of a scores table (see :func:`grade_table`), at the fitted contrast level."""
        check_is_fitted(self, "grading_")
        return grade_table(X, self.grading_, self.area_level_)

    def score(self, X, y) -> float:
        """Lin's concordance correlation of the predicted MASI with ``physician_masi`` (else mMASI)."""
        from ..validation import lin_ccc

        totals = physician_totals(y)
        name = "masi" if totals["masi"].notna().any() else "mmasi"
        return lin_ccc(self.predict(X)[name].to_numpy(), totals[name].to_numpy()).ccc

    def to_model(self, *, name: str = "calibrated", description: str = "", extra: dict | None = None) -> ScoringModel:
        """The fitted grading as a :class:`ScoringModel` with the base model's lesion parameters and classifier.

        ``extra["calibration"]`` records the pigmentscan version, the base model, the estimator's
        parameters, what each parameter was fitted from and the training-set summary (plus
        ``extra``); the model's identity is ``content_hash`` / ``label``.
        """
        check_is_fitted(self, "grading_")
        base = self.base_model_
        provenance = dict(base.provenance)
        provenance.update({k: f"Fitted by pigmentscan {__version__} calibrate from {v} on "
                              f"{self.training_summary_['n_photos']} photos (see 'calibration')."
                           for k, v in self.fitted_from_.items() if v != "base model"})
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items() if k != "base_model"}
        calibration = {"pigmentscan_version": __version__, "base_model": base.label, "estimator": params,
                       "fitted_from": dict(self.fitted_from_), "training_set": self.training_summary_, **(extra or {})}
        lesion = replace(base.lesion, detection_level_jnd=self.detection_level_)
        model = ScoringModel(name=name, lesion=lesion, grading=self.grading_, analysis_iod_px=base.analysis_iod_px,
                             region_template=base.region_template, provenance=provenance,
                             description=description or f"Calibrated to physician scores, from {base.label}.",
                             extra={**base.extra, "calibration": calibration},
                             face_template=base.face_template)
        # as its JSON file reads back (types normalised), so its label is the one scores will carry
        return model_from_dict(json.loads(model.to_json()), source=f"calibrated model {name!r}")
