"""Calibrate a scoring model's grading to physicians' scores (``pigmentscan calibrate``).

:class:`MasiCalibrator` is a scikit-learn estimator (STYLE.md). ``X`` is a scores table: its
continuous measures ``<region>_area_pct``, ``<region>_melanin_contrast`` and
``<region>_patch_diameter_iod``, as measured with the *base* model. ``y`` holds physician columns
named as in the manifest (CONTRACT.md). What is fitted depends on what the physicians reported:

- **Per-region components** (``physician_<region>_area/darkness/homogeneity``): ``area_gain`` per
  region by a bounded log-grid search minimising |A - A_phys|; ``darkness_thresholds`` and
  ``homogeneity_thresholds`` by an exact least-absolute-error monotone (isotonic) fit of the
  physician grades on melanin contrast / patch diameter, pooled over regions where both the
  physician and pigmentscan see a lesion. L1 targets the conditional median grade, which a
  rater's symmetric ±1 noise does not move.
- **Totals only**: what a total can identify, by a bounded coordinate search minimising
  mean |formula total - physician total|: one area-gain factor for all regions, the darkness
  thresholds and, from ``physician_masi`` only (mMASI has no H), the homogeneity thresholds.
- **Totals maps**: ``masi_scale/offset`` (and mMASI's) map the formula's total onto the
  physician's total (reported, else the formula of the physician components). Default: the
  standardised major axis (slope sd_y/sd_x), which unlike least squares does not shrink toward
  the mean, so Bland-Altman differences show no proportional bias (Warton et al., Biol Rev
  2006;81:259-91); Lin's CCC of such a line is r instead of 2r²/(1+r²) (Lin 1989).

Whatever cannot be identified keeps the base model's value; ``fitted_from_`` says which case
applied to each parameter. Model files are JSON (``ScoringModel.to_json``), never pickle.
"""

from .estimator import MasiCalibrator, grade_table, measure_columns, physician_totals
from .study import (
    CalibrationResult,
    agreement_table,
    calibrate_files,
    cross_validated_predictions,
)

__all__ = [
    "CalibrationResult",
    "MasiCalibrator",
    "agreement_table",
    "calibrate_files",
    "cross_validated_predictions",
    "grade_table",
    "measure_columns",
    "physician_totals",
]
