"""Tabulated spectra used by :mod:`pigmentscan.simulation.spectra`, 380-780 nm every 10 nm.

Data only, copied from the published tables named beside each array. Ten-nanometre
sampling is the CIE's abridged interval; it is coarse for the haemoglobin Q bands
(542 and 576 nm peaks, sampled at 540 and 580 nm) but the broad colour-matching
functions integrate them to well under 1 % of a channel.

References
----------
.. [1] CIE 015:2018, Colorimetry, 4th edition: CIE 1931 2° colour-matching functions
       and the relative spectral power distribution of illuminant D65 (CIE S 014-1, 2006).
.. [2] Prahl SA. Tabulated molar extinction coefficient for hemoglobin in water,
       Oregon Medical Laser Center, 1999 (data of Gratzer WB and Kollias N),
       https://omlc.org/spectra/hemoglobin/summary.html.
"""

from __future__ import annotations

import numpy as np

__all__ = ["WAVELENGTHS_NM", "CIE1931_XYZ", "D65_SPD", "HBO2_EPSILON", "HB_EPSILON"]

#: Wavelength grid of every table here, in nanometres.
WAVELENGTHS_NM = np.arange(380.0, 781.0, 10.0)

# CIE 1931 2° standard observer x̄, ȳ, z̄ at 380, 390, …, 780 nm (CIE 015:2018, Table 1).
_X = (
    0.001368, 0.004243, 0.01431, 0.04351, 0.13438, 0.2839, 0.34828, 0.3362, 0.2908, 0.19536, 0.09564,
    0.03201, 0.0049, 0.0093, 0.06327, 0.1655, 0.2904, 0.4334499, 0.5945, 0.7621, 0.9163, 1.0263,
    1.0622, 1.0026, 0.8544499, 0.6424, 0.4479, 0.2835, 0.1649, 0.0874, 0.04677, 0.0227, 0.01135916,
    0.005790346, 0.002899327, 0.001439971, 0.0006900786, 0.0003323011, 0.0001661505, 0.00008307527,
    0.00004150994,
)
_Y = (
    0.000039, 0.00012, 0.000396, 0.00121, 0.004, 0.0116, 0.023, 0.038, 0.06, 0.09098, 0.13902,
    0.20802, 0.323, 0.503, 0.71, 0.862, 0.954, 0.9949501, 0.995, 0.952, 0.87, 0.757,
    0.631, 0.503, 0.381, 0.265, 0.175, 0.107, 0.061, 0.032, 0.017, 0.00821, 0.004102,
    0.002091, 0.001047, 0.00052, 0.0002492, 0.00012, 0.00006, 0.00003, 0.00001499,
)
_Z = (
    0.006450001, 0.02005001, 0.06785001, 0.2074, 0.6456, 1.3856, 1.74706, 1.77211, 1.6692, 1.28764,
    0.8129501, 0.46518, 0.272, 0.1582, 0.07824999, 0.04216, 0.0203, 0.008749999, 0.0039, 0.0021,
    0.001650001, 0.0011, 0.0008, 0.00034, 0.00019, 0.00005, 0.00002, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
)
#: CIE 1931 2° colour-matching functions, shape (41, 3): columns x̄, ȳ, z̄ (CIE 015:2018).
CIE1931_XYZ = np.column_stack([_X, _Y, _Z])

#: CIE illuminant D65, relative spectral power (100 at 560 nm) (CIE 015:2018, Table 5).
D65_SPD = np.array((
    49.9755, 54.6482, 82.7549, 91.486, 93.4318, 86.6823, 104.865, 117.008, 117.812, 114.861,
    115.923, 108.811, 109.354, 107.802, 104.79, 107.689, 104.405, 104.046, 100.0, 96.3342,
    95.788, 88.6856, 90.0062, 89.5991, 87.6987, 83.2886, 83.6992, 80.0268, 80.2146, 82.2778,
    78.2842, 69.7213, 71.6091, 74.349, 61.604, 69.8856, 75.087, 63.5927, 46.4182, 66.8054, 63.3828,
))

#: Molar extinction coefficient of oxy-haemoglobin, cm⁻¹/(mol/L) (Prahl 1999).
HBO2_EPSILON = np.array((
    109564, 167748, 266232, 466840, 480360, 246072, 102580, 62816, 44480, 33209.2, 26629.2,
    23684.4, 20932.8, 20035.2, 24202.4, 39956.8, 53236, 43016, 32613.2, 44496, 50104, 14400.8,
    3200, 1506, 942, 610, 442, 368, 319.6, 294, 277.6, 276, 290, 314, 348, 390, 446, 518, 586, 650, 710,
), dtype=float)

#: Molar extinction coefficient of deoxy-haemoglobin, cm⁻¹/(mol/L) (Prahl 1999).
HB_EPSILON = np.array((
    145232, 167780, 223296, 303956, 407560, 528600, 413280, 103292, 23388.8, 16156.4, 14550,
    16684, 20862, 25773.6, 31589.6, 39036.4, 46592, 53412, 53788, 45072, 37020, 28324.4,
    14677.2, 9443.6, 6509.6, 5148.8, 4345.2, 3750.12, 3226.56, 2795.12, 2407.92, 2051.96, 1794.28,
    1540.48, 1325.88, 1102.2, 1115.88, 1405.24, 1548.52, 1311.88, 1075.44,
), dtype=float)
