"""Accuracy gate: a quantized variant ships only if it keeps its fp32 parent's accuracy (issues 5, 10).

The candidate and its fp32 parent are scored *per sample* on the **full** labelled test sets
(:mod:`gate_eval`, the runtime's own pre/post-processing and PaddleOCR's metrics):

- det H-mean on ``icdar2015_det`` and ``msra_td500`` (if the det model changed),
- rec accuracy on ``icdar2015_rec`` and ``iiit5k_rec`` (if the rec model changed),
- cls orientation accuracy on ``icdar2015_rec`` crops and their 180-degree turns (if the cls model changed).

The drop (parent - candidate, points) gets a paired bootstrap 95% interval (:mod:`edgeocr.benchmarks.paired_bootstrap`: the same
resampled images for both models). Budgets (:class:`GateBudget`): det <= 0.5, rec <= 1.0, cls <= 1.0 point. A
stage is **rejected when the drop's point estimate exceeds the budget or its whole interval lies above it**.
Why full sets and intervals: on 100 images one det box moves H-mean by 0.3-0.5 points and at 500 crops the paired
error of a rec accuracy difference is about +-1.3 points, so a budget checked that way is noise (measured: a
variant that passed on 100 MSRA images lost 1.05 points on unseen ones).

The candidate runs with ``numerics="exact"`` by default (int8 products as ARM64 / VNNI kernels compute them, see
:mod:`gate_eval`): that is the number that gates. The fp32 parent's per-sample scores are cached on disk, so a
rebuild does not evaluate the parent again. Over budget -> :class:`AccuracyGateError` (the variant is not
written) unless ``allow_accuracy_drop``; then the manifest's ``accuracy`` says ``"passed": false,
"allowed_accuracy_drop": true``.
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

from edgeocr.benchmarks.paired_bootstrap import CONFIDENCE, DEFAULT_RESAMPLES

log = logging.getLogger(__name__)

# stage -> (task, developer datasets) the gate scores when that stage's model changed
GATE_DATASETS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "det": ("det", ("icdar2015_det", "msra_td500")),
    "rec": ("rec", ("icdar2015_rec", "iiit5k_rec")),
    "cls": ("cls", ("icdar2015_rec",)),
}
DEFAULT_GATE_LIMIT: Optional[int] = None  # None: the full test sets (a number is for tests and quick experiments)
# Word crops are cheap and one flipped crop out of N moves accuracy by 100/N points: with the 1.0-point rec
# budget, 50 crops would make a single flip fail the gate (measured: iiit5k 80 -> 78 on 50 crops while 300
# crops showed +0.3). So rec/cls always score at least this many crops (0.2 points per crop).
MIN_CROPS = 500



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
    # rec: share of crops whose text equals the parent's; det: box agreement with the parent (H-mean of the
    # candidate's boxes against the parent's at IoU > 0.5, benchmarks/det_metrics.box_agreement)
    identical_share: Optional[float] = None
    samples: Optional[int] = None  # samples scored (det images / word crops / cls crops and turns)
    ci_low: Optional[float] = None  # paired bootstrap 95% interval of drop_pts
    ci_high: Optional[float] = None
    numerics: str = "exact"  # how the candidate ran (gate_eval.NUMERICS)
    seconds: Optional[float] = None  # candidate inference time on this set


@dataclass
class GateResult:
    """Outcome for one candidate variant; ``to_dict()`` is what goes into the manifest ``accuracy`` field."""

    variant: str
    parent: str
    limit: Optional[int]
    numerics: str = "exact"
    resamples: int = DEFAULT_RESAMPLES
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
            "full_test_sets": self.limit is None,
            "numerics": self.numerics,
            "interval": f"paired bootstrap {int(CONFIDENCE * 100)}% CI of the drop, {self.resamples} resamples",
            "rule": "rejected when drop > budget or the whole interval lies above the budget",
            "budget_pts": {r.stage: r.budget_pts for r in self.rows},
            "rows": [asdict(r) for r in self.rows],
        }

    def table(self) -> str:
        """Markdown table, one row per dataset (the report shows it whether the gate passed or not)."""
        lines = [
            f"| dataset | samples | metric | {self.parent} | {self.variant} ({self.numerics}) | drop (pts) | 95% CI | "
            "budget | same output as parent | verdict |",
            "|---|---:|---|---:|---:|---:|---|---:|---:|---|",
        ]
        for r in self.rows:
            verdict = "ok" if r.passed else ("OVER BUDGET (kept: --allow-accuracy-drop)" if self.allowed else "OVER BUDGET")
            lines.append(
                f"| {r.dataset} | {r.samples or 'all'} | {r.metric} | {r.parent:.2f} | {r.candidate:.2f} | {r.drop_pts:+.2f} | "
                f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}] | {r.budget_pts:.1f} | {'' if r.identical_share is None else f'{100 * r.identical_share:.1f}%'} | "
                f"{verdict} |"
            )
        return "\n".join(lines)


def crop_limit(limit: Optional[int], min_crops: int = MIN_CROPS) -> Optional[int]:
    """Crops scored for rec/cls under ``--gate-limit limit``: at least ``min_crops``."""
    return None if limit is None else max(limit, min_crops)


def _row(stage: str, dataset: str, metric: str, p: "SampleScores", c: "SampleScores", budget_pts: float,
         numerics: str, resamples: int) -> GateRow:
    from edgeocr.benchmarks.det_metrics import box_agreement
    from edgeocr.benchmarks.paired_bootstrap import accuracy_from_sums, hmean_from_sums, paired_drop

    fn = hmean_from_sums if p.task == "det" else accuracy_from_sums
    d = paired_drop(p.counts, c.counts, fn, resamples=resamples)
    same = None
    if p.texts and c.texts:
        same = round(sum(a == b for a, b in zip(p.texts, c.texts)) / len(p.texts), 4)
    elif p.task == "det":
        same = round(box_agreement(p.boxes, c.boxes), 4)
    return GateRow(stage, dataset, metric, d.parent, d.candidate, d.drop, budget_pts, not d.over_budget(budget_pts),
                   same, len(c.keys), d.ci_low, d.ci_high, numerics)


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
    numerics: str = "exact",
    resamples: int = DEFAULT_RESAMPLES,
    cache: bool = True,
) -> GateResult:
    """Score ``candidate`` and ``parent`` bundles per sample on the gate datasets of the changed ``stages`` and
    decide with a paired bootstrap (``benchmarks/paired_bootstrap.py``).

    ``data_root`` holds the labelled test sets (icdar2015_det, msra_td500, icdar2015_rec, iiit5k_rec).
    ``limit``: None (default) scores the full sets; a number limits det images, and rec/cls crops to at least
    ``min_crops`` (tests only). ``numerics``: how the candidate runs (``gate_eval.py``; the parent is fp32, for
    which both are the same). The parent's per-sample scores come from the disk cache when ``cache``."""
    from . import gate_eval

    if limit is not None and limit < 1:
        raise ConfigError(f"--gate-limit {limit} must be >= 1 (or omitted for the full test sets)")
    result = GateResult(variant=variant, parent=parent_name, limit=limit, numerics=numerics, resamples=resamples)
    plan = []  # (stage, task, dataset, n, key)
    for stage in stages:
        task, datasets = GATE_DATASETS[stage]
        n = limit if task == "det" else crop_limit(limit, min_crops)
        for ds in datasets:
            plan.append((stage, task, ds, n, gate_eval.parent_key(parent, task, data_root / ds, n)))
    cand_ocr = gate_eval.open_ocr(candidate, numerics, threads)
    parent_ocr = None
    try:
        for stage, task, ds, n, key in plan:
            cached = gate_eval.load_cached(key) if cache else None
            ocrs = {"candidate": cand_ocr}
            if cached is None:
                if parent_ocr is None:
                    parent_ocr = gate_eval.open_ocr(parent, "host", threads)
                ocrs["parent"] = parent_ocr
            scores = gate_eval.score(ocrs, task, data_root / ds, n)
            if cached is None:
                cached = scores["parent"]
                if cache:
                    gate_eval.store_cached(key, cached)
            else:
                log.info("gate %s: fp32 parent scores from cache %s", ds, gate_eval.cache_path(key))
            metric = {"det": "hmean", "rec": "acc", "cls": "orientation acc"}[task]
            row = _row(stage, scores["candidate"].dataset, metric, cached, scores["candidate"], budget.for_task(task),
                       numerics, resamples)
            row.seconds = scores["candidate"].seconds
            log.info("gate %s %s: %s %.2f -> %.2f (drop %.2f pts, 95%% CI [%.2f, %.2f], budget %.1f)", variant, ds,
                     row.metric, row.parent, row.candidate, row.drop_pts, row.ci_low, row.ci_high, row.budget_pts)
            result.rows.append(row)
    finally:
        cand_ocr.close()
        if parent_ocr is not None:
            parent_ocr.close()
    return result


def enforce(result: GateResult, allow_accuracy_drop: bool) -> GateResult:
    """Raise :class:`AccuracyGateError` (with ``.accuracy`` for the report) when over budget and not allowed."""
    if result.passed:
        return result
    if allow_accuracy_drop:
        result.allowed = True
        log.warning("%s is over its accuracy budget; kept because of --allow-accuracy-drop", result.variant)
        return result
    worst = max((r for r in result.rows if not r.passed), key=lambda r: r.drop_pts - r.budget_pts)
    err = AccuracyGateError(
        f"{result.variant} loses {worst.drop_pts:.2f} points of {worst.metric} on {worst.dataset} vs {result.parent} "
        f"(95% CI [{worst.ci_low:.2f}, {worst.ci_high:.2f}], budget {worst.budget_pts:.1f}); not written. Tune the recipe, or pass --allow-accuracy-drop to keep it "
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
