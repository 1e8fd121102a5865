"""Reading order of detected boxes: PaddleOCR 2.7.3 ``predict_system.sorted_boxes``.

Sort by the top-left corner (y, then x); then, like PaddleOCR, bubble a box left of its
predecessor when their top-left corners are less than ``SAME_LINE_DY`` pixels apart vertically,
so boxes on one slightly slanted line read left to right.
"""
from __future__ import annotations

from typing import List

import numpy as np

# Two boxes whose top-left y differ by less than this many pixels are on the same line
# (a PaddleOCR constant, not a tunable of the PP-OCRv2 model).
SAME_LINE_DY = 10


def sorted_boxes(dt_boxes: np.ndarray) -> List[np.ndarray]:
    """``[K, 4, 2]`` boxes -> list of ``[4, 2]`` boxes, top-to-bottom, left-to-right."""
    return [dt_boxes[k] for k in sort_order(dt_boxes)]


def sort_order(dt_boxes: np.ndarray) -> np.ndarray:
    """Indices that put ``dt_boxes`` in reading order (same rule as :func:`sorted_boxes`)."""
    keyed = sorted(range(dt_boxes.shape[0]), key=lambda k: (dt_boxes[k][0][1], dt_boxes[k][0][0]))
    for i in range(len(keyed) - 1):
        for j in range(i, -1, -1):
            a, b = dt_boxes[keyed[j]][0], dt_boxes[keyed[j + 1]][0]
            if abs(b[1] - a[1]) < SAME_LINE_DY and b[0] < a[0]:
                keyed[j], keyed[j + 1] = keyed[j + 1], keyed[j]
            else:
                break
    return np.asarray(keyed, dtype=np.int64)
