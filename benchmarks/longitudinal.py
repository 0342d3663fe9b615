"""Does the change from baseline follow the true change? Phantom trials under acquisition drift.

Real faces of the London set with simulated melasma of known extent (``pigmentscan.phantom``),
photographed again at each visit with acquisition drift (``phantom.random_drift``: exposure
±10 %, white balance ±5 % per channel, rotation ±2°, scale ±5 %, JPEG 85-95), scored with
``pigmentscan batch`` and compared with ``longitudinal.changes_from_baseline``.

1. **Test-retest** (the smallest detectable change): on ``--retest-faces`` faces, the same
   pigment photographed at four visits (drift only), ``longitudinal.smallest_detectable_change``:
   SDC95 = 1.96 * sqrt(2) * SD_w (Weir 2005, J Strength Cond Res 19:231-40; de Vet 2006), of MASI
   and of the lesion area % (``lesion_area_pct``), or the 95th percentile of |change| if larger.
2. **Trial** (change agreement): on other faces, a baseline pigment (area 20-40 %, darkness
   2-4, homogeneity 3, drawn from the seed) that fades over visits 1-3 by a subject's response
   level, 0 (stable), 1/3, 2/3 or 1 (nearly clear at visit 3), cycled over the subjects.
   Reported: Pearson r of measured vs true MASI change from baseline (all post-baseline
   visits), the mean difference, and detection: a true improvement larger than the SDC should
   be a measured decrease larger than the SDC; a stable subject should show none. Then the
   library's rule (``detected_change``) by MASI and by the lesion area %: of every visit of a
   subject whose pigment faded (all real improvements, 1/3-response week 4 the smallest), how
   many are ``improved``; of the stable visits, how many are flagged.
   ``--photos-per-visit K`` photographs every visit K times, each with its own drift (averaged).
3. **Uniform fading** (harder: no spread of responses; every subject fades the same way,
   area 40/25/15/5 %, darkness 4/3/2/1), Pearson r on the trial's faces.
4. **Where the error comes from**: the share of the squared change error by face, and the
   trial r again with each region's true area grade (then its true darkness grade) put in
   place of the measured one (``truth.csv`` keeps each region's truth for this); then with the
   true area % plus only the mean of the measured area's error over each subject's visits
   (per region), or only its change from visit to visit (``true_part_totals``).

Usage::

    python benchmarks/longitudinal.py [--retest-faces 12] [--trial-faces 12] [--jobs 2] [--keep DIR] [--model JSON]
    python benchmarks/longitudinal.py --rescore DIR --model JSON   # the photos a --keep run left, another model
    python benchmarks/longitudinal.py --split test --retest-faces 7 --trial-faces 12 --subjects-per-face 3

``--split test`` uses only accuracy.py's test faces, ``--split tune`` only the others (choose a
change there, measure it on test); ``--subjects-per-face K`` gives each trial face K subjects (own
pigment, response and seed) for a tighter estimate. The trial r is printed with a 95 % bootstrap
interval over subjects. Figures measured with it, dated, are in docs/experiments.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import split_faces  # noqa: E402  (the tune / test split of the faces)
from change_agreement import WEIGHTS, pearson_with_ci, print_detection, true_part_totals  # noqa: E402

from pigmentscan.longitudinal import smallest_detectable_change  # noqa: E402

VISITS = ("baseline", "week 4", "week 8", "week 12")
#: Faces kept out of the benchmark: the test suite's phantom series (tests/test_compare_panels.py)
#: and the faces with real brown spots (faces/README.md).
EXCLUDED = {"004", "021", "038", "001", "107"}


def faces_folder() -> Path:
    return Path(os.environ.get("PIGMENTSCAN_FACES", Path(__file__).resolve().parents[2] / "shared" / "faces" / "london"))


def make_visit(job):
    """One photo of the phantom series (runs in a worker): writes the PNG, returns the truth."""
    import cv2

    from pigmentscan.landmarks import detect_landmarks
    from pigmentscan.phantom import make_phantom, random_drift, reacquire

    face_path, out_path, seed, visit, pigment, drift_seed = job
    rgb = cv2.cvtColor(cv2.imread(str(face_path)), cv2.COLOR_BGR2RGB)
    landmarks = detect_landmarks(rgb)
    phantom = make_phantom(rgb, seed=seed, landmarks=landmarks, **pigment)
    photo, _ = reacquire(phantom.image, seed=drift_seed, centre_xy=tuple(landmarks.points_px.mean(axis=0)),
                         **random_drift(drift_seed))
    cv2.imwrite(str(out_path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    truth = {"image": out_path.name, "true_masi": phantom.masi, "true_mmasi": phantom.mmasi}
    # the continuous truth beside the banded one: lesion share of the four regions, weighted as in MASI
    truth["true_area_pct"] = sum(w * phantom.truth[k]["area_pct"] for k, w in WEIGHTS.items())
    for key in WEIGHTS:  # per region, to tell which part of MASI a change error comes from
        truth |= {f"true_{key}_{part}": phantom.truth[key][part] for part in ("area_pct", "area_score", "darkness")}
    return truth


def fading(baseline: dict, response: float, visit: int) -> dict:
    """Pigment at a visit: area and darkness fade linearly with ``response * visit / 3``.

    The baseline's patches shrink in place (``pattern_area_fraction``), as melasma fades."""
    progress = response * visit / 3.0
    darkness = max(1, int(round(baseline["darkness"] - progress * (baseline["darkness"] - 1))))
    return {"area_fraction": baseline["area_fraction"] * (1.0 - 0.85 * progress), "darkness": darkness,
            "homogeneity": 3, "pattern_area_fraction": baseline["area_fraction"]}


def build_series(folder: Path, plans, jobs: int, takes: int = 1) -> pd.DataFrame:
    """plans: (subject, face_path, seed, [pigment per visit]) -> photos, manifest.csv, truth table.

    ``takes`` photos per visit, each with its own drift (the first one as with a single take)."""
    from joblib import Parallel, delayed

    work = []
    for subject, face, seed, pigments in plans:
        for visit, pigment in enumerate(pigments):
            for take in range(takes):
                name = f"{subject}_v{visit}" + (f"_t{take}" if take else "") + ".png"
                work.append(((face, folder / name, seed, visit, pigment, seed * 10 + visit + 100_000 * take),
                             subject, VISITS[visit]))
    truth = Parallel(n_jobs=jobs, backend="loky")(delayed(make_visit)(job) for job, _, _ in work)
    table = pd.DataFrame([t | {"subject": s, "visit": v} for t, (_, s, v) in zip(truth, work)])
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "subject", "visit"])
        writer.writerows(table[["image", "subject", "visit"]].itertuples(index=False))
    table.to_csv(folder / "truth.csv", index=False)  # for --rescore
    return table


def score_and_compare(folder: Path, truth: pd.DataFrame, jobs: int, model=None, out=None, takes=None) -> pd.DataFrame:
    """Score the series; ``takes`` (baseline, follow-up): use only that many photos of each visit."""
    from pigmentscan.batch import run_batch
    from pigmentscan.face_maps import MAPS_DIR
    from pigmentscan.io import read_scores
    from pigmentscan.longitudinal import add_lesion_pigment, changes_from_baseline

    result = run_batch(folder / "manifest.csv", out or folder / "out", model=model, jobs=jobs, overlays=False, progress=False)
    scores = read_scores(result.scores_path)
    scores = add_lesion_pigment(scores, result.scores_path.parent / MAPS_DIR)
    scores["image"] = [Path(p).name for p in scores["image"]]
    if takes is not None:  # names <subject>_v<visit>[_t<take>].png
        visit = scores["image"].str.extract(r"_v(\d+)")[0].astype(int)
        take = scores["image"].str.extract(r"_t(\d+)\.")[0].fillna(0).astype(int)
        scores = scores[take < np.where(visit == 0, takes[0], takes[1])]
    errors = scores[scores["status"] == "error"]
    if len(errors):
        print(f"  {len(errors)} photo(s) not scored: {errors[['image', 'error']].to_dict('records')}")
    changes = changes_from_baseline(scores)  # several takes of a visit: their mean
    merged = changes.merge(truth.drop_duplicates(["subject", "visit"]), on=["subject", "visit"])
    merged["area_pct"] = merged["lesion_area_pct"]
    for measured, true in (("masi", "true_masi"), ("mmasi", "true_mmasi"), ("area_pct", "true_area_pct")):
        merged[f"true_{measured}_change"] = merged[true] - merged.groupby("subject")[true].transform("first")
        merged[f"{measured}_delta"] = merged[measured] - merged.groupby("subject")[measured].transform("first")
    merged["true_change"] = merged["true_masi_change"]
    per_region = [c for c in truth if any(c.startswith(f"true_{k}_") for k in WEIGHTS)]
    if not per_region:  # a series kept before the truth had them
        return merged
    parts = true_part_totals(scores.merge(truth[["image"] + per_region], on="image"), model)
    parts = parts.groupby(["subject", "visit"], as_index=False).mean()
    merged = merged.merge(parts, on=["subject", "visit"], how="left")
    for column in parts.columns.drop(["subject", "visit"]):
        merged[f"{column}_delta"] = merged[column] - merged.groupby("subject")[column].transform("first")
    return merged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retest-faces", type=int, default=12)
    parser.add_argument("--trial-faces", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", metavar="DIR", help="keep the photos and scores in this folder")
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    parser.add_argument("--rescore", metavar="DIR", type=Path,
                        help="score the photos a run kept (--keep DIR) again, with --model, instead of making new ones")
    parser.add_argument("--subjects-per-face", type=int, default=1,
                        help="trial subjects per trial face, each with its own pigment and response (default 1)")
    parser.add_argument("--photos-per-visit", type=int, default=1,
                        help="photos taken at each visit, each with its own drift; their scores are averaged")
    parser.add_argument("--use-takes", type=int, nargs=2, metavar=("BASELINE", "FOLLOW_UP"),
                        help="with --rescore: use only this many of the photos of each baseline / later visit")
    parser.add_argument("--split", choices=("all", "tune", "test"), default="all",
                        help="test: only the faces of accuracy.py's test split (never trained or tuned on); "
                             "tune: only the others, to choose a change on before measuring it on test")
    args = parser.parse_args(argv)
    faces = sorted(faces_folder().glob("*.jpg"))
    faces = split_faces(faces, args.split)
    faces = [p for p in faces if p.name[:3] not in EXCLUDED]
    if len(faces) < args.retest_faces + args.trial_faces:
        print(f"need {args.retest_faces + args.trial_faces} faces in {faces_folder()}", file=sys.stderr)
        return 1
    retest_faces, trial_faces = faces[: args.retest_faces], faces[args.retest_faces:][: args.trial_faces]
    rng = np.random.default_rng(2024)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.keep or scratch)
        plans = {"retest": [], "trial": [], "uniform": []}
        for i, face in enumerate(retest_faces):
            pigment = {"area_fraction": float(rng.uniform(0.2, 0.4)), "darkness": int(rng.integers(2, 5)),
                       "homogeneity": 3}
            plans["retest"].append((f"R{face.name[:3]}", face, 100 + i, [pigment] * 4))
        for k in range(args.subjects_per_face):  # k > 0: more subjects on the same faces, other pigment
            for i, face in enumerate(trial_faces):
                base = {"area_fraction": float(rng.uniform(0.2, 0.4)), "darkness": int(rng.integers(2, 5))}
                response = (0.0, 1 / 3, 2 / 3, 1.0)[(i + k) % 4]
                tag = "" if k == 0 else chr(ord("a") + k)
                plans["trial"].append((f"T{face.name[:3]}{tag}r{round(3 * response)}", face, 200 + i + 1000 * k,
                                       [fading(base, response, v) for v in range(4)]))
        for i, face in enumerate(trial_faces):
            uniform = [{"area_fraction": a, "darkness": d, "homogeneity": 3, "pattern_area_fraction": 0.40}
                       for a, d in zip((0.40, 0.25, 0.15, 0.05), (4, 3, 2, 1))]
            plans["uniform"].append((f"U{face.name[:3]}", face, 300 + i, uniform))
        results = {}
        for name, plan in plans.items():
            t0 = time.perf_counter()
            if args.rescore:  # the kept photos; with another model the scores go to the scratch folder
                folder = args.rescore / name
                out = Path(scratch) / name if args.model else folder / "out"  # same model: the kept scores
                truth = pd.read_csv(folder / "truth.csv")
            else:
                folder, out = root / name, None
                folder.mkdir(parents=True, exist_ok=True)
                truth = build_series(folder, plan, args.jobs, takes=args.photos_per_visit)
            results[name] = score_and_compare(folder, truth, args.jobs, args.model, out=out, takes=args.use_takes)
            print(f"{name}: {len(truth)} photos in {time.perf_counter() - t0:.0f} s", flush=True)

    retest = results["retest"]
    reliability = smallest_detectable_change(retest).table.set_index("measure")
    sdcs = {}
    takes = args.photos_per_visit if args.use_takes is None else "{} at baseline, {} after,".format(*args.use_takes)
    for measure in ("masi", "lesion_area_pct", "lesion_pigment_pct"):
        drift_changes = retest.loc[~retest["is_baseline"], f"{measure}_change"].abs()
        empirical = float(np.quantile(drift_changes, 0.95))
        sdcs[measure] = max(reliability.loc[measure, "sdc"], empirical)
        print(f"\nTest-retest ({len(retest_faces)} faces x 4 visits x {takes} drifted photo(s), same "
              f"pigment), {measure}: pooled within-subject SD {reliability.loc[measure, 'sd_within']:.2f} -> SDC95 "
              f"(Weir) {reliability.loc[measure, 'sdc']:.2f} (95 % CI {reliability.loc[measure, 'sdc_ci_low']:.2f}-"
              f"{reliability.loc[measure, 'sdc_ci_high']:.2f}); 95th percentile of |change| {empirical:.2f}; largest "
              f"{drift_changes.max():.2f}. SDC used below: {sdcs[measure]:.2f}")
    sdc = sdcs["masi"]

    for name in ("trial", "uniform"):
        table = results[name]
        post = table[~table["is_baseline"]].dropna(subset=["masi_change"])
        r, low, high = pearson_with_ci(post, "true_change", "masi_change")
        bias = float((post["masi_change"] - post["true_change"]).mean())
        print(f"\n{name}: {post['subject'].nunique()} subjects, {len(post)} post-baseline visits: Pearson r "
              f"(measured vs true MASI change) = {r:.3f} (95 % CI {low:.3f}-{high:.3f}, bootstrap over subjects); "
              f"mean difference {bias:+.2f} points")
        others = {m: float(np.corrcoef(post[f"true_{m}_change"], post[f"{m}_delta"])[0, 1]) for m in ("mmasi", "area_pct")}
        print(f"  Pearson r of the change in mMASI {others['mmasi']:.3f}; in the weighted lesion area % (continuous, "
              f"no bands) {others['area_pct']:.3f}")
        face_error = ((post["masi_change"] - post["true_change"]) ** 2).groupby(post["subject"].str[1:4]).sum()
        worst = (face_error / face_error.sum()).sort_values(ascending=False).head(3)
        print("  share of the squared change error by face: " + ", ".join(f"{f} {v:.0%}" for f, v in worst.items()))
        if "masi_true_area_delta" in post:
            parts = {m: float(np.corrcoef(post["true_change"], post[f"masi_true_{m}_delta"])[0, 1]) for m in ("area", "darkness")}
            print(f"  where the error comes from: r {parts['area']:.3f} with every region's true area grade in place of the "
                  f"measured one, {parts['darkness']:.3f} with the true darkness grade")
            kinds = {m: float(np.corrcoef(post["true_change"], post[f"masi_area_{m}_only_delta"])[0, 1]) for m in ("bias", "noise")}
            print(f"  the area error split: r {kinds['bias']:.3f} with only its mean over each subject's visits (per region), "
                  f"{kinds['noise']:.3f} with only its change from visit to visit")
        real = post[post["true_change"] < -sdc]
        detected = real[real["masi_change"] < -sdc]
        print(f"  true improvements beyond the SDC ({sdc:.2f}): {len(real)}; detected: {len(detected)}"
              + ("" if len(detected) == len(real) else
                 f"; missed: {real.loc[real['masi_change'] >= -sdc, ['subject', 'visit', 'true_change', 'masi_change']].round(2).to_dict('records')}"))
        stable = post[post["subject"].str.endswith("r0")]  # pigment unchanged: drift only
        if len(stable):
            print(f"  stable subjects (same pigment, drift only): {len(stable)} visits; beyond the SDC: "
                  f"{int((stable['masi_change'].abs() > sdc).sum())}; largest |change| {stable['masi_change'].abs().max():.2f}")
        if name == "trial":
            print_detection(post, sdcs)
        strict = [(subject, g.sort_values("visit_order")) for subject, g in post.groupby("subject")]
        strict = [(s, g) for s, g in strict if np.all(np.diff(np.r_[0.0, g["true_change"]]) < 0)]
        down = [s for s, g in strict if np.all(np.diff(np.r_[0.0, g["masi_change"]]) < 0)]
        print(f"  subjects whose true MASI falls at every visit: {len(strict)}; measured falling at every visit: "
              f"{len(down)}")
        print(post[["subject", "visit", "masi", "masi_change", "true_change", "area_pct_delta",
                    "true_area_pct_change", "lesion_pigment_pct_change"]].round(2).to_string(index=False))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
