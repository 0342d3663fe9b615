"""Hostile and careless input, one table: what the user gives, what must come out (issue #36).

Each row of :data:`CASES` builds its inputs in ``tmp/in`` (from the shipped ``sample_images``,
so this runs without ``../shared``), runs the command line in-process under a timeout (nothing
may hang), and checks the exit status, a fragment of the one-line message, that no traceback
reaches the user, and that every input file is byte-for-byte what it was. A row that must be
refused before any work also runs with scoring disabled, so it proves the refusal comes first.
Add a row for every new hostile input found.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

import pigmentscan.batch.workers
import pigmentscan.pipeline
from pigmentscan.cli import main
from pigmentscan.io import read_scores
from pigmentscan.scoring import load_model

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
TIMEOUT_S = 180  # only to prove nothing hangs: a case takes seconds


@dataclass(frozen=True)
class Case:
    """One hostile input: ``build(root)`` makes the inputs under ``root / "in"`` and returns the argv."""

    name: str
    build: Callable[[Path], list]
    status: int
    message: str  # in stderr (or stdout for a success)
    before_work: bool = False  # refused before any photo is scored
    check: Callable[[Path], None] | None = None  # more about the outputs
    patch: tuple = ()  # (module, attribute, value) set for the case, e.g. a shorter timeout


# --------------------------------------------------------------------------- building inputs


def photos(root: Path, *names: str) -> Path:
    """A folder ``root/in/p`` holding copies of sample photos (PNG and JPEG)."""
    folder = root / "in" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or ("astronaut_eileen_collins.png", "grace_hopper.jpg"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def manifest(root: Path, rows, header=("image", "subject", "visit")) -> Path:
    path = root / "in" / "manifest.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def fifo(root: Path, name: str) -> Path:
    path = root / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def model_file(root: Path, change: Callable[[dict], None], name: str = "model.json") -> Path:
    data = json.loads(load_model().to_json())
    change(data)
    path = root / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data)  # NaN and Infinity as JSON's extensions, as Python writes them
    path.write_text(text.replace('"__5000 digits__"', "9" * 5000))
    return path


def template(data: dict) -> dict:
    return data["face_template"]


def score_with_model(change):
    def build(root):
        folder = photos(root, "grace_hopper.jpg")
        return ["score", str(folder), "--out", str(root / "out" / "s.csv"), "--model", str(model_file(root, change))]
    return build


def scored_table(root: Path) -> Path:
    """A scores CSV of three sample photos (scored once here) and a manifest of three subjects with a physician MASI."""
    folder = photos(root, "grace_hopper.jpg", "astronaut_eileen_collins.png", "grace_hopper_phantom.png")
    images = sorted(folder.iterdir())
    table = pigmentscan.score_images(images)
    scores = root / "in" / "scores.csv"
    table.to_csv(scores, index=False)
    manifest(root, [[f"p/{p.name}", f"S{i}", "baseline", 3 + i] for i, p in enumerate(images)],
             header=("image", "subject", "visit", "physician_masi"))
    return scores


def animated_png(root: Path) -> list:
    folder = photos(root, "grace_hopper.jpg")
    rgb = np.asarray(Image.open(SAMPLES / "grace_hopper.jpg").convert("RGB"))
    Image.fromarray(rgb).save(folder / "animated.png", save_all=True, append_images=[Image.fromarray(rgb[::-1])])
    return ["score", str(folder / "animated.png"), str(folder / "grace_hopper.jpg"), "--out", str(root / "s.csv")]


def multipage_tiff(root: Path) -> list:
    folder = photos(root, "grace_hopper.jpg")
    rgb = np.asarray(Image.open(SAMPLES / "grace_hopper.jpg").convert("RGB"))
    Image.fromarray(rgb).save(folder / "pages.tif", save_all=True, append_images=[Image.fromarray(rgb)])
    return ["score", str(folder / "pages.tif"), str(folder / "grace_hopper.jpg"), "--out", str(root / "s.csv")]


def latin1_name(root: Path) -> list:
    folder = photos(root, "grace_hopper.jpg")
    os.rename(folder / "grace_hopper.jpg", folder / os.fsdecode(b"caf\xe9.jpg"))
    return ["score", str(folder), "--out", str(root / "out" / "s.csv"), "--overlays", str(root / "out" / "ov"),
            "--report", str(root / "out" / "r.html")]


def check_latin1(root: Path) -> None:
    text = (root / "out" / "s.csv").read_text(encoding="utf-8")  # valid UTF-8, every row there
    assert "caf\\xe9.jpg" in text
    assert "caf\\xe9.jpg" in (root / "out" / "r.html").read_text(encoding="utf-8")


FORMULAS = {"subject": "=HYPERLINK(\"http://evil\",\"x\")", "visit": "baseline", "arm": "+cmd|' /C calc'!A0",
            "date": "@SUM(1+1)"}


def formula_batch(root: Path) -> list:
    folder = photos(root, "grace_hopper.jpg")
    shutil.copy(folder / "grace_hopper.jpg", folder / "-photo.jpg")
    path = manifest(root, [["p/-photo.jpg", *FORMULAS.values()]], header=("image", *FORMULAS))
    model = model_file(root, lambda d: d.__setitem__("name", "=cmd()"))
    return ["batch", str(path), "--out", str(root / "out"), "--jobs", "1", "--no-maps", "--model", str(model)]


def check_formulas(root: Path) -> None:
    text = (root / "out" / "scores.csv").read_text(encoding="utf-8")
    for value in FORMULAS.values():
        if value[0] in "=+-@":
            assert f"'{value}".replace('"', '""') in text, value  # inert in a spreadsheet
    assert "\n'=cmd()@" in text.replace(",'=cmd()@", "\n'=cmd()@")  # the model's name too
    row = read_scores(root / "out" / "scores.csv").iloc[0]
    assert {column: row[column] for column in FORMULAS} == FORMULAS  # and read back as written
    assert row["model"].startswith("=cmd()@")
    assert row["image"].endswith("-photo.jpg") and row["status"] in ("ok", "warn")


def dev_zero_batch(root: Path) -> list:
    photos(root, "grace_hopper.jpg")
    fifo(root, "pipe.jpg")
    path = manifest(root, [["p/grace_hopper.jpg", "S1", "baseline"], ["/dev/zero", "S2", "baseline"],
                           ["pipe.jpg", "S3", "baseline"]])
    return ["batch", str(path), "--out", str(root / "out"), "--jobs", "1"]


def check_dev_zero(root: Path) -> None:
    table = read_scores(root / "out" / "scores.csv").set_index("subject")
    assert table.loc["S2", "status"] == "error" and "is a character device" in table.loc["S2", "error"]
    assert table.loc["S3", "status"] == "error" and "is a named pipe" in table.loc["S3", "error"]
    assert table.loc["S1", "status"] in ("ok", "warn")


def symlinked_scores(root: Path) -> list:
    path = manifest(root, [["p/grace_hopper.jpg", "S1", "baseline"]])
    photos(root, "grace_hopper.jpg")
    outside = root / "in" / "precious.csv"
    outside.write_text("someone else's table\n")
    (root / "out").mkdir()
    (root / "out" / "scores.csv").symlink_to(outside)
    return ["batch", str(path), "--out", str(root / "out"), "--jobs", "1"]


def existing_file(command: str):
    def build(root):
        photos(root, "grace_hopper.jpg")
        (root / "in" / "taken").write_text("a file, not a folder\n")
        scores, reference = root / "in" / "scores.csv", root / "in" / "manifest.csv"
        scores.write_text("image,status\na.jpg,ok\n")
        reference.write_text("image\na.jpg\n")
        argv = {"batch": ["batch", str(reference)], "validate": ["validate", str(scores), "--reference", str(reference)],
                "compare": ["compare", str(scores)]}[command]
        return argv + ["--out", str(root / "in" / "taken")]
    return build


def too_small_folds(root: Path) -> list:
    scores = scored_table(root)
    return ["calibrate", str(root / "in" / "manifest.csv"), "--scores", str(scores), "--out", str(root / "m.json"),
            "--folds", "3"]


CASES = [
    # outputs on inputs, or on each other (defect 2)
    Case("overlays into the folder of the PNG photos they are made from",
         lambda r: ["score", str(photos(r)), "--out", str(r / "a.csv"), "--overlays", str(photos(r))],
         2, "would replace the input", before_work=True),
    Case("--out on a photo", lambda r: ["score", str(photos(r)), "--out", str(photos(r) / "grace_hopper.jpg")],
         2, "--out would replace the input", before_work=True),
    Case("--report on a photo",
         lambda r: ["score", str(photos(r)), "--out", str(r / "a.csv"), "--report",
                    str(photos(r) / "astronaut_eileen_collins.png")], 2, "--report would replace", before_work=True),
    Case("--out and --report the same file",
         lambda r: ["score", str(photos(r)), "--out", str(r / "x"), "--report", str(r / "x")],
         2, "are the same file", before_work=True),
    Case("--out a symbolic link",
         lambda r: (os.symlink(photos(r) / "grace_hopper.jpg", r / "link.csv"),
                    ["score", str(photos(r)), "--out", str(r / "link.csv")])[1], 2, "symbolic link", before_work=True),
    Case("calibrate --out on its own manifest",
         lambda r: ["calibrate", str(manifest(r, [["a.jpg", "S1", "v1"]])), "--out", str(r / "in" / "manifest.csv")],
         2, "would replace the input"),
    # outputs that cannot be written, found before scoring (defects 7, 9, 11)
    Case("--out under a file", lambda r: ["score", str(photos(r)), "--out", str(photos(r) / "grace_hopper.jpg" / "s.csv")],
         2, "is a regular file, not a folder", before_work=True),
    Case("--out /dev/null", lambda r: ["score", str(photos(r)), "--out", "/dev/null"], 2, "is a character device",
         before_work=True),
    Case("batch --out an existing file", existing_file("batch"), 2, "exists and is a regular file, not a folder",
         before_work=True),
    Case("validate --out an existing file", existing_file("validate"), 2, "not a folder", before_work=True),
    Case("compare --out an existing file", existing_file("compare"), 2, "not a folder", before_work=True),
    Case("a batch's scores.csv linked to a file outside its folder", symlinked_scores, 2, "symbolic link",
         before_work=True, check=lambda r: (r / "in" / "precious.csv").read_text() == "someone else's table\n"),
    # special files (defect 8)
    Case("/dev/zero and a named pipe in a manifest", dev_zero_batch, 0, "1 scored", check=check_dev_zero),
    Case("a named pipe as the photo", lambda r: ["score", str(fifo(r, "x.jpg")), "--out", str(r / "s.csv")],
         1, "is a named pipe (FIFO), not a regular file"),
    Case("--model /dev/zero", lambda r: ["score", str(photos(r)), "--out", str(r / "s.csv"), "--model", "/dev/zero"],
         1, "/dev/zero: is a character device, not a regular file", before_work=True),
    Case("--model a named pipe",
         lambda r: ["score", str(photos(r)), "--out", str(r / "s.csv"), "--model", str(fifo(r, "m.json"))],
         1, "is a named pipe (FIFO)", before_work=True),
    Case("--qc-limits a named pipe",
         lambda r: ["score", str(photos(r)), "--out", str(r / "s.csv"), "--qc-limits", str(fifo(r, "q.json"))],
         2, "is a named pipe (FIFO)", before_work=True),
    Case("a manifest that is a named pipe",
         lambda r: ["batch", str(fifo(r, "manifest.csv")), "--out", str(r / "out")], 1, "is a named pipe",
         before_work=True),
    # model files from a stranger (defect 5)
    Case("NaN in the face template's mean pattern",
         score_with_model(lambda d: template(d)["mean_jnd"][20].__setitem__(3, float("nan"))),
         1, "face_template.mean_jnd.20.3 is nan: every number in a model must be finite", before_work=True),
    Case("NaN in a mode's variance",
         score_with_model(lambda d: template(d)["mode_variance"].__setitem__(0, float("nan"))),
         1, "must be finite", before_work=True),
    Case("an infinite natural spread",
         score_with_model(lambda d: template(d)["spread_jnd"][10].__setitem__(0, float("inf"))),
         1, "is inf: every number in a model must be finite", before_work=True),
    Case("a classifier of model format 1",
         score_with_model(lambda d: d.__setitem__("lesion_classifier", {"members": []})),
         1, "no learned classifier", before_work=True),
    Case("a negative area gain", score_with_model(lambda d: d["grading"]["area_gain"].__setitem__("chin", -1.0)),
         1, "grading.area_gain.chin = -1.0 is outside its plausible range above 0", before_work=True),
    Case("work_iod_px of 0.001", score_with_model(lambda d: d["lesion"].__setitem__("work_iod_px", 0.001)),
         1, "lesion.work_iod_px = 0.001 is outside its plausible range 20 to 1000", before_work=True),
    Case("a template map 150,000 pixels wide",
         score_with_model(lambda d: template(d)["mean_jnd"].__setitem__(0, [0.0] * 150_000)),
         1, "has 150000 entries, more than the 1024", before_work=True),
    Case('"face_template": 5', score_with_model(lambda d: d.__setitem__("face_template", 5)),
         1, "face_template must be an object, got int", before_work=True),
    Case('"mode_variance": "x"', score_with_model(lambda d: template(d).__setitem__("mode_variance", "x")),
         1, "face_template.mode_variance must be a list of numbers", before_work=True),
    Case("an integer of 5,000 digits", score_with_model(lambda d: d["provenance"].__setitem__("x", "__5000 digits__")),
         1, "not valid JSON", before_work=True),
    # photos that are several pictures (defect 11), names that are not UTF-8 (defect 6)
    Case("an animated PNG", animated_png, 0, "an animated PNG of 2 pictures"),
    Case("a multi-page TIFF", multipage_tiff, 0, "a multi-page TIFF of 2 pictures"),
    Case("a Latin-1 file name", latin1_name, 0, "scored 1 photo(s)", check=check_latin1),
    # text a spreadsheet would run (defect 10)
    Case("formulas in subject, arm, date and the file name", formula_batch, 0, "1 scored", check=check_formulas),
    # a cluster that is not there (defect 9); the scheduler timeout shortened from 30 s for the test
    Case("an unreachable --scheduler",
         lambda r: ["batch", str(manifest(r, [["p/grace_hopper.jpg", "S1", "v1"]])), "--out", str(r / "out"),
                    "--scheduler", "tcp://127.0.0.1:9"], 1, "cannot reach the Dask scheduler within 2 s",
         before_work=True, patch=((pigmentscan.batch.workers, "SCHEDULER_TIMEOUT_S", 2.0),)),
    # calibration with folds too small to fit (defect 9)
    Case("calibrate with too few photos per fold", too_small_folds, 0, "no cross-validation: a fold could not be fitted"),
]


# --------------------------------------------------------------------------- the runner


def snapshot(folder: Path) -> dict:
    """Every regular file under ``folder`` and its bytes (links and pipes are not followed)."""
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def run_cli(argv, timeout_s: float = TIMEOUT_S) -> tuple[int, str, str]:
    """``main(argv)`` in a thread, with its output captured; fails the test if it does not return in time."""
    stdout, stderr, result = io.StringIO(), io.StringIO(), {}

    def run():
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                result["status"] = main([str(a) for a in argv])
            except SystemExit as exit_:  # argparse
                result["status"] = exit_.code
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), f"pigmentscan {argv[0]} hung (no answer in {timeout_s} s)"
    return result["status"], stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input(case, tmp_path, monkeypatch):
    root = tmp_path
    (root / "in").mkdir()
    argv = case.build(root)
    before = snapshot(root / "in")
    for module, name, value in case.patch:
        monkeypatch.setattr(module, name, value)
    if case.before_work:  # a photo scored before the refusal fails the case
        def scored_too_early(*args, **kwargs):
            raise AssertionError("a photo was scored before the refusal")

        monkeypatch.setattr(pigmentscan.pipeline, "score_image", scored_too_early)
        monkeypatch.setattr(pigmentscan.batch.workers, "score_image", scored_too_early)
    status, out, err = run_cli(argv)
    assert status == case.status, (out, err)
    assert any(case.message in line for line in (err if case.status else out + err).splitlines()), (out, err)
    assert "Traceback" not in err and "AssertionError" not in err  # one line, not a dump
    assert snapshot(root / "in") == before, "an input file was changed"
    if case.check is not None:
        assert case.check(root) is not False
