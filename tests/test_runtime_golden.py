"""Golden strings on real images with the real PP-OCRv2 bundles, once per backend (issue 3).

The word-crop readings are the ones PaddleOCR documents for its demo crops
(../shared/data/paddleocr_doc_imgs/README.md). The full-image readings were checked line by line
against PaddleOCR 2.7.3 run on the original Paddle models (edgeocr.benchmarks.paddleocr_oracle, --mode ocr);
misreadings such as "受" for "曼" or "110℃C" are the model's own and are asserted on purpose:
a change there means pre/post-processing drifted from PaddleOCR's.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeocr.image_io import read_image

pytest_plugins = ["conftest_runtime"]

# One OCR test over every backend (RapidOCR test_engine.py style): onnxruntime, Paddle-Lite, and the
# Paddle originals through Paddle Inference.
VARIANTS = ("onnx-fp32", "lite-x86-fp32", "paddle")

WORDS = {
    "ch/word_1.jpg": "韩国小馆",
    "ch/word_2.jpg": "汉阳鹦鹉家居建材市场E区25-26号",
    "ch/word_3.jpg": "电话：15952301928",
}

# Reading order matters: these are PaddleOCR's sorted_boxes order.
FULL_IMAGES = {
    "paddleocr_doc_imgs/12.jpg": ["上海斯格威铂尔受大酒店", "·打浦路15号", "绿洲仕格维花园公寓", "打浦路2529-35号"],
    "paddleocr_doc_imgs/00009282.jpg": [
        "Meters/bonwe", "洗涤说明", "常规程序", "不可漂白", "悬挂晾干", "熨斗底板最高温度110℃C", "?常规干洗",
        "注意事项：", "分开洗涤，不宜长时间漫泡，有", "钮扣或拉链的服饰先将纽扣或拉链", "扣好，熨烫时采用仅蒸汽熨烫。",
    ],
    # Latin text with spaces: guards the implicit space class at the end of the dictionary.
    "icdar2015_det/ch4_test_images/img_10.jpg": ["Please lower your yolun", "When youpass by", "residential areas"],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_word_crops_read_as_documented(variant: str, ocr_by_variant, data_dir: Path) -> None:
    ocr = ocr_by_variant(variant)
    crops = [read_image(data_dir / "paddleocr_doc_imgs" / name) for name in WORDS]
    texts = [text for text, _ in ocr.recognize(crops).texts]
    assert texts == list(WORDS.values())


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", sorted(FULL_IMAGES))
def test_full_image_lines(variant: str, name: str, ocr_by_variant, data_dir: Path) -> None:
    result = ocr_by_variant(variant)(data_dir / name)
    assert result.texts == FULL_IMAGES[name]
    assert all(0.5 <= line.score <= 1.0 for line in result.lines)  # drop_score 0.5 applied
    assert result.image_size == read_image(data_dir / name).shape[:2]


@pytest.mark.parametrize("variant", VARIANTS)
def test_upside_down_crops_are_turned_by_the_classifier(variant: str, ocr_by_variant, data_dir: Path) -> None:
    """A crop rotated by 180 degrees is recognized correctly only because cls turns it back."""
    ocr = ocr_by_variant(variant)
    crops = [cv2.rotate(read_image(data_dir / "paddleocr_doc_imgs" / name), cv2.ROTATE_180) for name in WORDS]
    upright = [read_image(data_dir / "paddleocr_doc_imgs" / name) for name in WORDS]
    cls = ocr.classify(crops + upright)
    assert cls.labels == ["180"] * 3 + ["0"] * 3
    assert cls.rotated == [True] * 3 + [False] * 3
    assert all(np.array_equal(a, b) for a, b in zip(cls.crops[:3], upright))
    assert [t for t, _ in ocr.recognize(cls.crops[:3]).texts] == list(WORDS.values())


def test_full_pipeline_reads_an_upside_down_document(ocr_onnx, data_dir: Path) -> None:
    img = cv2.rotate(read_image(data_dir / "paddleocr_doc_imgs" / "12.jpg"), cv2.ROTATE_180)
    texts = ocr_onnx(img).texts
    # Boxes of a rotated page differ slightly, so only the longest line is asserted: without the
    # classifier it reads as garbage.
    assert FULL_IMAGES["paddleocr_doc_imgs/12.jpg"][0] in texts, texts
