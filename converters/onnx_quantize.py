"""ONNX Runtime int8 quantization of one PP-OCRv2 stage: static QDQ, dynamic, mixed and weight-only (issue 5).

Recipe, per model (numbered as in :func:`quantize_model`):
  1. ``quant_pre_process``: symbolic shape inference + ORT basic optimizations (BN folded into Conv, constants
     folded) so the quantizer sees plain Conv/MatMul with weight initializers.
  2. Resolve exclusions to node names (first conv, CTC/FC head) from the graph, not from exporter-specific names.
  3. Static: calibrate on real images (``calibration.py``) and insert Q/DQ pairs; or dynamic: integer ops with
     ranges computed per inference; or weight-only: int8 weights behind DequantizeLinear, float activations.
  3b. Optional (``fold_depthwise_scales``): per-channel inputs for the int8 depthwise convs, folded into their
      weight scales (``activation_folding.py``).
  3c. Optional (``bias_correction``): each int8 conv's mean output error on the calibration data subtracted from
      its bias (``bias_correction.py``).
  4. Mixed: after the static pass, quantize ``dynamic_op_types`` (the recognizer's LSTM) dynamically.
  5. ``onnx.checker`` the result and return what was done, for the manifest.
Scratch files go in a ``TemporaryDirectory(prefix="edgeocr.quant.")`` like ORT's own ``ort.quant.``.
"""
from __future__ import annotations

import collections
import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import numpy as np
import onnx
from onnx import numpy_helper

from edgeocr.errors import ConfigError, ModelFormatError

from .quant_config import CalibrationMethod, QuantConfig, QuantDType, QuantFormat, QuantMode

log = logging.getLogger(__name__)

# Static ops we quantize. ORT's default list also wraps every Add/Mul/Concat/Resize in Q/DQ; on PP-OCRv2 that
# would add a requantization at each HardSwish (HardSigmoid * x) and FPN merge. Quantizing only the
# weight-bearing ops keeps int8 compute where the FLOPs are and the number of rounding points small.
STATIC_OP_TYPES = ("Conv", "ConvTranspose", "MatMul", "Gemm")

ReaderFactory = Callable[[str, int], "object"]  # (input_name, n) -> CalibrationDataReader


@dataclass
class QuantizeResult:
    """What :func:`quantize_model` did: the config, the resolved float nodes, the op-type counts, the notes."""

    config: QuantConfig
    excluded_nodes: List[str]
    op_counts: Dict[str, int]
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        return {
            "config": self.config.to_dict(),
            "summary": str(self.config),
            "excluded_nodes": self.excluded_nodes,
            "op_counts": self.op_counts,
            "notes": self.notes,
        }


def _ort_quant():
    try:
        from onnxruntime import quantization as q
    except ImportError as exc:  # pragma: no cover - the convert extra installs onnxruntime
        from edgeocr.errors import ToolMissingError

        raise ToolMissingError(f"onnxruntime quantization is not importable ({exc}); pip install 'edgeocr[convert]'")
    return q


def preprocess(src: Path, dst: Path) -> List[str]:
    """1. ``quant_pre_process`` ``src`` into ``dst``; returns notes.

    The det graph (dynamic H/W through Resize) defeats ORT's symbolic shape inference ("Incomplete symbolic
    shape inference"); ONNX shape inference + the optimizer are enough there, so we retry without it and say so.
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    notes: List[str] = []
    src, dst = Path(src).resolve(), Path(dst).resolve()
    # On incomplete inference ORT dumps "sym_shape_infer_temp.onnx" into the *current directory*: run it from
    # the scratch directory so nothing lands in the user's folder (or the repository when tests run).
    with _cwd(dst.parent):
        try:
            quant_pre_process(str(src), str(dst))
        except Exception as exc:  # ORT raises a bare Exception for incomplete symbolic shapes
            if "symbolic shape" not in str(exc).lower():
                raise ModelFormatError(f"quant_pre_process failed: {exc}", src) from exc
            quant_pre_process(str(src), str(dst), skip_symbolic_shape=True)
        notes.append("quant_pre_process: symbolic shape inference incomplete (dynamic Resize); used ONNX shape inference")
    return notes


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def first_convs(model: onnx.ModelProto, n: int) -> List[str]:
    """Names of the first ``n`` Conv nodes in graph (topological) order; the first is the stem on pixels."""
    return [node.name for node in model.graph.node if node.op_type == "Conv"][:n]


def last_weight_ops(model: onnx.ModelProto, n: int) -> List[str]:
    """Names of the last ``n`` weight-bearing ops (Conv/ConvTranspose/MatMul/Gemm) in graph order: the CTC
    head of rec, the FC of cls, the DB head of det."""
    if n <= 0:
        return []
    return [x.name for x in model.graph.node if x.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm")][-n:]


def op_counts(model: onnx.ModelProto) -> Dict[str, int]:
    return dict(sorted(collections.Counter(n.op_type for n in model.graph.node).items()))


def _ensure_names(model: onnx.ModelProto) -> None:
    """Give every node a unique name: exclusions and ORT's quantizer address nodes by name."""
    seen = set()
    for i, node in enumerate(model.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{i}"
        seen.add(node.name)


# op type -> (weight input indices, per-channel axis of each): the output-channel axis of the weight.
WEIGHT_INPUTS: Dict[str, Tuple[Tuple[int, int], ...]] = {
    "Conv": ((1, 0),),
    "ConvTranspose": ((1, 1),),
    "MatMul": ((1, 1),),
    "Gemm": ((1, 1),),  # transB handled below
    "LSTM": ((1, 1), (2, 1)),  # W [dirs, 4H, in], R [dirs, 4H, H]
}


def quantize_weights_only(
    model: onnx.ModelProto, exclude: Set[str], per_channel: bool = True, op_types_to_exclude: Tuple[str, ...] = ()
) -> int:
    """Replace float weight initializers of Conv/MatMul/Gemm/LSTM by symmetric int8 + ``DequantizeLinear``.

    Scale per output channel (``per_channel``) or per tensor: ``max|w| / 127``, zero point 0. Returns the
    number of weights quantized. Biases and small tensors (< 64 values) stay float.
    """
    inits = {i.name: i for i in model.graph.initializer}
    consumers = collections.Counter(x for n in model.graph.node for x in n.input)
    new_nodes: List[onnx.NodeProto] = []
    done = 0
    for node in model.graph.node:
        spec = WEIGHT_INPUTS.get(node.op_type)
        if spec and node.name not in exclude and node.op_type not in op_types_to_exclude:
            for idx, axis in spec:
                if idx >= len(node.input) or node.input[idx] not in inits or consumers[node.input[idx]] != 1:
                    continue
                w = numpy_helper.to_array(inits[node.input[idx]])
                if w.dtype != np.float32 or w.size < 64 or w.ndim < 2:
                    continue
                if node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute):
                    axis = 0
                if per_channel:
                    reduce = tuple(a for a in range(w.ndim) if a != axis)
                    scale = np.abs(w).max(axis=reduce) / 127.0
                else:
                    scale = np.array(np.abs(w).max() / 127.0)
                scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
                shape = [1] * w.ndim
                if per_channel:
                    shape[axis] = -1
                q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
                base = node.input[idx]
                model.graph.initializer.remove(inits[base])
                model.graph.initializer.extend([
                    numpy_helper.from_array(q, f"{base}_quantized"),
                    numpy_helper.from_array(scale, f"{base}_scale"),
                    numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{base}_zero_point"),
                ])
                attrs = {"axis": axis} if per_channel else {}
                new_nodes.append(onnx.helper.make_node(
                    "DequantizeLinear", [f"{base}_quantized", f"{base}_scale", f"{base}_zero_point"], [base],
                    name=f"{base}_DequantizeLinear", **attrs))
                done += 1
        new_nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    return done


def _rewrite(pre: Path, model: onnx.ModelProto, reader_factory: Optional[ReaderFactory], input_name: str,
             config: QuantConfig, calibration_cache: Optional[Path]) -> List[str]:
    """Steps 3b/3c on the calibrated QDQ ``model``, in place; returns the notes. The per-channel depthwise ranges
    are cached beside ``calibration_cache`` (a search quantizes many float sets from one calibration)."""
    from . import activation_folding as af
    from .bias_correction import apply_corrections, mean_output_errors

    def reader():
        if reader_factory is None:
            raise ConfigError(f"{config} needs calibration data for its graph rewrites (a calibration reader)")
        return reader_factory(input_name, config.calibration_samples)

    float_model = onnx.load(str(pre))
    notes: List[str] = []
    if config.fold_depthwise_scales:
        cache = Path(calibration_cache).with_suffix(".channels.json") if calibration_cache is not None else None
        if cache is not None and cache.is_file():
            ranges = af.load_ranges(cache)
        else:
            tensors = sorted(set(af.depthwise_inputs(float_model).values()))
            ranges = af.channel_ranges(float_model, tensors, reader())
            if cache is not None:
                af.save_ranges(cache, ranges)
        folded = af.fold_activation_scales(model, ranges)
        notes.append(f"per-channel inputs folded into {len(folded)} depthwise convs: {', '.join(folded)}")
    if config.bias_correction:
        errors = mean_output_errors(model, float_model, reader())
        notes.append(f"bias correction on {len(apply_corrections(model, errors))} int8 convs")
    return notes


def quantize_model(
    src: Path,
    dst: Path,
    config: QuantConfig,
    reader_factory: Optional[ReaderFactory] = None,
    calibration_cache: Optional[Path] = None,
) -> QuantizeResult:
    """Quantize fp32 ONNX ``src`` into ``dst`` following ``config``.

    ``reader_factory(input_name, n)`` returns a fresh calibration reader of ``n`` samples (static mode only).
    ``calibration_cache``: ORT's JSON of activation ranges; read when it exists (no calibration pass), written
    otherwise. Ranges are collected for every op of the quantized types whatever is excluded, so one cache serves
    every float set the mixed-precision search tries (``quant_search.py``).
    """
    q = _ort_quant()
    src, dst = Path(src), Path(dst)
    if config.mode is QuantMode.STATIC and reader_factory is None and not (calibration_cache and Path(calibration_cache).is_file()):
        raise ConfigError(f"{config} needs calibration data; pass a calibration reader (static mode)")
    with tempfile.TemporaryDirectory(prefix="edgeocr.quant.") as tmp:
        # 1. pre-process
        pre = Path(tmp) / "pre.onnx"
        notes = preprocess(src, pre)
        model = onnx.load(str(pre))
        _ensure_names(model)
        onnx.save(model, str(pre))
        # 2. exclusions
        excluded = list(config.nodes_to_exclude)
        excluded += first_convs(model, config.float_first_convs)
        excluded += [x for x in last_weight_ops(model, config.float_last_ops) if x not in excluded]
        excluded += [n.name for n in model.graph.node if n.op_type in config.op_types_to_exclude]
        input_name = model.graph.input[0].name
        del model
        qtype = {QuantDType.INT8: q.QuantType.QInt8, QuantDType.UINT8: q.QuantType.QUInt8}
        if config.mode is QuantMode.STATIC:
            # 3. static pass over the weight-bearing ops (minus the ones left to the dynamic pass)
            ops = [t for t in STATIC_OP_TYPES if t not in config.dynamic_op_types and t not in config.op_types_to_exclude]
            method = {
                CalibrationMethod.MINMAX: q.CalibrationMethod.MinMax,
                CalibrationMethod.ENTROPY: q.CalibrationMethod.Entropy,
                CalibrationMethod.PERCENTILE: q.CalibrationMethod.Percentile,
            }[config.calibration_method]
            cached = calibration_cache is not None and Path(calibration_cache).is_file()
            reader = None if cached else reader_factory(input_name, config.calibration_samples)  # type: ignore[misc]
            n = len(reader) if reader is not None else 0  # type: ignore[arg-type]
            # Calibrate in strides so histograms/min-max are merged instead of holding every activation.
            stride = max(d for d in range(1, min(8, n) + 1) if n % d == 0) if n else None
            options = {
                "CalibStridedMinMax": stride,
                "CalibPercentile": config.percentile,
                "WeightSymmetric": True,
                "ActivationSymmetric": False,
            }
            rewrites = config.dynamic_op_types or config.fold_depthwise_scales or config.bias_correction
            static_out = Path(tmp) / "static.onnx" if rewrites else dst
            log.info("%s: static quantization, %s", src.name,
                     f"cached ranges {calibration_cache}" if cached else f"{n} calibration samples in strides of {stride}")
            q.quantize_static(
                str(pre),
                str(static_out),
                reader,
                quant_format=q.QuantFormat.QDQ if config.format is QuantFormat.QDQ else q.QuantFormat.QOperator,
                op_types_to_quantize=ops,
                per_channel=config.per_channel,
                reduce_range=config.reduce_range,
                activation_type=qtype[config.activation_type],
                weight_type=qtype[config.weight_type],
                nodes_to_exclude=excluded,
                calibrate_method=method,
                extra_options={k: v for k, v in options.items() if v is not None},
                calibration_cache_path=str(calibration_cache) if calibration_cache is not None else None,
            )
            # 3b/3c. rewrites of the calibrated graph: per-channel depthwise inputs, bias correction
            if config.fold_depthwise_scales or config.bias_correction:
                model = onnx.load(str(static_out))
                notes += _rewrite(pre, model, reader_factory, input_name, config, calibration_cache)
                static_out = Path(tmp) / "rewritten.onnx" if config.dynamic_op_types else dst
                onnx.save(model, str(static_out))
            # 4. mixed: the dynamic part
            if config.dynamic_op_types:
                q.quantize_dynamic(
                    str(static_out),
                    str(dst),
                    op_types_to_quantize=list(config.dynamic_op_types),
                    per_channel=config.per_channel,
                    reduce_range=config.reduce_range,
                    weight_type=qtype[config.weight_type],
                    nodes_to_exclude=excluded,
                )
        elif config.mode is QuantMode.WEIGHT_ONLY:
            model = onnx.load(str(pre))
            quantize_weights_only(model, set(excluded), config.per_channel, tuple(config.op_types_to_exclude))
            onnx.save(model, str(dst))
        else:
            ops = [t for t in ("Conv", "MatMul", "Gemm", "LSTM") if t not in config.op_types_to_exclude]
            q.quantize_dynamic(
                str(pre),
                str(dst),
                op_types_to_quantize=ops,
                per_channel=config.per_channel,
                reduce_range=config.reduce_range,
                weight_type=qtype[config.weight_type],
                nodes_to_exclude=excluded,
            )
    # 5. check
    out = onnx.load(str(dst))
    try:
        onnx.checker.check_model(out)
    except onnx.checker.ValidationError as exc:
        raise ModelFormatError(f"quantized model fails onnx.checker: {exc}", dst) from None
    counts = op_counts(out)
    log.info("%s -> %s: %s; ops %s", src.name, dst.name, config, counts)
    return QuantizeResult(config=config, excluded_nodes=excluded, op_counts=counts, notes=notes)
