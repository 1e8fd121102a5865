"""ORT mobile format (``.ort``) of a bundle's ONNX models plus the ``required_operators.config`` (issue 5).

``onnxruntime.tools.convert_onnx_models_to_ort`` serializes each model after graph optimization into ORT's
flatbuffer format, which the minimal/mobile ORT builds load; ``required_operators.config`` lists the op kernels
(domain, opset, op types) of all models of the bundle, and is what users pass to ORT's
``build.sh --minimal_build --include_ops_by_config`` to build a reduced-size runtime for their app.

``target_platform="arm"``: no x86-only layout transforms (NCHWc) are baked into the file, and int8 QDQ is kept as
int8 (``session.qdqisint8allowed``), as the tool recommends for ARM devices. Such files still load on x86,
which is how we measure their accuracy here.
"""
from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Tuple

from edgeocr.errors import ModelFormatError, ToolMissingError

log = logging.getLogger(__name__)

REQUIRED_OPERATORS = "required_operators.config"


def convert_to_ort(
    onnx_models: Dict[str, Path], out_dir: Path, target_platform: str = "arm"
) -> Tuple[Dict[str, Path], Path]:
    """Convert ``{stage: model.onnx}`` to ``out_dir/<stage>.ort``; returns ``({stage: path}, config path)``."""
    try:
        from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort
    except ImportError as exc:
        raise ToolMissingError(f"onnxruntime.tools is not importable ({exc}); pip install 'edgeocr[convert]'") from None
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="edgeocr.ort.") as tmp:
        src_dir = Path(tmp) / "src"
        dst_dir = Path(tmp) / "dst"
        src_dir.mkdir()
        for stage, path in onnx_models.items():
            shutil.copyfile(path, src_dir / f"{stage}.onnx")
        chatter = io.StringIO()  # the tool print()s progress; keep it for the log, not the terminal
        try:
            with contextlib.redirect_stdout(chatter):
                convert_onnx_models_to_ort(
                    src_dir,
                    output_dir=dst_dir,
                    optimization_styles=[OptimizationStyle.Fixed],
                    target_platform=target_platform,
                )
        except Exception as exc:  # the tool raises plain RuntimeError/Fail
            raise ModelFormatError(f"convert_onnx_models_to_ort failed: {exc}", src_dir) from exc
        log.debug("convert_onnx_models_to_ort: %s", chatter.getvalue())
        models: Dict[str, Path] = {}
        for stage in onnx_models:
            produced = dst_dir / f"{stage}.ort"
            if not produced.is_file():
                raise ModelFormatError(f"convert_onnx_models_to_ort wrote no {produced.name}", dst_dir)
            models[stage] = out_dir / produced.name
            shutil.copyfile(produced, models[stage])
        config = dst_dir / REQUIRED_OPERATORS
        if not config.is_file():
            raise ModelFormatError(f"convert_onnx_models_to_ort wrote no {REQUIRED_OPERATORS}", dst_dir)
        shutil.copyfile(config, out_dir / REQUIRED_OPERATORS)
    return models, out_dir / REQUIRED_OPERATORS
