"""`edgeocr bench` in-process: flags, params printed first, JSON written, bad flags rejected."""
import json

from click.testing import CliRunner

from edgeocr.cli import cli


def test_bench_cli_prints_params_first_and_writes_json(bundles_dir, tmp_path):
    out = tmp_path / "b.json"
    res = CliRunner().invoke(cli, ["bench", str(bundles_dir / "onnx-fp32"), "--stages", "det,rec", "--num-threads", "1",
                                   "--num-runs", "2", "--min-secs", "0", "--max-secs", "1", "--warmup-min-secs", "0",
                                   "--json", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("bundle  : onnx-fp32")
    assert lines[2].startswith("params  : num_runs=2 ")
    assert any(l.startswith("det  threads=1 ") and "p99=" in l for l in lines)
    assert any("APPROXIMATE" in l for l in lines)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["stage"] for r in data["records"]] == ["det", "rec"]
    assert data["params"]["num_threads"] == [1]


def test_bench_cli_rejects_bad_options_before_work(bundles_dir):
    runner = CliRunner()
    for args, msg in ((["--stages", "det,gpu"], "valid stages"), (["--num-threads", "1,x"], "is not an integer"),
                      (["--cpu-mask", "f0"], "only work together with --device")):
        res = runner.invoke(cli, ["bench", str(bundles_dir / "onnx-fp32"), *args])
        # every error is one `edgeocr: error:` line on stderr (edgeocr.cli.LazyGroup.main)
        assert res.exit_code != 0 and msg in res.stderr and len(res.stderr.splitlines()) == 1, (args, res.output)
