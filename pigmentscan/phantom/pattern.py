"""Shapes of the phantoms' pigment: clustered, domain-warped, mottled patches cut to an area.

See the package docstring (:mod:`pigmentscan.phantom`), "Shapes" and "Truth".
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

#: Patch diameter (IOD) where H2/H3/H4 start: specks end ~5 mm, 1.5-2 cm, region-sized (Kimbrough-Green 1994).
HOMOGENEITY_THRESHOLDS_IOD = (0.08, 0.28, 0.6)
#: Pattern scale (bump diameter, IOD) drawn for each homogeneity asked for.
_BUMP_DIAMETER_IOD = {1: (0.04, 0.07), 2: (0.10, 0.22), 3: (0.32, 0.5), 4: (0.9, 1.2)}
#: Working resolution of the pattern generator (px per IOD) and spill beyond the region (IOD).
WORK_IOD_PX, SPILL_IOD = 128.0, 0.06
#: How far a centrofacial pattern may run past the centre of the face, IOD (parameter: onto the
#: temples and the jaw's side, the "surrounding face" of MASI.md's confluent pigment).
CENTROFACIAL_SPILL_IOD = 0.25
_EDGE_IOD, _MOTTLE = 0.015, 0.25  # soft edge (IOD) and the mottle's depth: the package docstring, "Shapes"
#: Area bands (fraction) of the MASI area scores (Kimbrough-Green 1994); band 1 from 2 %.
_AREA_BANDS = {0: (0.0, 0.0), 1: (0.02, 0.1), 2: (0.1, 0.3), 3: (0.3, 0.5), 4: (0.5, 0.7), 5: (0.7, 0.9), 6: (0.9, 1.0)}


def disk(diameter_px: float) -> np.ndarray:
    """A disc structuring element (OpenCV ellipse) about ``diameter_px`` across, at least 3 px."""
    radius = max(1, int(round(diameter_px / 2)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def homogeneity_grade(diameter_iod: float) -> int:
    """The homogeneity grade (1-4) of a pattern whose patches are ``diameter_iod`` across
    (:func:`pigmentscan.lesions.patch_diameter_iod`), by :data:`HOMOGENEITY_THRESHOLDS_IOD`.

    Examples
    --------
    >>> [homogeneity_grade(d) for d in (0.05, 0.1, 0.3, 0.9)]
    [1, 2, 3, 4]
    """
    return 1 + int(np.searchsorted(HOMOGENEITY_THRESHOLDS_IOD, diameter_iod, side="right"))


def _smooth_noise(rng, shape, sigma_px) -> np.ndarray:
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), max(sigma_px, 0.5))
    return noise / (noise.std() + 1e-9)


def _warp(rng, image, amplitude_px, sigma_px):
    """Displace ``image`` by a smooth random field: turns round blobs into geographic shapes."""
    rows, cols = np.indices(image.shape, dtype=np.float32)
    dy = amplitude_px * _smooth_noise(rng, image.shape, sigma_px)
    dx = amplitude_px * _smooth_noise(rng, image.shape, sigma_px)
    return cv2.remap(image, cols + dx, rows + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def pattern_profile(rng, region, allowed, fraction, homogeneity, iod, drawn_fraction=None):
    """Soft profile in [0, 1] of one region's pigment at working resolution; q ≥ 0.5 is lesion.

    ``region`` and ``allowed`` (where pigment may spill) are boolean masks, ``fraction`` the share
    of ``region`` to cover, ``homogeneity`` the grade (1-4) whose patch size is drawn, ``iod``
    the inter-ocular distance in the masks' pixels (:data:`WORK_IOD_PX`); ``rng`` draws everything.

    The patches are drawn for ``drawn_fraction`` of the region (default ``fraction``) and cut
    to cover ``fraction``: the same draws with a smaller ``fraction`` give the same patches,
    shrunk in place (pigment fading between visits), not new ones.
    """
    drawn_fraction = fraction if drawn_fraction is None else drawn_fraction
    if drawn_fraction <= 0:
        return np.zeros(region.shape, np.float32)
    diameter = rng.uniform(*_BUMP_DIAMETER_IOD[homogeneity]) * iod
    if homogeneity >= 3:  # large patches are built from overlapping smaller blobs
        diameter *= 0.5
    area = float(region.sum())
    count = int(np.clip(round(drawn_fraction * area / (np.pi * diameter**2 / 4)), 1, 400))
    # Clustered centres: drawn in proportion to a slow random field over the region.
    cluster = np.exp(1.5 * _smooth_noise(rng, region.shape, 0.25 * iod)) * region
    flat = cluster.ravel() / cluster.sum()
    picks = rng.choice(flat.size, size=count, p=flat)
    impulses = np.zeros(region.size, np.float32)
    np.add.at(impulses, picks, rng.uniform(0.7, 1.3, count).astype(np.float32))
    sigma = diameter / 2.0
    field_ = cv2.GaussianBlur(impulses.reshape(region.shape), (0, 0), sigma) * (2 * np.pi * sigma**2)
    field_ = _warp(rng, field_, min(0.4 * diameter, 0.12 * iod), max(0.5 * diameter, 0.02 * iod))
    field_ = _warp(rng, field_, 0.02 * iod, 0.015 * iod)
    field_ = np.where(allowed, field_, 0.0).astype(np.float32)
    texture = 0.7 * _smooth_noise(rng, region.shape, 0.012 * iod) + 0.7 * _smooth_noise(rng, region.shape, 0.04 * iod)
    mottle = 1.0 - _MOTTLE * (0.5 + 0.5 * np.tanh(texture))
    edge = _EDGE_IOD * iod

    def profile(level):
        # Each patch is scaled to its own peak: its amplitude, whatever its size.
        soft = cv2.GaussianBlur((field_ >= level).astype(np.float32), (0, 0), edge) * mottle
        labels, count = ndimage.label(soft > 0.15)
        if count == 0:
            return soft
        peaks = np.concatenate([[1.0], ndimage.maximum(soft, labels, np.arange(1, count + 1))])
        return soft / np.maximum(peaks[labels], 1e-6)

    inside = field_[region]
    low, high = 0.0, float(inside.max())
    if high <= 0 or fraction <= 0:
        return np.zeros(region.shape, np.float32)
    for _ in range(30):  # the cut that involves `fraction` of the region
        mid = 0.5 * (low + high)
        share = float((profile(mid)[region] >= 0.5).mean())
        low, high = (mid, high) if share > fraction else (low, mid)
    return profile(high if fraction < 1 else 1e-9)


def draw_area_fraction(rng) -> float:
    """An area fraction drawn for one region: 8 % clear, else uniform in a uniformly drawn MASI area band."""
    band = int(rng.choice(7, p=[0.08] + [0.92 / 6] * 6))
    return float(rng.uniform(*_AREA_BANDS[band])) if band else 0.0


def feasible_homogeneity(fraction, region_area_iod2) -> list:
    """Homogeneity grades a pattern of this area can show in a region of this size."""
    largest = 2 * np.sqrt(fraction * region_area_iod2 / np.pi)  # one patch holding all the area
    grades = [h for h, lo in zip((2, 3, 4), HOMOGENEITY_THRESHOLDS_IOD) if largest > 1.2 * lo]
    grades = ([1] if fraction <= 0.12 else []) + [h for h in grades if not (h == 2 and fraction > 0.5)]
    return grades or [4 if fraction > 0.5 else 1]
