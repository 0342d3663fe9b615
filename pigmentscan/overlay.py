"""One score drawn on its face: the overlay picture (:func:`render_overlay`), its notebook view and its file.

The pipeline's :class:`~pigmentscan.FaceScore` shows itself in a notebook with :func:`score_html`;
:func:`pigmentscan.score_images` and a batch write the same picture as overlay files
(:func:`overlay_paths` names them, :func:`write_overlay` writes one). This module sits below the
pipeline (and :mod:`pigmentscan.report` re-exports it), so scoring never imports the reports.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from .io import write_png

__all__ = ["REGION_COLOURS", "tint_lesions", "outline_regions", "render_overlay", "score_html", "overlay_paths",
           "write_overlay"]

#: Outline colour (RGB) of each region in overlays.
REGION_COLOURS = {"forehead": (255, 170, 0), "right_malar": (0, 200, 255), "left_malar": (60, 255, 60), "chin": (255, 90, 255)}
_LESION_TINT = np.array([200, 0, 120], dtype=np.float32)
_OVERLAY_HEIGHT_PX = 800


def tint_lesions(rgb, lesion) -> np.ndarray:
    """A uint8 copy of ``rgb`` with the ``lesion`` pixels tinted magenta (45 %)."""
    picture = np.asarray(rgb).astype(np.float32)
    picture[lesion] = 0.55 * picture[lesion] + 0.45 * _LESION_TINT
    return np.clip(picture, 0, 255).astype(np.uint8)


def outline_regions(picture, region_masks, *, thickness: int) -> None:
    """Draw each region's outline in :data:`REGION_COLOURS` on ``picture`` (in place).

    Masks of another size than ``picture`` are resized to it (nearest neighbour) first.
    """
    height, width = picture.shape[:2]
    for key, mask in region_masks.items():
        mask = mask.astype(np.uint8)
        if mask.shape[:2] != (height, width):
            mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(picture, contours, -1, REGION_COLOURS[key], thickness, lineType=cv2.LINE_AA)

def render_overlay(score) -> np.ndarray:
    """An RGB picture of one score: region outlines, lesions tinted, each region's A/D/H and the totals.

    Parameters
    ----------
    score : pigmentscan.FaceScore

    Returns
    -------
    numpy.ndarray
        RGB uint8: the face at the analysis scale (enlarged to 800 px high) beside a
        text panel. Carries nothing of the source photo's metadata.
    """
    analysis = score.analysis
    picture = tint_lesions(score.analysis_image, analysis.lesion_mask)
    zoom = _OVERLAY_HEIGHT_PX / picture.shape[0]
    picture = cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_LINEAR)
    outline_regions(picture, analysis.region_masks, thickness=2)
    panel = np.full((picture.shape[0], 380, 3), 255, dtype=np.uint8)
    lines = [
        (f"MASI  {score.masi:5.1f} / 48", (0, 0, 0), 0.8),
        (f"mMASI {score.mmasi:5.1f} / 24", (0, 0, 0), 0.8),
        (f"QC: {score.status}", (0, 0, 0) if score.status == "ok" else (200, 90, 0), 0.6),
        ("", (0, 0, 0), 0.5),
    ]
    for key, region in score.regions.items():
        lines.append((key.replace("_", " "), REGION_COLOURS[key], 0.65))
        lines.append((f"  A {region.area_score}  D {region.darkness}  H {region.homogeneity}   {region.area_pct:4.1f} %", (0, 0, 0), 0.6))
    lines += [("", (0, 0, 0), 0.5), ("lesion tinted magenta", (200, 0, 120), 0.5),
              ("right malar = patient's right", (90, 90, 90), 0.5), (f"model {score.model}", (90, 90, 90), 0.42),
              (f"pigmentscan {score.pigmentscan_version}", (90, 90, 90), 0.42)]
    y = 40
    for text, colour_rgb, size in lines:
        if text:
            cv2.putText(panel, text, (14, y), cv2.FONT_HERSHEY_SIMPLEX, size, colour_rgb, 2 if size >= 0.6 else 1, cv2.LINE_AA)
        y += int(44 * size) + 8
    return np.hstack([picture, panel])


#: Height (px) and JPEG quality of the overlay in a notebook's view of a score.
_NOTEBOOK_HEIGHT_PX, _NOTEBOOK_JPEG_QUALITY = 420, 85


def score_html(score) -> str:
    """HTML of one score for a notebook: the overlay beside the table of regions, the totals and QC.

    Parameters
    ----------
    score : pigmentscan.FaceScore

    Returns
    -------
    str
        Self-contained HTML (the overlay embedded as a JPEG, about 40 kB).
    """
    picture = render_overlay(score)
    zoom = _NOTEBOOK_HEIGHT_PX / picture.shape[0]
    picture = cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY,
                                                                            _NOTEBOOK_JPEG_QUALITY])[1]
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(key.replace('_', ' '))}</td><td>{r.area_pct:.1f}</td>"
        f"<td>{r.area_score}</td><td>{r.darkness}</td><td>{r.homogeneity}</td>"
        f"<td>{r.measures.melanin_contrast:.3f}</td></tr>" for key, r in score.regions.items())
    reasons = "; ".join(score.qc.reasons)
    return (f"<div><b>{html.escape(str(score.source))}</b>: MASI {score.masi:.1f} / 48, mMASI {score.mmasi:.1f} / 24, "
            f"QC <b>{html.escape(score.status)}</b>{html.escape(': ' + reasons) if reasons else ''}"
            f"<div style='display:flex;gap:1em;align-items:flex-start'>"
            f"<img alt='overlay' src='data:image/jpeg;base64,{base64.b64encode(jpeg.tobytes()).decode('ascii')}'>"
            "<table><thead><tr><th>region</th><th>area %</th><th>A</th><th>D</th><th>H</th>"
            f"<th>melanin contrast (OD)</th></tr></thead><tbody>{rows}</tbody></table></div>"
            f"<small>model {html.escape(score.model)}; right malar = the patient's right</small></div>")


# --------------------------------------------------------------------------- overlay files

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
    return write_png(path, render_overlay(score))
