"""Builders of the quantized / reduced-precision variants for ``converters/variants.py`` (issue 5).

Each builder is ``build(ctx, out_dir) -> VariantBuild``: it writes ``out_dir/<stage>.<ext>`` for det, cls and
rec and returns the exports plus manifest extras (quantization config per stage, calibration data digest,
tool versions, accuracy-gate outcome). Derived variants start from their parent bundle in ``ctx.built`` (the
parent must be built earlier in the same run; ``VariantSpec.parent`` names it).

Variants: ``onnx-int8`` (static int8: int8 activations and weights, QDQ U8S8, the float layers found by the
mixed-precision search, :data:`RECIPE_FILE`; int8 *compute* on ARM64), ``onnx-int8w`` (int8 weights behind
DequantizeLinear, float compute: 4x smaller, fp32 speed), ``onnx-int8-dynamic``, ``onnx-fp16``, ``ort-fp32`` /
``ort-int8`` (the ORT format of ``onnx-int8``).

Recipe of a gated variant:
  1. Find the parent bundle (fp32 ONNX, or the int8 ONNX for ``ort-int8``).
  2. Build each stage (quantize / fp16 / ORT format), into ``out_dir``; for ``onnx-int8`` the float layers come
     from the committed recipe file, or from the search (``quant_search.py``) with ``quant_search``.
  3. Assemble a scratch bundle and run the accuracy gate against the fp32 parent (``accuracy_gate.py``: full test
     sets, paired bootstrap interval, cached parent scores).
  4. Over budget -> ``AccuracyGateError`` (nothing is written) unless ``allow_accuracy_drop``.
  5. With ``gate_device``: int8 vs fp32 latency on that device (``device_speed.py``); slower is noted, or
     rejected with ``require_speedup``.
Options come from ``ctx.options`` (keys of :data:`OPTION_DEFAULTS`).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

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
# input sizes of the MAC table: a 1280x720 photo (det), one word crop (rec), the classifier's fixed input
NOMINAL_SHAPES = {"det": (1, 3, 544, 960), "cls": (1, 3, 48, 192), "rec": (1, 3, 32, 320)}

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
    "quant_search": False,  # onnx-int8: derive the float layers by the search instead of the committed recipe file
    "gate_device": None,  # device TARGET on which int8 vs fp32 latency is measured (None: not measured)
    "require_speedup": False,  # with gate_device: reject a variant slower than fp32 there
    "gate_host_numerics": False,  # also score the candidate with this host's fused kernels (reported, not gating)
}

# onnx-int8w: int8 weights, float compute (what onnx-int8 was before issue 10). Measured (quantization.md):
# static S8S8 everywhere lost 1.2 det H-mean points and collapsed rec; weight-only keeps accuracy; the rec's
# first 10 convs (70 KB of high-gain weights) stay float because int8 weights there flip 30-45% of strings.
INT8W_RECIPE: Dict[str, QuantConfig] = {
    "det": QuantConfig.weight_only(),
    "cls": QuantConfig.weight_only(),
    "rec": QuantConfig.weight_only(float_first_convs=10),
}
# onnx-int8: static QDQ U8S8 (asymmetric uint8 activations: hardswish outputs lie in [-0.375, max], a symmetric
# range wastes a bit; AVX2 fuses U8S8 QDQ convs into QLinearConv, S8S8 mostly not), per-channel symmetric int8
# weights, MinMax ranges. Stage configs and their float layers (``nodes_to_exclude``) live in this file: the output
# of ``quant_search.py`` on the shared PP-OCRv2 models (``--quant-search`` re-derives them).
RECIPE_FILE = Path(__file__).with_name("int8_recipe.json")


def static_recipe() -> Dict[str, QuantConfig]:
    """The committed onnx-int8 recipe (:data:`RECIPE_FILE`), one config per stage."""
    data = json.loads(RECIPE_FILE.read_text(encoding="utf-8"))
    return {s: QuantConfig.from_dict(data["stages"][s]["config"]) for s in STAGES}


DYNAMIC_RECIPE: Dict[str, QuantConfig] = {s: QuantConfig.arm64_dynamic() for s in STAGES}

# onnxruntime session config entries a runtime must set for all-weight-only bundles (manifest
# quantization.ort_session_config): fold DequantizeLinear(int8 weight) into fp32 weights at load time.
WEIGHT_ONLY_SESSION_CONFIG: Dict[str, str] = {"session.disable_quant_qdq": "1"}
# ... and for static bundles: keep the recipe's float layers float. With graph optimizations on, ORT (1.31 here)
# drops a Relu in front of a Q (its zero point already clamps at 0) and its WeightBiasQuantization pass then
# quantizes the float weights of any conv left between a DequantizeLinear and a QuantizeLinear, per tensor,
# behind the recipe's back: measured on cls Conv.6 (float in the recipe, its 2nd most sensitive layer) the drop
# becomes +0.95 [-0.15, +2.10] instead of the gated +0.65 [-0.55, +1.80]. The gate runs with optimizations off
# and cannot see it; devices (the runtime, the Android app, the ARM kernel probe) apply this entry.
STATIC_SESSION_CONFIG: Dict[str, str] = {"optimization.disable_specified_optimizers": "WeightBiasQuantization"}

_CALIB_CACHE: Dict[Tuple[str, int, int, str], CalibrationSet] = {}


def _opt(ctx: Any, key: str) -> Any:
    return ctx.options.get(key, OPTION_DEFAULTS[key])


def _parent(ctx: Any, name: str) -> Path:
    path = ctx.built.get(name)
    if path is None or not (Path(path) / MANIFEST_NAME).is_file():
        raise ConfigError(f"this variant derives from {name}, which was not built in this run: {name} was "
                          f"rejected or failed (see its line), or is missing from --variants (put it before)")
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
          fmt: str = "onnx", numerics: str = "exact") -> Optional[Dict[str, Any]]:
    """3-4. Accuracy gate of ``models`` against the fp32 ``parent``; returns the manifest ``accuracy`` entry."""
    if not _opt(ctx, "gate"):
        return {"passed": None, "note": "accuracy gate disabled (gate=False)"}
    limit = _opt(ctx, "gate_limit")
    ctx.progress(f"accuracy gate ({', '.join(stages)}) vs {parent.name}: "
                 f"{'full test sets' if limit is None else f'limit {limit}'}, {numerics} numerics")
    scratch = assemble_bundle(parent, models, Path(ctx.work_dir) / f"{variant}.gate", fmt=fmt)
    kwargs = dict(limit=limit, variant=variant, parent_name=parent.name, min_crops=int(_opt(ctx, "gate_min_crops")),
                  budget=GateBudget(_opt(ctx, "det_drop_pts"), _opt(ctx, "rec_drop_pts"), _opt(ctx, "cls_drop_pts")))
    data = resolve_data_root(ctx.options.get("gate_data"), "--gate-data")
    result = run_gate(scratch, parent, stages, data, numerics=numerics, **kwargs)
    ctx.progress("gate:\n" + result.table())
    accuracy = enforce(result, bool(_opt(ctx, "allow_accuracy_drop"))).to_dict()
    if numerics == "exact" and _opt(ctx, "gate_host_numerics"):
        host = run_gate(scratch, parent, stages, data, numerics="host", **kwargs)
        ctx.progress("same candidate with this host's fused kernels (reported, not gating):\n" + host.table())
        accuracy["host_numerics"] = host.to_dict()
    ctx.gate_bundles = getattr(ctx, "gate_bundles", {})
    ctx.gate_bundles[variant] = scratch
    return accuracy


def _mac_costs(bundle: Path, session_config: Dict[str, str]) -> Dict[str, Any]:
    """Conv/MatMul MACs per stage in int8 and float kernels as this host's ORT runs them at nominal input sizes,
    with the session config entries the final manifest will carry."""
    from edgeocr.kernel_probe import probe_bundle

    from .mac_count import bundle_cost

    probe = probe_bundle(bundle, NOMINAL_SHAPES, session_config=session_config)
    return {"machine": probe["machine"], "input_shapes": {s: list(v) for s, v in NOMINAL_SHAPES.items()},
            "stages": {s: c.to_dict() for s, c in bundle_cost(probe, bundle).items()}}


def _device_speed(ctx: Any, variant: str, parent: Path, accuracy: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """5. int8 vs fp32 latency on ``gate_device`` (``device_speed.py``); marks or rejects a slower variant."""
    target = _opt(ctx, "gate_device")
    if not target:
        return None
    from edgeocr.errors import AccuracyGateError

    from .device_speed import measure_speedup

    candidate = getattr(ctx, "gate_bundles", {}).get(variant)
    if candidate is None:
        raise ConfigError(f"--gate-device needs the accuracy gate of {variant} (its scratch bundle); do not disable the gate")
    ctx.progress(f"latency vs {parent.name} on {target}")
    speed = measure_speedup(candidate, parent, target, images=ctx.options.get("gate_device_images"),
                            progress=ctx.progress, work_dir=ctx.options.get("gate_device_work_dir"))
    if speed["slower"]:
        if _opt(ctx, "require_speedup"):
            err = AccuracyGateError(f"{variant} is slower than fp32 on {target} ({speed['summary']}); not written "
                                    "(--require-speedup)")
            err.accuracy = {**(accuracy or {}), "device_speed": speed}  # type: ignore[attr-defined]
            raise err
        ctx.progress(f"slower than fp32 on {target}: {speed['summary']} (kept: no --require-speedup)")
    return speed


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


def _search_float_layers(ctx: Any, recipe: Dict[str, QuantConfig], fp32: Mapping[str, Path], calib: CalibrationSet,
                         calib_root: Path) -> Tuple[Dict[str, QuantConfig], Dict[str, Any]]:
    """2a. ``quant_search``: replace each static stage's float layers by the (cached) search result."""
    from .quant_search import cached_search

    budgets = {"det": _opt(ctx, "det_drop_pts"), "rec": _opt(ctx, "rec_drop_pts"), "cls": _opt(ctx, "cls_drop_pts")}
    out, info = dict(recipe), {}
    for stage, cfg in recipe.items():
        if cfg.mode.value != "static":
            continue
        result, cached = cached_search(stage, fp32[stage], cfg, calib, calib_root, budgets[stage], progress=ctx.progress)
        ctx.progress(f"{stage}: search{' (cached)' if cached else ''}: {len(result.float_nodes)} of "
                     f"{result.quantizable} layers float: {', '.join(result.float_nodes) or '-'}")
        out[stage] = QuantConfig.from_dict({**cfg.to_dict(), "nodes_to_exclude": result.float_nodes,
                                            "float_first_convs": 0})
        info[stage] = {**result.to_dict(), "cached": cached}
    return out, info


def _quantized(recipe_base: Union[Mapping[str, QuantConfig], Callable[[], Mapping[str, QuantConfig]]], variant: str,
               searchable: bool = False):
    def build(ctx: Any, out: Path):
        from .variants import VariantBuild

        # 1. parent
        parent = _parent(ctx, "onnx-fp32")
        fp32, outputs = _parent_models(parent)
        base = recipe_base() if callable(recipe_base) else recipe_base
        recipe = apply_overrides(base, _opt(ctx, "calibration_method"), _opt(ctx, "calibration_samples"))
        static = any(c.mode.value == "static" for c in recipe.values())
        calib_root = resolve_data_root(ctx.options.get("calibration_data"), "--calibration-data") if static else None
        calib = calibration_set(fp32["det"], recipe, calib_root) if calib_root else None
        search_info: Dict[str, Any] = {}
        if searchable and _opt(ctx, "quant_search") and calib is not None:
            recipe, search_info = _search_float_layers(ctx, recipe, fp32, calib, calib_root)
        # 2. quantize every stage
        models, info = {}, {}
        for stage in STAGES:
            cfg = recipe[stage]
            ctx.progress(f"{stage}: {cfg}")
            dst = out / f"{stage}.onnx"
            res = quantize_model(fp32[stage], dst, cfg, (lambda name, n, s=stage: calib.reader(s, name, n)) if calib else None)
            models[stage], info[stage] = dst, res.to_dict()
        numerics = "exact" if static else "host"
        accuracy = _gate(ctx, variant, parent, models, ("det", "cls", "rec"), numerics=numerics)
        quant: Dict[str, Any] = {"recipe": {s: info[s] for s in STAGES},
                                 "calibration": calib.describe() if calib else None}
        if static:
            quant["ort_session_config"] = dict(STATIC_SESSION_CONFIG)
            quant["float_layers"] = {s: info[s]["excluded_nodes"] for s in STAGES}
            quant["recipe_source"] = ("quant_search (accuracy-aware mixed-precision search, cached in $EDGEOCR_HOME)"
                                      if search_info else f"{RECIPE_FILE.name} (committed output of the search)")
            if search_info:
                quant["search"] = search_info
            scratch = getattr(ctx, "gate_bundles", {}).get(variant) or assemble_bundle(
                parent, models, Path(ctx.work_dir) / f"{variant}.mac")
            quant["macs"] = _mac_costs(scratch, quant["ort_session_config"])
            speed = _device_speed(ctx, variant, parent, accuracy)
            if speed is not None:
                quant["device_speed"] = speed
        if all(recipe[s].mode.value == "weight_only" for s in STAGES):
            # Without it ORT keeps the weight DequantizeLinear nodes live: weights are dequantized and re-packed
            # on every run (measured 0.56x fp32 speed); with it they are folded once at load (fp32 speed).
            quant["ort_session_config"] = dict(WEIGHT_ONLY_SESSION_CONFIG)
        notes = [f"{s}: {info[s]['summary']}" for s in STAGES]
        if static:
            shares = ", ".join(f"{s} {100 * quant['macs']['stages'][s]['conv_int8_share']:.0f}%" for s in STAGES)
            notes.append(f"conv MACs in int8 kernels ({quant['macs']['machine']}): {shares}")
            if quant.get("device_speed", {}).get("slower"):
                notes.append(f"slower than fp32 on {quant['device_speed']['target']}")
        if accuracy and accuracy.get("allowed_accuracy_drop"):
            notes.append("OVER ACCURACY BUDGET: kept only because of --allow-accuracy-drop")
        return VariantBuild(exports=_exports(models, outputs, info), tool_versions=_versions(),
                            quantization=quant, accuracy=accuracy, notes=notes)

    return build


build_onnx_int8 = _quantized(static_recipe, "onnx-int8", searchable=True)
build_onnx_int8w = _quantized(INT8W_RECIPE, "onnx-int8w")
build_onnx_int8_dynamic = _quantized(DYNAMIC_RECIPE, "onnx-int8-dynamic")


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
    accuracy = _gate(ctx, "onnx-fp16", parent, models, ("det", "cls", "rec"), numerics="host")
    return VariantBuild(exports=_exports(models, outputs, info), tool_versions=_versions(),
                        quantization={"precision": "fp16", "stages": info}, accuracy=accuracy,
                        notes=["float16 weights and compute where the device has fp16 kernels (ARMv8.2+); "
                               "inputs/outputs stay float32"])


# ort-int8 vs onnx-int8: the same graph in ORT's format. Instead of a second full-set gate, the .ort must read
# exactly like its gated .onnx parent on this many det images / crops; else it gets the full gate itself.
EQUIVALENCE_LIMIT = 20
EQUIVALENCE_CROPS = 300


def _inherited_gate(ctx: Any, variant: str, src: Path, models: Mapping[str, Path]) -> Optional[Dict[str, Any]]:
    """The gated ``src`` bundle's accuracy, if ``models`` (its ORT form) give identical results on a subset."""
    src_accuracy = json.loads((src / MANIFEST_NAME).read_text(encoding="utf-8")).get("accuracy") or {}
    # a written parent either passed or was kept over budget by --allow-accuracy-drop: its verdict carries over
    if src_accuracy.get("passed") is None or "rows" not in src_accuracy or not _opt(ctx, "gate"):
        return None
    scratch = assemble_bundle(src, models, Path(ctx.work_dir) / f"{variant}.equiv", fmt="ort")
    numerics = src_accuracy.get("numerics", "host")
    ctx.progress(f"equivalence with {src.name} ({EQUIVALENCE_LIMIT} det images, {EQUIVALENCE_CROPS} crops, "
                 f"{numerics} numerics)")
    eq = run_gate(scratch, src, ("det", "cls", "rec"), resolve_data_root(ctx.options.get("gate_data"), "--gate-data"),
                  limit=EQUIVALENCE_LIMIT, min_crops=EQUIVALENCE_CROPS, numerics=numerics, variant=variant,
                  parent_name=src.name, cache=False)
    same = all(r.drop_pts == 0 and r.ci_low == 0 and r.ci_high == 0 and r.identical_share in (None, 1.0)
               for r in eq.rows)
    if not same:
        ctx.progress(f"{variant} does not read exactly like {src.name}:\n{eq.table()}\nrunning its own gate")
        return None
    return {**src_accuracy, "inherited_from": src.name,
            "equivalence": {"limit": EQUIVALENCE_LIMIT, "crops": EQUIVALENCE_CROPS, "identical": True,
                            "rows": [{"dataset": r.dataset, "samples": r.samples} for r in eq.rows]}}


def _ort(parent_name: str, variant: str):
    def build(ctx: Any, out: Path):
        from .variants import VariantBuild

        src = _parent(ctx, parent_name)
        models_src, outputs = _parent_models(src)
        ctx.progress(f"convert_onnx_models_to_ort ({parent_name}, target_platform=arm)")
        models, config = convert_to_ort(models_src, out, target_platform="arm")
        fp32 = _parent(ctx, "onnx-fp32")
        accuracy = _inherited_gate(ctx, variant, src, models) if src != fp32 else None
        if accuracy is None:
            numerics = "exact" if "int8" in variant else "host"
            accuracy = _gate(ctx, variant, fp32, models, ("det", "cls", "rec"), fmt="ort", numerics=numerics)
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
