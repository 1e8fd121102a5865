"""`edgeocr report` end to end on hand-made results: report.md + two readable PNGs."""
import json

from click.testing import CliRunner
from PIL import Image

from edgeocr.cli import cli

from test_report_markdown import bench_result, eval_result


def test_report_writes_markdown_and_plots(tmp_path):
    files = []
    for i, r in enumerate([eval_result("onnx-fp32", "icdar2015_det", "det", 0.43),
                           eval_result("lite-x86-fp32", "icdar2015_det", "det", 0.43),
                           eval_result("onnx-fp32", "iiit5k_rec", "rec", 0.8),
                           bench_result("onnx-fp32", 600.0), bench_result("lite-x86-fp32", 800.0)]):
        f = tmp_path / f"r{i}.json"
        f.write_text(json.dumps(r), encoding="utf-8")
        files.append(str(f))
    out = tmp_path / "report"
    res = CliRunner().invoke(cli, ["report", *files, "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "![latency_per_stage.png](latency_per_stage.png)" in md
    for name in ("latency_per_stage.png", "accuracy_vs_size_latency.png"):
        with Image.open(out / name) as img:
            assert img.format == "PNG" and img.width >= 800 and img.height >= 300
    assert not list(out.glob(".*tmp"))  # atomic writes left no temp files


def test_report_rejects_non_results(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    res = CliRunner().invoke(cli, ["report", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and "not an edgeocr eval/bench result" in res.stderr
    res = CliRunner().invoke(cli, ["report", "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and "at least one RESULT.json" in res.stderr
