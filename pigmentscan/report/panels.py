"""Before/after panels of one subject, every visit warped onto the baseline's face (longitudinal comparison)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..registration import warp_to_reference
from .overlays import outline_regions, tint_lesions

#: Subjects given photo panels in one report (presentation limit: each panel re-analyses
#: every photo of its subject and adds about 1 MB to the page).
PANEL_MAX_SUBJECTS = 40
_TILE_PX, _LABEL_PX = 300, 34
_LESS, _MORE = np.array([30, 110, 235], np.float32), np.array([215, 60, 20], np.float32)


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
    from ..scoring import load_model

    base = visits[0][1]
    shape, reference = base.analysis_image.shape[:2], base.analysis_points_px
    scale = float(load_model(None).lesion.min_contrast)
    sigma = 0.02 * float(np.linalg.norm(reference[473] - reference[468]))  # 2 % of the inter-ocular distance
    base_contrast = cv2.GaussianBlur(base.analysis.melanin_contrast.astype(np.float32), (0, 0), sigma)
    base_skin = np.logical_or.reduce(list(base.analysis.region_masks.values())) & ~base.analysis.non_skin
    columns = []
    for label, score in visits:
        def warp(image, interpolation=cv2.INTER_LINEAR, points=score.analysis_points_px):
            return warp_to_reference(image, points, reference, shape, interpolation=interpolation)

        photo, valid = warp(score.analysis_image)
        lesion = warp(score.analysis.lesion_mask.astype(np.uint8), cv2.INTER_NEAREST)[0].astype(bool) & valid
        skin = warp((~score.analysis.non_skin).astype(np.uint8), cv2.INTER_NEAREST)[0].astype(bool) & valid & base_skin
        change = cv2.GaussianBlur(warp(score.analysis.melanin_contrast.astype(np.float32))[0], (0, 0), sigma) - base_contrast
        photo[~valid] = 255
        tinted = tint_lesions(photo, lesion)
        outline_regions(tinted, base.analysis.region_masks, thickness=1)
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
    from ..errors import ImageReadError, PigmentScanError
    from ..io import visit_order_key
    from ..pipeline import score_image

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
