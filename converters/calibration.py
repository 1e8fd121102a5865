"""Calibration data for static quantization: REAL text images, preprocessed exactly as at inference.

Why real data: activation ranges calibrated on noise or on a handful of images clip real text (the failure
behind OpenPPL/ppq#419's 67 -> 41 points). So (issue 5):

- det: ICDAR 2015 *training* images (``../shared/data/icdar2015_train_calib/images``) through the runtime's own
  ``det_preprocess`` at their real size (1280x720 -> ``[1, 3, 544, 960]``), one image per sample.
- rec / cls: word crops from ``../shared/data/icdar2015_rec_train_calib`` plus crops cut from the det calibration
  images with the fp32 det (the crops the recognizer really sees at run time: perspective-warped, sometimes
  loose), batched and padded as the runtime batches them.
- never test data: only the ``*_calib`` folders are read here.

Readers follow ORT's ``CalibrationDataReader`` (``get_next() -> {input_name: array} | None``) and produce
tensors lazily so a 64-image det calibration does not hold 400 MB of tensors. They also implement
``__len__``/``set_range`` so ORT can calibrate in strides (histograms are merged across strides, which keeps
Entropy/Percentile calibration memory bounded).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from edgeocr.cls_stage import resize_norm_crop
from edgeocr.crop import crop_boxes
from edgeocr.det_preprocess import det_preprocess
from edgeocr.errors import DatasetError
from edgeocr.hashing import sha256_file
from edgeocr.image_io import read_image
from edgeocr.pipeline import detect_boxes
from edgeocr.rec_preprocess import rec_batches
from edgeocr.stage_params import ClsParams, DetParams, RecParams

from edgeocr.benchmarks.datasets import natural_key

from .data_paths import DET_CALIB_SUBDIR, REC_CALIB_SUBDIR

log = logging.getLogger(__name__)

# Where the calibration sets live relative to the repository root (CI clones the repo next to shared/).
# Folder names a calibration set must never come from (developer / held-out test data).
_TEST_SET_MARKERS = ("icdar2015_det", "icdar2015_rec/", "iiit5k", "msra_td500", "ch4_test")


def _refuse_test_data(path: Path) -> None:
    text = str(path.resolve()).replace("\\", "/") + "/"
    for marker in _TEST_SET_MARKERS:
        if marker in text:
            raise DatasetError(
                f"is a test set ({marker.strip('/')}); calibrate on the *_calib sets only, never on test data", path
            )


def _spread(items: Sequence, n: int) -> list:
    """``n`` items evenly spread over ``items`` (deterministic, covers the whole set, not just its head)."""
    if n >= len(items):
        return list(items)
    idx = np.linspace(0, len(items) - 1, n).round().astype(int)
    return [items[i] for i in idx]


class TensorReader(CalibrationDataReader):
    """ORT calibration reader over ``count`` lazily built samples ``make(i) -> [N, C, H, W] float32``."""

    def __init__(self, input_name: str, make: Callable[[int], np.ndarray], count: int, desc: str = "") -> None:
        self.input_name = input_name
        self._make = make
        self._count = count
        self._start, self._end = 0, count
        self._pos = 0
        self.desc = desc

    def __len__(self) -> int:
        return self._count

    def set_range(self, start_index: int, end_index: int) -> None:
        """Restrict the next pass to samples ``[start_index, end_index)`` (ORT strided calibration)."""
        self._start, self._end = start_index, min(end_index, self._count)
        self._pos = self._start

    def rewind(self) -> None:
        self._start, self._end, self._pos = 0, self._count, 0

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        if self._pos >= self._end:
            return None
        x = self._make(self._pos)
        self._pos += 1
        return {self.input_name: x}


# --- image / crop selection ----------------------------------------------------------------------------


def det_calibration_images(n: int, images_dir: Path) -> List[Path]:
    """``n`` calibration images spread over ``images_dir`` (natural order: img_1, img_2, ... img_200)."""
    images_dir = Path(images_dir)
    _refuse_test_data(images_dir)
    if not images_dir.is_dir():
        raise DatasetError(f"calibration image folder not found (expected <data>/{DET_CALIB_SUBDIR})", images_dir)
    files = sorted((p for p in images_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")), key=natural_key)
    if not files:
        raise DatasetError("has no .jpg/.png calibration images", images_dir)
    return _spread(files, n)


def labelled_crop_files(n: int, root: Path) -> List[Path]:
    """``n`` word-crop files from a PaddleOCR rec label file (``rec_gt_train.txt``: ``path<TAB>label``)."""
    root = Path(root)
    _refuse_test_data(root)
    label_files = sorted(root.glob("*.txt"))
    if not label_files:
        raise DatasetError("has no label file (rec_gt_train.txt) for the rec calibration crops", root)
    paths = []
    for line in label_files[0].read_text(encoding="utf-8-sig").splitlines():
        if "\t" in line:
            paths.append(root / line.split("\t", 1)[0])
    if not paths:
        raise DatasetError("label file lists no crops", label_files[0])
    return _spread(paths, n)


def detected_crops(
    det_model: Path, images: Sequence[Path], limit: int, params: DetParams = DetParams()
) -> Tuple[List[np.ndarray], List[Path]]:
    """``(crops, images used)``: up to ``limit`` crops cut from ``images`` with the fp32 det (``[h, w, 3]`` uint8 BGR), as the runtime cuts
    them (DB boxes, perspective warp)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(det_model), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    crops: List[np.ndarray] = []
    used: List[Path] = []
    for path in images:
        if len(crops) >= limit:
            break
        used.append(Path(path))
        _refuse_test_data(Path(path).parent)
        img = read_image(Path(path))
        boxes = detect_boxes(img, lambda x: sess.run(None, {name: x})[0], params)
        crops.extend(c for c in crop_boxes(img, boxes) if c.shape[0] > 0 and c.shape[1] > 0)
    return crops[:limit], used


# --- the calibration set -------------------------------------------------------------------------------


@dataclass
class CalibrationSet:
    """The real images a quantization run calibrates on, plus a digest that goes into the manifest.

    ``det_images``: paths of full images. ``crops``: ``[h, w, 3]`` uint8 BGR word crops (labelled calib crops
    first, then det-cut crops). ``sources``: file -> sha256 of every file read.
    """

    det_images: List[Path]
    crops: List[np.ndarray]
    sources: Dict[str, str]
    det_model_sha256: Optional[str] = None

    @classmethod
    def build(
        cls,
        det_model: Path,
        data_root: Path,
        det_samples: int = 64,
        crop_samples: int = 256,
        det_params: DetParams = DetParams(),
    ) -> "CalibrationSet":
        """Half the crops from the labelled calib crops, half cut with the fp32 ``det_model`` from the images.

        ``data_root`` holds the calibration (training) sets: ``icdar2015_train_calib/images`` and
        ``icdar2015_rec_train_calib``."""
        det_images_dir, rec_calib_dir = data_root / DET_CALIB_SUBDIR, data_root / REC_CALIB_SUBDIR
        det_images = det_calibration_images(det_samples, det_images_dir)
        n_files = crop_samples // 2
        crop_files = labelled_crop_files(n_files, rec_calib_dir)
        crops = [read_image(p) for p in crop_files]
        # Cut crops from every 3rd calibration image (spread over the set) until there are enough.
        all_images = det_calibration_images(10**6, det_images_dir)
        cut, cut_from = detected_crops(det_model, all_images[::3], crop_samples - len(crops), det_params)
        crops.extend(cut)
        sources = {str(p.relative_to(data_root) if data_root in p.parents else p): sha256_file(p)
                   for p in list(det_images) + list(crop_files) + cut_from}
        log.info("calibration set: %d det images, %d crops (%d labelled, %d cut by det)",
                 len(det_images), len(crops), len(crop_files), len(crops) - len(crop_files))
        return cls(det_images=det_images, crops=crops, sources=sources, det_model_sha256=sha256_file(det_model))

    def digest(self) -> str:
        """sha256 over the sorted (file, sha256) list and the det model that cut crops: same data -> same digest."""
        h = hashlib.sha256()
        for name in sorted(self.sources):
            h.update(f"{name}\t{self.sources[name]}\n".encode())
        h.update(f"det={self.det_model_sha256}\ncrops={len(self.crops)}\n".encode())
        return h.hexdigest()

    def describe(self) -> Dict[str, object]:
        """Manifest entry: what was calibrated on."""
        return {
            "digest": self.digest(),
            "det_images": len(self.det_images),
            "crops": len(self.crops),
            "det_images_dir": "icdar2015_train_calib/images",
            "crops_from": ["icdar2015_rec_train_calib", "icdar2015_train_calib (cut with the fp32 det)"],
        }

    # --- readers -----------------------------------------------------------------------------------------

    def det_reader(self, input_name: str, n: int, params: DetParams = DetParams()) -> TensorReader:
        """One ``[1, 3, H', W']`` fp32 BGR ImageNet-normalized tensor per image (real size, limit 960)."""
        images = _spread(self.det_images, n)
        return TensorReader(input_name, lambda i: det_preprocess(read_image(images[i]), params).tensor, len(images), "det")

    def rec_reader(self, input_name: str, n: int, params: RecParams = RecParams()) -> TensorReader:
        """``[b, 3, 32, W]`` fp32 in [-1, 1] batches of the runtime's batching (sorted by aspect, padded)."""
        crops = _spread(self.crops, n)
        batches = [b for _, b in rec_batches(crops, params)]
        return TensorReader(input_name, lambda i: batches[i], len(batches), "rec")

    def cls_reader(self, input_name: str, n: int, params: ClsParams = ClsParams()) -> TensorReader:
        """``[b, 3, 48, 192]`` fp32 in [-1, 1]; every other crop is turned 180 degrees, because finding those
        is the classifier's job and its activations on them must be in range too."""
        crops = _spread(self.crops, n)
        crops = [c if k % 2 == 0 else cv2.rotate(c, cv2.ROTATE_180) for k, c in enumerate(crops)]
        bs = params.batch_size
        batches = [np.stack([resize_norm_crop(c, params.image_shape) for c in crops[i : i + bs]])
                   for i in range(0, len(crops), bs)]
        return TensorReader(input_name, lambda i: batches[i], len(batches), "cls")

    def reader(self, stage: str, input_name: str, n: int) -> TensorReader:
        """Reader for ``stage`` (``det`` counts images, ``rec``/``cls`` count crops)."""
        makers = {"det": self.det_reader, "rec": self.rec_reader, "cls": self.cls_reader}
        return makers[stage](input_name, n)
