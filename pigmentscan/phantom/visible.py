"""A phantom's truth on the grading scale: its lesion where a physician can see it (docs/grading_scale.md).

:func:`make_phantom` defines its true lesion at half each patch's amplitude. The grading scale
calls skin involved where its pigment makes at least 1 JND against the surrounding skin at the
physician's viewing scale, which also takes in a dark patch's visible soft rim. This module
grades the same added melanin on that scale, so the first family can be compared with a measure
that reads the scale (and with the second family, whose truth is defined on it).
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import colour
from ..regions import REGION_KEYS
from ..scoring import Grading, area_score, expected_grade, masi, mmasi
from .pigment import JND_DELTA_E, MELANIN_OD_DIRECTION

__all__ = ["visible_truth", "graded_truth"]

#: docs/grading_scale.md: the viewing scale, a Gaussian of 0.02 IOD FWHM (sigma = FWHM / 2.355).
VIEWING_SIGMA_IOD = 0.02 / 2.355
#: Melanin amounts (OD) tabulated for the contrast curve.
_TABLE_OD = np.linspace(0.0, 4.0, 81)


def visible_truth(phantom, level_jnd: float = 1.0) -> tuple[dict, np.ndarray]:
    """The phantom's involved skin on the grading scale, and each region's area on it.

    A pixel is involved where the lesion melanin added to it, seen at the viewing scale, makes
    at least ``level_jnd`` JND (ΔE*ab / 2.3) on the region's skin around the lesion (the
    phantom's own pixels, constitutive darkening included); skin outside the regions is graded
    on the whole face's.

    Parameters
    ----------
    phantom : Phantom
        From :func:`make_phantom`.
    level_jnd : float

    Returns
    -------
    regions : dict
        Region key -> ``{"area_fraction", "area_pct", "area_score"}``.
    mask : numpy.ndarray of bool
        The involved skin, photo-sized.

    Examples
    --------
    >>> import numpy as np
    >>> from pigmentscan.io import load_rgb
    >>> from pigmentscan.phantom import make_phantom
    >>> photo, _ = load_rgb("sample_images/grace_hopper.jpg")
    >>> p = make_phantom(photo, seed=3, area_fraction=0.3, darkness=3)
    >>> regions, mask = visible_truth(p)
    >>> bool(regions["right_malar"]["area_pct"] >= p.truth["right_malar"]["area_pct"])  # the soft rim is seen
    True
    """
    if phantom.lesion_melanin_od is None:
        raise ValueError("the phantom carries no lesion melanin map (made by an older pigmentscan)")
    iod = phantom.landmarks.iod_px
    melanin = cv2.GaussianBlur(phantom.lesion_melanin_od.astype(np.float32), (0, 0), VIEWING_SIGMA_IOD * iod)
    skin = np.logical_or.reduce([phantom.region_masks[k] for k in REGION_KEYS])
    mask = np.zeros(melanin.shape, bool)
    regions = {}
    for key in (None, *REGION_KEYS):
        where = skin if key is None else phantom.region_masks[key]
        around = where & (phantom.lesion_melanin_od < 0.01)
        pixels = phantom.image[around if around.any() else where]
        if not len(pixels):
            continue
        skin_linear = np.median(colour.srgb_to_linear(pixels), axis=0)
        table = colour.melanin_delta_e(skin_linear, _TABLE_OD, _phantom_direction(phantom)) / JND_DELTA_E
        involved = where & (np.interp(melanin, _TABLE_OD, table) >= level_jnd)
        mask = np.where(where, involved, mask) if key is not None else involved
        if key is not None:
            share = float(involved.sum()) / max(int(where.sum()), 1)
            regions[key] = {"area_fraction": share, "area_pct": 100.0 * share, "area_score": area_score(100.0 * share)}
    return regions, mask


def _phantom_direction(phantom) -> np.ndarray:
    """The OD direction the phantom's pigment was added along (its ``params``; the default for older ones)."""
    return np.asarray(phantom.params.get("melanin_od_direction", MELANIN_OD_DIRECTION), float)


def graded_truth(phantom) -> dict:
    """The phantom's truth graded on the grading scale: MASI components, totals and involved mask.

    :func:`make_phantom` draws darkness as melanin in bands of ΔE on a reference skin; the
    scale grades the contrast on the subject's own skin. Each region's true darkness is the ΔE
    its median added melanin makes on the region's skin around the lesion (constitutive
    darkening included), in JND, graded at the scale's edges (:class:`pigmentscan.scoring.Grading`);
    its area is :func:`visible_truth`'s; homogeneity the phantom's own. The phantom's
    half-maximum area is kept as ``half_max_area_pct``.

    Returns
    -------
    dict
        ``regions`` (key -> truth dict, as ``phantom.truth`` plus ``darkness_jnd`` and
        ``half_max_area_pct``), ``masi``, ``mmasi`` and ``mask`` (the involved skin).
    """
    visible, mask = visible_truth(phantom)
    edges = Grading().darkness_thresholds
    regions = {}
    for key, truth in phantom.truth.items():
        region = dict(truth, half_max_area_pct=truth["area_pct"], **visible[key])
        involved = region["area_score"] > 0 and truth["melanin_od"] > 0
        around = phantom.region_masks[key] & (phantom.lesion_melanin_od < 0.01)
        pixels = phantom.image[around if around.any() else phantom.region_masks[key]]
        skin = np.median(colour.srgb_to_linear(pixels), axis=0)
        contrast = float(colour.melanin_delta_e(skin, [truth["melanin_od"]], _phantom_direction(phantom))[0]) / JND_DELTA_E
        region["darkness_jnd"] = contrast if involved else 0.0
        region["darkness"] = max(1, int(expected_grade(contrast, edges))) if involved else 0
        region["homogeneity"] = max(1, truth["homogeneity"]) if involved else 0
        if not involved:
            region.update(area_score=0, area_pct=0.0, area_fraction=0.0)
        regions[key] = region
    components = {k: {"area": r["area_score"], "darkness": r["darkness"], "homogeneity": r["homogeneity"]}
                  for k, r in regions.items()}
    return {"regions": regions, "masi": masi(components), "mmasi": mmasi(components), "mask": mask}
