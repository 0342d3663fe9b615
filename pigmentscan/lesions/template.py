"""What clean facial skin looks like: the natural pattern of melanin over a face, and its spread.

Clean faces are not evenly coloured: the skin beside the nose, below the eyes and along the jaw
reads browner than the middle of the cheek, from real pigment and from the way light falls on
the face's relief. :class:`FaceTemplate` holds that pattern, learned from clean faces, on a
canonical face (a mean FaceMesh shape): the mean excess of each point over the face's own tone
(JND), and the main ways faces differ from it (principal modes, each with its variance among the
clean faces). :func:`template_maps` lays them onto a face through its landmarks (a
piecewise-affine warp on the FaceMesh triangles, :mod:`pigmentscan.registration`), where
:func:`~pigmentscan.lesions.expectation.normal_skin_expectation` fits them.

:func:`fit_face_template` learns a template from clean face photos; the default model's was
learned by ``benchmarks/fit_face_template.py`` (its command and faces are in the model card).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE
from ..registration import sampling_grid, warp_with_grid

__all__ = ["FaceTemplate", "template_maps", "canonical_shape", "to_canonical", "fill_canonical", "principal_modes"]

#: Pixels between the pupils of the canonical face (parameter: the pattern is smooth at
#: 0.04 IOD, so 16 px per IOD keeps it, and the model file small).
CANONICAL_IOD_PX = 16.0
#: Margin of the canonical frame around the landmarks, IOD (the forehead band above the mesh).
_MARGIN_IOD = (0.35, 0.6)
#: Most pixels a template map may have (a model file from a stranger cannot ask for more).
MAX_TEMPLATE_PX = 40_000
#: Most principal modes a template may carry.
MAX_MODES = 16


@dataclass(frozen=True, eq=False)
class FaceTemplate:
    """The natural melanin pattern of clean faces on a canonical face.

    Attributes
    ----------
    points_px : numpy.ndarray, shape (478, 2)
        The canonical FaceMesh landmarks (x, y), pupils ``iod_px`` apart.
    mean_jnd : numpy.ndarray, shape (H, W)
        Mean excess of each point over the face's own tone among clean faces, JND.
    modes : numpy.ndarray, shape (M, H, W)
        Principal modes of how clean faces differ from the mean, each of root-mean-square 1.
    mode_variance : numpy.ndarray, shape (M,)
        Variance of each mode's coefficient among the clean faces, JND².
    domain : numpy.ndarray of bool, shape (H, W)
        Where the clean faces had skin.
    spread_jnd : numpy.ndarray, shape (H, W)
        How far clean skin strays from its fitted expectation at each point (root mean square
        over the clean faces, JND): large at the hairline and the jaw, small mid-cheek.
    iod_px : float
    """

    points_px: np.ndarray
    mean_jnd: np.ndarray
    modes: np.ndarray
    mode_variance: np.ndarray
    domain: np.ndarray
    spread_jnd: np.ndarray
    iod_px: float = CANONICAL_IOD_PX

    def to_dict(self) -> dict:
        """Plain lists for a JSON model file (maps rounded to 0.001 JND)."""
        return {"iod_px": float(self.iod_px), "points_px": np.round(self.points_px, 2).tolist(),
                "mean_jnd": np.round(self.mean_jnd, 3).tolist(), "modes": np.round(self.modes, 3).tolist(),
                "mode_variance": [float(v) for v in self.mode_variance],
                "domain": self.domain.astype(int).tolist(), "spread_jnd": np.round(self.spread_jnd, 3).tolist()}

    @classmethod
    def from_dict(cls, data) -> FaceTemplate:
        """Read and check a template from a model file; ``ValueError`` says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("face_template must be an object")
        missing = {"iod_px", "points_px", "mean_jnd", "modes", "mode_variance", "domain", "spread_jnd"} - set(data)
        if missing:
            raise ValueError(f"face_template lacks {sorted(missing)}")
        mean = _array(data["mean_jnd"], "face_template.mean_jnd", ndim=2)
        if mean.size > MAX_TEMPLATE_PX:
            raise ValueError(f"face_template.mean_jnd has {mean.size} pixels (at most {MAX_TEMPLATE_PX})")
        modes = _array(data["modes"], "face_template.modes", ndim=3, empty_ok=True)
        if modes.size == 0:
            modes = np.zeros((0,) + mean.shape, np.float32)
        variance = _array(data["mode_variance"], "face_template.mode_variance", ndim=1, empty_ok=True)
        domain = _array(data["domain"], "face_template.domain", ndim=2) > 0.5
        spread = _array(data["spread_jnd"], "face_template.spread_jnd", ndim=2)
        points = _array(data["points_px"], "face_template.points_px", ndim=2)
        if points.shape != (478, 2):
            raise ValueError("face_template.points_px must be 478 (x, y) pairs")
        if modes.shape[0] > MAX_MODES or modes.shape[1:] != mean.shape or {domain.shape, spread.shape} != {mean.shape}:
            raise ValueError(f"face_template maps must share one shape and have at most {MAX_MODES} modes")
        if variance.shape != (modes.shape[0],) or np.any(variance <= 0):
            raise ValueError("face_template.mode_variance must give one positive variance per mode")
        iod = data["iod_px"]
        if isinstance(iod, bool) or not isinstance(iod, (int, float)) or not 4 <= iod <= 200:
            raise ValueError("face_template.iod_px must be a number within 4-200")
        if np.any(spread[domain] <= 0):
            raise ValueError("face_template.spread_jnd must be positive inside the domain")
        return cls(points, mean, modes, variance.astype(np.float64), domain, spread, float(iod))


def _array(values, where: str, *, ndim: int, empty_ok: bool = False) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a rectangular array of numbers") from None
    if array.size == 0 and empty_ok:
        return array
    if array.ndim != ndim or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{where} must be a {ndim}-d array of finite numbers")
    return array


def template_maps(template: FaceTemplate, points_px, shape) -> tuple[np.ndarray, np.ndarray]:
    """The template's mean and modes laid onto a face.

    Parameters
    ----------
    template : FaceTemplate
    points_px : numpy.ndarray, shape (478, 2)
        The face's landmarks in the pixels of the map wanted.
    shape : tuple
        (height, width) of that map.

    Returns
    -------
    maps : numpy.ndarray, shape (H, W, 1 + M), float32
        The mean pattern, then each mode.
    spread : numpy.ndarray, shape (H, W), float32
        The natural spread of clean skin at each pixel (JND).
    valid : numpy.ndarray of bool, shape (H, W)
        Pixels inside the template's domain.
    """
    stack = np.concatenate([template.mean_jnd[None], template.modes, template.spread_jnd[None],
                            template.domain[None].astype(np.float32)])
    grid = sampling_grid(template.points_px, points_px, shape)
    warped, inside = warp_with_grid(np.ascontiguousarray(stack.transpose(1, 2, 0)), grid)
    warped = warped.reshape(tuple(shape[:2]) + (stack.shape[0],))
    return warped[..., :-2], warped[..., -2], inside & (warped[..., -1] > 0.5)


def canonical_shape(points_list) -> tuple[np.ndarray, tuple[int, int]]:
    """The mean of several faces' landmarks, pupils level and ``CANONICAL_IOD_PX`` apart, and its frame size."""
    aligned = []
    for points in points_list:
        points = np.asarray(points, float)
        right, left = points[RIGHT_IRIS_CENTRE], points[LEFT_IRIS_CENTRE]
        dx, dy = left - right
        angle = -np.arctan2(dy, dx)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        aligned.append((points - (left + right) / 2) @ rotation.T / np.hypot(dx, dy) * CANONICAL_IOD_PX)
    mean = np.mean(aligned, axis=0)
    mean = mean - mean.min(axis=0) + np.array(_MARGIN_IOD) * CANONICAL_IOD_PX
    size = (int(np.ceil(mean[:, 1].max() + 0.3 * CANONICAL_IOD_PX)), int(np.ceil(mean[:, 0].max() + _MARGIN_IOD[0] * CANONICAL_IOD_PX)))
    return mean, size


def to_canonical(values, valid, points_px, canonical_points, canonical_size):
    """A face's map on the canonical face: (values, valid) there."""
    grid = sampling_grid(points_px, canonical_points, canonical_size)
    warped, inside = warp_with_grid(np.where(valid, values, 0).astype(np.float32), grid)
    weight, _ = warp_with_grid(np.asarray(valid, np.float32), grid)
    return warped, inside & (weight > 0.99)


def fill_canonical(values, valid, domain, sigma_px: float = 1.6) -> np.ndarray:
    """Fill a face's missing canonical pixels inside ``domain`` from its own values around them."""
    from ._ops import _gaussian

    num = _gaussian(np.where(valid, values, 0).astype(np.float32), sigma_px)
    den = _gaussian(valid.astype(np.float32), sigma_px)
    filled = np.where(den > 1e-3, num / np.maximum(den, 1e-3), 0.0)
    return np.where(valid, values, np.where(domain, filled, 0.0)).astype(np.float32)


def principal_modes(stack, domain, n_modes: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_modes`` principal modes of centred canonical maps (each of rms 1) and their variances."""
    data = stack[:, domain].astype(np.float64)
    data = data - data.mean(axis=0)
    _, singular, rows = np.linalg.svd(data, full_matrices=False)
    n_modes = min(n_modes, len(singular))
    count = int(domain.sum())
    modes = np.zeros((n_modes,) + domain.shape, np.float32)
    modes[:, domain] = rows[:n_modes] * np.sqrt(count)
    variance = singular[:n_modes] ** 2 / max(len(stack) - 1, 1) / count
    return modes, variance
