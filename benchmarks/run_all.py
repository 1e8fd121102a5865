"""``make bench``: accuracy and latency of every ``make demo`` bundle, committed under benchmarks/results.

Usage::

    python -m edgeocr.benchmarks.run_all --bundles out/bundles --out benchmarks/results [--data DIR] [--models DIR]

``--data`` defaults to ``$EDGEOCR_DATA`` and ``--models`` to ``$EDGEOCR_MODEL_SOURCE`` (the Makefile
sets both to the folders in ``../shared``).

For each bundle folder (a subfolder with ``manifest.json``) that can run on this host:

1. accuracy on the developer halves in ``../shared/data`` (:data:`EVAL_PLAN`: icdar2015_det det + e2e,
   msra_td500 det, icdar2015_rec and iiit5k_rec rec), one OCR per bundle reused across datasets;
2. latency with :data:`BENCH_PARAMS` (1 and 2 threads, real ICDAR 2015 photos), all bundles back to
   back after the evals so they are measured under the same conditions;
3. PaddleOCR 2.7.3's own detector on icdar2015_det, scored by the same metric code (the oracle);
4. ``report.md`` + plots over everything written in this run.

Bundles that cannot run here (a Paddle-Lite ARM bundle on x86) get a ``skipped_<variant>.json``
saying why, and appear as such in the report. The plan's ``--limit`` values keep the whole run
under 30 minutes on 2 cores; the report states them.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from edgeocr.atomic_io import write_json
from edgeocr.errors import EdgeOCRError

from .bench_params import BenchParams

log = logging.getLogger("edgeocr.benchmarks.run_all")

# Datasets and original models come from options or the environment the Makefile sets
# (EDGEOCR_DATA=../shared/data, EDGEOCR_MODEL_SOURCE=../shared/models): never a path baked in here.
DATA_ENV, MODELS_ENV = "EDGEOCR_DATA", "EDGEOCR_MODEL_SOURCE"

# (dataset folder, task, limit or None = all samples). Limits keep `make bench` < 30 min on 2 cores.
EVAL_PLAN: Tuple[Tuple[str, str, Optional[int]], ...] = (
    ("icdar2015_det", "det", None),
    ("icdar2015_det", "e2e", 100),
    ("msra_td500", "det", None),
    ("icdar2015_rec", "rec", None),
    ("iiit5k_rec", "rec", 500),
)
BENCH_IMAGES = ("icdar2015_det", "ch4_test_images")
META_NAME = "run_all_meta.json"  # how long the measuring run took (kept when --resume re-measures nothing)
BENCH_PARAMS = dict(num_runs=20, warmup_runs=1, min_secs=1.0, max_secs=8.0, num_threads=(1, 2), max_images=4)



def committable(result: Dict[str, Any]) -> Dict[str, Any]:
    """The result without its per-sample failures: those quote the dataset's labels (GT text and boxes),
    and the datasets may not be redistributed, so committed results keep only their count. Users get
    the full list from ``edgeocr eval --errors``."""
    failures = result.get("failures") or []
    return {**result, "failures": [], "failure_count": len(failures)}

# The fp32 bundles of `make demo`; the quantized ones have their own report (converters/quant_report.py).
DEFAULT_RUN_VARIANTS = ("onnx-fp32", "lite-x86-fp32", "lite-arm-fp32")


def find_bundles(root: Path) -> List[Path]:
    """Subfolders of ``root`` holding a manifest.json, sorted (onnx before lite)."""
    if not root.is_dir():
        raise EdgeOCRError("bundle folder does not exist; run `make demo` first", root)
    found = sorted(p for p in root.iterdir() if (p / "manifest.json").is_file())
    if not found:
        raise EdgeOCRError("holds no bundles (no */manifest.json); run `make demo` first", root)
    return found


def run_bundle(bundle_dir: Path, out: Path, data: Path, plan: Sequence[Tuple[str, str, Optional[int]]],
               bench_params: Optional[BenchParams], resume: bool = False) -> Tuple[List[Path], bool]:
    """Evaluate one bundle; returns (result files, whether it can be benchmarked here). With
    ``resume``, a bundle whose result files all exist is not run again."""
    from edgeocr.manifest import load_bundle
    from edgeocr.pipeline import OCR

    from .bundle_info import bundle_summary, check_runs_here
    from .eval_runner import evaluate

    bundle = load_bundle(bundle_dir, verify=True)
    variant = bundle.manifest.variant
    expected = [out / f"eval_{variant}_{ds}_{task}.json" for ds, task, _ in plan]
    if resume and all(p.is_file() for p in expected):
        log.warning("%s: reusing %d existing eval result files (--resume)", variant, len(expected))
        return expected, True
    try:
        check_runs_here(bundle)
    except EdgeOCRError as exc:
        path = out / f"skipped_{variant}.json"
        write_json(path, {"kind": "skipped", "bundle": bundle_summary(bundle), "reason": exc.message})
        log.warning("skipping %s: %s", variant, exc.message)
        return [path], False
    written = []
    with OCR(bundle_dir, use_cls=None) as ocr:
        for ds_name, task, limit in plan:
            t0 = time.perf_counter()
            res = evaluate(ocr, data / ds_name, task, limit)
            path = out / f"eval_{variant}_{ds_name}_{task}.json"
            write_json(path, committable(res.to_dict()))
            written.append(path)
            log.warning("%s %s %s: %.2f%% (%d samples, %.0f s)", variant, ds_name, task, res.main_metric * 100,
                        res.dataset["evaluated"], time.perf_counter() - t0)
    return written, True


def bench_bundle(bundle_dir: Path, out: Path, params: BenchParams, resume: bool = False) -> Path:
    """Latency of one bundle -> ``bench_<variant>.json``, measured by ``edgeocr bench`` in a fresh
    process so its peak RSS belongs to that bundle alone (not to the evals run before it)."""
    import subprocess

    from edgeocr.manifest import load_bundle

    variant = load_bundle(bundle_dir, verify=False).manifest.variant
    path = out / f"bench_{variant}.json"
    if resume and path.is_file():
        log.warning("%s: reusing %s (--resume)", variant, path.name)
        return path
    cmd = [sys.executable, "-m", "edgeocr", "bench", str(bundle_dir), "--json", str(path),
           "--num-threads", ",".join(map(str, params.num_threads)), "--num-runs", str(params.num_runs),
           "--warmup-runs", str(params.warmup_runs), "--warmup-min-secs", str(params.warmup_min_secs),
           "--min-secs", str(params.min_secs), "--max-secs", str(params.max_secs), "--run-delay", str(params.run_delay),
           "--stages", ",".join(params.stages), "--max-images", str(params.max_images)]
    if params.images:
        cmd += ["--images", params.images]
    if params.backend:
        cmd += ["--backend", params.backend]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise EdgeOCRError(f"`edgeocr bench` failed (exit {proc.returncode}): {' | '.join(tail)}", bundle_dir)
    log.warning("%s bench: %.0f s", variant, time.perf_counter() - t0)
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Accuracy + latency of every demo bundle -> results folder")
    parser.add_argument("--bundles", type=Path, required=True, help="folder of bundles (make demo: out/bundles)")
    parser.add_argument("--out", type=Path, required=True, help="results folder (JSON, report.md, PNGs)")
    parser.add_argument("--data", type=Path, default=os.environ.get(DATA_ENV),
                        help=f"folder holding icdar2015_det, msra_td500, icdar2015_rec, iiit5k_rec (default ${DATA_ENV})")
    parser.add_argument("--models", type=Path, default=os.environ.get(MODELS_ENV),
                        help=f"original PP-OCRv2 Paddle models, for the oracle (default ${MODELS_ENV})")
    parser.add_argument("--no-oracle", action="store_true", help="skip PaddleOCR's own detector (needs .venv-oracle)")
    parser.add_argument("--no-bench", action="store_true", help="accuracy only")
    parser.add_argument("--resume", action="store_true",
                        help="reuse a bundle's result files when all of them already exist in --out (after an interrupted run)")
    parser.add_argument("--variants", default=",".join(DEFAULT_RUN_VARIANTS),
                        help="comma-separated bundle names of --bundles to measure, or 'all' (quantized variants are "
                        "measured by `make quant-report`); default: %(default)s")
    parser.add_argument("--limit-scale", type=float, default=1.0,
                        help="multiply every plan limit (and cap unlimited sets) by this, for a quick run; default 1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    if args.data is None:
        print(f"edgeocr: error: pass --data DIR or set {DATA_ENV} (the folder with icdar2015_det, msra_td500, ...)",
              file=sys.stderr)
        return 2
    if args.models is None and not args.no_oracle:
        print(f"edgeocr: error: pass --models DIR or set {MODELS_ENV} (the oracle needs the original Paddle models), "
              "or --no-oracle", file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    plan = list(EVAL_PLAN)
    if args.limit_scale != 1.0:
        plan = [(d, t, max(1, int((lim or 250) * args.limit_scale))) for d, t, lim in plan]
    bench_params = None if args.no_bench else BenchParams(
        **BENCH_PARAMS, images=str(args.data.joinpath(*BENCH_IMAGES)))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        written: List[Path] = []
        runnable = []
        existing = {p for p in args.out.glob("*.json")} if args.resume else set()
        wanted = None if args.variants == "all" else set(args.variants.split(","))
        for bundle_dir in [b for b in find_bundles(args.bundles) if wanted is None or b.name in wanted]:
            files, ok = run_bundle(bundle_dir, args.out, args.data, plan, bench_params, args.resume)
            written += files
            if ok:
                runnable.append(bundle_dir)
        # Benches back to back, after all evals, so the variants share the same host conditions.
        if bench_params is not None:
            for bundle_dir in runnable:
                written.append(bench_bundle(bundle_dir, args.out, bench_params, args.resume))
        reused = sum(1 for p in written if p in existing and not p.name.startswith("skipped_"))
        oracle_line = []
        if not args.no_oracle:
            from .eval_runner import EvalResult
            from .oracle_eval import ORACLE_VARIANT, oracle_det_eval

            ds, _, lim = plan[0]
            path = args.out / f"eval_{ORACLE_VARIANT}_{ds}_det.json"
            if args.resume and path.is_file():
                res = EvalResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
                reused += 1
            else:
                res = oracle_det_eval(args.data / ds, args.models, lim)
                write_json(path, committable(res.to_dict()))
            written.append(path)
            oracle_line = [f"Oracle: PaddleOCR 2.7.3's own detector (original Paddle model, `.venv-oracle`) on "
                           f"{ds} scores det H-mean {res.main_metric * 100:.2f}% with the same metric code "
                           "(column paddleocr-2.7.3-oracle).", ""]
        minutes = (time.perf_counter() - t_start) / 60
        meta_path = args.out / META_NAME
        measured = [p for p in written if not p.name.startswith("skipped_")]
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        full = meta.get("full_run_minutes") if reused else minutes  # time of the last run that measured everything
        partial = meta.get("partial")
        if reused < len(measured):  # something was measured now: record it
            partial = ({"files": [p.name for p in measured if p not in existing], "minutes": minutes}
                       if reused else None)
            write_json(meta_path, {"kind": "run_meta", "full_run_minutes": full, "partial": partial, "plan": plan})
        limits = ", ".join(f"{d} {t}: " + (f"first {lim}" if lim else "all") for d, t, lim in plan)
        timing = f"in {full:.1f} min" if full is not None else "(full-run time unknown)"
        if partial:
            timing += (f"; {', '.join(partial['files'])} re-measured afterwards with --resume "
                       f"in {partial['minutes']:.1f} min")
        preface = [
            f"Made by `python -m edgeocr.benchmarks.run_all` (`make bench`) {timing}. "
            f"Samples per dataset/task: {limits}.",
            "The host is shared by several jobs on 2 cores, so latencies are noisy; compare variants measured "
            "in the same run, not across runs.",
            "",
        ] + oracle_line
        from .report_cli import make_report

        md, plots = make_report(written, args.out, preface=preface)
    except EdgeOCRError as exc:
        print(f"edgeocr: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {md} ({', '.join(plots)}) and {len(written)} result files in {minutes:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
