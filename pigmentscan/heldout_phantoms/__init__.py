"""Held-out melasma phantoms: an independent ground-truth generator (the third phantom family).

Written clean-room from the domain facts (MASI.md) and the grading scale
(docs/grading_scale.md), without pigmentscan's other phantom or simulation code and without
running its scorer, so that the lesion measure can be tested on data it was never fitted or
tuned to. See docs/heldout_phantoms.md.

It paints melasma on a real clean face photo (the clinical patterns, confluent to patchy,
geographic borders, blotchy / speckled / reticulated texture, brown epidermal to grey-blue
dermal pigment from a Beer-Lambert skin-optics model, :mod:`.colour_model`) and measures its
truth on the grading scale (:mod:`.truth`): per pixel, the ΔE*ab between the painted and the
clean photo at the physician's viewing scale, in JND (2.3); involved = visible skin at
≥ 1 JND; per region the area %, A, darkness and D, pattern size and H; MASI and mMASI.

Confounders that add no involvement: :func:`add_flush` (erythema), :func:`retake` (the same
skin photographed again), :func:`mirror` (a left-right flipped photo).

Examples
--------
>>> from pigmentscan.heldout_phantoms import draw_case, add_flush, retake, mirror  # doctest: +SKIP
>>> case = draw_case(rgb, seed=7)                                                 # doctest: +SKIP
>>> case.masi, case.regions["right_malar"]["area_pct"]                             # doctest: +SKIP
"""

from .case import PATTERNS, PIGMENT_KINDS, HeldoutCase, draw_case, draw_parameters
from .confounders import FLUSH_KINDS, add_flush, mirror, retake
from .fields import TEXTURES

__all__ = [
    "HeldoutCase",
    "draw_case",
    "draw_parameters",
    "add_flush",
    "retake",
    "mirror",
    "PATTERNS",
    "PIGMENT_KINDS",
    "TEXTURES",
    "FLUSH_KINDS",
]
