"""`edgeocr eval` in-process (click) plus one `python -m edgeocr` subprocess smoke."""
import json
import subprocess
import sys

from click.testing import CliRunner

from edgeocr.cli import cli, main


def test_eval_cli_writes_json_and_errors(bundles_dir, data_dir, tmp_path):
    out, errs = tmp_path / "r.json", tmp_path / "e.tsv"
    res = CliRunner().invoke(cli, ["eval", str(bundles_dir / "onnx-fp32"), "--dataset", str(data_dir / "icdar2015_rec"),
                                   "--limit", "12", "--json", str(out), "--errors", str(errs), "--case-insensitive"])
    assert res.exit_code == 0, res.output
    assert "acc" in res.output and "case-insensitive" in res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["task"] == "rec" and data["normalization"]["case_insensitive"] is True
    rows = errs.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "image\texpected\tgot"
    assert len(rows) - 1 == data["metrics"]["total"] - data["metrics"]["correct"]


def test_eval_cli_errors_are_one_line(bundles_dir, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    for argv in (["eval", str(bundles_dir / "onnx-fp32"), "--dataset", str(tmp_path)],
                 ["eval", str(bundles_dir / "onnx-fp32"), "--dataset", str(tmp_path), "--keep"]):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code != 0
        else:
            raise AssertionError("expected a non-zero exit")
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("edgeocr: error: ")


def test_python_m_edgeocr_eval_smoke(bundles_dir, data_dir, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "edgeocr", "eval", str(bundles_dir / "onnx-fp32"), "--dataset",
                           str(data_dir / "iiit5k_rec"), "--limit", "3", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["metrics"]["total"] == 3
