"""Find and validate the Paddle inference models a conversion starts from.

Bad input is caught here, before any conversion work, with one line naming the file: a missing or
truncated ``.pdiparams``, a file that is not a Paddle program, or a det model passed as ``--rec``
(detected by running a probe input and checking the output shape against the stage spec).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from edgeocr.ctc_decode import load_character_list
from edgeocr.errors import ChecksumError, InputError, ModelFormatError
from edgeocr.hashing import sha256_file
from edgeocr.model_registry import DEFAULT_SYSTEM, REGISTRY
from edgeocr.model_pull import models_dir

from .stage_specs import STAGE_SPECS

log = logging.getLogger(__name__)

MODEL_FILE = "inference.pdmodel"
PARAMS_FILE = "inference.pdiparams"


@dataclass
class SourceModel:
    """A validated Paddle model directory for one stage."""

    stage: str
    path: Path
    sha256: Dict[str, str] = field(default_factory=dict)
    output_name: str = ""

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def params_file(self) -> Path:
        return self.path / PARAMS_FILE

    def manifest_source(self) -> Dict[str, object]:
        return {"dir": self.path.name, "sha256": dict(self.sha256)}


@dataclass
class SourceSet:
    """det + cls + rec sources and the dictionary."""

    models: Dict[str, SourceModel]
    dictionary: Path
    dictionary_entries: int


def resolve_sources(
    models: Optional[Path] = None,
    det: Optional[Path] = None,
    rec: Optional[Path] = None,
    cls: Optional[Path] = None,
    dictionary: Optional[Path] = None,
    strict: bool = False,
) -> SourceSet:
    """Pick each stage's directory (explicit option > ``models`` dir > pulled cache) and validate it.

    Each model and the dictionary are compared with the official release (:mod:`edgeocr.model_registry`):
    a difference is a warning naming the file, or with ``strict`` a :class:`ChecksumError`.
    """
    base = Path(models) if models else models_dir()
    if models and not base.is_dir():
        raise InputError("models directory does not exist", base)
    chosen = {"det": det, "rec": rec, "cls": cls}
    resolved: Dict[str, SourceModel] = {}
    for stage, explicit in chosen.items():
        path = Path(explicit) if explicit else base / DEFAULT_SYSTEM[stage]
        if not explicit and not path.exists():
            raise InputError(
                f"no {stage} model here; run `edgeocr models pull` or pass --models DIR / --{stage} DIR", path
            )
        resolved[stage] = validate_model_dir(stage, path)
        check_official(REGISTRY.get(path.name) or REGISTRY[DEFAULT_SYSTEM[stage]], path, strict)
    dict_path = Path(dictionary) if dictionary else base / DEFAULT_SYSTEM["dict"]
    entries = _validate_dictionary(dict_path)
    if dict_path.name == DEFAULT_SYSTEM["dict"]:
        check_official(REGISTRY[DEFAULT_SYSTEM["dict"]], dict_path.parent, strict)
    return SourceSet(models=resolved, dictionary=dict_path, dictionary_entries=entries)


def check_official(entry: "object", folder: Path, strict: bool) -> None:
    """Compare ``folder``'s files with the official release ``entry`` (size, then sha256).

    Paddle loads a ``.pdiparams`` missing its last bytes without complaint, and the parity check
    compares against that same broken file, so this is the only place such damage shows.
    """
    for name, (size, digest) in entry.files.items():  # type: ignore[attr-defined]
        path = folder / name
        if not path.is_file():
            continue
        actual_size = path.stat().st_size
        if actual_size != size:
            problem = f"has {actual_size} bytes, the official {entry.name} has {size}"  # type: ignore[attr-defined]
        elif sha256_file(path) != digest:
            problem = f"sha256 differs from the official {entry.name}'s"  # type: ignore[attr-defined]
        else:
            continue
        if strict:
            raise ChecksumError(f"{problem} (truncated or modified?); --strict-sources refuses it", path)
        log.warning("%s: %s (truncated or modified? converting anyway; --strict-sources makes this an error)",
                    path, problem)


def validate_model_dir(stage: str, path: Path) -> SourceModel:
    """Check files exist and parse; the stage's identity is checked later by :func:`check_stage_identity`."""
    if not path.is_dir():
        raise InputError(f"{stage} model directory does not exist", path)
    model = SourceModel(stage=stage, path=path)
    for f in (model.model_file, model.params_file):
        if not f.is_file():
            raise InputError(f"missing ({stage} model directories hold {MODEL_FILE} and {PARAMS_FILE})", f)
        if f.stat().st_size == 0:
            raise ModelFormatError("is empty", f)
    head = model.model_file.read_bytes()[:64]
    # A ProgramDesc protobuf starts with field 1 (blocks, length-delimited): byte 0x0a.
    if not head.startswith(b"\x0a"):
        raise ModelFormatError("is not a Paddle program (inference.pdmodel protobuf expected)", model.model_file)
    model.sha256 = {MODEL_FILE: sha256_file(model.model_file), PARAMS_FILE: sha256_file(model.params_file)}
    return model


def check_stage_identity(model: SourceModel, backend: "object", num_classes: int,
                         dictionary: Optional[Path] = None) -> None:
    """Run a probe input through the Paddle model and check its output shape is that stage's.

    ``backend`` is a loaded :class:`edgeocr.backends.base.Backend` for ``model``. Catches a det model
    given as ``--rec`` (output ``[1, 1, 32, 320]`` instead of ``[1, T, classes]``) and similar swaps.
    """
    spec = STAGE_SPECS[model.stage]
    probe = np.zeros(spec.probe_shape(), np.float32)
    try:
        out = backend.run_single(probe)  # type: ignore[attr-defined]
    except Exception as exc:  # paddle raises various types on shape mismatch
        raise ModelFormatError(
            f"does not accept a {model.stage} input {list(probe.shape)} ({str(exc).strip().splitlines()[-1][:160]}); "
            f"is this really the {model.stage} model?",
            model.path,
        ) from None
    expected = {
        "det": lambda s: len(s) == 4 and s[1] == 1,
        "cls": lambda s: len(s) == 2 and s[1] == 2,
        "rec": lambda s: len(s) == 3 and s[2] == num_classes,
    }[model.stage]
    if model.stage == "rec" and len(out.shape) == 3 and out.shape[2] != num_classes:
        raise ModelFormatError(
            f"the dictionary has {num_classes - 2} entries (+ blank + space = {num_classes} classes) but the rec "
            f"model {model.path} outputs {out.shape[2]} classes (needs {out.shape[2] - 2} entries); pass the "
            "dictionary the model was trained with (--dict)", dictionary)
    if not expected(out.shape):
        want = {"det": "[N, 1, H, W]", "cls": "[N, 2]", "rec": f"[N, T, {num_classes}]"}[model.stage]
        raise ModelFormatError(
            f"output shape {list(out.shape)} is not a {model.stage} model's {want}; check --{model.stage}",
            model.path,
        )


def _validate_dictionary(path: Path) -> int:
    """Number of dictionary entries, read exactly as the runtime's CTC decoder reads them."""
    if not path.is_file():
        raise InputError("dictionary not found (pass --dict FILE or run `edgeocr models pull`)", path)
    entries = len(load_character_list(path, use_space_char=False)) - 1  # minus the CTC blank
    if entries == 0:
        raise ModelFormatError("dictionary is empty", path)
    return entries


def registry_name(stage: str) -> str:
    """Registry model name of the default source for ``stage`` (for messages)."""
    return REGISTRY[DEFAULT_SYSTEM[stage]].name
