"""Paddle Inference backend: the Paddle original, used as the parity reference on the host.

``model_path`` is a Paddle inference model directory holding ``inference.pdmodel`` and
``inference.pdiparams``. ``pyclipper`` is imported first because importing it after paddle fails
with a zlib symbol error in this environment.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np
import pyclipper  # noqa: F401  # must precede paddle, see module docstring

from ..errors import ModelFormatError
from .base import Backend

MODEL_FILE = "inference.pdmodel"
PARAMS_FILE = "inference.pdiparams"


class PaddleInferenceBackend(Backend):
    """``paddle.inference`` predictor on CPU with IR optimizations and MKLDNN off (plain reference)."""

    name = "paddle"

    def __init__(self, model_path: Union[str, Path], threads: Optional[int] = None) -> None:
        super().__init__(model_path, threads)
        from paddle import inference

        model_dir = Path(model_path)
        model_file, params_file = model_dir / MODEL_FILE, model_dir / PARAMS_FILE
        for f in (model_file, params_file):
            if not f.is_file():
                raise ModelFormatError(f"missing {f.name} (expected a Paddle inference model directory)", model_dir)
        config = inference.Config(str(model_file), str(params_file))
        config.disable_gpu()
        config.disable_glog_info()
        config.switch_ir_optim(False)  # reference numerics: run the graph as exported
        config.set_cpu_math_library_num_threads(int(threads or 1))
        try:
            self.predictor = inference.create_predictor(config)
        except Exception as exc:  # paddle raises generic RuntimeError/OSError variants
            raise ModelFormatError(f"Paddle cannot load it: {str(exc).strip().splitlines()[-1][:300]}", model_dir) from None
        self._inputs = list(self.predictor.get_input_names())
        self._outputs = list(self.predictor.get_output_names())
        import paddle

        self._version = paddle.__version__

    def run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        for name, value in feeds.items():
            handle = self.predictor.get_input_handle(name)
            handle.reshape(value.shape)
            handle.copy_from_cpu(np.ascontiguousarray(value))
        self.predictor.run()
        return {name: self.predictor.get_output_handle(name).copy_to_cpu() for name in self._outputs}

    def describe(self) -> Dict[str, Any]:
        info = super().describe()
        info.update(version=self._version)
        return info
