"""Register one photo's face onto another's: piecewise-affine warps on the FaceMesh triangles.

Used to compare visits pixel by pixel (:mod:`pigmentscan.longitudinal.pigment`) and to draw
them side by side (:mod:`pigmentscan.report.panels`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .landmarks import N_MESH_LANDMARKS

__all__ = ["warp_to_reference", "sampling_grid", "warp_with_grid"]

# The face oval (FaceMesh FACEMESH_FACE_OVAL) pushed outwards by these factors about the face
# centre: extra triangles over the forehead band above the mesh and the crop's margin.
_OVAL_PUSH = (1.35, 1.6)


def _with_rings(points_px) -> np.ndarray:
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

    mesh = np.asarray(points_px, float)[:N_MESH_LANDMARKS]  # the mesh without the iris points
    oval = mesh[sorted({i for edge in FACEMESH_FACE_OVAL for i in edge})]
    centre = mesh.mean(axis=0)
    return np.vstack([mesh] + [centre + push * (oval - centre) for push in _OVAL_PUSH])


def warp_to_reference(image, points_px, reference_points_px, reference_shape, *, interpolation=cv2.INTER_LINEAR):
    """Warp an image onto another photo's face geometry, piecewise-affinely on face triangles.

    The triangles are the Delaunay triangulation of the reference's 468 FaceMesh points plus
    two rings of its face oval pushed outwards; each maps affinely onto the same three
    landmarks of ``image``.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W) or (H, W, C): a photo, a uint8 mask, a float map.
    points_px, reference_points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks (x, y) in ``image`` and in the reference.
    reference_shape : tuple
        (height, width) of the result.
    interpolation : int
        OpenCV interpolation (``cv2.INTER_NEAREST`` for masks).

    Returns
    -------
    warped : numpy.ndarray
        ``image`` in the reference geometry, 0 where it has no source.
    valid : numpy.ndarray of bool
        Pixels that come from inside ``image``.
    """
    return warp_with_grid(image, sampling_grid(points_px, reference_points_px, reference_shape),
                          interpolation=interpolation)


def sampling_grid(points_px, reference_points_px, reference_shape) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of the reference samples the other photo (see :func:`warp_to_reference`).

    Returns
    -------
    map_x, map_y : numpy.ndarray of float32, shape ``reference_shape[:2]``
        Source coordinates (x, y) of each reference pixel; -1 outside the face's triangles.
    """
    from scipy.spatial import Delaunay

    reference, source = _with_rings(reference_points_px), _with_rings(points_px)
    triangles = Delaunay(reference).simplices
    height, width = reference_shape[:2]
    labels = np.full((height, width), -1, np.int32)
    corners_fixed = np.round(reference[triangles] * 16).astype(np.int32)  # 4 fractional bits (shift=4)
    for t, corners_t in enumerate(corners_fixed):
        cv2.fillConvexPoly(labels, corners_t, t, cv2.LINE_8, shift=4)
    corners = np.concatenate([reference[triangles], np.ones(triangles.shape + (1,))], axis=2)
    affine = np.linalg.pinv(corners) @ source[triangles]  # (T, 3, 2): (x, y, 1) @ affine -> source (x, y)
    inside = labels >= 0
    yy, xx = np.nonzero(inside)
    which = labels[inside]
    map_x, map_y = np.full((2, height, width), -1.0, np.float32)
    for out, k in ((map_x, 0), (map_y, 1)):
        out[inside] = xx * affine[which, 0, k] + yy * affine[which, 1, k] + affine[which, 2, k]
    return map_x, map_y


def warp_with_grid(image, grid, *, interpolation=cv2.INTER_LINEAR) -> tuple[np.ndarray, np.ndarray]:
    """:func:`warp_to_reference` on a :func:`sampling_grid` already made (several maps of one photo).

    Returns ``(warped, valid)`` as :func:`warp_to_reference`.
    """
    map_x, map_y = grid
    warped = cv2.remap(np.ascontiguousarray(image), map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT)
    h, w = np.asarray(image).shape[:2]
    return warped, (map_x >= 0) & (map_y >= 0) & (map_x <= w - 1) & (map_y <= h - 1)
