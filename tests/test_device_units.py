"""Fast units of the device layer: target parsing, wheel platforms, device-info parsers, result merging."""
from __future__ import annotations

import pytest

from edgeocr.device.device_info import _parse_cpuinfo, _parse_df, _parse_ranges, _sections
from edgeocr.device.prepare import wheel_platforms
from edgeocr.device.remote import _check_mask, _opt, _without, merge_bench, merge_eval
from edgeocr.device.ssh import parse_ssh_target
from edgeocr.device.targets import open_target
from edgeocr.device.transport import quote_argv, script_argv
from edgeocr.errors import ConfigError, DeviceError


def test_quote_argv_neutralises_shell_syntax() -> None:
    assert quote_argv(["ls", "a b", "$(x)", "it's"]) == "ls 'a b' '$(x)' 'it'\"'\"'s'"
    assert script_argv('cat "$1"', "x; rm -rf /") == ["sh", "-c", 'cat "$1"', "sh", "x; rm -rf /"]


@pytest.mark.parametrize("spec,expected", [
    ("pi@board.local", ("pi", "board.local", None)),
    ("pi@10.0.0.7:2222", ("pi", "10.0.0.7", 2222)),
    ("board", (None, "board", None)),
])
def test_parse_ssh_target(spec, expected) -> None:
    assert parse_ssh_target(spec) == expected


@pytest.mark.parametrize("target", ["usb:123", "ssh:", "ssh:pi@host:port", "local:x"])
def test_bad_targets_list_the_valid_forms(target) -> None:
    with pytest.raises(ConfigError):
        open_target(target)


def test_wheel_platforms_follow_the_device_glibc() -> None:
    plats = wheel_platforms({"machine": "aarch64", "libc": "glibc 2.31", "version": "3.8.10"})
    assert plats[0] == "manylinux_2_31_aarch64" and plats[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    with pytest.raises(DeviceError, match="not glibc-based .*Termux"):
        wheel_platforms({"machine": "aarch64", "libc": " ", "version": "3.11.4", "platform": "android-24-arm64"})
    with pytest.raises(DeviceError, match="armv7l"):
        wheel_platforms({"machine": "armv7l", "libc": "glibc 2.31", "version": "3.9.2"})


def test_device_info_parsers() -> None:
    sec = _sections("@machine\naarch64\n@df\nFilesystem 1024-blocks Used Available Capacity Mounted on\n"
                    "/dev/block/dm-5 115454452 60219812 55103568 53% /data\n")
    assert sec["machine"] == ["aarch64"] and _parse_df(sec["df"]) == 55103568 // 1024
    assert _parse_ranges("0-3,6") == [0, 1, 2, 3, 6]
    cpus = _parse_cpuinfo(["processor\t: 0", "CPU part\t: 0xd05", "processor\t: 1", "CPU part\t: 0xD41",
                           "Hardware\t: Qualcomm SM8250"])
    assert cpus == {0: {"part": "0xd05", "Hardware": "Qualcomm SM8250"}, 1: {"part": "0xd41", "Hardware": "Qualcomm SM8250"}}


def test_forwarded_argument_helpers_and_mask() -> None:
    args = ["--num-threads", "1,2", "--stages=det", "--num-runs", "3"]
    assert _opt(args, "--num-threads") == "1,2" and _opt(args, "--stages") == "det" and _opt(args, "--x") is None
    assert _without(args, "--num-threads") == ["--stages=det", "--num-runs", "3"]
    _check_mask("f0")
    with pytest.raises(ConfigError, match="hex CPU mask"):
        _check_mask("4-7")


def test_merge_parts_of_interrupted_runs() -> None:
    b1 = {"kind": "bench", "params": {"num_threads": [1]}, "records": [{"threads": 1}], "memory": {"peak_rss_mb": 100}}
    b2 = {"kind": "bench", "params": {"num_threads": [2]}, "records": [{"threads": 2}], "memory": {"peak_rss_mb": 150}}
    m = merge_bench([b1, b2])
    assert m["records"] == [{"threads": 1}, {"threads": 2}] and m["params"]["num_threads"] == [1, 2]
    assert m["memory"]["peak_rss_mb"] == 150
    e1 = {"kind": "eval", "samples": [{"image": "a/1.jpg", "seconds": 1.0}], "texts": {"a/1.jpg": ["x"]},
          "timing": {"wall_s": 2.0}}
    e2 = {"kind": "eval", "samples": [{"image": "a/2.jpg", "seconds": 3.0}], "texts": {"a/2.jpg": ["y"]},
          "timing": {"wall_s": 4.0}}
    m = merge_eval([e1, e2])
    assert [s["image"] for s in m["samples"]] == ["a/1.jpg", "a/2.jpg"] and m["texts"] == {"a/1.jpg": ["x"], "a/2.jpg": ["y"]}
    assert m["timing"]["wall_s"] == 6.0 and m["timing"]["mean_s_per_sample"] == 2.0 and m["timing"]["chunks"] == 2
