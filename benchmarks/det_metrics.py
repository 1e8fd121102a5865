"""Text detection precision / recall / H-mean with PaddleOCR's exact rules.

Re-implements ``ppocr/metrics/eval_det_iou.py`` (``DetectionIoUEvaluator``, from MhLiao/DB's
``icdar2015_eval``) as used by ``ppocr/metrics/det_metric.py`` in PaddleOCR 2.7 (the pip package
of paddleocr 2.7.3 does not ship ``ppocr/metrics``; the rules below were read from the release
source). The rules, each covered by ``tests/test_metrics_det.py``:

1. A GT or predicted polygon that shapely finds invalid or not simple is dropped (it counts
   nowhere: not as GT, not as a prediction).
2. GT marked don't care (``###``) is not counted as GT.
3. A prediction whose intersection with a (valid) don't-care GT covers MORE than 0.5 of the
   prediction's OWN area is excluded (not counted as a prediction).
4. Matching is greedy and one-to-one: GT in order, then predictions in order; a pair matches
   when neither is taken, neither is don't care, and IoU > 0.5 strictly.
5. Counts are pooled over the dataset (sum of matches / sum of care GT / sum of care
   predictions), not averaged per image.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from shapely.geometry import Polygon

IOU_THRESHOLD = 0.5
AREA_PRECISION_THRESHOLD = 0.5

PolygonLike = Sequence[Sequence[float]]  # [[x, y], ...] (>= 3 points), image pixels


@dataclass
class DetImageResult:
    """Outcome on one image. Indices refer to the caller's original GT / prediction lists."""

    gt_care: int
    det_care: int
    matched: int
    pairs: List[Tuple[int, int]] = field(default_factory=list)  # (gt index, pred index) matched
    gt_dont_care: List[int] = field(default_factory=list)
    det_dont_care: List[int] = field(default_factory=list)
    gt_invalid: List[int] = field(default_factory=list)
    det_invalid: List[int] = field(default_factory=list)


@dataclass
class DetMetrics:
    """Dataset-level detection metrics from pooled counts (fractions in [0, 1])."""

    precision: float
    recall: float
    hmean: float
    gt_care: int
    det_care: int
    matched: int
    images: int

    def to_dict(self) -> Dict[str, float]:
        return asdict(self)


def _polygon(points: PolygonLike) -> Optional[Polygon]:
    """shapely polygon, or None when PaddleOCR would drop it (invalid / not simple / unparseable)."""
    try:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        poly = Polygon(pts)
        if not poly.is_valid or not poly.is_simple:
            return None
        return poly
    except (ValueError, TypeError):  # fewer than 3 points, ragged input
        return None


def iou(a: Polygon, b: Polygon) -> float:
    """Intersection over union of two valid polygons."""
    inter = a.intersection(b).area
    if inter == 0.0:
        return 0.0
    union = a.union(b).area
    return inter / union if union > 0 else 0.0


def evaluate_image(
    gt_polys: Sequence[PolygonLike],
    gt_ignore: Sequence[bool],
    det_polys: Sequence[PolygonLike],
    iou_threshold: float = IOU_THRESHOLD,
    area_precision_threshold: float = AREA_PRECISION_THRESHOLD,
) -> DetImageResult:
    """Apply rules 1-4 to one image. ``gt_ignore[i]`` is True for don't-care GT."""
    if len(gt_polys) != len(gt_ignore):
        raise ValueError(f"{len(gt_polys)} GT polygons but {len(gt_ignore)} ignore flags")
    gts: List[Tuple[int, Polygon]] = []
    gt_invalid, gt_dc = [], []
    for i, pts in enumerate(gt_polys):
        poly = _polygon(pts)
        if poly is None:
            gt_invalid.append(i)
            continue
        gts.append((i, poly))
        if gt_ignore[i]:
            gt_dc.append(i)
    dc_polys = [p for i, p in gts if i in set(gt_dc)]

    dets: List[Tuple[int, Polygon]] = []
    det_invalid, det_dc = [], []
    for j, pts in enumerate(det_polys):
        poly = _polygon(pts)
        if poly is None:
            det_invalid.append(j)
            continue
        dets.append((j, poly))
        area = poly.area
        for dc in dc_polys:  # first don't-care GT covering > 0.5 of the prediction's own area
            covered = 0.0 if area == 0 else dc.intersection(poly).area / area
            if covered > area_precision_threshold:
                det_dc.append(j)
                break

    pairs: List[Tuple[int, int]] = []
    gt_dc_set, det_dc_set = set(gt_dc), set(det_dc)
    gt_taken, det_taken = set(), set()
    for gi, gpoly in gts:
        if gi in gt_dc_set:
            continue
        for dj, dpoly in dets:
            if gi in gt_taken:
                break
            if dj in det_taken or dj in det_dc_set:
                continue
            if iou(dpoly, gpoly) > iou_threshold:
                gt_taken.add(gi)
                det_taken.add(dj)
                pairs.append((gi, dj))
    return DetImageResult(
        gt_care=len(gts) - len(gt_dc),
        det_care=len(dets) - len(det_dc),
        matched=len(pairs),
        pairs=pairs,
        gt_dont_care=gt_dc,
        det_dont_care=det_dc,
        gt_invalid=gt_invalid,
        det_invalid=det_invalid,
    )


def hmean(precision: float, recall: float) -> float:
    """Harmonic mean; 0 when both are 0."""
    return 0.0 if precision + recall == 0 else 2.0 * precision * recall / (precision + recall)


def combine(results: Iterable[DetImageResult]) -> DetMetrics:
    """Rule 5: pool the counts of all images (PaddleOCR ``combine_results``)."""
    results = list(results)
    gt_care = sum(r.gt_care for r in results)
    det_care = sum(r.det_care for r in results)
    matched = sum(r.matched for r in results)
    recall = 0.0 if gt_care == 0 else matched / gt_care
    precision = 0.0 if det_care == 0 else matched / det_care
    return DetMetrics(precision=precision, recall=recall, hmean=hmean(precision, recall),
                      gt_care=gt_care, det_care=det_care, matched=matched, images=len(results))


def box_agreement(reference: Sequence[Sequence[PolygonLike]], boxes: Sequence[Sequence[PolygonLike]]) -> float:
    """How much of one detector's output another reproduces: the H-mean of ``boxes`` scored with ``reference``
    as ground truth (no don't-care), pooled over images, in [0, 1]; 1.0 when both found nothing.

    The accuracy gate shows it beside the labelled drop (issue 10): a quantized detector that moves many boxes
    of its fp32 parent has a wide paired interval even when its H-mean barely moves, because each moved box can
    flip a match with the labels either way."""
    if len(reference) != len(boxes):
        raise ValueError(f"{len(reference)} reference images but {len(boxes)} candidate images")
    results = [evaluate_image(ref, [False] * len(ref), got) for ref, got in zip(reference, boxes)]
    pooled = combine(results)
    return 1.0 if pooled.gt_care + pooled.det_care == 0 else pooled.hmean
