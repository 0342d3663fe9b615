"""The chart pre-screen (pigmentscan.chart_screen) against OpenCV's mcc detector, on real faces.

Charts are synthetic ColorCheckers (X-Rite's colours from colour-science, tests/chart_helpers.py)
put into London faces the way a camera would see them; benchmarks/chart_screen.py runs a larger
random sweep of the same kind.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pigmentscan import chart, chart_screen

from chart_helpers import chart_photo, draw_chart
from helpers import read_rgb

WARM = np.diag([1.22, 0.96, 0.72]) @ (0.92 * np.array([[0.90, 0.12, 0.02], [0.06, 0.86, 0.08], [0.01, 0.10, 0.74]]))
COOL = np.diag([0.8, 0.95, 1.25])
# Hard cases: photos 2060 px wide put the screen's thumbnail at its coarsest (515 px, half of
# mcc's 1024 px copy); the smallest patches mcc still finds there are about 30 px.
HARD_CASES = [
    dict(size=(2060, 1545), patch_px=30, matrix=0.3 * np.eye(3), jpeg_quality=60),  # small, in shadow, JPEG
    dict(size=(2060, 1545), patch_px=30, noise=6, jpeg_quality=90),
    dict(size=(2060, 1545), patch_px=35, angle_deg=15, tilt=0.15, blur_px=1.5, noise=3, matrix=0.3 * np.eye(3)),
    dict(size=(2060, 1545), patch_px=40, angle_deg=30, blur_px=1.5, jpeg_quality=60, matrix=0.3 * np.eye(3)),
    dict(size=(2060, 1545), patch_px=32, angle_deg=45, gap_ratio=0.1),
    dict(size=(2060, 1545), patch_px=38, angle_deg=180, matrix=WARM, shading=0.7),
    # the smallest mcc found in benchmarks/chart_screen.py: 12 px in its copy, turned
    dict(size=(2060, 1545), patch_px=25, angle_deg=30, gap_ratio=0.28, matrix=COOL, shading=0.7, blur_px=0.7),
    dict(size=(2000, 1500), patch_px=30, angle_deg=90, tilt=0.3, matrix=1.5 * np.eye(3)),
    dict(size=(2000, 1500), patch_px=24, angle_deg=-7, noise=6, gap_ratio=0.3),
    dict(size=(1350, 1350), patch_px=75, angle_deg=90, tilt=0.3, matrix=WARM, blur_px=1.5, noise=6),
    dict(size=(1350, 1350), patch_px=40, angle_deg=5, shading=0.4, jpeg_quality=60),
]


@pytest.fixture(scope="module")
def face(face_path) -> np.ndarray:
    return read_rgb(face_path("063_03.jpg"))


def photo_with_chart(face, size, **chart_options) -> np.ndarray:
    photo = cv2.resize(face, size, interpolation=cv2.INTER_AREA if size[0] <= face.shape[1] else cv2.INTER_CUBIC)
    return chart_photo(photo, centre_xy=(0.22, 0.7), **chart_options)


def test_every_chart_mcc_finds_passes_the_screen(face):
    found = 0
    for case in HARD_CASES:
        photo = photo_with_chart(face, **case)
        if chart.detect_chart(photo, prescreen=False) is not None:
            found += 1
            assert chart_screen.may_show_chart(photo), case
    assert found >= 8  # mcc finds (nearly) all of them: the check above is not vacuous


def test_faces_without_a_chart_skip_the_search(faces_dir, monkeypatch):
    paths = sorted(faces_dir.glob("*.jpg"))[::2]
    alarms = sum(chart_screen.may_show_chart(read_rgb(path)) for path in paths)
    assert alarms <= 1, f"{alarms} of {len(paths)} faces without a chart would be searched"
    searches = []
    create = cv2.mcc.CCheckerDetector_create
    monkeypatch.setattr(cv2.mcc, "CCheckerDetector_create", lambda: searches.append(1) or create())
    assert chart.detect_chart(read_rgb(paths[0])) is None and searches == []
    assert chart.detect_chart(read_rgb(paths[0]), prescreen=False) is None and searches == [1]


def test_a_drawn_chart_is_a_grid_of_its_patches(face):
    card = draw_chart(patch_px=30, gap_px=6)
    candidates = chart_screen.patch_candidates(card)
    assert len(candidates) == 24  # every patch, and nothing else (the black frame is one large region)
    assert chart_screen.largest_grid(candidates) == 24


def test_flat_tiles_of_one_colour_are_not_a_chart():
    """A grid of square tiles with dark grout, all one colour: the shape, but not the colours, of a chart."""
    wall = np.full((400, 600, 3), 30, np.uint8)
    for row in range(8):
        for col in range(12):
            wall[10 + 48 * row: 50 + 48 * row, 10 + 48 * col: 50 + 48 * col] = (180, 170, 150)
    assert len(chart_screen.patch_candidates(wall)) == 96
    assert chart_screen.largest_grid(chart_screen.patch_candidates(wall)) == 1
    assert not chart_screen.may_show_chart(wall)
