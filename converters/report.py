"""report.json and report.md of ``edgeocr convert`` (writers only; no measurement here)."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, List

from edgeocr.atomic_io import write_json, write_text

if TYPE_CHECKING:
    from .convert import ConvertReport


def write_reports(out: Path, report: "ConvertReport") -> None:
    """Write ``out/report.json`` and ``out/report.md``."""
    data = dataclasses.asdict(report)
    for v, vr in zip(data["variants"], report.variants):
        v["total_size"] = vr.total_size
    write_json(out / "report.json", _finite(data))
    write_text(out / "report.md", render_markdown(report))


def render_markdown(report: "ConvertReport") -> str:
    lines: List[str] = ["# edgeocr convert report", ""]
    lines += [
        "Sources: " + ", ".join(f"{s} `{v['dir']}`" for s, v in report.sources.items()),
        f"Parity inputs: {len(report.parity_inputs['images'])} real images from `{report.parity_inputs['images_dir']}` "
        f"({', '.join(report.parity_inputs['images'])}); input shapes per stage: "
        + "; ".join(f"{s} {', '.join('x'.join(map(str, sh)) for sh in shapes)}" for s, shapes in report.parity_inputs["shapes"].items()),
        "Tools: " + ", ".join(f"{k} {v}" for k, v in report.tool_versions.items()) + f". Took {report.seconds:.0f} s.",
        "",
        "## Bundles",
        "",
        "| variant | format | precision | target | Paddle-Lite | det | cls | rec | dict | total | status |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for v in report.variants:
        # file stem -> bytes: det/cls/rec models, the dictionary, the manifest
        by_stem = {Path(k).stem: b for k, b in v.sizes.items()}
        dict_size = sum(b for k, b in v.sizes.items() if k.endswith(".txt"))
        cells = [_mb(by_stem.get(s)) for s in ("det", "cls", "rec")] + [_mb(dict_size), _mb(v.total_size - by_stem.get("manifest", 0))]
        status = v.status
        if v.status == "ok" and v.accuracy and v.accuracy.get("passed") is None:
            status += " (accuracy UNVERIFIED here: " + str(v.accuracy.get("note", "no gate")) + ")"
        lines.append(
            f"| {v.name} | {v.format} | {v.precision} | {v.target or '-'} | {v.lite_version or '-'} | "
            + " | ".join(cells) + f" | {status}{': ' + v.message if v.message else ''} |"
        )
    lines += ["", "Sizes in MB (10^6 bytes); total = det + cls + rec + dictionary (manifest excluded).", ""]
    lines += [
        "## Parity with the Paddle original",
        "",
        "| variant | stage | inputs | max abs diff | mean abs diff | check | value | verdict |",
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    for v in report.variants:
        for p in v.parity:
            if p.skipped:
                lines.append(f"| {v.name} | {p.stage} | 0 | - | - | - | - | not run: {p.skipped} |")
                continue
            value = f"{p.metric:.2e}" if p.metric_name == "binarized_diff_share" else f"{p.metric:.1%}"
            verdict = ("report only (accuracy gate decides)" if p.report_only
                       else "✓ pass" if p.passed else "✗ FAIL: " + "; ".join(p.failures))
            lines.append(
                f"| {v.name} | {p.stage} | {len(p.cases)} | {p.max_abs:.2e} | {p.mean_abs:.2e} | "
                f"{p.metric_name.replace('_', ' ')} | {value} | {verdict} |"
            )
    lines += [
        "",
        "Outputs are probabilities in [0, 1]. fp32 passes when max abs diff <= 1e-4, at most 1e-4 of det-map "
        "pixels flip at the 0.3 binarization threshold, and 100% of rec strings / cls labels are identical. "
        "Quantized variants are compared too (report only): their accuracy on labelled data is what gates them.",
        "",
        "## Checklist",
        "",
    ]
    for v in report.variants:
        for p in v.parity:
            mark = "-" if p.skipped or p.report_only else "✓" if p.passed else "✗"
            text = p.skipped or f"max abs diff {p.max_abs:.2e}, {p.metric_name.replace('_', ' ')} {p.metric:.4g}"
            lines.append(f"- [{mark}] {v.name} {p.stage}: {text}")
        for note in v.notes:
            lines.append(f"  - note: {note}")
    ok = all(v.status == "ok" for v in report.variants)
    lines += [
        "",
        "## Verdict",
        "",
        "All bundles reproduce the Paddle originals and can ship." if ok else
        "Some variants were not written (see status); the written bundles reproduce the Paddle originals.",
        "",
    ]
    return "\n".join(lines)


def _mb(size: Any) -> str:
    return "-" if not size else f"{size / 1e6:.2f}"


def _finite(obj: Any) -> Any:
    """JSON has no NaN: replace non-finite floats with None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj
