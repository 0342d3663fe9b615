"""Exceptions raised by pigmentscan.

Every error about one photo or one input file derives from :class:`PigmentScanError`
and its message starts with the file it is about, then says what went wrong and,
where it can, what to do about it.
"""

from __future__ import annotations

import os

__all__ = [
    "PigmentScanError",
    "ImageReadError",
    "NoFaceError",
    "QualityError",
    "ModelError",
    "ManifestError",
    "MapsError",
    "OutputError",
    "IncompleteBatchError",
]


class PigmentScanError(Exception):
    """Base class of every error pigmentscan raises on purpose.

    Parameters
    ----------
    source : str or os.PathLike or None
        The file (or other input) the error is about; shown first in the message.
    reason : str
        What went wrong, in words a study coordinator understands.
    """

    def __init__(self, source, reason: str):
        self.source = None if source is None else os.fspath(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}" if self.source else reason)


class ImageReadError(PigmentScanError):
    """The file is missing, unreadable, not an image, or not a usable colour photo."""


class NoFaceError(PigmentScanError):
    """No face was found in the photo."""


class QualityError(PigmentScanError):
    """The photo was read and a face found, but it cannot be scored reliably."""


class ModelError(PigmentScanError):
    """A calibration / model file is missing, malformed or of an unknown version."""


class ManifestError(PigmentScanError):
    """A manifest or scores table is malformed."""


class MapsError(PigmentScanError):
    """A face-maps file (a batch's ``maps/``) is missing, malformed or not from the expected photo."""


class OutputError(PigmentScanError):
    """An output cannot be written where it was asked for, or would replace an input or another output.

    Raised before any work is done (:func:`pigmentscan.io.check_outputs`), so a bad output path
    never costs a finished run; the command line reports it as a bad argument (exit status 2).
    """


class IncompleteBatchError(PigmentScanError):
    """A batch stopped because its workers (not its photos) failed: a worker died, a cluster lost its
    workers or its scheduler. The finished rows are kept; the photos not scored have no row, and
    running the batch again scores them."""
