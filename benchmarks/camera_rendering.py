"""Clean faces as another camera renders them: brighter through a highlight shoulder, more saturated.

Every studio's camera renders colour its own way, and the analyser reads melanin from optical
density as if the photo were linear light. Two renderings are simulated on clean London faces
(``tests/helpers.py``):

- ``highlight_rolloff``: ``gain`` times brighter in linear light, rolled off above ``knee`` as a
  tone curve compresses highlights, each channel by its own level, so bright skin loses chroma
  that darker skin keeps;
- ``saturated``: colours ``factor`` times as saturated about their luminance (a more vivid
  colour rendering; a 3x3 matrix in linear light, which a colour chart's correction undoes).

With ``--chart`` a ColorChecker (tests/chart_helpers.py) is pasted into each photo before it is
rendered, so the chart correction is part of what is measured. Per rendering the script prints
how many photos are scored, how many are ``ok``, how many read MASI above 0.5 and above 3 (and
``ok`` above 3), and the largest MASI. Nothing is fitted here: every photo is clean, so every MASI
above 0 is false.

Usage::

    python benchmarks/camera_rendering.py [--split test] [--jobs 2] [--chart] [--model FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from accuracy import default_faces_dir, split_faces  # noqa: E402

#: Each rendering: (name, kind, parameters). Exposures from well exposed to where QC refuses most
#: photos as burnt out; saturation as a vivid camera profile (parameters).
RENDERINGS = (("as taken", "none", ()),
              ("1.3x, shoulder 0.6", "rolloff", (1.3, 0.6)), ("1.6x, shoulder 0.6", "rolloff", (1.6, 0.6)),
              ("1.3x, shoulder 0.75", "rolloff", (1.3, 0.75)), ("1.6x, shoulder 0.75", "rolloff", (1.6, 0.75)),
              ("1.9x, shoulder 0.75", "rolloff", (1.9, 0.75)),
              ("saturation 1.3x", "saturated", (1.3,)), ("saturation 1.6x", "saturated", (1.6,)))


def render(rgb, kind: str, parameters) -> np.ndarray:
    """The photo through one of :data:`RENDERINGS`."""
    from helpers import highlight_rolloff, saturated

    if kind == "rolloff":
        return highlight_rolloff(rgb, *parameters)
    if kind == "saturated":
        return saturated(rgb, *parameters)
    return rgb


def score_renderings(task) -> list:
    """Rows (face, rendering, status, MASI) of one clean face in every rendering."""
    path, model, chart = task
    import pigmentscan

    rgb = pigmentscan.io.read_image(path)
    if chart:
        from chart_helpers import draw_chart, with_chart

        rgb = with_chart(rgb, draw_chart())
    rows = []
    for name, kind, parameters in RENDERINGS:
        try:
            result = pigmentscan.score_image(render(rgb, kind, parameters), model=model)
            rows.append((Path(path).stem, name, result.status, result.masi))
        except pigmentscan.PigmentScanError:
            rows.append((Path(path).stem, name, "error", np.nan))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--split", choices=("tune", "test", "all"), default="test")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--chart", action="store_true", help="paste a ColorChecker into each photo first")
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    args = parser.parse_args(argv)
    import pandas as pd

    files = split_faces(sorted(args.faces.glob("*.jpg")), args.split)
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    tasks = [(str(f), args.model, args.chart) for f in files]
    if args.jobs > 1:
        from multiprocessing import Pool

        with Pool(args.jobs) as pool:
            results = pool.map(score_renderings, tasks)
    else:
        results = [score_renderings(task) for task in tasks]
    frame = pd.DataFrame([row for rows in results for row in rows], columns=["face", "rendering", "status", "masi"])
    grouped = frame.groupby("rendering", sort=False)
    table = pd.DataFrame({"scored": grouped.status.apply(lambda s: int(s.ne("error").sum())),
                          "ok": grouped.status.apply(lambda s: int(s.eq("ok").sum())),
                          "MASI>0.5": grouped.masi.apply(lambda m: int((m > 0.5).sum())),
                          "MASI>3": grouped.masi.apply(lambda m: int((m > 3).sum())),
                          "ok MASI>3": grouped.apply(lambda g: int(((g.masi > 3) & g.status.eq("ok")).sum())),
                          "max MASI": grouped.masi.max().round(2)})
    chart = "with a colour chart" if args.chart else "no colour chart"
    print(f"{len(files)} clean London faces ({args.split} split), {chart}, as another camera renders them")
    print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
