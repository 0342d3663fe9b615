"""Face maps (pigmentscan.face_maps) and the pigment left in the baseline's lesions
(pigmentscan.longitudinal.pigment), on a real photo with simulated melasma (sample_images/)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pigmentscan
from pigmentscan.errors import MapsError
from pigmentscan.face_maps import FaceMaps, face_maps, face_maps_bytes, maps_path, read_face_maps
from pigmentscan.landmarks import LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE
from pigmentscan.longitudinal import add_lesion_pigment, changes_from_baseline, lesion_pigment_change
from pigmentscan.longitudinal.pigment import MIN_BASELINE_LESION_PCT
from pigmentscan.regions import REGION_KEYS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def maps():
    score = pigmentscan.score_image(REPO / "sample_images" / "astronaut_eileen_collins_phantom.png")
    return face_maps(score), score


def scaled(maps: FaceMaps, factor: float) -> FaceMaps:
    """The same face, its melanin map multiplied by ``factor`` (pigment lighter or darker)."""
    return dataclasses.replace(maps, melanin=maps.melanin * np.float32(factor))


def test_maps_are_the_analysis_at_a_quarter_of_its_scale(maps):
    small, score = maps
    assert small.iod_px == pytest.approx(50.0, rel=0.02)
    full = score.analysis.lesion_mask.mean()
    assert small.lesion_mask.mean() == pytest.approx(full, abs=0.01)  # the same lesions, resampled
    for key in REGION_KEYS:
        assert small.region_masks[key].any()
    # landmarks on the small grid: the pupils are iod_px apart
    iod = np.linalg.norm(small.points_px[LEFT_IRIS_CENTRE] - small.points_px[RIGHT_IRIS_CENTRE])
    assert iod == pytest.approx(small.iod_px, rel=1e-6)


def test_maps_file_round_trip(maps, tmp_path):
    small, _ = maps
    path = maps_path(tmp_path, "AB" * 32)
    assert path.name == "ab" * 32 + ".npz"
    path.write_bytes(face_maps_bytes(maps[1]))
    back = read_face_maps(path)
    assert np.array_equal(back.lesion_mask, small.lesion_mask) and np.array_equal(back.skin_mask, small.skin_mask)
    for key in REGION_KEYS:
        assert np.array_equal(back.region_masks[key], small.region_masks[key])
    inside = np.logical_or.reduce(list(small.region_masks.values()))
    assert np.allclose(back.melanin[inside], small.melanin[inside], atol=1e-2)  # float16 of JND (0-10)
    assert (back.model, back.pigmentscan_version) == (small.model, small.pigmentscan_version)
    with pytest.raises(ValueError):
        maps_path(tmp_path, "../../etc/passwd")


def test_bad_maps_files_are_refused_naming_the_file(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.array([{"a": 1}], dtype=object))
    other = tmp_path / "other.npz"
    np.savez(other, format=np.array("something else"))
    for path in (broken, pickled, other, tmp_path / "missing.npz"):
        with pytest.raises(MapsError, match=path.name):
            read_face_maps(path)


def test_the_same_photo_keeps_all_its_pigment(maps):
    small, _ = maps
    change = lesion_pigment_change(small, small)
    assert change.remaining_pct == pytest.approx(100.0, abs=1e-3)
    assert change.note == "" and change.compared_pct > 90
    # the phantom put pigment in every region
    assert all(r["baseline_lesion_pct"] > MIN_BASELINE_LESION_PCT for r in change.regions.values())


@pytest.mark.parametrize("factor", [0.5, 0.0, 1.2])
def test_remaining_pigment_follows_the_lesions_contrast(maps, factor):
    # melanin above the common normal skin is summed linearly over the same pixels: scaling the
    # map scales the sum
    small, _ = maps
    change = lesion_pigment_change(small, scaled(small, factor))
    assert change.remaining_pct == pytest.approx(100.0 * factor, abs=0.01)
    for region in change.regions.values():
        assert region["remaining_pct"] == pytest.approx(100.0 * factor, abs=0.01)
        assert region["pigment_change_od"] == pytest.approx((factor - 1) * region["baseline_pigment_od"], abs=1e-6)


def test_lesions_lighter_than_normal_skin_count_as_no_pigment_never_below(maps):
    # a negative map puts the baseline's lesions below the normal skin: -50 % of the pigment is
    # not a quantity, so it is 0 with a note (and a change below -100 % cannot be produced)
    small, _ = maps
    change = lesion_pigment_change(small, scaled(small, -0.5))
    assert change.remaining_pct == 0.0 and "-50 %" in change.note and "lighter" in change.note
    assert all(region["remaining_pct"] == 0.0 for region in change.regions.values())


def test_drift_of_the_whole_map_and_the_later_lesion_mask_do_not_count(maps):
    small, _ = maps
    # exposure or white balance move the whole melanin map; the common normal skin moves with it
    brighter = dataclasses.replace(small, melanin=small.melanin + np.float32(0.3))
    assert lesion_pigment_change(small, brighter).remaining_pct == pytest.approx(100.0, abs=0.01)
    # the later photo's own lesion mask only chooses which skin is normal in both: finding
    # no lesion at all in it does not make its pigment vanish
    missed = dataclasses.replace(small, lesion_mask=np.zeros_like(small.lesion_mask))
    assert lesion_pigment_change(small, missed).remaining_pct == pytest.approx(100.0, abs=0.01)


def test_pigment_that_faded_in_one_region_is_missing_there_only(maps):
    small, _ = maps
    forehead = small.region_masks["forehead"]
    normal = forehead & small.skin_mask & ~small.lesion_mask
    cleared = small.melanin.copy()
    cleared[forehead & small.lesion_mask] = small.melanin[normal].mean()  # the patches now look like normal skin
    change = lesion_pigment_change(small, dataclasses.replace(small, melanin=cleared))
    # what is left is the patches' soft edges just outside the mask, read in its margin
    assert change.regions["forehead"]["remaining_pct"] < 40
    for key in ("right_malar", "left_malar", "chin"):
        assert change.regions[key]["remaining_pct"] == pytest.approx(100.0, abs=1.0)
    # the total weighs each region's pigment: between the forehead's and the others'
    assert change.regions["forehead"]["remaining_pct"] + 20 < change.remaining_pct < 99


def test_a_clear_baseline_or_an_unseen_face_gives_no_ratio(maps):
    small, _ = maps
    clear = dataclasses.replace(small, lesion_mask=np.zeros_like(small.lesion_mask))
    change = lesion_pigment_change(clear, small)
    assert math.isnan(change.remaining_pct) and "too little pigment" in change.note
    hidden = dataclasses.replace(small, skin_mask=np.zeros_like(small.skin_mask))
    change = lesion_pigment_change(small, hidden)
    assert math.isnan(change.remaining_pct) and "seen in both photos" in change.note


def test_scores_table_gets_each_photos_pigment_against_its_subjects_baseline(maps):
    small, _ = maps
    scores = pd.DataFrame({"image": ["a0", "a1", "a2", "b0", "b1"], "subject": ["A", "A", "A", "B", "B"],
                           "visit": ["baseline", "week 12", "week 4", "baseline", "week 4"], "masi": 5.0})
    by_image = {"a0": small, "a1": scaled(small, 0.25), "a2": scaled(small, 0.75), "b1": small}  # no maps for b0
    with_pigment = add_lesion_pigment(scores, by_image).set_index("image")
    assert with_pigment.loc[["a0", "a2", "a1"], "lesion_pigment_pct"].round(2).tolist() == [100.0, 75.0, 25.0]
    assert with_pigment.loc[["b0", "b1"], "lesion_pigment_pct"].isna().all()
    assert with_pigment.loc["b1", "lesion_pigment_note"] == "no maps for the subject's baseline photo"
    changes = changes_from_baseline(with_pigment.reset_index(), sdc={"lesion_pigment_pct": 10.0})
    a = changes[changes["subject"] == "A"]
    assert a["lesion_pigment_pct_change"].round(2).tolist() == [0.0, -25.0, -75.0]
    assert a["detected_change"].tolist() == ["none", "improved", "improved"]  # the default detect_by


def test_a_subject_whose_baseline_photo_failed_gets_no_pigment(maps):
    small, _ = maps
    scores = pd.DataFrame({"image": ["a0", "a1"], "subject": "A", "visit": ["baseline", "week 4"], "masi": [None, 5.0],
                           "status": ["error", "ok"]})
    out = add_lesion_pigment(scores, {"a0": small, "a1": small})
    assert out["lesion_pigment_pct"].isna().all()
    assert out.loc[1, "lesion_pigment_note"] == "the subject's baseline photo was not scored"


def test_maps_of_another_model_are_not_compared(maps):
    small, _ = maps
    other = dataclasses.replace(small, model="other@123")
    scores = pd.DataFrame({"image": ["a0", "a1"], "subject": "A", "visit": ["baseline", "week 4"], "masi": 5.0})
    out = add_lesion_pigment(scores, {"a0": small, "a1": other})
    assert math.isnan(out.loc[1, "lesion_pigment_pct"]) and "another model" in out.loc[1, "lesion_pigment_note"]
