"""Conv/MatMul MACs per kernel class from a kernel probe (``edgeocr/kernel_probe.py``) (issue 10).

The probe lists the nodes ONNX Runtime executed with their input/output shapes; here each weight-bearing node is
costed and classed as **int8** (an integer kernel: int8 x int8 products, int32 accumulation) or **float**. That is
the number that says whether a quantized bundle computes in int8 on the machine that ran the probe, independent
of what the graph file looks like (a QDQ node pair ORT does not fuse runs in float).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence

import numpy as np

# kernel op type -> kind of MAC count; integer kernels first
INT8_OPS = {"QLinearConv": "conv", "ConvInteger": "conv", "QLinearMatMul": "matmul", "MatMulInteger": "matmul",
            "MatMulIntegerToFloat": "matmul", "QGemm": "matmul", "DynamicQuantizeMatMul": "matmul",
            "DynamicQuantizeLSTM": "lstm", "QLinearConvTranspose": "convT"}
FLOAT_OPS = {"Conv": "conv", "FusedConv": "conv", "NhwcFusedConv": "conv", "ConvTranspose": "convT",
             "MatMul": "matmul", "FusedMatMul": "matmul", "Gemm": "matmul", "FusedGemm": "matmul", "LSTM": "lstm"}
WEIGHT_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM")


def weight_sizes(model_path: Path) -> Dict[str, int]:
    """``{node name: number of weight values}`` of the weight-bearing nodes of an ONNX file (through
    DequantizeLinear to the int8 initializer in QDQ graphs; LSTM: W + R). ORT keeps these names on the kernels
    it fuses them into (QLinearConv, FusedConv...). The profile does not report prepacked weights' shapes."""
    import onnx

    model = onnx.load(str(model_path))
    inits = {i.name: int(np.prod(i.dims)) for i in model.graph.initializer}
    for n in model.graph.node:  # paddle2onnx stores weights as Constant nodes
        if n.op_type == "Constant" and n.attribute and n.attribute[0].HasField("t"):
            inits[n.output[0]] = int(np.prod(n.attribute[0].t.dims))
    producer = {o: n for n in model.graph.node for o in n.output}

    def size(name: str) -> int:
        seen = 0
        while name not in inits and name in producer and producer[name].input and seen < 4:  # DQ / Transpose of a weight
            name = producer[name].input[0]
            seen += 1
        return inits.get(name, 0)

    out: Dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type in WEIGHT_OPS and len(node.input) > 1:
            out[node.name] = size(node.input[1]) + (size(node.input[2]) if node.op_type == "LSTM" else 0)
    return out


def node_macs(node: Mapping[str, Any], weights: int) -> int:
    """Multiply-accumulates of one executed node with ``weights`` weight values (0 for ops we do not count)."""
    kind = INT8_OPS.get(node["op"]) or FLOAT_OPS.get(node["op"])
    ins, outs = node["inputs"], node["outputs"]
    if kind is None or not weights or not ins or not outs or not outs[0]:
        return 0
    x, y = ins[0], outs[0]
    if kind == "conv":  # each output pixel (N*H*W) reads the whole weight once (grouped convs included)
        return int(np.prod(y) // max(y[1], 1) * weights)
    if kind == "convT":  # each input pixel scatters through the whole weight
        return int(np.prod(x) // max(x[1], 1) * weights)
    if kind == "matmul":  # [.., M, K] x [K, N]: numel(Y) * K, K = weights / N
        return int(np.prod(y) * (weights // max(y[-1], 1)))
    return int(x[0] * x[1] * weights)  # LSTM: X [T, B, I], (W + R) per step and batch row


@dataclass
class StageCost:
    """MACs of one stage split by kernel class, and the nodes behind them."""

    int8_macs: int = 0
    float_macs: int = 0
    conv_int8_macs: int = 0  # Conv/ConvTranspose only (the "conv MACs"; excludes LSTM and FC/CTC head)
    conv_float_macs: int = 0
    int8_nodes: List[str] = field(default_factory=list)
    float_nodes: List[str] = field(default_factory=list)
    kernels: Dict[str, int] = field(default_factory=dict)  # op type -> count

    @property
    def int8_share(self) -> float:
        total = self.int8_macs + self.float_macs
        return self.int8_macs / total if total else 0.0

    @property
    def conv_int8_share(self) -> float:
        total = self.conv_int8_macs + self.conv_float_macs
        return self.conv_int8_macs / total if total else 0.0

    def to_dict(self) -> Dict[str, Any]:
        return {"int8_macs": self.int8_macs, "float_macs": self.float_macs, "int8_share": round(self.int8_share, 4),
                "conv_int8_macs": self.conv_int8_macs, "conv_float_macs": self.conv_float_macs,
                "conv_int8_share": round(self.conv_int8_share, 4),
                "float_nodes": self.float_nodes, "kernels": self.kernels}


def stage_cost(nodes: Sequence[Mapping[str, Any]], model_path: Path) -> StageCost:
    """Cost of the executed ``nodes`` (from the probe) of the model file ``model_path`` (the one probed)."""
    weights = weight_sizes(model_path)
    cost = StageCost()
    for node in nodes:
        macs = node_macs(node, weights.get(node["name"], 0))
        if not macs:
            continue
        cost.kernels[node["op"]] = cost.kernels.get(node["op"], 0) + 1
        is_int8 = node["op"] in INT8_OPS
        is_conv = (INT8_OPS.get(node["op"]) or FLOAT_OPS.get(node["op"])) in ("conv", "convT")
        if is_int8:
            cost.int8_macs += macs
            cost.int8_nodes.append(node["name"])
        else:
            cost.float_macs += macs
            cost.float_nodes.append(node["name"])
        if is_conv:
            if is_int8:
                cost.conv_int8_macs += macs
            else:
                cost.conv_float_macs += macs
    return cost


def bundle_cost(probe: Mapping[str, Any], bundle: Path) -> Dict[str, StageCost]:
    """``{stage: StageCost}`` of a :func:`edgeocr.kernel_probe.probe_bundle` result for ``bundle``."""
    import json

    manifest = json.loads((Path(bundle) / "manifest.json").read_text(encoding="utf-8"))
    return {stage: stage_cost(nodes, Path(bundle) / manifest["stages"][stage]["file"])
            for stage, nodes in probe["stages"].items()}
