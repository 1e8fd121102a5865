"""Several devices and bundles in one call (issue 12) on the emulated ARM64 device.

Two emulated devices at once (the adb one and the ssh one of tests/device) plus ``local`` and the
host, two real bundles (onnx-fp32, and the same models
shipped without the angle classifier as variant onnx-fp32-nocls), and a third adb device that vanishes
mid-run: one matrix with every other cell present, device texts equal to the host's, the missing
cells named, exit code 1. Then a bench matrix and ``edgeocr report`` of both, and ``edgeocr ocr
--device all-adb --compare-host``. Emulation is ~200x slower than a phone: one 110x110 crop, one
small sign, det only for bench.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Dict, Iterator

import pytest
from click.testing import CliRunner

from device.fixtures import (  # noqa: F401 - pytest fixtures
    adb_device, adb_server, bench_images, device_root, e2e_dataset, ssh_device, start_fake_adbd, sysroot)
from edgeocr.cli import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def prepared(adb_device, ssh_device, tmp_path_factory) -> Iterator[None]:
    """The device runtime installed once; one snapshot of the edgeocr sources for the whole module
    (a checkout edited meanwhile must not make parallel devices re-push sources into their shared dir)."""
    import edgeocr.device.prepare as prepare_mod
    from edgeocr.device.prepare import prepare_device
    from edgeocr.device.targets import open_target

    snapshot = prepare_mod.runtime_sources(tmp_path_factory.mktemp("src-snapshot"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(prepare_mod, "runtime_sources", lambda staging: Path(shutil.copytree(snapshot, staging / "edgeocr")))
        prepare_device(open_target(f"adb:{adb_device.serial}"), adb_device.device.work)
        prepare_device(open_target("local"))
        yield


@pytest.fixture(scope="module")
def bundles(bundles_dir: Path, tmp_path_factory) -> Dict[str, Path]:
    """onnx-fp32 and a second real variant of it: the same models shipped without the angle classifier
    (pipeline.use_cls false, what an app for upright text does), under its own variant name."""
    nocls = tmp_path_factory.mktemp("variants") / "onnx-fp32-nocls"
    shutil.copytree(bundles_dir / "onnx-fp32", nocls)
    manifest = json.loads((nocls / "manifest.json").read_text(encoding="utf-8"))
    manifest["variant"] = "onnx-fp32-nocls"
    manifest["pipeline"]["use_cls"] = False
    (nocls / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return {"onnx-fp32": bundles_dir / "onnx-fp32", "onnx-fp32-nocls": nocls}


@pytest.fixture(scope="module")
def eval_matrix(prepared, adb_device, ssh_device, adb_server, e2e_dataset, bundles, tmp_path_factory):
    """`edgeocr eval B1 B2 --device adb --device ssh --device local --device adb:FLAKY` (FLAKY vanishes
    1 s into its first eval)."""
    out = tmp_path_factory.mktemp("eval-matrix")
    flaky = start_fake_adbd(adb_device.device, "--drop-match", "edgeocr eval", "--drop-after", "1")
    adb_t, flaky_t = f"adb:{adb_device.serial}", f"adb:{flaky.serial}"
    work = adb_device.device.work
    try:
        res = run_cli("eval", str(bundles["onnx-fp32"]), str(bundles["onnx-fp32-nocls"]), "--dataset", str(e2e_dataset),
                      "--task", "e2e", "--num-threads", "1", "--device", adb_t, "--device", ssh_device.target,
                      "--device", "local", "--device", flaky_t, "--device-work-dir", f"{adb_t}={work}",
                      "--device-work-dir", f"{ssh_device.target}={work}", "--device-work-dir", f"{flaky_t}={work}",
                      "--json", str(out / "eval.json"), "--report", str(out / "report"))
    finally:
        flaky.stop()
    assert (out / "eval.json").is_file(), res.output
    return {"res": res, "out": out, "adb": adb_t, "ssh": ssh_device.target, "flaky": flaky_t,
            "matrix": json.loads((out / "eval.json").read_text(encoding="utf-8"))}


def test_eval_matrix_every_cell_but_the_vanished_device(eval_matrix) -> None:
    m, res = eval_matrix["matrix"], eval_matrix["res"]
    assert res.exit_code == 1, res.output  # a device failed: non-zero, but the rest is there
    good = ["host", "local", eval_matrix["adb"], eval_matrix["ssh"]]
    cells = {(r["bundle"]["variant"], r["device"]["target"] if r.get("device") else "host"): r for r in m["results"]}
    assert set(cells) == {(v, t) for v in ("onnx-fp32", "onnx-fp32-nocls") for t in good}
    for (variant, target), r in cells.items():
        host = cells[(variant, "host")]
        assert r["texts"] == host["texts"] and any(host["texts"].values()), (variant, target)
        assert r["metrics"] == host["metrics"] and "incomplete" not in r
    assert cells[("onnx-fp32", eval_matrix["adb"])]["device"]["emulated"] is True
    assert cells[("onnx-fp32-nocls", eval_matrix["ssh"])]["device"]["machine"] == "aarch64"
    # The vanished device: both of its cells missing, each with the reason; named in the output.
    missing = {(x["variant"], x["target"]): x["error"] for x in m["missing"]}
    assert set(missing) == {("onnx-fp32", eval_matrix["flaky"]), ("onnx-fp32-nocls", eval_matrix["flaky"])}
    assert all(("offline" in e or "disconnected" in e or "unavailable" in e) for e in missing.values()), missing
    assert f"MISSING onnx-fp32 on {eval_matrix['flaky']}" in res.output


def test_eval_matrix_report(eval_matrix) -> None:
    rep = eval_matrix["out"] / "report"
    md = (rep / "report.md").read_text(encoding="utf-8")
    section = md.split("## Matrix: variants × devices", 1)[1]
    assert f"{eval_matrix['adb']} (emulated)" in section and f"{eval_matrix['ssh']} (emulated)" in section
    assert "100.0% same texts" in section and "(+0.00)" in section
    assert f"**onnx-fp32-nocls × {eval_matrix['flaky']}**" in section.split("### Missing cells", 1)[1]
    data = json.loads((rep / "matrix.json").read_text(encoding="utf-8"))
    assert data["reference_target"] == "host" and len(data["cells"]) == 2 * 5
    for c in data["cells"]:
        if c["target"] == eval_matrix["flaky"]:
            assert c["missing"] and not c["accuracy"]
        elif c["target"] != "host":
            assert c["accuracy"][0]["identical_texts"] == 1.0 and c["accuracy"][0]["diff_points"] == 0.0


def test_bench_matrix_and_combined_report(eval_matrix, prepared, adb_device, bundles, bench_images, tmp_path) -> None:
    adb_t = eval_matrix["adb"]
    res = run_cli("bench", str(bundles["onnx-fp32"]), str(bundles["onnx-fp32-nocls"]), "--images", str(bench_images),
                  "--stages", "det", "--num-threads", "1", "--num-runs", "2", "--warmup-runs", "0",
                  "--warmup-min-secs", "0", "--min-secs", "0", "--max-secs", "60", "--device", "local",
                  "--device", adb_t, "--device-work-dir", f"{adb_t}={adb_device.device.work}",
                  "--json", str(tmp_path / "bench.json"))
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert m["kind"] == "matrix" and not m["missing"]
    got = {(r["bundle"]["variant"], r["device"]["target"]) for r in m["results"]}
    assert got == {(v, t) for v in ("onnx-fp32", "onnx-fp32-nocls") for t in ("local", adb_t)}
    for r in m["results"]:
        (rec,) = r["records"]
        assert rec["stage"] == "det" and rec["stats"]["count"] >= 2 and len(rec["samples_ms"]) == rec["stats"]["count"]
    out = run_cli("report", str(eval_matrix["out"] / "eval.json"), str(tmp_path / "bench.json"), "--out",
                  str(tmp_path / "report"))
    assert out.exit_code == 0, out.output
    md = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    section = md.split("## Matrix: variants × devices", 1)[1]
    assert "### Latency det, 1 thread: p50 (p90) ms" in section and "### Cold start" in section
    assert "### Accuracy" in section and "### Peak memory" in section
    assert (tmp_path / "report" / "latency_matrix.png").stat().st_size > 1000
    print(section)  # the matrix quoted in the issue note (pytest -s)


def test_ocr_on_all_adb_devices_reads_like_the_host(prepared, adb_device, bundles, data_dir, tmp_path) -> None:
    from edgeocr import OCR

    images = [data_dir / "paddleocr_doc_imgs" / "ch" / n for n in ("word_1.jpg", "word_2.jpg")]
    res = run_cli("ocr", str(bundles["onnx-fp32"]), *map(str, images), "--threads", "1", "--device", "all-adb",
                  "--device-work-dir", adb_device.device.work, "--compare-host", "--json", str(tmp_path / "o.json"))
    assert res.exit_code == 0, res.output
    assert f"compare-host adb:{adb_device.serial}: 2 of 2 images read exactly as on the host" in res.output
    data = json.loads((tmp_path / "o.json").read_text(encoding="utf-8"))
    runs = data["runs"] if "runs" in data else [data]
    run = next(r for r in runs if r["device"]["target"] == f"adb:{adb_device.serial}")
    with OCR(bundles["onnx-fp32"], threads=1) as ocr:
        host = {str(p): ocr(p).texts for p in images}
    assert {r["source"]: r["texts"] for r in run["images"]} == host and any(host.values())
    assert run["device"]["emulated"] is True and run["images"][0]["lines"][0]["box"]
    for line in host[str(images[0])]:
        assert f"\t{line}" in res.output  # printed like a host run
