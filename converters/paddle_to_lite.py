"""Paddle inference model -> Paddle-Lite naive-buffer ``.nb`` with ``paddle_lite_opt``.

``paddle_lite_opt`` comes from the per-version Lite environment (:mod:`edgeocr.lite_env`) because a
``.nb`` only runs on the runtime of the version that wrote it: ``--lite-version`` must match the
Paddle-Lite library inside the user's app. ``--valid_targets=arm`` works on x86 hosts (it only
selects kernels). The op report comes from ``--print_model_ops``.
"""
from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from edgeocr.errors import ModelFormatError, ToolMissingError
from edgeocr.lite_env import LiteEnv, ensure_lite_env

from .exporter import Exporter, ExportResult
from .source_models import SourceModel

log = logging.getLogger(__name__)

LITE_TARGETS = ("arm", "x86")
OPT_TIMEOUT_S = 600


@dataclass
class OpSupport:
    """``--print_model_ops`` result: every op of the model and those the target lacks."""

    ops: List[str]
    unsupported: List[str]
    supported: bool


class PaddleToLite(Exporter):
    """fp32 (or weight-quantized) ``.nb`` export for one target and Paddle-Lite version."""

    suffix = ".nb"

    def __init__(self, target: str, lite_version: str, quant_type: Optional[str] = None) -> None:
        if target not in LITE_TARGETS:
            raise ValueError(f"target must be one of {LITE_TARGETS}")
        self.target = target
        self.lite_version = lite_version
        self.quant_type = quant_type  # None | "QUANT_INT8" | "QUANT_INT16" (weight-only)
        self._env: Optional[LiteEnv] = None

    @property
    def env(self) -> LiteEnv:
        if self._env is None:
            self._env = ensure_lite_env(self.lite_version)
        return self._env

    def model_ops(self, source: SourceModel) -> OpSupport:
        """Ask ``paddle_lite_opt --print_model_ops`` which ops the model has and the target supports."""
        proc = self._opt(source, ["--print_model_ops=true", f"--valid_targets={self.target}"])
        return parse_model_ops(proc.stdout + proc.stderr)

    def export(self, source: SourceModel, out_dir: Path) -> ExportResult:
        support = self.model_ops(source)
        if not support.supported:
            raise ModelFormatError(
                f"Paddle-Lite {self.lite_version} has no {self.target} kernel for op(s) "
                f"{', '.join(support.unsupported)} of the {source.stage} model; try another --lite-version",
                source.path,
            )
        stem = out_dir / source.stage
        args = ["--optimize_out_type=naive_buffer", f"--optimize_out={stem}", f"--valid_targets={self.target}"]
        if self.quant_type:
            args += ["--quant_model=true", f"--quant_type={self.quant_type}"]
        proc = self._opt(source, args)
        out = stem.with_suffix(self.suffix)
        if proc.returncode != 0 or not out.is_file():
            lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
            out.unlink(missing_ok=True)
            raise ModelFormatError(
                f"paddle_lite_opt {self.lite_version} failed for {self.target}: "
                f"{lines[-1].strip()[:300] if lines else proc.returncode}",
                source.path,
            )
        return ExportResult(
            stage=source.stage,
            path=out,
            output_name="",  # filled by the caller from the loaded .nb (names are kept from Paddle)
            ops=support.ops,
            info={"target": self.target, "lite_version": self.lite_version, "quant_type": self.quant_type},
        )

    def tool_versions(self) -> Dict[str, str]:
        return {"paddle_lite_opt": self.lite_version}

    def _opt(self, source: SourceModel, args: List[str]) -> subprocess.CompletedProcess:
        cmd = [str(self.env.opt), f"--model_file={source.model_file}", f"--param_file={source.params_file}", *args]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=OPT_TIMEOUT_S)
        except FileNotFoundError:
            raise ToolMissingError("paddle_lite_opt is missing from the Lite environment; delete it to rebuild", self.env.root) from None
        except subprocess.TimeoutExpired:
            raise ModelFormatError(f"paddle_lite_opt timed out after {OPT_TIMEOUT_S} s", source.path) from None


_ROW = re.compile(r"^\s*([A-Za-z0-9_]+)\s+((?:[Y ]\s*)*)$")


def parse_model_ops(text: str) -> OpSupport:
    """Parse the ``OPs in the input model include:`` table (op name, then one Y column per place)."""
    ops: List[str] = []
    unsupported: List[str] = []
    in_table = False
    for line in text.splitlines():
        if "OPs in the input model include" in line:
            in_table = True
            continue
        if not in_table:
            continue
        if line.strip().startswith("OP_name"):
            continue
        match = _ROW.match(line)
        if not match or "supports" in line or "support" in line.lower():
            if ops:
                break
            continue
        name, marks = match.group(1), match.group(2)
        ops.append(name)
        if "Y" not in marks:
            unsupported.append(name)
    supported = bool(ops) and not unsupported and "doesn't support" not in text and "not supported" not in text.lower()
    return OpSupport(ops=ops, unsupported=unsupported, supported=supported)
