"""Rewrites of a calibrated QDQ graph (issue 10): per-channel depthwise inputs folded into weight scales, and
empirical bias correction. Toy convs built here, quantized by ORT as the converter does, run with exact numerics."""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeocr.converters.activation_folding import channel_steps, depthwise_inputs, fold_activation_scales
from edgeocr.converters.calibration import TensorReader
from edgeocr.converters.bias_correction import apply_corrections, mean_output_errors
from edgeocr.converters.onnx_quantize import quantize_model
from edgeocr.converters.quant_config import QuantConfig
from edgeocr.errors import ConfigError

C = 8


def _Reader(xs: List[np.ndarray]) -> TensorReader:
    """The converter's calibration reader over fixed inputs."""
    return TensorReader("x", lambda i: xs[i], len(xs), "toy")


def _inputs(n: int, seed: int, wide: float = 100.0) -> List[np.ndarray]:
    """Channels with very different ranges (channel 0 up to ~``wide``, the others ~1), like PP-OCRv2 rec's
    depthwise inputs."""
    rng = np.random.default_rng(seed)
    gains = np.array([wide] + [1.0] * (C - 1), np.float32).reshape(1, C, 1, 1)
    return [(rng.standard_normal((1, C, 12, 12)).astype(np.float32) * gains) for _ in range(n)]


def _toy(path: Path) -> Path:
    """x -> depthwise 3x3 (edge filters, per-channel gain) -> Relu -> pointwise 1x1 -> y."""
    rng = np.random.default_rng(0)
    dw = rng.standard_normal((C, 1, 3, 3)).astype(np.float32)
    dw -= dw.mean(axis=(2, 3), keepdims=True)  # near-zero-sum filters: outputs are differences of large terms
    dw[0] /= 100.0  # the wide input channel has a small gain: every output channel has a similar range
    pw = rng.standard_normal((4, C, 1, 1)).astype(np.float32) * 0.3
    nodes = [
        helper.make_node("Conv", ["x", "dw_w", "dw_b"], ["h"], name="Conv.dw", group=C, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h"], ["r"], name="Relu.0"),
        helper.make_node("Conv", ["r", "pw_w", "pw_b"], ["y"], name="Conv.pw"),
    ]
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 12, 12])],
        [numpy_helper.from_array(dw, "dw_w"), numpy_helper.from_array(np.zeros(C, np.float32), "dw_b"),
         numpy_helper.from_array(pw, "pw_w"), numpy_helper.from_array(np.full(4, 0.1, np.float32), "pw_b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _run(path: Path, xs: List[np.ndarray], optimized: bool = False) -> List[np.ndarray]:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED if optimized
                                     else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    return [sess.run(None, {"x": x})[0] for x in xs]


def _quantize(src: Path, dst: Path, wide: float = 100.0, **cfg) -> Path:
    config = QuantConfig(activation_type="uint8", calibration_samples=16, **cfg)
    quantize_model(src, dst, config, lambda name, n: _Reader(_inputs(n, seed=1, wide=wide)))
    return dst


def _error(path: Path, ref: Path, xs: List[np.ndarray]) -> float:
    return float(np.mean([np.abs(a - b).mean() for a, b in zip(_run(path, xs), _run(ref, xs))]))


def test_channel_steps_cover_every_channel_with_one_zero_point():
    lo, hi = np.array([-0.375, -0.375, 0.0, -2.0]), np.array([1.0, 120.0, 8.0, 3.0])
    step, z = channel_steps(lo, hi)
    assert 0 < z < 255 and step.shape == (4,)
    assert np.all(step * z >= -lo - 1e-9) and np.all(step * (255 - z) >= hi - 1e-9)  # every range fits
    assert step[1] > 10 * step[0]  # the wide channel gets the wide step, the narrow one keeps its resolution


def test_fold_keeps_ort_kernels_and_cuts_the_error_of_wide_channel_spreads(tmp_path: Path) -> None:
    src = _toy(tmp_path / "toy.onnx")
    plain = _quantize(src, tmp_path / "plain.onnx", nodes_to_exclude=("Conv.pw",))
    folded = _quantize(src, tmp_path / "folded.onnx", fold_depthwise_scales=True, nodes_to_exclude=("Conv.pw",))
    xs = _inputs(8, seed=2)  # unseen inputs
    # per-tensor input scale sized for channel 0 leaves channels 1..7 ~2 levels; per channel they get ~255
    assert _error(folded, src, xs) < 0.5 * _error(plain, src, xs)
    model = onnx.load(str(folded))
    q = [n for n in model.graph.node if n.op_type == "QuantizeLinear" and n.name.startswith("Conv.dw")]
    assert len(q) == 1 and numpy_helper.to_array(
        next(i for i in model.graph.initializer if i.name == q[0].input[1])).shape == (C,)
    # ORT still fuses the depthwise conv into an integer QLinearConv (per-tensor input scale)
    opt = tmp_path / "opt.onnx"
    opts = ort.SessionOptions()
    opts.optimized_model_filepath = str(opt)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    ort.InferenceSession(str(folded), sess_options=opts, providers=["CPUExecutionProvider"])
    assert [n.op_type for n in onnx.load(str(opt)).graph.node].count("QLinearConv") == 1
    np.testing.assert_allclose(_run(folded, xs[:2], optimized=True)[0], _run(folded, xs[:2])[0], atol=0.05, rtol=0.05)


def test_fold_leaves_float_convs_alone(tmp_path: Path) -> None:
    src = _toy(tmp_path / "toy.onnx")
    folded = _quantize(src, tmp_path / "f.onnx", fold_depthwise_scales=True, nodes_to_exclude=("Conv.dw",))
    assert not any(n.name.startswith("Conv.dw_fold") for n in onnx.load(str(folded)).graph.node)
    assert depthwise_inputs(onnx.load(str(src))) == {"Conv.dw": "x"}
    assert fold_activation_scales(onnx.load(str(src)), {}) == []


def test_bias_correction_removes_the_mean_output_error(tmp_path: Path) -> None:
    src = _toy(tmp_path / "toy.onnx")
    # same-range channels: the int32 bias step (input scale x weight scale) is fine enough to hold a correction
    plain = _quantize(src, tmp_path / "plain.onnx", wide=1.0)
    corrected = _quantize(src, tmp_path / "bc.onnx", wide=1.0, bias_correction=True)
    fp = onnx.load(str(src))
    before = mean_output_errors(onnx.load(str(plain)), fp, _Reader(_inputs(16, seed=1, wide=1.0)))
    after = mean_output_errors(onnx.load(str(corrected)), fp, _Reader(_inputs(16, seed=1, wide=1.0)))
    assert set(before) == {"Conv.dw", "Conv.pw"}
    total = lambda errs: sum(float(np.abs(e).sum()) for e in errs.values())  # noqa: E731
    assert total(after) < 0.3 * total(before), (before, after)
    # on unseen inputs the mean output shift shrinks too
    xs = _inputs(8, seed=3, wide=1.0)
    shift = lambda p: abs(float(np.mean([a - b for a, b in zip(_run(p, xs), _run(src, xs))])))  # noqa: E731
    assert shift(corrected) < shift(plain)


def test_apply_corrections_adds_a_bias_where_there_was_none() -> None:
    w = numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="Conv.nb")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2, 2])], [w])
    model = helper.make_model(graph)
    assert apply_corrections(model, {"Conv.nb": np.array([0.5, -0.25])}) == ["Conv.nb"]
    bias = next(i for i in model.graph.initializer if i.name == model.graph.node[0].input[2])
    np.testing.assert_allclose(numpy_helper.to_array(bias), [-0.5, 0.25])


@pytest.mark.parametrize("field", ["fold_depthwise_scales", "bias_correction"])
def test_rewrites_need_a_static_qdq_recipe(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        QuantConfig.weight_only(**{field: True})
