"""Split-face trials: a hemi-face MASI for each side of the face.

Many melasma trials treat one side of the face and compare it with the other. A **hemi-face**
is the patient's right (or left) malar region with that side's half of the forehead and of the
chin, cut at the face's midline (:func:`pigmentscan.regions.midline_halves`: the polyline
through FaceMesh's midline landmarks). Right and left are the patient's (MASI.md "Sides").

The hemi-face MASI follows MASI's formula over the three parts (Kimbrough-Green 1994; the
mMASI drops homogeneity, Pandya 2011)::

    hemi-MASI  = 0.15·A_fh·(D_fh + H_fh) + 0.3·A_m·(D_m + H_m) + 0.05·A_ch·(D_ch + H_ch)   range 0–24
    hemi-mMASI = 0.15·A_fh·D_fh          + 0.3·A_m·D_m          + 0.05·A_ch·D_ch           range 0–12

with fh the forehead half, m the side's malar region and ch the chin half. The weights are
MASI's region weights given out by area: Kimbrough-Green's weights are the regions' shares of
the face (forehead 30 %, each cheek 30 %, chin 10 %), a half of the forehead or chin is half its
region's share, and a malar region lies wholly on one side. So the two sides' scores add up to
the face's MASI when each half grades like its whole region (an even, symmetric face has
hemi-MASI = MASI / 2 on each side), both are in MASI points, and a fully involved side scores
24 (mMASI 12), half of MASI's 48 (24). (Weighting a half like its whole region, 0.3 and 0.1,
would count half a forehead as much as a whole cheek, and put the range at 33.6.)

Measures of a half are those of a region (docs/grading_scale.md), read on the existing lesion
analysis (:attr:`pigmentscan.FaceScore.analysis`, on the analysis crop; the lesion stage is not
run again):

- **area**: the lesion share of the half's own visible skin (the region's visible skin on that
  side of the midline), graded with MASI's area bands as a region is, and corrected by the
  region's calibrated area gain; a fully involved half scores A = 6;
- **darkness**: the map a region's darkness is read on (the contrast at the physician's viewing
  scale) is not kept with the analysis, only the excess map it derives from; so a half's darkness
  is its region's darkness (``RegionMeasures.darkness_jnd``) times the ratio of the median excess
  over the half's lesion to the median excess over the whole region's lesion. When the pigment
  is even, both halves read exactly the region's darkness; a half with darker pigment reads darker;
- **pattern size**: the area-weighted patch diameter of the half's lesion
  (:func:`pigmentscan.lesions.patch_diameter_iod`, same closing); a patch across the midline
  counts on each side with its part there, as a treatment applied to one side would see it.

The malar parts are the face's own region grades (``FaceScore.regions``), so the hemi-face and
the face's MASI use one measure of each cheek. The totals use the expected grades, as
``masi_raw`` does (:func:`pigmentscan.scoring.expected_grade`); a calibrated model's linear map of
totals (fitted to whole-face MASI) is not applied to them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .lesions import FaceAnalysis, patch_diameter_iod
from .regions import SPLIT_REGIONS, midline_halves
from .scoring import Grading, RegionScore, region_grades

__all__ = ["SIDES", "HEMI_WEIGHTS", "HEMI_MASI_MAX", "HEMI_MMASI_MAX", "HalfRegion", "HemiFace", "SplitFace",
           "half_region_masks", "hemi_formula", "split_face", "SPLIT_FACE_COLUMNS"]

#: The patient's sides (MASI.md "Sides").
SIDES = ("right", "left")
#: Weights of a hemi-face's parts, in order: that side's half of the forehead, its malar region, its
#: half of the chin. MASI's region weights (Kimbrough-Green 1994) shared out by area: half of the
#: forehead's 0.3 and of the chin's 0.1, the whole of the side's malar 0.3.
HEMI_WEIGHTS = {"forehead": 0.15, "malar": 0.3, "chin": 0.05}
#: Ranges of the hemi-face scores: half of MASI's 48 and of mMASI's 24.
HEMI_MASI_MAX, HEMI_MMASI_MAX = 24.0, 12.0
_PARTS = ("forehead", "malar", "chin")
_WEIGHTS = np.array([HEMI_WEIGHTS[p] for p in _PARTS])


@dataclass(frozen=True)
class HalfRegion:
    """One side's half of the forehead or chin: its continuous measures and grades.

    Attributes
    ----------
    region, side : str
        ``forehead`` or ``chin``; ``right`` or ``left`` (the patient's).
    area_pct : float
        Lesion share of the half's visible skin, %, after the region's area gain (as
        :attr:`RegionScore.area_pct`).
    area_score, darkness, homogeneity : int
        Banded grades (MASI's area bands; the model's darkness and homogeneity thresholds).
    expected_area_score, expected_darkness, expected_homogeneity : float
        The grades' expected values under the model's uncertainties (what the totals use).
    darkness_jnd : float
        Darkness of the half's lesion, JND (see the module's notes); 0 without lesion.
    patch_diameter_iod : float
        Area-weighted patch diameter of the half's lesion, inter-ocular distances.
    skin_px : int
        Visible skin pixels of the half on the analysis crop.
    """

    region: str
    side: str
    area_pct: float
    area_score: int
    darkness: int
    homogeneity: int
    expected_area_score: float
    expected_darkness: float
    expected_homogeneity: float
    darkness_jnd: float
    patch_diameter_iod: float
    skin_px: int

    @property
    def key(self) -> str:
        """Column prefix of the half, e.g. ``forehead_right``."""
        return f"{self.region}_{self.side}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HemiFace:
    """The hemi-face score of one side of the face.

    Attributes
    ----------
    side : str
        ``right`` or ``left`` (the patient's).
    masi, mmasi : float
        Hemi-face MASI (0–24) and mMASI (0–12) over the parts' expected grades (:func:`hemi_formula`).
    masi_banded, mmasi_banded : float
        The same formulas over the banded grades as listed.
    lesion_area_pct : float
        Lesion share of the hemi-face weighted as in the hemi-MASI, % (continuous, no bands):
        (0.15·forehead half + 0.3·malar + 0.05·chin half) / 0.5.
    forehead, chin : HalfRegion
        The side's halves.
    malar : RegionScore
        The side's malar region, as graded for the face's MASI.
    """

    side: str
    masi: float
    mmasi: float
    masi_banded: float
    mmasi_banded: float
    lesion_area_pct: float
    forehead: HalfRegion
    malar: RegionScore
    chin: HalfRegion

    def to_dict(self) -> dict:
        return {"side": self.side, "masi": self.masi, "mmasi": self.mmasi, "masi_banded": self.masi_banded,
                "mmasi_banded": self.mmasi_banded, "lesion_area_pct": self.lesion_area_pct,
                "forehead": self.forehead.to_dict(), "malar": f"{self.side}_malar", "chin": self.chin.to_dict()}


#: Scores-CSV columns of a split face, in order (:meth:`SplitFace.columns`).
SPLIT_FACE_COLUMNS = (
    [f"hemi_{side}_{name}" for name in ("masi", "mmasi", "lesion_area_pct") for side in SIDES]
    + [f"{region}_{side}_{name}" for region in SPLIT_REGIONS for side in SIDES
       for name in ("area_pct", "area_score", "darkness", "homogeneity")]
)


@dataclass(frozen=True, eq=False)
class SplitFace:
    """Hemi-face scores of both sides, and the midline they were cut at.

    Attributes
    ----------
    right, left : HemiFace
        The patient's right and left hemi-faces.
    midline_px : numpy.ndarray, shape (k, 2)
        The midline (:func:`pigmentscan.regions.face_midline`) in the pixels of the analysis crop.
    """

    right: HemiFace
    left: HemiFace
    midline_px: np.ndarray

    def side(self, name: str) -> HemiFace:
        """The hemi-face of ``"right"`` or ``"left"``."""
        if name not in SIDES:
            raise ValueError(f"side must be 'right' or 'left', got {name!r}")
        return self.right if name == "right" else self.left

    @property
    def halves(self) -> dict:
        """The four half regions by key (``forehead_right``, ``forehead_left``, ``chin_right``, ``chin_left``)."""
        return {half.key: half for region in SPLIT_REGIONS for half in (getattr(self.side(s), region) for s in SIDES)}

    def to_dict(self) -> dict:
        """Plain Python (no arrays): each side's totals and halves."""
        return {side: self.side(side).to_dict() for side in SIDES}

    def columns(self, digits: int = 4) -> dict:
        """The scores-CSV columns (:data:`SPLIT_FACE_COLUMNS`), floats rounded to ``digits``."""
        out = {}
        for name in ("masi", "mmasi", "lesion_area_pct"):
            for side in SIDES:
                out[f"hemi_{side}_{name}"] = round(float(getattr(self.side(side), name)), digits)
        for key, half in self.halves.items():
            out.update({f"{key}_area_pct": round(half.area_pct, 3), f"{key}_area_score": half.area_score,
                        f"{key}_darkness": half.darkness, f"{key}_homogeneity": half.homogeneity})
        return {column: out[column] for column in SPLIT_FACE_COLUMNS}


def hemi_formula(area, darkness, homogeneity) -> tuple[np.ndarray, np.ndarray]:
    """Hemi-face MASI and mMASI of component arrays.

    Parameters
    ----------
    area, darkness, homogeneity : array_like, shape (..., 3)
        Grades of the side's forehead half, malar region and chin half, in that order.

    Returns
    -------
    masi, mmasi : numpy.ndarray, shape (...)
        Σ w·A·(D + H) and Σ w·A·D with the weights :data:`HEMI_WEIGHTS` (0.15, 0.3, 0.05).

    References
    ----------
    Kimbrough-Green et al., Arch Dermatol 1994;130:727-33 (MASI); Pandya et al., J Am Acad
    Dermatol 2011;64:78-83 (mMASI).

    Examples
    --------
    >>> hemi_masi, hemi_mmasi = hemi_formula([[6, 6, 6]], [[4, 4, 4]], [[4, 4, 4]])  # a fully involved side
    >>> hemi_masi.round(6).tolist(), hemi_mmasi.round(6).tolist()
    ([24.0], [12.0])
    >>> [round(float(v), 6) for v in hemi_formula([2, 3, 1], [2, 3, 1], [3, 3, 1])]  # 0.15·2·5 + 0.3·3·6 + 0.05·1·2
    [7.0, 3.35]
    """
    a, d, h = (np.asarray(v, float) for v in (area, darkness, homogeneity))
    return np.sum(_WEIGHTS * a * (d + h), axis=-1), np.sum(_WEIGHTS * a * d, axis=-1)


def half_region_masks(region_masks: dict, points_px, iod_px: float) -> dict:
    """The visible skin of each half of the forehead and chin.

    Parameters
    ----------
    region_masks : dict of str to numpy.ndarray of bool
        Visible skin of the regions (``FaceAnalysis.region_masks``), on the image of ``points_px``.
    points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks in pixels of that image.
    iod_px : float
        Inter-ocular distance in pixels.

    Returns
    -------
    dict
        ``{"forehead_right": mask, "forehead_left": ..., "chin_right": ..., "chin_left": ...}``: each
        region's mask cut by :func:`pigmentscan.regions.midline_halves`; the two halves of a region
        share no pixel and together are the region.
    """
    shape = next(iter(region_masks.values())).shape
    halves = midline_halves(shape, points_px, iod_px)
    return {f"{region}_{side}": region_masks[region] & halves[side] for region in SPLIT_REGIONS for side in SIDES}


def _median(values) -> float:
    return float(np.median(values)) if values.size else math.nan


def _half_region(region: str, side: str, half, analysis: FaceAnalysis, whole: RegionScore, iod_px: float,
                 grading: Grading, closing_iod: float) -> HalfRegion:
    lesion = analysis.lesion_mask & half
    skin_px, lesion_px = np.count_nonzero(half), np.count_nonzero(lesion)
    area_pct = 100.0 * lesion_px / skin_px if skin_px else 0.0
    darkness_jnd, diameter = 0.0, 0.0
    if lesion_px:
        ratio = _median(analysis.excess_jnd[lesion]) / _median(analysis.excess_jnd[analysis.lesion_mask
                                                                                  & analysis.region_masks[region]])
        darkness_jnd = whole.measures.darkness_jnd * ratio if math.isfinite(ratio) and ratio > 0 else \
            whole.measures.darkness_jnd
        diameter = patch_diameter_iod(lesion, half, iod_px, closing_iod)
    graded = {k: v.item() for k, v in region_grades(area_pct, darkness_jnd, diameter, grading,
                                                     area_gain=grading.area_gain[region]).items()}
    return HalfRegion(region, side, float(graded["area_pct"]), int(graded["area_score"]), int(graded["darkness"]),
                      int(graded["homogeneity"]), float(graded["expected_area_score"]),
                      float(graded["expected_darkness"]), float(graded["expected_homogeneity"]), float(darkness_jnd),
                      float(diameter), skin_px)


def _hemi_face(side: str, forehead: HalfRegion, malar: RegionScore, chin: HalfRegion) -> HemiFace:
    parts = (forehead, malar, chin)

    def grades(prefix):
        return [[getattr(p, prefix + k) for p in parts] for k in ("area_score", "darkness", "homogeneity")]

    masi_value, mmasi_value = (float(v) for v in hemi_formula(*grades("expected_")))
    masi_banded, mmasi_banded = (float(v) for v in hemi_formula(*grades("")))
    area = float(np.dot(_WEIGHTS, [p.area_pct for p in parts]) / _WEIGHTS.sum())
    return HemiFace(side, masi_value, mmasi_value, masi_banded, mmasi_banded, area, forehead, malar, chin)


def split_face(analysis: FaceAnalysis, points_px, iod_px: float, regions: dict, grading: Grading, *,
               closing_iod: float = 0.03) -> SplitFace:
    """Hemi-face MASI of both sides of a scored face (see the module's notes for the measures).

    Parameters
    ----------
    analysis : FaceAnalysis
        The lesion analysis of the face (``FaceScore.analysis``), on the analysis crop.
    points_px : numpy.ndarray, shape (478, 2)
        Landmarks in the crop's pixels (``FaceScore.analysis_points_px``).
    iod_px : float
        Inter-ocular distance in the crop's pixels.
    regions : dict of str to RegionScore
        The face's graded regions (``FaceScore.regions``): the malar parts, and each half's
        region darkness and area gain.
    grading : Grading
        The scoring model's grading (``ScoringModel.grading``).
    closing_iod : float
        Gaps closed before patches are counted (``LesionParams.homogeneity_closing_iod``).

    Returns
    -------
    SplitFace

    Examples
    --------
    >>> import pigmentscan
    >>> score = pigmentscan.score_image("sample_images/astronaut_eileen_collins_phantom.png")
    >>> split = score.split_face
    >>> sorted(split.halves)
    ['chin_left', 'chin_right', 'forehead_left', 'forehead_right']
    >>> bool(0 < split.right.masi <= 24 and 0 < split.left.masi <= 24)  # the phantom is pigmented on both sides
    True
    """
    from .regions import face_midline

    points_px = np.asarray(points_px, float)
    halves = half_region_masks(analysis.region_masks, points_px, iod_px)
    sides = {}
    for side in SIDES:
        parts = {region: _half_region(region, side, halves[f"{region}_{side}"], analysis, regions[region], iod_px,
                                      grading, closing_iod) for region in SPLIT_REGIONS}
        sides[side] = _hemi_face(side, parts["forehead"], regions[f"{side}_malar"], parts["chin"])
    return SplitFace(sides["right"], sides["left"], face_midline(points_px, iod_px))
