"""pigmentscan: objective Melasma Area and Severity Index (MASI) from facial photographs.

>>> import pigmentscan
>>> score = pigmentscan.score_image("photo.jpg")          # doctest: +SKIP
>>> table = pigmentscan.score_images(["a.jpg", "b.jpg"])  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.2.0"

from .errors import (  # noqa: E402
    ImageReadError,
    ManifestError,
    ModelError,
    NoFaceError,
    PigmentScanError,
    QualityError,
)
from .pipeline import FaceScore, score_image, score_images  # noqa: E402
from .qc import QualityLimits  # noqa: E402
from .scoring import load_model  # noqa: E402
from . import data  # noqa: E402  (pigmentscan.data.sample_images(): the bundled photos)

__all__ = [
    "__version__",
    "score_image",
    "score_images",
    "FaceScore",
    "QualityLimits",
    "load_model",
    "PigmentScanError",
    "ImageReadError",
    "NoFaceError",
    "QualityError",
    "ModelError",
    "ManifestError",
]
