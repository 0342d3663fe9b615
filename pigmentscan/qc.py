"""Quality control: is this photo fit to be scored, and can its score be trusted?

Every check compares a measure with a limit from :class:`QualityLimits` (one
documented place; pass your own to change them). A failed check makes the photo
``warn`` (scored, but read the reason) or ``error`` (not scored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .regions import REGION_KEYS

__all__ = ["QualityLimits", "QualityReport", "assess_quality", "worst_status"]


@dataclass(frozen=True)
class QualityLimits:
    """Limits of the quality checks.

    Attributes
    ----------
    max_yaw_warn_deg, max_yaw_error_deg : float
        Head turn beyond which the photo is ``warn`` / ``error``. Trial photos are
        frontal; ±15° and ±30° follow the issue's protocol (standardised frontal views,
        Quigley et al., JAMA Dermatol 2015).
    max_pitch_warn_deg, max_roll_warn_deg : float
        Nod and in-plane tilt beyond which the photo is ``warn``.
    min_iod_px : float
        Inter-ocular distance (pixels, in the original photo) below which the face is
        too small to resolve lesions: ``warn``.
    min_region_coverage : float
        Share of a region that must be visible skin (not hair, beard, glasses,
        highlights or shadow); below it: ``warn``.
    """

    max_yaw_warn_deg: float = 15.0
    max_yaw_error_deg: float = 30.0
    max_pitch_warn_deg: float = 20.0
    max_roll_warn_deg: float = 15.0
    min_iod_px: float = 100.0
    min_region_coverage: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class QualityReport:
    """Outcome of the quality checks of one photo."""

    status: str
    reasons: tuple = ()
    measures: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"qc_status": self.status, "qc_reasons": "; ".join(self.reasons), **self.measures}


def assess_quality(landmarks, coverage: dict, *, limits: QualityLimits | None = None) -> QualityReport:
    """Check one photo's pose, face size, region coverage and number of faces.

    Parameters
    ----------
    landmarks : pigmentscan.landmarks.FaceLandmarks
        In the original photo's pixels.
    coverage : dict
        Visible-skin share of each region, keyed by region.
    limits : QualityLimits, optional

    Returns
    -------
    QualityReport
        ``status`` is ``ok``, ``warn`` or ``error``; ``measures`` holds the QC columns.
    """
    limits = limits or QualityLimits()
    yaw, pitch, roll = landmarks.pose_deg
    measures = {
        "qc_yaw_deg": round(yaw, 2),
        "qc_pitch_deg": round(pitch, 2),
        "qc_roll_deg": round(roll, 2),
        "qc_iod_px": round(landmarks.iod_px, 1),
        "qc_n_faces": int(landmarks.n_faces),
    }
    measures.update({f"qc_{r}_coverage": round(float(coverage.get(r, 0.0)), 3) for r in REGION_KEYS})
    errors, warnings = [], []
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
    low = [r for r in REGION_KEYS if coverage.get(r, 0.0) < limits.min_region_coverage]
    if low:
        shares = ", ".join(f"{r} {100 * coverage.get(r, 0.0):.0f} %" for r in low)
        warnings.append(f"little visible skin (hair, beard, glasses or glare?): {shares}")
    if landmarks.n_faces > 1:
        warnings.append(f"{landmarks.n_faces} faces in the photo: the largest was scored")
    status = "error" if errors else ("warn" if warnings else "ok")
    measures["qc_pass"] = bool(not errors and not warnings)
    return QualityReport(status, tuple(errors + warnings), measures)


def worst_status(*statuses: str) -> str:
    """The most severe of ``ok`` < ``warn`` < ``error``."""
    order = {"ok": 0, "warn": 1, "error": 2}
    return max(statuses, key=lambda s: order[s]) if statuses else "ok"

