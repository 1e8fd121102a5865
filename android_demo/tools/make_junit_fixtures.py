#!/usr/bin/env python3
"""Golden values for the JUnit tests of the Java OCR core, computed by the Python runtime and OpenCV.

Why generated at test time (by ``run-junit.sh``) and not committed: the Java ports must match the OpenCV,
pyclipper and numpy that the Python runtime really uses here, so the expected values come from those
very libraries on every run. Inputs are synthetic (seeded random images, bitmaps, quadrilaterals) and
cover the edge cases of each step: tiny and odd sizes, up/down-scaling, exact 2x, borders, holes,
boxes touching the map border, rotated and degenerate boxes.

Usage: python make_junit_fixtures.py OUT.json   (arrays are base64: uint8 raw, float32/float64 little-endian)
"""
from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List

import click
import cv2
import numpy as np
import pyclipper

from edgeocr.box_sort import sort_order
from edgeocr.crop import get_rotate_crop_image
from edgeocr.ctc_decode import CTCDecoder
from edgeocr.det_postprocess import box_score_fast, db_postprocess, get_mini_boxes, polygon_area_length, unclip
from edgeocr.det_preprocess import det_resize_hw, normalize_to_nchw
from edgeocr.rec_preprocess import resize_norm_rec
from edgeocr.stage_params import DetParams, RecParams

log = logging.getLogger("make_junit_fixtures")


def b64(a: np.ndarray, dtype: Any) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def resize_cases(rng: np.random.Generator) -> List[Dict[str, Any]]:
    """cv2.resize INTER_LINEAR of random 3-channel images: down, up, 1-pixel, exact 2x, det-like sizes."""
    sizes = [(1, 1, 3, 5), (5, 7, 1, 1), (1, 9, 32, 40), (40, 60, 20, 30), (33, 47, 32, 320), (64, 64, 32, 32),
             (17, 5, 48, 12), (100, 150, 96, 160), (31, 29, 32, 32), (48, 200, 32, 133), (9, 400, 32, 320)]
    for _ in range(14):
        sizes.append(tuple(int(v) for v in rng.integers(1, 90, size=4)))
    cases = []
    for sh, sw, dh, dw in sizes:
        img = rng.integers(0, 256, size=(sh, sw, 3), dtype=np.uint8)
        out = cv2.resize(img, (dw, dh))
        cases.append({"sw": sw, "sh": sh, "dw": dw, "dh": dh, "src": b64(img, np.uint8), "dst": b64(out, np.uint8)})
    return cases


def random_quad(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A rotated rectangle-ish quadrilateral (TL, TR, BR, BL), integer or fractional corners, may leave the image."""
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    bw, bh = rng.uniform(4, max(w, 5)), rng.uniform(3, max(h / 2, 4))
    ang = rng.uniform(-0.6, 0.6)
    c, s = np.cos(ang), np.sin(ang)
    pts = np.array([[-bw / 2, -bh / 2], [bw / 2, -bh / 2], [bw / 2, bh / 2], [-bw / 2, bh / 2]])
    pts = pts @ np.array([[c, s], [-s, c]]) + [cx, cy]
    pts += rng.uniform(-1.5, 1.5, size=pts.shape)
    if rng.random() < 0.5:
        pts = np.round(pts)
    return pts.astype(np.float32)


def warp_cases(rng: np.random.Generator) -> List[Dict[str, Any]]:
    """get_rotate_crop_image (getPerspectiveTransform + warpPerspective cubic/replicate + rot90)."""
    cases = []
    for i in range(30):
        h, w = int(rng.integers(8, 70)), int(rng.integers(8, 90))
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        if i % 3 == 0:  # smooth content: what text crops look like
            img = cv2.GaussianBlur(img, (5, 5), 2)
        quad = random_quad(rng, w, h)
        if i % 7 == 0:  # tall box: the crop is turned 90 degrees
            quad = quad[:, ::-1].copy() * np.float32(0.6)
        crop_w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
        crop_h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
        if crop_w < 1 or crop_h < 1:
            continue
        pts_std = np.float32([[0, 0], [crop_w, 0], [crop_w, crop_h], [0, crop_h]])
        m = cv2.getPerspectiveTransform(quad, pts_std)
        crop = get_rotate_crop_image(img, quad)
        cases.append({"w": w, "h": h, "src": b64(img, np.uint8), "quad": quad.tolist(), "m": b64(m, np.float64),
                      "cw": int(crop.shape[1]), "ch": int(crop.shape[0]), "dst": b64(crop, np.uint8)})
    return cases


def blob_bitmap(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Random filled/hollow rectangles and ellipses, rotated lines and speckles (holes, touching borders)."""
    bm = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 7))):
        kind = rng.integers(0, 4)
        x, y = int(rng.integers(-3, w)), int(rng.integers(-3, h))
        if kind == 0:
            cv2.rectangle(bm, (x, y), (x + int(rng.integers(1, 25)), y + int(rng.integers(1, 12))), 1, -1)
        elif kind == 1:
            cv2.ellipse(bm, (x, y), (int(rng.integers(1, 15)), int(rng.integers(1, 8))), float(rng.uniform(0, 180)),
                        0, 360, 1, -1 if rng.random() < 0.6 else 2)
        elif kind == 2:
            cv2.line(bm, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), 1, int(rng.integers(1, 4)))
        else:
            bm |= (rng.random((h, w)) < 0.03).astype(np.uint8)
    return bm


def contour_cases(rng: np.random.Generator) -> List[Dict[str, Any]]:
    """cv2.findContours RETR_LIST / CHAIN_APPROX_SIMPLE, every contour's minAreaRect and get_mini_boxes."""
    cases = []
    for i in range(40):
        h, w = int(rng.integers(1, 60)), int(rng.integers(1, 80))
        bm = blob_bitmap(rng, h, w) if i else np.ones((h, w), np.uint8)
        contours, _ = cv2.findContours(bm * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        rects, boxes, ssides = [], [], []
        for c in contours:
            (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
            rects.append([cx, cy, rw, rh, ang])
            box, sside = get_mini_boxes(c)
            boxes.append(np.array(box, np.float32).tolist())
            ssides.append(float(sside))
        cases.append({"w": w, "h": h, "bitmap": b64(bm, np.uint8),
                      "contours": [c.reshape(-1).tolist() for c in contours],
                      "rects": rects, "mini_boxes": boxes, "ssides": ssides})
    return cases


def score_cases(rng: np.random.Generator) -> List[Dict[str, Any]]:
    """box_score_fast (fillPoly + masked mean) and unclip (pyclipper) + get_mini_boxes of the result."""
    cases = []
    for i in range(60):
        h, w = int(rng.integers(5, 60)), int(rng.integers(5, 80))
        pred = rng.random((h, w), dtype=np.float32)
        quad = random_quad(rng, w, h)
        if i % 5 == 0:
            quad += np.float32(0.5)  # half-pixel corners
        score = box_score_fast(pred, quad.copy())
        area, length = polygon_area_length(quad)
        offset = unclip(quad, 1.5)
        entry = {"w": w, "h": h, "pred": b64(pred, np.float32), "quad": quad.tolist(), "score": float(score),
                 "area": area, "length": length}
        if len(offset):
            box, sside = get_mini_boxes(offset.reshape(-1, 1, 2))
            entry["unclip_box"] = np.array(box, np.float32).tolist()
            entry["unclip_sside"] = float(sside)
        # the raw pyclipper offset, for a point-set comparison
        o = pyclipper.PyclipperOffset()
        o.AddPath(quad, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        entry["offset"] = [p for path in o.Execute(area * 1.5 / length) for p in path] if length > 0 else []
        cases.append(entry)
    return cases


def db_cases(rng: np.random.Generator) -> List[Dict[str, Any]]:
    """db_postprocess end to end on smooth synthetic probability maps (text-like blobs)."""
    cases = []
    params = DetParams()
    for i in range(25):
        h, w = 32 * int(rng.integers(1, 5)), 32 * int(rng.integers(1, 7))
        bm = blob_bitmap(rng, h, w)
        for _ in range(int(rng.integers(2, 9))):  # text-line-like rotated bars, some touching the border
            quad = random_quad(rng, w, h)
            cv2.fillPoly(bm, [np.round(quad).astype(np.int32)], 1)
        bm = bm.astype(np.float32)
        pred = cv2.GaussianBlur(bm, (7, 7), 1.5) * np.float32(0.9) + rng.random((h, w), dtype=np.float32) * 0.1
        pred = np.clip(pred, 0, 1).astype(np.float32)
        src_h, src_w = int(rng.integers(10, 700)), int(rng.integers(10, 900))
        boxes = db_postprocess(pred[np.newaxis, np.newaxis], (src_h, src_w), params)
        order = sort_order(boxes) if len(boxes) else np.zeros(0, np.int64)
        cases.append({"w": w, "h": h, "src_h": src_h, "src_w": src_w, "pred": b64(pred, np.float32),
                      "boxes": boxes.tolist(), "order": order.tolist()})
    return cases


def det_cases(rng: np.random.Generator) -> Dict[str, Any]:
    """det_resize_hw for both limit types + the float32 normalization of every uint8 value."""
    sizes = [(1, 1), (20, 30), (31, 33), (48, 2000), (960, 960), (961, 500), (1080, 1920), (4000, 3000), (16, 47),
             (500, 17)] + [tuple(int(v) for v in rng.integers(1, 3000, size=2)) for _ in range(20)]
    out = {"sizes": [], "max": [], "min": []}
    for h, w in sizes:
        out["sizes"].append([h, w])
        out["max"].append(list(det_resize_hw(h, w, DetParams(limit_type="max", limit_side_len=960))))
        out["min"].append(list(det_resize_hw(h, w, DetParams(limit_type="min", limit_side_len=736))))
    values = np.repeat(np.arange(256, dtype=np.uint8)[np.newaxis, :, np.newaxis], 3, axis=2)
    p = DetParams()
    out["mean"] = list(p.mean)
    out["std"] = list(p.std)
    out["normalized"] = b64(normalize_to_nchw(values, p.mean, p.std), np.float32)  # [1, 3, 1, 256]
    return out


def rec_cases(rng: np.random.Generator) -> List[Dict[str, Any]]:
    """resize_norm_rec: crop -> [3, 32, W] float32, W from the batch's widest ratio."""
    cases = []
    shape = RecParams().image_shape
    for _ in range(12):
        h, w = int(rng.integers(1, 60)), int(rng.integers(1, 400))
        crop = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        ratio = max(shape[2] / shape[1], w / h, float(rng.uniform(5, 20)))
        out = resize_norm_rec(crop, shape, ratio)
        cases.append({"w": w, "h": h, "src": b64(crop, np.uint8), "ratio": ratio, "out_w": int(out.shape[2]),
                      "out": b64(out, np.float32)})
    return cases


def ctc_cases(rng: np.random.Generator) -> Dict[str, Any]:
    """CTCDecoder on random softmax rows over a 6-character list (blank + 4 entries + space)."""
    chars = ["blank", "a", "b", "中", "ü", " "]
    probs = rng.random((5, 12, len(chars)), dtype=np.float32)
    probs[:, ::3, 0] += 2  # plenty of blanks
    probs[1] = 0
    probs[1, :, 0] = 1  # all blank -> "" and score 0
    probs /= probs.sum(axis=2, keepdims=True)
    decoded = CTCDecoder(chars)(probs.astype(np.float32))
    return {"chars": chars, "probs": b64(probs, np.float32), "shape": list(probs.shape),
            "texts": [t for t, _ in decoded], "scores": [s for _, s in decoded]}


def decode_cases(rng: np.random.Generator, folder: Path) -> List[Dict[str, Any]]:
    """Image files of every kind jvm-ocr must decode like edgeocr.image_io.read_image (cv2 + to_bgr)."""
    from PIL import Image

    from edgeocr.image_io import read_image

    folder.mkdir(parents=True, exist_ok=True)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8), (5, 5), 2)
    files = {
        "bgr.jpg": lambda p: cv2.imwrite(str(p), smooth, [cv2.IMWRITE_JPEG_QUALITY, 90]),
        "grey.jpg": lambda p: cv2.imwrite(str(p), smooth[:, :, 0]),
        "bgr444.jpg": lambda p: cv2.imwrite(str(p), smooth, [cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                                                               cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]),
        "grey8.png": lambda p: cv2.imwrite(str(p), rng.integers(0, 256, (20, 31), dtype=np.uint8)),
        "grey16.png": lambda p: cv2.imwrite(str(p), rng.integers(0, 65536, (20, 31), dtype=np.uint16)),
        "bgra.png": lambda p: cv2.imwrite(str(p), rng.integers(0, 256, (20, 31, 4), dtype=np.uint8)),
        "bgr16.png": lambda p: cv2.imwrite(str(p), rng.integers(0, 65536, (20, 31, 3), dtype=np.uint16)),
        "bgra16.png": lambda p: cv2.imwrite(str(p), rng.integers(0, 65536, (20, 31, 4), dtype=np.uint16)),
        "grey_alpha.png": lambda p: Image.fromarray(rng.integers(0, 256, (20, 31, 2), dtype=np.uint8), "LA").save(p),
        "palette.png": lambda p: Image.fromarray(rng.integers(0, 256, (20, 31, 3), dtype=np.uint8)).convert("P").save(p),
        "bgr.bmp": lambda p: cv2.imwrite(str(p), rng.integers(0, 256, (20, 31, 3), dtype=np.uint8)),
    }
    cases = []
    for name, write in files.items():
        path = folder / name
        write(path)
        img = read_image(path)
        cases.append({"file": str(path), "w": int(img.shape[1]), "h": int(img.shape[0]), "bgr": b64(img, np.uint8)})
    return cases


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=9, show_default=True, help="Random seed of the synthetic inputs.")
def main(out: Path, seed: int) -> None:
    """Write the JUnit golden values (JSON) to OUT."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rng = np.random.default_rng(seed)
    data = {
        "opencv": cv2.__version__,
        "resize": resize_cases(rng),
        "warp": warp_cases(rng),
        "contours": contour_cases(rng),
        "scores": score_cases(rng),
        "db": db_cases(rng),
        "det": det_cases(rng),
        "rec": rec_cases(rng),
        "ctc": ctc_cases(rng),
        "decode": decode_cases(rng, out.parent / "images"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(out)
    log.info("JUnit fixtures: %s (%d KB)", out, out.stat().st_size // 1024)


if __name__ == "__main__":
    sys.exit(main())
