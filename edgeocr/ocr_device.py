"""``edgeocr ocr BUNDLE IMAGES --device TARGET [--compare-host]``: read text on phones and boards.

The images are checked on the host first (an unreadable file gets its one error line here, as in a
host run, and does not travel). With ``--compare-host`` the host reads them too, before any device
starts (the host is never busy with a device job while it works). Then every target runs
``python3 -m edgeocr ocr`` on the same images through :func:`edgeocr.device.remote.run_remote_ocr`,
one worker per device (:mod:`edgeocr.device.fanout`), and prints the same lines as a host run; with
``--compare-host`` also the lines whose text differs from the host's reading.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from .errors import ConfigError, EdgeOCRError

log = logging.getLogger(__name__)


def forward_args(backend: Optional[str], threads: Optional[int], no_cls: bool, no_verify: bool,
                 max_image_pixels: int, overrides: Dict[str, Any]) -> List[str]:
    """The ``edgeocr ocr`` flags the device run needs to read exactly like this host run would."""
    args = ["--max-image-pixels", str(max_image_pixels)]
    if backend:
        args += ["--backend", backend]
    if threads:
        args += ["--threads", str(threads)]
    if no_cls:
        args.append("--no-cls")
    if no_verify:
        args.append("--no-verify")
    for name, value in overrides.items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):
            args.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            args += [f"--{flag}", str(value)]
    return args


def diff_texts(host: Sequence[str], device: Sequence[str]) -> List[str]:
    """One line per reading-order position where host and device texts differ."""
    out = []
    for i in range(max(len(host), len(device))):
        a = host[i] if i < len(host) else None
        b = device[i] if i < len(device) else None
        if a != b:
            out.append(f"  line {i + 1}: host {a!r} | device {b!r}")
    return out


def echo_records(records: Sequence[Dict[str, Any]]) -> None:
    """The lines a host run prints: ``path<TAB>N lines<TAB>ms`` then ``score<TAB>text`` per line."""
    for rec in records:
        click.echo(f"{rec['source']}\t{len(rec['lines'])} lines\t{rec['timings']['total'] * 1000:.1f} ms")
        for line in rec["lines"]:
            click.echo(f"{line['score']:.3f}\t{line['text']}")


def ocr_on_devices(bundle: Path, paths: Sequence[Path], targets: Sequence[str], device_opts: Dict[str, Any],
                   compare_host: bool, json_out: Optional[Path], host_options: Dict[str, Any],
                   args: List[str]) -> None:
    """Run OCR on every target (and the host with ``compare_host``); exit 1 if a file or device failed."""
    from .device.fanout import Job, run_fanout
    from .device.remote import run_remote_ocr
    from .device.targets import expand_targets
    from .image_io import read_image

    targets = expand_targets(targets)
    errors: List[Dict[str, str]] = []
    good: List[Path] = []
    for path in paths:  # the same per-file errors as a host run, before anything travels
        try:
            read_image(path, max_pixels=host_options.get("max_image_pixels") or None)
            good.append(path)
        except EdgeOCRError as exc:
            if exc.path is None:
                exc.path = str(path)
            click.echo(f"edgeocr: error: {exc}", err=True)
            errors.append({"source": str(path), "error": exc.message})
    if not good:
        raise click.exceptions.Exit(1)
    host_texts: Dict[str, List[str]] = {}
    if compare_host:
        host_texts = _host_texts(bundle, good, host_options)
    from .manifest import load_bundle

    variant = load_bundle(bundle, verify=False).manifest.variant
    from .benchmarks.remote_hook import work_dir_for

    opts = dict(cpu_mask=device_opts.get("cpu_mask"), keep=bool(device_opts.get("keep")),
                timeout=device_opts.get("device_timeout"))
    report = run_fanout([Job(t, bundle, variant) for t in targets], lambda job: run_remote_ocr(
        job.target, bundle, good, args, work_dir=work_dir_for(device_opts.get("device_work_dir"), job.target), **opts))
    runs, missing, differing = [], [], 0
    for out in report.outcomes:
        target = out.job.target
        if not out.ok:
            click.echo(f"MISSING {target}: {out.error}", err=True)
            missing.append({"target": target, "error": str(out.error)})
            continue
        res = out.result
        emulated = (res.get("device") or {}).get("emulated")
        click.echo(f"== {target}" + (" (EMULATED: timings are not performance)" if emulated else "") + " ==")
        echo_records(res.get("images", []))
        if compare_host:
            same = 0
            for rec in res.get("images", []):
                host = host_texts.get(rec["source"], [])
                diff = diff_texts(host, rec.get("texts", []))
                if diff:
                    click.echo(f"DIFFERS from host: {rec['source']}")
                    for line in diff:
                        click.echo(line)
                else:
                    same += 1
            n = len(res.get("images", []))
            differing += n - same
            res["compare_host"] = {"identical_images": same, "images": n}
            click.echo(f"compare-host {target}: {same} of {n} images read exactly as on the host")
        res["errors"] = errors + res.get("errors", [])
        runs.append(res)
    if json_out is not None:
        from .atomic_io import write_json

        data: Dict[str, Any] = runs[0] if len(targets) == 1 and runs else {"runs": runs, "missing": missing}
        if compare_host:
            data["host_texts"] = host_texts
        write_json(json_out, data)
    if errors or missing:
        click.echo(f"edgeocr: {len(errors)} file(s) and {len(missing)} device(s) failed", err=True)
        raise click.exceptions.Exit(1)


def _host_texts(bundle: Path, paths: Sequence[Path], options: Dict[str, Any]) -> Dict[str, List[str]]:
    """The host's reading of ``paths`` with the same options as the device runs."""
    from .pipeline import OCR

    opts = dict(options)
    overrides = opts.pop("overrides", {})
    ocr = OCR(bundle, backend=opts.get("backend"), threads=opts.get("threads"),
              use_cls=False if opts.get("no_cls") else None, verify=not opts.get("no_verify"),
              max_image_pixels=opts.get("max_image_pixels") or None, **overrides)
    try:
        return {str(p): ocr(p).texts for p in paths}
    finally:
        ocr.close()


def check_device_only(device: Tuple[str, ...], compare_host: bool, vis_dir: Optional[Path],
                      source_models: Optional[Path], device_flags: Dict[str, Any]) -> None:
    """Options that need --device, and host-only options that cannot go with it, named."""
    if not device:
        given = [f for f, v in (("--compare-host", compare_host), *device_flags.items()) if v]
        if given:
            raise ConfigError(f"{', '.join(given)} only work together with --device TARGET")
        return
    if vis_dir is not None:
        raise ConfigError("--vis draws on the host: run without --device to get the pictures")
    if source_models is not None:
        raise ConfigError("--source-models runs the Paddle originals on the host only; drop --device")
