"""``edgeocr device prepare``: make the slim runtime runnable on a device that has no internet.

Recipe:

1. Ask the device's ``python3`` for its version, machine and libc (:func:`probe_python`).
2. On the host, ``pip download --only-binary=:all: --platform manylinux_2_X_<arch>
   --platform manylinux2014_<arch> --python-version X.Y`` the runtime wheels (same versions as the
   host, so host and device compute with the same code); cached in
   ``$EDGEOCR_HOME/device-wheels/<tag>-<platform>/``.
3. Push the wheels and the edgeocr sources (``edgeocr/`` plus ``benchmarks/`` as
   ``edgeocr/benchmarks``) into the device work dir.
4. Install: ``pip install --no-deps --no-index --target WORK/lib`` when the device has pip,
   otherwise unzip each wheel into ``WORK/lib`` (what ``--target`` does for these packages).
5. Write ``WORK/prepared.json``; a later prepare with the same wheels and sources does nothing.

Device layout::

    WORK/lib/        site-packages (numpy, cv2, onnxruntime, ...)
    WORK/src/edgeocr the runtime package
    WORK/runs/<id>/  one folder per remote bench/eval (removed afterwards unless --keep)
"""
from __future__ import annotations

import hashlib
import os
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..atomic_io import write_json
from ..errors import DeviceError, ToolMissingError
from ..home import edgeocr_home
from .device_info import probe_python
from .transport import Transport, expand_home, script_argv

log = logging.getLogger(__name__)

# What the on-device runtime and the eval/bench CLIs import. Versions follow the host's.
RUNTIME_PACKAGES = ("numpy", "opencv-python-headless", "onnxruntime", "pyclipper", "click", "tqdm",
                    # manifest.schema.json is validated on every bundle load (jsonschema + its dependencies,
                    # downloaded with --no-deps) and images are size-checked from their header (Pillow).
                    "jsonschema", "jsonschema-specifications", "referencing", "rpds-py", "attrs",
                    "typing-extensions", "Pillow")
# Nice to have on the device (bench memory, metrics); installed when a wheel exists for it.
OPTIONAL_PACKAGES = ("psutil", "rapidfuzz", "shapely")
STAMP = "prepared.json"
_SKIP = {"__pycache__", "results", ".pytest_cache"}

# Run by the device's python3 when it has no pip: unzip each wheel into lib/ (pip --target layout).
_UNZIP = "import sys, zipfile\nfor w in sys.argv[2:]:\n    zipfile.ZipFile(w).extractall(sys.argv[1])\n"


@dataclass
class PrepareResult:
    """What ``device prepare`` did (printed by the CLI, stored in remote results)."""

    target: str
    work_dir: str
    python: Dict[str, Any]
    wheels: List[str]
    method: str  # "pip" | "unzip" | "up-to-date"
    sources_sha256: str
    skipped_optional: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def resolve_work_dir(transport: Transport, work_dir: Optional[str]) -> str:
    """``work_dir`` or the transport default, with ``~`` expanded on the device."""
    return expand_home(transport, work_dir or transport.default_work_dir).rstrip("/") or "/"


def host_version(dist: str) -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def wheel_platforms(py: Dict[str, Any]) -> List[str]:
    """pip ``--platform`` values for a device python (glibc-based Linux only; says why otherwise)."""
    machine = py.get("machine", "")
    libc = py.get("libc", "")
    if not libc.startswith("glibc"):
        raise DeviceError(
            f"the device's python3 ({py.get('version')}, {py.get('platform')}) is not glibc-based "
            "(Termux/Android bionic?); PyPI has no onnxruntime/opencv wheels for it. Use a glibc Linux "
            "userland on the device (e.g. a Debian chroot) or an ARM Linux board over ssh")
    if machine not in ("aarch64", "x86_64"):
        raise DeviceError(f"no prebuilt onnxruntime wheels for {machine!r} on PyPI; supported: aarch64, x86_64")
    major, minor = (libc.split()[1].split(".") + ["0"])[:2]
    # pip does not expand a custom --platform to older glibcs: list every manylinux_2_N the libc runs.
    newest = int(minor) if major == "2" and minor.isdigit() else 17
    return [f"manylinux_2_{n}_{machine}" for n in range(newest, 16, -1)] + [f"manylinux2014_{machine}"]


def download_wheels(py: Dict[str, Any], optional: bool = True) -> "tuple[List[Path], List[str]]":
    """Fetch (or reuse) the wheels for ``py``; returns (wheel files, optional packages skipped).

    Several devices with the same Python are prepared in parallel by ``--device A --device B``:
    a lock file on the cache folder makes them download once, one after the other.
    """
    import fcntl

    platforms = wheel_platforms(py)
    cache = edgeocr_home() / "device-wheels" / f"{py['tag']}-{platforms[0]}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _download_wheels(py, optional, platforms, cache)


def _download_wheels(py: Dict[str, Any], optional: bool, platforms: List[str],
                     cache: Path) -> "tuple[List[Path], List[str]]":
    reqs = [_req(name) for name in RUNTIME_PACKAGES]
    key = hashlib.sha256(json.dumps([reqs, optional]).encode()).hexdigest()[:16]
    index = cache / f"set-{key}.json"
    if index.is_file():
        data = json.loads(index.read_text())
        files = [cache / f for f in data["wheels"]]
        if all(f.is_file() for f in files):
            return files, data["skipped"]
    if not _pip_download(reqs, cache, py, platforms, required=False):
        # Typically a board's older Python (Ubuntu 20.04: 3.8) for which the host's versions have no
        # wheel: per package, the host's version if possible, else the newest wheel for that Python.
        for req in reqs:
            if "==" in req and not _pip_download([req], cache, py, platforms, required=False):
                log.warning("no %s wheel for python %s on %s: using the newest one that exists "
                            "(host and device versions differ)", req, py["version"], platforms[0])
                _pip_download([req.split("==")[0]], cache, py, platforms, required=True)
            elif "==" not in req:
                _pip_download([req], cache, py, platforms, required=True)
    skipped = []
    if optional:
        for name in OPTIONAL_PACKAGES:
            # Same version as the host if a wheel exists for the device, else the newest that does.
            if not (_pip_download([_req(name)], cache, py, platforms, required=False)
                    or _pip_download([name], cache, py, platforms, required=False)):
                skipped.append(name)
    wanted = [_norm(r.split("==")[0]) for r in reqs] + [_norm(n) for n in OPTIONAL_PACKAGES if n not in skipped]
    files = sorted(f for f in cache.glob("*.whl") if _norm(f.name.split("-")[0]) in wanted)
    files = _latest_per_package(files, reqs)
    write_json(index, {"wheels": [f.name for f in files], "skipped": skipped})
    return files, skipped


def _req(name: str) -> str:
    v = host_version(name)
    return f"{name}=={v}" if v else name


def _norm(name: str) -> str:
    return name.lower().replace("-", "_")


def _latest_per_package(files: List[Path], reqs: List[str]) -> List[Path]:
    """One wheel per distribution: the pinned version if given, else the newest in the cache."""
    pins = {_norm(r.split("==")[0]): r.split("==")[1] for r in reqs if "==" in r}
    by: Dict[str, List[Path]] = {}
    for f in files:
        by.setdefault(_norm(f.name.split("-")[0]), []).append(f)
    out = []
    for name, cands in sorted(by.items()):
        pinned = [c for c in cands if pins.get(name) and c.name.split("-")[1] == pins[name]]
        out.append(pinned[0] if pinned else max(cands, key=lambda c: _vkey(c.name.split("-")[1])))
    return out


def _vkey(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in v.split("."))


def _pip_download(reqs: Sequence[str], dest: Path, py: Dict[str, Any], platforms: List[str], required: bool) -> bool:
    major, minor = py["version"].split(".")[:2]
    argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
            "--only-binary=:all:", "--python-version", f"{major}.{minor}", "--implementation", "cp",
            "-d", str(dest)]
    for p in platforms:
        argv += ["--platform", p]
    argv += list(reqs)
    log.info("pip download %s", " ".join(reqs))
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        if required:
            errs = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
            raise ToolMissingError(
                f"pip could not download wheels for the device (python {py['version']}, {platforms[0]}): "
                f"{errs[-1] if errs else proc.stderr.strip()[-300:]}; the host needs internet or a pip mirror once "
                "(wheels are cached under $EDGEOCR_HOME/device-wheels)")
        return False
    return True


def runtime_sources(staging: Path) -> Path:
    """Copy the edgeocr package (+ benchmarks as edgeocr/benchmarks) into ``staging/edgeocr``."""
    import edgeocr

    pkg = Path(edgeocr.__file__).resolve().parent
    out = staging / "edgeocr"
    shutil.copytree(pkg, out, ignore=_ignore)
    try:
        import edgeocr.benchmarks as bench

        bench_dir = Path(bench.__file__).resolve().parent
        if bench_dir != out / "benchmarks" and not (out / "benchmarks").exists():
            shutil.copytree(bench_dir, out / "benchmarks", ignore=_ignore)
    except ImportError:
        log.warning("edgeocr.benchmarks is not importable; `bench`/`eval` will not run on the device")
    return out


def _ignore(directory: str, names: List[str]) -> List[str]:
    return [n for n in names if n in _SKIP or n.endswith((".pyc", ".pyo"))]


def tree_sha256(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_device(transport: Transport, work_dir: Optional[str] = None, force: bool = False,
                   optional: bool = True) -> PrepareResult:
    """Install the runtime into ``work_dir`` on the device; a no-op when already up to date."""
    work = resolve_work_dir(transport, work_dir)
    # 1. device python
    transport.mkdir(work)
    probe = transport.run(script_argv('p="$1/.write-probe.$$"; : > "$p" && rm -f "$p"', work), timeout=60)
    if probe.returncode != 0:
        raise DeviceError(f"work dir {work} on {transport.target} is not writable: {probe.error_text}; "
                          "pass --work-dir DIR on a writable filesystem")
    py = probe_python(transport, None)
    if py is None:
        raise DeviceError(f"{transport.target} has no working python3 (3.7+); install one on the device "
                          "(Debian/Ubuntu boards: apt install python3)")
    # 2. wheels on the host
    wheels, skipped = download_wheels(py, optional=optional)
    with tempfile.TemporaryDirectory(prefix="edgeocr-prepare.") as tmp:
        src = runtime_sources(Path(tmp))
        src_sha = tree_sha256(src)
        stamp = {"python": py["tag"], "machine": py["machine"], "wheels": sorted(w.name for w in wheels),
                 "sources_sha256": src_sha}
        current = transport.run(["cat", f"{work}/{STAMP}"], timeout=60)
        old: Dict[str, Any] = {}
        if current.returncode == 0:
            try:
                old = json.loads(current.text)
            except json.JSONDecodeError:
                old = {}
        if not force and old.get("wheels") == stamp["wheels"] and old.get("python") == stamp["python"]:
            if old.get("sources_sha256") == src_sha:
                return PrepareResult(transport.target, work, py, stamp["wheels"], "up-to-date", src_sha, skipped)
            _push_sources(transport, src, work)  # only the edgeocr sources changed
            method = "sources-only"
        else:
            _check_space(transport, work, wheels)
            # 3. push, 4. install
            transport.remove(f"{work}/lib")
            transport.remove(f"{work}/wheels")
            transport.mkdir(f"{work}/wheels")
            with tempfile.TemporaryDirectory(prefix="edgeocr-wheels.") as wtmp:
                wdir = Path(wtmp) / "wheels"
                wdir.mkdir()
                for w in wheels:  # hard links (no copy); a symlink would travel as a link
                    try:
                        os.link(w, wdir / w.name)
                    except OSError:
                        shutil.copyfile(w, wdir / w.name)
                transport.push(wdir, f"{work}/wheels")
            remote_wheels = [f"{work}/wheels/{w.name}" for w in wheels]
            if py.get("pip"):
                method = "pip"
                argv = ["python3", "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
                        "--target", f"{work}/lib", *remote_wheels]
            else:
                method = "unzip"
                argv = ["python3", "-c", _UNZIP, f"{work}/lib", *remote_wheels]
            transport.shell(argv, timeout=1800, what=f"installing wheels ({method})")
            transport.remove(f"{work}/wheels")
            _push_sources(transport, src, work)
        # 5. stamp (written last: an interrupted prepare is redone next time)
        stamp_file = Path(tmp) / STAMP
        stamp_file.write_text(json.dumps(stamp, indent=1))
        transport.push(stamp_file, f"{work}/{STAMP}")
    return PrepareResult(transport.target, work, py, stamp["wheels"], method, src_sha, skipped)


def _push_sources(transport: Transport, src: Path, work: str) -> None:
    transport.remove(f"{work}/src")
    transport.push(src, f"{work}/src/edgeocr")


def _check_space(transport: Transport, work: str, wheels: List[Path]) -> None:
    """Refuse early (before pushing 100 MB) when the work dir's filesystem is too small."""
    need_mb = 4 * sum(w.stat().st_size for w in wheels) // (1 << 20)  # wheels + unpacked (~3x)
    res = transport.run(script_argv('df -kP "$1" 2>/dev/null || df -k "$1"', work), timeout=60)
    rows = [line.split() for line in res.text.splitlines()[1:] if line.strip()]
    if res.returncode == 0 and rows and len(rows[-1]) >= 4 and rows[-1][3].isdigit():
        free_mb = int(rows[-1][3]) // 1024
        if free_mb < need_mb:
            raise DeviceError(f"not enough space in {work} on {transport.target}: {free_mb} MB free, about "
                              f"{need_mb} MB needed; free space or pass --work-dir on a larger filesystem")
