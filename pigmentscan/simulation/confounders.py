"""Confounders that are not lesion: erythema and lighting. They never change the truth.

Each function takes either a :class:`~pigmentscan.simulation.SimulatedFace` (and then
returns one, with the same truth and the confounder recorded) or a photo (path or
RGB array, with optional landmarks; then it returns an RGB array), so it applies to
clean faces and on top of lesions alike. All work in linear light.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import colour, regions
from . import fields, geometry
from .context import face_context
from .melasma import SimulatedFace, face_directions
from .spectra import SkinOptics, illuminant_gains

__all__ = ["ERYTHEMA_KINDS", "LIGHT_KINDS", "add_erythema", "relight", "erythema_amount"]

ERYTHEMA_KINDS = ("diffuse", "patchy")
LIGHT_KINDS = ("side", "flash", "warm")
# Where a flush shows (design choice after the distribution of post-procedure and rosacea redness:
# cheeks and nose most, then forehead and chin).
_FLUSH_ZONES = {"right_cheek": 1.0, "left_cheek": 1.0, "nose": 0.95, "forehead": 0.7, "chin": 0.7, "upper_lip": 0.6}
# Face as an ellipsoid for shading, IOD: half-width, half-height, and the centre below the eye line.
_HEAD_A_IOD, _HEAD_B_IOD, _HEAD_CENTRE_V_IOD = 1.0, 1.45, 0.45
# Ambient share of the studio's light (the rest frontal), and the side light's angle from the
# camera axis (design choices); the side light's ambient share sets its strength.
_AMBIENT, _SIDE_ANGLE = 0.35, np.radians(60.0)
# Mired of D65 and of CIE illuminant A (2856 K): 1e6 / CCT.
_MIRED_D65, _MIRED_A = 1e6 / 6504.0, 1e6 / 2856.0


def _split(image_or_face, landmarks):
    if isinstance(image_or_face, SimulatedFace):
        face = image_or_face
        context = face_context(face.image, face.landmarks, skin=face.skin_mask)
        return face, context
    return None, face_context(image_or_face, landmarks)


def _finish(face, context, linear_full, record):
    out = np.clip(np.rint(colour.linear_to_srgb(linear_full) * 255.0), 0, 255).astype(np.uint8)
    return face.with_image(out, record) if face is not None else out


def erythema_amount(skin_linear, direction, delta_a_star: float) -> float:
    """Haemoglobin amount that raises a* of ``skin_linear`` by ``delta_a_star`` (bisection).

    Examples
    --------
    >>> h = erythema_amount([0.4, 0.27, 0.2], [0.12, 0.75, 0.66], 5.0)
    >>> lab = lambda x: colour.xyz_to_lab(colour.linear_rgb_to_xyz(np.asarray(x, float)))
    >>> after = np.asarray([0.4, 0.27, 0.2]) * np.exp(-h * np.asarray([0.12, 0.75, 0.66]))
    >>> round(float(lab(after)[1] - lab([0.4, 0.27, 0.2])[1]), 3)
    5.0
    """
    skin = np.asarray(skin_linear, float)
    direction = np.asarray(direction, float)
    a0 = colour.xyz_to_lab(colour.linear_rgb_to_xyz(skin))[1]
    lo, hi = 0.0, 5.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        a = colour.xyz_to_lab(colour.linear_rgb_to_xyz(skin * np.exp(-mid * direction)))[1]
        lo, hi = (mid, hi) if a - a0 < delta_a_star else (lo, mid)
    return 0.5 * (lo + hi)


def add_erythema(image_or_face, landmarks=None, *, strength: float = 6.0, kind: str = "diffuse", seed: int = 0,
                 optics: SkinOptics = SkinOptics()):
    """Redness made of haemoglobin: a diffuse flush or patchy redness.

    Parameters
    ----------
    image_or_face : SimulatedFace, str, path or numpy.ndarray
    landmarks : FaceLandmarks or array_like, optional
        For a photo; detected when omitted.
    strength : float
        Rise of CIELAB a* where the redness is full, on the face's median skin
        (useful range 1.5-12: ~2 just visible, 5-8 a clear flush, 10-12 a strong
        post-procedure flush).
    kind : {"diffuse", "patchy"}
        ``diffuse``: a smooth flush over cheeks and nose, less on forehead and chin (as
        after a laser, microneedling or plasma session); ``patchy``: blotches of
        redness (0.05-0.15 IOD) over the same areas, as in rosacea or flushing.
    seed : int
    optics : SkinOptics
        Depth and saturation of the added blood (:mod:`.spectra`).

    Returns
    -------
    SimulatedFace or numpy.ndarray
        The truth of a SimulatedFace is unchanged.
    """
    if kind not in ERYTHEMA_KINDS:
        raise ValueError(f"kind must be one of {ERYTHEMA_KINDS}, got {kind!r}")
    face, context = _split(image_or_face, landmarks)
    rng = np.random.default_rng(seed)
    directions = face.directions if face is not None else face_directions(context, optics)
    k = np.asarray(directions.haemoglobin)
    small_linear = colour.srgb_to_linear(context.small(context.crop))
    skin_rgb = np.median(small_linear[context.skin_small], axis=0) if context.skin_small.any() else [0.4, 0.27, 0.2]
    full_amount = erythema_amount(skin_rgb, k, float(strength))
    shape, scale, iod = context.small_shape, context.scale, context.iod_px * context.scale
    u, v = geometry.face_frame(context.points_crop).coordinates(shape, scale)
    potential = fields.pattern_potential(shape, context.points_crop, context.iod_px, "centrofacial", scale=scale,
                                         reach_iod=0.35, zone_weights=_FLUSH_ZONES)
    if kind == "diffuse":
        profile = np.clip(potential + 0.15 * fields.fractal_noise(rng, u, v, (0.15, 0.3), (1.0, 1.0)), 0.0, 1.0)
        profile = cv2.GaussianBlur(profile, (0, 0), 0.08 * iod)
    else:
        blotches = fields.fractal_noise(rng, u, v, (0.04, 0.08), (0.6, 1.0), symmetric_share=0.3)
        hard = (blotches > 0.5) & (potential > 0.3)
        profile = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), 0.02 * iod)
        profile *= np.clip(0.75 + 0.25 * fields.face_noise(rng, u, v, 0.1), 0.4, 1.2)
    profile = geometry.resize_to(profile * context.skin_small, context.crop.shape)
    linear = colour.srgb_to_linear(context.rgb).astype(np.float32)
    x0, y0, x1, y1 = context.box
    weight = cv2.GaussianBlur(context.skin.astype(np.float32), (0, 0), 0.005 * context.iod_px + 0.5)
    amount = (full_amount * profile * weight).astype(np.float32)
    linear[y0:y1, x0:x1] *= np.exp(-amount[..., None] * k.astype(np.float32))
    return _finish(face, context, linear, {"kind": f"erythema_{kind}", "strength": float(strength), "seed": int(seed)})


def _ellipsoid_normals(u, v):
    x = u / _HEAD_A_IOD
    y = (v - _HEAD_CENTRE_V_IOD) / _HEAD_B_IOD
    r = np.sqrt(x * x + y * y)
    squash = np.where(r > 0.97, 0.97 / np.maximum(r, 1e-9), 1.0)  # beyond the face: continue smoothly
    x, y = x * squash, y * squash
    return x, y, np.sqrt(np.maximum(1.0 - x * x - y * y, 0.0))


def _side_gain(nx, ny, nz, ambient):
    """New shading (ambient + a light from _SIDE_ANGLE) over the studio's (ambient + frontal light)."""
    direct = np.maximum(nx * np.sin(_SIDE_ANGLE) + nz * np.cos(_SIDE_ANGLE), 0.0)
    return (ambient + (1.0 - ambient) * direct) / (_AMBIENT + (1.0 - _AMBIENT) * nz)


def relight(image_or_face, landmarks=None, *, kind: str = "side", strength: float = 1.0, seed: int = 0):
    """Change the light of a photo: side light, flash or a warm white balance.

    Parameters
    ----------
    image_or_face : SimulatedFace, str, path or numpy.ndarray
    landmarks : FaceLandmarks or array_like, optional
    kind : {"side", "flash", "warm"}
        ``side``: the studio's frontal light is replaced by one 60° to the side (the
        subject's right or left, from the seed) on an ellipsoid head, plus ambient light
        whose share sets the strength; exposure reset so that the face's median gain
        is 1: a smooth directional gradient;
        ``strength`` is the difference between the two cheeks (u = ±0.6 IOD) in EV
        (useful 0.3-2).
        ``flash``: harder and brighter light: exposure +0.5·strength EV, shading that
        falls off towards the face's edges, and specular sheen (the illuminant's colour,
        unaffected by pigment) on the forehead centre, nose and cheek tops; ``strength``
        0-1 (1: sheen peaks of 0.35 in linear light, often burnt out).
        ``warm``: a tungsten-like cast, camera set for daylight: per-channel gains of a
        Planckian light (green kept), at a colour temperature moved from D65 towards
        CIE A (2856 K) by ``strength`` in mired (1: uncorrected tungsten; 0.5 ≈ 3900 K).
    strength : float
    seed : int

    Returns
    -------
    SimulatedFace or numpy.ndarray
        The truth of a SimulatedFace is unchanged.
    """
    if kind not in LIGHT_KINDS:
        raise ValueError(f"kind must be one of {LIGHT_KINDS}, got {kind!r}")
    face, context = _split(image_or_face, landmarks)
    rng = np.random.default_rng(seed)
    linear = colour.srgb_to_linear(context.rgb).astype(np.float32)
    record = {"kind": f"light_{kind}", "strength": float(strength), "seed": int(seed)}
    if kind == "warm":
        cct = 1e6 / (_MIRED_D65 + float(strength) * (_MIRED_A - _MIRED_D65))
        linear *= illuminant_gains(cct).astype(np.float32)
        return _finish(face, context, linear, {**record, "cct_k": cct})
    frame = geometry.face_frame(context.landmarks.points_px)
    # Shading varies slowly: compute it on a grid 8× coarser than the photo, then resize.
    step = 8
    coarse = (context.rgb.shape[0] // step + 1, context.rgb.shape[1] // step + 1)
    u, v = frame.coordinates(coarse, 1.0 / step)
    nx, ny, nz = _ellipsoid_normals(u, v)
    if kind == "side":
        side = 1.0 if rng.random() < 0.5 else -1.0
        cheeks = regions.region_masks(coarse, context.landmarks.points_px / step, context.iod_px / step)
        lit, shaded = (cheeks["left_malar"], cheeks["right_malar"]) if side > 0 else (cheeks["right_malar"],
                                                                                       cheeks["left_malar"])
        lo, hi = 0.02, 1.0  # ambient share: less ambient, harder side light
        for _ in range(40):
            ambient = 0.5 * (lo + hi)
            g = np.log2(_side_gain(side * nx, ny, nz, ambient))
            reached = np.median(g[lit]) - np.median(g[shaded]) if lit.any() and shaded.any() else 0.0
            lo, hi = (lo, ambient) if reached < float(strength) else (ambient, hi)
        gain = geometry.resize_to(_side_gain(side * nx, ny, nz, 0.5 * (lo + hi)).astype(np.float32), context.rgb.shape)
        skin_full = context.full(context.skin)
        gain /= float(np.median(gain[skin_full])) if skin_full.any() else 1.0  # exposure set on the face
        linear *= gain[..., None]
        return _finish(face, context, linear, {**record, "from_subject_side": "left" if side > 0 else "right"})
    s = float(strength)
    gain = 2.0 ** (0.5 * s) * (0.6 + 0.4 * nz) ** (0.8 * s) / (0.6 + 0.4 * 0.9) ** (0.8 * s)
    linear *= geometry.resize_to(gain.astype(np.float32), context.rgb.shape)[..., None]
    points = context.points_crop
    spots = [(points[151], 0.18, 1.0), (points[6], 0.07, 0.8), (points[1], 0.06, 1.0),
             (points[118], 0.12, 0.7), (points[347], 0.12, 0.7)]  # forehead, nose bridge/tip, cheek tops
    crop_shape = context.crop.shape[:2]
    yy, xx = np.mgrid[: crop_shape[0], : crop_shape[1]].astype(np.float32)
    sheen = np.zeros(crop_shape, np.float32)
    for (x, y), radius_iod, peak in spots:
        r = radius_iod * context.iod_px
        sheen += peak * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2.0 * r * r))
    texture = fields.face_noise(rng, *geometry.face_frame(points).coordinates(crop_shape, 1.0), 0.01)
    sheen *= np.clip(0.85 + 0.15 * texture, 0.0, None) * 0.35 * s
    sheen *= cv2.GaussianBlur(context.skin.astype(np.float32), (0, 0), 0.01 * context.iod_px)
    x0, y0, x1, y1 = context.box
    linear[y0:y1, x0:x1] += sheen[..., None]
    return _finish(face, context, linear, record)
