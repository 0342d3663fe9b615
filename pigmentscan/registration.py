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
    labels = _triangle_labels(reference[triangles], reference_shape[:2])
    affine = _affine_transforms(reference[triangles], source[triangles])
    return _piecewise_affine_grid(labels, affine)


def _triangle_labels(corners, shape) -> np.ndarray:
    """(H, W) int32: the index of the triangle (corners (T, 3, 2), x y) each pixel lies in, -1 in none.

    Triangles drawn in order (a later one takes the pixels of a shared edge), 4 fractional bits.
    """
    labels = np.full(tuple(shape), -1, np.int32)
    fill, line = cv2.fillConvexPoly, cv2.LINE_8  # bound once: the loop runs once per triangle (~1000)
    for t, corners_t in enumerate(list(np.round(corners * 16).astype(np.int32))):
        fill(labels, corners_t, t, line, 4)
    return labels


def _affine_transforms(corners, targets) -> np.ndarray:
    """(T, 3, 2): the affine map of each triangle, ``(x, y, 1) @ affine[t]`` -> its target (x, y).

    In closed form (the 2x2 inverse of the edge vectors): the same maps as a least-squares solve
    to rounding, without a singular-value decomposition per triangle. A triangle of almost no area keeps the pseudo-inverse's
    least-squares map.
    """
    edges, target_edges = corners[:, 1:] - corners[:, :1], targets[:, 1:] - targets[:, :1]  # (T, 2, 2)
    det = edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0]
    flat = np.abs(det) < 1e-3
    inverse = np.stack([np.stack([edges[:, 1, 1], -edges[:, 0, 1]], axis=1),
                        np.stack([-edges[:, 1, 0], edges[:, 0, 0]], axis=1)], axis=1) / np.where(flat, 1.0, det)[:, None, None]
    linear = inverse @ target_edges  # rows: d(target)/dx, d(target)/dy
    offset = targets[:, 0] - np.einsum("ti,tij->tj", corners[:, 0], linear)
    affine = np.concatenate([linear, offset[:, None]], axis=1)
    if flat.any():
        homogeneous = np.concatenate([corners[flat], np.ones((int(flat.sum()), 3, 1))], axis=2)
        affine[flat] = np.linalg.pinv(homogeneous) @ targets[flat]
    return affine


def _piecewise_affine_grid(labels, affine) -> tuple[np.ndarray, np.ndarray]:
    """``(map_x, map_y)`` float32: each pixel's triangle's affine map applied to it, -1 outside every triangle.

    Evaluated in float64 as ``x * a + y * b + c`` (then rounded to float32), gathering each
    coefficient by the pixel's triangle.
    """
    height, width = labels.shape
    outside = labels < 0
    which = np.maximum(labels, 0).astype(np.intp)
    xx, yy = np.arange(width, dtype=np.float64)[None, :], np.arange(height, dtype=np.float64)[:, None]
    coefficients = np.ascontiguousarray(affine.transpose(2, 1, 0))  # (target x / y, term, triangle)
    maps = []
    for per_triangle in coefficients:
        value = per_triangle[0].take(which)
        value *= xx
        term = per_triangle[1].take(which)
        term *= yy
        value += term
        value += per_triangle[2].take(which)
        out = value.astype(np.float32)
        out[outside] = -1.0
        maps.append(out)
    return maps[0], maps[1]


def warp_with_grid(image, grid, *, interpolation=cv2.INTER_LINEAR) -> tuple[np.ndarray, np.ndarray]:
    """:func:`warp_to_reference` on a :func:`sampling_grid` already made (several maps of one photo).

    Returns ``(warped, valid)`` as :func:`warp_to_reference`.
    """
    map_x, map_y = grid
    warped = cv2.remap(np.ascontiguousarray(image), map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT)
    h, w = np.asarray(image).shape[:2]
    return warped, (map_x >= 0) & (map_y >= 0) & (map_x <= w - 1) & (map_y <= h - 1)
