"""Shared pytest fixtures."""

# --- shared face photos (added with tests/test_io.py) ----------------------------
import os as _os
from pathlib import Path as _Path

import pytest as _pytest


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
