"""The transports (adb through the real adb server, ssh through a real sshd, local) and
`edgeocr device list/info` against the emulated ARM64 device."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from device.fixtures import adb_device, adb_server, device_root, fake_adbd_factory, ssh_device, sysroot  # noqa: F401
from edgeocr.cli import cli
from edgeocr.device.adb import parse_devices
from edgeocr.device.targets import open_target

# The nastiest names a user could give: spaces, quotes, globs, command substitution, separators.
HOSTILE = ["sp ace", "it's", 'dq"uote', "semi;colon", "$(touch PWNED)", "`touch PWNED`", "a&b|c>d", "star*?[x]",
           "-dash", "new\nline"]

# What the Debian adb 1.0.41 server printed for the emulated device and an unauthorized one.
ADB_DEVICES_L = """List of devices attached
127.0.0.1:40863        device product:edgeocr_qemu_aarch64 model:edgeocr_emulated_arm64 device:edgeocr_qemu_aarch64 transport_id:1
127.0.0.1:41577        unauthorized transport_id:2
emulator-5554          offline

"""


def test_parse_adb_devices_l() -> None:
    devs = parse_devices(ADB_DEVICES_L)
    assert [(d.serial, d.state) for d in devs] == [
        ("127.0.0.1:40863", "device"), ("127.0.0.1:41577", "unauthorized"), ("emulator-5554", "offline")]
    assert devs[0].props["model"] == "edgeocr_emulated_arm64" and devs[1].props == {"transport_id": "2"}


def targets(adb_device, ssh_device):
    return {"adb": f"adb:{adb_device.serial}", "ssh": ssh_device.target, "local": "local"}


@pytest.mark.parametrize("kind", ["adb", "ssh", "local"])
def test_shell_exit_code_stdout_stderr(adb_device, ssh_device, kind) -> None:
    t = open_target(targets(adb_device, ssh_device)[kind])
    res = t.run(["sh", "-c", "echo out; echo err >&2; exit 7"], timeout=60)
    assert (res.returncode, res.text, res.error_text) == (7, "out\n", "err")


@pytest.mark.parametrize("kind", ["adb", "ssh"])
def test_device_is_arm64_under_emulation(adb_device, ssh_device, kind) -> None:
    t = open_target(targets(adb_device, ssh_device)[kind])
    assert t.run(["uname", "-m"], timeout=60).text.strip() == "aarch64"


@pytest.mark.parametrize("kind", ["adb", "ssh", "local"])
def test_hostile_paths_push_pull_exists_remove(adb_device, ssh_device, tmp_path, kind) -> None:
    """Every path goes through shlex.quote: files named like shell code arrive intact and run nothing."""
    t = open_target(targets(adb_device, ssh_device)[kind])
    base = (adb_device.device.root if kind != "local" else tmp_path / "local dev") / f"hostile {kind}"
    src = tmp_path / "src tree"
    for i, name in enumerate(HOSTILE):
        (src / "sub dir").mkdir(parents=True, exist_ok=True)
        (src / "sub dir" / name).write_text(f"payload {i} {name}")
    (src / "top 'file'.txt").write_bytes(bytes(range(256)) * 64)  # binary content survives too
    remote = str(base / "it's $(a) dir")
    t.push(src, remote)
    listing = t.run(["ls", "-A", f"{remote}/sub dir"], timeout=60).text
    for i, name in enumerate(HOSTILE):
        assert name in listing
        if name.startswith(("$", "`", "new", "it")):  # each round trip costs ~1 s over ssh: pull the nastiest
            assert t.exists(f"{remote}/sub dir/{name}")
            t.pull(f"{remote}/sub dir/{name}", tmp_path / "back" / f"{i}")
            assert (tmp_path / "back" / f"{i}").read_text() == f"payload {i} {name}"
    t.pull(f"{remote}/top 'file'.txt", tmp_path / "back" / "bin")
    assert (tmp_path / "back" / "bin").read_bytes() == bytes(range(256)) * 64
    # A single file push to a new nested dir creates the parents.
    t.push(src / "top 'file'.txt", f"{remote}/new; dir/x $y.txt")
    assert t.exists(f"{remote}/new; dir/x $y.txt")
    t.remove(remote)
    assert not t.exists(remote)
    for where in (adb_device.device.root, tmp_path, Path.cwd()):
        assert not list(where.rglob("PWNED")), where


@pytest.mark.parametrize("kind", ["adb", "ssh"])
def test_command_timeout_kills_and_reports(adb_device, ssh_device, kind) -> None:
    from edgeocr.errors import DeviceError

    t = open_target(targets(adb_device, ssh_device)[kind])
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match=r"timed out after 2 s"):
        t.run(["sleep", "30"], timeout=2)
    assert time.monotonic() - t0 < 10
    # The device is still usable afterwards.
    assert t.run(["echo", "ok"], timeout=60).text == "ok\n"


def test_device_list_shows_each_state(adb_device, fake_adbd_factory) -> None:
    locked = fake_adbd_factory("--unauthorized")
    res = CliRunner().invoke(cli, ["device", "list"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = {line.split("\t")[0]: line for line in res.output.splitlines()}
    assert "\tdevice\t" in lines[f"adb:{adb_device.serial}"] and "model:edgeocr_emulated_arm64" in lines[f"adb:{adb_device.serial}"]
    assert "\tunauthorized" in lines[f"adb:{locked.serial}"]
    js = json.loads(CliRunner().invoke(cli, ["device", "list", "--json"]).output)
    assert {d["target"]: d["state"] for d in js}[f"adb:{locked.serial}"] == "unauthorized"


@pytest.mark.parametrize("kind", ["adb", "ssh"])
def test_device_info(adb_device, ssh_device, kind, tmp_path) -> None:
    """ABI, 8 cores in two clusters (A55 little, A77 big -> --cpu-mask f0), memory, emulated flag."""
    target = targets(adb_device, ssh_device)[kind]
    out = tmp_path / "info.json"
    res = CliRunner().invoke(cli, ["device", "info", target, "--work-dir", str(adb_device.device.root / "fresh dir"),
                                   "--json", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "EMULATED" in res.output and "--cpu-mask f0" in res.output
    info = json.loads(out.read_text())
    assert (info["machine"], info["abi"], info["cores"]) == ("aarch64", "arm64-v8a", 8)
    assert [(c["core"], c["max_khz"], c["mask"]) for c in info["clusters"]] == [
        ("Cortex-A55", 1800000, "f"), ("Cortex-A77", 2400000, "f0")]
    assert info["governor"] == "schedutil" and info["mem_total_mb"] > 0 and info["work_dir_free_mb"] > 0
    assert info["work_dir_writable"] == "missing" and info["emulated"] is True
    assert info["python"]["version"].startswith("3.11") and info["python"]["libc"].startswith("glibc")
    assert info["thermal"] == [{"zone": 0, "type": "cpu-thermal", "temp_c": 41.0}]
    assert info["model"] == "edgeocr emulated arm64"


def test_local_target_is_this_machine() -> None:
    t = open_target("local")
    assert t.run(["uname", "-m"], timeout=30).text.strip() == os.uname().machine


def test_python_m_edgeocr_device_list_subprocess(adb_device) -> None:
    """The installed entry point, as a user runs it (ANDROID_ADB_SERVER_PORT is inherited)."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "edgeocr", "device", "list"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert f"adb:{adb_device.serial}\tdevice" in res.stdout
