"""Where the measure loses the second family's pigment, on London TUNE faces (development data).

The second phantom family (:mod:`pigmentscan.simulation`) was held out until its failure had to
be understood; since 2026-12-07 it is development data, looked into here on the London TUNE faces
only (the held-out photo domains stay unopened; the third family, :mod:`pigmentscan.heldout_phantoms`,
is the held-out one). Prints:

1. each face's pigment directions as the second family derives them (epidermal, dermal), as
   angles to the melanin direction the analyser reads (``LesionParams.melanin_od_direction``)
   and to grey (shading);
2. ``--cases-per-face`` phantoms per face drawn as the benchmark draws them
   (:func:`pigmentscan.simulation.draw_case`, pigment always on), scored with the shipped (or
   ``--model``) model: the median area found / true area of the regions with a true area of at
   least 2 % and a true darkness of at least 2 JND, by pigment kind, texture and region, and of
   the regions at least 85 % involved; and that of the brown and mixed pigment by true darkness.

Usage::

    python benchmarks/second_family_dev.py [--faces-n 12] [--cases-per-face 2] [--model FILE] [--csv FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import WITH_REAL_SPOTS, _face, default_faces_dir, split_faces  # noqa: E402


def _angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--faces-n", type=int, default=12)
    parser.add_argument("--cases-per-face", type=int, default=2)
    parser.add_argument("--model", default=None)
    parser.add_argument("--csv", default=None, help="write one row per region here")
    args = parser.parse_args(argv)
    import pigmentscan
    from pigmentscan.simulation import draw_case

    model = pigmentscan.load_model(args.model)
    melanin = model.lesion.melanin_od_direction
    files = [f for f in split_faces(sorted(args.faces.glob("*.jpg")), "tune") if f.name[:3] not in WITH_REAL_SPOTS]
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    rows = []
    print(f"{'face':>4} {'epidermal to melanin / grey':>28} {'dermal to melanin / grey':>26}")
    for i, path in enumerate(files[: args.faces_n]):
        rgb, landmarks = _face(path)
        for k in range(args.cases_per_face):
            case = draw_case(rgb, 7000 + 10 * i + k, landmarks=landmarks, clear=False)
            if k == 0:
                d = case.directions
                print(f"{path.name[:3]:>4} {_angle_deg(d.epidermal, melanin):>17.1f}° / {_angle_deg(d.epidermal, (1, 1, 1)):>5.1f}°"
                      f" {_angle_deg(d.dermal, melanin):>15.1f}° / {_angle_deg(d.dermal, (1, 1, 1)):>5.1f}°")
            described = case.to_dict()
            params = described["params"]
            score = pigmentscan.score_image(case.image, model=model)
            for key, truth in described["regions"].items():
                rows.append({"face": path.name[:3], "seed": 7000 + 10 * i + k, "pigment": params["pigment"],
                             "texture": params["texture"], "pattern": params["pattern"], "region": key,
                             "true_area_pct": truth["area_pct"], "true_darkness_jnd": truth["darkness_jnd"],
                             "area_pct": score.regions[key].area_pct})
    frame = pd.DataFrame(rows)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    found = frame[frame["true_area_pct"] >= 2].assign(ratio=lambda f: f["area_pct"] / f["true_area_pct"])
    strong = found[found["true_darkness_jnd"] >= 2]
    print("\narea found / true area, regions >= 2 % and >= 2 JND (median, N)")
    for column in ("pigment", "texture", "region"):
        table = strong.groupby(column)["ratio"].agg(["median", "count"]).round(2)
        print("\n".join(f"  {column} {name:<12} {row['median']:>5.2f} ({int(row['count'])})" for name, row in table.iterrows()))
    brown = found[found["pigment"] != "dermal"]
    bands = pd.cut(brown["true_darkness_jnd"], [1.0, 1.5, 2.0, 3.0, 4.5, np.inf], right=False)
    table = brown.groupby(bands, observed=True)["ratio"].agg(["median", "count"]).round(2)
    print("  brown and mixed pigment, by true darkness (JND), regions >= 2 %:")
    print("\n".join(f"    [{band.left:g}, {band.right:g}) {row['median']:>5.2f} ({int(row['count'])})" for band, row in table.iterrows()))
    big = found[found["true_area_pct"] >= 85]
    print(f"  regions >= 85 % involved   {big['ratio'].median():>5.2f} ({len(big)}); found at all: {(big['area_pct'] > 1).sum()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
