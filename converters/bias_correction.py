"""Empirical bias correction of a static QDQ model (issue 10), after Nagel et al., "Data-Free Quantization
Through Weight Equalization and Bias Correction" (ICCV 2019), section 4.2, and NNCF's ``fast_bias_correction``.

Why: int8 rounding of a conv's weights and input is not zero-mean per output channel. Over a conv's receptive
field the errors add up to a per-channel *shift* of the output (a few percent of its range in PP-OCRv2's
BN-folded convs), and DB detection thresholds its probability map at 0.3: a shifted map grows or shrinks boxes
and flips borderline ones. A shift is the one error a bias can undo.

How, in one pass over the calibration data (exact numerics, ORT graph optimizations off):
  1. For every int8 Conv, add a float twin to a scratch copy of the model: the original float weights and bias
     applied to the *same* input tensor the int8 conv quantizes (the tensor before its QuantizeLinear).
  2. Run the calibration samples; average ``int8 output - twin output`` per output channel. The twin sees the
     int8 model's own upstream activations, so each conv's correction is its *local* error only.
  3. Subtract the mean error from the conv's bias (requantized to int32 at the bias's own scale; a conv without
     a bias gets one). The weights, scales and Q/DQ layout stay as they are, so ORT fuses exactly what it fused.
"""
from __future__ import annotations

import collections
import logging
from typing import Dict, List, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .qdq_graph import producers, quantized_input, tap

log = logging.getLogger(__name__)


def mean_output_errors(model: onnx.ModelProto, float_model: onnx.ModelProto, reader) -> Dict[str, np.ndarray]:
    """Step 1-2: conv name -> mean (int8 - float) output per channel over every sample of ``reader``."""
    floats = {n.name: n for n in float_model.graph.node if n.op_type == "Conv"}
    inits = {i.name: i for i in float_model.graph.initializer}
    scratch = onnx.ModelProto()
    scratch.CopyFrom(model)
    producer = producers(scratch)
    pairs: Dict[str, Tuple[str, str]] = {}
    for node in list(scratch.graph.node):
        qdq = quantized_input(node, producer) if node.op_type == "Conv" else None
        ref = floats.get(node.name)
        if qdq is None or ref is None or ref.input[1] not in inits:
            continue
        twin_inputs = [qdq[0].input[0]]  # the float tensor the int8 conv quantizes
        for k, name in enumerate(ref.input[1:3], start=1):
            if name:
                twin_name = f"{node.name}_bc_twin_{k}"
                scratch.graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(inits[name]), twin_name))
                twin_inputs.append(twin_name)
        # appended after every node: it reads a tensor produced earlier, so the order stays valid
        twin = helper.make_node("Conv", twin_inputs, [f"{node.name}_bc_twin_out"], name=f"{node.name}_bc_twin")
        twin.attribute.extend(ref.attribute)
        scratch.graph.node.append(twin)
        pairs[node.name] = (node.output[0], twin.output[0])
    if not pairs:
        return {}
    sums: Dict[str, np.ndarray] = {}
    counts: Dict[str, int] = collections.Counter()
    for values in tap(scratch, [t for pair in pairs.values() for t in pair], reader):
        for conv, (y, f) in pairs.items():
            diff = values[y].astype(np.float64) - values[f].astype(np.float64)
            axes = tuple(a for a in range(diff.ndim) if a != 1)
            sums[conv] = sums.get(conv, 0.0) + diff.sum(axis=axes)
            counts[conv] += diff.size // diff.shape[1]
    return {conv: sums[conv] / max(counts[conv], 1) for conv in sums}


def apply_corrections(model: onnx.ModelProto, errors: Dict[str, np.ndarray]) -> List[str]:
    """Step 3: subtract ``errors`` from the biases of the named convs in QDQ ``model``; returns the convs changed."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = producers(model)
    readers = collections.Counter(x for n in g.node for x in n.input)
    changed = []
    for node in g.node:
        err = errors.get(node.name)
        if node.op_type != "Conv" or err is None or not np.any(err):
            continue
        dq_b = producer.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if dq_b is not None and dq_b.op_type == "DequantizeLinear" and dq_b.input[0] in inits \
                and readers.get(dq_b.input[0], 0) == 1:
            scale = numpy_helper.to_array(inits[dq_b.input[1]]).astype(np.float64)
            b = numpy_helper.to_array(inits[dq_b.input[0]]).astype(np.float64) * scale - err
            bq = np.clip(np.round(b / scale), -2**31, 2**31 - 1).astype(np.int32)
            inits[dq_b.input[0]].CopyFrom(numpy_helper.from_array(bq, dq_b.input[0]))
        elif len(node.input) > 2 and node.input[2] in inits and readers.get(node.input[2], 0) == 1:
            b = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64) - err
            inits[node.input[2]].CopyFrom(numpy_helper.from_array(b.astype(np.float32), node.input[2]))
        elif len(node.input) < 3 or not node.input[2]:
            name = f"{node.name}_bias_corrected"
            g.initializer.append(numpy_helper.from_array((-err).astype(np.float32), name))
            del node.input[2:]
            node.input.append(name)
        else:
            continue
        changed.append(node.name)
    log.info("bias correction: %d convs", len(changed))
    return changed
