"""Parameters and results of the lesion stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .. import colour

__all__ = ["LesionParams", "ReferenceSkin", "RegionMeasures", "FaceAnalysis", "AREA_LEVELS_JND", "level_suffix"]

#: Contrast levels (JND) at which every region's area is also reported, so that a site's raters
#: can be matched by ``pigmentscan calibrate`` without scoring the photos again.
AREA_LEVELS_JND = (0.75, 1.0, 1.5, 2.0, 3.0)


def level_suffix(level_jnd: float) -> str:
    """Column suffix of an area level: ``1.5`` -> ``"1p5jnd"``, ``1.0`` -> ``"1jnd"``."""
    text = f"{float(level_jnd):g}".replace(".", "p")
    return f"{text}jnd"


@dataclass(frozen=True)
class LesionParams:
    """Parameters of the lesion stage; a model file's ``lesion`` section holds them.

    Sizes are fractions of the inter-ocular distance (IOD); contrasts are in just-noticeable
    differences (JND, ΔE*ab 2.3 on the face's own skin: docs/grading_scale.md).

    Attributes
    ----------
    melanin_od_direction, haemoglobin_od_direction : tuple of 3 floats
        Absorption directions in optical density (R, G, B) that split a pixel's colour into
        melanin, haemoglobin and shading (Tsumura 1999); effective wavelengths 605/545/460 nm.
    work_iod_px : float
        Pixels between the pupils of the copy the stage works on (parameter: every size is a
        fraction of the IOD, and 100 px resolves 0.01 IOD, below the smallest scale read).
    smoothing_iod : float
        Gaussian sigma of the melanin map the expectation is fitted to and a patch's support is
        read on (parameter: spans a pore-and-hair texture scale, well under a lesion's width).
    outline_smoothing_iod : float
        Gaussian sigma of the melanin map a lesion's outline is drawn on (parameter: smoothing
        widens a dark patch past its edge by about its sigma, so the outline is read finer than
        the lesion is found, but not so fine that skin texture breaks it up).
    contrast_smoothing_iod : float
        Gaussian sigma of the map a lesion's darkness is read on: the physician's viewing scale
        of docs/grading_scale.md (details under 0.02 IOD blurred away: a FWHM of 0.02 IOD).
    expectation_width : float
        Half-width, in spreads of the normal skin, of the weight window that fits the
        expectation to the mode of the face's skin (parameter; a biweight window).
    mode_prior_weight : float
        How strongly the natural-variation modes are held to their spread among clean faces:
        neighbouring pixels are not independent, so the data term counts about this many pixels
        as one (fitted on the tune faces).
    detection_level_jnd : float
        Pigment excess at which skin of a lesion counts as involved: 1 JND (docs/grading_scale.md).
        ``pigmentscan calibrate`` may move it to match a site's raters (the areas at
        :data:`AREA_LEVELS_JND` in the scores are what each choice gives).
    support_level_jnd : float
        Excess from which a patch's support is counted (:func:`~pigmentscan.lesions.mask.cluster_support`):
        where pigment becomes visible, 1 JND (docs/grading_scale.md). Which patches are lesions
        does not depend on ``detection_level_jnd``.
    min_support_forehead, min_support_malar, min_support_chin : float
        A patch of involved skin is a lesion when a pixel of it has this much support (extent and
        height of its patch together, :func:`~pigmentscan.lesions.mask.cluster_support`) in the
        region it lies in: what clean faces reach in one region in fifty (fitted on clean tune
        faces, each region apart: the hairline makes a clean forehead vary far more than a cheek).
        Skin outside the regions takes the largest of the three.
    hair_shading, hair_density : float
        Hair, beard and deep shadow: shading above ``hair_shading`` (OD above the face's
        median, all channels alike) where more than ``hair_density`` of the surrounding 0.08 IOD
        is that dark (parameters).
    hair_melanin, hair_texture : float
        Lighter hair: melanin above the face's median skin by more than ``hair_melanin`` (OD)
        where the fine detail is more than ``hair_texture`` times the skin's
        (:func:`~pigmentscan.lesions.skin.texture_ratio`) (parameters).
    hair_tip_contrast_jnd : float
        A fringe's smooth tips: skin above the brows joined to hair whose melanin makes more
        than this contrast on the face's skin (JND) is hair too (parameter: above the darkness of
        nearly all melasma, so that a lesion at the hairline is kept; in JND rather than OD, as
        one OD threshold would be a faint lesion on brown skin and hair on light skin).
    highlight_shading : float
        Glare: shading below this (brighter than the face's median skin by more than e^2)
        or a channel in the highlight roll-off (:data:`~pigmentscan.lesions.skin.HIGHLIGHT_LEVEL`) is not measured (parameter).
    homogeneity_closing_iod : float
        Gaps closed before patches are counted for the pattern size (docs/grading_scale.md).
    hole_diameter_iod : float
        Holes of a lesion smaller than this are filled (parameter: a pore or a hair across a patch).
    """

    melanin_od_direction: tuple = (0.319, 0.459, 0.829)
    haemoglobin_od_direction: tuple = (0.20, 0.85, 0.50)
    work_iod_px: float = 100.0
    smoothing_iod: float = 0.04
    outline_smoothing_iod: float = 0.015
    contrast_smoothing_iod: float = 0.0085
    expectation_width: float = 2.5
    mode_prior_weight: float = 50.0
    detection_level_jnd: float = 1.0
    support_level_jnd: float = 1.0
    # fitted (benchmarks/fit_face_template.py); tests/test_scoring.py keeps them equal to models/default.json
    min_support_forehead: float = 7.303
    min_support_malar: float = 1.436
    min_support_chin: float = 2.0
    hair_shading: float = 1.8
    hair_density: float = 0.3
    hair_melanin: float = 0.6
    hair_texture: float = 3.0
    hair_tip_contrast_jnd: float = 8.0
    highlight_shading: float = -2.0
    homogeneity_closing_iod: float = 0.03
    hole_diameter_iod: float = 0.03

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> LesionParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in known})


@dataclass(frozen=True)
class ReferenceSkin:
    """The face's own normal skin: what every contrast is measured against.

    ``od`` is its median optical density (R, G, B), ``lab`` its mean CIELAB (D65), ``ita_deg``
    the ITA of ``lab``; ``spread_jnd`` is how much the normal skin's melanin varies about its
    expectation (JND); ``jnd_per_melanin`` the JND that one OD unit of melanin adds to it.
    """

    od: np.ndarray
    lab: np.ndarray
    ita_deg: float
    spread_jnd: float
    jnd_per_melanin: float

    def to_dict(self) -> dict:
        return {
            "reference_skin_lab": [round(float(v), 4) for v in self.lab],
            "reference_skin_ita_deg": float(self.ita_deg),
            "reference_skin_category": colour.ita_category(self.ita_deg),
            "normal_skin_spread_jnd": float(self.spread_jnd),
            "jnd_per_melanin_od": float(self.jnd_per_melanin),
        }


@dataclass(frozen=True)
class RegionMeasures:
    """Continuous measures of one MASI region.

    Attributes
    ----------
    area_fraction : float
        Lesion pixels / visible skin pixels of the region (0-1), at the detection level.
    area_pct_at : dict of float to float
        The region's lesion area (%) counting only pigment at least each of
        :data:`AREA_LEVELS_JND` above the expectation, within the same lesions.
    darkness_jnd : float
        Median contrast of the lesion on the face's own skin, JND (docs/grading_scale.md); 0
        without lesion. The continuous darkness measure.
    melanin_contrast : float
        Median melanin excess of the lesion over the expected normal skin, OD units.
    delta_e, delta_l_star, delta_melanin_takiwaki : float
        CIE76 ΔE*ab, ΔL* and Takiwaki (2002) ΔMelanin of the lesion's mean colour against the
        normal skin's.
    patch_diameter_iod : float
        Area-weighted mean patch diameter (IOD): the continuous homogeneity measure.
    n_lesions : int
        Connected lesion components in the region.
    skin_px : int
        Visible skin pixels of the region on the working copy.
    coverage : float
        Visible skin / whole region polygon (hair, glare and shadow removed).
    """

    area_fraction: float
    darkness_jnd: float
    melanin_contrast: float
    delta_e: float
    delta_l_star: float
    delta_melanin_takiwaki: float
    patch_diameter_iod: float
    n_lesions: int
    skin_px: int
    coverage: float
    area_pct_at: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "area_pct_at"}
        out.update({f"area_pct_{level_suffix(level)}": value for level, value in self.area_pct_at.items()})
        return out


@dataclass(frozen=True)
class FaceAnalysis:
    """Everything the lesion stage measured on one face.

    ``region_masks`` (visible skin of each region), ``lesion_mask``, ``excess_jnd`` (pigment above
    the expected normal skin, JND) and ``non_skin`` (hair, beard, deep shadow, glare) are on the
    analysis crop; ``measures`` (region key → :class:`RegionMeasures`) were taken on the working
    copy. ``melanin`` is the same excess map, kept for the paired comparison of visits
    (:mod:`pigmentscan.face_maps`).
    """

    region_masks: dict
    lesion_mask: np.ndarray
    excess_jnd: np.ndarray
    non_skin: np.ndarray
    reference: ReferenceSkin
    measures: dict = field(default_factory=dict)

    @property
    def melanin(self) -> np.ndarray:
        """The excess map: what :func:`pigmentscan.face_maps.face_maps` keeps."""
        return self.excess_jnd
