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

``--split test`` uses only faces the lesion classifier never saw (accuracy.py's test split),
``--split tune`` only the others (choose a change there, measure it on test);
``--subjects-per-face K`` gives each trial face K subjects (own pigment, response and seed) for a
tighter estimate. The trial r is printed with a 95 % bootstrap interval over subjects. Seen at
0b5b715: tune faces (24 subjects) r 0.919 (0.865-0.963); test faces (36 subjects, K=3) r 0.840
(0.727-0.920): the phantom trial target (r >= 0.9) holds on the faces the classifier was fitted
on, not yet on new faces. On those 36 test subjects r is 0.989 with the true area grades and
0.853 with the true darkness grades: the area is the error; 41 % of it is one face (082, the
darkest, ITA -68), whose faint (darkness 1) lesions are mostly missed; so are darkness-1 lesions
on dark skin in general (accuracy.py --split test --csv: the 8 such regions, ITA < -30, have
their area under-measured by 19 points on average, against 3 on light skin).
A context stage fitted without its region-wide features (train_lesion_classifier.py
--local-context, chosen on tune faces scored by classifiers fitted on the other half of them:
r 0.930 vs 0.895) gives test r 0.862 (0.761-0.921), 082's share 22 %, but more false pigment on
clean brown faces, so it is not the default (lesions.fitting.fit_context_stage). Fitted
with blushed clean faces besides (``--local-context --negatives 2``) it keeps clean faces as
the default does (tests/test_pipeline.py passes), but test r is 0.850 (0.861 and 0.860 with
its threshold at 0.6 and 0.7, which lower Dice), against 0.927 on tune: not taken either.
Split into its parts (point 4), the area error leaves r 0.904 on the test subjects when only
its mean over each subject's visits is kept and 0.872 when only its visit-to-visit change is:
neither part alone is the gap. Drift is not it: on the test retest photos the area's SD
between takes is under 1 point in 18 of the 28 regions and above 3 in one (a chin, 15).
The trial's baselines (20-40 % of each region) straddle the 30 % area band, so a small area
bias moves r: scaling every measured area by 0.95 (a model with ``grading.area_gain`` 0.95,
``--rescore``) gives tune r 0.933, test 0.851, a fit to this design rather than a better
measurement, and not taken. An example of that band effect: T108br1's area change is measured
within 1.3 points at every visit, but its true baseline area (29.7 % in each region) is just
under the 30 % band and the measured one (31-33 %) just over (area score 3, not 2, in all four
regions), so its MASI change at week 12 is 5.7 points too large.
More dark skin in training does not close the gap: 96 more training phantoms on the six tune faces
with ITA below -20 gave test r 0.848 (0.750-0.917), 57 of 60 improvements detected; the default
context stage fitted with blushed clean faces too, 0.837 (refitted at 7de65b3; neither kept). The phantom grades darkness by the melanin
that adds a grade's colour difference to a reference skin (L* 65, ``phantom.pigment``), the same
melanin on every face: on the darkest test face (082, skin L* 28) a darkness-1 lesion adds
ΔE*ab 3.2 rather than 5.8, and on its dark, noisy skin it is often not seen.
Nor do the face-wide features let the classifier memorise its training faces (classifiers
fitted with tune faces left out, train_lesion_classifier.py ``--exclude-faces``, held-out tune
r 0.875 with every feature, 0.879-0.883 without the face-wide ones, 0.871 with only those
relative to the face's own skin). Without ``ita_deg`` and
``l_star`` (test r 0.877) clean brown and dark faces read more pigment; neither that nor its
refit with blushed and darkened clean faces (0.852) is taken (train_lesion_classifier.py).
With the default model's three-network ensemble (``lesions.ClassifierEnsemble``, mean probability
0.6) on photos prepared with ``highlight_shading`` -2.0: test faces (K=3) r 0.878 (0.774-0.942),
mMASI 0.905, area % 0.970, retest SDC 0.67, 61 of 63 improvements detected (missed: T129br1 at
weeks 8 and 12, true change -1.2, measured -0.4 and less), 1 of 27 stable visits beyond the SDC;
082's share of the error 32 %, 118 18 %, 108 15 % (r 0.992 with the true area grades). Held-out
tune (the networks fitted without the tune trial faces) r 0.928. Five networks (seeds 0-4), the default
now, chosen as the steps below say (three re-scored on the same kept tune photos: 0.924):
test r 0.892 (0.801-0.946), mMASI 0.923, area % 0.974, retest SDC 0.63, 61 of 63 detected (the
same two missed), 2 of 27 stable visits beyond the SDC; 082's share 27 %, 118 21 %, 108 13 %
(r 0.991 with the true area grades, 0.897 with the true darkness grades); with the grading
uncertainties re-measured for the five networks (the model's provenance), r 0.891 (0.803-0.946),
retest SDC 0.64. Nine subjects per test face (``--subjects-per-face 9``: the 36 above, which
give r 0.891 again, and 72 more): r 0.924 (0.891-0.949), mMASI 0.942, area % 0.972, 181 of 188
improvements detected, 10 of 81 stable visits beyond the SDC (0.64); the 72 new subjects alone
r 0.944. Six of the seven misses are true changes no larger than 1.2 points (under twice the SDC);
the seventh, T139ir2 at week 4 (true -6.2, measured -0.6), is a true area of 30.6 % in every
region crossing the 30 % band, while the measured 27-28 % stays under it (its area change is
measured within 0.3 points). Held-out tune the same way (nine subjects per face, the networks
fitted without the tune trial faces): r 0.906 (0.873-0.934) against 0.933 with three, 196 of 203
detected, 22 of 81 stable visits beyond its SDC (0.32, from 12 retest faces). The steps, each
chosen on held-out tune: one network 0.875 -> three at 0.6 0.903 (test 0.865) -> the sheen band
-1.5 to -2.0 measured 0.916 (test 0.890, networks not refitted) -> refitted on it 0.928 (test
0.878) -> five networks 0.933 (test 0.892).
Where the rest comes from, on face 118 (ITA 38): at some visits a faint patch of its own
pigment-free skin beside a phantom patch reads as lesion (18 % of a region), at others not; the
networks' face-wide features (melanin noise, the skin outside the regions, the face's tone) move
when a face carries pigment, and with them set back to the clean face's values most of that
patch is normal again. Measuring the highlights by a vote of the skin around them
(``highlight_fill_iod`` 0.25) gave test r 0.845 with one network (0.840 without).
Measuring those face-wide features on the clean skin off the rule-based candidates
(``LesionParams.face_skin_margin_iod`` 0.04, networks refitted on photos prepared with it,
tune trial faces left out) moves face 118's normal-skin features less (melanin 0.14 -> 0.02,
ITA 7.1 -> 2.9 degrees), but held-out tune r is 0.910 (0.864-0.945) against the default's 0.928,
62 of 64 improvements detected as before: not taken, and not tried on test. Nor are the grades'
expected values the gap: on the tune trial photos with the default networks (r 0.927 at the
measured ``grading.area_uncertainty_pct`` 2.09) r is 0.931 banded (0), 0.932 at 1.0, 0.913 at
3.5 and 0.895 at 5.0 (``--rescore`` with each model): the measured value is kept.
Nor does the area's estimator close it. Explored on the test photos with the three-network
default (r 0.878; so none is taken, whatever it gave): the area as the mean of the ensemble's
probability ramped between two levels instead of one threshold (0.4-0.8: 0.879; 0.0-1.0: 0.862);
one threshold for all (0.5: 0.866, 0.7: 0.883) or a lower one on dark skin only (0.873); no
rule-based patches added (0.880); the measures averaged over three working scales (85, 92 and
100 px between the pupils: 0.885, each alone 0.878-0.887); and each follow-up photo classified
with its baseline photo's face-wide features moved into its own frame through the skin outside
the regions (0.882). The area-% error of the trial photos is 2.7 points (MAE); what is left is
where it falls: a subject's regions all straddle the same band edge (one area per subject).

Detecting each subject's change (point 2's library rule; ``--split test --retest-faces 7
--trial-faces 12 --subjects-per-face 9``, 108 subjects, 243 visits whose pigment faded, 81 stable).
Before the skin's typical optical density was smoothed (``lesions.reference.typical_od``), one
photo per visit: by MASI (SDC 0.64) 212 of the 243 ``improved``, 10 of 81 stable visits flagged;
by the lesion area % (SDC 2.27 points) 229 of 243, 5 flagged; 81 of 81 improving subjects at
week 12 (78 by MASI). So the lesion area is the default ``detect_by``. The 8-bit working copy's
median OD jumped by whole code values with sensor noise, moving every pigment amount (phantom
face 129, eight takes differing only in sensor noise: lesion area 25.3-33.0 %, SD 2.12 points;
0.19 after). Since: MASI change r 0.924 (0.890-0.949), area % r 0.977, SDC 0.55 MASI and 1.98 area
points (95 % CI 1.52-2.83); by MASI 216 of 243 detected, 10 flagged; by the lesion area 231 of
243 (at week 4 17 of 27 with response 1/3 and 26 of 27 with 2/3, true area changes of 2-4 points,
near the SDC), 3 of 81 stable visits flagged. Held-out tune (``--split tune --retest-faces 12``,
nine per face, networks fitted without the tune trial faces): r 0.906 as before, area % r 0.930
(0.928), area SDC 1.93 (2.11), 233 of 243 detected (232), 6 of 81 flagged (6); MASI retest SDC
0.66 (0.32; Weir 0.44 against 0.32), most of the increase one retest face (037) whose MASI moves
while its area does not (a grade at a band edge).
A stable subject's changes share the one baseline photo's error, and much of the SDC is drift
from photo to photo: three photos per visit (``--photos-per-visit 3``, the first one the same
photo as above) give SDC 0.25 MASI and 0.85 area points (before the fix 0.37 and 1.34); MASI
change r 0.927 (0.896-0.951), area % r 0.982; by MASI 228 of 243 detected, 14 of 81 stable
flagged; by the lesion area 240 of 243 (238 before; missed: T082r1, T094dr1 and T118ir1 at week
4) and 6 of 81 flagged. From the same photos (``--rescore DIR --use-takes B F``: subsets of the
takes, the retest's too): two per visit 237 of 243 (SDC 1.25, 6 flagged; 235 before the fix);
three at baseline and one after 233 (SDC 1.80, 3 flagged; 233). Held-out tune, three per visit
(networks fitted without the tune trial faces, fresh photos): r 0.905 (0.865-0.937), area % r
0.942, SDC 0.21 MASI and 0.74 area points from 12 retest faces; by the lesion area 236 of 243
detected but 14 of 81 stable visits flagged (by MASI 227, 18): averaging shrinks the drift the
retest faces show, not each face's own error, so their SDC is too small for noisier faces
(099, 114, 062 make half the change error).

Every figure above came from phantom visits that drew new patches for each visit's smaller area
(``make_phantom`` drew as many patch centres as the area asked for, so the random draws after
them, the warps, differed; a visit's lesion lay 62 % inside the baseline's on one check), not the
baseline's patches faded in place. Since, ``fading`` passes the baseline's area as
``pattern_area_fraction``: the same patches, shrunk (99.9 % inside the baseline's; the stable
and retest series are unchanged). Point 2 then also measures the pigment left in the baseline's
lesions (``longitudinal.add_lesion_pigment`` on the batch's ``maps/``), and prints detection by
it, and by it with the lesion area. Chosen on tune faces (``--split tune --retest-faces 12``,
nine per face, default model), by improvements detected minus stable visits flagged:
each photo's ``melanin_contrast`` read in the baseline's lesions 243 of 243 detected but 16 of
81 stable flagged (its reference moves with each photo's lesion mask: T062ir0 at week 12 read
-15.9 % where its left malar lesions were missed); the melanin map above the skin normal in both
photos 237 and 5; with the union of both photos' lesions (no selection bias) 236 and 3; with
the baseline's lesions and a 0.02-IOD margin 242 and 5 (243 with the Weir SDC alone), the
default. Then, on test (``--split test --retest-faces 7 --trial-faces 12 --subjects-per-face 9``):
MASI change r 0.926 (0.892-0.951), mMASI 0.948, area % 0.981; SDC 0.55 MASI, 1.98 area points,
1.88 % of the baseline pigment; by the lesion pigment 243 of 243 improving visits detected, 5 of
81 stable flagged; by the lesion area 233, 3; by MASI 205, 10; by pigment and area 243, 8. The
first 36 subjects (``--subjects-per-face 3``): r 0.903 (0.814-0.954), by the lesion pigment 81
of 81, 2 of 27 flagged. Tune with the default: r 0.918, lesion pigment 242 of 243 (SDC 2.14, the
95th percentile of the retest's changes above Weir's 2.02; 243 with the library's rule, which
takes Weir's), 5 flagged; area 237, 6; MASI 226, 10. Tune scored by networks fitted without the
tune trial faces (``train_lesion_classifier.py --exclude-faces``, ``--model``): r 0.907 (0.875-0.934); lesion pigment 241 of 243
(SDC 2.33), 6 flagged; with the library's rule (SDC 2.05) 242 of 243 (T067dr1 at week 4, -2.03),
8 flagged; area 238, 6; MASI 222, 9.
The smallest improvements remain close to the noise: on test the weakest detected is -2.6 % of
the pigment against SDC 1.88, and the largest stable change -3.3 %.

Derived photos: Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0), with
simulated pigment and camera drift added; nothing is written outside a temporary folder
(or ``--keep``).
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
