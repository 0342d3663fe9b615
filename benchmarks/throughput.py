"""Batch throughput: photos per second with 1 and 2 workers, and a re-run against the first run.

On the same set of real faces (``$PIGMENTSCAN_FACES`` or ``../shared/faces/london``), each in a
fresh output folder, ``pigmentscan.batch.run_batch`` with overlays (the command's default):

- ``jobs=1`` (scores in this process) and ``jobs=2`` (two loky worker processes; their start-up,
  about one MediaPipe import each, is included in the time), and the ratio of the rates;
- optionally (``--dask``) the same on a ``distributed.LocalCluster`` of 2 single-thread workers;
- the re-run of the finished ``jobs=2`` batch (everything skipped: hashing the photos, reading
  and rewriting scores.csv) against that batch's first run (target: under a third).

``--scale N [N ...]`` measures instead what a trial's size does to the process that runs the
batch (issue #36): a local Dask cluster (``dask scheduler`` and two single-thread ``dask
worker`` processes, started here) scores manifests of N real photos, copied under distinct
names; each manifest is run by a fresh client process, which reports photos/s and its peak
memory (peak resident set, and its growth over the process right before the batch starts).
The workers write the overlays and maps and only rows come back, so the client's peak should
not grow with N.

Wall-clock times on a shared machine vary with the load: the load average is printed beside them.

Usage::

    python benchmarks/throughput.py [--photos 24] [--dask]
    python benchmarks/throughput.py --scale 250 1000 2000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
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


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (``VmRSS``) or its peak (``VmHWM``), MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def client_run(manifest: str, out: str, scheduler: str) -> None:
    """One batch on the cluster, in this (fresh) process; prints its figures as JSON."""
    import pigmentscan.batch  # everything the batch imports, loaded before the baseline is taken

    before = _rss_mb()
    start = time.perf_counter()
    result = pigmentscan.batch.run_batch(manifest, out, scheduler=scheduler, progress=False)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "scored": result.n_processed, "errors": result.n_errors,
                      "rss_before_mb": before, "peak_mb": _rss_mb("VmHWM")}))


def _start_cluster(root: Path, workers: int = 2):
    """``dask scheduler`` and ``workers`` single-thread ``dask worker`` processes; (address, processes)."""
    env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="3")
    address_file = root / "scheduler.json"
    log = open(root / "cluster.log", "w")
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--no-dashboard",
                                   "--port", "0", "--scheduler-file", str(address_file)], env=env, stdout=log,
                                  stderr=log)]
    deadline = time.monotonic() + 60
    while not address_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(address_file.read_text())["address"]
    for _ in range(workers):
        processes.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                           "--nthreads", "1", "--no-dashboard"], env=env, stdout=log, stderr=log))
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, processes


def scale(sizes) -> int:
    """Photos/s and the client's peak memory for manifests of each size, on a local Dask cluster."""
    faces = sorted(faces_folder().glob("*.jpg"))
    if not faces:
        print(f"no photos in {faces_folder()}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        address, processes = _start_cluster(root)
        try:
            print(f"local Dask cluster: 2 single-thread workers ({os.cpu_count()} cores); {len(faces)} faces "
                  "copied under distinct names; overlays and maps written by the workers")
            print(f"{'photos':>7} {'seconds':>8} {'photos/s':>9} {'client peak MB':>15} {'growth MB':>10}  load")
            for size in sizes:
                folder = root / f"photos_{size}"
                folder.mkdir()
                rows = []
                for i in range(size):
                    name = f"{i:06d}_{faces[i % len(faces)].name}"
                    shutil.copyfile(faces[i % len(faces)], folder / name)
                    rows.append([name, f"S{i:06d}", "baseline"])
                manifest = folder / "manifest.csv"
                with open(manifest, "w", newline="") as handle:
                    csv.writer(handle).writerows([["image", "subject", "visit"], *rows])
                command = [sys.executable, __file__, "--client-run", str(manifest), str(root / f"out_{size}"), address]
                figures = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
                print(f"{size:>7} {figures['seconds']:>8.1f} {figures['scored'] / figures['seconds']:>9.2f} "
                      f"{figures['peak_mb']:>15.0f} {figures['peak_mb'] - figures['rss_before_mb']:>10.0f}  "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
                shutil.rmtree(folder)
                shutil.rmtree(root / f"out_{size}")
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--model", default=None, help="scoring model JSON (default: the shipped one)")
    parser.add_argument("--dask", action="store_true", help="also run on a local Dask cluster of 2 workers")
    parser.add_argument("--scale", type=int, nargs="+", metavar="N",
                        help="photos/s and the client's peak memory for manifests of N photos each (local Dask)")
    parser.add_argument("--client-run", nargs=3, metavar=("MANIFEST", "OUT", "SCHEDULER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client_run:
        client_run(*args.client_run)
        return 0
    if args.scale:
        return scale(args.scale)
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
