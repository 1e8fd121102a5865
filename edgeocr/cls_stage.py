"""Text-line orientation (0 / 180 degrees): PaddleOCR 2.7.3 ``TextClassifier``.

Pre-processing resizes each crop to height 48 keeping its aspect ratio (at most 192 wide),
normalizes to [-1, 1] and right-pads with zeros; crops are batched in order of aspect ratio.
Post-processing takes the arg-max label and rotates a crop by 180 degrees when that label is
"180" and its probability is above ``thresh``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Sequence, Tuple

import cv2
import numpy as np

from .rec_preprocess import normalize_unit_chw, resized_width
from .stage_params import ClsParams


@dataclass
class ClsOutput:
    """Classifier result, one entry per input crop, in input order.

    ``crops``: the crops, rotated where the classifier said "180" with enough confidence
    (``[h, w, 3]`` uint8 BGR). ``labels``/``scores``: arg-max label and its probability.
    ``elapse``: seconds spent in pre-processing, inference and post-processing. ``rotated``: which
    crops were turned by 180 degrees.
    """

    crops: List[np.ndarray] = field(repr=False)
    labels: List[str]
    scores: List[float]
    elapse: float = 0.0
    rotated: List[bool] = field(default_factory=list)
    infer: float = 0.0  # seconds inside the backend


def resize_norm_crop(img: np.ndarray, image_shape: Tuple[int, int, int]) -> np.ndarray:
    """``TextClassifier.resize_norm_img``: ``[h, w, 3]`` uint8 BGR -> ``[C, H, W]`` float32 in [-1, 1].

    The crop is resized to height ``H`` and width ``min(W, ceil(H * w / h))``; the rest of the
    width is zero (which is mid-grey after normalization, as in training).
    """
    img_c, img_h, img_w = image_shape
    resized_w = resized_width(img.shape[0], img.shape[1], img_h, img_w)
    resized = cv2.resize(img, (resized_w, img_h))
    padded = np.zeros((img_c, img_h, img_w), dtype=np.float32)
    if img_c == 1:
        gray = resized.astype(np.float32)[np.newaxis, :] / 255
        gray -= 0.5
        gray /= 0.5
        padded[:, :, 0:resized_w] = gray
    else:
        padded[:, :, 0:resized_w] = normalize_unit_chw(resized)
    return padded


def aspect_order(crops: Sequence[np.ndarray]) -> np.ndarray:
    """Indices of ``crops`` sorted by width / height (NumPy's default quicksort, as PaddleOCR)."""
    return np.argsort(np.array([c.shape[1] / float(c.shape[0]) for c in crops]))


def cls_decode(probs: np.ndarray, labels: Sequence[str]) -> List[Tuple[str, float]]:
    """``ClsPostProcess``: ``[N, len(labels)]`` softmax -> ``(label, probability)`` per row."""
    idx = probs.argmax(axis=1)
    return [(labels[k], float(probs[i, k])) for i, k in enumerate(idx)]


def should_rotate(label: str, score: float, params: ClsParams) -> bool:
    """PaddleOCR's rule: rotate when the label is "180" and its score is above ``thresh``."""
    return "180" in label and score > params.thresh


def classify(crops: Sequence[np.ndarray], run: Callable[[np.ndarray], np.ndarray], params: ClsParams) -> ClsOutput:
    """Classify and, where needed, rotate ``crops`` with ``run`` (``[N, 3, 48, 192]`` -> ``[N, 2]``)."""
    crops = list(crops)
    n = len(crops)
    labels: List[str] = [""] * n
    scores: List[float] = [0.0] * n
    rotated = [False] * n
    order = aspect_order(crops) if n else np.zeros(0, dtype=np.int64)
    for beg in range(0, n, params.batch_size):
        idx = order[beg : beg + params.batch_size]
        batch = np.stack([resize_norm_crop(crops[k], params.image_shape) for k in idx])
        for k, (label, score) in zip(idx, cls_decode(run(batch), params.labels)):
            labels[k], scores[k] = label, score
            if should_rotate(label, score, params):
                crops[k] = cv2.rotate(crops[k], cv2.ROTATE_180)
                rotated[k] = True
    return ClsOutput(crops=crops, labels=labels, scores=scores, rotated=rotated)
