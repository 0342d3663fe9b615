"""Colour science: sRGB → linear light → CIE XYZ (D65) → CIELAB, ITA°, and pigment separation.

All functions take arrays whose last axis is the colour axis and return arrays of the
same leading shape, as scikit-image's ``rgb2lab`` does.

Pigment separation follows Tsumura et al.: in optical density (OD = −ln of linear
light) melanin, haemoglobin and shading add linearly, so a pixel's OD relative to the
face's own normal skin splits exactly into a melanin amount, a haemoglobin amount and
an achromatic shading term. The shading term absorbs exposure, curvature and
side-light intensity; a per-channel camera gain (white balance) is a constant OD
offset that cancels against the same face's normal skin.

References
----------
.. [1] IEC 61966-2-1:1999, Multimedia systems and equipment - Colour measurement and
       management - Default RGB colour space - sRGB.
.. [2] CIE 015:2018, Colorimetry, 4th edition (CIELAB).
.. [3] Chardon A, Cretois I, Hourseau C. Skin colour typology and suntanning pathways.
       Int J Cosmet Sci 1991;13:191-208 (ITA°).
.. [4] Takiwaki H et al. A simple method for estimating melanin and haemoglobin indices
       from L*a*b* values. Skin Res Technol 2002;8:94-97.
.. [5] Tsumura N, Haneishi H, Miyake Y. Independent-component analysis of skin color
       image. J Opt Soc Am A 1999;16:2169-2176; Tsumura N et al. Image-based skin color
       and texture analysis/synthesis by extracting hemoglobin and melanin information in
       the skin. ACM Trans Graph (SIGGRAPH) 2003;22:770-779.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SRGB_TO_XYZ",
    "D65_WHITE_XYZ",
    "srgb_to_linear",
    "linear_to_srgb",
    "linear_rgb_to_xyz",
    "xyz_to_lab",
    "rgb_to_lab",
    "ita_deg",
    "ita_category",
    "takiwaki_delta_melanin",
    "takiwaki_delta_haemoglobin",
    "optical_density",
    "pigment_basis",
    "pigment_decomposition",
    "od_to_srgb",
    "JND_DELTA_E",
    "melanin_delta_e",
    "lab_to_linear_rgb",
    "channel_max",
]

#: Just-noticeable colour difference, ΔE*ab (MASI.md; Sharma, Digital Color Imaging Handbook 2003).
JND_DELTA_E = 2.3

# IEC 61966-2-1 (sRGB), linear RGB -> XYZ (D65), the matrix as the standard prints it.
SRGB_TO_XYZ = np.array(
    [
        [0.4124, 0.3576, 0.1805],
        [0.2126, 0.7152, 0.0722],
        [0.0193, 0.1192, 0.9505],
    ]
)
# D65 white of IEC 61966-2-1: the XYZ of sRGB (1, 1, 1), so white maps to L* 100, a* = b* = 0.
D65_WHITE_XYZ = SRGB_TO_XYZ.sum(axis=1)

# Smallest linear value used before taking a logarithm (a 16-bit code value).
_OD_FLOOR = 1.0 / 65535.0

_SRGB_LUT = None


def _srgb_lut() -> np.ndarray:
    global _SRGB_LUT
    if _SRGB_LUT is None:
        _SRGB_LUT = srgb_to_linear(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
    return _SRGB_LUT


def srgb_to_linear(rgb) -> np.ndarray:
    """Decode sRGB values to linear light (IEC 61966-2-1 transfer function).

    Parameters
    ----------
    rgb : array_like
        uint8 code values (0-255) or floats in [0, 1]; the last axis is colour.

    Returns
    -------
    numpy.ndarray
        Linear-light values in [0, 1]; float32 for uint8 input (a lookup table),
        float64 otherwise.

    Examples
    --------
    >>> float(srgb_to_linear(np.array([1.0]))[0])
    1.0
    """
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return _srgb_lut()[rgb]
    rgb = rgb.astype(np.float64)
    # IEC 61966-2-1: linear segment below 0.04045, power 2.4 above.
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear) -> np.ndarray:
    """Encode linear light in [0, 1] to sRGB floats in [0, 1] (IEC 61966-2-1)."""
    linear = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def linear_rgb_to_xyz(linear) -> np.ndarray:
    """Linear sRGB to CIE XYZ (D65), Y of white = 1 (IEC 61966-2-1 matrix)."""
    return np.asarray(linear) @ SRGB_TO_XYZ.T.astype(np.asarray(linear).dtype, copy=False)


def xyz_to_lab(xyz, white=D65_WHITE_XYZ) -> np.ndarray:
    """CIE XYZ to CIELAB (CIE 015:2018).

    Parameters
    ----------
    xyz : array_like
        Tristimulus values, last axis X, Y, Z, scaled so the white has Y = 1.
    white : array_like, optional
        Reference white; D65 (2° observer) by default.

    Returns
    -------
    numpy.ndarray
        L* (0-100), a*, b*.
    """
    xyz = np.asarray(xyz)
    ratio = xyz / np.asarray(white, dtype=xyz.dtype)
    # CIE 015: cube root above (6/29)^3, linear segment below.
    epsilon, kappa = (6.0 / 29.0) ** 3, (29.0 / 6.0) ** 2 / 3.0
    f = np.where(ratio > epsilon, np.cbrt(np.maximum(ratio, epsilon)), kappa * ratio + 4.0 / 29.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_xyz(lab, white=D65_WHITE_XYZ) -> np.ndarray:
    """CIELAB to CIE XYZ (CIE 015:2018), the inverse of :func:`xyz_to_lab`.

    Examples
    --------
    >>> np.allclose(lab_to_xyz(xyz_to_lab(np.array([0.2, 0.3, 0.1]))), [0.2, 0.3, 0.1])
    True
    """
    lab = np.asarray(lab, float)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    delta = 6.0 / 29.0
    return np.where(f > delta, f**3, 3 * delta**2 * (f - 4.0 / 29.0)) * np.asarray(white, float)


def rgb_to_lab(rgb) -> np.ndarray:
    """sRGB (uint8 or float in [0, 1]) to CIELAB (D65, 2°).

    Examples
    --------
    >>> np.round(rgb_to_lab(np.array([255, 255, 255], dtype=np.uint8)), 2).tolist()
    [100.0, 0.0, 0.0]
    """
    return xyz_to_lab(linear_rgb_to_xyz(srgb_to_linear(rgb)))


def lab_to_linear_rgb(lab) -> np.ndarray:
    """CIELAB (D65, 2°) to linear sRGB: the inverse of :func:`rgb_to_lab` before encoding (CIE 015).

    Examples
    --------
    >>> lab = rgb_to_lab(np.array([200, 150, 120], dtype=np.uint8))
    >>> np.allclose(lab_to_linear_rgb(lab), srgb_to_linear(np.array([200, 150, 120], dtype=np.uint8)), atol=1e-4)
    True
    """
    return lab_to_xyz(np.asarray(lab, dtype=np.float64)) @ np.linalg.inv(SRGB_TO_XYZ).T


def channel_max(image) -> np.ndarray:
    """The largest of the three colour channels at each pixel, as ``image.max(axis=-1)``.

    Taken as two element-wise maxima of the channel planes: a reduction along a last axis of
    length 3 is slow in numpy, and this runs on every photo.

    Examples
    --------
    >>> channel_max(np.array([[[1, 5, 2], [7, 0, 3]]], np.uint8)).tolist()
    [[5, 7]]
    """
    image = np.asarray(image)
    return np.maximum(np.maximum(image[..., 0], image[..., 1]), image[..., 2])


def ita_deg(lab) -> np.ndarray:
    """Individual Typology Angle, ITA° = atan2(L* − 50, b*) · 180/π (Chardon 1991).

    ``atan2`` keeps the angle defined where b* is 0 or negative.

    Examples
    --------
    >>> round(float(ita_deg(np.array([60.0, 10.0, 10.0]))), 1)
    45.0
    """
    lab = np.asarray(lab, dtype=np.float64)
    return np.degrees(np.arctan2(lab[..., 0] - 50.0, lab[..., 2]))


# Chardon 1991 ITA° categories: lower bound (exclusive) of each band, darkest last.
_ITA_BANDS = ((55.0, "very light"), (41.0, "light"), (28.0, "intermediate"), (10.0, "tan"), (-30.0, "brown"))


def ita_category(ita: float) -> str:
    """Skin-colour category of an ITA° value (Chardon 1991 bands)."""
    for lower, name in _ITA_BANDS:
        if ita > lower:
            return name
    return "dark"


def takiwaki_delta_melanin(delta_l_star, delta_a_star):
    """Melanin change estimated from CIELAB differences (Takiwaki 2002).

    ΔMelanin ≈ −1.06·Δa* − 1.44·ΔL*, with Δ = lesion − normal skin.
    """
    return -1.06 * np.asarray(delta_a_star) - 1.44 * np.asarray(delta_l_star)


def takiwaki_delta_haemoglobin(delta_l_star, delta_a_star):
    """Haemoglobin change estimated from CIELAB differences (Takiwaki 2002).

    ΔHaemoglobin ≈ 1.68·Δa* + 0.60·ΔL*, with Δ = lesion − normal skin.
    """
    return 1.68 * np.asarray(delta_a_star) + 0.60 * np.asarray(delta_l_star)


def optical_density(linear) -> np.ndarray:
    """Optical density, OD = −ln(linear light), floored at one 16-bit code value."""
    linear = np.asarray(linear)
    dtype = linear.dtype if np.issubdtype(linear.dtype, np.floating) else np.float64
    return -np.log(np.maximum(linear.astype(dtype, copy=False), _OD_FLOOR))


def pigment_basis(melanin_od_direction, haemoglobin_od_direction) -> np.ndarray:
    """3×3 matrix whose columns are the unit melanin, haemoglobin and shading directions in OD.

    Shading (a change of light intensity) raises the OD of all three channels equally,
    so its direction is (1, 1, 1)/√3 (Tsumura 2003).

    Raises
    ------
    ValueError
        If the directions are (nearly) collinear, so pigments cannot be separated.
    """
    columns = [np.asarray(melanin_od_direction, float), np.asarray(haemoglobin_od_direction, float), np.ones(3)]
    basis = np.stack([c / np.linalg.norm(c) for c in columns], axis=1)
    if abs(np.linalg.det(basis)) < 1e-3:
        raise ValueError("melanin, haemoglobin and shading directions are collinear: cannot separate pigments")
    return basis


def pigment_decomposition(delta_od, basis) -> np.ndarray:
    """Split OD differences into melanin, haemoglobin and shading amounts.

    Parameters
    ----------
    delta_od : array_like, shape (..., 3)
        OD of each pixel minus the OD of the face's normal skin.
    basis : array_like, shape (3, 3)
        From :func:`pigment_basis`.

    Returns
    -------
    numpy.ndarray, shape (..., 3)
        Amounts along melanin, haemoglobin and shading, in OD units along each unit
        direction: ``delta_od == amounts @ basis.T``.

    Examples
    --------
    >>> basis = pigment_basis([0.3, 0.5, 0.8], [0.2, 0.85, 0.5])
    >>> [round(float(v), 6) + 0.0 for v in pigment_decomposition(0.2 * basis[:, 0], basis)]
    [0.2, 0.0, 0.0]
    """
    delta_od = np.asarray(delta_od)
    inverse = np.linalg.inv(np.asarray(basis, dtype=np.float64)).astype(delta_od.dtype, copy=False)
    return delta_od @ inverse.T


def od_to_srgb(od) -> np.ndarray:
    """Optical density back to sRGB uint8 (the inverse of :func:`optical_density`)."""
    encoded = linear_to_srgb(np.exp(-np.asarray(od, dtype=np.float64)))
    return np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)


def melanin_delta_e(linear_rgb, amounts_od, melanin_od_direction) -> np.ndarray:
    """ΔE*ab that adding each melanin amount (OD along the direction) gives a skin colour.

    Parameters
    ----------
    linear_rgb : array_like, shape (3,)
        The skin's colour in linear sRGB.
    amounts_od : array_like
        Melanin amounts, OD along the unit ``melanin_od_direction``; negative amounts remove it.
    melanin_od_direction : array_like, shape (3,)

    Returns
    -------
    numpy.ndarray, the shape of ``amounts_od``
        CIE76 colour difference from the skin as it is.

    Examples
    --------
    >>> skin = srgb_to_linear(np.array([0.8, 0.6, 0.5]))
    >>> de = melanin_delta_e(skin, [0.0, 0.1, 0.2], [0.3, 0.5, 0.8])
    >>> bool(de[0] == 0 and 0 < de[1] < de[2])
    True
    """
    direction = np.asarray(melanin_od_direction, float)
    direction = direction / np.linalg.norm(direction)
    base = np.asarray(linear_rgb, float).reshape(3)
    amounts = np.asarray(amounts_od, float)
    darker = base * np.exp(-amounts[..., None] * direction)
    lab = xyz_to_lab(linear_rgb_to_xyz(darker))
    return np.linalg.norm(lab - xyz_to_lab(linear_rgb_to_xyz(base)), axis=-1)
