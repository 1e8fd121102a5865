"""``edgeocr eval``: accuracy of a bundle on a labelled dataset (maps options onto :func:`evaluate`).

Importing this module needs only click and the slim runtime: scoring (shapely, rapidfuzz) is
imported when used, so ``--predictions-only`` runs on a board without them (issue 6).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import click

from edgeocr.atomic_io import write_json, write_text
from edgeocr.cli_validation import InputPath, OutputPath, ThreadCount, check_separate, check_unique_paths
from edgeocr.errors import ConfigError

from .eval_runner import TASKS, EvalResult, evaluate, norm_from_flags, score_result
from .matrix_run import finish_matrix, run_matrix
from .remote_hook import check_device_options, device_options, matrix_options, run_on_device
from .store_cli import store_and_report, store_options


def format_eval(result: EvalResult) -> List[str]:
    """Human-readable metric table (percentages), with the parameters that produced it."""
    b, d = result.bundle, result.dataset
    lines = [
        f"bundle   : {b['variant']} ({b['path']}, {b['backend']}"
        + (f", {b['total_bytes'] / 1e6:.2f} MB)" if b.get("total_bytes") else ")"),
        f"dataset  : {d['name']} ({d['format']}, {d['evaluated']} of {d['samples']} samples"
        + (f", --limit {result.limit}" if result.limit else "") + ")",
        f"task     : {result.task}    text normalisation: "
        + norm_from_flags(**_flags(result.normalization)).describe(),
    ]
    if result.device:
        lines.append(f"device   : {result.device.get('target')} ({result.device.get('abi') or result.device.get('arch', '?')}"
                     + (", EMULATED" if result.device.get("emulated") else "") + ")")
    m = result.metrics
    if m is None:
        lines.append("metrics  : not scored (--predictions-only)")
        return lines
    if result.task == "rec":
        lines += [f"{'acc':>14} {'norm_edit_dis':>14} {'correct':>8} {'total':>6}",
                  f"{m['acc'] * 100:13.2f}% {m['norm_edit_dis'] * 100:13.2f}% {m['correct']:8d} {m['total']:6d}"]
    else:
        lines.append(f"{'':6} {'precision':>10} {'recall':>8} {'hmean':>8} {'hits':>6} {'gt_care':>8} {'det_care':>8}")
        rows = [("e2e", m), ("det", m["det"])] if result.task == "e2e" else [("det", m)]
        for name, r in rows:
            hits = r.get("hits", r.get("matched"))
            lines.append(f"{name:6} {r['precision'] * 100:9.2f}% {r['recall'] * 100:7.2f}% {r['hmean'] * 100:7.2f}% "
                         f"{hits:6d} {r['gt_care']:8d} {r['det_care']:8d}")
    lines.append(f"time     : {result.timing.get('mean_s_per_sample', 0) * 1000:.1f} ms/sample "
                 f"(wall {result.timing.get('wall_s', 0):.1f} s)")
    return lines


def _flags(normalization: Dict[str, bool]) -> Dict[str, bool]:
    return {"case_insensitive": normalization.get("case_insensitive", False),
            "is_filter": normalization.get("is_filter", False),
            "keep_spaces": not normalization.get("ignore_space", True)}


def write_errors(path: Path, result: EvalResult) -> None:
    """TSV ``image<TAB>expected<TAB>got`` of every failure (tabs/newlines in texts escaped)."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    rows = ["image\texpected\tgot"] + [
        f"{esc(f['image'])}\t{esc(f['expected'])}\t{esc(f['got'])}" for f in result.failures]
    write_text(path, "\n".join(rows) + "\n")


@click.command("eval")
@click.argument("bundles", nargs=-1, required=True, type=InputPath("dir"))
@click.option("--dataset", "dataset", required=True, type=InputPath("any"),
              help="Dataset folder or label file; the format is detected (ICDAR 2015, MSRA-TD500, "
                   "PaddleOCR det/rec labels, gt.txt). An unknown layout is an error.")
@click.option("--task", type=click.Choice(TASKS), default=None,
              help="det: boxes only (P/R/H-mean); e2e: boxes + text; rec: word crops (accuracy). "
                   "Default: det for detection sets, rec for word-crop sets.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Evaluate only the first N samples (default: all). Faster, but numbers are then "
                   "not comparable with full-set results.")
@click.option("--json", "json_out", type=OutputPath("file"), default=None,
              help="Write the full result (metrics, per-sample predictions, machine, versions) here.")
@click.option("--errors", "errors_out", type=OutputPath("file"), default=None,
              help="Write every failure as TSV image/expected/got, to look at what broke.")
@click.option("--backend", default=None, help="Override the bundle's backend (onnxruntime, paddle-lite, paddle).")
@click.option("--num-threads", type=ThreadCount(), default=None,
              help="Inference threads (default: the backend's default, all cores for onnxruntime).")
@click.option("--case-insensitive", is_flag=True,
              help="Compare texts case-insensitively (default: case-sensitive, as PaddleOCR).")
@click.option("--filter", "is_filter", is_flag=True,
              help="Keep only ASCII letters/digits, lower-cased, before comparing (PaddleOCR is_filter; "
                   "the usual IC15/IIIT5K protocol). Default off.")
@click.option("--keep-spaces", is_flag=True,
              help="Do not remove spaces before comparing (default: removed, as PaddleOCR).")
@click.option("--predictions-only", is_flag=True,
              help="Record predictions without scoring (no shapely/rapidfuzz needed; score later on the host).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where predictions run: this process, or shards on a Ray cluster (needs edgeocr[ray]); the host "
                   "scores them with the same metric code either way, so the numbers are identical.")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="With --executor ray: the cluster to join (HOST:PORT of `ray start --head`). Default: $RAY_ADDRESS, "
                   "else a local Ray instance.")
@click.option("--ray-shards", type=click.IntRange(min=1), default=None,
              help="With --executor ray: number of shards (default: 2 per cluster CPU). Each shard loads the bundle once.")
@device_options
@matrix_options
@store_options
def eval_command(bundles: Tuple[Path, ...], dataset: Path, task: Optional[str], limit: Optional[int], json_out: Optional[Path],
                 errors_out: Optional[Path], backend: Optional[str], num_threads: Optional[int],
                 case_insensitive: bool, is_filter: bool, keep_spaces: bool, predictions_only: bool,
                 report_dir: Optional[Path], store: Optional[Path], no_store: bool, executor: str,
                 ray_address: Optional[str], ray_shards: Optional[int], **device: Any) -> None:
    """Accuracy of BUNDLE on a labelled dataset, with PaddleOCR's metric definitions.

    \b
    det : ICDAR 2015 protocol as PaddleOCR's DetMetric (IoU > 0.5, one-to-one, "###" ignored)
    e2e : a care GT word counts when a box matches it (IoU > 0.5) with identical text
    rec : exact match after removing spaces (acc) and 1 - normalized edit distance

    \b
    Several bundles and/or several --device give one matrix (variants x devices); with a device,
    every bundle also runs on the host first, as the reference for texts and accuracy:
      edgeocr eval b/onnx-fp32 b/onnx-int8 --dataset DS --device adb:A --device ssh:pi@board --report rep/
    A failed device costs only its cells; they are listed and the exit code is 1.
    """
    norm = norm_from_flags(case_insensitive, is_filter, keep_spaces)
    check_unique_paths("BUNDLES", list(bundles))
    inputs = [("--dataset", dataset)] + [("BUNDLE", b) for b in bundles]
    check_separate(("--json", json_out), inputs + [("--errors", errors_out)])
    check_separate(("--errors", errors_out), inputs)
    targets = check_device_options(device)
    if predictions_only and errors_out:
        raise ConfigError("--errors needs scoring; drop --predictions-only or --errors")
    args: List[str] = ["--predictions-only"]
    if task:
        args += ["--task", task]
    if limit:
        args += ["--limit", str(limit)]
    if backend:
        args += ["--backend", backend]
    if num_threads:
        args += ["--num-threads", str(num_threads)]
    if executor != "ray" and (ray_address or ray_shards):
        raise ConfigError("--ray-address/--ray-shards only work together with --executor ray")
    if executor == "ray" and (targets or len(bundles) > 1):
        raise ConfigError("--executor ray evaluates one bundle on a Ray cluster; drop --device / extra bundles")
    if len(bundles) > 1 or len(targets) > 1:
        if errors_out:
            raise ConfigError("--errors works with one bundle on one target; drop --errors or run them one by one")

        def cell(target: str, bundle: Path) -> Dict[str, Any]:
            if target == "host":
                return evaluate(bundle, dataset, task, limit, backend=backend, threads=num_threads, norm=norm,
                                predictions_only=predictions_only, progress=False).to_dict()
            data = run_on_device("eval", bundle, dataset, args, device, target=target, progress=False)
            return data if predictions_only else score_result(EvalResult.from_dict(data), dataset, norm).to_dict()

        finish_matrix(run_matrix("eval", bundles, targets, cell, host_reference=bool(targets)), json_out, report_dir,
                      lambda results: store_and_report(results, store, no_store))
        return
    bundle = bundles[0]
    if targets:
        data = run_on_device("eval", bundle, dataset, args, device, target=targets[0])
        result = EvalResult.from_dict(data)
        if not predictions_only:
            result = score_result(result, dataset, norm)
    elif executor == "ray":
        from .eval_ray import evaluate_ray

        result = evaluate_ray(bundle, dataset, task, limit, backend=backend, threads=num_threads, norm=norm,
                              predictions_only=predictions_only, address=ray_address, shards=ray_shards)
    else:
        result = evaluate(bundle, dataset, task, limit, backend=backend, threads=num_threads, norm=norm,
                          predictions_only=predictions_only)
    for line in format_eval(result):
        click.echo(line)
    if json_out:
        write_json(json_out, result.to_dict())
        click.echo(f"wrote {json_out}")
    if errors_out:
        write_errors(errors_out, result)
        click.echo(f"wrote {errors_out} ({len(result.failures)} failures)")
    if not predictions_only:
        store_and_report([result.to_dict()], store, no_store)
    if report_dir:
        from .report_cli import make_report_from

        md, plots = make_report_from([result.to_dict()], report_dir)
        click.echo(f"wrote {md}" + (f" and {', '.join(plots)}" if plots else ""))
    if result.incomplete:
        click.echo(f"INCOMPLETE: {result.incomplete}", err=True)
        raise click.exceptions.Exit(1)
