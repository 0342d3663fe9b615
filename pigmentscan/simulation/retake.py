"""A retake: a new photo of the same skin, for test-retest. The truth moves with the pixels."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .. import colour
from ..landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE, FaceLandmarks
from . import truth
from .melasma import SimulatedFace

__all__ = ["RetakeParams", "retake", "draw_retake"]


@dataclass(frozen=True)
class RetakeParams:
    """What changes between two photos of the same skin (all design ranges, see :func:`draw_retake`).

    Attributes
    ----------
    shift_iod : tuple of float
        (dx, dy) translation of the face, IOD.
    rotation_deg : float
        In-plane rotation about the midpoint of the eyes (positive: counter-clockwise on screen).
    scale : float
        Magnification (1: unchanged).
    exposure_ev : float
        Exposure change, EV.
    white_balance : tuple of float
        Gains of the red and blue channels (green 1), linear light.
    noise : float
        Sensor noise: standard deviation in linear light at 18 % grey (shot noise,
        ∝ √signal, plus a read-noise floor of a quarter of it).
    jpeg_quality : int
        Quality of the JPEG re-compression (OpenCV / libjpeg scale).
    """

    shift_iod: tuple = (0.0, 0.0)
    rotation_deg: float = 0.0
    scale: float = 1.0
    exposure_ev: float = 0.0
    white_balance: tuple = (1.0, 1.0)
    noise: float = 0.0
    jpeg_quality: int = 92

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def draw_retake(seed: int) -> RetakeParams:
    """Retake changes drawn from ``seed``: shift up to ±0.08 IOD, rotation ±2.5°, scale ±4 %,
    exposure ±0.3 EV, red/blue gains ±4 %, noise 0.002-0.008, JPEG quality 80-95 (design ranges
    for a second visit on the same rig)."""
    rng = np.random.default_rng(seed)
    return RetakeParams(
        shift_iod=(float(rng.uniform(-0.08, 0.08)), float(rng.uniform(-0.08, 0.08))),
        rotation_deg=float(rng.uniform(-2.5, 2.5)),
        scale=float(1.0 + rng.uniform(-0.04, 0.04)),
        exposure_ev=float(rng.uniform(-0.3, 0.3)),
        white_balance=(float(1.0 + rng.uniform(-0.04, 0.04)), float(1.0 + rng.uniform(-0.04, 0.04))),
        noise=float(rng.uniform(0.002, 0.008)),
        jpeg_quality=int(rng.integers(80, 96)),
    )


def _photometric(rgb, params: RetakeParams, rng, *, noise: bool) -> np.ndarray:
    linear = colour.srgb_to_linear(rgb).astype(np.float32)
    gains = np.array([params.white_balance[0], 1.0, params.white_balance[1]], np.float32) * 2.0**params.exposure_ev
    linear *= gains
    if noise and params.noise > 0:
        sigma = params.noise * np.sqrt(np.maximum(linear, 0.0) / 0.18 + 0.0625)
        linear += sigma * rng.standard_normal(linear.shape).astype(np.float32)
    out = np.clip(np.rint(colour.linear_to_srgb(linear) * 255.0), 0, 255).astype(np.uint8)
    if noise:
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
        out = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out


def retake(face: SimulatedFace, *, seed: int = 0, params: RetakeParams | None = None) -> SimulatedFace:
    """A new photo of the same subject: small shift/rotation/scale, exposure, white balance, noise, JPEG.

    Parameters
    ----------
    face : SimulatedFace
        Its ``image`` (pigment and any confounders) is re-photographed.
    seed : int
        Draws the changes (:func:`draw_retake`) and the noise.
    params : RetakeParams, optional
        The changes, instead of drawing them.

    Returns
    -------
    SimulatedFace
        The image, the clean photo (same geometry, exposure and white balance; no
        noise), the contrast, pigment, skin and truth maps warped by the same affine
        map, the landmarks moved by it, and the region truth re-graded on the moved
        maps. The pigment is the same skin's: erythema, lighting and this retake add
        no involvement.
    """
    params = draw_retake(seed) if params is None else params
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    points = face.landmarks.points_px
    iod = face.landmarks.iod_px
    centre = tuple(map(float, (points[RIGHT_IRIS_CENTRE] + points[LEFT_IRIS_CENTRE]) / 2.0))
    matrix = cv2.getRotationMatrix2D(centre, params.rotation_deg, params.scale)
    matrix[:, 2] += np.asarray(params.shift_iod) * iod
    height, width = face.image.shape[:2]

    def warp(array, interpolation=cv2.INTER_LINEAR, border=cv2.BORDER_CONSTANT):
        return cv2.warpAffine(array, matrix, (width, height), flags=interpolation, borderMode=border)

    image = _photometric(warp(face.image, border=cv2.BORDER_REFLECT101), params, rng, noise=True)
    clean = _photometric(warp(face.clean, border=cv2.BORDER_REFLECT101), params, rng, noise=False)
    contrast = warp(face.contrast_jnd)
    skin = warp(face.skin_mask.astype(np.float32)) >= 0.5
    contrast = np.where(skin, contrast, 0.0).astype(np.float32)
    moved = np.column_stack([points, np.ones(len(points))]) @ matrix.T
    landmarks = FaceLandmarks(moved, face.landmarks.depth_px * params.scale, (height, width), face.landmarks.n_faces)
    scores = truth.region_truth(contrast, skin, moved, landmarks.iod_px)
    masi, mmasi = truth.totals(scores)
    return dataclasses.replace(
        face, image=image, clean=clean, truth_mask=contrast >= 1.0, contrast_jnd=contrast,
        pigment_od=warp(face.pigment_od), skin_mask=skin, landmarks=landmarks, regions=scores, masi=masi, mmasi=mmasi,
        confounders=face.confounders + ({"kind": "retake", "seed": int(seed), **params.to_dict()},),
    )
