"""What is not lesion: erythema, a retake of the same skin, a mirrored photo.

* :func:`add_flush` adds haemoglobin (redness), diffuse or patchy, to a clean photo or to a
  phantom. It adds no involvement: on a case the truth is kept as it is (grading_scale.md:
  redness is not pigment).
* :func:`retake` photographs the same skin again: a small shift, scale and turn (a few
  pixels), an exposure change of a few %, fresh sensor noise and a JPEG round trip. The
  truth moves with the pixels: the clean and the pigmented photos go through the same
  geometry and exposure, and the contrast is measured again between them (before noise and
  compression, which are not pigment).
* :func:`mirror` flips the photo left-right: the maps flip, and the right and left malar
  truths swap (the patient's right cheek is now where a detector looks for the left).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import srgb_to_linear
from ..landmarks import FaceLandmarks, detect_landmarks
from . import fields
from .case import HeldoutCase, encode_linear, face_box
from .colour_model import HAEMOGLOBIN, sheen
from .truth import contrast_map, masi_of, region_truth

__all__ = ["FLUSH_KINDS", "MAX_FLUSH_OD", "flush_amount", "add_flush", "retake", "mirror"]

FLUSH_KINDS = ("diffuse", "patchy")
#: Haemoglobin OD at ``strength=1`` (a strong flush: about +8 a* on light skin).
MAX_FLUSH_OD = 0.35
# Where flushing shows (cheeks, nose, chin, central forehead), with weights.
_FLUSH_SITES = {"cheek_right": 1.0, "cheek_left": 1.0, "nose": 0.9, "chin": 0.6,
                "forehead_right": 0.45, "forehead_left": 0.45, "upper_lip": 0.5}


def flush_amount(shape, points_px, iod_px: float, *, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Haemoglobin amount (0-1) over the face: a diffuse flush or patchy redness.

    ``diffuse``: broad, smooth over the cheeks and nose (sites widened ×1.6, slow ±15 %
    variation). ``patchy``: blotches 0.1-0.25 IOD across on and around the cheeks, nose and chin,
    sharp-ish and irregular (as after a laser or microneedling session).
    """
    if kind not in FLUSH_KINDS:
        raise ValueError(f"kind must be one of {FLUSH_KINDS}, not {kind!r}")
    if kind == "diffuse":
        base = fields.site_propensity(shape, points_px, iod_px, _FLUSH_SITES, spread=1.6)
        return np.clip(base * (1.0 + 0.15 * fields.smooth_noise(shape, 0.5 * iod_px, rng)), 0.0, 1.0)
    base = fields.site_propensity(shape, points_px, iod_px, _FLUSH_SITES, spread=1.3)
    blobs = fields.smooth_noise(shape, rng.uniform(0.15, 0.3) * iod_px, rng)
    patches = fields.envelope(blobs + 1.2 * base, 1.3, 0.25)
    return np.clip(patches * (0.7 + 0.3 * fields.smooth_noise(shape, 0.1 * iod_px, rng)), 0.0, 1.0)


def _redden(rgb, amount, strength: float, box) -> np.ndarray:
    """Haemoglobin added inside ``box`` (y0, y1, x0, x1); the surface reflection is spared."""
    y0, y1, x0, x1 = box
    out = np.array(rgb, dtype=np.uint8, copy=True)
    linear = srgb_to_linear(out[y0:y1, x0:x1])
    inside = amount > 0.5
    skin = np.median(linear[inside], axis=0) if inside.any() else np.median(linear.reshape(-1, 3), axis=0)
    surface = sheen(linear, skin)
    od = (MAX_FLUSH_OD * float(strength)) * amount[..., None] * HAEMOGLOBIN.astype(np.float32)
    out[y0:y1, x0:x1] = encode_linear((linear - surface[..., None]) * np.exp(-od) + surface[..., None])
    return out


def add_flush(case_or_rgb, *, strength: float, kind: str, seed, landmarks: FaceLandmarks | None = None):
    """Add erythema (haemoglobin) to a phantom or to a clean photo.

    Parameters
    ----------
    case_or_rgb : HeldoutCase or numpy.ndarray (H, W, 3) uint8
    strength : float
        0 (none) to 1 (strong: peak haemoglobin OD :data:`MAX_FLUSH_OD`); larger is allowed.
    kind : {"diffuse", "patchy"}
    seed : int
    landmarks : FaceLandmarks, optional
        For a plain photo (detected when None); a case uses its own.

    Returns
    -------
    HeldoutCase with the same truth (the redness is on the clean and pigmented photos too, so a
    later :func:`retake` measures the pigment alone), or an RGB uint8 array.
    """
    if strength < 0:
        raise ValueError("strength must be >= 0")
    rng = np.random.default_rng(seed)
    if isinstance(case_or_rgb, HeldoutCase):
        case = case_or_rgb
        points, iod = case.landmarks.points_px, case.landmarks.iod_px
        box = y0, y1, x0, x1 = face_box(case.image.shape, points, iod)
        amount = flush_amount((y1 - y0, x1 - x0), points - (x0, y0), iod, kind=kind, rng=rng)
        step = {"op": "flush", "kind": kind, "strength": float(strength), "seed": _seed_repr(seed)}
        return case.with_truth(image=_redden(case.image, amount, strength, box),
                               clean=_redden(case.clean, amount, strength, box),
                               pigmented=_redden(case.pigmented, amount, strength, box), history=case.history + (step,))
    rgb = np.ascontiguousarray(case_or_rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected a HeldoutCase or an (H, W, 3) uint8 array")
    landmarks = detect_landmarks(rgb) if landmarks is None else landmarks
    points, iod = np.asarray(landmarks.points_px), landmarks.iod_px
    box = y0, y1, x0, x1 = face_box(rgb.shape, points, iod)
    amount = flush_amount((y1 - y0, x1 - x0), points - (x0, y0), iod, kind=kind, rng=rng)
    return _redden(rgb, amount, strength, box)


def _seed_repr(seed):
    return int(seed) if isinstance(seed, (int, np.integer)) else str(seed)


def _affine(shape, rng) -> tuple[np.ndarray, dict]:
    height, width = shape[:2]
    scale = float(rng.uniform(0.985, 1.015))
    angle = float(rng.uniform(-0.5, 0.5))
    shift = rng.uniform(-4.0, 4.0, size=2)
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), angle, scale)
    matrix[:, 2] += shift
    return matrix, {"scale": scale, "angle_deg": angle, "shift_px": [float(shift[0]), float(shift[1])]}


def _warp(array, matrix, interpolation):
    height, width = array.shape[:2]
    return cv2.warpAffine(array, matrix, (width, height), flags=interpolation, borderMode=cv2.BORDER_REFLECT)


def _exposed(rgb, gain: float) -> np.ndarray:
    return encode_linear(srgb_to_linear(rgb) * gain)


def retake(case: HeldoutCase, *, seed) -> HeldoutCase:
    """The same skin photographed again (module docstring); the truth moves with the pixels.

    Draws: scale U(0.985, 1.015), rotation U(-0.5, 0.5)°, shift U(-4, 4) px each axis (about
    the image centre); exposure gain U(0.95, 1.05) on linear light; sensor noise with variance
    ``k * linear + 1e-6`` (k U(2e-5, 8e-5)); JPEG quality U(80, 95).
    """
    rng = np.random.default_rng(seed)
    matrix, geometry = _affine(case.image.shape, rng)
    gain = float(rng.uniform(0.95, 1.05))
    shot = float(rng.uniform(2e-5, 8e-5))
    quality = int(rng.integers(80, 96))
    clean = _exposed(_warp(case.clean, matrix, cv2.INTER_LINEAR), gain)
    pigmented = _exposed(_warp(case.pigmented, matrix, cv2.INTER_LINEAR), gain)
    linear = srgb_to_linear(pigmented).astype(np.float32)
    noise = rng.standard_normal(linear.shape).astype(np.float32) * np.sqrt(shot * linear + 1e-6)
    noisy = encode_linear(np.clip(linear + noise, 0.0, 1.0))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    image = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) if ok else noisy
    points = np.c_[case.landmarks.points_px, np.ones(len(case.landmarks.points_px))] @ matrix.T
    landmarks = FaceLandmarks(points, case.landmarks.depth_px * geometry["scale"], tuple(case.image.shape[:2]),
                              case.landmarks.n_faces)
    iod = landmarks.iod_px
    skin = _warp(case.skin_mask.astype(np.uint8), matrix, cv2.INTER_NEAREST).astype(bool)
    skin &= ~((image.max(axis=-1) >= 250) | (image.max(axis=-1) <= 8))
    box = face_box(image.shape, points, iod)
    contrast = contrast_map(pigmented, clean, iod, box=box) if case.contrast_jnd.any() else np.zeros_like(case.contrast_jnd)
    regions = region_truth(contrast, skin, points, iod, swap_sides=case.mirrored)
    step = {"op": "retake", "seed": _seed_repr(seed), **geometry, "exposure_gain": gain, "shot_noise": shot,
            "jpeg_quality": quality}
    return case.with_truth(image=image, truth_mask=skin & (contrast >= 1.0), skin_mask=skin, contrast_jnd=contrast,
                           regions=regions, masi=masi_of(regions), mmasi=masi_of(regions, modified=True),
                           landmarks=landmarks, clean=clean, pigmented=pigmented, history=case.history + (step,))


def mirror(case: HeldoutCase) -> HeldoutCase:
    """The case flipped left-right: maps flipped, right and left malar truths exchanged.

    The landmarks stay in anatomical order (:meth:`FaceLandmarks.mirrored`); ``mirrored`` is
    toggled so that truths measured later (:func:`retake`) are named as a detector would name
    them on the flipped photo.
    """
    regions = dict(case.regions)
    regions["right_malar"], regions["left_malar"] = case.regions["left_malar"], case.regions["right_malar"]
    flip = lambda a: np.ascontiguousarray(a[:, ::-1])  # noqa: E731
    return case.with_truth(image=flip(case.image), truth_mask=flip(case.truth_mask), skin_mask=flip(case.skin_mask),
                           contrast_jnd=flip(case.contrast_jnd), regions=regions, clean=flip(case.clean),
                           pigmented=flip(case.pigmented), landmarks=case.landmarks.mirrored(),
                           mirrored=not case.mirrored, history=case.history + ({"op": "mirror"},))
