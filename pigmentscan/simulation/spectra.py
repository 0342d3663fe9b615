"""Pigment colours from spectra: melanin, dermal melanin and haemoglobin as seen by an sRGB camera.

The phantom never picks a pigment colour by hand. It derives, for each face, the
change of linear sRGB that a little of each pigment makes on *that* face's skin:

1. **Absorbers.** Melanin absorbs as µa ∝ λ^−3.48 (melanosome interior, Jacques
   1998); haemoglobin as Prahl's tabulated molar extinction of oxy- and
   deoxy-haemoglobin (Soret band ~415 nm, Q bands 542/576 nm), µa = ln10·ε·150/64 500
   cm⁻¹ for whole blood (Prahl 1999).
2. **Skin.** A two-layer skin: an epidermis of 60 µm holding a melanosome volume
   fraction, over a dermis of blood (0.2 %, 70 % saturated) plus bloodless tissue
   (baseline µa, Jacques 1998) with the average skin reduced scattering of Jacques
   2013. Its remittance is epidermal double-pass transmission × the diffuse
   reflectance of a semi-infinite dermis (Farrell 1992). The two pigment amounts and
   an exposure gain are fitted to the face's median skin colour.
3. **Depth.** Light remitted at a wavelength has visited depth z with a weight
   ∝ exp(−2·µeff·z) (diffusion theory: fluence × adjoint fluence, µeff =
   √(3µa(µa+µs'))). Short wavelengths penetrate least, so pigment deep in the dermis
   absorbs little of the remitted blue: its effective spectrum is flatter than
   melanin's own and it looks grey-blue and fainter (the Tyndall-like appearance of
   dermal melanosis). Epidermal melanin (above the dermis) is weighted 1: brown.
4. **Camera.** A pigment layer of spectral optical density a·ΔOD(λ) multiplies the
   remitted spectrum by exp(−a·ΔOD(λ)). The linear sRGB of both spectra under D65
   (CIE 1931 2° observer, IEC 61966-2-1 matrix) gives a per-channel optical density
   K_c = −ln(ρ_c)/a: the direction painted into the photo, in linear light.

The result is a brown epidermal direction (OD blue > green > red), a flatter dermal
direction, and a haemoglobin direction dominated by green (a* rises).

References
----------
.. [1] Jacques SL. Melanosome absorption coefficient; Skin optics summary. Oregon
       Medical Laser Center News, 1998 (https://omlc.org/spectra/melanin/mua.html).
.. [2] Prahl SA. Tabulated molar extinction coefficient for hemoglobin in water. OMLC, 1999.
.. [3] Jacques SL. Optical properties of biological tissues: a review. Phys Med Biol
       2013;58:R37-R61 (Table 2: skin µs' = 46.0 (λ/500 nm)^−1.421 cm⁻¹).
.. [4] Farrell TJ, Patterson MS, Wilson B. A diffusion theory model of spatially resolved,
       steady-state diffuse reflectance. Med Phys 1992;19:879-888.
.. [5] Groenhuis RAJ, Ferwerda HA, Ten Bosch JJ. Scattering and absorption of turbid
       materials determined from reflection measurements. Appl Opt 1983;22:2456-2462
       (internal reflection r_id of a matched boundary).
.. [6] Tsumura N et al. Image-based skin color and texture analysis/synthesis by extracting
       hemoglobin and melanin information in the skin. ACM Trans Graph 2003;22:770-779.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import least_squares

from .. import colour
from .spectral_data import CIE1931_XYZ, D65_SPD, HB_EPSILON, HBO2_EPSILON, WAVELENGTHS_NM

__all__ = [
    "SkinOptics",
    "PigmentDirections",
    "melanin_mua",
    "blood_mua",
    "baseline_mua",
    "dermis_reduced_scattering",
    "diffuse_reflectance",
    "skin_reflectance",
    "depth_weight",
    "spectrum_to_linear_rgb",
    "channel_od",
    "fit_skin",
    "pigment_directions",
    "illuminant_gains",
]

# Jacques 1998 (OMLC): melanosome interior µa = 1.70e12 · λ[nm]^-3.48 cm⁻¹ (skin).
_MELANOSOME_SCALE, _MELANIN_EXPONENT = 1.70e12, 3.48
# Prahl 1999: whole blood 150 g/L haemoglobin, 64 500 g/mol; µa = ln(10)·ε·c.
_HB_G_PER_L, _HB_G_PER_MOL = 150.0, 64500.0
# Jacques 1998 skin optics summary: bloodless tissue µa = 0.244 + 85.3·exp(-(λ-154)/66.2) cm⁻¹.
_BASE_A, _BASE_B, _BASE_L0, _BASE_W = 0.244, 85.3, 154.0, 66.2
# Jacques 2013, Table 2 (skin, µs' = a (λ/500 nm)^-b): a = 46.0 cm⁻¹, b = 1.421.
_MUSP_500, _MUSP_EXPONENT = 46.0, 1.421
# Amount (OD at 500 nm) at which a channel's effective OD is evaluated: a mid-size lesion.
_REFERENCE_AMOUNT = 0.3


@dataclass(frozen=True)
class SkinOptics:
    """The skin model's structural parameters (sources in the comments).

    Attributes
    ----------
    epidermis_mm : float
        Epidermal thickness (Jacques 2013, Table 3: 60 µm epidermis).
    blood_saturation : float
        Oxygen saturation of dermal blood (parameter: capillary blood, between
        arterial ~0.97 and venous ~0.6).
    refractive_index : float
        Of the dermis, for the boundary term of the diffuse reflectance (parameter;
        soft tissue 1.37-1.45, Jacques 2013).
    dermal_melanin_depth_mm : float
        Depth of dermal melanophages below the skin surface (parameter: papillary to
        upper reticular dermis).
    vessel_depth_mm : float
        Depth of the superficial vascular plexus that dilates in a flush (the upper
        blood net of the dermis at 0.2-0.28 mm, Meglinski & Matcher 2002).
    flush_saturation : float
        Oxygen saturation of the extra blood of a flush (parameter: vasodilation
        brings arterialised blood).
    surface_reflectance : float
        Spectrally flat reflection of the skin surface, not affected by pigment
        (Fresnel reflection of the stratum corneum, n ≈ 1.5: ((n−1)/(n+1))² ≈ 0.04;
        Anderson & Parrish 1981 report 4-7 % regular reflectance).
    """

    epidermis_mm: float = 0.06
    blood_saturation: float = 0.7
    refractive_index: float = 1.4
    dermal_melanin_depth_mm: float = 0.35
    vessel_depth_mm: float = 0.25
    flush_saturation: float = 0.8
    surface_reflectance: float = 0.04

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PigmentDirections:
    """Per-channel optical density (−ln linear sRGB) of one unit of each pigment on one face.

    Attributes
    ----------
    epidermal, dermal, haemoglobin : tuple of float
        (R, G, B) optical density per unit amount, where a unit is the pigment layer's
        optical density at 500 nm in remitted light.
    skin_melanin_fraction, skin_blood_fraction, skin_gain : float
        The skin model fitted to the face's median skin colour.
    """

    epidermal: tuple
    dermal: tuple
    haemoglobin: tuple
    skin_melanin_fraction: float
    skin_blood_fraction: float
    skin_gain: float

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def melanin_mua(wavelength_nm=WAVELENGTHS_NM) -> np.ndarray:
    """Melanosome-interior absorption coefficient, cm⁻¹ (Jacques 1998: 1.70e12·λ^−3.48).

    Examples
    --------
    >>> round(float(melanin_mua(np.array([400.0]))[0] / melanin_mua(np.array([700.0]))[0]), 2)  # (700/400)^3.48
    7.01
    """
    return _MELANOSOME_SCALE * np.asarray(wavelength_nm, float) ** -_MELANIN_EXPONENT


def blood_mua(saturation: float) -> np.ndarray:
    """Whole-blood absorption coefficient on :data:`WAVELENGTHS_NM`, cm⁻¹ (Prahl 1999)."""
    epsilon = saturation * HBO2_EPSILON + (1.0 - saturation) * HB_EPSILON
    return np.log(10.0) * epsilon * _HB_G_PER_L / _HB_G_PER_MOL


def baseline_mua(wavelength_nm=WAVELENGTHS_NM) -> np.ndarray:
    """Absorption of bloodless skin tissue, cm⁻¹ (Jacques 1998)."""
    return _BASE_A + _BASE_B * np.exp(-(np.asarray(wavelength_nm, float) - _BASE_L0) / _BASE_W)


def dermis_reduced_scattering(wavelength_nm=WAVELENGTHS_NM) -> np.ndarray:
    """Reduced scattering coefficient µs' of skin, cm⁻¹ (Jacques 2013, Table 2)."""
    return _MUSP_500 * (np.asarray(wavelength_nm, float) / 500.0) ** -_MUSP_EXPONENT


def diffuse_reflectance(mua, musp, refractive_index: float = 1.4) -> np.ndarray:
    """Total diffuse reflectance of a semi-infinite turbid medium (Farrell et al. 1992).

    R = (a'/2)·(1 + exp(−(4/3)·A·√(3(1−a'))))·exp(−√(3(1−a'))), with a' = µs'/(µa+µs')
    and A = (1+r_id)/(1−r_id), r_id = −1.440/n² + 0.710/n + 0.668 + 0.0636·n
    (Groenhuis 1983).

    Examples
    --------
    >>> bool(diffuse_reflectance(0.1, 20.0) > diffuse_reflectance(1.0, 20.0))
    True
    """
    mua, musp = np.asarray(mua, float), np.asarray(musp, float)
    n = refractive_index
    r_id = -1.440 / n**2 + 0.710 / n + 0.668 + 0.0636 * n
    big_a = (1.0 + r_id) / (1.0 - r_id)
    albedo = musp / (mua + musp)
    root = np.sqrt(3.0 * (1.0 - albedo))
    return albedo / 2.0 * (1.0 + np.exp(-4.0 / 3.0 * big_a * root)) * np.exp(-root)


def _dermis_mua(blood_fraction: float, optics: SkinOptics) -> np.ndarray:
    return blood_fraction * blood_mua(optics.blood_saturation) + (1.0 - blood_fraction) * baseline_mua()


def skin_reflectance(melanin_fraction: float, blood_fraction: float, optics: SkinOptics = SkinOptics()) -> np.ndarray:
    """Remittance spectrum of the two-layer skin on :data:`WAVELENGTHS_NM`.

    Parameters
    ----------
    melanin_fraction : float
        Melanosome volume fraction of the epidermis (Jacques 1998: ~0.01-0.06 light,
        0.11-0.16 medium, 0.18-0.43 dark skin).
    blood_fraction : float
        Blood volume fraction of the dermis (Jacques 1998: ~0.002 on average).
    optics : SkinOptics

    Returns
    -------
    numpy.ndarray, shape (41,)
        Surface reflection + (1 − surface) × epidermal double-pass transmission ×
        dermal diffuse reflectance.
    """
    epidermis_mua = melanin_fraction * melanin_mua() + (1.0 - melanin_fraction) * baseline_mua()
    transmission = np.exp(-2.0 * epidermis_mua * optics.epidermis_mm / 10.0)  # down and back up
    dermis = diffuse_reflectance(_dermis_mua(blood_fraction, optics), dermis_reduced_scattering(),
                                 optics.refractive_index)
    surface = optics.surface_reflectance
    return surface + (1.0 - surface) * transmission * dermis


def depth_weight(depth_mm: float, blood_fraction: float = 0.002, optics: SkinOptics = SkinOptics()) -> np.ndarray:
    """Relative weight of an absorber at ``depth_mm`` in remitted light, per wavelength.

    In diffusion theory the sensitivity of the remittance to absorption at depth z
    in the dermis falls as exp(−2·µeff·z) (fluence × adjoint fluence), with
    µeff = √(3µa(µa+µs')). Absorbers in the epidermis (depth ≤ its thickness)
    weigh 1 at every wavelength.
    """
    below = max(depth_mm - optics.epidermis_mm, 0.0) / 10.0  # cm
    mua = _dermis_mua(blood_fraction, optics)
    mu_eff = np.sqrt(3.0 * mua * (mua + dermis_reduced_scattering()))
    return np.exp(-2.0 * mu_eff * below)


def _white_rgb() -> np.ndarray:
    xyz = D65_SPD @ CIE1931_XYZ
    return np.linalg.solve(colour.SRGB_TO_XYZ, xyz / xyz[1])


def spectrum_to_linear_rgb(reflectance, illuminant=D65_SPD) -> np.ndarray:
    """Linear sRGB of a reflectance spectrum under ``illuminant``, white (under D65) = (1, 1, 1).

    CIE 1931 2° XYZ of the reflected light (normalised so that the perfect white
    under D65 has Y = 1), the IEC 61966-2-1 matrix to linear sRGB, and a final
    per-channel scaling so that the tabulated D65 white maps exactly to (1, 1, 1).

    Examples
    --------
    >>> np.round(spectrum_to_linear_rgb(np.ones(41)), 6).tolist()
    [1.0, 1.0, 1.0]
    """
    spectra = np.asarray(reflectance, float) * np.asarray(illuminant, float)
    xyz = spectra @ CIE1931_XYZ / (D65_SPD @ CIE1931_XYZ)[1]
    return np.linalg.solve(colour.SRGB_TO_XYZ, xyz.T).T / _white_rgb()


def channel_od(delta_od, reflectance, amount: float = _REFERENCE_AMOUNT, surface: float = 0.0) -> np.ndarray:
    """Effective linear-sRGB optical density per unit of a pigment layer on a skin spectrum.

    Parameters
    ----------
    delta_od : array_like, shape (41,)
        Spectral optical density of one unit of the layer (in remitted light).
    reflectance : array_like, shape (41,)
        The skin without the layer.
    surface : float
        Flat surface reflection included in ``reflectance``, which the layer does not attenuate.
    amount : float
        Units at which the (slightly amount-dependent) channel OD is evaluated.

    Returns
    -------
    numpy.ndarray, shape (3,)
        −ln(channel with layer / channel without) / amount, for R, G, B.
    """
    before = spectrum_to_linear_rgb(reflectance)
    remitted = np.asarray(reflectance, float) - surface
    after = spectrum_to_linear_rgb(surface + remitted * np.exp(-amount * np.asarray(delta_od, float)))
    return -np.log(np.maximum(after, 1e-9) / np.maximum(before, 1e-9)) / amount


def fit_skin(linear_rgb, optics: SkinOptics = SkinOptics()) -> tuple[float, float, float]:
    """Fit the skin model's melanin and blood fractions and an exposure gain to a skin colour.

    Parameters
    ----------
    linear_rgb : array_like, shape (3,)
        The face's typical skin colour, linear sRGB.

    Returns
    -------
    melanin_fraction, blood_fraction, gain : float
        Bounded least squares in log RGB (three unknowns, three channels); a colour
        the model cannot reach (a strong white-balance cast) gets the nearest fit.

    Examples
    --------
    >>> rgb = 0.8 * spectrum_to_linear_rgb(skin_reflectance(0.05, 0.004))
    >>> [round(v, 3) for v in fit_skin(rgb)]
    [0.05, 0.004, 0.8]
    """
    target = np.log(np.maximum(np.asarray(linear_rgb, float), 1e-4))

    def residual(p):
        model = spectrum_to_linear_rgb(skin_reflectance(p[0], np.exp(p[1]), optics))
        return np.log(np.maximum(model, 1e-6)) + p[2] - target

    fit = least_squares(residual, x0=[0.05, np.log(0.004), 0.0],
                        bounds=([0.002, np.log(2e-4), -6.0], [0.6, np.log(0.1), 3.0]), xtol=1e-12, ftol=1e-12)
    return float(fit.x[0]), float(np.exp(fit.x[1])), float(np.exp(fit.x[2]))


def pigment_directions(skin_linear_rgb, optics: SkinOptics = SkinOptics()) -> PigmentDirections:
    """The three pigment directions (linear-sRGB OD per unit) on the skin of one face.

    Parameters
    ----------
    skin_linear_rgb : array_like, shape (3,)
        The face's typical skin colour in linear sRGB (e.g. the median of its cheeks).
    optics : SkinOptics

    Returns
    -------
    PigmentDirections
        ``epidermal``: melanin at the epidermal base (weight 1 at every wavelength);
        ``dermal``: melanin at ``optics.dermal_melanin_depth_mm``; ``haemoglobin``:
        blood of ``optics.flush_saturation`` at ``optics.vessel_depth_mm``. Each
        unit is an optical density of 1 at 500 nm before the depth weighting.

    Examples
    --------
    >>> d = pigment_directions([0.45, 0.30, 0.22])
    >>> d.epidermal[2] > d.epidermal[1] > d.epidermal[0]  # melanin: OD blue > green > red
    True
    >>> d.haemoglobin[1] > max(d.haemoglobin[0], d.haemoglobin[2])  # blood: green absorbed most
    True
    """
    melanin_fraction, blood_fraction, gain = fit_skin(skin_linear_rgb, optics)
    skin = skin_reflectance(melanin_fraction, blood_fraction, optics)
    i500 = int(np.argmin(np.abs(WAVELENGTHS_NM - 500.0)))
    melanin = melanin_mua() / melanin_mua()[i500]
    blood = blood_mua(optics.flush_saturation)
    blood = blood / blood[i500]
    dermal = melanin * depth_weight(optics.dermal_melanin_depth_mm, blood_fraction, optics)
    vessels = blood * depth_weight(optics.vessel_depth_mm, blood_fraction, optics)
    return PigmentDirections(
        epidermal=tuple(float(v) for v in channel_od(melanin, skin, surface=optics.surface_reflectance)),
        dermal=tuple(float(v) for v in channel_od(dermal, skin, surface=optics.surface_reflectance)),
        haemoglobin=tuple(float(v) for v in channel_od(vessels, skin, surface=optics.surface_reflectance)),
        skin_melanin_fraction=melanin_fraction,
        skin_blood_fraction=blood_fraction,
        skin_gain=gain,
    )


def illuminant_gains(cct_k: float) -> np.ndarray:
    """Per-channel gains of a scene lit by a Planckian radiator, photographed with daylight white balance.

    The linear sRGB of a perfect white under a blackbody of temperature ``cct_k``
    (Planck's law, c2 = 1.4388e-2 m·K) relative to its value under D65, scaled so
    that green is 1 (exposure unchanged). A von Kries-type, per-channel cast.

    Examples
    --------
    >>> g = illuminant_gains(2856.0)  # CIE illuminant A, a tungsten lamp
    >>> bool(g[0] > 1.0 > g[2])
    True
    """
    wavelength_m = WAVELENGTHS_NM * 1e-9
    spd = wavelength_m**-5 / np.expm1(1.4388e-2 / (wavelength_m * float(cct_k)))  # Planck, CIE 015 c2
    rgb = spectrum_to_linear_rgb(np.ones_like(spd), illuminant=spd / spd.max())
    return rgb / rgb[1]
