"""Speed and memory of scoring one photo, against OpenCV's decode of the same file.

For a 12 MP and a 24 MP JPEG (a real face from the London set placed in a large,
standardised-looking frame), prints in the same run:

- the median time OpenCV takes just to decode the file (``cv2.imread``, full size);
- the median time ``pigmentscan.score_image`` takes on the same path (decode included),
  the two called in turn so that the machine's load falls on both alike;
- their ratio (target: at most 2×), and the ratio of the fastest runs of each (less
  sensitive to other work on the machine);
- the peak resident memory of a fresh process that scores the photo once (target:
  under 1.5 GB for 24 MP), next to that of a process that only decodes it.

Usage::

    python benchmarks/speed.py [--face PATH] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SIZES = {"12 MP": (4000, 3000), "24 MP": (6000, 4000)}


def default_face() -> Path:
    root = Path(os.environ.get("PIGMENTSCAN_FACES", Path(__file__).resolve().parents[2] / "shared" / "faces" / "london"))
    return root / "038_03.jpg"


def make_photo(face: Path, size, out: Path) -> Path:
    """A landscape frame of ``size`` with the face photo scaled to 80 % of its height, centred."""
    width, height = size
    portrait = cv2.imread(str(face))
    scale = 0.8 * height / portrait.shape[0]
    portrait = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = portrait[5, 5]  # the studio background colour
    y0, x0 = (height - portrait.shape[0]) // 2, (width - portrait.shape[1]) // 2
    frame[y0 : y0 + portrait.shape[0], x0 : x0 + portrait.shape[1]] = portrait
    cv2.imwrite(str(out), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return out


def interleaved_times(functions, repeats: int) -> list[list[float]]:
    """Seconds of each call of each function, the functions called in turn ``repeats`` times.

    Taking turns, rather than timing one function's runs and then the other's, keeps a
    change in the machine's load (other work) from falling on one side of the ratio.
    """
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, spent in zip(functions, times):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return times


# VmHWM: peak resident memory of this process (ru_maxrss would carry over the parent's across exec).
_PEAK = "{body}; print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"


def peak_rss_mb(body: str) -> float:
    """Peak resident set size (MB) of a fresh Python process running ``body``."""
    out = subprocess.run([sys.executable, "-c", _PEAK.format(body=body)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--face", type=Path, default=default_face())
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import pigmentscan

    pigmentscan.score_image(str(args.face))  # load the model once, outside the timings
    print(f"face: {args.face.name}; median of {args.repeats} runs; CPU: {os.cpu_count()} cores")
    print(f"{'photo':>6} | {'decode s':>8} | {'score s':>8} | {'ratio':>5} | {'ratio of fastest':>16} | {'peak MB decode':>14} | {'peak MB score':>13} | MASI")
    with tempfile.TemporaryDirectory() as folder:
        for label, size in SIZES.items():
            path = make_photo(args.face, size, Path(folder) / f"{label.replace(' ', '')}.jpg")
            decodes, scores = interleaved_times([lambda: cv2.imread(str(path)), lambda: pigmentscan.score_image(str(path))],
                                                args.repeats)
            decode, score = statistics.median(decodes), statistics.median(scores)
            fastest = min(scores) / min(decodes)
            masi = pigmentscan.score_image(str(path)).masi
            mem_decode = peak_rss_mb(f"import cv2; cv2.imread({str(path)!r})")
            mem_score = peak_rss_mb(f"import pigmentscan; pigmentscan.score_image({str(path)!r})")
            print(f"{label:>6} | {decode:8.3f} | {score:8.3f} | {score / decode:5.2f} | {fastest:16.2f} | {mem_decode:14.0f} | {mem_score:13.0f} | {masi:.1f}")


if __name__ == "__main__":
    main()
