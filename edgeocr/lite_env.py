"""One small Python environment per Paddle-Lite version, built on demand and cached.

Why: a ``.nb`` file only runs on the Paddle-Lite runtime of the version whose ``paddle_lite_opt``
wrote it, and the ``paddlelite`` wheels exist only for old CPythons (2.10: cp37/cp39; 2.11, 2.12:
cp37; 2.13rc0: cp37-cp310), while the main environment is CPython 3.11. So each version gets a venv
under ``$EDGEOCR_HOME/lite-envs/<version>/`` holding ``paddlelite`` (which ships ``paddle_lite_opt``
and the Python runtime) and numpy. The interpreter is found through ``$EDGEOCR_PYTHON_<X_Y>``
(e.g. ``EDGEOCR_PYTHON_3_7``), ``pythonX.Y`` on PATH, or pyenv's installs.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from .errors import ConfigError, ToolMissingError
from .home import edgeocr_home

log = logging.getLogger(__name__)

# Paddle-Lite version -> CPython versions that have a `paddlelite` wheel, preferred first.
LITE_PYTHONS: Dict[str, Tuple[str, ...]] = {
    "2.10": ("3.9", "3.7"),
    "2.11": ("3.7",),
    "2.12": ("3.7",),
    "2.13rc0": ("3.10", "3.9", "3.8", "3.7"),
}
# How a version spells itself in a .nb header / get_version() when it differs from the wheel's.
RUNTIME_VERSION_ALIASES: Dict[str, str] = {"2.13-rc": "2.13rc0"}
DEFAULT_LITE_VERSION = "2.12"  # the last stable release
# The only version whose x86 runtime gives correct PP-OCRv2 outputs here (2.13rc0's x86 kernels
# return det maps ~1e-8, PaddleOCR#14383 / Paddle-Lite#10523; 2.10 lacks x86 matmul_v2).
HOST_VERIFY_LITE_VERSION = "2.12"


@dataclass(frozen=True)
class LiteEnv:
    """A ready environment: its interpreter, ``paddle_lite_opt`` and the Paddle-Lite version."""

    version: str
    root: Path
    python: Path
    opt: Path


def normalize_version(version: str) -> str:
    """``"v2.13-rc"`` -> ``"2.13rc0"``: the wheel version for a runtime/header version string."""
    version = version[1:] if version.startswith("v") else version
    return RUNTIME_VERSION_ALIASES.get(version, version)


def check_version(version: str) -> str:
    """Return ``version`` if supported, else raise a :class:`ConfigError` listing the valid ones."""
    if version not in LITE_PYTHONS:
        raise ConfigError(
            f"--lite-version {version!r} is not supported; valid versions: {', '.join(LITE_PYTHONS)}"
        )
    return version


def ensure_lite_env(version: str = DEFAULT_LITE_VERSION) -> LiteEnv:
    """Return the cached environment for ``version``, building it first if needed.

    Building takes ~20 s (a venv + two wheels). It happens in a temp dir that is renamed into place,
    under a file lock, so concurrent callers and interrupted builds never see half an environment.
    """
    check_version(version)
    base = edgeocr_home() / "lite-envs"
    base.mkdir(parents=True, exist_ok=True)
    root = base / version
    with _locked(base / f"{version}.lock"):
        env = _env_at(version, root)
        if env.opt.exists() and env.python.exists():
            return env
        python, pyver = find_python(version)
        log.info("building Paddle-Lite %s environment with Python %s (%s)", version, pyver, python)
        tmp = base / f".{version}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _run([str(python), "-m", "venv", str(tmp)], f"create a Python {pyver} venv")
            # numpy<2: the paddlelite wheels were built against numpy 1.x.
            _run(
                [str(tmp / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                 f"paddlelite=={version}", "numpy<2"],
                f"pip install paddlelite=={version}",
            )
            # Console scripts (paddle_lite_opt) embed the venv's absolute path: fix them after the rename.
            shutil.rmtree(root, ignore_errors=True)
            os.replace(tmp, root)
            _fix_shebangs(root, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return _env_at(version, root)


def find_python(version: str) -> Tuple[Path, str]:
    """Find a CPython that can install ``paddlelite==version``; raise naming the missing Python."""
    wanted = LITE_PYTHONS[check_version(version)]
    for pyver in wanted:
        for candidate in _candidates(pyver):
            if _reports_version(candidate, pyver):
                return candidate, pyver
    names = " or ".join(f"Python {v}" for v in wanted)
    raise ToolMissingError(
        f"Paddle-Lite {version} needs {names} (its paddlelite wheels exist only for those); "
        f"install one (e.g. `pyenv install {_pyenv_hint(wanted[-1])}`) or point "
        f"EDGEOCR_PYTHON_{wanted[-1].replace('.', '_')} at its interpreter"
    )


def _candidates(pyver: str) -> Iterator[Path]:
    for var in (f"EDGEOCR_PYTHON_{pyver.replace('.', '_')}", f"EDGEOCR_PYTHON_{pyver.replace('.', '')}"):
        if os.environ.get(var):
            yield Path(os.environ[var])
    on_path = shutil.which(f"python{pyver}")
    if on_path:
        yield Path(on_path)
    for prefix in _pyenv_prefixes(pyver):
        yield prefix / "bin" / f"python{pyver}"


def _pyenv_prefixes(pyver: str) -> List[Path]:
    pyenv = shutil.which("pyenv")
    roots = []
    if pyenv:
        try:
            out = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        versions = [v.strip() for v in out.splitlines() if v.strip().startswith(pyver + ".")]
        for v in sorted(versions, key=lambda s: [int(p) if p.isdigit() else 0 for p in s.split(".")], reverse=True):
            try:
                prefix = subprocess.run([pyenv, "prefix", v], capture_output=True, text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                continue
            if prefix:
                roots.append(Path(prefix))
    return roots


def _reports_version(python: Path, pyver: str) -> bool:
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == pyver


def _env_at(version: str, root: Path) -> LiteEnv:
    return LiteEnv(version=version, root=root, python=root / "bin" / "python", opt=root / "bin" / "paddle_lite_opt")


def _fix_shebangs(root: Path, old_root: Path) -> None:
    """Rewrite console-script shebangs that still point into the temp build directory."""
    old, new = str(old_root).encode(), str(root).encode()
    for script in (root / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if data.startswith(b"#!") and old in data:
                script.write_bytes(data.replace(old, new))
    cfg = root / "pyvenv.cfg"
    if cfg.exists():
        cfg.write_bytes(cfg.read_bytes().replace(old, new))


def _run(cmd: List[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise ToolMissingError(f"could not {what}: {tail[0]}", cmd[0])


def _pyenv_hint(pyver: str) -> str:
    return {"3.7": "3.7.16", "3.9": "3.9.18", "3.10": "3.10.13", "3.8": "3.8.18"}.get(pyver, pyver)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
