"""The four MASI regions, drawn from FaceMesh landmarks: template ``masi-regions-v1``.

Kimbrough-Green et al. (1994) name the regions (forehead, right malar, left malar,
chin) but draw no borders, so pigmentscan defines them here, versioned, as polygons
through FaceMesh landmark indices:

- **forehead**: from the upper face outline (landmarks 54-103-67-109-10 and mirror)
  down to the upper edge of both brows, including the glabella between them;
- **right / left malar**: the cheek from the infra-orbital row (111-117-…-121, about a
  quarter of the inter-ocular distance below the lower lid) down to the level of the
  upper lip, medially along the side of the nose and the top of the nasolabial fold,
  laterally to a line about 0.15 IOD inside the face outline (the foreshortened skin
  near the ear is left out);
- **chin**: below the lower lip between verticals through the mouth corners, down to
  the jaw line.

Right and left are the PATIENT's (MASI.md): the right malar region is built on
FaceMesh's low-index side, which is image-left in a non-mirrored photo. The left side
uses the mirror-image landmarks (checked pairwise on the London set).

From every region the eyes, brows, lips and nostrils are subtracted with a margin
that scales with the inter-ocular distance, so results do not depend on resolution.
The regions share no pixel.

For split-face trials the forehead and chin are cut in two at the face's midline
(:func:`face_midline`, :func:`midline_halves`): the polyline through FaceMesh's midline
landmarks, so a tilted or slightly turned head is cut along its own midline, not an image
column.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "TEMPLATE_VERSION",
    "REGION_KEYS",
    "REGION_LANDMARKS",
    "FEATURE_LANDMARKS",
    "FEATURE_MARGINS_IOD",
    "FACE_OUTLINE",
    "FOREHEAD_EXTENSION_IOD",
    "polygon_mask",
    "feature_mask",
    "face_mask",
    "region_masks",
    "region_polygons",
    "MIDLINE_LANDMARKS",
    "SPLIT_REGIONS",
    "face_midline",
    "midline_halves",
]

TEMPLATE_VERSION = "masi-regions-v1"
#: CONTRACT.md region keys, patient's sides.
REGION_KEYS = ("forehead", "right_malar", "left_malar", "chin")

_RIGHT_MALAR = (116, 111, 117, 118, 119, 120, 121, 47, 126, 142, 203, 206, 216, 207, 213, 147, 123)
# Mirror pairs of FaceMesh (subject right -> subject left), verified on the mean London face.
_MIRROR = {116: 345, 111: 340, 117: 346, 118: 347, 119: 348, 120: 349, 121: 350, 47: 277, 126: 355,
           142: 371, 203: 423, 206: 426, 216: 436, 207: 427, 213: 433, 147: 376, 123: 352}

#: Landmark polygons of each region (closed, in order).
REGION_LANDMARKS = {
    "forehead": (54, 103, 67, 109, 10, 338, 297, 332, 284, 251, 301, 300, 293, 334, 296, 336, 9,
                 107, 66, 105, 63, 70, 71, 21),
    "right_malar": _RIGHT_MALAR,
    "left_malar": tuple(_MIRROR[i] for i in reversed(_RIGHT_MALAR)),
    "chin": (43, 106, 182, 83, 18, 313, 406, 335, 273, 424, 431, 395, 369, 400, 377, 152, 148, 176,
             140, 170, 211, 204),
}

#: Facial features removed from every region (FaceMesh contours, closed, in order).
FEATURE_LANDMARKS = {
    "right_eye": (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    "left_eye": (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
    "right_brow": (70, 63, 105, 66, 107, 55, 65, 52, 53, 46),
    "left_brow": (300, 293, 334, 296, 336, 285, 295, 282, 283, 276),
    "lips": (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146),
    "nostrils": (48, 64, 98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 45, 220, 115),
}
#: Margin around each feature, as a fraction of the inter-ocular distance (template design choice).
FEATURE_MARGINS_IOD = {
    "right_eye": 0.10, "left_eye": 0.10, "right_brow": 0.06, "left_brow": 0.06, "lips": 0.08, "nostrils": 0.06,
}
#: FaceMesh face outline (FACEMESH_FACE_OVAL), closed, in order.
FACE_OUTLINE = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
                152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)

#: How far the forehead reaches above the top of the mesh, in inter-ocular distances
#: (template design choice: the mesh ends about 0.6 IOD above the brows, a forehead is ~0.9).
FOREHEAD_EXTENSION_IOD = 0.25
# The first nine forehead landmarks form its upper edge; 10 and 152 are the mesh's top and chin.
_FOREHEAD_TOP_EDGE, _FACE_TOP, _FACE_BOTTOM = 9, 10, 152

_SUBPIXEL_BITS = 4

#: FaceMesh landmarks on the face's midline, from the top of the mesh to the chin: mid-forehead
#: (10, 151, 9), glabella and nasion (8, 168), nose bridge and tip (6 ... 2), upper lip (164, 0, 11, 12,
#: 13), lower lip (14 ... 17), chin (18, 200, 199, 175, 152). Checked on the sample faces: each lies
#: within 0.01 IOD of the line through the others (the mesh's symmetry plane).
MIDLINE_LANDMARKS = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 11, 12, 13, 14, 15, 16, 17,
                     18, 200, 199, 175, 152)
#: The regions that straddle the midline, cut in two for split-face trials (the malar regions are
#: one side each already).
SPLIT_REGIONS = ("forehead", "chin")
#: How far the midline is extended past its end landmarks along the face's axis, in inter-ocular
#: distances: past the forehead's extension above landmark 10 (:data:`FOREHEAD_EXTENSION_IOD`)
#: and below the jaw line, so that it cuts every region through.
_MIDLINE_EXTENSION_IOD = 1.0
# Face outline landmarks of the patient's right (FaceMesh's low-index side) and left (MASI.md "Sides").
_RIGHT_CHEEK_EDGE, _LEFT_CHEEK_EDGE = 234, 454


def polygon_mask(shape, polygon_px, *, convex_hull: bool = False) -> np.ndarray:
    """Rasterise a polygon (k × 2 array of x, y in pixels) into a boolean mask of ``shape``."""
    mask = np.zeros(shape[:2], dtype=np.uint8)
    points = np.asarray(polygon_px, dtype=np.float64)
    if convex_hull:
        points = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    fixed = np.round(points * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(mask, [fixed], 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return mask.astype(bool)


def feature_mask(shape, points_px, iod_px: float) -> np.ndarray:
    """Eyes, brows, lips and nostrils, each grown by its margin (:data:`FEATURE_MARGINS_IOD`).

    Growing uses the Euclidean distance to the feature (a round margin of exactly the
    stated width), computed only in a window around each feature.
    """
    height, width = shape[:2]
    excluded = np.zeros((height, width), dtype=bool)
    for name, indices in FEATURE_LANDMARKS.items():
        margin = FEATURE_MARGINS_IOD[name] * iod_px
        points = np.asarray(points_px, dtype=np.float64)[list(indices)]
        x0, y0 = np.floor(points.min(axis=0) - margin - 2).astype(int)
        x1, y1 = np.ceil(points.max(axis=0) + margin + 2).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 <= x0 or y1 <= y0:
            continue
        feature = polygon_mask((y1 - y0, x1 - x0), points - (x0, y0), convex_hull=(name == "nostrils"))
        distance = cv2.distanceTransform((~feature).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        excluded[y0:y1, x0:x1] |= distance <= margin
    return excluded


def face_mask(shape, points_px, iod_px: float, *, features=None) -> np.ndarray:
    """Facial skin inside the face outline, minus the features and their margins.

    ``features`` is :func:`feature_mask`'s result when the caller already has it.
    """
    features = feature_mask(shape, points_px, iod_px) if features is None else features
    return polygon_mask(shape, np.asarray(points_px)[list(FACE_OUTLINE)]) & ~features


def region_polygons(points_px, iod_px: float) -> dict[str, np.ndarray]:
    """Each region's polygon in pixel coordinates (k × 2), keyed by :data:`REGION_KEYS`.

    The mesh stops short of the hairline, so the forehead's upper edge is moved up the
    face by :data:`FOREHEAD_EXTENSION_IOD`; hair that this reaches is removed later as
    non-skin.
    """
    points_px = np.asarray(points_px, dtype=np.float64)
    polygons = {key: points_px[list(REGION_LANDMARKS[key])] for key in REGION_KEYS}
    up = points_px[_FACE_TOP] - points_px[_FACE_BOTTOM]
    up /= max(np.linalg.norm(up), 1e-9)
    polygons["forehead"][:_FOREHEAD_TOP_EDGE] += FOREHEAD_EXTENSION_IOD * iod_px * up
    return polygons


def region_masks(shape, points_px, iod_px: float, *, exclude=None, features=None) -> dict[str, np.ndarray]:
    """Boolean masks of the four MASI regions.

    Parameters
    ----------
    shape : tuple
        Image shape; only (height, width) are used.
    points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks in pixels of that image.
    iod_px : float
        Inter-ocular distance in pixels (sets the feature margins).
    exclude : numpy.ndarray of bool, optional
        Pixels that are not skin (hair, beard, glasses, highlights, deep shadow),
        removed from every region.
    features : numpy.ndarray of bool, optional
        :func:`feature_mask`'s result when the caller already has it.

    Returns
    -------
    dict of str to numpy.ndarray
        One boolean mask per key of :data:`REGION_KEYS`; no pixel is in two regions.

    Examples
    --------
    >>> points = np.zeros((478, 2))
    >>> sorted(region_masks((8, 8), points, 1.0))
    ['chin', 'forehead', 'left_malar', 'right_malar']
    """
    points_px = np.asarray(points_px, dtype=np.float64)
    keep = ~(feature_mask(shape, points_px, iod_px) if features is None else features)
    if exclude is not None:
        keep &= ~np.asarray(exclude, dtype=bool)
    taken = np.zeros(shape[:2], dtype=bool)
    masks = {}
    for key, polygon in region_polygons(points_px, iod_px).items():
        mask = polygon_mask(shape, polygon) & keep & ~taken
        taken |= mask
        masks[key] = mask
    return masks


def _face_axes(points_px) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``(up, right)``: up the face (chin 152 to mesh top 10) and towards the patient's right."""
    up = points_px[_FACE_TOP] - points_px[_FACE_BOTTOM]
    up = up / max(float(np.linalg.norm(up)), 1e-9)
    across = np.array([-up[1], up[0]])
    if float(np.dot(points_px[_RIGHT_CHEEK_EDGE] - points_px[_LEFT_CHEEK_EDGE], across)) < 0:
        across = -across
    return up, across


def face_midline(points_px, iod_px: float) -> np.ndarray:
    """The face's midline: a polyline from above the forehead to below the chin, in pixels.

    It runs through the FaceMesh midline landmarks (:data:`MIDLINE_LANDMARKS`), taken in order
    along the face's axis (landmark 152, the chin, to 10, the top of the mesh), and is extended
    past both ends by ``_MIDLINE_EXTENSION_IOD`` inter-ocular distances along that axis, so that
    it cuts the forehead (which reaches above the mesh) and the chin through. Following the
    landmarks rather than one straight line keeps it on the face's own midline when the head is
    tilted or turned a little.

    Parameters
    ----------
    points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks in pixels.
    iod_px : float
        Inter-ocular distance in pixels.

    Returns
    -------
    numpy.ndarray, shape (k, 2)
        x, y of the polyline's vertices, top of the face first.

    Examples
    --------
    >>> points = np.zeros((478, 2)); points[:, 0] = 50.0
    >>> points[list(MIDLINE_LANDMARKS), 1] = np.linspace(10, 90, len(MIDLINE_LANDMARKS))  # top (10) at y = 10
    >>> points[234, 0], points[454, 0] = 20.0, 80.0
    >>> line = face_midline(points, 30.0)
    >>> line[0].tolist(), line[-1].tolist()  # extended by 1 IOD (30 px) past the top and the chin
    ([50.0, -20.0], [50.0, 120.0])
    """
    points_px = np.asarray(points_px, dtype=np.float64)
    up, _ = _face_axes(points_px)
    line = points_px[list(MIDLINE_LANDMARKS)]
    line = line[np.argsort(-(line @ up), kind="stable")]  # top of the face first
    reach = _MIDLINE_EXTENSION_IOD * iod_px * up
    return np.vstack([line[:1] + reach, line, line[-1:] - reach])


def midline_halves(shape, points_px, iod_px: float) -> dict[str, np.ndarray]:
    """The image cut in two at the face's midline (:func:`face_midline`): the patient's right and left.

    The right half is the side of the midline where FaceMesh's low-index face outline (landmark
    234) lies (pixels on the midline included): the patient's right, image left in a non-mirrored photo (MASI.md "Sides"), the
    side :data:`REGION_LANDMARKS`'s ``right_malar`` is drawn on. Beyond the midline's ends the
    cut continues straight along the face's axis. Every pixel is in exactly one half.

    Parameters
    ----------
    shape : tuple
        Image shape; only (height, width) are used.
    points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks in pixels of that image.
    iod_px : float
        Inter-ocular distance in pixels.

    Returns
    -------
    dict
        ``{"right": mask, "left": mask}``, boolean masks of ``shape[:2]``; ``left`` is ``~right``.

    Examples
    --------
    >>> points = np.zeros((478, 2)); points[:, 0] = 50.0
    >>> points[list(MIDLINE_LANDMARKS), 1] = np.linspace(10, 90, len(MIDLINE_LANDMARKS))
    >>> points[234, 0], points[454, 0] = 20.0, 80.0  # the patient's right cheek at image left
    >>> halves = midline_halves((100, 100), points, 30.0)
    >>> bool(halves["right"][50, 10]), bool(halves["left"][50, 90])
    (True, True)
    >>> int(halves["right"].sum()), int(halves["left"].sum())  # columns 0-50: the pixels on the line go right
    (5100, 4900)
    """
    points_px = np.asarray(points_px, dtype=np.float64)
    line = face_midline(points_px, iod_px)
    up, right = _face_axes(points_px)
    far = 4.0 * (max(shape[:2]) + float(np.abs(points_px).max()) + iod_px)  # past the image on every side
    top, bottom = line[0] + far * up, line[-1] - far * up
    polygon = np.vstack([top, line, bottom, bottom + far * right, top + far * right])
    right_half = polygon_mask(shape, polygon)
    return {"right": right_half, "left": ~right_half}
