"""Fixtures of the slim-runtime tests (issue 3), loaded with ``pytest_plugins = ["conftest_runtime"]``.

Kept out of tests/conftest.py (the lead's) to avoid edit conflicts. Models load once per session;
the PaddleOCR oracle runs once per session in its own environment (.venv-oracle) and its result is
kept for the session. Nothing is skipped: a missing oracle environment fails the tests.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[1]
# Issue 3 item 5: every image of paddleocr_doc_imgs and 50 of icdar2015_det.
ICDAR_PARITY_COUNT = 50


def parity_image_paths(data_dir: Path) -> List[Path]:
    """Top-level and ch/ images of paddleocr_doc_imgs + the first 50 ICDAR 2015 test images by name."""
    doc = data_dir / "paddleocr_doc_imgs"
    images = sorted(doc.glob("*.jpg")) + sorted((doc / "ch").glob("*.jpg"))
    icdar = sorted((data_dir / "icdar2015_det" / "ch4_test_images").glob("*.jpg"))[:ICDAR_PARITY_COUNT]
    if len(icdar) != ICDAR_PARITY_COUNT or len(images) < 10:
        pytest.fail(f"parity images missing under {data_dir} (found {len(images)} doc, {len(icdar)} ICDAR)")
    return images + icdar


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking ``parity_image`` over :func:`parity_image_paths` (ids: file names)."""
    if "parity_image" in metafunc.fixturenames:
        images = parity_image_paths(REPO.parent / "shared" / "data")
        metafunc.parametrize("parity_image", images, ids=[p.name for p in images])


@pytest.fixture(scope="session")
def parity_paths(data_dir: Path) -> List[Path]:
    return parity_image_paths(data_dir)


@pytest.fixture(scope="session")
def oracle_results(models_dir: Path, parity_paths: List[Path]) -> Dict[str, list]:
    """PaddleOCR 2.7.3's own pipeline on the parity images: ``{str(path): [{"box", "text", "score"}] | None}``.

    Runs once per session in .venv-oracle (edgeocr.benchmarks.paddleocr_oracle, ``--mode ocr``); a
    missing oracle environment raises ToolMissingError, which fails (never skips) the tests.
    """
    from edgeocr.benchmarks.paddleocr_oracle import run_oracle_ocr

    return run_oracle_ocr(parity_paths, models_dir, timeout=900)["images"]


@pytest.fixture(scope="session")
def onnx_bundle(bundles_dir: Path) -> Path:
    return bundles_dir / "onnx-fp32"


@pytest.fixture(scope="session")
def lite_x86_bundle(bundles_dir: Path) -> Path:
    return bundles_dir / "lite-x86-fp32"


@pytest.fixture(scope="session")
def ocr_onnx(onnx_bundle: Path) -> Iterator["object"]:
    from edgeocr import OCR

    with OCR(onnx_bundle) as ocr:
        yield ocr


@pytest.fixture(scope="session")
def ocr_lite(lite_x86_bundle: Path) -> Iterator["object"]:
    from edgeocr import OCR

    with OCR(lite_x86_bundle) as ocr:
        yield ocr


@pytest.fixture(scope="session")
def ocr_paddle(onnx_bundle: Path, models_dir: Path) -> Iterator["object"]:
    """The shared pipeline on the Paddle originals (Paddle Inference backend), the host-side reference."""
    from edgeocr import OCR

    with OCR(onnx_bundle, backend="paddle", source_models=models_dir) as ocr:
        yield ocr


@pytest.fixture(scope="session")
def ocr_by_variant(request: pytest.FixtureRequest):
    """``ocr_by_variant("onnx-fp32")`` -> the session's OCR for that bundle (loaded on first use);
    ``"paddle"`` is the Paddle Inference reference."""
    names = {"onnx-fp32": "ocr_onnx", "lite-x86-fp32": "ocr_lite", "paddle": "ocr_paddle"}
    return lambda variant: request.getfixturevalue(names[variant])
