"""Melasma phantoms: real face photos with added pigment of known extent, and simulated revisits.

:func:`make_phantom` adds melasma-like pigment to a real face photo and returns the new
photo, the true lesion mask and the per-region truth (area, darkness, homogeneity, MASI);
:func:`reacquire` simulates a second visit of the same skin (exposure, white balance,
small rotation/scale, JPEG) and :func:`random_drift` draws such a visit.

The generator is deliberately independent of the analysis in :mod:`pigmentscan.lesions`:

- **Pigment physics.** Melanin is added in optical density (OD = −ln linear sRGB) along
  :data:`MELANIN_OD_DIRECTION`, derived here from the spectrum: melanin absorbance
  ∝ λ^−3.5 (MASI.md; Jacques 1998, Oregon Medical Laser Center skin optics summary),
  weighted by the linear-sRGB channel sensitivities (the CIE 1931 2° colour-matching
  functions, analytic fit of Wyman, Sloan & Shirley 2013, through the inverse
  IEC 61966-2-1 matrix), equal-energy light. That gives about (0.24, 0.41, 0.88):
  B > G > R, some 5.6° from the analyser's default (0.319, 0.459, 0.829), which uses
  single effective wavelengths 605/545/460 nm. OD is additive, so the pigment keeps the
  skin's texture and darkens light and dark skin by the same reflectance ratio.
- **Darkness.** Grade D is an amount of melanin defined perceptually: the ΔE*ab it adds
  to a reference skin of CIELAB (65, 12, 17) (ITA 41°, the light/intermediate boundary,
  Chardon 1991), in just-noticeable differences (JND 2.3, MASI.md). Bands
  (:data:`DARKNESS_BANDS_JND`): D1 2–3, D2 3–4.5, D3 4.5–6, D4 6–8 JND, the same
  boundaries as the grading provenance of ``models/default.json``. A region's darkness is
  the median added melanin over its true lesion, set inside its band. A fixed melanin
  amount is a fixed contrast against the subject's own skin (the same reflectance
  ratio), which is how the grade is meant to transfer across skin tones.
- **Shapes.** Each region's pattern is a sum of Gaussian bumps at clustered random
  centres, displaced by two smooth random fields (domain warping: irregular, geographic
  borders), cut at the level that involves the requested share of the region (spilling up
  to 0.06 IOD beyond it, never into another region), edge-softened (Gaussian, 0.015 IOD)
  and mottled inside (two-scale noise, up to 25 % less pigment). The bump size follows
  the homogeneity asked for: specks (H1), small patches (H2), large patches (H3), uniform
  involvement (H4). Area scores drawn from the seed are uniform over 1-6 (8 % of regions
  clear), darkness uniform over 1-4, homogeneity uniform over the grades the area allows.
- **Truth.** The true lesion is where the added melanin is at least half its patch
  amplitude (the peak of that connected patch: a speck blurred by its soft edge keeps its
  full-width-at-half-maximum extent). ``truth[region]["area_fraction"]`` is exactly the
  true mask's share of the region's visible skin (the :func:`pigmentscan.regions.region_masks` polygon minus hair,
  deep shadow and clipped highlights, found here by brightness alone). Homogeneity is
  graded from the true mask with the MASI patch-size descriptors: the area-weighted
  equivalent diameter of the patches (after closing gaps of 0.03 IOD) reaching 0.08 /
  0.28 / 0.6 inter-ocular distances for H2 / H3 / H4 (Kimbrough-Green 1994 descriptors,
  ~63 mm IPD, Dodgson 2004; see ``models/default.json``).

References
----------
.. [1] Kimbrough-Green CK et al. Topical retinoic acid for melasma. Arch Dermatol
       1994;130:727-33 (MASI).
.. [2] Wyman C, Sloan P-P, Shirley P. Simple analytic approximations to the CIE XYZ
       color matching functions. J Comput Graph Tech 2013;2(2):1-11.
.. [3] Jacques SL. Skin optics. Oregon Medical Laser Center News, 1998.
.. [4] Chardon A et al. Skin colour typology and suntanning pathways. Int J Cosmet Sci
       1991;13:191-208.
"""

from __future__ import annotations

import io as _io
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

from . import colour
from .regions import REGION_KEYS, face_mask, region_masks
from .scoring import area_score, masi, mmasi

__all__ = ["MELANIN_OD_DIRECTION", "DARKNESS_BANDS_JND", "HOMOGENEITY_THRESHOLDS_IOD", "JND_DELTA_E",
           "Phantom", "make_phantom", "reacquire", "random_drift", "melanin_for_delta_e", "patch_diameter_iod"]

#: Just-noticeable colour difference, ΔE*ab (MASI.md).
JND_DELTA_E = 2.3
#: Reference skin for the darkness bands: CIELAB (65, 12, 17), ITA 41° (Chardon 1991 boundary).
REFERENCE_SKIN_LAB = (65.0, 12.0, 17.0)
#: ΔE*ab bands of darkness grades 1-4 on the reference skin, in JND (models/default.json provenance).
DARKNESS_BANDS_JND = {1: (2.0, 3.0), 2: (3.0, 4.5), 3: (4.5, 6.0), 4: (6.0, 8.0)}
#: Patch diameter (IOD) where H2/H3/H4 start: specks end ~5 mm, 1.5-2 cm, region-sized (Kimbrough-Green 1994).
HOMOGENEITY_THRESHOLDS_IOD = (0.08, 0.28, 0.6)
#: Gaps closed before patches are counted, IOD (hair-breadth gaps between specks).
_CLOSING_IOD = 0.03
#: Pattern scale (bump diameter, IOD) drawn for each homogeneity asked for.
_BUMP_DIAMETER_IOD = {1: (0.04, 0.07), 2: (0.10, 0.22), 3: (0.32, 0.5), 4: (0.9, 1.2)}
#: Working resolution of the pattern generator (px per IOD) and spill beyond the region (IOD).
_WORK_IOD_PX, _SPILL_IOD, _EDGE_IOD, _MOTTLE = 128.0, 0.06, 0.015, 0.25
#: Area bands (fraction) of the MASI area scores (Kimbrough-Green 1994); band 1 from 2 %.
_AREA_BANDS = {0: (0.0, 0.0), 1: (0.02, 0.1), 2: (0.1, 0.3), 3: (0.3, 0.5), 4: (0.5, 0.7), 5: (0.7, 0.9), 6: (0.9, 1.0)}


def _spectral_melanin_direction() -> np.ndarray:
    """Unit OD direction of melanin in linear sRGB from its λ^−3.5 absorbance (module docstring)."""
    lam = np.arange(380.0, 781.0)

    def lobe(mu, s1, s2):  # Wyman, Sloan & Shirley 2013 piecewise Gaussian
        return np.exp(-0.5 * ((lam - mu) / np.where(lam < mu, s1, s2)) ** 2)

    xyz = np.stack([
        1.056 * lobe(599.8, 37.9, 31.0) + 0.362 * lobe(442.0, 16.0, 26.7) - 0.065 * lobe(501.1, 20.4, 26.2),
        0.821 * lobe(568.8, 46.9, 40.5) + 0.286 * lobe(530.9, 16.3, 31.1),
        1.217 * lobe(437.0, 11.8, 36.0) + 0.681 * lobe(459.0, 26.0, 13.8),
    ])
    sensitivity = np.linalg.inv(colour.SRGB_TO_XYZ) @ xyz
    absorbance = (lam / 500.0) ** -3.5  # melanin, Jacques 1998
    od = -np.log((sensitivity * np.exp(-0.5 * absorbance)).sum(axis=1) / sensitivity.sum(axis=1))
    return od / np.linalg.norm(od)


#: Unit melanin direction in OD (R, G, B), derived from the spectrum at import.
MELANIN_OD_DIRECTION = _spectral_melanin_direction()


def _lab_to_linear(lab) -> np.ndarray:
    """CIELAB (D65) to linear sRGB, the inverse of :func:`pigmentscan.colour.rgb_to_lab` (CIE 015)."""
    lightness, a, b = lab
    fy = (lightness + 16.0) / 116.0
    f = np.array([fy + a / 500.0, fy, fy - b / 200.0])
    ratio = np.where(f > 6.0 / 29.0, f**3, 3 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0))
    return np.linalg.solve(colour.SRGB_TO_XYZ, ratio * colour.D65_WHITE_XYZ)


def melanin_for_delta_e(delta_e: float, skin_lab=REFERENCE_SKIN_LAB) -> float:
    """Melanin amount (OD along :data:`MELANIN_OD_DIRECTION`) that adds ``delta_e`` ΔE*ab to a skin.

    Examples
    --------
    >>> 0.3 < melanin_for_delta_e(3 * JND_DELTA_E) < 0.7
    True
    """
    linear = _lab_to_linear(skin_lab)
    reference = colour.xyz_to_lab(colour.linear_rgb_to_xyz(linear))

    def added(amount):
        lab = colour.xyz_to_lab(colour.linear_rgb_to_xyz(linear * np.exp(-amount * MELANIN_OD_DIRECTION)))
        return float(np.linalg.norm(lab - reference))

    low, high = 0.0, 5.0
    for _ in range(50):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if added(mid) < delta_e else (low, mid)
    return 0.5 * (low + high)


def _disk(diameter_px: float) -> np.ndarray:
    radius = max(1, int(round(diameter_px / 2)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def patch_diameter_iod(mask, region, iod_px: float) -> float:
    """Area-weighted mean equivalent diameter (IOD) of the patches of ``mask`` inside ``region``.

    Gaps narrower than 0.03 IOD are closed first, so specks a hair apart form one patch.
    """
    mask = mask & region
    if not mask.any():
        return 0.0
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, _disk(_CLOSING_IOD * iod_px)).astype(bool)
    labels, count = ndimage.label(closed & region)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(float)
    return float(np.sum(areas * 2.0 * np.sqrt(areas / np.pi)) / np.sum(areas) / iod_px)


def _homogeneity_grade(diameter_iod: float) -> int:
    return 1 + int(np.searchsorted(HOMOGENEITY_THRESHOLDS_IOD, diameter_iod, side="right"))


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


def _smooth_noise(rng, shape, sigma_px) -> np.ndarray:
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), max(sigma_px, 0.5))
    return noise / (noise.std() + 1e-9)


def _warp(rng, image, amplitude_px, sigma_px):
    """Displace ``image`` by a smooth random field: turns round blobs into geographic shapes."""
    rows, cols = np.indices(image.shape, dtype=np.float32)
    dy = amplitude_px * _smooth_noise(rng, image.shape, sigma_px)
    dx = amplitude_px * _smooth_noise(rng, image.shape, sigma_px)
    return cv2.remap(image, cols + dx, rows + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _pattern(rng, region, allowed, fraction, homogeneity, iod):
    """Soft profile in [0, 1] of one region's pigment at working resolution; q ≥ 0.5 is lesion."""
    if fraction <= 0:
        return np.zeros(region.shape, np.float32)
    diameter = rng.uniform(*_BUMP_DIAMETER_IOD[homogeneity]) * iod
    if homogeneity >= 3:  # large patches are built from overlapping smaller blobs
        diameter *= 0.5
    area = float(region.sum())
    count = int(np.clip(round(fraction * area / (np.pi * diameter**2 / 4)), 1, 400))
    # Clustered centres: drawn in proportion to a slow random field over the region.
    cluster = np.exp(1.5 * _smooth_noise(rng, region.shape, 0.25 * iod)) * region
    flat = cluster.ravel() / cluster.sum()
    picks = rng.choice(flat.size, size=count, p=flat)
    impulses = np.zeros(region.size, np.float32)
    np.add.at(impulses, picks, rng.uniform(0.7, 1.3, count).astype(np.float32))
    sigma = diameter / 2.0
    field_ = cv2.GaussianBlur(impulses.reshape(region.shape), (0, 0), sigma) * (2 * np.pi * sigma**2)
    field_ = _warp(rng, field_, min(0.4 * diameter, 0.12 * iod), max(0.5 * diameter, 0.02 * iod))
    field_ = _warp(rng, field_, 0.02 * iod, 0.015 * iod)
    field_ = np.where(allowed, field_, 0.0).astype(np.float32)
    texture = 0.7 * _smooth_noise(rng, region.shape, 0.012 * iod) + 0.7 * _smooth_noise(rng, region.shape, 0.04 * iod)
    mottle = 1.0 - _MOTTLE * (0.5 + 0.5 * np.tanh(texture))
    edge = _EDGE_IOD * iod

    def profile(level):
        # Each patch is scaled to its own peak: its amplitude, whatever its size.
        soft = cv2.GaussianBlur((field_ >= level).astype(np.float32), (0, 0), edge) * mottle
        labels, count = ndimage.label(soft > 0.15)
        if count == 0:
            return soft
        peaks = np.concatenate([[1.0], ndimage.maximum(soft, labels, np.arange(1, count + 1))])
        return soft / np.maximum(peaks[labels], 1e-6)

    inside = field_[region]
    low, high = 0.0, float(inside.max())
    if high <= 0:
        return np.zeros(region.shape, np.float32)
    for _ in range(30):  # the cut that involves `fraction` of the region
        mid = 0.5 * (low + high)
        share = float((profile(mid)[region] >= 0.5).mean())
        low, high = (mid, high) if share > fraction else (low, mid)
    return profile(high if fraction < 1 else 1e-9)


def _draw_area(rng) -> float:
    band = int(rng.choice(7, p=[0.08] + [0.92 / 6] * 6))
    return float(rng.uniform(*_AREA_BANDS[band])) if band else 0.0


def _feasible_homogeneity(fraction, region_area_iod2) -> list:
    """Homogeneity grades a pattern of this area can show in a region of this size."""
    largest = 2 * np.sqrt(fraction * region_area_iod2 / np.pi)  # one patch holding all the area
    grades = [h for h, lo in zip((2, 3, 4), HOMOGENEITY_THRESHOLDS_IOD) if largest > 1.2 * lo]
    grades = ([1] if fraction <= 0.12 else []) + [h for h in grades if not (h == 2 and fraction > 0.5)]
    return grades or [4 if fraction > 0.5 else 1]


def make_phantom(rgb, *, seed: int, area_fraction=None, darkness=None, homogeneity=None,
                 constitutive_darkening: float = 0.0, landmarks=None) -> Phantom:
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

    Returns
    -------
    Phantom

    Examples
    --------
    >>> phantom = make_phantom(photo, seed=3, area_fraction=0.4, darkness=3)  # doctest: +SKIP
    >>> phantom.truth["right_malar"]["area_score"]  # doctest: +SKIP
    3
    """
    from .landmarks import detect_landmarks

    rgb = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
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

    fractions = _per_region(area_fraction, "area_fraction", lambda k: _draw_area(rng))
    fractions = {k: float(np.clip(v, 0.0, 1.0)) for k, v in fractions.items()}
    grades = _per_region(darkness, "darkness", lambda k: int(rng.integers(1, 5)))
    grades = {k: (int(grades[k]) if fractions[k] > 0 else 0) for k in REGION_KEYS}
    fractions = {k: (fractions[k] if grades[k] > 0 else 0.0) for k in REGION_KEYS}
    asked_h = _per_region(homogeneity, "homogeneity",
                          lambda k: int(rng.choice(_feasible_homogeneity(fractions[k], areas_iod2[k]))))
    if any(not 0 <= g <= 4 for g in grades.values()) or any(not 1 <= int(h) <= 4 for h in asked_h.values()):
        raise ValueError("darkness must be 0-4 and homogeneity 1-4")
    band_position = {k: float(rng.uniform(0.25, 0.75)) for k in REGION_KEYS}

    # Patterns are drawn on a copy at _WORK_IOD_PX per IOD, then resampled to the photo.
    factor = _WORK_IOD_PX / iod
    work_shape = (max(8, int(round((y1 - y0) * factor))), max(8, int(round((x1 - x0) * factor))))

    def to_work(mask):
        return cv2.resize(mask.astype(np.float32), work_shape[::-1], interpolation=cv2.INTER_AREA) > 0.5

    work = {key: to_work(masks[key]) for key in REGION_KEYS}
    work_skin = to_work(skin & visible)
    spill = _disk(2 * _SPILL_IOD * _WORK_IOD_PX)
    profiles = np.zeros(work_shape + (4,), np.float32)
    for i, key in enumerate(REGION_KEYS):
        others = np.logical_or.reduce([cv2.dilate(work[o].astype(np.uint8), _disk(0.04 * _WORK_IOD_PX)).astype(bool)
                                       for o in REGION_KEYS if o != key])
        allowed = cv2.dilate(work[key].astype(np.uint8), spill).astype(bool) & work_skin & ~others
        profiles[..., i] = _pattern(rng, work[key], allowed, fractions[key], int(asked_h[key]), _WORK_IOD_PX)
    profiles = cv2.resize(profiles, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR) * visible[..., None]

    melanin = np.zeros(sub.shape[:2], np.float32)
    lesion = np.zeros(sub.shape[:2], bool)
    amounts = {}
    for i, key in enumerate(REGION_KEYS):
        q = profiles[..., i]
        lesion |= q >= 0.5
        inside = (q >= 0.5) & masks[key]
        amounts[key] = 0.0
        if inside.any() and grades[key] > 0:
            lo, hi = DARKNESS_BANDS_JND[grades[key]]
            amounts[key] = melanin_for_delta_e(JND_DELTA_E * (lo + band_position[key] * (hi - lo)))
            # Scaled so that the median added melanin over the true lesion is the grade's amount.
            melanin += q * (amounts[key] / float(np.median(q[inside])))
    truth = {}
    for key in REGION_KEYS:
        share = float((lesion & masks[key]).sum()) / max(int(masks[key].sum()), 1)
        a_score = area_score(100.0 * share)
        diameter = patch_diameter_iod(lesion, masks[key], iod) if a_score else 0.0
        truth[key] = {"area_fraction": share, "area_pct": 100.0 * share, "area_score": a_score,
                      "darkness": grades[key] if a_score else 0,
                      "homogeneity": _homogeneity_grade(diameter) if a_score else 0,
                      "melanin_od": amounts[key] if a_score else 0.0, "patch_diameter_iod": diameter}

    direction = MELANIN_OD_DIRECTION.astype(np.float32)
    if constitutive_darkening:
        od = colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
        total = constitutive_darkening * _skin_weight(rng, od, (skin & visible), box, iod)
        total[box] += melanin
        image = colour.od_to_srgb(od + total[..., None] * direction)
    else:
        image = rgb.copy()
        image[box] = colour.od_to_srgb(colour.optical_density(colour.srgb_to_linear(sub)) + melanin[..., None] * direction)

    def full(mask):
        out = np.zeros(rgb.shape[:2], bool)
        out[box] = mask
        return out

    components = {k: {"area": t["area_score"], "darkness": t["darkness"], "homogeneity": t["homogeneity"]}
                  for k, t in truth.items()}
    params = {"area_fraction": fractions, "darkness": grades, "homogeneity": {k: int(v) for k, v in asked_h.items()},
              "melanin_od": amounts, "constitutive_darkening": float(constitutive_darkening),
              "melanin_od_direction": [float(v) for v in MELANIN_OD_DIRECTION]}
    return Phantom(image=image, lesion_mask=full(lesion), truth=truth, masi=masi(components), mmasi=mmasi(components),
                   seed=int(seed), params=params, region_masks={k: full(m) for k, m in masks.items()},
                   landmarks=landmarks)


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


def random_drift(rng) -> dict:
    """Acquisition drift between two visits, as keyword arguments of :func:`reacquire`.

    Exposure ±10 %, white-balance gain ±5 % per channel, rotation ±2°, scale ±5 %,
    JPEG quality 85-95 (uniform; the issue's ranges for a standardised set-up).
    """
    rng = np.random.default_rng(rng)
    return {"exposure": float(rng.uniform(-0.10, 0.10)),
            "white_balance": tuple(float(v) for v in rng.uniform(-0.05, 0.05, 3)),
            "rotation_deg": float(rng.uniform(-2.0, 2.0)), "scale": float(rng.uniform(0.95, 1.05)),
            "jpeg_quality": int(rng.integers(85, 96))}


def reacquire(rgb, *, seed: int, exposure: float = 0.0, white_balance=(0.0, 0.0, 0.0), rotation_deg: float = 0.0,
              scale: float = 1.0, jpeg_quality=None, mask=None, centre_xy=None):
    """Simulate another photo of the same skin: the geometry and the camera drift, not the skin.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 photo.
    seed : int
        Seed of the sensor noise (σ = 0.6 code values, before quantisation).
    exposure : float
        Relative exposure change in linear light (0.1 = 10 % brighter).
    white_balance : tuple of 3 floats
        Relative gain change of the R, G, B channels in linear light.
    rotation_deg, scale : float
        Rotation (counter-clockwise, degrees) and scale about the face centre.
    jpeg_quality : int, optional
        Re-encode as JPEG at this quality (4:2:0), as a camera would.
    mask : numpy.ndarray of bool, optional
        A mask on ``rgb`` (e.g. the true lesion) moved with the photo.
    centre_xy : tuple, optional
        Centre of rotation in pixels; the centre of the detected face when not given
        (the image centre if no face is found).

    Returns
    -------
    rgb : numpy.ndarray
    mask : numpy.ndarray of bool or None
    """
    rgb = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    height, width = rgb.shape[:2]
    if centre_xy is None:
        centre_xy = (width / 2.0, height / 2.0)
        if rotation_deg or scale != 1.0:
            from .errors import NoFaceError
            from .landmarks import detect_landmarks

            try:
                centre_xy = tuple(detect_landmarks(rgb).points_px.mean(axis=0))
            except NoFaceError:
                pass
    out = rgb
    if rotation_deg or scale != 1.0:
        matrix = cv2.getRotationMatrix2D((float(centre_xy[0]), float(centre_xy[1])), float(rotation_deg), float(scale))
        out = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if mask is not None:
            moved = cv2.warpAffine(np.asarray(mask, np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            mask = moved >= 0.5
    gain = (1.0 + float(exposure)) * (1.0 + np.asarray(white_balance, dtype=np.float32))
    linear = colour.srgb_to_linear(out) * gain.astype(np.float32)
    encoded = colour.linear_to_srgb(linear) * 255.0
    encoded += np.random.default_rng(seed).normal(0.0, 0.6, encoded.shape)
    out = np.clip(np.rint(encoded), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        from PIL import Image

        buffer = _io.BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(jpeg_quality))
        out = np.asarray(Image.open(_io.BytesIO(buffer.getvalue())).convert("RGB"))
    return out, (None if mask is None else np.asarray(mask, bool))
