"""Do a subject's photos show the same face? Face shape normalised for pose, and skin tone.

A trial's photos are labelled by hand, and a photo filed under the wrong subject turns into a
spectacular "improvement" (another person's skin). :func:`check_identity` compares every photo
of a subject with the subject's other photos:

- **face shape**: the FaceMesh landmarks of the parts of the face that expression moves least
  (:data:`RIGID_LANDMARKS`), in 3-D, aligned by a similarity transform (rotation, including
  head turn and nod, scale and position removed: Procrustes), then the median distance between
  corresponding landmarks, in inter-ocular distances (:func:`face_distance`);
- **skin tone**: the difference of the individual typology angle (ITA, Chardon 1991) of the
  normal skin each photo was measured against (``reference_skin_ita_deg`` of the scores).

Two photos match when neither measure exceeds its limit. The landmarks of a blurred photo
(``qc_blur`` beyond the quality-control warning) are not precise enough: its face shape is not
compared, only its skin tone. The photos that match each other form
groups (connected components); the largest group is the subject's face, and any photo outside
it is ``same_face`` false. With no single largest group (two photos that do not match) none can
be told to be the subject's, and all are flagged.

The limits were measured by ``benchmarks/identity.py`` on the London set (figures in
docs/identity_check.md): the same person smiling instead of neutral, and the same photo
re-taken with simulated drift, stay below both; most pairs of different people exceed one.
A flag is a reason to look at the photo, not a proof: twins, or two people alike in face and
skin tone, pass; a strong grimace or a large change of tan can be flagged.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import PigmentScanError
from ..landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE, inter_ocular_distance
from ..qc import QualityLimits

__all__ = ["RIGID_LANDMARKS", "MAX_FACE_DISTANCE_IOD", "MAX_SKIN_TONE_DIFFERENCE_DEG", "face_distance",
           "face_points", "check_identity", "IDENTITY_COLUMNS"]

#: FaceMesh landmarks that expression moves least: eye corners (33, 133, 362, 263), brows, the
#: nose from bridge to tip and its wings, the forehead's midline, temples, cheek extremes, the
#: upper face outline and the iris centres (MediaPipe FaceMesh topology).
RIGID_LANDMARKS = (33, 133, 362, 263, 70, 63, 105, 66, 107, 336, 296, 334, 293, 300, 168, 6, 197, 195, 5, 4, 1,
                   98, 327, 10, 151, 9, 127, 356, 234, 454, 162, 389, RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE)
#: Largest face-shape distance (median landmark distance after alignment, inter-ocular distances)
#: of two photos of one face; benchmarks/identity.py, docs/identity_check.md.
MAX_FACE_DISTANCE_IOD = 0.025
#: Largest difference of the normal skin's ITA (degrees) of two photos of one face; ibid.
MAX_SKIN_TONE_DIFFERENCE_DEG = 15.0
#: Columns :func:`check_identity` adds to a scores table.
IDENTITY_COLUMNS = ("face_distance_iod", "skin_tone_difference_deg", "same_face", "identity_note")


def face_distance(points_a, points_b) -> float:
    """Median distance of the :data:`RIGID_LANDMARKS` of two faces after 3-D alignment, in IODs.

    Parameters
    ----------
    points_a, points_b : array_like, shape (478, 3)
        FaceMesh landmarks (x, y, depth) of two photos, each in its own pixels.

    Returns
    -------
    float
        ``b`` is moved onto ``a`` by the similarity transform (rotation, uniform scale,
        translation) that fits best in least squares (Umeyama 1991); the median of the
        distances between corresponding landmarks, divided by ``a``'s inter-ocular distance.
        0 for the same face in any pose; it grows with differences of shape.

    References
    ----------
    Umeyama S. Least-squares estimation of transformation parameters between two point
    patterns. IEEE Trans Pattern Anal Mach Intell 1991;13:376-80.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> face = rng.normal(size=(478, 3)) * 50
    >>> turned = face @ np.array([[0.94, 0, 0.34], [0, 1, 0], [-0.34, 0, 0.94]]) * 2 + 7  # yaw 20 deg, x2
    >>> round(face_distance(face, turned), 2)
    0.0
    """
    a = np.asarray(points_a, float)[list(RIGID_LANDMARKS)]
    b = np.asarray(points_b, float)[list(RIGID_LANDMARKS)]
    iod = inter_ocular_distance(points_a)
    a0, b0 = a - a.mean(axis=0), b - b.mean(axis=0)
    u, s, vt = np.linalg.svd(b0.T @ a0)
    flip = np.eye(3)
    flip[2, 2] = np.sign(np.linalg.det(u @ vt)) or 1.0  # a rotation, never a mirror image
    rotation = u @ flip @ vt
    scale = float((s * np.diag(flip)).sum() / (b0**2).sum())
    return float(np.median(np.linalg.norm(a0 - scale * b0 @ rotation, axis=1)) / iod)


def face_points(path) -> np.ndarray | None:
    """The FaceMesh landmarks (478, 3: x, y, depth) of the photo at ``path``; None without a face.

    The photo is decoded at a reduced scale when it is a large JPEG (the landmarks are found on a
    copy of at most 1024 px anyway, :func:`pigmentscan.landmarks.detect_landmarks`).
    """
    from ..io import image_header, load_rgb
    from ..landmarks import DETECT_MAX_SIDE_PX, detect_landmarks

    try:
        header = image_header(path)
        reduce = 1
        if header is not None and header.format == "JPEG":
            while reduce < 8 and max(header.width, header.height) / (2 * reduce) >= DETECT_MAX_SIDE_PX:
                reduce *= 2
        rgb, source = load_rgb(path, reduce=reduce)
        landmarks = detect_landmarks(rgb, source=source)
    except (PigmentScanError, OSError):
        return None
    return np.column_stack([landmarks.points_px, landmarks.depth_px])


def _groups(n: int, matches: dict) -> list[set]:
    """Connected components of ``n`` photos joined where ``matches[(i, j)]`` is True."""
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), same in matches.items():
        if same:
            parent[root(i)] = root(j)
    groups: dict = {}
    for i in range(n):
        groups.setdefault(root(i), set()).add(i)
    return list(groups.values())


def _judge(points: list, ita: list) -> list[dict]:
    """Identity columns of one subject's photos (in order) from their landmarks and ITA."""
    n = len(points)
    distance, tone, matches = np.full((n, n), np.nan), np.full((n, n), np.nan), {}
    for i, j in itertools.combinations(range(n), 2):
        if points[i] is not None and points[j] is not None:
            distance[i, j] = distance[j, i] = max(face_distance(points[i], points[j]), face_distance(points[j], points[i]))
        if math.isfinite(ita[i]) and math.isfinite(ita[j]):
            tone[i, j] = tone[j, i] = abs(ita[i] - ita[j])
        if math.isfinite(distance[i, j]) or math.isfinite(tone[i, j]):
            matches[(i, j)] = not (distance[i, j] > MAX_FACE_DISTANCE_IOD or tone[i, j] > MAX_SKIN_TONE_DIFFERENCE_DEG)
    checked = {i for pair in matches for i in pair}
    groups = sorted((g for g in _groups(n, matches) if g & checked), key=len, reverse=True)
    subject = groups[0] if groups and (len(groups) == 1 or len(groups[0]) > len(groups[1])) else set()
    rows = []
    with np.errstate(all="ignore"):
        for i in range(n):
            d = float(np.nanmedian(distance[i])) if np.isfinite(distance[i]).any() else math.nan
            t = float(np.nanmedian(tone[i])) if np.isfinite(tone[i]).any() else math.nan
            row = {"face_distance_iod": d, "skin_tone_difference_deg": t, "same_face": pd.NA, "identity_note": ""}
            if i not in checked:
                row["identity_note"] = "not checked: " + ("the subject's only scored photo" if n < 2
                                                          else "no face landmarks or skin tone to compare")
            elif i in subject:
                row["same_face"] = True
            else:
                why = [f"face shape {d:.3f} IOD apart (limit {MAX_FACE_DISTANCE_IOD})" if d > MAX_FACE_DISTANCE_IOD else "",
                       f"skin tone {t:.0f}° apart (limit {MAX_SKIN_TONE_DIFFERENCE_DEG:.0f}°)"
                       if t > MAX_SKIN_TONE_DIFFERENCE_DEG else ""]
                measured = ", ".join(w for w in why if w) or "no close match"
                whose = ("does not match the subject's other photos" if subject else
                         f"the subject's photos show {len(groups)} different faces and none is the majority")
                row["same_face"], row["identity_note"] = False, f"{whose} ({measured}): check the photo's subject label"
            rows.append(row)
    return rows


def check_identity(scores: pd.DataFrame, points: Callable | dict) -> pd.DataFrame:
    """Whether each photo shows the same face as its subject's other photos.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scores table with ``subject`` (CONTRACT.md); ``reference_skin_ita_deg`` and ``qc_blur``
        when it has them. Rows with status ``error`` are not compared; the face shape of a photo
        blurred beyond ``QualityLimits().max_blur_warn`` is not compared (its landmarks are not
        precise enough), only its skin tone.
    points : mapping or callable
        The landmarks (478, 3) of a row, by the row's index in ``scores`` (mapping) or as a
        function of the row (a dict); None when there are none (:func:`face_points`).

    Returns
    -------
    pandas.DataFrame
        ``scores`` with :data:`IDENTITY_COLUMNS`: ``face_distance_iod`` and
        ``skin_tone_difference_deg`` (median over the subject's other photos), ``same_face``
        (True, False, or NA when not compared) and ``identity_note`` (why false or NA).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> one, two = rng.normal(size=(478, 3)) * 60, rng.normal(size=(478, 3)) * 60
    >>> scores = pd.DataFrame({"subject": ["a"] * 3, "status": "ok", "reference_skin_ita_deg": [40.0, 41, 39]})
    >>> check_identity(scores, {0: one, 1: one + 0.1, 2: two})["same_face"].tolist()
    [True, True, False]
    """
    lookup = points.get if isinstance(points, dict) else None
    out = scores.copy()
    out["face_distance_iod"] = out["skin_tone_difference_deg"] = math.nan
    out["same_face"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out["identity_note"] = ""
    status = out["status"].astype(str).str.strip().str.lower() if "status" in out.columns else pd.Series("ok", out.index)
    ita = pd.to_numeric(out.get("reference_skin_ita_deg", pd.Series(math.nan, out.index)), errors="coerce")
    blurred = pd.to_numeric(out.get("qc_blur", pd.Series(math.nan, out.index)), errors="coerce") \
        > QualityLimits().max_blur_warn
    usable = out[status.ne("error") & out["subject"].notna()]
    for _, sub in usable.groupby("subject", sort=True):
        found = [None if blurred[i] else (lookup(i) if lookup else points(scores.loc[i].to_dict())) for i in sub.index]
        for index, row in zip(sub.index, _judge(found, [float(ita[i]) for i in sub.index])):
            if blurred[index]:
                row["identity_note"] = "; ".join(n for n in (row["identity_note"], "face shape not compared: photo "
                                                             "blurred, its landmarks imprecise") if n)
            for column, value in row.items():
                out.at[index, column] = value
    return out
