"""End-to-end metric rules: geometric match (det rules) + identical text."""
import pytest

from edgeocr.benchmarks.e2e_metrics import combine_e2e, evaluate_image_e2e
from edgeocr.benchmarks.rec_metrics import TextNorm


def rect(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


GTS = [rect(0, 0, 10, 10), rect(20, 0, 30, 10)]


def test_hit_needs_match_and_identical_text():
    r = evaluate_image_e2e(GTS, ["JOINT", "154"], [False, False],
                           [rect(0, 0, 10, 10), rect(20, 0, 30, 10)], ["JOINT", "15A"])
    assert r.hits == 1 and r.misread == [(1, 1)]
    m = combine_e2e([r])
    assert (m.hits, m.gt_care, m.det_care) == (1, 2, 2)
    assert m.precision == pytest.approx(0.5) and m.recall == pytest.approx(0.5)


def test_right_text_without_geometric_match_is_no_hit():
    # IoU = 0.5 exactly (half the box): not a match, so the correct text does not count.
    r = evaluate_image_e2e([rect(0, 0, 10, 10)], ["JOINT"], [False], [rect(0, 0, 5, 10)], ["JOINT"])
    assert r.hits == 0 and r.det.matched == 0


def test_matching_is_geometric_only_text_does_not_reorder():
    # Both predictions overlap the GT; the first one (wrong text) takes it by det's greedy order.
    r = evaluate_image_e2e([rect(0, 0, 10, 10)], ["JOINT"], [False],
                           [rect(0, 0, 10, 9), rect(0, 0, 10, 10)], ["J0INT", "JOINT"])
    assert r.det.pairs == [(0, 0)] and r.hits == 0


def test_dont_care_excluded_from_both_sides():
    r = evaluate_image_e2e([rect(0, 0, 10, 10), rect(20, 0, 30, 10)], ["###", "154"], [True, False],
                           [rect(0, 0, 10, 10), rect(20, 0, 30, 10)], ["###", "154"])
    m = combine_e2e([r])
    assert (m.hits, m.gt_care, m.det_care) == (1, 1, 1)
    assert m.hmean == 1.0


def test_text_normalisation_applies():
    args = ([rect(0, 0, 10, 10)], ["AT HIGH"], [False], [rect(0, 0, 10, 10)])
    assert evaluate_image_e2e(*args, ["ATHIGH"]).hits == 1  # spaces removed
    assert evaluate_image_e2e(*args, ["at high"]).hits == 0  # case-sensitive default
    assert evaluate_image_e2e(*args, ["at high"], norm=TextNorm(case_insensitive=True)).hits == 1


def test_pooled_and_length_check():
    a = evaluate_image_e2e(GTS, ["A", "B"], [False, False], [rect(0, 0, 10, 10)], ["A"])
    b = evaluate_image_e2e([rect(0, 0, 10, 10)], ["C"], [False], [], [])
    m = combine_e2e([a, b])
    assert (m.hits, m.gt_care, m.det_care) == (1, 3, 1)
    assert m.recall == pytest.approx(1 / 3) and m.precision == 1.0
    with pytest.raises(ValueError):
        evaluate_image_e2e(GTS, ["A", "B"], [False, False], [rect(0, 0, 1, 1)], [])
