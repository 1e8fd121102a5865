"""`make bench`'s script on the session bundles with 1 sample per dataset (the full run is committed)."""
import json

import pytest

from edgeocr.benchmarks.run_all import EVAL_PLAN, find_bundles, main
from edgeocr.errors import EdgeOCRError


def test_run_all_writes_results_skips_arm_and_reports(bundles_dir, data_dir, tmp_path):
    out = tmp_path / "results"
    assert main(["--bundles", str(bundles_dir), "--out", str(out), "--data", str(data_dir), "--limit-scale", "0.002",
                 "--no-oracle", "--no-bench"]) == 0
    skipped = json.loads((out / "skipped_lite-arm-fp32.json").read_text(encoding="utf-8"))
    assert skipped["kind"] == "skipped" and "x86_64" in skipped["reason"]
    for variant in ("onnx-fp32", "lite-x86-fp32"):
        for ds, task, _ in EVAL_PLAN:
            r = json.loads((out / f"eval_{variant}_{ds}_{task}.json").read_text(encoding="utf-8"))
            assert r["dataset"]["evaluated"] == 1 and r["metrics"] is not None
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| onnx-fp32 | lite-x86-fp32 |" in md and "lite-arm-fp32**: not measured here" in md
    assert "first 1" in md  # the limits used are stated
    assert (out / "accuracy_vs_size_latency.png").is_file()


def test_find_bundles_errors(tmp_path):
    with pytest.raises(EdgeOCRError, match="make demo"):
        find_bundles(tmp_path / "missing")
    with pytest.raises(EdgeOCRError, match="holds no bundles"):
        find_bundles(tmp_path)
