"""Simulated melasma on a real face photo, with its measured truth.

See the package docstring (:mod:`pigmentscan.simulation`) for how the truth is defined.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .. import colour, regions
from ..landmarks import FaceLandmarks, detect_landmarks
from . import fields, geometry, truth
from .context import FaceContext, face_context
from .design import LesionDesign, design_contrast, paint_od, solve_amount
from .spectra import PigmentDirections, SkinOptics, pigment_directions

__all__ = ["PIGMENTS", "LesionParams", "SimulatedFace", "simulate_melasma", "draw_case", "draw_params", "mirror"]

#: Pigment depth types (Wood's-lamp classification, Sanchez 1981).
PIGMENTS = ("epidermal", "dermal", "mixed")
# Sanchez et al. 1981 (76 patients): centrofacial 63 %, malar 21 %, mandibular 16 %.
_PATTERN_SHARES = {"centrofacial": 0.63, "malar": 0.21, "mandibular": 0.16}
# Epidermal type the most common (Sanchez 1981); these shares are a design choice.
_PIGMENT_SHARES = {"epidermal": 0.6, "mixed": 0.25, "dermal": 0.15}
# Darkness drawn log-uniformly from 1.2 JND to this bound (dermal pigment is less contrasted).
_DARKNESS_MAX_JND = {"epidermal": 8.0, "mixed": 6.0, "dermal": 4.0}
_DARKNESS_MIN_JND = 1.2
# Share of drawn cases that are confluent (involvement 0.9-1.0); the rest spread over 0.05-0.9.
_CONFLUENT_SHARE = 0.25
#: Share of :func:`draw_case` cases with no pigment when ``clear`` is not given (design choice).
CLEAR_SHARE = 0.15
# Re-paint (scaling the pigment, at most this many times) while the measured median contrast
# misses the asked darkness by more than the tolerance.
_DARKNESS_TOLERANCE, _CORRECTIONS = 0.03, 3


@dataclass(frozen=True)
class LesionParams:
    """What was asked of a phantom (``pattern`` None: no pigment)."""

    pattern: str | None
    texture: str | None
    pigment: str | None
    darkness_jnd: float
    involvement: float
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class SimulatedFace:
    """A photo with simulated pigment, and its truth (docs/simulation.md).

    Attributes
    ----------
    image : numpy.ndarray, uint8 (H, W, 3)
        The photo as it would be scored (pigment, then any confounders).
    clean : numpy.ndarray, uint8 (H, W, 3)
        The same photo without pigment (and without confounders), in the same frame.
    truth_mask : numpy.ndarray of bool (H, W)
        Involved skin: contrast ≥ 1 JND on visible skin.
    contrast_jnd : numpy.ndarray of float32 (H, W)
        Pigment contrast at the physician's scale, JND, measured on the clean photo.
    pigment_od : numpy.ndarray of float32 (H, W)
        Amount of pigment painted (optical density at 500 nm).
    skin_mask : numpy.ndarray of bool (H, W)
        Visible skin of the phantom.
    landmarks : FaceLandmarks
        Of this image (moved with the pixels by :func:`retake`).
    params : LesionParams
    regions : dict of str to RegionTruth
    masi, mmasi : float
    directions : PigmentDirections
        Pigment directions derived for this face (:mod:`.spectra`).
    design : dict
        What the design aimed at and reached on the working grid.
    confounders : tuple of dict
        Confounders applied to ``image`` after the pigment, in order.
    """

    image: np.ndarray
    clean: np.ndarray
    truth_mask: np.ndarray
    contrast_jnd: np.ndarray
    pigment_od: np.ndarray
    skin_mask: np.ndarray
    landmarks: FaceLandmarks
    params: LesionParams
    regions: dict
    masi: float
    mmasi: float
    directions: PigmentDirections
    design: dict
    confounders: tuple = ()

    @property
    def truth(self) -> dict:
        """Per-region truth as plain dicts: ``face.truth["right_malar"]["area_pct"]``."""
        return {key: value.to_dict() for key, value in self.regions.items()}

    def with_image(self, image: np.ndarray, confounder: dict) -> SimulatedFace:
        """The same truth with a new image (a confounder applied); the confounder is recorded."""
        return dataclasses.replace(self, image=image, confounders=self.confounders + (dict(confounder),))

    def to_dict(self) -> dict:
        """Everything but the arrays, JSON-ready."""
        return {
            "params": self.params.to_dict(),
            "masi": self.masi,
            "mmasi": self.mmasi,
            "regions": self.truth,
            "involved_px": int(self.truth_mask.sum()),
            "image_shape": list(self.image.shape),
            "iod_px": self.landmarks.iod_px,
            "directions": self.directions.to_dict(),
            "design": dict(self.design),
            "confounders": [dict(c) for c in self.confounders],
        }


def draw_params(rng: np.random.Generator) -> dict:
    """Draw pattern, texture, pigment type, darkness and involvement from the evaluation distributions.

    Pattern by Sanchez 1981's frequencies; texture uniform; pigment 60 % epidermal,
    25 % mixed, 15 % dermal; darkness log-uniform from 1.2 JND to 8 (epidermal), 6
    (mixed) or 4 (dermal) JND, so about half the cases are faint (≤ 3 JND);
    involvement 0.9-1.0 in a quarter of the cases (confluent, whole region), else
    uniform over 0.05-0.9.
    """
    pattern = str(rng.choice(list(_PATTERN_SHARES), p=list(_PATTERN_SHARES.values())))
    texture = str(rng.choice(fields.TEXTURES))
    pigment = str(rng.choice(list(_PIGMENT_SHARES), p=list(_PIGMENT_SHARES.values())))
    high = _DARKNESS_MAX_JND[pigment]
    darkness = float(np.exp(rng.uniform(np.log(_DARKNESS_MIN_JND), np.log(high))))
    involvement = float(rng.uniform(0.9, 1.0) if rng.random() < _CONFLUENT_SHARE else rng.uniform(0.05, 0.9))
    return {"pattern": pattern, "texture": texture, "pigment": pigment, "darkness_jnd": darkness,
            "involvement": involvement}


def _key_masks(context: FaceContext, pattern: str, skin, scale: float) -> list:
    """Areas whose mean involved share is the asked involvement, on a grid at ``scale``."""
    points, iod = context.points_crop * scale, context.iod_px * scale
    if pattern == "mandibular":
        return [(geometry.polyline_distance(skin.shape, context.points_crop, line, scale=scale)
                 <= fields.JAW_BAND_IOD * iod) & skin for line in geometry.JAW_LINES.values()]
    masks = regions.region_masks(skin.shape, points, iod, exclude=~skin)
    keys = ("right_malar", "left_malar") if pattern == "malar" else regions.REGION_KEYS
    return [masks[k] for k in keys]


def _direction(directions: PigmentDirections, pigment: str) -> np.ndarray:
    if pigment == "epidermal":
        return np.asarray(directions.epidermal)
    if pigment == "dermal":
        return np.asarray(directions.dermal)
    return 0.5 * (np.asarray(directions.epidermal) + np.asarray(directions.dermal))


def face_directions(context: FaceContext, optics: SkinOptics) -> PigmentDirections:
    """The pigment directions (:func:`pigment_directions`) of the face's own skin: its cheeks' median colour."""
    small_linear = colour.srgb_to_linear(context.small(context.crop))
    masks = regions.region_masks(context.small_shape, context.points_crop * context.scale,
                                 context.iod_px * context.scale, exclude=~context.skin_small)
    cheeks = masks["right_malar"] | masks["left_malar"]
    pixels = small_linear[cheeks] if cheeks.sum() >= 20 else small_linear[context.skin_small]
    return pigment_directions(np.median(pixels, axis=0) if len(pixels) else [0.4, 0.27, 0.2], optics)


def simulate_melasma(image, *, seed: int = 0, pattern=None, darkness_jnd=None, texture=None, involvement=None,
                     pigment=None, landmarks=None, clear: bool = False, design: LesionDesign = LesionDesign(),
                     optics: SkinOptics = SkinOptics()) -> SimulatedFace:
    """Paint melasma on a face photo and measure its truth.

    Parameters
    ----------
    image : str, path or numpy.ndarray
        A frontal face photo (RGB uint8 array or a file).
    seed : int
        Seeds every random choice; the same inputs give the same phantom.
    pattern : {"centrofacial", "malar", "mandibular"}, optional
    darkness_jnd : float, optional
        Median contrast over the involved skin of the pattern's key areas, JND (> 1).
    texture : {"speckled", "reticulated", "blotchy"}, optional
    involvement : float, optional
        Mean involved share of the key areas, 0-1 (malar: both malar regions;
        centrofacial: the four regions; mandibular: bands along both jaw lines).
    pigment : {"epidermal", "dermal", "mixed"}, optional
        Each argument left as None is drawn from the seed (:func:`draw_params`).
    landmarks : FaceLandmarks or array_like, optional
        Detected when omitted.
    clear : bool
        No pigment at all: the truth of the unchanged photo (all zero).
    design : LesionDesign
    optics : SkinOptics

    Returns
    -------
    SimulatedFace
        ``params`` records what was asked; the truth is what was measured.
    """
    params_rng, field_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    drawn = draw_params(params_rng)
    asked = {"pattern": pattern, "texture": texture, "pigment": pigment, "darkness_jnd": darkness_jnd,
             "involvement": involvement}
    chosen = {k: (drawn[k] if v is None else v) for k, v in asked.items()}
    if clear or chosen["involvement"] <= 0:
        chosen = {"pattern": None, "texture": None, "pigment": None, "darkness_jnd": 0.0, "involvement": 0.0}
    elif chosen["pattern"] not in fields.PATTERNS or chosen["texture"] not in fields.TEXTURES \
            or chosen["pigment"] not in PIGMENTS:
        raise ValueError(f"unknown pattern, texture or pigment: {chosen}")
    elif not 1.0 < chosen["darkness_jnd"] <= 20.0 or not 0.0 <= chosen["involvement"] <= 1.0:
        raise ValueError("darkness_jnd must be within (1, 20] and involvement within [0, 1]")
    params = LesionParams(seed=int(seed), darkness_jnd=float(chosen.pop("darkness_jnd")),
                          involvement=float(chosen.pop("involvement")), **chosen)
    context = face_context(image, landmarks)
    directions = face_directions(context, optics)
    crop = context.crop
    amount = np.zeros(crop.shape[:2], np.float32)
    info = {"coverage": 0.0, "scale": 0.0, "involvement": 0.0, "darkness_jnd": 0.0}
    if params.pattern is not None:
        amount, info = _design_amount(context, params, directions, design, field_rng)
    direction = _direction(directions, params.pigment) if params.pattern else np.zeros(3)
    painted = paint_od(crop, amount, direction)
    contrast = truth.contrast_jnd(crop, painted, context.iod_px)
    if params.pattern is not None:
        keys = np.any(_key_masks(context, params.pattern, context.skin, 1.0), axis=0)
        for _ in range(_CORRECTIONS):
            key = keys & (contrast >= 1.0)
            measured = float(np.median(contrast[key])) if key.any() else 0.0
            if measured <= 0 or abs(measured / params.darkness_jnd - 1.0) <= _DARKNESS_TOLERANCE:
                break
            amount = np.minimum(amount * np.float32(params.darkness_jnd / measured), np.float32(design.max_amount))
            painted = paint_od(crop, amount, direction)
            contrast = truth.contrast_jnd(crop, painted, context.iod_px)
    contrast = np.where(context.skin, contrast, 0.0).astype(np.float32)
    scores = truth.region_truth(contrast, context.skin, context.points_crop, context.iod_px)
    masi, mmasi = truth.totals(scores)
    image_out = context.rgb.copy()
    x0, y0, x1, y1 = context.box
    image_out[y0:y1, x0:x1] = painted
    return SimulatedFace(
        image=image_out, clean=context.rgb, truth_mask=context.full(contrast >= 1.0), contrast_jnd=context.full(contrast),
        pigment_od=context.full(amount.astype(np.float32)), skin_mask=context.full(context.skin),
        landmarks=context.landmarks, params=params, regions=scores, masi=masi, mmasi=mmasi, directions=directions,
        design={**info, "lesion_design": design.to_dict(), "optics": optics.to_dict()},
    )


def _design_amount(context: FaceContext, params: LesionParams, directions, design, rng):
    scale, iod_small = context.scale, context.iod_px * context.scale
    skin_small = context.skin_small
    u, v = geometry.face_frame(context.points_crop).coordinates(skin_small.shape, scale)
    potential = fields.pattern_potential(skin_small.shape, context.points_crop, context.iod_px, params.pattern,
                                         scale=scale, reach_iod=design.reach_iod)
    sigma = truth.physician_sigma_px(iod_small)
    target, info = design_contrast(rng, u, v, potential, skin_small, _key_masks(context, params.pattern, skin_small, scale),
                                   texture=params.texture, darkness_jnd=params.darkness_jnd,
                                   involvement=params.involvement, iod_px=iod_small, physician_sigma_px=sigma,
                                   design=design)
    linear = colour.srgb_to_linear(context.small(context.crop)).astype(np.float32)
    base = cv2.GaussianBlur(linear, (0, 0), sigma) if sigma > 0.3 else linear
    small_amount = solve_amount(base, target, _direction(directions, params.pigment), max_amount=design.max_amount)
    amount = geometry.resize_to(small_amount, context.crop.shape) * context.skin
    return amount.astype(np.float32), info


def draw_case(image, seed: int, *, clear=None, landmarks=None, clear_share: float = CLEAR_SHARE) -> SimulatedFace:
    """One case of an evaluation set, every choice drawn from ``seed``.

    Parameters
    ----------
    image : str, path or numpy.ndarray
    seed : int
    clear : bool, optional
        True: no pigment; False: always pigment; None: no pigment with probability
        ``clear_share`` (drawn from the seed).
    landmarks : optional
        As for :func:`simulate_melasma`.
    """
    if clear is None:
        clear = bool(np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2]).random() < clear_share)
    return simulate_melasma(image, seed=seed, landmarks=landmarks, clear=clear)


_SWAP = {"right_malar": "left_malar", "left_malar": "right_malar"}


def mirror(face: SimulatedFace, *, landmarks=None) -> SimulatedFace:
    """The left-right flipped photo, with its truth: the flipped maps, right and left regions swapped.

    The patient's right cheek is image-right in a mirrored photo, and a landmark
    detector calls it the left: so the truth of ``right_malar`` in the mirror is the
    truth of ``left_malar`` in the original, value for value. Landmarks are detected
    on the flipped clean photo unless given.
    """
    flip = (lambda a: np.ascontiguousarray(a[:, ::-1]))
    clean = flip(face.clean)
    marks = detect_landmarks(clean) if landmarks is None else landmarks
    return dataclasses.replace(
        face, image=flip(face.image), clean=clean, truth_mask=flip(face.truth_mask), contrast_jnd=flip(face.contrast_jnd),
        pigment_od=flip(face.pigment_od), skin_mask=flip(face.skin_mask), landmarks=marks,
        regions={k: face.regions[_SWAP.get(k, k)] for k in face.regions},
        confounders=face.confounders + ({"kind": "mirror"},),
    )
