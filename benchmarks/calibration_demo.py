"""Calibrate pigmentscan to (SIMULATED) physicians and validate on other subjects.

Physician photos and grades cannot be shipped, so this demonstration stands them in:

1. **Phantoms** (``pigmentscan.phantom``): each face of the London set (or ``$PIGMENTSCAN_FACES``)
   is one subject; it gets melasma-like pigment of known extent at a baseline visit and, lighter,
   at week 12 (re-photographed with exposure / white-balance / pose drift and JPEG).
2. **Simulated raters** — NOT physicians. Two raters of one site see each phantom's true
   components: area perceived with multiplicative noise (log-normal, SD 0.25) and a
   rater-specific bias (x1.10, x0.90); darkness and homogeneity graded off by one (30 % / 40 %
   of the time) with a rater-specific tendency (e.g. rater A grades darker +0.25 on average).
   On top of that the SITE has a shared habit, which is what calibrating to a site is for: its
   raters see area 25 % larger than it is and grade darkness one step darker 30 % of the time
   (``SITE``; ``--unbiased-site`` turns it off). The manifest holds the raters' consensus.
3. **Calibrate** on half of the subjects (``pigmentscan calibrate``: cross-validated by subject),
   then score the OTHER subjects' photos with the calibrated model and report ICC(A,1) (with 95 %
   CI), MAE and Bland-Altman for the default vs the calibrated model, and run ``pigmentscan
   validate`` on them (report with a note that the raters are simulated). The totals-only cases
   (physician_masi only, physician_mmasi only) are calibrated and reported too.

Run (about 5-10 min on 2 cores)::

    python benchmarks/calibration_demo.py --out /tmp/pigmentscan-calibration-demo --jobs 2

The rater parameters above are the demo's assumption, not a fact about physicians (real
inter-rater ICC for MASI: 0.816, Majid 2016). The per-rater biases were set before any result was
seen; the site habit was added later, once the default model had come to match the phantom truth
and unbiased raters therefore left calibration nothing to learn (with ``--unbiased-site`` the demo
shows that case: calibrating then cannot beat the default).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import split_faces  # noqa: E402  (the tune / test split of the faces)

REGIONS = ("forehead", "right_malar", "left_malar", "chin")
WEIGHTS = np.array([0.3, 0.3, 0.3, 0.1])  # Kimbrough-Green 1994
#: Simulated raters (the demo's assumptions, fixed before any result was seen).
RATERS = {"rater_A": {"area_bias": 1.10, "darkness_bias": 0.25, "homogeneity_bias": 0.0},
          "rater_B": {"area_bias": 0.90, "darkness_bias": -0.15, "homogeneity_bias": 0.20}}
#: The site's shared habit, on top of each rater's own (see the module docstring).
SITE = {"area_bias": 1.25, "darkness_bias": 0.30, "homogeneity_bias": 0.0}
NO_SITE = {"area_bias": 1.0, "darkness_bias": 0.0, "homogeneity_bias": 0.0}
AREA_NOISE_LOG_SD = 0.25
P_OFF_BY_ONE = {"darkness": 0.30, "homogeneity": 0.40}
NOTE = ("SIMULATED RATERS: the 'physician' scores are the mean of two simulated raters grading "
        "phantoms of known extent (area seen with multiplicative noise, darkness/homogeneity off by one "
        "at times, each rater with its own bias, and a habit the site's raters share). They are not physicians; "
        "see benchmarks/calibration_demo.py.")


def _faces_dir(arg) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("PIGMENTSCAN_FACES"):
        return Path(os.environ["PIGMENTSCAN_FACES"])
    return Path(__file__).resolve().parents[1].parent / "shared" / "faces" / "london"


def make_subject(face: str, subject: str, photo_dir: str, seed: int) -> list[dict]:
    """Baseline and week-12 phantoms of one face; returns their truth records ([] if no face)."""
    from PIL import Image

    from pigmentscan.errors import PigmentScanError
    from pigmentscan.io import read_image
    from pigmentscan.landmarks import detect_landmarks
    from pigmentscan.phantom import make_phantom, random_drift, reacquire

    rgb = read_image(face)
    try:
        landmarks = detect_landmarks(rgb, source=face)
    except PigmentScanError:
        return []
    rng = np.random.default_rng(seed)
    baseline = make_phantom(rgb, seed=seed, landmarks=landmarks)
    p = baseline.params
    later = make_phantom(
        rgb, seed=seed, landmarks=landmarks,
        area_fraction={k: p["area_fraction"][k] * rng.uniform(0.3, 1.0) for k in REGIONS},
        darkness={k: (max(1, p["darkness"][k] - int(rng.integers(0, 2))) if p["darkness"][k] else 0) for k in REGIONS},
        homogeneity=p["homogeneity"])
    drift = random_drift(seed + 1)
    quality = drift.pop("jpeg_quality")
    later_rgb, _ = reacquire(later.image, seed=seed + 2, **drift)
    records = []
    for visit, phantom, image, q in (("baseline", baseline, baseline.image, 95), ("week 12", later, later_rgb, quality)):
        name = f"{subject}_{visit.replace(' ', '')}.jpg"
        Image.fromarray(image).save(Path(photo_dir) / name, quality=int(q))
        records.append({"image": f"photos/{name}", "subject": subject, "visit": visit, "masi": phantom.masi,
                        "mmasi": phantom.mmasi, "truth": {k: {c: phantom.truth[k][c] for c in
                                                              ("area_pct", "area_score", "darkness", "homogeneity")}
                                                          for k in REGIONS}})
    return records


def rate(truth: dict, rater: dict, rng, site: dict = SITE) -> dict:
    """One simulated rater's components of one photo (see the module docstring)."""
    from pigmentscan.scoring import area_score

    out = {}
    for region in REGIONS:
        t = truth[region]
        gain = site["area_bias"] * rater["area_bias"]
        seen = min(100.0, t["area_pct"] * gain * float(np.exp(rng.normal(0, AREA_NOISE_LOG_SD))))
        area = area_score(seen) if t["area_score"] else 0
        grades = {}
        for part in ("darkness", "homogeneity"):
            bias = float(np.clip(site[f"{part}_bias"] + rater[f"{part}_bias"], -1.0, 1.0))
            shift = np.sign(bias) * (rng.random() < abs(bias))
            noise = rng.choice([-1, 0, 1], p=[P_OFF_BY_ONE[part] / 2, 1 - P_OFF_BY_ONE[part], P_OFF_BY_ONE[part] / 2])
            grades[part] = int(np.clip(t[part] + shift + noise, 1, 4)) if area else 0
        out[region] = {"area": area, **grades}
    return out


def formula(c: dict) -> tuple[float, float]:
    a = np.array([c[r]["area"] for r in REGIONS])
    d = np.array([c[r]["darkness"] for r in REGIONS])
    h = np.array([c[r]["homogeneity"] for r in REGIONS])
    return float(WEIGHTS @ (a * (d + h))), float(WEIGHTS @ (a * d))


def build_manifest(records: list[dict], seed: int, site: dict = SITE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Manifest (consensus of the simulated raters) and every rater's scores."""
    rng = np.random.default_rng(seed)
    rows, ratings = [], []
    for rec in records:
        per_rater = {name: rate(rec["truth"], rater, rng, site) for name, rater in RATERS.items()}
        row = {"image": rec["image"], "subject": rec["subject"], "visit": rec["visit"]}
        totals = {name: formula(c) for name, c in per_rater.items()}
        row["physician_masi"] = round(float(np.mean([t[0] for t in totals.values()])), 3)
        row["physician_mmasi"] = round(float(np.mean([t[1] for t in totals.values()])), 3)
        for region in REGIONS:
            for part in ("area", "darkness", "homogeneity"):
                row[f"physician_{region}_{part}"] = float(np.mean([c[region][part] for c in per_rater.values()]))
        rows.append(row)
        ratings.append({"image": rec["image"], "subject": rec["subject"], "visit": rec["visit"],
                        "truth_masi": rec["masi"], "truth_mmasi": rec["mmasi"],
                        **{f"{n}_masi": t[0] for n, t in totals.items()},
                        **{f"{n}_mmasi": t[1] for n, t in totals.items()}})
    return pd.DataFrame(rows), pd.DataFrame(ratings)


def _write_csv(frame, path):
    from pigmentscan.io import atomic_write_text

    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def _icc_line(label, a):
    return (f"  {label:<44} n={a['n']:>3}  ICC(A,1) {a['icc2_1']:.3f} [{a['icc2_1_ci_low']:.3f}, "
            f"{a['icc2_1_ci_high']:.3f}]  MAE {a['mae']:5.2f}  bias {a['bias']:+5.2f}  "
            f"LoA {a['loa_lower']:+6.2f} to {a['loa_upper']:+6.2f}")


def _code_state() -> dict:
    """The commit, and library files changed since it: results depend on the code measured."""
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=repo, capture_output=True, text=True)
        if found.returncode:
            return {"git_head": None, "code_note": f"{repo} is not a git checkout (an export?)"}
        head = found.stdout
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "pigmentscan", "models"], check=False, cwd=repo,
                               capture_output=True, text=True).stdout.split("\n")
    except OSError:
        return {}
    return {"git_head": head.strip(), "uncommitted_library_files": [line[3:] for line in dirty if line.strip()]}


def _phantom_code_hash() -> str:
    """Hash of the phantom generator's source (every module of the package): cached phantoms are
    reused only when it is unchanged."""
    import pigmentscan.phantom

    digest = hashlib.sha256()
    for path in sorted(Path(pigmentscan.phantom.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", help="folder of face JPEGs (default $PIGMENTSCAN_FACES or ../shared/faces/london)")
    parser.add_argument("--out", default="/tmp/pigmentscan-calibration-demo")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--max-faces", type=int, default=None)
    parser.add_argument("--split", choices=("all", "test"), default="all",
                        help="test: only the faces of accuracy.py's test split (never trained or tuned on)")
    parser.add_argument("--unbiased-site", action="store_true",
                        help="raters without the site's shared habit (only their individual biases)")
    args = parser.parse_args(argv)
    os.environ.setdefault("GLOG_minloglevel", "2")
    from joblib import Parallel, delayed

    from pigmentscan import cli
    from pigmentscan.calibration import MasiCalibrator, grade_table
    from pigmentscan.io import read_manifest, read_scores
    from pigmentscan.pipeline import score_images
    from pigmentscan.scoring import load_model
    from pigmentscan.validation import agreement

    started = time.time()
    faces = sorted(p for p in _faces_dir(args.faces).glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    faces = split_faces(faces, args.split)
    faces = faces[: args.max_faces] if args.max_faces else faces
    if len(faces) < 8:
        print(f"need at least 8 face photos, found {len(faces)} in {_faces_dir(args.faces)}", file=sys.stderr)
        return 1
    out = Path(args.out)
    (out / "photos").mkdir(parents=True, exist_ok=True)
    # What the phantom photos depend on (the raters grade them afterwards, from their truth).
    config = {"faces": [f.name for f in faces], "seed": args.seed, "phantom": _phantom_code_hash()}
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    truth_file, scores_file = out / "truth.json", out / "scores_default.csv"
    if truth_file.is_file() and json.loads(truth_file.read_text()).get("key") == key:
        records = json.loads(truth_file.read_text())["records"]
        print(f"[{time.time() - started:5.0f} s] reusing the {len(records)} phantoms in {out / 'photos'}")
    else:
        print(f"[{time.time() - started:5.0f} s] making phantoms: {len(faces)} subjects x 2 visits ...", flush=True)
        made = Parallel(n_jobs=args.jobs, backend="loky")(
            delayed(make_subject)(str(f), f.stem.split("_")[0], str(out / "photos"), args.seed + 1000 * i)
            for i, f in enumerate(faces))
        records = [r for subject in made for r in subject]
        truth_file.write_text(json.dumps({"key": key, "config": config, "records": records}, indent=1))
        scores_file.unlink(missing_ok=True)
    default_label = load_model().label
    if scores_file.is_file() and set(read_scores(scores_file)["model"]) == {default_label}:
        print(f"[{time.time() - started:5.0f} s] reusing their scores by {default_label}")
    else:
        print(f"[{time.time() - started:5.0f} s] scoring {len(records)} photos with {default_label} ...", flush=True)
        _write_csv(score_images([out / r["image"] for r in records], jobs=args.jobs), scores_file)
    site = NO_SITE if args.unbiased_site else SITE
    manifest, ratings = build_manifest(records, args.seed, site)
    subjects = sorted(manifest["subject"].unique())
    held_out = set(np.random.default_rng(args.seed).permutation(subjects)[: len(subjects) // 2])
    split = manifest["subject"].isin(held_out)
    _write_csv(manifest[~split], out / "manifest_calibration.csv")
    _write_csv(manifest[split], out / "manifest_holdout.csv")
    _write_csv(ratings, out / "simulated_raters.csv")
    print(f"[{time.time() - started:5.0f} s] {len(subjects)} subjects: {len(subjects) - len(held_out)} to calibrate "
          f"on, {len(held_out)} held out ({int((~split).sum())} / {int(split.sum())} photos)")

    model_path = out / "calibrated.json"
    command = ["calibrate", str(out / "manifest_calibration.csv"), "--out", str(model_path),
               "--scores", str(scores_file), "--jobs", str(args.jobs)]
    print(f"\n$ pigmentscan {' '.join(command)}", flush=True)
    if cli.main(command) != 0:
        return 1

    holdout = read_manifest(out / "manifest_holdout.csv")
    print(f"\n[{time.time() - started:5.0f} s] scoring the {len(holdout)} held-out photos with {model_path.name} ...",
          flush=True)
    calibrated_scores = score_images(list(holdout["image_path"]), model=model_path, jobs=args.jobs)
    _write_csv(calibrated_scores, out / "scores_holdout_calibrated.csv")
    default_all = read_scores(scores_file)
    default_all["image_path"] = default_all["image"]
    default_scores = default_all.set_index("image_path").loc[list(holdout["image_path"])].reset_index()
    _write_csv(default_scores.drop(columns="image_path"), out / "scores_holdout_default.csv")
    same = np.abs(grade_table(default_scores, load_model(model_path).grading)["masi"].to_numpy()
                  - calibrated_scores["masi"].to_numpy())
    print(f"  scoring the photos with the JSON model == grading the default model's measures: max |diff| "
          f"{np.nanmax(same):.4f} MASI points")

    phys = holdout.set_index("image_path")
    results = {}
    print("\nHELD-OUT subjects (never seen by the calibration), against the simulated raters' consensus:")
    for measure in ("masi", "mmasi"):
        reference = phys.loc[list(holdout["image_path"]), f"physician_{measure}"].to_numpy()
        for label, frame in (("default model", default_scores), ("calibrated (full components)", calibrated_scores)):
            a = agreement(frame[measure].to_numpy(float), reference)
            results[f"{measure}: {label}"] = a
            print(_icc_line(f"{measure.upper() if measure == 'masi' else 'mMASI'}: {label}", a))
    # Totals-only calibrations, same subjects (graded from the default model's measures).
    train = read_scores(scores_file)
    train["image_path"] = train["image"]
    fit_rows = read_manifest(out / "manifest_calibration.csv").merge(train.drop(columns=["image", "subject", "visit"]),
                                                                    on="image_path")
    for only in ("physician_masi", "physician_mmasi"):
        fitted = MasiCalibrator().fit(fit_rows, fit_rows[[only]])
        measure = only.removeprefix("physician_")
        predicted = fitted.predict(default_scores)[measure].to_numpy()
        a = agreement(predicted, phys.loc[list(holdout["image_path"]), only].to_numpy())
        results[f"{measure}: calibrated from {only} only"] = a
        print(_icc_line(f"{measure.upper() if measure == 'masi' else 'mMASI'}: calibrated, {only} only", a))
    held = ratings[ratings["subject"].isin(held_out)]
    print("\ncontext (held-out photos): the simulated raters against each other and against the truth")
    for label, a, b in (("rater A vs rater B (MASI)", "rater_A_masi", "rater_B_masi"),
                        ("consensus vs phantom truth (MASI)", None, "truth_masi")):
        left = held[a].to_numpy() if a else manifest.loc[split, "physician_masi"].to_numpy()
        r = agreement(left, held[b].to_numpy())
        results[label] = r
        print(_icc_line(label, r))
    print("  (real physicians: inter-rater ICC 0.816 for MASI, Majid et al. 2016)")

    validate = ["validate", str(out / "scores_holdout_calibrated.csv"), "--reference", str(out / "manifest_holdout.csv"),
                "--out", str(out / "validation_calibrated"), "--note", NOTE]
    print(f"\n$ pigmentscan {' '.join(validate[:6])} --note \"{NOTE[:40]}...\"", flush=True)
    if cli.main(validate) != 0:
        return 1
    cli.main(["validate", str(out / "scores_holdout_default.csv"), "--reference", str(out / "manifest_holdout.csv"),
              "--out", str(out / "validation_default"), "--note", NOTE])
    summary = {"note": NOTE, "command": "python benchmarks/calibration_demo.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "site": site, "raters": RATERS, "n_subjects": len(subjects), "n_held_out_subjects": len(held_out), "seconds": round(time.time() - started),
               "default_model": default_label, "calibrated_model": load_model(model_path).label, **_code_state(),
               "held_out": {k: {s: (None if not np.isfinite(v) else round(float(v), 4)) for s, v in a.items()
                                if s in ("n", "icc2_1", "icc2_1_ci_low", "icc2_1_ci_high", "mae", "bias", "loa_lower",
                                         "loa_upper")} for k, a in results.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nsummary -> {out / 'summary.json'}; reports -> {out / 'validation_calibrated' / 'report.html'} "
          f"(and validation_default); {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
