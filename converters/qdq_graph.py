"""Reading and probing an ONNX graph for the QDQ rewrites (``activation_folding.py``, ``bias_correction.py``).

One place for what both rewrites need: which QuantizeLinear/DequantizeLinear pair feeds a conv, which convs are
depthwise, and a run over calibration samples with intermediate tensors exposed, with exact numerics (ORT graph
optimizations off: Q/DQ run as written, i.e. the int8 products ARM64 computes).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import onnx
from onnx import helper


def producers(model: onnx.ModelProto) -> Dict[str, onnx.NodeProto]:
    """Tensor name -> the node that produces it."""
    return {o: n for n in model.graph.node for o in n.output}


def quantized_input(conv: onnx.NodeProto, producer: Dict[str, onnx.NodeProto]
                    ) -> Optional[Tuple[onnx.NodeProto, onnx.NodeProto]]:
    """The ``(QuantizeLinear, DequantizeLinear)`` pair feeding ``conv``'s activation input, or None (float conv)."""
    dq = producer.get(conv.input[0])
    if dq is None or dq.op_type != "DequantizeLinear":
        return None
    q = producer.get(dq.input[0])
    return (q, dq) if q is not None and q.op_type == "QuantizeLinear" else None


def is_depthwise(conv: onnx.NodeProto, weight_dims: Sequence[int]) -> bool:
    """A Conv whose every output channel reads one input channel (group == input channels > 1)."""
    group = next((a.i for a in conv.attribute if a.name == "group"), 1)
    return conv.op_type == "Conv" and group > 1 and len(weight_dims) == 4 and weight_dims[1] == 1


def exact_session(model: Union[Path, onnx.ModelProto]) -> Any:
    """An ORT CPU session with graph optimizations off: Q/DQ run as written (exact int8 products)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])


def tap(model: onnx.ModelProto, tensors: List[str], reader) -> Iterator[Dict[str, np.ndarray]]:
    """Run ``model`` on every sample of a calibration ``reader``; yield ``tensors`` (by name) for each sample.

    ``model`` is not modified (the extra graph outputs go on a copy)."""
    scratch = onnx.ModelProto()
    scratch.CopyFrom(model)
    known = {o.name for o in scratch.graph.output}
    scratch.graph.output.extend(helper.make_empty_tensor_value_info(t) for t in tensors if t not in known)
    sess = exact_session(scratch)
    while True:
        feed = reader.get_next()
        if feed is None:
            return
        yield dict(zip(tensors, sess.run(tensors, feed)))
