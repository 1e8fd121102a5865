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

import functools
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .errors import ChecksumError, InputError
from .hashing import sha256_file

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
# JSON Schema of manifest.json, shared with the Android core (issue 9); validated on every load.
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
# A manifest is a few KB; anything this big is not one (and would cost memory to parse).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
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

    @property
    def ort_session_config(self) -> Dict[str, str]:
        """ONNX Runtime session config entries every runtime must set for this bundle
        (``quantization.ort_session_config``): e.g. weight-only int8 folded at load, static int8 float layers kept
        float. Empty when the bundle asks for none."""
        return dict((self.quantization or {}).get("ort_session_config") or {})

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        # schema_version first: readers check it before anything else.
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], path: Optional[Path] = None) -> "Manifest":
        if not isinstance(data, dict):
            raise InputError(f"is not a bundle manifest (a JSON {type(data).__name__}, expected an object)", path)
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise InputError(
                f"manifest schema_version {version!r} is not supported (this edgeocr reads {SCHEMA_VERSION}); "
                "re-run `edgeocr convert` with this version",
                path,
            )
        validate_schema(data, path)
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


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_schema(data: Any, path: Optional[Path] = None) -> None:
    """Check ``data`` against ``manifest.schema.json``; the first problem becomes one :class:`InputError`.

    The message gives the JSON path of the bad value (``stages.det.params.limit_side_len``) and why.
    """
    import jsonschema

    errors = sorted(_validator().iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    message = err.message if len(err.message) <= 200 else err.message[:200] + "…"
    if err.validator in ("pattern", "not") and isinstance(err.schema, dict) and err.schema.get("description"):
        message = f"{err.instance!r}: {err.schema['description']}"
    more = f" (+{len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise InputError(f"does not match the bundle manifest schema at {where}: {message}{more}", path)


@dataclass
class Bundle:
    """A loaded bundle: its directory and parsed manifest."""

    root: Path
    manifest: Manifest

    def stage_path(self, stage: str) -> Path:
        return self._inside(self.manifest.stages[stage].file)

    @property
    def dictionary_path(self) -> Path:
        return self._inside(self.manifest.dictionary.file)

    def _inside(self, name: str) -> Path:
        """``root/name``, refused unless it resolves (symlinks followed) to a file inside the bundle."""
        path = self.root / name
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, os.path.realpath(path)]) != root:
            raise InputError(f"is listed in manifest.json but lies outside the bundle folder {self.root}", path)
        return path

    def verify(self) -> None:
        """Check every file's size and sha256 against the manifest (raises :class:`ChecksumError`)."""
        entries = [(s.file, s.size, s.sha256) for s in self.manifest.stages.values()]
        d = self.manifest.dictionary
        entries.append((d.file, d.size, d.sha256))
        for name, size, digest in entries:
            path = self._inside(name)
            if not path.is_file():
                raise InputError("listed in manifest.json but missing from the bundle", path)
            try:
                matches = path.stat().st_size == size and sha256_file(path) == digest
            except OSError as exc:
                raise InputError(f"cannot be read ({exc.strerror or exc})", path) from None
            if not matches:
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
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise InputError(f"is {path.stat().st_size} bytes; a manifest is a few KB (limit {MAX_MANIFEST_BYTES})", path)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"is not valid JSON ({str(exc)[:160]})", path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path) from None
    bundle = Bundle(root=root, manifest=Manifest.from_dict(data, path))
    if verify:
        bundle.verify()
    check_lite_versions(bundle)
    return bundle


def nb_opt_version(path: Path) -> Optional[str]:
    """The Paddle-Lite version that wrote a ``.nb`` (its header: uint16 meta version, then
    ``char opt_version[16]``, e.g. ``v2.12``), or None if the header does not look like one."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(18)
    except OSError:
        return None
    text = head[2:18].split(b"\0", 1)[0]
    if len(head) < 18 or not text.startswith(b"v"):
        return None
    try:
        return text[1:].decode("ascii")
    except UnicodeDecodeError:
        return None


def check_lite_versions(bundle: Bundle) -> None:
    """Each ``.nb`` must have been written by the Paddle-Lite version the manifest names.

    Checked from the file header before any Paddle-Lite environment is built: a manifest edited to
    say 2.10 used to build a 255 MB 2.10 environment and then fail with an AttributeError.
    """
    m = bundle.manifest
    if m.format != "paddle-lite" or not m.lite_version:
        return
    for stage in STAGES:
        path = bundle.stage_path(stage)
        found = nb_opt_version(path) if path.is_file() else None
        if found is not None and found != m.lite_version:
            raise InputError(
                f"was written by paddle_lite_opt {found} but manifest.json says lite_version {m.lite_version}; "
                f"the manifest was edited or the file replaced (re-run `edgeocr convert --lite-version {found}`)", path)


def file_entry(path: Path) -> Dict[str, Any]:
    """``{"file", "size", "sha256"}`` of a file placed in a bundle."""
    return {"file": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)}


def write_manifest(root: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` atomically into ``root``."""
    from .atomic_io import write_json

    path = root / MANIFEST_NAME
    write_json(path, manifest.to_dict())
    return path
