"""``edgeocr history``, ``edgeocr tag RUN NAME`` and ``edgeocr compare --baseline RUN_OR_TAG``.

Each maps onto one :class:`~edgeocr.benchmarks.results_store.ResultsStore` call or
:func:`~edgeocr.benchmarks.compare.compare_runs`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

import click

from edgeocr.atomic_io import write_json

from .compare import DEFAULT_ALPHA, DEFAULT_MIN_EFFECT, compare_runs
from .results_store import ResultsStore

STORE_HELP = "Results database (default: $EDGEOCR_STORE, else $EDGEOCR_HOME/results.db)."


def store_option(fn: Callable) -> Callable:
    return click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None, help=STORE_HELP)(fn)


@click.command("history")
@store_option
@click.option("--kind", type=click.Choice(["bench", "eval"]), default=None, help="Only bench or only eval runs.")
@click.option("--variant", default=None, help="Only runs of this bundle variant (e.g. onnx-fp32).")
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True, help="Newest N runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of one line per run.")
def history_command(store: Optional[Path], kind: Optional[str], variant: Optional[str], limit: int, as_json: bool) -> None:
    """List stored bench/eval runs, newest first: id, time, variant, device, threads or dataset, tags.

    Every `edgeocr bench` / `edgeocr eval` appends its results here unless --no-store.
    """
    with ResultsStore(store) as db:
        runs = db.runs(kind=kind, variant=variant, limit=limit)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps([asdict(r) for r in runs], indent=1, ensure_ascii=False))
        return
    if not runs:
        click.echo(f"no runs stored in {db.path} yet (run `edgeocr bench` or `edgeocr eval`)")
    for r in runs:
        click.echo(r.describe())


@click.command("tag")
@click.argument("run")
@click.argument("name")
@store_option
def tag_command(run: str, name: str, store: Optional[Path]) -> None:
    """Name RUN (an id from `edgeocr history`, or another tag) NAME, e.g. release-1.2, to use it as
    `edgeocr compare --baseline release-1.2`. Re-using a name moves it."""
    with ResultsStore(store) as db:
        tagged = db.tag(run, name)
    click.echo(f"tagged {tagged.describe()}")


@click.command("compare")
@click.option("--baseline", required=True, metavar="RUN_OR_TAG", help="The reference run: an id or a tag.")
@click.option("--candidate", default=None, metavar="RUN_OR_TAG",
              help="The run to judge. Default: the newest other run of the same kind, device, variant and dataset.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=DEFAULT_ALPHA,
              show_default=True, help="Significance level of the one-sided Mann-Whitney U test on latency samples.")
@click.option("--min-effect", type=click.FloatRange(min=0), default=DEFAULT_MIN_EFFECT, show_default=True,
              help="Smallest median slowdown that counts (0.05 = 5%), on top of significance.")
@click.option("--max-drop", type=click.FloatRange(min=0), default=None,
              help="Accuracy budget in points (default: det/e2e 0.5, rec 1.0, as the quantization gate).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every finding with its statistics here.")
@store_option
def compare_command(baseline: str, candidate: Optional[str], alpha: float, min_effect: float,
                    max_drop: Optional[float], json_out: Optional[Path], store: Optional[Path]) -> None:
    """Compare two stored runs like with like; exit 1 with one REGRESSION line per regression.

    \b
    latency : per stage and thread count, slower when a one-sided Mann-Whitney U test on the per-run
              samples gives p < --alpha AND the median is more than --min-effect slower
    accuracy: lower when the drop exceeds the budget AND its paired-bootstrap 95% CI is below 0
    """
    with ResultsStore(store) as db:
        result = compare_runs(db, baseline, candidate, alpha=alpha, min_effect=min_effect, budget=max_drop)
    click.echo(f"baseline : {result.baseline.describe()}")
    click.echo(f"candidate: {result.candidate.describe()}")
    for note in result.notes:
        click.echo(note)
    for f in result.findings:
        click.echo(f.line)
    if json_out:
        write_json(json_out, result.to_dict())
    if result.regressions:
        click.echo(f"edgeocr: {len(result.regressions)} regression(s)", err=True)
        raise click.exceptions.Exit(1)
    click.echo("no regression")


def store_options(fn: Callable) -> Callable:
    """``--store PATH`` / ``--no-store`` for bench and eval."""
    fn = click.option("--no-store", is_flag=True, help="Do not append the results to the results store.")(fn)
    return store_option(fn)


def store_and_report(results: Any, store: Optional[Path], no_store: bool) -> None:
    """Append bench/eval result dicts to the store and say where (one line)."""
    from .results_store import store_results

    if no_store:
        return
    ids = store_results(results, store)
    if ids:
        with ResultsStore(store) as db:
            path = db.path
        click.echo(f"stored as run{'s' if len(ids) > 1 else ''} {', '.join('#' + str(i) for i in ids)} in {path}")
