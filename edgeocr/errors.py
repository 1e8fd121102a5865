"""Errors that edgeocr turns into one clear line and a non-zero exit.

Modelled on optimum's ``exporters/error_utils.py``: a small hierarchy so callers can catch what they
can handle, and the CLI can print ``edgeocr: error: <file>: <problem>`` instead of a traceback.
Every message should say what to do next.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class EdgeOCRError(Exception):
    """Base class: a problem the user can fix (bad input, missing tool, failed check).

    ``path`` names the file the problem is about; the CLI prints it first.
    """

    exit_code = 1

    def __init__(self, message: str, path: Optional[Union[str, Path]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InputError(EdgeOCRError):
    """A file or directory the user gave is missing, unreadable or not what it claims to be."""


class ModelFormatError(InputError):
    """A model file is not a valid Paddle / ONNX / Paddle-Lite model, or is the wrong stage."""


class ChecksumError(EdgeOCRError):
    """A downloaded or cached file does not match its registered sha256."""


class SourceUnavailableError(EdgeOCRError):
    """Models cannot be fetched: no network and no ``--source`` / ``EDGEOCR_MODEL_SOURCE``."""


class ToolMissingError(EdgeOCRError):
    """A required external tool or Python package is not installed (names the extra or command)."""


class BackendMissingError(ToolMissingError):
    """The inference backend a bundle needs is not importable here."""


class ParityError(EdgeOCRError):
    """A converted model does not reproduce the Paddle original within tolerance."""


class OutputExistsError(EdgeOCRError):
    """The output exists and ``--force`` was not given."""


class ConfigError(EdgeOCRError):
    """Incompatible or invalid options, detected before any work starts."""


class AccuracyGateError(EdgeOCRError):
    """A quantized variant lost more accuracy than its budget allows."""


class DeviceError(EdgeOCRError):
    """A device target is unreachable, unauthorized, ambiguous, or failed a command."""


class DatasetError(InputError):
    """A dataset folder matches none of the known label formats."""
