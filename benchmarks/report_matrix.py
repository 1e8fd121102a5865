"""The variants x devices (x threads) matrix of ``edgeocr report`` (issue 12): Markdown, JSON, one PNG.

Input: flat result dicts (bench, eval and ``missing`` cells, see
:func:`~edgeocr.benchmarks.report_collect.flatten_results`). A matrix is written only when the
results come from more than one target (``host`` counts as one). Per cell (variant, device):

* latency per stage and thread count (p50 and p90 ms), cold start (first call) and init, peak RSS;
* accuracy, its difference from the host's in points, and the share of images whose texts equal
  the host's (the host = the in-process run of the same variant, else ``local``);
* each device's line: model, SoC/cores/clusters, governor, thermal; emulated devices are marked
  and get no speed comparison (their timings are not performance numbers);
* cells that are missing, with the reason, and partial cells, with what they lack.

Writer only: no measurement here.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from edgeocr.atomic_io import atomic_file, write_json

from .report_collect import METRIC_NAMES

MATRIX_JSON = "matrix.json"
MATRIX_PNG = "latency_matrix.png"
HOST = "host"
STAGES = ("det", "cls", "rec", "e2e")


@dataclass
class Cell:
    """Everything measured for one variant on one device."""

    variant: str
    target: str
    latency: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # "stage@threads" -> stats
    peak_rss_mb: Optional[float] = None
    accuracy: List[Dict[str, Any]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)  # why (parts of) this cell are missing


def _target(r: Dict[str, Any]) -> str:
    dev = r.get("device")
    return str(dev.get("target", "device")) if dev else HOST


def device_line(r: Dict[str, Any]) -> Dict[str, Any]:
    """Model, SoC/cores/clusters, governor and thermal of the device (or host) a result came from."""
    dev = r.get("device")
    if not dev:
        m = r.get("machine", {})
        return {"target": HOST, "emulated": False, "model": m.get("hostname") or "this host",
                "soc": m.get("cpu_model"), "cores": m.get("cpu_cores"), "arch": m.get("arch"),
                "os": m.get("os_release") or m.get("os"), "governor": None, "thermal": None, "clusters": None}
    clusters = ", ".join(f"{len(c['cpus'])}x {c.get('core') or 'cores'}"
                         + (f" @ {c['max_khz'] // 1000} MHz" if c.get("max_khz") else "")
                         for c in dev.get("clusters") or [] if c.get("core") or c.get("max_khz"))
    thermal = ", ".join(f"{t['type']} {t['temp_c']} °C" for t in dev.get("thermal") or [])
    return {"target": dev.get("target"), "emulated": bool(dev.get("emulated")),
            "model": " ".join(x for x in (dev.get("manufacturer"), dev.get("model")) if x) or None,
            "soc": dev.get("soc") or dev.get("cpu_model"), "cores": dev.get("cores"), "arch": dev.get("abi") or dev.get("machine"),
            "os": dev.get("os") + (f" (Android {dev['android_version']})" if dev.get("android_version") else "")
            if dev.get("os") else None, "governor": dev.get("governor"), "thermal": thermal or None,
            "clusters": clusters or None, "cpu_mask": dev.get("cpu_mask")}


def build_matrix(results: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The matrix as a JSON-friendly dict, or None when all results come from one target."""
    targets: List[str] = []
    variants: List[str] = []
    devices: Dict[str, Dict[str, Any]] = {}
    cells: Dict[Tuple[str, str], Cell] = {}
    for r in results:
        t, v = _target(r), str(r.get("bundle", {}).get("variant", "?"))
        if t not in targets:
            targets.append(t)
        if v not in variants:
            variants.append(v)
        if r.get("kind") in ("bench", "eval") and (t not in devices or not devices[t].get("model")):
            devices[t] = device_line(r)
        devices.setdefault(t, {"target": t, "emulated": False})
        cell = cells.setdefault((v, t), Cell(v, t))
        if r.get("kind") == "missing":
            cell.missing.append(f"{r.get('command') or 'run'}: {r.get('reason')}")
        if r.get("incomplete"):
            inc = r["incomplete"]
            cell.missing.append(f"partial: {', '.join(inc.get('missing', []))} not run ({inc.get('error')})")
        if r.get("kind") == "bench":
            for rec in r.get("records", []):
                s = rec.get("stats")
                if s:
                    cell.latency[f"{rec['stage']}@{rec['threads']}"] = {
                        "stage": rec["stage"], "threads": int(rec["threads"]), "p50": s["p50"], "p90": s["p90"],
                        "mean": s["mean"], "first": s["first"], "init_ms": rec.get("init_ms"), "count": s["count"]}
            cell.peak_rss_mb = (r.get("memory") or {}).get("peak_rss_mb")
        elif r.get("kind") == "eval" and r.get("metrics"):
            key, name = METRIC_NAMES[r["task"]]
            cell.accuracy.append({"dataset": r["dataset"]["name"], "task": r["task"], "metric": name,
                                  "value": float(r["metrics"][key]), "texts": r.get("texts", {})})
    if len(targets) < 2:
        return None
    ref_target = HOST if HOST in targets else ("local" if "local" in targets else None)
    for (v, t), cell in cells.items():
        ref = cells.get((v, ref_target)) if ref_target else None
        for acc in cell.accuracy:
            host = next((a for a in (ref.accuracy if ref else []) if (a["dataset"], a["task"]) == (acc["dataset"], acc["task"])), None)
            acc["reference"] = ref_target if host else None
            acc["diff_points"] = (acc["value"] - host["value"]) * 100 if host and t != ref_target else None
            common = sorted(set(acc["texts"]) & set(host["texts"])) if host else []
            acc["identical_texts"] = (sum(acc["texts"][k] == host["texts"][k] for k in common) / len(common)
                                      if common and t != ref_target else None)
    out_cells = []
    for v in variants:
        for t in targets:
            c = cells.get((v, t), Cell(v, t, missing=["not requested"]))
            out_cells.append({"variant": v, "target": t, "latency": sorted(c.latency.values(), key=lambda x: (
                STAGES.index(x["stage"]) if x["stage"] in STAGES else 9, x["threads"])), "peak_rss_mb": c.peak_rss_mb,
                "accuracy": [{k: a[k] for k in a if k != "texts"} for a in c.accuracy], "missing": c.missing})
    return {"variants": variants, "targets": targets, "reference_target": ref_target,
            "devices": [devices[t] for t in targets], "cells": out_cells}


def _label(dev: Dict[str, Any]) -> str:
    return dev["target"] + (" (emulated)" if dev.get("emulated") else "")


def _ms(x: Optional[float]) -> str:
    return "–" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"] + [
        "| " + " | ".join(r) + " |" for r in rows]


def render_matrix(m: Dict[str, Any]) -> str:
    """Markdown of :func:`build_matrix`'s dict."""
    devs = m["devices"]
    heads = [_label(d) for d in devs]
    cell = {(c["variant"], c["target"]): c for c in m["cells"]}
    lines = ["## Matrix: variants × devices", ""]
    rows = [[_label(d), d.get("model") or "–", d.get("soc") or "–",
             f"{d.get('cores') or '?'} cores" + (f" ({d['clusters']})" if d.get("clusters") else ""),
             d.get("governor") or "–", d.get("thermal") or "–", d.get("os") or "–"] for d in devs]
    lines += _table(["device", "model", "SoC / CPU", "cores", "governor", "thermal", "OS"], rows)
    if any(d.get("emulated") for d in devs):
        lines += ["", "*(emulated) devices run under qemu user-mode emulation: their timings are NOT performance "
                      "numbers (~200x slower than a phone); only their texts and accuracy count.*"]
    lines.append("")
    keys = []
    for c in m["cells"]:
        for x in c["latency"]:
            if (x["stage"], x["threads"]) not in keys:
                keys.append((x["stage"], x["threads"]))
    keys.sort(key=lambda k: (k[1], STAGES.index(k[0]) if k[0] in STAGES else 9))

    def lat(v: str, t: str, stage: str, threads: int, what: str) -> str:
        c = cell.get((v, t))
        x = next((x for x in (c["latency"] if c else []) if (x["stage"], x["threads"]) == (stage, threads)), None)
        if x is None:
            return "MISSING" if c and c["missing"] else "–"
        return f"{_ms(x['p50'])} ({_ms(x['p90'])})" if what == "p" else f"{_ms(x['first'])} / {_ms(x['init_ms'])}"

    for stage, threads in keys:
        lines += [f"### Latency {stage}, {threads} thread{'s' if threads > 1 else ''}: p50 (p90) ms", ""]
        lines += _table(["variant"] + heads, [[v] + [lat(v, d["target"], stage, threads, "p") for d in devs]
                                              for v in m["variants"]])
        lines.append("")
    if keys:
        lines += ["### Cold start: first call / init ms", ""]
        rows = [[f"{v} {s}@{t}"] + [lat(v, d["target"], s, t, "c") for d in devs]
                for v in m["variants"] for s, t in keys]
        lines += _table(["variant stage@threads"] + heads, rows)
        lines += ["", "### Peak memory (process RSS, MB, approximate)", ""]
        lines += _table(["variant"] + heads, [[v] + [_ms((cell.get((v, d["target"])) or {}).get("peak_rss_mb"))
                                                     for d in devs] for v in m["variants"]])
        lines.append("")
    acc_keys = []
    for c in m["cells"]:
        for a in c["accuracy"]:
            if (a["dataset"], a["task"], a["metric"]) not in acc_keys:
                acc_keys.append((a["dataset"], a["task"], a["metric"]))
    for ds, task, metric in acc_keys:
        lines += [f"### Accuracy {ds} {task}: {metric} % (difference vs {m['reference_target'] or 'host'}, points; "
                  "identical texts %)", ""]
        rows = []
        for v in m["variants"]:
            row = [v]
            for d in devs:
                c = cell.get((v, d["target"]))
                a = next((a for a in (c["accuracy"] if c else []) if (a["dataset"], a["task"]) == (ds, task)), None)
                if a is None:
                    row.append("MISSING" if c and c["missing"] else "–")
                    continue
                txt = f"{a['value'] * 100:.2f}"
                if a.get("diff_points") is not None:
                    txt += f" ({a['diff_points']:+.2f})"
                if a.get("identical_texts") is not None:
                    txt += f"; {a['identical_texts'] * 100:.1f}% same texts"
                row.append(txt)
            rows.append(row)
        lines += _table(["variant"] + heads, rows) + [""]
    missing = [(c["variant"], c["target"], why) for c in m["cells"] for why in c["missing"]]
    if missing:
        lines += ["### Missing cells", ""] + [f"- **{v} × {t}**: {why}" for v, t, why in missing] + [""]
    else:
        lines += ["Every cell of the matrix is present.", ""]
    return "\n".join(lines)


def plot_matrix(m: Dict[str, Any], path: Path) -> Optional[Path]:
    """Latency per variant per device (p50 of e2e, else the first stage measured, at the lowest thread count)."""
    lat = [x for c in m["cells"] for x in c["latency"]]
    if not lat:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = min(x["threads"] for x in lat)
    stage = "e2e" if any(x["stage"] == "e2e" for x in lat) else next(s for s in STAGES if any(x["stage"] == s for x in lat))
    variants = m["variants"]
    timed = {c["target"] for c in m["cells"] if c["latency"]}
    devs = [d for d in m["devices"] if d["target"] in timed]  # eval-only targets have no bar to draw
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(variants) * max(1, len(devs)) / 2), 4.2))
    width = 0.8 / max(len(devs), 1)
    for k, d in enumerate(devs):
        ys = []
        for v in variants:
            c = next(c for c in m["cells"] if (c["variant"], c["target"]) == (v, d["target"]))
            x = next((x for x in c["latency"] if (x["stage"], x["threads"]) == (stage, threads)), None)
            ys.append(x["p50"] if x else 0.0)
        xs = [i + (k - (len(devs) - 1) / 2) * width for i in range(len(variants))]
        floor = min(x["p50"] for x in lat if x["p50"]) / 2
        bars = ax.bar(xs, [y or floor for y in ys], width, label=_label(d), hatch="//" if d.get("emulated") else None,
                      alpha=1.0)
        for b, y in zip(bars, ys):
            if not y:
                b.set_alpha(0.15)  # a missing cell: a faint stub, labelled
            ax.annotate(f"{y:.0f}" if y else "missing", (b.get_x() + b.get_width() / 2, y or floor),
                        ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(variants)))
    ax.set_xticklabels(variants)
    ax.set_yscale("log")  # phones, boards, hosts and emulators differ by orders of magnitude
    ax.set_ylabel(f"{stage} p50 latency, ms (log scale)")
    ax.set_title(f"{stage} latency per variant and device, {threads} thread{'s' if threads > 1 else ''} "
                 "(hatched = emulated: not performance)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    with atomic_file(path, "wb") as fh:
        fh.write(buf.getvalue())
    return path


def write_matrix(results: Sequence[Dict[str, Any]], out_dir: Path) -> Tuple[str, List[str]]:
    """Write ``matrix.json`` (and the PNG when there is latency); returns (Markdown section, file names)."""
    m = build_matrix(results)
    if m is None:
        return "", []
    write_json(out_dir / MATRIX_JSON, m)
    files = [MATRIX_JSON]
    if plot_matrix(m, out_dir / MATRIX_PNG) is not None:
        files.append(MATRIX_PNG)
    md = render_matrix(m)
    if MATRIX_PNG in files:
        md += f"\n![{MATRIX_PNG}]({MATRIX_PNG})\n"
    return md, files
