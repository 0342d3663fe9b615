"""A cheap look for a colour chart, before OpenCV's expensive ``mcc`` search.

Most photos show no chart, and the ``mcc`` detector takes 0.1-0.2 s to say so. This
screen says in a few milliseconds whether a photo *could* show one, from what any
photograph of a ColorChecker Classic has, whatever its colours, size or angle: many
uniform, square patches of one size, side by side in a grid (4 × 6, a narrow dark gap
between neighbours). It is built never to miss a chart ``mcc`` would find (a missed
chart costs the colour correction; a false alarm costs only the search), so it looks
at shape and at colour *differences* between neighbouring patches, never at the
colours themselves: a colour cast, a dim or bright exposure and a rotated or
upside-down chart all pass.

How (on a thumbnail halved until it fits SCREEN_MAX_SIDE_PX, see
:mod:`pigmentscan.resample`):

1. *Flat pixels*: the largest difference (any channel) within the 3×3 neighbourhood
   is at most FLAT_RANGE code values. A chart patch is flat inside; its edge against
   the dark gap is not, so patches fall apart into separate flat regions.
2. *Patch-like regions*: 4-connected flat regions of MIN_PATCH_AREA_PX pixels or
   more, square-ish (bounding box sides within a factor of two, the region filling
   at least MIN_FILL of its box, which a square turned by 45° still does), and each a
   small part of the frame.
3. *A grid of them*: patches of similar area (within a factor of AREA_RATIO) whose
   centres are at most NEIGHBOUR_PITCH of their size apart and whose colours differ
   (by MIN_STEP code values or more: no two neighbouring chart patches are alike,
   while the pieces of a flat backdrop or cheek are) are linked; a chart is possible
   when MIN_PATCHES of them are linked into one group.

``mcc`` finds patches down to about 12 px in its 1024 px copy; the thumbnail is at
least half of that copy (the photo halved until it fits 1024 px, as for the
landmarks), so such a patch still spans 6 pixels and keeps a flat core of 2 × 2 or
more, also when turned. tests/test_chart_screen.py checks the screen against ``mcc`` itself on charts
of many sizes, angles, tilts, colour shifts, lighting, blurs and compressions (every
chart ``mcc`` finds must pass), and on the London faces (none shows a chart: the
search must be skipped on nearly all); benchmarks/chart_screen.py does the same on
hundreds of random charts.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse.csgraph import connected_components

from .colour import channel_max
from .resample import halved, halvings_to_fit

__all__ = ["SCREEN_MAX_SIDE_PX", "may_show_chart", "patch_candidates", "largest_grid"]

#: Longest side of the thumbnail screened, at most (513-1024 px after halving). A parameter.
SCREEN_MAX_SIDE_PX = 1024
#: Largest 3×3 range (code values) of a pixel inside a patch. A parameter: sensor and
#: JPEG noise, averaged by the downscale, stay well below; a patch's edge is far above.
FLAT_RANGE = 16
#: Smallest flat region taken for a patch: the 2 × 2 flat core of a 6 px patch turned by 30°,
#: which mcc still finds (12 px in its copy). A parameter.
MIN_PATCH_AREA_PX = 4
#: Smallest share of its bounding box a patch fills (a square turned by 45° fills 1/2). A parameter.
MIN_FILL = 0.4
#: Largest share of the thumbnail one patch may cover (a chart has 24 and a frame round them). A parameter.
MAX_PATCH_SHARE = 1 / 40
#: Patches this close in area may be neighbours in the grid. A parameter.
AREA_RATIO = 2.5
#: Centre distance, in patch sides, up to which two patches are neighbours: the chart's
#: pitch is about 1.2 patch sides (a diagonal neighbour 1.7), and a small patch's flat
#: inside is 2 px narrower than the patch. A parameter.
NEIGHBOUR_PITCH = 2.2
#: Smallest colour difference (code values, largest over the channels) between
#: neighbouring patches. Neighbours on the chart differ by 30 or more (the grey row's
#: steps, about 35); a chart in deep shadow (30 % of the light) still by 20. A parameter.
MIN_STEP = 12
#: Patches that must form one group (of the chart's 24; a dark patch can merge with
#: the dark frame, a white one clip into a highlight). A parameter.
MIN_PATCHES = 10


def _flat_pixels(thumbnail: np.ndarray) -> np.ndarray:
    """uint8 mask of pixels whose 3×3 neighbourhood varies by at most FLAT_RANGE in every channel."""
    spread = cv2.morphologyEx(thumbnail, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))  # 3×3 max - min
    if spread.ndim == 3:
        channels = cv2.split(spread)
        spread = channels[0]
        for channel in channels[1:]:
            spread = cv2.max(spread, channel)
    return (spread <= FLAT_RANGE).astype(np.uint8)


def patch_candidates(thumbnail) -> np.ndarray:
    """Flat, square-ish regions of a thumbnail that could be chart patches.

    Parameters
    ----------
    thumbnail : numpy.ndarray
        RGB uint8, shape (H, W, 3).

    Returns
    -------
    numpy.ndarray, shape (N, 6)
        Per candidate: centre x, centre y and area (pixels), and the colour (R, G, B)
        of the thumbnail at its centre.

    Examples
    --------
    >>> card = np.zeros((200, 200, 3), np.uint8)
    >>> card[10:30, 10:30] = (200, 40, 40)
    >>> patch_candidates(card).tolist()  # the inside of the 20 px square
    [[19.5, 19.5, 324.0, 200.0, 40.0, 40.0]]
    """
    thumbnail = np.asarray(thumbnail)
    _, _, stats, centres = cv2.connectedComponentsWithStats(_flat_pixels(thumbnail), connectivity=4)
    stats, centres = stats[1:].astype(np.float64), centres[1:]  # label 0: the non-flat pixels
    width, height, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    square = (np.maximum(width, height) <= 2 * np.minimum(width, height)) & (area >= MIN_FILL * width * height)
    sized = (area >= MIN_PATCH_AREA_PX) & (area <= MAX_PATCH_SHARE * thumbnail.shape[0] * thumbnail.shape[1])
    centres, area = centres[square & sized], area[square & sized]
    cols, rows = np.round(centres).astype(int).T  # (inside a square patch, turned or not)
    return np.column_stack([centres, area, thumbnail[rows, cols]])


def largest_grid(candidates) -> int:
    """Size of the largest group of candidates linked as chart neighbours.

    Two candidates (rows of :func:`patch_candidates`) are linked when their areas
    are within a factor of AREA_RATIO, their centres at most NEIGHBOUR_PITCH sides
    apart, and their colours differ by MIN_STEP or more in some channel (neighbouring
    chart patches always do; the pieces of a flat wall or backdrop do not).

    Examples
    --------
    >>> grid = [(x, y, 100.0, 10 * x, 5 * y, 0) for x in range(0, 72, 12) for y in range(0, 48, 12)]
    >>> largest_grid(np.array(grid + [(500.0, 500.0, 100.0, 0, 0, 0)]))
    24
    """
    candidates = np.asarray(candidates, dtype=np.float64).reshape(-1, 6)
    if len(candidates) == 0:
        return 0
    centres, area, colours = candidates[:, :2], candidates[:, 2], candidates[:, 3:]
    distance = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    reach = NEIGHBOUR_PITCH * np.sqrt(np.maximum(area[:, None], area[None])) + 2.0  # +2: a patch's non-flat rim
    ratio = np.maximum(area[:, None], area[None]) / np.minimum(area[:, None], area[None])
    step = channel_max(np.abs(colours[:, None] - colours[None]))
    linked = (distance <= reach) & (ratio <= AREA_RATIO) & (step >= MIN_STEP)
    _, labels = connected_components(linked, directed=False)
    return int(np.bincount(labels).max())


def may_show_chart(rgb) -> bool:
    """Whether a photo could show a ColorChecker (see the module docstring for how).

    Parameters
    ----------
    rgb : numpy.ndarray
        RGB uint8, shape (H, W, 3).

    Returns
    -------
    bool
        ``False`` only when no group of MIN_PATCHES chart-like patches is found: then
        OpenCV's ``mcc`` detector would find no chart either.

    Examples
    --------
    >>> may_show_chart(np.full((480, 640, 3), 128, np.uint8))
    False
    """
    rgb = np.asarray(rgb)
    thumbnail = halved(rgb, halvings_to_fit(rgb.shape, SCREEN_MAX_SIDE_PX))
    candidates = patch_candidates(thumbnail)
    return len(candidates) >= MIN_PATCHES and largest_grid(candidates) >= MIN_PATCHES
