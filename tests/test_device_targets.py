"""The device package's structure (issue 12): the transport interface imports no implementation,
and target strings are parsed in one place (``targets.py``)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from edgeocr.device.targets import check_target, expand_targets, open_target
from edgeocr.errors import ConfigError

DEVICE = Path(__file__).resolve().parents[1] / "edgeocr" / "device"


def imported_modules(path: Path) -> set:
    """Every module a file imports, relative imports written as ``.name``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_transport_interface_knows_no_implementation() -> None:
    mods = imported_modules(DEVICE / "transport.py")
    for impl in ("adb", "ssh", "local", "targets"):
        assert not any(m.rsplit(".", 1)[-1] == impl for m in mods), (impl, mods)
    # and the implementations import the interface, never targets (no circle back)
    for impl in ("adb.py", "ssh.py", "local.py"):
        mods = imported_modules(DEVICE / impl)
        assert ".transport" in mods and ".targets" not in mods


@pytest.mark.parametrize("target", ["usb:1", "ssh:", "ssh:pi@h:port", "local:x", "all-adb:x", ""])
def test_bad_targets_are_refused_before_connecting(target: str) -> None:
    with pytest.raises(ConfigError, match="valid forms|needs a host|expected ssh"):
        check_target(target)


def test_expand_targets_dedups_in_order_and_opens_local() -> None:
    assert expand_targets(["local", "ssh:pi@board", "local"]) == ["local", "ssh:pi@board"]
    assert open_target("local").kind == "local"
    with pytest.raises(ConfigError, match="expand"):
        open_target("all-adb")


def test_device_work_dir_per_target() -> None:
    from edgeocr.benchmarks.remote_hook import work_dir_for

    values = ("/data/a=b", "local=/tmp/l", "ssh:pi@board:2222=/mnt/ssd/edgeocr")
    assert work_dir_for(values, "local") == "/tmp/l"
    assert work_dir_for(values, "ssh:pi@board:2222") == "/mnt/ssd/edgeocr"
    assert work_dir_for(values, "adb:R5CT") == "/data/a=b"  # a path containing '=' stays a path
    assert work_dir_for(("local=/tmp/l",), "adb:R5CT") is None and work_dir_for((), "local") is None
