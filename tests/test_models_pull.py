"""`edgeocr models pull`: from a folder, from a mirror over HTTP on 127.0.0.1, with checksums,
safe extraction and nothing half-written in the cache."""
from __future__ import annotations

import functools
import http.server
import io
import tarfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from edgeocr import model_pull
from edgeocr.cli import main
from edgeocr.errors import ChecksumError
from edgeocr.model_registry import REGISTRY, ModelEntry

ARCHIVES = [n for n, e in REGISTRY.items() if e.archive]


def _make_tar(src_dir: Path, name: str, dest: Path, tamper: bool = False, evil: bool = False) -> None:
    """A tar laid out like the official ones: ``<name>/inference.pdmodel`` + ``.pdiparams`` (+ ``.info``)."""
    with tarfile.open(dest, "w") as tar:
        for f in ("inference.pdmodel", "inference.pdiparams"):
            data = (src_dir / f).read_bytes()
            if tamper and f == "inference.pdiparams":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            info = tarfile.TarInfo(f"{name}/{f}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(f"{name}/inference.pdiparams.info")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
        if evil:
            info = tarfile.TarInfo("../../escaped.txt")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """A mirror folder with the official tar names plus the dictionary, built from ../shared/models."""
    root = tmp_path_factory.mktemp("mirror")
    for name in ARCHIVES:
        _make_tar(models_dir / name, name, root / REGISTRY[name].archive_name)
    (root / "ppocr_keys_v1.txt").write_bytes((models_dir / "ppocr_keys_v1.txt").read_bytes())
    return root


@pytest.fixture()
def http_mirror(mirror: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(mirror))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EDGEOCR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EDGEOCR_MODEL_SOURCE", raising=False)
    return tmp_path / "home"


def _leftovers(root: Path) -> list:
    return [p for p in root.rglob("*") if "partial" in p.name or p.name.startswith(".") or "pull" in p.name]


def test_pull_from_local_folder_verifies_and_caches(home: Path, models_dir: Path) -> None:
    paths = model_pull.pull(source=str(models_dir))
    assert set(paths) == set(REGISTRY)
    for name, entry in REGISTRY.items():
        assert model_pull.is_cached(entry)
    pdmodel = paths["ch_PP-OCRv2_det_infer"] / "inference.pdmodel"
    before = pdmodel.stat().st_mtime_ns
    model_pull.pull(["ch_PP-OCRv2_det_infer"], source=str(models_dir))  # cached: not copied again
    assert pdmodel.stat().st_mtime_ns == before
    assert _leftovers(home) == []


def test_pull_over_http_mirror_extracts_only_registered_files(home: Path, http_mirror: str, capsys) -> None:
    main(["models", "pull", "--source", http_mirror])  # success returns; errors exit non-zero
    out = capsys.readouterr().out
    assert "ch_PP-OCRv2_rec_infer" in out
    det = home / "models" / "ch_PP-OCRv2_det_infer"
    assert sorted(p.name for p in det.iterdir()) == ["inference.pdiparams", "inference.pdmodel"]
    assert (home / "models" / "ppocr_keys_v1.txt").stat().st_size == 26249
    assert _leftovers(home) == []


def test_env_var_source_and_file_url(home: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEOCR_MODEL_SOURCE", mirror.as_uri())
    model_pull.pull(["ch_ppocr_mobile_v2.0_cls_infer"])
    assert model_pull.is_cached(REGISTRY["ch_ppocr_mobile_v2.0_cls_infer"])


def test_tampered_archive_is_rejected_and_not_cached(home: Path, tmp_path: Path, models_dir: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    name = "ch_ppocr_mobile_v2.0_cls_infer"
    _make_tar(models_dir / name, name, bad / REGISTRY[name].archive_name, tamper=True)
    with pytest.raises(ChecksumError, match="sha256"):
        model_pull.pull([name], source=str(bad))
    assert not (home / "models" / name).exists()
    assert _leftovers(home) == []


def test_member_outside_target_is_never_written(home: Path, tmp_path: Path, models_dir: Path) -> None:
    evil = tmp_path / "evil" / "deep"
    evil.mkdir(parents=True)
    name = "ch_ppocr_mobile_v2.0_cls_infer"
    _make_tar(models_dir / name, name, evil / REGISTRY[name].archive_name, evil=True)
    model_pull.pull([name], source=str(evil))
    assert model_pull.is_cached(REGISTRY[name])
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not list(home.rglob("escaped.txt"))


def test_truncated_archive_gives_one_line_error(home: Path, tmp_path: Path, mirror: Path, capsys) -> None:
    src = tmp_path / "trunc"
    src.mkdir()
    name = "ch_PP-OCRv2_det_infer"
    data = (mirror / REGISTRY[name].archive_name).read_bytes()
    (src / REGISTRY[name].archive_name).write_bytes(data[: len(data) // 2])
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "pull", name, "--source", str(src)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("edgeocr: error:")
    assert not (home / "models" / name).exists()


def test_no_network_and_no_source_says_how_to_provide_one(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # Port 9 on loopback is closed: the same failure as a machine without network.
    name = "ch_ppocr_mobile_v2.0_cls_infer"
    entry = REGISTRY[name]
    offline = ModelEntry(entry.name, "http://127.0.0.1:9/" + entry.archive_name, entry.files, entry.kind)
    monkeypatch.setitem(REGISTRY, name, offline)
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "pull", name])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--source" in err and "EDGEOCR_MODEL_SOURCE" in err and "127.0.0.1:9" in err
    assert not (home / "models" / name).exists()


def test_unknown_model_name_lists_known_ones(home: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["models", "pull", "ch_PP-OCRv9_det"])
    err = capsys.readouterr().err
    assert "ch_PP-OCRv2_det_infer" in err
