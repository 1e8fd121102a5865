"""Builders of the quantized / reduced-precision variants for ``converters/variants.py`` (issue 5).

Each builder is ``build(ctx, out_dir) -> VariantBuild``: it writes ``out_dir/<stage>.<ext>`` for det, cls and
rec and returns the exports plus manifest extras (quantization config per stage, calibration data digest,
tool versions, accuracy-gate outcome). Derived variants start from their parent bundle in ``ctx.built`` (the
parent must be built earlier in the same run; ``VariantSpec.parent`` names it).

Variants: ``onnx-int8`` (the best measured recipe, :data:`INT8_RECIPE`: int8 weights, float compute),
``onnx-int8-static`` (QDQ S8S8 static everywhere, rec LSTM dynamic: int8 compute, rejected by the gate on
PP-OCRv2 rec), ``onnx-int8-dynamic``, ``onnx-fp16``, ``ort-fp32`` / ``ort-int8``.

Recipe of a gated variant:
  1. Find the parent bundle (fp32 ONNX, or the int8 ONNX for ``ort-int8``).
  2. Build each stage (quantize / fp16 / ORT format), into ``out_dir``.
  3. Assemble a scratch bundle and run the accuracy gate against the fp32 parent (``accuracy_gate.py``).
  4. Over budget -> ``AccuracyGateError`` (nothing is written) unless ``allow_accuracy_drop``.
Options come from ``ctx.options`` (keys of :data:`OPTION_DEFAULTS`).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from edgeocr.errors import ConfigError
from edgeocr.manifest import MANIFEST_NAME

from .accuracy_gate import DEFAULT_GATE_LIMIT, MIN_CROPS, GateBudget, assemble_bundle, enforce, run_gate
from .calibration import CalibrationSet
from .data_paths import resolve_data_root
from .exporter import ExportResult
from .onnx_fp16 import convert_fp16
from .onnx_quantize import quantize_model
from .ort_format import REQUIRED_OPERATORS, convert_to_ort
from .quant_config import QuantConfig

log = logging.getLogger(__name__)

STAGES = ("det", "cls", "rec")

# ctx.options keys this module reads (the CLI maps --gate-limit etc. onto them).
OPTION_DEFAULTS: Dict[str, Any] = {
    "gate_limit": DEFAULT_GATE_LIMIT,  # samples per gate dataset (None: all)
    "allow_accuracy_drop": False,  # keep (and mark) a variant that is over budget
    "det_drop_pts": GateBudget().det_drop_pts,
    "rec_drop_pts": GateBudget().rec_drop_pts,
    "cls_drop_pts": GateBudget().cls_drop_pts,
    "calibration_method": None,  # override the recipe's method for every static stage (MinMax/Entropy/Percentile)
    "calibration_samples": None,  # {stage: n} override of the recipe's sample counts (det: images, cls/rec: crops)
    "gate": True,  # False only for quick experiments: no accuracy gate (manifest says so)
    "gate_min_crops": MIN_CROPS,  # floor of rec/cls crops per gate set (lower only in tests)
}

# The default onnx-int8 recipe per stage: what measured best against the budgets (quantization.md).
# Every stage ends up weight-only (int8 per-channel weights behind DequantizeLinear, float activations):
# det: static QDQ S8S8 per-channel (MinMax, 32 images) lost 1.2 H-mean points on icdar2015 (2.4 with the DB
#   head in float), over the 0.5 budget; weight-only lost 0.1-0.4.
# cls: static QDQ S8S8 (MinMax, 192 crops) lost 5.4 points of orientation accuracy; weight-only 0.6.
# rec: any int8 *activation* in the recognizer's conv stack (static or dynamic, even on a single conv) flips most
#   strings, and int8 weights in its first, high-gain convs flip 30-45% of them; weight-only with the first 10
#   convs (70 KB of weights) in float lost 0.0-0.4 points.
INT8_RECIPE: Dict[str, QuantConfig] = {
    "det": QuantConfig.weight_only(),
    "cls": QuantConfig.weight_only(),
    "rec": QuantConfig.weight_only(float_first_convs=10),
}
# The textbook ARM recipe the issue started from, kept as its own variant so the gate's verdict on it is on record.
STATIC_RECIPE: Dict[str, QuantConfig] = {
    "det": QuantConfig.arm64_static(calibration_samples=32),
    "cls": QuantConfig.arm64_static(calibration_samples=192),
    "rec": QuantConfig.arm64_mixed(calibration_samples=192, float_last_ops=0),
}
DYNAMIC_RECIPE: Dict[str, QuantConfig] = {s: QuantConfig.arm64_dynamic() for s in STAGES}

# onnxruntime session config entries a runtime must set for all-weight-only bundles (manifest
# quantization.ort_session_config): fold DequantizeLinear(int8 weight) into fp32 weights at load time.
WEIGHT_ONLY_SESSION_CONFIG: Dict[str, str] = {"session.disable_quant_qdq": "1"}

_CALIB_CACHE: Dict[Tuple[str, int, int, str], CalibrationSet] = {}


def _opt(ctx: Any, key: str) -> Any:
    return ctx.options.get(key, OPTION_DEFAULTS[key])


def _parent(ctx: Any, name: str) -> Path:
    path = ctx.built.get(name)
    if path is None or not (Path(path) / MANIFEST_NAME).is_file():
        raise ConfigError(f"this variant derives from {name}: add {name} to --variants (before it)")
    return Path(path)


def _parent_models(parent: Path) -> Tuple[Dict[str, Path], Dict[str, str]]:
    """``({stage: model path}, {stage: output name})`` of a finished bundle."""
    manifest = json.loads((parent / MANIFEST_NAME).read_text(encoding="utf-8"))
    paths = {s: parent / e["file"] for s, e in manifest["stages"].items()}
    outputs = {s: e["outputs"][0]["name"] for s, e in manifest["stages"].items()}
    return paths, outputs


def _versions() -> Dict[str, str]:
    import onnx
    import onnxruntime

    return {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__}


def calibration_set(det_model: Path, recipe: Mapping[str, QuantConfig], data_root: Path) -> CalibrationSet:
    """The calibration set for ``recipe`` (cached per det model and sizes)."""
    from edgeocr.hashing import sha256_file

    n_det = recipe["det"].calibration_samples if "det" in recipe and recipe["det"].mode.value == "static" else 0
    crops = [c.calibration_samples for s, c in recipe.items() if s != "det" and c.mode.value == "static"]
    n_crops = max(crops) if crops else 64
    key = (sha256_file(det_model), n_det, n_crops, str(data_root))
    if key not in _CALIB_CACHE:
        _CALIB_CACHE[key] = CalibrationSet.build(det_model, data_root, det_samples=n_det, crop_samples=n_crops)
    return _CALIB_CACHE[key]


def _gate(ctx: Any, variant: str, parent: Path, models: Mapping[str, Path], stages: Sequence[str],
          fmt: str = "onnx") -> Optional[Dict[str, Any]]:
    """3-4. Accuracy gate of ``models`` against the fp32 ``parent``; returns the manifest ``accuracy`` entry."""
    if not _opt(ctx, "gate"):
        return {"passed": None, "note": "accuracy gate disabled (gate=False)"}
    ctx.progress(f"accuracy gate ({', '.join(stages)}) vs {parent.name}, limit {_opt(ctx, 'gate_limit')}")
    scratch = assemble_bundle(parent, models, Path(ctx.work_dir) / f"{variant}.gate", fmt=fmt)
    result = run_gate(
        scratch, parent, stages, resolve_data_root(ctx.options.get("gate_data"), "--gate-data"),
        limit=_opt(ctx, "gate_limit"),
        budget=GateBudget(_opt(ctx, "det_drop_pts"), _opt(ctx, "rec_drop_pts"), _opt(ctx, "cls_drop_pts")),
        variant=variant, parent_name=parent.name, min_crops=int(_opt(ctx, "gate_min_crops")),
    )
    ctx.progress("gate:\n" + result.table())
    return enforce(result, bool(_opt(ctx, "allow_accuracy_drop"))).to_dict()


def _exports(models: Mapping[str, Path], outputs: Mapping[str, str], info: Mapping[str, Any]) -> Dict[str, ExportResult]:
    import onnx

    out = {}
    for stage, path in models.items():
        ops = sorted({n.op_type for n in onnx.load(str(path)).graph.node}) if path.suffix == ".onnx" else []
        out[stage] = ExportResult(stage=stage, path=path, output_name=outputs[stage], ops=ops, info=dict(info.get(stage, {})))
    return out


def apply_overrides(recipe: Mapping[str, QuantConfig], method: Optional[str],
                    samples: Optional[Mapping[str, int]]) -> Dict[str, QuantConfig]:
    """The recipe with ``calibration_method`` / per-stage ``calibration_samples`` replaced on its static stages."""
    unknown = sorted(set(samples or {}) - set(STAGES))
    if unknown:
        raise ConfigError(f"calibration_samples for unknown stage(s) {unknown}; valid stages: {', '.join(STAGES)}")
    out = {}
    for stage, cfg in recipe.items():
        if cfg.mode.value == "static":
            data = cfg.to_dict()
            if method:
                data["calibration_method"] = method
            if samples and stage in samples:
                data["calibration_samples"] = samples[stage]
            cfg = QuantConfig.from_dict(data)
        out[stage] = cfg
    return out


def _quantized(recipe_base: Mapping[str, QuantConfig], variant: str):
    def build(ctx: Any, out: Path):
        from .variants import VariantBuild

        # 1. parent
        parent = _parent(ctx, "onnx-fp32")
        fp32, outputs = _parent_models(parent)
        recipe = apply_overrides(recipe_base, _opt(ctx, "calibration_method"), _opt(ctx, "calibration_samples"))
        static = any(c.mode.value == "static" for c in recipe.values())
        calib_root = resolve_data_root(ctx.options.get("calibration_data"), "--calibration-data") if static else None
        calib = calibration_set(fp32["det"], recipe, calib_root) if calib_root else None
        # 2. quantize every stage
        models, info = {}, {}
        for stage in STAGES:
            cfg = recipe[stage]
            ctx.progress(f"{stage}: {cfg}")
            dst = out / f"{stage}.onnx"
            res = quantize_model(fp32[stage], dst, cfg, (lambda name, n, s=stage: calib.reader(s, name, n)) if calib else None)
            models[stage], info[stage] = dst, res.to_dict()
        accuracy = _gate(ctx, variant, parent, models, ("det", "cls", "rec"))
        quant = {"recipe": {s: info[s] for s in STAGES},
                 "calibration": calib.describe() if calib else None}
        if all(recipe[s].mode.value == "weight_only" for s in STAGES):
            # Without it ORT keeps the weight DequantizeLinear nodes live: weights are dequantized and re-packed
            # on every run (measured 0.56x fp32 speed); with it they are folded once at load (fp32 speed).
            quant["ort_session_config"] = dict(WEIGHT_ONLY_SESSION_CONFIG)
        notes = [f"{s}: {info[s]['summary']}" for s in STAGES]
        if accuracy and accuracy.get("allowed_accuracy_drop"):
            notes.append("OVER ACCURACY BUDGET: kept only because of --allow-accuracy-drop")
        return VariantBuild(exports=_exports(models, outputs, info), tool_versions=_versions(),
                            quantization=quant, accuracy=accuracy, notes=notes)

    return build


build_onnx_int8 = _quantized(INT8_RECIPE, "onnx-int8")
build_onnx_int8_dynamic = _quantized(DYNAMIC_RECIPE, "onnx-int8-dynamic")
build_onnx_int8_static = _quantized(STATIC_RECIPE, "onnx-int8-static")


def build_onnx_fp16(ctx: Any, out: Path):
    """float16 weights, fp32 I/O (keep_io_types); gated like the int8 variants."""
    from .variants import VariantBuild

    parent = _parent(ctx, "onnx-fp32")
    fp32, outputs = _parent_models(parent)
    models, info = {}, {}
    for stage in STAGES:
        ctx.progress(f"{stage}: fp16")
        models[stage] = out / f"{stage}.onnx"
        info[stage] = convert_fp16(fp32[stage], models[stage]).to_dict()
    accuracy = _gate(ctx, "onnx-fp16", parent, models, ("det", "cls", "rec"))
    return VariantBuild(exports=_exports(models, outputs, info), tool_versions=_versions(),
                        quantization={"precision": "fp16", "stages": info}, accuracy=accuracy,
                        notes=["float16 weights and compute where the device has fp16 kernels (ARMv8.2+); "
                               "inputs/outputs stay float32"])


def _ort(parent_name: str, variant: str):
    def build(ctx: Any, out: Path):
        from .variants import VariantBuild

        src = _parent(ctx, parent_name)
        models_src, outputs = _parent_models(src)
        ctx.progress(f"convert_onnx_models_to_ort ({parent_name}, target_platform=arm)")
        models, config = convert_to_ort(models_src, out, target_platform="arm")
        fp32 = _parent(ctx, "onnx-fp32")
        accuracy = _gate(ctx, variant, fp32, models, ("det", "cls", "rec"), fmt="ort")
        src_manifest = json.loads((src / MANIFEST_NAME).read_text(encoding="utf-8"))
        return VariantBuild(
            exports=_exports(models, outputs, {}), tool_versions=_versions(),
            quantization=src_manifest.get("quantization"), accuracy=accuracy,
            notes=[f"ORT format of {parent_name}; {REQUIRED_OPERATORS} lists the kernels for a reduced-size ORT "
                   f"build (build.sh --minimal_build --include_ops_by_config {REQUIRED_OPERATORS})",
                   f"{REQUIRED_OPERATORS}:\n" + config.read_text(encoding="utf-8")],
        )

    return build


build_ort_fp32 = _ort("onnx-fp32", "ort-fp32")
build_ort_int8 = _ort("onnx-int8", "ort-int8")
