"""The chart pre-screen against OpenCV's mcc detector: missed charts, skipped searches, time.

For synthetic ColorCheckers (tests/chart_helpers.py: X-Rite's colours from colour-science)
placed in real London faces at many sizes, angles, tilts, colour shifts, uneven light, blurs, noise levels
and JPEG qualities, on photos whose size puts the screen's thumbnail at its coarsest (half of
mcc's copy) or finer, prints:

- how many charts mcc finds, and how many of those the screen would have skipped (must be 0);
- on the photos without a chart (every London face, at its size and in a 12 MP frame's
  decode), how often the screen lets the mcc search run (false alarms), and the median time
  of the screen next to that of the search it saves.

Usage::

    python benchmarks/chart_screen.py [--cases 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from chart_helpers import chart_photo  # noqa: E402

from pigmentscan import chart  # noqa: E402
from pigmentscan.chart_screen import may_show_chart  # noqa: E402

# Linear-sRGB shifts: none, a warm cast with channel mixing, a cool cast, half and 1.5x the light.
SHIFTS = {
    "none": None,
    "warm": np.diag([1.22, 0.96, 0.72]) @ (0.92 * np.array([[0.90, 0.12, 0.02], [0.06, 0.86, 0.08], [0.01, 0.10, 0.74]])),
    "cool": np.diag([0.8, 0.95, 1.25]),
    "dim": 0.3 * np.eye(3),
    "bright": 1.5 * np.eye(3),
}
# Photo sizes (width, height): 2060 px long puts the thumbnail at 515 px (half of mcc's 1024
# px copy, the coarsest it gets), 2000 px at 1000 px, 1350 px at 675 px.
SIZES = [(2060, 1545), (2000, 1500), (1350, 1350)]


def faces_dir() -> Path:
    return Path(os.environ.get("PIGMENTSCAN_FACES", Path(__file__).resolve().parents[2] / "shared" / "faces" / "london"))


def random_case(rng, faces):
    face = cv2.cvtColor(cv2.imread(str(faces[rng.integers(len(faces))])), cv2.COLOR_BGR2RGB)
    size = SIZES[rng.integers(len(SIZES))]
    photo = cv2.resize(face, size, interpolation=cv2.INTER_AREA if size[0] <= face.shape[1] else cv2.INTER_CUBIC)
    long_side = max(size)
    params = dict(
        patch_px=float(rng.uniform(0.012, 0.06) * long_side),  # ~12-60 px in mcc's copy
        gap_ratio=float(rng.uniform(0.1, 0.3)),
        angle_deg=float(rng.choice([0, 0, 5, 15, 30, 45, 90, 180, rng.uniform(-180, 180)])),
        tilt=float(rng.choice([0, 0, 0.15, 0.3])),
        centre_xy=(float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.25, 0.75))),
        matrix=SHIFTS[list(SHIFTS)[rng.integers(len(SHIFTS))]],
        shading=float(rng.choice([0, 0, 0.4, 0.7])),
        blur_px=float(rng.choice([0, 0, 0.7, 1.5])),
        noise=float(rng.choice([0, 0, 3, 6])),
        jpeg_quality=[None, 90, 60][rng.integers(3)],
        seed=int(rng.integers(1 << 30)),
    )
    return chart_photo(photo, **params), params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faces = sorted(faces_dir().glob("*.jpg"))
    rng = np.random.default_rng(args.seed)
    found = missed = screened_in = 0
    for case in range(args.cases):
        photo, params = random_case(rng, faces)
        detected = chart.detect_chart(photo, prescreen=False) is not None
        passed = may_show_chart(photo)
        found += detected
        screened_in += passed
        if detected and not passed:
            missed += 1
            print(f"MISSED case {case}: {photo.shape[1]}x{photo.shape[0]} {params}")
    print(f"charts: {args.cases} placed, mcc finds {found}, the screen passes {screened_in}, "
          f"and skips {missed} of those mcc finds (must be 0)")
    alarms, screen_s, search_s = 0, [], []
    for path in faces:
        face = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        for photo in (face, cv2.resize(face, (2000, 1500), interpolation=cv2.INTER_CUBIC)):
            start = time.perf_counter()
            alarms += may_show_chart(photo)
            screen_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            chart.detect_chart(photo, prescreen=False)
            search_s.append(time.perf_counter() - start)
    print(f"no chart: {len(screen_s)} photos, false alarms {alarms}; median screen {1000 * statistics.median(screen_s):.1f} ms, "
          f"mcc search {1000 * statistics.median(search_s):.0f} ms")


if __name__ == "__main__":
    main()
