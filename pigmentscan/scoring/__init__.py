"""MASI and mMASI from region components, and the scoring model that grades continuous measures.

The formulas (MASI.md):

    MASI  = Σ w_r · A_r · (D_r + H_r)     range 0–48   (Kimbrough-Green 1994)
    mMASI = Σ w_r · A_r · D_r             range 0–24   (Pandya 2011)

with weights 0.3 (forehead, right malar, left malar) and 0.1 (chin).

:mod:`~pigmentscan.scoring.grading` turns continuous measures into banded grades (and
their expected values under the measures' uncertainty) and adds them up;
:mod:`~pigmentscan.scoring.model` is the scoring model, a JSON file (never pickle) holding
the lesion-analysis parameters and the grading thresholds. The default ships in
``models/default.json``; ``pigmentscan calibrate`` writes fitted ones in the same format.
"""

from .grading import (
    AREA_BAND_EDGES_PCT,
    MASI_MAX,
    MMASI_MAX,
    REGION_WEIGHTS,
    Grading,
    RegionScore,
    area_score,
    calibrated_totals,
    expected_grade,
    formula,
    grade,
    grade_region,
    masi,
    mmasi,
    region_grades,
    totals,
)
from .model import ScoringModel, load_model, model_from_dict

__all__ = [
    "REGION_WEIGHTS", "AREA_BAND_EDGES_PCT", "MASI_MAX", "MMASI_MAX", "area_score", "masi", "mmasi", "formula", "grade",
    "expected_grade", "Grading", "ScoringModel", "RegionScore", "region_grades", "grade_region", "totals",
    "calibrated_totals", "load_model", "model_from_dict",
]
