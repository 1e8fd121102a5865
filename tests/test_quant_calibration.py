"""Calibration readers feed REAL text images preprocessed as at inference, and never test data (issue 5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeocr.converters.calibration import CalibrationSet, det_calibration_images, labelled_crop_files
from edgeocr.errors import DatasetError


@pytest.fixture(scope="module")
def det_fp32(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """fp32 det ONNX made by the project's own exporter (the det that cuts calibration crops)."""
    from edgeocr.converters.paddle_to_onnx import PaddleToOnnx
    from edgeocr.converters.source_models import validate_model_dir

    out = tmp_path_factory.mktemp("det")
    return PaddleToOnnx().export(validate_model_dir("det", models_dir / "ch_PP-OCRv2_det_infer"), out).path


@pytest.fixture(scope="module")
def calib(det_fp32: Path, data_dir: Path) -> CalibrationSet:
    return CalibrationSet.build(det_fp32, data_dir, det_samples=3, crop_samples=24)


def test_det_images_spread_over_the_calibration_set(data_dir: Path):
    images = det_calibration_images(4, data_dir / "icdar2015_train_calib" / "images")
    # natural order, evenly spread over img_1..img_200 (not the first four)
    assert [p.name for p in images] == ["img_1.jpg", "img_67.jpg", "img_134.jpg", "img_200.jpg"]


@pytest.mark.parametrize("test_set", ["icdar2015_det/ch4_test_images", "msra_td500/test"])
def test_test_sets_are_refused(data_dir: Path, test_set: str):
    with pytest.raises(DatasetError, match="never on test data"):
        det_calibration_images(2, data_dir / test_set)


def test_rec_test_set_is_refused(data_dir: Path):
    with pytest.raises(DatasetError, match="test set"):
        labelled_crop_files(2, data_dir / "icdar2015_rec")


def test_readers_give_real_preprocessed_tensors(calib: CalibrationSet):
    det = calib.reader("det", "x", 3)
    assert len(det) == 3
    x = det.get_next()["x"]
    # 1280x720 ICDAR image at limit_side_len 960 -> 960x544 (multiples of 32), ImageNet-normalized BGR
    assert x.shape == (1, 3, 544, 960) and x.dtype == np.float32
    assert -2.2 < x.min() < -1.0 and 2.0 < x.max() < 2.7
    rec = calib.reader("rec", "x", 24)
    batch = rec.get_next()["x"]
    assert batch.shape[:3] == (6, 3, 32) and batch.shape[3] >= 320 and batch.dtype == np.float32
    assert batch.min() >= -1.0 and batch.max() <= 1.0
    cls = calib.reader("cls", "x", 24)
    assert cls.get_next()["x"].shape == (6, 3, 48, 192)
    # the reader is exhausted after len() samples and rewinds
    n = 1 + sum(1 for _ in iter(cls.get_next, None))
    assert n == len(cls) == 4
    cls.rewind()
    assert cls.get_next() is not None


def test_crops_come_from_both_sources(calib: CalibrationSet):
    # half labelled calib crops, half cut with the fp32 det from calibration images
    assert len(calib.crops) == 24
    assert any(k.startswith("icdar2015_rec_train_calib/") for k in calib.sources)
    cut_from = [k for k in calib.sources if k.startswith("icdar2015_train_calib/images/")]
    assert cut_from and all(c.dtype == np.uint8 and c.ndim == 3 for c in calib.crops)


def test_strided_ranges_cover_every_sample(calib: CalibrationSet):
    reader = calib.reader("det", "x", 3)
    seen = 0
    for start in range(0, len(reader), 2):
        reader.set_range(start, start + 2)
        seen += sum(1 for _ in iter(reader.get_next, None))
    assert seen == 3


def test_digest_is_stable_and_tracks_the_data(det_fp32: Path, data_dir: Path, calib: CalibrationSet):
    again = CalibrationSet.build(det_fp32, data_dir, det_samples=3, crop_samples=24)
    assert again.digest() == calib.digest()
    other = CalibrationSet.build(det_fp32, data_dir, det_samples=2, crop_samples=24)
    assert other.digest() != calib.digest()
    assert calib.describe()["digest"] == calib.digest()
