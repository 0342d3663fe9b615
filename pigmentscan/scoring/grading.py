"""Grades and totals: MASI's area bands, ordinal grades, expected grades and the two formulas.

The formulas (MASI.md):

    MASI  = Σ w_r · A_r · (D_r + H_r)     range 0–48   (Kimbrough-Green 1994)
    mMASI = Σ w_r · A_r · D_r             range 0–24   (Pandya 2011)

with weights 0.3 (forehead, right malar, left malar) and 0.1 (chin).

A grade is banded: the number of thresholds a continuous measure reaches. A measure a
little below a band edge on one photo and a little above it on the next photo of the same
skin gets a whole grade more, and a malar area step is 1.8 MASI points where D + H = 6.
So a :class:`Grading` may also give each measure's uncertainty, and then the totals use
each grade's *expected* value under that uncertainty (:func:`expected_grade`): the banded
grade averaged over a normal distribution of the measure around the measured value. The
banded grades are still reported, and so is the formula over them (``masi_banded``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import ndtr

from ..lesions import RegionMeasures
from ..regions import REGION_KEYS

__all__ = [
    "REGION_WEIGHTS", "AREA_BAND_EDGES_PCT", "MASI_MAX", "MMASI_MAX", "area_score", "masi", "mmasi", "formula",
    "grade", "expected_grade", "Grading", "RegionScore", "region_grades", "grade_region", "totals",
]

# Kimbrough-Green et al., Arch Dermatol 1994;130:727-33: region weights.
REGION_WEIGHTS = {"forehead": 0.3, "right_malar": 0.3, "left_malar": 0.3, "chin": 0.1}
# Kimbrough-Green 1994 area bands: A = 1 below 10 %, 2 for 10-29 %, … 6 for 90-100 %.
AREA_BAND_EDGES_PCT = (10.0, 30.0, 50.0, 70.0, 90.0)
MASI_MAX, MMASI_MAX = 48.0, 24.0
_WEIGHTS = np.array([REGION_WEIGHTS[r] for r in REGION_KEYS])


def area_score(area_pct: float) -> int:
    """MASI area score (0–6) of the percentage of a region involved (Kimbrough-Green 1994).

    Examples
    --------
    >>> [area_score(p) for p in (0, 9.9, 10, 29.9, 30, 89.9, 90, 100)]
    [0, 1, 2, 2, 3, 5, 6, 6]
    """
    if not math.isfinite(area_pct) or area_pct < 0 or area_pct > 100 + 1e-9:
        raise ValueError(f"area percentage must be within 0-100, got {area_pct}")
    if area_pct == 0:
        return 0
    return 1 + int(expected_grade(area_pct, AREA_BAND_EDGES_PCT))


def _check_components(components: dict, keys=("area", "darkness", "homogeneity")) -> None:
    missing = set(REGION_KEYS) - set(components)
    if missing:
        raise ValueError(f"missing regions: {sorted(missing)}")
    limits = {"area": 6, "darkness": 4, "homogeneity": 4}
    for region, values in components.items():
        for key in keys:
            value = values[key]
            if not 0 <= value <= limits[key]:
                raise ValueError(f"{region} {key} must be within 0-{limits[key]}, got {value}")


def formula(area, darkness, homogeneity) -> tuple[np.ndarray, np.ndarray]:
    """MASI and mMASI of component arrays (Kimbrough-Green 1994; Pandya 2011).

    Parameters
    ----------
    area, darkness, homogeneity : array_like, shape (..., 4)
        Grades of the regions in :data:`~pigmentscan.regions.REGION_KEYS` order (banded or
        expected); NaN propagates.

    Returns
    -------
    masi, mmasi : numpy.ndarray, shape (...)

    Examples
    --------
    >>> masi_total, mmasi_total = formula([[6, 6, 6, 6]], [[4, 4, 4, 4]], [[4, 4, 4, 4]])
    >>> masi_total.tolist(), mmasi_total.tolist()
    ([48.0], [24.0])
    """
    a, d, h = (np.asarray(v, float) for v in (area, darkness, homogeneity))
    return np.sum(_WEIGHTS * a * (d + h), axis=-1), np.sum(_WEIGHTS * a * d, axis=-1)


def _component_arrays(components: dict, keys) -> list:
    return [np.array([components[r][k] for r in REGION_KEYS], float) for k in keys]


def masi(components: dict) -> float:
    """MASI from per-region area, darkness and homogeneity grades (Kimbrough-Green 1994).

    Parameters
    ----------
    components : dict
        ``{region: {"area": A, "darkness": D, "homogeneity": H}}`` for the four regions.

    Examples
    --------
    >>> full = {r: {"area": 6, "darkness": 4, "homogeneity": 4} for r in REGION_WEIGHTS}
    >>> round(masi(full), 6)
    48.0
    """
    _check_components(components)
    return float(formula(*_component_arrays(components, ("area", "darkness", "homogeneity")))[0])


def mmasi(components: dict) -> float:
    """Modified MASI, homogeneity dropped (Pandya 2011): Σ w·A·D, range 0–24."""
    _check_components(components, keys=("area", "darkness"))
    area, darkness = _component_arrays(components, ("area", "darkness"))
    return float(formula(area, darkness, np.zeros(4))[1])


def grade(value: float, thresholds) -> int:
    """Ordinal grade: the number of ``thresholds`` (ascending) that ``value`` reaches."""
    return int(expected_grade(value, thresholds))


def expected_grade(value, thresholds, uncertainty: float = 0.0) -> np.ndarray:
    """Expected ordinal grade of a measure known to within a normal ``uncertainty`` (its SD).

    The banded grade counts the ``thresholds`` a value reaches; its expected value, for a
    measure distributed normally around ``value``, is the sum over the thresholds of the
    probability of reaching each: Σ Φ((value − t) / uncertainty). It moves smoothly where the
    banded grade jumps, and equals the banded grade far from every threshold and when
    ``uncertainty`` is 0.

    Parameters
    ----------
    value : array_like
        The measure(s).
    thresholds : sequence of float
        Ascending band edges.
    uncertainty : float
        Standard deviation of the measure, in its units; 0 gives the banded grade.

    Returns
    -------
    numpy.ndarray of float, the shape of ``value``

    Examples
    --------
    >>> expected_grade([5.0, 10.0, 50.0], (10.0, 30.0), uncertainty=0.0).tolist()
    [0.0, 1.0, 2.0]
    >>> expected_grade([10.0, 20.0], (10.0, 30.0), uncertainty=3.0).round(3).tolist()  # on an edge: half a grade
    [0.5, 1.0]
    """
    value = np.asarray(value, float)
    edges = np.asarray(thresholds, float)
    if uncertainty <= 0:
        return np.searchsorted(edges, value, side="right").astype(float)
    return ndtr((value[..., None] - edges) / float(uncertainty)).sum(axis=-1)


@dataclass(frozen=True)
class Grading:
    """Thresholds that turn continuous measures into MASI grades.

    Attributes
    ----------
    min_area_pct : float
        Involvement below this share of a region counts as none.
    area_gain : dict
        Per-region multiplicative correction of the measured area (calibration).
    darkness_thresholds, homogeneity_thresholds : tuple of 4 floats
        Grade = number of thresholds reached (1–4) by the lesion's darkness (its contrast on the
        face's skin, JND) / patch diameter (IOD); 0 where there is no lesion. The defaults are
        pigmentscan's grading scale (docs/grading_scale.md).
    masi_scale, masi_offset, mmasi_scale, mmasi_offset : float
        Linear map from the formula's total to the calibrated estimate of a physician's.
    area_uncertainty_pct, darkness_uncertainty, homogeneity_uncertainty_iod : float
        Standard deviation of the area % (points), the darkness (JND) and the patch
        diameter (IOD) between two photos of the same skin. Where positive, the totals use
        the expected grades under it (:func:`expected_grade`); 0 uses the banded grades.
    """

    min_area_pct: float = 0.5
    area_gain: dict = field(default_factory=lambda: {r: 1.0 for r in REGION_KEYS})
    # docs/grading_scale.md: D from 1, 2, 3.5, 5.5 JND; H from specks, 0.08, 0.28, 0.6 IOD.
    darkness_thresholds: tuple = (1.0, 2.0, 3.5, 5.5)
    homogeneity_thresholds: tuple = (0.0, 0.08, 0.28, 0.6)
    masi_scale: float = 1.0
    masi_offset: float = 0.0
    mmasi_scale: float = 1.0
    mmasi_offset: float = 0.0
    # measured between retakes of tune phantoms (docs/model_card.md); models/default.json's values
    area_uncertainty_pct: float = 1.72
    darkness_uncertainty: float = 0.207
    homogeneity_uncertainty_iod: float = 0.0207

    def to_dict(self) -> dict:
        values = asdict(self)
        values["darkness_thresholds"] = list(self.darkness_thresholds)
        values["homogeneity_thresholds"] = list(self.homogeneity_thresholds)
        return values


@dataclass(frozen=True)
class RegionScore:
    """Grades and continuous measures of one MASI region.

    ``area_score``, ``darkness`` and ``homogeneity`` are the banded grades; the
    ``expected_`` ones are what the totals use (equal to the banded ones when the
    grading gives no uncertainty; see :func:`expected_grade`).
    """

    area_fraction: float
    area_pct: float
    area_score: int
    darkness: int
    homogeneity: int
    measures: RegionMeasures
    expected_area_score: float = math.nan
    expected_darkness: float = math.nan
    expected_homogeneity: float = math.nan

    def to_dict(self) -> dict:
        keys = ("area_fraction", "area_pct", "area_score", "darkness", "homogeneity", "expected_area_score",
                "expected_darkness", "expected_homogeneity")
        out = {k: getattr(self, k) for k in keys}
        out.update({k: v for k, v in self.measures.to_dict().items() if k != "area_fraction"})
        return out


def region_grades(area_pct, darkness_jnd, patch_diameter_iod, grading: Grading, *, area_gain=None) -> dict:
    """Grade regions' continuous measures, any number at once (arrays of one shape).

    Where the gain-corrected area is below ``grading.min_area_pct`` the region has no
    lesion: every grade is 0. Elsewhere A = 1 + area bands reached (Kimbrough-Green 1994),
    D and H = the thresholds reached, at least 1; the ``expected_`` grades are the same
    counts as expected values under the grading's uncertainties (:func:`expected_grade`).

    Parameters
    ----------
    area_pct : array_like
        Measured lesion area, % of the region (before ``area_gain``); NaN is read as 0.
    darkness_jnd, patch_diameter_iod : array_like
        The lesion's darkness (JND) and area-weighted patch diameter (IOD).
    grading : Grading
    area_gain : array_like, optional
        Multiplicative area correction broadcast against ``area_pct`` (default: the
        grading's per-region gains, for arrays whose last axis is the four regions).

    Returns
    -------
    dict of numpy.ndarray
        ``area_pct`` (gain-corrected, at most 100), ``area_score``, ``darkness``,
        ``homogeneity`` (banded, int) and ``expected_area_score``, ``expected_darkness``,
        ``expected_homogeneity`` (float).

    Examples
    --------
    >>> g = Grading(area_uncertainty_pct=3.0)
    >>> out = region_grades([[30.0, 20.0, 1.0, 0.1]], [[1.5] * 4], [[0.3] * 4], g)
    >>> out["area_score"].tolist(), out["expected_area_score"].round(2).tolist()
    ([[3, 2, 1, 0]], [[2.5, 2.0, 1.0, 0.0]])
    """
    gain = np.array([grading.area_gain[r] for r in REGION_KEYS]) if area_gain is None else np.asarray(area_gain, float)
    pct = np.minimum(100.0, np.nan_to_num(np.asarray(area_pct, float)) * gain)
    involved = pct >= grading.min_area_pct
    contrast, diameter = np.nan_to_num(np.asarray(darkness_jnd, float)), np.nan_to_num(np.asarray(patch_diameter_iod, float))
    out = {"area_pct": pct}
    for prefix, sd in (("", (0.0, 0.0, 0.0)),
                       ("expected_", (grading.area_uncertainty_pct, grading.darkness_uncertainty,
                                      grading.homogeneity_uncertainty_iod))):
        grades = (1.0 + expected_grade(pct, AREA_BAND_EDGES_PCT, sd[0]),
                  np.maximum(1.0, expected_grade(contrast, grading.darkness_thresholds, sd[1])),
                  np.maximum(1.0, expected_grade(diameter, grading.homogeneity_thresholds, sd[2])))
        for name, values in zip(("area_score", "darkness", "homogeneity"), grades):
            values = np.where(involved, values, 0.0)
            out[prefix + name] = values.astype(int) if not prefix else values
    return out


def grade_region(region: str, measures: RegionMeasures, grading: Grading) -> RegionScore:
    """Grade one region's continuous measures with a model's thresholds (:func:`region_grades`)."""
    graded = region_grades(100.0 * measures.area_fraction, measures.darkness_jnd, measures.patch_diameter_iod,
                           grading, area_gain=grading.area_gain[region])
    value = {k: v.item() for k, v in graded.items()}
    return RegionScore(value["area_pct"] / 100.0, value["area_pct"], value["area_score"], value["darkness"],
                       value["homogeneity"], measures, value["expected_area_score"], value["expected_darkness"],
                       value["expected_homogeneity"])


def calibrated_totals(masi_raw, mmasi_raw, grading: Grading) -> tuple:
    """The model's linear map of formula totals onto a physician's, clipped to 0–48 and 0–24."""
    return (np.clip(grading.masi_scale * np.asarray(masi_raw) + grading.masi_offset, 0.0, MASI_MAX),
            np.clip(grading.mmasi_scale * np.asarray(mmasi_raw) + grading.mmasi_offset, 0.0, MMASI_MAX))


def totals(region_scores: dict, grading: Grading) -> dict:
    """MASI and mMASI of graded regions: the formula's values and the calibrated estimates.

    Returns
    -------
    dict
        ``masi_raw`` and ``mmasi_raw`` (the formulas over the expected grades), ``masi``
        and ``mmasi`` (the model's linear calibration of them, clipped to 0–48 and 0–24),
        ``masi_banded`` and ``mmasi_banded`` (the formulas over the banded grades, as a
        physician's sheet would add them up).
    """
    scores = [region_scores[r] for r in REGION_KEYS]

    def parts(prefix):
        return [np.array([getattr(s, prefix + k) for s in scores], float) for k in ("area_score", "darkness", "homogeneity")]

    masi_raw, mmasi_raw = (float(v) for v in formula(*parts("expected_")))
    masi_banded, mmasi_banded = (float(v) for v in formula(*parts("")))
    calibrated = calibrated_totals(masi_raw, mmasi_raw, grading)
    return {"masi": float(calibrated[0]), "mmasi": float(calibrated[1]), "masi_raw": masi_raw, "mmasi_raw": mmasi_raw,
            "masi_banded": masi_banded, "mmasi_banded": mmasi_banded}
