"""Markdown report of eval/bench results: variants side by side, a one-line explanation under
each table, and a verdict in words (ORT's usability checker style). Writer only: no measurement.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from .report_collect import (
    Collected,
    accuracy_keys,
    find_accuracy,
    find_latency,
    identical_text_share,
)

STAGE_ORDER = ("det", "cls", "rec", "e2e")
# Accuracy budgets vs the fp32 reference (issue 5 defaults), in percentage points.
BUDGET_POINTS = {"det": 0.5, "e2e": 0.5, "rec": 1.0}


def _pct(x: Optional[float]) -> str:
    return "–" if x is None else f"{x * 100:.2f}"


def _ms(x: Optional[float]) -> str:
    return "–" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def threads_of(c: Collected) -> List[int]:
    return sorted({row.threads for row in c.latency})


def accuracy_section(c: Collected, ref: Optional[str]) -> List[str]:
    keys = accuracy_keys(c)
    if not keys:
        return []
    variants = [v for v in c.variants if any(r.variant == v for r in c.accuracy)]
    header = ["dataset", "task", "samples", "metric"] + variants
    others = [v for v in variants if v != ref]
    if ref in variants:
        header += [f"{v} − {ref} (points)" for v in others]
    rows = []
    for ds, task in keys:
        cells = [find_accuracy(c, v, ds, task) for v in variants]
        first = next(x for x in cells if x is not None)
        samples = f"{first.samples}" + ("" if first.samples == first.full else f" of {first.full}")
        row = [ds, task, samples, first.metric] + [_pct(x.value if x else None) for x in cells]
        if ref in variants:
            r = find_accuracy(c, ref, ds, task)
            for v in others:
                x = find_accuracy(c, v, ds, task)
                row.append("–" if (x is None or r is None) else f"{(x.value - r.value) * 100:+.2f}")
        rows.append(row)
    norms = sorted({r.normalization for r in c.accuracy if r.normalization})
    lines = ["## Accuracy", ""] + _table(header, rows) + [
        "",
        "*Percent, higher is better. det: ICDAR 2015 protocol as PaddleOCR's DetMetric (IoU > 0.5, one-to-one, "
        "don't-care excluded), H-mean of pooled precision/recall; e2e: a care word counts when a box matches it "
        "(IoU > 0.5) with identical text; rec: exact-match accuracy. Text comparison: "
        + ("; ".join(norms) if norms else "spaces removed, case-sensitive") + ".*",
        "",
    ]
    # Precision / recall detail for det-like tasks.
    det_rows = []
    for ds, task in keys:
        if task == "rec":
            continue
        for v in variants:
            x = find_accuracy(c, v, ds, task)
            if x:
                det_rows.append([ds, task, v, _pct(x.extra.get("precision")), _pct(x.extra.get("recall")), _pct(x.value)])
    if det_rows:
        lines += _table(["dataset", "task", "variant", "precision", "recall", "H-mean"], det_rows)
        lines += ["", "*Precision = matched / detected, recall = matched / annotated (care regions only), percent.*", ""]
    return lines


def _emulated(label: Optional[str]) -> bool:
    """Variant labels of emulated-device runs end with "(emulated)": their timings are not performance,
    so no speed ratio or speed verdict is ever derived from them."""
    return bool(label) and label.endswith("(emulated)")  # type: ignore[union-attr]


def latency_section(c: Collected, ref: Optional[str]) -> List[str]:
    if not c.latency:
        return []
    variants = [v for v in c.variants if any(r.variant == v for r in c.latency)]
    others = [v for v in variants if v != ref]
    header = ["stage", "threads"] + [f"{v} mean (p90) ms" for v in variants]
    if ref in variants:
        header += [f"{v} / {ref}" for v in others]
    rows = []
    for t in threads_of(c):
        for stage in STAGE_ORDER:
            cells = [find_latency(c, v, stage, t) for v in variants]
            if all(x is None for x in cells):
                continue
            row = [stage, str(t)] + [
                ("–" if x is None or x.mean is None else f"{_ms(x.mean)} ({_ms(x.p90)})") for x in cells]
            if ref in variants:
                r = find_latency(c, ref, stage, t)
                for v in others:
                    x = find_latency(c, v, stage, t)
                    ok = x and r and x.mean and r.mean
                    if _emulated(v) or _emulated(ref):
                        row.append("emulated: no ratio")
                        continue
                    row.append(f"{x.mean / r.mean:.2f}×" if ok else "–")  # type: ignore[union-attr]
            rows.append(row)
    lines = ["## Latency per stage", ""] + _table(header, rows) + [
        "",
        "*Milliseconds per call on one image (det: resize + model + DB post-processing; cls/rec: all crops of the "
        "image; e2e: the whole pipeline), mean with p90 in brackets, lower is better; the ratio column is "
        "mean latency relative to the reference (below 1 = faster).*",
        "",
    ]
    # Init and cold start.
    rows = []
    for t in threads_of(c):
        for stage in STAGE_ORDER:
            for v in variants:
                x = find_latency(c, v, stage, t)
                if x is None:
                    continue
                rows.append([stage, str(t), v, _ms(x.init_ms), _ms(x.first), _ms(x.p50), _ms(x.p99), str(x.count)]
                            if x.mean is not None else [stage, str(t), v, _ms(x.init_ms), "–", "–", "–", x.note])
    lines += ["### Init, cold start and tail", ""] + _table(
        ["stage", "threads", "variant", "init ms", "first ms", "p50 ms", "p99 ms", "runs"], rows)
    lines += ["", "*init = loading the model(s); first = the first (cold) call after loading; p99 shows the slow tail "
              "of the timed runs.*", ""]
    return lines


def size_section(c: Collected, ref: Optional[str]) -> List[str]:
    if not c.sizes:
        return []
    rows = []
    ref_total = c.sizes.get(ref or "", {}).get("total")
    for v in [x for x in c.variants if x in c.sizes]:
        s = c.sizes[v]
        ratio = f"{s['total'] / ref_total:.2f}×" if ref_total else "–"
        rows.append([v] + [f"{s.get(k, 0) / 1e6:.2f}" for k in ("det", "cls", "rec", "dictionary", "total")] + [ratio])
    return ["## Model size", ""] + _table(
        ["variant", "det MB", "cls MB", "rec MB", "dict MB", "total MB", f"vs {ref}"], rows) + [
        "", "*File sizes in the bundle (10^6 bytes); smaller means a smaller app download.*", ""]


def memory_section(c: Collected) -> List[str]:
    if not c.memory:
        return []
    rows = [[v, _ms(m.get("peak_rss_mb")), m.get("caveat", "")] for v, m in c.memory.items()]
    return ["## Memory", ""] + _table(["variant", "peak RSS MB", "scope"], rows) + [
        "", "*Only APPROXIMATE: one process-wide peak per bench run, not per stage or thread count.*", ""]


def host_device_section(c: Collected) -> List[str]:
    rows = []
    for a in c.accuracy:
        if "@" not in a.variant:
            continue
        host = find_accuracy(c, a.variant.split("@")[0], a.dataset, a.task)
        share = identical_text_share(a, host) if host else None
        if share is not None:
            rows.append([a.dataset, a.task, host.variant, a.variant, f"{share * 100:.1f}"])  # type: ignore[union-attr]
    if not rows:
        return []
    return ["## Host vs device", ""] + _table(["dataset", "task", "host", "device", "identical texts %"], rows) + [
        "", "*Share of samples whose recognized texts are identical on host and device (100 = same outputs).*", ""]


def verdict(c: Collected, ref: Optional[str]) -> List[str]:
    """One sentence per variant, from accuracy drops vs the budgets and e2e speed vs the reference."""
    out = ["## Verdict", ""]
    if ref is None:
        return out + ["No results to judge.", ""]
    ts = threads_of(c)
    for v in c.variants:
        if "oracle" in v:
            continue
        drops = []
        for ds, task in accuracy_keys(c):
            x, r = find_accuracy(c, v, ds, task), find_accuracy(c, ref, ds, task)
            if x and r:
                drops.append(((r.value - x.value) * 100, BUDGET_POINTS[task], ds, task))
        speed = []
        for t in ts:
            x, r = find_latency(c, v, "e2e", t), find_latency(c, ref, "e2e", t)
            if x and r and x.mean and r.mean and not (_emulated(v) or _emulated(ref)):
                speed.append((t, r.mean / x.mean, x.mean))
        if v == ref:
            acc = ", ".join(f"{ds} {task} {_pct(find_accuracy(c, v, ds, task).value)}%"  # type: ignore[union-attr]
                            for ds, task in accuracy_keys(c) if find_accuracy(c, v, ds, task))
            lat = ", ".join(f"{_ms(ms)} ms at {t} thread{'s' if t > 1 else ''}" for t, _, ms in speed)
            out.append(f"- **{v}** (reference): {acc or 'no accuracy measured'}; e2e {lat or 'not benchmarked'}.")
            continue
        notes = c.notes.get(v, [])
        if not drops and not speed:
            out.append(f"- **{v}**: not measured here" + (f" — {'; '.join(notes)}" if notes else "") + ".")
            continue
        over = [d for d in drops if d[0] > d[1]]
        worst = max(drops, default=None)
        speed_txt = ", ".join(f"{s:.2f}× the reference speed at {t} thread{'s' if t > 1 else ''}" for t, s, _ in speed)
        if over:
            ds_list = "; ".join(f"{ds} {task} −{d:.2f} points (budget {b})" for d, b, ds, task in over)
            out.append(f"- **{v}** is not recommended: it loses more accuracy than allowed ({ds_list}).")
        elif speed and all(s >= 1.05 for _, s, _ in speed):
            out.append(f"- **{v}** should work well: accuracy within budget (worst drop {worst[0]:+.2f} points) "
                       f"and faster ({speed_txt}).")
        elif speed and any(s < 0.95 for _, s, _ in speed):
            out.append(f"- **{v}** keeps the accuracy (worst drop {worst[0]:+.2f} points) but is slower on this host "
                       f"({speed_txt}); use it where its runtime is the one available, not for speed here."
                       if worst else f"- **{v}** is slower on this host ({speed_txt}).")
        else:
            out.append(f"- **{v}** keeps the accuracy" + (f" (worst drop {worst[0]:+.2f} points)" if worst else "")
                       + (f" at about the same speed ({speed_txt})" if speed else "") + ".")
        for n in notes:
            out.append(f"  - note: {n}")
    if loaded_host(c) and c.latency:
        out.append("- Speed statements above come from a loaded shared host: indicative only (see the caveat).")
    return out + [""]


def loaded_host(c: Collected) -> Optional[str]:
    """A warning when a bench ran while the host's load average exceeded its core count."""
    worst = []
    for v, m in c.machines.items():
        loads = [x for x in (m.get("loadavg") or [])[:1] + (m.get("loadavg_end") or [])[:1]]
        if loads and m.get("cpu_cores") and max(loads) > m["cpu_cores"] and any(r.variant == v for r in c.latency):
            worst.append((max(loads), m["cpu_cores"], v))
    if not worst:
        return None
    load, cores, _ = max(worst)
    return (f"latencies were measured while other work loaded the host (1-min load average up to {load:.1f} on "
            f"{cores} cores): treat latency ratios as indicative only; accuracy is unaffected.")


def render_markdown(c: Collected, title: str = "edgeocr accuracy and latency report",
                    plots: Sequence[str] = (), preface: Sequence[str] = ()) -> str:
    """The whole report as Markdown text."""
    ref = c.reference()
    lines = [f"# {title}", ""]
    lines += list(preface)
    if c.machines:
        m = next(iter(c.machines.values()))
        lines.append(f"Machine: {m.get('cpu_model')}, {m.get('cpu_cores')} logical cores (affinity {m.get('affinity')}), "
                     f"{m.get('os_release') or m.get('os')}, Python {m.get('python')}.")
    if c.versions:
        vers = next(iter(c.versions.values()))
        lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(vers.items())) + ".")
    for v, p in c.bench_params.items():
        lines.append(f"Bench params ({v}): `" + " ".join(f"{k}={','.join(map(str, x)) if isinstance(x, list) else x}"
                                                       for k, x in p.items()) + "`.")
    lines.append(f"Reference variant for ratios and drops: **{ref}**.")
    busy = loaded_host(c)
    if busy:
        lines += ["", f"**Caveat:** {busy}"]
    lines.append("")
    lines += verdict(c, ref)
    lines += accuracy_section(c, ref)
    lines += latency_section(c, ref)
    lines += size_section(c, ref)
    lines += memory_section(c)
    lines += host_device_section(c)
    skipped = [(v, n) for v, ns in c.notes.items() for n in ns]
    if skipped:
        lines += ["## Not measured / notes", ""] + [f"- {v}: {n}" for v, n in skipped] + [""]
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    return "\n".join(lines).rstrip() + "\n"
