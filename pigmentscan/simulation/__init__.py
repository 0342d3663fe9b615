"""A second phantom family: simulated melasma on real face photos, with a measured truth.

Designed clean-room, independently of :mod:`pigmentscan.phantom` and of the lesion
measure, from the domain facts (MASI.md) and the project's grading scale
(docs/grading_scale.md), so that the measure can be tested on data it was never
fitted to. **Use it only to test, never to fit or tune.** docs/simulation.md gives
the derivations and sources.

What it simulates
-----------------
- :func:`simulate_melasma` / :func:`draw_case`: melasma in Sanchez 1981's three
  patterns (centrofacial, malar, mandibular), bilateral and roughly symmetric, with
  geographic borders that run past the MASI region polygons, from faint (1 JND) to
  strong (~8 JND), speckled, reticulated or blotchy, epidermal (brown), dermal
  (grey-blue, less contrasted) or mixed, on any skin tone.
- Confounders that are not lesion, each on clean faces or on top of lesions:
  :func:`add_erythema` (haemoglobin: diffuse flush or patchy redness), :func:`relight`
  (side light, flash with sheen, warm white balance), :func:`retake` (the same skin
  photographed again), :func:`mirror` (the flipped photo).

How the truth is defined (exactly as docs/grading_scale.md)
-----------------------------------------------------------
- **Contrast** at a pixel = ΔE*ab (CIE76, D65) between the photo with the pigment and
  the clean input photo, both in linear light blurred to the physician's scale
  (Gaussian of FWHM 0.02 IOD), then converted to CIELAB; divided by 2.3 (1 JND). It is
  measured on the subject's own skin in the clean photo, before any confounder, so
  it is exact, not assumed.
- **Involved** = visible skin with contrast ≥ 1 JND (``truth_mask``). Visible skin is
  the phantom's skin mask: the face outline raised to the hairline, less eyes,
  brows, upper lids, lips, nostrils, hair-coloured and burnt-out (≥ 250) pixels.
- Per region (``forehead``, ``right_malar``, ``left_malar``, ``chin``; patient's sides;
  template ``masi-regions-v1`` less the phantom's non-skin): area % of visible
  skin and area score A; darkness = median contrast over involved skin and grade D
  (1 / 2 / 3.5 / 5.5 JND); pattern size = area-weighted mean equivalent-circle
  diameter of the patches (components of the involved skin closed by 0.03 IOD, within
  the region) and grade H (0.08 / 0.28 / 0.6 IOD); MASI and mMASI by
  :func:`pigmentscan.scoring.masi` and :func:`~pigmentscan.scoring.mmasi`.
- Erythema, lighting and retakes add no involvement: the truth of a flushed,
  relit or retaken face is its pigment's. A retake's truth maps move with its pixels;
  a mirrored face's truth is the flipped maps with right and left regions swapped.

Examples
--------
>>> from pigmentscan.simulation import simulate_melasma, add_erythema, relight, retake
>>> # face = simulate_melasma("face.jpg", seed=3, pattern="malar", darkness_jnd=2.0,
>>> #                         texture="reticulated", involvement=0.9)
>>> # face.truth["right_malar"]["area_pct"], face.masi, add_erythema(face, strength=8).truth == face.truth
"""

from .confounders import ERYTHEMA_KINDS, LIGHT_KINDS, add_erythema, erythema_amount, relight
from .design import LesionDesign
from .fields import PATTERNS, TEXTURES
from .melasma import PIGMENTS, LesionParams, SimulatedFace, draw_case, draw_params, mirror, simulate_melasma
from .retake import RetakeParams, draw_retake, retake
from .spectra import PigmentDirections, SkinOptics, pigment_directions
from .truth import RegionTruth, contrast_jnd, region_truth

__all__ = [
    "PATTERNS", "TEXTURES", "PIGMENTS", "ERYTHEMA_KINDS", "LIGHT_KINDS",
    "simulate_melasma", "draw_case", "draw_params", "mirror", "add_erythema", "erythema_amount", "relight", "retake",
    "draw_retake", "SimulatedFace", "LesionParams", "LesionDesign", "RetakeParams", "RegionTruth", "SkinOptics",
    "PigmentDirections", "pigment_directions", "contrast_jnd", "region_truth",
]
