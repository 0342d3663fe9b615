"""Before/after panels of one subject, every visit warped onto the baseline's face (longitudinal comparison).

Panels are drawn from scores already computed (:class:`~pigmentscan.FaceScore`), never by scoring:
:func:`panel_visits` says which photo each panel shows, the caller scores each of them once
(``compare``: :func:`pigmentscan.longitudinal.compare_files`) and :func:`comparison_panels` draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import cv2
import numpy as np

from ..io import visit_order
from ..landmarks import inter_ocular_distance
from ..overlay import outline_regions, tint_lesions
from ..registration import warp_to_reference

#: Subjects given photo panels in one report (presentation limit: each panel needs every photo
#: of its subject analysed).
PANEL_MAX_SUBJECTS = 60
#: Height of each picture in a panel, and JPEG quality of the panel (a 4-visit panel: 50-100 kB).
PANEL_TILE_PX, PANEL_JPEG_QUALITY = 170, 80
#: Bytes of panels one report page embeds at most (:func:`fit_panels`): with the figures and
#: tables, a page of 50 subjects stays under about 3 MB (base64 adds a third).
PANEL_PAGE_BUDGET = 1_700_000
#: Change of pigment excess drawn in full colour in a panel, JND (presentation: twice the level at
#: which pigment becomes visible, docs/grading_scale.md).
CHANGE_FULL_COLOUR_JND = 2.0
#: Height of the label above each picture of a panel, and of one line of it, pixels.
PANEL_LABEL_PX, _LINE_PX = 44, 13
_LESS, _MORE = np.array([30, 110, 235], np.float32), np.array([215, 60, 20], np.float32)
_MARK_COLOURS = {"warn": (200, 110, 0), "error": (90, 90, 90), "other": (200, 20, 40)}


def _fitted(text: str, width: int, scale: float) -> str:
    """``text`` cut (with ...) to fit ``width`` pixels in OpenCV's simplex font."""
    def size(t):
        return cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]

    if size(text) <= width:
        return text
    while text and size(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _tile(picture, lines, height, colours=()):
    tile = cv2.resize(picture, None, fx=height / picture.shape[0], fy=height / picture.shape[0],
                      interpolation=cv2.INTER_AREA)
    head = np.full((PANEL_LABEL_PX, tile.shape[1], 3), 255, np.uint8)
    for i, text in enumerate(lines):
        colour = colours[i] if i < len(colours) else (0, 0, 0)
        cv2.putText(head, _fitted(text, tile.shape[1] - 8, 0.38), (4, 12 + _LINE_PX * i), cv2.FONT_HERSHEY_SIMPLEX,
                    0.38, colour, 1, cv2.LINE_AA)
    return np.vstack([head, tile])


def _placeholder(shape, label, reason, height):
    """A grey column for a visit without a usable photo: its label and why, in each row."""
    width = max(1, round(shape[1] * height / shape[0]))
    grey = np.full((height, width, 3), 225, np.uint8)
    lines, line = [], ""
    for word in str(reason).split():  # wrap the reason into the picture
        if cv2.getTextSize(f"{line} {word}".strip(), cv2.FONT_HERSHEY_SIMPLEX, 0.38, 1)[0][0] > width - 10 and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    for i, text in enumerate(lines + [line]):
        cv2.putText(grey, _fitted(text, width - 10, 0.38), (5, 20 + _LINE_PX * i), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                    (60, 60, 60), 1, cv2.LINE_AA)
    return [_tile(grey, [label, "no usable photo"], height, (_MARK_COLOURS["error"],) * 2)] * 3


def comparison_panel(visits, *, tile_height: int = PANEL_TILE_PX, baseline: int | None = 0) -> np.ndarray:
    """Before/after picture of one subject, every visit on the reference face's geometry.

    One column per visit, in order. Rows: the photo warped onto the reference face (the
    baseline's photo, else the first visit with a photo; :func:`warp_to_reference`); the same with the visit's lesion mask tinted
    and the reference's region outlines; where pigment changed since the reference, the
    difference of the warped pigment-excess maps (each against its own photo's expected normal
    skin, so exposure and white-balance drift cancel) on visible skin of the regions: blue where
    it decreased, red where it increased, full colour at :data:`CHANGE_FULL_COLOUR_JND`.

    A visit without a photo keeps its column: grey, with its reason. A photo scored with a
    quality warning is labelled in orange with it; a photo that is not the subject's face (the
    identity check of ``compare``) in red.

    Parameters
    ----------
    visits : sequence of (str, FaceScore) or (str, FaceScore or None, str, str)
        Label and score of each visit, in order; optionally its mark (``ok``, ``warn``,
        ``error`` without a photo, ``other`` for another face) and the reason.
    tile_height : int
        Height of each picture, pixels.
    baseline : int or None
        Position in ``visits`` of the subject's baseline visit (:func:`pigmentscan.io.visit_order`);
        None when it has none. The change row is labelled "vs baseline" when the baseline's photo is
        the reference, else "vs reference".

    Returns
    -------
    numpy.ndarray
        RGB uint8.
    """
    visits = [tuple(v) + ("ok", "")[len(v) - 2:] if len(v) < 4 else tuple(v) for v in visits]
    at_baseline = visits[baseline][1] if baseline is not None else None
    base = at_baseline if at_baseline is not None else next(score for _, score, _, _ in visits if score is not None)
    shape, reference = base.analysis_image.shape[:2], base.analysis_points_px
    scale = CHANGE_FULL_COLOUR_JND
    sigma = 0.02 * inter_ocular_distance(reference)  # 2 % of the inter-ocular distance
    base_contrast = cv2.GaussianBlur(base.analysis.excess_jnd.astype(np.float32), (0, 0), sigma)
    base_skin = np.logical_or.reduce(list(base.analysis.region_masks.values())) & ~base.analysis.non_skin
    columns = []
    for label, score, mark, reason in visits:
        if score is None:
            columns.append(np.vstack(_placeholder(shape, label, reason, tile_height)))
            continue

        def warp(image, interpolation=cv2.INTER_LINEAR, points=score.analysis_points_px):
            return warp_to_reference(image, points, reference, shape, interpolation=interpolation)

        photo, valid = warp(score.analysis_image)
        lesion = warp(score.analysis.lesion_mask.astype(np.uint8), cv2.INTER_NEAREST)[0].astype(bool) & valid
        skin = warp((~score.analysis.non_skin).astype(np.uint8), cv2.INTER_NEAREST)[0].astype(bool) & valid & base_skin
        change = cv2.GaussianBlur(warp(score.analysis.excess_jnd.astype(np.float32))[0], (0, 0), sigma) - base_contrast
        photo[~valid] = 255
        tinted = tint_lesions(photo, lesion)
        outline_regions(tinted, base.analysis.region_masks, thickness=1)
        grey = np.repeat(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2).astype(np.float32)
        alpha = 0.85 * (np.clip(np.abs(change) / scale, 0, 1) * skin)[..., None]
        changed = np.clip(grey * (1 - alpha) + np.where(change[..., None] < 0, _LESS, _MORE) * alpha, 0, 255)
        area = np.mean([region.area_pct for region in score.regions.values()])
        status = {"warn": f"QC warning: {reason}", "other": "NOT THE SAME FACE?"}.get(mark, "")
        colours = ((0, 0, 0), (0, 0, 0), _MARK_COLOURS.get(mark, (0, 0, 0)))
        columns.append(np.vstack([
            _tile(photo, [label, f"MASI {score.masi:.1f}", status], tile_height, colours),
            _tile(tinted, ["lesions (magenta)", f"mean area {area:.1f} %", status], tile_height, colours),
            _tile(changed.astype(np.uint8), ["pigment vs " + ("baseline" if at_baseline is base else "reference"),
                                             "blue less, red more", status] if score is not base
                  else ["reference photo", "", status], tile_height, colours)]))
    gap = np.full((columns[0].shape[0], 6, 3), 255, np.uint8)
    return np.hstack([part for column in columns for part in (gap, column)][1:])


def fit_panels(panels: dict, budget: int = PANEL_PAGE_BUDGET) -> tuple[dict, float]:
    """The panels downscaled (JPEG) so that together they take at most ``budget`` bytes.

    Parameters
    ----------
    panels : dict of str to bytes
        PNG or JPEG pictures by subject.
    budget : int
        Total bytes allowed.

    Returns
    -------
    (dict of str to bytes, float)
        The panels (unchanged when they fit) and the linear scale applied (1.0: none).

    Examples
    --------
    >>> noise = np.random.default_rng(0).integers(0, 255, (400, 600, 3), dtype=np.uint8)
    >>> big = {s: cv2.imencode(".jpg", noise)[1].tobytes() for s in "abc"}
    >>> small, scale = fit_panels(big, 150_000)
    >>> sum(map(len, small.values())) <= 150_000 and scale < 1
    True
    """
    total, scale, fitted = sum(len(b) for b in panels.values()), 1.0, dict(panels)
    while total > budget and scale > 0.2:
        scale *= 0.95 * float(np.sqrt(budget / total))  # JPEG bytes grow about with the area
        fitted = {}
        for subject, data in panels.items():
            picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            fitted[subject] = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 75,
                                                             cv2.IMWRITE_JPEG_OPTIMIZE, 1])[1].tobytes()
        total = sum(len(b) for b in fitted.values())
    return fitted, scale


class PanelVisit(NamedTuple):
    """One column of a subject's panel (:func:`panel_visits`)."""

    label: str  #: the visit's label (its date when it has none)
    index: object  #: the row of the scores table whose photo the column shows
    mark: str  #: ``ok``, ``warn``, ``error`` (no usable photo) or ``other`` (another face)
    reason: str  #: the QC warning, error or identity note behind the mark
    baseline: bool  #: the subject's baseline visit (:func:`pigmentscan.io.visit_order`)


def panel_visits(scores, *, max_subjects: int = PANEL_MAX_SUBJECTS) -> dict:
    """Which photo each before/after panel shows: ``{subject: [PanelVisit, ...]}``.

    Visits are in time order and each subject's baseline is chosen by
    :func:`pigmentscan.io.visit_order`, the rule of ``compare`` and ``validate`` (visits it cannot
    order go last, by date); one photo per visit (a usable one first). A subject gets a panel when
    it has two visits; only the first ``max_subjects`` subjects (sorted) are considered.

    Parameters
    ----------
    scores : pandas.DataFrame
        A scores table (CONTRACT.md) with ``image``, ``subject`` and ``visit``; ``date``,
        ``status``, ``error``, and the identity columns ``same_face`` / ``identity_note`` are used
        when present.
    max_subjects : int

    Returns
    -------
    dict of str to list of PanelVisit
    """
    table = scores[[c for c in ("image", "subject", "visit", "date", "status", "error", "same_face", "identity_note")
                    if c in scores.columns]]
    table = table.astype(object).where(table.notna(), "").astype(str)
    table = table[(table["image"].str.strip() != "") & (table["subject"].str.strip() != "")]
    order = visit_order(table["subject"], table["visit"], table["date"] if "date" in table else None)
    table = table.assign(_rank=order["visit_rank"], _baseline=order["is_baseline"])
    out = {}
    for subject, group in sorted(table.groupby("subject"))[:max_subjects]:
        group = group.assign(_last=group["_rank"].lt(0)).sort_values(["_last", "_rank"] + (["date"] if "date" in group
                                                                                          else []), kind="stable")
        visits: dict = {}
        for index, row in zip(group.index, group.to_dict("records")):
            label = row["visit"] or row.get("date", "")
            status = row.get("status", "ok").lower() or "ok"
            mark = "error" if status == "error" else ("other" if row.get("same_face", "") in ("False", "false")
                                                      else status)
            reason = row.get("identity_note", "") if mark == "other" else row.get("error", "")
            if label not in visits or (visits[label].mark in ("error", "other") and mark not in ("error", "other")):
                visits[label] = PanelVisit(label, index, mark, reason, bool(row["_baseline"]))
        if len(visits) >= 2:
            out[subject] = list(visits.values())
    return out


def comparison_panels(scores, faces: Mapping, *, max_subjects: int = PANEL_MAX_SUBJECTS) -> dict:
    """Before/after panels (JPEG bytes, by subject) of a scores table (CONTRACT.md), from scores already computed.

    Parameters
    ----------
    scores : pandas.DataFrame
        The scores table; :func:`panel_visits` chooses the subjects, visits and photos.
    faces : mapping
        By row index of ``scores``: the :class:`~pigmentscan.FaceScore` of that photo, or why it
        could not be scored (text). Only the photos :func:`panel_visits` names are looked up;
        each is scored once by the caller (``compare``:
        :func:`pigmentscan.longitudinal.output.panel_scores`).
    max_subjects : int

    Returns
    -------
    dict of str to bytes
        A panel for each subject with two visits of which one photo was scored. A visit whose
        photo failed keeps a grey column with its reason; photos with a quality warning, or
        marked ``same_face`` false, are labelled.
    """
    panels = {}
    for subject, visits in panel_visits(scores, max_subjects=max_subjects).items():
        scored, baseline = [], None
        for position, visit in enumerate(visits):
            score, mark, reason = None, visit.mark, visit.reason
            if mark != "error":
                found = faces.get(visit.index, "not scored")
                if isinstance(found, str):
                    mark, reason = "error", found
                else:
                    score = found
            baseline = position if visit.baseline else baseline
            scored.append((visit.label, score, mark, reason))
        if any(score is not None for _, score, _, _ in scored):
            picture = cv2.cvtColor(comparison_panel(scored, baseline=baseline), cv2.COLOR_RGB2BGR)
            panels[subject] = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, PANEL_JPEG_QUALITY])[1].tobytes()
    return panels
