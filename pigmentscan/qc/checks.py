"""The quality checks: measures against :class:`~pigmentscan.qc.limits.QualityLimits` -> ok / warn / error."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..regions import REGION_KEYS
from .limits import QualityLimits
from .measures import PhotoMeasures

__all__ = ["QualityReport", "assess_quality", "worst_status"]


@dataclass(frozen=True)
class QualityReport:
    """Outcome of the quality checks of one photo: ``status`` (``ok``, ``warn`` or
    ``error``), ``reasons`` (one sentence per failed check, errors first) and
    ``measures`` (the QC columns)."""

    status: str
    reasons: tuple = ()
    measures: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"qc_status": self.status, "qc_reasons": "; ".join(self.reasons), **self.measures}


def _round(value, digits):
    return round(float(value), digits) if value is not None and math.isfinite(value) else float("nan")


def assess_quality(landmarks, coverage: dict, *, limits: QualityLimits | None = None,
                   photo: PhotoMeasures | None = None, balance=None) -> QualityReport:
    """Check one photo's pose, face size, region coverage, number of faces, and (given
    ``photo``, from :func:`measure_photo`) its blur, exposure and colour cast, and (given
    ``balance``, the :class:`~pigmentscan.whitebalance.WhiteBalance` applied) whether its
    colour could be corrected.

    ``landmarks`` are in the original photo's pixels; ``coverage`` is the visible-skin
    share of each region. Returns a :class:`QualityReport`: ``status`` ``ok``, ``warn``
    or ``error``, and ``measures``, the QC columns.
    """
    limits = limits or QualityLimits()
    yaw, pitch, roll = landmarks.pose_deg
    measures = {"qc_yaw_deg": round(yaw, 2), "qc_pitch_deg": round(pitch, 2), "qc_roll_deg": round(roll, 2),
                "qc_iod_px": round(landmarks.iod_px, 1), "qc_n_faces": int(landmarks.n_faces)}
    measures.update({f"qc_{r}_coverage": round(float(coverage.get(r, 0.0)), 3) for r in REGION_KEYS})
    if photo is not None:
        measures.update({"qc_blur": _round(photo.blur, 3), "qc_clipped_pct": _round(photo.clipped_pct, 2),
                         "qc_crushed_pct": _round(photo.crushed_pct, 2),
                         "qc_sclera_a_star": _round(photo.sclera_a_star, 1),
                         "qc_sclera_b_star": _round(photo.sclera_b_star, 1),
                         "qc_skin_hue_deg": _round(photo.skin_hue_deg, 1)})
    errors, warnings = [], []
    if balance is not None:
        measures.update(balance.to_dict())
        if balance.gain_ratio > limits.max_white_balance_ratio:
            errors.append(f"colour cannot be trusted: the whites of the eyes need gains {balance.gain_ratio:.2f} apart "
                          f"(limit {limits.max_white_balance_ratio:g}) to look white: set the camera's white balance "
                          "to the light, or photograph a colour chart with the face")
    if abs(yaw) > limits.max_yaw_error_deg:
        errors.append(f"head turned {yaw:+.0f}° (limit ±{limits.max_yaw_error_deg:.0f}°): retake a frontal photo")
    elif abs(yaw) > limits.max_yaw_warn_deg:
        warnings.append(f"head turned {yaw:+.0f}° (warn beyond ±{limits.max_yaw_warn_deg:.0f}°)")
    if abs(pitch) > limits.max_pitch_warn_deg:
        warnings.append(f"head tilted up/down {pitch:+.0f}° (warn beyond ±{limits.max_pitch_warn_deg:.0f}°)")
    if abs(roll) > limits.max_roll_warn_deg:
        warnings.append(f"head tilted sideways {roll:+.0f}° (warn beyond ±{limits.max_roll_warn_deg:.0f}°)")
    if landmarks.iod_px < limits.min_iod_px:
        warnings.append(f"face small: {landmarks.iod_px:.0f} px between the pupils (want ≥ {limits.min_iod_px:.0f})")
    if photo is not None:
        _check_photo(photo, limits, errors, warnings)
    low = [r for r in REGION_KEYS if coverage.get(r, 0.0) < limits.min_region_coverage]
    if low:
        shares = ", ".join(f"{r} {100 * coverage.get(r, 0.0):.0f} %" for r in low)
        warnings.append(f"little visible skin (hair, beard, glasses or glare?): {shares}")
    if landmarks.n_faces > 1:
        warnings.append(f"{landmarks.n_faces} faces in the photo: the largest was scored")
    status = "error" if errors else ("warn" if warnings else "ok")
    measures["qc_pass"] = bool(not errors and not warnings)
    return QualityReport(status, tuple(errors + warnings), measures)


def _check_photo(photo: PhotoMeasures, limits: QualityLimits, errors: list, warnings: list) -> None:
    if photo.blur > limits.max_blur_error:
        errors.append(f"photo blurred (blur {photo.blur:.2f}, limit {limits.max_blur_error:.2f}): "
                      "out of focus or moved; retake it")
    elif photo.blur > limits.max_blur_warn:
        warnings.append(f"photo soft (blur {photo.blur:.2f}, warn beyond {limits.max_blur_warn:.2f}): "
                        "small spots may be missed")
    for measure, limit_warn, limit_error, what, advice in (
        (photo.clipped_pct, limits.max_clipped_pct_warn, limits.max_clipped_pct_error,
         "over-exposed or glare: {:.0f} % of the skin is burnt out white", "less light or a polariser"),
        (photo.crushed_pct, limits.max_crushed_pct_warn, limits.max_crushed_pct_error,
         "under-exposed: {:.0f} % of the skin is black", "more light"),
    ):
        if measure > limit_error:
            errors.append(what.format(measure) + f" (limit {limit_error:g} %): retake with {advice}")
        elif measure > limit_warn:
            warnings.append(what.format(measure) + f" (warn beyond {limit_warn:g} %)")
    sclera = (photo.sclera_a_star, photo.sclera_b_star)
    if math.isfinite(sclera[0]) and not (limits.min_sclera_a_star <= sclera[0] <= limits.max_sclera_a_star
                                         and limits.min_sclera_b_star <= sclera[1] <= limits.max_sclera_b_star):
        warnings.append(f"colour cast: the whites of the eyes measure a* {sclera[0]:+.0f}, b* {sclera[1]:+.0f} "
                        f"(expected a* {limits.min_sclera_a_star:g} to {limits.max_sclera_a_star:g}, "
                        f"b* {limits.min_sclera_b_star:g} to {limits.max_sclera_b_star:g}): check the white balance "
                        "(or red eyes?)")
    elif not limits.min_skin_hue_deg <= photo.skin_hue_deg <= limits.max_skin_hue_deg:
        warnings.append(f"colour cast: skin hue {photo.skin_hue_deg:.0f}° is outside the range of skin "
                        f"({limits.min_skin_hue_deg:g}-{limits.max_skin_hue_deg:g}°): check the white balance")


def worst_status(*statuses: str) -> str:
    """The most severe of ``ok`` < ``warn`` < ``error``."""
    order = {"ok": 0, "warn": 1, "error": 2}
    return max(statuses, key=lambda s: order[s]) if statuses else "ok"
