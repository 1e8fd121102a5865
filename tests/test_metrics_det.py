"""Detection metric rules (PaddleOCR ``eval_det_iou.py``), one hand-made case per rule.

Boxes are axis-aligned rectangles written as 4-point polygons so the expected IoU/coverage can be
checked by hand in the comments.
"""
import pytest

from edgeocr.benchmarks.det_metrics import box_agreement, combine, evaluate_image, hmean


def rect(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


BOWTIE = [[0, 0], [10, 10], [10, 0], [0, 10]]  # self-intersecting: shapely says invalid


def test_iou_must_be_strictly_greater_than_half():
    gt = [rect(0, 0, 2, 1)]  # area 2
    exactly_half = evaluate_image(gt, [False], [rect(0, 0, 1, 1)])  # IoU = 1/2
    above = evaluate_image(gt, [False], [rect(0, 0, 1.2, 1)])  # IoU = 1.2/2 = 0.6
    assert exactly_half.matched == 0
    assert above.matched == 1 and above.pairs == [(0, 0)]


def test_greedy_matching_in_gt_order_then_prediction_order():
    # GT0 = 10x10 (100), GT1 = 10x7 (70).
    # P_a = 10x8 at top: IoU(GT0)=0.8, IoU(GT1)=70/80=0.875.
    # P_b = 10x10 shifted down by 2: IoU(GT0)=80/120=0.667, IoU(GT1)=50/120=0.417 (no match).
    gts, ign = [rect(0, 0, 10, 10), rect(0, 0, 10, 7)], [False, False]
    p_a, p_b = rect(0, 0, 10, 8), rect(0, 2, 10, 12)
    # GT0 takes the first prediction above 0.5 (P_a), not the best one; GT1 is then left alone.
    first = evaluate_image(gts, ign, [p_a, p_b])
    assert first.pairs == [(0, 0)] and first.matched == 1
    # Same boxes, other prediction order: GT0 takes P_b, GT1 takes P_a -> 2 matches.
    second = evaluate_image(gts, ign, [p_b, p_a])
    assert second.pairs == [(0, 0), (1, 1)] and second.matched == 2


def test_matching_is_one_to_one():
    # Two identical predictions on one GT: one match, one false positive.
    res = evaluate_image([rect(0, 0, 10, 10)], [False], [rect(0, 0, 10, 10), rect(0, 0, 10, 10)])
    assert res.matched == 1 and res.det_care == 2
    # Two identical GTs and one prediction: one match, one miss.
    res = evaluate_image([rect(0, 0, 10, 10), rect(0, 0, 10, 10)], [False, False], [rect(0, 0, 10, 10)])
    assert res.matched == 1 and res.gt_care == 2


def test_dont_care_gt_is_not_counted_and_cannot_be_matched():
    res = evaluate_image([rect(0, 0, 10, 10), rect(20, 0, 30, 10)], [True, False], [rect(0, 0, 10, 10)])
    assert res.gt_care == 1
    assert res.matched == 0
    assert res.gt_dont_care == [0]
    assert res.det_dont_care == [0] and res.det_care == 0  # the prediction sits on the don't-care GT


def test_prediction_excluded_by_more_than_half_of_its_own_area():
    dc = [rect(0, 0, 10, 10)]
    half = evaluate_image(dc, [True], [rect(5, 0, 15, 10)])  # 50/100 covered: kept (not > 0.5)
    more = evaluate_image(dc, [True], [rect(4, 0, 14, 10)])  # 60/100 covered: excluded
    assert (half.det_care, half.det_dont_care) == (1, [])
    assert (more.det_care, more.det_dont_care) == (0, [0])


def test_dont_care_uses_prediction_area_not_iou():
    dc = [rect(0, 0, 10, 10)]
    small_inside = evaluate_image(dc, [True], [rect(0, 0, 2, 2)])  # IoU 0.04 but 100% of its own area
    big_around = evaluate_image(dc, [True], [rect(0, 0, 100, 100)])  # IoU 0.01, covers 1% of itself
    assert small_inside.det_care == 0
    assert big_around.det_care == 1


def test_invalid_polygons_are_dropped():
    gt_bad = evaluate_image([BOWTIE, rect(20, 0, 30, 10)], [False, False], [rect(20, 0, 30, 10)])
    assert gt_bad.gt_invalid == [0] and gt_bad.gt_care == 1 and gt_bad.matched == 1
    det_bad = evaluate_image([rect(0, 0, 10, 10)], [False], [BOWTIE, rect(0, 0, 10, 10)])
    assert det_bad.det_invalid == [0] and det_bad.det_care == 1 and det_bad.pairs == [(0, 1)]
    degenerate = evaluate_image([rect(0, 0, 10, 10)], [False], [[[1, 1], [1, 1], [1, 1], [1, 1]], [[0, 0], [1, 1]]])
    assert degenerate.det_invalid == [0, 1] and degenerate.det_care == 0
    # An invalid don't-care GT excludes nothing.
    dc_bad = evaluate_image([BOWTIE], [True], [rect(0, 0, 10, 10)])
    assert dc_bad.gt_care == 0 and dc_bad.det_care == 1


def test_counts_are_pooled_over_images_not_averaged():
    a = evaluate_image([rect(0, 0, 10, 10)], [False], [rect(0, 0, 10, 10)])  # recall 1/1
    b = evaluate_image([rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(40, 0, 50, 10)], [False] * 3,
                       [rect(60, 0, 70, 10)])  # recall 0/3, precision 0/1
    m = combine([a, b])
    assert (m.matched, m.gt_care, m.det_care, m.images) == (1, 4, 2, 2)
    assert m.recall == pytest.approx(0.25)  # pooled; the per-image mean would be 0.5
    assert m.precision == pytest.approx(0.5)
    assert m.hmean == pytest.approx(2 * 0.25 * 0.5 / 0.75)


def test_empty_cases():
    assert combine([]).hmean == 0.0
    none = combine([evaluate_image([], [], [])])
    assert (none.precision, none.recall, none.hmean) == (0.0, 0.0, 0.0)
    assert hmean(0.0, 0.0) == 0.0
    with pytest.raises(ValueError):
        evaluate_image([rect(0, 0, 1, 1)], [], [])


def test_rotated_quadrilaterals():
    # A diamond and its axis-aligned bounding square: IoU = 0.5 exactly -> no match.
    diamond = [[5, 0], [10, 5], [5, 10], [0, 5]]
    assert evaluate_image([rect(0, 0, 10, 10)], [False], [diamond]).matched == 0
    # Same diamond as GT and prediction with points in another start order: IoU 1.
    assert evaluate_image([diamond], [False], [[[10, 5], [5, 10], [0, 5], [5, 0]]]).matched == 1


def test_box_agreement_is_the_hmean_against_the_reference_boxes():
    ref = [[rect(0, 0, 10, 10), rect(20, 0, 30, 10)], [rect(0, 0, 5, 5)], []]
    assert box_agreement(ref, ref) == 1.0
    assert box_agreement([[], []], [[], []]) == 1.0  # nothing found by either: they agree
    # image 0: one box moved off (IoU 0), one kept; image 1: kept plus an extra box; image 2: an extra box
    moved = [[rect(0, 0, 10, 10), rect(26, 0, 36, 10)], [rect(0, 0, 5, 5), rect(50, 50, 60, 60)], [rect(0, 0, 1, 1)]]
    # matched 2 of 3 reference boxes and 2 of 5 candidate boxes: P = 2/5, R = 2/3, H = 2PR / (P + R) = 1/2
    assert box_agreement(ref, moved) == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="2 reference images but 1 candidate"):
        box_agreement(ref[:2], ref[:1])
