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
