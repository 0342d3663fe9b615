"""Quality control: is this photo fit to be scored, and can its score be trusted?

Every check compares a measure with a limit from :class:`QualityLimits` (one
documented place; pass your own to change them, or load them from JSON with
:func:`load_quality_limits`). A failed check makes the photo ``warn`` (scored, but
read the reason) or ``error`` (not scored).

The measures (QC columns of the scores CSV):

- ``qc_yaw_deg``, ``qc_pitch_deg``, ``qc_roll_deg``: head pose from the 3-D landmarks;
- ``qc_iod_px``: face resolution, pupil to pupil in the photo's own pixels;
- ``qc_blur``: blur of the face, 0 (sharp) to 1 (featureless), at a fixed face scale;
- ``qc_clipped_pct``, ``qc_crushed_pct``: exposure, the share of the MASI regions'
  pixels that are clipped white or crushed black;
- ``qc_sclera_a_star``, ``qc_sclera_b_star``, ``qc_skin_hue_deg``: colour cast, the
  CIELAB colour of the whites of the eyes and the hue angle of the face's normal skin;
- ``qc_<region>_coverage``: share of each region that is visible skin;
- ``qc_n_faces``: faces in the frame.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import cv2
import numpy as np

from . import colour
from .errors import PigmentScanError
from .landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE
from .regions import FEATURE_LANDMARKS, REGION_KEYS, polygon_mask, region_polygons

__all__ = ["QualityLimits", "QualityReport", "PhotoMeasures", "assess_quality", "blur_measure", "exposure_pct",
           "skin_hue_deg", "sclera_lab", "measure_photo", "load_quality_limits", "worst_status"]

#: Face scale of the blur measure: pupils this many pixels apart (the default analysis
#: scale). A face photographed smaller is measured at its own resolution instead, so a
#: small face is reported once (``qc_iod_px``), not also as blurred.
BLUR_IOD_PX = 200.0
#: 8-bit levels at which a channel no longer measures the light (parameters): at or
#: above ``CLIPPED_LEVEL`` the sensor or the JPEG has saturated, at or below
#: ``CRUSHED_LEVEL`` the signal is lost in the noise floor and the sRGB toe.
CLIPPED_LEVEL, CRUSHED_LEVEL = 250, 5
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
    try:
        if path.stat().st_size > 1_000_000:
            raise PigmentScanError(path, "larger than 1 MB: not a quality-limits file")
        return QualityLimits.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except PigmentScanError:
        raise
    except FileNotFoundError:
        raise PigmentScanError(path, "no such file") from None
    except (OSError, UnicodeDecodeError, RecursionError) as error:
        raise PigmentScanError(path, f"cannot read the quality limits ({error})") from None
    except json.JSONDecodeError as error:
        raise PigmentScanError(path, f"not valid JSON ({error})") from None
    except (TypeError, ValueError) as error:
        raise PigmentScanError(path, f"bad quality limits: {error}") from None


# ------------------------------------------------------------------------- measures


def blur_measure(rgb, mask=None, *, scale: float = 1.0) -> float:
    """Blur of an image, 0 (sharp) to 1 (featureless): the Crété-Roffet blur effect.

    The grey image is re-blurred with an 11-tap averaging filter and the loss of
    neighbouring-pixel differences compared with the original's: a sharp image loses
    much, a blurred one little. A ratio, so it does not depend on contrast, exposure
    or skin tone (the variance of the Laplacian of the skin, the usual focus measure,
    varied tenfold between the sharp London faces). Only the bounding box of ``mask``
    (the face) is measured, after resampling by ``scale`` when it is below 1.

    References
    ----------
    .. [1] Crété-Roffet F, Dolmiere T, Ladret P, Nicolas M. The blur effect:
       perception and estimation with a new no-reference perceptual blur metric.
       Proc SPIE 6492, Human Vision and Electronic Imaging XII, 2007. Implemented as
       :func:`skimage.measure.blur_effect`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)
    >>> blur_measure(noise) < blur_measure(cv2.GaussianBlur(noise, (0, 0), 3))
    True
    """
    from skimage.measure import blur_effect

    grey = np.asarray(rgb, dtype=np.float32).mean(axis=2)
    if mask is not None and np.any(mask):
        rows, cols = np.nonzero(mask)
        grey = grey[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if min(grey.shape) < 16:
        return float("nan")
    return float(blur_effect(grey))


def exposure_pct(rgb, regions, set_aside=None) -> tuple[float, float]:
    """Share (%) of the ``regions`` pixels that are clipped (a channel ≥ 250) and crushed (a channel ≤ 5).

    Pixels in ``set_aside`` (what the lesion analysis took for hair, beard, shadow or
    highlight) are not counted as crushed: hair is black in a well-exposed photo.
    Clipped pixels count wherever they are: no skin is white.

    Examples
    --------
    >>> rgb = np.full((10, 10, 3), 128, np.uint8); rgb[:2] = 255; rgb[-1] = 0
    >>> exposure_pct(rgb, np.ones((10, 10), bool))
    (20.0, 10.0)
    """
    rgb = np.asarray(rgb)
    regions = np.asarray(regions, dtype=bool)
    total = int(regions.sum())
    if total == 0:
        return 0.0, 0.0
    clipped = (rgb.max(axis=2) >= CLIPPED_LEVEL) & regions
    crushed = (rgb.min(axis=2) <= CRUSHED_LEVEL) & regions
    if set_aside is not None:
        crushed &= ~np.asarray(set_aside, dtype=bool)
    return 100.0 * clipped.sum() / total, 100.0 * crushed.sum() / total


def skin_hue_deg(lab) -> float:
    """CIELAB hue angle h_ab = atan2(b*, a*) in degrees (CIE 015:2018), in (-180, 180].

    Examples
    --------
    >>> round(skin_hue_deg([60.0, 10.0, 10.0]), 1)
    45.0
    """
    lab = np.asarray(lab, dtype=np.float64)
    return float(np.degrees(np.arctan2(lab[2], lab[1])))


#: FaceMesh eye landmarks: upper and lower lid mid-points, then the two corners.
_EYE_OPENING = {"right_eye": (159, 145, 33, 133), "left_eye": (386, 374, 263, 362)}
_IRIS = {"right_eye": RIGHT_IRIS_CENTRE, "left_eye": LEFT_IRIS_CENTRE}  # centre; the next 4 are its rim
#: Lid gap / eye width below which an eye counts as closed (open eyes measure about 0.3).
MIN_EYE_OPENING = 0.2
#: How much darker (L*) than the skin the "whites" may be before they are taken for
#: lids or lashes (the London sclerae: 5 darker to 38 lighter than the skin).
SCLERA_MAX_DARKER_L_STAR = 10.0
_MIN_SCLERA_PX = 30


def sclera_lab(rgb, points_px, *, skin_l_star: float | None = None) -> np.ndarray | None:
    """CIELAB colour of the whites of the eyes, or ``None`` when they cannot be seen.

    The eye openings (FaceMesh eye contours, shrunk by one pixel to leave the lids and
    lashes out) minus the iris (a disc 1.15 × its radius from the iris landmarks); of
    those pixels the brightest 30 % (the sclera, not lashes or shadow), and their
    median L*, a*, b*. ``None`` when both eyes are closed (lid gap under
    :data:`MIN_EYE_OPENING` of the eye's width), fewer than 30 pixels remain, or they
    are over :data:`SCLERA_MAX_DARKER_L_STAR` darker than the skin (``skin_l_star``):
    a squint, glasses or a small face, where the contour holds lids, not sclera.
    """
    points = np.asarray(points_px, dtype=np.float64)
    shape = rgb.shape[:2]
    pixels = []
    for eye, (upper, lower, corner_a, corner_b) in _EYE_OPENING.items():
        width = np.linalg.norm(points[corner_a] - points[corner_b])
        if width <= 0 or np.linalg.norm(points[upper] - points[lower]) / width < MIN_EYE_OPENING:
            continue
        opening = polygon_mask(shape, points[list(FEATURE_LANDMARKS[eye])]).astype(np.uint8)
        opening = cv2.erode(opening, np.ones((3, 3), np.uint8)).astype(bool)
        centre = points[_IRIS[eye]]
        radius = np.linalg.norm(points[_IRIS[eye] + 1: _IRIS[eye] + 5] - centre, axis=1).mean()
        rows, cols = np.nonzero(opening)
        outside_iris = (cols - centre[0]) ** 2 + (rows - centre[1]) ** 2 > (1.15 * radius) ** 2
        pixels.append(rgb[rows[outside_iris], cols[outside_iris]])
    pixels = np.concatenate(pixels) if pixels else np.zeros((0, 3), np.uint8)
    if len(pixels) < _MIN_SCLERA_PX:
        return None
    lab = colour.rgb_to_lab(pixels)
    sclera = np.median(lab[lab[:, 0] >= np.quantile(lab[:, 0], 0.7)], axis=0)
    if skin_l_star is not None and sclera[0] < skin_l_star - SCLERA_MAX_DARKER_L_STAR:
        return None
    return sclera


@dataclass(frozen=True)
class PhotoMeasures:
    """Image-quality measures of one face at the analysis scale (see :func:`measure_photo`)."""

    blur: float
    clipped_pct: float
    crushed_pct: float
    sclera_a_star: float
    sclera_b_star: float
    skin_hue_deg: float

    def to_dict(self) -> dict:
        return asdict(self)


def measure_photo(rgb, points_px, iod_px: float, analysis, *, photo_iod_px: float) -> PhotoMeasures:
    """Blur, exposure and colour cast of the analysis crop ``rgb``.

    ``points_px`` and ``iod_px`` are the landmarks and inter-ocular distance in the
    crop, ``analysis`` its :class:`~pigmentscan.lesions.FaceAnalysis` (region masks,
    set-aside pixels, normal skin); ``photo_iod_px`` the inter-ocular distance in the
    photo as stored: the blur is measured at ``min(BLUR_IOD_PX, photo_iod_px)``.
    """
    shape = rgb.shape[:2]
    outlines = np.zeros(shape, dtype=bool)
    for polygon in region_polygons(points_px, iod_px).values():
        outlines |= polygon_mask(shape, polygon)
    skin = np.zeros(shape, dtype=bool)
    for mask in analysis.region_masks.values():
        skin |= mask
    # The regions as drawn (eyes, brows, lips, nostrils removed), set-aside pixels included.
    regions = skin | (analysis.non_skin & outlines)
    clipped, crushed = exposure_pct(rgb, regions, analysis.non_skin)
    blur = blur_measure(rgb, regions, scale=min(BLUR_IOD_PX, photo_iod_px) / iod_px)
    sclera = sclera_lab(rgb, points_px, skin_l_star=float(analysis.reference.lab[0]))
    a_star, b_star = (float("nan"), float("nan")) if sclera is None else (float(sclera[1]), float(sclera[2]))
    return PhotoMeasures(blur, clipped, crushed, a_star, b_star, skin_hue_deg(analysis.reference.lab))


# ------------------------------------------------------------------------- the checks


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
                   photo: PhotoMeasures | None = None) -> QualityReport:
    """Check one photo's pose, face size, region coverage, number of faces, and (given
    ``photo``, from :func:`measure_photo`) its blur, exposure and colour cast.

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
