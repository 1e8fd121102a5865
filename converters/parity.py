"""Parity proof: run the Paddle original and the artifact on the same real inputs, stage by stage.

Inputs are built from real images with the runtime's own preprocessing (the modules the slim runtime
uses, so we check what will actually be fed): det at >= 3 input shapes, rec batches at >= 3 widths
made from text lines that the reference detector finds, cls batches of the same crops upright and
turned 180 degrees. Every stage is checked before anything raises (optimum's
``validate_models_outputs``), and the result is a checklist for report.md.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from edgeocr.box_sort import sorted_boxes
from edgeocr.cls_stage import resize_norm_crop
from edgeocr.crop import crop_boxes
from edgeocr.ctc_decode import CTCDecoder
from edgeocr.det_preprocess import det_preprocess
from edgeocr.errors import InputError
from edgeocr.image_io import read_image
from edgeocr.pipeline import detect_boxes
from edgeocr.rec_preprocess import resize_norm_rec
from edgeocr.stage_params import ClsParams, DetParams, RecParams

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# det input sizes: the longer side is limited to these (PP-OCRv2 default 960 first).
DET_LIMITS = (960, 640, 320)
# rec batch widths = 32 * these ratios: 320 (the training width), and two wider batches as produced
# when a batch holds a long text line.
REC_WH_RATIOS = (10.0, 16.0, 25.0)
MAX_CROPS = 12
BATCH = 6


@dataclass
class ParityInputs:
    """Model inputs per stage, each ``[N, 3, H, W]`` fp32 as the runtime would feed them."""

    det: List[np.ndarray]
    cls: List[np.ndarray]
    rec: List[np.ndarray]
    images: List[str]

    def describe(self) -> Dict[str, List[List[int]]]:
        return {s: [list(x.shape) for x in getattr(self, s)] for s in ("det", "cls", "rec")}


@dataclass(frozen=True)
class ParityTolerance:
    """Pass criteria. ``None`` disables a criterion (report only), e.g. for quantized variants whose
    accuracy is judged by the accuracy gate on labelled data instead."""

    atol: Optional[float] = 1e-4  # max abs diff of output probabilities
    det_binarized_max_share: Optional[float] = 1e-4  # pixels whose (p > thresh) flips
    rec_identical_min_share: Optional[float] = 1.0  # decoded strings identical
    cls_identical_min_share: Optional[float] = 1.0  # arg-max labels identical

    @property
    def report_only(self) -> bool:
        """No criterion set: differences are measured and reported, the accuracy gate decides."""
        return all(v is None for v in (self.atol, self.det_binarized_max_share, self.rec_identical_min_share,
                                       self.cls_identical_min_share))


@dataclass
class CaseDiff:
    shape: List[int]
    max_abs: float
    mean_abs: float


@dataclass
class StageParity:
    """Outcome for one stage: per-input diffs, aggregate metrics and the verdict."""

    stage: str
    cases: List[CaseDiff]
    max_abs: float
    mean_abs: float
    metric_name: str  # "binarized_diff_share" | "identical_strings" | "identical_labels"
    metric: float
    passed: bool
    failures: List[str] = field(default_factory=list)
    skipped: Optional[str] = None  # reason the stage was not run (e.g. ARM kernels on an x86 host)
    report_only: bool = False  # measured against no criterion (quantized: judged by the accuracy gate)


def find_images(folder: Path, limit: int = 8) -> List[Path]:
    """Up to ``limit`` images directly inside ``folder`` (sorted by name, deterministic)."""
    if not folder.is_dir():
        raise InputError("parity image folder does not exist", folder)
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not images:
        raise InputError(f"has no images ({', '.join(IMAGE_SUFFIXES)}) for the parity check", folder)
    return images


def build_inputs(
    images: Sequence[Path],
    det_reference: Callable[[np.ndarray], np.ndarray],
    det_params: DetParams,
    cls_params: ClsParams,
    rec_params: RecParams,
) -> ParityInputs:
    """Preprocess real images for every stage; text-line crops come from the reference detector."""
    loaded = [read_image(p) for p in images]
    det_inputs: List[np.ndarray] = []
    seen = set()
    for i, limit in enumerate(DET_LIMITS * max(1, len(loaded))):
        img = loaded[i % len(loaded)]
        tensor = det_preprocess(img, dataclasses.replace(det_params, limit_side_len=limit)).tensor
        if tensor.shape not in seen:
            seen.add(tensor.shape)
            det_inputs.append(tensor)
        if len(det_inputs) >= max(3, min(len(loaded), 4)):
            break
    crops: List[np.ndarray] = []
    for img in loaded:
        boxes = detect_boxes(img, det_reference, det_params)
        crops.extend(c for c in crop_boxes(img, sorted_boxes(boxes)) if min(c.shape[:2]) > 2)
        if len(crops) >= MAX_CROPS:
            break
    if not crops:
        raise InputError("the reference detector found no text in these images; give images with text", images[0].parent)
    crops = crops[:MAX_CROPS]
    rec_inputs = [
        np.stack([resize_norm_rec(c, rec_params.image_shape, ratio) for c in crops[k * 2 : k * 2 + BATCH] or crops[:BATCH]])
        for k, ratio in enumerate(REC_WH_RATIOS)
    ]
    upright = [resize_norm_crop(c, cls_params.image_shape) for c in crops[:BATCH]]
    flipped = [resize_norm_crop(np.ascontiguousarray(c[::-1, ::-1]), cls_params.image_shape) for c in crops[:BATCH]]
    cls_inputs = [np.stack(upright), np.stack(flipped)]
    return ParityInputs(det=det_inputs, cls=cls_inputs, rec=rec_inputs, images=[p.name for p in images])


def compare_stage(
    stage: str,
    inputs: Sequence[np.ndarray],
    reference: Callable[[np.ndarray], np.ndarray],
    candidate: Callable[[np.ndarray], np.ndarray],
    tolerance: ParityTolerance,
    det_params: DetParams,
    decoder: Optional[CTCDecoder] = None,
) -> StageParity:
    """Run both models on every input of ``stage`` and judge the differences."""
    cases: List[CaseDiff] = []
    flips = total = same = count = 0
    failures: List[str] = []
    for x in inputs:
        ref, got = reference(x), candidate(x)
        if ref.shape != got.shape:
            failures.append(f"output shape {list(got.shape)} != reference {list(ref.shape)} for input {list(x.shape)}")
            continue
        diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
        cases.append(CaseDiff(list(x.shape), float(diff.max()), float(diff.mean())))
        if stage == "det":
            flips += int(np.count_nonzero((ref > det_params.thresh) != (got > det_params.thresh)))
            total += ref.size
        elif stage == "rec":
            assert decoder is not None
            same += sum(a[0] == b[0] for a, b in zip(decoder(ref), decoder(got)))
            count += ref.shape[0]
        else:
            same += int(np.count_nonzero(ref.argmax(-1) == got.argmax(-1)))
            count += ref.shape[0]
    max_abs = max((c.max_abs for c in cases), default=float("nan"))
    mean_abs = float(np.mean([c.mean_abs for c in cases])) if cases else float("nan")
    if stage == "det":
        name, metric, bound = "binarized_diff_share", flips / max(total, 1), tolerance.det_binarized_max_share
        if bound is not None and metric > bound:
            failures.append(f"{metric:.2e} of binarized det-map pixels differ (allowed {bound:.0e})")
    else:
        name = "identical_strings" if stage == "rec" else "identical_labels"
        metric = same / max(count, 1)
        bound = tolerance.rec_identical_min_share if stage == "rec" else tolerance.cls_identical_min_share
        if bound is not None and metric < bound:
            failures.append(f"only {metric:.1%} {name.replace('_', ' ')} (required {bound:.0%})")
    if tolerance.atol is not None and not (max_abs <= tolerance.atol):
        failures.append(f"max abs diff {max_abs:.2e} > atol {tolerance.atol:.0e}")
    return StageParity(stage, cases, max_abs, mean_abs, name, metric, passed=not failures, failures=failures,
                       report_only=tolerance.report_only)


def skipped_stage(stage: str, reason: str) -> StageParity:
    """A stage that cannot be run on this host (reported, not counted as passed)."""
    return StageParity(stage, [], float("nan"), float("nan"), "", float("nan"), passed=True, skipped=reason)
