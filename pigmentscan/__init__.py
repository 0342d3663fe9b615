"""pigmentscan: objective Melasma Area and Severity Index (MASI) from facial photographs."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    ImageReadError,
    ManifestError,
    ModelError,
    NoFaceError,
    PigmentScanError,
    QualityError,
)

__all__ = [
    "__version__",
    "PigmentScanError",
    "ImageReadError",
    "NoFaceError",
    "QualityError",
    "ModelError",
    "ManifestError",
]
