"""DB detector input: PaddleOCR 2.7.3's ``DetResizeForTest`` + ``NormalizeImage`` + ``ToCHWImage``.

Reproduced operation for operation (issue 3): the resize rounding decides where box edges land, so
"close enough" here changes boxes downstream (PaddleOCR issues #2496, #4959).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from .stage_params import DetParams

# The DB network downsamples by 32: both sides of its input must be multiples of this.
DET_STRIDE = 32


@dataclass(frozen=True)
class DetInput:
    """What the detector model consumes plus what post-processing needs to map boxes back.

    ``tensor``: ``[1, 3, H', W']`` fp32, colour order of ``params.color_order`` (BGR for PP-OCRv2),
    ``(x / 255 - mean) / std``. ``src_hw``: size of the original image. ``ratio_hw``: ``H'/h, W'/w``
    where ``h, w`` is the (possibly padded) image that was resized.
    """

    tensor: np.ndarray
    src_hw: Tuple[int, int]
    ratio_hw: Tuple[float, float]


def det_resize_hw(h: int, w: int, params: DetParams) -> Tuple[int, int]:
    """Target ``(H', W')`` of ``DetResizeForTest.resize_image_type0`` for an ``h x w`` image.

    ``limit_type="max"`` shrinks so the longer side is at most ``limit_side_len``; ``"min"`` grows
    the shorter side to at least ``limit_side_len``. Then ``int()`` truncation, round half to even to
    a multiple of 32 (Python's ``round``, as PaddleOCR), and at least 32.
    """
    limit = params.limit_side_len
    if params.limit_type == "max":
        ratio = float(limit) / (h if h > w else w) if max(h, w) > limit else 1.0
    else:  # "min"
        ratio = float(limit) / (h if h < w else w) if min(h, w) < limit else 1.0
    resize_h = int(h * ratio)
    resize_w = int(w * ratio)
    resize_h = max(int(round(resize_h / DET_STRIDE) * DET_STRIDE), DET_STRIDE)
    resize_w = max(int(round(resize_w / DET_STRIDE) * DET_STRIDE), DET_STRIDE)
    return resize_h, resize_w


# Largest detector input (H' x W' pixels). 4096 x 4096 is 16.8 Mpx: 200 MB of fp32 input and ~1 GB of
# DB activations; beyond that a board runs out of memory (``--det-limit-type min`` with a large
# ``--det-limit-side-len`` on a long, thin image asked for gigabytes, issue 11).
DET_MAX_INPUT_PIXELS = 4096 * 4096


def check_det_input(h: int, w: int, resize_h: int, resize_w: int, params: DetParams) -> None:
    """Refuse a detector input over :data:`DET_MAX_INPUT_PIXELS` with one line naming the options."""
    if resize_h * resize_w > DET_MAX_INPUT_PIXELS:
        from .errors import InputError

        raise InputError(
            f"a {w}x{h} image with det limit_type={params.limit_type!r} limit_side_len={params.limit_side_len} "
            f"needs a {resize_w}x{resize_h} detector input ({resize_w * resize_h / 1e6:.0f} Mpx), over the cap of "
            f"{DET_MAX_INPUT_PIXELS / 1e6:.1f} Mpx; use --det-limit-type max or a smaller --det-limit-side-len"
        )


def det_preprocess(img: np.ndarray, params: DetParams) -> DetInput:
    """Resize and normalize a ``[h, w, 3]`` uint8 BGR image for the DB detector.

    Images with ``h + w < 64`` are first zero-padded at the bottom/right to at least 32x32, as
    ``DetResizeForTest.image_padding`` does; ``src_hw`` stays the unpadded size.
    """
    src_h, src_w = img.shape[:2]
    if src_h + src_w < 2 * DET_STRIDE:
        padded = np.zeros((max(DET_STRIDE, src_h), max(DET_STRIDE, src_w), img.shape[2]), np.uint8)
        padded[:src_h, :src_w] = img
        img = padded
    h, w = img.shape[:2]
    resize_h, resize_w = det_resize_hw(h, w, params)
    check_det_input(h, w, resize_h, resize_w, params)
    resized = cv2.resize(img, (resize_w, resize_h))
    if params.color_order == "RGB":
        resized = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return DetInput(
        tensor=normalize_to_nchw(resized, params.mean, params.std),
        src_hw=(src_h, src_w),
        ratio_hw=(resize_h / float(h), resize_w / float(w)),
    )


def normalize_hwc(img: np.ndarray, mean, std) -> np.ndarray:
    """``(img * float32(1/255) - mean) / std`` in float32, exactly as ``NormalizeImage`` (order hwc).

    ``img``: ``[h, w, 3]`` uint8. Returns ``[h, w, 3]`` float32. The operation order and float32
    constants match PaddleOCR bit for bit (scale is ``np.float32(1/255)``, not a division by 255).
    """
    scale = np.float32(1.0 / 255.0)
    mean_a = np.array(mean, dtype=np.float32).reshape(1, 1, 3)
    std_a = np.array(std, dtype=np.float32).reshape(1, 1, 3)
    out = img.astype(np.float32)
    out *= scale
    out -= mean_a
    out /= std_a
    return out


@functools.lru_cache(maxsize=8)
def _normalize_lut(mean: Tuple[float, ...], std: Tuple[float, ...]) -> np.ndarray:
    """``[1, 256, 3]`` float32: :func:`normalize_hwc` of every uint8 value, per channel."""
    values = np.repeat(np.arange(256, dtype=np.uint8)[np.newaxis, :, np.newaxis], 3, axis=2)  # [1, 256, 3]
    return np.ascontiguousarray(normalize_hwc(values, mean, std))


def normalize_to_nchw(img: np.ndarray, mean, std) -> np.ndarray:
    """``[h, w, 3]`` uint8 -> ``[1, 3, h, w]`` float32, bit-identical to :func:`normalize_hwc` + transpose.

    A uint8 pixel has only 256 values, so the float arithmetic is done once per value into a
    lookup table (the same float32 operations, hence the same bits) and ``cv2.LUT`` maps the image
    through it: 3-10x faster than normalizing every pixel, which was a third of all
    pre/post-processing time (issue 3, item 6).
    """
    mapped = cv2.LUT(img, _normalize_lut(tuple(mean), tuple(std)))  # [h, w, 3] float32
    return np.ascontiguousarray(mapped.transpose(2, 0, 1))[np.newaxis]
