"""Registry of bundle variants ``edgeocr convert`` can build: a plain dict readable on one screen.

Each variant names its format, precision, how to build its three model files, and how its parity
with the Paddle original is judged. Quantized variants (issue 5) register here too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from edgeocr.lite_env import HOST_VERIFY_LITE_VERSION

from .exporter import ExportResult
from .paddle_to_lite import PaddleToLite
from .paddle_to_onnx import PaddleToOnnx
from .parity import ParityTolerance
from .source_models import SourceSet

STAGE_ORDER = ("det", "cls", "rec")


@dataclass
class BuildContext:
    """What a builder may use: validated sources, versions, finished sibling bundles, options."""

    sources: SourceSet
    lite_version: str  # the version users put in their app (--lite-version)
    host_lite_version: str  # the version whose x86 runtime checks Lite bundles here
    work_dir: Path  # scratch space, deleted after the run
    built: Dict[str, Path] = field(default_factory=dict)  # variant name -> finished bundle dir
    options: Dict[str, Any] = field(default_factory=dict)  # variant-specific options (quantization...)
    progress: Callable[[str], None] = lambda msg: None


@dataclass
class VariantBuild:
    """A builder's output: one export per stage plus manifest extras."""

    exports: Dict[str, ExportResult]
    tool_versions: Dict[str, str] = field(default_factory=dict)
    lite_version: Optional[str] = None
    target: Optional[str] = None
    quantization: Optional[Dict[str, Any]] = None
    accuracy: Optional[Dict[str, Any]] = None
    notes: List[str] = field(default_factory=list)
    # stage -> source model dir actually used (e.g. the slim-quant det), default: ctx.sources
    source_override: Dict[str, Any] = field(default_factory=dict)


Builder = Callable[[BuildContext, Path], VariantBuild]


@dataclass(frozen=True)
class VariantSpec:
    name: str
    format: str  # "onnx" | "ort" | "paddle-lite"
    precision: str
    build: Builder
    description: str
    target: Optional[str] = None
    parent: Optional[str] = None  # fp32 variant it derives from (baseline of the accuracy gate)
    tolerance: ParityTolerance = ParityTolerance()
    runs_on_host: bool = True  # False: parity cannot run here (ARM kernels on x86)

    @property
    def backend(self) -> str:
        from edgeocr.manifest import FORMAT_BACKENDS

        return FORMAT_BACKENDS[self.format]


def _export_all(exporter: Any, ctx: BuildContext, out: Path) -> Dict[str, ExportResult]:
    exports = {}
    for stage in STAGE_ORDER:
        ctx.progress(f"{stage}: exporting")
        exports[stage] = exporter.export(ctx.sources.models[stage], out)
    return exports


def build_onnx_fp32(ctx: BuildContext, out: Path) -> VariantBuild:
    exporter = PaddleToOnnx()
    return VariantBuild(exports=_export_all(exporter, ctx, out), tool_versions=exporter.tool_versions())


def _lite_builder(target: str, host: bool) -> Builder:
    def build(ctx: BuildContext, out: Path) -> VariantBuild:
        version = ctx.host_lite_version if host else ctx.lite_version
        exporter = PaddleToLite(target=target, lite_version=version)
        return VariantBuild(
            exports=_export_all(exporter, ctx, out),
            tool_versions=exporter.tool_versions(),
            lite_version=version,
            target=target,
        )

    return build


def _lazy(target: str, *args: Any) -> Builder:
    """Builder imported on first use (issue-5 builders pull in onnxruntime.quantization; `--help` should not).
    ``target`` is ``module:attr`` in this package; with ``args``, ``attr(*args)`` returns the builder."""

    def build(ctx: BuildContext, out: Path) -> VariantBuild:
        import importlib

        module, attr = target.split(":")
        fn = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
        return (fn(*args) if args else fn)(ctx, out)

    return build


# Quantized variants are judged by the accuracy gate on labelled data; parity vs Paddle is reported only.
_REPORT_ONLY = ParityTolerance(atol=None, det_binarized_max_share=None, rec_identical_min_share=None,
                               cls_identical_min_share=None)

VARIANTS: Dict[str, VariantSpec] = {
    "onnx-fp32": VariantSpec("onnx-fp32", "onnx", "fp32", build_onnx_fp32, "ONNX opset 14, fp32 (paddle2onnx)"),
    "lite-arm-fp32": VariantSpec(
        "lite-arm-fp32", "paddle-lite", "fp32", _lite_builder("arm", host=False),
        "Paddle-Lite .nb for ARM phones/boards (--lite-version)", target="arm", runs_on_host=False,
    ),
    "lite-x86-fp32": VariantSpec(
        "lite-x86-fp32", "paddle-lite", "fp32", _lite_builder("x86", host=True),
        f"Paddle-Lite .nb for x86, to check Lite accuracy on the host (--host-lite-version, default "
        f"{HOST_VERIFY_LITE_VERSION})", target="x86",
    ),
    # --- issue 5 (quantization helper): derived variants, built from their parent; gated on accuracy. ---
    "onnx-int8": VariantSpec(
        "onnx-int8", "onnx", "int8", _lazy("quant_builders:build_onnx_int8"),
        "static int8 ONNX (QDQ U8S8: int8 activations and weights, searched float layers): int8 compute on "
        "ARM64/VNNI; accuracy-gated on the full test sets", parent="onnx-fp32", tolerance=_REPORT_ONLY,
    ),
    "onnx-int8w": VariantSpec(
        "onnx-int8w", "onnx", "int8", _lazy("quant_builders:build_onnx_int8w"),
        "int8 weights, float compute (4x smaller, fp32 speed); accuracy-gated",
        parent="onnx-fp32", tolerance=_REPORT_ONLY,
    ),
    "onnx-int8-dynamic": VariantSpec(
        "onnx-int8-dynamic", "onnx", "int8", _lazy("quant_builders:build_onnx_int8_dynamic"),
        "ORT dynamic int8 (QOperator U8S8, no calibration); accuracy-gated", parent="onnx-fp32", tolerance=_REPORT_ONLY,
    ),
    "onnx-fp16": VariantSpec(
        "onnx-fp16", "onnx", "fp16", _lazy("quant_builders:build_onnx_fp16"),
        "float16 weights, fp32 I/O (keep_io_types), for ARMv8.2+; accuracy-gated", parent="onnx-fp32",
        tolerance=_REPORT_ONLY,
    ),
    "ort-fp32": VariantSpec(
        "ort-fp32", "ort", "fp32", _lazy("quant_builders:build_ort_fp32"),
        "ORT mobile format (.ort) of onnx-fp32 + required_operators.config", parent="onnx-fp32",
        # Saved after ORT's graph optimizations for ARM (fused ops sum in another order): rec measured 9.6e-5
        # max abs diff vs Paddle, so 1e-4 would be a coin flip; strings and labels must still be 100% identical.
        tolerance=ParityTolerance(atol=5e-4),
    ),
    "ort-int8": VariantSpec(
        "ort-int8", "ort", "int8", _lazy("quant_builders:build_ort_int8"),
        "ORT mobile format (.ort) of the static onnx-int8 + required_operators.config", parent="onnx-int8", tolerance=_REPORT_ONLY,
    ),
    "onnx-slim": VariantSpec(
        "onnx-slim", "onnx", "int8", _lazy("lite_quant:build_onnx_slim"),
        "official slim-quant det via paddle2onnx (unsupported upstream: reported, not fatal)", parent="onnx-fp32",
        tolerance=_REPORT_ONLY,
    ),
    **{
        f"lite-{t}-{p}": VariantSpec(
            f"lite-{t}-{p}", "paddle-lite", p, _lazy("lite_quant:weight_only", t, p),
            f"Paddle-Lite .nb for {t}, {p} weight-only (paddle_lite_opt --quant_model; smaller, not faster)",
            target=t, parent=f"lite-{t}-fp32", tolerance=_REPORT_ONLY, runs_on_host=(t == "x86"),
        )
        for t in ("arm", "x86") for p in ("int8", "int16")
    },
    **{
        f"lite-{t}-slim": VariantSpec(
            f"lite-{t}-slim", "paddle-lite", "int8", _lazy("lite_quant:slim", t),
            f"Paddle-Lite .nb for {t}: official PaddleSlim int8 det + fp32 cls/rec", target=t,
            parent=f"lite-{t}-fp32", tolerance=_REPORT_ONLY, runs_on_host=(t == "x86"),
        )
        for t in ("arm", "x86")
    },
}

DEFAULT_VARIANTS = ("onnx-fp32", "lite-arm-fp32", "lite-x86-fp32")
