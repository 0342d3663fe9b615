"""The sample photos shipped with pigmentscan, wherever it is installed.

>>> import pigmentscan
>>> from pigmentscan.data import sample_images
>>> score = pigmentscan.score_image(sample_images()[0])
>>> score.status in ("ok", "warn")
True

``python -m pigmentscan.data`` prints the folder, for the command line:
``pigmentscan score "$(python -m pigmentscan.data)" --out scores.csv``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_folder", "sample_images"]

_PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def sample_folder() -> Path:
    """The folder of the sample photos: the repository's ``sample_images/`` in a source checkout, else the
    copy installed inside the package (``pigmentscan/sample_images/``, pyproject.toml's package data)."""
    package = Path(__file__).resolve().parent
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "sample_images").is_dir():
        return checkout / "sample_images"
    return package / "sample_images"


def sample_images(pattern: str = "*") -> list[Path]:
    """Paths of the bundled sample photos (public domain, see ``LICENSES.md`` beside them), sorted.

    Parameters
    ----------
    pattern : str
        Glob of the file names, e.g. ``"*_phantom.png"`` for the photos with simulated melasma
        (their true lesion extent is in the ``.json`` of the same name).

    Examples
    --------
    >>> [p.name for p in sample_images("grace*")]
    ['grace_hopper.jpg', 'grace_hopper_phantom.png']
    """
    return sorted(p for p in sample_folder().glob(pattern) if p.suffix.lower() in _PHOTO_SUFFIXES)


if __name__ == "__main__":  # pragma: no cover
    print(sample_folder())
