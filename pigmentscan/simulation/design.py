"""Designing a lesion on the working grid and painting it into the photo.

A lesion is designed as a *contrast target* C(x) in JND:

    hard(x) = [E(x) ≥ t_e] ∧ [T(x) ≥ t_d] ∧ skin(x)       (extent ∧ texture)
    C(x)    = k · D · blur(hard, edge)(x) · V(x)

with E the pattern potential plus border noise, T the texture field, V a smooth
log-normal strength variation of median 1, D the asked darkness. The extent and
texture thresholds follow one coverage number c (their product); c and k are
solved so that, at the physician's scale, the mean involved share of the key
regions is the asked involvement and the median contrast over their involved skin
is the asked darkness. Melanin is then solved pixel by pixel so that adding it to
this face's own (physician-scale) skin colour gives exactly C(x) ΔE-JND, and the
amount is painted, as optical density along the face's pigment direction, into the
full-resolution photo. The truth is re-measured afterwards (:mod:`.truth`): the
design is how the phantom aims, the measurement is what it reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .. import colour
from . import fields
from .truth import JND_DELTA_E

__all__ = ["LesionDesign", "design_contrast", "solve_amount", "paint_od"]


@dataclass(frozen=True)
class LesionDesign:
    """Shape parameters of the simulated lesions (design choices, not measurements).

    Attributes
    ----------
    reach_iod : float
        How far past its zone a pattern's potential reaches 0, IOD.
    border_noise : float
        Amplitude of the border noise added to the potential (speckled, reticulated).
    blotchy_border_noise : float
        The same for blotchy lesions: larger, so that the lesion breaks into blotches.
    border_scales_iod : tuple of float
        Correlation lengths of the border-noise octaves, IOD.
    asymmetry : float
        Variance share of the side-independent noise (0: mirror-symmetric lesions).
    strength_variation : float
        Standard deviation of log strength inside a dark lesion; a lesion of darkness D
        gets this × (1 − 1/D), so a faint one can be both faint and confluent.
    edge_softness_iod : float
        Sigma of the blur of the lesion's hard outline, IOD (melasma borders are sharp).
    speckle_fill, net_fill : float
        Share of the lesion's extent that speckles / the net cover at low involvement;
        it rises towards 1 as involvement does (specks coalesce, net holes close).
    max_extent : float
        Share of the key regions a textured lesion's extent stops at while its texture
        densifies; past full density the extent grows again (confluent lesions).
    max_amount : float
        Cap of the melanin amount (OD at 500 nm) a pixel may receive.
    """

    reach_iod: float = 0.3
    border_noise: float = 0.25
    blotchy_border_noise: float = 0.45
    border_scales_iod: tuple = (0.05, 0.12, 0.3)
    asymmetry: float = 0.35
    strength_variation: float = 0.2
    edge_softness_iod: float = 0.008
    speckle_fill: float = 0.4
    net_fill: float = 0.7
    max_extent: float = 0.85
    max_amount: float = 4.0

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def _median_scale(values_desc: np.ndarray, darkness: float) -> float:
    """k such that the median of k·g over {k·g ≥ 1} is ``darkness`` (g sorted descending)."""
    if values_desc.size == 0 or values_desc[0] <= 0:
        return 1.0
    ascending = values_desc[::-1]

    def median_at(k):
        n = values_desc.size - int(np.searchsorted(ascending, 1.0 / k, side="left"))
        return 0.0 if n == 0 else k * values_desc[(n - 1) // 2]

    lo, hi = 1e-3, 1e3
    for _ in range(60):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if median_at(mid) < darkness else (lo, mid)
    return float(np.sqrt(lo * hi))


def design_contrast(rng, u, v, potential, skin, key_masks, *, texture: str, darkness_jnd: float, involvement: float,
                    iod_px: float, physician_sigma_px: float, design: LesionDesign = LesionDesign()):
    """The lesion's contrast target on the working grid, in JND (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
    u, v : numpy.ndarray
        Face coordinates of the grid, IOD.
    potential : numpy.ndarray
        :func:`~pigmentscan.simulation.fields.pattern_potential` on the grid.
    skin : numpy.ndarray of bool
        Paintable visible skin on the grid.
    key_masks : list of numpy.ndarray of bool
        The areas whose mean involved share is ``involvement`` (e.g. both malar regions).
    texture : str
        One of :data:`~pigmentscan.simulation.fields.TEXTURES`.
    darkness_jnd : float
        Median contrast over the key areas' involved skin, JND (> 1).
    involvement : float
        Mean involved share of the key areas, 0-1.
    iod_px : float
        Inter-ocular distance in grid pixels.
    physician_sigma_px : float
        Sigma of the physician-scale blur on the grid.
    design : LesionDesign

    Returns
    -------
    contrast : numpy.ndarray, float32
        Unblurred contrast target, JND.
    info : dict
        ``coverage``, ``scale`` (k), and the involvement and darkness the design reaches.
    """
    symmetric = 1.0 - design.asymmetry
    amplitude = design.blotchy_border_noise if texture == "blotchy" else design.border_noise
    weights = [1.0, 0.8, 0.6]
    extent_field = potential + amplitude * fields.fractal_noise(rng, u, v, design.border_scales_iod, weights,
                                                                symmetric_share=symmetric)
    texture_field = fields.texture_field(rng, u, v, texture)
    # Faint lesions vary less: their contrast must stay between 1 JND and a little more than D.
    variation = design.strength_variation * (1.0 - 1.0 / max(darkness_jnd, 1.0))
    strength = np.exp(variation * fields.fractal_noise(rng, u, v, (0.08, 0.25), (0.7, 1.0), symmetric_share=symmetric))
    key = np.zeros(skin.shape, dtype=bool)
    for mask in key_masks:
        key |= mask
    key &= skin
    if not key.any() or involvement <= 0:
        return np.zeros(skin.shape, np.float32), {"coverage": 0.0, "scale": 0.0, "involvement": 0.0, "darkness_jnd": 0.0}
    extent_sorted = np.sort(extent_field[key])
    texture_sorted = np.sort(texture_field[key])
    fill = {"speckled": design.speckle_fill, "reticulated": design.net_fill}.get(texture, 1.0)
    edge_sigma = design.edge_softness_iod * iod_px

    def quantile(sorted_values, share):
        index = int(round((1.0 - min(max(share, 0.0), 1.0)) * (sorted_values.size - 1)))
        return sorted_values[index]

    def build(coverage):
        if fill >= 1.0:
            extent, density = min(coverage, 1.0), 1.0
        else:  # the texture fills `fill` of a growing extent, then densifies, then the extent grows on
            extent = min(design.max_extent, coverage / fill)
            density = coverage / max(extent, 1e-9)
            if density >= 1.0:
                extent, density = min(coverage, 1.0), 1.0
        hard = (extent_field >= quantile(extent_sorted, extent)) & skin
        if density < 1.0:
            hard &= texture_field >= quantile(texture_sorted, density)
        soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), edge_sigma) if edge_sigma > 0.3 else hard.astype(np.float32)
        design_map = darkness_jnd * soft * strength * skin
        seen = cv2.GaussianBlur(design_map, (0, 0), physician_sigma_px) if physician_sigma_px > 0.3 else design_map
        k = _median_scale(np.sort(seen[key])[::-1], darkness_jnd)
        reached = float(np.mean([np.mean(k * seen[m & skin] >= 1.0) for m in key_masks if (m & skin).any()]))
        return design_map, seen, k, reached

    lo, hi = 0.0, 1.0
    if build(hi)[3] <= involvement:
        lo = hi
    else:
        for _ in range(16):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if build(mid)[3] < involvement else (lo, mid)
    coverage = hi if lo < hi else lo
    design_map, seen, k, reached = build(coverage)
    involved = (k * seen >= 1.0) & key
    info = {"coverage": coverage, "scale": k, "involvement": reached,
            "darkness_jnd": float(np.median(k * seen[involved])) if involved.any() else 0.0}
    return (k * design_map).astype(np.float32), info


def solve_amount(base_linear, target_jnd, direction, *, max_amount: float = 4.0, iterations: int = 24) -> np.ndarray:
    """Melanin amount per pixel that gives each pixel's skin the target contrast.

    Solves ΔE*ab(Lab(b·exp(−m·K)), Lab(b)) = 2.3·target for m ≥ 0 by bisection
    (ΔE grows with m), per pixel.

    Parameters
    ----------
    base_linear : numpy.ndarray, shape (..., 3)
        The skin without pigment, linear sRGB (physician-scale).
    target_jnd : numpy.ndarray, shape (...)
        Contrast to reach, JND.
    direction : array_like, shape (3,)
        Optical density per unit amount in linear R, G, B.
    max_amount : float
        Upper bound of m; a target out of reach gets this.

    Returns
    -------
    numpy.ndarray, float32, shape (...)

    Examples
    --------
    >>> base = np.array([[0.4, 0.25, 0.18]])
    >>> m = solve_amount(base, np.array([2.0]), [0.4, 0.8, 1.5])
    >>> lab0 = colour.xyz_to_lab(colour.linear_rgb_to_xyz(base))
    >>> lab1 = colour.xyz_to_lab(colour.linear_rgb_to_xyz(base * np.exp(-m[:, None] * [0.4, 0.8, 1.5])))
    >>> round(float(np.linalg.norm(lab1 - lab0) / 2.3), 3)
    2.0
    """
    base = np.asarray(base_linear, dtype=np.float64)
    target = np.asarray(target_jnd, dtype=np.float64) * JND_DELTA_E
    direction = np.asarray(direction, dtype=np.float64)
    flat_base, flat_target = base.reshape(-1, 3), target.reshape(-1)
    out = np.zeros(flat_target.shape, dtype=np.float64)
    todo = flat_target > 1e-3
    if todo.any():
        b, t = flat_base[todo], flat_target[todo]
        lab0 = colour.xyz_to_lab(colour.linear_rgb_to_xyz(b))
        lo, hi = np.zeros_like(t), np.full_like(t, max_amount)
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            lab = colour.xyz_to_lab(colour.linear_rgb_to_xyz(b * np.exp(-mid[:, None] * direction)))
            short = np.linalg.norm(lab - lab0, axis=-1) < t
            lo, hi = np.where(short, mid, lo), np.where(short, hi, mid)
        out[todo] = 0.5 * (lo + hi)
    return out.reshape(target.shape).astype(np.float32)


def paint_od(rgb, amount, direction) -> np.ndarray:
    """Add ``amount`` × ``direction`` optical density (−ln linear light) to an sRGB uint8 image.

    Examples
    --------
    >>> img = np.full((2, 2, 3), 200, np.uint8)
    >>> paint_od(img, np.zeros((2, 2)), [1, 1, 1]).tolist() == img.tolist()
    True
    """
    linear = colour.srgb_to_linear(rgb).astype(np.float32)
    factor = np.exp(-np.asarray(amount, np.float32)[..., None] * np.asarray(direction, np.float32))
    encoded = colour.linear_to_srgb(linear * factor)
    return np.clip(np.rint(encoded * 255.0), 0, 255).astype(np.uint8)
