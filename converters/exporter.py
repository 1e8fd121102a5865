"""The small interface every exporter implements (one file per target, as in optimum)."""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

from .source_models import SourceModel


@dataclass
class ExportResult:
    """One exported model file and what the manifest/report should say about it."""

    stage: str
    path: Path
    output_name: str
    ops: List[str] = field(default_factory=list)
    info: Dict[str, Any] = field(default_factory=dict)  # opset, unsupported ops, tool log lines, ...


class Exporter(abc.ABC):
    """Turns a Paddle inference model directory into one artifact file."""

    #: file suffix of the artifacts (".onnx", ".nb")
    suffix: str = ""

    @abc.abstractmethod
    def export(self, source: SourceModel, out_dir: Path) -> ExportResult:
        """Write ``out_dir/<stage><suffix>`` from ``source``; raise an EdgeOCRError on failure."""

    @abc.abstractmethod
    def tool_versions(self) -> Dict[str, str]:
        """Versions of the tools this exporter used (stored in the manifest)."""
