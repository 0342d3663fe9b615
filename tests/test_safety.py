"""What pigmentscan promises about its outputs and its workers (issue #36), each test named after it.

The hostile inputs themselves are in test_hostile.py; these check behaviour across runs (stale
overlays, trial metadata, number formats), the bounds on workers, and a cluster that loses its
workers. All on the shipped sample images: no ../shared needed.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import pigmentscan
import pigmentscan.parallel
from pigmentscan.batch import SHA_COLUMN, run_batch
from pigmentscan.cli import main
from pigmentscan.errors import OutputError
from pigmentscan.face_maps import maps_path
from pigmentscan.io import read_npz, read_scores, write_table
from pigmentscan.parallel import bounded, worker_count

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
PHOTOS = ("grace_hopper.jpg", "astronaut_eileen_collins.png", "grace_hopper_phantom.png",
          "astronaut_eileen_collins_phantom.png")


def study(folder: Path, names=PHOTOS, columns=("subject", "visit", "arm", "date"), extra_rows=()) -> Path:
    """Sample photos copied into ``folder`` and a manifest of them (relative paths), one subject each."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, name in enumerate(names):
        shutil.copy(SAMPLES / name, folder / name)
        values = {"subject": f"S{i}", "visit": "baseline", "arm": "AB"[i % 2], "date": "2024-01-15"}
        rows.append([name] + [values[c] for c in columns])
    with open(folder / "manifest.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["image", *columns], *rows, *extra_rows])
    return folder / "manifest.csv"


# --------------------------------------------------------------------------- defect 1: --jobs


def test_jobs_are_capped_at_the_cores_and_the_photos(tmp_path, monkeypatch):
    monkeypatch.setattr(pigmentscan.parallel, "available_cores", lambda: 2)
    assert worker_count(1000, 3) == 2 and worker_count(1000, 1) == 1 and worker_count(None, 50) == 2
    with pytest.raises(ValueError):
        worker_count(0, 3)
    monkeypatch.setattr(pigmentscan.parallel, "available_cores", lambda: 64)
    assert worker_count(1000, 3) == 3

    started = []

    class Sequential:  # joblib.Parallel that records its workers and starts none
        def __init__(self, n_jobs, **kwargs):
            started.append(n_jobs)

        def __call__(self, calls):
            return [function(*args, **kwargs) for function, args, kwargs in calls]

    monkeypatch.setattr("joblib.Parallel", Sequential)
    photos = [SAMPLES / name for name in PHOTOS[:3]]
    table = pigmentscan.score_images(photos, jobs=1000)
    assert started == [3] and len(table) == 3

    class InProcess:  # loky's executor that records its workers and runs each task at once
        def __init__(self, max_workers, **kwargs):
            started.append(max_workers)

        def submit(self, function, *args):
            future = Future()
            future.set_result(function(*args))
            return future

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr("joblib.externals.loky.ProcessPoolExecutor", InProcess)
    result = run_batch(study(tmp_path / "s", PHOTOS[:2]), tmp_path / "out", jobs=1000, progress=False, overlays=False,
                       maps=False)
    assert started[-1] == 2 and result.n_processed == 2


def test_a_bounded_number_of_tasks_is_in_flight():
    in_flight, most = set(), []

    def submit(task):
        future = Future()
        in_flight.add(future)
        most.append(len(in_flight))
        future.set_result(task)
        return future

    def wait_any(futures):
        done = {futures[0]}
        in_flight.difference_update(done)
        return done

    assert sorted(f.result() for _, f in bounded(range(100), submit, wait_any, 3)) == list(range(100))
    assert max(most) == 3


# --------------------------------------------------------------------------- defects 2 and 3: overlays


def test_an_overlay_never_replaces_an_input_photo(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    shutil.copy(SAMPLES / "astronaut_eileen_collins.png", folder / "a.png")
    before = (folder / "a.png").read_bytes()
    with pytest.raises(OutputError, match="would replace the input"):
        pigmentscan.score_images([folder / "a.png"], overlay_dir=folder)
    manifest = study(tmp_path / "batch" / "overlays", PHOTOS[1:2])  # photos inside DIR/overlays
    with pytest.raises(OutputError, match="would replace the input"):
        run_batch(manifest, tmp_path / "batch", jobs=1, progress=False)
    assert (folder / "a.png").read_bytes() == before
    assert (tmp_path / "batch" / "overlays" / PHOTOS[1]).read_bytes() == (SAMPLES / PHOTOS[1]).read_bytes()


def test_a_report_never_shows_another_photos_overlay(tmp_path):
    photos, overlays = tmp_path / "p", tmp_path / "ov"
    photos.mkdir()
    shutil.copy(SAMPLES / "grace_hopper.jpg", photos / "S01.jpg")
    assert main(["score", str(photos), "--out", str(tmp_path / "a.csv"), "--overlays", str(overlays)]) == 0
    assert (overlays / "S01.png").is_file()  # patient A's overlay, from an earlier run
    other = tmp_path / "q"
    other.mkdir()
    (other / "S01.jpg").write_bytes(b"\xff\xd8\xff\xe0 patient B, a photo that cannot be read")
    shutil.copy(SAMPLES / "astronaut_eileen_collins.png", other / "S02.png")
    assert main(["score", str(other), "--out", str(tmp_path / "b.csv"), "--overlays", str(overlays),
                 "--report", str(tmp_path / "b.html")]) == 0
    page = (tmp_path / "b.html").read_text()
    assert page.count("data:image/jpeg;base64,") == 1 and "S02.png: MASI" in page and "S01.jpg: MASI" not in page
    assert not (overlays / "S01.png").exists()  # removed, not left to pass for patient B's


# --------------------------------------------------------------------------- defect 4: stale trial metadata


def test_a_rerun_with_a_blinded_manifest_leaves_no_arm_in_the_scores(tmp_path):
    manifest = study(tmp_path / "s", PHOTOS[:2])
    run_batch(manifest, tmp_path / "out", jobs=1, progress=False)
    assert set(read_scores(tmp_path / "out" / "scores.csv")["arm"]) == {"A", "B"}
    study(tmp_path / "s", PHOTOS[:2], columns=("subject", "visit"))  # the blinded manifest
    again = run_batch(manifest, tmp_path / "out", jobs=1, progress=False)
    assert again.n_skipped == 2  # the rows are reused...
    text = (tmp_path / "out" / "scores.csv").read_text()
    header = text.splitlines()[0].split(",")
    assert "arm" not in header and "date" not in header and "2024-01-15" not in text  # ...without the arm


# --------------------------------------------------------------------------- defect 11: modes, links, maps


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_follow_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        assert main(["score", str(SAMPLES / "grace_hopper.jpg"), "--out", str(tmp_path / "s.csv"),
                     "--overlays", str(tmp_path / "ov"), "--report", str(tmp_path / "r.html")]) == 0
        run_batch(study(tmp_path / "b", PHOTOS[:1]), tmp_path / "out", jobs=1, progress=False)
    finally:
        os.umask(previous)
    written = [tmp_path / "s.csv", tmp_path / "r.html", tmp_path / "ov" / "grace_hopper.png",
               tmp_path / "out" / "scores.csv", *(tmp_path / "out" / "maps").iterdir(),
               *(tmp_path / "out" / "overlays").iterdir()]
    assert len(written) == 6
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_maps_store_the_manifest_path_and_hash_never_the_absolute_path(tmp_path):
    private = tmp_path / "Jane Doe, DOB 1970-01-01"
    manifest = study(private, PHOTOS[:1])
    run_batch(manifest, tmp_path / "out", jobs=1, progress=False, overlays=False)
    sha = read_scores(tmp_path / "out" / "scores.csv")[SHA_COLUMN][0]
    arrays = read_npz(maps_path(tmp_path / "out" / "maps", sha))
    assert str(arrays["source"]) == PHOTOS[0] and str(arrays["image_sha256"]) == sha
    texts = [str(a) for a in arrays.values() if a.dtype.kind == "U"]
    assert not any("Jane" in text for text in texts)


# --------------------------------------------------------------------------- defect 10: the CSV stance


def test_every_csv_cell_a_spreadsheet_would_run_is_escaped_and_read_back(tmp_path):
    import pandas as pd

    hostile = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=x", "'=x", "-7", "+0.5", "1e5", "plain", "-inf"]
    path = write_table(pd.DataFrame({"image": hostile, "status": "ok"}), tmp_path / "t.csv")
    cells = [row[0] for row in csv.reader(path.read_text().splitlines())][1:]
    for cell, value in zip(cells, hostile):
        runs = cell[:1] in ("=", "+", "-", "@", "\t") and not re.fullmatch(r"[+-]?[\d.]+(e\d+)?", cell)
        assert not runs, cell
    assert cells[hostile.index("-7")] == "-7" and cells[hostile.index("plain")] == "plain"  # numbers, text untouched
    assert read_scores(path)["image"].tolist() == hostile


# --------------------------------------------------------------------------- defect 12: cluster faults and scale


class FakeFuture:
    """The part of a ``distributed.Future`` a batch uses."""

    def __init__(self, cluster, inner=None, value=None, error=None, counted=True):
        self.cluster, self.inner, self.value, self.error, self.counted = cluster, inner, value, error, counted

    @property
    def status(self):
        if self.error is not None:
            return "cancelled"
        if self.inner is None:
            return "finished"
        return ("error" if self.inner.exception() else "finished") if self.inner.done() else "pending"

    def add_done_callback(self, function):
        if self.inner is None:
            threading.Thread(target=function, args=(self,)).start()  # from another thread, as Dask does
        else:
            self.inner.add_done_callback(lambda _: function(self))

    def result(self):
        if self.error is not None:
            raise self.error
        if self.inner is None:
            return self.value
        value = self.inner.result()
        self.cluster.results.append(value)
        return value

    def release(self):
        if self.counted:
            with self.cluster.lock:
                self.cluster.in_flight -= 1


class FakeCluster:
    """A stand-in for ``distributed.Client``: one worker thread; after ``lose_after`` tasks, every worker is lost
    (each later task is cancelled, as when the scheduler forgets tasks whose workers died)."""

    def __init__(self, lose_after=None):
        self.pool, self.lose_after, self.lock = ThreadPoolExecutor(1), lose_after, threading.Lock()
        self.submitted, self.in_flight, self.most_in_flight, self.results = 0, 0, 0, []

    def submit(self, function, *args, key=None, pure=None, retries=None):
        if key is not None and key.startswith("pigmentscan-model"):
            return FakeFuture(self, value=args[0], counted=False)
        with self.lock:
            self.submitted += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.lose_after is not None and self.submitted > self.lose_after:
            return FakeFuture(self, error=CancelledError("cancelled for reason: already forgotten"))
        args = [a.result() if isinstance(a, FakeFuture) else a for a in args]
        return FakeFuture(self, inner=self.pool.submit(function, *args))

    def nthreads(self):
        return {"tcp://fake:1": 1}

    def cancel(self, futures):
        pass


def test_lost_workers_are_never_a_photos_error_row_and_a_rerun_scores_them(tmp_path, monkeypatch, capsys):
    manifest = study(tmp_path / "s")
    out = tmp_path / "out"
    cluster = FakeCluster(lose_after=1)
    monkeypatch.setattr("pigmentscan.batch.workers.connect", lambda scheduler: (cluster, False))
    assert main(["batch", str(manifest), "--out", str(out), "--scheduler", "tcp://fake:8786"]) == 1
    err = capsys.readouterr().err
    assert "3 of 4 photo(s) not scored" in err and "CancelledError" in err and "run the same command again" in err
    assert "Traceback" not in err
    journal = read_scores(out / "scores.csv")
    assert len(journal) == 1 and (journal["status"] != "error").all()  # no error row for the lost photos
    again = run_batch(manifest, out, jobs=1, progress=False)
    assert (again.n_skipped, again.n_processed, again.n_errors) == (1, 3, 0)


def test_only_rows_travel_back_and_few_tasks_are_in_flight_on_a_cluster(tmp_path):
    cluster = FakeCluster()
    result = run_batch(study(tmp_path / "s"), tmp_path / "out", scheduler=cluster, progress=False)
    assert result.n_processed == 4 and cluster.most_in_flight <= 2  # two per worker thread
    assert len(list((tmp_path / "out" / "overlays").iterdir())) == 4  # written by the worker...
    assert len(list((tmp_path / "out" / "maps").iterdir())) == 4
    for value in cluster.results:  # ...so only rows come back
        assert set(value) == {"index", "row"}
        assert not any(isinstance(v, (bytes, np.ndarray)) for v in value["row"].values())


def test_whole_numbers_are_written_alike_by_reused_and_new_rows(tmp_path):
    missing = [["missing.jpg", "S9", "baseline"]]  # an error row: empty cells in every score column
    manifest = study(tmp_path / "s", PHOTOS[:1], columns=("subject", "visit"), extra_rows=missing)
    run_batch(manifest, tmp_path / "out", jobs=1, progress=False, overlays=False, maps=False)
    study(tmp_path / "s", PHOTOS[:2], columns=("subject", "visit"), extra_rows=missing)  # one photo more
    again = run_batch(manifest, tmp_path / "out", jobs=1, progress=False, overlays=False, maps=False)
    assert (again.n_skipped, again.n_processed) == (1, 1)
    with open(tmp_path / "out" / "scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    whole = [c for c in rows[0] if c.endswith(("_area_score", "_darkness", "_homogeneity")) or c == "qc_n_faces"]
    assert len(whole) == 13 + 12  # the regions' grades and qc_n_faces; the split-face halves' grades (4 x 3)
    for row in rows[:2]:  # the reused row and the new one
        for column in whole:
            assert re.fullmatch(r"\d+", row[column]), (column, row[column])
