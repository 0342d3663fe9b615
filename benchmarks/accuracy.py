"""Accuracy of pigmentscan against ground truth: melasma phantoms on real faces.

Each phantom is a real face of the London set (or ``$PIGMENTSCAN_FACES``) with melasma-like
pigment of known extent added by :mod:`pigmentscan.phantom` (grades drawn from a fixed seed,
so every area, darkness and homogeneity grade occurs; a third of them with extra constitutive
melanin, to reach darker skin). The phantom is scored like any photo and compared with its
truth:

- lesion Dice per region (inside the truth's visible skin of the region, regions with a true lesion);
- area-% MAE, area-score exact and within-one agreement;
- darkness and homogeneity Spearman correlation of the measured against the true grades;
- MASI and mMASI: ICC(A,1), Lin's CCC, Bland-Altman bias and limits, MAE (the scored ``masi``,
  over the expected grades; ``masi_banded``, the formula over the banded grades, beside it);
- false-positive area on the clean faces (no phantom);
- all by skin tone (Chardon ITA band of the face's normal skin, as the analysis measures it);
- test-retest: the same phantom photographed twice with drift (:func:`pigmentscan.phantom.random_drift`):
  ICC(A,1) between the takes, SEM and smallest detectable change SDC = 1.96 * sqrt(2) * SEM;
  per region, the SDC of the continuous area % and how often a banded grade changes; and the
  per-photo SD of each graded measure between the takes, which is what the scoring model's
  grading uncertainties hold (``models/default.json``: measured on the TUNE split).

Faces are split by sorted name: every third (indices 2, 5, 8, ...) is the TEST split, never
used for tuning; the others are the TUNE split. Faces 001, 038 and 107 carry real brown spots
and freckles (faces README), which the truth would not know of: they are not used as bases.

Run (the default set: 240 phantoms + 60 retest pairs on the test split, ~10 min on 2 cores)::

    python benchmarks/accuracy.py --split test --jobs 2

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

REGIONS = ("forehead", "right_malar", "left_malar", "chin")
WITH_REAL_SPOTS = {"001", "038", "107"}  # faces/README.md
DARK_ITA, LIGHT_ITA = 10.0, 41.0  # Chardon 1991: below 10 brown/dark; above 41 light/very light


def default_faces_dir() -> Path:
    env = os.environ.get("PIGMENTSCAN_FACES")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "faces" / "london"


def split_faces(files, split: str) -> list:
    """Every third face by sorted name is TEST; the rest TUNE."""
    files = sorted(files)
    test = [f for i, f in enumerate(files) if i % 3 == 2]
    tune = [f for i, f in enumerate(files) if i % 3 != 2]
    return {"test": test, "tune": tune, "all": files}[split]


def phantom_plan(files, n: int, n_retest: int, seed: int = 2024, dark_share: float = 1 / 3,
                 centrofacial_share: float = 0.0) -> list:
    """Fixed list of phantom tasks: face, seed, constitutive darkening (``dark_share`` of them), retest or not,
    and layout (``centrofacial_share`` of them one confluent centrofacial pattern, the rest per region).

    The faces are taken in turn; the first ``n_retest`` phantoms are also retested, so every face is.
    The layouts have a random stream of their own: the other draws do not depend on the share.
    """
    bases = [f for f in files if Path(f).name[:3] not in WITH_REAL_SPOTS]
    rng, layouts = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    plan = []
    for i in range(n):
        face = bases[i % len(bases)]
        darkening = float(rng.uniform(0.3, 0.9)) if rng.random() < dark_share else 0.0
        phantom_seed = zlib.crc32(f"{Path(face).name}:{i}:{seed}".encode())
        retest = i < n_retest
        layout = "centrofacial" if layouts.random() < centrofacial_share else "regions"
        plan.append({"face": str(face), "index": i, "seed": phantom_seed, "darkening": darkening, "retest": retest,
                     "layout": layout})
    return plan


_LANDMARKS = {}


def _face(path):
    import cv2

    from pigmentscan.landmarks import detect_landmarks

    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    if path not in _LANDMARKS:
        _LANDMARKS[path] = detect_landmarks(rgb, source=str(path))
    return rgb, _LANDMARKS[path]


def _to_crop(mask, score):
    """A photo-sized mask in the coordinates of the score's analysis crop (the pipeline's own crop)."""
    from pigmentscan.pipeline import crop_to_analysis

    analysis_iod = score.crop_scale * score.landmarks.iod_px
    crop, *_ = crop_to_analysis(mask.astype(np.float32), score.landmarks, analysis_iod)
    assert crop.shape == score.analysis_image.shape[:2]
    return crop >= 0.5


def _measured(score) -> dict:
    out = {"masi": score.masi, "mmasi": score.mmasi, "masi_banded": score.masi_banded,
           "ita_deg": score.analysis.reference.ita_deg}
    for key, region in score.regions.items():
        out.update({f"{key}_area_pct": region.area_pct, f"{key}_area_score": region.area_score,
                    f"{key}_darkness": region.darkness, f"{key}_homogeneity": region.homogeneity,
                    f"{key}_darkness_jnd": region.measures.darkness_jnd,
                    f"{key}_patch_diameter_iod": region.measures.patch_diameter_iod})
    return out


def run_phantom(task: dict, model=None) -> dict:
    """Make one phantom, score it (and its retest pair), compare with the truth."""
    import pigmentscan
    from pigmentscan.phantom import graded_truth, make_phantom, random_drift, reacquire

    rgb, landmarks = _face(task["face"])
    row = {"face": Path(task["face"]).name[:3], "index": task["index"], "seed": task["seed"],
           "darkening": task["darkening"], "layout": task.get("layout", "regions")}
    try:
        phantom = make_phantom(rgb, seed=task["seed"], constitutive_darkening=task["darkening"], landmarks=landmarks,
                               layout=row["layout"])
        start = time.perf_counter()
        score = pigmentscan.score_image(phantom.image, model=model)
        row["seconds"] = time.perf_counter() - start
    except pigmentscan.PigmentScanError as error:
        return {**row, "error": str(error)}
    truth = graded_truth(phantom)  # on the grading scale: involved from 1 JND, darkness on own skin
    row.update({"true_masi": truth["masi"], "true_mmasi": truth["mmasi"]})
    for key, region in truth["regions"].items():
        row.update({f"{key}_true_{k}": v for k, v in region.items()})
    row.update(_measured(score))
    found = score.analysis.lesion_mask
    for suffix, mask in (("", truth["mask"]), ("_half_max", phantom.lesion_mask)):
        true = _to_crop(mask, score)
        for key in REGIONS:
            region = _to_crop(phantom.region_masks[key], score)
            t, f = true & region, found & region
            row[f"{key}_dice{suffix}"] = 2 * (t & f).sum() / (t.sum() + f.sum()) if t.any() else np.nan
    if task["retest"]:
        rng = np.random.default_rng(task["seed"])
        for offset, take in enumerate("ab"):
            image, _ = reacquire(phantom.image, seed=task["seed"] + offset, **random_drift(rng))
            try:
                again = pigmentscan.score_image(image, model=model)
            except pigmentscan.PigmentScanError:
                row[f"retest_masi_{take}"] = np.nan
                continue
            row[f"retest_masi_{take}"] = again.masi
            row.update({f"retest_{name}_{take}": value for name, value in _measured(again).items() if name != "masi"})
            for key, region in again.regions.items():
                row[f"retest_{key}_grades_{take}"] = f"{region.area_score}{region.darkness}{region.homogeneity}"
    return row


def run_clean(path, model=None) -> dict:
    import pigmentscan

    score = pigmentscan.score_image(path, model=model)
    return {"face": Path(path).name[:3], **_measured(score)}


def _icc(a, b, form="ICC(A,1)") -> float:
    from pigmentscan.validation import intraclass_correlation

    table = intraclass_correlation(pd.DataFrame({"a": a, "b": b}))
    return float(table.loc[table["mcgraw_wong"] == form, "icc"].iloc[0])


def _spearman(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    return float(stats.spearmanr(x[keep], y[keep])[0]) if keep.sum() > 2 else np.nan


def region_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per phantom and region."""
    parts = []
    for key in REGIONS:
        cols = {c: c[len(key) + 1:] for c in frame.columns if c.startswith(key + "_")}
        part = frame[list(cols) + ["ita_deg", "band"]].rename(columns=cols)
        part["region"] = key
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def summary(frame: pd.DataFrame) -> dict:
    """The accuracy measures of a set of scored phantoms."""
    from pigmentscan.validation import bland_altman, lin_ccc

    long = region_long(frame)
    lesion = long[long["true_area_score"] > 0]
    out = {"n": len(frame)}
    for key in REGIONS:
        out[f"dice_{key}"] = float(np.nanmean(frame[f"{key}_dice"]))
    out["dice"] = float(np.nanmean(lesion["dice"]))
    out["area_mae"] = float(np.mean(np.abs(long["area_pct"] - long["true_area_pct"])))
    if "true_half_max_area_pct" in long:  # against the phantom's own half-maximum truth
        out["dice_half_max"] = float(np.nanmean(long.loc[long["true_half_max_area_pct"] > 0, "dice_half_max"]))
        out["area_mae_half_max"] = float(np.mean(np.abs(long["area_pct"] - long["true_half_max_area_pct"])))
    out["area_exact"] = float(np.mean(long["area_score"] == long["true_area_score"]))
    out["area_within1"] = float(np.mean(np.abs(long["area_score"] - long["true_area_score"]) <= 1))
    out["darkness_rho"] = _spearman(lesion["darkness"], lesion["true_darkness"])
    out["darkness_contrast_rho"] = _spearman(lesion["darkness_jnd"], lesion["true_darkness"])
    out["homogeneity_rho"] = _spearman(lesion["homogeneity"], lesion["true_homogeneity"])
    out["darkness_exact"] = float(np.mean(lesion["darkness"] == lesion["true_darkness"]))
    out["homogeneity_exact"] = float(np.mean(lesion["homogeneity"] == lesion["true_homogeneity"]))
    if "masi_banded" in frame and len(frame) >= 3:
        out["masi_banded_icc"] = _icc(frame["masi_banded"], frame["true_masi"])
    for total in ("masi", "mmasi"):
        measured, true = frame[total], frame[f"true_{total}"]
        ba = bland_altman(measured, true)
        out.update({f"{total}_icc": _icc(measured, true) if len(frame) >= 3 else np.nan,
                    f"{total}_ccc": lin_ccc(measured, true).ccc, f"{total}_bias": ba.bias,
                    f"{total}_loa_low": ba.lower, f"{total}_loa_high": ba.upper,
                    f"{total}_mae": float(np.mean(np.abs(measured - true)))})
    return out


def retest(frame: pd.DataFrame) -> dict:
    pairs = frame[["retest_masi_a", "retest_masi_b"]].dropna() if "retest_masi_a" in frame else pd.DataFrame()
    if len(pairs) < 3:
        return {"n": len(pairs)}
    a, b = pairs["retest_masi_a"], pairs["retest_masi_b"]
    sem = float(np.std(a - b, ddof=1) / np.sqrt(2))  # within-subject SD (de Vet 2006)
    out = {"n": len(pairs), "icc": _icc(a, b), "sem": sem, "sdc": 1.96 * np.sqrt(2) * sem,
           "mean_abs_diff": float(np.mean(np.abs(a - b)))}
    taken = frame.loc[pairs.index]
    if "retest_masi_banded_a" in frame:  # the formula over the banded grades, as a physician's sheet adds them
        banded = taken["retest_masi_banded_a"] - taken["retest_masi_banded_b"]
        out["banded_sdc"] = 1.96 * float(np.std(banded, ddof=1))
    if f"retest_{REGIONS[0]}_area_pct_a" in frame:  # the continuous area and the banded grades of each region
        area = np.concatenate([taken[f"retest_{k}_area_pct_a"] - taken[f"retest_{k}_area_pct_b"] for k in REGIONS])
        out["area_sdc"] = 1.96 * float(np.std(area, ddof=1))  # = 1.96 * sqrt(2) * SEM, pooled over regions
        out["grades_changed"] = float(np.mean(np.concatenate(
            [taken[f"retest_{k}_grades_a"] != taken[f"retest_{k}_grades_b"] for k in REGIONS])))
    if f"retest_{REGIONS[0]}_darkness_jnd_a" in frame:
        out["measure_sd"] = measure_repeatability(taken)
    return out


def measure_repeatability(taken: pd.DataFrame) -> dict:
    """Per-photo SD of each graded measure between two takes of the same skin, pooled over the regions
    with a lesion on both: SD(a - b) / sqrt(2) (de Vet 2006). What ``Grading``'s uncertainties hold."""
    out = {}
    for measure in ("area_pct", "darkness_jnd", "patch_diameter_iod"):
        differences = []
        for k in REGIONS:
            a, b = taken[f"retest_{k}_{measure}_a"], taken[f"retest_{k}_{measure}_b"]
            both = (taken[f"retest_{k}_area_score_a"] > 0) & (taken[f"retest_{k}_area_score_b"] > 0) & a.notna() & b.notna()
            differences.append((a - b)[both])
        differences = np.concatenate(differences)
        out[measure] = float(np.std(differences, ddof=1) / np.sqrt(2)) if differences.size > 2 else np.nan
    return out


def _fmt(value, digits=3):
    return "nan" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def report(frame: pd.DataFrame, clean: pd.DataFrame, split: str) -> str:
    from pigmentscan.colour import ita_category

    lines = []
    ok = frame[frame.get("error", pd.Series(np.nan, index=frame.index)).isna()] if "error" in frame else frame
    overall = summary(ok)
    lines.append(f"pigmentscan accuracy on melasma phantoms, split={split}: {len(ok)} phantoms "
                 f"({len(frame) - len(ok)} not scored), {ok['face'].nunique()} faces")
    lines.append("")
    lines.append("measure                          value   target")
    rows = [
        ("lesion Dice (regions with lesion)", overall["dice"], ">= 0.85"),
        *[(f"  Dice {k}", overall[f"dice_{k}"], "") for k in REGIONS],
        ("area-% MAE (points)", overall["area_mae"], "<= 8"),
        ("  Dice, phantom's half-max truth", overall.get("dice_half_max", np.nan), ""),
        ("  area MAE, half-max truth", overall.get("area_mae_half_max", np.nan), ""),
        ("area score exact", overall["area_exact"], ""),
        ("area score within one", overall["area_within1"], ""),
        ("darkness Spearman (grade)", overall["darkness_rho"], ">= 0.8"),
        ("darkness Spearman (contrast)", overall["darkness_contrast_rho"], ""),
        ("darkness exact", overall["darkness_exact"], ""),
        ("homogeneity Spearman (grade)", overall["homogeneity_rho"], ""),
        ("homogeneity exact", overall["homogeneity_exact"], ""),
        ("MASI ICC(A,1)", overall["masi_icc"], ">= 0.90"),
        ("MASI Lin CCC", overall["masi_ccc"], ""),
        ("MASI ICC, banded formula", overall.get("masi_banded_icc", np.nan), ""),
        ("MASI MAE", overall["masi_mae"], ""),
        ("MASI Bland-Altman bias", overall["masi_bias"], ""),
        ("MASI limits of agreement low", overall["masi_loa_low"], ""),
        ("MASI limits of agreement high", overall["masi_loa_high"], ""),
        ("mMASI ICC(A,1)", overall["mmasi_icc"], ""),
        ("mMASI Lin CCC", overall["mmasi_ccc"], ""),
        ("mMASI MAE", overall["mmasi_mae"], ""),
        ("mMASI Bland-Altman bias", overall["mmasi_bias"], ""),
        ("mMASI limits of agreement", float("nan"), f"{_fmt(overall['mmasi_loa_low'], 2)} .. {_fmt(overall['mmasi_loa_high'], 2)}"),
    ]
    for name, value, target in rows:
        lines.append(f"{name:<32} {_fmt(value):>7}   {target}")
    rt = retest(ok)
    lines.append("")
    if rt["n"] >= 3:
        lines.append(f"test-retest ({rt['n']} phantoms, two drifted takes each): ICC(A,1) {_fmt(rt['icc'])} "
                     f"(target >= 0.97), SEM {_fmt(rt['sem'], 2)}, SDC {_fmt(rt['sdc'], 2)} MASI points "
                     f"(target <= 1.5), mean |difference| {_fmt(rt['mean_abs_diff'], 2)}")
        if "banded_sdc" in rt:
            lines.append(f"  the formula over the banded grades (masi_banded): SDC {_fmt(rt['banded_sdc'], 2)} MASI points")
        if "area_sdc" in rt:
            lines.append(f"  per region: SDC of the area % {_fmt(rt['area_sdc'], 2)} points; "
                         f"{100 * rt['grades_changed']:.0f} % of the regions change an area, darkness or "
                         f"homogeneity grade between the takes")
        if "measure_sd" in rt:
            sd = rt["measure_sd"]
            lines.append(f"  per-photo SD between takes (regions with a lesion on both): area {_fmt(sd['area_pct'], 2)} "
                         f"points, darkness {_fmt(sd['darkness_jnd'], 3)} JND, patch diameter "
                         f"{_fmt(sd['patch_diameter_iod'], 4)} IOD (the grading's uncertainties)")
    if len(clean):
        long_clean = region_long(clean.assign(band=[ita_category(v) for v in clean["ita_deg"]]))
        lines.append(f"clean faces ({len(clean)}, no phantom): false-positive area {_fmt(long_clean['area_pct'].mean(), 2)} % "
                     f"of a region on average (max {_fmt(long_clean['area_pct'].max(), 1)} %), MASI mean "
                     f"{_fmt(clean['masi'].mean(), 2)} / median {_fmt(clean['masi'].median(), 2)} / max {_fmt(clean['masi'].max(), 2)}")
    lines.append("")
    lines.append("by skin tone (ITA band of the face's normal skin, Chardon 1991)")
    lines.append(f"{'band':<13}{'n':>4}{'Dice':>7}{'areaMAE':>9}{'D rho':>7}{'MASI err':>10}{'MASI MAE':>10}{'ICC':>7}"
                 f"{'clean n':>9}{'FP area%':>10}{'clean MASI':>11}")
    order = ["very light", "light", "intermediate", "tan", "brown", "dark"]
    clean_band = clean.assign(band=[ita_category(v) for v in clean["ita_deg"]]) if len(clean) else clean
    for band in order:
        part = ok[ok["band"] == band]
        cpart = clean_band[clean_band["band"] == band] if len(clean) else clean_band
        if not len(part) and not len(cpart):
            continue
        s = summary(part) if len(part) >= 3 else None
        fp = region_long(cpart)["area_pct"].mean() if len(cpart) else np.nan
        err = (part["masi"] - part["true_masi"]).mean() if len(part) else np.nan
        lines.append(f"{band:<13}{len(part):>4}{_fmt(s['dice'] if s else np.nan, 2):>7}{_fmt(s['area_mae'] if s else np.nan, 1):>9}"
                     f"{_fmt(s['darkness_rho'] if s else np.nan, 2):>7}{_fmt(err, 2):>10}{_fmt(s['masi_mae'] if s else np.nan, 2):>10}"
                     f"{_fmt(s['masi_icc'] if s else np.nan, 2):>7}{len(cpart):>9}{_fmt(fp, 2):>10}"
                     f"{_fmt(cpart['masi'].mean() if len(cpart) else np.nan, 2):>11}")
    if "layout" in ok and ok["layout"].nunique() > 1:
        lines.append("")
        lines.append(f"by layout{'':<15}{'n':>4}{'Dice':>7}{'areaMAE':>9}{'MASI ICC':>10}{'MASI err':>10}{'found/true >=70%':>18}")
        for layout, part in ok.groupby("layout"):
            s, long = summary(part), region_long(part)
            wide = long[long["true_area_pct"] >= 70]
            found = float((wide["area_pct"] / wide["true_area_pct"]).median()) if len(wide) else np.nan
            lines.append(f"{layout:<24}{len(part):>4}{_fmt(s['dice'], 2):>7}{_fmt(s['area_mae'], 1):>9}{_fmt(s['masi_icc'], 2):>10}"
                         f"{_fmt((part['masi'] - part['true_masi']).mean(), 2):>10}{_fmt(found, 2):>18}")
    dark, light = ok[ok["ita_deg"] < DARK_ITA], ok[ok["ita_deg"] > LIGHT_ITA]
    if len(dark) and len(light):
        gap = (dark["masi"] - dark["true_masi"]).mean() - (light["masi"] - light["true_masi"]).mean()
        lines.append(f"mean MASI error, dark (ITA < {DARK_ITA:g}, n={len(dark)}) minus light (ITA > {LIGHT_ITA:g}, "
                     f"n={len(light)}): {_fmt(gap, 2)} points (target within +/-1)")
    lines.append("")
    timed = ok["seconds"].dropna() if "seconds" in ok else pd.Series(dtype=float)
    if len(timed):
        lines.append(f"scoring time per phantom photo: median {_fmt(timed.median(), 2)} s")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir(), help="folder of face JPEGs")
    parser.add_argument("--n", type=int, default=240, help="number of phantoms (default 240)")
    parser.add_argument("--retest", type=int, default=60, help="phantoms photographed twice (default 60)")
    parser.add_argument("--split", choices=("tune", "test", "all"), default="test")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    parser.add_argument("--csv", type=Path, default=None, help="write one row per phantom here")
    parser.add_argument("--centrofacial-share", type=float, default=0.0,
                        help="share of the phantoms drawn as one confluent centrofacial pattern (default 0)")
    args = parser.parse_args(argv)
    files = sorted(args.faces.glob("*.jpg"))
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    files = split_faces(files, args.split)
    plan = phantom_plan(files, args.n, args.retest, centrofacial_share=args.centrofacial_share)
    clean_files = [f for f in files if f.name[:3] not in WITH_REAL_SPOTS]
    start = time.time()
    from joblib import Parallel, delayed

    from pigmentscan.colour import ita_category

    parallel = Parallel(n_jobs=args.jobs, backend="loky") if args.jobs > 1 else None
    if parallel is not None:
        rows = parallel(delayed(run_phantom)(task, args.model) for task in plan)
        clean_rows = parallel(delayed(run_clean)(str(f), args.model) for f in clean_files)
    else:
        rows = [run_phantom(task, args.model) for task in plan]
        clean_rows = [run_clean(str(f), args.model) for f in clean_files]
    frame = pd.DataFrame(rows)
    frame["band"] = [ita_category(v) if np.isfinite(v) else "" for v in frame.get("ita_deg", pd.Series(np.nan, index=frame.index))]
    clean = pd.DataFrame(clean_rows)
    if args.csv:
        frame.to_csv(args.csv, index=False)
        clean.to_csv(args.csv.with_name(args.csv.stem + "_clean.csv"), index=False)
    print(report(frame, clean, args.split))
    print(f"wall time {time.time() - start:.0f} s with {args.jobs} job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
