"""ONNX Runtime backend (``.onnx`` and ``.ort`` files): the default for ONNX bundles."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Union

import numpy as np
import onnxruntime as ort

from ..errors import ConfigError, ModelFormatError
from .base import Backend

# Names accepted for --graph-opt; ORT_ENABLE_ALL adds layout (NCHWc) transforms that help x86 and
# are skipped on ARM by ORT itself.
GRAPH_OPT_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


class OnnxRuntimeBackend(Backend):
    """One ``InferenceSession``; ``threads`` sets intra-op threads (None: ORT's default, all cores)."""

    name = "onnxruntime"

    def __init__(
        self,
        model_path: Union[str, Path],
        threads: Optional[int] = None,
        graph_opt: str = "all",
        providers: Sequence[str] = ("CPUExecutionProvider",),
        session_config: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(model_path, threads)
        if graph_opt not in GRAPH_OPT_LEVELS:
            raise ConfigError(f"graph_opt={graph_opt!r} is not valid; choose one of {', '.join(GRAPH_OPT_LEVELS)}")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = GRAPH_OPT_LEVELS[graph_opt]
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        # Session config entries a bundle asks for (manifest.quantization["ort_session_config"]).
        self.session_config = dict(session_config or {})
        for key, value in self.session_config.items():
            opts.add_session_config_entry(key, str(value))
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        self.graph_opt = graph_opt
        try:
            self.session = ort.InferenceSession(str(self.model_path), sess_options=opts, providers=list(providers))
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
            raise ModelFormatError(f"onnxruntime cannot load it: {str(exc).splitlines()[0][:300]}", model_path) from None
        self._inputs = [i.name for i in self.session.get_inputs()]
        self._outputs = [o.name for o in self.session.get_outputs()]

    def run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        outputs = self.session.run(self._outputs, feeds)
        return dict(zip(self._outputs, outputs))

    def describe(self) -> Dict[str, Any]:
        info = super().describe()
        info.update(
            version=ort.__version__,
            providers=self.session.get_providers(),  # what actually runs, not what was asked
            graph_opt=self.graph_opt,
            session_config=self.session_config,
        )
        return info
