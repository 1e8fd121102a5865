"""The Android OCR core on the JVM reads what the Python runtime reads (issue 9).

``android_demo/jvm-ocr`` (the app's Java core, javax.imageio decoding, ONNX Runtime's Java API on the same
ORT version as the wheel) and ``edgeocr.OCR`` run the onnx-fp32 bundle of the session on the parity images
(every image of paddleocr_doc_imgs and the first 50 ICDAR 2015 test images). Every line must match the
Python line at the same position: box IoU >= 0.9 and identical text. The failure message lists every
difference. All images go through one JVM process (JVM start-up and model loading once).

javax.imageio decodes these JPEGs bit-identically to cv2.imread (measured: 0 differing values over the
60 images), so jvm-ocr gets the JPEG files themselves.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import List

import pytest
from shapely.geometry import Polygon

pytest_plugins = ["conftest_runtime"]

REPO = Path(__file__).resolve().parents[1]
JVM_OCR = REPO / "android_demo" / "jvm-ocr"
IOU_MIN = 0.9

pytestmark = pytest.mark.timeout(900)


def iou(a: List[List[float]], b: List[List[float]]) -> float:
    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    union = pa.union(pb).area
    return pa.intersection(pb).area / union if union > 0 else 0.0


def run_jvm_ocr(*args: str, timeout: float = 800) -> subprocess.CompletedProcess:
    return subprocess.run([str(JVM_OCR), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_jvm_core_reads_what_the_python_runtime_reads(onnx_bundle: Path, parity_paths: List[Path], ocr_onnx) -> None:
    # The JVM reads all images in the background while Python reads them here: the two overlap.
    jvm = subprocess.Popen([str(JVM_OCR), str(onnx_bundle), *map(str, parity_paths)], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        reference = {path: [line.to_dict() for line in ocr_onnx(path).lines] for path in parity_paths}
        stdout, stderr = jvm.communicate(timeout=800)
    finally:
        if jvm.poll() is None:
            jvm.kill()
            jvm.wait()
    assert jvm.returncode == 0, f"jvm-ocr failed (exit {jvm.returncode}):\n{stderr}"
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [r["image"] for r in records] == [str(p) for p in parity_paths], "jvm-ocr must print one line per image"

    problems: List[str] = []
    lines = identical = 0
    max_dev = 0.0
    for path, record in zip(parity_paths, records):
        assert set(record) >= {"image", "source", "image_size", "lines", "texts", "timings"}
        assert set(record["timings"]) >= {"det", "cls", "rec", "total"}
        ours = record["lines"]
        ref = reference[path]
        if len(ours) != len(ref):
            problems.append(f"{path.name}: {len(ours)} lines on the JVM, {len(ref)} in Python: "
                            f"{[l['text'] for l in ours]} vs {[l['text'] for l in ref]}")
        for k, (a, b) in enumerate(zip(ours, ref)):
            lines += 1
            overlap = iou(a["box"], b["box"])
            max_dev = max(max_dev, max(abs(u - v) for pa, pb in zip(a["box"], b["box"]) for u, v in zip(pa, pb)))
            if a["text"] == b["text"]:
                identical += 1
            if a["text"] != b["text"] or overlap < IOU_MIN:
                problems.append(f"{path.name} line {k}: JVM {a['text']!r} {a['box']} vs Python {b['text']!r} "
                                f"{b['box']} (IoU {overlap:.3f})")
    summary = f"{len(parity_paths)} images, {lines} lines, {identical} identical texts, max box deviation {max_dev} px"
    assert not problems, summary + "\n" + "\n".join(problems)
    assert lines > 200, summary  # the parity images hold ~320 lines; far fewer means nothing was compared


def test_jvm_ocr_bad_inputs(onnx_bundle: Path, tmp_path: Path, parity_paths: List[Path]) -> None:
    """One clear line per bad file, the good files still read, exit 1; a non-bundle exits 2 with one line."""
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(parity_paths[0].read_bytes()[:5000])
    good = parity_paths[-1]
    proc = run_jvm_ocr(str(onnx_bundle), str(empty), str(text), str(tmp_path / "missing.jpg"), str(truncated), str(good),
                       timeout=300)
    assert proc.returncode == 1, proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 5, proc.stderr  # 4 files + the summary line
    assert f"{empty}: is empty (0 bytes)" in errors[0]
    assert f"{text}: is not an image" in errors[1]
    assert "missing.jpg: cannot read" in errors[2]
    assert f"{truncated}: is a truncated JPEG" in errors[3]
    assert "4 of 5 file(s) failed" in errors[4]
    assert [json.loads(line)["image"] for line in proc.stdout.splitlines()] == [str(good)]

    proc = run_jvm_ocr(str(tmp_path), str(good), timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"jvm-ocr: error: {tmp_path}: has no manifest.json; is this a bundle "
                                                "made by `edgeocr convert`?"]
