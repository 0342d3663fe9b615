"""The ``pigmentscan`` command line: a thin layer over the public API (CONTRACT.md).

Exit status: 0 when the command ran to the end (even if some photos were rejected:
they are rows with status ``error``); 2 on bad arguments, an output path among them (checked
before any work by :func:`pigmentscan.io.check_outputs`); 1 when nothing could be processed,
an input file was unusable, or a batch's workers were lost. Every failure is one line on
stderr naming the file and the reason, never a traceback (``PIGMENTSCAN_DEBUG=1`` shows the
traceback of an unexpected error).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections import namedtuple
from pathlib import Path

from ._version import __version__
from .errors import OutputError, PigmentScanError

__all__ = ["main", "build_parser"]


def _quiet_native_logs() -> None:
    # MediaPipe / TensorFlow Lite print to stderr from C++; keep the user's terminal clean.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


#: Worker processes of every command that scores photos, unless --jobs says otherwise: all cores.
DEFAULT_JOBS = os.cpu_count() or 1
_JOBS_HELP = f"worker processes (default: all cores, {DEFAULT_JOBS} here; never more than the cores or the photos)"
#: One example per command, shown at the end of its --help.
EXAMPLES = {
    "score": "pigmentscan score photos/ --out scores.csv --overlays overlays/ --report report.html\n"
             "  pigmentscan score \"$(python -m pigmentscan.data)\" --out scores.csv   # the bundled sample photos",
    "batch": "pigmentscan batch trial/manifest.csv --out trial/out   # re-run it to resume",
    "calibrate": "pigmentscan calibrate site/manifest.csv --scores trial/out/scores.csv --out site_model.json",
    "validate": "pigmentscan validate trial/out/scores.csv --reference trial/manifest.csv --out validation/",
    "compare": "pigmentscan compare trial/out/scores.csv --retest retest/out/scores.csv --out changes/\n"
               "  pigmentscan compare trial/out/scores.csv --split-face --out changes/   # arms name the treated side",
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
    """The scores CSV (the one CSV writer) and its data dictionary beside it."""
    from .dictionary import write_dictionary
    from .io import write_table

    write_dictionary(frame, write_table(frame, out), "scores")


#: ``--qc-limits FILE.json`` as read: the file (an input to protect) and its limits.
LimitsFile = namedtuple("LimitsFile", "path limits")


def _qc_limits(path: str) -> LimitsFile:
    """``--qc-limits FILE.json`` -> LimitsFile (a bad file is a bad argument: exit 2)."""
    from .qc import load_quality_limits

    try:
        return LimitsFile(path, load_quality_limits(path))
    except PigmentScanError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _limits(args):
    return args.qc_limits.limits if args.qc_limits else None


def _outputs(files=(), folders=(), inputs=()):
    """The output-path guard, before any work (:func:`pigmentscan.io.check_outputs`), then, for the
    ``with`` block, the inputs protected from every write (:func:`pigmentscan.io.protect_inputs`)."""
    from .io import check_outputs, protect_inputs

    inputs = [path for path in inputs if path is not None]
    check_outputs(files, folders=folders, inputs=inputs)
    return protect_inputs(inputs)


def _argument_files(args) -> list:
    """The input files named by options common to several commands."""
    return [getattr(args, "model", None), args.qc_limits.path if getattr(args, "qc_limits", None) else None]


def _add_qc_limits(command) -> None:
    command.add_argument("--qc-limits", type=_qc_limits, metavar="FILE.json",
                         help="quality-control limits: a JSON object of QualityLimits fields (others keep their defaults)")


def _cmd_score(args) -> int:
    from .io import display_path, find_images, write_table
    from .pipeline import score_images
    from .overlay import overlay_paths

    images = find_images(args.paths)
    if not images:
        print(f"pigmentscan: no images (.jpg .jpeg .png .tif .tiff) found in {' '.join(args.paths)}", file=sys.stderr)
        return 1
    overlays = overlay_paths(args.overlays, images) if args.overlays else None
    files = [("--out", args.out), ("--report", args.report)]
    files += [(f"--overlays (the overlay of {display_path(image)})", path) for image, path in zip(images, overlays or ())]
    with _outputs(files, folders=[("--overlays", args.overlays)], inputs=images + _argument_files(args)):
        frame = score_images(images, model=args.model, jobs=args.jobs, overlay_dir=args.overlays,
                             qc_limits=_limits(args), progress=sys.stderr.isatty())
        try:
            _write_scores(frame, args.out)
        except OSError as error:
            print(f"pigmentscan score: {display_path(args.out)}: cannot write the scores ({error.strerror or error})",
                  file=sys.stderr)
            return 1
        counts = frame["status"].value_counts().to_dict()
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "warn", "error"))
        print(f"scored {len(frame)} photo(s): {summary} -> {display_path(args.out)}")
        if args.report:
            from .report import scores_report

            scores_report(frame, overlays=overlays).write(args.report)
            print(f"report -> {display_path(args.report)}")
    for _, row in frame[frame["status"] == "error"].iterrows():
        print(f"  error: {row['image']}: {row['error']}", file=sys.stderr)
    return 1 if counts.get("error", 0) == len(frame) else 0


def _cmd_batch(args) -> int:
    from .batch import run_batch

    with _outputs(folders=[("--out", args.out)], inputs=[args.manifest, *_argument_files(args)]):
        result = run_batch(args.manifest, args.out, model=args.model, jobs=args.jobs, scheduler=args.scheduler,
                           overlays=not args.no_overlays, qc_limits=_limits(args), maps=not args.no_maps,
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
    with _outputs([("--out", args.out)], inputs=[args.manifest, args.scores]):
        result = calibrate_files(args.manifest, args.out, scores_csv=args.scores, jobs=args.jobs, folds=args.folds)
    print(result.summary())
    return 0


def _cmd_validate(args) -> int:
    from .validation import validate_files

    with _outputs(folders=[("--out", args.out)], inputs=[args.scores, args.reference]):
        table = validate_files(args.scores, args.reference, args.out, note=args.note,
                               reference_prefix=args.reference_prefix)
    print(f"agreement statistics: {len(table)} rows -> {Path(args.out) / 'report.html'}")
    return 0


def _cmd_compare(args) -> int:
    from .longitudinal import compare_files, sdc_mapping

    if args.treated_side and not args.split_face:
        print("pigmentscan compare: --treated-side needs --split-face", file=sys.stderr)
        return 2
    detect_by = None if args.detect_by is None else [m.strip() for m in args.detect_by.split(",") if m.strip()]
    try:
        with _outputs(folders=[("--out", args.out)], inputs=[args.scores, args.retest]):
            comparison = compare_files(args.scores, args.out, sdc=args.sdc, panels=args.panels, retest=args.retest,
                                       detect_by=detect_by, maps=args.maps, model=args.model, identity=args.identity,
                                       progress=sys.stderr.isatty(), split_face=args.split_face,
                                       treated_side=args.treated_side)
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
    from .longitudinal import parse_sdc

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
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask distributed scheduler, e.g. tcp://host:8786 (workers must see the photos and --out "
                            "at the same paths: they write the overlays and maps)")
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
    compare.add_argument("--split-face", action="store_true",
                         help="split-face trial: each side's hemi-face MASI change from baseline and the difference "
                              "between the sides (right - left; treated - untreated when the treated side is known), "
                              "in changes.csv, summary.csv, split_face.csv and the report")
    compare.add_argument("--treated-side", choices=("right", "left"),
                         help="with --split-face: the patient's side treated in every subject (default: each "
                              "subject's arm when it names one side, e.g. 'right' or 'TXA left')")
    compare.set_defaults(run=_cmd_compare)
    return parser


def _printable_streams() -> None:
    """A file name that is not UTF-8 (``caf\\xe9.jpg``) is printed with ``\\xe9``, never a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    _quiet_native_logs()
    _printable_streams()
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except OutputError as error:  # an output path is a bad argument, found before any work
        print(f"pigmentscan {args.command}: {error}", file=sys.stderr)
        return 2
    except PigmentScanError as error:
        print(f"pigmentscan {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"pigmentscan {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - a bug: one line, not a traceback (unless asked for)
        if os.environ.get("PIGMENTSCAN_DEBUG"):
            raise
        print(f"pigmentscan {args.command}: unexpected error ({type(error).__name__}: {error}); please report it "
              "(PIGMENTSCAN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
