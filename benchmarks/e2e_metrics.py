"""End-to-end (detection + recognition) precision / recall / F on word-level GT.

Rules (ICDAR 2015 "end-to-end, generic" protocol on top of the det matching of
:mod:`edgeocr.benchmarks.det_metrics`; each covered by ``tests/test_metrics_e2e.py``):

1. Predicted boxes are matched to GT exactly as for detection (invalid polygons dropped,
   don't-care GT and predictions covered > 0.5 by a don't-care GT excluded, greedy one-to-one
   in GT order then prediction order, IoU > 0.5 strictly). Matching uses geometry only.
2. A matched pair is a correct end-to-end hit when the predicted text equals the GT
   transcription after :class:`~edgeocr.benchmarks.rec_metrics.TextNorm` normalisation
   (default: spaces removed, case-sensitive).
3. recall = hits / care GT, precision = hits / care predictions, F = harmonic mean; counts pooled
   over the dataset.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Sequence, Tuple

from .det_metrics import DetImageResult, PolygonLike, evaluate_image, hmean
from .text_norm import TextNorm


@dataclass
class E2EImageResult:
    det: DetImageResult
    hits: int
    misread: List[Tuple[int, int]] = field(default_factory=list)  # matched pairs with wrong text


@dataclass
class E2EMetrics:
    precision: float
    recall: float
    hmean: float
    hits: int
    gt_care: int
    det_care: int
    normalization: str

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


def evaluate_image_e2e(
    gt_polys: Sequence[PolygonLike],
    gt_texts: Sequence[str],
    gt_ignore: Sequence[bool],
    pred_polys: Sequence[PolygonLike],
    pred_texts: Sequence[str],
    norm: TextNorm = TextNorm(),
) -> E2EImageResult:
    """Rules 1-2 on one image."""
    if len(pred_polys) != len(pred_texts):
        raise ValueError(f"{len(pred_polys)} predicted boxes but {len(pred_texts)} texts")
    det = evaluate_image(gt_polys, gt_ignore, pred_polys)
    hits, misread = 0, []
    for gi, dj in det.pairs:
        if norm(pred_texts[dj]) == norm(gt_texts[gi]):
            hits += 1
        else:
            misread.append((gi, dj))
    return E2EImageResult(det=det, hits=hits, misread=misread)


def combine_e2e(results: Iterable[E2EImageResult], norm: TextNorm = TextNorm()) -> E2EMetrics:
    """Rule 3: pooled counts."""
    results = list(results)
    hits = sum(r.hits for r in results)
    gt_care = sum(r.det.gt_care for r in results)
    det_care = sum(r.det.det_care for r in results)
    recall = hits / gt_care if gt_care else 0.0
    precision = hits / det_care if det_care else 0.0
    return E2EMetrics(precision=precision, recall=recall, hmean=hmean(precision, recall), hits=hits,
                      gt_care=gt_care, det_care=det_care, normalization=norm.describe())
