"""How pigment changes a skin colour: a two-layer Beer-Lambert model in camera optical density.

The held-out phantoms' own colour model, derived here from published optical properties of
skin (not fitted to any photo and not taken from pigmentscan's measure).

Model
-----
A photo's linear RGB value of skin is light that entered the skin, was scattered and came
back. An absorber added to the skin multiplies each channel by ``exp(-OD_c)`` (Beer-Lambert;
MASI.md: in optical density melanin and haemoglobin add linearly, Tsumura 1999/2003). For an
amount ``a`` (OD along a unit direction ``u``)::

    linear_out = linear_clean * exp(-a * u)        (per channel c: exp(-a * u_c))

The direction ``u`` of each pigment is built from two published curves, evaluated at an
effective wavelength per sRGB camera channel (:data:`CHANNEL_NM`, R 605, G 540, B 460 nm):

* its absorption spectrum ``mu(lambda)``;
* for an absorber lying at depth ``d`` below the surface, the share of the returning light
  that has visited that depth, ``exp(-2 d / delta(lambda))``, with ``delta`` the 1/e
  penetration depth of light into skin (:data:`PENETRATION_MM`). Short wavelengths come back
  from shallow layers, so a deep absorber darkens red and green more than blue.

``u_c ∝ mu(lambda_c) * exp(-2 d / delta(lambda_c))``, normalised to unit length.

Pigments
--------
* **Epidermal melanin** (brown): ``mu ∝ lambda^-3.33`` (Jacques 2013; MASI.md quotes
  lambda^-3.5, which gives nearly the same direction), in the basal layer at the bottom of
  the epidermis (``d = 0.05 mm``, the thin facial epidermis): OD grows towards blue
  (B > G > R), the skin turns darker and browner. With ``d = 0`` (all remitted blue crossing
  the basal layer) the colour shift came out as yellow as a self-tanner (ΔL*:Δb* about
  -1.3:1 on light skin); at 0.05 mm it is about -2.7:1, like the step from light to
  intermediate constitutive skin in Chardon's ITA bands (L* -10, b* +3).
* **Dermal melanin** (grey-blue, melanophages in the papillary dermis, ``d = 0.2 mm``): the same
  absorber seen through the scattering dermis; the blue that the dermis sends back before
  reaching the pigment is spared (the Tyndall effect), so the direction leans to red
  (R > G > B): a grey-blue, ashen darkening (light skin at 3 JND: ΔL* -6, Δa* -1.9, Δb* -2.8).
  A given melanin mass gives less OD there (the factors exp(-2d/delta) < 1); the directions
  here are unit vectors, so the phantoms make dermal pigment "less contrasted" (MASI.md) by
  drawing its darkness lower (:func:`~pigmentscan.heldout_phantoms.case.draw_parameters`).
* **Haemoglobin** (erythema, a confounder): oxy/deoxy-haemoglobin at 70 % saturation in the
  superficial dermal plexus (``d = 0.2 mm``), molar extinction after Prahl (omlc.org): strong
  green absorption, so a* rises.

Sheen
-----
Light reflected at the surface (sheen, the highlights on a forehead or a nose) never meets
the pigment. :func:`sheen` splits it off before the absorber is applied, after the
dichromatic reflection model (Shafer 1985): a pixel is ``lambda * skin_chromaticity + s``
(white surface reflection ``s``), solved by least squares; ``s`` counts only where the pixel
is brighter than the face's typical skin, so shading (which lowers chroma too) is not taken
for sheen.

References
----------
.. [0] Shafer SA. Using color to separate reflection components. Color Res Appl
       1985;10:210-218.
.. [1] Jacques SL. Optical properties of biological tissues: a review. Phys Med Biol
       2013;58:R37-R61 (melanin mu_a = 6.6e11 lambda^-3.33 cm^-1; skin penetration).
.. [2] Anderson RR, Parrish JA. The optics of human skin. J Invest Dermatol 1981;77:13-19
       (penetration depth of light into skin by wavelength).
.. [3] Prahl S. Tabulated molar extinction coefficient for hemoglobin in water. omlc.org, 1999.
.. [4] Tsumura N et al. J Opt Soc Am A 1999;16:2169-76; ACM Trans Graph 2003;22:770-9.
"""

from __future__ import annotations

import numpy as np

from ..colour import JND_DELTA_E, linear_rgb_to_xyz, xyz_to_lab

__all__ = [
    "CHANNEL_NM",
    "PENETRATION_MM",
    "pigment_direction",
    "EPIDERMAL_MELANIN",
    "DERMAL_MELANIN",
    "HAEMOGLOBIN",
    "mixed_direction",
    "apply_absorber",
    "delta_e_of_amount",
    "amount_for_contrast",
    "sheen",
]

#: Effective wavelength of each sRGB camera channel (R, G, B), nm: the peak of a typical
#: colour-filter-array channel response (a simplification of integrating over the band).
CHANNEL_NM = np.array([605.0, 540.0, 460.0])
#: 1/e penetration depth of light into fair skin at those wavelengths, mm (Anderson & Parrish
#: 1981, read from their figure; Jacques 2013 gives similar values).
PENETRATION_MM = np.array([1.2, 0.45, 0.25])

# Prahl's molar extinction (cm^-1/M), oxy and deoxy haemoglobin, at CHANNEL_NM. The red value
# is raised above the single 605-nm figure (HbO2 ~1900, Hb ~9000) because a camera's red
# channel reaches down to ~575 nm where haemoglobin absorbs strongly.
_HBO2 = np.array([6000.0, 53236.0, 44480.0])
_HB = np.array([14000.0, 46592.0, 16156.0])
_SATURATION = 0.7
_MELANIN_EXPONENT = 3.33
_BASAL_DEPTH_MM = 0.05
_DERMAL_DEPTH_MM = 0.2
_VASCULAR_DEPTH_MM = 0.2


def pigment_direction(absorption, depth_mm: float) -> np.ndarray:
    """Unit OD direction (R, G, B) of an absorber with the given channel absorption at a depth.

    Parameters
    ----------
    absorption : array_like, shape (3,)
        Relative absorption of the pigment at :data:`CHANNEL_NM`.
    depth_mm : float
        Depth of the absorber below the surface; 0 for the epidermis.

    Returns
    -------
    numpy.ndarray, shape (3,)
        Unit vector ``absorption * exp(-2 depth / PENETRATION_MM)``, normalised.

    Examples
    --------
    >>> np.round(pigment_direction([1.0, 1.0, 1.0], 0.0), 3).tolist()
    [0.577, 0.577, 0.577]
    """
    raw = np.asarray(absorption, float) * np.exp(-2.0 * depth_mm / PENETRATION_MM)
    return raw / np.linalg.norm(raw)


_MELANIN_ABS = (CHANNEL_NM / 500.0) ** -_MELANIN_EXPONENT
#: Epidermal (basal-layer) melanin: B > G > R, brown.
EPIDERMAL_MELANIN = pigment_direction(_MELANIN_ABS, _BASAL_DEPTH_MM)
#: Dermal melanin (melanophages 0.2 mm deep): R > G > B, a grey-blue darkening.
DERMAL_MELANIN = pigment_direction(_MELANIN_ABS, _DERMAL_DEPTH_MM)
#: Haemoglobin of the superficial plexus, 70 % oxygenated: green-dominated, red (a* up).
HAEMOGLOBIN = pigment_direction(_SATURATION * _HBO2 + (1 - _SATURATION) * _HB, _VASCULAR_DEPTH_MM)


def mixed_direction(dermal_fraction: float) -> np.ndarray:
    """Unit OD direction of a mixed lesion: a share of its melanin dermal, the rest epidermal.

    The two melanin layers add in OD (Beer-Lambert), so the mixture is the weighted sum of
    the two unit directions, renormalised.

    Examples
    --------
    >>> bool(np.allclose(mixed_direction(0.0), EPIDERMAL_MELANIN))
    True
    """
    f = float(np.clip(dermal_fraction, 0.0, 1.0))
    raw = (1.0 - f) * EPIDERMAL_MELANIN + f * DERMAL_MELANIN
    return raw / np.linalg.norm(raw)


def apply_absorber(linear, amount, direction) -> np.ndarray:
    """Add an absorber to linear-light pixels: ``linear * exp(-amount * direction)``.

    Parameters
    ----------
    linear : numpy.ndarray, shape (..., 3)
        Linear sRGB in [0, 1].
    amount : numpy.ndarray or float, shape (...)
        OD along ``direction`` per pixel (0: no pigment).
    direction : array_like, shape (3,)
        Unit OD direction.

    Returns
    -------
    numpy.ndarray, float32, the shape of ``linear``.

    Examples
    --------
    >>> out = apply_absorber(np.full((1, 3), 0.5), np.array([1.0]), [0.0, 0.0, 1.0])
    >>> [round(float(v), 3) for v in out[0]]
    [0.5, 0.5, 0.184]
    """
    amount = np.asarray(amount, np.float32)[..., None]
    factor = np.exp(-amount * np.asarray(direction, np.float32))
    return (np.asarray(linear, np.float32) * factor).astype(np.float32)


def delta_e_of_amount(linear_rgb, amounts, direction) -> np.ndarray:
    """CIE76 ΔE*ab between a skin colour and the same colour with each absorber amount added.

    Examples
    --------
    >>> skin = np.array([0.5, 0.3, 0.2])
    >>> de = delta_e_of_amount(skin, [0.0, 0.1, 0.2], EPIDERMAL_MELANIN)
    >>> bool(de[0] == 0 and 0 < de[1] < de[2])
    True
    """
    base = np.asarray(linear_rgb, float).reshape(3)
    amounts = np.asarray(amounts, float)
    darker = base * np.exp(-amounts[..., None] * np.asarray(direction, float))
    lab = xyz_to_lab(linear_rgb_to_xyz(darker))
    return np.linalg.norm(lab - xyz_to_lab(linear_rgb_to_xyz(base)), axis=-1)


def amount_for_contrast(linear_rgb, contrast_jnd: float, direction, *, max_amount: float = 2.5) -> float:
    """The absorber amount (OD) that gives a skin colour the requested contrast, in JND.

    Solved by bisection (ΔE grows monotonically with the amount); capped at ``max_amount``.

    Examples
    --------
    >>> skin = np.array([0.5, 0.3, 0.2])
    >>> a = amount_for_contrast(skin, 2.0, EPIDERMAL_MELANIN)
    >>> round(float(delta_e_of_amount(skin, a, EPIDERMAL_MELANIN)) / JND_DELTA_E, 3)
    2.0
    """
    target = float(contrast_jnd) * JND_DELTA_E
    low, high = 0.0, float(max_amount)
    if delta_e_of_amount(linear_rgb, high, direction) <= target:
        return high
    for _ in range(50):
        mid = 0.5 * (low + high)
        if delta_e_of_amount(linear_rgb, mid, direction) < target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def sheen(linear, skin_linear, *, blur_px: float = 3.0) -> np.ndarray:
    """Surface (white) reflection per pixel, linear units, to be spared by absorbers.

    Parameters
    ----------
    linear : numpy.ndarray, shape (H, W, 3)
        Linear sRGB of the photo.
    skin_linear : array_like, shape (3,)
        The face's typical skin colour (linear sRGB), whose chromaticity is the diffuse colour.
    blur_px : float
        Gaussian sigma applied before the split (sheen is smooth; pores and noise are not sheen).

    Returns
    -------
    numpy.ndarray, float32 (H, W), ``0 <= s <= min channel``.

    Examples
    --------
    >>> skin = np.array([0.4, 0.25, 0.15])
    >>> img = np.tile(skin, (4, 4, 1)).astype(np.float32); img[:2] += 0.2
    >>> s = sheen(img, skin, blur_px=0)
    >>> round(float(s[0, 0]), 2), round(float(s[3, 3]), 2)  # 0.2 less the 5 % tolerance of the diffuse part
    (0.16, 0.0)
    """
    import cv2

    linear = np.asarray(linear, np.float32)
    skin = np.asarray(skin_linear, np.float64).reshape(3)
    chroma = skin / skin.sum()
    solve = np.linalg.pinv(np.stack([chroma, np.ones(3)], axis=1)).astype(np.float32)
    smooth = cv2.GaussianBlur(linear, (0, 0), blur_px) if blur_px > 0 else linear
    amounts = smooth @ solve.T
    diffuse, surface = amounts[..., 0], amounts[..., 1]
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    brighter = np.clip(((smooth @ weights) / float(skin @ weights) - 0.9) / 0.4, 0.0, 1.0)
    s = np.maximum(surface - 0.05 * np.maximum(diffuse, 0.0), 0.0) * brighter
    return np.minimum(s, linear.min(axis=-1)).astype(np.float32)
