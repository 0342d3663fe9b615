"""A small trial made of the bundled sample photos, with the three problems a report must show, and
headless Chromium to look at the reports (tests/test_compare_report.py, benchmarks/report_screenshots.py).

Subjects (visits baseline, week 4, week 8, week 12, 28 days apart):

- ``G`` (arm A): Grace Hopper with simulated melasma, fading; week 8 is **blurred** (QC warning);
- ``E`` (arm B): Eileen Collins, fading; week 8 is a photo of a wall: **no face**;
- ``X`` (arm A): Grace Hopper, but the baseline photo is Eileen Collins: a **swapped face**.

The manifest also carries physician-like reference scores (made up, for ``validate``'s layout only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

from pigmentscan.data import sample_images

VISITS = (("baseline", "2024-01-01"), ("week 4", "2024-01-29"), ("week 8", "2024-02-26"), ("week 12", "2024-03-25"))
#: The photos with a problem: file name -> what the report must say about it.
PROBLEMS = {"g_week8_blurred.jpg": "photo soft", "e_week8_wall.jpg": "no face found",
            "x_baseline_swapped.png": "does not match the subject's other photos"}


def write_trial(folder) -> Path:
    """Write the photos and ``manifest.csv`` into ``folder``; returns the manifest's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    read = {p.stem: cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sample_images()}
    grace, grace_p = read["grace_hopper"], read["grace_hopper_phantom"]
    eileen, eileen_p = read["astronaut_eileen_collins"], read["astronaut_eileen_collins_phantom"]
    photos = {
        "G": ("A", [("g_baseline.png", grace_p), ("g_week4.png", grace_p),
                    ("g_week8_blurred.jpg", cv2.GaussianBlur(grace, (0, 0), 4)), ("g_week12.png", grace)]),
        "E": ("B", [("e_baseline.png", eileen_p), ("e_week4.png", eileen),
                    ("e_week8_wall.jpg", np.full((500, 400, 3), 170, np.uint8)), ("e_week12.png", eileen)]),
        "X": ("A", [("x_baseline_swapped.png", eileen_p), ("x_week4.png", grace_p), ("x_week8.png", grace),
                    ("x_week12.png", grace)]),
    }
    lines = ["image,subject,visit,date,arm,physician_masi,physician_mmasi"]
    for subject, (arm, files) in photos.items():
        for i, ((name, picture), (visit, date)) in enumerate(zip(files, VISITS)):
            cv2.imwrite(str(folder / name), picture)
            lines.append(f"{name},{subject},{visit},{date},{arm},{12 - 3 * i + len(subject)},{6 - 1.5 * i}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def chromium() -> str | None:
    """The headless Chromium to use, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(args, width: int, height: int, timeout: float = 120):
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        return subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--window-size={width},{height}", *args],
            capture_output=True, text=True, timeout=timeout, env=dict(os.environ, LC_ALL="C"))
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(page, png, *, width: int = 1400, height: int = 1000) -> Path:
    """A screenshot of ``page`` (an HTML file) in a ``width`` x ``height`` window."""
    _run_chromium([f"--screenshot={png}", Path(page).resolve().as_uri()], width, height)
    return Path(png)


_PROBE = """<script>
var boxes = Array.from(document.querySelectorAll('.wide')).filter(function (b) {
  return !b.closest('details') && b.scrollWidth > b.clientWidth + 1; });
document.title = 'W' + document.documentElement.scrollWidth + ':' + boxes.length + 'W';
</script></body>"""


def page_layout(page, *, width: int = 1400) -> tuple[int, int]:
    """How ``page`` lays out in a ``width`` px window: the document's width
    (``scrollWidth``), and how many tables (outside folded sections) are wider than their box.

    The reports carry no script; a copy with a few lines of script that write both into the
    title is laid out instead, and Chromium prints its DOM.
    """
    page = Path(page)
    probe = page.with_name(f".{page.stem}.layout.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE), encoding="utf-8")
    try:
        dom = _run_chromium(["--dump-dom", probe.resolve().as_uri()], width, 1000).stdout
    finally:
        probe.unlink()
    start = dom.index("<title>W") + len("<title>W")
    document, boxes = dom[start:dom.index("W</title>")].split(":")
    return int(document), int(boxes)
