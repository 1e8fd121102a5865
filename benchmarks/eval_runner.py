"""Accuracy of a bundle on a labelled dataset: ``evaluate(bundle, dataset, task, limit) -> EvalResult``.

Two steps, kept apart so a board can run the first and the host the second (issue 6):

1. :func:`predict` runs the runtime (:class:`edgeocr.OCR`) over the samples and records what it
   produced per sample: det boxes (``task="det"``: ``ocr.detect`` only, the raw detector output
   PaddleOCR's det metric scores), lines with boxes and texts (``"e2e"``: the full
   det -> cls -> rec pipeline after ``drop_score``), or one text per word crop (``"rec"``:
   ``ocr.recognize`` on each crop alone, no classifier, as PaddleOCR's rec eval). Needs only the
   slim runtime (numpy, OpenCV, a backend).
2. :func:`score` turns those predictions into metrics with PaddleOCR's definitions
   (:mod:`det_metrics`, :mod:`rec_metrics`, :mod:`e2e_metrics`; needs shapely and rapidfuzz) and
   lists the failures (image, expected, got).

The quantization accuracy gate (issue 5) calls :func:`evaluate` and reads
``EvalResult.main_metric`` (det/e2e H-mean or rec accuracy, a fraction in [0, 1]).
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from edgeocr.errors import ConfigError, DatasetError, InputError

from .bundle_info import bundle_summary, check_runs_here
from .datasets import Dataset, DetSample, RecSample, limit_samples, load_dataset
from .machine_info import machine_info, package_versions
from .text_norm import TextNorm

log = logging.getLogger(__name__)

TASKS = ("det", "rec", "e2e")
RESULT_KIND = "eval"
SCHEMA_VERSION = 1


@dataclass
class EvalResult:
    """One bundle on one dataset and task. ``metrics`` holds fractions in [0, 1] and counts.

    ``samples`` has one record per evaluated sample (what the runtime produced), ``failures`` the
    samples/regions it got wrong as ``{"image", "expected", "got"}``.
    """

    task: str
    dataset: Dict[str, Any]
    bundle: Dict[str, Any]
    limit: Optional[int]
    normalization: Dict[str, bool]
    metrics: Optional[Dict[str, Any]]
    samples: List[Dict[str, Any]]
    failures: List[Dict[str, str]] = field(default_factory=list)
    runtime: Dict[str, Any] = field(default_factory=dict)
    timing: Dict[str, float] = field(default_factory=dict)
    machine: Dict[str, Any] = field(default_factory=machine_info)
    versions: Dict[str, str] = field(default_factory=package_versions)
    device: Optional[Dict[str, Any]] = None  # set when measured on a device (issue 6)
    incomplete: Optional[Dict[str, Any]] = None  # device run interrupted: what finished, what did not
    # Per sample counts {"image", "hits", "gt", "pred"}: the metric is a function of their sums, so
    # `edgeocr compare` can resample them (paired bootstrap) for a confidence interval (issue 12).
    per_sample: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def main_metric(self) -> float:
        """H-mean for det/e2e, accuracy for rec (fraction in [0, 1])."""
        if self.metrics is None:
            raise ConfigError("this result holds predictions only; score it first (score_result)")
        return float(self.metrics["acc" if self.task == "rec" else "hmean"])

    @property
    def texts(self) -> Dict[str, List[str]]:
        """Image name -> recognized strings (host/device comparison, issue 6)."""
        out: Dict[str, List[str]] = {}
        for rec in self.samples:
            if "texts" in rec:
                out[rec["image"]] = list(rec["texts"])
            elif "text" in rec:
                out[rec["image"]] = [rec["text"]]
        return out

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data = {"kind": RESULT_KIND, "schema_version": SCHEMA_VERSION, **data, "texts": self.texts}
        for key in ("device", "incomplete"):
            if data[key] is None:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "EvalResult":
        if data.get("kind") != RESULT_KIND:
            raise InputError(f"not an eval result (kind={data.get('kind')!r})")
        names = {f for f in cls.__dataclass_fields__}  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in data.items() if k in names})


def norm_from_flags(case_insensitive: bool = False, is_filter: bool = False, keep_spaces: bool = False) -> TextNorm:
    """The :class:`TextNorm` for CLI flags (defaults = PaddleOCR ``RecMetric`` defaults)."""
    return TextNorm(ignore_space=not keep_spaces, is_filter=is_filter, case_insensitive=case_insensitive)


def default_task(dataset: Dataset) -> str:
    """``det`` for detection sets, ``rec`` for recognition sets."""
    return dataset.tasks[0]


def check_task(dataset: Dataset, task: str) -> None:
    """Reject a task the dataset cannot support before any work, listing the valid ones."""
    if task not in TASKS:
        raise ConfigError(f"--task {task!r} is not supported; valid tasks: {', '.join(TASKS)}")
    if task not in dataset.tasks:
        raise ConfigError(
            f"--task {task} does not fit dataset {dataset.name} ({dataset.format}, "
            f"{'no transcriptions' if dataset.kind == 'det' else 'word crops'}); "
            f"valid tasks for it: {', '.join(dataset.tasks)}"
        )


# ---------------------------------------------------------------------------------------------
# 1. predict (slim runtime only)
# ---------------------------------------------------------------------------------------------


def predict(ocr: Any, samples: Sequence[Union[DetSample, RecSample]], task: str,
            progress: bool = True) -> List[Dict[str, Any]]:
    """Run ``ocr`` (an :class:`edgeocr.OCR`) on ``samples``; one JSON-friendly record per sample.

    Records: det ``{"image", "boxes": [[[x, y] x4], ..], "seconds"}``; e2e adds ``"texts"`` and
    ``"scores"`` (lines after ``drop_score``); rec ``{"image", "text", "score", "seconds"}``.
    ``image`` is the file name relative to the dataset root's folder structure (stable across hosts).
    """
    from tqdm import tqdm

    from edgeocr.image_io import read_image

    records: List[Dict[str, Any]] = []
    for sample in tqdm(samples, desc=f"eval {task}", unit="img", disable=not progress, leave=False):
        img = read_image(sample.image)
        t0 = time.perf_counter()
        if task == "det":
            det = ocr.detect(img)
            rec: Dict[str, Any] = {"boxes": [[[float(x), float(y)] for x, y in box] for box in det.boxes]}
        elif task == "e2e":
            res = ocr(img)
            rec = {"boxes": [line.box for line in res.lines], "texts": [line.text for line in res.lines],
                   "scores": [float(line.score) for line in res.lines]}
        else:
            (text, score), = ocr.recognize([img]).texts
            rec = {"text": text, "score": float(score)}
        rec["seconds"] = time.perf_counter() - t0
        records.append({"image": sample_key(sample), **rec})
    return records


def sample_key(sample: Union[DetSample, RecSample]) -> str:
    """Stable id of a sample across hosts and devices: ``<parent folder>/<file name>``."""
    return f"{sample.image.parent.name}/{sample.image.name}"


# ---------------------------------------------------------------------------------------------
# 2. score (shapely + rapidfuzz)
# ---------------------------------------------------------------------------------------------


def score(samples: Sequence[Union[DetSample, RecSample]], records: Sequence[Dict[str, Any]], task: str,
          norm: TextNorm = TextNorm()) -> Dict[str, Any]:
    """Metrics and failures of ``records`` (from :func:`predict`) against ``samples``' labels.

    Returns ``{"metrics": {...}, "failures": [{"image", "expected", "got"}, ...], "per_sample":
    [{"image", "hits", "gt", "pred"}, ...]}`` (rec: hits = 1 if correct, gt = pred = 1; det/e2e:
    matched (det) or correctly read (e2e) care words, care GT words, care predictions).
    """
    by_key = {r["image"]: r for r in records}
    missing = [sample_key(s) for s in samples if sample_key(s) not in by_key]
    if missing:
        raise DatasetError(f"predictions missing for {len(missing)} samples, e.g. {missing[0]}")
    if task == "rec":
        return _score_rec(samples, by_key, norm)  # type: ignore[arg-type]
    return _score_det(samples, by_key, task, norm)  # type: ignore[arg-type]


def _score_rec(samples: Sequence[RecSample], by_key: Dict[str, Dict[str, Any]], norm: TextNorm) -> Dict[str, Any]:
    from .rec_metrics import compare, rec_metrics

    pairs, failures, per_sample = [], [], []
    for s in samples:
        got = by_key[sample_key(s)]["text"]
        pairs.append((got, s.label))
        ok = compare(got, s.label, norm)[0]
        per_sample.append({"image": sample_key(s), "hits": int(ok), "gt": 1, "pred": 1})
        if not ok:
            failures.append({"image": sample_key(s), "expected": s.label, "got": got})
    return {"metrics": rec_metrics(pairs, norm).to_dict(), "failures": failures, "per_sample": per_sample}


def _fmt_box(points: Sequence[Sequence[float]]) -> str:
    return " ".join(f"{x:.0f},{y:.0f}" for x, y in points)


def _score_det(samples: Sequence[DetSample], by_key: Dict[str, Dict[str, Any]], task: str,
               norm: TextNorm) -> Dict[str, Any]:
    from .det_metrics import combine, evaluate_image
    from .e2e_metrics import combine_e2e, evaluate_image_e2e

    det_results, e2e_results, failures, per_sample = [], [], [], []
    for s in samples:
        rec = by_key[sample_key(s)]
        gt_pts = [r.points for r in s.regions]
        gt_ign = [r.ignore for r in s.regions]
        boxes = rec["boxes"]
        if task == "e2e":
            e2e = evaluate_image_e2e(gt_pts, [r.text for r in s.regions], gt_ign, boxes, rec["texts"], norm)
            e2e_results.append(e2e)
            det = e2e.det
            hit_gt = {gi for gi, dj in det.pairs} - {gi for gi, _ in e2e.misread}
            matched = dict(det.pairs)
            for gi, region in enumerate(s.regions):
                if gi in det.gt_dont_care or gi in det.gt_invalid or gi in hit_gt:
                    continue
                got = rec["texts"][matched[gi]] if gi in matched else "<no matching box>"
                failures.append({"image": sample_key(s), "expected": region.text, "got": got})
        else:
            det = evaluate_image(gt_pts, gt_ign, boxes)
            matched_gt = {gi for gi, _ in det.pairs}
            for gi, region in enumerate(s.regions):
                if gi in det.gt_dont_care or gi in det.gt_invalid or gi in matched_gt:
                    continue
                failures.append({"image": sample_key(s), "expected": f"GT box {_fmt_box(region.points)}",
                                 "got": "<missed>"})
        det_results.append(det)
        per_sample.append({"image": sample_key(s), "hits": e2e.hits if task == "e2e" else det.matched,
                           "gt": det.gt_care, "pred": det.det_care})
        matched_det = {dj for _, dj in det.pairs}
        for dj, box in enumerate(boxes):
            if dj in matched_det or dj in det.det_dont_care or dj in det.det_invalid:
                continue
            got = f"box {_fmt_box(box)}" + (f" {rec['texts'][dj]!r}" if task == "e2e" else "")
            failures.append({"image": sample_key(s), "expected": "<no GT: false positive>", "got": got})
    if task == "e2e":
        metrics = combine_e2e(e2e_results, norm).to_dict()
        metrics["det"] = combine(det_results).to_dict()
    else:
        metrics = combine(det_results).to_dict()
    return {"metrics": metrics, "failures": failures, "per_sample": per_sample}


def score_result(result: Union[EvalResult, Dict[str, Any]], dataset: Union[Dataset, str, Path, None] = None,
                 norm: Optional[TextNorm] = None) -> EvalResult:
    """Score a predictions-only result (e.g. pulled back from a device) on the host.

    ``dataset`` defaults to ``result.dataset["root"]`` read again; the samples scored are those
    the result holds predictions for.
    """
    res = EvalResult.from_dict(result) if isinstance(result, dict) else result
    if not isinstance(dataset, Dataset):
        dataset = load_dataset(dataset if dataset is not None else res.dataset["root"])
    norm = norm or TextNorm(**res.normalization)
    keys = {r["image"] for r in res.samples}
    samples = [s for s in dataset.samples if sample_key(s) in keys]
    scored = score(samples, res.samples, res.task, norm)
    res.metrics, res.failures, res.per_sample = scored["metrics"], scored["failures"], scored["per_sample"]
    return res


# ---------------------------------------------------------------------------------------------
# The library entry point
# ---------------------------------------------------------------------------------------------


def evaluate(
    bundle: Union[str, Path, Any],
    dataset: Union[str, Path, Dataset],
    task: Optional[str] = None,
    limit: Optional[int] = None,
    *,
    backend: Optional[str] = None,
    threads: Optional[int] = None,
    norm: TextNorm = TextNorm(),
    progress: bool = True,
    predictions_only: bool = False,
    ocr_options: Optional[Dict[str, Any]] = None,
) -> EvalResult:
    """Evaluate ``bundle`` (a bundle folder, or an already-open :class:`edgeocr.OCR` to reuse) on
    ``dataset`` (folder / label file / :class:`Dataset`) for ``task`` (default: ``det`` for
    detection sets, ``rec`` for word crops) on the first ``limit`` samples (None: all).

    ``predictions_only`` skips scoring (no shapely/rapidfuzz needed; see :func:`score_result`).
    ``ocr_options`` are passed to ``OCR(...)`` (e.g. ``{"det_box_thresh": 0.5}``).
    """
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    task = task or default_task(ds)
    check_task(ds, task)
    samples = limit_samples(ds.samples, limit)
    own_ocr = isinstance(bundle, (str, Path))
    if own_ocr:
        from edgeocr.manifest import load_bundle
        from edgeocr.pipeline import OCR

        check_runs_here(load_bundle(bundle, verify=False))
        t0 = time.perf_counter()
        ocr = OCR(bundle, backend=backend, threads=threads, use_cls=None, **(ocr_options or {}))
        init_s = time.perf_counter() - t0
    else:
        ocr, init_s = bundle, 0.0
    try:
        t0 = time.perf_counter()
        records = predict(ocr, samples, task, progress=progress)
        wall = time.perf_counter() - t0
        runtime = ocr.describe()
        bsum = bundle_summary(ocr.bundle)
    finally:
        if own_ocr:
            ocr.close()
    per = [r["seconds"] for r in records]
    result = EvalResult(
        task=task,
        dataset={**ds.summary(), "evaluated": len(samples)},
        bundle=bsum,
        limit=limit,
        normalization=asdict(norm),
        metrics=None,
        samples=records,
        runtime=runtime,
        timing={"init_s": init_s, "wall_s": wall, "mean_s_per_sample": sum(per) / len(per) if per else 0.0},
    )
    if not predictions_only:
        scored = score(samples, records, task, norm)
        result.metrics, result.failures, result.per_sample = scored["metrics"], scored["failures"], scored["per_sample"]
    return result
