"""Paddle inference model -> ONNX with paddle2onnx 1.3.1, named dynamic dims, checked by onnx.

paddle2onnx runs in a subprocess: on unsupported graphs (e.g. the official slim-quant det model) it
crashes the interpreter instead of raising, and a crash must become a clear error, not a dead CLI.
paddle2onnx 2.x cannot convert PP-OCRv2 ("the 0th elementwise MUST be ir::FloatAttribute"), hence the
1.3.1 pin; it raises the opset to 14 for hard_swish, so we ask for 14 directly.
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Dict

import onnx

from edgeocr.errors import ModelFormatError

from .exporter import Exporter, ExportResult
from .source_models import MODEL_FILE, PARAMS_FILE, SourceModel
from .stage_specs import STAGE_SPECS

log = logging.getLogger(__name__)

ONNX_OPSET = 14


class PaddleToOnnx(Exporter):
    """fp32 ONNX export of one stage."""

    suffix = ".onnx"

    def __init__(self, opset: int = ONNX_OPSET) -> None:
        self.opset = opset

    def export(self, source: SourceModel, out_dir: Path) -> ExportResult:
        out = out_dir / f"{source.stage}{self.suffix}"
        cmd = [
            sys.executable, "-m", "paddle2onnx.command",
            "--model_dir", str(source.path),
            "--model_filename", MODEL_FILE,
            "--params_filename", PARAMS_FILE,
            "--save_file", str(out),
            "--opset_version", str(self.opset),
            "--enable_onnx_checker", "True",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not out.is_file():
            lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
            why = lines[-1].strip()[:300] if lines else f"exit code {proc.returncode}"
            if proc.returncode < 0:
                why = f"paddle2onnx crashed (signal {-proc.returncode}); last output: {why}"
            out.unlink(missing_ok=True)
            raise ModelFormatError(f"paddle2onnx could not convert the {source.stage} model: {why}", source.path)
        model = onnx.load(str(out))
        spec = STAGE_SPECS[source.stage]
        _name_dims(model.graph.input[0], spec.input_shape)
        _name_dims(model.graph.output[0], spec.output_shape)
        onnx.checker.check_model(model)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        onnx.save(model, str(out))
        ops = sorted({n.op_type for n in model.graph.node})
        return ExportResult(
            stage=source.stage,
            path=out,
            output_name=model.graph.output[0].name,
            ops=ops,
            info={"opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))},
        )

    def tool_versions(self) -> Dict[str, str]:
        import paddle2onnx

        return {"paddle2onnx": paddle2onnx.__version__, "onnx": onnx.__version__}


def _name_dims(value_info: onnx.ValueInfoProto, shape: tuple) -> None:
    """Set the spec's dims: names for dynamic ones (``batch``, ``width``) instead of paddle2onnx's
    ``DynamicDimension.N``, fixed sizes where PP-OCRv2 fixes them (rec height 32, cls height 48)."""
    dims = value_info.type.tensor_type.shape.dim
    for dim, want in zip(dims, shape):
        if want == "classes":
            continue
        if isinstance(want, str):
            dim.ClearField("dim_value")
            dim.dim_param = want
        else:
            dim.ClearField("dim_param")
            dim.dim_value = want
