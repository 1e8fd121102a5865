"""The bundle: a self-describing folder that apps and the runtime load as-is.

A bundle holds the three models (det, cls, rec), the dictionary and ``manifest.json``::

    onnx-fp32/
      det.onnx  cls.onnx  rec.onnx  ppocr_keys_v1.txt  manifest.json

The manifest records everything needed to run the models exactly as PP-OCRv2 was trained
(per-stage pre/post-processing parameters), to check the files (size + sha256), and to know what
produced them (source model checksums, converter and runtime versions, Paddle-Lite version of a
``.nb``, quantization config, parity summary). Like RapidOCR's ``default_models.yaml`` and
ai-hub-models' ``metadata.yaml``, but one file per bundle.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .errors import ChecksumError, InputError
from .hashing import sha256_file

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
STAGES = ("det", "cls", "rec")

# Model file formats a bundle can hold, and the backend that runs each by default.
FORMAT_BACKENDS = {"onnx": "onnxruntime", "ort": "onnxruntime", "paddle-lite": "paddle-lite", "paddle": "paddle"}


@dataclass
class TensorSpec:
    """One model input or output: name, shape with named dynamic dims (e.g. ``["batch", 3, "height", "width"]``)."""

    name: str
    shape: List[Union[int, str]]
    dtype: str = "float32"
    layout: str = "NCHW"


@dataclass
class StageEntry:
    """One model of the bundle and how to feed it."""

    file: str
    size: int
    sha256: str
    inputs: List[TensorSpec]
    outputs: List[TensorSpec]
    params: Dict[str, Any]  # asdict of DetParams / ClsParams / RecParams
    source: Dict[str, Any] = field(default_factory=dict)  # source model dir name + file sha256s
    ops: List[str] = field(default_factory=list)  # operator types in the model (Lite: --print_model_ops)


@dataclass
class DictionaryEntry:
    """The recognizer's character list (one entry per line; CTC blank and space are implicit)."""

    file: str
    size: int
    sha256: str
    entries: int
    use_space_char: bool = True


@dataclass
class Manifest:
    """Everything a runtime or an app needs to know about a bundle (``manifest.json``)."""

    variant: str  # e.g. "onnx-fp32", "lite-arm-fp32"
    format: str  # "onnx" | "ort" | "paddle-lite"
    backend: str  # default backend: "onnxruntime" | "paddle-lite"
    precision: str  # "fp32" | "fp16" | "int8" | "int16" ...
    stages: Dict[str, StageEntry]
    dictionary: DictionaryEntry
    pipeline: Dict[str, Any]  # asdict of PipelineParams
    target: Optional[str] = None  # Paddle-Lite valid target: "arm" | "x86"
    lite_version: Optional[str] = None  # Paddle-Lite version the .nb files were optimized with
    tool_versions: Dict[str, str] = field(default_factory=dict)
    quantization: Optional[Dict[str, Any]] = None
    parity: Optional[Dict[str, Any]] = None
    accuracy: Optional[Dict[str, Any]] = None  # accuracy gate outcome for quantized variants
    notes: List[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        # schema_version first: readers check it before anything else.
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], path: Optional[Path] = None) -> "Manifest":
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise InputError(
                f"manifest schema_version {version!r} is not supported (this edgeocr reads {SCHEMA_VERSION}); "
                "re-run `edgeocr convert` with this version",
                path,
            )
        try:
            stages = {
                name: StageEntry(
                    **{
                        **entry,
                        "inputs": [TensorSpec(**t) for t in entry["inputs"]],
                        "outputs": [TensorSpec(**t) for t in entry["outputs"]],
                    }
                )
                for name, entry in data["stages"].items()
            }
            fields = {k: v for k, v in data.items() if k not in ("stages", "dictionary", "schema_version")}
            return cls(stages=stages, dictionary=DictionaryEntry(**data["dictionary"]), **fields)
        except (KeyError, TypeError) as exc:
            raise InputError(f"manifest is malformed ({exc})", path) from None


@dataclass
class Bundle:
    """A loaded bundle: its directory and parsed manifest."""

    root: Path
    manifest: Manifest

    def stage_path(self, stage: str) -> Path:
        return self.root / self.manifest.stages[stage].file

    @property
    def dictionary_path(self) -> Path:
        return self.root / self.manifest.dictionary.file

    def verify(self) -> None:
        """Check every file's size and sha256 against the manifest (raises :class:`ChecksumError`)."""
        entries = [(s.file, s.size, s.sha256) for s in self.manifest.stages.values()]
        d = self.manifest.dictionary
        entries.append((d.file, d.size, d.sha256))
        for name, size, digest in entries:
            path = self.root / name
            if not path.is_file():
                raise InputError("listed in manifest.json but missing from the bundle", path)
            if path.stat().st_size != size or sha256_file(path) != digest:
                raise ChecksumError("does not match the size/sha256 in manifest.json (corrupted or edited?)", path)


def load_bundle(root: Union[str, Path], verify: bool = True) -> Bundle:
    """Read ``root/manifest.json``; with ``verify`` also check file sizes and checksums."""
    root = Path(root)
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise InputError("is not a bundle directory (expected a folder made by `edgeocr convert`)", root)
    if not path.is_file():
        raise InputError("has no manifest.json; is this a bundle made by `edgeocr convert`?", root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"is not valid JSON ({exc})", path) from None
    bundle = Bundle(root=root, manifest=Manifest.from_dict(data, path))
    if verify:
        bundle.verify()
    return bundle


def file_entry(path: Path) -> Dict[str, Any]:
    """``{"file", "size", "sha256"}`` of a file placed in a bundle."""
    return {"file": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)}


def write_manifest(root: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` atomically into ``root``."""
    from .atomic_io import write_json

    path = root / MANIFEST_NAME
    write_json(path, manifest.to_dict())
    return path
