"""Paired bootstrap interval of an accuracy drop (issue 10): the statistics the gate decides with."""
from __future__ import annotations

import numpy as np
import pytest

from edgeocr.benchmarks.paired_bootstrap import accuracy_from_sums, hmean_from_sums, paired_drop
from edgeocr.errors import ConfigError


def _rec(correct):
    return np.array([[int(c), 1] for c in correct])


def test_identical_models_have_zero_drop_and_zero_width():
    rng = np.random.default_rng(0)
    p = _rec(rng.random(400) < 0.6)
    d = paired_drop(p, p.copy(), accuracy_from_sums)
    assert d.drop == 0.0 and d.ci_low == 0.0 and d.ci_high == 0.0
    assert not d.over_budget(0.0)


def test_pairing_makes_the_interval_tight_and_catches_a_real_drop():
    rng = np.random.default_rng(1)
    truth = rng.random(2000) < 0.6
    cand = truth.copy()
    flips = rng.choice(np.flatnonzero(truth), 60, replace=False)  # 60 of 2000 correct crops now wrong: 3 points
    cand[flips] = False
    d = paired_drop(_rec(truth), _rec(cand), accuracy_from_sums)
    assert d.drop == pytest.approx(3.0)
    assert 2.0 < d.ci_low < 3.0 < d.ci_high < 4.0  # paired: only the 60 flips vary, not the 2000-crop accuracy
    assert d.over_budget(1.0) and not d.over_budget(5.0)
    # the same drop measured unpaired would be ~+-3 points wide: the interval here is much tighter
    assert d.ci_high - d.ci_low < 1.5


def test_interval_entirely_above_budget_rejects_even_if_point_is_borderline():
    from edgeocr.benchmarks.paired_bootstrap import PairedDrop

    assert PairedDrop(50, 49.5, 0.5, 0.6, 0.7, 1000).over_budget(0.5)  # interval above the budget
    assert not PairedDrop(50, 49.5, 0.5, -0.2, 1.2, 1000).over_budget(0.5)  # point at budget, interval straddles


def test_det_hmean_is_pooled_over_resampled_images_and_seeded():
    # per image (matched, gt_care, det_care)
    p = np.array([[3, 4, 4], [1, 2, 1], [0, 1, 0], [5, 5, 6]] * 30)
    c = np.array([[3, 4, 5], [1, 2, 1], [0, 1, 1], [4, 5, 6]] * 30)
    d = paired_drop(p, c, hmean_from_sums)
    sums_p, sums_c = p.sum(0), c.sum(0)
    assert d.parent == pytest.approx(200 * sums_p[0] / (sums_p[1] + sums_p[2]), abs=1e-3)
    assert d.drop == pytest.approx(d.parent - d.candidate, abs=1e-3) and d.drop > 0
    assert d.ci_low <= d.drop <= d.ci_high
    assert paired_drop(p, c, hmean_from_sums) == d  # seeded: the same verdict every time


def test_bad_inputs_are_refused():
    with pytest.raises(ConfigError, match="equal, non-empty"):
        paired_drop(_rec([1, 0]), _rec([1]), accuracy_from_sums)
    with pytest.raises(ConfigError, match="resamples=10"):
        paired_drop(_rec([1, 0]), _rec([1, 1]), accuracy_from_sums, resamples=10)
