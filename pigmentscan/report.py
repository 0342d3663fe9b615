"""Human-readable reports: self-contained HTML pages and PNG figures.

Reports open in a browser with no network: figures are embedded as base64 PNG,
there is no script, font or stylesheet fetched from anywhere. Files are written
atomically and only under the folder the caller names.
"""

from __future__ import annotations

import base64
import html
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from . import __version__
from .io import atomic_write_bytes, atomic_write_text

__all__ = ["HtmlReport", "figure_png_bytes", "save_figure", "render_overlay", "overlay_paths", "write_overlay"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #ccc;padding-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.4em 0}
footer{margin-top:3em;color:#777;font-size:.85em}
"""


def figure_png_bytes(figure, *, dpi: int = 110) -> bytes:
    """Render a matplotlib figure to PNG bytes carrying no metadata."""
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def save_figure(figure, path) -> Path:
    """Write a matplotlib figure to ``path`` as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    data = figure_png_bytes(figure)
    plt.close(figure)
    return atomic_write_bytes(path, data)


@dataclass
class HtmlReport:
    """A self-contained HTML page built block by block.

    Examples
    --------
    >>> report = HtmlReport("Agreement")
    >>> report.heading("Totals")
    >>> report.paragraph("MASI against physicians.")
    >>> "<h2>Totals</h2>" in report.to_html()
    True
    """

    title: str
    blocks: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        css = ' class="note"' if note else ""
        self.blocks.append(f"<p{css}>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, *, float_format: str = "{:.3f}", index: bool = False) -> None:
        formatters = {
            column: (lambda v, f=float_format: "" if pd.isna(v) else f.format(v))
            for column in frame.columns
            if pd.api.types.is_float_dtype(frame[column])
        }
        self.blocks.append(frame.to_html(index=index, formatters=formatters, border=0, escape=True, na_rep=""))

    def image(self, png_bytes: bytes, *, alt: str = "") -> None:
        encoded = base64.b64encode(png_bytes).decode("ascii")
        self.blocks.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">')

    def figure(self, figure, *, alt: str = "") -> None:
        """Embed a matplotlib figure (and close it)."""
        import matplotlib.pyplot as plt

        self.image(figure_png_bytes(figure), alt=alt)
        plt.close(figure)

    def to_html(self) -> str:
        body = "\n".join(self.blocks)
        title = html.escape(self.title)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_CSS}</style></head><body>\n<h1>{title}</h1>\n{body}\n"
            f"<footer>pigmentscan {__version__}</footer></body></html>\n"
        )

    def write(self, path) -> Path:
        """Write the page to ``path`` atomically."""
        return atomic_write_text(path, self.to_html())


# --- overlays ---------------------------------------------------------------------
#: Outline colour (RGB) of each region in overlays.
REGION_COLOURS = {"forehead": (255, 170, 0), "right_malar": (0, 200, 255), "left_malar": (60, 255, 60), "chin": (255, 90, 255)}
_LESION_TINT = np.array([200, 0, 120], dtype=np.float32)
_OVERLAY_HEIGHT_PX = 800


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
    picture = score.analysis_image.astype(np.float32)
    lesion = analysis.lesion_mask
    picture[lesion] = 0.55 * picture[lesion] + 0.45 * _LESION_TINT
    picture = np.clip(picture, 0, 255).astype(np.uint8)
    zoom = _OVERLAY_HEIGHT_PX / picture.shape[0]
    picture = cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_LINEAR)
    for key, mask in analysis.region_masks.items():
        big = cv2.resize(mask.astype(np.uint8), (picture.shape[1], picture.shape[0]), interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(picture, contours, -1, REGION_COLOURS[key], 2, lineType=cv2.LINE_AA)
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
    from .io import write_png

    return write_png(path, render_overlay(score))



# --- before/after panels (longitudinal comparison) ---------------------------------
__all__ += ["warp_to_reference", "comparison_panel", "comparison_panels"]

#: Subjects given photo panels in one report (presentation limit: each panel re-analyses
#: every photo of its subject and adds about 1 MB to the page).
PANEL_MAX_SUBJECTS = 40
_TILE_PX, _LABEL_PX = 300, 34
# The face oval (FaceMesh FACEMESH_FACE_OVAL) pushed outwards by these factors about the face
# centre: extra triangles over the forehead band above the mesh and the crop's margin.
_OVAL_PUSH = (1.35, 1.6)
_LESS, _MORE = np.array([30, 110, 235], np.float32), np.array([215, 60, 20], np.float32)


def _with_rings(points_px) -> np.ndarray:
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

    mesh = np.asarray(points_px, float)[:468]  # the mesh without the iris points
    oval = mesh[sorted({i for edge in FACEMESH_FACE_OVAL for i in edge})]
    centre = mesh.mean(axis=0)
    return np.vstack([mesh] + [centre + push * (oval - centre) for push in _OVAL_PUSH])


def warp_to_reference(image, points_px, reference_points_px, reference_shape, *, interpolation=cv2.INTER_LINEAR):
    """Warp an image onto another photo's face geometry, piecewise-affinely on face triangles.

    The triangles are the Delaunay triangulation of the reference's 468 FaceMesh points plus
    two rings of its face oval pushed outwards; each maps affinely onto the same three
    landmarks of ``image``.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W) or (H, W, C): a photo, a uint8 mask, a float map.
    points_px, reference_points_px : numpy.ndarray, shape (478, 2)
        FaceMesh landmarks (x, y) in ``image`` and in the reference.
    reference_shape : tuple
        (height, width) of the result.
    interpolation : int
        OpenCV interpolation (``cv2.INTER_NEAREST`` for masks).

    Returns
    -------
    warped : numpy.ndarray
        ``image`` in the reference geometry, 0 where it has no source.
    valid : numpy.ndarray of bool
        Pixels that come from inside ``image``.
    """
    from scipy.spatial import Delaunay

    reference, source = _with_rings(reference_points_px), _with_rings(points_px)
    triangles = Delaunay(reference).simplices
    height, width = reference_shape[:2]
    labels = np.full((height, width), -1, np.int32)
    for t, tri in enumerate(triangles):
        cv2.fillConvexPoly(labels, np.round(reference[tri] * 16).astype(np.int32), int(t), cv2.LINE_8, shift=4)
    corners = np.concatenate([reference[triangles], np.ones(triangles.shape + (1,))], axis=2)
    affine = np.linalg.pinv(corners) @ source[triangles]  # (T, 3, 2): (x, y, 1) @ affine -> source (x, y)
    inside = labels >= 0
    yy, xx = np.nonzero(inside)
    m = affine[labels[inside]]
    map_x, map_y = np.full((2, height, width), -1.0, np.float32)
    map_x[inside] = xx * m[:, 0, 0] + yy * m[:, 1, 0] + m[:, 2, 0]
    map_y[inside] = xx * m[:, 0, 1] + yy * m[:, 1, 1] + m[:, 2, 1]
    warped = cv2.remap(np.ascontiguousarray(image), map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT)
    h, w = np.asarray(image).shape[:2]
    return warped, inside & (map_x >= 0) & (map_y >= 0) & (map_x <= w - 1) & (map_y <= h - 1)


def _tile(picture, lines, height):
    tile = cv2.resize(picture, None, fx=height / picture.shape[0], fy=height / picture.shape[0],
                      interpolation=cv2.INTER_AREA)
    head = np.full((_LABEL_PX, tile.shape[1], 3), 255, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(head, text, (6, 14 + 15 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([head, tile])


def comparison_panel(visits, *, tile_height: int = _TILE_PX) -> np.ndarray:
    """Before/after picture of one subject, every visit on the baseline's face geometry.

    One column per visit, baseline first. Rows: the photo warped onto the baseline face
    (:func:`warp_to_reference`); the same with the visit's lesion mask tinted and the
    baseline's region outlines; where pigment changed since baseline, the difference of
    the warped ``melanin_contrast`` maps (each against its own photo's normal skin, so
    exposure and white-balance drift cancel) on visible skin of the regions: blue where it
    decreased, red where it increased, full colour at one lesion threshold
    (``LesionParams.min_contrast`` of the default model).

    Parameters
    ----------
    visits : sequence of (str, FaceScore)
        Label and score of each visit, baseline first.
    tile_height : int
        Height of each picture, pixels.

    Returns
    -------
    numpy.ndarray
        RGB uint8.
    """
    from .scoring import load_model

    def crop_points(score):
        return (np.asarray(score.landmarks.points_px, float) - score.crop_offset_px) * score.crop_scale

    base = visits[0][1]
    shape, reference = base.analysis_image.shape[:2], crop_points(base)
    scale = float(load_model(None).lesion.min_contrast)
    sigma = 0.02 * float(np.linalg.norm(reference[473] - reference[468]))  # 2 % of the inter-ocular distance
    base_contrast = cv2.GaussianBlur(base.analysis.melanin_contrast.astype(np.float32), (0, 0), sigma)
    base_skin = np.logical_or.reduce(list(base.analysis.region_masks.values())) & ~base.analysis.non_skin
    columns = []
    for label, score in visits:
        def warp(image, interpolation=cv2.INTER_LINEAR, points=crop_points(score)):
            return warp_to_reference(image, points, reference, shape, interpolation=interpolation)

        photo, valid = warp(score.analysis_image)
        lesion = warp(score.analysis.lesion_mask.astype(np.uint8), cv2.INTER_NEAREST)[0].astype(bool) & valid
        skin = warp((~score.analysis.non_skin).astype(np.uint8), cv2.INTER_NEAREST)[0].astype(bool) & valid & base_skin
        change = cv2.GaussianBlur(warp(score.analysis.melanin_contrast.astype(np.float32))[0], (0, 0), sigma) - base_contrast
        photo[~valid] = 255
        tinted = photo.astype(np.float32)
        tinted[lesion] = 0.55 * tinted[lesion] + 0.45 * _LESION_TINT
        tinted = np.clip(tinted, 0, 255).astype(np.uint8)
        for key, mask in base.analysis.region_masks.items():
            contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(tinted, contours, -1, REGION_COLOURS[key], 1, lineType=cv2.LINE_AA)
        grey = np.repeat(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2).astype(np.float32)
        alpha = 0.85 * (np.clip(np.abs(change) / scale, 0, 1) * skin)[..., None]
        changed = np.clip(grey * (1 - alpha) + np.where(change[..., None] < 0, _LESS, _MORE) * alpha, 0, 255)
        area = np.mean([region.area_pct for region in score.regions.values()])
        columns.append(np.vstack([
            _tile(photo, [label, f"MASI {score.masi:.1f}  mMASI {score.mmasi:.1f}"], tile_height),
            _tile(tinted, ["lesions (magenta)", f"mean area {area:.1f} %"], tile_height),
            _tile(changed.astype(np.uint8), ["pigment vs baseline", "blue less, red more"] if score is not base
                  else ["baseline (reference)"], tile_height)]))
    gap = np.full((columns[0].shape[0], 6, 3), 255, np.uint8)
    return np.hstack([part for column in columns for part in (gap, column)][1:])


def comparison_panels(scores, folder, *, model=None, max_subjects: int = PANEL_MAX_SUBJECTS) -> dict:
    """Before/after panels (PNG bytes, by subject) from a scores table (CONTRACT.md).

    The photos in the ``image`` column (relative to ``folder``, the scores CSV's folder) are
    scored again for their landmarks, lesion masks and contrast maps. Visits are ordered by
    :func:`pigmentscan.io.visit_order_key` (then ``date``); one photo per visit, the first
    listed. A subject gets a panel when its first visit's photo and at least one later photo
    can be read and scored; error rows are left out. Only the first ``max_subjects`` subjects
    (sorted) get panels.

    Returns
    -------
    dict of str to bytes
    """
    from .errors import ImageReadError, PigmentScanError
    from .io import visit_order_key
    from .pipeline import score_image

    def order(row):
        try:
            return (0, visit_order_key(row["visit"]), row.get("date", ""))
        except ValueError:
            return (1, (0, 0.0), row.get("date", ""))

    table = scores[[c for c in ("image", "subject", "visit", "date", "status") if c in scores.columns]]
    table = table.fillna("").astype(str)
    usable = (table["image"].str.strip() != "") & (table["subject"].str.strip() != "")
    if "status" in table.columns:
        usable &= table["status"].str.lower() != "error"
    panels = {}
    for subject, group in sorted(table[usable].groupby("subject")):
        if len(panels) >= max_subjects:
            break
        rows = sorted(group.to_dict("records"), key=order)
        visits = []
        for row in rows:
            path = Path(folder) / row["image"].strip()
            label = row["visit"] or row.get("date", "")
            if any(label == seen for seen, _ in visits):
                continue
            try:
                if not path.is_file():
                    raise ImageReadError(path, "no such file")
                visits.append((label, score_image(path, model=model)))
            except PigmentScanError:
                if not visits:
                    break  # no baseline photo: no panel
        if len(visits) >= 2:
            ok, encoded = cv2.imencode(".png", cv2.cvtColor(comparison_panel(visits), cv2.COLOR_RGB2BGR))
            panels[subject] = encoded.tobytes()
    return panels
