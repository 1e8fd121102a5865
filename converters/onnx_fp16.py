"""float16 weights with fp32 inputs/outputs (``keep_io_types``), for ARMv8.2+ devices with fp16 arithmetic (issue 5).

Uses ``onnxruntime.transformers.float16.convert_float_to_float16`` (ships inside the onnxruntime wheel; no new
package). Inputs and outputs stay fp32 so the runtime's pre/post-processing is unchanged. Ops that ORT's CPU
execution provider has no fp16 kernel for are kept in fp32 behind Casts (``FP32_OPS``), otherwise the model
would not even load on the host where we measure its accuracy; on a phone, the XNNPACK/NNAPI providers run
the fp16 parts natively.
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import onnx

from edgeocr.errors import ModelFormatError

from .onnx_quantize import op_counts, preprocess

log = logging.getLogger(__name__)

# No CPU fp16 kernel in onnxruntime 1.31 for these (session creation fails with "Could not find an
# implementation for ..."), plus the defaults of convert_float_to_float16's own block list. Transpose: with an
# fp16 Transpose in the rec neck (before the LSTM) onnxruntime 1.31 *segfaults* creating the session at
# ORT_ENABLE_ALL (measured here; fine at EXTENDED), so it stays fp32 (it moves data, no arithmetic).
FP32_OPS: Tuple[str, ...] = (
    "LSTM", "Resize", "HardSigmoid", "BatchNormalization", "ConvTranspose", "Softmax", "Transpose",
)


@dataclass
class Fp16Result:
    """What :func:`convert_fp16` did (for the manifest)."""

    fp32_ops: List[str]
    op_counts: Dict[str, int]
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        return {"keep_io_types": True, "fp32_ops": self.fp32_ops, "op_counts": self.op_counts, "notes": self.notes}


def convert_fp16(src: Path, dst: Path, fp32_ops: Tuple[str, ...] = FP32_OPS) -> Fp16Result:
    """Write an fp16-weight copy of fp32 ONNX ``src`` to ``dst``; I/O stay ``float32``."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    with tempfile.TemporaryDirectory(prefix="edgeocr.fp16.") as tmp:
        # BN folded into Conv and Constant nodes turned into initializers first (same pass as int8), so the
        # converter sees plain weights and no fp16 BatchNormalization is left behind.
        pre = Path(tmp) / "pre.onnx"
        notes = preprocess(src, pre)
        model = onnx.load(str(pre))
    _constants_to_initializers(model.graph)
    _unshare_small_initializers(model.graph)
    block = sorted(set(DEFAULT_OP_BLOCK_LIST) | set(fp32_ops))
    out = convert_float_to_float16(model, keep_io_types=True, op_block_list=block)
    _toposort(out.graph)
    onnx.save(out, str(dst))
    try:
        onnx.checker.check_model(str(dst))
    except onnx.checker.ValidationError as exc:
        raise ModelFormatError(f"fp16 model fails onnx.checker: {exc}", dst) from None
    present = sorted({n.op_type for n in model.graph.node} & set(fp32_ops))
    counts = op_counts(out)
    log.info("%s -> %s: fp16 weights, fp32 kept for %s", src.name, dst.name, present)
    return Fp16Result(fp32_ops=present, op_counts=counts, notes=notes)


def _constants_to_initializers(graph: onnx.GraphProto) -> None:
    """Turn ``Constant`` nodes into initializers: the converter gives a Constant feeding several fp32-kept ops
    one Cast per consumer with the same output name (``..._cast_to_fp32`` twice), which breaks SSA."""
    keep = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            tensor = onnx.TensorProto()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)


def _unshare_small_initializers(graph: onnx.GraphProto, max_elems: int = 4096) -> None:
    """Give each consumer of a small shared float initializer (e.g. the det's Resize scales) its own copy:
    the converter otherwise emits one ``<name>_cast_to_fp32`` per fp32-kept consumer, duplicating the name."""
    inits = {i.name: i for i in graph.initializer}
    seen: dict = {}
    for node in graph.node:
        for k, name in enumerate(node.input):
            init = inits.get(name)
            if init is None or init.data_type != onnx.TensorProto.FLOAT or int(np.prod(init.dims)) > max_elems:
                continue
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                copy = onnx.TensorProto()
                copy.CopyFrom(init)
                copy.name = f"{name}__{seen[name]}"
                graph.initializer.append(copy)
                node.input[k] = copy.name


def _toposort(graph: onnx.GraphProto) -> None:
    """Reorder ``graph.node`` topologically: the converter appends its I/O Casts at the end of the list."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        rest = []
        for node in pending:
            if all(x in available for x in node.input):
                ordered.append(node)
                available.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ModelFormatError(f"fp16 graph has a cycle or a dangling input at node {rest[0].name!r}")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)
