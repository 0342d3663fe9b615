"""Clean faces through another camera's tone curve: brighter exposures with a highlight shoulder.

A camera does not clip highlights; its tone curve rolls them off, and each channel is
compressed by its own level, so bright skin loses chroma that darker skin keeps. The analyser
reads melanin from optical density as if the photo were linear light, so a studio that exposes
brighter than the one the template was learned on can read its darker (less lit) skin as
pigment. This script re-exposes clean London faces (``tests/helpers.py:highlight_rolloff``:
``gain`` times brighter in linear light, rolled off above ``knee``) and prints, per exposure,
how many photos are scored, how many are ``ok``, how many read MASI above 0.5 and above 3, and
the largest MASI. Nothing is fitted here: every photo is clean, so every MASI above 0 is false.

Usage::

    python benchmarks/tone_curve.py [--split test] [--jobs 2] [--model FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from accuracy import default_faces_dir, split_faces  # noqa: E402

#: (gain, knee) of each exposure: as taken, then 1.3-1.9 times brighter through a shoulder
#: starting at a linear level of 0.6 or 0.75 (parameters: from well exposed to where QC refuses
#: most photos as burnt out).
EXPOSURES = ((1.0, 1.0), (1.3, 0.6), (1.6, 0.6), (1.3, 0.75), (1.6, 0.75), (1.9, 0.75))


def score_exposures(task) -> list:
    """Rows (face, gain, knee, status, MASI) of one clean face at every exposure."""
    path, model = task
    import pigmentscan
    from helpers import highlight_rolloff

    rgb = pigmentscan.io.read_image(path)
    rows = []
    for gain, knee in EXPOSURES:
        image = rgb if gain == 1.0 else highlight_rolloff(rgb, gain, knee)
        try:
            result = pigmentscan.score_image(image, model=model)
            rows.append((Path(path).stem, gain, knee, result.status, result.masi))
        except pigmentscan.PigmentScanError:
            rows.append((Path(path).stem, gain, knee, "error", np.nan))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--split", choices=("tune", "test", "all"), default="test")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    args = parser.parse_args(argv)
    import pandas as pd

    files = split_faces(sorted(args.faces.glob("*.jpg")), args.split)
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    tasks = [(str(f), args.model) for f in files]
    if args.jobs > 1:
        from multiprocessing import Pool

        with Pool(args.jobs) as pool:
            results = pool.map(score_exposures, tasks)
    else:
        results = [score_exposures(task) for task in tasks]
    frame = pd.DataFrame([row for rows in results for row in rows], columns=["face", "gain", "knee", "status", "masi"])
    grouped = frame.groupby(["gain", "knee"], sort=False)
    table = pd.DataFrame({"scored": grouped.status.apply(lambda s: int(s.ne("error").sum())),
                          "ok": grouped.status.apply(lambda s: int(s.eq("ok").sum())),
                          "MASI>0.5": grouped.masi.apply(lambda m: int((m > 0.5).sum())),
                          "MASI>3": grouped.masi.apply(lambda m: int((m > 3).sum())),
                          "ok MASI>3": grouped.apply(lambda g: int(((g.masi > 3) & g.status.eq("ok")).sum())),
                          "max MASI": grouped.masi.max().round(2)})
    print(f"{len(files)} clean London faces ({args.split} split), re-exposed through a highlight shoulder")
    print(table.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
