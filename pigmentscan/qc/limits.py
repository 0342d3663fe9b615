"""Limits of the quality checks (:class:`QualityLimits`) and reading them from JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import PigmentScanError
from ..io import read_input

__all__ = ["QualityLimits", "load_quality_limits"]

_SIGNED_LIMITS = {"min_sclera_a_star", "max_sclera_a_star", "min_sclera_b_star", "max_sclera_b_star",
                  "min_skin_hue_deg", "max_skin_hue_deg"}


@dataclass(frozen=True)
class QualityLimits:
    """Limits of the quality checks: the one place they live.

    Pass your own to :func:`pigmentscan.score_image` / ``score_images``
    (``qc_limits=QualityLimits(max_yaw_warn_deg=10)``) or to the command line as JSON
    (``pigmentscan score ... --qc-limits limits.json``, an object of these fields;
    fields left out keep their defaults). Numbers marked *parameter* are pigmentscan's
    choice, set as described; the others carry their source.

    Attributes
    ----------
    max_yaw_warn_deg, max_yaw_error_deg : float
        Head turn beyond which the photo is ``warn`` / ``error``. Trial photos are
        frontal; ±15° and ±30° follow the issue's protocol (standardised frontal views,
        Quigley et al., JAMA Dermatol 2015). A turn foreshortens one cheek, which
        shrinks its region and changes its measured area.
    max_pitch_warn_deg, max_roll_warn_deg : float
        Nod and in-plane tilt beyond which the photo is ``warn`` (*parameters*).
    min_iod_px : float
        Inter-ocular distance (pixels, in the original photo) below which the face is
        too small to resolve lesions: ``warn`` (*parameter*: at 100 px a pixel is about
        0.6 mm of skin, a third of the smallest lesion scored).
    max_blur_warn, max_blur_error : float
        Blur (``qc_blur``, Crété-Roffet et al. 2007, see :func:`blur_measure`) beyond
        which the photo is ``warn`` / ``error`` (*parameters*). Set on the 61 London
        faces: sharp photos measure 0.34-0.51; a Gaussian blur of σ = 2 px at the
        200 px face scale (0.01 IOD, about 0.6 mm of skin) gives 0.67-0.79 and face
        038 loses 2 of its 7 spots; σ = 4 px (0.02 IOD, a Gaussian about as
        wide as the smallest lesion scored, ``min_lesion_diameter_iod`` 0.035) gives
        0.87-0.92.
    max_clipped_pct_warn, max_clipped_pct_error : float
        Share (%) of the regions' pixels with a channel at or above 250 (over-exposed,
        or glare) beyond which the photo is ``warn`` / ``error`` (*parameters*). The
        London faces have none; a ×1.4 brighter copy of face 038 clips 20 % and its
        MASI falls from 4.8 to 3.0.
    max_crushed_pct_warn, max_crushed_pct_error : float
        The same for a channel at or below 5 (under-exposed), hair and deep shadow
        not counted (*parameters*).
    min_sclera_a_star, max_sclera_a_star, min_sclera_b_star, max_sclera_b_star : float
        Colour cast: the whites of the eyes are the one near-neutral surface in every
        frontal photo, lit like the skin. Outside these a*/b* limits: ``warn``
        (*parameters*). The London faces' sclerae measure a* 0 to 8, b* -2 to 8; a
        tungsten-like cast (linear gains 1.15, 0.95, 0.7) moves b* to 12-20, a blue
        one (0.8, 0.95, 1.25) to -3 to -15, a green one (0.85, 1.15, 0.85) a* to -4 to
        -12, a magenta one (1.1, 0.8, 1.1) a* to 12-20. Not measured with the eyes
        closed or hidden.
    min_skin_hue_deg, max_skin_hue_deg : float
        The same from the skin, also with the eyes closed: the CIELAB hue angle h_ab of
        the face's normal skin (*parameters*). Skin colour is melanin (yellow-brown)
        and haemoglobin (red) (Tsumura 1999), so its hue lies between red (0°) and
        yellow (90°); the London faces, very light to dark, measure 25-59°. Skin hue
        varies between people, so this catches only strong casts. A cast is a
        warning, never an error: a per-channel camera gain cancels in the melanin
        contrast (:mod:`pigmentscan.colour`), not in the reported CIELAB measures.
    max_white_balance_ratio : float
        Largest ratio between the channel gains that bring the whites of the eyes to their usual
        colour (:func:`pigmentscan.whitebalance.white_balance`) that is corrected; beyond it the
        colour cannot be trusted: ``error`` (*parameter*: tungsten light on a camera set for
        daylight needs about 2.5 between red and blue, where the sensor's blue is noisy and its
        tone curve far from sRGB; the London faces need at most 1.2).
    min_region_coverage : float
        Share of a region that must be visible skin (not hair, beard, glasses,
        highlights or shadow); below it: ``warn`` (*parameter*).
    """

    max_yaw_warn_deg: float = 15.0
    max_yaw_error_deg: float = 30.0
    max_pitch_warn_deg: float = 20.0
    max_roll_warn_deg: float = 15.0
    min_iod_px: float = 100.0
    max_blur_warn: float = 0.65
    max_blur_error: float = 0.88
    max_clipped_pct_warn: float = 2.0
    max_clipped_pct_error: float = 15.0
    max_crushed_pct_warn: float = 2.0
    max_crushed_pct_error: float = 15.0
    min_sclera_a_star: float = -3.0
    max_sclera_a_star: float = 12.0
    min_sclera_b_star: float = -5.0
    max_sclera_b_star: float = 11.0
    max_white_balance_ratio: float = 1.6
    min_skin_hue_deg: float = 15.0
    max_skin_hue_deg: float = 75.0
    min_region_coverage: float = 0.5

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value!r}")
            if value < 0 and f.name not in _SIGNED_LIMITS:
                raise ValueError(f"{f.name} must not be negative, got {value!r}")
        for low, high in (("max_yaw_warn_deg", "max_yaw_error_deg"), ("max_blur_warn", "max_blur_error"),
                          ("max_clipped_pct_warn", "max_clipped_pct_error"),
                          ("max_crushed_pct_warn", "max_crushed_pct_error"), ("min_skin_hue_deg", "max_skin_hue_deg"),
                          ("min_sclera_a_star", "max_sclera_a_star"), ("min_sclera_b_star", "max_sclera_b_star")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} ({getattr(self, low)}) must not exceed {high} ({getattr(self, high)})")
        if self.min_region_coverage > 1:
            raise ValueError(f"min_region_coverage is a share (0-1), got {self.min_region_coverage}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values) -> QualityLimits:
        """Limits from a mapping of field names to numbers; fields left out keep their defaults.

        Raises
        ------
        ValueError
            On a field that is not a limit, or a value that is not a sensible number.
        """
        if not isinstance(values, dict):
            raise ValueError(f"expected a JSON object of limits, got {type(values).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in values if k not in known)
        if unknown:
            raise ValueError(f"unknown quality limit(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
        return cls(**values)


def load_quality_limits(path) -> QualityLimits:
    """Read :class:`QualityLimits` from a JSON file (an object of limit fields).

    Raises
    ------
    PigmentScanError
        Missing or unreadable file, not JSON, unknown field or bad value; the message
        names the file.
    """
    path = Path(path)
    data = read_input(path, max_bytes=1_000_000, what="a quality-limits file")  # a regular file, 1 MB at most
    try:
        return QualityLimits.from_dict(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, RecursionError) as error:
        raise PigmentScanError(path, f"cannot read the quality limits ({error})") from None
    except json.JSONDecodeError as error:
        raise PigmentScanError(path, f"not valid JSON ({error})") from None
    except (TypeError, ValueError) as error:
        raise PigmentScanError(path, f"bad quality limits: {error}") from None
