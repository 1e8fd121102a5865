"""The static int8 bundle computes in int8 on ARM64, and `--gate-device` measures int8 vs fp32 there (issue 10).

On the emulated ARM64 device (aarch64 CPython + onnxruntime under qemu-user, tests/device/): ORT profiles one
small run per stage and the host counts which conv/matmul MACs ran in integer kernels. Emulation is ~200x slower
than a phone, so this is a correctness check of the graph ORT builds for ARM64 and of the plumbing: no timing
claim is made from it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.fixtures import adb_device, adb_server, device_root, sysroot  # noqa: F401 - pytest fixtures
from edgeocr.converters.arm_check import check_kernels

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def target(adb_device) -> str:
    return f"adb:{adb_device.serial}"


def test_int8_bundle_runs_integer_kernels_on_arm64(int8_bundles_dir: Path, adb_device, target: str) -> None:
    bundle = int8_bundles_dir / "onnx-int8"
    arm = check_kernels(bundle, target, work_dir=adb_device.device.work)
    assert arm["machine"] == "aarch64" and arm["device"]["emulated"] is True
    stages = arm["stages"]
    # the bar: int8 activations on ~80% of conv MACs in det and in rec, as executed ARM64 kernels (rec: 82%)
    assert stages["det"]["conv_int8_share"] >= 0.9 and stages["rec"]["conv_int8_share"] >= 0.8, stages
    assert stages["cls"]["int8_share"] >= 0.8, stages
    for stage in ("det", "cls", "rec"):
        assert stages[stage]["kernels"].get("QLinearConv", 0) > 0, stages[stage]["kernels"]
    # the layers the recipe keeps float are exactly the ones ARM runs in float kernels (plus LSTM / transposed convs)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    for stage in ("det", "cls", "rec"):  # cls: Conv.6 stays float only with the manifest's session config
        float_layers = set(manifest["quantization"]["float_layers"][stage])
        assert float_layers <= set(stages[stage]["float_nodes"]), (stage, stages[stage]["float_nodes"])
    # and the fp32 parent runs none in int8 (the probe is not counting file contents)
    fp32 = check_kernels(int8_bundles_dir / "onnx-fp32", target, work_dir=adb_device.device.work)
    assert all(s["int8_macs"] == 0 and s["float_macs"] > 0 for s in fp32["stages"].values())


def test_gate_device_measures_int8_against_fp32_on_the_device(int8_bundles_dir: Path, adb_device, target: str,
                                                              data_dir: Path, tmp_path: Path) -> None:
    from edgeocr.converters.device_speed import measure_speedup

    image = data_dir / "paddleocr_doc_imgs" / "ch" / "word_1.jpg"  # small: det under qemu is slow
    speed = measure_speedup(int8_bundles_dir / "onnx-int8", int8_bundles_dir / "onnx-fp32", target, images=image,
                            stages=("det",), rounds=1, num_runs=1, warmup_runs=0, work_dir=adb_device.device.work)
    assert speed["target"] == target and speed["emulated"] is True and "EMULATED" in speed["summary"]
    assert set(speed["mean_ms"]) == {"fp32", "int8"} and speed["mean_ms"]["int8"]["det"] > 0
    assert speed["slower"] == (speed["total_speedup"] < 1.0)
