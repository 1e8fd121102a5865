"""Per-sample scores of a bundle on the gate's test sets, and a disk cache of the fp32 parent's (issue 10).

The accuracy gate needs *per-sample* results of both models (for the paired bootstrap) on the *full* test sets.
Three things keep that affordable in ``make demo``:

- one process, one pass over each dataset: every model (parent, candidate) runs on an image right after it is
  read, so JPEG decoding and det post-processing inputs are shared;
- word crops whose width fits the recognizer's 320-pixel canvas are batched: the runtime pads a crop alone to
  exactly that canvas, so a batch of such crops gives each crop the very tensor it gets alone (wider crops run
  alone, as in ``edgeocr eval``);
- the fp32 parent's per-sample scores are cached under ``$EDGEOCR_HOME/gate-cache``, keyed by the sha256 of the
  parent's manifest content that decides its outputs (model files, dictionary, stage parameters) plus the
  dataset, its label file digest and the limit: a rebuild never re-evaluates an unchanged parent.

``numerics``: ``"host"`` runs the bundle as ORT does on this machine (QDQ fused into this CPU's integer kernels;
on AVX2 the U8S8 kernels may saturate int16 pair sums); ``"exact"`` disables QDQ fusion
(``session.disable_quant_qdq``): Q/DQ nodes run as written, i.e. exact int8 products, which is what ORT's ARM64
(and AVX512-VNNI) kernels compute. For fp32/fp16 models both are the same.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from edgeocr.atomic_io import write_text
from edgeocr.errors import ConfigError
from edgeocr.home import edgeocr_home
from edgeocr.manifest import MANIFEST_NAME, load_bundle

log = logging.getLogger(__name__)

NUMERICS = ("host", "exact")
EXACT_SESSION_CONFIG = {"session.disable_quant_qdq": "1"}
CACHE_DIR = "gate-cache"
CACHE_VERSION = 2  # bump when the scoring below changes (2: det boxes stored)
REC_BATCH = 16  # crops per batch for crops that fit the 320-pixel canvas


@dataclass
class SampleScores:
    """One model on one gate set. ``counts``: one row per sample — det ``(matched, gt_care, det_care)``,
    rec/cls ``(correct, 1)`` — so pooled metrics are sums. ``texts``: rec strings (same-text share). ``boxes``: det
    quadrilaterals per image (box agreement with the parent)."""

    task: str
    dataset: str
    keys: List[str]
    counts: np.ndarray
    texts: List[str] = field(default_factory=list)
    seconds: float = 0.0
    boxes: List[List[List[List[float]]]] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"task": self.task, "dataset": self.dataset, "keys": self.keys, "counts": self.counts.tolist(),
                "texts": self.texts, "seconds": self.seconds, "boxes": self.boxes}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SampleScores":
        return cls(d["task"], d["dataset"], list(d["keys"]), np.asarray(d["counts"], np.int64), list(d["texts"]),
                   float(d.get("seconds", 0.0)), list(d["boxes"]))


def open_ocr(bundle: Path, numerics: str = "host", threads: Optional[int] = None) -> Any:
    """An :class:`edgeocr.OCR` on ``bundle`` with the requested numerics (see module docstring)."""
    from edgeocr.pipeline import OCR

    if numerics not in NUMERICS:
        raise ConfigError(f"gate numerics {numerics!r} is not valid; choose one of {', '.join(NUMERICS)}")
    options: Dict[str, Any] = {}
    manifest = load_bundle(bundle, verify=False).manifest
    if numerics == "exact" and manifest.format in ("onnx", "ort"):  # other backends have no QDQ fusion
        options["session_config"] = {**manifest.ort_session_config, **EXACT_SESSION_CONFIG}
    return OCR(bundle, threads=threads, use_cls=True, verify=False, backend_options=options)


def _det(ocrs: Mapping[str, Any], dataset: Path, limit: Optional[int]) -> Dict[str, SampleScores]:
    from tqdm import tqdm

    from edgeocr.benchmarks.datasets import limit_samples, load_dataset
    from edgeocr.benchmarks.det_metrics import evaluate_image
    from edgeocr.benchmarks.eval_runner import sample_key
    from edgeocr.image_io import read_image

    samples = limit_samples(load_dataset(dataset).samples, limit)
    rows: Dict[str, List[List[int]]] = {n: [] for n in ocrs}
    quads: Dict[str, List[List[List[List[float]]]]] = {n: [] for n in ocrs}
    secs = dict.fromkeys(ocrs, 0.0)
    for s in tqdm(samples, desc=f"gate {Path(dataset).name}", unit="img", leave=False):
        img = read_image(s.image)
        for name, ocr in ocrs.items():
            t0 = time.perf_counter()
            boxes = [[[float(x), float(y)] for x, y in b] for b in ocr.detect(img).boxes]
            secs[name] += time.perf_counter() - t0
            r = evaluate_image([g.points for g in s.regions], [g.ignore for g in s.regions], boxes)
            rows[name].append([r.matched, r.gt_care, r.det_care])
            quads[name].append(boxes)
    keys = [sample_key(s) for s in samples]
    return {n: SampleScores("det", Path(dataset).name, keys, np.asarray(rows[n], np.int64).reshape(-1, 3), [],
                            round(secs[n], 2), quads[n]) for n in ocrs}


def _fits_canvas(crop: np.ndarray, image_shape: Sequence[int]) -> bool:
    """True when the runtime pads ``crop`` alone to exactly the ``W``-pixel canvas (w/h <= W/H)."""
    _, h, w = image_shape
    return crop.shape[1] / float(crop.shape[0]) <= w / float(h)


def _rec(ocrs: Mapping[str, Any], dataset: Path, limit: Optional[int]) -> Dict[str, SampleScores]:
    from tqdm import tqdm

    from edgeocr.benchmarks.datasets import limit_samples, load_dataset
    from edgeocr.benchmarks.eval_runner import sample_key
    from edgeocr.benchmarks.rec_metrics import compare
    from edgeocr.image_io import read_image

    samples = limit_samples(load_dataset(dataset).samples, limit)
    crops = [read_image(s.image) for s in samples]
    texts: Dict[str, List[str]] = {n: [""] * len(samples) for n in ocrs}
    secs = dict.fromkeys(ocrs, 0.0)
    first = next(iter(ocrs.values()))
    fits = [i for i, c in enumerate(crops) if _fits_canvas(c, first.rec_params.image_shape)]
    wide = [i for i, c in enumerate(crops) if not _fits_canvas(c, first.rec_params.image_shape)]
    groups = [fits[i:i + REC_BATCH] for i in range(0, len(fits), REC_BATCH)] + [[i] for i in wide]
    for group in tqdm(groups, desc=f"gate {Path(dataset).name}", unit="batch", leave=False):
        for name, ocr in ocrs.items():
            t0 = time.perf_counter()
            out = ocr.recognize([crops[i] for i in group]).texts
            secs[name] += time.perf_counter() - t0
            for i, (text, _) in zip(group, out):
                texts[name][i] = text
    keys = [sample_key(s) for s in samples]
    result = {}
    for name in ocrs:
        counts = np.asarray([[int(compare(t, s.label)[0]), 1] for t, s in zip(texts[name], samples)], np.int64)
        result[name] = SampleScores("rec", Path(dataset).name, keys, counts.reshape(-1, 2), texts[name],
                                    round(secs[name], 2))
    return result


def _cls(ocrs: Mapping[str, Any], dataset: Path, limit: Optional[int]) -> Dict[str, SampleScores]:
    """Orientation on real word crops (upright) and their 180-degree turns: the classifier's own job."""
    import cv2

    from edgeocr.benchmarks.datasets import limit_samples, load_dataset
    from edgeocr.benchmarks.eval_runner import sample_key
    from edgeocr.cls_stage import resize_norm_crop
    from edgeocr.image_io import read_image

    samples = limit_samples(load_dataset(dataset).samples, limit)
    crops = [read_image(s.image) for s in samples]
    items = [(c, 0) for c in crops] + [(cv2.rotate(c, cv2.ROTATE_180), 1) for c in crops]
    keys = [sample_key(s) for s in samples] + [sample_key(s) + "@180" for s in samples]
    first = next(iter(ocrs.values()))
    params = first.cls_params
    result = {}
    for name, ocr in ocrs.items():
        model = ocr._models["cls"]  # the timed backend the pipeline itself runs
        t0 = time.perf_counter()
        correct: List[int] = []
        for i in range(0, len(items), params.batch_size):
            chunk = items[i:i + params.batch_size]
            pred = model(np.stack([resize_norm_crop(c, params.image_shape) for c, _ in chunk])).argmax(axis=1)
            correct.extend(int(int(p) == y) for p, (_, y) in zip(pred, chunk))
        counts = np.asarray([[c, 1] for c in correct], np.int64).reshape(-1, 2)
        result[name] = SampleScores("cls", Path(dataset).name + "+rot180", keys, counts, [],
                                    round(time.perf_counter() - t0, 2))
    return result


SCORERS = {"det": _det, "rec": _rec, "cls": _cls}


def score(ocrs: Mapping[str, Any], task: str, dataset: Path, limit: Optional[int]) -> Dict[str, SampleScores]:
    """Per-sample scores of every open OCR in ``ocrs`` (name -> OCR) on ``dataset`` for ``task``."""
    if task not in SCORERS:
        raise ConfigError(f"gate task {task!r} is not valid; choose one of {', '.join(SCORERS)}")
    return SCORERS[task](ocrs, Path(dataset), limit)


# --- parent cache ------------------------------------------------------------------------------------------


def parent_key(parent: Path, task: str, dataset: Path, limit: Optional[int]) -> str:
    """Cache key: sha256 over the parent manifest's output-deciding content, the dataset and the limit."""
    from edgeocr.benchmarks.datasets import load_dataset
    from edgeocr.hashing import sha256_file

    manifest = json.loads((Path(parent) / MANIFEST_NAME).read_text(encoding="utf-8"))
    decisive = {k: manifest.get(k) for k in ("format", "backend", "precision", "stages", "dictionary", "pipeline",
                                            "quantization")}
    ds = load_dataset(dataset)
    label = sha256_file(ds.label_file) if ds.label_file else str(len(ds.samples))
    material = json.dumps({"v": CACHE_VERSION, "manifest": decisive, "task": task, "dataset": Path(dataset).name,
                           "labels": label, "samples": len(ds.samples), "limit": limit}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def cache_path(key: str) -> Path:
    return edgeocr_home() / CACHE_DIR / f"{key}.json"


def load_cached(key: str) -> Optional[SampleScores]:
    path = cache_path(key)
    if not path.is_file():
        return None
    try:
        return SampleScores.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError) as exc:  # a torn/old file: re-evaluate rather than fail
        log.warning("ignoring unreadable gate cache %s (%s)", path, exc)
        return None


def store_cached(key: str, scores: SampleScores) -> None:
    path = cache_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(scores.to_dict()))
