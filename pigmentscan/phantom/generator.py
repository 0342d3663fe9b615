"""The phantom itself: pigment of known extent added to a real face photo (:func:`make_phantom`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .. import colour
from ..regions import REGION_KEYS, face_mask, region_masks
from ..scoring import area_score, masi, mmasi
from ..lesions import patch_diameter_iod
from .pattern import (
    CENTROFACIAL_SPILL_IOD,
    SPILL_IOD,
    WORK_IOD_PX,
    disk,
    draw_area_fraction,
    feasible_homogeneity,
    homogeneity_grade,
    pattern_profile,
)
from .pigment import (
    DARKNESS_BANDS_JND,
    JND_DELTA_E,
    MELANIN_OD_DIRECTION,
    melanin_for_delta_e,
)


@dataclass(frozen=True, eq=False)
class Phantom:
    """A face photo with added pigment of known extent.

    Attributes
    ----------
    image : numpy.ndarray
        RGB uint8, the shape of the input photo.
    lesion_mask : numpy.ndarray of bool
        True lesion: added melanin at least half its patch amplitude.
    truth : dict
        Region key → ``{area_fraction, area_pct, area_score, darkness, homogeneity,
        melanin_od, patch_diameter_iod}``: the first five as MASI components, the last two
        continuous (median added melanin over the true lesion; area-weighted patch diameter).
    masi, mmasi : float
        The MASI / mMASI formulas on the true components.
    seed : int
    params : dict
        What was asked for and drawn: per-region requested area, darkness, homogeneity,
        the constitutive darkening and the melanin direction.
    region_masks : dict
        Visible skin of each region (the denominators of ``area_fraction``).
    landmarks : FaceLandmarks
    lesion_melanin_od : numpy.ndarray of float32
        The melanin added as lesion (OD along :data:`MELANIN_OD_DIRECTION`), photo-sized, without
        the constitutive darkening: what :func:`visible_truth` grades on the grading scale.
    """

    image: np.ndarray
    lesion_mask: np.ndarray
    truth: dict
    masi: float
    mmasi: float
    seed: int
    params: dict
    region_masks: dict = field(default_factory=dict, repr=False)
    landmarks: object = field(default=None, repr=False)
    lesion_melanin_od: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """Plain-Python summary (no arrays)."""
        return {"seed": self.seed, "masi": self.masi, "mmasi": self.mmasi,
                "truth": {k: dict(v) for k, v in self.truth.items()}, "params": self.params,
                "lesion_pct_of_image": float(100.0 * self.lesion_mask.mean())}


def _per_region(value, name, rng_draw):
    if value is None:
        return {key: rng_draw(key) for key in REGION_KEYS}
    if isinstance(value, dict):
        unknown = set(value) - set(REGION_KEYS)
        if unknown:
            raise ValueError(f"{name}: unknown region keys {sorted(unknown)}")
        return {key: (value[key] if key in value else rng_draw(key)) for key in REGION_KEYS}
    return {key: value for key in REGION_KEYS}


def _visible_skin(rgb, skin) -> np.ndarray:
    """Skin that can carry visible pigment: not hair / deep shadow (dark) nor clipped highlights."""
    luminance = colour.srgb_to_linear(rgb) @ colour.SRGB_TO_XYZ[1].astype(np.float32)
    typical = float(np.median(luminance[skin])) if skin.any() else float(np.median(luminance))
    dark = cv2.blur((luminance < 0.3 * typical).astype(np.float32), (5, 5)) > 0.5
    return ~(dark | (rgb.max(axis=2) >= 250))



def make_phantom(rgb, *, seed: int, area_fraction=None, darkness=None, homogeneity=None,
                 constitutive_darkening: float = 0.0, landmarks=None, pattern_area_fraction=None,
                 layout: str = "regions", melanin_od_direction=None) -> Phantom:
    """Add melasma-like pigment of known extent to a real face photo.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 photo of one frontal face, shape (H, W, 3).
    seed : int
        Everything random (patterns, grades not given) comes from this seed.
    area_fraction, darkness, homogeneity : None, scalar or dict
        Per region (keys ``forehead, right_malar, left_malar, chin``) or one value for
        all; ``None`` (or a missing key) draws it from the seed. ``area_fraction`` in
        0-1; ``darkness`` the grade 1-4 (0 = no pigment); ``homogeneity`` the grade 1-4
        asked for (the truth reports the grade of the pattern actually drawn).
    constitutive_darkening : float
        Melanin (OD along :data:`MELANIN_OD_DIRECTION`) added to all the skin of the photo
        (skin found by its colour), to simulate a darker phototype. 0.5 lowers L* of
        ITA-41° skin by ~10.
    landmarks : FaceLandmarks, optional
        Landmarks of ``rgb``; detected when not given.
    pattern_area_fraction : None, scalar or dict
        The area fraction the patches are drawn for (default: ``area_fraction``), each region
        then cut to its ``area_fraction``. A visit of a fading series passes its baseline's
        area here, with the same ``seed`` and ``homogeneity``: its patches are the
        baseline's, shrunk in place, rather than new ones drawn for the smaller area.
    layout : {"regions", "centrofacial"}
        ``"regions"``: each region its own pattern, spilling up to :data:`SPILL_IOD` past it.
        ``"centrofacial"``: one confluent pattern over the centre of the face (the convex hull
        of the four regions, which takes in the nose and upper lip too), running up to
        :data:`CENTROFACIAL_SPILL_IOD` past it; ``area_fraction``, ``darkness`` and
        ``homogeneity`` are then one value (a dict's forehead entry; homogeneity drawn, when not
        given, among the grades the forehead's area allows), ``area_fraction`` the share of that centre.
    melanin_od_direction : array_like of 3 floats, optional
        The OD direction the pigment is added along (normalised; default
        :data:`MELANIN_OD_DIRECTION`), e.g. :func:`greyer_direction`; darkness grades stay ΔE bands.

    Returns
    -------
    Phantom

    Examples
    --------
    >>> phantom = make_phantom(photo, seed=3, area_fraction=0.4, darkness=3)  # doctest: +SKIP
    >>> phantom.truth["right_malar"]["area_score"]  # doctest: +SKIP
    3
    """
    from ..landmarks import detect_landmarks

    rgb = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    direction = np.asarray(MELANIN_OD_DIRECTION if melanin_od_direction is None else melanin_od_direction, float)
    if direction.shape != (3,) or not np.all(np.isfinite(direction)) or np.linalg.norm(direction) == 0:
        raise ValueError(f"melanin_od_direction must be 3 finite numbers, not all 0: {melanin_od_direction!r}")
    direction = direction / np.linalg.norm(direction)
    if landmarks is None:
        landmarks = detect_landmarks(rgb, source="<phantom>")
    rng = np.random.default_rng(seed)
    iod = landmarks.iod_px
    # Everything is drawn inside the face's box (room for the forehead above the mesh).
    points = landmarks.points_px
    x0, y0 = max(0, int(points[:, 0].min() - 0.3 * iod)), max(0, int(points[:, 1].min() - 0.6 * iod))
    x1 = min(rgb.shape[1], int(points[:, 0].max() + 0.3 * iod) + 1)
    y1 = min(rgb.shape[0], int(points[:, 1].max() + 0.3 * iod) + 1)
    box = (slice(y0, y1), slice(x0, x1))
    sub, points = rgb[box], points - (x0, y0)
    polygons = region_masks(sub.shape, points, iod)
    skin = face_mask(sub.shape, points, iod) | np.logical_or.reduce(list(polygons.values()))
    visible = _visible_skin(sub, skin)
    masks = {key: polygons[key] & visible for key in REGION_KEYS}
    areas_iod2 = {key: float(masks[key].sum()) / iod**2 for key in REGION_KEYS}

    fractions = _per_region(area_fraction, "area_fraction", lambda k: draw_area_fraction(rng))
    fractions = {k: float(np.clip(v, 0.0, 1.0)) for k, v in fractions.items()}
    grades = _per_region(darkness, "darkness", lambda k: int(rng.integers(1, 5)))
    grades = {k: (int(grades[k]) if fractions[k] > 0 else 0) for k in REGION_KEYS}
    fractions = {k: (fractions[k] if grades[k] > 0 else 0.0) for k in REGION_KEYS}
    drawn = fractions if pattern_area_fraction is None else {
        k: float(np.clip(v, 0.0, 1.0)) for k, v in _per_region(pattern_area_fraction, "pattern_area_fraction",
                                                               lambda k: fractions[k]).items()}
    asked_h = _per_region(homogeneity, "homogeneity",
                          lambda k: int(rng.choice(feasible_homogeneity(drawn[k], areas_iod2[k]))))
    if layout not in ("regions", "centrofacial"):
        raise ValueError(f"layout must be 'regions' or 'centrofacial', not {layout!r}")
    if layout == "centrofacial":  # one value for the whole centre: the forehead's draw
        fractions, grades, drawn, asked_h = ({k: d["forehead"] for k in REGION_KEYS}
                                             for d in (fractions, grades, drawn, asked_h))
    if any(not 0 <= g <= 4 for g in grades.values()) or any(not 1 <= int(h) <= 4 for h in asked_h.values()):
        raise ValueError("darkness must be 0-4 and homogeneity 1-4")
    band_position = {k: float(rng.uniform(0.25, 0.75)) for k in REGION_KEYS}

    # Patterns are drawn on a copy at WORK_IOD_PX per IOD, then resampled to the photo.
    factor = WORK_IOD_PX / iod
    work_shape = (max(8, int(round((y1 - y0) * factor))), max(8, int(round((x1 - x0) * factor))))

    def to_work(mask):
        return cv2.resize(mask.astype(np.float32), work_shape[::-1], interpolation=cv2.INTER_AREA) > 0.5

    work = {key: to_work(masks[key]) for key in REGION_KEYS}
    work_skin = to_work(skin & visible)
    spill = disk(2 * SPILL_IOD * WORK_IOD_PX)
    profiles = np.zeros(work_shape + (4,), np.float32)
    if layout == "centrofacial":
        union = np.logical_or.reduce([work[k] for k in REGION_KEYS]).astype(np.uint8)
        if not union.any():
            raise ValueError("no visible skin in any region to draw a centrofacial pattern on")
        hull = cv2.convexHull(cv2.findNonZero(union))
        centre = cv2.fillConvexPoly(np.zeros(work_shape, np.uint8), hull, 1).astype(bool) & work_skin
        allowed = cv2.dilate(centre.astype(np.uint8), disk(2 * CENTROFACIAL_SPILL_IOD * WORK_IOD_PX)).astype(bool) & work_skin
        profiles[..., 0] = pattern_profile(rng, centre, allowed, fractions["forehead"], int(asked_h["forehead"]),
                                           WORK_IOD_PX, drawn_fraction=drawn["forehead"])
    for i, key in enumerate(REGION_KEYS if layout == "regions" else ()):
        others = np.logical_or.reduce([cv2.dilate(work[o].astype(np.uint8), disk(0.04 * WORK_IOD_PX)).astype(bool)
                                       for o in REGION_KEYS if o != key])
        allowed = cv2.dilate(work[key].astype(np.uint8), spill).astype(bool) & work_skin & ~others
        profiles[..., i] = pattern_profile(rng, work[key], allowed, fractions[key], int(asked_h[key]), WORK_IOD_PX,
                                    drawn_fraction=drawn[key])
    profiles = cv2.resize(profiles, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR) * visible[..., None]

    melanin = np.zeros(sub.shape[:2], np.float32)
    lesion = np.zeros(sub.shape[:2], bool)
    amounts = {}
    for i, key in enumerate(REGION_KEYS):
        q = profiles[..., i]
        lesion |= q >= 0.5
        inside = (q >= 0.5) & (masks[key] if layout == "regions" else True)
        amounts[key] = 0.0
        if inside.any() and grades[key] > 0:
            lo, hi = DARKNESS_BANDS_JND[grades[key]]
            amounts[key] = melanin_for_delta_e(JND_DELTA_E * (lo + band_position[key] * (hi - lo)), direction=direction)
            # Scaled so that the median added melanin over the true lesion is the grade's amount.
            melanin += q * (amounts[key] / float(np.median(q[inside])))
    if layout == "centrofacial":
        amounts = {key: amounts["forehead"] for key in REGION_KEYS}
    truth = {}
    for key in REGION_KEYS:
        share = float((lesion & masks[key]).sum()) / max(int(masks[key].sum()), 1)
        a_score = area_score(100.0 * share)
        diameter = patch_diameter_iod(lesion, masks[key], iod) if a_score else 0.0
        truth[key] = {"area_fraction": share, "area_pct": 100.0 * share, "area_score": a_score,
                      "darkness": grades[key] if a_score else 0,
                      "homogeneity": homogeneity_grade(diameter) if a_score else 0,
                      "melanin_od": amounts[key] if a_score else 0.0, "patch_diameter_iod": diameter}

    direction = direction.astype(np.float32)
    if constitutive_darkening:
        od = colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
        total = constitutive_darkening * _skin_weight(rng, od, (skin & visible), box, iod)
        total[box] += melanin
        image = colour.od_to_srgb(od + total[..., None] * direction)
    else:
        image = rgb.copy()
        image[box] = colour.od_to_srgb(colour.optical_density(colour.srgb_to_linear(sub)) + melanin[..., None] * direction)

    def full(values, dtype=bool):
        out = np.zeros(rgb.shape[:2], dtype)
        out[box] = values
        return out

    components = {k: {"area": t["area_score"], "darkness": t["darkness"], "homogeneity": t["homogeneity"]}
                  for k, t in truth.items()}
    params = {"area_fraction": fractions, "darkness": grades, "homogeneity": {k: int(v) for k, v in asked_h.items()},
              "melanin_od": amounts, "constitutive_darkening": float(constitutive_darkening),
              "melanin_od_direction": [float(v) for v in direction]}
    return Phantom(image=image, lesion_mask=full(lesion), truth=truth, masi=masi(components), mmasi=mmasi(components),
                   seed=int(seed), params=params, region_masks={k: full(m) for k, m in masks.items()},
                   landmarks=landmarks, lesion_melanin_od=full(melanin, np.float32))


def _skin_weight(rng, od, face_skin, box, iod) -> np.ndarray:
    """Weight (0-1) of every pixel being skin, by its OD chromaticity near the face's; ±5 % slow variation."""
    chroma = od - od.mean(axis=2, keepdims=True)
    face = chroma[box][face_skin]
    centre = np.median(face, axis=0)
    spread = 1.4826 * np.median(np.abs(face - centre), axis=0) + 0.02
    distance = np.sqrt((((chroma - centre) / (3.0 * spread)) ** 2).sum(axis=2))
    weight = np.exp(-0.5 * distance**2).astype(np.float32)
    weight[box] = np.maximum(weight[box], face_skin)
    weight = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), 0.03 * iod)
    small = (max(2, od.shape[0] // 64), max(2, od.shape[1] // 64))
    slow = cv2.resize(rng.uniform(0.95, 1.05, small).astype(np.float32), od.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    return weight * slow
