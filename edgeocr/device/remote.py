"""Run ``edgeocr bench`` / ``edgeocr eval`` on a device and bring the result back.

Recipe of one remote run:

1. Open the target and make sure the runtime is installed (``prepare_device``: a no-op when the
   wheels and edgeocr sources there are current).
2. Record :class:`~edgeocr.device.device_info.DeviceInfo` (stored as ``result["device"]``).
3. Push the bundle and the data into ``WORK/runs/<id>/``: for eval only the selected samples
   (``--limit``), written as a PaddleOCR label file next to the images (image keys
   ``<folder>/<file>`` unchanged); for bench the first ``--max-images`` images.
4. Run ``python3 -m edgeocr <bench|eval> ... --json OUT`` there with the same flags, under
   ``taskset MASK`` for ``--cpu-mask``, in pieces (eval: chunks of samples; bench: one thread
   count at a time) so that a device that disappears or a timeout keeps what was finished.
5. Pull each JSON, merge, mark it with the device info (``emulated`` when the device says so),
   and remove the run folder unless ``keep``.

The result dict has the same schema as a host result (issue 4), plus ``device`` and, when
interrupted, ``incomplete = {"error", "finished", "missing"}``.
"""
from __future__ import annotations

import json
import logging
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import ConfigError, DeviceError, InputError
from .device_info import DeviceInfo, probe_device
from .prepare import prepare_device, resolve_work_dir
from .targets import open_target
from .transport import Transport, script_argv

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3600.0  # seconds for the whole remote run (emulated devices are ~200x slower)
DEFAULT_EVAL_CHUNK = 100  # samples per device invocation: a lost device costs at most this many
EMULATED_NOTE = "EMULATED device (qemu user-mode): timings are NOT performance numbers; only texts/accuracy count"

# Runs as the device's sh: record the pid (the python process: every step below execs), cd, exec.
_LAUNCH = 'echo $$ > "$1/pid"; cd "$1" || exit 1; shift; exec "$@"'
_KILL = 'if [ -f "$1/pid" ]; then kill -9 "$(cat "$1/pid")" 2>/dev/null; fi; true'


@dataclass
class _Piece:
    """One device invocation: extra args, the data folder (relative to the run dir) and a label."""

    label: str
    args: List[str]
    data: Optional[str] = None
    keys: List[str] = field(default_factory=list)


def _check_mask(cpu_mask: Optional[str]) -> None:
    if cpu_mask is not None and not re.fullmatch(r"(0x)?[0-9a-fA-F]+", cpu_mask):
        raise ConfigError(f"--cpu-mask {cpu_mask!r}: expected a hex CPU mask like f0 (cores 4-7); "
                          "see `edgeocr device info` for the clusters")


class RemoteRun:
    """One run folder on a device: push, launch pieces, pull results, clean up."""

    def __init__(self, transport: Transport, work: str, cpu_mask: Optional[str], keep: bool, timeout: float) -> None:
        self.t, self.work, self.cpu_mask, self.keep = transport, work, cpu_mask, keep
        self.deadline = time.monotonic() + timeout
        self.run_dir = f"{work}/runs/{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeviceError(f"remote run on {self.t.target} exceeded its timeout")
        return left

    def launch(self, subcommand: str, argv: List[str], out_name: str) -> Dict[str, Any]:
        """Run ``python3 -m edgeocr SUBCOMMAND ARGV --json OUT`` in the run dir; return the pulled JSON."""
        out = f"{self.run_dir}/{out_name}"
        cmd = ["env", f"PYTHONPATH={self.work}/lib:{self.work}/src", "PYTHONUNBUFFERED=1"]
        if self.cpu_mask:
            cmd += ["taskset", self.cpu_mask]
        cmd += ["python3", "-m", "edgeocr", subcommand, *argv, "--json", out]
        try:
            res = self.t.run(script_argv(_LAUNCH, self.run_dir, *cmd), timeout=self.remaining())
        except (DeviceError, KeyboardInterrupt):
            self.kill()  # the host side is gone; make sure the device process is too (ssh may not HUP it)
            raise
        if res.returncode != 0:
            self.t.check()  # a vanished/offline device says so here
            err = res.error_text.splitlines()
            tail = next((line for line in reversed(err) if line.strip()), f"exit code {res.returncode}")
            raise DeviceError(f"`edgeocr {subcommand}` failed on {self.t.target}: {tail}")
        with tempfile.TemporaryDirectory(prefix="edgeocr-pull.") as tmp:
            local = Path(tmp) / out_name
            self.t.pull(out, local)
            return json.loads(local.read_text(encoding="utf-8"))

    def kill(self) -> None:
        """Best effort: stop the device process after a timeout/interrupt (the link may be gone)."""
        try:
            self.t.run(script_argv(_KILL, self.run_dir), timeout=30)
        except Exception as exc:  # noqa: BLE001 - the device may be unreachable; cleanup must not mask the cause
            log.debug("could not stop the device process: %s", exc)

    def cleanup(self) -> None:
        if self.keep:
            log.warning("kept device files in %s on %s (--keep)", self.run_dir, self.t.target)
            return
        try:
            self.t.remove(self.run_dir)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not remove %s on %s: %s", self.run_dir, self.t.target, exc)


def _run_pieces(run: RemoteRun, subcommand: str, head: List[str], pieces: List[_Piece],
                merge: Callable[[List[Dict[str, Any]]], Dict[str, Any]], progress: bool = True) -> Dict[str, Any]:
    """Launch each piece; on a device failure after at least one piece, return the merged partial result."""
    from tqdm import tqdm

    done: List[Tuple[_Piece, Dict[str, Any]]] = []
    bar = tqdm(pieces, desc=f"{subcommand} on {run.t.target}", unit="part", disable=not progress or len(pieces) < 2,
               leave=False)
    for i, piece in enumerate(bar):
        argv = list(head)
        if piece.data is not None:
            argv[argv.index("@DATA@")] = f"{run.run_dir}/{piece.data}"
        try:
            done.append((piece, run.launch(subcommand, argv + piece.args, f"result-{i}.json")))
        except (DeviceError, KeyboardInterrupt) as exc:
            if not done:
                raise
            message = str(exc) or "interrupted (Ctrl-C)"
            log.warning("device run interrupted after %d of %d parts: %s", len(done), len(pieces), message)
            result = merge([r for _, r in done])
            result["incomplete"] = {"error": message, "finished": [p.label for p, _ in done],
                                    "missing": [p.label for p in pieces[len(done):]]}
            return result
    return merge([r for _, r in done])


def _start(target: str, work_dir: Optional[str], cpu_mask: Optional[str], keep: bool,
           timeout: Optional[float]) -> Tuple[Transport, RemoteRun, DeviceInfo, str]:
    _check_mask(cpu_mask)
    transport = open_target(target)
    work = resolve_work_dir(transport, work_dir)
    if ":" in work:
        raise ConfigError(f"work dir {work!r} contains ':', which PYTHONPATH cannot hold; pass another --device-work-dir")
    prep = prepare_device(transport, work)
    info = probe_device(transport, prep.work_dir, lib_dir=f"{prep.work_dir}/lib")
    if cpu_mask and transport.run(["sh", "-c", "command -v taskset"], timeout=60).returncode != 0:
        raise DeviceError(f"{transport.target} has no `taskset`; run without --cpu-mask")
    run = RemoteRun(transport, prep.work_dir, cpu_mask, keep, timeout or DEFAULT_TIMEOUT)
    return transport, run, info, prep.method


def _mark(result: Dict[str, Any], info: DeviceInfo, cpu_mask: Optional[str], prepare: str, run: RemoteRun) -> Dict[str, Any]:
    device = {**info.to_dict(), "cpu_mask": cpu_mask, "prepare": prepare, "run_dir": run.run_dir if run.keep else None}
    if info.emulated:
        device["note"] = EMULATED_NOTE
    result["device"] = device
    return result


# backend -> the Python package it needs on the device (what `device info` lists under packages)
BACKEND_PACKAGES = {"onnxruntime": "onnxruntime", "paddle-lite": "paddlelite", "paddle": "paddle"}


def _push_bundle(run: RemoteRun, bundle: Path, info: DeviceInfo, args: Sequence[str]) -> str:
    """Check the bundle and that the device can run its backend, then push it into the run dir."""
    from ..manifest import load_bundle

    b = load_bundle(bundle, verify=True)  # a broken bundle fails here, not after the push
    backend = _opt(args, "--backend") or b.manifest.backend
    package = BACKEND_PACKAGES.get(backend, backend)
    have = (info.python or {}).get("packages", {})
    if package in have and not have[package]:
        hint = (" (the paddlelite wheels exist for CPython <= 3.7 on PyPI: install one on the device, or use an "
                "onnx bundle)" if package == "paddlelite" else " (run `edgeocr device prepare`)")
        raise DeviceError(f"{run.t.target} cannot run {b.manifest.variant}: its backend {backend!r} needs the Python "
                          f"package {package!r}, which the device's python3 {info.python.get('version')} lacks{hint}")
    run.t.push(bundle, f"{run.run_dir}/bundle")
    return f"{run.run_dir}/bundle"


# ---------------------------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------------------------

def _opt(args: Sequence[str], name: str) -> Optional[str]:
    """Value of ``--name V`` / ``--name=V`` in a forwarded argument list."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def _without(args: Sequence[str], name: str) -> List[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == name:
            skip = True
            continue
        if a.startswith(name + "="):
            continue
        out.append(a)
    return out


def _bench_images(images: Path, args: Sequence[str]) -> List[Path]:
    from ..benchmarks.bench_params import BenchParams  # the --max-images default lives there

    suffixes = (".jpg", ".jpeg", ".png", ".bmp")
    if images.is_file():
        return [images]
    if not images.is_dir():
        raise InputError("does not exist", images)
    files = sorted(p for p in images.iterdir() if p.suffix.lower() in suffixes)
    limit = _opt(args, "--max-images")
    if limit is None:
        limit = str(BenchParams().max_images)
    return files[: int(limit)]


def merge_bench(parts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One bench result from per-thread-count results (records concatenated, worst peak RSS kept)."""
    base = dict(parts[0])
    base["records"] = [r for p in parts for r in p["records"]]
    peaks = [p.get("memory", {}).get("peak_rss_mb") for p in parts]
    peaks = [x for x in peaks if x is not None]
    if peaks:
        base["memory"] = {**base.get("memory", {}), "peak_rss_mb": max(peaks)}
    threads = []
    for p in parts:
        threads += [t for t in p.get("params", {}).get("num_threads", []) if t not in threads]
    if "params" in base:
        base["params"] = {**base["params"], "num_threads": threads}
    return base


def run_remote_bench(target: str, bundle: Path, images: Optional[Path], args: List[str], *,
                     cpu_mask: Optional[str] = None, keep: bool = False, work_dir: Optional[str] = None,
                     timeout: Optional[float] = None, progress: bool = True) -> Dict[str, Any]:
    """``edgeocr bench BUNDLE [--images]`` ARGS on ``target``; one device invocation per thread count.

    ``args`` are bench flags forwarded verbatim (not BUNDLE/--images/--json/--device*). Returns the
    bench result dict with ``device`` (and ``incomplete`` if the device failed midway).
    """
    bundle, images = Path(bundle), (Path(images) if images is not None else None)
    files = _bench_images(images, args) if images is not None else []
    transport, run, info, prep = _start(target, work_dir, cpu_mask, keep, timeout)
    try:
        remote_bundle = _push_bundle(run, bundle, info, args)
        head = [remote_bundle]
        if files:
            with tempfile.TemporaryDirectory(prefix="edgeocr-images.") as tmp:
                staged = Path(tmp) / "images"
                staged.mkdir()
                for f in files:
                    _link_or_copy(f, staged / f.name)
                run.t.push(staged, f"{run.run_dir}/images")
            head += ["--images", f"{run.run_dir}/images" if images and images.is_dir() else f"{run.run_dir}/images/{files[0].name}"]
        threads = [t.strip() for t in (_opt(args, "--num-threads") or "").split(",") if t.strip()]
        rest = _without(args, "--num-threads") + ([] if "--no-store" in args else ["--no-store"])  # host stores
        pieces = ([_Piece(f"threads={t}", rest + ["--num-threads", t]) for t in threads] if threads
                  else [_Piece("all", list(rest))])
        result = _run_pieces(run, "bench", head, pieces, merge_bench, progress)
        if images is not None and "params" in result:
            result["params"]["images"] = str(images)
        result.setdefault("bundle", {})["path"] = str(bundle)
        return _mark(result, info, cpu_mask, prep, run)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------------------------------
# eval
# ---------------------------------------------------------------------------------------------

def _stage_dataset(dataset: Path, limit: Optional[int], chunk: int, staging: Path) -> Tuple[Any, List[_Piece]]:
    """Write one folder per chunk of samples: images at ``<folder>/<file>`` plus a PaddleOCR label file.

    Keys (``<parent folder>/<file>``) match the host's, so the host scores device predictions
    against the original dataset.
    """
    from ..benchmarks.datasets import DetSample, limit_samples, load_dataset

    ds = load_dataset(dataset)
    samples = limit_samples(ds.samples, limit)
    pieces: List[_Piece] = []
    for start in range(0, len(samples), chunk):
        part = samples[start:start + chunk]
        name = f"data-{start // chunk}"
        root = staging / name / (ds.root.name or "data")
        root.mkdir(parents=True)
        lines = []
        for s in part:
            in_root = s.image.parent == ds.root
            rel = s.image.name if in_root else f"{s.image.parent.name}/{s.image.name}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(s.image, root / rel)
            if isinstance(s, DetSample):
                regions = [{"transcription": "###" if r.ignore else (r.text or ""), "points": [list(p) for p in r.points]}
                           for r in s.regions]
                lines.append(f"{rel}\t{json.dumps(regions, ensure_ascii=False)}")
            else:
                lines.append(f"{rel}\t{s.label}")
        # The device reads this subset like any PaddleOCR label file (issue 4's load_dataset).
        (root / "edgeocr_subset_label.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        keys = [f"{s.image.parent.name}/{s.image.name}" for s in part]
        pieces.append(_Piece(f"samples {start + 1}-{start + len(part)}", [], f"{name}/{root.name}", keys))
    return ds, pieces


def merge_eval(parts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One eval result from per-chunk results: samples and texts concatenated, timing summed."""
    base = dict(parts[0])
    base["samples"] = [s for p in parts for s in p.get("samples", [])]
    base["texts"] = {k: v for p in parts for k, v in p.get("texts", {}).items()}
    wall = sum(p.get("timing", {}).get("wall_s", 0.0) for p in parts)
    secs = [s.get("seconds", 0.0) for s in base["samples"]]
    base["timing"] = {**base.get("timing", {}), "wall_s": wall, "chunks": len(parts),
                      "mean_s_per_sample": sum(secs) / len(secs) if secs else 0.0}
    return base


def run_remote_eval(target: str, bundle: Path, dataset: Path, args: List[str], *,
                    cpu_mask: Optional[str] = None, keep: bool = False, work_dir: Optional[str] = None,
                    timeout: Optional[float] = None, chunk_size: int = DEFAULT_EVAL_CHUNK,
                    progress: bool = True) -> Dict[str, Any]:
    """``edgeocr eval BUNDLE --dataset`` ARGS on ``target`` (pass ``--predictions-only`` to score on the host).

    Only the samples selected by ``--limit`` travel, ``chunk_size`` per device invocation. Returns
    the eval result dict (``dataset`` describes the host dataset) with ``device`` and, when the
    device failed after some chunks, ``incomplete``.
    """
    if chunk_size < 1:
        raise ConfigError("chunk_size must be >= 1")
    bundle, dataset = Path(bundle), Path(dataset)
    limit_s = _opt(args, "--limit")
    with tempfile.TemporaryDirectory(prefix="edgeocr-dataset.") as tmp:
        ds, pieces = _stage_dataset(dataset, int(limit_s) if limit_s else None, chunk_size, Path(tmp))
        transport, run, info, prep = _start(target, work_dir, cpu_mask, keep, timeout)
        try:
            remote_bundle = _push_bundle(run, bundle, info, args)
            for piece in pieces:
                run.t.push(Path(tmp) / piece.data.split("/")[0], f"{run.run_dir}/{piece.data.split('/')[0]}")
            head = [remote_bundle, "--dataset", "@DATA@", *args]
            result = _run_pieces(run, "eval", head, pieces, merge_eval, progress)
        finally:
            run.cleanup()
    evaluated = len(result.get("samples", []))
    result["dataset"] = {**ds.summary(), "evaluated": evaluated}
    result.setdefault("bundle", {})["path"] = str(bundle)
    return _mark(result, info, cpu_mask, prep, run)


def _link_or_copy(src: Path, dst: Path) -> None:
    import os
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


# ---------------------------------------------------------------------------------------------
# ocr
# ---------------------------------------------------------------------------------------------

def run_remote_ocr(target: str, bundle: Path, images: Sequence[Path], args: List[str], *,
                   cpu_mask: Optional[str] = None, keep: bool = False, work_dir: Optional[str] = None,
                   timeout: Optional[float] = None) -> Dict[str, Any]:
    """``edgeocr ocr BUNDLE IMAGES`` ARGS on ``target``; returns the ``--json`` dict of the device run.

    ``images`` are files the host already read successfully. They travel as ``NNNN_<name>`` (two
    inputs may share a name) and each record's ``source`` is mapped back to the host path, so the
    result reads like a host run, plus ``device``.
    """
    bundle = Path(bundle)
    transport, run, info, prep = _start(target, work_dir, cpu_mask, keep, timeout)
    try:
        remote_bundle = _push_bundle(run, bundle, info, args)
        names: Dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="edgeocr-images.") as tmp:
            staged = Path(tmp) / "images"
            staged.mkdir()
            for i, img in enumerate(images):
                name = f"{i:04d}_{Path(img).name}"
                _link_or_copy(Path(img), staged / name)
                names[f"{run.run_dir}/images/{name}"] = str(img)
            run.t.push(staged, f"{run.run_dir}/images")
        result = run.launch("ocr", [remote_bundle, *names, *args], "ocr.json")
    finally:
        run.cleanup()
    for rec in result.get("images", []):
        rec["source"] = names.get(rec.get("source"), rec.get("source"))
    return _mark(result, info, cpu_mask, prep, run)
