"""The smallest detectable change stored with a scoring model (scoring.model), and how compare uses it."""

from __future__ import annotations

import json

import pytest

from pigmentscan.errors import ModelError
from pigmentscan.scoring import load_model

PHANTOM_SDC = {"masi": 0.8, "lesion_area_pct": 2.1, "source": "phantom retests: 7 faces, 4 drifted photos each"}


def _model_file(tmp_path, section, name="with_sdc.json"):
    data = json.loads(load_model().to_json())
    if section is None:
        data.pop("smallest_detectable_change", None)
    else:
        data["smallest_detectable_change"] = section
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_the_section_round_trips_and_is_part_of_what_the_model_is(tmp_path):
    model = load_model(_model_file(tmp_path, PHANTOM_SDC))
    assert model.smallest_detectable_change == PHANTOM_SDC
    again = load_model(_model_file(tmp_path, json.loads(model.to_json())["smallest_detectable_change"], "again.json"))
    assert again.smallest_detectable_change == PHANTOM_SDC and again.content_hash == model.content_hash
    assert load_model(_model_file(tmp_path, None, "none.json")).smallest_detectable_change == {}


@pytest.mark.parametrize("section, message", [
    ({"masi": 0.8}, "source"),
    ({"masi": 0.8, "source": "  "}, "source"),
    ({"source": "phantom retests"}, "at least one"),
    ({"masi": -1.0, "source": "phantom retests"}, "0 or more"),
    ({"masi": "0.8", "source": "phantom retests"}, "finite number"),
    ([0.8], "object"),
])
def test_a_bad_section_is_refused_naming_the_file(tmp_path, section, message):
    with pytest.raises(ModelError, match=message) as info:
        load_model(_model_file(tmp_path, section, "bad.json"))
    assert "bad.json" in str(info.value)
