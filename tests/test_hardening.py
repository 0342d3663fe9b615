"""Hostile and unusual input end to end, patient data in outputs, and determinism.

The loader's own cases (and a fuzz) are in test_io.py; here the same kinds of file go
through ``score_image``, ``score_images`` and the command line. Photos are made from a
real London face (063; DeBruine & Jones 2017, CC BY 4.0) with simulated melasma added by
``pigmentscan.phantom`` (re-encoded, rotated, resized, given alpha, 16 bits, CMYK or EXIF/GPS
metadata here).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import pigmentscan
import pigmentscan.pipeline
from pigmentscan.cli import main
from pigmentscan.errors import ImageReadError, ModelError
from pigmentscan.io import atomic_open, atomic_write_text, read_scores, write_png
from pigmentscan.report import overlay_paths
from pigmentscan.scoring import load_model

from helpers import read_rgb, png_chunk_types
from pigmentscan.phantom import make_phantom

FOLDER = "visite 2 – Zoë"  # spaces and non-ASCII in the folder...
PRIVATE = "Patient Jane Doe, DOB 1970-01-01"  # ...and metadata that must never reach an output
BACKSLASHED = "x\\..\\..\\evil.jpg"  # a legal POSIX file name that is a path on Windows


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x010E] = PRIVATE  # ImageDescription
    exif[0x9286] = PRIVATE  # UserComment
    gps = exif.get_ifd(0x8825)  # GPS IFD (EXIF 2.32 §4.6.6)
    gps.update({1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)})
    return exif.tobytes()


def make_variants(folder, rgb) -> dict:
    """The same face in many file forms (name -> path) and two broken files."""
    folder.mkdir(parents=True)
    h, w = rgb.shape[:2]
    paths = {}

    def save(name, array, **kwargs):
        Image.fromarray(array).save(folder / name, **kwargs)
        paths[name] = folder / name

    save("original.jpg", rgb, quality=95)
    alpha = np.linspace(40, 255, w).astype(np.uint8)[None, :].repeat(h, 0)
    save("Zoë müller (rgba).png", np.dstack([rgb, alpha]))
    for name in ("tiefe 16 bit.tif", "deep 16.png"):
        ok, encoded = cv2.imencode(os.path.splitext(name)[1], rgb[..., ::-1].astype(np.uint16) * 257)
        assert ok
        (folder / name).write_bytes(encoded.tobytes())
        paths[name] = folder / name
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    paths["cmyk.jpg"] = folder / "cmyk.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: "rotate 90° clockwise to display"
    save("rotated exif.jpg", np.ascontiguousarray(np.rot90(rgb, 1)), quality=95, exif=exif.tobytes())
    half = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    save("half.png", half)  # half the resolution, nothing else changed
    # half the resolution AND a second JPEG compression: scored (an ok/warn row) but not held to
    # the 1-point invariance: 038 sits near MASI band edges (chin 10.8 % against the 10 % edge)
    # and this copy once scored 3.6 against 4.8.
    save("half q95.jpg", half, quality=95)
    save("gps.jpg", rgb, quality=95, exif=gps_exif())
    save(BACKSLASHED, rgb, quality=95)
    good = (folder / "original.jpg").read_bytes()
    (folder / "kaputt ü.jpg").write_bytes(good[: len(good) // 3])
    grey16 = (rgb.mean(axis=2) * 257).astype(np.uint16)
    ok, encoded = cv2.imencode(".png", grey16)
    (folder / "grau 16.png").write_bytes(encoded.tobytes())
    paths.update({"kaputt ü.jpg": folder / "kaputt ü.jpg", "grau 16.png": folder / "grau 16.png"})
    return paths


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, face_path):
    """``pigmentscan score`` once over a folder of all the variants, with overlays."""
    root = tmp_path_factory.mktemp("hardening")
    phantom = make_phantom(read_rgb(face_path("063_03.jpg")), seed=5, area_fraction=0.45, darkness=3)
    paths = make_variants(root / FOLDER, phantom.image)
    out, overlays = root / "out" / "scores.csv", root / "out" / "overlays"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["score", str(root / FOLDER), "--out", str(out), "--overlays", str(overlays)])
    table = read_scores(out)  # text columns as text, scores as numbers
    table["name"] = [os.path.basename(p) for p in table["image"]]
    return {"status": status, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(), "table": table.set_index("name"),
            "paths": paths, "out": out, "overlays": overlays, "root": root}


def test_cli_scores_every_form_and_reports_the_broken_ones(cli_run):
    table, err = cli_run["table"], cli_run["stderr"]
    assert cli_run["status"] == 0 and "Traceback" not in err
    assert set(table.index) == set(cli_run["paths"])
    broken = {"kaputt ü.jpg": "truncated", "grau 16.png": "grayscale"}
    for name, fragment in broken.items():
        row = table.loc[name]
        assert row["status"] == "error" and fragment in row["error"], (name, row["error"])
        assert f"error: {cli_run['paths'][name]}: " in err  # the file, named in full
    assert set(table.drop(index=list(broken))["status"]) <= {"ok", "warn"}
    assert "2 error" in cli_run["stdout"]


@pytest.mark.parametrize("name", ["Zoë müller (rgba).png", "tiefe 16 bit.tif", "deep 16.png", "cmyk.jpg",
                                  "rotated exif.jpg", "half.png", "gps.jpg", BACKSLASHED])
def test_every_form_scores_within_one_masi_point(cli_run, name):
    table = cli_run["table"]
    assert abs(table.loc[name, "masi"] - table.loc["original.jpg", "masi"]) <= 1.0
    assert table.loc["original.jpg", "masi"] > 1  # the face has pigment to lose


def test_score_image_takes_the_same_paths(cli_run):
    path = cli_run["paths"]["Zoë müller (rgba).png"]
    score = pigmentscan.score_image(path)
    assert score.source == str(path)
    assert score.masi == pytest.approx(cli_run["table"].loc[path.name, "masi"], abs=1e-4)
    for name, error in (("kaputt ü.jpg", "truncated image data"), ("grau 16.png", "grayscale image")):
        with pytest.raises(ImageReadError) as info:
            pigmentscan.score_image(cli_run["paths"][name])
        assert str(info.value).startswith(f"{cli_run['paths'][name]}: ") and error in str(info.value)


def test_overlays_carry_no_metadata_and_stay_in_their_folder(cli_run):
    overlays, root = cli_run["overlays"], cli_run["root"]
    written = sorted(p for p in root.rglob("*") if p.is_file() and FOLDER not in p.parts)
    dictionary = cli_run["out"].with_name(cli_run["out"].stem + ".columns.json")
    assert written == sorted([cli_run["out"], dictionary] + list(overlays.glob("*.png")))  # nothing anywhere else
    assert len(list(overlays.glob("*.png"))) == (cli_run["table"]["status"] != "error").sum()
    assert (overlays / "x_.._.._evil.png").is_file()
    for overlay in overlays.glob("*.png"):
        data = overlay.read_bytes()
        assert set(png_chunk_types(data)) <= {b"IHDR", b"IDAT", b"IEND"}, overlay.name
        for secret in (b"Jane", b"SecretCam", b"Exif", b"GPS"):
            assert secret not in data, (overlay.name, secret)
    assert b"Jane" not in cli_run["out"].read_bytes() and b"SecretCam" not in cli_run["out"].read_bytes()
    with Image.open(cli_run["paths"]["gps.jpg"]) as source:  # the source really carried them
        assert source.getexif().get_ifd(0x8825)[1] == "N" and b"Jane" in source.info["exif"]


# --------------------------------------------------------------------------- a bug in one photo


def test_an_unexpected_exception_in_one_photo_is_an_error_row(tmp_path, face_path, monkeypatch, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(face_path("038_03.jpg"), folder / "a.jpg")
    shutil.copy(face_path("038_03.jpg"), folder / "boom.jpg")
    real = pigmentscan.pipeline.score_image

    def flaky(image, **kwargs):
        if "boom" in str(image):
            raise RuntimeError("simulated bug deep inside the analysis")
        return real(image, **kwargs)

    monkeypatch.setattr(pigmentscan.pipeline, "score_image", flaky)
    out = tmp_path / "s.csv"
    # --jobs 1: the patched score_image runs in this process (the default uses worker processes)
    assert main(["score", str(folder), "--out", str(out), "--overlays", str(tmp_path / "ov"), "--jobs", "1"]) == 0
    table = pd.read_csv(out, keep_default_na=False).set_index("image")
    assert table.loc[str(folder / "boom.jpg"), "status"] == "error"
    assert table.loc[str(folder / "boom.jpg"), "error"] == "RuntimeError: simulated bug deep inside the analysis"
    assert table.loc[str(folder / "a.jpg"), "status"] in ("ok", "warn")
    assert [p.name for p in (tmp_path / "ov").iterdir()] == ["a.png"]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "boom.jpg: RuntimeError" in captured.err


# --------------------------------------------------------------------------- interrupted writes


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_interrupted_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "scores.csv"
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as handle:
        handle.write("image,status\n" + "x.jpg,ok\n" * 1000)
        raise KeyboardInterrupt
    assert leftovers(tmp_path) == []
    atomic_write_text(target, "old, complete\n")
    with pytest.raises(OSError), atomic_open(target) as handle:
        handle.write("new, half")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "old, complete\n" and leftovers(tmp_path) == ["scores.csv"]


def test_interrupted_cli_write_keeps_the_old_scores(tmp_path, monkeypatch, capsys):
    out = tmp_path / "scores.csv"
    out.write_text("old, complete\n")
    frame = pigmentscan.pipeline.rows_to_frame([{"image": "a.jpg", "status": "ok", "masi": 1.0}])
    monkeypatch.setattr(pigmentscan.pipeline, "score_images", lambda *a, **k: frame)
    (tmp_path / "a.jpg").write_bytes(b"never read: score_images is replaced")

    def interrupted_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    assert main(["score", str(tmp_path / "a.jpg"), "--out", str(out)]) == 130
    assert out.read_text() == "old, complete\n" and leftovers(tmp_path) == ["a.jpg", "scores.csv"]
    assert "interrupted" in capsys.readouterr().err
    with pytest.raises(KeyboardInterrupt):
        write_png(tmp_path / "overlay.png", np.zeros((8, 8, 3), np.uint8))
    assert leftovers(tmp_path) == ["a.jpg", "scores.csv"]


def test_unwritable_outputs_are_clear_messages(tmp_path, monkeypatch, capsys):
    frame = pigmentscan.pipeline.rows_to_frame([{"image": "a.jpg", "status": "ok"}])
    monkeypatch.setattr(pigmentscan.pipeline, "score_images", lambda *a, **k: frame)
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    assert main(["score", str(photo), "--out", str(tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["score", str(photo), "--out", str(tmp_path / "s.csv"), "--overlays", str(photo)]) == 2
    assert "--overlays" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert main(["score", str(photo), "--out", str(blocker / "s.csv")]) == 2  # found before scoring (#36)
    err = capsys.readouterr().err
    assert f"cannot write here: {blocker} is a regular file, not a folder" in err and "Traceback" not in err


# --------------------------------------------------------------------------- model files are data


def model_dict() -> dict:
    return json.loads(load_model().to_json())


def hostile_models(tmp_path, sentinel) -> dict:
    code = f"__import__('os').system('touch {sentinel}')"
    cases = {
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "deep_inside.json": json.dumps(model_dict())[:-1] + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
        "pickle.json": b"\x80\x04\x95\x1c\x00cos\nsystem\n",
        "list.json": "[1, 2, 3]",
        "code_string.json": {**model_dict(), "grading": {**model_dict()["grading"], "darkness_thresholds": code}},
        "lesion_list.json": {**model_dict(), "lesion": [code]},
        "provenance_number.json": {**model_dict(), "provenance": 5},
        "nan.json": json.dumps({**model_dict(), "lesion": {**model_dict()["lesion"], "min_support_malar": "__nan__"}})
                    .replace('"__nan__"', "NaN"),
        "bool.json": {**model_dict(), "analysis_iod_px": True},
        "reduce.json": {**model_dict(), "__reduce__": code, "format": {"__class__": "os.system"}},
    }
    paths = {}
    for name, content in cases.items():
        path = tmp_path / name
        if isinstance(content, dict):
            content = json.dumps(content)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        paths[name] = path
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:  # sparse: 11 MB claimed, nothing written
        handle.truncate(11_000_000)
    paths["huge.json"] = huge
    return paths


def test_hostile_model_files_are_refused_and_run_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    for name, path in hostile_models(tmp_path, sentinel).items():
        with pytest.raises(ModelError) as info:
            load_model(path)
        assert str(info.value).startswith(f"{path}: ") and len(info.value.reason) > 10, name
    assert not sentinel.exists()


def test_cli_with_a_hostile_model_exits_1_with_a_message(tmp_path, capsys):
    path = hostile_models(tmp_path, tmp_path / "pwned")["deep.json"]
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    assert main(["score", str(photo), "--out", str(tmp_path / "s.csv"), "--model", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"pigmentscan score: {path}: ") and "Traceback" not in err
    assert not (tmp_path / "s.csv").exists()


# --------------------------------------------------------------------------- overlay names


def test_overlay_names_never_leave_the_folder_or_collide(tmp_path):
    images = ["../../x.jpg", "a/../../../y.jpg", BACKSLASHED, "..", ".hidden.jpg", "/", "p/x.jpg", "q/x.JPG",
              "p_x.jpg", "A/Face.jpg", "b/face.jpg", "visite 2/Zoë.jpg", np.zeros((2, 2, 3)), "n" * 300 + ".jpg"]
    paths = overlay_paths(tmp_path / "ov", images)
    assert len(paths) == len(images)
    assert len({p.name.casefold() for p in paths}) == len(paths)  # distinct even on a case-blind disk
    for path in paths:
        assert path.parent == tmp_path / "ov" and path.resolve().parent == (tmp_path / "ov").resolve()
        assert not path.name.startswith(".") and "/" not in path.name and "\\" not in path.name
        assert path.suffix == ".png" and len(path.name) <= 130
    assert paths[11].name == "Zoë.png" and paths[12].name == "image_12.png"
    assert [p.name for p in overlay_paths(tmp_path, ["../../x.jpg", "a/../../y.jpg"])] == ["x.png", "y.png"]


# --------------------------------------------------------------------------- determinism


def test_same_photo_same_bytes_run_after_run_and_across_workers(cli_run):
    photos = [cli_run["paths"]["original.jpg"], cli_run["paths"]["Zoë müller (rgba).png"]]

    def csv_bytes(jobs):
        return pigmentscan.score_images(photos, jobs=jobs).to_csv(index=False, lineterminator="\n").encode()

    first = csv_bytes(1)
    assert csv_bytes(1) == first
    assert csv_bytes(2) == first
    rows = read_scores(cli_run["out"]).set_index("image")
    again = pd.read_csv(io.BytesIO(first)).set_index("image")
    for photo in photos:  # and the same numbers as the command line wrote
        assert again.loc[str(photo), "masi"] == rows.loc[str(photo), "masi"]
