"""Screenshots of the score, compare and validate reports in headless Chromium, and their layout.

Builds the sample trial of tests/report_trial.py (the bundled sample photos, with a photo
without a face, a blurred photo and a baseline photo of another person), runs ``batch``,
``score --report``, ``compare`` and ``validate`` on it, and for each report writes

- ``<report>.png``: the first screen in a 1400 x 1000 window (what a reader sees first),
- ``<report>_page.png``: the page down to ``--height`` pixels,

and prints how wide each page lays out in a 1400 px window and how many tables are wider than
their box (both must be at most 1400 and 0).

Usage::

    python benchmarks/report_screenshots.py --out screenshots/   # needs chromium (apt-get install chromium)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from report_trial import chromium, page_layout, screenshot, write_trial  # noqa: E402

from pigmentscan.cli import main as pigmentscan  # noqa: E402


def build_reports(folder: Path) -> dict:
    """Run the commands on the sample trial; ``{name: report.html}``."""
    manifest = write_trial(folder / "photos")
    out = {name: folder / name for name in ("batch", "score", "compare", "validate")}
    pigmentscan(["batch", str(manifest), "--out", str(out["batch"]), "--jobs", "2"])
    scores = str(out["batch"] / "scores.csv")
    pigmentscan(["score", str(folder / "photos"), "--out", str(out["score"] / "scores.csv"), "--jobs", "2",
                 "--overlays", str(out["score"] / "overlays"), "--report", str(out["score"] / "report.html")])
    pigmentscan(["compare", scores, "--out", str(out["compare"])])
    pigmentscan(["validate", scores, "--reference", str(manifest), "--out", str(out["validate"]),
                 "--note", "Reference scores here are made up: this page shows the layout, not a validation."])
    return {name: out[name] / "report.html" for name in ("score", "compare", "validate")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--height", type=int, default=6000, help="height of the full-page screenshots (px)")
    args = parser.parse_args(argv)
    if chromium() is None:
        print("headless Chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    reports = build_reports(args.out / "trial")
    failed = False
    for name, page in reports.items():
        screenshot(page, args.out / f"{name}.png", width=1400, height=1000)
        screenshot(page, args.out / f"{name}_page.png", width=1400, height=args.height)
        width, overflowing = page_layout(page, width=1400)
        failed |= width > 1400 or overflowing > 0
        print(f"{name:9s} {page.stat().st_size / 1e6:5.2f} MB  lays out {width} px wide in 1400, "
              f"{overflowing} table(s) wider than their box -> {args.out / (name + '.png')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
