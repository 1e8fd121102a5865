"""Accuracy-aware mixed-precision search: the smallest set of float layers that keeps a stage within budget
(issue 10).

Why: one int8 activation in the wrong place (PP-OCRv2 rec's early BN-folded depthwise convs, whose outputs are
small differences of large terms) collapses the recognizer, while most layers are harmless. Guessing "the first N
convs" wastes int8 MACs or misses a sensitive layer; measuring does not.

Recipe, per stage (numbered as in :func:`search_stage`):
  1. Calibrate once (ORT ranges for every Conv/MatMul input, cached as JSON): every candidate below re-uses them,
     so one candidate costs a quantization pass (seconds), not a calibration.
  2. Sensitivity, with exact numerics (ORT graph optimizations off: int8 products as ARM64 computes them): quantize
     *one* layer at a time and measure how far the stage output moves from fp32 on a few search samples
     (rec: share of CTC frames whose argmax changes; det: share of pixels whose 0.3-binarized probability changes;
     cls: mean change of the "180" probability).
  3. Greedy: rank layers by sensitivity per MAC (a sensitive depthwise conv costs almost no int8 compute to keep
     float, a wide pointwise conv costs a lot); float = the first k; bisect the smallest k whose task metric on
     the labelled search set (paired with fp32, exact numerics) drops by at most ``target`` points (a fraction of
     the gate's budget: the search set is small and the gate re-checks on the full test sets).
  4. Prune by cost: each float layer holding >= 2% of the stage's MACs is tried back in int8, largest first, and
     stays int8 when the search-set drop still meets the target. The goal is the fewest float *MACs*.
     Measured on PP-OCRv2 rec (500 labelled calib crops, paired noise ~+-1 point): ranking by sensitivity alone
     (search v2) floated Conv.22/26 (84 MMAC) and left 67% of the conv MACs in int8; ranking per MAC (v3) floats
     the depthwise convs and the first pointwise convs instead: 82% int8, within budget on the full test sets.
Search data are the calibration folders' own labelled samples (``*_calib``), never test data.
The result (float layers, sensitivities, the k tried) is cached under ``$EDGEOCR_HOME/quant-search`` and stored in
the manifest; the committed ``int8_recipe.json`` is its output on the shared models.
"""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx

from edgeocr.errors import ConfigError
from edgeocr.home import edgeocr_home

from .calibration import CalibrationSet
from .onnx_quantize import STATIC_OP_TYPES, preprocess, quantize_model, _ensure_names
from .quant_config import QuantConfig

log = logging.getLogger(__name__)

SEARCH_DIR = "quant-search"
SEARCH_VERSION = 3
# share of the gate budget the search aims for on its (small) search set
TARGET_SHARE = 0.5


@dataclass
class SearchResult:
    """Outcome for one stage: the float layers and how they were found."""

    stage: str
    float_nodes: List[str]
    quantizable: int
    sensitivity: Dict[str, float]
    tried: Dict[str, float]  # float set tried ("k=<n>" prefix or "-<layer>" pruning step) -> search-set drop (pts)
    target_pts: float
    search_samples: int
    seconds: float
    metric: str
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        d = asdict(self)
        return d


def quantizable_nodes(model: onnx.ModelProto, config: QuantConfig) -> List[str]:
    """Weight-bearing nodes the static pass may quantize, in graph order."""
    ops = [t for t in STATIC_OP_TYPES if t not in config.op_types_to_exclude and t not in config.dynamic_op_types]
    return [n.name for n in model.graph.node if n.op_type in ops]


# --- per-stage search data and metrics -------------------------------------------------------------------


def _session(path: Path):
    """``run(x)`` of a one-input model with exact int8 numerics."""
    from .qdq_graph import exact_session

    sess = exact_session(path)
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})[0]


@dataclass
class StageProbe:
    """Inputs and scoring of one stage for the search.

    ``proxy_inputs``: a few tensors for the sensitivity pass; ``distortion(ref, out)``: output movement.
    ``task_score(run) -> counts [n, k]`` and ``metric(sums) -> percent`` for the greedy check."""

    proxy_inputs: List[np.ndarray]
    distortion: Callable[[np.ndarray, np.ndarray], float]
    task_score: Callable[[Callable[[np.ndarray], np.ndarray]], np.ndarray]
    metric: Callable[[np.ndarray], np.ndarray]
    metric_name: str
    samples: int


def _rec_probe(calib: CalibrationSet, data_root: Path, n_proxy: int) -> StageProbe:
    from edgeocr.benchmarks.rec_metrics import compare
    from edgeocr.ctc_decode import CTCDecoder, load_character_list
    from edgeocr.image_io import read_image
    from edgeocr.rec_preprocess import rec_batches
    from edgeocr.stage_params import RecParams

    from .calibration import labelled_crop_files
    from .data_paths import REC_CALIB_SUBDIR
    from edgeocr.benchmarks.paired_bootstrap import accuracy_from_sums

    root = data_root / REC_CALIB_SUBDIR
    files = labelled_crop_files(10**6, root)
    labels = {}
    for line in sorted(root.glob("*.txt"))[0].read_text(encoding="utf-8-sig").splitlines():
        if "\t" in line:
            path, label = line.split("\t", 1)
            labels[str(root / path)] = label
    crops = [read_image(p) for p in files]
    params = RecParams()
    batches = list(rec_batches(crops, params))
    proxy = [b for _, b in rec_batches(crops[:: max(1, len(crops) // n_proxy)][:n_proxy], params)]
    decoder = CTCDecoder(load_character_list(_dictionary(data_root), params.use_space_char))

    def task_score(run):
        out = [""] * len(crops)
        for idx, batch in batches:
            for k, (text, _) in zip(idx, decoder(run(batch))):
                out[k] = text
        return np.array([[int(compare(t, labels[str(p)])[0]), 1] for t, p in zip(out, files)])

    def distortion(ref, out):
        return float(np.mean(ref.argmax(-1) != out.argmax(-1)))

    return StageProbe(proxy, distortion, task_score, accuracy_from_sums, "acc", len(crops))


def _dictionary(data_root: Path) -> Path:
    """The recognizer's dictionary (next to the shared models; the bundle's own copy is identical)."""
    import os

    src = os.environ.get("EDGEOCR_MODEL_SOURCE")
    for cand in ([Path(src) / "ppocr_keys_v1.txt"] if src else []) + [data_root.parent / "models" / "ppocr_keys_v1.txt"]:
        if cand.is_file():
            return cand
    raise ConfigError("the rec search needs ppocr_keys_v1.txt: set EDGEOCR_MODEL_SOURCE to the models folder")


def _det_probe(calib: CalibrationSet, data_root: Path, n_proxy: int, n_images: int = 24) -> StageProbe:
    from edgeocr.benchmarks.datasets import load_dataset
    from edgeocr.benchmarks.det_metrics import evaluate_image
    from edgeocr.det_preprocess import det_preprocess
    from edgeocr.image_io import read_image
    from edgeocr.pipeline import detect_boxes
    from edgeocr.stage_params import DetParams

    from .calibration import _spread
    from .data_paths import DET_CALIB_SUBDIR
    from edgeocr.benchmarks.paired_bootstrap import hmean_from_sums

    ds = load_dataset(data_root / Path(DET_CALIB_SUBDIR).parent)
    used = {Path(p).name for p in calib.det_images}
    samples = _spread([s for s in ds.samples if s.image.name not in used], n_images)
    params = DetParams()
    images = [read_image(s.image) for s in samples]
    proxy = [det_preprocess(img, params).tensor for img in images[:n_proxy]]

    def task_score(run):
        rows = []
        for s, img in zip(samples, images):
            boxes = detect_boxes(img, run, params)
            r = evaluate_image([g.points for g in s.regions], [g.ignore for g in s.regions],
                               [[[float(x), float(y)] for x, y in b] for b in boxes])
            rows.append([r.matched, r.gt_care, r.det_care])
        return np.array(rows)

    def distortion(ref, out):
        return float(np.mean((ref > params.thresh) != (out > params.thresh)))

    return StageProbe(proxy, distortion, task_score, hmean_from_sums, "hmean", len(samples))


def _cls_probe(calib: CalibrationSet, data_root: Path, n_proxy: int) -> StageProbe:
    import cv2

    from edgeocr.cls_stage import resize_norm_crop
    from edgeocr.stage_params import ClsParams

    from edgeocr.benchmarks.paired_bootstrap import accuracy_from_sums

    params = ClsParams()
    crops = calib.crops
    items = [(c, 0) for c in crops] + [(cv2.rotate(c, cv2.ROTATE_180), 1) for c in crops]
    bs = params.batch_size
    batches = [(np.stack([resize_norm_crop(c, params.image_shape) for c, _ in items[i:i + bs]]),
                [y for _, y in items[i:i + bs]]) for i in range(0, len(items), bs)]
    proxy = [b for b, _ in batches[:: max(1, len(batches) // n_proxy)][:n_proxy]]

    def task_score(run):
        rows = []
        for x, ys in batches:
            pred = run(x).argmax(axis=1)
            rows.extend([int(int(p) == y), 1] for p, y in zip(pred, ys))
        return np.array(rows)

    def distortion(ref, out):
        return float(np.mean(np.abs(ref[:, 1] - out[:, 1])))

    return StageProbe(proxy, distortion, task_score, accuracy_from_sums, "orientation acc", len(items))


PROBES = {"rec": _rec_probe, "det": _det_probe, "cls": _cls_probe}


# --- the search -------------------------------------------------------------------------------------------


def layer_macs(model: Path, stage: str) -> Dict[str, int]:
    """MACs of each weight-bearing layer of ``model`` at the stage's nominal input size."""
    from edgeocr.kernel_probe import probe_model

    from .mac_count import node_macs, weight_sizes
    from .quant_builders import NOMINAL_SHAPES

    weights = weight_sizes(model)
    return {n["name"]: node_macs(n, weights.get(n["name"], 0)) for n in probe_model(model, NOMINAL_SHAPES[stage], {})}


def search_stage(stage: str, fp32_model: Path, config: QuantConfig, calib: CalibrationSet, data_root: Path,
                 budget_pts: float, work: Path, n_proxy: int = 8,
                 progress: Callable[[str], None] = lambda m: None,
                 sensitivity: Optional[Dict[str, float]] = None,
                 tried: Optional[Dict[str, float]] = None) -> SearchResult:
    """Steps 1-4 of the module docstring for one stage; returns the float layers. ``sensitivity`` / ``tried``:
    results of an interrupted or earlier run with the same inputs (skips that work)."""
    from edgeocr.benchmarks.paired_bootstrap import paired_drop

    t0 = time.time()
    work.mkdir(parents=True, exist_ok=True)
    cache = work / f"{stage}.ranges.json"
    base = QuantConfig.from_dict({**config.to_dict(), "nodes_to_exclude": [], "float_first_convs": 0})
    reader = lambda name, n: calib.reader(stage, name, n)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="edgeocr.search.") as tmp:
        pre = Path(tmp) / "pre.onnx"
        preprocess(fp32_model, pre)
        model = onnx.load(str(pre))
        _ensure_names(model)
        nodes = quantizable_nodes(model, base)
        del model
    probe = PROBES[stage](calib, data_root, n_proxy)
    fp32_run = _session(fp32_model)
    ref_proxy = [fp32_run(x) for x in probe.proxy_inputs]
    ref_counts = probe.task_score(fp32_run)

    def build(float_nodes: Sequence[str], dst: Path) -> Path:
        cfg = QuantConfig.from_dict({**base.to_dict(), "nodes_to_exclude": list(float_nodes)})
        quantize_model(fp32_model, dst, cfg, reader, calibration_cache=cache)
        return dst

    # 1. calibration (cached ranges) + 2. sensitivity of each layer alone
    sensitivity = dict(sensitivity or {})
    for i, node in enumerate(n for n in nodes if n not in sensitivity):
        progress(f"{stage} sensitivity {i + 1}/{len(nodes)}: {node}")
        path = build([n for n in nodes if n != node], work / f"{stage}.one.onnx")
        run = _session(path)
        sensitivity[node] = round(float(np.mean([probe.distortion(r, run(x))
                                                 for r, x in zip(ref_proxy, probe.proxy_inputs)])), 6)
    # float candidates by sensitivity per MAC: a cheap sensitive layer (a depthwise conv) costs little int8
    # compute to keep float, an expensive one (a wide pointwise conv) costs a lot
    macs = layer_macs(fp32_model, stage)
    order = sorted(nodes, key=lambda n: -sensitivity[n] / max(macs.get(n, 0), 1))
    target = TARGET_SHARE * budget_pts
    tried = dict(tried or {})

    def drop_of(float_set: Sequence[str], label: str) -> float:
        if label not in tried:
            path = build(list(float_set), work / f"{stage}.try.onnx")
            counts = probe.task_score(_session(path))
            tried[label] = paired_drop(ref_counts, counts, probe.metric, resamples=200).drop
            progress(f"{stage}: {label} ({len(float_set)} float layers) -> drop {tried[label]:+.2f} pts on the "
                     f"search set (target {target:.2f})")
        return tried[label]

    def drop_with(k: int) -> float:
        return drop_of(order[:k], f"k={k}")

    # 3. bisect the smallest k within target (k = len(nodes): all float, drop 0)
    lo, hi = 0, len(nodes)
    if drop_with(0) <= target:
        hi = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if drop_with(mid) <= target:
            hi = mid
        else:
            lo = mid
    chosen = list(order[:hi])
    # 4. prune by cost: expensive float layers back to int8 while the target holds
    total = sum(macs.get(n, 0) for n in nodes) or 1
    for node in sorted(chosen, key=lambda n: -macs.get(n, 0)):
        if macs.get(node, 0) < 0.02 * total:
            break
        trial = [n for n in chosen if n != node]
        if drop_of(trial, f"k={hi} -{','.join(n for n in order[:hi] if n not in trial)}") <= target:
            chosen = trial
    float_nodes = [n for n in nodes if n in set(chosen)]  # graph order
    notes = [f"search set: {probe.samples} labelled *_calib samples, exact numerics; target {target:.2f} pts "
             f"({TARGET_SHARE:.0%} of the {budget_pts} pt budget)"]
    return SearchResult(stage, float_nodes, len(nodes), sensitivity, tried, target,
                        probe.samples, round(time.time() - t0, 1), probe.metric_name, notes)


def search_key(fp32_model: Path, config: QuantConfig, calib_digest: str, budget_pts: float) -> str:
    from edgeocr.hashing import sha256_file

    material = json.dumps({"v": SEARCH_VERSION, "model": sha256_file(fp32_model), "config": config.to_dict(),
                           "calib": calib_digest, "budget": budget_pts, "target": TARGET_SHARE}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def cached_search(stage: str, fp32_model: Path, config: QuantConfig, calib: CalibrationSet, data_root: Path,
                  budget_pts: float, progress: Callable[[str], None] = lambda m: None) -> Tuple[SearchResult, bool]:
    """:func:`search_stage`, cached under ``$EDGEOCR_HOME/quant-search``; returns (result, was cached)."""
    from edgeocr.atomic_io import write_text

    key = search_key(fp32_model, config, calib.digest(), budget_pts)
    path = edgeocr_home() / SEARCH_DIR / f"{stage}-{key}.json"
    if path.is_file():
        return SearchResult(**json.loads(path.read_text(encoding="utf-8"))), True
    with tempfile.TemporaryDirectory(prefix="edgeocr.search.") as tmp:
        result = search_stage(stage, fp32_model, config, calib, data_root, budget_pts, Path(tmp), progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(result.to_dict(), indent=1))
    return result, False
