"""A notebook user's view: the bundled sample photos, a one-line repr and an HTML view of a score."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

import pigmentscan
from pigmentscan.data import sample_folder, sample_images

REPO = Path(__file__).resolve().parents[1]


def test_sample_images_are_the_bundled_photos_from_any_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # not the repository root: the README's example must work anywhere
    expected = sorted(p.name for p in (REPO / "sample_images").iterdir() if p.suffix in (".jpg", ".png"))
    assert [p.name for p in sample_images()] == expected and len(expected) >= 2
    assert all(p.is_absolute() and p.is_file() for p in sample_images())
    assert sample_folder() == REPO / "sample_images"
    assert [p.name for p in sample_images("*_phantom.png")] == [n for n in expected if n.endswith("_phantom.png")]


@pytest.fixture(scope="module")
def score():
    return pigmentscan.score_image(sample_images("grace_hopper_phantom.png")[0])


def test_repr_is_one_short_line(score):
    text = repr(score)
    assert "\n" not in text and len(text) < 200  # 0.2.0 printed 33,531 characters
    assert text.startswith("FaceScore('grace_hopper_phantom.png'") and f"masi={score.masi:.2f}" in text
    assert f"status={score.status!r}" in text


def test_html_view_shows_the_overlay_and_the_region_table(score):
    page = score._repr_html_()
    encoded = re.search(r"src='data:image/jpeg;base64,([^']+)'", page).group(1)
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[0] >= 300  # a real, visible picture
    assert len(page) < 150_000
    for key, region in score.regions.items():
        row = re.search(rf"<tr><td[^>]*>{key.replace('_', ' ')}</td>(.*?)</tr>", page).group(1)
        cells = re.findall(r"<td>([^<]*)</td>", row)
        assert cells[:4] == [f"{region.area_pct:.1f}", str(region.area_score), str(region.darkness),
                             str(region.homogeneity)]
    assert f"MASI {score.masi:.1f} / 48" in page and score.status in page
