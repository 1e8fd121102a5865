"""What goes wrong with real phones and boards, reproduced on the emulated device: each failure
must end in one clear DeviceError (or a partial result), never a hang or a traceback."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from device.fixtures import (  # noqa: F401 - pytest fixtures
    adb, adb_device, adb_server, bench_images, device_root, fake_adbd_factory, free_port, ssh_device, sysroot)
from edgeocr.cli import main
from edgeocr.device.remote import run_remote_bench
from edgeocr.device.targets import open_target
from edgeocr.errors import DeviceError

pytestmark = pytest.mark.timeout(600)

BENCH_ARGS = ["--num-runs", "1", "--warmup-runs", "0", "--warmup-min-secs", "0", "--min-secs", "0",
              "--max-secs", "60", "--stages", "det"]


@pytest.fixture(scope="module")
def onnx_bundle(bundles_dir: Path) -> Path:
    return bundles_dir / "onnx-fp32"


def cli_error(argv, capsys) -> str:
    """Run the real entry point; it must exit non-zero with one `edgeocr: error:` line."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("edgeocr: error: "), err
    return err[0]


def test_unauthorized_phone_says_accept_the_prompt(fake_adbd_factory, capsys) -> None:
    locked = fake_adbd_factory("--unauthorized")
    line = cli_error(["device", "info", f"adb:{locked.serial}"], capsys)
    assert "unauthorized" in line and "Allow USB debugging" in line


def test_several_devices_need_a_serial(adb_device, fake_adbd_factory) -> None:
    other = fake_adbd_factory(device=adb_device.device)
    with pytest.raises(DeviceError, match="several adb devices") as exc:
        open_target("adb")
    assert f"adb:{adb_device.serial}" in str(exc.value) and f"adb:{other.serial}" in str(exc.value)
    assert open_target(f"adb:{other.serial}").run(["echo", "hi"], timeout=60).text == "hi\n"


def test_unknown_serial_suggests_adb_connect(adb_device) -> None:
    with pytest.raises(DeviceError, match=r"not found \(for a network device run `adb connect 127.0.0.1:1`"):
        open_target("adb:127.0.0.1:1")


def test_no_device_at_all(adb_server, monkeypatch, tmp_path) -> None:
    """A second, empty adb server (fresh port, own HOME for its keys): `adb` finds nothing."""
    port = free_port()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))
    monkeypatch.setenv("HOME", str(tmp_path))
    try:
        with pytest.raises(DeviceError, match="no adb device found"):
            open_target("adb")
    finally:
        subprocess.run(["adb", "kill-server"], env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)


def test_device_that_vanished_is_offline(fake_adbd_factory, adb_device) -> None:
    gone = fake_adbd_factory(device=adb_device.device)
    t = open_target(f"adb:{gone.serial}")
    gone.vanish()
    with pytest.raises(DeviceError, match=r"offline|disconnected"):
        t.run(["echo", "hi"], timeout=60)


def test_device_goes_away_mid_run_keeps_finished_part(fake_adbd_factory, adb_device, onnx_bundle, bench_images) -> None:
    """Unplugged 1 s into the threads=2 part: the threads=1 result comes back, marked incomplete."""
    flaky = fake_adbd_factory("--drop-match", "--num-threads 2", "--drop-after", "1", device=adb_device.device)
    res = run_remote_bench(f"adb:{flaky.serial}", onnx_bundle, bench_images, ["--num-threads", "1,2", *BENCH_ARGS],
                           work_dir=adb_device.device.work)
    assert res["incomplete"]["finished"] == ["threads=1"] and res["incomplete"]["missing"] == ["threads=2"]
    assert "offline" in res["incomplete"]["error"] or "disconnected" in res["incomplete"]["error"]
    assert [(r["stage"], r["threads"]) for r in res["records"]] == [("det", 1)]
    assert res["records"][0]["stats"]["count"] >= 1 and res["device"]["emulated"] is True


def test_remote_timeout_stops_the_device_process(adb_device, onnx_bundle, bench_images) -> None:
    runs_dir = Path(adb_device.device.work) / "runs"
    before = set(runs_dir.iterdir()) if runs_dir.is_dir() else set()
    with pytest.raises(DeviceError, match="timed out"):
        run_remote_bench(f"adb:{adb_device.serial}", onnx_bundle, bench_images, ["--num-threads", "1", *BENCH_ARGS],
                         work_dir=adb_device.device.work, timeout=4)
    time.sleep(1)
    runs = f"{adb_device.device.work}/runs/"
    left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"]) if any(runs in c for c in p.info["cmdline"] or [])]
    assert left == []  # the emulated python was killed, not left burning a core
    assert set(runs_dir.iterdir()) == before  # and its run folder removed


def test_work_dir_not_writable(adb_device, capsys) -> None:
    blocker = adb_device.device.root / "a file"
    blocker.write_text("not a directory")
    line = cli_error(["device", "prepare", f"adb:{adb_device.serial}", "--work-dir", str(blocker / "edgeocr")], capsys)
    assert "creating work dir" in line and "Not a directory" in line


def test_work_dir_full(fake_adbd_factory) -> None:
    """A real RLIMIT_FSIZE on the device: pushing a 20 MB wheel fails with the device's own error."""
    small = fake_adbd_factory("--max-file-size", "3000000")
    with pytest.raises(DeviceError, match=r"adb push .* failed .*remote write failed: File too large.*free space"):
        from edgeocr.device.prepare import prepare_device

        prepare_device(open_target(f"adb:{small.serial}"), small.device.work)


def test_ssh_wrong_key_and_closed_port(ssh_device, monkeypatch, tmp_path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    opts = ssh_device.options.replace(str(Path(ssh_device.options.split("-i ")[1].split()[0])), str(tmp_path / "other"))
    monkeypatch.setenv("EDGEOCR_SSH_OPTIONS", opts)
    with pytest.raises(DeviceError, match="key not accepted"):
        open_target(ssh_device.target).run(["true"], timeout=60)
    monkeypatch.setenv("EDGEOCR_SSH_OPTIONS", ssh_device.options)
    with pytest.raises(DeviceError, match="unreachable"):
        open_target(f"ssh:root@127.0.0.1:{free_port()}").run(["true"], timeout=60)


def test_lite_bundle_on_device_without_paddlelite(adb_device, bundles_dir, bench_images) -> None:
    """The emulated device has CPython 3.11 without paddlelite: say so before pushing anything."""
    with pytest.raises(DeviceError, match=r"cannot run lite-arm-fp32: its backend 'paddle-lite' needs the Python "
                                          r"package 'paddlelite'"):
        run_remote_bench(f"adb:{adb_device.serial}", bundles_dir / "lite-arm-fp32", bench_images,
                         ["--num-threads", "1", *BENCH_ARGS], work_dir=adb_device.device.work)
