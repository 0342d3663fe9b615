"""Where the phantom may paint: the face's own frame, its skin, and anatomical zones.

Nothing here uses the MASI region polygons: the zones are the phantom's own
anatomy (cheeks, nose, forehead, upper lip, chin, jaw lines), drawn through
FaceMesh landmarks and deliberately larger than the regions, so that pigment runs
past the region borders as real melasma does. Sides are the patient's: FaceMesh's
low-index side (landmark 468, the right iris) is the subject's right.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import colour, regions
from ..landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE, inter_ocular_distance

__all__ = [
    "WORK_IOD_PX",
    "ZONE_LANDMARKS",
    "JAW_LINES",
    "MIRROR_PAIRS",
    "FaceFrame",
    "face_frame",
    "work_scale",
    "resize_to",
    "paint_area",
    "skin_mask",
    "zone_distance",
    "polyline_distance",
]

#: Inter-ocular distance of the working grid, px: 0.01 IOD (≈0.6 mm) is 1.3 px, finer
#: than the physician-scale blur (0.02 IOD, grading_scale.md). Design choice.
WORK_IOD_PX = 128.0

# FaceMesh subject-right -> subject-left landmark pairs used below (FaceMesh topology,
# checked by reflecting the midline on 12 London faces).
MIRROR_PAIRS = {
    143: 372, 111: 340, 117: 346, 118: 347, 119: 348, 120: 349, 47: 277, 126: 355, 142: 371, 203: 423,
    206: 426, 216: 436, 212: 432, 214: 434, 192: 416, 215: 435, 177: 401, 137: 366, 227: 447, 34: 264,
    132: 361, 58: 288, 172: 397, 136: 365, 150: 379, 149: 378, 176: 400, 148: 377, 107: 336, 66: 296,
    105: 334, 63: 293, 70: 300, 71: 301, 21: 251, 54: 284, 103: 332, 67: 297, 109: 338, 122: 351,
    188: 412, 114: 343, 217: 437, 198: 420, 131: 360, 49: 279, 64: 294, 98: 327, 48: 278, 115: 344,
    220: 440, 45: 275, 51: 281, 3: 248, 196: 419, 97: 326, 167: 393, 165: 391, 92: 322, 186: 410,
    61: 291, 37: 267, 39: 269, 40: 270, 185: 409, 83: 313, 182: 406, 106: 335, 204: 424, 211: 431,
    32: 262, 208: 428, 171: 396, 140: 369, 170: 395, 201: 421, 194: 418,
}
_MIDLINE = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 17, 18, 200, 199, 175, 152)


def _both(right: tuple) -> tuple:
    return tuple(right) + tuple(MIRROR_PAIRS.get(i, i) for i in right)


_RIGHT_CHEEK = (143, 111, 117, 118, 119, 120, 47, 126, 142, 203, 206, 216, 212, 214, 192, 215, 177, 137, 227, 34)
#: The phantom's anatomical zones, as landmark sets whose convex hull is the zone's core.
ZONE_LANDMARKS = {
    "right_cheek": _RIGHT_CHEEK,
    "left_cheek": tuple(MIRROR_PAIRS[i] for i in _RIGHT_CHEEK),
    "nose": _both((168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 122, 188, 114, 217, 198, 131, 49, 64, 98, 48, 115, 220,
                   45, 51, 3, 196)),
    "forehead": _both((9, 107, 66, 105, 63, 70, 71, 21, 54, 103, 67, 109, 10, 151)),
    "upper_lip": _both((2, 97, 167, 165, 92, 186, 61, 37, 39, 40, 185, 0)),
    "chin": _both((18, 83, 182, 106, 204, 211, 32, 208, 171, 140, 170, 201, 194, 200, 199, 175, 152)),
}
_RIGHT_JAW = (132, 58, 172, 136, 150, 149, 176, 148, 152)
#: Jaw lines (lower face outline, ear to chin), one per side: the mandibular pattern's axis.
JAW_LINES = {"right_jaw": _RIGHT_JAW, "left_jaw": tuple(MIRROR_PAIRS.get(i, i) for i in _RIGHT_JAW)}
# How far the paint area reaches above the top of the mesh (the mesh stops ~0.6 IOD above
# the brows, a forehead is ~0.9 IOD high); hair above the hairline is removed by colour.
_FOREHEAD_RAISE_IOD = 0.35
# Margins kept free of pigment around the bare features, IOD (the lid, brow hair, vermilion).
_BARE_MARGINS_IOD = {"right_eye": 0.05, "left_eye": 0.05, "right_brow": 0.02, "left_brow": 0.02, "lips": 0.01,
                     "nostrils": 0.01}


@dataclass(frozen=True)
class FaceFrame:
    """An orthonormal frame on the face, in IOD units.

    ``u`` points towards the subject's LEFT (the side of landmark 473), ``v`` down
    the midline; the origin is the midpoint between the irises projected on the
    midline. A mirrored photo keeps this meaning, because it follows the landmarks.
    """

    origin_px: tuple
    u_axis: tuple
    v_axis: tuple
    iod_px: float

    def coordinates(self, shape, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) of every pixel of an image of ``shape`` sampled at ``scale`` × the photo."""
        yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
        dx = (xx + 0.5) / scale - 0.5 - self.origin_px[0]
        dy = (yy + 0.5) / scale - 0.5 - self.origin_px[1]
        u = (dx * self.u_axis[0] + dy * self.u_axis[1]) / self.iod_px
        v = (dx * self.v_axis[0] + dy * self.v_axis[1]) / self.iod_px
        return u.astype(np.float32), v.astype(np.float32)

    def to_dict(self) -> dict:
        return {"origin_px": list(self.origin_px), "u_axis": list(self.u_axis), "v_axis": list(self.v_axis),
                "iod_px": self.iod_px}


def face_frame(points_px) -> FaceFrame:
    """The face's frame from its midline landmarks (total least squares) and irises.

    Examples
    --------
    >>> pts = np.zeros((478, 2)); pts[:, 0] = 50.0
    >>> pts[list(_MIDLINE), 1] = np.linspace(0, 100, len(_MIDLINE))
    >>> pts[RIGHT_IRIS_CENTRE] = (40, 30); pts[LEFT_IRIS_CENTRE] = (60, 30)
    >>> f = face_frame(pts); [round(c, 6) + 0.0 for c in f.u_axis + f.v_axis]
    [1.0, 0.0, 0.0, 1.0]
    """
    points = np.asarray(points_px, dtype=np.float64)
    mid = points[list(_MIDLINE)]
    centre = mid.mean(axis=0)
    direction = np.linalg.svd(mid - centre)[2][0]
    if direction @ (points[152] - points[10]) < 0:
        direction = -direction
    across = np.array([-direction[1], direction[0]])
    if across @ (points[LEFT_IRIS_CENTRE] - points[RIGHT_IRIS_CENTRE]) < 0:
        across = -across
    eyes = (points[RIGHT_IRIS_CENTRE] + points[LEFT_IRIS_CENTRE]) / 2.0
    origin = centre + ((eyes - centre) @ direction) * direction
    iod = inter_ocular_distance(points)
    return FaceFrame(tuple(map(float, origin)), tuple(map(float, across)), tuple(map(float, direction)), iod)


def work_scale(iod_px: float) -> float:
    """Scale of the working grid: IOD of :data:`WORK_IOD_PX` pixels, never upsampled."""
    return min(1.0, WORK_IOD_PX / float(iod_px))


def resize_to(array, shape, *, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """Resize a 2-D or 3-D float array to (height, width) = ``shape[:2]``."""
    array = np.asarray(array)
    if array.shape[:2] == tuple(shape[:2]):
        return array
    return cv2.resize(array, (int(shape[1]), int(shape[0])), interpolation=interpolation)


def paint_area(shape, points_px, iod_px: float, *, scale: float = 1.0) -> np.ndarray:
    """Facial skin the phantom may paint: the face outline raised to the hairline, less bare features.

    Bare features are the eyes, brows, lips and nostrils with small margins, and the
    upper eyelids (the hull of each eye and its brow), which melasma spares.

    Parameters
    ----------
    shape : tuple
        Shape of the grid (already scaled).
    points_px : array_like, shape (478, 2)
        Landmarks in pixels of the full photo.
    iod_px : float
        Inter-ocular distance in photo pixels.
    scale : float
        Grid pixels per photo pixel.
    """
    points = np.asarray(points_px, dtype=np.float64)
    frame = face_frame(points)
    outline = points[list(regions.FACE_OUTLINE)].copy()
    v = ((outline - frame.origin_px) @ np.asarray(frame.v_axis)) / iod_px
    top = v.min()
    lift = np.clip((-v - 0.2) / max(-top - 0.2, 1e-6), 0.0, 1.0) * _FOREHEAD_RAISE_IOD * iod_px
    outline -= lift[:, None] * np.asarray(frame.v_axis)[None, :]
    area = regions.polygon_mask(shape, outline * scale)
    for eye, brow in (("right_eye", "right_brow"), ("left_eye", "left_brow")):  # upper lids: not melasma skin
        lid = np.concatenate([points[list(regions.FEATURE_LANDMARKS[eye])], points[list(regions.FEATURE_LANDMARKS[brow])]])
        area &= ~regions.polygon_mask(shape, lid * scale, convex_hull=True)
    for name, indices in regions.FEATURE_LANDMARKS.items():
        feature = regions.polygon_mask(shape, points[list(indices)] * scale, convex_hull=(name == "nostrils"))
        margin = _BARE_MARGINS_IOD[name] * iod_px * scale
        distance = cv2.distanceTransform((~feature).astype(np.uint8), cv2.DIST_L2, 3)
        area &= distance > margin
    return area


def skin_mask(rgb, points_px, iod_px: float, *, scale: float = 1.0, burnt_level: int = 250) -> np.ndarray:
    """The face's visible skin on a grid: paint area less hair, deep shadow and burnt-out glare.

    Parameters
    ----------
    rgb : numpy.ndarray
        The photo sampled on the grid (uint8).
    points_px, iod_px, scale
        As for :func:`paint_area`.
    burnt_level : int
        A pixel with any channel at or above this code value is burnt out (glare).

    Returns
    -------
    numpy.ndarray of bool
        Skin whose colour (at 0.02 IOD) lies near the face's own skin: CIELAB L* no
        more than max(20, 4·MAD) below or 30 above the median of the central face,
        and chroma within 22 of it (hair, brows, beard shadow and background fail).
    """
    area = paint_area(rgb.shape, points_px, iod_px, scale=scale)
    sigma = 0.02 * iod_px * scale
    lab = colour.rgb_to_lab(cv2.GaussianBlur(rgb, (0, 0), sigma) if sigma > 0.5 else rgb)
    frame = face_frame(points_px)
    u, v = frame.coordinates(rgb.shape[:2], scale)
    core = area & (np.abs(u) < 0.7) & (v > 0.2) & (v < 1.1)
    if core.sum() < 20:
        core = area
    ref = np.median(lab[core], axis=0)
    mad = np.median(np.abs(lab[core][:, 0] - ref[0]))
    chroma = np.hypot(lab[..., 1] - ref[1], lab[..., 2] - ref[2])
    skin = area & (lab[..., 0] > ref[0] - max(20.0, 4.0 * 1.4826 * mad)) & (lab[..., 0] < ref[0] + 30.0) & (chroma < 22.0)
    skin &= ~cv2.dilate((rgb.max(axis=-1) >= burnt_level).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    radius = max(int(round(0.01 * iod_px * scale)), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool) & area


def zone_distance(shape, points_px, indices, *, scale: float = 1.0) -> np.ndarray:
    """Distance in grid pixels outside the convex hull of ``indices`` (0 inside)."""
    hull = regions.polygon_mask(shape, np.asarray(points_px, dtype=np.float64)[list(indices)] * scale, convex_hull=True)
    return cv2.distanceTransform((~hull).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def polyline_distance(shape, points_px, indices, *, scale: float = 1.0) -> np.ndarray:
    """Distance in grid pixels to the polyline through ``indices``."""
    line = np.zeros(shape[:2], dtype=np.uint8)
    pts = np.round(np.asarray(points_px, dtype=np.float64)[list(indices)] * scale * 16).astype(np.int32)
    cv2.polylines(line, [pts], False, 1, thickness=1, lineType=cv2.LINE_8, shift=4)
    return cv2.distanceTransform((line == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
