"""Resumable batch scoring (pigmentscan.batch) on real faces: kill and resume, error rows, Dask."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pigmentscan.batch import (
    LIMITS_COLUMN,
    SHA_COLUMN,
    file_sha256,
    read_journal,
    run_batch,
)
from pigmentscan.batch.journal import exclusive_folder
from pigmentscan.errors import PigmentScanError
from pigmentscan.io import read_scores
from pigmentscan.pipeline import SCORE_COLUMNS
from pigmentscan.qc import load_quality_limits
from pigmentscan.scoring import load_model

REPO = Path(__file__).resolve().parents[1]
N_FACES = 10
SCORE_VALUES = ["masi", "mmasi"] + [c for c in SCORE_COLUMNS if c.endswith(("_area_pct", "_darkness"))]


def write_manifest(folder: Path, faces, extra_rows=()) -> Path:
    """Manifest with relative paths (photos copied beside it), two visits per subject."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, face in enumerate(faces):
        shutil.copy(face, folder / face.name)
        rows.append([face.name, f"S{i // 2:02d}", ("baseline", "week 12")[i % 2], f"2024-0{1 + 2 * (i % 2)}-15",
                     ("A", "B")[i // 2 % 2]])
    rows += list(extra_rows)
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "subject", "visit", "date", "arm"])
        writer.writerows(rows)
    return folder / "manifest.csv"


@pytest.fixture(scope="module")
def faces(faces_dir):
    files = sorted(faces_dir.glob("*.jpg"))[1::6][:N_FACES]
    assert len(files) == N_FACES
    return files


@pytest.fixture(scope="module")
def study(tmp_path_factory, faces) -> Path:
    """Ten real faces, a corrupt photo, a missing photo and an empty image cell."""
    folder = tmp_path_factory.mktemp("study")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    bad = [["corrupt.jpg", "S90", "baseline", "", ""], ["missing.jpg", "S91", "baseline", "", ""],
           ["", "S92", "baseline", "", ""]]
    return write_manifest(folder, faces, bad)


@pytest.fixture(scope="module")
def full_run(study, tmp_path_factory):
    """One uninterrupted run (the reference for speed and for the rows)."""
    out = tmp_path_factory.mktemp("full")
    result = run_batch(study, out, jobs=2, progress=False)
    return result, read_scores(result.scores_path)


def test_one_row_per_manifest_row_in_order_with_identity_and_errors(study, full_run, faces):
    result, scores = full_run
    manifest = pd.read_csv(study, keep_default_na=False, dtype=str)
    assert len(scores) == len(manifest) == N_FACES + 3
    assert list(scores.columns[: len(SCORE_COLUMNS)]) == SCORE_COLUMNS
    assert [Path(p).name for p in scores["image"][:N_FACES]] == [f.name for f in faces]
    for column in ("subject", "visit", "date", "arm"):
        assert scores[column].tolist() == manifest[column].tolist(), column
    errors = scores.set_index("subject").loc[["S90", "S91", "S92"]]
    assert (errors["status"] == "error").all()
    assert "not a JPEG" in errors.loc["S90", "error"] or "truncated" in errors.loc["S90", "error"]
    assert "no such file" in errors.loc["S91", "error"]
    assert "empty image cell" in errors.loc["S92", "error"]
    good = scores[:N_FACES]
    assert good["status"].isin(["ok", "warn"]).all(), good[["image", "error"]]
    assert good["model"].str.startswith("default@").all()
    assert (good[SHA_COLUMN] == [file_sha256(study.parent / f.name) for f in faces]).all()
    assert not good["chart_used"].astype(str).eq("True").any()
    assert (result.n_processed, result.n_skipped, result.n_errors) == (N_FACES, 0, 3)
    overlays = sorted(p.stem for p in (result.scores_path.parent / "overlays").glob("*.png"))
    assert overlays == sorted(f.stem for f in faces)


def scored_rows(journal) -> list[dict]:
    return [row for row in read_journal(journal) if row["status"] in ("ok", "warn")]


def test_killed_run_resumes_every_photo_once_and_rerun_scores_nothing(study, full_run, tmp_path):
    # How much faster a resumed or finished batch runs is measured by benchmarks/throughput.py;
    # here, what makes it fast: only the missing photos are scored again.
    _, reference_scores = full_run
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pigmentscan.cli", "batch", str(study), "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = out / "scores.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(scored_rows(journal)) >= N_FACES // 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, "the batch finished before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode in (130, -signal.SIGTERM)
    table = pd.read_csv(journal, keep_default_na=False, dtype=str)
    assert len(read_journal(journal)) == len(table)  # a valid CSV: every line has the header's fields
    done = scored_rows(journal)  # (the manifest's unusable rows are journaled at once, as error rows)
    assert N_FACES // 2 <= len(done) < N_FACES, "the kill should come halfway"
    assert set(table["status"]) <= {"ok", "warn", "error"} and (table["status"] == "error").sum() <= 3
    # a power cut in mid-write leaves a partial line: it is dropped on restart
    with open(journal, "a") as handle:
        handle.write("/half/written.jpg,S99,base")

    resumed = run_batch(study, out, jobs=2, progress=False)
    scores = read_scores(resumed.scores_path)
    assert (resumed.n_skipped, resumed.n_processed, resumed.n_errors) == (len(done), N_FACES - len(done), 3)
    assert scores["image"].tolist() == reference_scores["image"].tolist()  # each photo once, in manifest order
    pd.testing.assert_frame_equal(scores[SCORE_VALUES].astype(float), reference_scores[SCORE_VALUES].astype(float))

    again = run_batch(study, out, jobs=2, progress=False)
    assert (again.n_processed, again.n_skipped, again.n_errors) == (0, N_FACES, 3)
    pd.testing.assert_frame_equal(read_scores(again.scores_path), scores)
    assert sorted(p.name for p in out.iterdir()) == [".batch.lock", "maps", "overlays", "scores.columns.json",
                                                     "scores.csv"]
    scored = scores.loc[scores["status"] != "error", SHA_COLUMN]
    assert sorted(p.name for p in (out / "maps").iterdir()) == sorted(f"{sha}.npz" for sha in scored)


def test_changed_photo_or_model_is_scored_again(study, faces, tmp_path):
    folder = tmp_path / "study"
    manifest = write_manifest(folder, faces[:2])
    first = run_batch(manifest, tmp_path / "out", jobs=1, overlays=False, progress=False)
    assert first.n_processed == 2
    shutil.copy(faces[3], folder / faces[1].name)  # new content under the same name
    second = run_batch(manifest, tmp_path / "out", jobs=1, overlays=False, progress=False)
    assert (second.n_processed, second.n_skipped) == (1, 1)
    scores = read_scores(second.scores_path)
    assert scores.loc[1, SHA_COLUMN] == file_sha256(faces[3])
    # a reworded description is the same model (its identity covers what changes a score) ...
    reworded = dataclasses.replace(load_model(None), description="the default thresholds, another file")
    assert reworded.label == load_model(None).label
    # ... a moved detection level is another
    base = load_model(None)
    other = dataclasses.replace(base, lesion=dataclasses.replace(base.lesion, detection_level_jnd=1.5))
    assert other.label != base.label
    third = run_batch(manifest, tmp_path / "out", model=other, jobs=1, overlays=False, progress=False)
    assert (third.n_processed, third.n_skipped) == (2, 0)
    assert set(read_scores(third.scores_path)["model"]) == {other.label}


def test_maps_are_written_per_photo_and_a_missing_one_is_made_again(faces, tmp_path):
    from pigmentscan.face_maps import maps_path, read_face_maps

    manifest = write_manifest(tmp_path / "study", faces[:2])
    first = run_batch(manifest, tmp_path / "out", jobs=1, overlays=False, progress=False)
    scores = read_scores(first.scores_path)
    paths = [maps_path(tmp_path / "out" / "maps", sha) for sha in scores[SHA_COLUMN]]
    assert all(p.is_file() for p in paths)
    maps = read_face_maps(paths[0])
    assert (maps.model, maps.pigmentscan_version) == (scores.loc[0, "model"], scores.loc[0, "pigmentscan_version"])
    assert maps.source.endswith(faces[0].name) and maps.lesion_mask.shape == maps.melanin.shape
    paths[1].unlink()
    second = run_batch(manifest, tmp_path / "out", jobs=1, overlays=False, progress=False)
    assert (second.n_processed, second.n_skipped) == (1, 1)
    assert paths[1].is_file()
    without = run_batch(manifest, tmp_path / "no_maps", jobs=1, overlays=False, progress=False, maps=False)
    assert without.n_processed == 2 and not (tmp_path / "no_maps" / "maps").exists()


def test_partial_last_line_is_cut_and_a_second_batch_is_refused(tmp_path):
    journal = tmp_path / "scores.csv"
    journal.write_text("image,status\na.jpg,ok\nb.jpg,o")
    assert read_journal(journal) == [{"image": "a.jpg", "status": "ok"}]
    assert journal.read_text() == "image,status\na.jpg,ok\n"
    journal.write_text("image,sta")
    assert read_journal(journal) == [] and journal.read_text() == ""
    with exclusive_folder(tmp_path), pytest.raises(PigmentScanError, match="another pigmentscan batch"):
        with exclusive_folder(tmp_path):
            pass


def test_dask_cluster_gives_the_same_rows_as_local_processes(study, full_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, reference = full_run
    env = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    os.environ.update(env)  # inherited by the worker processes
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_batch(study, tmp_path / "dask", scheduler=cluster.scheduler_address, overlays=False,
                           progress=False)
    scores = read_scores(result.scores_path)
    assert (result.n_processed, result.n_errors) == (N_FACES, 3)
    columns = [c for c in reference.columns if c in scores.columns and c not in ("error",)]
    assert set(reference.columns) == set(scores.columns)
    pd.testing.assert_frame_equal(scores[columns], reference[columns])


def test_cli_batch_exit_status(tmp_path, faces):
    from pigmentscan.cli import main

    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.jpg").write_bytes(b"junk")
    (folder / "manifest.csv").write_text("image,subject,visit\nx.jpg,S1,baseline\n")
    assert main(["batch", str(folder / "manifest.csv"), "--out", str(tmp_path / "o1"), "--jobs", "1"]) == 1
    manifest = write_manifest(tmp_path / "one", faces[:1])
    assert main(["batch", str(manifest), "--out", str(tmp_path / "o2"), "--jobs", "1", "--no-overlays"]) == 0
    assert not (tmp_path / "o2" / "overlays").exists()


@pytest.mark.slow
def test_qc_limits_file_gives_error_rows_and_reruns_keep_to_their_limits(tmp_path, capsys):
    """``pigmentscan batch --qc-limits FILE``: a sample photo whose skin is ~5 % burnt out white
    warns under the default limits (warn beyond 2 %, error beyond 15 %) and is an error row under
    a file that rejects beyond 3 %; a re-run reuses rows only under the same limits."""
    from pigmentscan.cli import main

    folder = tmp_path / "study"
    folder.mkdir()
    for name in ("grace_hopper.jpg", "astronaut_eileen_collins.png"):
        shutil.copy(REPO / "sample_images" / name, folder / name)
    (folder / "manifest.csv").write_text("image,subject,visit\ngrace_hopper.jpg,GH,baseline\n"
                                         "astronaut_eileen_collins.png,EC,baseline\n")
    limits = tmp_path / "limits.json"
    limits.write_text(json.dumps({"max_clipped_pct_warn": 1, "max_clipped_pct_error": 3}))
    out = tmp_path / "out"

    def batch(*options):
        return main(["batch", str(folder / "manifest.csv"), "--out", str(out), "--no-overlays", *options])

    def scores():
        return read_scores(out / "scores.csv").set_index("subject")

    assert batch("--jobs", "1") == 0
    default = scores()
    assert default.loc["GH", "qc_clipped_pct"] > 3 > default.loc["EC", "qc_clipped_pct"]
    assert (default["status"] == "warn").all(), default["error"]  # small faces (and GH's glare): warnings only
    assert default[LIMITS_COLUMN].str.startswith("default@").all()

    capsys.readouterr()
    assert batch("--jobs", "2", "--qc-limits", str(limits)) == 0  # the limits reach the worker processes
    assert "0 already scored" in capsys.readouterr().out  # rows checked with other limits are not reused
    strict = scores()
    assert strict.loc["GH", "status"] == "error" and "over-exposed" in strict.loc["GH", "error"]
    assert strict.loc["GH", "qc_clipped_pct"] == default.loc["GH", "qc_clipped_pct"]
    assert strict.loc["EC", "status"] == "warn"
    assert strict[LIMITS_COLUMN].str.startswith("custom@").all()

    again = run_batch(folder / "manifest.csv", out, jobs=1, overlays=False, progress=False,
                      qc_limits=load_quality_limits(limits))  # the same limits, through the Python API
    assert (again.n_processed, again.n_skipped, again.n_errors) == (0, 1, 1)
    pd.testing.assert_frame_equal(scores(), strict)

    capsys.readouterr()
    assert batch("--jobs", "1") == 0  # back to the defaults: both photos scored again, no error row
    assert "2 scored, 0 already scored" in capsys.readouterr().out
    pd.testing.assert_series_equal(scores()["status"], default["status"])
