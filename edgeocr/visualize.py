"""``edgeocr ocr --vis``: draw boxes and recognized text next to the image (PNG).

Left half: the input with each box outlined; right half: the text of each box written inside the
same quadrilateral on white, so misreads are easy to spot (PaddleOCR's ``draw_ocr_box_txt``
layout). Chinese needs a CJK font: the Debian package ``fonts-wqy-microhei`` (installed by
``make setup``); Pillow comes from the ``vis`` extra. Both are needed only for ``--vis``.
"""
from __future__ import annotations

import colorsys
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import cv2
import numpy as np

from .atomic_io import atomic_file
from .errors import ToolMissingError

# Debian fonts-wqy-microhei; override with EDGEOCR_FONT or font_path.
DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_ENV = "EDGEOCR_FONT"


def find_font(font_path: Optional[Union[str, Path]] = None) -> Path:
    """The CJK font to draw with: ``font_path``, else ``$EDGEOCR_FONT``, else :data:`DEFAULT_FONT`."""
    path = Path(font_path or os.environ.get(FONT_ENV) or DEFAULT_FONT)
    if not path.is_file():
        raise ToolMissingError(
            "CJK font for --vis not found; install the Debian package fonts-wqy-microhei "
            f"(`make setup`) or set {FONT_ENV} to a .ttf/.ttc file",
            path,
        )
    return path


def _color(i: int) -> tuple:
    r, g, b = colorsys.hsv_to_rgb((i * 0.618033988749895) % 1.0, 0.8, 0.9)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_ocr(
    img_bgr: np.ndarray,
    boxes: Sequence[Sequence[Sequence[float]]],
    texts: Sequence[str],
    font_path: Optional[Union[str, Path]] = None,
) -> np.ndarray:
    """Side-by-side visualization: ``[h, w, 3]`` uint8 BGR in, ``[h, 2w, 3]`` uint8 BGR out."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ToolMissingError("--vis needs Pillow; pip install 'edgeocr[vis]'") from None
    font_file = str(find_font(font_path))
    h, w = img_bgr.shape[:2]
    left = Image.fromarray(cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB))
    right = Image.new("RGB", (w, h), (255, 255, 255))
    draw_left = ImageDraw.Draw(left)
    draw_right = ImageDraw.Draw(right)
    for i, (box, text) in enumerate(zip(boxes, texts)):
        pts = [(float(x), float(y)) for x, y in box]
        color = _color(i)
        draw_left.polygon(pts, outline=color, width=2)
        draw_right.polygon(pts, outline=color, width=1)
        box_h = max(int(np.hypot(pts[0][0] - pts[3][0], pts[0][1] - pts[3][1])), 1)
        box_w = max(int(np.hypot(pts[0][0] - pts[1][0], pts[0][1] - pts[1][1])), 1)
        if not text:
            continue
        vertical = box_h > 2 * box_w and len(text) > 1
        size = max(int(0.8 * (box_w if vertical else box_h)), 8)
        if not vertical:
            size = max(min(size, int(box_w / max(len(text), 1) * 1.8)), 8)
        font = ImageFont.truetype(font_file, size)
        x, y = pts[0]
        if vertical:
            for ch in text:
                draw_right.text((x + 2, y), ch, fill=(0, 0, 0), font=font)
                y += size
        else:
            draw_right.text((x + 2, y), text, fill=(0, 0, 0), font=font)
    canvas = Image.new("RGB", (2 * w, h), (255, 255, 255))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (w, 0))
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)


def save_visualization(
    path: Union[str, Path],
    img_bgr: np.ndarray,
    boxes: Sequence[Sequence[Sequence[float]]],
    texts: Sequence[str],
    font_path: Optional[Union[str, Path]] = None,
) -> Path:
    """Draw with :func:`draw_ocr` and write a PNG atomically to ``path``."""
    path = Path(path)
    ok, buf = cv2.imencode(".png", draw_ocr(img_bgr, boxes, texts, font_path))
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 BGR to PNG
        raise ToolMissingError("OpenCV could not encode PNG", path)
    with atomic_file(path, "wb") as fh:
        fh.write(buf.tobytes())
    return path
