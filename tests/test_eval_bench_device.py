"""`--device` hook of eval/bench through the device layer's `local` target (issue 6 transport):
the device records predictions only and the host scores them; results carry a "device" section."""
import json

from click.testing import CliRunner

from edgeocr.benchmarks.eval_runner import evaluate
from edgeocr.cli import cli


def test_eval_on_device_is_scored_on_host_like_a_host_run(bundles_dir, data_dir, tmp_path):
    out = tmp_path / "dev.json"
    bundle, dataset = bundles_dir / "onnx-fp32", data_dir / "icdar2015_det"
    res = CliRunner().invoke(cli, ["eval", str(bundle), "--dataset", str(dataset), "--limit", "3", "--device", "local",
                                   "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "device   : local" in res.output
    dev = json.loads(out.read_text(encoding="utf-8"))
    assert dev["device"]["target"] == "local" and dev["metrics"]["images"] == 3
    host = evaluate(bundle, dataset, "det", 3, progress=False)
    assert dev["metrics"] == host.metrics
    assert dev["texts"] == host.texts


def test_bench_on_device_returns_the_host_schema(bundles_dir, tmp_path):
    out = tmp_path / "dev.json"
    res = CliRunner().invoke(cli, ["bench", str(bundles_dir / "onnx-fp32"), "--stages", "det", "--num-threads", "1",
                                   "--num-runs", "1", "--min-secs", "0", "--max-secs", "1", "--warmup-runs", "0",
                                   "--device", "local", "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["kind"] == "bench" and data["device"]["target"] == "local"
    assert [(r["stage"], r["threads"]) for r in data["records"]] == [("det", 1)]
    assert res.output.count("params  :") == 1
