"""The skin's typical optical density (lesions.reference.typical_od) on 8-bit photos."""

from __future__ import annotations

import numpy as np

from pigmentscan import colour
from pigmentscan.lesions.skin import typical_od


def _od_of_patch(code_value: float, seed: int) -> np.ndarray:
    """A flat grey patch at a code value between two integers, with sensor noise, stored as 8 bits."""
    rng = np.random.default_rng(seed)
    rgb = np.clip(np.round(code_value + rng.normal(0.0, 0.6, (120, 120, 3))), 0, 255).astype(np.uint8)
    return colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)


def test_typical_od_is_not_stuck_on_whole_code_values():
    skin = np.ones((120, 120), bool)
    lower, upper = (float(colour.optical_density(colour.srgb_to_linear(np.array([[v]], np.uint8)))[0, 0])
                    for v in (100, 101))
    step = lower - upper  # one code value of OD at this level
    true = float(colour.optical_density(colour.srgb_to_linear(np.array([[100.5 / 255.0]])))[0, 0])
    values = np.array([typical_od(_od_of_patch(100.5, seed), skin)[0] for seed in range(8)])
    # between the two code values, near the truth, and steady from one noise draw to the next;
    # the plain median of the same patches is one code value or the other
    assert np.all((values < lower) & (values > upper)), values
    assert abs(values.mean() - true) < 0.2 * step
    assert values.std() < 0.1 * step
    medians = {float(np.median(_od_of_patch(100.5, seed)[..., 0])) for seed in range(8)}
    assert medians <= {lower, upper}


def test_typical_od_of_the_skin_only_and_of_everything_when_there_is_none():
    od = np.ones((50, 50, 3), np.float32)
    od[:, :15] = 0.0  # 30 % of the image at 0, the rest at 1
    skin = np.zeros((50, 50), bool)
    skin[5:45, 2:10] = True  # well inside the part at 0
    assert np.allclose(typical_od(od, skin), 0.0, atol=1e-6)
    assert np.allclose(typical_od(od, np.zeros_like(skin)), 1.0, atol=1e-6)  # the whole image's median


def test_skin_in_the_cameras_highlight_rolloff_is_not_read():
    # A flat skin patch with a bright band whose red channel sits in the tone curve's shoulder:
    # the band is set aside (its chroma is the curve's, not the skin's); skin below the level is read.
    from pigmentscan.lesions import LesionParams
    from pigmentscan.lesions.skin import HIGHLIGHT_LEVEL, non_skin_parts

    rgb = np.full((80, 80, 3), (200, 150, 130), np.uint8)
    rgb[30:50, :, 0] = HIGHLIGHT_LEVEL
    rgb[60:70, :, 0] = HIGHLIGHT_LEVEL - 1
    skin = np.ones((80, 80), bool)
    amounts = np.zeros((80, 80, 3), np.float32)  # no pigment or shading contrast anywhere
    non_skin, glare = non_skin_parts(rgb, amounts, skin, 100.0, LesionParams())
    assert glare[35:45].all() and non_skin[35:45].all()
    assert not glare[:25].any() and not glare[72:].any()  # beyond the 0.02-IOD widening
    assert not glare[63:67].any()  # one code value below the level
