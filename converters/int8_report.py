"""The static int8 section of ``benchmarks/results/quantization.md``: cost table, ARM kernels, gate, host speed
(issue 10).

Run after ``make demo`` (``out/bundles`` holds onnx-fp32 and the gated onnx-int8; onnx-int8w is built here without
a gate when missing, only for its MAC count):
``.venv/bin/python -m edgeocr.converters.int8_report --bundles out/bundles [--arm-target adb:SERIAL]``

1. Cost table per stage: conv/matmul MACs in int8 and in float kernels, for fp32, weight-only and static, as this
   host's ORT runs them at nominal input sizes (kernel probe + :mod:`mac_count`).
2. ARM kernels (``--arm-target``): the same probe on an ARM64 device (emulated or real): share of MACs in integer
   kernels, per stage. A correctness check, not a timing.
3. Gate: drop +- paired bootstrap 95% interval on the full test sets, from the onnx-int8 manifest.
4. Host speed: int8 / fp32 per stage, 1 and 2 threads, interleaved in one process (``quant_report``).
The section sits between markers, so ``make quant-report`` keeps it when it rewrites the rest of the file.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional

from edgeocr.atomic_io import write_json, write_text

log = logging.getLogger(__name__)

BEGIN, END = "<!-- int8-static:begin -->", "<!-- int8-static:end -->"
STAGES = ("det", "cls", "rec")


def cost_table(bundles: Dict[str, Path]) -> Dict[str, Any]:
    """``{variant: {"machine", "stages": {stage: cost}}}`` at nominal input sizes on this host."""
    from edgeocr.kernel_probe import probe_bundle

    from .mac_count import bundle_cost
    from .quant_builders import NOMINAL_SHAPES

    out = {}
    for name, path in bundles.items():
        probe = probe_bundle(path, NOMINAL_SHAPES)
        out[name] = {"machine": probe["machine"], "stages": {s: c.to_dict() for s, c in bundle_cost(probe, path).items()}}
    return out


def _gmac(x: int) -> str:
    return f"{x / 1e9:.3f}" if x >= 1e7 else f"{x / 1e6:.1f} M"


def markdown(data: Dict[str, Any]) -> str:
    lines = [BEGIN, "## Static int8 (`onnx-int8`, issue 10)", ""]
    q = data.get("quantization") or {}
    lines += ["Recipe: `quantize_static` on the `quant_pre_process` output, QDQ, per-channel symmetric int8 weights, "
              "asymmetric uint8 activations (U8S8), MinMax ranges on the `*_calib` sets only; float layers per stage "
              f"from {q.get('recipe_source', '?')}.", ""]
    lines += ["| stage | float layers | calibration samples |", "|---|---|---:|"]
    for s in STAGES:
        rec = (q.get("recipe") or {}).get(s, {})
        fl = (q.get("float_layers") or {}).get(s, [])
        lines.append(f"| {s} | {', '.join(fl) or '(none)'} | {rec.get('config', {}).get('calibration_samples', '')} |")
    lines += ["", "### Cost per stage: conv/matmul MACs in int8 vs float kernels",
              "", f"Executed kernels as ONNX Runtime {data.get('onnxruntime')} runs them on this host "
              f"({data['costs'].get('onnx-fp32', {}).get('machine', '?')}; level EXTENDED = the fusions ARM64 gets) at "
              "det [1,3,544,960] (a 1280x720 photo), rec [1,3,32,320], cls [1,3,48,192]; GMAC = 1e9 "
              "multiply-accumulates. Weight-only (`onnx-int8w`) stores int8 weights but folds them back to float "
              "at load: its compute is float.", "",
              "| stage | variant | int8 GMAC | float GMAC | int8 share (all) | int8 share of conv MACs | kernels |",
              "|---|---|---:|---:|---:|---:|---|"]
    for s in STAGES:
        for v, c in data["costs"].items():
            st = c["stages"].get(s)
            if st:
                kern = ", ".join(f"{k} {n}" for k, n in sorted(st["kernels"].items()))
                lines.append(f"| {s} | {v} | {_gmac(st['int8_macs'])} | {_gmac(st['float_macs'])} | "
                             f"{100 * st['int8_share']:.1f}% | {100 * st['conv_int8_share']:.1f}% | {kern} |")
    arm = data.get("arm")
    if arm:
        lines += ["", "### On ARM64: the kernels ORT runs there", "",
                  f"`{arm.get('device', {}).get('target')}` ({arm.get('machine')}, onnxruntime {arm.get('onnxruntime')}"
                  f"{', EMULATED under qemu: a check of the graph, not a timing' if (arm.get('device') or {}).get('emulated') else ''}); "
                  "one small run per stage with ORT profiling (kernel choice does not depend on the input size).", "",
                  "| stage | int8 share of conv/matmul MACs | of conv MACs | integer kernels | float kernels (nodes) |",
                  "|---|---:|---:|---|---|"]
        for s in STAGES:
            st = arm["stages"].get(s)
            if st:
                ints = ", ".join(f"{k} {n}" for k, n in sorted(st["kernels"].items()) if k.startswith(("Q", "MatMulInt", "ConvInt", "Dynamic")))
                lines.append(f"| {s} | {100 * st['int8_share']:.1f}% | {100 * st['conv_int8_share']:.1f}% | {ints} | {', '.join(st['float_nodes']) or '-'} |")
        lines += ["", "`tests/test_quant_arm_device.py` checks the same on every `make test` (integer kernels for the "
                  "recipe's int8 layers, its float layers running float, nothing in int8 for fp32)."]
    acc = data.get("accuracy") or {}
    if acc.get("rows"):
        lines += ["", "### Accuracy gate: full test sets, paired bootstrap", "",
                  f"{'Full test sets' if acc.get('full_test_sets') else 'LIMITED sets'}; the candidate runs with "
                  f"**{acc.get('numerics')}** numerics (exact int8 products, as ARM64 and VNNI kernels compute them: "
                  "this is the number that gates); drop = fp32 - int8 in points with its paired bootstrap 95% "
                  "interval; rejected when drop > budget or the whole interval lies above it. Same output: rec, crops "
                  "read as the fp32 text; det, box agreement (H-mean of the int8 boxes against the fp32 boxes, "
                  "IoU > 0.5). The fewer boxes move, the narrower the det interval.", "",
                  "| dataset | samples | metric | fp32 | int8 | drop ± 95% CI (pts) | budget | same output | verdict |",
                  "|---|---:|---|---:|---:|---|---:|---:|---|"]
        for r in acc["rows"]:
            same = "" if r.get("identical_share") is None else f"{100 * r['identical_share']:.1f}%"
            lines.append(f"| {r['dataset']} | {r['samples']} | {r['metric']} | {r['parent']:.2f} | {r['candidate']:.2f} | "
                         f"{r['drop_pts']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] | {r['budget_pts']:.1f} | "
                         f"{same} | {'ok' if r['passed'] else 'OVER'} |")
        weights = data.get("accuracy_int8w") or {}
        if weights.get("rows"):
            lines += ["", "For contrast, the weight-only `onnx-int8w` (float compute) on the same sets: it changes fewer "
                      "boxes and strings of the fp32 output, so its intervals are narrower.", "",
                      "| dataset | drop ± 95% CI (pts) | interval width | same output |", "|---|---|---:|---:|"]
            static_width = {r["dataset"]: r["ci_high"] - r["ci_low"] for r in acc["rows"]}
            for r in weights["rows"]:
                if r["dataset"] in static_width and r.get("identical_share") is not None:
                    lines.append(f"| {r['dataset']} | {r['drop_pts']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] | "
                                 f"{r['ci_high'] - r['ci_low']:.2f} (static: {static_width[r['dataset']]:.2f}) | "
                                 f"{100 * r['identical_share']:.1f}% |")
        host = acc.get("host_numerics")
        if host:
            lines += ["", "Same candidate with this host's fused AVX2 kernels (U8S8 pair sums may saturate; reported, "
                      "not gating):", "", "| dataset | int8 (host) | drop ± 95% CI |", "|---|---:|---|"]
            for r in host["rows"]:
                lines.append(f"| {r['dataset']} | {r['candidate']:.2f} | {r['drop_pts']:+.2f} [{r['ci_low']:+.2f}, "
                             f"{r['ci_high']:+.2f}] |")
    lat = data.get("latency")
    if lat:
        lines += ["", "### Host speed (int8 / fp32)", "",
                  f"{data.get('cpu', '')}; median of {data.get('runs')} interleaved runs per stage in one process "
                  "(speed-up = fp32 median / variant median; the machine is shared, only these ratios mean anything).",
                  "", "| variant | threads | det | cls | rec | det+rec |", "|---|---:|---:|---:|---:|---:|"]
        for t, per in lat.items():
            for v, st in per.items():
                lines.append(f"| {v} | {t} | " + " | ".join(f"{st[s]['speedup']:.2f}x" for s in ("det", "cls", "rec", "det+rec")) + " |")
        lines += ["", "Without VNNI, ORT's x86 fp32 path gets the NCHWc layout pass and the int8 one does not, so static "
                  "int8 is not faster here; `onnx-int8w` runs at fp32 speed only with the session config its manifest "
                  "carries (`session.disable_quant_qdq`, which the runtime applies)."]
    sizes = data.get("sizes")
    if sizes:
        lines += ["", "Sizes (det + cls + rec + dictionary): " + ", ".join(f"{v} {b / 1e6:.2f} MB" for v, b in sizes.items())]
    lines += ["", END, ""]
    return "\n".join(lines)


def splice(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` between the markers (replacing an older one, else appended)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text(path, text)


def kept_section(path: Path) -> str:
    """The marked section of ``path`` (empty if none): ``quant_report`` re-appends it when it rewrites the file."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if BEGIN in text and END in text:
        return BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    return ""


def _sizes(manifests: Dict[str, Dict[str, Any]]) -> Dict[str, int]:
    return {v: sum(e["size"] for e in m["stages"].values()) + m["dictionary"]["size"] for v, m in manifests.items()}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundles", type=Path, default=Path("out/bundles"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--arm-target", default=None, help="device TARGET for the ARM kernel check (e.g. adb:SERIAL)")
    ap.add_argument("--arm-work-dir", default=None)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--data", type=Path, default=os.environ.get("EDGEOCR_DATA"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import onnxruntime

    from .quant_report import bench_interleaved

    bundles = {v: args.bundles / v for v in ("onnx-fp32", "onnx-int8w", "onnx-int8") if (args.bundles / v).is_dir()}
    manifests = {v: json.loads((p / "manifest.json").read_text(encoding="utf-8")) for v, p in bundles.items()}
    manifest = manifests["onnx-int8"]
    data: Dict[str, Any] = {"kind": "int8-static", "onnxruntime": onnxruntime.__version__,
                            "python": platform.python_version(), "quantization": manifest.get("quantization"),
                            "accuracy": manifest.get("accuracy"), "sizes": _sizes(manifests)}
    if "onnx-int8w" in manifests:
        data["accuracy_int8w"] = manifests["onnx-int8w"].get("accuracy")
    data["costs"] = cost_table(bundles)
    if args.arm_target:
        from .arm_check import check_kernels

        data["arm"] = check_kernels(bundles["onnx-int8"], args.arm_target, args.arm_work_dir)
    if args.data is not None and args.runs > 0:
        from edgeocr.benchmarks.machine_info import has_vnni, machine_info

        info = machine_info()
        data["cpu"] = (f"{info.get('cpu_model', '?')} ({info.get('arch', '?')}, {info.get('cpu_cores', '?')} cores, "
                       f"VNNI {'yes' if has_vnni() else 'no'}), load average before the runs {info.get('loadavg')}")
        data["runs"] = args.runs
        data["latency"] = {str(t): bench_interleaved(bundles, t, args.runs, args.data) for t in (1, 2)}
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "quantization_int8.json", data)
    splice(args.out / "quantization.md", markdown(data))
    log.info("wrote %s and the static int8 section of %s", args.out / "quantization_int8.json",
             args.out / "quantization.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
