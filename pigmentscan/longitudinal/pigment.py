"""Pigment left in the baseline's lesions: a paired, registered comparison of two visits.

The lesion area % of each photo is measured on its own: whether a faint pixel is lesion, and
the normal skin each photo's contrast is measured against, change from photo to photo. Melasma
fades in place: its patches lighten and shrink. So :func:`lesion_pigment_change` warps a later
photo's melanin map onto the baseline's face (:func:`pigmentscan.registration.sampling_grid`)
and reads it in the same pixels: the baseline's lesions and a margin around them (into which
misregistered or shrinking pigment moves). Both maps are measured against the same pixels,
the skin of each region that is normal (not lesion) in both photos, so exposure and
white-balance drift cancel, and neither the lesion mask nor the normal-skin reference of the
later photo enters except through that common skin. ``remaining_pct`` is the later pigment
as a share of the baseline's: 100 at baseline, 0 when the patches match normal skin.

Chosen on the held-out design of benchmarks/longitudinal.py (tune faces) against each photo's
own ``melanin_contrast`` (which moved with the photo's lesion mask: stable subjects were
flagged 16 times in 81, against 5) and against reading the union of both photos' lesions (no
selection bias, but a smaller signal).

New pigment away from the baseline's lesions is not seen by this measure; the lesion area %
is, so :func:`~pigmentscan.longitudinal.detection_measures` looks at both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from os import PathLike

import cv2
import numpy as np
import pandas as pd

from ..errors import PigmentScanError
from ..face_maps import FaceMaps, maps_path, read_face_maps
from ..registration import sampling_grid, warp_with_grid
from ..regions import REGION_KEYS
from ..scoring.grading import REGION_WEIGHTS

__all__ = ["LesionPigmentChange", "lesion_pigment_change", "add_lesion_pigment", "LESION_PIGMENT_COLUMN"]

#: Scores column added by :func:`add_lesion_pigment`.
LESION_PIGMENT_COLUMN = "lesion_pigment_pct"
#: Below this weighted baseline lesion share (% of the regions' skin) the ratio is not formed:
#: a nearly clear baseline has too little pigment to compare with. Not clinical; a noise guard.
MIN_BASELINE_LESION_PCT = 1.0
#: Below this share of the baseline regions' skin seen in both photos (pose, hair, highlight)
#: the comparison is not made.
MIN_COMPARED_PCT = 50.0
#: Smoothing before the difference, fraction of the IOD: the landmark registration is good to
#: about this, so single-pixel misalignment at lesion edges averages out (as in the report's
#: change map, :func:`pigmentscan.report.comparison_panel`).
SMOOTHING_IOD = 0.02
#: The baseline's lesions are read with this margin around them, fraction of the IOD: pigment
#: that shrinks towards a patch's centre, or is misregistered by about this much, stays inside.
READ_MARGIN_IOD = 0.02
#: Fewest common normal-skin pixels a region's own reference needs; else the four regions' is used.
_MIN_NORMAL_PX = 30


@dataclass(frozen=True)
class LesionPigmentChange:
    """Pigment in the baseline's lesions at a later visit.

    Attributes
    ----------
    remaining_pct : float
        The later photo's melanin (above the common normal skin) summed over the baseline's
        lesions and their margin, as % of the baseline's, each region weighted as in MASI
        (0.3, 0.3, 0.3, 0.1) per pixel of its skin; 100 = unchanged, 0 = like normal skin.
        Never below 0: lesions read lighter than the common normal skin count as 0, with a
        ``note`` (a change below -100 % of the pigment cannot be). NaN with a ``note`` when
        not comparable.
    regions : dict
        Per region key: ``baseline_lesion_pct`` (of the compared skin), ``baseline_pigment_od``
        and ``pigment_change_od`` (mean melanin above the common normal skin over the pixels
        read, OD), ``remaining_pct`` (NaN when the region's baseline lesion is under
        ``MIN_BASELINE_LESION_PCT``), ``compared_pct``.
    compared_pct : float
        Share of the baseline regions' skin that is measurable skin in both photos, weighted.
    note : str
        Why ``remaining_pct`` is NaN or was raised to 0, else empty.
    """

    remaining_pct: float
    regions: dict
    compared_pct: float
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def lesion_pigment_change(baseline: FaceMaps, visit: FaceMaps) -> LesionPigmentChange:
    """How much of the baseline lesions' pigment a later photo still shows.

    Parameters
    ----------
    baseline, visit : FaceMaps
        :func:`pigmentscan.face_maps.face_maps` of the two photos (the same subject). The
        visit is warped onto the baseline's face; both maps are smoothed by ``SMOOTHING_IOD``,
        each region's baseline lesions are read with a margin of ``READ_MARGIN_IOD``, and both
        maps are taken relative to the region's skin that is normal in both photos.

    Returns
    -------
    LesionPigmentChange

    Examples
    --------
    >>> base = face_maps(score_image("v0.jpg")); later = face_maps(score_image("v3.jpg"))  # doctest: +SKIP
    >>> lesion_pigment_change(base, later).remaining_pct  # doctest: +SKIP
    41.7
    """
    shape = baseline.melanin.shape
    sigma = SMOOTHING_IOD * baseline.iod_px
    grid = sampling_grid(visit.points_px, baseline.points_px, shape)
    warped, valid = warp_with_grid(visit.melanin, grid)

    def warped_mask(mask):
        return warp_with_grid(mask.astype(np.uint8), grid, interpolation=cv2.INTER_NEAREST)[0].astype(bool)

    seen = warped_mask(visit.skin_mask) & valid & baseline.skin_mask
    # The warp's linear interpolation smooths the later map: by u(1 - u) px^2 along an axis where
    # it samples at fraction u between pixels. The baseline is smoothed by as much more, so a
    # lesion is not read lighter only for being resampled.
    fraction = [g[seen] - np.floor(g[seen]) for g in grid]
    extra = [float(np.mean(f * (1 - f))) if f.size else 0.0 for f in fraction]
    before = cv2.GaussianBlur(baseline.melanin.astype(np.float32), (0, 0), math.sqrt(sigma**2 + extra[0]),
                              sigmaY=math.sqrt(sigma**2 + extra[1]))
    after = cv2.GaussianBlur(warped.astype(np.float32), (0, 0), sigma)
    margin_px = max(1, int(round(READ_MARGIN_IOD * baseline.iod_px)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin_px + 1,) * 2)
    read = cv2.dilate(baseline.lesion_mask.astype(np.uint8), disc).astype(bool)
    in_regions = np.logical_or.reduce(list(baseline.region_masks.values()))
    normal_anywhere = seen & in_regions & ~baseline.lesion_mask & ~warped_mask(visit.lesion_mask)
    regions, totals = {}, np.zeros(4)  # weighted: baseline pigment, change, lesion share, compared share
    for key in REGION_KEYS:
        skin = baseline.region_masks[key]
        compared = skin & seen
        lesion = compared & read
        normal = compared & normal_anywhere
        normal = normal if normal.sum() >= _MIN_NORMAL_PX else normal_anywhere
        n_compared = max(int(compared.sum()), 1)
        if normal.any():
            base_k, later_k = before - float(before[normal].mean()), after - float(after[normal].mean())
        else:
            base_k = later_k = np.zeros_like(before)
        pigment = float(base_k[lesion].sum()) / n_compared  # per pixel of compared skin: lesion share x amount
        change = float((later_k - base_k)[lesion].sum()) / n_compared
        lesion_pct = 100.0 * float((compared & baseline.lesion_mask).sum()) / n_compared
        compared_pct = 100.0 * float(compared.sum()) / max(int(skin.sum()), 1)
        read_share = float(lesion.sum()) / n_compared
        regions[key] = {"baseline_lesion_pct": lesion_pct, "compared_pct": compared_pct,
                        "baseline_pigment_od": pigment / read_share if read_share else float("nan"),
                        "pigment_change_od": change / read_share if read_share else float("nan"),
                        "remaining_pct": max(0.0, 100.0 * (1.0 + change / pigment))
                        if lesion_pct >= MIN_BASELINE_LESION_PCT and pigment > 0 else float("nan")}
        totals += REGION_WEIGHTS[key] * np.array([pigment, change, lesion_pct, compared_pct])
    pigment, change, lesion_pct, compared_pct = (float(v) for v in totals)
    note = ""
    if compared_pct < MIN_COMPARED_PCT:
        note = f"only {compared_pct:.0f} % of the baseline regions' skin is seen in both photos"
    elif lesion_pct < MIN_BASELINE_LESION_PCT or pigment <= 0:
        note = f"baseline lesions cover {lesion_pct:.1f} % of the regions: too little pigment to compare"
    remaining = float("nan") if note else 100.0 * (1.0 + change / pigment)
    if remaining < 0:
        note = (f"the baseline's lesions read {remaining:.0f} % of their pigment, lighter than the normal skin "
                "around them: counted as 0 (skin lightened by treatment, or not the same face?)")
        remaining = 0.0
    return LesionPigmentChange(remaining_pct=remaining, regions=regions, compared_pct=compared_pct, note=note)


def _maps_reader(maps) -> Callable:
    """``maps`` of :func:`add_lesion_pigment` as ``row -> FaceMaps or None``."""
    if callable(maps):
        return maps
    if isinstance(maps, Mapping):
        return lambda row: maps.get(row["image"])
    if isinstance(maps, (str, PathLike)):
        def read(row):
            sha = row.get("image_sha256")
            if not isinstance(sha, str) or not sha:
                return None
            path = maps_path(maps, sha)
            return read_face_maps(path) if path.is_file() else None
        return read
    raise TypeError(f"maps must be a folder, a mapping of image to FaceMaps or a callable, got {type(maps).__name__}")


def add_lesion_pigment(scores: pd.DataFrame, maps) -> pd.DataFrame:
    """The scores with ``lesion_pigment_pct``: each photo's pigment in its subject's baseline lesions.

    Each subject's reference is its first usable photo of its baseline visit
    (:func:`pigmentscan.io.visit_order`, as in :func:`changes_from_baseline`); every usable photo of the subject, the reference included
    (100), gets :attr:`LesionPigmentChange.remaining_pct` against it. Then
    :func:`changes_from_baseline` treats ``lesion_pigment_pct`` like any measure
    (``lesion_pigment_pct_change``: percentage points of the baseline pigment), and
    :func:`smallest_detectable_change` gives its SDC from retest photos treated the same way.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table (CONTRACT.md) with ``subject`` and ``visit``.
    maps : folder, mapping or callable
        A batch's ``maps/`` folder (the maps of a row are ``<image_sha256>.npz``), a mapping of
        the ``image`` value to :class:`FaceMaps`, or a function of the row (a dict) returning
        its :class:`FaceMaps` or None.

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` with ``lesion_pigment_pct`` (NaN where a photo or its subject's
        reference has no maps, maps from another model, or too little to compare) and
        ``lesion_pigment_note`` (why it is NaN).
    """
    from .changes import comparable_scores

    read = _maps_reader(maps)
    frame, _, _ = comparable_scores(scores)
    values = pd.Series(np.nan, index=scores.index, dtype=float)
    notes = pd.Series("", index=scores.index, dtype=object)
    for _, sub in frame[frame["_usable"]].groupby("subject", sort=True):
        sub = sub.sort_values("_rank", kind="stable")
        loaded = {}
        for index in sub.index:
            try:
                loaded[index] = read(scores.loc[index].to_dict())
            except PigmentScanError as error:
                notes[index] = str(error)
                loaded[index] = None
        at_baseline = sub.index[sub["_rank"].eq(sub["_baseline_rank"])]
        reference, missing = (loaded[at_baseline[0]], "no maps for the subject's baseline photo") if len(at_baseline) \
            else (None, "the subject's baseline photo was not scored")
        if sub["_baseline_rank"].iloc[0] < 0:
            missing = "the subject has no baseline visit"
        for index, maps in loaded.items():
            if maps is None or reference is None:
                notes[index] = notes[index] or ("no maps for this photo" if maps is None else missing)
                continue
            if maps.model != reference.model or maps.pigmentscan_version != reference.pigmentscan_version:
                notes[index] = "maps from another model or version than the baseline's"
                continue
            change = lesion_pigment_change(reference, maps)
            values[index], notes[index] = change.remaining_pct, change.note
    out = scores.copy()
    out[LESION_PIGMENT_COLUMN], out["lesion_pigment_note"] = values, notes
    return out
