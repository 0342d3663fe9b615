"""Pigment physics of the phantoms: the melanin direction in optical density and darkness in JND.

See the package docstring (:mod:`pigmentscan.phantom`), "Pigment physics" and "Darkness".
"""

from __future__ import annotations

import numpy as np

from .. import colour
from ..colour import JND_DELTA_E  # noqa: F401 - part of the phantom API

#: Reference skin for the darkness bands: CIELAB (65, 12, 17), ITA 41° (Chardon 1991 boundary).
REFERENCE_SKIN_LAB = (65.0, 12.0, 17.0)
#: ΔE*ab bands of darkness grades 1-4 on the reference skin, in JND (models/default.json provenance).
DARKNESS_BANDS_JND = {1: (2.0, 3.0), 2: (3.0, 4.5), 3: (4.5, 6.0), 4: (6.0, 8.0)}


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


def greyer_direction(degrees: float, direction=MELANIN_OD_DIRECTION) -> np.ndarray:
    """A unit pigment direction turned ``degrees`` from ``direction`` towards grey (1, 1, 1).

    Stands for pigment the analyser's melanin direction does not quite match: dermal pigment
    (grey-blue, MASI.md) or another camera's colour rendering.

    Parameters
    ----------
    degrees : float
        The turn, in the plane of ``direction`` and grey; past the angle between them it goes
        beyond grey.
    direction : array_like of 3 floats
        The OD direction turned (not parallel to grey).

    Returns
    -------
    numpy.ndarray, shape (3,)
        Unit OD direction (R, G, B).

    Examples
    --------
    >>> bool(np.allclose(greyer_direction(0.0), MELANIN_OD_DIRECTION))
    True
    >>> round(float(np.degrees(np.arccos(greyer_direction(10.0) @ MELANIN_OD_DIRECTION))), 6)
    10.0
    """
    base = np.asarray(direction, float) / np.linalg.norm(direction)
    grey = np.ones(3) / np.sqrt(3)
    towards = grey - base * (grey @ base)
    towards /= np.linalg.norm(towards)
    angle = np.deg2rad(degrees)
    return np.cos(angle) * base + np.sin(angle) * towards


def melanin_for_delta_e(delta_e: float, skin_lab=REFERENCE_SKIN_LAB, direction=MELANIN_OD_DIRECTION) -> float:
    """Melanin amount (OD along the unit ``direction``, default :data:`MELANIN_OD_DIRECTION`) that adds
    ``delta_e`` ΔE*ab to a skin.

    Examples
    --------
    >>> 0.3 < melanin_for_delta_e(3 * JND_DELTA_E) < 0.7
    True
    """
    linear = colour.lab_to_linear_rgb(skin_lab)
    reference = colour.xyz_to_lab(colour.linear_rgb_to_xyz(linear))

    def added(amount):
        lab = colour.xyz_to_lab(colour.linear_rgb_to_xyz(linear * np.exp(-amount * np.asarray(direction))))
        return float(np.linalg.norm(lab - reference))

    low, high = 0.0, 5.0
    for _ in range(50):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if added(mid) < delta_e else (low, mid)
    return 0.5 * (low + high)
