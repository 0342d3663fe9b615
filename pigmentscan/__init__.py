"""pigmentscan: objective Melasma Area and Severity Index (MASI) from facial photographs.

>>> import pigmentscan
>>> photos = pigmentscan.data.sample_images("grace_hopper*")  # a photo, and the face with simulated melasma
>>> score = pigmentscan.score_image(photos[0])
>>> sorted(score.regions) == sorted(["forehead", "right_malar", "left_malar", "chin"])
True
>>> table = pigmentscan.score_images(photos)  # one row per photo: the scores table of CONTRACT.md
>>> len(table), table["status"].isin(["ok", "warn"]).all()
(2, True)

Importing the package loads only the errors and the version: the names below, and every
subpackage (``pigmentscan.io``, ``pigmentscan.report``, ...), are imported on first use (PEP 562),
so that importing a stage imports that stage and what is below it, never the pipeline above it.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import (
    ImageReadError,
    ManifestError,
    ModelError,
    NoFaceError,
    PigmentScanError,
    QualityError,
)

#: The names of the public API imported on first use, and the module each comes from.
_LAZY = {
    "FaceScore": "pipeline",
    "score_image": "pipeline",
    "score_images": "pipeline",
    "QualityLimits": "qc",
    "load_model": "scoring",
}

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


def __getattr__(name: str):
    """``pigmentscan.score_image`` and the other names of :data:`__all__`, and the subpackages, on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f".{name}", __name__)  # pigmentscan.data, pigmentscan.io, ...
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
