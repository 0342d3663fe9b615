"""The ``pigmentscan`` command line: a thin layer over the public API (CONTRACT.md).

Exit status: 0 when the command ran to the end (even if some photos were rejected:
they are rows with status ``error``); 2 on bad arguments; 1 when nothing could be
processed or an input file was unusable.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import PigmentScanError

__all__ = ["main", "build_parser"]


def _quiet_native_logs() -> None:
    # MediaPipe / TensorFlow Lite print to stderr from C++; keep the user's terminal clean.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


#: Worker processes of every command that scores photos, unless --jobs says otherwise: all cores.
DEFAULT_JOBS = os.cpu_count() or 1
_JOBS_HELP = f"worker processes (default: all cores, {DEFAULT_JOBS} here)"
#: One example per command, shown at the end of its --help.
EXAMPLES = {
    "score": "pigmentscan score photos/ --out scores.csv --overlays overlays/ --report report.html\n"
             "  pigmentscan score \"$(python -m pigmentscan.data)\" --out scores.csv   # the bundled sample photos",
    "batch": "pigmentscan batch trial/manifest.csv --out trial/out   # re-run it to resume",
    "calibrate": "pigmentscan calibrate site/manifest.csv --scores trial/out/scores.csv --out site_model.json",
    "validate": "pigmentscan validate trial/out/scores.csv --reference trial/manifest.csv --out validation/",
    "compare": "pigmentscan compare trial/out/scores.csv --retest retest/out/scores.csv --out changes/",
}


def _command(commands, name: str, help_text: str, description: str = ""):
    return commands.add_parser(name, help=help_text, description=description or help_text,
                               epilog=f"example:\n  {EXAMPLES[name]}", formatter_class=argparse.RawDescriptionHelpFormatter)


def _jobs(value: str) -> int:
    jobs = int(value)
    if jobs < 1:
        raise argparse.ArgumentTypeError("--jobs must be 1 or more")
    return jobs


def _write_scores(frame, out) -> None:
    from .dictionary import write_dictionary
    from .io import atomic_write_text

    atomic_write_text(out, frame.to_csv(index=False, lineterminator="\n"))
    write_dictionary(frame, out, "scores")


def _qc_limits(path: str):
    """``--qc-limits FILE.json`` -> QualityLimits (a bad file is a bad argument: exit 2)."""
    from .qc import load_quality_limits

    try:
        return load_quality_limits(path)
    except PigmentScanError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_qc_limits(command) -> None:
    command.add_argument("--qc-limits", type=_qc_limits, metavar="FILE.json",
                         help="quality-control limits: a JSON object of QualityLimits fields (others keep their defaults)")


def _cmd_score(args) -> int:
    from .io import find_images
    from .pipeline import score_images

    for option, path, kind in (("--out", args.out, "file"), ("--overlays", args.overlays, "folder"),
                               ("--report", args.report, "file")):
        if path and Path(path).exists() and Path(path).is_dir() != (kind == "folder"):
            print(f"pigmentscan score: {option} {path}: exists and is not a {kind}", file=sys.stderr)
            return 2
    images = find_images(args.paths)
    if not images:
        print(f"pigmentscan: no images (.jpg .jpeg .png .tif .tiff) found in {' '.join(args.paths)}", file=sys.stderr)
        return 1
    frame = score_images(images, model=args.model, jobs=args.jobs, overlay_dir=args.overlays, qc_limits=args.qc_limits,
                         progress=sys.stderr.isatty())
    try:
        _write_scores(frame, args.out)
    except OSError as error:
        print(f"pigmentscan score: {args.out}: cannot write the scores ({error.strerror or error})", file=sys.stderr)
        return 1
    counts = frame["status"].value_counts().to_dict()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "warn", "error"))
    print(f"scored {len(frame)} photo(s): {summary} -> {args.out}")
    if args.report:
        from .report import overlay_paths, scores_report

        overlays = overlay_paths(args.overlays, images) if args.overlays else None
        scores_report(frame, overlays=overlays).write(args.report)
        print(f"report -> {args.report}")
    for _, row in frame[frame["status"] == "error"].iterrows():
        print(f"  error: {row['image']}: {row['error']}", file=sys.stderr)
    return 1 if counts.get("error", 0) == len(frame) else 0


def _cmd_batch(args) -> int:
    from .batch import run_batch

    result = run_batch(args.manifest, args.out, model=args.model, jobs=args.jobs, scheduler=args.scheduler,
                       overlays=not args.no_overlays, qc_limits=args.qc_limits, maps=not args.no_maps,
                       progress=sys.stderr.isatty())
    print(f"batch: {result.n_processed} scored, {result.n_skipped} already scored (skipped), {result.n_errors} error(s) "
          f"in {result.elapsed_s:.1f} s -> {result.scores_path}")
    if result.n_errors:
        print(f"  error rows: see the 'status' and 'error' columns of {result.scores_path}", file=sys.stderr)
    return 0 if result.n_processed or result.n_skipped else 1


def _cmd_calibrate(args) -> int:
    from .calibration import calibrate_files

    if args.folds < 2:
        print("pigmentscan calibrate: --folds must be 2 or more", file=sys.stderr)
        return 2
    result = calibrate_files(args.manifest, args.out, scores_csv=args.scores, jobs=args.jobs, folds=args.folds)
    print(result.summary())
    return 0


def _cmd_validate(args) -> int:
    from .validation import validate_files

    table = validate_files(args.scores, args.reference, args.out, note=args.note,
                           reference_prefix=args.reference_prefix)
    print(f"agreement statistics: {len(table)} rows -> {Path(args.out) / 'report.html'}")
    return 0


def _cmd_compare(args) -> int:
    from .longitudinal import compare_files
    from .longitudinal.changes import sdc_mapping

    detect_by = None if args.detect_by is None else [m.strip() for m in args.detect_by.split(",") if m.strip()]
    try:
        comparison = compare_files(args.scores, args.out, sdc=args.sdc, panels=args.panels, retest=args.retest,
                                   detect_by=detect_by, maps=args.maps, model=args.model, identity=args.identity,
                                   progress=sys.stderr.isatty())
    except ValueError as error:  # --detect-by names a measure without an SDC
        print(f"pigmentscan compare: {error}", file=sys.stderr)
        return 2
    print(f"changes for {comparison.changes['subject'].nunique()} subject(s) -> {Path(args.out) / 'report.html'}")
    if comparison.sdc is not None:
        limits = sdc_mapping(comparison.sdc)
        print("smallest detectable change: " + ", ".join(f"{m} {v:.3g}" for m, v in limits.items())
              + f"; detected by {', '.join(comparison.detect_by)}; source: {comparison.sdc_source}")
    else:
        print(f"no noise judgement: smallest detectable change {comparison.sdc_source}")
    photos = comparison.photos
    if photos is not None and (~photos["used"]).any():
        print(f"  {int((~photos['used']).sum())} photo(s) not used (failed, or not the subject's face): see the "
              "report's 'Photos to check'", file=sys.stderr)
    return 0


def _sdc_argument(text: str):
    from .longitudinal.reliability import parse_sdc

    try:
        return parse_sdc(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pigmentscan`` command."""
    parser = argparse.ArgumentParser(prog="pigmentscan", description="Objective MASI from standardized face photos.")
    parser.add_argument("--version", action="version", version=f"pigmentscan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    score = _command(commands, "score", "score photos or folders of photos")
    score.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    score.add_argument("--out", required=True, help="scores CSV to write")
    score.add_argument("--overlays", metavar="DIR", help="write one overlay PNG per photo here")
    score.add_argument("--model", metavar="FILE", help="scoring model JSON (default: the shipped model)")
    score.add_argument("--jobs", type=_jobs, default=DEFAULT_JOBS, metavar="N", help=_JOBS_HELP)
    score.add_argument("--report", metavar="FILE.html",
                       help="also write an HTML page of the scores (with the overlays, when --overlays is given)")
    _add_qc_limits(score)
    score.set_defaults(run=_cmd_score)

    batch = _command(commands, "batch", "score every photo of a manifest, resumably")
    batch.add_argument("manifest", metavar="MANIFEST.csv")
    batch.add_argument("--out", required=True, metavar="DIR")
    batch.add_argument("--model", metavar="FILE")
    batch.add_argument("--jobs", type=_jobs, default=DEFAULT_JOBS, metavar="N", help=_JOBS_HELP)
    batch.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed scheduler, e.g. tcp://host:8786")
    batch.add_argument("--no-overlays", action="store_true", help="do not write overlays")
    batch.add_argument("--no-maps", action="store_true",
                       help="do not write DIR/maps/ (compare then has no lesion pigment change)")
    _add_qc_limits(batch)
    batch.set_defaults(run=_cmd_batch)

    calibrate = _command(commands, "calibrate", "fit the scorer to physician scores")
    calibrate.add_argument("manifest", metavar="MANIFEST.csv")
    calibrate.add_argument("--out", required=True, metavar="MODEL.json")
    calibrate.add_argument("--scores", metavar="SCORES.csv", help="reuse these scores instead of scoring the photos")
    calibrate.add_argument("--jobs", type=_jobs, default=DEFAULT_JOBS, metavar="N", help=_JOBS_HELP)
    calibrate.add_argument("--folds", type=int, default=5, metavar="K",
                           help="cross-validation folds, grouped by subject (default 5)")
    calibrate.set_defaults(run=_cmd_calibrate)

    validate = _command(commands, "validate", "agreement with physician scores",
                        "Agreement of the scores with a reference (physicians' scores in the manifest): ICC, CCC, "
                        "Bland-Altman, weighted kappa, as JSON, CSV, PNG and an HTML report. MANIFEST.csv needs "
                        "'image' and any of the reference columns (see --reference-prefix).")
    validate.add_argument("scores", metavar="SCORES.csv")
    validate.add_argument("--reference", required=True, metavar="MANIFEST.csv")
    validate.add_argument("--out", required=True, metavar="DIR")
    validate.add_argument("--note", help="a note shown at the top of the report")
    validate.add_argument("--reference-prefix", default="physician_", metavar="PREFIX",
                          help="prefix of the reference columns in MANIFEST.csv (default physician_): PREFIXmasi, "
                               "PREFIXmmasi, PREFIX<region>_area (0-6), PREFIX<region>_darkness (0-4), "
                               "PREFIX<region>_homogeneity (0-4), regions forehead, right_malar, left_malar, chin")
    validate.set_defaults(run=_cmd_validate)

    compare = _command(commands, "compare", "change across visits per subject",
                       "Change from baseline per subject, visit and arm; which changes exceed measurement noise; "
                       "photos that failed or show another face, marked with their reason (CSV, PNG, HTML).")
    compare.add_argument("scores", metavar="SCORES.csv")
    compare.add_argument("--out", required=True, metavar="DIR")
    compare.add_argument("--sdc", type=_sdc_argument, metavar="POINTS|M=V,...",
                         help="smallest detectable change to judge changes by: MASI points, or per measure "
                              "(masi=1.2,lesion_area_pct=2.5); overrides --retest's and the model's stored one "
                              "(without any, compare says there is no noise judgement)")
    compare.add_argument("--retest", metavar="RETEST_SCORES.csv",
                         help="scores of repeat photos of stable subjects: measure the smallest detectable changes "
                              "from them (written to DIR/sdc.csv)")
    compare.add_argument("--detect-by", metavar="MEASURE[,MEASURE]",
                         help="measures whose change beyond its SDC marks a visit improved or worsened "
                              "(default: lesion_pigment_pct, else lesion_area_pct, when it has an SDC, else all given)")
    compare.add_argument("--maps", action=argparse.BooleanOptionalAction, default=True,
                         help="measure the pigment left in each subject's baseline lesions (lesion_pigment_pct) "
                              "from the maps/ folder the batch wrote beside SCORES.csv and RETEST.csv, when there "
                              "(default: on)")
    compare.add_argument("--model", metavar="FILE",
                         help="scoring model whose stored smallest detectable change applies without --retest or "
                              "--sdc, and which the panels use (default: the shipped model)")
    compare.add_argument("--identity", action=argparse.BooleanOptionalAction, default=True,
                         help="check that each subject's photos show one face (face shape and skin tone); a photo "
                              "that does not match is flagged and not used (default: on)")
    compare.add_argument("--panels", action=argparse.BooleanOptionalAction, default=True,
                         help="before/after photo panels aligned on the baseline face (re-analyses the photos; "
                              "default: on)")
    compare.set_defaults(run=_cmd_compare)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    _quiet_native_logs()
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except PigmentScanError as error:
        print(f"pigmentscan {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"pigmentscan {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
