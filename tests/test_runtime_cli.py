"""``edgeocr ocr`` end to end, in-process through ``edgeocr.cli.main`` (issue 3, items 4 and 7).

Bad files each get one ``edgeocr: error: <file>: ...`` line, the good ones are still processed,
and the exit status is non-zero if any failed. Odd-but-valid images (grey, RGBA, 16-bit, 1x1,
huge, blank) are read like their 8-bit BGR equivalent.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np
import pytest

from edgeocr.cli import main
from edgeocr.image_io import read_image

pytest_plugins = ["conftest_runtime"]

# PaddleOCR's reading of paddleocr_doc_imgs/12.jpg (see test_runtime_golden.py).
LINES_12 = ["上海斯格威铂尔受大酒店", "·打浦路15号", "绿洲仕格维花园公寓", "打浦路2529-35号"]


def run_cli(args: List[str], capsys: pytest.CaptureFixture) -> Tuple[int, str, str]:
    try:
        code = int(main(["ocr", *map(str, args)]) or 0)  # the console script passes this to sys.exit
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def doc12(data_dir: Path) -> np.ndarray:
    return read_image(data_dir / "paddleocr_doc_imgs" / "12.jpg")


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    d = tmp_path_factory.mktemp("bad")
    jpg = (data_dir / "paddleocr_doc_imgs" / "12.jpg").read_bytes()
    png = cv2.imencode(".png", read_image(data_dir / "paddleocr_doc_imgs" / "12.jpg"))[1].tobytes()
    files = {
        "missing": d / "does_not_exist.jpg",
        "directory": d / "folder.jpg",
        "empty": d / "empty.jpg",
        "truncated_jpeg": d / "truncated.jpg",
        "truncated_png": d / "truncated.png",
        "not_an_image": d / "notes.png",
    }
    files["directory"].mkdir()
    files["empty"].write_bytes(b"")
    files["truncated_jpeg"].write_bytes(jpg[: len(jpg) // 2])
    files["truncated_png"].write_bytes(png[: len(png) // 2])
    files["not_an_image"].write_text("this is a text file, not a PNG\n", encoding="utf-8")
    return files


def test_bad_files_one_line_each_and_the_rest_still_processed(
    onnx_bundle: Path, data_dir: Path, bad_files: dict, tmp_path: Path, capsys
) -> None:
    good = data_dir / "paddleocr_doc_imgs" / "12.jpg"
    out_json = tmp_path / "out.json"
    code, out, err = run_cli([onnx_bundle, *bad_files.values(), good, "--json", out_json], capsys)
    assert code == 1
    error_lines = [line for line in err.splitlines() if line.startswith("edgeocr: error: ")]
    assert len(error_lines) == len(bad_files)
    for path, line in zip(bad_files.values(), error_lines):
        assert line.startswith(f"edgeocr: error: {path}: "), line
    assert "truncated" in error_lines[3] and "empty" in error_lines[2] and "directory" in error_lines[1]
    assert all(text in out for text in LINES_12)
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert [img["texts"] for img in report["images"]] == [LINES_12]
    assert [e["source"] for e in report["errors"]] == [str(p) for p in bad_files.values()]
    assert report["ocr"]["variant"] == "onnx-fp32"


@pytest.mark.parametrize("kind", ["grey_png", "rgba_png", "rgba_transparent_png", "png16", "grey16_png", "bmp"])
def test_odd_but_valid_images_read_like_the_original(kind: str, onnx_bundle: Path, doc12, tmp_path: Path, capsys) -> None:
    path = tmp_path / f"{kind}.{'bmp' if kind == 'bmp' else 'png'}"
    if kind == "grey_png":
        img = cv2.cvtColor(doc12, cv2.COLOR_BGR2GRAY)
    elif kind == "rgba_png":
        img = cv2.cvtColor(doc12, cv2.COLOR_BGR2BGRA)  # opaque: must read exactly like the JPEG
    elif kind == "rgba_transparent_png":
        img = np.zeros(doc12.shape[:2] + (4,), np.uint8)  # fully transparent -> white page, no text
    elif kind == "png16":
        img = doc12.astype(np.uint16) * 257  # high byte is the original value
    elif kind == "grey16_png":
        img = cv2.cvtColor(doc12, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    else:
        img = doc12
    assert cv2.imwrite(str(path), img)
    out_json = tmp_path / "out.json"
    code, out, err = run_cli([onnx_bundle, path, "--json", out_json], capsys)
    assert code == 0, err
    texts = json.loads(out_json.read_text(encoding="utf-8"))["images"][0]["texts"]
    if kind in ("rgba_png", "png16", "bmp"):
        assert texts == LINES_12
    elif kind == "rgba_transparent_png":
        assert texts == []
    else:  # grey loses colour contrast: the model's reading of the grey page
        assert texts[0] == LINES_12[0] and len(texts) == len(LINES_12)


def test_tiny_huge_and_blank_images(onnx_bundle: Path, doc12, tmp_path: Path, capsys) -> None:
    tiny = tmp_path / "one_pixel.png"
    blank = tmp_path / "blank.jpg"
    huge = tmp_path / "huge.jpg"
    cv2.imwrite(str(tiny), np.zeros((1, 1, 3), np.uint8))
    cv2.imwrite(str(blank), np.full((600, 800, 3), 255, np.uint8))
    # 5750x3600: the detector input is capped at the manifest's limit_side_len (960).
    cv2.imwrite(str(huge), cv2.resize(doc12, None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC))
    out_json = tmp_path / "out.json"
    code, out, err = run_cli([onnx_bundle, tiny, blank, huge, "--json", out_json], capsys)
    assert code == 0, err
    images = json.loads(out_json.read_text(encoding="utf-8"))["images"]
    assert [img["texts"] for img in images[:2]] == [[], []]
    assert images[2]["image_size"] == [5750, 3600] and images[2]["texts"] == LINES_12
    assert max(max(x for x, _ in line["box"]) for line in images[2]["lines"]) > 960  # boxes in original pixels


def test_vis_no_cls_and_overrides(onnx_bundle: Path, data_dir: Path, doc12, tmp_path: Path, capsys) -> None:
    image = data_dir / "paddleocr_doc_imgs" / "12.jpg"
    vis = tmp_path / "vis"
    code, out, err = run_cli([onnx_bundle, image, "--vis", vis, "--no-cls", "--drop-score", "0.95",
                              "--json", tmp_path / "o.json"], capsys)
    assert code == 0, err
    drawn = cv2.imread(str(vis / "12.png"))
    assert drawn.shape == (doc12.shape[0], 2 * doc12.shape[1], 3)
    report = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    assert "cls" not in report["ocr"]["stages"] and report["ocr"]["params"]["pipeline"]["drop_score"] == 0.95
    assert report["images"][0]["texts"] == [t for t in LINES_12 if t == "绿洲仕格维花园公寓"]  # the only line >= 0.95


def test_invalid_override_is_one_line_error(onnx_bundle: Path, data_dir: Path, capsys) -> None:
    code, out, err = run_cli([onnx_bundle, data_dir / "paddleocr_doc_imgs" / "12.jpg", "--det-thresh", "1.5"], capsys)
    assert code == 2  # a usage error, refused by the option's range before the bundle loads
    assert err.startswith("edgeocr: error: ") and "'--det-thresh': 1.5" in err and len(err.splitlines()) == 1


def test_paddle_backend_needs_the_source_models(onnx_bundle: Path, data_dir: Path, models_dir: Path, capsys) -> None:
    image = data_dir / "paddleocr_doc_imgs" / "12.jpg"
    code, out, err = run_cli([onnx_bundle, image, "--backend", "paddle"], capsys)
    assert code == 1 and "--source-models" in err and len(err.splitlines()) == 1
    code, out, err = run_cli([onnx_bundle, image, "--backend", "paddle", "--source-models", models_dir], capsys)
    assert code == 0, err
    assert all(text in out for text in LINES_12)


def test_python_m_edgeocr_smoke(lite_x86_bundle: Path, data_dir: Path) -> None:
    """The installed entry point, as a user runs it, on the Paddle-Lite bundle."""
    proc = subprocess.run(
        [sys.executable, "-m", "edgeocr", "ocr", str(lite_x86_bundle), str(data_dir / "paddleocr_doc_imgs" / "ch")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "韩国小馆" in proc.stdout and proc.stdout.count("word_") == 3


def test_python_m_edgeocr_bad_file_exit_code(onnx_bundle: Path, bad_files: dict) -> None:
    """Item 7's non-zero exit must hold for ``python -m edgeocr`` too, not only for the console script."""
    proc = subprocess.run(
        [sys.executable, "-m", "edgeocr", "ocr", str(onnx_bundle), str(bad_files["empty"])],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.splitlines()[0] == f"edgeocr: error: {bad_files['empty']}: is empty (0 bytes)"


def test_arm_bundle_on_x86_host_is_refused_not_garbage(bundles_dir: Path, data_dir: Path, capsys) -> None:
    """An ARM .nb runs on x86 Paddle-Lite but returns garbage; the runtime must refuse it in one line."""
    code, out, err = run_cli([bundles_dir / "lite-arm-fp32", data_dir / "paddleocr_doc_imgs" / "12.jpg"], capsys)
    if platform.machine().lower() in ("aarch64", "arm64"):  # on an ARM host the bundle is the right one
        assert code == 0 and all(t in out for t in LINES_12)
        return
    assert code == 1 and out == ""
    assert err.startswith("edgeocr: error: ") and "arm" in err and len(err.splitlines()) == 1
