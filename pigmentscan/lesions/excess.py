"""Step 2 of the lesion stage: how much pigment each pixel has above its expected normal skin, in JND.

The melanin reading of a pixel (OD along the melanin direction, :mod:`pigmentscan.colour`)
minus the face's expectation there (:mod:`~pigmentscan.lesions.expectation`) is the melanin the
pixel has beyond normal skin. What a physician sees of it depends on the skin it lies on: the same
melanin is fewer just-noticeable differences on dark skin than on light. So the excess is
expressed as the ΔE*ab that this much melanin adds to this face's normal skin, in JND
(docs/grading_scale.md): :func:`jnd_per_melanin` for the small excesses that decide detection,
:func:`melanin_to_jnd` (the full, saturating curve) for a lesion's darkness.
"""

from __future__ import annotations

import numpy as np

from .. import colour

__all__ = ["jnd_per_melanin", "melanin_to_jnd", "melanin_for_jnd"]

#: Melanin step (OD) of the slope of :func:`jnd_per_melanin` (parameter: small against a lesion,
#: large against rounding).
_SLOPE_STEP_OD = 0.05
#: Melanin amounts (OD) tabulated for :func:`melanin_to_jnd`; past the last, ΔE is taken as constant.
_TABLE_OD = np.linspace(0.0, 4.0, 161)


def jnd_per_melanin(skin_linear_rgb, melanin_od_direction) -> float:
    """JND that one OD unit of melanin adds to a skin colour, for small amounts (its slope at 0).

    Examples
    --------
    >>> light = colour.srgb_to_linear(np.array([0.85, 0.65, 0.55]))
    >>> dark = colour.srgb_to_linear(np.array([0.35, 0.22, 0.15]))
    >>> bool(jnd_per_melanin(light, (0.3, 0.5, 0.8)) > jnd_per_melanin(dark, (0.3, 0.5, 0.8)))
    True
    """
    delta_e = colour.melanin_delta_e(skin_linear_rgb, [_SLOPE_STEP_OD], melanin_od_direction)[0]
    return float(delta_e / colour.JND_DELTA_E / _SLOPE_STEP_OD)


def melanin_to_jnd(amount_od, skin_linear_rgb, melanin_od_direction) -> np.ndarray:
    """Contrast in JND of melanin amounts added to a skin colour (negative amounts give 0).

    Examples
    --------
    >>> skin = colour.srgb_to_linear(np.array([0.85, 0.65, 0.55]))
    >>> jnd = melanin_to_jnd(np.array([-0.1, 0.0, 0.3, 3.0]), skin, (0.3, 0.5, 0.8))
    >>> bool(jnd[0] == 0 and jnd[1] == 0 and 0 < jnd[2] < jnd[3])
    True
    """
    table = colour.melanin_delta_e(skin_linear_rgb, _TABLE_OD, melanin_od_direction) / colour.JND_DELTA_E
    return np.interp(np.maximum(np.asarray(amount_od, float), 0.0), _TABLE_OD, table)


def melanin_for_jnd(contrast_jnd: float, skin_linear_rgb, melanin_od_direction) -> float:
    """Melanin (OD) that makes ``contrast_jnd`` on a skin colour: the inverse of :func:`melanin_to_jnd`.

    Infinite where no amount tabulated reaches that contrast.

    Examples
    --------
    >>> skin = colour.srgb_to_linear(np.array([0.85, 0.65, 0.55]))
    >>> amount = melanin_for_jnd(3.0, skin, (0.3, 0.5, 0.8))
    >>> round(float(melanin_to_jnd(amount, skin, (0.3, 0.5, 0.8))), 3)
    3.0
    """
    table = colour.melanin_delta_e(skin_linear_rgb, _TABLE_OD, melanin_od_direction) / colour.JND_DELTA_E
    table = np.maximum.accumulate(table)  # monotone for the inverse
    if contrast_jnd > table[-1]:
        return float("inf")
    return float(np.interp(contrast_jnd, table, _TABLE_OD))
