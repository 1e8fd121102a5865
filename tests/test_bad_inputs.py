"""Issue 11: a catalogue of hostile and broken inputs. None may cost data, disk, a hang or a traceback.

Every case runs the real CLI (in-process through click's runner, or as a subprocess for signals and
kills) and asserts: the exit code; exactly one ``edgeocr: error:`` line naming the file/option and
the problem; no traceback; nothing half-written in ``--out``, ``$EDGEOCR_HOME`` or the temp dir.
Categories: options, paths, manifests/bundles, dictionaries, models, images, datasets, mirrors
(a hostile HTTP server on 127.0.0.1), device targets, interruptions.

Cost: bundles come from the session's ``bundles_dir`` (tests/conftest.py); each corrupted bundle is a
copy of onnx-fp32 whose model files are hard links. Every run is bounded (pytest-timeout).
"""
from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
from click.testing import CliRunner

from edgeocr import model_pull
from edgeocr.cli import cli
from edgeocr.model_registry import REGISTRY

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[1]
GOOD_IMAGE = "paddleocr_doc_imgs/12.jpg"
LEFTOVER_MARKERS = (".partial", "edgeocr.pull.", ".tmp", ".old")


# ------------------------------------------------------------------------------------------------
# Harness
# ------------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """Paths a case builds its arguments from (``tmp`` is the case's own folder)."""

    tmp: Path
    bundle: Path
    data: Path
    models: Path
    extra: Dict[str, object] = field(default_factory=dict)

    @property
    def image(self) -> Path:
        return self.data / GOOD_IMAGE


@dataclass
class Case:
    """One hostile input: ``args(ctx)`` -> CLI argv; expected exit code and texts of the one error line."""

    id: str
    args: Callable[[Ctx], List[str]]
    code: int
    says: Sequence[str]
    setup: Optional[Callable[[Ctx], None]] = None
    env: Optional[Callable[[Ctx], Dict[str, str]]] = None
    error_lines: int = 1


def leftovers(*roots: Path) -> List[Path]:
    """Temp files/folders of atomic writers and pulls under ``roots``."""
    found = []
    for root in roots:
        if root.is_dir():
            found += [p for p in root.rglob("*") if any(m in p.name for m in LEFTOVER_MARKERS)]
    return found


def run_case(case: Case, ctx: Ctx, home: Path, tmpdir: Path, monkeypatch: pytest.MonkeyPatch) -> Tuple[int, str]:
    if case.setup:
        case.setup(ctx)
    argv = [str(a) for a in case.args(ctx)]
    env = {"EDGEOCR_HOME": str(home), "EDGEOCR_MODEL_SOURCE": "", **(case.env(ctx) if case.env else {})}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    started = time.monotonic()
    res = CliRunner().invoke(cli, argv)
    elapsed = time.monotonic() - started
    text = res.output + (res.stderr or "")
    assert "Traceback" not in text, text
    assert res.exit_code == case.code, f"exit {res.exit_code} != {case.code}: {res.stderr}"
    errors = [line for line in res.stderr.splitlines() if line.startswith("edgeocr: error: ")]
    assert len(errors) == case.error_lines, res.stderr
    for needle in case.says:
        assert needle.format(ctx=ctx) in errors[0], (needle, errors[0])
    assert leftovers(ctx.tmp, home, tmpdir) == []
    assert elapsed < 60, f"{case.id} took {elapsed:.0f} s"
    return res.exit_code, res.stderr


@pytest.fixture()
def ctx(tmp_path: Path, bundles_dir: Path, data_dir: Path, models_dir: Path) -> Ctx:
    work = tmp_path / "case"
    work.mkdir()
    return Ctx(tmp=work, bundle=bundles_dir / "onnx-fp32", data=data_dir, models=models_dir)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture()
def tmpdir_(tmp_path: Path) -> Path:
    t = tmp_path / "systmp"
    t.mkdir()
    return t


def catalogue_test(cases: List[Case]) -> Callable:
    @pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])
    def test(case: Case, ctx: Ctx, home: Path, tmpdir_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        run_case(case, ctx, home, tmpdir_, monkeypatch)

    return test


def copy_bundle(ctx: Ctx, name: str = "b") -> Path:
    """A copy of onnx-fp32: manifest and dictionary copied, models hard-linked (replace, never edit them)."""
    dst = ctx.tmp / name
    dst.mkdir()
    for f in ctx.bundle.iterdir():
        if f.suffix in (".onnx", ".ort", ".nb"):
            os.link(f, dst / f.name)
        else:
            shutil.copyfile(f, dst / f.name)
    return dst


def edit_manifest(edit: Callable[[dict], object]) -> Callable[[Ctx], None]:
    """Setup: copy the bundle to ctx.tmp/b and apply ``edit`` to its manifest (return value replaces it)."""
    def setup(ctx: Ctx) -> None:
        b = copy_bundle(ctx)
        data = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
        out = edit(data)
        (b / "manifest.json").write_text(json.dumps(data if out is None else out), encoding="utf-8")
    return setup


def ocr(*extra: object) -> Callable[[Ctx], List[str]]:
    return lambda c: ["ocr", c.bundle, c.image, *extra]


def ocr_b(*extra: object) -> Callable[[Ctx], List[str]]:
    """ocr on the corrupted copy ctx.tmp/b."""
    return lambda c: ["ocr", c.tmp / "b", c.image, *extra]


def ocr_img(name: str, *extra: object) -> Callable[[Ctx], List[str]]:
    return lambda c: ["ocr", c.bundle, c.tmp / name, *extra]


def write(name: str, data: bytes) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        p = ctx.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return setup


def fifo(name: str) -> Callable[[Ctx], None]:
    return lambda c: os.mkfifo(c.tmp / name)


def combine(*setups: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        for s in setups:
            s(ctx)
    return setup


# ------------------------------------------------------------------------------------------------
# 1. Options: every range, choice and combination, refused before any work (exit 2 = usage error)
# ------------------------------------------------------------------------------------------------

_OCR_RANGES = [
    ("--threads", "0"), ("--threads", "-1"), ("--threads", "1024"), ("--threads", "99999999999999999999"),
    ("--threads", "two"), ("--det-limit-side-len", "0"), ("--det-limit-side-len", "31"),
    ("--det-limit-side-len", "20000"), ("--det-thresh", "-0.1"), ("--det-thresh", "1.5"), ("--det-box-thresh", "2"),
    ("--det-unclip-ratio", "-1"), ("--det-unclip-ratio", "0"), ("--det-unclip-ratio", "11"),
    ("--det-unclip-ratio", "nan"), ("--det-max-candidates", "-5"), ("--det-max-candidates", "0"),
    ("--det-min-size", "-1"), ("--cls-thresh", "1.1"), ("--cls-batch-size", "0"), ("--rec-batch-size", "0"),
    ("--rec-batch-size", "5000"), ("--drop-score", "-1"), ("--drop-score", "2"), ("--det-limit-type", "mid"),
    ("--det-score-mode", "exact"), ("--backend", "tensorrt"), ("--max-image-pixels", "-1"),
]
OPTION_CASES = [
    Case(f"ocr{flag}={value}", ocr(flag, value), 2, [flag]) for flag, value in _OCR_RANGES
] + [
    Case("ocr-unknown-option", ocr("--det-magic", "1"), 2, ["--det-magic"]),
    Case("ocr-no-images", lambda c: ["ocr", c.bundle], 2, ["IMAGES"]),
    Case("bench--num-runs=0", lambda c: ["bench", c.bundle, "--num-runs", "0"], 2, ["--num-runs"]),
    Case("bench--warmup-runs=-1", lambda c: ["bench", c.bundle, "--warmup-runs", "-1"], 2, ["--warmup-runs"]),
    Case("bench--max-secs=0", lambda c: ["bench", c.bundle, "--max-secs", "0"], 2, ["--max-secs"]),
    Case("bench--min-secs=-1", lambda c: ["bench", c.bundle, "--min-secs", "-1"], 2, ["--min-secs"]),
    Case("bench--run-delay=-1", lambda c: ["bench", c.bundle, "--run-delay", "-1"], 2, ["--run-delay"]),
    Case("bench--max-images=0", lambda c: ["bench", c.bundle, "--max-images", "0"], 2, ["--max-images"]),
    Case("bench--num-threads=0", lambda c: ["bench", c.bundle, "--num-threads", "0"], 2, ["--num-threads"]),
    Case("bench--num-threads=1,1", lambda c: ["bench", c.bundle, "--num-threads", "1,1"], 2, ["--num-threads", "twice"]),
    Case("bench--num-threads=1,x", lambda c: ["bench", c.bundle, "--num-threads", "1,x"], 2, ["--num-threads", "'x'"]),
    Case("bench--num-threads=empty", lambda c: ["bench", c.bundle, "--num-threads", ","], 2, ["--num-threads", "empty"]),
    Case("bench--num-threads=huge", lambda c: ["bench", c.bundle, "--num-threads", "1,999"], 2, ["--num-threads", "999"]),
    Case("bench--stages=gpu", lambda c: ["bench", c.bundle, "--stages", "det,gpu"], 1, ["gpu"]),
    Case("bench--device-timeout=0", lambda c: ["bench", c.bundle, "--device", "local", "--device-timeout", "0"], 2,
         ["--device-timeout"]),
    Case("bench--device-timeout=-5", lambda c: ["bench", c.bundle, "--device", "local", "--device-timeout", "-5"], 2,
         ["--device-timeout"]),
    Case("bench--cpu-mask-without-device", lambda c: ["bench", c.bundle, "--cpu-mask", "f0"], 1, ["--cpu-mask", "--device"]),
    Case("eval--num-threads=huge", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--num-threads",
                                              "99999999999999999999"], 2, ["--num-threads"]),
    Case("eval--num-threads=0", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--num-threads", "0"],
         2, ["--num-threads"]),
    Case("eval--limit=0", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--limit", "0"], 2, ["--limit"]),
    Case("eval--task=ocr", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--task", "ocr"], 2, ["--task"]),
    Case("eval--errors-with-predictions-only", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec",
                                                          "--predictions-only", "--errors", c.tmp / "e.tsv"], 1,
         ["--errors"]),
    Case("eval--json-equals--errors", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--json",
                                                 c.tmp / "x", "--errors", c.tmp / "x"], 1, ["--json", "--errors"]),
    Case("eval-same-bundle-twice", lambda c: ["eval", c.bundle, c.bundle, "--dataset", c.data / "iiit5k_rec"], 1,
         ["given twice"]),
    Case("convert--variants-duplicate", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o", "--variants",
                                                   "onnx-fp32,onnx-fp32"], 2, ["--variants", "twice"]),
    Case("convert--variants-unknown", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o", "--variants",
                                                 "onnx-fp64"], 2, ["--variants", "onnx-fp64"]),
    Case("convert--variants-empty", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o", "--variants", ","],
         2, ["--variants", "empty"]),
    Case("convert--lite-version", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o", "--lite-version",
                                             "9.9"], 2, ["--lite-version"]),
    Case("convert--gate-limit=0", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o", "--gate-limit", "0"],
         2, ["--gate-limit"]),
    Case("convert--max-det-drop=-1", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o",
                                                "--max-det-drop", "-1"], 2, ["--max-det-drop"]),
    Case("convert--max-rec-drop=101", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o",
                                                 "--max-rec-drop", "101"], 2, ["--max-rec-drop"]),
    Case("convert--out-empty", lambda c: ["convert", "--models", c.models, "--out", "", "--force"], 2, ["--out", "empty"]),
    Case("convert-no-parity-images", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o"], 1,
         ["--parity-images"], env=lambda c: {"EDGEOCR_PARITY_IMAGES": ""}),
    Case("pull-unknown-model", lambda c: ["models", "pull", "ch_PP-OCRv9_det", "--source", c.models], 1,
         ["ch_PP-OCRv9_det"]),
    Case("unknown-command", lambda c: ["ocrr"], 2, ["ocrr"]),
]
test_options = catalogue_test(OPTION_CASES)


# ------------------------------------------------------------------------------------------------
# 2. Paths: missing, wrong kind, FIFOs and devices, long names, outputs that would destroy inputs
# ------------------------------------------------------------------------------------------------

def _models_copy(ctx: Ctx) -> None:
    """ctx.tmp/m: the source models (hard links) + dictionary: what `convert --force` must never delete."""
    m = ctx.tmp / "m"
    for name in ("ch_PP-OCRv2_det_infer", "ch_PP-OCRv2_rec_infer", "ch_ppocr_mobile_v2.0_cls_infer"):
        (m / name).mkdir(parents=True)
        for f in (ctx.models / name).iterdir():
            os.link(f, m / name / f.name)
    shutil.copyfile(ctx.models / "ppocr_keys_v1.txt", m / "ppocr_keys_v1.txt")


def _models_intact(ctx: Ctx) -> None:
    assert sorted(p.name for p in (ctx.tmp / "m").iterdir()) == [
        "ch_PP-OCRv2_det_infer", "ch_PP-OCRv2_rec_infer", "ch_ppocr_mobile_v2.0_cls_infer", "ppocr_keys_v1.txt"]


LONG = "a" * 300 + ".jpg"
PATH_CASES = [
    Case("ocr-image-fifo", ocr_img("pipe.jpg"), 1, ["{ctx.tmp}/pipe.jpg", "named pipe"], setup=fifo("pipe.jpg")),
    Case("ocr-image-dev-zero", lambda c: ["ocr", c.bundle, "/dev/zero"], 1, ["/dev/zero", "device file"]),
    Case("ocr-image-dev-null", lambda c: ["ocr", c.bundle, "/dev/null"], 1, ["/dev/null", "device file"]),
    Case("ocr-image-missing", ocr_img("nope.jpg"), 1, ["nope.jpg", "does not exist"]),
    Case("ocr-image-300-char-name", ocr_img(LONG), 1, ["file name of 304 bytes"]),
    Case("ocr-image-under-a-file", lambda c: ["ocr", c.bundle, c.image / "x.jpg"], 1, ["a part of the path is a file"]),
    Case("ocr-folder-fifo-inside", lambda c: ["ocr", c.bundle, c.tmp / "d"], 1, ["named pipe"],
         setup=lambda c: ((c.tmp / "d").mkdir(), os.mkfifo(c.tmp / "d" / "p.png"))),
    Case("ocr-bundle-missing", lambda c: ["ocr", c.tmp / "nobundle", c.image], 2, ["BUNDLE", "does not exist"]),
    Case("ocr-bundle-is-file", lambda c: ["ocr", c.image, c.image], 2, ["BUNDLE", "is a file"]),
    Case("ocr-bundle-is-fifo", lambda c: ["ocr", c.tmp / "p", c.image], 2, ["BUNDLE", "named pipe"], setup=fifo("p")),
    Case("ocr-bundle-300-char-name", lambda c: ["ocr", c.tmp / ("b" * 300), c.image], 2, ["BUNDLE", "file name"]),
    Case("ocr-bundle-empty-folder", lambda c: ["ocr", c.tmp, c.image], 1, ["no manifest.json"]),
    Case("ocr--json-is-folder", lambda c: ["ocr", c.bundle, c.image, "--json", c.tmp], 2, ["--json", "is a folder"]),
    Case("ocr--json-is-the-image", lambda c: ["ocr", c.bundle, c.image, "--json", c.image], 1, ["--json", "same path"]),
    Case("ocr--json-is-fifo", lambda c: ["ocr", c.bundle, c.image, "--json", c.tmp / "p"], 2, ["--json", "named pipe"],
         setup=fifo("p")),
    Case("ocr--json-under-a-file", lambda c: ["ocr", c.bundle, c.image, "--json", c.image / "o.json"], 2,
         ["--json", "a part of the path is a file"]),
    Case("ocr--json-empty", lambda c: ["ocr", c.bundle, c.image, "--json", ""], 2, ["--json", "empty"]),
    Case("ocr--json-inside-bundle", lambda c: ["ocr", c.bundle, c.image, "--json", c.bundle / "o.json"], 1,
         ["--json", "inside BUNDLE"]),
    Case("ocr--vis-is-file", lambda c: ["ocr", c.bundle, c.image, "--vis", c.image], 2, ["--vis", "is a file"]),
    Case("ocr--source-models-missing", lambda c: ["ocr", c.bundle, c.image, "--source-models", c.tmp / "x"], 2,
         ["--source-models"]),
    Case("eval--dataset-fifo", lambda c: ["eval", c.bundle, "--dataset", c.tmp / "p"], 2, ["--dataset", "named pipe"],
         setup=fifo("p")),
    Case("eval--dataset-missing", lambda c: ["eval", c.bundle, "--dataset", c.tmp / "x"], 2, ["--dataset", "does not exist"]),
    Case("eval--errors-is-folder", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--errors", c.tmp],
         2, ["--errors", "is a folder"]),
    Case("eval--json-is-folder", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--json", c.tmp],
         2, ["--json", "is a folder"]),
    Case("eval--json-is-the-dataset", lambda c: ["eval", c.bundle, "--dataset", c.tmp / "l.txt", "--json",
                                                 c.tmp / "l.txt"], 1, ["--json", "same path"],
         setup=write("l.txt", b"a.png\tx\n")),
    Case("eval-bundle-missing", lambda c: ["eval", c.tmp / "x", "--dataset", c.data / "iiit5k_rec"], 2, ["does not exist"]),
    Case("bench--images-fifo", lambda c: ["bench", c.bundle, "--images", c.tmp / "p"], 2, ["--images", "named pipe"],
         setup=fifo("p")),
    Case("bench--images-missing", lambda c: ["bench", c.bundle, "--images", c.tmp / "x"], 2, ["--images"]),
    Case("bench--json-is-folder", lambda c: ["bench", c.bundle, "--json", c.tmp], 2, ["--json", "is a folder"]),
    Case("report--out-is-file", lambda c: ["report", c.tmp / "r.json", "--out", c.image], 2, ["--out", "is a file"],
         setup=write("r.json", b"{}")),
    Case("report--out-under-file", lambda c: ["report", c.tmp / "r.json", "--out", c.image / "rep"], 2, ["--out"],
         setup=write("r.json", b"{}")),
    Case("report-result-missing", lambda c: ["report", c.tmp / "x.json", "--out", c.tmp / "rep"], 2, ["x.json"]),
    Case("report-result-is-folder", lambda c: ["report", c.tmp, "--out", c.tmp / "rep"], 2, ["is a folder"]),
    Case("report-result-twice", lambda c: ["report", c.tmp / "r.json", c.tmp / "r.json", "--out", c.tmp / "rep"], 1,
         ["given twice"], setup=write("r.json", b"{}")),
    Case("report-result-not-json", lambda c: ["report", c.tmp / "r.json", "--out", c.tmp / "rep"], 1, ["r.json"],
         setup=write("r.json", b"\x00\x01garbage")),
    Case("convert--out-equals--models", lambda c: ["convert", "--models", c.tmp / "m", "--out", c.tmp / "m", "--force",
                                                   "--parity-images", c.data / "paddleocr_doc_imgs"], 1,
         ["--out", "same path as --models"], setup=_models_copy),
    Case("convert--out-inside--models", lambda c: ["convert", "--models", c.tmp / "m", "--out", c.tmp / "m" / "o",
                                                   "--parity-images", c.data / "paddleocr_doc_imgs"], 1,
         ["--out", "inside --models"], setup=_models_copy),
    Case("convert--out-contains--models", lambda c: ["convert", "--models", c.tmp / "m", "--out", c.tmp, "--force",
                                                     "--parity-images", c.data / "paddleocr_doc_imgs"], 1,
         ["--out", "contains --models"], setup=_models_copy),
    Case("convert--out-contains--dict", lambda c: ["convert", "--models", c.models, "--dict", c.tmp / "o" / "k.txt",
                                                   "--out", c.tmp / "o", "--force", "--parity-images",
                                                   c.data / "paddleocr_doc_imgs"], 1, ["contains --dict"],
         setup=combine(write("o/k.txt", b"a\n"))),
    Case("convert--out-equals--parity-images", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "imgs",
                                                          "--force", "--parity-images", c.tmp / "imgs"], 1,
         ["--parity-images"], setup=lambda c: (c.tmp / "imgs").mkdir()),
    Case("convert--out-is-cwd", lambda c: ["convert", "--models", c.models, "--out", ".", "--force",
                                           "--parity-images", c.data / "paddleocr_doc_imgs"], 2, ["--out"]),
    Case("convert--out-is-file", lambda c: ["convert", "--models", c.models, "--out", c.image, "--force"], 2,
         ["--out", "is a file"]),
    Case("convert--models-is-file", lambda c: ["convert", "--models", c.image, "--out", c.tmp / "o"], 2,
         ["--models", "is a file"]),
    Case("convert--dict-is-folder", lambda c: ["convert", "--models", c.models, "--dict", c.tmp, "--out", c.tmp / "o"],
         2, ["--dict", "is a folder"]),
    Case("convert--dict-fifo", lambda c: ["convert", "--models", c.models, "--dict", c.tmp / "p", "--out", c.tmp / "o"],
         2, ["--dict", "named pipe"], setup=fifo("p")),
    Case("convert--parity-images-missing", lambda c: ["convert", "--models", c.models, "--out", c.tmp / "o",
                                                      "--parity-images", c.tmp / "x"], 2, ["--parity-images"]),
    Case("convert--out-exists-no-force", lambda c: ["convert", "--models", c.models, "--out", c.tmp, "--parity-images",
                                                    c.data / "paddleocr_doc_imgs"], 1, ["--force"]),
    Case("pull-home-is-file", lambda c: ["models", "pull", "--source", c.models], 1, ["EDGEOCR_HOME"],
         setup=write("homefile", b"x"), env=lambda c: {"EDGEOCR_HOME": str(c.tmp / "homefile")}),
    Case("pull-home-under-file", lambda c: ["models", "pull", "--source", c.models], 1, ["EDGEOCR_HOME"],
         setup=write("homefile", b"x"), env=lambda c: {"EDGEOCR_HOME": str(c.tmp / "homefile" / "sub")}),
    Case("pull-source-missing", lambda c: ["models", "pull", "--source", c.tmp / "nowhere"], 1, ["nowhere"]),
    Case("pull-source-is-file", lambda c: ["models", "pull", "--source", c.image], 1, ["12.jpg"]),
]
test_paths = catalogue_test(PATH_CASES)


def test_convert_out_equal_to_models_keeps_every_input(ctx: Ctx, home: Path, tmpdir_: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The data-loss case of the issue: `convert --models M --out M --force` deleted the user's models."""
    case = next(c for c in PATH_CASES if c.id == "convert--out-equals--models")
    run_case(case, ctx, home, tmpdir_, monkeypatch)
    _models_intact(ctx)


# ------------------------------------------------------------------------------------------------
# 3. Manifests and bundles (copies of onnx-fp32, corrupted), validated by manifest.schema.json
# ------------------------------------------------------------------------------------------------

def _raw_manifest(data: bytes) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        b = copy_bundle(ctx)
        (b / "manifest.json").write_bytes(data)
    return setup


def _replace_file(name: str, source: Optional[str] = None, data: Optional[bytes] = None,
                  truncate: int = 0) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        b = copy_bundle(ctx)
        target = b / name
        content = data if data is not None else (ctx.bundle / (source or name)).read_bytes()
        if truncate:
            content = content[:-truncate]
        target.unlink()
        target.write_bytes(content)
    return setup


def _set(path: str, value: object) -> Callable[[dict], None]:
    def edit(m: dict) -> None:
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = m
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return edit


def _delete(path: str) -> Callable[[dict], None]:
    def edit(m: dict) -> None:
        keys = path.split(".")
        node = m
        for k in keys[:-1]:
            node = node[k]
        del node[keys[-1]]
    return edit


def _symlink_det_outside(ctx: Ctx) -> None:
    b = copy_bundle(ctx)
    shutil.copyfile(ctx.bundle / "det.onnx", ctx.tmp / "outside.onnx")
    (b / "det.onnx").unlink()
    (b / "det.onnx").symlink_to(ctx.tmp / "outside.onnx")


def _lite_copy_with_version(ctx: Ctx, version: str) -> None:
    """ctx.tmp/b: the lite-x86-fp32 bundle whose manifest claims another Paddle-Lite version."""
    ctx.bundle = ctx.bundle.parent / "lite-x86-fp32"
    b = copy_bundle(ctx)
    m = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
    m["lite_version"] = version
    (b / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


MANIFEST_CASES = [
    Case("manifest-json-list", ocr_b(), 1, ["manifest.json", "JSON list"], setup=_raw_manifest(b"[1, 2]")),
    Case("manifest-json-string", ocr_b(), 1, ["manifest.json", "JSON str"], setup=_raw_manifest(b'"bundle"')),
    Case("manifest-json-null", ocr_b(), 1, ["manifest.json", "NoneType"], setup=_raw_manifest(b"null")),
    Case("manifest-empty-file", ocr_b(), 1, ["manifest.json", "not valid JSON"], setup=_raw_manifest(b"")),
    Case("manifest-invalid-json", ocr_b(), 1, ["manifest.json", "not valid JSON"], setup=_raw_manifest(b"{'a': 1")),
    Case("manifest-not-utf8", ocr_b(), 1, ["manifest.json", "not valid JSON"], setup=_raw_manifest(b'{"a": "\xff\xfe"}')),
    Case("manifest-deep-nesting", ocr_b(), 1, ["manifest.json"], setup=_raw_manifest(b"[" * 100000 + b"]" * 100000)),
    Case("manifest-5MB", ocr_b(), 1, ["manifest.json", "a manifest is a few KB"],
         setup=_raw_manifest(b'{"pad": "' + b"x" * (5 << 20) + b'"}')),
    Case("manifest-is-folder", ocr_b(), 1, ["no manifest.json"],
         setup=lambda c: (copy_bundle(c), (c.tmp / "b" / "manifest.json").unlink(), (c.tmp / "b" / "manifest.json").mkdir())),
    Case("manifest-missing", ocr_b(), 1, ["no manifest.json"],
         setup=lambda c: (copy_bundle(c), (c.tmp / "b" / "manifest.json").unlink())),
    Case("manifest-schema-version-2", ocr_b(), 1, ["schema_version 2"], setup=edit_manifest(_set("schema_version", 2))),
    Case("manifest-no-stages-rec", ocr_b(), 1, ["stages", "'rec' is a required property"],
         setup=edit_manifest(_delete("stages.rec"))),
    Case("manifest-no-dictionary", ocr_b(), 1, ["'dictionary' is a required property"],
         setup=edit_manifest(_delete("dictionary"))),
    Case("manifest-stage-extra-key", ocr_b(), 1, ["stages.det", "evil"], setup=edit_manifest(_set("stages.det.evil", 1))),
    Case("manifest-top-extra-key", ocr_b(), 1, ["(top level)", "surprise"], setup=edit_manifest(_set("surprise", 1))),
    Case("manifest-params-string", ocr_b(), 1, ["stages.det.params.limit_side_len", "not of type 'integer'"],
         setup=edit_manifest(_set("stages.det.params.limit_side_len", "960"))),
    Case("manifest-params-out-of-range", ocr_b(), 1, ["stages.det.params.limit_side_len", "less than the minimum"],
         setup=edit_manifest(_set("stages.det.params.limit_side_len", 5))),
    Case("manifest-params-negative-unclip", ocr_b(), 1, ["stages.det.params.unclip_ratio"],
         setup=edit_manifest(_set("stages.det.params.unclip_ratio", -1))),
    Case("manifest-params-bool-as-int", ocr_b(), 1, ["stages.rec.params.batch_size"],
         setup=edit_manifest(_set("stages.rec.params.batch_size", True))),
    Case("manifest-params-unknown", ocr_b(), 1, ["stages.cls.params", "turbo"],
         setup=edit_manifest(_set("stages.cls.params.turbo", True))),
    Case("manifest-params-null", ocr_b(), 1, ["stages.det.params"], setup=edit_manifest(_set("stages.det.params", None))),
    Case("manifest-drop-score-2", ocr_b(), 1, ["pipeline.drop_score"], setup=edit_manifest(_set("pipeline.drop_score", 2))),
    Case("manifest-file-parent-dir", ocr_b(), 1, ["stages.det.file", "../outside_det.onnx", "inside the bundle"],
         setup=edit_manifest(_set("stages.det.file", "../outside_det.onnx"))),
    Case("manifest-file-absolute", ocr_b(), 1, ["stages.rec.file", "/etc/passwd"],
         setup=edit_manifest(_set("stages.rec.file", "/etc/passwd"))),
    Case("manifest-file-subfolder", ocr_b(), 1, ["stages.cls.file"], setup=edit_manifest(_set("stages.cls.file", "x/cls.onnx"))),
    Case("manifest-file-hidden", ocr_b(), 1, ["stages.cls.file"], setup=edit_manifest(_set("stages.cls.file", ".cls.onnx"))),
    Case("manifest-dictionary-outside", ocr_b(), 1, ["dictionary.file"],
         setup=edit_manifest(_set("dictionary.file", "../../keys.txt"))),
    Case("manifest-sha256-not-hex", ocr_b(), 1, ["stages.det.sha256"], setup=edit_manifest(_set("stages.det.sha256", "zz"))),
    Case("manifest-size-negative", ocr_b(), 1, ["stages.det.size"], setup=edit_manifest(_set("stages.det.size", -1))),
    Case("manifest-format-unknown", ocr_b(), 1, ["format"], setup=edit_manifest(_set("format", "tflite"))),
    Case("manifest-backend-unknown", ocr_b(), 1, ["backend"], setup=edit_manifest(_set("backend", "tensorrt"))),
    Case("manifest-lite-version-garbage", ocr_b(), 1, ["lite_version"], setup=edit_manifest(_set("lite_version", "latest!"))),
    Case("manifest-shape-garbage", ocr_b(), 1, ["stages.rec.outputs.0.shape"],
         setup=edit_manifest(_set("stages.rec.outputs.0.shape", "NTC"))),
    Case("bundle-det-symlink-outside", ocr_b(), 1, ["det.onnx", "outside the bundle"], setup=_symlink_det_outside),
    Case("bundle-det-missing", ocr_b(), 1, ["det.onnx", "missing"],
         setup=lambda c: (copy_bundle(c), (c.tmp / "b" / "det.onnx").unlink())),
    Case("bundle-det-truncated", ocr_b(), 1, ["det.onnx", "sha256"], setup=_replace_file("det.onnx", truncate=100)),
    Case("bundle-det-is-cls", ocr_b(), 1, ["det.onnx", "sha256"], setup=_replace_file("det.onnx", "cls.onnx")),
    Case("bundle-det-is-cls-no-verify", ocr_b("--no-verify"), 1, ["det.onnx", "really the det model"],
         setup=_replace_file("det.onnx", "cls.onnx")),
    Case("bundle-det-is-cls-many-images", lambda c: ["ocr", c.tmp / "b", c.image, c.image.parent / "11.jpg",
                                                     c.image.parent / "ch", "--no-verify"], 1,
         ["det.onnx", "really the det model"], setup=_replace_file("det.onnx", "cls.onnx")),
    Case("bundle-rec-is-det-no-verify", ocr_b("--no-verify"), 1, ["rec.onnx", "rec model"],
         setup=_replace_file("rec.onnx", "det.onnx")),
    Case("bundle-cls-is-rec-no-verify", ocr_b("--no-verify"), 1, ["cls.onnx", "cls model"],
         setup=_replace_file("cls.onnx", "rec.onnx")),
    Case("bundle-det-garbage-no-verify", ocr_b("--no-verify"), 1, ["det.onnx"],
         setup=_replace_file("det.onnx", data=b"not an onnx model at all")),
    Case("bundle-det-empty-no-verify", ocr_b("--no-verify"), 1, ["det.onnx"], setup=_replace_file("det.onnx", data=b"")),
    Case("bundle-nb-lite-version-edited", ocr_b(), 1, ["det.nb", "paddle_lite_opt 2.12", "lite_version 2.10"],
         setup=lambda c: _lite_copy_with_version(c, "2.10")),
    Case("bundle-det-is-folder", ocr_b(), 1, ["det.onnx"],
         setup=lambda c: (copy_bundle(c), (c.tmp / "b" / "det.onnx").unlink(), (c.tmp / "b" / "det.onnx").mkdir())),
]
test_manifests = catalogue_test(MANIFEST_CASES)


def test_schema_covers_every_manifest_field() -> None:
    """A field added to the Manifest dataclasses needs its line in manifest.schema.json (else bundles fail to load)."""
    import dataclasses

    from edgeocr.manifest import SCHEMA_PATH, DictionaryEntry, Manifest, StageEntry, TensorSpec

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for cls, props in ((Manifest, schema["properties"]), (StageEntry, schema["$defs"]["stage"]["properties"]),
                       (DictionaryEntry, schema["properties"]["dictionary"]["properties"]),
                       (TensorSpec, schema["$defs"]["tensor"]["properties"])):
        assert {f.name for f in dataclasses.fields(cls)} <= set(props), cls.__name__


def test_schema_ranges_equal_stage_params() -> None:
    """manifest.schema.json states the same parameter ranges as edgeocr/stage_params.py (defined there once)."""
    import dataclasses

    from edgeocr.manifest import SCHEMA_PATH
    from edgeocr.stage_params import STAGE_PARAMS, PipelineParams

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    checked = 0
    for name, cls in [*STAGE_PARAMS.items(), ("pipeline", PipelineParams)]:
        props = schema["properties"]["pipeline"]["properties"] if name == "pipeline" else \
            schema["$defs"][f"{name}_params"]["properties"]
        assert set(props) == {f.name for f in dataclasses.fields(cls)}, name
        for f in dataclasses.fields(cls):
            if f.metadata.get("choices"):
                assert props[f.name]["enum"] == list(f.metadata["choices"]), (name, f.name)
                checked += 1
            rng = f.metadata.get("range")
            if rng is None:
                continue
            prop = props[f.name]
            lo = prop.get("exclusiveMinimum") if rng.lo_open else prop.get("minimum")
            assert (lo, prop.get("maximum")) == (rng.lo, rng.hi), (name, f.name, prop, rng)
            checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------------------------------
# 4. Dictionaries
# ------------------------------------------------------------------------------------------------

def _dictionary(transform: Callable[[bytes], bytes], fix_manifest: bool = False) -> Callable[[Ctx], None]:
    """Setup: the copy's dictionary rewritten (and, with ``fix_manifest``, its size/sha256 updated)."""
    def setup(ctx: Ctx) -> None:
        import hashlib

        b = copy_bundle(ctx)
        path = b / "ppocr_keys_v1.txt"
        data = transform(path.read_bytes())
        path.write_bytes(data)
        if fix_manifest:
            m = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
            m["dictionary"]["size"] = len(data)
            m["dictionary"]["sha256"] = hashlib.sha256(data).hexdigest()
            (b / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    return setup


def _swap_first_lines(data: bytes) -> bytes:
    """Same entries, other order: a modified dictionary that is still valid UTF-8 with the same count."""
    lines = data.splitlines(keepends=True)
    return lines[1] + lines[0] + b"".join(lines[2:])


def _first_lines(n: int) -> Callable[[bytes], bytes]:
    return lambda d: b"".join(d.splitlines(keepends=True)[:n])


DICTIONARY_CASES = [
    Case("dict-100-entries", ocr_b("--no-verify"), 1, ["ppocr_keys_v1.txt", "100 entries", "6625 classes", "6623"],
         setup=_dictionary(_first_lines(100))),
    Case("dict-100-entries-verified", ocr_b(), 1, ["ppocr_keys_v1.txt", "100 entries"],
         setup=_dictionary(_first_lines(100), fix_manifest=True)),
    Case("dict-one-entry-missing", ocr_b("--no-verify"), 1, ["ppocr_keys_v1.txt", "6622 entries", "6623"],
         setup=_dictionary(lambda d: b"".join(d.splitlines(keepends=True)[:-1]))),
    Case("dict-not-utf8", ocr_b("--no-verify"), 1, ["ppocr_keys_v1.txt", "not UTF-8", "line 1"],
         setup=_dictionary(lambda d: "中".encode("gbk") + b"\n" + d.split(b"\n", 1)[1])),
    Case("dict-empty", ocr_b("--no-verify"), 1, ["ppocr_keys_v1.txt", "0 entries"], setup=_dictionary(lambda d: b"")),
    Case("dict-missing", ocr_b("--no-verify"), 1, ["ppocr_keys_v1.txt"],
         setup=lambda c: (copy_bundle(c), (c.tmp / "b" / "ppocr_keys_v1.txt").unlink())),
    Case("dict-sha-mismatch", ocr_b(), 1, ["ppocr_keys_v1.txt", "sha256"], setup=_dictionary(_swap_first_lines)),
    Case("convert--dict-wrong-count", lambda c: ["convert", "--models", c.models, "--dict", c.tmp / "k.txt", "--out",
                                                 c.tmp / "o", "--variants", "onnx-fp32", "--parity-images",
                                                 c.data / "paddleocr_doc_imgs"], 1,
         ["k.txt", "100 entries", "6625 classes"],
         setup=lambda c: (c.tmp / "k.txt").write_bytes(_first_lines(100)((c.models / "ppocr_keys_v1.txt").read_bytes()))),
    Case("convert--dict-strict-modified", lambda c: ["convert", "--models", c.tmp / "m", "--out", c.tmp / "o",
                                                     "--strict-sources", "--parity-images", c.data / "paddleocr_doc_imgs"],
         1, ["ppocr_keys_v1.txt", "official", "--strict-sources"],
         setup=lambda c: (_models_copy(c), (c.tmp / "m" / "ppocr_keys_v1.txt").write_bytes(
             _swap_first_lines((c.models / "ppocr_keys_v1.txt").read_bytes())))),
]
test_dictionaries = catalogue_test(DICTIONARY_CASES)


@pytest.mark.parametrize("kind", ["bom", "duplicate"])
def test_dictionary_bom_and_duplicates_warn_and_still_read(kind: str, ctx: Ctx, caplog: pytest.LogCaptureFixture) -> None:
    """A BOM is stripped (entry 1 stays '\''), a duplicate is kept (class count unchanged); both warn, naming the file."""
    from edgeocr.ctc_decode import load_character_list

    src = (ctx.bundle / "ppocr_keys_v1.txt").read_bytes()
    path = ctx.tmp / "keys.txt"
    lines = src.splitlines(keepends=True)
    path.write_bytes(b"\xef\xbb\xbf" + src if kind == "bom" else lines[0] + lines[0] + b"".join(lines[2:]))
    chars = load_character_list(path, use_space_char=True)
    reference = load_character_list(ctx.bundle / "ppocr_keys_v1.txt", use_space_char=True)
    assert len(chars) == len(reference)
    if kind == "bom":
        assert chars == reference
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(path) in warnings[0]
    assert ("BOM" if kind == "bom" else "repeats line 1") in warnings[0]


# ------------------------------------------------------------------------------------------------
# 5. Source models of `convert` (caught before the expensive work)
# ------------------------------------------------------------------------------------------------

def _convert_m(*extra: object) -> Callable[[Ctx], List[str]]:
    return lambda c: ["convert", "--models", c.tmp / "m", "--out", c.tmp / "o", "--variants", "onnx-fp32",
                      "--parity-images", c.data / "paddleocr_doc_imgs", *extra]


def _break(rel: str, data: Optional[bytes] = None, truncate: int = 0, remove: bool = False) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        _models_copy(ctx)
        p = ctx.tmp / "m" / rel
        content = p.read_bytes() if p.is_file() else b""
        p.unlink()
        if remove:
            return
        p.write_bytes(data if data is not None else content[:-truncate])
    return setup


MODEL_CASES = [
    Case("src-pdiparams-truncated-strict", _convert_m("--strict-sources"), 1,
         ["ch_PP-OCRv2_det_infer/inference.pdiparams", "2296301 bytes", "2296317", "--strict-sources"],
         setup=_break("ch_PP-OCRv2_det_infer/inference.pdiparams", truncate=16)),
    Case("src-pdmodel-modified-strict", _convert_m("--strict-sources"), 1,
         ["ch_PP-OCRv2_rec_infer/inference.pdmodel", "sha256"],
         setup=lambda c: (_models_copy(c), _flip_last_byte(c.tmp / "m" / "ch_PP-OCRv2_rec_infer" / "inference.pdmodel"))),
    Case("src-pdmodel-empty", _convert_m(), 1, ["inference.pdmodel", "empty"],
         setup=_break("ch_PP-OCRv2_det_infer/inference.pdmodel", data=b"")),
    Case("src-pdmodel-not-protobuf", _convert_m(), 1, ["inference.pdmodel", "not a Paddle program"],
         setup=_break("ch_ppocr_mobile_v2.0_cls_infer/inference.pdmodel", data=b"<html>not a model</html>")),
    Case("src-pdiparams-missing", _convert_m(), 1, ["inference.pdiparams", "missing"],
         setup=_break("ch_PP-OCRv2_rec_infer/inference.pdiparams", remove=True)),
    Case("src-det-dir-missing", _convert_m(), 1, ["ch_PP-OCRv2_det_infer", "models pull"],
         setup=lambda c: (_models_copy(c), shutil.rmtree(c.tmp / "m" / "ch_PP-OCRv2_det_infer"))),
    Case("src-dict-missing", _convert_m(), 1, ["ppocr_keys_v1.txt", "dictionary not found"],
         setup=lambda c: (_models_copy(c), (c.tmp / "m" / "ppocr_keys_v1.txt").unlink())),
    Case("src--det-is-a-file", lambda c: ["convert", "--models", c.models, "--det", c.image, "--out", c.tmp / "o"], 2,
         ["--det", "is a file"]),
    Case("src--rec-is-the-det-model", lambda c: ["convert", "--models", c.models, "--rec",
                                                 c.models / "ch_PP-OCRv2_det_infer", "--out", c.tmp / "o", "--variants",
                                                 "onnx-fp32", "--parity-images", c.data / "paddleocr_doc_imgs"], 1,
         ["ch_PP-OCRv2_det_infer", "rec"]),
]
test_source_models = catalogue_test(MODEL_CASES)


def test_modified_source_warns_naming_the_file(tmp_path: Path, models_dir: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """Without --strict-sources a truncated .pdiparams (which Paddle still loads, so parity passes) is one
    warning naming the file and both sizes; with it, the error of the catalogue above."""
    from edgeocr.converters.source_models import check_official

    name = "ch_PP-OCRv2_det_infer"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "inference.pdmodel").write_bytes((models_dir / name / "inference.pdmodel").read_bytes())
    (folder / "inference.pdiparams").write_bytes((models_dir / name / "inference.pdiparams").read_bytes()[:-16])
    check_official(REGISTRY[name], folder, strict=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert str(folder / "inference.pdiparams") in warnings[0] and "2296301 bytes" in warnings[0]
    check_official(REGISTRY[name], models_dir / name, strict=True)  # the official files pass


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.unlink()
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------------------------------------
# 6. Images: decompression bombs (checked from the header), broken files, detector input cap
# ------------------------------------------------------------------------------------------------

def _png(w: int, h: int, rows: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"".join(b"\x00" + b"\x00" * w for _ in range(rows)), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def _bmp(w: int, h: int) -> bytes:
    header = struct.pack("<2sIHHI", b"BM", 54, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return header + info + b"\x00" * 64


def _jpeg_header(w: int, h: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def _gif(w: int, h: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", w, h) + b"\x00\x00\x00;"


IMAGE_CASES = [
    Case("img-png-30000x30000", ocr_img("bomb.png"), 1, ["bomb.png", "30000x30000", "--max-image-pixels"],
         setup=write("bomb.png", _png(30000, 30000, rows=100))),
    Case("img-png-1x100000000", ocr_img("thin.png"), 1, ["thin.png", "1x100000000"],
         setup=write("thin.png", _png(1, 100_000_000))),
    Case("img-bmp-huge-header", ocr_img("huge.bmp"), 1, ["huge.bmp", "20000x20000"], setup=write("huge.bmp", _bmp(20000, 20000))),
    Case("img-jpeg-huge-header", ocr_img("huge.jpg"), 1, ["huge.jpg", "60000x60000"],
         setup=write("huge.jpg", _jpeg_header(60000, 60000))),
    Case("img-gif-huge-header", ocr_img("huge.gif"), 1, ["huge.gif"], setup=write("huge.gif", _gif(65000, 65000))),
    Case("img-over-user-limit", ocr("--max-image-pixels", "1000"), 1, ["12.jpg", "over the limit"]),
    Case("img-empty", ocr_img("empty.jpg"), 1, ["empty.jpg", "empty"], setup=write("empty.jpg", b"")),
    Case("img-text-file", ocr_img("notes.png"), 1, ["notes.png", "not an image"], setup=write("notes.png", b"hello\n")),
    Case("img-truncated-jpeg", ocr_img("t.jpg"), 1, ["t.jpg", "truncated"],
         setup=lambda c: (c.tmp / "t.jpg").write_bytes(c.image.read_bytes()[:5000])),
    Case("img-truncated-png", ocr_img("t.png"), 1, ["t.png"], setup=write("t.png", _png(64, 64, 64)[:60])),
    Case("img-folder-without-images", ocr_img("d"), 1, ["directory without image files"],
         setup=lambda c: (c.tmp / "d").mkdir()),
    Case("img-random-bytes", ocr_img("r.bmp"), 1, ["r.bmp"], setup=write("r.bmp", os.urandom(4096))),
    Case("img-det-input-cap", ocr("--det-limit-type", "min", "--det-limit-side-len", "8000"), 1,
         ["12.jpg", "limit_side_len=8000", "detector input", "--det-limit-side-len"]),
    Case("img-thin-det-input-cap", ocr_img("thin2.png", "--det-limit-type", "min", "--det-limit-side-len", "4000"), 1,
         ["thin2.png", "detector input"], setup=write("thin2.png", _png(4000, 40, 40))),
]
test_images = catalogue_test(IMAGE_CASES)


def test_one_bad_image_among_good_ones(ctx: Ctx, home: Path, tmpdir_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bomb next to a good image: one error line, the good image is still read, exit 1."""
    (ctx.tmp / "bomb.png").write_bytes(_png(30000, 30000, rows=10))
    case = Case("mixed", lambda c: ["ocr", c.bundle, c.tmp / "bomb.png", c.image, "--json", c.tmp / "o.json"], 1,
                ["bomb.png"])
    run_case(case, ctx, home, tmpdir_, monkeypatch)
    data = json.loads((ctx.tmp / "o.json").read_text(encoding="utf-8"))
    assert len(data["images"]) == 1 and len(data["errors"]) == 1


# ------------------------------------------------------------------------------------------------
# 7. Datasets
# ------------------------------------------------------------------------------------------------

def _dataset(files: Dict[str, bytes]) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        d = ctx.tmp / "ds"
        d.mkdir()
        shutil.copyfile(ctx.image, d / "a.jpg")
        for name, data in files.items():
            (d / name).parent.mkdir(parents=True, exist_ok=True)
            (d / name).write_bytes(data)
    return setup


def _eval(target: str = "ds", *extra: object) -> Callable[[Ctx], List[str]]:
    return lambda c: ["eval", c.bundle, "--dataset", c.tmp / target, *extra]


_DET_LINE = b'a.jpg\t[{"transcription": "x", "points": [[0, 0], [10, 0], [10, 10], [0, 10]]}]\n'
DATASET_CASES = [
    Case("ds-det-label-bad-json-line-2", _eval("ds/Label.txt"), 1, ["Label.txt", "line 2", "paddle-det"],
         setup=_dataset({"Label.txt": _DET_LINE + b'a.jpg\t[{"transcription": "x", "points": [[0,0],[10,0\n'})),
    Case("ds-det-label-bad-json-in-folder", _eval("ds"), 1, ["Label.txt", "line 2"],
         setup=_dataset({"Label.txt": _DET_LINE + b"a.jpg\t[{]\n"})),
    Case("ds-det-label-no-points", _eval("ds/Label.txt"), 1, ["line 1", "points"],
         setup=_dataset({"Label.txt": b'a.jpg\t[{"transcription": "x"}]\n'})),
    Case("ds-rec-label-bad-line-3", _eval("ds"), 1, ["rec.txt", "line 3"],
         setup=_dataset({"rec.txt": b"a.jpg\tone\na.jpg\ttwo\na.jpg\n"})),
    Case("ds-rec-label-gbk", _eval("ds"), 1, ["rec.txt", "not UTF-8", "line 2"],
         setup=_dataset({"rec.txt": b"a.jpg\tok\na.jpg\t" + "中文".encode("gbk") + b"\n"})),
    Case("ds-rec-label-gbk-file", _eval("ds/rec.txt"), 1, ["rec.txt", "not UTF-8"],
         setup=_dataset({"rec.txt": b"a.jpg\t" + "中文".encode("gbk") + b"\n"})),
    Case("ds-rec-image-missing", _eval("ds"), 1, ["rec.txt", "missing.jpg", "not found"],
         setup=_dataset({"rec.txt": b"a.jpg\tone\nmissing.jpg\ttwo\n"})),
    Case("ds-icdar-bad-line", _eval("ds"), 1, ["gt_img_1.txt", "line 2"],
         setup=_dataset({"img_1.jpg": b"", "gt_img_1.txt": b"0,0,10,0,10,10,0,10,hello\n1,2,3\n"})),
    Case("ds-icdar-image-missing", _eval("ds"), 1, ["gt_img_7.txt", "img_7"],
         setup=_dataset({"gt_img_7.txt": b"0,0,10,0,10,10,0,10,hello\n"})),
    Case("ds-msra-bad-line", _eval("ds"), 1, ["IMG_1.gt", "line 1", "7 fields"],
         setup=_dataset({"IMG_1.JPG": b"", "IMG_1.gt": b"0 0 1 2\n"})),
    Case("ds-no-format", _eval("ds"), 1, ["matches no dataset format"], setup=_dataset({"notes.md": b"hi"})),
    Case("ds-empty-label-file", _eval("ds/rec.txt"), 1, ["rec.txt", "not a label file"], setup=_dataset({"rec.txt": b""})),
    Case("ds-label-file-binary", _eval("ds/rec.txt"), 1, ["rec.txt"], setup=_dataset({"rec.txt": os.urandom(2000)})),
    Case("ds-e2e-on-rec-set", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--task", "e2e"], 1,
         ["e2e"]),
]
test_datasets = catalogue_test(DATASET_CASES)


# ------------------------------------------------------------------------------------------------
# 8. Mirrors: a hostile HTTP server on 127.0.0.1
# ------------------------------------------------------------------------------------------------

class HostileHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET according to ``server.mode``."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        mode: str = self.server.mode  # type: ignore[attr-defined]
        stop: threading.Event = self.server.stop  # type: ignore[attr-defined]
        try:
            if mode == "500":
                self._head(500, 0)
            elif mode == "404":
                self._head(404, 0)
            elif mode == "html":
                body = b"<html><body>Login required</body></html>" * 10
                self._head(200, len(body), "text/html; charset=utf-8")
                self.wfile.write(body)
            elif mode == "endless":
                self._head(200, None)
                chunk = b"\0" * 65536
                while not stop.is_set():
                    self.wfile.write(chunk)
            elif mode == "huge-length":
                self._head(200, 10 ** 12)
                self.wfile.write(b"\0" * 1000)
            elif mode == "trickle":
                self._head(200, 1_000_000)
                while not stop.is_set():
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif mode == "silent":
                self._head(200, 1_000_000)
                self.wfile.flush()
                stop.wait(30)
            elif mode == "short":
                self._head(200, 100_000)
                self.wfile.write(b"\0" * 1234)
                self.wfile.flush()
                self.close_connection = True
            elif mode == "garbage":
                body = os.urandom(50_000)
                self._head(200, len(body))
                self.wfile.write(body)
            elif mode.startswith("dir:"):
                path = Path(mode[4:]) / self.path.lstrip("/")
                if not path.is_file():
                    self._head(404, 0)
                    return
                body = path.read_bytes()
                self._head(200, len(body))
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _head(self, code: int, length: Optional[int], ctype: str = "application/octet-stream") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
        self.end_headers()


@pytest.fixture()
def hostile() -> Iterator[Callable[[str], str]]:
    """``hostile(mode)`` -> base URL of a server on 127.0.0.1 that misbehaves in ``mode``."""
    servers = []

    def start(mode: str) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
        server.daemon_threads = True
        server.mode, server.stop = mode, threading.Event()  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.stop.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def _tampered_mirror(ctx: Ctx) -> None:
    d = ctx.tmp / "mirror"
    d.mkdir()
    name = "ch_ppocr_mobile_v2.0_cls_infer"
    with tarfile.open(d / REGISTRY[name].archive_name, "w") as tar:
        for f in ("inference.pdmodel", "inference.pdiparams"):
            data = (ctx.models / name / f).read_bytes()
            if f == "inference.pdiparams":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            info = tarfile.TarInfo(f"{name}/{f}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


CLS = "ch_ppocr_mobile_v2.0_cls_infer"
MIRROR_CASES = [
    # (id, server mode, expected texts in the one error line)
    ("mirror-endless-body", "endless", ["sent more than", "bytes"]),
    ("mirror-huge-content-length", "huge-length", ["announces 1000000000000 bytes"]),
    ("mirror-trickle", "trickle", ["stalled"]),
    ("mirror-silent", "silent", ["stalled", "no data"]),
    ("mirror-short-body", "short", ["truncated (1234 of 100000 bytes)"]),
    ("mirror-html-page", "html", ["HTML page"]),
    ("mirror-500", "500", ["HTTP 500"]),
    ("mirror-404", "404", ["HTTP 404"]),
    ("mirror-garbage-body", "garbage", ["not a readable tar archive"]),
    ("mirror-tampered-tar", "tampered", ["inference.pdiparams", "sha256"]),
    ("mirror-connection-refused", "refused", ["cannot download"]),
]


@pytest.mark.parametrize("mode,says", [(m, s) for _, m, s in MIRROR_CASES], ids=[c[0] for c in MIRROR_CASES])
def test_mirrors(mode: str, says: List[str], ctx: Ctx, home: Path, tmpdir_: Path, hostile: Callable[[str], str],
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hostile mirror: one line naming the URL (never a deleted temp path), a bounded run, an empty cache."""
    monkeypatch.setattr(model_pull, "DOWNLOAD_TIMEOUT_S", 2)
    monkeypatch.setattr(model_pull, "STALL_WINDOW_S", 1.5)
    if mode == "tampered":
        _tampered_mirror(ctx)
        url = hostile(f"dir:{ctx.tmp / 'mirror'}")
    elif mode == "refused":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}"
    else:
        url = hostile(mode)
    case = Case(mode, lambda c: ["models", "pull", CLS, "--source", url], 1, [url, *says])
    _, err = run_case(case, ctx, home, tmpdir_, monkeypatch)
    assert "edgeocr.pull." not in err
    models = home / "models"
    assert not (models / CLS).exists()
    used = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    assert used < model_pull.max_download_bytes(REGISTRY[CLS]) + 1, used


def test_mirror_slow_but_steady_hits_the_overall_deadline(ctx: Ctx, home: Path, tmpdir_: Path,
                                                          hostile: Callable[[str], str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A mirror that keeps sending (never "stalled") but would take for ever is stopped by the deadline."""
    monkeypatch.setattr(model_pull, "STALL_MIN_BYTES", 1)
    monkeypatch.setattr(model_pull, "DOWNLOAD_DEADLINE_S", 1.5)
    url = hostile("trickle")
    case = Case("deadline", lambda c: ["models", "pull", CLS, "--source", url], 1, [url, "did not finish within 2 s"])
    run_case(case, ctx, home, tmpdir_, monkeypatch)


# ------------------------------------------------------------------------------------------------
# 9. Device targets (malformed ones are refused before any connection)
# ------------------------------------------------------------------------------------------------

DEVICE_CASES = [
    Case(f"device-{t or 'empty'}", (lambda t: lambda c: ["bench", c.bundle, "--device", t])(t), 2, ["--device"])
    for t in ("usb:1234", "ssh:", "ssh:@", "telnet:host", "local:extra", "")
] + [
    Case("device-cpu-mask-without-device", lambda c: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec",
                                                      "--cpu-mask", "f0"], 1, ["--cpu-mask"]),
    Case("device-work-dir-without-device", lambda c: ["bench", c.bundle, "--device-work-dir", "/tmp/x"], 1,
         ["--device-work-dir"]),
    Case("device-ssh-connection-refused", lambda c: ["bench", c.bundle, "--device", "ssh:nobody@127.0.0.1:1",
                                                     "--num-runs", "1"], 1, ["ssh:nobody@127.0.0.1:1", "unreachable"]),
    Case("device-cpu-mask-not-hex", lambda c: ["bench", c.bundle, "--device", "local", "--cpu-mask", "zz"], 1,
         ["--cpu-mask", "hex"]),
    Case("device-timeout-nan", lambda c: ["bench", c.bundle, "--device", "local", "--device-timeout", "nan"], 2,
         ["--device-timeout"]),
]
test_devices = catalogue_test(DEVICE_CASES)


# ------------------------------------------------------------------------------------------------
# 10. Interruptions: SIGTERM and kill -9 mid-convert and mid-pull, then a clean re-run (subprocesses)
# ------------------------------------------------------------------------------------------------

def _default_sigint() -> None:
    """In the child: Ctrl-C as a terminal delivers it. A test runner started in the background by a
    non-interactive shell (``make test &``) ignores SIGINT, its children inherit that, and Python then
    never installs its KeyboardInterrupt handler: the interrupt test would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _spawn(args: List[str], env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "edgeocr", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env}, start_new_session=True, preexec_fn=_default_sigint)


def _wait_for(predicate: Callable[[], bool], proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the process never reached the point to interrupt")


def _partials(parent: Path) -> List[Path]:
    return sorted(parent.glob(".*.partial"))


@pytest.mark.timeout(300)
def test_convert_sigterm_then_kill9_then_clean_rerun(tmp_path: Path, models_dir: Path, parity_images: Path) -> None:
    """SIGTERM mid-convert: exit 143, nothing left. kill -9: a partial stays; the next run removes it (one
    log line) and builds the bundle."""
    out = tmp_path / "out"
    env = {"EDGEOCR_HOME": str(tmp_path / "home"), "EDGEOCR_MODEL_SOURCE": ""}
    args = ["convert", "--models", str(models_dir), "--out", str(out), "--variants", "onnx-fp32",
            "--parity-images", str(parity_images)]
    proc = _spawn(args, env)
    _wait_for(lambda: bool(_partials(tmp_path)), proc, 200)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    assert b"Traceback" not in err and b"terminated (SIGTERM)" in err
    assert _partials(tmp_path) == [] and not out.exists()

    proc = _spawn(args, env)
    _wait_for(lambda: bool(_partials(tmp_path)), proc, 200)
    proc.kill()
    proc.communicate(timeout=60)
    left = _partials(tmp_path)
    assert len(left) == 1

    proc = subprocess.run([sys.executable, "-m", "edgeocr", *args], capture_output=True, text=True, timeout=250,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    removed = [line for line in proc.stderr.splitlines() if "no longer runs" in line]
    assert len(removed) == 1 and str(left[0]) in removed[0]
    assert _partials(tmp_path) == [] and (out / "onnx-fp32" / "manifest.json").is_file()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ["sigterm", "sigint", "kill9"])
def test_pull_interrupted_then_clean_rerun(how: str, tmp_path: Path, models_dir: Path,
                                           hostile: Callable[[str], str]) -> None:
    """Interrupt a pull mid-download (a trickling mirror), then pull again from a good source."""
    home = tmp_path / "home"
    env = {"EDGEOCR_HOME": str(home), "EDGEOCR_MODEL_SOURCE": ""}
    proc = _spawn(["models", "pull", CLS, "--source", hostile("trickle")], env)
    pulls = lambda: sorted((home / "models").glob("edgeocr.pull.*"))  # noqa: E731
    _wait_for(lambda: any(any(True for _ in p.rglob("*.tar")) for p in pulls()), proc, 60)
    proc.send_signal({"sigterm": signal.SIGTERM, "sigint": signal.SIGINT, "kill9": signal.SIGKILL}[how])
    _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err
    if how == "kill9":
        assert proc.returncode == -9 and len(pulls()) == 1
    else:
        assert proc.returncode == {"sigterm": 143, "sigint": 130}[how], err.decode()
        assert pulls() == []
    rerun = subprocess.run([sys.executable, "-m", "edgeocr", "models", "pull", CLS, "--source", str(models_dir)],
                           capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert rerun.returncode == 0, rerun.stderr
    assert pulls() == [] and model_pull.is_cached(REGISTRY[CLS], home / "models")
    assert ("no longer runs" in rerun.stderr) == (how == "kill9")


# Read-only file systems: the tests run as root, for whom chmod does not make anything read-only, so a
# read-only tmpfs is mounted in a private mount namespace (unshare, util-linux) around the command.
READ_ONLY_CASES = [
    ("ro-report--out", lambda c, ro: ["report", c.extra["result"], "--out", ro / "rep"], 2, ["--out", "read-only"], {}),
    ("ro-eval--json", lambda c, ro: ["eval", c.bundle, "--dataset", c.data / "iiit5k_rec", "--json", ro / "r.json"], 2,
     ["--json", "read-only"], {}),
    ("ro-ocr--vis", lambda c, ro: ["ocr", c.bundle, c.image, "--vis", ro / "vis"], 2, ["--vis", "read-only"], {}),
    ("ro-convert--out", lambda c, ro: ["convert", "--models", c.models, "--out", ro / "o"], 2, ["--out", "read-only"], {}),
    ("ro-EDGEOCR_HOME", lambda c, ro: ["models", "pull", "--source", c.models], 1, ["EDGEOCR_HOME", "Read-only"],
     {"home": True}),
]


@pytest.mark.parametrize("args,code,says,opts", [c[1:] for c in READ_ONLY_CASES], ids=[c[0] for c in READ_ONLY_CASES])
def test_read_only_file_system(args: Callable, code: int, says: List[str], opts: dict, ctx: Ctx) -> None:
    ro = ctx.tmp / "ro"
    ro.mkdir()
    ctx.extra["result"] = REPO / "benchmarks" / "results" / "bench_onnx-fp32.json"
    env = {**os.environ, "EDGEOCR_HOME": str(ro / "home" if opts.get("home") else ctx.tmp / "home")}
    argv = ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"', "sh", str(ro),
            sys.executable, "-m", "edgeocr", *map(str, args(ctx, ro))]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == code, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("edgeocr: error: ")]
    assert len(errors) == 1 and all(s in errors[0] for s in says), proc.stderr


# Unreadable files: root reads everything, so the command runs in a user namespace as an unprivileged
# user (unshare, util-linux) that owns the files; chmod 000 then really denies reading.
UNREADABLE_CASES = [
    ("unreadable-model", "rec.onnx", [], ["rec.onnx", "cannot be read", "Permission denied"]),
    ("unreadable-model-no-verify", "rec.onnx", ["--no-verify"], ["rec.onnx", "cannot load"]),
    ("unreadable-manifest", "manifest.json", [], ["manifest.json", "Permission denied"]),
    ("unreadable-dictionary", "ppocr_keys_v1.txt", ["--no-verify"], ["ppocr_keys_v1.txt", "Permission denied"]),
    ("unreadable-image", "image", [], ["12.jpg", "not readable"]),
]


@pytest.mark.parametrize("target,extra,says", [c[1:] for c in UNREADABLE_CASES], ids=[c[0] for c in UNREADABLE_CASES])
def test_unreadable_files(target: str, extra: List[str], says: List[str], ctx: Ctx) -> None:
    b = copy_bundle(ctx)
    for f in b.iterdir():  # own copies: chmod on a hard link would change the session's bundle
        data = f.read_bytes()
        f.unlink()
        f.write_bytes(data)
    image = ctx.tmp / "12.jpg"
    shutil.copyfile(ctx.image, image)
    os.chmod(image if target == "image" else b / target, 0)
    argv = ["unshare", "-U", "--map-user=1000", "--map-group=1000", sys.executable, "-m", "edgeocr", "ocr", str(b),
            str(image), *extra]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "EDGEOCR_HOME": str(ctx.tmp / "home")})
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("edgeocr: error: ")]
    assert len(errors) == 1 and all(s in errors[0] for s in says), proc.stderr


def test_stale_partial_of_a_live_process_is_kept(tmp_path: Path) -> None:
    """A concurrent run's temp folder (owner alive) is never swept; a dead owner's is."""
    from edgeocr import stale

    live = tmp_path / ".out.a.partial"
    live.mkdir()
    stale.write_lock(live)
    dead = tmp_path / ".out.b.partial"
    dead.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (dead / stale.LOCK_NAME).write_text(f"{child.pid} -\n")
    assert stale.sweep(tmp_path, ".out.*.partial") == [dead]
    assert live.is_dir() and not dead.exists()
