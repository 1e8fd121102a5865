"""Cut a detected (possibly rotated) quadrilateral out of the image, upright.

PaddleOCR 2.7.3 ``tools/infer/utility.get_rotate_crop_image``: a perspective warp to a
``width x height`` rectangle (bicubic, replicated border); crops at least ``VERTICAL_RATIO`` times
taller than wide are treated as vertical text and rotated 90 degrees counter-clockwise.
"""
from __future__ import annotations

from typing import List, Sequence

import cv2
import numpy as np

from .errors import InputError

# h / w at which a crop is considered vertical text and rotated (PaddleOCR constant).
VERTICAL_RATIO = 1.5


def get_rotate_crop_image(img: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Crop ``points`` (``[4, 2]`` float32, TL, TR, BR, BL) from ``img`` (``[h, w, 3]`` uint8 BGR).

    Returns a ``[h', w', 3]`` uint8 BGR crop; ``w'`` and ``h'`` are the truncated longest opposite
    edge lengths of the quadrilateral.
    """
    if points.shape != (4, 2):
        raise InputError(f"a crop box must have shape (4, 2), got {points.shape}")
    points = np.asarray(points, dtype=np.float32)
    img_crop_width = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    img_crop_height = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    pts_std = np.float32([[0, 0], [img_crop_width, 0], [img_crop_width, img_crop_height], [0, img_crop_height]])
    m = cv2.getPerspectiveTransform(points, pts_std)
    dst_img = cv2.warpPerspective(
        img, m, (img_crop_width, img_crop_height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    dst_h, dst_w = dst_img.shape[0:2]
    if dst_h * 1.0 / dst_w >= VERTICAL_RATIO:
        dst_img = np.rot90(dst_img)
    return dst_img


def crop_boxes(img: np.ndarray, boxes: Sequence[np.ndarray]) -> List[np.ndarray]:
    """:func:`get_rotate_crop_image` for every box, in the given order."""
    return [get_rotate_crop_image(img, box) for box in boxes]
