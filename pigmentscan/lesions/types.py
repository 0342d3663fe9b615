"""Parameters and results of the lesion analysis."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .. import colour

__all__ = ["LesionParams", "ReferenceSkin", "RegionMeasures", "FaceAnalysis", "SkinMaps"]


@dataclass(frozen=True)
class LesionParams:
    """Parameters of lesion detection; they live in the calibration file (``lesion`` section).

    Sizes are fractions of the inter-ocular distance; contrasts are melanin amounts
    in optical-density units along the unit melanin direction. Parameters a model file
    does not name take these defaults.
    """

    melanin_od_direction: tuple = (0.319, 0.459, 0.829)
    haemoglobin_od_direction: tuple = (0.20, 0.85, 0.50)
    smoothing_iod: float = 0.025
    shading_scale_iod: float = 0.15  # unused (shading cross-talk step removed); kept so older model files load
    noise_k: float = 4.0
    min_contrast: float = 0.3
    hysteresis_ratio: float = 0.6
    min_lesion_diameter_iod: float = 0.035
    hole_diameter_iod: float = 0.03
    homogeneity_closing_iod: float = 0.03
    reference_radius_iod: float = 0.3
    reference_quantile: float = 0.5  # unused (quantile reference replaced); kept so older model files load
    reference_degree: int = 3
    surface_threshold_factor: float = 2.0
    surface_start_quantile: float = 0.5
    peel_margin_iod: float = 0.04
    reference_scale_iod: float = 0.08
    reference_fill_iod: float = 0.3
    darkening_ratio: float = 0.6
    hair_shading: float = 1.8
    hair_density: float = 0.3
    highlight_shading: float = -1.0
    #: The rule-based candidates also set aside skin brighter than this (shading, as
    #: ``highlight_shading``): sheen that the classifier decides on but the rules' fixed
    #: contrasts misread (on dark skin, its lit planes against the shadowed ones).
    rule_highlight_shading: float = -1.0
    work_iod_px: float = 100.0
    #: With a learned classifier: a rule-based patch at most this share of which the classifier
    #: found is added whole (benchmarks/train_lesion_classifier.py cross-validation).
    rule_overlap_ratio: float = 0.1
    #: A highlight pixel of a region at most this far (IOD) from measurable skin takes the lesion
    #: decision of the measurable skin around it (lesions.fill_hidden); 0 leaves highlights unmeasured.
    highlight_fill_iod: float = 0.0
    #: Gaussian sigma (IOD) of that decision's vote over the measurable skin.
    highlight_vote_iod: float = 0.07
    #: Smoothing (IOD) of the melanin map a lesion's contrast is measured on (its median over
    #: the lesion); ``smoothing_iod`` steadies the masks but dilutes patches near its size.
    contrast_smoothing_iod: float = 0.025
    #: With a learned classifier: when > 0, its face-wide features (the skin outside the regions,
    #: the 25th percentile of melanin, the face's tone) are measured on the clean skin off the
    #: rule-based candidates grown by this margin (IOD), so pigment does not move them; 0 measures
    #: them over all clean skin, as classifiers fitted before this parameter expect. Networks
    #: refitted with 0.04 gave a lower held-out trial r (benchmarks/longitudinal.py docstring).
    face_skin_margin_iod: float = 0.0

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> LesionParams:
        known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class ReferenceSkin:
    """The face's own normal skin: the baseline every contrast is measured against.

    ``od`` is its median optical density (R, G, B), ``lab`` its mean CIELAB (D65),
    ``ita_deg`` the ITA of ``lab``, ``melanin_noise`` the fine-scale noise of the melanin
    map over quiet skin (:func:`melanin_noise`).
    """

    od: np.ndarray
    lab: np.ndarray
    ita_deg: float
    melanin_noise: float

    def to_dict(self) -> dict:
        return {
            "reference_skin_lab": [round(float(v), 4) for v in self.lab],
            "reference_skin_ita_deg": float(self.ita_deg),
            "reference_skin_category": colour.ita_category(self.ita_deg),
            "melanin_noise": float(self.melanin_noise),
        }


@dataclass(frozen=True)
class RegionMeasures:
    """Continuous measures of one MASI region.

    Attributes
    ----------
    area_fraction : float
        Lesion pixels / visible skin pixels of the region (0-1).
    melanin_contrast : float
        Median melanin contrast of the lesion pixels against normal skin (OD units);
        0 when the region has no lesion. The continuous darkness measure.
    delta_e : float
        CIE76 colour difference ΔE*ab of the lesion's mean colour from normal skin.
    delta_l_star : float
        L* of the lesion minus L* of normal skin (negative = darker).
    delta_melanin_takiwaki : float
        Takiwaki (2002) ΔMelanin of the lesion against normal skin.
    patch_diameter_iod : float
        Area-weighted mean diameter of the lesion patches in inter-ocular distances:
        the continuous homogeneity measure (see :func:`patch_diameter_iod`).
    n_lesions : int
        Connected lesion components in the region.
    skin_px : int
        Visible skin pixels in the region, on the lesion analysis's working copy
        (``LesionParams.work_iod_px`` between the pupils).
    coverage : float
        Visible skin / whole region polygon (hair, highlights and shadow removed).
    """

    area_fraction: float
    melanin_contrast: float
    delta_e: float
    delta_l_star: float
    delta_melanin_takiwaki: float
    patch_diameter_iod: float
    n_lesions: int
    skin_px: int
    coverage: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FaceAnalysis:
    """Everything measured on one face.

    ``region_masks`` (visible skin of each region), ``lesion_mask``, ``melanin_contrast``
    and ``non_skin`` (what is not counted as skin: hair, beard, deep shadow, highlights
    too far from measurable skin to be filled) are on the analysis crop (its pixels);
    ``measures`` (region key → :class:`RegionMeasures`) were taken on the working copy
    (``work_iod_px``). ``melanin`` is the smoothed melanin amount relative to the face's median
    skin (:attr:`SkinMaps.melanin`), before any normal-skin reference: it does not depend on
    which pixels were found to be lesion (``None`` when not kept).
    """

    region_masks: dict
    lesion_mask: np.ndarray
    melanin_contrast: np.ndarray
    non_skin: np.ndarray
    reference: ReferenceSkin
    measures: dict = field(default_factory=dict)
    melanin: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SkinMaps:
    """The maps of one face at the working scale that lesion finding starts from.

    Made by :func:`pigmentscan.lesions.skin_maps`; read by the rule-based masks and by
    the learned classifier's :func:`~pigmentscan.lesions.classifier.pixel_features`.
    ``melanin``, ``haemoglobin``, ``shading`` are the smoothed pigment amounts relative
    to the face's median skin; ``darkness`` the smoothed mean optical density;
    ``candidates`` and ``contrast`` the rule-based lesion mask and melanin contrast
    (:func:`~pigmentscan.lesions.find_lesions`); ``clean`` the measurable skin;
    ``regions`` each MASI region's polygon; ``lab`` the CIELAB of the clean skin's pixels (0 elsewhere);
    ``highlights`` the part of ``non_skin`` that is skin under a highlight
    (:func:`~pigmentscan.lesions.reference.non_skin_parts`); ``melanin_measured`` the
    melanin smoothed at ``contrast_smoothing_iod`` instead, that lesion colour is measured on.
    """

    params: LesionParams
    points_px: np.ndarray
    iod_px: float
    od: np.ndarray
    melanin: np.ndarray
    haemoglobin: np.ndarray
    shading: np.ndarray
    darkness: np.ndarray
    od_per_melanin: float
    clean: np.ndarray
    non_skin: np.ndarray
    regions: dict
    noise: float
    candidates: np.ndarray
    contrast: np.ndarray
    lab: np.ndarray
    highlights: np.ndarray | None = None
    melanin_measured: np.ndarray | None = None
