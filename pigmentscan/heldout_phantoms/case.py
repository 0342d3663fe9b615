"""One held-out phantom: melasma painted on a real clean face photo, with its truth.

:func:`draw_case` draws the parameters from the seed (:func:`draw_parameters`), builds the
pigment amount from the fields of :mod:`.fields`, darkens the photo with the colour model of
:mod:`.colour_model`, and measures the truth of :mod:`.truth` on the result. The truth is
measured, not assumed: it is the colour difference the painted photo really has against the
clean one, so a texture, a faint pigment or a dark skin that leaves part of the drawn lesion
under 1 JND leaves that part uninvolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ..colour import ita_category, ita_deg, linear_rgb_to_xyz, linear_to_srgb, srgb_to_linear, xyz_to_lab
from ..landmarks import FaceLandmarks, detect_landmarks
from ..regions import FACE_OUTLINE, FEATURE_LANDMARKS, polygon_mask, region_masks, region_polygons
from . import fields
from .colour_model import DERMAL_MELANIN, EPIDERMAL_MELANIN, amount_for_contrast, mixed_direction, sheen
from .truth import contrast_map, masi_of, region_truth, skin_colour_mask, visible_skin

__all__ = ["PIGMENT_KINDS", "PATTERNS", "HeldoutCase", "draw_parameters", "draw_case", "encode_linear", "face_box"]

PATTERNS = ("centrofacial", "malar", "mandibular")
PIGMENT_KINDS = ("brown", "grey-blue", "mixed")
_KIND_P = (0.45, 0.25, 0.30)
_CLEAR_P = 0.10
_CONFLUENT_P = 0.5  # share of draws whose lesion covers 70-100 % of the key regions
_FAINT_P = 0.40  # share of draws with a faint requested darkness (1-2.5 JND)
_STRONG_MAX = {"brown": 8.0, "mixed": 6.5, "grey-blue": 5.0}  # dermal pigment is less contrasted
_ONE_SIDED_P = 0.10
_PAINT_FEATURE_MARGIN_IOD = 0.02  # pigment reaches closer to the eyes and lips than the regions do
_PAINT_EDGE_SIGMA_IOD = 0.015
_BLUR_IOD = {"epidermal": 0.005, "dermal": 0.012}  # dermal pigment is seen through scattering dermis
_MAX_OD = 2.0
_BOX_MARGIN_IOD = 0.3
_ABOVE_FOREHEAD_IOD = 0.3
_OUTLINE_RAMP_IOD = 0.15  # site propensity fades to 30 % towards the face outline


@dataclass(frozen=True)
class HeldoutCase:
    """A phantom photo and its truth (see :mod:`pigmentscan.heldout_phantoms.truth`).

    Attributes
    ----------
    image : numpy.ndarray, uint8 (H, W, 3)
        The photo to score.
    truth_mask : numpy.ndarray, bool (H, W)
        Involved skin: visible skin with contrast ≥ 1 JND.
    skin_mask : numpy.ndarray, bool (H, W)
        Visible skin.
    contrast_jnd : numpy.ndarray, float32 (H, W)
        Pigment contrast per pixel, JND, at the physician's viewing scale.
    regions : dict
        Region -> truth (area_pct, area_score, darkness_jnd, darkness_grade, pattern_size_iod,
        homogeneity_grade, visible_px); right and left as a detector would name them on ``image``.
    masi, mmasi : float
    params : dict
        The drawn parameters.
    landmarks : FaceLandmarks
        In ``image``'s pixels, anatomical order (FaceMesh's low indices on the patient's right).
    clean : numpy.ndarray, uint8
        The same photo without the pigment (with every confounder), for the truth.
    pigmented : numpy.ndarray, uint8
        ``image`` before sensor noise and compression (the truth's other side).
    mirrored : bool
        The photo is a left-right mirror of the patient.
    history : tuple of dict
        Operations applied after the draw (flush, retake, mirror), in order.
    """

    image: np.ndarray
    truth_mask: np.ndarray
    skin_mask: np.ndarray
    contrast_jnd: np.ndarray
    regions: dict
    masi: float
    mmasi: float
    params: dict
    landmarks: FaceLandmarks
    clean: np.ndarray
    pigmented: np.ndarray
    mirrored: bool = False
    history: tuple = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON-safe summary: MASI, mMASI, per-region truth, the drawn parameters and the history."""
        return {
            "masi": float(self.masi),
            "mmasi": float(self.mmasi),
            "regions": {k: {n: (float(v) if isinstance(v, float) else int(v)) for n, v in r.items()}
                        for k, r in self.regions.items()},
            "params": _json_safe(self.params),
            "mirrored": bool(self.mirrored),
            "history": _json_safe(list(self.history)),
            "image_shape": [int(s) for s in self.image.shape[:2]],
        }

    def with_truth(self, **changes) -> HeldoutCase:
        """A copy with some fields replaced (the truth recomputed by the caller)."""
        return replace(self, **changes)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    return value


def draw_parameters(rng: np.random.Generator, clear=None) -> dict:
    """Draw a phantom's parameters (the same number of draws whatever comes out).

    Distributions (docs/heldout_phantoms.md):

    - clear (no pigment): 10 % unless forced;
    - pattern: centrofacial / malar / mandibular, 1/3 each;
    - texture: blotchy / speckled / reticulated, 1/3 each;
    - pigment kind: brown (epidermal) 45 %, grey-blue (dermal) 25 %, mixed 30 % (dermal share
      of the melanin U(0.3, 0.7), varying over the face by ±0.2);
    - involvement (share of the key regions' skin inside the drawn lesion): 50 % U(0.7, 1.0),
      50 % U(0.03, 0.7);
    - darkness (requested median contrast, JND): 40 % faint U(1.0, 2.5), else U(2.5, max) with
      max 8 (brown), 6.5 (mixed), 5 (grey-blue);
    - sides: 90 % both U(0.8, 1.0); 10 % one side (random) weaker, U(0.15, 0.45);
    - site weights U(0.75, 1.0) each, lesion spread ×U(0.85, 1.3), border roughness U(0.12, 0.25).
    """
    is_clear = bool(rng.random() < _CLEAR_P)
    if clear is not None:
        is_clear = bool(clear)
    pattern = PATTERNS[int(rng.integers(3))]
    texture = fields.TEXTURES[int(rng.integers(3))]
    kind = PIGMENT_KINDS[int(rng.choice(3, p=_KIND_P))]
    mixed_share = float(rng.uniform(0.3, 0.7))
    confluent = bool(rng.random() < _CONFLUENT_P)
    share_hi, share_lo = float(rng.uniform(0.7, 1.0)), float(rng.uniform(0.03, 0.7))
    faint = bool(rng.random() < _FAINT_P)
    dark_lo, dark_hi = float(rng.uniform(1.0, 2.5)), float(rng.uniform(0.0, 1.0))
    one_sided = bool(rng.random() < _ONE_SIDED_P)
    weak_side = "right" if rng.random() < 0.5 else "left"
    sides = {"right": float(rng.uniform(0.8, 1.0)), "left": float(rng.uniform(0.8, 1.0))}
    weak = float(rng.uniform(0.15, 0.45))
    if one_sided:
        sides[weak_side] = weak
    site_jitter = {name: float(rng.uniform(0.75, 1.0)) for name in fields.SITES}
    return {
        "clear": is_clear,
        "pattern": pattern,
        "texture": texture,
        "kind": kind,
        "dermal_fraction": {"brown": 0.0, "grey-blue": 1.0, "mixed": mixed_share}[kind],
        "involvement": share_hi if confluent else share_lo,
        "darkness_jnd": dark_lo if faint else 2.5 + dark_hi * (_STRONG_MAX[kind] - 2.5),
        "side_weights": sides,
        "site_jitter": site_jitter,
        "spread": float(rng.uniform(0.85, 1.3)),
        "roughness": float(rng.uniform(0.12, 0.25)),
        "noise_seed": int(rng.integers(2**31 - 1)),
    }


def face_box(shape, points_px, iod_px: float) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) around the face outline and the forehead polygon, with a 0.3 IOD margin."""
    points_px = np.asarray(points_px, np.float64)
    corners = np.vstack([points_px[list(FACE_OUTLINE)], region_polygons(points_px, iod_px)["forehead"]])
    margin = _BOX_MARGIN_IOD * iod_px
    x0, y0 = np.floor(corners.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0) + margin).astype(int)
    return max(y0, 0), min(y1, shape[0]), max(x0, 0), min(x1, shape[1])


def encode_linear(linear) -> np.ndarray:
    """Linear sRGB in [0, 1] to uint8 sRGB (rounded)."""
    return np.clip(np.rint(linear_to_srgb(linear) * 255.0), 0, 255).astype(np.uint8)


def _paint_mask(rgb_crop, points, iod_px: float, reference_linear) -> tuple[np.ndarray, np.ndarray]:
    """Where pigment may lie (soft, 0-1: the face, less the features with a small margin and hair),
    and the depth inside the face outline (0-1)."""
    shape = rgb_crop.shape[:2]
    forehead = region_polygons(points, iod_px)["forehead"]
    up = points[10] - points[152]
    up = up / max(float(np.linalg.norm(up)), 1e-9)
    # the pigment may reach the hairline above the forehead polygon (hair itself is left out by colour)
    inside = (polygon_mask(shape, points[list(FACE_OUTLINE)]) | polygon_mask(shape, forehead)
              | polygon_mask(shape, forehead + _ABOVE_FOREHEAD_IOD * iod_px * up))
    features = np.zeros(shape, np.uint8)
    for name, indices in FEATURE_LANDMARKS.items():
        features |= polygon_mask(shape, points[list(indices)], convex_hull=(name == "nostrils")).astype(np.uint8)
    grow = max(int(round(_PAINT_FEATURE_MARGIN_IOD * iod_px)), 1)
    features = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    linear = cv2.GaussianBlur(srgb_to_linear(rgb_crop), (0, 0), max(0.01 * iod_px, 0.5))
    skinlike = skin_colour_mask(linear, reference_linear, min_luminance_ratio=0.2, max_chroma_z=6.0)
    mask = (inside & ~features.astype(bool) & skinlike).astype(np.float32)
    paint = cv2.GaussianBlur(mask, (0, 0), max(_PAINT_EDGE_SIGMA_IOD * iod_px, 0.5))
    # how far inside the face outline (0 at the outline, 1 from _OUTLINE_RAMP_IOD in)
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return paint, np.clip(depth / (_OUTLINE_RAMP_IOD * iod_px), 0.0, 1.0).astype(np.float32)


def _pigment_layers(shape, points, iod_px: float, params: dict, key_skin, paint, outline_depth, rng):
    """Unit-amplitude epidermal and dermal OD amounts (two float32 maps), before scaling.

    The site propensity fades towards the face outline (to 30 % at the outline), so that a
    confluent lesion's border near the jaw, temples and hairline is irregular, not the outline.
    """
    weights = {}
    for name, base in fields.PATTERN_SITES[params["pattern"]].items():
        side = fields.SITES[name][1]
        weights[name] = base * params["site_jitter"][name] * (params["side_weights"][side] if side else 1.0)
    propensity = fields.site_propensity(shape, points, iod_px, weights, spread=params["spread"])
    propensity *= 0.3 + 0.7 * outline_depth
    # the border noise fades out where no site reaches, so a low threshold (confluent involvement)
    # spreads the lesion past the regions around its sites, not onto unrelated parts of the face
    reach = np.sqrt(np.clip(propensity / 0.3, 0.0, 1.0))
    level_field = propensity + params["roughness"] * reach * fields.fractal_noise(shape, 0.5 * iod_px, rng)
    level = fields.threshold_for_share(level_field, key_skin, params["involvement"])
    env = fields.envelope(level_field, level, 0.035) * paint
    core = np.clip((level_field - level) / 0.25, 0.0, 1.0)
    texture = fields.texture_field(shape, params["texture"], iod_px, core, rng)
    amount = env * texture * (0.65 + 0.35 * core)
    dermal = np.clip(params["dermal_fraction"] + (0.2 * fields.smooth_noise(shape, 0.4 * iod_px, rng)
                                                   if params["kind"] == "mixed" else 0.0), 0.0, 1.0)
    epi = cv2.GaussianBlur(amount * (1.0 - dermal), (0, 0), max(_BLUR_IOD["epidermal"] * iod_px, 0.3))
    derm = cv2.GaussianBlur(amount * dermal, (0, 0), max(_BLUR_IOD["dermal"] * iod_px, 0.3))
    return epi.astype(np.float32), derm.astype(np.float32)


def _paint(linear_crop, surface, epi, derm, scale: float) -> np.ndarray:
    """Melanin absorbs the light that entered the skin; the surface reflection passes untouched."""
    od = scale * (epi[..., None] * EPIDERMAL_MELANIN.astype(np.float32) + derm[..., None] * DERMAL_MELANIN.astype(np.float32))
    return (linear_crop - surface[..., None]) * np.exp(-np.minimum(od, _MAX_OD)) + surface[..., None]


def _key_median(contrast, skin, key_mask) -> float:
    values = contrast[skin & key_mask & (contrast >= 1.0)]
    if values.size < 50:
        values = contrast[skin & key_mask]
        values = values[values >= np.quantile(values, 0.9)] if values.size else values
    return float(np.median(values)) if values.size else 0.0


def draw_case(rgb, seed, *, landmarks: FaceLandmarks | None = None, clear=None, **overrides) -> HeldoutCase:
    """Paint a melasma phantom on a clean face photo and compute its truth.

    Parameters
    ----------
    rgb : numpy.ndarray, uint8 (H, W, 3)
        A clean frontal face photo.
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``.
    landmarks : FaceLandmarks, optional
        Of ``rgb``; detected when None.
    clear : bool, optional
        True: no pigment; False: pigment; None: drawn (10 % clear).
    **overrides
        Replace drawn parameters (keys of :func:`draw_parameters`, e.g. ``pattern="malar"``,
        ``darkness_jnd=6.0``); every other draw stays the same.

    Returns
    -------
    HeldoutCase
    """
    rgb = np.ascontiguousarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("rgb must be an (H, W, 3) uint8 array")
    if landmarks is None:
        landmarks = detect_landmarks(rgb)
    points, iod = np.asarray(landmarks.points_px, np.float64), float(landmarks.iod_px)
    rng = np.random.default_rng(seed)
    params = draw_parameters(rng, clear)
    unknown = set(overrides) - set(params)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}")
    params.update(overrides)
    if params["kind"] not in PIGMENT_KINDS or params["pattern"] not in PATTERNS:
        raise ValueError("kind must be one of %s and pattern one of %s" % (PIGMENT_KINDS, PATTERNS))
    if "kind" in overrides and "dermal_fraction" not in overrides:
        params["dermal_fraction"] = {"brown": 0.0, "grey-blue": 1.0, "mixed": 0.5}[params["kind"]]
    skin = visible_skin(rgb, points, iod)
    masks = region_masks(rgb.shape, points, iod, exclude=~skin)
    linear = srgb_to_linear(rgb)
    reference = linear[(masks["right_malar"] | masks["left_malar"] | masks["forehead"]) & skin]
    if reference.shape[0] < 50:
        reference = linear[skin] if skin.sum() >= 50 else linear.reshape(-1, 3)
    skin_lab = xyz_to_lab(linear_rgb_to_xyz(np.median(reference, axis=0).astype(np.float64)))
    params["ita_deg"] = float(ita_deg(skin_lab))
    params["ita_category"] = ita_category(params["ita_deg"])
    pigmented = rgb.copy()
    contrast = np.zeros(rgb.shape[:2], np.float32)
    if not params["clear"]:
        y0, y1, x0, x1 = box = face_box(rgb.shape, points, iod)
        crop_points = points - (x0, y0)
        key = np.zeros(rgb.shape[:2], bool)
        for name in fields.PATTERN_KEY_REGIONS[params["pattern"]]:
            key |= masks[name]
        key &= skin
        paint, outline_depth = _paint_mask(rgb[y0:y1, x0:x1], crop_points, iod, reference)
        layer_rng = np.random.default_rng(params["noise_seed"])
        epi, derm = _pigment_layers((y1 - y0, x1 - x0), crop_points, iod, params, key[y0:y1, x0:x1], paint,
                                    outline_depth, layer_rng)
        direction = mixed_direction(params["dermal_fraction"])
        scale = amount_for_contrast(np.median(reference, axis=0), params["darkness_jnd"], direction)
        linear_crop = linear[y0:y1, x0:x1]
        surface = sheen(linear_crop, np.median(reference, axis=0), blur_px=max(0.015 * iod, 1.0))
        for _ in range(3):  # rescale until the key regions' median contrast is the requested one
            pigmented[y0:y1, x0:x1] = encode_linear(_paint(linear_crop, surface, epi, derm, scale))
            contrast = contrast_map(pigmented, rgb, iod, box=box)
            got = _key_median(contrast, skin, key)
            if got <= 0 or abs(got / params["darkness_jnd"] - 1.0) < 0.03:
                break
            scale *= float(np.clip(params["darkness_jnd"] / got, 0.5, 2.0))
        params["amplitude_od"] = float(scale)
    regions = region_truth(contrast, skin, points, iod)
    return HeldoutCase(
        image=pigmented, truth_mask=skin & (contrast >= 1.0), skin_mask=skin, contrast_jnd=contrast,
        regions=regions, masi=masi_of(regions), mmasi=masi_of(regions, modified=True), params=params,
        landmarks=landmarks, clean=rgb.copy(), pigmented=pigmented.copy(),
    )
