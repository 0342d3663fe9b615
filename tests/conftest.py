"""Shared pytest fixtures, and the tiers of the suite.

Tiers (the markers are declared in pyproject.toml):

- **fast**: ``python -m pytest -m "not slow" -n 2`` — the tests on hand-built tables and the
  photos bundled in ``sample_images/``, and the docstring examples; under two minutes on two
  cores, and nothing outside the repository is needed.
- **slow**: tests marked ``slow`` (each takes several seconds, or sits behind a slow fixture),
  and every test on the real face photos of ``../shared/faces`` (or ``$PIGMENTSCAN_FACES``):
  those are marked ``faces`` and ``slow`` here, by the fixtures they use (:func:`faces_dir`,
  :func:`face_path`), and skip when the photos are absent.
- **all**: ``python -m pytest -n 2 --dist loadfile`` runs both.
"""

# --- shared face photos (added with tests/test_io.py) ----------------------------
import os as _os
from pathlib import Path as _Path

import pytest as _pytest


#: The fixtures that give the face photos of ../shared/faces: a test that uses one is in the slow tier.
FACE_FIXTURES = frozenset({"faces_dir", "face_path"})


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the face photos ``faces`` and ``slow`` (the fast tier never needs them).

    A test that uses :func:`faces_dir` or :func:`face_path` (directly or through its fixtures) is
    found here; one that reaches the photos otherwise (``request.getfixturevalue``) says ``faces`` itself.
    """
    for item in items:
        if FACE_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("faces"):
            item.add_marker(_pytest.mark.faces)
            item.add_marker(_pytest.mark.slow)


@_pytest.fixture(scope="session")
def faces_dir() -> _Path:
    """Folder of real face photos: $PIGMENTSCAN_FACES, else ../shared/faces/london
    beside the repository; the test is skipped when neither exists."""
    env = _os.environ.get("PIGMENTSCAN_FACES")
    repo = _Path(__file__).resolve().parents[1]
    folder = _Path(env) if env else repo.parent / "shared" / "faces" / "london"
    if not folder.is_dir():
        _pytest.skip(f"face photos not found at {folder} "
                     "(set PIGMENTSCAN_FACES to a folder of face JPEGs)")
    return folder


@_pytest.fixture(scope="session")
def face_path(faces_dir):
    """``face_path("004_03.jpg")`` -> path of that photo in :func:`faces_dir` (skips if absent)."""

    def lookup(name: str) -> _Path:
        path = faces_dir / name
        if not path.is_file():
            _pytest.skip(f"face photo {path} not found")
        return path

    return lookup
