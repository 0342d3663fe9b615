"""The normal-skin expectation (step 1 of the lesion stage) on synthetic readings: no photos needed."""

from __future__ import annotations

import numpy as np
import pytest

from pigmentscan.lesions import normal_skin_expectation

SIZE = 120


def _fit(reading):
    skin = np.ones(reading.shape, bool)
    return normal_skin_expectation(reading, [], np.zeros(reading.shape + (1,)), np.zeros(0), skin,
                                   width=2.5, prior_weight=50.0)


def _reading(covered_share, excess_jnd, seed=0):
    """Normal skin (SD 0.4 JND) with a confluent patch of ``excess_jnd`` over the top ``covered_share`` of rows."""
    rng = np.random.default_rng(seed)
    reading = 5.0 + 0.4 * rng.standard_normal((SIZE, SIZE))
    covered = np.zeros((SIZE, SIZE), bool)
    covered[: int(round(covered_share * SIZE))] = True
    return reading + excess_jnd * covered, covered


@pytest.mark.parametrize("covered_share", [0.8, 0.84, 0.88])
def test_confluent_pigment_over_most_of_the_skin_keeps_its_excess(covered_share):
    # Pigment outnumbering the clear skin (four to one and more, beyond what the fit's start
    # from the lower 30 % of the skin copes with) must not become the expectation: the clear skin
    # is the lowest population, and the patch keeps its 2.5 JND above it.
    reading, covered = _reading(covered_share, 2.5)
    fit = _fit(reading)
    excess = reading - fit.expected_jnd
    assert np.median(excess[covered]) == pytest.approx(2.5, abs=0.3)
    assert np.median(excess[~covered]) == pytest.approx(0.0, abs=0.3)


def test_a_clean_reading_is_not_pulled_down_to_its_lower_tail():
    # A single population (a clean face): the fit sits at its middle, not below it.
    reading, _ = _reading(0.0, 0.0, seed=1)
    fit = _fit(reading)
    assert np.median(reading - fit.expected_jnd) == pytest.approx(0.0, abs=0.1)
    assert fit.spread_jnd == pytest.approx(0.4, abs=0.08)


def test_skin_covered_all_over_reads_as_the_faces_tone():
    # Documented limit: with no clear skin left there is nothing to measure against.
    reading, covered = _reading(1.0, 2.5)
    assert np.median(reading - _fit(reading).expected_jnd) == pytest.approx(0.0, abs=0.3)


def test_the_restart_can_be_turned_off_for_clean_faces():
    # Learning the template from clean faces turns the restart off: the same confluent reading
    # that keeps its excess with the restart then settles on the pigment, as the fit alone does.
    reading, covered = _reading(0.88, 2.5)
    skin = np.ones(reading.shape, bool)
    kwargs = dict(width=2.5, prior_weight=50.0)
    without = normal_skin_expectation(reading, [], np.zeros(reading.shape + (1,)), np.zeros(0), skin,
                                      restart=False, **kwargs)
    assert np.median((reading - without.expected_jnd)[covered]) < 1.0
    assert np.median((reading - _fit(reading).expected_jnd)[covered]) == pytest.approx(2.5, abs=0.3)
