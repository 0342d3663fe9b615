"""Where the time of ``score_image`` goes, stage by stage (cProfile), on a 12 MP photo.

Makes the same 12 MP JPEG as benchmarks/speed.py (a London face in a large frame), scores
it once to load the model, then ``--repeats`` times under cProfile, and prints each
stage's cumulative time per photo and its share of the total, then the functions that
take the most time themselves. Profiling adds some overhead to every Python call: read
the shares, and time with speed.py.

Usage::

    python benchmarks/profile_stages.py [--face PATH] [--size 12|24] [--repeats 10] [--top 15]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import SIZES, default_face, make_photo  # noqa: E402

# (label, part of the module's path, function): the stages of pigmentscan.pipeline.score_image, in order.
STAGES = [
    ("decode (read_image)", "io/images.py", "read_image"),
    ("landmarks (detect_landmarks)", "landmarks.py", "detect_landmarks"),
    ("  of which FaceMesh", "solution_base.py", "process"),
    ("chart screen (may_show_chart)", "chart_screen.py", "may_show_chart"),
    ("chart search (cv2.mcc)", "~", "<method 'process' of 'cv2.mcc.CCheckerDetector' objects>"),
    ("crop to analysis scale", "crop.py", "crop_to_analysis"),
    ("lesion analysis (analyse_face)", "/lesions", "analyse_face"),  # lesions.py or a lesions package
    ("QC measures (measure_photo)", "qc/measures.py", "measure_photo"),
    ("QC checks (assess_quality)", "qc/checks.py", "assess_quality"),
    ("grading (grade_region, totals)", "scoring.py", "grade_region"),
]


def stage_times(stats: pstats.Stats) -> dict:
    """Cumulative seconds of each stage's function (summed over its calls)."""
    times = {}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for label, path_part, name in STAGES:
            if function == name and path_part in filename.replace("\\", "/"):
                times[label] = times.get(label, 0.0) + cumulative
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--face", type=Path, default=default_face())
    parser.add_argument("--size", choices=["12", "24"], default="12")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    import pigmentscan

    label = f"{args.size} MP"
    with tempfile.TemporaryDirectory() as folder:
        path = str(make_photo(args.face, SIZES[label], Path(folder) / "photo.jpg"))
        pigmentscan.score_image(path)  # load the model outside the profile
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeats):
            pigmentscan.score_image(path)
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt / args.repeats
    times = stage_times(stats)
    print(f"{label} photo from {args.face.name}; {args.repeats} runs under cProfile; {1000 * total:.0f} ms per photo")
    print(f"{'stage':<34} {'ms/photo':>9} {'share':>6}")
    for stage, _, _ in STAGES:
        seconds = times.get(stage, 0.0) / args.repeats
        print(f"{stage:<34} {1000 * seconds:9.1f} {100 * seconds / total:5.1f}%")
    accounted = sum(v for k, v in times.items() if not k.startswith("  ")) / args.repeats
    print(f"{'everything else':<34} {1000 * (total - accounted):9.1f} {100 * (total - accounted) / total:5.1f}%")
    print(f"\nthe {args.top} functions taking the most time themselves:")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
