"""Batch throughput: photos per second with 1 and 2 workers, and a re-run against the first run.

On the same set of real faces (``$PIGMENTSCAN_FACES`` or ``../shared/faces/london``), each in a
fresh output folder, ``pigmentscan.batch.run_batch`` with overlays (the command's default):

- ``jobs=1`` (scores in this process) and ``jobs=2`` (two loky worker processes; their start-up,
  about one MediaPipe import each, is included in the time), and the ratio of the rates;
- optionally (``--dask``) the same on a ``distributed.LocalCluster`` of 2 single-thread workers;
- the re-run of the finished ``jobs=2`` batch (everything skipped: hashing the photos, reading
  and rewriting scores.csv) against that batch's first run (target: under a third).

Wall-clock times on a shared machine vary with the load: the load average is printed beside them.

Usage::

    python benchmarks/throughput.py [--photos 24] [--dask]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path


def faces_folder() -> Path:
    return Path(os.environ.get("PIGMENTSCAN_FACES", Path(__file__).resolve().parents[2] / "shared" / "faces" / "london"))


def timed_batch(manifest, out, **options):
    from pigmentscan.batch import run_batch

    start = time.perf_counter()
    result = run_batch(manifest, out, progress=False, **options)
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    parser.add_argument("--dask", action="store_true", help="also run on a local Dask cluster of 2 workers")
    args = parser.parse_args(argv)
    photos = sorted(faces_folder().glob("*.jpg"))[: args.photos]
    if len(photos) < args.photos:
        print(f"need {args.photos} photos in {faces_folder()}", file=sys.stderr)
        return 1
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        manifest = root / "manifest.csv"
        with open(manifest, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["image", "subject", "visit"])
            writer.writerows([str(p), p.stem[:3], "baseline"] for p in photos)
        n = len(photos)
        print(f"{n} photos (1350 x 1350 JPEG), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        rates = {}
        for jobs in (1, 2):
            seconds, result = timed_batch(manifest, root / f"jobs{jobs}", jobs=jobs, model=args.model)
            rates[jobs] = result.n_processed / seconds
            print(f"jobs={jobs}: {seconds:6.1f} s, {rates[jobs]:.2f} photos/s ({result.n_processed} scored, "
                  f"{result.n_errors} errors); load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")
        first = n / rates[2]
        again, result = timed_batch(manifest, root / "jobs2", jobs=2, model=args.model)
        print(f"re-run of the finished jobs=2 batch: {again:.2f} s ({result.n_skipped} skipped) = "
              f"{again / first:.1%} of the first run ({first:.1f} s)")
        if args.dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                seconds, result = timed_batch(manifest, root / "dask", scheduler=cluster.scheduler_address,
                                              model=args.model)
            print(f"dask LocalCluster, 2 workers: {seconds:.1f} s, {result.n_processed / seconds:.2f} photos/s "
                  "(cluster start-up not included, worker imports included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
