"""How one model is quantized: a frozen, validated config with presets (issue 5).

Modelled on optimum's ``onnxruntime/configuration.py`` (``QuantizationConfig`` + ``AutoQuantizationConfig.arm64``)
and ORT's ``check_static_quant_arguments``: every option is a typed field (no ``extra_options`` dict of
CamelCase keys), and invalid combinations are rejected in ``__post_init__``, before any work starts, with a
message naming both values and the valid choices.

A *recipe* is one :class:`QuantConfig` per stage (det / cls / rec): the stages are different networks
(MobileNetV3 DB detector, MobileNetV3 classifier, MobileNetV1-enhanced CRNN with a BiLSTM and a CTC head)
and do not want the same treatment.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, Dict, Tuple

from edgeocr.errors import ConfigError


class QuantMode(str, enum.Enum):
    """Static: activation ranges calibrated offline; dynamic: computed per inference from the data;
    weight_only: int8 weights + DequantizeLinear, float activations and compute (smaller file, fp32 speed and
    accuracy: what Paddle-Lite's ``--quant_model`` does, in ONNX form)."""

    STATIC = "static"
    DYNAMIC = "dynamic"
    WEIGHT_ONLY = "weight_only"


class QuantFormat(str, enum.Enum):
    """QDQ: QuantizeLinear/DequantizeLinear pairs around float ops (what ORT mobile, XNNPACK, NNAPI and QNN
    consume); QOperator: fused integer ops (QLinearConv, ConvInteger, DynamicQuantizeLSTM...)."""

    QDQ = "QDQ"
    QOPERATOR = "QOperator"


class QuantDType(str, enum.Enum):
    """8-bit integer type of a tensor."""

    INT8 = "int8"
    UINT8 = "uint8"


class CalibrationMethod(str, enum.Enum):
    """How activation ranges are derived from calibration data (ORT ``CalibrationMethod``)."""

    MINMAX = "MinMax"
    ENTROPY = "Entropy"
    PERCENTILE = "Percentile"


# Op types ORT can quantize dynamically (``onnxruntime.quantization.registry.IntegerOpsRegistry``, the part
# that matters for PP-OCRv2): the LSTM and the FC/CTC head of the recognizer.
DYNAMIC_OP_TYPES = ("LSTM", "MatMul", "Gemm", "Conv")


def _enum(cls: type, name: str, value: Any) -> Any:
    """Coerce ``value`` to enum ``cls`` or raise naming the field, the value and the valid choices."""
    if isinstance(value, cls):
        return value
    for member in cls:  # type: ignore[attr-defined]
        if value == member.value or (isinstance(value, str) and value.lower() == member.value.lower()):
            return member
    valid = ", ".join(m.value for m in cls)  # type: ignore[attr-defined]
    raise ConfigError(f"{name}={value!r} is not supported; valid choices: {valid}")


@dataclass(frozen=True)
class QuantConfig:
    """Quantization of one ONNX model.

    ``mode``/``format``/types: what ORT produces. ``per_channel``: one scale per output channel of each
    weight (needed by MobileNetV3's depthwise convs, whose channels have very different ranges).
    ``calibration_*``: static mode only. ``float_first_convs``: keep the first N convs (graph order) in float:
    the stem sees raw pixels, and PP-OCRv2 rec's early high-gain layers turn tiny weight errors into flipped
    strings while holding only ~70 KB of its weights. ``float_last_ops``: keep the last N
    weight-bearing ops (Conv/ConvTranspose/MatMul/Gemm) in float: the CTC head of rec, the FC of cls, the DB
    head (conv + two transposed convs) of det, whose output is thresholded at 0.3. ``nodes_to_exclude``/``op_types_to_exclude``:
    explicit exclusions. ``dynamic_op_types``: in static mode, op types quantized *dynamically* after the
    static pass (the mixed recipe: static convs + dynamic LSTM). ``fold_depthwise_scales``: static QDQ only;
    quantize the input of every int8 depthwise conv per channel and fold the channel factors into its weight
    scales (``activation_folding.py``), so the kernels stay per-tensor QLinearConv. ``bias_correction``:
    static QDQ only; subtract each int8 conv's mean output error on the calibration data from its bias
    (``bias_correction.py``).
    """

    mode: QuantMode = QuantMode.STATIC
    format: QuantFormat = QuantFormat.QDQ
    activation_type: QuantDType = QuantDType.INT8
    weight_type: QuantDType = QuantDType.INT8
    per_channel: bool = True
    reduce_range: bool = False
    calibration_method: CalibrationMethod = CalibrationMethod.MINMAX
    calibration_samples: int = 64
    percentile: float = 99.999
    float_first_convs: int = 0
    float_last_ops: int = 0
    nodes_to_exclude: Tuple[str, ...] = ()
    op_types_to_exclude: Tuple[str, ...] = ()
    dynamic_op_types: Tuple[str, ...] = ()
    fold_depthwise_scales: bool = False
    bias_correction: bool = False

    def __post_init__(self) -> None:
        # Frozen dataclass: normalize through object.__setattr__ (strings from CLI/JSON become enums/tuples).
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("mode", _enum(QuantMode, "mode", self.mode))
        set_("format", _enum(QuantFormat, "format", self.format))
        set_("activation_type", _enum(QuantDType, "activation_type", self.activation_type))
        set_("weight_type", _enum(QuantDType, "weight_type", self.weight_type))
        set_("calibration_method", _enum(CalibrationMethod, "calibration_method", self.calibration_method))
        for name in ("nodes_to_exclude", "op_types_to_exclude", "dynamic_op_types"):
            set_(name, tuple(getattr(self, name)))

        if self.mode is QuantMode.WEIGHT_ONLY:
            # Weights become int8 initializers behind DequantizeLinear: a QDQ form, symmetric int8 only.
            if self.format is not QuantFormat.QDQ or self.weight_type is not QuantDType.INT8:
                raise ConfigError(
                    f"mode=weight_only with format={self.format.value} weight_type={self.weight_type.value} is not "
                    "supported; weight-only quantization stores symmetric int8 weights behind DequantizeLinear "
                    "(valid: format=QDQ, weight_type=int8)"
                )
            if self.dynamic_op_types:
                raise ConfigError(
                    f"mode=weight_only with dynamic_op_types={list(self.dynamic_op_types)}: dynamic_op_types is for "
                    "mode=static (mixed recipes); drop it or use mode=static"
                )
        elif self.mode is QuantMode.DYNAMIC:
            # quantize_dynamic only emits integer operators (DynamicQuantizeLinear + ConvInteger/MatMulInteger/
            # DynamicQuantizeLSTM); there is no QDQ form of it.
            if self.format is not QuantFormat.QOPERATOR:
                raise ConfigError(
                    f"mode=dynamic with format={self.format.value} is not supported; dynamic quantization "
                    f"produces integer operators: use format=QOperator (valid: QOperator)"
                )
            # DynamicQuantizeLinear outputs uint8 only.
            if self.activation_type is not QuantDType.UINT8:
                raise ConfigError(
                    f"mode=dynamic with activation_type={self.activation_type.value} is not supported; "
                    "ORT's DynamicQuantizeLinear produces uint8 activations (valid: uint8)"
                )
            if self.dynamic_op_types:
                raise ConfigError(
                    f"mode=dynamic with dynamic_op_types={list(self.dynamic_op_types)}: dynamic_op_types selects "
                    "the dynamic part of a *static* (mixed) recipe; use mode=static or drop dynamic_op_types"
                )
        else:
            # ORT: "S8S8 with QOperator format will be slow on x86-64 CPUs and should be avoided in general".
            if self.format is QuantFormat.QOPERATOR and self.activation_type is QuantDType.INT8:
                raise ConfigError(
                    f"format=QOperator with activation_type=int8 (S8{self.weight_type.value[0].upper()}8) is not "
                    "supported: ORT runs QOperator S8S8 on slow reference kernels; use format=QDQ with int8, or "
                    "activation_type=uint8 with QOperator (valid: QDQ+int8/uint8, QOperator+uint8)"
                )
            if self.calibration_samples < 1:
                raise ConfigError(f"calibration_samples={self.calibration_samples} must be >= 1 for mode=static")
            unknown = sorted(set(self.dynamic_op_types) - set(DYNAMIC_OP_TYPES))
            if unknown:
                raise ConfigError(
                    f"dynamic_op_types={unknown} cannot be quantized dynamically; valid: {', '.join(DYNAMIC_OP_TYPES)}"
                )
            clash = sorted(set(self.dynamic_op_types) & set(self.op_types_to_exclude))
            if clash:
                raise ConfigError(
                    f"op types {clash} are both in dynamic_op_types={list(self.dynamic_op_types)} and "
                    f"op_types_to_exclude={list(self.op_types_to_exclude)}; keep each in one of them"
                )
        for name in ("fold_depthwise_scales", "bias_correction"):
            if getattr(self, name) and (self.mode is not QuantMode.STATIC or self.format is not QuantFormat.QDQ):
                raise ConfigError(
                    f"{name}=true with mode={self.mode.value} format={self.format.value}: it rewrites a "
                    "calibrated QDQ graph (valid: mode=static, format=QDQ)"
                )
        for name in ("float_first_convs", "float_last_ops"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= 0")
        if not 90.0 < self.percentile <= 100.0:
            raise ConfigError(f"percentile={self.percentile} must be within (90, 100]")
        if self.calibration_method is CalibrationMethod.PERCENTILE and self.mode is QuantMode.DYNAMIC:
            raise ConfigError(
                "calibration_method=Percentile with mode=dynamic: dynamic quantization has no calibration; "
                "use mode=static or leave calibration_method at MinMax"
            )

    # --- presets -----------------------------------------------------------------------------------------

    @classmethod
    def arm64_static(cls, **overrides: Any) -> "QuantConfig":
        """QDQ S8S8 per-channel, static MinMax.

        Why: ARM64 int8 kernels (NEON sdot/smmla in ORT's MLAS, XNNPACK) take signed int8 on both sides at
        full speed, and QDQ is the form every mobile execution provider (XNNPACK, NNAPI, QNN, CoreML) consumes;
        per-channel weights keep MobileNetV3's depthwise convs accurate.
        """
        return dataclasses.replace(cls(), **overrides)

    @classmethod
    def arm64_dynamic(cls, **overrides: Any) -> "QuantConfig":
        """QOperator U8S8 dynamic, per-channel weights.

        Why: needs no calibration data and is ORT's usual choice for LSTM/FC-heavy models (CRNN's BiLSTM and
        CTC head): activation ranges follow each input, so long or unusual text lines are not clipped.
        """
        base = cls(
            mode=QuantMode.DYNAMIC,
            format=QuantFormat.QOPERATOR,
            activation_type=QuantDType.UINT8,
            weight_type=QuantDType.INT8,
            per_channel=True,
        )
        return dataclasses.replace(base, **overrides)

    @classmethod
    def arm64_mixed(cls, **overrides: Any) -> "QuantConfig":
        """Static QDQ S8S8 convs + dynamic LSTM, CTC head kept in float.

        Why: the recognizer's convs calibrate well, but its BiLSTM state and the CTC head are where published
        int8 PP-OCR recognizers lose points (OpenPPL/ppq#419); dynamic LSTM keeps int8 weights (size) while
        ranges follow each text line.
        """
        base = cls(dynamic_op_types=("LSTM",), float_last_ops=1)
        return dataclasses.replace(base, **overrides)

    @classmethod
    def weight_only(cls, **overrides: Any) -> "QuantConfig":
        """int8 per-channel weights behind DequantizeLinear; activations and compute stay float.

        Why: PP-OCRv2's recognizer amplifies activation quantization noise (BN-folded depthwise convs with
        per-channel gains up to ~300: one int8 activation tensor anywhere in its conv stack flips most strings,
        measured here), but its weights quantize losslessly per channel. 4x smaller, fp32 speed and accuracy.
        """
        base = cls(mode=QuantMode.WEIGHT_ONLY)
        return dataclasses.replace(base, **overrides)

    # --- serialization -----------------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly dict (enums as their values, tuples as lists) for the bundle manifest."""
        out: Dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.value if isinstance(v, enum.Enum) else list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "QuantConfig":
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`ConfigError` listing the valid fields."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown QuantConfig field(s) {unknown}; valid fields: {sorted(names)}")
        return cls(**data)

    def __str__(self) -> str:
        types = f"{'S' if self.activation_type is QuantDType.INT8 else 'U'}8{'S' if self.weight_type is QuantDType.INT8 else 'U'}8"
        parts = [self.mode.value, self.format.value, types, "per-channel" if self.per_channel else "per-tensor"]
        if self.reduce_range:
            parts.append("reduce-range")
        if self.mode is QuantMode.WEIGHT_ONLY:
            parts = [self.mode.value, "int8-weights", "per-channel" if self.per_channel else "per-tensor"]
        if self.mode is QuantMode.STATIC:
            method = self.calibration_method.value
            if self.calibration_method is CalibrationMethod.PERCENTILE:
                method += f"({self.percentile})"
            parts.append(f"{method} n={self.calibration_samples}")
        if self.dynamic_op_types:
            parts.append(f"dynamic={','.join(self.dynamic_op_types)}")
        if self.fold_depthwise_scales:
            parts.append("per-channel-depthwise-inputs")
        if self.bias_correction:
            parts.append("bias-correction")
        excl = [f"first-{self.float_first_convs}-convs"] if self.float_first_convs else []
        excl += [f"last-{self.float_last_ops}-ops"] if self.float_last_ops else []
        excl += list(self.op_types_to_exclude) + list(self.nodes_to_exclude)
        if excl:
            parts.append(f"float={','.join(excl)}")
        return "QuantConfig(" + " ".join(parts) + ")"
