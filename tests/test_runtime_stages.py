"""Units of the shared pre/post-processing stages (issue 3, item 2) against PaddleOCR 2.7.3's rules.

Expected values are worked out by hand from PaddleOCR's formulas (comments show the arithmetic);
the end-to-end agreement is in test_runtime_parity.py.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from edgeocr.box_sort import sorted_boxes
from edgeocr.cls_stage import classify, should_rotate
from edgeocr.crop import get_rotate_crop_image
from edgeocr.ctc_decode import CTCDecoder, load_character_list
from edgeocr.det_postprocess import db_postprocess, polygon_area_length
from edgeocr.det_preprocess import det_preprocess, det_resize_hw, normalize_hwc, normalize_to_nchw
from edgeocr.errors import ConfigError, InputError
from edgeocr.pipeline import OCR, split_overrides
from edgeocr.rec_preprocess import normalize_unit_chw, rec_batches
from edgeocr.stage_params import ClsParams, DetParams, RecParams

pytest_plugins = ["conftest_runtime"]

RNG = np.random.default_rng(3)


@pytest.mark.parametrize(
    "hw, params, expected",
    [
        # 720x1280, max 960: ratio .75 -> 540x960; 540/32 = 16.875 -> 17*32 = 544.
        ((720, 1280), DetParams(), (544, 960)),
        # 528/32 = 16.5 rounds half to EVEN (Python round) -> 16*32 = 512, not 544 (issue #4959-style drift).
        ((528, 896), DetParams(), (512, 896)),
        # Small images are not enlarged in "max" mode: 500/32 = 15.6 -> 512.
        ((500, 500), DetParams(), (512, 512)),
        # Never below 32.
        ((5, 900), DetParams(), (32, 896)),
        # "min" mode enlarges the short side to the limit: ratio 7.36 -> 736x1472.
        ((100, 200), DetParams(limit_type="min", limit_side_len=736), (736, 1472)),
    ],
)
def test_det_resize_rounding(hw, params, expected) -> None:
    assert det_resize_hw(*hw, params) == expected


def test_tiny_image_is_padded_to_32_and_large_image_capped() -> None:
    tiny = det_preprocess(np.full((1, 1, 3), 255, np.uint8), DetParams())
    assert tiny.tensor.shape == (1, 3, 32, 32) and tiny.src_hw == (1, 1)
    large = det_preprocess(np.zeros((4000, 6000, 3), np.uint8), DetParams(limit_side_len=960))
    assert large.tensor.shape == (1, 3, 640, 960)  # 4000*0.16 = 640, 6000*0.16 = 960
    assert large.tensor.dtype == np.float32 and large.tensor.flags.c_contiguous


def test_lookup_table_normalization_is_bit_identical() -> None:
    img = RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    p = DetParams()
    direct = normalize_hwc(img, p.mean, p.std).transpose(2, 0, 1)[np.newaxis]
    assert np.array_equal(normalize_to_nchw(img, p.mean, p.std), direct)
    rec_direct = img.astype(np.float32).transpose((2, 0, 1)) / 255
    rec_direct -= 0.5
    rec_direct /= 0.5
    assert np.array_equal(normalize_unit_chw(img), rec_direct)


def test_polygon_area_and_length_equal_shapely_bit_for_bit() -> None:
    for _ in range(2000):
        rect = ((float(RNG.uniform(0, 900)), float(RNG.uniform(0, 900))), tuple(RNG.uniform(1, 300, 2)), float(RNG.uniform(0, 90)))
        pts = cv2.boxPoints(rect)
        assert polygon_area_length(pts) == (Polygon(pts).area, Polygon(pts).length)


def test_db_postprocess_finds_a_filled_rectangle() -> None:
    prob = np.zeros((1, 1, 64, 128), np.float32)
    prob[0, 0, 20:40, 10:110] = 0.9
    boxes = db_postprocess(prob, (128, 256), DetParams())  # map is half the image size
    assert boxes.shape == (1, 4, 2) and boxes.dtype == np.float32
    (x0, y0), (x1, _), (_, y2), _ = boxes[0]
    # Contour pixels span x 10..109, y 20..39: min-area rect 99x19, unclip distance
    # 99*19*1.5 / (2*(99+19)) = 11.96 map px -> x -1.96..120.96, y 8.04..50.96 (pyclipper rounds),
    # times 2 to image pixels, clipped at 0: (0, 16) - (242, 102).
    assert (x0, y0, x1, y2) == (0, 16, 242, 102)
    assert len(db_postprocess(prob, (128, 256), DetParams(box_thresh=0.95))) == 0


def test_sorted_boxes_swaps_boxes_on_the_same_line() -> None:
    def box(x, y):
        return np.array([[x, y], [x + 50, y], [x + 50, y + 20], [x, y + 20]], np.float32)

    # The right box is 5 px higher: top-left sort puts it first; PaddleOCR's < 10 px rule swaps back.
    same_line = np.stack([box(100, 50), box(10, 55)])
    assert [b[0][0] for b in sorted_boxes(same_line)] == [10, 100]
    # 10 px apart is a new line: no swap.
    next_line = np.stack([box(100, 50), box(10, 60)])
    assert [b[0][0] for b in sorted_boxes(next_line)] == [100, 10]


def test_crop_of_axis_aligned_box_is_the_pixels_and_tall_crops_rotate() -> None:
    img = RNG.integers(0, 256, (100, 200, 3), dtype=np.uint8)
    box = np.array([[10, 20], [110, 20], [110, 60], [10, 60]], np.float32)
    assert np.array_equal(get_rotate_crop_image(img, box), img[20:60, 10:110])
    tall = np.array([[10, 10], [30, 10], [30, 70], [10, 70]], np.float32)  # 20 wide, 60 high: h/w >= 1.5
    crop = get_rotate_crop_image(img, tall)
    assert crop.shape == (20, 60, 3)
    assert np.array_equal(crop, np.rot90(img[10:70, 10:30]))


def test_ctc_greedy_decoding() -> None:
    decoder = CTCDecoder(["blank", "a", "b", " "])
    seq = [0, 1, 1, 0, 1, 2, 2, 3]  # -> a, (dup removed), blank, a, b, (dup), space
    probs = np.full((1, len(seq), 4), 0.01, np.float32)
    for t, k in enumerate(seq):
        probs[0, t, k] = 0.5 + 0.05 * t
    (text, score), = decoder(probs)
    assert text == "aab "
    kept = [1, 4, 5, 7]
    assert score == pytest.approx(float(np.mean([0.5 + 0.05 * t for t in kept])), rel=1e-6)
    blank_only = np.zeros((1, 3, 4), np.float32)
    blank_only[:, :, 0] = 1
    assert decoder(blank_only) == [("", 0.0)]
    with pytest.raises(InputError, match="recognizer outputs 5 classes"):
        decoder(np.zeros((1, 3, 5), np.float32))


def test_dictionary_has_blank_first_and_space_last(models_dir: Path) -> None:
    chars = load_character_list(models_dir / "ppocr_keys_v1.txt", use_space_char=True)
    assert chars[0] == "blank" and chars[-1] == " " and len(chars) == 6623 + 2


def test_cls_rotates_only_confident_180() -> None:
    params = ClsParams()
    assert should_rotate("180", params.thresh + 1e-3, params)
    assert not should_rotate("180", params.thresh, params)  # strictly above, as PaddleOCR
    assert not should_rotate("0", 1.0, params)
    crops = [np.full((32, w, 3), w, np.uint8) for w in (300, 64, 128)]
    # Fake classifier: says "180" with 0.95 for the crop whose pixel value is 64 (found by content,
    # so the test does not depend on the batch order).
    def run(batch):
        out = np.tile(np.array([[0.99, 0.01]], np.float32), (len(batch), 1))
        for i, x in enumerate(batch):
            if np.isclose(x[0, 0, 0], (64 / 255 - 0.5) / 0.5):
                out[i] = (0.05, 0.95)
        return out

    res = classify(crops, run, params)
    assert res.labels == ["0", "180", "0"] and res.rotated == [False, True, False]
    assert res.crops[1].shape == (32, 64, 3)


def test_rec_batches_sort_by_ratio_and_pad_to_the_widest() -> None:
    crops = [np.full((32, w, 3), 255, np.uint8) for w in (640, 100, 200, 50, 330, 20, 960)]
    batches = list(rec_batches(crops, RecParams(batch_size=3)))
    assert [list(idx) for idx, _ in batches] == [[5, 3, 1], [2, 4, 0], [6]]
    assert [b.shape for _, b in batches] == [(3, 3, 32, 320), (3, 3, 32, 640), (1, 3, 32, 960)]
    first = batches[0][1]
    assert (first[0, :, :, :20] == 1).all() and (first[0, :, :, 20:] == 0).all()  # white, then zero padding


def test_overrides_are_routed_by_prefix_and_unknown_ones_fail() -> None:
    split = split_overrides({"det_box_thresh": 0.5, "cls_thresh": 0.8, "rec_batch_size": 8, "drop_score": 0.3})
    assert split == {"det": {"box_thresh": 0.5}, "cls": {"thresh": 0.8}, "rec": {"batch_size": 8},
                     "pipeline": {"drop_score": 0.3}}
    with pytest.raises(ConfigError, match="det_box_thresh"):
        split_overrides({"box_thresh": 0.5})


def test_ocr_reads_params_from_manifest_and_applies_overrides(onnx_bundle: Path, ocr_onnx, data_dir: Path) -> None:
    assert ocr_onnx.det_params == DetParams() and ocr_onnx.rec_params == RecParams()
    image = data_dir / "paddleocr_doc_imgs" / "00009282.jpg"
    with OCR(onnx_bundle, drop_score=0.95, det_limit_side_len=320, use_cls=False) as strict:
        assert strict.det_params.limit_side_len == 320 and "cls" not in strict.describe()["stages"]
        lines = strict(image).lines
        assert all(line.score >= 0.95 for line in lines)
        assert len(lines) < len(ocr_onnx(image).lines)
    with pytest.raises(ConfigError, match="thresh"):
        OCR(onnx_bundle, det_thresh=2.0)


def test_describe_reports_what_runs(ocr_onnx, ocr_lite) -> None:
    onnx = ocr_onnx.describe()
    assert onnx["variant"] == "onnx-fp32" and onnx["backend"] == "onnxruntime"
    assert onnx["stages"]["det"]["providers"] == ["CPUExecutionProvider"]
    lite = ocr_lite.describe()
    assert lite["variant"] == "lite-x86-fp32" and lite["backend"] == "paddle-lite"
    assert set(lite["stages"]) == {"det", "cls", "rec"}


def test_timings_add_up(ocr_onnx, data_dir: Path) -> None:
    t = ocr_onnx(data_dir / "paddleocr_doc_imgs" / "11.jpg").timings
    assert 0 < t.infer < t.total and t.det_infer <= t.det and t.rec_infer <= t.rec
    assert t.det + t.crop + t.cls + t.rec <= t.total + 1e-6


def test_image_normalization_of_arrays() -> None:
    from edgeocr.image_io import decode_image, to_bgr

    grey = RNG.integers(0, 256, (5, 7), dtype=np.uint8)
    assert np.array_equal(to_bgr(grey), np.dstack([grey] * 3))
    bgra = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    alpha = bgra[:, :, 3:] / 255
    expected = (255 * (1 - alpha) + bgra[:, :, :3] * alpha).astype(np.uint8)  # PaddleOCR's alpha_to_color
    assert np.array_equal(to_bgr(bgra), expected)
    grey_alpha = np.dstack([grey, np.full_like(grey, 255)])
    assert np.array_equal(to_bgr(grey_alpha), np.dstack([grey] * 3))
    assert np.array_equal(to_bgr(grey.astype(np.uint16) * 257), np.dstack([grey] * 3))
    with pytest.raises(InputError, match="pixel type float32"):
        to_bgr(grey.astype(np.float32))
    with pytest.raises(InputError, match="no pixels"):
        to_bgr(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(InputError, match="not an image"):
        decode_image(b"GIF89a not really", "x.gif")


def test_vis_font_missing_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgeocr.errors import ToolMissingError
    from edgeocr.visualize import DEFAULT_FONT, FONT_ENV, find_font

    monkeypatch.delenv(FONT_ENV, raising=False)
    assert find_font() == DEFAULT_FONT  # installed by `make setup` (requirements/apt.txt)
    with pytest.raises(ToolMissingError, match="fonts-wqy-microhei"):
        find_font(tmp_path / "no_such_font.ttc")
