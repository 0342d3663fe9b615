"""Does compare's identity check tell another person's photo from the subject's own?

``pigmentscan.longitudinal.identity`` flags a photo whose face shape (landmarks aligned in 3-D,
median distance, inter-ocular distances) or skin tone (ITA of the normal skin) is too far from
the subject's other photos. This measures its limits on real faces of the London set
(DeBruine & Jones 2017, CC BY 4.0):

- **same person, another expression**: each face neutral (``london/``) against the same person
  smiling (``london_smiling/``): a harder case than two neutral trial photos; none should be
  flagged;
- **same photo re-taken**: each neutral face against a copy with acquisition drift
  (``phantom.random_drift``: exposure, white balance, rotation, scale, JPEG) decoded at a quarter
  of its size; none should be flagged;
- **different people**: every pair of neutral faces; as many as possible should be flagged.

Usage::

    python benchmarks/identity.py [--faces ../shared/faces] [--jobs 2]

Prints the distributions and the share flagged at the library's limits
(``MAX_FACE_DISTANCE_IOD``, ``MAX_SKIN_TONE_DIFFERENCE_DEG``).
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

import numpy as np

from pigmentscan import score_images
from pigmentscan.io import load_rgb
from pigmentscan.landmarks import detect_landmarks
from pigmentscan.longitudinal.identity import (MAX_FACE_DISTANCE_IOD, MAX_SKIN_TONE_DIFFERENCE_DEG, face_distance,
                                               face_points)
from pigmentscan.phantom import random_drift, reacquire


def _distance(a, b) -> float:
    return max(face_distance(a, b), face_distance(b, a))  # as identity._judge


def _drifted_points(path, seed):
    rgb, _ = load_rgb(path)
    moved, _ = reacquire(rgb, seed=seed, **random_drift(seed))
    landmarks = detect_landmarks(np.ascontiguousarray(moved[::4, ::4]))
    return np.column_stack([landmarks.points_px, landmarks.depth_px])


def _describe(name, values, limit):
    values = np.asarray(values, float)
    print(f"  {name:34s} median {np.median(values):7.3f}  95th pct {np.percentile(values, 95):7.3f}  "
          f"max {values.max():7.3f}  above the limit {np.sum(values > limit)} of {values.size}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(os.environ.get("PIGMENTSCAN_FACES", Path(__file__).resolve().parents[2] / "shared" / "faces"))
    parser.add_argument("--faces", type=Path, default=root if root.name != "london" else root.parent)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    neutral = {p.name[:3]: p for p in sorted((args.faces / "london").glob("*.jpg"))}
    smiling = {p.name[:3]: p for p in sorted((args.faces / "london_smiling").glob("*.jpg"))}
    keys = sorted(set(neutral) & set(smiling))
    print(f"{len(keys)} London faces, neutral and smiling; limits: face shape {MAX_FACE_DISTANCE_IOD} IOD, "
          f"skin tone {MAX_SKIN_TONE_DIFFERENCE_DEG} degrees")
    table = score_images([neutral[k] for k in keys] + [smiling[k] for k in keys], jobs=args.jobs)
    ita = table["reference_skin_ita_deg"].astype(float).to_numpy()
    ita_n, ita_s = dict(zip(keys, ita[: len(keys)])), dict(zip(keys, ita[len(keys):]))
    points_n = {k: face_points(neutral[k]) for k in keys}
    points_s = {k: face_points(smiling[k]) for k in keys}

    print("same person, neutral vs smiling:")
    _describe("face shape (IOD)", [_distance(points_n[k], points_s[k]) for k in keys], MAX_FACE_DISTANCE_IOD)
    _describe("skin tone (degrees)", [abs(ita_n[k] - ita_s[k]) for k in keys], MAX_SKIN_TONE_DIFFERENCE_DEG)
    print("same photo re-taken with drift, at a quarter of its size:")
    drift = [_distance(points_n[k], _drifted_points(neutral[k], seed)) for seed, k in enumerate(keys)]
    _describe("face shape (IOD)", drift, MAX_FACE_DISTANCE_IOD)
    pairs = list(itertools.combinations(keys, 2))
    shape = np.array([_distance(points_n[a], points_n[b]) for a, b in pairs])
    tone = np.array([abs(ita_n[a] - ita_n[b]) for a, b in pairs])
    print(f"different people ({len(pairs)} pairs of neutral faces):")
    _describe("face shape (IOD)", shape, MAX_FACE_DISTANCE_IOD)
    _describe("skin tone (degrees)", tone, MAX_SKIN_TONE_DIFFERENCE_DEG)
    flagged = (shape > MAX_FACE_DISTANCE_IOD) | (tone > MAX_SKIN_TONE_DIFFERENCE_DEG)
    print(f"  flagged by face shape {np.mean(shape > MAX_FACE_DISTANCE_IOD):.0%}, by skin tone "
          f"{np.mean(tone > MAX_SKIN_TONE_DIFFERENCE_DEG):.0%}, by either {flagged.mean():.0%}")
    same_flagged = sum(_distance(points_n[k], points_s[k]) > MAX_FACE_DISTANCE_IOD
                       or abs(ita_n[k] - ita_s[k]) > MAX_SKIN_TONE_DIFFERENCE_DEG for k in keys)
    print(f"same person smiling flagged by either: {same_flagged} of {len(keys)}")


if __name__ == "__main__":
    main()
