"""``edgeocr compare``: did a stage get slower, or accuracy drop, between two stored runs?

Like with like only: both runs must be the same kind (bench or eval), on the same device
fingerprint (model, ABI, cores, OS), and for eval on the same dataset and task; bench compares the
(stage, thread count) pairs both runs measured, eval the images both runs read.

* Latency (per stage and thread count): a regression needs BOTH a statistically significant
  slowdown (one-sided Mann-Whitney U on the per-run samples, p < ``alpha``) AND a median slowdown
  above ``min_effect`` (default 5%): the test alone flags tiny real shifts once there are many runs,
  the percentage alone flags noise (Google benchmark's compare.py, asv and pytest-benchmark's
  ``--benchmark-compare-fail`` combine them the same way).
* Accuracy: a regression needs a drop beyond the budget (in points, default det/e2e 0.5 and rec
  1.0, the quantization budgets) AND a paired-bootstrap confidence interval of the difference
  entirely below 0 (the drop is not noise of the sample).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from .results_store import ResultsStore, Run, StoreError
from .stats import mann_whitney_p, paired_bootstrap

BUDGET_POINTS = {"det": 0.5, "e2e": 0.5, "rec": 1.0}  # the issue 5 accuracy budgets
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_EFFECT = 0.05
MIN_SAMPLES = 3  # fewer runs than this on either side: reported, never judged


@dataclass
class Finding:
    """One compared quantity: ``status`` is ``ok``, ``REGRESSION``, ``improved`` or ``not judged``."""

    status: str
    what: str
    line: str
    details: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Comparison:
    baseline: Run
    candidate: Run
    findings: List[Finding]
    notes: List[str]

    @property
    def regressions(self) -> List[Finding]:
        return [f for f in self.findings if f.status == "REGRESSION"]

    def to_dict(self) -> Dict[str, Any]:
        return {"baseline": asdict(self.baseline), "candidate": asdict(self.candidate),
                "findings": [asdict(f) for f in self.findings], "notes": self.notes,
                "regressions": len(self.regressions)}


def check_comparable(base: Run, cand: Run) -> None:
    if base.id == cand.id:
        raise StoreError(f"baseline and candidate are the same run #{base.id}; name another with --candidate")
    if base.kind != cand.kind:
        raise StoreError(f"run #{base.id} is {base.kind} and #{cand.id} is {cand.kind}: compare bench with bench, "
                         "eval with eval")
    if base.device_fingerprint != cand.device_fingerprint:
        raise StoreError(f"not like with like: #{base.id} ran on {base.target} ({_dev(base)}) and #{cand.id} on "
                         f"{cand.target} ({_dev(cand)}); compare runs of the same device")
    if base.kind == "eval" and (base.dataset, base.task) != (cand.dataset, cand.task):
        raise StoreError(f"not like with like: #{base.id} is {base.dataset} {base.task}, #{cand.id} is "
                         f"{cand.dataset} {cand.task}")


def _dev(run: Run) -> str:
    d = run.device
    return ", ".join(f"{k} {v}" for k, v in d.items() if v not in (None, "", False))[:120]


def compare_latency(base: Dict[Any, List[float]], cand: Dict[Any, List[float]], alpha: float,
                    min_effect: float) -> List[Finding]:
    out = []
    for key in sorted(set(base) & set(cand), key=lambda k: (str(k[0]), k[1] or 0)):
        a, b = base[key], cand[key]
        stage, threads = key
        what = f"{stage} threads={threads}"
        if len(a) < MIN_SAMPLES or len(b) < MIN_SAMPLES:
            out.append(Finding("not judged", what, f"not judged {what}: {len(a)} vs {len(b)} runs (need "
                               f">= {MIN_SAMPLES} each; raise --num-runs)"))
            continue
        ma, mb = float(np.median(a)), float(np.median(b))
        change = mb / ma - 1.0 if ma > 0 else 0.0
        p_slower, impl = mann_whitney_p(b, a, "greater")
        p_faster, _ = mann_whitney_p(b, a, "less")
        details = {"stage": stage, "threads": threads, "baseline_p50_ms": ma, "candidate_p50_ms": mb,
                   "change": change, "p_slower": p_slower, "p_faster": p_faster, "n": [len(a), len(b)],
                   "test": f"Mann-Whitney U ({impl})"}
        head = f"{what}: p50 {ma:.2f} -> {mb:.2f} ms ({change * 100:+.1f}%), n={len(a)}/{len(b)}"
        if p_slower < alpha and change > min_effect:
            out.append(Finding("REGRESSION", what, f"REGRESSION {head}, Mann-Whitney p={p_slower:.2g} < {alpha:g} "
                               f"and slower than the {min_effect * 100:g}% minimum effect", details))
        elif p_faster < alpha and change < -min_effect:
            out.append(Finding("improved", what, f"improved {head}, Mann-Whitney p={p_faster:.2g}", details))
        else:
            why = (f"p={p_slower:.2g} >= {alpha:g}" if p_slower >= alpha else
                   f"below the {min_effect * 100:g}% minimum effect")
            out.append(Finding("ok", what, f"ok {head} ({why})", details))
    return out


def compare_accuracy(base: Dict[str, List[float]], cand: Dict[str, List[float]], task: str, dataset: str,
                     budget: Optional[float]) -> List[Finding]:
    budget = BUDGET_POINTS.get(task, 0.5) if budget is None else budget
    what = f"accuracy {dataset} {task}"
    if not base or not cand:
        return [Finding("not judged", what, f"not judged {what}: a run holds no per-image results "
                                            "(predictions-only, or stored by an older edgeocr)")]
    r = paired_bootstrap(base, cand, task)
    drop = -r["diff"] * 100
    head = (f"{what}: {r['baseline'] * 100:.2f} -> {r['candidate'] * 100:.2f} ({r['diff'] * 100:+.2f} points, "
            f"{r['confidence'] * 100:.0f}% CI [{r['ci_low'] * 100:+.2f}, {r['ci_high'] * 100:+.2f}], "
            f"{r['images']} images paired)")
    details = {**r, "budget_points": budget, "task": task, "dataset": dataset}
    if drop > budget and r["ci_high"] < 0:
        return [Finding("REGRESSION", what, f"REGRESSION {head}: drop beyond the {budget:g}-point budget", details)]
    if r["diff"] > 0 and r["ci_low"] > 0:
        return [Finding("improved", what, f"improved {head}", details)]
    why = "within budget" if drop <= budget else "drop not significant (CI reaches 0)"
    return [Finding("ok", what, f"ok {head} ({why}, budget {budget:g} points)", details)]


def compare_runs(db: ResultsStore, baseline: str, candidate: Optional[str] = None, alpha: float = DEFAULT_ALPHA,
                 min_effect: float = DEFAULT_MIN_EFFECT, budget: Optional[float] = None) -> Comparison:
    """Compare two stored runs (ids or tags); the candidate defaults to the newest run like the baseline."""
    base = db.get(baseline)
    if candidate is None:
        cand = db.latest_like(base)
        if cand is None:
            raise StoreError(f"no other run like #{base.id} ({base.describe()}) to compare with; name one with "
                             "--candidate")
    else:
        cand = db.get(candidate)
    check_comparable(base, cand)
    notes = []
    for name in sorted(set(base.runtime_versions) | set(cand.runtime_versions)):
        va, vb = base.runtime_versions.get(name), cand.runtime_versions.get(name)
        if va != vb:
            notes.append(f"note: {name} {va} -> {vb}")
    if base.bundle_sha256 == cand.bundle_sha256:
        notes.append("note: same bundle build (manifest sha256) in both runs")
    if base.emulated:
        notes.append("note: EMULATED device: latency differences describe the emulator, not a phone")
    if base.incomplete or cand.incomplete:
        notes.append("note: a run is INCOMPLETE; only what both measured is compared")
    if base.kind == "bench":
        sa = {(n, t): v for n, t, v in db.samples(base.id)}
        sb = {(n, t): v for n, t, v in db.samples(cand.id)}
        findings = compare_latency(sa, sb, alpha, min_effect)
        if not findings:
            notes.append("note: the runs share no (stage, threads) measurement")
    else:
        per = {rid: {s["image"]: [s["hits"], s["gt"], s["pred"]] for n, _, v in db.samples(rid) if n == "per_sample"
                     for s in v} for rid in (base.id, cand.id)}
        findings = compare_accuracy(per[base.id], per[cand.id], str(base.task), str(base.dataset), budget)
    return Comparison(base, cand, findings, notes)
