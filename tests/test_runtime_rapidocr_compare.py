"""The RapidOCR comparison script (issue 3, item 6) on two real images, one round.

Guards the benchmark's fairness claim: RapidOCR configured from the same manifest and forced to
PaddleOCR's detector resize reads exactly what edgeocr reads; the timing numbers themselves are
only checked for sanity (they depend on the machine).
"""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edgeocr.benchmarks.rapidocr_compare import ENGINES, main
from edgeocr.stage_params import DetParams

pytest_plugins = ["conftest_runtime"]


def test_compare_runs_and_matched_rapidocr_reads_like_edgeocr(onnx_bundle: Path, data_dir: Path, tmp_path: Path) -> None:
    images = [data_dir / "paddleocr_doc_imgs" / "12.jpg", data_dir / "icdar2015_det" / "ch4_test_images" / "img_10.jpg"]
    args = ["--bundle", str(onnx_bundle), "--rounds", "1", "--warmup-rounds", "0", "--threads", "1", "--skip-rss",
            "--out", str(tmp_path)]
    for p in images:
        args += ["--images", str(p)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "rapidocr_compare.json").read_text(encoding="utf-8"))
    m = report["measurement"]
    assert set(m["stats"]) == set(ENGINES) and all(m["stats"][e]["median"] > 0 for e in ENGINES)
    matched = m["vs_edgeocr"]["rapidocr-matched"]
    assert matched["identical_text_share"] == 1.0, matched["differing_images"]
    cfg = matched["effective_config"]["det"]
    det = DetParams()  # the bundle manifest holds PP-OCRv2's defaults
    assert cfg["mean"] == list(det.mean) and cfg["limit_side_len"] == det.limit_side_len
    assert cfg["use_dilation"] == det.use_dilation and cfg["box_thresh"] == det.box_thresh
    assert m["vs_edgeocr"]["rapidocr-defaults"]["effective_config"]["det"]["limit_type"] == "min"
    assert 0 < m["prepost_share_median"] < 1
    assert "## Verdict" in (tmp_path / "rapidocr_compare.md").read_text(encoding="utf-8")
