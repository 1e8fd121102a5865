"""Read eval/bench result JSONs into flat rows the report writers share (no measurement here).

A *variant label* names where a number comes from: the bundle variant, plus ``@target`` for a
device run (``(emulated)`` when the device was emulated), so host and device results of the same
bundle sit side by side.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from edgeocr.errors import InputError

METRIC_NAMES = {"det": ("hmean", "H-mean"), "e2e": ("hmean", "e2e F"), "rec": ("acc", "accuracy")}


def variant_label(result: Dict[str, Any]) -> str:
    label = str(result.get("bundle", {}).get("variant", "?"))
    dev = result.get("device")
    if dev:
        label += f"@{dev.get('target', 'device')}" + (" (emulated)" if dev.get("emulated") else "")
    return label


@dataclass
class AccuracyRow:
    variant: str
    dataset: str
    task: str
    samples: int
    full: int
    metric: str
    value: float  # fraction in [0, 1]
    extra: Dict[str, float] = field(default_factory=dict)  # precision/recall or norm_edit_dis
    normalization: str = ""
    texts: Dict[str, List[str]] = field(default_factory=dict)
    size_bytes: Optional[int] = None


@dataclass
class LatencyRow:
    variant: str
    stage: str
    threads: int
    mean: Optional[float]
    p50: Optional[float]
    p90: Optional[float]
    p99: Optional[float]
    first: Optional[float]
    init_ms: float
    count: int
    std: Optional[float] = None
    note: str = ""


@dataclass
class Collected:
    accuracy: List[AccuracyRow]
    latency: List[LatencyRow]
    sizes: Dict[str, Dict[str, int]]  # variant -> {det, cls, rec, dictionary, total}
    bench_params: Dict[str, Dict[str, Any]]  # variant -> params
    machines: Dict[str, Dict[str, Any]]
    versions: Dict[str, Dict[str, str]]
    memory: Dict[str, Dict[str, Any]]
    notes: Dict[str, List[str]]  # variant -> notes (incomplete runs, skipped bundles)
    variants: List[str]  # in first-seen order

    def reference(self) -> Optional[str]:
        """The variant others are compared with: onnx-fp32 on the host if present, else the first."""
        for v in self.variants:
            if v == "onnx-fp32":
                return v
        return self.variants[0] if self.variants else None


def load_results(paths: Sequence[Path]) -> List[Dict[str, Any]]:
    """Parse result JSONs; a file that is not an eval/bench/skip result is an :class:`InputError`."""
    out = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("does not exist", path) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"is not valid JSON ({exc})", path) from None
        if not isinstance(data, dict) or data.get("kind") not in ("eval", "bench", "skipped", "matrix"):
            raise InputError("is not an edgeocr eval/bench result (no \"kind\": \"eval\"|\"bench\"|\"matrix\")", path)
        out.extend(flatten_results([data]))
    return out


def flatten_results(results: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Matrix results (several bundles x devices, issue 12) become their cells; each missing cell
    becomes a ``{"kind": "missing"}`` entry naming its variant, target and the reason."""
    out: List[Dict[str, Any]] = []
    for data in results:
        if data.get("kind") != "matrix":
            out.append(data)
            continue
        out.extend(data.get("results", []))
        for m in data.get("missing", []):
            device = None if m["target"] == "host" else {"target": m["target"]}
            out.append({"kind": "missing", "command": data.get("command"), "bundle": {"variant": m["variant"],
                        "path": m.get("bundle")}, "device": device, "reason": m["error"]})
    return out


def collect(results: Sequence[Dict[str, Any]]) -> Collected:
    c = Collected([], [], {}, {}, {}, {}, {}, {}, [])

    def seen(v: str) -> None:
        if v not in c.variants:
            c.variants.append(v)

    for r in results:
        v = variant_label(r)
        seen(v)
        b = r.get("bundle", {})
        if b.get("sizes") and v not in c.sizes:
            c.sizes[v] = {**b["sizes"], "total": b.get("total_bytes", sum(b["sizes"].values()))}
        if r.get("machine"):
            c.machines[v] = r["machine"]
        if r.get("versions"):
            c.versions[v] = r["versions"]
        if r.get("incomplete"):
            c.notes.setdefault(v, []).append(f"incomplete run: {r['incomplete']}")
        if r["kind"] in ("skipped", "missing"):
            c.notes.setdefault(v, []).append(("MISSING: " if r["kind"] == "missing" else "")
                                             + str(r.get("reason", "skipped")))
        elif r["kind"] == "eval" and r.get("metrics"):
            key, name = METRIC_NAMES[r["task"]]
            m = r["metrics"]
            extra = ({"precision": m["precision"], "recall": m["recall"]} if r["task"] != "rec"
                     else {"norm_edit_dis": m["norm_edit_dis"]})
            ds = r["dataset"]
            c.accuracy.append(AccuracyRow(
                variant=v, dataset=ds["name"], task=r["task"], samples=ds.get("evaluated", ds["samples"]),
                full=ds["samples"], metric=name, value=float(m[key]), extra=extra,
                normalization=str(m.get("normalization", "")), texts=r.get("texts", {}),
                size_bytes=b.get("total_bytes")))
        elif r["kind"] == "bench":
            c.bench_params[v] = r.get("params", {})
            fixed = {str(st.get("threads")) for st in r.get("runtime", {}).get("stages", {}).values()
                     if isinstance(st, dict) and isinstance(st.get("threads"), str)}
            modes = {str(st.get("mode")) for st in r.get("runtime", {}).get("stages", {}).values()
                     if isinstance(st, dict) and st.get("mode") == "worker"}
            if modes:
                c.notes.setdefault(v, []).append(
                    "the models ran in a separate worker process (no in-process runtime for this Python): "
                    "its latencies include sending tensors between processes")
            if fixed:
                c.notes.setdefault(v, []).append(
                    f"the backend ignores the thread count ({', '.join(sorted(fixed))}): its rows for different "
                    "thread counts measure the same configuration")
            c.memory[v] = r.get("memory", {})
            for rec in r["records"]:
                s = rec.get("stats") or {}
                c.latency.append(LatencyRow(
                    variant=v, stage=rec["stage"], threads=int(rec["threads"]), mean=s.get("mean"),
                    p50=s.get("p50"), p90=s.get("p90"), p99=s.get("p99"), first=s.get("first"),
                    init_ms=float(rec.get("init_ms", 0.0)), count=int(s.get("count", 0)), std=s.get("std"),
                    note=rec.get("note", "")))
    ref = c.reference()
    # Reference first, then the others as given, oracles and skipped bundles last.
    c.variants.sort(key=lambda v: (v != ref, "oracle" in v, v in c.notes and not any(
        r.variant == v for r in c.accuracy)))
    return c


def accuracy_keys(c: Collected) -> List[Tuple[str, str]]:
    """(dataset, task) pairs in first-seen order."""
    keys: List[Tuple[str, str]] = []
    for row in c.accuracy:
        if (row.dataset, row.task) not in keys:
            keys.append((row.dataset, row.task))
    return keys


def find_accuracy(c: Collected, variant: str, dataset: str, task: str) -> Optional[AccuracyRow]:
    for row in c.accuracy:
        if (row.variant, row.dataset, row.task) == (variant, dataset, task):
            return row
    return None


def find_latency(c: Collected, variant: str, stage: str, threads: int) -> Optional[LatencyRow]:
    for row in c.latency:
        if (row.variant, row.stage, row.threads) == (variant, stage, threads):
            return row
    return None


def identical_text_share(a: AccuracyRow, b: AccuracyRow) -> Optional[float]:
    """Share of common samples whose recognized texts are identical (host vs device, variant vs fp32)."""
    common = sorted(set(a.texts) & set(b.texts))
    if not common:
        return None
    return sum(a.texts[k] == b.texts[k] for k in common) / len(common)
