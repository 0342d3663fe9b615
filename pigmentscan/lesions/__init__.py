"""The lesion stage: the pigment a physician sees, region by region.

One face crop flows through four steps, each a module:

1. :mod:`~pigmentscan.lesions.expectation`: what this face's normal skin should read at each
   point: its own tone, plus the natural pattern of clean faces (:mod:`~pigmentscan.lesions.template`)
   scaled to it, plus how the reading follows shading and redness in this photo; fitted to the
   mode of the face's skin, so pigment however wide does not pull it.
2. :mod:`~pigmentscan.lesions.excess`: each pixel's melanin above that expectation, as the
   contrast it makes on this face's skin, in just-noticeable differences.
3. :mod:`~pigmentscan.lesions.mask`: lesions, the patches of skin from 1 JND with more support
   (extent and height together) than clean skin produces.
4. :mod:`~pigmentscan.lesions.measures`: each region's area (also at several contrast levels),
   darkness, pattern and colour differences.

:mod:`~pigmentscan.lesions.skin` gives the maps they start from (melanin, haemoglobin and shading
in optical density; the measurable skin). Haemoglobin is a separate direction of the colour
decomposition, so redness is not read as melanin; what little the reading still follows it is
taken out by the expectation. :func:`analyse_face` runs the steps on a copy of the crop at
``work_iod_px`` between the pupils; sizes are fractions of the IOD, so the scale does not change
what is measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import colour
from ..regions import REGION_KEYS, region_masks
from ._ops import _channel_medians, _disk
from .excess import jnd_per_melanin, melanin_to_jnd
from .expectation import Expectation, normal_skin_expectation
from .mask import cluster_support, lesion_masks, support_thresholds
from .measures import measure_region, patch_diameter_iod
from .skin import SkinMaps, masked_smooth, masked_smooths, skin_maps
from .template import FaceTemplate, template_maps
from .types import AREA_LEVELS_JND, FaceAnalysis, LesionParams, ReferenceSkin, RegionMeasures, level_suffix

__all__ = [
    "LesionParams", "ReferenceSkin", "RegionMeasures", "FaceAnalysis", "FaceTemplate", "SkinMaps", "Expectation",
    "AREA_LEVELS_JND", "level_suffix", "analyse_face", "working_copy", "skin_maps", "template_maps",
    "normal_skin_expectation", "jnd_per_melanin", "melanin_to_jnd", "lesion_masks", "cluster_support", "support_thresholds", "min_support_by_region",
    "measure_region", "patch_diameter_iod", "face_readings", "PigmentExcess", "pigment_excess",
]

#: Share of the measurable skin, from the least melanin up, whose colour sets the JND scale
#: (parameter: normal skin on faces whose lesions cover up to half of it).
_SCALE_SKIN_QUANTILE = 0.4
#: Range of the weight a pixel's excess carries in a patch's mass (median natural spread / the
#: spread there; parameter: no point counts for more than twice or less than a quarter).
_EVIDENCE_WEIGHT_RANGE = (0.25, 2.0)


def working_copy(image, iod_px: float, params: LesionParams):
    """The copy of a crop the stage works on, and its scale factor.

    Resampled (area averaging) so the pupils are ``params.work_iod_px`` apart; returned as is
    (factor 1.0) when that is within 5 % of the crop, or ``work_iod_px`` is 0.
    """
    scale = min(1.0, params.work_iod_px / iod_px)
    if scale > 0.95 or params.work_iod_px <= 0:
        return image, 1.0
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return small, small.shape[1] / image.shape[1]  # the scale actually applied (whole pixels)


def face_readings(rgb, maps: SkinMaps, iod_px: float, params: LesionParams):
    """The smoothed readings the expectation is fitted to: melanin in JND, and its covariates.

    Returns ``(reading_jnd, covariates, jnd_per_melanin, scale_skin_linear_rgb)``: the melanin map
    smoothed over the measurable skin at ``smoothing_iod`` times the JND per melanin of the face's
    lighter skin; the covariates, shading and haemoglobin, smoothed alike (in OD).
    """
    sigma = params.smoothing_iod * iod_px
    light = maps.measurable & (maps.melanin <= np.quantile(maps.melanin[maps.measurable], _SCALE_SKIN_QUANTILE)) \
        if maps.measurable.any() else maps.skin
    skin_linear = np.median(colour.srgb_to_linear(rgb[light]), axis=0) if light.any() else np.full(3, 0.5)
    scale = jnd_per_melanin(skin_linear, params.melanin_od_direction)
    weights = maps.measurable.astype(np.float32)
    melanin, shading, haemoglobin = masked_smooths([maps.melanin, maps.shading, maps.haemoglobin], weights, sigma)
    return melanin * scale, [shading, haemoglobin], scale, skin_linear


def analyse_face(rgb, points_px, iod_px: float, params: LesionParams, template: FaceTemplate | None = None) -> FaceAnalysis:
    """Run the lesion stage on a face crop at the analysis scale.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 crop, shape (H, W, 3).
    points_px : numpy.ndarray, shape (478, 2)
        Landmarks in the crop's pixels.
    iod_px : float
        Inter-ocular distance in the crop's pixels.
    params : LesionParams
    template : FaceTemplate, optional
        The natural pattern of clean faces (the scoring model's); without one the expectation
        is the face's tone and covariates alone.

    Returns
    -------
    FaceAnalysis
        Masks and the excess map at the crop's scale; region measures from the working copy.

    Examples
    --------
    >>> from pigmentscan.scoring import load_model
    >>> from pigmentscan.pipeline import face_crop
    >>> crop, landmarks = face_crop("sample_images/grace_hopper_phantom.png")
    >>> model = load_model()
    >>> analysis = analyse_face(crop, landmarks.points_px, landmarks.iod_px, model.lesion, model.face_template)
    >>> analysis.measures["right_malar"].area_fraction > 0.3  # the phantom's pigment is found
    True
    """
    small, factor = working_copy(rgb, iod_px, params)
    work = _analyse_at_scale(small, np.asarray(points_px, float) * factor, iod_px * factor, params, template)
    if factor == 1.0:
        return work
    size = (rgb.shape[1], rgb.shape[0])

    def upsampled(mask):
        return cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR) >= 0.5

    non_skin = upsampled(work.non_skin)
    polygons = region_masks(rgb.shape[:2], points_px, iod_px)
    masks = {key: polygons[key] & ~non_skin for key in REGION_KEYS}
    excess = cv2.resize(work.excess_jnd, size, interpolation=cv2.INTER_LINEAR)
    return FaceAnalysis(masks, upsampled(work.lesion_mask) & ~non_skin, excess, non_skin, work.reference, work.measures)


@dataclass(frozen=True, eq=False)
class PigmentExcess:
    """Steps 1 and 2 on one face (no resampling): the maps, the expectation and the excess.

    ``excess_jnd`` is the smoothed melanin reading above the expectation (JND, 0 off the
    measurable skin), what a patch's support is read on; ``outline_jnd`` the same at the finer
    outline scale, what its outline is drawn on; ``weight`` how much each pixel's excess counts in a patch's mass (``None``
    without a template); ``measurable`` the skin that was read; ``jnd_per_melanin`` and
    ``skin_linear_rgb`` the JND scale and the lighter skin it was taken on.
    """

    maps: SkinMaps
    expectation: Expectation
    excess_jnd: np.ndarray
    outline_jnd: np.ndarray
    weight: np.ndarray | None
    measurable: np.ndarray
    jnd_per_melanin: float
    skin_linear_rgb: np.ndarray


def pigment_excess(rgb, points_px, iod_px: float, params: LesionParams, template: FaceTemplate | None) -> PigmentExcess:
    """The pigment excess of a face crop over its expected normal skin, in JND (steps 1-2, no resampling)."""
    maps = skin_maps(rgb, points_px, iod_px, params)
    reading, covariates, scale, skin_linear = face_readings(rgb, maps, iod_px, params)
    if template is not None:
        patterns, spread, inside = template_maps(template, points_px, rgb.shape[:2])
        variance = template.mode_variance
        weight = np.clip(float(np.median(template.spread_jnd[template.domain])) / np.maximum(spread, 1e-3),
                         *_EVIDENCE_WEIGHT_RANGE)
    else:
        patterns, inside, variance = np.zeros(rgb.shape[:2] + (1,), np.float32), np.ones(rgb.shape[:2], bool), np.zeros(0)
        weight = None
    measurable = maps.measurable & inside
    fit = normal_skin_expectation(reading, covariates, patterns, variance, measurable,
                                  width=params.expectation_width, prior_weight=params.mode_prior_weight)
    excess = np.where(measurable, reading - fit.expected_jnd, 0.0).astype(np.float32)
    # The outline is read on the melanin at a finer scale: smoothing widens a dark patch past its edge.
    fine = masked_smooth(maps.melanin, measurable.astype(np.float32), params.outline_smoothing_iod * iod_px) * scale
    outline = np.where(measurable, fine - fit.expected_jnd, 0.0).astype(np.float32)
    return PigmentExcess(maps, fit, excess, outline, weight, measurable, scale, skin_linear)


def min_support_by_region(params: LesionParams) -> dict:
    """Each MASI region's ``min_support`` (the malar one for both cheeks)."""
    return {"forehead": params.min_support_forehead, "right_malar": params.min_support_malar,
            "left_malar": params.min_support_malar, "chin": params.min_support_chin}


def _analyse_at_scale(rgb, points_px, iod_px: float, params: LesionParams, template) -> FaceAnalysis:
    found = pigment_excess(rgb, points_px, iod_px, params, template)
    maps, fit, excess, weight, measurable = found.maps, found.expectation, found.excess_jnd, found.weight, found.measurable
    scale, skin_linear = found.jnd_per_melanin, found.skin_linear_rgb
    levels = sorted(set(AREA_LEVELS_JND) | {params.detection_level_jnd})
    lesion_at = lesion_masks(excess, measurable, iod_px, levels, support_level_jnd=params.support_level_jnd,
                             min_support=support_thresholds(maps.regions, min_support_by_region(params), excess.shape),
                             hole_diameter_iod=params.hole_diameter_iod, weight=weight,
                             outline_jnd=found.outline_jnd)
    lesion = lesion_at[params.detection_level_jnd]
    lesion_at = {level: lesion_at[level] for level in AREA_LEVELS_JND}
    # The contrast a physician sees: melanin at the viewing scale above the expectation, on this skin.
    fine = masked_smooth(maps.melanin, measurable.astype(np.float32), params.contrast_smoothing_iod * iod_px)
    excess_od = np.where(measurable, fine - fit.expected_jnd / scale, 0.0)
    contrast = melanin_to_jnd(excess_od, skin_linear, params.melanin_od_direction)
    lab = np.zeros(rgb.shape, np.float32)
    lab[measurable] = colour.rgb_to_lab(rgb[measurable])
    near_lesion = cv2.dilate(lesion.astype(np.uint8), _disk(0.04 * iod_px)).astype(bool)
    normal = measurable & ~near_lesion & (excess < params.detection_level_jnd)
    if np.count_nonzero(normal) < 50:
        normal = measurable if np.count_nonzero(measurable) >= 50 else maps.skin
    reference_lab = lab[normal].mean(axis=0) if (measurable & normal).any() else colour.rgb_to_lab(rgb[normal]).mean(axis=0)
    reference = ReferenceSkin(od=_channel_medians(maps.od, normal), lab=reference_lab,
                              ita_deg=float(colour.ita_deg(reference_lab)), spread_jnd=fit.spread_jnd,
                              jnd_per_melanin=scale)
    masks, measures = {}, {}
    unmeasured = ~measurable & maps.skin
    for key in REGION_KEYS:
        region = maps.regions[key] & measurable
        masks[key] = region
        measures[key] = measure_region(region, np.count_nonzero(maps.regions[key]), lesion, lesion_at, contrast, excess_od, lab,
                                       reference_lab, iod_px, params.homogeneity_closing_iod)
    return FaceAnalysis(masks, lesion, excess, unmeasured, reference, measures)
