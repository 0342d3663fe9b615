"""MASI of second-family phantoms on London TUNE faces (development data): agreement, retakes, flush, mirror.

The figures ``domains.py`` reports for the second family on held-out faces, here on the London
tune faces, where looking into a failure is allowed (:mod:`pigmentscan.simulation`; the held-out
domains and the third family stay unopened). Each face gets ``--cases-per-face`` phantoms drawn
with ``domains.py``'s seeds and confounder plan (:mod:`domain_cases`), each photographed as drawn,
flushed, retaken twice and mirrored. Prints MASI ICC(A,1) and Spearman against the truth, the
retest SDC95 (1.96·√2·SD_w) and largest retake difference, the mean \\|ΔMASI\\| under the flush
and the mirror, and the heavily involved phantoms (true MASI above 12) read below 3, each listed.

Usage::

    python benchmarks/second_family_masi.py [--faces-n 20] [--cases-per-face 2] [--jobs 2] [--model FILE] [--csv FILE]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

import domain_cases as cases  # noqa: E402
from accuracy import WITH_REAL_SPOTS, _face, _icc, default_faces_dir, split_faces  # noqa: E402

VARIANTS = ("base", "flush", "retake_a", "retake_b", "mirror")


def _phantom_rows(task) -> list:
    """One row per photo of one phantom: its variant, true MASI and the MASI read."""
    path, index, model = task
    rgb, landmarks = _face(Path(path))
    seed = cases._seed("dev", Path(path).stem, index, 34)
    makers = cases._family_makers("second", rgb, landmarks, seed, cases.confounder_plan(seed))
    rows = []
    for variant in VARIANTS:
        made = makers[variant]()
        measured, _ = cases.score(made.image, model)
        truth = cases._truth_info(made)
        rows.append({"face": Path(path).stem, "case": index, "variant": variant, "true_masi": truth["masi"],
                     "pattern": truth["params"].get("pattern"), "status": measured["status"],
                     "masi": measured.get("masi", np.nan)})
    return rows


def _retest_sdc(takes: pd.DataFrame) -> float:
    """SDC95 of MASI between two takes per phantom, as the library computes it for a trial."""
    from pigmentscan.longitudinal import smallest_detectable_change

    scores = pd.DataFrame({"subject": np.repeat(np.arange(len(takes)).astype(str), 2),
                           "visit": ["V1", "V2"] * len(takes), "masi": takes.to_numpy().ravel()})
    return float(smallest_detectable_change(scores, measures=["masi"]).table.iloc[0]["sdc"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--faces-n", type=int, default=20)
    parser.add_argument("--cases-per-face", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", default=None)
    parser.add_argument("--csv", default=None, help="write one row per photo here")
    args = parser.parse_args(argv)
    files = [f for f in split_faces(sorted(args.faces.glob("*.jpg")), "tune") if f.name[:3] not in WITH_REAL_SPOTS]
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    tasks = [(str(f), i, args.model) for f in files[: args.faces_n] for i in range(args.cases_per_face)]
    with ProcessPoolExecutor(max(1, args.jobs)) as pool:
        frame = pd.DataFrame([row for rows in pool.map(_phantom_rows, tasks) for row in rows])
    if args.csv:
        frame.to_csv(args.csv, index=False)
    read = frame.pivot_table(index=["face", "case"], columns="variant", values="masi")
    truth = frame[frame["variant"] == "base"].set_index(["face", "case"])["true_masi"]
    both = read["base"].notna()
    retake = (read["retake_a"] - read["retake_b"]).dropna()
    print(f"{both.sum()} phantoms scored of {len(read)} ({len(files[: args.faces_n])} tune faces)")
    print(f"  MASI ICC(A,1) {_icc(truth[both].to_numpy(), read['base'][both].to_numpy()):.3f}, "
          f"Spearman {stats.spearmanr(truth[both], read['base'][both]).statistic:.3f}")
    print(f"  retest SDC95 {_retest_sdc(read[['retake_a', 'retake_b']].dropna()):.2f} MASI, "
          f"largest difference {retake.abs().max():.1f} ({len(retake)} pairs)")
    for variant in ("flush", "mirror"):
        moved = (read[variant] - read["base"]).abs().dropna()
        print(f"  {variant}: mean |dMASI| {moved.mean():.2f}, largest {moved.max():.1f}")
    missed = read.loc[(truth > 12) & (read["base"] < 3)]
    print(f"  true MASI > 12 read below 3: {len(missed)} of {int((truth > 12).sum())}")
    for (face, case), row in missed.iterrows():
        print(f"    {face} case {case}: true {truth[(face, case)]:.1f}, read "
              + ", ".join(f"{v} {row[v]:.1f}" for v in VARIANTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
