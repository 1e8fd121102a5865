"""Accuracy gate: a quantized variant ships only if it keeps its fp32 parent's accuracy (issue 5).

The candidate and its fp32 parent are evaluated with the eval library of ``edgeocr eval``
(:func:`edgeocr.benchmarks.eval_runner.evaluate`) on the developer halves of labelled data:

- det H-mean on ``icdar2015_det`` and ``msra_td500`` (if the det model changed),
- rec accuracy on ``icdar2015_rec`` and ``iiit5k_rec`` (if the rec model changed),
- cls orientation accuracy on ``icdar2015_rec`` crops and their 180-degree turns (if the cls model changed),

on the first ``limit`` images of each det set (``--gate-limit``) and at least :data:`MIN_CROPS` crops of each
rec set. Budgets (points, i.e. percent): det drop <= 0.5,
rec drop <= 1.0 (:class:`GateBudget`). Over budget -> :class:`AccuracyGateError` (the variant is not written)
unless ``allow_accuracy_drop``; then the manifest's ``accuracy`` says ``"passed": false,
"allowed_accuracy_drop": true``.
Like ai-hub-models' ``numerics.yaml`` (``metric_fp_vs_device_enablement_threshold``), the comparison is stored
against the fp32 reference together with the allowed drop.
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from edgeocr.errors import AccuracyGateError, ConfigError, InputError
from edgeocr.hashing import sha256_file
from edgeocr.manifest import MANIFEST_NAME

log = logging.getLogger(__name__)

# stage -> (task, developer datasets) the gate scores when that stage's model changed
GATE_DATASETS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "det": ("det", ("icdar2015_det", "msra_td500")),
    "rec": ("rec", ("icdar2015_rec", "iiit5k_rec")),
}
DEFAULT_GATE_LIMIT = 100  # det images per dataset: ~2 min per variant on 2 shared cores
# Word crops are cheap and one flipped crop out of N moves accuracy by 100/N points: with the 1.0-point rec
# budget, 50 crops would make a single flip fail the gate (measured: iiit5k 80 -> 78 on 50 crops while 300
# crops showed +0.3). So rec/cls always score at least this many crops (0.2 points per crop).
MIN_CROPS = 500

# Parent results per (parent model sha256, dataset, limit): the fp32 parent is scored once per process even
# when several candidates derive from it.
_PARENT_CACHE: Dict[Tuple[str, str, Optional[int]], Tuple[float, Dict[str, List[str]]]] = {}


@dataclass(frozen=True)
class GateBudget:
    """Allowed accuracy drop vs the fp32 parent, in points (0.5 = half a percentage point)."""

    det_drop_pts: float = 0.5
    rec_drop_pts: float = 1.0

    def __post_init__(self) -> None:
        for name in ("det_drop_pts", "rec_drop_pts"):
            if not 0.0 <= getattr(self, name) <= 100.0:
                raise ConfigError(f"{name}={getattr(self, name)} must be within [0, 100] points")

    cls_drop_pts: float = 1.0

    def for_task(self, task: str) -> float:
        return {"det": self.det_drop_pts, "rec": self.rec_drop_pts, "cls": self.cls_drop_pts}[task]


@dataclass
class GateRow:
    """One dataset: parent and candidate metric (percent), drop in points (positive = worse), verdict."""

    stage: str
    dataset: str
    metric: str
    parent: float
    candidate: float
    drop_pts: float
    budget_pts: float
    passed: bool
    identical_share: Optional[float] = None  # rec: share of crops whose text equals the parent's (parity)
    samples: Optional[int] = None  # samples scored (det images / word crops); None = the whole set


@dataclass
class GateResult:
    """Outcome for one candidate variant; ``to_dict()`` is what goes into the manifest ``accuracy`` field."""

    variant: str
    parent: str
    limit: Optional[int]
    rows: List[GateRow] = field(default_factory=list)
    allowed: bool = False  # over budget but kept because of --allow-accuracy-drop

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "passed": self.passed,
            "allowed_accuracy_drop": self.allowed,
            "parent": self.parent,
            "gate_limit": self.limit,
            "budget_pts": {r.stage: r.budget_pts for r in self.rows},
            "rows": [asdict(r) for r in self.rows],
        }

    def table(self) -> str:
        """Markdown table, one row per dataset (the report shows it whether the gate passed or not)."""
        lines = [
            f"| dataset | samples | metric | {self.parent} | {self.variant} | drop (pts) | budget | same text as parent | verdict |",
            "|---|---:|---|---:|---:|---:|---:|---:|---|",
        ]
        for r in self.rows:
            verdict = "ok" if r.passed else ("OVER BUDGET (kept: --allow-accuracy-drop)" if self.allowed else "OVER BUDGET")
            lines.append(
                f"| {r.dataset} | {r.samples or 'all'} | {r.metric} | {r.parent:.2f} | {r.candidate:.2f} | {r.drop_pts:+.2f} | "
                f"{r.budget_pts:.1f} | {'' if r.identical_share is None else f'{100 * r.identical_share:.1f}%'} | "
                f"{verdict} |"
            )
        return "\n".join(lines)


def _metric(bundle: Path, stage: str, dataset: Path, limit: Optional[int],
            threads: Optional[int]) -> Tuple[float, Dict[str, List[str]]]:
    """(metric in percent, image -> recognized texts) of ``bundle`` on ``dataset``."""
    from edgeocr.benchmarks.eval_runner import evaluate

    task, _ = GATE_DATASETS[stage]
    result = evaluate(bundle, dataset, task=task, limit=limit, threads=threads, progress=False)
    return 100.0 * result.main_metric, result.texts


def crop_limit(limit: Optional[int], min_crops: int = MIN_CROPS) -> Optional[int]:
    """Crops scored for rec/cls under ``--gate-limit limit``: at least ``min_crops``."""
    return None if limit is None else max(limit, min_crops)


def _stage_sha(bundle: Path, stage: str) -> str:
    manifest = json.loads((bundle / MANIFEST_NAME).read_text(encoding="utf-8"))
    return manifest["stages"][stage]["sha256"]


def run_gate(
    candidate: Path,
    parent: Path,
    stages: Sequence[str],
    data_root: Path,
    limit: Optional[int] = DEFAULT_GATE_LIMIT,
    budget: GateBudget = GateBudget(),
    threads: Optional[int] = None,
    variant: str = "candidate",
    parent_name: str = "onnx-fp32",
    min_crops: int = MIN_CROPS,
) -> GateResult:
    """Score ``candidate`` and ``parent`` bundles on the gate datasets of the changed ``stages``.

    ``data_root`` holds the labelled test sets (icdar2015_det, msra_td500, icdar2015_rec, iiit5k_rec).

    ``min_crops`` lowers the rec/cls crop floor (tests only: below 100 one crop outweighs the rec budget)."""
    if limit is not None and limit < 1:
        raise ConfigError(f"--gate-limit {limit} must be >= 1 (or omitted for the full developer sets)")
    result = GateResult(variant=variant, parent=parent_name, limit=limit)
    for stage in stages:
        if stage == "cls":
            result.rows.append(_cls_row(candidate, parent, crop_limit(limit, min_crops), budget, data_root))
            continue
        task, datasets = GATE_DATASETS[stage]
        n = limit if task == "det" else crop_limit(limit, min_crops)
        for ds in datasets:
            key = (_stage_sha(parent, stage), ds, n)
            if key not in _PARENT_CACHE:
                _PARENT_CACHE[key] = _metric(parent, stage, data_root / ds, n, threads)
            p, p_texts = _PARENT_CACHE[key]
            c, c_texts = _metric(candidate, stage, data_root / ds, n, threads)
            drop = round(p - c, 4)
            allowed = budget.for_task(task)
            same = None
            if task == "rec" and p_texts:
                same = round(sum(c_texts.get(k) == v for k, v in p_texts.items()) / len(p_texts), 4)
            row = GateRow(stage, ds, "hmean" if task == "det" else "acc", round(p, 3), round(c, 3), drop, allowed,
                          drop <= allowed + 1e-9, same, n)
            log.info("gate %s %s: %s %.2f -> %.2f (drop %.2f pts, budget %.1f)", variant, ds, row.metric, p, c, drop, allowed)
            result.rows.append(row)
    return result


def _cls_accuracy(bundle: Path, crops: List[Any]) -> float:
    """Orientation accuracy (percent) on ``crops`` (upright) and their 180-degree turns."""
    import cv2
    import numpy as np

    from edgeocr.backends.base import create_backend
    from edgeocr.cls_stage import resize_norm_crop
    from edgeocr.manifest import load_bundle
    from edgeocr.stage_params import ClsParams

    params = ClsParams()
    b = load_bundle(bundle, verify=False)
    samples = [(c, 0) for c in crops] + [(cv2.rotate(c, cv2.ROTATE_180), 1) for c in crops]
    backend_name = {"onnx": "onnxruntime", "ort": "onnxruntime"}.get(b.manifest.format, b.manifest.backend)
    correct = 0
    opts = {"lite_version": b.manifest.lite_version} if backend_name == "paddle-lite" else {}
    with create_backend(backend_name, b.stage_path("cls"), **opts) as backend:
        for i in range(0, len(samples), params.batch_size):
            chunk = samples[i : i + params.batch_size]
            x = np.stack([resize_norm_crop(c, params.image_shape) for c, _ in chunk])
            pred = backend.run_single(x).argmax(axis=1)
            correct += int(sum(int(p) == y for p, (_, y) in zip(pred, chunk)))
    return 100.0 * correct / len(samples)


def _cls_row(candidate: Path, parent: Path, n: Optional[int], budget: GateBudget, data_root: Path) -> GateRow:
    """cls has no labelled set of its own: real word crops (icdar2015_rec developer half) are upright, so they and
    their 180-degree turns make one; the metric is orientation accuracy."""
    from edgeocr.benchmarks.datasets import limit_samples, load_dataset
    from edgeocr.image_io import read_image

    ds = load_dataset(data_root / "icdar2015_rec")
    crops = [read_image(s.image) for s in limit_samples(ds.samples, n)]
    key = (_stage_sha(parent, "cls"), "icdar2015_rec+rot180", n)
    if key not in _PARENT_CACHE:
        _PARENT_CACHE[key] = (_cls_accuracy(parent, crops), {})
    p = _PARENT_CACHE[key][0]
    c = _cls_accuracy(candidate, crops)
    drop = round(p - c, 4)
    return GateRow("cls", "icdar2015_rec+rot180", "orientation acc", round(p, 3), round(c, 3), drop,
                   budget.cls_drop_pts, drop <= budget.cls_drop_pts + 1e-9, None, 2 * len(crops))


def enforce(result: GateResult, allow_accuracy_drop: bool) -> GateResult:
    """Raise :class:`AccuracyGateError` (with ``.accuracy`` for the report) when over budget and not allowed."""
    if result.passed:
        return result
    if allow_accuracy_drop:
        result.allowed = True
        log.warning("%s is over its accuracy budget; kept because of --allow-accuracy-drop", result.variant)
        return result
    worst = max(result.rows, key=lambda r: r.drop_pts - r.budget_pts)
    err = AccuracyGateError(
        f"{result.variant} loses {worst.drop_pts:.2f} points of {worst.metric} on {worst.dataset} vs {result.parent} "
        f"(budget {worst.budget_pts:.1f}); not written. Tune the recipe, or pass --allow-accuracy-drop to keep it "
        "(marked in its manifest)"
    )
    err.accuracy = result.to_dict()  # type: ignore[attr-defined]
    raise err


def assemble_bundle(parent: Path, models: Mapping[str, Path], dst: Path, fmt: str = "onnx") -> Path:
    """A scratch bundle for the gate: ``parent``'s bundle with ``models`` (stage -> file) swapped in.

    The manifest is the parent's with the swapped stages' file/size/sha256 and ``format`` updated, so the
    runtime loads the candidate exactly as it will load the final bundle.
    """
    if not (parent / MANIFEST_NAME).is_file():
        raise InputError("the fp32 parent bundle has no manifest.json; build onnx-fp32 first", parent)
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(parent, dst)
    manifest = json.loads((dst / MANIFEST_NAME).read_text(encoding="utf-8"))
    for stage, path in models.items():
        old = dst / manifest["stages"][stage]["file"]
        old.unlink(missing_ok=True)
        target = dst / f"{stage}{Path(path).suffix}"
        shutil.copyfile(path, target)
        manifest["stages"][stage].update(file=target.name, size=target.stat().st_size, sha256=sha256_file(target))
    manifest["format"] = fmt
    (dst / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return dst
