"""Recognizer input: PaddleOCR 2.7.3 ``TextRecognizer.resize_norm_img`` and its batching.

Crops are sorted by aspect ratio and cut into batches of ``batch_size``; every crop of a batch is
resized to height 32 keeping its ratio and right-padded with zeros to the batch width
``int(32 * max(320 / 32, widest w/h in the batch))``. Sorting keeps padding (wasted compute) small.
"""
from __future__ import annotations

import functools
import math
from typing import Iterator, Sequence, Tuple

import cv2
import numpy as np

from .stage_params import RecParams


@functools.lru_cache(maxsize=1)
def unit_range_lut() -> np.ndarray:
    """``[1, 256, 3]`` float32 lookup table of PaddleOCR's ``(x / 255 - 0.5) / 0.5`` for every uint8 x.

    Built with the very float32 operations PaddleOCR applies per pixel, so mapping a crop through
    it with ``cv2.LUT`` gives the same bits, several times faster.
    """
    values = np.repeat(np.arange(256, dtype=np.float32)[np.newaxis, :, np.newaxis], 3, axis=2) / 255
    values -= 0.5
    values /= 0.5
    return np.ascontiguousarray(values)


def normalize_unit_chw(img: np.ndarray) -> np.ndarray:
    """``[h, w, 3]`` uint8 -> ``[3, h, w]`` float32 ``(x / 255 - 0.5) / 0.5`` (bit-identical to PaddleOCR)."""
    return cv2.LUT(img, unit_range_lut()).transpose(2, 0, 1)


def resized_width(h: int, w: int, img_h: int, img_w: int) -> int:
    """Width a ``h x w`` crop gets at height ``img_h`` keeping its ratio, at most ``img_w`` (PaddleOCR)."""
    ratio = w / float(h)
    return img_w if math.ceil(img_h * ratio) > img_w else int(math.ceil(img_h * ratio))


def batch_max_wh_ratio(crops: Sequence[np.ndarray], image_shape: Tuple[int, int, int]) -> float:
    """``max(W / H, max(w / h of crops))`` with ``(C, H, W) = image_shape``."""
    _, img_h, img_w = image_shape
    ratio = img_w / img_h
    for crop in crops:
        h, w = crop.shape[0:2]
        ratio = max(ratio, w * 1.0 / h)
    return ratio


def resize_norm_rec(img: np.ndarray, image_shape: Tuple[int, int, int], max_wh_ratio: float) -> np.ndarray:
    """``[h, w, 3]`` uint8 BGR crop -> ``[3, H, int(H * max_wh_ratio)]`` float32 in [-1, 1], zero-padded."""
    img_c, img_h, _ = image_shape
    img_w = int(img_h * max_wh_ratio)
    padded = np.zeros((img_c, img_h, img_w), dtype=np.float32)
    _fill(padded, img, img_h, img_w)
    return padded


def _fill(dst: np.ndarray, img: np.ndarray, img_h: int, img_w: int) -> None:
    """Write the normalized, resized ``img`` into the left of ``dst`` (``[3, img_h, img_w]``)."""
    rw = resized_width(img.shape[0], img.shape[1], img_h, img_w)
    dst[:, :, 0:rw] = normalize_unit_chw(cv2.resize(img, (rw, img_h)))


def rec_batches(crops: Sequence[np.ndarray], params: RecParams) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Yield ``(indices, batch)``: indices into ``crops`` and the ``[n, 3, 32, W]`` float32 batch."""
    if not len(crops):
        return
    img_c, img_h, _ = params.image_shape
    order = np.argsort(np.array([c.shape[1] / float(c.shape[0]) for c in crops]))
    for beg in range(0, len(crops), params.batch_size):
        idx = order[beg : beg + params.batch_size]
        img_w = int(img_h * batch_max_wh_ratio([crops[k] for k in idx], params.image_shape))
        batch = np.zeros((len(idx), img_c, img_h, img_w), dtype=np.float32)
        for row, k in enumerate(idx):
            _fill(batch[row], crops[k], img_h, img_w)
        yield idx, batch
