"""Split-face trials in a comparison: each side's change, and the difference between the sides.

A split-face trial treats one side of each subject's face and keeps the other as its control.
The scores carry a hemi-face MASI per side (:mod:`pigmentscan.split_face`: ``hemi_right_masi``,
``hemi_left_masi``, their mMASI and lesion area); ``compare(..., split_face=True)`` follows each
side from baseline like any measure (``hemi_right_masi_change`` ...) and adds, per subject and
visit:

- ``hemi_<m>_change_right_minus_left``: the right side's change minus the left side's, always
  (right and left are the patient's);
- ``treated_side`` and ``hemi_treated_<m>_change``, ``hemi_untreated_<m>_change``,
  ``hemi_<m>_change_treated_minus_untreated``: the same difference signed the trial's way, when
  the treated side is known: from the ``treated_side`` argument (``--treated-side right|left``,
  the same for every subject) or else from the subject's ``arm`` when it names one side
  (:func:`side_of_arm`: ``right``, ``left``, ``TXA right``, ``laser-left``).

A negative ``hemi_masi_change_treated_minus_untreated`` means the treated side improved more
than the untreated one. ``m`` is ``masi``, ``mmasi`` or ``lesion_area_pct`` (those the scores have).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["SIDES", "SIDE_MEASURES", "hemi_measures", "side_of_arm", "treated_sides", "add_side_differences"]

#: The patient's sides.
SIDES = ("right", "left")
#: Hemi-face measures of the scores followed per side (``hemi_<side>_<m>``).
SIDE_MEASURES = ("masi", "mmasi", "lesion_area_pct")


def hemi_measures(columns) -> list[str]:
    """The hemi-face columns present among ``columns``, in :data:`SIDE_MEASURES` order, right before left.

    Examples
    --------
    >>> hemi_measures(["masi", "hemi_left_masi", "hemi_right_masi"])
    ['hemi_right_masi', 'hemi_left_masi']
    """
    present = set(columns)
    return [f"hemi_{side}_{m}" for m in SIDE_MEASURES for side in SIDES if f"hemi_{side}_{m}" in present]


def side_of_arm(arm) -> str | None:
    """The side an arm label names: ``"right"`` or ``"left"`` when it holds exactly one of the two words.

    Words are runs of letters, compared without case. Anything else (no side, both, a blank) is None.

    Examples
    --------
    >>> [side_of_arm(a) for a in ("right", "TXA Left", "laser-right", "treated_left", "placebo", "left/right", None)]
    ['right', 'left', 'right', 'left', None, None, None]
    """
    if arm is None or (not isinstance(arm, str) and pd.isna(arm)):
        return None
    words = set(re.findall(r"[a-z]+", str(arm).lower()))
    named = [side for side in SIDES if side in words]
    return named[0] if len(named) == 1 else None


def treated_sides(changes: pd.DataFrame, treated_side: str | None = None) -> pd.Series:
    """The treated side of each row: ``treated_side`` for every row when given, else the row's arm's side.

    Raises
    ------
    ValueError
        When ``treated_side`` is neither ``"right"`` nor ``"left"``.
    """
    if treated_side is not None:
        side = str(treated_side).strip().lower()
        if side not in SIDES:
            raise ValueError(f"treated side must be 'right' or 'left', got {treated_side!r}")
        return pd.Series(side, index=changes.index, dtype=object)
    if "arm" not in changes.columns:
        return pd.Series(None, index=changes.index, dtype=object)
    return changes["arm"].map(side_of_arm).astype(object)


def add_side_differences(changes: pd.DataFrame, *, treated_side: str | None = None) -> pd.DataFrame:
    """Add the between-side columns of a split-face comparison to ``changes`` (returned, a copy).

    Parameters
    ----------
    changes : pandas.DataFrame
        Changes from baseline with ``hemi_<side>_<m>_change`` columns
        (:func:`~pigmentscan.longitudinal.changes_from_baseline` with ``split_face=True``).
    treated_side : {"right", "left"}, optional
        The treated side of every subject; without it, each subject's ``arm`` when it names a side.

    Returns
    -------
    pandas.DataFrame
        With ``treated_side`` (``right``, ``left`` or empty) and, for each measure ``m`` whose two
        sides are present: ``hemi_<m>_change_right_minus_left``, ``hemi_treated_<m>_change``,
        ``hemi_untreated_<m>_change`` and ``hemi_<m>_change_treated_minus_untreated`` (NaN where
        the treated side is not known).

    Examples
    --------
    >>> changes = pd.DataFrame({"arm": ["left", "right"], "hemi_right_masi_change": [-1.0, -4.0],
    ...                         "hemi_left_masi_change": [-3.0, -0.5]})
    >>> out = add_side_differences(changes)
    >>> out["hemi_masi_change_right_minus_left"].tolist(), out["hemi_masi_change_treated_minus_untreated"].tolist()
    ([2.0, -3.5], [-2.0, -3.5])
    """
    out = changes.copy()
    side = treated_sides(out, treated_side)
    out["treated_side"] = side.where(side.notna(), None)
    right_treated, known = side.eq("right").to_numpy(), side.notna().to_numpy()
    for m in SIDE_MEASURES:
        right, left = f"hemi_right_{m}_change", f"hemi_left_{m}_change"
        if right not in out.columns or left not in out.columns:
            continue
        r, lft = out[right].astype(float), out[left].astype(float)
        out[f"hemi_{m}_change_right_minus_left"] = r - lft
        treated = pd.Series(np.where(right_treated, r, lft), index=out.index).where(known)
        untreated = pd.Series(np.where(right_treated, lft, r), index=out.index).where(known)
        out[f"hemi_treated_{m}_change"], out[f"hemi_untreated_{m}_change"] = treated, untreated
        out[f"hemi_{m}_change_treated_minus_untreated"] = treated - untreated
    return out
