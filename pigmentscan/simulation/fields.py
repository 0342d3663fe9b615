"""Random fields anchored to the face: lesion extent, texture and strength.

All noise lives in the face's own frame (u, v in inter-ocular distances, see
:class:`~pigmentscan.simulation.geometry.FaceFrame`), so a lesion's size does not
depend on the photo's resolution, and a *symmetric* component can be sampled at
(|u|, v): the same pattern on both cheeks. Mixing it with an independent component
gives melasma's "roughly but not exactly symmetric" bilateral look (Sanchez 1981).

The three clinical patterns are potentials over the phantom's anatomical zones
(:mod:`~pigmentscan.simulation.geometry`): 1 inside a zone, falling linearly to 0 at
``reach`` outside it. The lesion is where potential + border noise passes a
threshold, so its border is geographic and runs past every zone and region edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import geometry

__all__ = [
    "PATTERNS",
    "TEXTURES",
    "PATTERN_ZONES",
    "face_noise",
    "fractal_noise",
    "pattern_potential",
    "texture_field",
]

#: Sanchez et al. 1981 patterns.
PATTERNS = ("centrofacial", "malar", "mandibular")
#: Textures of the lesion surface.
TEXTURES = ("speckled", "reticulated", "blotchy")

#: Zones of each pattern with their relative weight (Sanchez 1981: centrofacial = forehead,
#: cheeks, nose, upper lip, chin; malar = cheeks and nose; mandibular = along the jaw line).
#: Weights below 1 make a zone join the lesion later than the pattern's main zones (design choice).
PATTERN_ZONES = {
    "centrofacial": {"forehead": 1.0, "right_cheek": 1.0, "left_cheek": 1.0, "nose": 0.9, "upper_lip": 0.9,
                     "chin": 0.9},
    "malar": {"right_cheek": 1.0, "left_cheek": 1.0, "nose": 0.85},
    "mandibular": {"right_jaw": 1.0, "left_jaw": 1.0, "chin": 0.8},
}
#: Half-width of the band along each jaw line that is the mandibular pattern's core, IOD (design choice).
JAW_BAND_IOD = 0.12


def face_noise(rng: np.random.Generator, u, v, sigma_iod: float, *, symmetric: bool = False) -> np.ndarray:
    """Gaussian random field of unit variance and correlation length ``sigma_iod``, sampled at (u, v).

    Parameters
    ----------
    rng : numpy.random.Generator
    u, v : numpy.ndarray
        Face coordinates of each pixel, IOD (:meth:`FaceFrame.coordinates`).
    sigma_iod : float
        Standard deviation of the Gaussian that smooths white noise, IOD.
    symmetric : bool
        Sample at (|u|, v): the field is mirror-symmetric about the midline.

    Returns
    -------
    numpy.ndarray, float32, shape of ``u``

    Examples
    --------
    >>> u, v = np.meshgrid(np.linspace(-1, 1, 41), np.linspace(0, 1, 21))
    >>> f = face_noise(np.random.default_rng(0), u.astype(np.float32), v.astype(np.float32), 0.1, symmetric=True)
    >>> bool(np.allclose(f, f[:, ::-1], atol=1e-4))
    True
    """
    step = sigma_iod / 2.5
    uu = np.abs(u) if symmetric else u
    u0, v0 = float(uu.min()) - 4 * sigma_iod, float(v.min()) - 4 * sigma_iod
    width = int(np.ceil((float(uu.max()) + 4 * sigma_iod - u0) / step)) + 2
    height = int(np.ceil((float(v.max()) + 4 * sigma_iod - v0) / step)) + 2
    grid = rng.standard_normal((height, width)).astype(np.float32)
    grid = cv2.GaussianBlur(grid, (0, 0), 2.5, borderType=cv2.BORDER_REFLECT)
    grid /= max(float(grid.std()), 1e-6)
    map_x = ((uu - u0) / step).astype(np.float32)
    map_y = ((v - v0) / step).astype(np.float32)
    return cv2.remap(grid, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def fractal_noise(rng: np.random.Generator, u, v, sigmas_iod, weights, *, symmetric_share: float = 0.0) -> np.ndarray:
    """Sum of :func:`face_noise` octaves, each a mix of a symmetric and an independent field; unit variance.

    ``symmetric_share`` is the variance share of the mirror-symmetric component (1:
    perfectly symmetric, 0: the two sides independent).
    """
    total = np.zeros(np.shape(u), dtype=np.float32)
    for sigma, weight in zip(sigmas_iod, weights):
        octave = np.sqrt(1.0 - symmetric_share) * face_noise(rng, u, v, sigma)
        if symmetric_share > 0:
            octave += np.sqrt(symmetric_share) * face_noise(rng, u, v, sigma, symmetric=True)
        total += weight * octave
    return total / max(float(np.sqrt(np.sum(np.square(weights)))), 1e-9)


def pattern_potential(shape, points_px, iod_px: float, pattern: str, *, scale: float = 1.0, reach_iod: float = 0.3,
                      zone_weights=None) -> np.ndarray:
    """Potential of a clinical pattern on a grid: w inside a zone, falling by w over ``reach_iod`` outside.

    Parameters
    ----------
    shape : tuple
        Grid shape.
    points_px : array_like
        Landmarks in photo pixels (the grid samples the photo at ``scale``).
    iod_px : float
        Inter-ocular distance in photo pixels.
    pattern : str
        One of :data:`PATTERNS`.
    scale : float
        Grid pixels per photo pixel.
    reach_iod : float
        How far outside a zone its potential reaches 0, IOD.
    zone_weights : dict, optional
        Weight per zone; :data:`PATTERN_ZONES` ``[pattern]`` by default.

    Returns
    -------
    numpy.ndarray, float32
        The maximum over the pattern's zones of w·(1 − distance/reach), floored at −1.
    """
    if pattern not in PATTERN_ZONES:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    weights = PATTERN_ZONES[pattern] if zone_weights is None else zone_weights
    reach_px = reach_iod * iod_px * scale
    potential = np.full(shape[:2], -1.0, dtype=np.float32)
    for zone, weight in weights.items():
        if zone in geometry.JAW_LINES:
            distance = geometry.polyline_distance(shape, points_px, geometry.JAW_LINES[zone], scale=scale)
            distance = np.maximum(distance - JAW_BAND_IOD * iod_px * scale, 0.0)
        else:
            distance = geometry.zone_distance(shape, points_px, geometry.ZONE_LANDMARKS[zone], scale=scale)
        np.maximum(potential, weight * (1.0 - distance / reach_px), out=potential)
    return potential


def texture_field(rng: np.random.Generator, u, v, texture: str) -> np.ndarray:
    """A field whose upper quantiles draw the lesion's texture (thresholded later).

    - ``speckled``: fine noise (0.014 and 0.03 IOD): its top fraction is round specks
      of ~0.03-0.06 IOD (2-4 mm) that coalesce as the fraction grows;
    - ``reticulated``: minus the magnitude of band-limited noise (0.03 IOD): its top
      fraction is the neighbourhood of the zero-crossings, a connected net around
      islands of clear skin (~0.1 IOD across);
    - ``blotchy``: constant (the lesion is confluent; its blotches come from the
      border noise).

    Examples
    --------
    >>> u, v = np.meshgrid(np.linspace(-1, 1, 8), np.linspace(0, 1, 4))
    >>> float(texture_field(np.random.default_rng(0), u, v, "blotchy").std())
    0.0
    """
    if texture == "speckled":
        return face_noise(rng, u, v, 0.014) + 0.35 * face_noise(rng, u, v, 0.03)
    if texture == "reticulated":
        return -np.abs(face_noise(rng, u, v, 0.03) + 0.35 * face_noise(rng, u, v, 0.012))
    if texture == "blotchy":
        return np.ones(np.shape(u), dtype=np.float32)
    raise ValueError(f"texture must be one of {TEXTURES}, got {texture!r}")
