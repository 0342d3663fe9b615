"""Face landmarks with MediaPipe FaceMesh (478 points, iris refinement) and head pose.

The model ships inside the ``mediapipe==0.10.21`` wheel: nothing is downloaded.
Detection runs on a downscaled copy of the photo (halved until it fits
DETECT_MAX_SIDE_PX, see :mod:`pigmentscan.resample`); MediaPipe returns coordinates
normalised to the image size, so they map back to full resolution exactly.

Sides follow the patient (MASI.md): landmark 473 is the centre of the subject's LEFT
iris (image right in a non-mirrored photo), 468 the subject's right iris.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass

import numpy as np

from .errors import NoFaceError
from .resample import halved, halvings_to_fit

__all__ = [
    "N_LANDMARKS",
    "N_MESH_LANDMARKS",
    "inter_ocular_distance",
    "RIGHT_IRIS_CENTRE",
    "LEFT_IRIS_CENTRE",
    "DETECT_MAX_SIDE_PX",
    "FaceLandmarks",
    "detect_landmarks",
    "head_pose_deg",
]

#: FaceMesh with ``refine_landmarks=True``: 468 mesh points + 10 iris points.
N_LANDMARKS = 478
#: Points of the face mesh proper (the iris points follow them).
N_MESH_LANDMARKS = 468
#: Iris centres (MediaPipe FaceMesh topology); the subject's right is the low index.
RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE = 468, 473
# Landmarks used for the head's axes: cheek extremes (subject right 234, left 454),
# forehead top 10 and chin 152 (FaceMesh topology).
_AXIS_RIGHT, _AXIS_LEFT, _AXIS_TOP, _AXIS_CHIN = 234, 454, 10, 152

#: Longest side of the copy MediaPipe sees, at most (the photo is halved until it
#: fits, so the copy's longest side is 513-1024 px). FaceMesh works on a 192×192 crop
#: of the face and its iris model on 64×64 crops of the eyes, about 60 px between the
#: pupils: in a frontal portrait, whose pupils are at least a tenth of the frame
#: apart, a copy of 513 px or more already gives the models their full resolution,
#: and more only costs time.
DETECT_MAX_SIDE_PX = 1024
_MAX_FACES = 4

_lock = threading.Lock()
_face_mesh = None
_face_mesh_pid = None  # a forked child must not reuse its parent's graph (its threads are gone)


def inter_ocular_distance(points_px) -> float:
    """Distance between the iris centres of FaceMesh landmarks (478, 2 or 3), in their x-y units.

    Examples
    --------
    >>> points = np.zeros((N_LANDMARKS, 2)); points[LEFT_IRIS_CENTRE] = (3.0, 4.0)
    >>> inter_ocular_distance(points)
    5.0
    """
    points = np.asarray(points_px, float)
    return float(np.linalg.norm(points[LEFT_IRIS_CENTRE, :2] - points[RIGHT_IRIS_CENTRE, :2]))


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks of one face in image pixel coordinates.

    Attributes
    ----------
    points_px : numpy.ndarray, shape (478, 2)
        x (column) and y (row) of each FaceMesh landmark, in pixels of the image
        they were detected on.
    depth_px : numpy.ndarray, shape (478,)
        Relative depth (larger is farther from the camera), in the same pixel scale.
    image_shape : tuple of int
        (height, width) of that image.
    n_faces : int
        Number of faces found; the largest is the one described here.
    """

    points_px: np.ndarray
    depth_px: np.ndarray
    image_shape: tuple[int, int]
    n_faces: int = 1

    @property
    def iod_px(self) -> float:
        """Inter-ocular (inter-pupillary) distance in pixels: iris centre to iris centre."""
        return inter_ocular_distance(self.points_px)

    @property
    def pose_deg(self) -> tuple[float, float, float]:
        """Head pose (yaw, pitch, roll) in degrees; see :func:`head_pose_deg`."""
        return head_pose_deg(self.points_px, self.depth_px)

    def transformed(self, scale: float, offset_xy=(0.0, 0.0), image_shape=None) -> FaceLandmarks:
        """Landmarks in another frame: ``(points - offset) * scale`` (a crop, then a resize)."""
        offset = np.asarray(offset_xy, dtype=np.float64)
        return FaceLandmarks(
            points_px=(self.points_px - offset) * scale,
            depth_px=self.depth_px * scale,
            image_shape=tuple(image_shape) if image_shape is not None else self.image_shape,
            n_faces=self.n_faces,
        )

    def mirrored(self) -> FaceLandmarks:
        """Landmarks of the left-right flipped image (the same point indices)."""
        points = self.points_px.copy()
        points[:, 0] = self.image_shape[1] - 1 - points[:, 0]
        return FaceLandmarks(points, self.depth_px.copy(), self.image_shape, self.n_faces)

    def to_dict(self) -> dict:
        yaw, pitch, roll = self.pose_deg
        return {
            "iod_px": self.iod_px,
            "n_faces": self.n_faces,
            "yaw_deg": yaw,
            "pitch_deg": pitch,
            "roll_deg": roll,
            "image_shape": list(self.image_shape),
        }


def head_pose_deg(points_px, depth_px) -> tuple[float, float, float]:
    """Head pose from 3-D landmarks, in degrees.

    The head's axes are built from the cheek extremes (left-right) and forehead-chin
    (up-down) landmarks and orthonormalised.

    Returns
    -------
    yaw_deg : float
        Turn about the vertical axis; positive when the subject turns towards their
        own left (the camera sees more of their right cheek).
    pitch_deg : float
        Nod; positive when the chin is raised.
    roll_deg : float
        In-plane tilt; positive when the head tilts clockwise in the image.
    """
    xyz = np.column_stack([np.asarray(points_px, float), np.asarray(depth_px, float)])
    across = xyz[_AXIS_LEFT] - xyz[_AXIS_RIGHT]
    down = xyz[_AXIS_CHIN] - xyz[_AXIS_TOP]
    across /= np.linalg.norm(across)
    down = down - down.dot(across) * across
    down /= np.linalg.norm(down)
    yaw = np.degrees(np.arctan2(across[2], np.hypot(across[0], across[1])))
    pitch = -np.degrees(np.arctan2(down[2], np.hypot(down[0], down[1])))
    roll = np.degrees(np.arctan2(across[1], across[0]))
    return float(yaw), float(pitch), float(roll)


@contextlib.contextmanager
def _native_stderr_silenced():
    """MediaPipe's C++ core logs set-up chatter straight to file descriptor 2; hide it."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _get_face_mesh():
    global _face_mesh, _face_mesh_pid
    if _face_mesh is None or _face_mesh_pid != os.getpid():
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from mediapipe.python.solutions import face_mesh

        _face_mesh = face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=_MAX_FACES,
            refine_landmarks=True,
            min_detection_confidence=0.5,
        )
        _face_mesh_pid = os.getpid()
    return _face_mesh


def detect_landmarks(rgb, *, source: str | None = None, detect_max_side: int = DETECT_MAX_SIDE_PX) -> FaceLandmarks:
    """Find the largest face in an RGB photo and return its 478 landmarks.

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8 image, shape (H, W, 3).
    source : str, optional
        Name of the photo, used in error messages.
    detect_max_side : int
        Longest side of the copy the detector sees, at most: the photo is halved
        (2×2 means) until it fits.

    Returns
    -------
    FaceLandmarks
        In the pixel coordinates of ``rgb``.

    Raises
    ------
    NoFaceError
        If no face is found.
    """
    height, width = rgb.shape[:2]
    times = halvings_to_fit(rgb.shape, detect_max_side)
    small = np.ascontiguousarray(halved(rgb, times))
    with _lock, _native_stderr_silenced():
        result = _get_face_mesh().process(small)
    faces = result.multi_face_landmarks or []
    if not faces:
        raise NoFaceError(source, "no face found (is the photo rotated, cropped, or not a frontal face?)")
    # MediaPipe normalises x by the copy's width and y by its height; z uses the x
    # scale. A copy pixel is 2**times photo pixels (an odd last row/column was dropped).
    to_photo = np.array([small.shape[1], small.shape[0]], dtype=np.float64) * 2.0**times
    candidates = []
    for face in faces:
        xyz = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float64)
        if len(xyz) != N_LANDMARKS:
            continue
        points = xyz[:, :2] * to_photo
        span = points.max(axis=0) - points.min(axis=0)
        candidates.append((float(span[0] * span[1]), points, xyz[:, 2] * to_photo[0]))
    if not candidates:
        raise NoFaceError(source, "face found but its landmarks are incomplete")
    _, points, depth = max(candidates, key=lambda item: item[0])
    return FaceLandmarks(points_px=points, depth_px=depth, image_shape=(height, width), n_faces=len(faces))
