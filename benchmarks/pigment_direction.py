"""How the measure holds when the pigment's colour is not quite the melanin direction it assumes.

The analyser reads melanin along one OD direction (``LesionParams.melanin_od_direction``), about
22° from grey (shading). Real pigment need not lie on it: dermal pigment is greyer (MASI.md) and
each camera renders colour its own way. This script draws first-family phantoms (per-region
layout, darkness 3, area 40 %, homogeneity 3) on London faces with the pigment turned towards
grey (:func:`pigmentscan.phantom.greyer_direction`), the truth graded on the scale
(:func:`pigmentscan.phantom.graded_truth`) with the pigment's own direction, and prints, per angle,
the median area found / true area of the regions with a true area over 5 %, and MASI against the
truth. Nothing is fitted here.

Usage::

    python benchmarks/pigment_direction.py [--split tune] [--faces-per-angle 8] [--angles 0,10,20,30] [--model FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import WITH_REAL_SPOTS, _face, default_faces_dir, split_faces  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    parser.add_argument("--faces-per-angle", type=int, default=8)
    parser.add_argument("--angles", default="0,10,15,20,30", help="degrees towards grey, comma-separated")
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    args = parser.parse_args(argv)
    import pigmentscan
    from pigmentscan.phantom import graded_truth, greyer_direction, make_phantom

    files = [f for f in split_faces(sorted(args.faces.glob("*.jpg")), args.split) if f.name[:3] not in WITH_REAL_SPOTS]
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    print(f"{'towards grey':>12} {'direction (R, G, B)':>22} {'found/true':>11} {'MASI':>6} {'true MASI':>10}")
    for angle in (float(a) for a in args.angles.split(",")):
        direction = greyer_direction(angle)
        ratios, measured, true = [], [], []
        for i, path in enumerate(files[: args.faces_per_angle]):
            rgb, landmarks = _face(path)
            phantom = make_phantom(rgb, seed=200 + i, area_fraction=0.4, darkness=3, homogeneity=3, landmarks=landmarks,
                                   melanin_od_direction=direction)
            truth, score = graded_truth(phantom), pigmentscan.score_image(phantom.image, model=args.model)
            ratios += [score.regions[k].area_pct / t["area_pct"] for k, t in truth["regions"].items() if t["area_pct"] > 5]
            measured.append(score.masi)
            true.append(truth["masi"])
        print(f"{angle:>11.0f}° {str(np.round(direction, 2)):>22} {np.median(ratios):>11.2f} {np.mean(measured):>6.1f} "
              f"{np.mean(true):>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
