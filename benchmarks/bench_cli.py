"""``edgeocr bench``: latency per stage and thread count, flags named like TFLite's benchmark_model.

Options map onto :class:`BenchParams` (defaults live there, once) and one :func:`bench` call.
Importing this module needs only click and the slim runtime (it also runs on a device, issue 6).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import click

from edgeocr.atomic_io import write_json
from edgeocr.cli_validation import InputPath, OutputPath, ThreadList, check_separate, check_unique_paths
from edgeocr.errors import ConfigError

from .bench_params import STAGES, BenchParams
from .bench_runner import BenchListener, BenchResult, StageRecord, bench
from .matrix_run import finish_matrix, run_matrix
from .remote_hook import check_device_options, device_options, matrix_options, run_on_device
from .store_cli import store_and_report, store_options

D = BenchParams()  # the defaults shown in --help come from the one place they are defined


def _check_threads(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Every thread count in 1..4 x cores, none twice (edgeocr.cli_validation); the text is kept as given."""
    ThreadList().convert(value, param, ctx)
    return value


def _int_list(text: str) -> Tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ConfigError(f"--num-threads {text!r}: expected a comma list of integers, e.g. 1,2") from None


def _str_list(text: str) -> Tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


class EchoListener(BenchListener):
    """Prints the parameters first, then one TFLite-style stats line per stage and thread count."""

    def on_start(self, params: BenchParams, bundle: Dict[str, Any], machine: Dict[str, Any]) -> None:
        sizes = bundle["sizes"]
        click.echo(f"bundle  : {bundle['variant']} ({bundle['path']}, {bundle['backend']})  "
                   + "  ".join(f"{k}={v / 1e6:.2f}MB" for k, v in sizes.items()))
        click.echo(f"machine : {machine['cpu_model']}, {machine['cpu_cores']} cores, {machine['os']}")
        click.echo(f"params  : {params.describe()}")

    def on_record(self, record: StageRecord) -> None:
        head = f"{record.stage:4} threads={record.threads} init={record.init_ms:.1f}ms"
        if record.stats is None:
            click.echo(f"{head} {record.note}")
        else:
            click.echo(f"{head} {record.stats.line()}" + (" [stopped by max_secs]" if record.stopped_by == "max_secs" else ""))


def format_bench(result: BenchResult) -> List[str]:
    """Summary lines of a finished (or device) result."""
    lines = [f"params  : {BenchParams.from_dict(result.params).describe()}"]
    if result.device:
        lines.append(f"device  : {result.device.get('target')}" + (" (EMULATED: timings are not performance)"
                                                                   if result.device.get("emulated") else ""))
    for r in result.records:
        lines.append(f"{r.stage:4} threads={r.threads} init={r.init_ms:.1f}ms "
                     + (r.stats.line() if r.stats else r.note))
    mem = result.memory
    if mem.get("peak_rss_mb") is not None:
        lines.append(f"memory  : peak RSS {mem['peak_rss_mb']:.0f} MB ({mem['caveat']})")
    if result.incomplete:
        lines.append(f"INCOMPLETE: {result.incomplete}")
    return lines


@click.command("bench")
@click.argument("bundles", nargs=-1, required=True, type=InputPath("dir"))
@click.option("--images", type=InputPath("any"), default=None,
              help="Folder (first --max-images, sorted) or one image. Default: a synthetic 960x540 page with 6 text lines.")
@click.option("--num-threads", default=",".join(map(str, D.num_threads)), show_default=True, callback=_check_threads,
              help="Comma list of thread counts, each measured separately.")
@click.option("--num-runs", type=click.IntRange(1, 10**7), default=D.num_runs, show_default=True,
              help="Minimum timed runs per stage and thread count (one run = one stage call on one image).")
@click.option("--warmup-runs", type=click.IntRange(0, 10**7), default=D.warmup_runs, show_default=True,
              help="Untimed runs after the cold first call (0: no warmup).")
@click.option("--warmup-min-secs", type=click.FloatRange(0, 86400), default=D.warmup_min_secs, show_default=True,
              help="Keep warming up at least this long.")
@click.option("--min-secs", type=click.FloatRange(0, 86400), default=D.min_secs, show_default=True,
              help="Minimum timed seconds per stage; runs continue past --num-runs until reached.")
@click.option("--max-secs", type=click.FloatRange(0, 86400, min_open=True), default=D.max_secs, show_default=True,
              help="Stop timing a stage after this long even if --num-runs is not reached (fewer runs, noisier stats).")
@click.option("--run-delay", type=click.FloatRange(0, 3600), default=D.run_delay, show_default=True,
              help="Seconds to sleep between runs (lets a phone cool down; 0: none).")
@click.option("--stages", default=",".join(D.stages), show_default=True,
              help=f"Comma list of {', '.join(STAGES)}; e2e is the whole pipeline on one image.")
@click.option("--max-images", type=click.IntRange(1, 10**6), default=D.max_images, show_default=True,
              help="Runs cycle through at most this many images of --images.")
@click.option("--backend", default=None, help="Override the bundle's backend (onnxruntime, paddle-lite, paddle).")
@click.option("--json", "json_out", type=OutputPath("file"), default=None,
              help="Write params, machine, versions, bundle summary and all stats here.")
@device_options
@matrix_options
@store_options
def bench_command(bundles: Tuple[Path, ...], images: Optional[Path], num_threads: str, num_runs: int,
                  warmup_runs: int, warmup_min_secs: float, min_secs: float, max_secs: float, run_delay: float,
                  stages: str, max_images: int, backend: Optional[str], json_out: Optional[Path],
                  report_dir: Optional[Path], store: Optional[Path], no_store: bool, **device: Any) -> None:
    """Latency of BUNDLES per stage (det, cls, rec, e2e) and thread count.

    Reports init time, the first (cold) call, and count/min/max/avg/std/p50/p90/p99 of the timed
    runs (at least --num-runs and --min-secs, at most --max-secs). Peak memory is process-wide and
    approximate.

    \b
    Several bundles and/or several --device give one matrix (variants x devices x threads):
      edgeocr bench b/onnx-fp32 b/onnx-int8 --device local --device adb:SERIAL --report rep/
    Devices run in parallel, one job at a time each; host jobs run first, alone. A failed device
    costs only its cells; they are listed and the exit code is 1.
    """
    check_unique_paths("BUNDLES", list(bundles))
    check_separate(("--json", json_out), [("--images", images)] + [("BUNDLE", b) for b in bundles])
    params = BenchParams(num_runs=num_runs, warmup_runs=warmup_runs, warmup_min_secs=warmup_min_secs,
                         min_secs=min_secs, max_secs=max_secs, run_delay=run_delay,
                         num_threads=_int_list(num_threads), stages=_str_list(stages),
                         images=str(images) if images else None, max_images=max_images, backend=backend)
    targets = check_device_options(device)
    args = ["--num-threads", num_threads, "--num-runs", str(num_runs), "--warmup-runs", str(warmup_runs),
            "--warmup-min-secs", str(warmup_min_secs), "--min-secs", str(min_secs), "--max-secs", str(max_secs),
            "--run-delay", str(run_delay), "--stages", stages, "--max-images", str(max_images)]
    if backend:
        args += ["--backend", backend]
    if len(bundles) > 1 or len(targets) > 1:
        click.echo(f"params  : {params.describe()}")

        def cell(target: str, bundle: Path) -> Dict[str, Any]:
            if target == "host":
                return bench(bundle, params, BenchListener()).to_dict()
            return run_on_device("bench", bundle, images, args, device, target=target, progress=False)

        finish_matrix(run_matrix("bench", bundles, targets, cell), json_out, report_dir,
                      lambda results: store_and_report(results, store, no_store))
        return
    bundle = bundles[0]
    if targets:
        click.echo(f"params  : {params.describe()}")
        result = BenchResult.from_dict(run_on_device("bench", bundle, images, args, device, target=targets[0]))
        for line in format_bench(result)[1:]:  # params were printed before the run
            click.echo(line)
    else:
        result = bench(bundle, params, EchoListener())
        mem = result.memory
        if mem.get("peak_rss_mb") is not None:
            click.echo(f"memory  : peak RSS {mem['peak_rss_mb']:.0f} MB ({mem['caveat']})")
    if json_out:
        write_json(json_out, result.to_dict())
        click.echo(f"wrote {json_out}")
    store_and_report([result.to_dict()], store, no_store)
    if report_dir:
        from .report_cli import make_report_from

        md, plots = make_report_from([result.to_dict()], report_dir)
        click.echo(f"wrote {md}" + (f" and {', '.join(plots)}" if plots else ""))
    if result.incomplete:
        raise click.exceptions.Exit(1)  # the result says what is missing (printed above)
