"""The lesion measure on data it was never fitted or tuned on, beside the project's own phantom split.

Prints the figures of issue #34's "Done when", domain by domain with N, so that every change to
the measure shows both what it does on held-out data and what it does on the data the project
has been tuning on. **Nothing may be fitted or tuned on these figures**: they are the check of
the measure, and a measure tuned on them has no held-out check left.

Held-out data (faces/README.md): ``3dsk`` (100 faces from 3D-scan textures, another studio and
light) and ``london_smiling`` (the London people smiling; 001, 038 and 107 carry real brown spots
or freckles that no truth knows of: they are listed, not counted), from ``../shared/faces`` or
``$PIGMENTSCAN_FACES`` (the folder holding the domain folders, or, as for accuracy.py, the London
folder beside them); held-out phantoms: the third family, :mod:`pigmentscan.heldout_phantoms`,
designed clean-room (2026-12-07) and never used to fit, tune or look into anything. The second
family, :mod:`pigmentscan.simulation`, was held out too until the third session of 2026-12-07, when
its phantoms drawn on London TUNE faces were used to find why the measure failed on it
(docs/experiments.md): it is reported beside the third as development data.

1. **Clean faces** (no phantom): status counts and reasons; MASI median, 90th percentile and
   max over the scored photos; ``ok`` photos above MASI 3.
2. **Flushed clean faces**: each clean photo flushed twice (``add_erythema`` diffuse and patchy,
   strength uniform over the documented useful a* rise 1.5-12, seeded): MASI median and p90.
3. **Phantoms of each family** (``--families``, default both, the held-out third first; ``draw_case``,
   seeds fixed per face and family; ``--per-face``, default 2 per London-smiling face and 1 per 3DSK
   face) against their truth: MASI and mMASI Spearman, ICC(A,1),
   Bland-Altman, MAE; lesion Dice and area-% MAE; area found / true area of regions with a true
   area >= 2 %, by true darkness (JND bins), and of regions >= 70 %; the MASI move under a flush, a
   side light, a flash and a warm white balance; retest (two ``retake`` photos: SDC95 = 1.96·√2·SD_w,
   ICC); the mirrored photo (region area % against its mirror region's, MASI). By domain, pooled,
   by skin tone (ITA of the clean photo's normal skin as the analysis measures it) and by the
   pigment's kind. The third family makes no side light, flash or warm white balance.
4. **Today's split** (benchmarks/accuracy.py's own functions): the first family
   (:mod:`pigmentscan.phantom`, the one the measure was tuned on) on the London TEST
   faces: Dice, area-% MAE, MASI ICC(A,1), retest SDC; 60 phantoms (20 retested) by default,
   accuracy.py's full 240 (60) with ``--today-full``.
5. A summary: each target, its value, met or not.

Photos pigmentscan rules out (status ``error``) have no MASI: they are counted with their reasons
and left out of every median, percentile, agreement and difference (a pair needs both photos
scored). The clean-face targets are judged on the scored photos (``ok`` and ``warn``), "none
``ok`` above 3" on the ``ok`` ones; the error count stands beside them.

Run (from the repository root)::

    python benchmarks/domains.py --quick                 # smoke run: 4 faces per domain, ~5 min
    python benchmarks/domains.py --jobs 2                # the default run: about an hour making both families'
                                                         # caches on 2 cores, 7 min re-scoring from them
    python benchmarks/domains.py --jobs 2 --model other.json   # re-scores the cached photos

Options: ``--cache DIR`` (generated photos, default ~/.cache/pigmentscan-domains; several GB for the
default run), ``--domains``, ``--per-face``, ``--max-faces``, ``--seed`` (34), ``--today-n``,
``--today-retest``, ``--today-full``, ``--csv PREFIX`` (the scored rows). Deterministic.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy  # noqa: E402  (today's split: its faces, phantoms and figures)
import domain_cases as cases  # noqa: E402
import domain_figures as figs  # noqa: E402
from domain_figures import f2  # noqa: E402

OWN_COLUMN = "london TEST (own)"


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", default=None, help="folder holding the domain folders (default $PIGMENTSCAN_FACES "
                                                      "or ../shared/faces)")
    parser.add_argument("--domains", nargs="+", default=list(cases.HELD_OUT))
    parser.add_argument("--families", nargs="+", default=list(cases.FAMILIES), choices=list(cases.FAMILIES),
                        help="phantom families (default: both; 'third' is the held-out one)")
    parser.add_argument("--per-face", type=int, default=None, help="phantoms per face (default 2 london_smiling, 1 3dsk)")
    parser.add_argument("--max-faces", type=int, default=None, help="at most this many faces per domain (evenly spread)")
    parser.add_argument("--seed", type=int, default=34)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "pigmentscan-domains")
    parser.add_argument("--today-n", type=int, default=60, help="first-family phantoms on London TEST (default 60)")
    parser.add_argument("--today-retest", type=int, default=20)
    parser.add_argument("--today-full", action="store_true", help="accuracy.py's full size: 240 phantoms, 60 retested")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 faces per domain, 12 first-family phantoms")
    parser.add_argument("--csv", default=None, help="write the scored rows to PREFIX_domains.csv, PREFIX_today.csv")
    args = parser.parse_args(argv)
    if cases.OWN_DOMAIN in args.domains:
        parser.error(f"'{cases.OWN_DOMAIN}' is the project's own studio, not held out: its TEST split is already the "
                     "reference column")
    if args.quick:
        args.max_faces = args.max_faces or 4
        args.today_n, args.today_retest = min(args.today_n, 12), min(args.today_retest, 4)
    if args.today_full:
        args.today_n, args.today_retest = 240, 60
    return args


def _spread(files, limit):
    if limit is None or len(files) <= limit:
        return files
    return [files[i] for i in np.linspace(0, len(files) - 1, limit).round().astype(int)]


def plan(args, root: Path, cache: Path) -> tuple:
    """Face tasks of every domain (and of London TEST, clean only), first-family tasks, missing folders."""
    tasks, missing, spotted = [], [], {}
    for domain in [*args.domains, cases.OWN_DOMAIN]:
        folder = cases.domain_dir(root, domain)
        if folder is None:
            missing.append(domain)
            continue
        files = _spread(cases.domain_faces(folder, domain), args.max_faces)
        per_face = 0 if domain == cases.OWN_DOMAIN else (args.per_face if args.per_face is not None
                                                         else cases.PER_FACE.get(domain, 1))
        tasks += cases.face_tasks(domain, files, per_face, args.seed, cache, args.model, args.families)
        spotted[domain] = [] if domain == cases.OWN_DOMAIN else cases.spotted_faces(folder, domain)
    london = cases.domain_dir(root, cases.OWN_DOMAIN)
    today = []
    if london is not None:
        today = accuracy.phantom_plan(accuracy.split_faces(sorted(london.glob("*.jpg")), "test"),
                                      args.today_n, args.today_retest)
    return tasks, today, missing, spotted


def run(args, tasks, today, spotted) -> tuple:
    from joblib import Parallel, delayed

    jobs = [delayed(cases.run_face)(t) for t in tasks]
    jobs += [delayed(accuracy.run_phantom)(t, args.model) for t in today]
    jobs += [delayed(cases.score)(str(f), args.model) for files in spotted.values() for f in files]
    results = Parallel(n_jobs=args.jobs, backend="loky")(jobs) if args.jobs > 1 else [j[0](*j[1], **j[2]) for j in jobs]
    rows = pd.DataFrame([row for face in results[:len(tasks)] for row in face])
    today_rows = pd.DataFrame(results[len(tasks):len(tasks) + len(today)])
    names = [f"{d}/{f.stem}" for d, files in spotted.items() for f in files]
    spots = [(name, measured) for name, (measured, _) in zip(names, results[len(tasks) + len(today):])]
    return rows, today_rows, spots


def today_figures(frame: pd.DataFrame) -> dict:
    """accuracy.py's summary and retest on the first-family phantoms of the London TEST split."""
    from pigmentscan.colour import ita_category

    if not len(frame):
        return {"n": 0}
    errors = frame["error"].notna() if "error" in frame else pd.Series(False, index=frame.index)
    ok = frame[~errors].copy()
    ok["band"] = [ita_category(v) for v in ok["ita_deg"]]
    return {"n": len(ok), "errors": int(errors.sum()), **accuracy.summary(ok), "retest": accuracy.retest(ok)}


def print_report(args, rows, today_rows, spots, missing, cache) -> list:
    from pigmentscan import load_model

    held = [d for d in args.domains if d not in missing]
    kinds = {k: rows[rows["kind"] == k] if len(rows) else pd.DataFrame() for k in ("clean", "phantom")}
    flushes = rows[rows["kind"].str.startswith("flush_")] if len(rows) else pd.DataFrame()
    by = lambda frame, d: frame[frame["domain"] == d]  # noqa: E731
    out = [f"pigmentscan on held-out domains and a held-out phantom family (issue #34), model {load_model(args.model).label}",
           f"seed {args.seed}; photos cached in {cache}" + (f"; missing face folders: {', '.join(missing)}" if missing else ""),
           "HELD-OUT: " + ", ".join(held) + " faces; phantoms of pigmentscan.heldout_phantoms (third family). "
           "Never fitted or tuned on: tune NOTHING on these figures. The second family (pigmentscan.simulation) "
           "is development data since 2026-12-07.",
           f"OWN (the project's family): '{OWN_COLUMN}' = London TEST faces (benchmarks/accuracy.py's split); "
           "section 4 = its first-family phantoms (pigmentscan.phantom, the family the classifier was fitted on).",
           "Errors (status error) are counted with their reasons and left out of every median, percentile, agreement "
           "and difference; clean-face targets are judged on the scored (ok+warn) photos, 'ok above 3' on ok photos.", ""]
    columns = [*held, *(["all held-out"] if len(held) > 1 else []), OWN_COLUMN]

    def pick(frame, c):
        if c == "all held-out":
            return frame[frame["domain"].isin(held)] if len(frame) else frame
        return by(frame, cases.OWN_DOMAIN if c == OWN_COLUMN else c) if len(frame) else frame
    clean = {c: figs.clean_figures(pick(kinds["clean"], c)) for c in columns}
    out.append("1. CLEAN FACES (no phantom)")
    out += figs.table(clean, lambda f: [("photos", str(f["n"])), ("status ok / warn / error", f"{f['ok']} / {f['warn']} / {f['error']}"),
                                        ("MASI median (scored)", f2(f["median"])), ("MASI 90th percentile", f2(f["p90"])),
                                        ("MASI max", f2(f["max"])), ("ok photos above MASI 3", str(f["ok_above_3"])),
                                        ("warn photos above MASI 3", str(f["warn_above_3"]))])
    for c, f in ((c, f) for c, f in clean.items() if c != "all held-out"):
        out += [f"  {c}, ok above 3: " + ", ".join(f["above_3_faces"][:10]) if f["above_3_faces"] else f"  {c}: no ok photo above 3"]
        out += figs.reason_lines(f"{c} error reasons", f["errors"]) + figs.reason_lines(f"{c} warn reasons", f["warns"])
    if spots:
        out.append("  real spots or freckles, not counted: " + ", ".join(
            f"{name} {r.get('status')} {f2(r.get('masi', np.nan), 1)}" for name, r in spots))
    flush = {c: figs.flush_figures(pick(flushes, c)) for c in columns}
    out += ["", "2. FLUSHED CLEAN FACES (add_erythema diffuse + patchy per face, a* rise uniform 1.5-12, seeded)"]
    out += figs.table(flush, lambda f: [("photos", str(f["n"])), ("status ok / warn / error", f"{f['ok']} / {f['warn']} / {f['error']}"),
                                        ("MASI median (scored)", f2(f["median"])), ("MASI 90th percentile", f2(f["p90"])),
                                        ("MASI max", f2(f["max"])), ("median move from the clean photo", f2(f["median_move"]))])
    for c, f in ((c, f) for c, f in flush.items() if c != "all held-out"):
        out += figs.reason_lines(f"{c} error reasons", f["errors"]) + figs.reason_lines(f"{c} not generated", f["unmade"], 1)
    pf = {family: family_figures(kinds["phantom"], family, held) for family in args.families}
    for n, family in enumerate(args.families):
        out += ["", f"3{'abc'[n]}. {family_title(family)} against their truth; the tone columns pool both "
                "domains by the ITA of the face's clean photo: light > 41, interm./tan 10-41, brown/dark < 10; the "
                "pigment columns by the kind the phantom drew"]
        if family == "second":
            out += ["  confounder strengths (uniform, seeded): flush a* rise 1.5-12, diffuse or patchy; side light "
                    "0.3-2 EV; flash 0.25-1; warm 0.25-1 (towards 2856 K)"]
        if pf[family]:
            out += figs.table(pf[family], figs.phantom_rows)
            out += ["", "  area found / true area by the region's true darkness (median ratio, N regions with true area >= 2 %)"]
            out += figs.table(pf[family], figs.bin_rows)
            for name in held:
                if name in pf[family]:
                    st = pf[family][name]["status"]
                    out += figs.reason_lines(f"{name} phantom error reasons", st.get("errors", []))
                    out += figs.reason_lines(f"{name} phantoms not generated", st.get("unmade", []), 2)
    td = today_figures(today_rows)
    out += ["", "4. TODAY'S SPLIT: first family (pigmentscan.phantom) on London TEST faces = the PROJECT'S OWN family "
            "and studio; beside it each family on the held-out domains (pooled)"]
    side = {f"held-out domains, {family}": (pf[family].get("all held-out", pf[family].get(held[0]))
                                            if held and pf[family] else None) for family in args.families}
    side["own: London TEST, 1st family"] = td

    def today_rows_of(f):
        if f is None or not f.get("n"):
            return [(k, "n/a") for k in ("phantoms scored", "lesion Dice", "area-% MAE (points)", "MASI ICC(A,1)",
                                         "retest SDC95 MASI (pairs)")]
        icc = f["masi"]["icc2_1"] if isinstance(f.get("masi"), dict) else f["masi_icc"]
        rt = f["retest"]
        return [("phantoms scored", str(f["n"])), ("lesion Dice", f2(f["dice"])), ("area-% MAE (points)", f2(f["area_mae"], 1)),
                ("MASI ICC(A,1)", f2(icc, 3)), ("retest SDC95 MASI (pairs)", f"{f2(rt.get('sdc'))} ({rt.get('n', 0)})")]
    out += figs.table(side, today_rows_of, width=32)
    out += ["  (the first family's retest is its own reacquire drift, the others' their own retake: different models"
            f" of a second photo); first-family phantoms not scored: {td.get('errors', 0)}"]
    out += ["", "5. SUMMARY: targets of issue #34 on each held-out domain ('all' pools them); the own column is "
            "shown for reference, not judged"]
    for family in args.families:
        out += ["", f"  phantom targets on the {family_title(family)}"]
        out += summary_lines(clean, flush, pf[family], held, td, sections=("phantom",) if family != args.families[0]
                             else ("clean", "flush", "phantom"))
    return out


def family_title(family: str) -> str:
    spec = cases.FAMILIES[family]
    status = "HELD OUT, never fitted, tuned or looked into" if spec["held_out"] else \
        "development data since 2026-12-07 (looked into on London tune faces; docs/experiments.md)"
    return f"{family.upper()}-FAMILY PHANTOMS ({spec['module']}; {status})"


def family_figures(phantoms: pd.DataFrame, family: str, held: list) -> dict:
    """Phantom figures of one family by domain, pooled, by skin tone and by pigment kind."""
    phantoms = phantoms[phantoms["family"] == family] if len(phantoms) and "family" in phantoms else phantoms.iloc[0:0]
    groups = {d: phantoms[phantoms["domain"] == d] for d in held}
    if len(held) > 1:
        groups["all held-out"] = phantoms
    if len(phantoms):
        tones = phantoms["face_ita_deg"].map(figs.tone)
        groups.update({name: phantoms[tones == name] for name, *_ in figs.TONES if (tones == name).any()})
        if "param_pigment" in phantoms:
            kinds = phantoms["param_pigment"].dropna()
            groups.update({f"pigment {k}": phantoms[phantoms["param_pigment"] == k] for k in sorted(kinds.unique())})
    return {name: figs.phantom_figures(frame) for name, frame in groups.items() if len(frame)}


TARGETS = (  # label, section, figure getter, test (None: shown, not judged), wanted, getter of today's split
    ("clean MASI median", "clean", lambda f: f["median"], lambda v: v <= 0.5, "<= 0.5", None),
    ("clean MASI p90", "clean", lambda f: f["p90"], lambda v: v <= 2, "<= 2", None),
    ("clean ok photos above MASI 3", "clean", lambda f: f["ok_above_3"], lambda v: v == 0, "0", None),
    ("flushed clean MASI median", "flush", lambda f: f["median"], lambda v: v <= 0.5, "<= 0.5", None),
    ("flushed clean MASI p90", "flush", lambda f: f["p90"], lambda v: v <= 2, "<= 2", None),
    ("area found/true, >= 2 JND", "phantom", lambda f: f["ratio_2jnd"][0], lambda v: v >= 0.8, ">= 0.8", None),
    ("area found/true, 1.5-2 JND", "phantom", lambda f: f["ratio_15_2jnd"][0], lambda v: v >= 0.6, ">= 0.6", None),
    ("area found/true, true area >= 70 %", "phantom", lambda f: f["ratio_big"][0], lambda v: v >= 0.85, ">= 0.85", None),
    ("flush on phantoms, mean |dMASI|", "phantom", lambda f: f["flush"]["mean_abs"], lambda v: v < 0.5, "< 0.5", None),
    ("  (its signed mean dMASI)", "phantom", lambda f: f["flush"]["mean"], None, "", None),
    ("retest SDC95 MASI", "phantom", lambda f: f["retest"].get("sdc", np.nan), lambda v: v <= 1, "<= 1",
     lambda t: t["retest"].get("sdc", np.nan)),
    ("mirror: regions within 3 area points", "phantom", lambda f: f["mirror"].get("area_within3", np.nan),
     lambda v: v >= 1, "all", None),
    ("mirror: photos within 0.5 MASI", "phantom", lambda f: f["mirror"].get("masi_within05", np.nan),
     lambda v: v >= 1, "all", None),
    ("MASI ICC(A,1) against the truth", "phantom", lambda f: f["masi"].get("icc2_1", np.nan), None, "", lambda t: t["masi_icc"]),
)


def summary_lines(clean, flush, pf, held, today, sections=("clean", "flush", "phantom")) -> list:
    """Each target on each held-out domain (and pooled); the own London TEST column for reference, not judged
    (its phantom figures are the first family's, section 4)."""
    columns = [*held, *(["all held-out"] if len(held) > 1 else []), OWN_COLUMN]
    lines = [f"{'target':<38}{'wanted':>8}" + "".join(f"{c:>19}" for c in columns)]
    for label, section, get, test, wanted, get_today in (t for t in TARGETS if t[1] in sections):
        cells = []
        for c in columns:
            if c == OWN_COLUMN and section == "phantom":
                value = float(get_today(today)) if get_today is not None and today.get("n") else np.nan
            else:
                f = {"clean": clean, "flush": flush, "phantom": pf}[section].get(c)
                value = float(get(f)) if f is not None else np.nan
            shown = f"{100 * value:.0f} %" if wanted == "all" else (f"{value:.0f}" if wanted == "0" else f2(value))
            verdict = "" if test is None or c == OWN_COLUMN else (" met" if test(value) else " NOT met")
            cells.append("n/a" if not np.isfinite(value) else shown + verdict)
        lines.append(f"{label:<38}{wanted:>8}" + "".join(f"{c:>19}" for c in cells))
    return lines


def main(argv=None) -> int:
    args = parse(argv)
    start = time.time()
    root = cases.faces_root(args.faces)
    cache = args.cache
    tasks, today, missing, spotted = plan(args, root, cache)
    if not any(t["domain"] in args.domains for t in tasks):
        print(f"no held-out face folders under {root} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    rows, today_rows, spots = run(args, tasks, today, spotted)
    if args.csv:
        rows.to_csv(f"{args.csv}_domains.csv", index=False)
        today_rows.to_csv(f"{args.csv}_today.csv", index=False)
    print("\n".join(print_report(args, rows, today_rows, spots, missing, cache)))
    print(f"\nwall time {time.time() - start:.0f} s with {args.jobs} job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
