"""The one small interface every inference backend implements.

Pre/post-processing lives outside the backends (shared by all of them), so a backend only moves
tensors: ``run({"x": array}) -> {"out_name": array}``. Backends are imported lazily by name
(RapidOCR's ``get_engine``) so a board with only onnxruntime never imports paddle.
"""
from __future__ import annotations

import abc
import importlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np

from ..errors import BackendMissingError, ConfigError

# backend name -> ("module:Class", extra that provides it)
BACKENDS: Dict[str, tuple] = {
    "onnxruntime": ("edgeocr.backends.onnxruntime_backend:OnnxRuntimeBackend", "onnx"),
    "paddle-lite": ("edgeocr.backends.paddle_lite_backend:PaddleLiteBackend", "lite"),
    "paddle": ("edgeocr.backends.paddle_inference_backend:PaddleInferenceBackend", "convert"),
}


class Backend(abc.ABC):
    """Runs one model. Subclasses load it in ``__init__`` and free it in :meth:`close`.

    ``threads=None`` means the backend's own default (all cores for onnxruntime).
    """

    name: str = "base"

    def __init__(self, model_path: Union[str, Path], threads: Optional[int] = None) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        # Subclasses fill these once the model is loaded.
        self._inputs: List[str] = []
        self._outputs: List[str] = []

    @property
    def input_names(self) -> List[str]:
        """Names of the model inputs, in model order."""
        return self._inputs

    @property
    def output_names(self) -> List[str]:
        """Names of the model outputs, in model order."""
        return self._outputs

    @abc.abstractmethod
    def run(self, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Run the model on ``feeds`` (name -> fp32 array) and return name -> output array."""

    def run_single(self, x: np.ndarray) -> np.ndarray:
        """Convenience for single-input/single-output models (all PP-OCRv2 stages)."""
        return self.run({self.input_names[0]: x})[self.output_names[0]]

    def describe(self) -> Dict[str, Any]:
        """What actually runs: backend, version, threads, providers/places. Stored in every result."""
        return {"backend": self.name, "model": str(self.model_path), "threads": self.threads}

    def close(self) -> None:
        """Release the model (worker processes, sessions)."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def create_backend(name: str, model_path: Union[str, Path], threads: Optional[int] = None, **options: Any) -> Backend:
    """Instantiate backend ``name`` for ``model_path``; a missing package names the extra to install."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; valid backends: {', '.join(sorted(BACKENDS))}")
    target, extra = BACKENDS[name]
    module_name, cls_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name and exc.name.startswith("edgeocr"):
            raise
        raise BackendMissingError(
            f"backend {name!r} needs the Python package {exc.name!r}; install it with pip install 'edgeocr[{extra}]'"
        ) from None
    backend = getattr(module, cls_name)(model_path, threads=threads, **options)
    from ..signals import reassert_handlers

    reassert_handlers()  # Paddle replaces the SIGTERM/SIGINT handlers when it loads a model
    return backend
