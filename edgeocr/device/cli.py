"""``edgeocr device list | info TARGET | prepare TARGET``.

TARGET is ``adb`` (the only attached phone), ``adb:SERIAL``, ``ssh:user@host[:port]`` or ``local``.
Each command maps onto one library call (:func:`list_devices`, :func:`probe_device`,
:func:`prepare_device`).
"""
from __future__ import annotations

import json
from typing import Optional

import click

from ..atomic_io import write_json
from .targets import open_target


WORK_DIR_HELP = ("Folder for edgeocr on the device. Default: /data/local/tmp/edgeocr on adb (the only place "
                 "an unrooted phone lets you run code), ~/.edgeocr on ssh.")


@click.group("device")
def device_group() -> None:
    """Find, describe and prepare phones (adb) and ARM boards (ssh) for on-device bench/eval.

    \b
      edgeocr device list                       # adb devices + state
      edgeocr device info adb:SERIAL            # ABI, cores/clusters, memory, python...
      edgeocr device prepare ssh:pi@board       # push the runtime wheels (once)
      edgeocr bench BUNDLE --device adb:SERIAL  # then measure there
    """


@device_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List adb devices with their state (device / offline / unauthorized).

    ssh boards are not discoverable: name them as ssh:user@host. Honours ANDROID_ADB_SERVER_PORT
    and $ADB like the adb client itself.
    """
    from .adb import list_devices

    devices = list_devices()
    if as_json:
        click.echo(json.dumps([{"target": f"adb:{d.serial}", "state": d.state, **d.props} for d in devices], indent=1))
        return
    if not devices:
        click.echo("no adb devices (USB debugging on? `adb connect HOST:PORT` for network devices); "
                   "ssh boards: use ssh:user@host directly")
        return
    for d in devices:
        extra = " ".join(f"{k}:{v}" for k, v in d.props.items() if k in ("model", "product", "device"))
        click.echo(f"adb:{d.serial}\t{d.state}\t{extra}")


@device_group.command("info")
@click.argument("target")
@click.option("--work-dir", default=None, help=WORK_DIR_HELP)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the facts as JSON to this file ('-' prints JSON instead of the summary).")
def info_command(target: str, work_dir: Optional[str], json_out: Optional[str]) -> None:
    """Describe TARGET: ABI, CPU cores and big/little clusters, governor, memory, free space in the
    work dir, OS / Android version, thermal zones, python3 and the runtime packages it can import.

    TARGET: adb, adb:SERIAL, ssh:user@host[:port] or local.
    """
    from .device_info import probe_device
    from .prepare import resolve_work_dir

    transport = open_target(target)
    work = resolve_work_dir(transport, work_dir)
    info = probe_device(transport, work, lib_dir=f"{work}/lib")
    if json_out == "-":
        click.echo(json.dumps(info.to_dict(), indent=1, ensure_ascii=False))
        return
    for line in info.summary_lines():
        click.echo(line)
    if json_out:
        write_json(json_out, info.to_dict())


@device_group.command("prepare")
@click.argument("target")
@click.option("--work-dir", default=None, help=WORK_DIR_HELP)
@click.option("--force", is_flag=True, help="Reinstall even if the device is up to date (default: skip when "
              "the wheels and the edgeocr sources there match).")
@click.option("--no-optional", is_flag=True, help="Skip psutil/rapidfuzz/shapely (bench memory and on-device "
              "metrics then need the host to score).")
def prepare_command(target: str, work_dir: Optional[str], force: bool, no_optional: bool) -> None:
    """Install the slim runtime (numpy, opencv-python-headless, onnxruntime, pyclipper, click, tqdm and
    the edgeocr sources) into the device work dir. The device needs python3 but no internet: wheels
    matching its Python and ABI are downloaded on the host (cached under $EDGEOCR_HOME/device-wheels)
    and pushed. Idempotent.

    TARGET: adb, adb:SERIAL, ssh:user@host[:port] or local.
    """
    from .prepare import prepare_device

    transport = open_target(target)
    res = prepare_device(transport, work_dir, force=force, optional=not no_optional)
    py = res.python
    click.echo(f"{res.target}: python {py.get('version')} ({py.get('machine')}, {py.get('libc')})")
    click.echo(f"work dir   {res.work_dir}")
    click.echo(f"wheels     {len(res.wheels)}: " + ", ".join(w.split('-')[0] + ' ' + w.split('-')[1] for w in res.wheels))
    if res.skipped_optional:
        click.echo(f"skipped    {', '.join(res.skipped_optional)} (no wheel for this device)")
    click.echo(f"install    {res.method}")
