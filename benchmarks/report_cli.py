"""``edgeocr report RESULT.json... --out DIR``: Markdown tables + PNG plots from eval/bench results."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import click

from edgeocr.atomic_io import write_text
from edgeocr.cli_validation import InputPath, OutputPath, check_unique_paths
from edgeocr.errors import ConfigError

from .report_collect import collect, flatten_results, load_results
from .report_markdown import render_markdown
from .report_matrix import write_matrix
from .report_plots import write_plots

REPORT_MD = "report.md"


def make_report(paths: Sequence[Path], out_dir: Path, title: str = "edgeocr accuracy and latency report",
                preface: Sequence[str] = ()) -> Tuple[Path, List[str]]:
    """Write ``out_dir/report.md`` and the plots; returns (markdown path, plot file names)."""
    if not paths:
        raise ConfigError("give at least one RESULT.json (from `edgeocr eval --json` or `edgeocr bench --json`)")
    return make_report_from(load_results(paths), out_dir, title, preface)


def make_report_from(results: Sequence[Dict[str, Any]], out_dir: Path,
                     title: str = "edgeocr accuracy and latency report",
                     preface: Sequence[str] = ()) -> Tuple[Path, List[str]]:
    """:func:`make_report` from result dicts; results from more than one target (host and devices)
    also get the variants x devices matrix: a Markdown section, ``matrix.json`` and one PNG."""
    results = flatten_results(results)
    c = collect(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = write_plots(c, out_dir)
    matrix_md, matrix_files = write_matrix(results, out_dir)
    md = out_dir / REPORT_MD
    write_text(md, render_markdown(c, title=title, plots=plots, preface=preface).rstrip() + "\n"
               + ("\n" + matrix_md if matrix_md else ""))
    return md, plots + matrix_files


@click.command("report")
@click.argument("results", nargs=-1, type=InputPath("file"))
@click.option("--out", "out_dir", required=True, type=OutputPath("dir"),
              help="Folder for report.md, latency_per_stage.png and accuracy_vs_size_latency.png (created; files replaced).")
@click.option("--title", default="edgeocr accuracy and latency report", show_default=True, help="Report title.")
def report_command(results: Tuple[Path, ...], out_dir: Path, title: str) -> None:
    """Turn eval/bench RESULT.json files into one Markdown report with plots, variants side by side.

    onnx-fp32 (or the first variant) is the reference for ratios and accuracy drops; device results
    (from --device) appear as VARIANT@TARGET next to the host ones.
    """
    check_unique_paths("RESULTS", list(results))
    md, plots = make_report(list(results), out_dir, title)
    click.echo(f"wrote {md}" + (f" and {', '.join(plots)}" if plots else ""))
