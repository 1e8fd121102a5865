"""Quantizer units on tiny graphs built in code (issue 5), in the style of ORT's test_quantize_static.py.

Each test builds a small fp32 model, quantizes it with edgeocr's ``quantize_model`` / ``convert_fp16`` /
``convert_to_ort``, and checks two things with shared helpers: the op-type counts (Q/DQ nodes, integer ops)
and closeness of the outputs to the fp32 model on the data it was calibrated for.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeocr.converters.calibration import TensorReader
from edgeocr.converters.onnx_fp16 import convert_fp16
from edgeocr.converters.onnx_quantize import first_convs, last_weight_ops, quantize_model
from edgeocr.converters.ort_format import REQUIRED_OPERATORS, convert_to_ort
from edgeocr.converters.quant_config import QuantConfig
from edgeocr.errors import ConfigError

RNG_SEED = 0


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def check_op_type_count(model_path: Path, **expected: int) -> None:
    """Assert the number of nodes of each op type given (0 = absent)."""
    model = onnx.load(str(model_path))
    counts: Dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    got = {op: counts.get(op, 0) for op in expected}
    assert got == expected, f"op counts {got} != expected {expected} (all: {counts})"


def check_model_correctness(fp32: Path, other: Path, inputs: List[np.ndarray], rtol_of_range: float) -> float:
    """Assert ``other`` reproduces ``fp32`` on ``inputs`` within ``rtol_of_range`` x the output's value range.

    int8 error scales with the activation range, so the tolerance is relative to it. Returns the worst
    relative error.
    """
    s_ref = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    s_q = ort.InferenceSession(str(other), providers=["CPUExecutionProvider"])
    name = s_ref.get_inputs()[0].name
    worst = 0.0
    for x in inputs:
        ref = s_ref.run(None, {name: x})[0]
        got = s_q.run(None, {name: x})[0]
        assert got.shape == ref.shape and got.dtype == ref.dtype
        span = float(ref.max() - ref.min()) or 1.0
        worst = max(worst, float(np.abs(got - ref).max()) / span)
    assert worst <= rtol_of_range, f"max |diff| = {worst:.4f} x range > {rtol_of_range}"
    return worst


def _inputs(shape, n: int, seed: int = RNG_SEED) -> List[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=shape).astype(np.float32) for _ in range(n)]


def _reader_factory(shape, n_max: int = 16):
    def make(input_name: str, n: int) -> TensorReader:
        data = _inputs(shape, min(n, n_max), seed=RNG_SEED + 1)
        return TensorReader(input_name, lambda i: data[i], len(data))

    return make


def _w(rng, *shape) -> np.ndarray:
    return (rng.standard_normal(shape) * 0.3).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# tiny models
# ------------------------------------------------------------------------------------------------


def conv_mlp_model(path: Path) -> Path:
    """A miniature of the PP-OCRv2 stages: stem conv, pointwise conv, pooling, FC head, softmax.

    ::

        x [1,3,16,16]
          |
        Conv 3->8 3x3 (stem)  "conv_stem"
          |
        Relu
          |
        Conv 8->8 1x1         "conv_pw"
          |
        GlobalAveragePool -> Reshape [1,8]
          |
        MatMul 8->5 (head)    "head"
          |
        Softmax -> y [1,5]
    """
    rng = np.random.default_rng(RNG_SEED)
    inits = [
        numpy_helper.from_array(_w(rng, 8, 3, 3, 3), "w_stem"),
        numpy_helper.from_array(_w(rng, 8), "b_stem"),
        numpy_helper.from_array(_w(rng, 8, 8, 1, 1), "w_pw"),
        numpy_helper.from_array(_w(rng, 8), "b_pw"),
        numpy_helper.from_array(_w(rng, 8, 5), "w_head"),
        numpy_helper.from_array(np.array([1, 8], np.int64), "shape_flat"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w_stem", "b_stem"], ["c1"], name="conv_stem", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
        helper.make_node("Conv", ["r1", "w_pw", "b_pw"], ["c2"], name="conv_pw"),
        helper.make_node("GlobalAveragePool", ["c2"], ["gap"], name="gap"),
        helper.make_node("Reshape", ["gap", "shape_flat"], ["flat"], name="flat"),
        helper.make_node("MatMul", ["flat", "w_head"], ["logits"], name="head"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "conv_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def conv_lstm_model(path: Path) -> Path:
    """A miniature CRNN: conv features -> sequence -> LSTM -> FC head (the rec stage's shape of problem).

    ::

        x [1,4,1,6]   (N, C, H=1, T)
          |
        Conv 4->8 1x1              "conv"
          |
        Reshape [1,8,6] -> Transpose [6,1,8]   (T, N, C)
          |
        LSTM hidden 8              "lstm"
          |   Y [6,1,1,8]
        Reshape [6,8]
          |
        MatMul 8->5  (CTC head)    "head"
          |
        y [6,5]
    """
    rng = np.random.default_rng(RNG_SEED)
    hidden = 8
    inits = [
        numpy_helper.from_array(_w(rng, 8, 4, 1, 1), "w_conv"),
        numpy_helper.from_array(_w(rng, 8), "b_conv"),
        numpy_helper.from_array(np.array([1, 8, 6], np.int64), "shape_seq"),
        numpy_helper.from_array(_w(rng, 1, 4 * hidden, 8), "W"),
        numpy_helper.from_array(_w(rng, 1, 4 * hidden, hidden), "R"),
        numpy_helper.from_array(_w(rng, 1, 8 * hidden), "B"),
        numpy_helper.from_array(np.array([6, hidden], np.int64), "shape_out"),
        numpy_helper.from_array(_w(rng, hidden, 5), "w_head"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w_conv", "b_conv"], ["c"], name="conv"),
        helper.make_node("Reshape", ["c", "shape_seq"], ["seq"], name="to_seq"),
        helper.make_node("Transpose", ["seq"], ["tnc"], name="tnc", perm=[2, 0, 1]),
        helper.make_node("LSTM", ["tnc", "W", "R", "B"], ["Y"], name="lstm", hidden_size=hidden),
        helper.make_node("Reshape", ["Y", "shape_out"], ["feat"], name="feat"),
        helper.make_node("MatMul", ["feat", "w_head"], ["y"], name="head"),
    ]
    graph = helper.make_graph(
        nodes, "conv_lstm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 1, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6, 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    d = tmp_path_factory.mktemp("tiny")
    return {"conv_mlp": conv_mlp_model(d / "conv_mlp.onnx"), "conv_lstm": conv_lstm_model(d / "conv_lstm.onnx")}


X_MLP = (1, 3, 16, 16)
X_LSTM = (1, 4, 1, 6)


# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------


def test_static_qdq_s8s8_per_channel_quantizes_convs_and_head(models, tmp_path):
    out = tmp_path / "q.onnx"
    res = quantize_model(models["conv_mlp"], out, QuantConfig.arm64_static(calibration_samples=8),
                         _reader_factory(X_MLP))
    # ORT's QDQ quantizes the input and output activations of every quantized op (so each can become a
    # QLinear* kernel): x, c1, r1 (Relu follows its input), c2, flat, logits = 6 Q with 6 DQ; plus one DQ per
    # int8 weight (2 convs + head) and per int32 conv bias (2) -> 11 DQ.
    check_op_type_count(out, QuantizeLinear=6, DequantizeLinear=11, Conv=2, MatMul=1, ConvInteger=0)
    # S8S8: every Q produces int8; per-channel: conv weight scales have one entry per output channel.
    model = onnx.load(str(out))
    inits = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear":
            zp = inits[node.input[2]]
            assert zp.data_type == TensorProto.INT8
    conv_w_scales = [numpy_helper.to_array(inits[n.input[1]]) for n in model.graph.node
                     if n.op_type == "DequantizeLinear" and inits.get(n.input[0]) is not None
                     and len(inits[n.input[0]].dims) == 4]
    assert sorted(s.size for s in conv_w_scales) == [8, 8]
    assert res.excluded_nodes == []
    # softmax over 5 classes spans ~0.3: 0.1 of that is ~0.03 absolute
    check_model_correctness(models["conv_mlp"], out, _inputs(X_MLP, 4, seed=RNG_SEED + 1), rtol_of_range=0.1)


def test_exclusions_keep_first_conv_and_head_in_float(models, tmp_path):
    out = tmp_path / "q.onnx"
    cfg = QuantConfig.arm64_static(calibration_samples=8, float_first_convs=1, float_last_ops=1)
    res = quantize_model(models["conv_mlp"], out, cfg, _reader_factory(X_MLP))
    assert res.excluded_nodes == ["conv_stem", "head"]
    # Only conv_pw is quantized: Q/DQ on its input r1 and output c2, DQ for its weight and bias.
    check_op_type_count(out, QuantizeLinear=2, DequantizeLinear=4, Conv=2, MatMul=1)
    model = onnx.load(str(out))
    stem = next(n for n in model.graph.node if n.name == "conv_stem")
    assert stem.input[0] == "x" and stem.input[1] == "w_stem"  # untouched fp32 weight
    check_model_correctness(models["conv_mlp"], out, _inputs(X_MLP, 4, seed=RNG_SEED + 1), rtol_of_range=0.05)


def test_graph_helpers_find_stem_and_head(models):
    model = onnx.load(str(models["conv_mlp"]))
    assert first_convs(model, 1) == ["conv_stem"]
    assert first_convs(model, 5) == ["conv_stem", "conv_pw"]
    assert last_weight_ops(model, 1) == ["head"]
    assert last_weight_ops(model, 2) == ["conv_pw", "head"]


def test_dynamic_uses_integer_ops(models, tmp_path):
    out = tmp_path / "d.onnx"
    quantize_model(models["conv_mlp"], out, QuantConfig.arm64_dynamic())
    check_op_type_count(out, ConvInteger=2, MatMulInteger=1, DynamicQuantizeLinear=3, Conv=0, MatMul=0,
                        QuantizeLinear=0)
    # uint8 per-tensor activations computed per input: coarser than calibrated int8 on this tiny net
    check_model_correctness(models["conv_mlp"], out, _inputs(X_MLP, 4), rtol_of_range=0.1)


def test_mixed_recipe_static_conv_dynamic_lstm(models, tmp_path):
    out = tmp_path / "m.onnx"
    cfg = QuantConfig.arm64_mixed(calibration_samples=8)
    res = quantize_model(models["conv_lstm"], out, cfg, _reader_factory(X_LSTM))
    assert res.excluded_nodes == ["head"]  # CTC head kept in float by the preset
    # conv: static QDQ (Q/DQ on x and on its output, DQ on weight and bias); LSTM: DynamicQuantizeLSTM with
    # int8 weights; head: float.
    check_op_type_count(out, QuantizeLinear=2, DequantizeLinear=4, DynamicQuantizeLSTM=1, LSTM=0, MatMul=1,
                        MatMulInteger=0)
    # int8 conv feeding a dynamically quantized LSTM on random weights compounds two errors; a wrong scale or
    # axis gives errors larger than the whole output range, which this still catches
    check_model_correctness(models["conv_lstm"], out, _inputs(X_LSTM, 4, seed=RNG_SEED + 1), rtol_of_range=0.25)


def test_static_without_calibration_data_is_rejected(models, tmp_path):
    with pytest.raises(ConfigError, match="needs calibration data"):
        quantize_model(models["conv_mlp"], tmp_path / "x.onnx", QuantConfig.arm64_static(), None)
    assert not (tmp_path / "x.onnx").exists()


def test_weight_only_stores_int8_weights_and_keeps_float_compute(models, tmp_path):
    out = tmp_path / "w.onnx"
    res = quantize_model(models["conv_lstm"], out, QuantConfig.weight_only(float_first_convs=1))
    assert res.excluded_nodes == ["conv"]
    # LSTM W and R (256 values each) become int8 + DequantizeLinear; the first conv is excluded and the 8x5
    # head (40 values, below the 64-value floor) stays float; no activation is quantized.
    check_op_type_count(out, DequantizeLinear=2, QuantizeLinear=0, LSTM=1, MatMul=1, Conv=1)
    model = onnx.load(str(out))
    int8 = sorted(i.name for i in model.graph.initializer if i.data_type == TensorProto.INT8 and len(i.dims) >= 2)
    assert int8 == ["R_quantized", "W_quantized"]
    check_model_correctness(models["conv_lstm"], out, _inputs(X_LSTM, 4), rtol_of_range=0.02)


def test_fp16_keeps_fp32_io_and_halves_weights(models, tmp_path):
    out = tmp_path / "h.onnx"
    res = convert_fp16(models["conv_mlp"], out)
    model = onnx.load(str(out))
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    conv_w = [i for i in model.graph.initializer if len(i.dims) == 4]
    assert conv_w and all(i.data_type == TensorProto.FLOAT16 for i in conv_w)
    assert res.fp32_ops == ["Softmax"]  # no fp16 CPU kernel: kept fp32 behind Casts
    check_model_correctness(models["conv_mlp"], out, _inputs(X_MLP, 4), rtol_of_range=0.01)


def test_ort_format_writes_models_and_required_operators(models, tmp_path):
    q = tmp_path / "q.onnx"
    quantize_model(models["conv_mlp"], q, QuantConfig.arm64_static(calibration_samples=4), _reader_factory(X_MLP))
    out_dir = tmp_path / "ort"
    out_dir.mkdir()
    written, config = convert_to_ort({"cls": q}, out_dir)
    assert written == {"cls": out_dir / "cls.ort"} and config == out_dir / REQUIRED_OPERATORS
    text = config.read_text()
    # the int8 kernels a reduced ORT build must keep
    assert "QuantizeLinear" in text and "DequantizeLinear" in text
    # target_platform=arm keeps int8 QDQ semantics (x86 fuses differently), so compare with the fp32 model
    check_model_correctness(models["conv_mlp"], written["cls"], _inputs(X_MLP, 4, seed=RNG_SEED + 1),
                            rtol_of_range=0.05)
