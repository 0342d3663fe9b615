"""Overlays as files: safe file names (:func:`overlay_paths`) and :func:`write_overlay`.

The drawing itself is :mod:`pigmentscan.overlay` (below the pipeline, which shows a score with it).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..overlay import REGION_COLOURS, outline_regions, render_overlay, tint_lesions  # noqa: F401

#: Characters kept in overlay file names: letters and digits of any script, ``_ . -`` and space.
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


def _safe_stem(text: str, fallback: str) -> str:
    """A file stem that cannot leave its folder: no separators, no leading dot, ≤ 120 characters."""
    stem = _UNSAFE_NAME.sub("_", text).strip(" .")[:120].strip(" .")
    return stem or fallback


def overlay_paths(overlay_dir, images) -> list:
    """One distinct overlay file name per photo in ``overlay_dir``: ``<stem>.png``.

    Photos whose stems collide (``visit1/S01.jpg`` and ``visit2/S01.jpg``; compared
    ignoring case, as on macOS and Windows) get the parent folder's name in front, and
    a number behind if that still collides; arrays get ``image_<n>.png``. Characters
    other than letters, digits, ``_ . -`` and space become ``_`` and leading dots go, so
    a name such as ``../../x.jpg`` or ``a\\..\\x.jpg`` stays inside ``overlay_dir``.
    """
    import os
    from collections import Counter

    overlay_dir = Path(overlay_dir)
    is_path = [isinstance(p, (str, os.PathLike)) for p in images]
    stems = [_safe_stem(Path(p).stem, f"image_{i}") if ok else f"image_{i}"
             for i, (p, ok) in enumerate(zip(images, is_path))]
    counts = Counter(stem.casefold() for stem in stems)
    taken: set[str] = set()
    paths = []
    for i, (stem, image, ok) in enumerate(zip(stems, images, is_path)):
        if ok and counts[stem.casefold()] > 1:
            stem = _safe_stem(f"{Path(image).parent.name}_{stem}", stem)
        name = stem
        while name.casefold() in taken:
            name = f"{stem}_{i}" if name == stem else f"{name}_"
        taken.add(name.casefold())
        path = overlay_dir / f"{name}.png"
        if path.parent != overlay_dir:  # cannot happen with the names above; never write elsewhere
            raise ValueError(f"overlay name {name!r} would leave {overlay_dir}")
        paths.append(path)
    return paths


def write_overlay(path, score) -> Path:
    """Render :func:`render_overlay` and write it as a PNG without metadata, atomically."""
    from ..io import write_png

    return write_png(path, render_overlay(score))
