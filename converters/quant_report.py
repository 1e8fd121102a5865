"""Build every issue-5 variant, then write ``benchmarks/results/quantization.{json,md}`` and plots.

Run: ``.venv/bin/python -m edgeocr.converters.quant_report --out benchmarks/results [--gate-limit N]``.

1. ``edgeocr convert`` of the fp32 parents and every quantized variant, with ``allow_accuracy_drop`` so the
   table shows variants over budget too (marked; a normal ``convert`` would not write them).
2. Accuracy: the gate outcome stored in each bundle's manifest (eval library, developer halves, ``gate_limit``).
3. Host latency per stage at 1 and 2 threads: the onnxruntime variants run in ONE process, interleaved
   round-robin in alternating order on the same real inputs (the machine is shared: only ratios measured
   side by side mean anything), median of the runs; speedup = fp32 median / variant median.
4. Sizes (det + cls + rec + dictionary) from the manifests.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from edgeocr.atomic_io import write_json, write_text

log = logging.getLogger(__name__)

ONNX_VARIANTS = ("onnx-fp32", "onnx-int8", "onnx-int8w", "onnx-int8-dynamic", "onnx-fp16", "ort-fp32", "ort-int8")
LITE_VARIANTS = ("lite-x86-fp32", "lite-x86-int8", "lite-x86-int16", "lite-x86-slim",
                 "lite-arm-fp32", "lite-arm-int8", "lite-arm-int16", "lite-arm-slim")
ALL_VARIANTS = ONNX_VARIANTS + ("onnx-slim",) + LITE_VARIANTS


def build_all(out: Path, gate_limit: int, models: Path, data: Path, variants=ALL_VARIANTS) -> Dict[str, Any]:
    """1. Convert everything (over-budget variants kept and marked, so the table shows them); returns report.json."""
    from .convert import ConvertOptions, convert

    opts = ConvertOptions(
        out=out, models=models, parity_images=data / "paddleocr_doc_imgs",
        variants=tuple(variants), force=True,
        variant_options={"gate_limit": gate_limit, "allow_accuracy_drop": True, "gate_data": data,
                         "calibration_data": data},
    )
    convert(opts, progress=lambda m: log.info("%s", m))
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _inputs(data: Path) -> Dict[str, np.ndarray]:
    """Real inputs: one calibration image for det (1280x720 -> [1,3,544,960]), 6 calibration crops for rec/cls."""
    import cv2

    from edgeocr.cls_stage import resize_norm_crop
    from edgeocr.det_preprocess import det_preprocess
    from edgeocr.rec_preprocess import rec_batches
    from edgeocr.stage_params import ClsParams, DetParams, RecParams

    img = cv2.imread(str(data / "icdar2015_train_calib" / "images" / "img_7.jpg"))
    crops = [cv2.imread(str(data / "icdar2015_rec_train_calib" / "train" / f"word_{i}.png")) for i in range(1, 7)]
    return {
        "det": det_preprocess(img, DetParams()).tensor,
        "rec": next(rec_batches(crops, RecParams()))[1],
        "cls": np.stack([resize_norm_crop(c, ClsParams().image_shape) for c in crops]),
    }


def bench_interleaved(bundles: Dict[str, Path], threads: int, runs: int, data: Path) -> Dict[str, Dict[str, Dict[str, float]]]:
    """3. ``{variant: {stage: {median_ms, min_ms, speedup}}}``; all variants loaded at once, runs interleaved.

    Each variant runs as the runtime runs it: with the onnxruntime session config entries its manifest asks for
    (``quantization.ort_session_config``; weight-only int8 runs at ~0.6x fp32 speed without its
    ``session.disable_quant_qdq``)."""
    from edgeocr.backends.base import create_backend
    from edgeocr.manifest import load_bundle

    x = _inputs(data)
    loaded = {v: load_bundle(p, verify=False) for v, p in bundles.items()}
    out: Dict[str, Dict[str, Dict[str, float]]] = {v: {} for v in bundles}
    for stage in ("det", "cls", "rec"):
        backends: Dict[str, Any] = {
            v: create_backend("onnxruntime", b.stage_path(stage), threads=threads,
                              session_config=b.manifest.ort_session_config)
            for v, b in loaded.items()}
        try:
            names = list(backends)
            for b in backends.values():  # warm-up (first run allocates)
                b.run_single(x[stage])
                b.run_single(x[stage])
            times: Dict[str, List[float]] = {v: [] for v in names}
            for r in range(runs):
                for v in (names if r % 2 == 0 else names[::-1]):
                    t0 = time.perf_counter()
                    backends[v].run_single(x[stage])
                    times[v].append(time.perf_counter() - t0)
        finally:
            for b in backends.values():
                b.close()
        base = float(np.median(times["onnx-fp32"]))
        for v in names:
            med = float(np.median(times[v]))
            out[v][stage] = {"median_ms": round(1e3 * med, 2), "min_ms": round(1e3 * min(times[v]), 2),
                             "runs": runs, "speedup": round(base / med, 3)}
    for v in out:
        dr = out[v]["det"]["median_ms"] + out[v]["rec"]["median_ms"]
        base = out["onnx-fp32"]["det"]["median_ms"] + out["onnx-fp32"]["rec"]["median_ms"]
        out[v]["det+rec"] = {"median_ms": round(dr, 2), "speedup": round(base / dr, 3)}
    return out


def collect(bundles_root: Path, convert_report: Dict[str, Any], runs: int, data: Path) -> Dict[str, Any]:
    """2-4. One record per variant."""
    import onnxruntime

    from edgeocr.benchmarks.machine_info import machine_info

    variants: Dict[str, Any] = {}
    fp32_size = None
    for rep in convert_report["variants"]:
        name = rep["name"]
        manifest = None
        if (bundles_root / name / "manifest.json").is_file():
            manifest = json.loads((bundles_root / name / "manifest.json").read_text(encoding="utf-8"))
        sizes = {}
        if manifest:
            sizes = {s: e["size"] for s, e in manifest["stages"].items()}
            sizes["dict"] = manifest["dictionary"]["size"]
        total = sum(sizes.values()) if sizes else None
        if name == "onnx-fp32":
            fp32_size = total
        variants[name] = {
            "status": rep["status"], "message": rep.get("message", ""), "format": rep["format"],
            "precision": rep["precision"], "sizes": sizes, "total_bytes": total,
            "accuracy": (manifest or {}).get("accuracy") or rep.get("accuracy"),
            "quantization": (manifest or {}).get("quantization") or rep.get("quantization"),
            "notes": (manifest or {}).get("notes", rep.get("notes", [])),
        }
    for v in variants.values():
        v["size_vs_fp32"] = round(v["total_bytes"] / fp32_size, 3) if v["total_bytes"] and fp32_size else None
    onnx_bundles = {v: bundles_root / v for v in ONNX_VARIANTS if variants.get(v, {}).get("total_bytes")}
    latency = {str(t): bench_interleaved(onnx_bundles, t, runs, data) for t in (1, 2)}
    return {
        "kind": "quantization", "schema_version": 1, "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_info(), "onnxruntime": onnxruntime.__version__, "python": platform.python_version(),
        "bench": {"runs_per_stage": runs, "threads": [1, 2], "method": "interleaved round-robin, alternating order, "
                  "one process; median", "inputs": {"det": "[1,3,544,960] icdar2015_train_calib/img_7.jpg",
                  "rec": "[6,3,32,320] 6 calib crops", "cls": "[6,3,48,192] 6 calib crops"}},
        "variants": variants, "latency": latency,
    }


def _fmt_acc(acc: Optional[Dict[str, Any]], dataset: str) -> str:
    if not acc or "rows" not in acc:
        return "-"
    for r in acc["rows"]:
        if r["dataset"] == dataset:
            mark = "" if r["passed"] else " ✗"
            return f"{r['candidate']:.2f} ({0.0 - r['drop_pts'] + 0.0:+.2f}){mark}"
    return "="  # stage unchanged vs parent


# What tuning the onnx-int8 recipe took (measured during development with the same runtime pre/post-processing
# and metric code on the developer halves: det first 100 images per set, rec first 300 crops per set; "same
# strings" = share of 36 calibration crops whose text equals fp32's). Kept with the results it explains.
TUNING_NOTES = """\
## How the weight-only recipe (`onnx-int8w`, issue 5) was found

History, kept with the results it explains. The static int8 failures below were later solved for rec and cls by
asymmetric uint8 activations and float early convs (issue 10, last section).

Host: AMD EPYC (Zen 3), AVX2 only - **no AVX512/VNNI** (`grep avx512_vnni /proc/cpuinfo` is empty), so the
1.8x int8 speedup target cannot be shown on this host: every ORT int8 form was slower than fp32 here
(interleaved, same inputs): det 0.62-0.85x and rec 0.57-1.08x for QDQ S8S8, QDQ U8S8, QOperator U8S8,
per-tensor and depthwise-excluded variants; dynamic 0.13-0.19x. ARM64 (sdot/i8mm) is where int8 compute pays.

| step | det icdar15 / msra (H-mean) | rec icdar15 / iiit5k (acc) | finding |
|---|---|---|---|
| fp32 reference | 43.29 / 80.35 | 57.00 / 71.33 | |
| det static QDQ S8S8 per-channel, MinMax 32 images | 42.06 / 80.70 | | -1.2 pts: over the 0.5 budget |
| det static, DB head (last conv + 2 transposed convs) float | 40.87 / 79.93 | | worse |
| det weight-only int8 per-channel | 42.88 / 80.28 | | -0.4 / -0.1: inside budget -> default |
| rec static S8S8 (convs + head), LSTM float | | 0.5 / 3.0 (of 58.5 / 70.25, 400 crops) | collapse |
| rec mixed: static convs + dynamic LSTM, head float | | 1.0 / 3.0 | collapse |
| rec dynamic everywhere (U8S8) | | 0.0 / 0.0 | collapse |
| rec: int8 activations on ONE conv (dynamic) | | same strings 0-56% | any int8 activation in the conv stack breaks it |
| rec: int8 weights only, all convs | | same strings 56% | early high-gain convs (BN-folded gains up to ~290) |
| + bias correction (E[x] of calibration crops) | | same strings 89% | helps, not enough |
| rec: int8 weights only on LSTM / on head (MatMuls) | | same strings 97% / 97% | LSTM/head weights are not the problem |
| rec: dynamic int8 on LSTM / on head | | same strings 94% / 86% | usable alone, but no gain on top of weight-only |
| rec weight-only, first 10 convs float (70 KB) | | 56.67 / 71.67 | -0.3 / +0.3: inside budget -> default |
| rec weight-only, first 16 convs float (572 KB) | | 57.00 / 71.00 | also inside; larger |
| cls static QDQ S8S8, MinMax 192 crops | | orientation acc 77.8 -> 72.4 (500 crops + their 180-degree turns) | -5.4: over budget |
| cls weight-only int8 | | 77.8 -> 77.2 | -0.6: inside budget -> default |
| gate at 50 crops per rec set | | iiit5k 80 -> 78 | one crop = 2 points: rec/cls now always score >= 500 crops |

Entropy/Percentile calibration of det (histograms over 32 full-size images) did not finish within 5 min on the
shared 2 cores and was not pursued: the failures above come from int8 activations as such, not from the
choice of ranges. Calibration: icdar2015_train_calib (det) and icdar2015_rec_train_calib + det-cut crops
(cls/rec) only; never test data.
"""


def markdown(data: Dict[str, Any]) -> str:
    v = data["variants"]
    lat = data["latency"]
    lines = ["# Quantized variants of PP-OCRv2 (issue 5)", "",
             f"Created {data['created']} on {data['machine'].get('cpu_model', '?')} ({data['machine'].get('cpu_cores', '?')} cores, "
             f"shared), onnxruntime {data['onnxruntime']}.", ""]
    lines += ["## Variants", "",
              "| variant | status | size (MB) | vs fp32 | det icdar15 | det msra | rec icdar15 | rec iiit5k | "
              "rec same text | det+rec speedup 1T | 2T |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in v.items():
        acc = r["accuracy"]
        same = "-"
        if acc and "rows" in acc:
            shares = [x["identical_share"] for x in acc["rows"]
                      if x.get("stage") == "rec" and x.get("identical_share") is not None]
            same = f"{100 * sum(shares) / len(shares):.1f}%" if shares else "="
        sp = [lat[t].get(name, {}).get("det+rec", {}).get("speedup") for t in ("1", "2")]
        status = r["status"] + (" (over budget, kept)" if acc and acc.get("allowed_accuracy_drop") else "")
        if acc and acc.get("measured_on"):
            status += f" (accuracy of {acc['measured_on']})"
        lines.append(
            f"| {name} | {status} | {r['total_bytes'] / 1e6:.2f} | {r['size_vs_fp32'] or '-'} | "
            if r["total_bytes"] else f"| {name} | {status} | - | - | ")
        lines[-1] += " | ".join([_fmt_acc(acc, "icdar2015_det"), _fmt_acc(acc, "msra_td500"),
                                 _fmt_acc(acc, "icdar2015_rec"), _fmt_acc(acc, "iiit5k_rec"), same,
                                 f"{sp[0]:.2f}x" if sp[0] else "-", f"{sp[1]:.2f}x" if sp[1] else "-"]) + " |"
    limit = next((r["accuracy"].get("gate_limit") for r in v.values() if r["accuracy"] and "gate_limit" in r["accuracy"]), None)
    scope = ("the full test sets" if limit is None else
             f"the first {limit} images of each det set and the first {max(limit, 500)} crops of each rec set (at "
             "least 500: one crop must move accuracy by less than the 1-point budget); an overview: `edgeocr "
             "convert` gates on the full test sets with paired intervals (static int8 section)")
    lines += ["", "Accuracy in percent (`edgeocr eval` library): det H-mean and rec accuracy on " + scope + ". Drop "
              "vs the fp32 parent in brackets (onnx-fp32 for ONNX/ORT, lite-x86-fp32 for Lite); ✗ = over budget "
              "(det 0.5, rec 1.0 points). `=`: that stage is the parent's. ARM variants cannot run here: their "
              "accuracy is their x86 twin's. Size: det+cls+rec+dictionary.", ""]
    lines += ["## Host latency per stage (ms, median) and speedup vs onnx-fp32", ""]
    for t in ("1", "2"):
        lines += [f"### {t} thread(s)", "", "| variant | det | cls | rec | det+rec | speedup det+rec |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, st in lat[t].items():
            lines.append(f"| {name} | {st['det']['median_ms']:.1f} | {st['cls']['median_ms']:.1f} | "
                         f"{st['rec']['median_ms']:.1f} | {st['det+rec']['median_ms']:.1f} | {st['det+rec']['speedup']:.2f}x |")
        lines.append("")
    lines += [f"Method: {data['bench']['method']}, {data['bench']['runs_per_stage']} runs per stage; inputs "
              f"{data['bench']['inputs']}. Speedup > 1 means faster than fp32. The machine is shared with other "
              "jobs: absolute times are inflated and noisy, ratios measured side by side are what to read.", ""]
    lines += ["## Recipes", ""]
    for name, r in v.items():
        q = r.get("quantization") or {}
        if isinstance(q, dict) and "recipe" in q:
            lines.append(f"- **{name}**: " + "; ".join(f"{s}: {q['recipe'][s]['summary']}" for s in q["recipe"])
                         + (f" (calibration digest `{q['calibration']['digest'][:16]}`)" if q.get("calibration") else ""))
        if r["status"] != "ok" and r.get("message"):
            lines.append(f"- **{name}** ({r['status']}): {r['message'][:600]}")
    lines += ["", TUNING_NOTES, verdict(data), ""]
    return "\n".join(lines)


def verdict(data: Dict[str, Any]) -> str:
    """The closing words, as ORT's usability checker ends: what to ship, from the rows above."""
    variants, lat = data["variants"], data["latency"]

    def summary(name: str, what: str) -> str:
        r = variants.get(name) or {}
        if not r.get("total_bytes"):
            return f"- **{name}** ({what}) was not built: {r.get('status', 'not requested')}."
        acc = r.get("accuracy") or {}
        sp = [lat[t].get(name, {}).get("det+rec", {}).get("speedup") for t in ("1", "2")]
        speed = f"; det+rec {sp[0]}x / {sp[1]}x fp32 speed on this host (1 / 2 threads)" if sp[0] else ""
        return (f"- **{name}** ({what}): {'inside' if acc.get('passed') is True else 'OUTSIDE'} the accuracy budgets, "
                f"{r['total_bytes'] / 1e6:.2f} MB ({r['size_vs_fp32']}x fp32){speed}.")

    over = [n for n, r in variants.items() if (r.get("accuracy") or {}).get("passed") is False]
    return "\n".join([
        "## Verdict", "",
        summary("onnx-int8w", "int8 weights, float compute: the size choice"),
        summary("onnx-int8", "static int8: int8 activations and weights, the speed choice on ARM64"),
        summary("onnx-fp16", "fp16 weights: half the size, for ARMv8.2+ fp16 arithmetic"), "",
        "This host has AVX2 without VNNI, so no int8 form is faster than fp32 here; ARM64 (sdot/i8mm) is where "
        "static int8 pays, and the section below shows the integer kernels ORT runs there. "
        + (f"Over budget (kept in this report only; `edgeocr convert` rejects them): {', '.join(over)}. " if over else "")
        + "ARM Paddle-Lite variants cannot run here: their accuracy is their x86 twin's, and Paddle-Lite's x86 "
        "runtime returns garbage for the quantized Lite programs (rec 0% even for int16 weights, slim det 0%), so "
        "measure `lite-arm-int8/-int16/-slim` on a device (`edgeocr eval` over adb/ssh) before judging them. The "
        "README's \"Quantized variants\" section says which variant to ship on which CPU.",
    ])


def plots(data: Dict[str, Any], out: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    v = {k: r for k, r in data["variants"].items() if r["total_bytes"]}
    fig, ax = plt.subplots(figsize=(9, 4))
    names = list(v)
    ax.bar(names, [v[n]["total_bytes"] / 1e6 for n in names], color=["#888" if "fp32" in n else "#3a7" for n in names])
    ax.axhline(4.0, color="r", ls="--", lw=1, label="4 MB target (onnx-int8)")
    ax.set_ylabel("bundle size (MB)")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    fig.tight_layout()
    p = out / "quantization_size.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, t in zip(axes, ("1", "2")):
        lat = data["latency"][t]
        names = list(lat)
        bottom = np.zeros(len(names))
        for stage in ("det", "cls", "rec"):
            vals = np.array([lat[n][stage]["median_ms"] for n in names])
            ax.bar(names, vals, bottom=bottom, label=stage)
            bottom += vals
        ax.set_title(f"{t} thread(s)")
        ax.tick_params(axis="x", rotation=45)
    axes[0].set_ylabel("median latency per stage (ms)")
    axes[0].legend()
    fig.tight_layout()
    p = out / "quantization_latency.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)
    return written


def write_markdown(path: Path, data: Dict[str, Any]) -> None:
    """The overview, followed by the static int8 section already in ``path`` (written by int8_report.py)."""
    from .int8_report import kept_section

    kept = kept_section(path)
    write_text(path, markdown(data) + ("\n" + kept if kept else ""))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--bundles", type=Path, default=Path("out/quant-bundles"))
    ap.add_argument("--gate-limit", type=int, default=50)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--models", type=Path, default=os.environ.get("EDGEOCR_MODEL_SOURCE"),
                    help="PP-OCRv2 Paddle model folder (default $EDGEOCR_MODEL_SOURCE)")
    ap.add_argument("--data", type=Path, default=os.environ.get("EDGEOCR_DATA"),
                    help="folder with the test and calibration sets (default $EDGEOCR_DATA)")
    ap.add_argument("--skip-build", action="store_true", help="reuse --bundles (report.json must exist)")
    ap.add_argument("--render-only", action="store_true", help="re-write the Markdown/plots from --out/quantization.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.render_only:
        data = json.loads((args.out / "quantization.json").read_text(encoding="utf-8"))
        write_markdown(args.out / "quantization.md", data)
        plots(data, args.out)
        return 0
    if args.data is None or args.models is None:
        ap.error("pass --models and --data (or set EDGEOCR_MODEL_SOURCE and EDGEOCR_DATA)")
    if args.skip_build:
        rep = json.loads((args.bundles / "report.json").read_text(encoding="utf-8"))
    else:
        rep = build_all(args.bundles, args.gate_limit, args.models, args.data)
    data = collect(args.bundles, rep, args.runs, args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "quantization.json", data)
    write_markdown(args.out / "quantization.md", data)
    for p in plots(data, args.out):
        log.info("wrote %s", p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
