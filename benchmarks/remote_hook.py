"""``--device TARGET`` for ``edgeocr eval`` / ``edgeocr bench``: run on a phone or board (issue 6).

The device helper's :mod:`edgeocr.device.remote` pushes the bundle and data, runs
``python3 -m edgeocr <eval|bench> ... --json OUT`` there and returns the JSON as a dict with a
``"device"`` section (and ``"incomplete"`` when interrupted). Our results have the same schema on
host and device, so the dict is printed and written like a host result.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import click

from edgeocr.cli_validation import OutputPath, seconds_type
from edgeocr.errors import ConfigError


def device_options(fn: Callable) -> Callable:
    """Add ``--device``, ``--keep``, ``--cpu-mask``, ``--device-work-dir``, ``--device-timeout``."""
    options = [
        click.option("--device", "device", multiple=True, metavar="TARGET", callback=_check_targets,
                     help="Run on a device instead of this host: adb:SERIAL, adb, ssh:user@host[:port], local, "
                          "or all-adb (every device `adb devices` lists as ready); repeat it for several devices, "
                          "which then run in parallel, one job at a time each (see `edgeocr device list`). "
                          "Default: run here."),
        click.option("--keep", is_flag=True, help="With --device: keep the device work files (default: removed)."),
        click.option("--cpu-mask", default=None, metavar="HEX",
                     help="With --device: pin to these cores via taskset, e.g. f0 = 4 big cores (default: no pinning)."),
        click.option("--device-work-dir", multiple=True, metavar="[TARGET=]DIR",
                     help="With --device: work dir on the device (default /data/local/tmp/edgeocr on adb, ~/.edgeocr on "
                          "ssh). Repeat as TARGET=DIR to give each device its own, e.g. ssh:pi@board=/mnt/ssd/edgeocr."),
        click.option("--device-timeout", type=seconds_type(), default=None,
                     help="With --device: seconds before the remote run is stopped (default: the device layer's)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _check_targets(ctx: click.Context, param: click.Parameter, value: Tuple[str, ...]) -> Tuple[str, ...]:
    """Malformed targets are refused before any work (``all-adb`` is expanded later, when used)."""
    from edgeocr.device.targets import check_target

    for target in value:
        try:
            check_target(target)
        except ConfigError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def run_on_device(kind: str, bundle: Path, data: Optional[Path], args: List[str], opts: Dict[str, Any],
                  target: Optional[str] = None, progress: bool = True) -> Dict[str, Any]:
    """Call ``run_remote_bench`` / ``run_remote_eval`` with the device options; returns the result dict.

    ``target`` defaults to the only ``--device`` given.
    """
    from edgeocr.device import remote  # issue 6; imported only when --device is used

    if target is None:
        targets = opts["device"]
        target = targets if isinstance(targets, str) else targets[0]
    kwargs = dict(cpu_mask=opts.get("cpu_mask"), keep=bool(opts.get("keep")),
                  work_dir=work_dir_for(opts.get("device_work_dir"), target), timeout=opts.get("device_timeout"),
                  progress=progress)
    if kind == "bench":
        return remote.run_remote_bench(target, bundle, data, args, **kwargs)
    if kind == "eval":
        if data is None:
            raise ConfigError("--device eval needs --dataset")
        return remote.run_remote_eval(target, bundle, data, args, **kwargs)
    raise ConfigError(f"unknown remote command {kind!r}; valid: bench, eval")


def work_dir_for(values: Any, target: str) -> Optional[str]:
    """The ``--device-work-dir`` for ``target``: its own ``TARGET=DIR``, else a plain ``DIR``, else None
    (the transport's default). A value counts as ``TARGET=DIR`` only when the part before the first
    ``=`` is a valid target, so a path containing ``=`` stays a path."""
    from edgeocr.device.targets import check_target

    if not values:
        return None
    if isinstance(values, str):
        values = (values,)
    plain = None
    for value in values:
        left, sep, right = value.partition("=")
        if sep and left:
            try:
                check_target(left)
            except ConfigError:
                plain = value
                continue
            if left == target:
                return right
            continue
        plain = value
    return plain


def check_device_options(opts: Dict[str, Any]) -> List[str]:
    """The ``--device`` targets, expanded (``all-adb``) and deduplicated; device-only options without
    ``--device`` are an error, named."""
    targets = opts.get("device") or ()
    if isinstance(targets, str):
        targets = (targets,)
    if targets:
        from edgeocr.device.targets import expand_targets

        return expand_targets(targets)
    given = [name for name in ("keep", "cpu_mask", "device_work_dir", "device_timeout") if opts.get(name)]
    if given:
        flags = ", ".join("--" + g.replace("_", "-") for g in given)
        raise ConfigError(f"{flags} only work together with --device TARGET")
    return []


def matrix_options(fn: Callable) -> Callable:
    """``--report DIR``: write the (matrix) report of this call's results right away."""
    return click.option("--report", "report_dir", type=OutputPath("dir"), default=None,
                        help="Also write `edgeocr report` output here (report.md, and with several devices the "
                             "variants x devices matrix: matrix.json, latency_matrix.png).")(fn)
