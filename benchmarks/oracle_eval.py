"""PaddleOCR 2.7.3's own detector scored by OUR metric code: the reference for ``edgeocr eval``.

Issue 4's "done when": the det H-mean of the ``onnx-fp32`` bundle must be within 0.5 points of what
PaddleOCR's pipeline gives on the same images with the same metric code. The boxes come from
:func:`edgeocr.benchmarks.paddleocr_oracle.run_oracle_det` (a subprocess in ``.venv-oracle``).
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional, Union

from .datasets import Dataset, limit_samples, load_dataset
from .eval_runner import EvalResult, sample_key, check_task, score
from .paddleocr_oracle import DEFAULT_ORACLE_PYTHON, run_oracle_det
from .text_norm import TextNorm

ORACLE_VARIANT = "paddleocr-2.7.3-oracle"


def oracle_det_eval(dataset: Union[str, Path, Dataset], models_dir: Path, limit: Optional[int] = None,
                    oracle_python: Path = DEFAULT_ORACLE_PYTHON) -> EvalResult:
    """Det evaluation of PaddleOCR 2.7.3 (original Paddle PP-OCRv2 det model) on ``dataset``."""
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    check_task(ds, "det")
    samples = limit_samples(ds.samples, limit)
    out = run_oracle_det([s.image for s in samples], models_dir, oracle_python)
    boxes = out["images"]
    records = []
    for s in samples:
        got = boxes.get(str(s.image))
        if got is None:
            from edgeocr.errors import InputError

            raise InputError("PaddleOCR could not read this image", s.image)
        records.append({"image": sample_key(s), "boxes": got})
    scored = score(samples, records, "det", TextNorm())
    return EvalResult(
        task="det",
        dataset={**ds.summary(), "evaluated": len(samples)},
        bundle={"variant": ORACLE_VARIANT, "path": str(models_dir), "backend": "paddle (PaddleOCR 2.7.3 TextDetector)",
                "format": "paddle", "precision": "fp32", "sizes": {}, "total_bytes": None},
        limit=limit,
        normalization=asdict(TextNorm()),
        metrics=scored["metrics"],
        samples=records,
        failures=scored["failures"],
        runtime={"oracle_det_params": out.get("det_params"), "python": str(oracle_python)},
    )
