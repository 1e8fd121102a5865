"""``--device TARGET`` for ``edgeocr eval`` / ``edgeocr bench``: run on a phone or board (issue 6).

The device helper's :mod:`edgeocr.device.remote` pushes the bundle and data, runs
``python3 -m edgeocr <eval|bench> ... --json OUT`` there and returns the JSON as a dict with a
``"device"`` section (and ``"incomplete"`` when interrupted). Our results have the same schema on
host and device, so the dict is printed and written like a host result.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import click

from edgeocr.errors import ConfigError


def device_options(fn: Callable) -> Callable:
    """Add ``--device``, ``--keep``, ``--cpu-mask``, ``--device-work-dir``, ``--device-timeout``."""
    options = [
        click.option("--device", "device", default=None, metavar="TARGET",
                     help="Run on a device instead of this host: adb:SERIAL, adb, ssh:user@host[:port] or "
                          "local (see `edgeocr device list`). Default: run here."),
        click.option("--keep", is_flag=True, help="With --device: keep the device work files (default: removed)."),
        click.option("--cpu-mask", default=None, metavar="HEX",
                     help="With --device: pin to these cores via taskset, e.g. f0 = 4 big cores (default: no pinning)."),
        click.option("--device-work-dir", default=None,
                     help="With --device: work dir on the device (default /data/local/tmp/edgeocr on adb, ~/.edgeocr on ssh)."),
        click.option("--device-timeout", type=float, default=None,
                     help="With --device: seconds before the remote run is stopped (default: the device layer's)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def run_on_device(kind: str, bundle: Path, data: Optional[Path], args: List[str], opts: Dict[str, Any]) -> Dict[str, Any]:
    """Call ``run_remote_bench`` / ``run_remote_eval`` with the device options; returns the result dict."""
    from edgeocr.device import remote  # issue 6; imported only when --device is used

    kwargs = dict(cpu_mask=opts.get("cpu_mask"), keep=bool(opts.get("keep")),
                  work_dir=opts.get("device_work_dir"), timeout=opts.get("device_timeout"))
    if kind == "bench":
        return remote.run_remote_bench(opts["device"], bundle, data, args, **kwargs)
    if kind == "eval":
        if data is None:
            raise ConfigError("--device eval needs --dataset")
        return remote.run_remote_eval(opts["device"], bundle, data, args, **kwargs)
    raise ConfigError(f"unknown remote command {kind!r}; valid: bench, eval")


def check_device_options(opts: Dict[str, Any]) -> None:
    """Device-only options without ``--device`` are an error, named."""
    if opts.get("device"):
        return
    given = [name for name in ("keep", "cpu_mask", "device_work_dir", "device_timeout") if opts.get(name)]
    if given:
        flags = ", ".join("--" + g.replace("_", "-") for g in given)
        raise ConfigError(f"{flags} only work together with --device TARGET")
