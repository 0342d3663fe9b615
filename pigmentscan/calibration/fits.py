"""The two one-dimensional fits of the calibration: grade cut points and a line between totals.

:class:`~pigmentscan.calibration.MasiCalibrator` fits each grade's thresholds to physician grades
with :func:`ordinal_thresholds` and maps formula totals onto physician totals with
:func:`totals_line`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ordinal_thresholds", "totals_line"]


def ordinal_thresholds(x, y, prior) -> tuple:
    """Three cut points on ``x`` for grades 1-4 minimising Σ|grade(x) - y| (exact dynamic programme).

    Tied ``x`` share a grade; a tiny squared-error term breaks ties between equally good fits. A cut
    lies halfway between the last value below and the first value above it; a cut no data places
    (nobody above or below) keeps its ``prior``, clamped next to the data.
    """
    levels = np.arange(1.0, 5.0)
    values, inverse = np.unique(x, return_inverse=True)
    err = levels[None, :] - y[:, None]
    cost = np.zeros((values.size, 4))
    np.add.at(cost, inverse, np.abs(err) + 1e-6 * err**2)
    best, back = cost[0].copy(), np.zeros((values.size, 4), dtype=int)
    for i in range(1, values.size):  # best[k]: least cost of the first i values, value i at grade k
        back[i] = [int(np.argmin(best[: k + 1])) for k in range(4)]
        best = best[back[i]] + cost[i]
    level = np.empty(values.size, dtype=int)
    level[-1] = int(np.argmin(best))
    for i in range(values.size - 1, 0, -1):
        level[i - 1] = back[i][level[i]]
    cuts = []
    for k in range(1, 4):
        below, above = values[level < k], values[level >= k]
        if below.size and above.size:
            cuts.append((below.max() + above.min()) / 2)
        else:
            # a value equal to a cut reaches it (searchsorted side="right"): stay strictly above `below`
            cuts.append(float(np.clip(prior[k - 1], np.nextafter(below.max(), np.inf) if below.size else -np.inf,
                                      above.min() if above.size else np.inf)))
    return tuple(float(c) for c in np.maximum.accumulate(cuts))


def totals_line(x, y, how: str) -> tuple[float, float]:
    """(scale, offset) mapping formula totals ``x`` onto physician totals ``y``.

    ``how``: ``"agreement"`` (standardised major axis, Warton et al. 2006) or ``"least_squares"``.
    Fewer than 3 pairs, no spread, a relation that is not positive or a scale outside 0.2-5:
    the bias alone (scale 1).
    """
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        return 1.0, float(np.mean(y - x))
    r = float(np.corrcoef(x, y)[0, 1])
    scale = np.std(y) / np.std(x) * (1.0 if how == "agreement" else r)
    if r <= 0 or not 0.2 <= scale <= 5:  # no usable relation: correct the bias only
        return 1.0, float(np.mean(y - x))
    return float(scale), float(np.mean(y) - scale * np.mean(x))
