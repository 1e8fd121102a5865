"""Several bundles x several targets in one ``bench`` / ``eval`` call: the matrix of results.

The CLI gives the bundles and the ``--device`` targets; :func:`run_matrix` builds one job per
(target, bundle), hands them to :func:`edgeocr.device.fanout.run_fanout` (host first and alone,
then one worker per device) and returns a :class:`MatrixResult`: the per-cell result dicts (the
same schema as a single run) and the cells that are missing, each with the reason. ``edgeocr
report`` reads a matrix JSON like a list of single results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

from edgeocr.device.fanout import HOST, Job, run_fanout
from edgeocr.errors import ConfigError

MATRIX_KIND = "matrix"
SCHEMA_VERSION = 1


@dataclass
class MatrixResult:
    """Results of one multi-bundle / multi-device call; ``missing`` lists cells without a result."""

    command: str  # "bench" | "eval"
    results: List[Dict[str, Any]]
    missing: List[Dict[str, str]] = field(default_factory=list)  # {"variant", "bundle", "target", "error"}
    targets: List[str] = field(default_factory=list)
    variants: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"kind": MATRIX_KIND, "schema_version": SCHEMA_VERSION, "command": self.command,
                "targets": self.targets, "variants": self.variants, "results": self.results, "missing": self.missing}

    @property
    def incomplete(self) -> List[Dict[str, Any]]:
        """Cells that have a result but lost some parts (device gone after some chunks/threads)."""
        return [r for r in self.results if r.get("incomplete")]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.incomplete

    def problems(self) -> List[str]:
        """One line per missing or partial cell (what the CLI prints before exiting non-zero)."""
        lines = [f"MISSING {m['variant']} on {m['target']}: {m['error']}" for m in self.missing]
        for r in self.incomplete:
            inc = r["incomplete"]
            lines.append(f"PARTIAL {r.get('bundle', {}).get('variant')} on {target_of(r)}: missing "
                         f"{', '.join(inc.get('missing', []))} ({inc.get('error')})")
        return lines


def target_of(result: Dict[str, Any]) -> str:
    """Where a result was measured: the device target, or ``host``."""
    dev = result.get("device")
    return str(dev.get("target", "device")) if dev else HOST


def bundle_variants(bundles: Sequence[Path]) -> List[str]:
    """Variant names of ``bundles`` (manifest checked before any device work); they must differ."""
    from edgeocr.manifest import load_bundle

    names: Dict[str, Path] = {}
    for b in bundles:
        variant = load_bundle(b, verify=False).manifest.variant
        if variant in names:
            raise ConfigError(f"bundles {names[variant]} and {b} are both variant {variant!r}: a matrix needs distinct "
                              "variants (to compare two builds of one variant use `edgeocr compare`)")
        names[variant] = Path(b)
    return list(names)


def run_matrix(command: str, bundles: Sequence[Path], targets: Sequence[str],
               run_cell: Callable[[str, Path], Dict[str, Any]], host_reference: bool = False,
               progress: bool = True) -> MatrixResult:
    """Run ``run_cell(target, bundle)`` for every target x bundle; ``HOST`` means in-process.

    ``host_reference`` adds a host run of every bundle (first, alone) so device texts and accuracy
    can be compared with the host's.
    """
    variants = bundle_variants(bundles)
    order = list(targets) or [HOST]
    if host_reference and HOST not in order:
        order = [HOST] + order
    jobs = [Job(t, Path(b), v) for t in order for b, v in zip(bundles, variants)]
    report = run_fanout(jobs, lambda job: run_cell(job.target, job.bundle), progress=progress)
    results, missing = [], []
    for out in report.outcomes:
        if out.ok:
            results.append(out.result)
        else:
            missing.append({"variant": out.job.variant, "bundle": str(out.job.bundle), "target": out.job.target,
                            "error": str(out.error)})
    return MatrixResult(command, results, missing, order, variants)


def summary_lines(matrix: MatrixResult) -> List[str]:
    """One line per cell: variant, target, and the headline number (e2e/first stage p50, or the metric)."""
    lines = []
    for r in matrix.results:
        where = target_of(r) + (" (EMULATED)" if (r.get("device") or {}).get("emulated") else "")
        head = f"{r.get('bundle', {}).get('variant')} on {where}:"
        if r.get("kind") == "bench":
            parts = [f"{rec['stage']}@{rec['threads']} p50={rec['stats']['p50']:.1f}ms" for rec in r["records"]
                     if rec.get("stats")]
            lines.append(f"{head} " + (", ".join(parts) or "no timed stage"))
        else:
            m = r.get("metrics") or {}
            key = "acc" if r.get("task") == "rec" else "hmean"
            value = f"{r.get('task')} {key}={m[key] * 100:.2f}%" if key in m else "not scored"
            lines.append(f"{head} {value} on {len(r.get('samples', []))} samples")
    return lines


def finish_matrix(matrix: MatrixResult, json_out: "Path | None", report_dir: "Path | None",
                  store: "Callable[[List[Dict[str, Any]]], None] | None" = None) -> None:
    """Print the cells, write the matrix JSON and report, store the results, then exit 1 if any cell
    is missing or partial."""
    import click

    from edgeocr.atomic_io import write_json

    for line in summary_lines(matrix):
        click.echo(line)
    if json_out:
        write_json(json_out, matrix.to_dict())
        click.echo(f"wrote {json_out}")
    if store is not None:
        store([r for r in matrix.results if r.get("kind") == "bench" or r.get("metrics")])
    if report_dir:
        from .report_cli import make_report_from

        md, plots = make_report_from([matrix.to_dict()], report_dir)
        click.echo(f"wrote {md}" + (f" and {', '.join(plots)}" if plots else ""))
    problems = matrix.problems()
    for line in problems:
        click.echo(line, err=True)
    if problems:
        click.echo(f"edgeocr: {len(matrix.missing)} cell(s) missing, {len(matrix.incomplete)} partial", err=True)
        raise click.exceptions.Exit(1)
