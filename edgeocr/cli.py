"""``edgeocr`` command line: a click group whose subcommands are imported only when used.

Lazy loading keeps ``edgeocr ocr`` on a board from importing paddle, onnx or matplotlib. Every
subcommand maps its options onto one library call (optimum's ``main()`` -> ``main_export``).
Every failure ends as ONE line on stderr and an exit code (:meth:`LazyGroup.main`, used by the console
script and by click's test runner alike): :class:`~edgeocr.errors.EdgeOCRError` and usage errors name
the file or option; an OS error names the file and the reason; Ctrl-C exits 130 and SIGTERM 143 after
the atomic writers have cleaned up; anything unexpected is one line too (``-vv`` shows the traceback).
"""
from __future__ import annotations

import errno
import importlib
import logging
import os
import sys
from typing import Any, Dict, List, Optional

import click

from .errors import EdgeOCRError
from .signals import EXIT_SIGINT, EXIT_SIGTERM, Terminated, handle_sigterm

EXIT_USAGE = 2  # click's code for a bad option or argument
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug of ours, not the user's input

# name -> "module:attribute". One line per command; the module is imported on first use.
COMMANDS: Dict[str, str] = {
    "models": "edgeocr.model_pull:models_group",
    "convert": "edgeocr.converters.cli:convert_command",
    "ocr": "edgeocr.ocr_cli:ocr_command",
    "eval": "edgeocr.benchmarks.eval_cli:eval_command",
    "bench": "edgeocr.benchmarks.bench_cli:bench_command",
    "report": "edgeocr.benchmarks.report_cli:report_command",
    "device": "edgeocr.device.cli:device_group",
    "history": "edgeocr.benchmarks.store_cli:history_command",
    "tag": "edgeocr.benchmarks.store_cli:tag_command",
    "compare": "edgeocr.benchmarks.store_cli:compare_command",
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

    def main(self, args: Any = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command; with ``standalone_mode`` every error is one ``edgeocr: error:`` line + exit code."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        with handle_sigterm():
            code = run_guarded(lambda: super(LazyGroup, self).main(args, prog_name, complete_var,
                                                                    standalone_mode=False, **extra))
        if code:
            sys.exit(code)
        return None  # success returns, so `main([...])` can be called from Python


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_line(message: str) -> None:
    """The one error line every failure ends with."""
    click.echo(f"edgeocr: error: {_one_line(message)}", err=True)


def run_guarded(call: Any) -> int:
    """Call ``call()`` and map its outcome to an exit code, printing one line for any failure."""
    try:
        result = call()
    except Terminated:
        click.echo("edgeocr: terminated (SIGTERM); nothing half-written was kept", err=True)
        return EXIT_SIGTERM
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        if isinstance(exc.__context__, Terminated):  # click turns the interrupt into Abort
            click.echo("edgeocr: terminated (SIGTERM); nothing half-written was kept", err=True)
            return EXIT_SIGTERM
        click.echo("edgeocr: interrupted; nothing half-written was kept", err=True)
        return EXIT_SIGINT
    except EdgeOCRError as exc:
        error_line(str(exc))
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        error_line(exc.format_message() + hint)
        return EXIT_USAGE
    except click.ClickException as exc:
        error_line(exc.format_message())
        return exc.exit_code
    except MemoryError:
        error_line("out of memory; use a smaller input (e.g. a lower --det-limit-side-len) or fewer threads")
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            reason += " (check the permissions, or that the file system is not read-only)"
        elif exc.errno == errno.ENOSPC:
            reason += " (free some disk space)"
        error_line(f"{where}{reason}")
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback for the user
        if logging.getLogger().isEnabledFor(logging.DEBUG) or os.environ.get("EDGEOCR_TRACEBACK"):
            raise
        error_line(f"unexpected {type(exc).__name__}: {exc} (a bug in edgeocr; run with -vv for the traceback "
                   "and report it)")
        return EXIT_INTERNAL
    # Without standalone mode click returns (not raises) the code of `ctx.exit(code)`.
    return result if isinstance(result, int) else 0


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
    """Entry point (console script): run the group; errors become one line and an exit code."""
    return cli.main(args=argv, prog_name="edgeocr")
