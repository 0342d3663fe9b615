"""Colour conversions against colour-science (the reference implementation), ITA° and pigments."""

import numpy as np
import pytest

from pigmentscan import colour

colour_science = pytest.importorskip("colour")


def random_rgb(n=5000, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3), dtype=np.uint8)


def test_srgb_to_lab_matches_colour_science():
    rgb = random_rgb()
    ours = colour.rgb_to_lab(rgb)
    xyz = colour_science.sRGB_to_XYZ(rgb / 255.0)
    reference = colour_science.XYZ_to_Lab(xyz, colour_science.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])
    delta_e = np.linalg.norm(ours - reference, axis=1)
    assert delta_e.max() < 0.01


def test_float_and_uint8_paths_agree():
    rgb = random_rgb(500, seed=1)
    assert np.abs(colour.rgb_to_lab(rgb) - colour.rgb_to_lab(rgb / 255.0)).max() < 1e-3


def test_linear_round_trip():
    values = np.linspace(0, 1, 101)
    assert np.allclose(colour.linear_to_srgb(colour.srgb_to_linear(values)), values, atol=1e-9)


@pytest.mark.parametrize(
    "lab, expected",
    [((50, 0, 10), 0.0), ((60, 0, 10), 45.0), ((40, 0, -10), -135.0), ((70, 0, 0), 90.0), ((30, 0, 0), -90.0)],
)
def test_ita_uses_atan2(lab, expected):
    assert colour.ita_deg(np.array(lab, float)) == pytest.approx(expected)


@pytest.mark.parametrize("ita, name", [(60, "very light"), (50, "light"), (30, "intermediate"), (20, "tan"), (0, "brown"), (-40, "dark")])
def test_ita_categories_chardon(ita, name):
    assert colour.ita_category(ita) == name


def test_takiwaki_coefficients():
    # ΔMelanin = −1.06Δa* − 1.44ΔL*, ΔHaemoglobin = 1.68Δa* + 0.60ΔL* (Takiwaki 2002)
    assert colour.takiwaki_delta_melanin(-10, 2) == pytest.approx(-1.06 * 2 + 14.4)
    assert colour.takiwaki_delta_haemoglobin(-10, 2) == pytest.approx(1.68 * 2 - 6.0)


def test_decomposition_separates_shading_melanin_haemoglobin():
    basis = colour.pigment_basis([0.319, 0.459, 0.829], [0.2, 0.85, 0.5])
    amounts = np.array([[0.3, -0.1, 0.7]])
    delta_od = amounts @ basis.T
    assert np.allclose(colour.pigment_decomposition(delta_od, basis), amounts)
    # exposure change (uniform scaling of linear light) is pure shading
    skin = np.array([0.6, 0.35, 0.25])
    delta = colour.optical_density(skin * 0.5) - colour.optical_density(skin)
    melanin, haemoglobin, shading = colour.pigment_decomposition(delta, basis)
    assert abs(melanin) < 1e-9 and abs(haemoglobin) < 1e-9 and shading > 0


def test_melanin_direction_darkens_and_browns():
    skin = np.array([[220, 170, 150]], np.uint8)
    od = colour.optical_density(colour.srgb_to_linear(skin))
    basis = colour.pigment_basis([0.319, 0.459, 0.829], [0.2, 0.85, 0.5])
    darker = colour.od_to_srgb(od + 0.5 * basis[:, 0])
    lab0, lab1 = colour.rgb_to_lab(skin)[0], colour.rgb_to_lab(darker)[0]
    assert lab1[0] < lab0[0] - 3          # darker
    assert colour.ita_deg(lab1) < colour.ita_deg(lab0)  # browner (lower ITA)


def test_collinear_basis_refused():
    with pytest.raises(ValueError):
        colour.pigment_basis([1, 1, 1], [0.2, 0.85, 0.5])
