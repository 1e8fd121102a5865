"""Parity with PaddleOCR 2.7.3's own pipeline (issue 3, item 5).

On every image of paddleocr_doc_imgs and 50 ICDAR 2015 images, ``OCR`` on the ``onnx-fp32`` and
``lite-x86-fp32`` bundles must give what ``paddleocr.PaddleOCR(...).ocr()`` gives with the
original Paddle models: the same number of lines, each of our boxes matched one-to-one to an
oracle box with IoU >= 0.9, identical text for every matched pair, and the same reading order.
Guards against the classic drifts of re-implementations (DB resize rounding, unclip, box score,
crop rotation, batching by width; PaddleOCR issues #2496 and #4959).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
from shapely.geometry import Polygon

pytest_plugins = ["conftest_runtime"]

IOU_MIN = 0.9
VARIANTS = ("onnx-fp32", "lite-x86-fp32")


def iou(a: List[List[float]], b: List[List[float]]) -> float:
    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    union = pa.union(pb).area
    return pa.intersection(pb).area / union if union > 0 else 0.0


def match_lines(ours: list, oracle: list) -> List[Tuple[int, int, float]]:
    """Greedy one-to-one matching by IoU (best pairs first); returns ``(ours_i, oracle_j, iou)``."""
    pairs = sorted(
        ((iou(a["box"], b["box"]), i, j) for i, a in enumerate(ours) for j, b in enumerate(oracle)), reverse=True
    )
    used_i, used_j, matches = set(), set(), []
    for score, i, j in pairs:
        if score >= IOU_MIN and i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            matches.append((i, j, score))
    return matches


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_same_lines_as_paddleocr(parity_image: Path, variant: str, ocr_by_variant, oracle_results) -> None:
    """``parity_image`` is parametrized by conftest_runtime over the 60 parity images."""
    expected = oracle_results[str(parity_image)] or []
    ours = [line.to_dict() for line in ocr_by_variant(variant)(parity_image).lines]
    assert len(ours) == len(expected), (
        f"{variant}: {len(ours)} lines vs PaddleOCR {len(expected)}\n ours:   {[l['text'] for l in ours]}\n"
        f" oracle: {[l['text'] for l in expected]}"
    )
    matches = match_lines(ours, expected)
    unmatched = sorted(set(range(len(ours))) - {i for i, _, _ in matches})
    assert not unmatched, f"{variant}: boxes without an IoU>={IOU_MIN} partner: {[ours[i] for i in unmatched]}"
    misread = [(ours[i]["text"], expected[j]["text"]) for i, j, _ in matches if ours[i]["text"] != expected[j]["text"]]
    assert not misread, f"{variant}: texts differ (ours, PaddleOCR): {misread}"
    assert [i for i, _, _ in sorted(matches, key=lambda m: m[1])] == list(range(len(ours))), "reading order differs"
