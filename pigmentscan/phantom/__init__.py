"""Melasma phantoms: real face photos with added pigment of known extent, and simulated revisits.

:func:`make_phantom` adds melasma-like pigment to a real face photo and returns the new
photo, the true lesion mask and the per-region truth (area, darkness, homogeneity, MASI);
:func:`reacquire` simulates a second visit of the same skin (exposure, white balance,
small rotation/scale, JPEG) and :func:`random_drift` draws such a visit.

Modules: :mod:`.pigment` (melanin direction, darkness in JND), :mod:`.pattern` (the shapes),
:mod:`.generator` (:func:`make_phantom` and its truth), :mod:`.revisit` (:func:`reacquire`).

The generator is deliberately independent of the analysis in :mod:`pigmentscan.lesions`, but for
the size of the patches, which has one definition that the truth and the measure share
(:func:`pigmentscan.lesions.patch_diameter_iod`, the MASI homogeneity descriptor below):

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
  ``layout="centrofacial"`` draws one confluent pattern instead, over the centre of the face
  (the convex hull of the four regions, nose and upper lip included) and up to
  0.25 IOD past it, with one darkness: the commonest clinical pattern (MASI.md), which leaves
  little or no normal skin on the face.
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

from ..lesions import patch_diameter_iod  # the one definition the truth and the measure share
from .generator import Phantom, make_phantom
from .pattern import HOMOGENEITY_THRESHOLDS_IOD
from .pigment import (
    DARKNESS_BANDS_JND,
    JND_DELTA_E,
    MELANIN_OD_DIRECTION,
    REFERENCE_SKIN_LAB,  # noqa: F401 - module-level name of the former phantom.py
    greyer_direction,
    melanin_for_delta_e,
)
from .revisit import random_drift, reacquire
from .visible import graded_truth, visible_truth


__all__ = ["visible_truth", "graded_truth", "MELANIN_OD_DIRECTION", "DARKNESS_BANDS_JND", "HOMOGENEITY_THRESHOLDS_IOD", "JND_DELTA_E",
           "Phantom", "make_phantom", "greyer_direction", "reacquire", "random_drift", "melanin_for_delta_e", "patch_diameter_iod"]
