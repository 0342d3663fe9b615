"""The second phantom family (pigmentscan.simulation): its pigment, its confounders and its truth.

Reference values come from the literature or from independent code (scikit-image's
CIELAB, scipy's Gaussian, colour-science's CIE tables), never from this package's output.
Tests on real faces read them from ../shared/faces or $PIGMENTSCAN_FACES and skip
without them; the tests on sample_images/grace_hopper.jpg always run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from skimage.color import rgb2lab

from pigmentscan import regions
from pigmentscan.io import load_rgb
from pigmentscan.landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE, detect_landmarks
from pigmentscan.simulation import (SimulatedFace, add_erythema, draw_case, draw_params, mirror, relight, retake,
                                    simulate_melasma)
from pigmentscan.simulation.design import solve_amount
from pigmentscan.simulation.retake import RetakeParams
from pigmentscan.simulation.spectra import (pigment_directions, illuminant_gains, spectrum_to_linear_rgb,
                                            skin_reflectance)
from pigmentscan.simulation.spectral_data import CIE1931_XYZ, D65_SPD, HB_EPSILON, HBO2_EPSILON, WAVELENGTHS_NM
from pigmentscan.simulation.truth import region_truth, totals

REPO = Path(__file__).resolve().parents[1]
HOPPER = REPO / "sample_images" / "grace_hopper.jpg"
WEIGHTS = {"forehead": 0.3, "right_malar": 0.3, "left_malar": 0.3, "chin": 0.1}  # Kimbrough-Green 1994


def lab(rgb_uint8):
    """CIELAB by scikit-image (independent of pigmentscan.colour)."""
    return rgb2lab(rgb_uint8)


def seen_contrast(clean, painted, iod_px):
    """ΔE*ab / 2.3 at the physician's scale, computed here with scipy and scikit-image."""
    sigma = 0.02 * iod_px / 2.3548  # FWHM 0.02 IOD

    def seen(rgb):
        x = rgb / 255.0
        linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)  # IEC 61966-2-1
        blurred = np.stack([ndimage.gaussian_filter(linear[..., c], sigma) for c in range(3)], axis=-1)
        encoded = np.where(blurred <= 0.0031308, blurred * 12.92, 1.055 * blurred ** (1 / 2.4) - 0.055)
        return rgb2lab(np.clip(encoded, 0, 1))

    return np.linalg.norm(seen(painted) - seen(clean), axis=-1) / 2.3


def polygon_masks(face: SimulatedFace):
    """The region template without any exclusion (the polygons themselves)."""
    lm = face.landmarks
    empty = np.zeros(face.image.shape[:2], bool)
    return regions.region_masks(face.image.shape, lm.points_px, lm.iod_px, features=empty)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def hopper():
    rgb, _ = load_rgb(HOPPER)
    return rgb, detect_landmarks(rgb)


@pytest.fixture(scope="module")
def light(faces_dir):
    rgb, _ = load_rgb(faces_dir / "001_03.jpg")  # white woman (london_info.csv)
    return rgb, detect_landmarks(rgb)


@pytest.fixture(scope="module")
def dark(faces_dir):
    rgb, _ = load_rgb(faces_dir / "025_03.jpg")  # black woman (london_info.csv)
    return rgb, detect_landmarks(rgb)


@pytest.fixture(scope="module")
def confluent(light):
    rgb, lm = light
    return simulate_melasma(rgb, landmarks=lm, seed=11, pattern="malar", texture="blotchy", darkness_jnd=2.5,
                            involvement=0.9, pigment="epidermal")


# --------------------------------------------------------------------------- spectra

def test_tabulated_spectra_match_the_published_tables():
    colour_science = pytest.importorskip("colour")
    cmfs = colour_science.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    d65 = colour_science.SDS_ILLUMINANTS["D65"]
    for i, wavelength in enumerate(WAVELENGTHS_NM):
        np.testing.assert_allclose(CIE1931_XYZ[i], np.maximum(cmfs[wavelength], 0), atol=1e-6)
        assert D65_SPD[i] == pytest.approx(d65[wavelength], abs=1e-3)
    # Haemoglobin (Prahl 1999): oxy Soret band near 415 nm, Q bands at 542/576 nm around a 560 nm trough;
    # deoxy Soret near 430 nm and a single band near 555 nm.
    at = {int(w): i for i, w in enumerate(WAVELENGTHS_NM)}
    assert WAVELENGTHS_NM[np.argmax(HBO2_EPSILON)] in (410, 420)
    assert WAVELENGTHS_NM[np.argmax(HB_EPSILON)] == 430
    assert HBO2_EPSILON[at[540]] > HBO2_EPSILON[at[560]] < HBO2_EPSILON[at[580]]
    assert HB_EPSILON[at[560]] > HB_EPSILON[at[540]] and HB_EPSILON[at[560]] > HB_EPSILON[at[580]]


def test_white_maps_to_white_and_skin_spectra_look_like_skin():
    np.testing.assert_allclose(spectrum_to_linear_rgb(np.ones(41)), [1, 1, 1], atol=1e-9)
    light_lab = lab(np.clip(spectrum_to_linear_rgb(skin_reflectance(0.02, 0.004)), 0, 1) ** (1 / 2.2))
    dark_lab = lab(np.clip(spectrum_to_linear_rgb(skin_reflectance(0.35, 0.004)), 0, 1) ** (1 / 2.2))
    assert light_lab[0] > dark_lab[0] + 20  # more epidermal melanin, darker skin
    assert light_lab[1] > 0 and light_lab[2] > 0 and dark_lab[2] > 0  # skin is red-yellow


def _delta_lab(skin_linear, direction, amount=0.2):
    encode = lambda x: np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.clip(x, 0, 1) ** (1 / 2.4) - 0.055)
    skin = np.asarray(skin_linear, float)
    return lab(encode(skin * np.exp(-amount * np.asarray(direction)))) - lab(encode(skin))


@pytest.mark.parametrize("skin", [[0.45, 0.30, 0.22], [0.12, 0.06, 0.035]])
def test_pigment_directions_behave_as_the_literature_says(skin):
    d = pigment_directions(skin)
    epidermal, dermal, blood = (np.asarray(x) for x in (d.epidermal, d.dermal, d.haemoglobin))
    assert epidermal[2] > epidermal[1] > epidermal[0] > 0  # melanin ~ λ^-3.5: OD blue > green > red (MASI.md)
    assert dermal[2] / dermal[0] < epidermal[2] / epidermal[0]  # deep pigment: flatter, grey-blue
    assert np.linalg.norm(dermal) < np.linalg.norm(epidermal)  # and less contrasted for the same melanin
    assert blood[1] == max(blood)  # haemoglobin's Q bands: green absorbed most
    # Takiwaki 2002 (MASI.md): ΔMelanin = -1.06 Δa* - 1.44 ΔL*, ΔHaemoglobin = 1.68 Δa* + 0.60 ΔL*.
    for direction, melanin_like in ((epidermal, True), (dermal, True), (blood, False)):
        dl, da, _ = _delta_lab(skin, direction)
        d_mel, d_hb = -1.06 * da - 1.44 * dl, 1.68 * da + 0.60 * dl
        assert (d_mel > abs(d_hb)) if melanin_like else (d_hb > abs(d_mel))
    assert _delta_lab(skin, dermal)[2] < _delta_lab(skin, epidermal)[2]  # dermal: less yellow than brown


def test_tungsten_white_balance_is_warm_and_grows_with_lower_temperature():
    tungsten, warm, daylight = illuminant_gains(2856), illuminant_gains(4000), illuminant_gains(6504)
    assert tungsten[1] == warm[1] == daylight[1] == 1.0
    assert tungsten[0] / tungsten[2] > warm[0] / warm[2] > daylight[0] / daylight[2]
    assert tungsten[0] > 1.5 and tungsten[2] < 0.5


def test_solved_melanin_gives_the_asked_contrast():
    rng = np.random.default_rng(0)
    skins = rng.uniform([0.05, 0.02, 0.01], [0.7, 0.5, 0.4], size=(50, 3))
    targets = rng.uniform(1.0, 8.0, size=50)
    direction = np.array([0.36, 0.69, 1.2])
    amount = solve_amount(skins, targets, direction)
    delta = np.array([np.linalg.norm(_delta_lab(s, direction, amount=a)) for s, a in zip(skins, amount)])
    np.testing.assert_allclose(delta / 2.3, targets, atol=0.02)


# --------------------------------------------------------------------------- truth and grading

def test_region_truth_grades_hand_made_maps(hopper):
    rgb, lm = hopper
    skin = np.ones(rgb.shape[:2], bool)
    uniform = region_truth(np.full(rgb.shape[:2], 2.5, np.float32), skin, lm.points_px, lm.iod_px)
    for r in uniform.values():
        assert (r.area_pct, r.area_score, r.darkness, r.homogeneity) == (100.0, 6, 2, 4)  # 2.5 JND: D2
    # MASI by hand: 0.3*6*(2+4)*3 + 0.1*6*(2+4) = 36; mMASI: 0.3*6*2*3 + 0.1*6*2 = 12.
    assert totals(uniform) == pytest.approx((36.0, 12.0))
    faint = region_truth(np.full(rgb.shape[:2], 0.9, np.float32), skin, lm.points_px, lm.iod_px)
    assert all(r.area_pct == 0 and r.darkness == 0 and r.homogeneity == 0 for r in faint.values())
    # Specks 0.04 IOD across, 0.2 IOD apart, at 1.5 JND: slight (D1) specks (H1), a small area (A1).
    yy, xx = np.mgrid[: rgb.shape[0], : rgb.shape[1]]
    step, radius = 0.2 * lm.iod_px, 0.02 * lm.iod_px
    specks = (np.hypot((xx % step) - step / 2, (yy % step) - step / 2) <= radius) * 1.5
    graded = region_truth(specks.astype(np.float32), skin, lm.points_px, lm.iod_px)
    assert graded["right_malar"].darkness == 1 and graded["right_malar"].homogeneity == 1
    assert graded["right_malar"].area_score == 1


def test_hopper_phantom_truth_is_what_the_pixels_say(hopper):
    rgb, lm = hopper
    face = simulate_melasma(rgb, landmarks=lm, seed=5, pattern="centrofacial", texture="blotchy", darkness_jnd=3.0,
                            involvement=0.6, pigment="epidermal")
    assert face.image.shape == rgb.shape and np.array_equal(face.clean, rgb)
    untouched = face.pigment_od == 0
    assert np.array_equal(face.image[untouched], rgb[untouched])  # pigment only where painted
    assert not np.any(face.truth_mask & ~face.skin_mask)
    assert np.array_equal(face.truth_mask, (face.contrast_jnd >= 1.0) & face.skin_mask)
    independent = seen_contrast(rgb, face.image, lm.iod_px)
    inside = face.skin_mask & (ndimage.distance_transform_edt(face.skin_mask) > 3)
    np.testing.assert_allclose(face.contrast_jnd[inside], independent[inside], atol=0.08)
    # the totals are the formula over the graded regions (Kimbrough-Green 1994; Pandya 2011)
    by_hand = sum(WEIGHTS[k] * r.area_score * (r.darkness + r.homogeneity) for k, r in face.regions.items())
    assert face.masi == pytest.approx(by_hand)
    assert face.mmasi == pytest.approx(sum(WEIGHTS[k] * r.area_score * r.darkness for k, r in face.regions.items()))
    for key, r in face.regions.items():
        assert r.area_score == (0 if r.area_pct == 0 else 1 + sum(r.area_pct >= e for e in (10, 30, 50, 70, 90)))
    involved = face.truth_mask & np.any(list(regions.region_masks(rgb.shape, lm.points_px, lm.iod_px,
                                                                  exclude=~face.skin_mask).values()), axis=0)
    assert np.median(face.contrast_jnd[involved]) == pytest.approx(3.0, rel=0.08)


def test_same_seed_same_phantom_other_seed_other_phantom(hopper):
    rgb, lm = hopper
    a, b, c = (draw_case(rgb, seed, landmarks=lm, clear=False) for seed in (21, 21, 22))
    assert np.array_equal(a.image, b.image) and a.to_dict() == b.to_dict()
    assert not np.array_equal(a.image, c.image)


def test_a_clear_case_is_the_photo_itself(hopper):
    rgb, lm = hopper
    face = draw_case(rgb, 3, landmarks=lm, clear=True)
    assert np.array_equal(face.image, rgb) and not face.truth_mask.any()
    assert face.masi == 0 and face.mmasi == 0 and face.params.pattern is None


def test_drawn_cases_cover_what_real_melasma_shows():
    drawn = [draw_params(np.random.default_rng(s)) for s in range(600)]
    patterns = [d["pattern"] for d in drawn]
    for pattern, share in {"centrofacial": 0.63, "malar": 0.21, "mandibular": 0.16}.items():  # Sanchez 1981
        assert patterns.count(pattern) / 600 == pytest.approx(share, abs=0.06)
    darkness = np.array([d["darkness_jnd"] for d in drawn])
    assert darkness.min() >= 1.2 and darkness.max() <= 8.0 and np.mean(darkness <= 3.0) > 0.4
    assert darkness.max() > 7.0
    involvement = np.array([d["involvement"] for d in drawn])
    assert 0.15 < np.mean(involvement >= 0.9) < 0.35 and involvement.min() < 0.1
    assert {d["texture"] for d in drawn} == {"speckled", "reticulated", "blotchy"}
    assert {d["pigment"] for d in drawn} == {"epidermal", "dermal", "mixed"}


def test_mirror_swaps_the_patient_sides(hopper):
    rgb, lm = hopper
    face = simulate_melasma(rgb, landmarks=lm, seed=8, pattern="malar", texture="blotchy", darkness_jnd=2.0,
                            involvement=0.5, pigment="mixed")
    flipped = mirror(face)
    assert np.array_equal(flipped.truth_mask, face.truth_mask[:, ::-1])
    assert flipped.regions["right_malar"] == face.regions["left_malar"]
    assert flipped.regions["left_malar"] == face.regions["right_malar"]
    # the detector on the flipped photo puts the patient's right iris on the image's left
    assert flipped.landmarks.points_px[RIGHT_IRIS_CENTRE, 0] < flipped.landmarks.points_px[LEFT_IRIS_CENTRE, 0]


# --------------------------------------------------------------------------- real faces

@pytest.mark.faces  # its face photo is a fixture of ../shared/faces chosen by name (request.getfixturevalue)
@pytest.mark.parametrize("skin_tone", ["light", "dark"])
@pytest.mark.parametrize("darkness", [1.5, 4.0])
def test_contrast_matches_the_asked_jnd_on_light_and_dark_skin(request, skin_tone, darkness):
    rgb, lm = request.getfixturevalue(skin_tone)
    face = simulate_melasma(rgb, landmarks=lm, seed=2, pattern="malar", texture="blotchy", darkness_jnd=darkness,
                            involvement=0.6, pigment="epidermal")
    cheeks = [face.regions[k] for k in ("right_malar", "left_malar")]
    assert all(r.involved_px > 0 for r in cheeks)
    measured = seen_contrast(face.clean, face.image, lm.iod_px)
    masks = regions.region_masks(rgb.shape, lm.points_px, lm.iod_px, exclude=~face.skin_mask)
    involved = face.truth_mask & (masks["right_malar"] | masks["left_malar"])
    assert np.median(measured[involved]) == pytest.approx(darkness, rel=0.1)
    assert np.mean([r.area_pct for r in cheeks]) == pytest.approx(60, abs=6)


def test_the_same_jnd_takes_more_melanin_on_dark_skin(light, dark):
    amounts = []
    for rgb, lm in (light, dark):
        face = simulate_melasma(rgb, landmarks=lm, seed=2, pattern="malar", texture="blotchy", darkness_jnd=3.0,
                                involvement=0.6, pigment="epidermal")
        amounts.append(np.median(face.pigment_od[face.truth_mask]))
    assert amounts[1] > 1.3 * amounts[0]


def test_confluent_cheeks_past_the_polygon(confluent):
    face = confluent
    for key in ("right_malar", "left_malar"):
        assert face.regions[key].area_pct >= 85 and face.regions[key].area_score >= 5
    polygons = polygon_masks(face)
    malar = polygons["right_malar"] | polygons["left_malar"]
    ring = ndimage.binary_dilation(malar, iterations=int(0.1 * face.landmarks.iod_px)) & ~malar
    ring &= face.skin_mask & ~np.any([polygons[k] for k in ("forehead", "chin")], axis=0)
    assert np.mean(face.truth_mask[ring]) > 0.4  # the pigment runs past the region border


def test_patterns_put_pigment_where_sanchez_saw_it(light):
    rgb, lm = light
    kw = dict(landmarks=lm, seed=4, texture="blotchy", darkness_jnd=3.0, involvement=0.7, pigment="epidermal")
    mandibular = simulate_melasma(rgb, pattern="mandibular", **kw)
    malar = simulate_melasma(rgb, pattern="malar", **kw)
    centrofacial = simulate_melasma(rgb, pattern="centrofacial", **kw)
    assert mandibular.regions["forehead"].area_pct < 2 and mandibular.regions["chin"].area_pct > 10
    mouth_y = lm.points_px[[61, 291], 1].mean()
    ys = np.nonzero(mandibular.truth_mask)[0]
    assert np.mean(ys > mouth_y) > 0.6  # along the jaw: mostly below the mouth corners
    assert malar.regions["forehead"].area_pct < 2 and malar.regions["chin"].area_pct < 5
    assert min(malar.regions[k].area_pct for k in ("right_malar", "left_malar")) > 40
    nose = np.zeros(rgb.shape[:2], bool)
    nose[tuple(np.round(lm.points_px[[4, 5, 195]][:, ::-1]).astype(int).T)] = True
    assert malar.truth_mask[ndimage.binary_dilation(nose, iterations=int(0.05 * lm.iod_px))].mean() > 0.3
    assert all(r.area_pct > 10 for r in centrofacial.regions.values())


def test_textures_differ_in_structure(light):
    rgb, lm = light
    kw = dict(landmarks=lm, seed=9, pattern="malar", darkness_jnd=3.0, involvement=0.6, pigment="epidermal")
    counts = {}
    for texture in ("speckled", "reticulated", "blotchy"):
        face = simulate_melasma(rgb, texture=texture, **kw)
        painted = face.pigment_od > 0.5 * np.percentile(face.pigment_od[face.pigment_od > 0], 90)
        pieces = ndimage.label(painted)[1]
        holes = ndimage.label(ndimage.binary_fill_holes(painted) & ~painted)[1]
        counts[texture] = pieces, holes
    assert counts["speckled"][0] > 4 * counts["blotchy"][0]  # many separate specks
    assert counts["speckled"][0] > 3 * counts["reticulated"][0]
    assert counts["reticulated"][1] > 5 * max(counts["blotchy"][1], 1)  # a net: islands of clear skin inside
    assert counts["reticulated"][1] > counts["reticulated"][0]


def test_erythema_reddens_without_adding_involvement(light, confluent):
    rgb, lm = light
    clean_red = add_erythema(rgb, lm, strength=8.0, kind="diffuse", seed=1)
    assert isinstance(clean_red, np.ndarray) and clean_red.shape == rgb.shape
    cheeks = regions.region_masks(rgb.shape, lm.points_px, lm.iod_px)
    cheek = cheeks["right_malar"] | cheeks["left_malar"]
    assert np.mean(lab(clean_red)[cheek][:, 1] - lab(rgb)[cheek][:, 1]) > 5.0  # a* rises a lot
    flushed = add_erythema(confluent, strength=8.0, kind="diffuse", seed=1)
    assert flushed.truth == confluent.truth and flushed.truth_mask is confluent.truth_mask
    assert flushed.confounders[-1]["kind"] == "erythema_diffuse"
    patchy = add_erythema(rgb, lm, strength=8.0, kind="patchy", seed=1)
    reddened = (lab(patchy)[..., 1] - lab(rgb)[..., 1])[cheek] > 2.0
    assert 0.05 < reddened.mean() < 0.8  # patches, not a flush
    mild = add_erythema(rgb, lm, strength=2.0, kind="diffuse", seed=1)
    assert 1.0 < np.mean(lab(mild)[cheek][:, 1] - lab(rgb)[cheek][:, 1]) < 3.0


def test_lighting_changes_the_photo_not_the_truth(light, confluent):
    rgb, lm = light
    masks = regions.region_masks(rgb.shape, lm.points_px, lm.iod_px)
    side = relight(rgb, lm, kind="side", strength=1.5, seed=0)
    linear = lambda x: np.where(x / 255.0 <= 0.04045, x / 255.0 / 12.92, ((x / 255.0 + 0.055) / 1.055) ** 2.4)
    gain = np.log2(np.maximum(linear(side[..., 1].astype(float)), 1e-4) / np.maximum(linear(rgb[..., 1].astype(float)), 1e-4))
    difference = abs(np.median(gain[masks["left_malar"]]) - np.median(gain[masks["right_malar"]]))
    assert difference == pytest.approx(1.5, abs=0.3)
    flash = relight(rgb, lm, kind="flash", strength=1.0, seed=0)
    forehead = masks["forehead"]
    assert lab(flash)[forehead][:, 0].mean() > lab(rgb)[forehead][:, 0].mean() + 5
    assert np.mean(flash[forehead].max(axis=-1) >= 250) > np.mean(rgb[forehead].max(axis=-1) >= 250) + 0.02
    warm = relight(rgb, lm, kind="warm", strength=0.6, seed=0)
    assert lab(warm)[forehead][:, 2].mean() > lab(rgb)[forehead][:, 2].mean() + 8  # yellower
    for kind in ("side", "flash", "warm"):
        relit = relight(confluent, kind=kind, strength=1.0, seed=0)
        assert relit.truth == confluent.truth and np.array_equal(relit.truth_mask, confluent.truth_mask)
        assert not np.array_equal(relit.image, confluent.image)


def test_a_retake_moves_the_truth_with_the_pixels(confluent):
    iod = confluent.landmarks.iod_px
    shift = RetakeParams(shift_iod=(0.1, 0.05), jpeg_quality=95)
    moved = retake(confluent, seed=1, params=shift)
    dx, dy = int(round(0.1 * iod)), int(round(0.05 * iod))
    before = confluent.truth_mask[100:-100, 100:-100]
    after = moved.truth_mask[100 + dy: moved.truth_mask.shape[0] - 100 + dy, 100 + dx: moved.truth_mask.shape[1] - 100 + dx]
    assert (before & after).sum() / (before | after).sum() > 0.97
    offset = moved.landmarks.points_px - confluent.landmarks.points_px
    np.testing.assert_allclose(offset, np.broadcast_to([0.1 * iod, 0.05 * iod], offset.shape), atol=1e-6)
    darkest = np.unravel_index(np.argmax(confluent.pigment_od), confluent.pigment_od.shape)
    assert moved.pigment_od[darkest[0] + dy, darkest[1] + dx] == pytest.approx(confluent.pigment_od.max(), rel=0.05)
    again = retake(confluent, seed=7)  # drawn: rotation, scale, exposure, white balance, noise, JPEG
    assert not np.array_equal(again.image, confluent.image)
    for key in ("right_malar", "left_malar"):
        assert again.regions[key].area_pct == pytest.approx(confluent.regions[key].area_pct, abs=4)
        assert again.regions[key].darkness_jnd == pytest.approx(confluent.regions[key].darkness_jnd, rel=0.05)


def test_faint_pigment_from_one_jnd_is_graded_slight(dark):
    rgb, lm = dark
    face = simulate_melasma(rgb, landmarks=lm, seed=6, pattern="centrofacial", texture="reticulated", darkness_jnd=1.3,
                            involvement=0.6, pigment="dermal")
    involved = [r for r in face.regions.values() if r.involved_px > 0]
    assert len(involved) == 4 and all(r.darkness == 1 for r in involved)
    assert all(1.0 <= r.darkness_jnd < 1.6 for r in involved)
