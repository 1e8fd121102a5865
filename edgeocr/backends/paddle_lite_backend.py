"""Paddle-Lite backend for ``.nb`` files.

In-process when a ``paddlelite`` package of the right version is importable (ARM boards, apps);
otherwise through :mod:`lite_worker` running in the per-version Lite environment of
:mod:`edgeocr.lite_env` (the main host environment is CPython 3.11 and cannot import the cp37
``paddlelite`` wheels). Either way the tensors are the same and all pre/post-processing stays here.

A ``.nb`` only runs correctly on the runtime version that wrote it; a mismatch is the most common
Paddle-Lite failure users report, so it is logged as a warning naming both versions.
"""
from __future__ import annotations

import json
import logging
import platform
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from ..errors import BackendMissingError, ConfigError, EdgeOCRError, ModelFormatError
from ..lite_env import ensure_lite_env, normalize_version
from . import lite_worker
from .base import Backend

log = logging.getLogger(__name__)


def host_lite_target() -> str:
    """Paddle-Lite target whose kernels run on this machine: "arm" on aarch64/armv7, else "x86"."""
    machine = platform.machine().lower()
    return "arm" if machine.startswith(("arm", "aarch64")) else "x86"


def _inprocess_lite_version() -> Optional[str]:
    try:
        from paddlelite import lite  # noqa: F401  (importable = usable in-process)
    except ImportError:
        return None
    try:
        from importlib import metadata
    except ImportError:  # Python 3.7
        import importlib_metadata as metadata  # type: ignore
    try:
        return metadata.version("paddlelite")
    except Exception:  # pragma: no cover - distribution metadata missing
        return "unknown"


class PaddleLiteBackend(Backend):
    """Runs one ``.nb``. ``lite_version`` picks the worker runtime (default: the version in the file)."""

    name = "paddle-lite"

    def __init__(
        self,
        model_path: Union[str, Path],
        threads: Optional[int] = None,
        lite_version: Optional[str] = None,
        in_process: Optional[bool] = None,
        target: Optional[str] = None,
    ) -> None:
        super().__init__(model_path, threads)
        if not self.model_path.is_file():
            raise ModelFormatError("no such .nb file", model_path)
        # An ARM .nb loads on the x86 runtime and returns garbage (rec scores ~1e25) instead of
        # failing, so refuse it up front; the manifest says which target a bundle was built for.
        if target and target != host_lite_target():
            raise ConfigError(
                f"this .nb was built for {target} and this host runs {host_lite_target()} kernels; run it on a "
                f"{target} device (edgeocr bench/eval --device) or use a lite-{host_lite_target()}-* bundle",
                model_path,
            )
        raw_version = lite_worker.read_nb_version(self.model_path)
        if raw_version is None:
            raise ModelFormatError("is not a Paddle-Lite naive-buffer (.nb) model (no version header)", model_path)
        file_version = self.file_version = normalize_version(raw_version)
        local = _inprocess_lite_version()
        if in_process is None:
            in_process = local is not None
        self._proc: Optional[subprocess.Popen] = None
        if in_process:
            if local is None:
                raise BackendMissingError(
                    "backend 'paddle-lite' in-process needs the paddlelite package; pip install 'edgeocr[lite]'"
                )
            self.runtime_version = normalize_version(local)
            self._predictor = lite_worker.LitePredictor(self.model_path)
            self._inputs, self._outputs = self._predictor.input_names, self._predictor.output_names
        else:
            self._start_worker(lite_version or file_version)
        if threads not in (None, 1):
            log.warning("Paddle-Lite's Python MobileConfig has no thread setting; threads=%s is ignored", threads)
        if self.runtime_version != file_version:
            log.warning(
                "%s was optimized by Paddle-Lite %s but runs on the %s runtime: outputs may be wrong or "
                "loading may fail; rebuild it with `edgeocr convert --lite-version %s`",
                self.model_path, file_version, self.runtime_version, self.runtime_version,
            )

    def _start_worker(self, version: str) -> None:
        env = ensure_lite_env(version)
        self._proc = subprocess.Popen(
            [str(env.python), "-u", lite_worker.__file__, str(self.model_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        hello = self._read_json()
        if not hello.get("ok"):
            self.close()
            raise ModelFormatError(f"Paddle-Lite {version} cannot load it: {hello.get('error')}", self.model_path)
        self.runtime_version = normalize_version(hello["version"])
        self._inputs, self._outputs = hello["inputs"], hello["outputs"]

    def _read_json(self) -> Dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        frame = lite_worker.read_frame(self._proc.stdout)
        if frame is None:
            err = self._proc.stderr.read().decode("utf-8", "replace") if self._proc.stderr else ""
            last = [l for l in err.strip().splitlines() if l.strip()][-1:] or ["no message"]
            code = self._proc.wait()
            raise EdgeOCRError(f"Paddle-Lite worker exited with code {code}: {last[0][:300]}", self.model_path)
        return json.loads(frame.decode("utf-8"))

    def run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if self._proc is None:
            return self._predictor.run(feeds)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        names = list(feeds)
        try:
            lite_worker.write_frame(self._proc.stdin, json.dumps({"cmd": "run", "inputs": names}).encode())
            for name in names:
                lite_worker.write_frame(self._proc.stdin, lite_worker.array_to_bytes(np.asarray(feeds[name], np.float32)))
            self._proc.stdin.flush()
        except BrokenPipeError:
            self._read_json()  # raises with the worker's last message
        reply = self._read_json()
        if not reply.get("ok"):
            raise EdgeOCRError(f"Paddle-Lite run failed: {reply.get('error')}", self.model_path)
        return {name: lite_worker.bytes_to_array(lite_worker.read_frame(self._proc.stdout)) for name in reply["outputs"]}

    def describe(self) -> Dict[str, Any]:
        info = super().describe()
        info.update(
            version=self.runtime_version,
            model_lite_version=self.file_version,
            mode="worker" if self._proc is not None else "in-process",
            threads="not settable (Python MobileConfig)",
        )
        return info

    def close(self) -> None:
        if self._proc is not None:
            proc, self._proc = self._proc, None
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
