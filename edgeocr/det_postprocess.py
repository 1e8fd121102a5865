"""DB post-processing: probability map -> quadrilaterals in original-image pixels.

A line-by-line port of PaddleOCR 2.7.3 ``DBPostProcess`` (``box_type="quad"``) followed by
``TextDetector.filter_tag_det_res`` (clockwise ordering, clip to the image, drop slivers). Every
dtype and rounding step is kept, because they decide the final integer box corners.
"""
from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import pyclipper

from .stage_params import DetParams

# DB's 2x2 dilation kernel (``use_dilation``), as in PaddleOCR.
_DILATION_KERNEL = np.array([[1, 1], [1, 1]], dtype=np.uint8)
# PaddleOCR drops boxes whose short side after unclipping is below min_size + 2 (map pixels).
_UNCLIPPED_MIN_SIZE_MARGIN = 2


def db_postprocess(prob_map: np.ndarray, src_hw: Tuple[int, int], params: DetParams) -> np.ndarray:
    """Boxes from a DB probability map.

    ``prob_map``: ``[1, 1, H', W']`` or ``[H', W']`` float32 in [0, 1] (model output).
    ``src_hw``: original image ``(h, w)``. Returns ``[K, 4, 2]`` float32 integer-valued corners,
    clockwise from top-left, clipped to the image, in contour order (not yet reading order).
    """
    pred = prob_map.reshape(prob_map.shape[-2:])
    bitmap = (pred > params.thresh).astype(np.uint8)
    if params.use_dilation:
        bitmap = cv2.dilate(bitmap, _DILATION_KERNEL)
    boxes = boxes_from_bitmap(pred, bitmap, src_hw[1], src_hw[0], params)
    return filter_det_boxes(boxes, src_hw, params.min_size)


def boxes_from_bitmap(
    pred: np.ndarray, bitmap: np.ndarray, dest_width: int, dest_height: int, params: DetParams
) -> List[np.ndarray]:
    """``DBPostProcess.boxes_from_bitmap``: contours -> min-area rects -> score -> unclip -> rescale.

    ``pred``: ``[H', W']`` float32 map; ``bitmap``: ``[H', W']`` uint8 {0, 1}. Returns a list of
    ``[4, 2]`` int32 boxes in destination (original image) pixels.
    """
    height, width = bitmap.shape
    contours, _ = cv2.findContours(bitmap * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    # Python floats (not numpy float64) keep the rescale in float32 under NumPy 1 and 2 alike.
    dest_w, dest_h = float(dest_width), float(dest_height)
    boxes = []
    for contour in contours[: params.max_candidates]:
        points, sside = get_mini_boxes(contour)
        if sside < params.min_size:
            continue
        points = np.array(points)
        if params.score_mode == "fast":
            score = box_score_fast(pred, points.reshape(-1, 2))
        else:
            score = box_score_slow(pred, contour)
        if params.box_thresh > score:
            continue
        box = unclip(points, params.unclip_ratio).reshape(-1, 1, 2)
        box, sside = get_mini_boxes(box)
        if sside < params.min_size + _UNCLIPPED_MIN_SIZE_MARGIN:
            continue
        box = np.array(box)
        box[:, 0] = np.clip(np.round(box[:, 0] / width * dest_w), 0, dest_w)
        box[:, 1] = np.clip(np.round(box[:, 1] / height * dest_h), 0, dest_h)
        boxes.append(box.astype(np.int32))
    return boxes


def unclip(box: np.ndarray, unclip_ratio: float) -> np.ndarray:
    """Grow a polygon by DB's offset ``area * ratio / perimeter`` (pyclipper, round joins)."""
    area, length = polygon_area_length(box)
    distance = area * unclip_ratio / length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return np.array(offset.Execute(distance))


def polygon_area_length(points: np.ndarray) -> Tuple[float, float]:
    """Area and perimeter of a closed polygon (``[n, 2]``), computed as GEOS does for shapely's
    ``Polygon(points).area`` / ``.length`` (same formula and summation order, in float64), so the
    runtime needs no shapely while unclip distances stay bit-identical to PaddleOCR's.
    """
    ring = [(float(x), float(y)) for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2)]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    n = len(ring)
    if n < 4:  # fewer than 3 distinct vertices: no area
        area = 0.0
    else:
        x0 = ring[0][0]
        total = 0.0
        for i in range(1, n - 1):
            total += (ring[i][0] - x0) * (ring[i - 1][1] - ring[i + 1][1])
        area = abs(total / 2.0)
    length = 0.0
    for i in range(1, n):
        dx = ring[i][0] - ring[i - 1][0]
        dy = ring[i][1] - ring[i - 1][1]
        length += math.sqrt(dx * dx + dy * dy)
    return area, length


def get_mini_boxes(contour: np.ndarray) -> Tuple[List[np.ndarray], float]:
    """Min-area rectangle of a contour as 4 float32 points (TL, TR, BR, BL) and its short side."""
    bounding_box = cv2.minAreaRect(contour)
    points = sorted(list(cv2.boxPoints(bounding_box)), key=lambda x: x[0])
    if points[1][1] > points[0][1]:
        index_1, index_4 = 0, 1
    else:
        index_1, index_4 = 1, 0
    if points[3][1] > points[2][1]:
        index_2, index_3 = 2, 3
    else:
        index_2, index_3 = 3, 2
    box = [points[index_1], points[index_2], points[index_3], points[index_4]]
    return box, min(bounding_box[1])


def box_score_fast(bitmap: np.ndarray, box_pts: np.ndarray) -> float:
    """Mean of ``bitmap`` inside the polygon ``box_pts`` (``[n, 2]``), rasterized in its bbox."""
    h, w = bitmap.shape[:2]
    box = box_pts.copy()
    xmin = np.clip(np.floor(box[:, 0].min()).astype(np.int32), 0, w - 1)
    xmax = np.clip(np.ceil(box[:, 0].max()).astype(np.int32), 0, w - 1)
    ymin = np.clip(np.floor(box[:, 1].min()).astype(np.int32), 0, h - 1)
    ymax = np.clip(np.ceil(box[:, 1].max()).astype(np.int32), 0, h - 1)
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    box[:, 0] = box[:, 0] - xmin
    box[:, 1] = box[:, 1] - ymin
    cv2.fillPoly(mask, box.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(bitmap[ymin : ymax + 1, xmin : xmax + 1], mask)[0]


def box_score_slow(bitmap: np.ndarray, contour: np.ndarray) -> float:
    """Mean of ``bitmap`` inside the contour itself (``score_mode="slow"``)."""
    h, w = bitmap.shape[:2]
    contour = np.reshape(contour.copy(), (-1, 2))
    xmin = np.clip(np.min(contour[:, 0]), 0, w - 1)
    xmax = np.clip(np.max(contour[:, 0]), 0, w - 1)
    ymin = np.clip(np.min(contour[:, 1]), 0, h - 1)
    ymax = np.clip(np.max(contour[:, 1]), 0, h - 1)
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    contour[:, 0] = contour[:, 0] - xmin
    contour[:, 1] = contour[:, 1] - ymin
    cv2.fillPoly(mask, contour.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(bitmap[ymin : ymax + 1, xmin : xmax + 1], mask)[0]


def order_points_clockwise(pts: np.ndarray) -> np.ndarray:
    """``[4, 2]`` points -> float32 TL, TR, BR, BL by coordinate sums/differences (PaddleOCR)."""
    rect = np.zeros((4, 2), dtype=np.float32)
    s = pts.sum(axis=1)
    rect[0] = pts[np.argmin(s)]
    rect[2] = pts[np.argmax(s)]
    tmp = np.delete(pts, (np.argmin(s), np.argmax(s)), axis=0)
    diff = np.diff(np.array(tmp), axis=1)
    rect[1] = tmp[np.argmin(diff)]
    rect[3] = tmp[np.argmax(diff)]
    return rect


def filter_det_boxes(boxes: Sequence[np.ndarray], src_hw: Tuple[int, int], min_size: int) -> np.ndarray:
    """``TextDetector.filter_tag_det_res``: order, clip to ``[0, w-1] x [0, h-1]``, drop slivers.

    A box whose top edge or left edge is ``<= min_size`` pixels long (truncated) is dropped.
    Returns ``[K, 4, 2]`` float32.
    """
    img_h, img_w = src_hw
    kept = []
    for box in boxes:
        box = order_points_clockwise(box)
        box[:, 0] = np.clip(box[:, 0], 0, img_w - 1).astype(np.int64)
        box[:, 1] = np.clip(box[:, 1], 0, img_h - 1).astype(np.int64)
        rect_width = int(np.linalg.norm(box[0] - box[1]))
        rect_height = int(np.linalg.norm(box[0] - box[3]))
        if rect_width <= min_size or rect_height <= min_size:
            continue
        kept.append(box)
    if not kept:
        return np.zeros((0, 4, 2), dtype=np.float32)
    return np.stack(kept).astype(np.float32)
