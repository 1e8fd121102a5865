"""One spec per PP-OCRv2 stage: the unit of work of every exporter and of the parity check.

Like optimum's per-model ``OnnxConfig`` (inputs, dynamic axes, ``ATOL_FOR_VALIDATION``) and
ai-hub-models' ``get_input_spec()``: everything an exporter or validator needs to know about a
stage, in one place. The pre/post-processing parameters themselves live in
:mod:`edgeocr.stage_params` (defined once, shared with the runtime).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple, Type, Union

from edgeocr.stage_params import ClsParams, DetParams, RecParams

Dim = Union[int, str]


@dataclass(frozen=True)
class StageSpec:
    """How one stage's model is fed and checked.

    ``input_shape`` / ``output_shape`` use names for dynamic dims; an exporter writes these names into
    the ONNX graph so users see ``[batch, 3, height, width]`` instead of ``DynamicDimension.0``.
    ``atol`` bounds the max abs difference of the fp32 artifact's output (probabilities in [0, 1])
    against the Paddle original.
    """

    name: str
    input_name: str
    input_shape: Tuple[Dim, ...]
    output_shape: Tuple[Dim, ...]
    params_cls: Type[Any]
    atol: float
    layout: str = "NCHW"
    dtype: str = "float32"

    def probe_shape(self) -> Tuple[int, ...]:
        """A small concrete input shape used to identify a model's stage from its output."""
        return {"det": (1, 3, 64, 64), "rec": (1, 3, 32, 320), "cls": (1, 3, 48, 192)}[self.name]

    def tensor_specs(self, output_name: str, num_classes: int = 0) -> Dict[str, Any]:
        """Manifest ``inputs`` / ``outputs`` entries (``num_classes`` fills rec's class dim)."""
        out = tuple(num_classes if d == "classes" else d for d in self.output_shape)
        return {
            "inputs": [{"name": self.input_name, "shape": list(self.input_shape), "dtype": self.dtype, "layout": self.layout}],
            "outputs": [{"name": output_name, "shape": list(out), "dtype": self.dtype, "layout": _out_layout(self.name)}],
        }


def _out_layout(stage: str) -> str:
    return {"det": "NCHW", "rec": "NTC", "cls": "NC"}[stage]


# fp32 tolerances measured on real inputs (report.md of `edgeocr convert` shows the actual diffs):
# ONNX Runtime vs Paddle differ by <2e-6 on rec and cls and a few 1e-6 on det; 1e-4 leaves margin for
# thread-count-dependent summation order without hiding a wrong conversion (Paddle2ONNX#1646
# produced errors of order 1e-1).
STAGE_SPECS: Dict[str, StageSpec] = {
    "det": StageSpec("det", "x", ("batch", 3, "height", "width"), ("batch", 1, "height", "width"), DetParams, atol=1e-4),
    "cls": StageSpec("cls", "x", ("batch", 3, 48, "width"), ("batch", 2), ClsParams, atol=1e-4),
    "rec": StageSpec("rec", "x", ("batch", 3, 32, "width"), ("batch", "time", "classes"), RecParams, atol=1e-4),
}
