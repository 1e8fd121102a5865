"""Per-channel activation scales folded into depthwise convs of a static QDQ model (issue 10).

Why: after BN folding, PP-OCRv2's early depthwise convs are near-zero-sum edge filters with large gains, and the
channels of their inputs have very different ranges (max 8 in one channel, 134 in the next). One per-tensor int8
scale sized for the widest channel leaves the narrow ones a handful of levels, and the filter amplifies that
rounding noise 100-500x: the recognizer collapses unless those convs stay float. Quantizing the input *per
channel* fixes the noise, but ORT's integer conv kernels (QLinearConv on x86 and ARM64) take one input scale.

The fold keeps every kernel an ordinary per-tensor QLinearConv. For a depthwise conv, output channel ``o`` reads
only input channel ``c = o // multiplier``, so a per-input-channel factor ``r_c`` moves exactly into the weight's
per-output-channel scale:

    X -> Q(scale s*r_c per channel, zero point z) -> DQ(scale s, zero point z) -> Conv(W dequantized with sw_o*r_c)

The QuantizeLinear becomes per-axis (an elementwise op), the DequantizeLinear stays per-tensor (what the fusion
into QLinearConv needs), the int8 weights are unchanged (only their scales move), and the int32 bias is requantized
to its new scale ``s * sw_o * r_c``. A common zero point keeps zero padding exact. Each channel's step
``s * r_c`` is the smallest that covers its calibrated [min, max] with the shared zero point, chosen to minimize
the mean log step over channels.
"""
from __future__ import annotations

import collections
import json
import logging
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .qdq_graph import is_depthwise, producers, quantized_input, tap

log = logging.getLogger(__name__)

ChannelRanges = Dict[str, Tuple[np.ndarray, np.ndarray]]  # tensor -> (min per channel, max per channel)


def depthwise_inputs(model: onnx.ModelProto) -> Dict[str, str]:
    """Depthwise Conv node name -> its activation input tensor."""
    dims = {i.name: list(i.dims) for i in model.graph.initializer}
    return {n.name: n.input[0] for n in model.graph.node
            if n.op_type == "Conv" and len(n.input) > 1 and is_depthwise(n, dims.get(n.input[1], []))}


def channel_ranges(model: onnx.ModelProto, tensors: List[str], reader) -> ChannelRanges:
    """Min and max of each channel (axis 1) of ``tensors`` of float ``model`` over every sample of ``reader``."""
    lo: Dict[str, np.ndarray] = {}
    hi: Dict[str, np.ndarray] = {}
    for values in tap(model, tensors, reader):
        for name, value in values.items():
            axes = tuple(a for a in range(value.ndim) if a != 1)
            mn, mx = value.min(axis=axes), value.max(axis=axes)
            lo[name] = np.minimum(lo[name], mn) if name in lo else mn
            hi[name] = np.maximum(hi[name], mx) if name in hi else mx
    return {t: (lo[t].astype(np.float64), hi[t].astype(np.float64)) for t in tensors if t in lo}


def save_ranges(path: Path, ranges: ChannelRanges) -> None:
    """Write ``ranges`` as JSON (beside ORT's calibration cache, so a search calibrates once)."""
    from edgeocr.atomic_io import write_json

    write_json(path, {k: {"min": lo.tolist(), "max": hi.tolist()} for k, (lo, hi) in ranges.items()})


def load_ranges(path: Path) -> ChannelRanges:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {k: (np.asarray(v["min"], np.float64), np.asarray(v["max"], np.float64)) for k, v in data.items()}


def channel_steps(lo: np.ndarray, hi: np.ndarray, qmax: int = 255) -> Tuple[np.ndarray, int]:
    """Per-channel uint8 steps sharing one zero point ``z``: the smallest step of channel c covering
    [min(lo_c, 0), max(hi_c, 0)] is ``max(hi_c / (qmax - z), -lo_c / z)``; ``z`` minimizes the mean log step."""
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    tiny = 1e-8
    best: Optional[Tuple[float, np.ndarray, int]] = None
    for z in range(0, qmax):
        neg = -lo / z if z else np.where(lo < 0, np.inf, 0.0)
        step = np.maximum(np.maximum(hi / (qmax - z), neg), tiny)
        cost = float(np.mean(np.log(step)))
        if best is None or cost < best[0]:
            best = (cost, step, z)
    assert best is not None
    return best[1], best[2]


def fold_activation_scales(model: onnx.ModelProto, ranges: ChannelRanges) -> List[str]:
    """Rewrite each quantized depthwise Conv of QDQ ``model`` whose input has ``ranges`` (see module docstring);
    returns the names of the convs folded. The int8 weights stay as they are: only the scales move.

    Only depthwise convs: folding into a regular conv means scaling its weights per *input* channel and
    requantizing them per output channel (SmoothQuant with alpha = 1); measured on PP-OCRv2 rec's pointwise convs
    it changed as many strings as no fold, because the wide input channels then coarsen the other channels'
    weights. Float convs and other Q/DQ patterns are left alone."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = producers(model)
    folded: List[str] = []
    new_nodes: Dict[str, List[onnx.NodeProto]] = collections.defaultdict(list)

    def arr(name: str) -> np.ndarray:
        return numpy_helper.to_array(inits[name])

    def add(value: np.ndarray, name: str) -> str:
        g.initializer.append(numpy_helper.from_array(value, name))
        inits[name] = g.initializer[-1]
        return name

    for conv in list(g.node):
        if conv.op_type != "Conv" or len(conv.input) < 2:
            continue
        pair, dq_w = quantized_input(conv, producer), producer.get(conv.input[1])
        if pair is None or dq_w is None or dq_w.op_type != "DequantizeLinear":
            continue
        q_x, dq_x = pair
        if q_x.input[0] not in ranges or len(dq_w.input) < 3 or len(dq_x.input) < 3 \
                or not all(i in inits for i in list(dq_w.input) + list(dq_x.input[1:])):
            continue
        if not is_depthwise(conv, list(inits[dq_w.input[0]].dims)):
            continue
        lo, hi = ranges[q_x.input[0]]
        step, z = channel_steps(lo, hi)
        s = float(np.exp(np.mean(np.log(step))))  # the DQ's per-tensor scale: any value works, keep it typical
        sw = arr(dq_w.input[1]).astype(np.float64)
        if sw.size % step.size:
            continue
        # exact: output channel o reads input channel o // multiplier, whose factor its scale absorbs
        new_sw = (sw * np.repeat(step / s, sw.size // step.size)).astype(np.float32)
        base = conv.name
        zp_dtype = arr(dq_x.input[2]).dtype
        # a private Q/DQ pair for this conv (the old one may be shared with other consumers)
        new_q = helper.make_node(
            "QuantizeLinear",
            [q_x.input[0], add(step.astype(np.float32), f"{base}_fold_q_scale"),
             add(np.full(step.shape, z, zp_dtype), f"{base}_fold_q_zp")],
            [f"{base}_folded_input_q"], name=f"{base}_fold_QuantizeLinear", axis=1)
        new_dq = helper.make_node(
            "DequantizeLinear",
            [new_q.output[0], add(np.array(s, np.float32), f"{base}_fold_dq_scale"),
             add(np.array(z, zp_dtype), f"{base}_fold_dq_zp")],
            [f"{base}_folded_input"], name=f"{base}_fold_DequantizeLinear")
        new_wdq = helper.make_node(
            "DequantizeLinear", [dq_w.input[0], add(new_sw, f"{base}_fold_w_scale"), dq_w.input[2]],
            [f"{base}_folded_weight"], name=f"{base}_fold_weight_DequantizeLinear", axis=0)
        inputs = [new_dq.output[0], new_wdq.output[0]]
        nodes = [new_q, new_dq, new_wdq]
        if len(conv.input) > 2 and conv.input[2]:
            dq_b = producer.get(conv.input[2])
            if dq_b is not None and dq_b.op_type == "DequantizeLinear" and dq_b.input[0] in inits:
                b = arr(dq_b.input[0]).astype(np.float64) * arr(dq_b.input[1]).astype(np.float64)
                b_scale = (s * new_sw.astype(np.float64)).astype(np.float32)
                bq = np.clip(np.round(b / b_scale), -2**31, 2**31 - 1).astype(np.int32)
                new_bdq = helper.make_node(
                    "DequantizeLinear", [add(bq, f"{base}_fold_bias_q"), add(b_scale, f"{base}_fold_bias_scale"),
                                         add(np.zeros(bq.shape, np.int32), f"{base}_fold_bias_zp")],
                    [f"{base}_folded_bias"], name=f"{base}_fold_bias_DequantizeLinear", axis=0)
                nodes.append(new_bdq)
                inputs.append(new_bdq.output[0])
            else:
                inputs.append(conv.input[2])
        del conv.input[:]
        conv.input.extend(inputs)
        new_nodes[conv.name] = nodes
        folded.append(conv.name)
    if not folded:
        return folded
    # insert each conv's new nodes right before it (topological order), then drop what nobody reads any more
    ordered: List[onnx.NodeProto] = []
    for node in g.node:
        ordered.extend(new_nodes.get(node.name, []))
        ordered.append(node)
    del g.node[:]
    g.node.extend(ordered)
    _prune(model)
    log.info("activation scales folded into %d convs", len(folded))
    return folded


def _prune(model: onnx.ModelProto) -> None:
    """Remove nodes whose outputs nobody reads, then initializers nobody reads."""
    g = model.graph
    outputs = {o.name for o in g.output}
    while True:
        used = {x for n in g.node for x in n.input} | outputs
        dead = [n for n in g.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    used = {x for n in g.node for x in n.input}
    for init in [i for i in g.initializer if i.name not in used]:
        g.initializer.remove(init)
