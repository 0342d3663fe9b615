"""Compact per-photo maps that later visits are compared with pixel by pixel.

A :class:`FaceScore` holds the full analysis (crop, masks, pigment maps) but is too large to
keep for thousands of photos, and a trial compares visits long after scoring them.
:func:`face_maps` keeps what a paired comparison needs (:mod:`pigmentscan.longitudinal.pigment`):
the melanin map, the lesion mask, the measurable skin, each MASI region and the landmarks,
resampled to ``iod_px`` between the pupils (50 by default: the comparison is a mean over whole
regions, and a map is then about 20 kB). ``pigmentscan batch`` writes one per scored photo
(``DIR/maps/<image_sha256>.npz``, see :func:`maps_path`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import MapsError
from .io import display_path, npz_bytes, read_npz
from .landmarks import inter_ocular_distance
from .regions import REGION_KEYS

__all__ = ["FaceMaps", "face_maps", "maps_path", "read_face_maps", "face_maps_bytes", "MAPS_IOD_PX", "MAPS_DIR"]

#: Folder of a batch's output that holds the maps.
MAPS_DIR = "maps"
#: Inter-ocular distance of the stored maps, pixels.
MAPS_IOD_PX = 50.0
_FORMAT = "pigmentscan-face-maps/1"
_ARRAYS = ("format", "melanin", "lesion_mask", "skin_mask", "regions", "points_px", "iod_px", "source", "model",
           "pigmentscan_version")  # required; "image_sha256" was added later and is optional


@dataclass(frozen=True, eq=False)
class FaceMaps:
    """The maps of one analysed photo, on a grid with ``iod_px`` pixels between the pupils.

    Attributes
    ----------
    melanin : numpy.ndarray of float32, (H, W)
        Melanin amount relative to the face's median skin (``FaceAnalysis.melanin``): the map
        before any normal-skin reference, which does not depend on the lesion mask.
    lesion_mask, skin_mask : numpy.ndarray of bool, (H, W)
        The lesions, and the skin that was measured (not hair, shadow or highlight).
    region_masks : dict of str to numpy.ndarray of bool
        Visible skin of each MASI region.
    points_px : numpy.ndarray, (478, 2)
        FaceMesh landmarks (x, y) on this grid.
    iod_px : float
    source, model, pigmentscan_version : str
        The photo and the analysis that made the maps. ``source`` is the photo as its manifest
        names it (or its file name), never the absolute path a folder name of which may be a
        patient's name.
    image_sha256 : str
        SHA-256 of the photo's bytes (``""`` when unknown).
    """

    melanin: np.ndarray
    lesion_mask: np.ndarray
    skin_mask: np.ndarray
    region_masks: dict
    points_px: np.ndarray
    iod_px: float
    source: str = ""
    model: str = ""
    pigmentscan_version: str = ""
    image_sha256: str = ""

    def to_arrays(self) -> dict:
        """Plain arrays for an ``.npz`` file (no pickled objects)."""
        regions = np.zeros(self.melanin.shape, np.uint8)
        for bit, key in enumerate(REGION_KEYS):  # one bit per region: regions may touch
            regions |= (np.asarray(self.region_masks[key], bool) << bit).astype(np.uint8)
        # Only the regions (and a margin for the comparison's smoothing) are ever read: zeros
        # elsewhere compress to nothing.
        kept = cv2.dilate(regions, np.ones((7, 7), np.uint8)) > 0
        melanin = np.where(kept, self.melanin, 0.0).astype(np.float16)
        return {"format": np.array(_FORMAT), "melanin": melanin,
                "lesion_mask": self.lesion_mask, "skin_mask": self.skin_mask, "regions": regions,
                "points_px": self.points_px.astype(np.float32), "iod_px": np.array(self.iod_px),
                "source": np.array(self.source), "model": np.array(self.model),
                "pigmentscan_version": np.array(self.pigmentscan_version),
                "image_sha256": np.array(self.image_sha256)}

    @classmethod
    def from_arrays(cls, arrays: dict, source=None) -> FaceMaps:
        """The maps back from :meth:`to_arrays`; ``source`` names the file in errors."""
        if str(arrays.get("format", "")) != _FORMAT:
            raise MapsError(source, f"not a pigmentscan face-maps file (format {_FORMAT} expected)")
        missing = sorted(set(_ARRAYS) - set(arrays))
        if missing:
            raise MapsError(source, f"the maps lack {missing}")
        melanin = np.asarray(arrays["melanin"], np.float32)
        shapes = {arrays[k].shape for k in ("lesion_mask", "skin_mask", "regions")} | {melanin.shape}
        if len(shapes) != 1 or melanin.ndim != 2 or np.asarray(arrays["points_px"]).shape != (478, 2):
            raise MapsError(source, "the maps have inconsistent shapes")
        regions = np.asarray(arrays["regions"], np.uint8)
        return cls(melanin=melanin, lesion_mask=np.asarray(arrays["lesion_mask"], bool),
                   skin_mask=np.asarray(arrays["skin_mask"], bool),
                   region_masks={k: (regions >> bit & 1).astype(bool) for bit, k in enumerate(REGION_KEYS)},
                   points_px=np.asarray(arrays["points_px"], float), iod_px=float(arrays["iod_px"]),
                   source=str(arrays["source"]), model=str(arrays["model"]),
                   pigmentscan_version=str(arrays["pigmentscan_version"]),
                   image_sha256=str(arrays.get("image_sha256", "")))


def face_maps(score, *, iod_px: float = MAPS_IOD_PX, source: str | None = None, image_sha256: str = "") -> FaceMaps:
    """The maps of a scored photo, resampled to ``iod_px`` between the pupils.

    Parameters
    ----------
    score : FaceScore
        From :func:`pigmentscan.score_image`.
    iod_px : float
        Inter-ocular distance of the maps, pixels (at most the analysis scale).
    source : str, optional
        How to name the photo in the maps (a batch gives the manifest's ``image`` cell); by
        default its file name, without the folders above it.
    image_sha256 : str
        SHA-256 of the photo's bytes, recorded with the maps.

    Returns
    -------
    FaceMaps

    Examples
    --------
    >>> from pigmentscan import score_image
    >>> from pigmentscan.data import sample_images
    >>> maps = face_maps(score_image(sample_images("grace_hopper.jpg")[0]))
    >>> abs(maps.iod_px - MAPS_IOD_PX) < 1, sorted(maps.region_masks) == sorted(REGION_KEYS)
    (True, True)
    """
    analysis = score.analysis
    points = score.analysis_points_px
    crop_iod = inter_ocular_distance(points)
    factor = min(1.0, float(iod_px) / crop_iod)
    if analysis.melanin is None:
        raise ValueError(f"{score.source}: the analysis kept no melanin map")
    height, width = analysis.melanin.shape
    size = (max(8, round(width * factor)), max(8, round(height * factor)))

    def resized(array):
        return cv2.resize(np.asarray(array, np.float32), size, interpolation=cv2.INTER_AREA)

    def mask(array):  # a pixel is in the mask when most of the area it covers was
        return resized(array) > 0.5

    points = points * np.array([size[0] / width, size[1] / height])
    return FaceMaps(melanin=resized(analysis.melanin), lesion_mask=mask(analysis.lesion_mask),
                    skin_mask=mask(~analysis.non_skin),
                    region_masks={k: mask(analysis.region_masks[k]) for k in REGION_KEYS},
                    points_px=points, iod_px=inter_ocular_distance(points),
                    source=display_path(Path(str(score.source)).name if source is None else source),
                    model=score.model, pigmentscan_version=score.pigmentscan_version, image_sha256=image_sha256)


def face_maps_bytes(score, *, iod_px: float = MAPS_IOD_PX, source: str | None = None, image_sha256: str = "") -> bytes:
    """:func:`face_maps` of ``score`` as ``.npz`` bytes (what a batch writes)."""
    return npz_bytes(face_maps(score, iod_px=iod_px, source=source, image_sha256=image_sha256).to_arrays())


def maps_path(maps_dir, image_sha256: str) -> Path:
    """Where a batch keeps the maps of the photo with this SHA-256: ``maps_dir/<sha256>.npz``."""
    if not image_sha256 or not all(c in "0123456789abcdef" for c in str(image_sha256).lower()):
        raise ValueError(f"not a SHA-256 hex digest: {image_sha256!r}")
    return Path(maps_dir) / f"{str(image_sha256).lower()}.npz"


def read_face_maps(path) -> FaceMaps:
    """Read maps written by a batch (or :func:`face_maps_bytes`); :class:`MapsError` names a bad file."""
    return FaceMaps.from_arrays(read_npz(path), source=path)
