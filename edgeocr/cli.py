"""``edgeocr`` command line: a click group whose subcommands are imported only when used.

Lazy loading keeps ``edgeocr ocr`` on a board from importing paddle, onnx or matplotlib. Every
subcommand maps its options onto one library call (optimum's ``main()`` -> ``main_export``).
Errors derived from :class:`~edgeocr.errors.EdgeOCRError` become one line on stderr and a non-zero
exit; Ctrl-C exits 130 after the atomic writers have cleaned up.
"""
from __future__ import annotations

import importlib
import logging
import sys
from typing import Any, Dict, List, Optional

import click

from .errors import EdgeOCRError

# name -> "module:attribute". One line per command; the module is imported on first use.
COMMANDS: Dict[str, str] = {
    "models": "edgeocr.model_pull:models_group",
    "convert": "edgeocr.converters.cli:convert_command",
    "ocr": "edgeocr.ocr_cli:ocr_command",
    "eval": "edgeocr.benchmarks.eval_cli:eval_command",
    "bench": "edgeocr.benchmarks.bench_cli:bench_command",
    "report": "edgeocr.benchmarks.report_cli:report_command",
    "device": "edgeocr.device.cli:device_group",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module only when it is invoked or listed."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            # A missing optional dependency: say which extra provides it.
            raise click.ClickException(
                f"`edgeocr {cmd_name}` needs a package that is not installed ({exc.name}); "
                "install the matching extra, e.g. pip install 'edgeocr[convert,bench]'"
            ) from None
        return getattr(module, attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug). Default: warnings and progress only.")
@click.version_option(package_name="edgeocr")
def cli(verbose: int) -> None:
    """Convert, verify, run and benchmark PaddleOCR PP-OCRv2 for ARM phones and boards.

    \b
    Typical flow:
      edgeocr models pull --source DIR_OR_URL     # official models, sha256-checked
      edgeocr convert --out bundles               # ONNX + Paddle-Lite bundles, parity-checked
      edgeocr ocr bundles/onnx-fp32 img.jpg       # read text
      edgeocr eval / bench / report               # accuracy and latency
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Optional[List[str]] = None) -> Any:
    """Entry point: run the group, turning known errors into one line and an exit code."""
    try:
        result = cli.main(args=argv, prog_name="edgeocr", standalone_mode=False)
    except EdgeOCRError as exc:
        click.echo(f"edgeocr: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("edgeocr: interrupted; nothing half-written was kept", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("edgeocr: interrupted; nothing half-written was kept", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    # Without standalone mode click returns (not raises) the code of `ctx.exit(code)`.
    if isinstance(result, int) and result:
        sys.exit(result)
    return None
