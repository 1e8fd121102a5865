"""Paddle-Lite quantized variants: weight-only int8/int16 and the official slim-quant det (issue 5).

- ``lite-{arm,x86}-int8`` / ``-int16``: ``paddle_lite_opt --quant_model=true --quant_type=QUANT_INT8|QUANT_INT16``.
  This is **weight-only** quantization: weights are stored as int8/int16 and dequantized to fp32 when the model
  loads, so the ``.nb`` is smaller but inference is fp32 - not faster (Paddle-Lite docs, "模型量化-动态离线量化").
- ``lite-{arm,x86}-slim``: PaddleOCR's own int8 det, ``ch_PP-OCRv2_det_slim_quant_infer`` (PaddleSlim
  quant-aware training) through opt, the path PaddleOCR intends for it, with the fp32 cls/rec. Its fake-quant
  ops (``fake_*quantize_dequantize*``) are listed as unsupported by ``--print_model_ops`` but opt's passes fuse
  them into int8 convs, so the op pre-check is skipped for that model and opt's own result decides.
- ``onnx-slim``: paddle2onnx 1.3.1 cannot export that slim det (it crashes on the fake-quant ops;
  Paddle2ONNX#376, PaddleOCR#12088): the builder tries in a subprocess and reports "unsupported" cleanly.

The ARM variants cannot run on this host; their accuracy is that of the matching ``lite-x86-*`` variant (same
weights, same quantization), gated against ``lite-x86-fp32`` with the Paddle-Lite x86 runtime.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional

from edgeocr.errors import InputError, ModelFormatError
from edgeocr.manifest import MANIFEST_NAME

from .exporter import ExportResult
from .paddle_to_lite import PaddleToLite
from .source_models import SourceModel, validate_model_dir

log = logging.getLogger(__name__)

STAGES = ("det", "cls", "rec")
SLIM_DET_DIR = "ch_PP-OCRv2_det_slim_quant_infer"
QUANT_TYPES = {"int8": "QUANT_INT8", "int16": "QUANT_INT16"}
WEIGHT_ONLY_NOTE = ("weight-only quantization (paddle_lite_opt --quant_model): weights stored as {bits}-bit and "
                    "dequantized to fp32 at load time; the .nb is smaller, inference is fp32 (not faster)")


class SlimPaddleToLite(PaddleToLite):
    """opt for a PaddleSlim quant-aware model: no ``--print_model_ops`` pre-check (it flags the fake-quant ops
    that opt fuses away); opt's exit status and output file decide."""

    def model_ops(self, source: SourceModel):  # type: ignore[override]
        support = super().model_ops(source)
        fused = [op for op in support.unsupported if op.startswith("fake_")]
        rest = [op for op in support.unsupported if not op.startswith("fake_")]
        support.unsupported, support.supported = rest, not rest
        if fused:
            log.info("slim det: %s are fused into int8 ops by paddle_lite_opt", ", ".join(fused))
        return support


def slim_det_source(ctx: Any) -> SourceModel:
    """The slim-quant det next to the fp32 det (``models pull`` puts them side by side) or ``ctx.options['slim_det']``."""
    explicit = ctx.options.get("slim_det")
    path = Path(explicit) if explicit else ctx.sources.models["det"].path.parent / SLIM_DET_DIR
    if not path.is_dir():
        raise InputError(f"the slim-quant det ({SLIM_DET_DIR}) is not here; run `edgeocr models pull`", path)
    return validate_model_dir("det", path)


def _host_gate(ctx: Any, variant: str, out: Path, exports: Dict[str, ExportResult], stages) -> Optional[Dict[str, Any]]:
    from .quant_builders import _gate, _parent

    parent = _parent(ctx, "lite-x86-fp32")
    return _gate(ctx, variant, parent, {s: e.path for s, e in exports.items()}, stages, fmt="paddle-lite")


def _twin_accuracy(ctx: Any, variant: str) -> Optional[Dict[str, Any]]:
    """ARM variant: the gate result of its x86 twin when that was built in this run."""
    twin = variant.replace("lite-arm-", "lite-x86-")
    path = ctx.built.get(twin)
    if not path:
        return {"passed": None, "note": f"UNVERIFIED: ARM kernels cannot run here and {twin} was not written in this "
                                        "run (not requested, or rejected by its gate); measure this bundle on a device "
                                        "(edgeocr eval --device) before shipping it"}
    acc = json.loads((Path(path) / MANIFEST_NAME).read_text(encoding="utf-8")).get("accuracy")
    return {**(acc or {}), "measured_on": twin}


def weight_only(target: str, precision: str):
    """Builder of ``lite-<target>-<precision>`` (int8/int16 weight-only)."""
    variant = f"lite-{target}-{precision}"

    def build(ctx: Any, out: Path):
        from .variants import STAGE_ORDER, VariantBuild

        version = ctx.host_lite_version if target == "x86" else ctx.lite_version
        exporter = PaddleToLite(target=target, lite_version=version, quant_type=QUANT_TYPES[precision])
        exports = {}
        for stage in STAGE_ORDER:
            ctx.progress(f"{stage}: paddle_lite_opt --quant_type={QUANT_TYPES[precision]}")
            exports[stage] = exporter.export(ctx.sources.models[stage], out)
        accuracy = (_host_gate(ctx, variant, out, exports, ("det", "cls", "rec")) if target == "x86"
                    else _twin_accuracy(ctx, variant))
        return VariantBuild(
            exports=exports, tool_versions=exporter.tool_versions(), lite_version=version, target=target,
            quantization={"tool": "paddle_lite_opt", "quant_model": True, "quant_type": QUANT_TYPES[precision],
                          "weight_only": True},
            accuracy=accuracy, notes=[WEIGHT_ONLY_NOTE.format(bits=precision[3:])],
        )

    return build


def slim(target: str):
    """Builder of ``lite-<target>-slim``: official slim-quant int8 det + fp32 cls/rec."""
    variant = f"lite-{target}-slim"

    def build(ctx: Any, out: Path):
        from .variants import VariantBuild

        version = ctx.host_lite_version if target == "x86" else ctx.lite_version
        det_src = slim_det_source(ctx)
        exports = {"det": SlimPaddleToLite(target=target, lite_version=version).export(det_src, out)}
        fp32 = PaddleToLite(target=target, lite_version=version)
        for stage in ("cls", "rec"):
            ctx.progress(f"{stage}: paddle_lite_opt (fp32)")
            exports[stage] = fp32.export(ctx.sources.models[stage], out)
        accuracy = _host_gate(ctx, variant, out, exports, ("det",)) if target == "x86" else _twin_accuracy(ctx, variant)
        return VariantBuild(
            exports=exports, tool_versions=fp32.tool_versions(), lite_version=version, target=target,
            quantization={"det": f"PaddleSlim quant-aware int8 ({SLIM_DET_DIR}), fused by paddle_lite_opt",
                          "cls": "fp32", "rec": "fp32"},
            accuracy=accuracy, source_override={"det": det_src},
            notes=[f"det = official {SLIM_DET_DIR} (int8 compute on ARM); cls/rec fp32"],
        )

    return build


def build_onnx_slim(ctx: Any, out: Path):
    """Try paddle2onnx on the slim-quant det; it cannot convert it: raise a clear ``ModelFormatError``
    (convert reports the variant as "unsupported" and carries on with the others)."""
    from .paddle_to_onnx import PaddleToOnnx

    det_src = slim_det_source(ctx)
    ctx.progress("det: paddle2onnx on the slim-quant det (known to fail with paddle2onnx 1.3.1)")
    try:
        PaddleToOnnx().export(det_src, out)
    except ModelFormatError as exc:
        raise ModelFormatError(
            f"paddle2onnx cannot export the PaddleSlim quant-aware det ({exc.message.splitlines()[0][:200]}); "
            "unsupported upstream (Paddle2ONNX#376, PaddleOCR#12088). Use lite-arm-slim for the official int8 det, "
            "or onnx-int8 (ORT static quantization of the fp32 det)",
            det_src.path,
        ) from None
    raise ModelFormatError(
        "paddle2onnx exported the slim-quant det, but onnx-slim is not validated yet; use lite-arm-slim or onnx-int8",
        det_src.path,
    )
