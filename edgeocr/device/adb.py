"""``adb[:SERIAL]``: an Android phone (or any adbd) through the real ``adb`` client.

We drive the ``adb`` binary (``$ADB`` or PATH) instead of speaking the protocol ourselves, so
whatever server the user already runs (``ANDROID_ADB_SERVER_PORT`` is passed through untouched),
USB or ``adb connect`` devices, and their authorization prompts behave exactly as in a terminal.
Device state comes from ``adb devices -l``; each bad state gets a message that says what to do.
"""
from __future__ import annotations

import os
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ..errors import DeviceError, ToolMissingError
from .transport import PathLike, ShellResult, Transport, quote_argv, run_host

# stderr of the adb client (not of the device command) when the link itself failed.
_LINK_ERRORS = ("error: closed", "device offline", "not found", "no devices", "protocol fault",
                "unauthorized", "more than one device", "failed to connect", "connection reset")


@dataclass
class AdbDevice:
    """One line of ``adb devices -l``: serial, state (device/offline/unauthorized...) and properties."""

    serial: str
    state: str
    props: Dict[str, str] = field(default_factory=dict)


def adb_binary() -> str:
    """Path of the adb client: ``$ADB`` if set, else ``adb`` on PATH."""
    exe = os.environ.get("ADB") or shutil.which("adb")
    if not exe:
        raise ToolMissingError("`adb` not found: install Android platform-tools (Debian: apt-get install adb) or set $ADB")
    return exe


def list_devices(timeout: float = 60) -> List[AdbDevice]:
    """Parse ``adb devices -l`` (starts the adb server on ``ANDROID_ADB_SERVER_PORT`` if needed)."""
    res = run_host([adb_binary(), "devices", "-l"], timeout, None, "adb")
    if res.returncode != 0:
        raise DeviceError(f"`adb devices -l` failed: {res.error_text or res.text.strip()}")
    return parse_devices(res.text)


def parse_devices(text: str) -> List[AdbDevice]:
    """``serial<spaces>state key:value...`` lines after ``List of devices attached``."""
    devices = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("List of devices") or line.startswith("*"):
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        props = dict(p.split(":", 1) for p in parts[2:] if ":" in p)
        devices.append(AdbDevice(parts[0], parts[1], props))
    return devices


def _state_error(dev: AdbDevice) -> Optional[DeviceError]:
    if dev.state == "device":
        return None
    if dev.state == "unauthorized":
        return DeviceError(f"adb:{dev.serial} is unauthorized: unlock the phone and accept the 'Allow USB debugging?' "
                           "prompt (check 'Always allow'), then retry")
    if dev.state == "offline":
        return DeviceError(f"adb:{dev.serial} is offline: reconnect the cable or run `adb reconnect`, "
                           "then check `adb devices`")
    return DeviceError(f"adb:{dev.serial} is in state {dev.state!r}, not 'device'; wait for it to boot or reconnect it")


class AdbTransport(Transport):
    """Commands through ``adb -s SERIAL shell``, files through ``adb push/pull`` (sync protocol)."""

    kind = "adb"
    default_work_dir = "/data/local/tmp/edgeocr"

    def __init__(self, serial: Optional[str] = None) -> None:
        self.adb = adb_binary()
        self.serial = self._resolve(serial)
        super().__init__(f"adb:{self.serial}")

    def _resolve(self, serial: Optional[str]) -> str:
        devices = list_devices()
        if serial:
            match = [d for d in devices if d.serial == serial]
            if not match:
                hint = f" (for a network device run `adb connect {serial}` first)" if ":" in serial else ""
                listed = ", ".join(f"{d.serial} ({d.state})" for d in devices) or "none"
                raise DeviceError(f"adb device {serial!r} not found{hint}; `adb devices` lists: {listed}")
            err = _state_error(match[0])
            if err:
                raise err
            return serial
        if not devices:
            raise DeviceError("no adb device found: connect a phone with USB debugging enabled (`adb devices` "
                              "must list it) or `adb connect HOST:PORT`")
        if len(devices) > 1:
            listed = ", ".join(f"adb:{d.serial} ({d.state})" for d in devices)
            raise DeviceError(f"several adb devices are attached; pick one with adb:SERIAL: {listed}")
        err = _state_error(devices[0])
        if err:
            raise err
        return devices[0].serial

    def check(self) -> None:
        """Re-read ``adb devices``: raises if the device left, went offline or lost authorization."""
        for dev in list_devices():
            if dev.serial == self.serial:
                err = _state_error(dev)
                if err:
                    raise err
                return
        raise DeviceError(f"{self.target} disconnected (no longer in `adb devices`)")

    def _adb(self, *args: str) -> List[str]:
        return [self.adb, "-s", self.serial, *args]

    def _link_failed(self, res: ShellResult) -> None:
        """After a failed adb call whose stderr looks like a link problem, say what happened to the device."""
        err = res.error_text.lower()
        if res.returncode != 0 and any(tag in err for tag in _LINK_ERRORS):
            self.check()  # raises with the precise state if the device is gone/offline/unauthorized

    def run(self, argv: Sequence[str], timeout: Optional[float] = None, stdin: Optional[bytes] = None) -> ShellResult:
        # `shell -T`: no pty, so stdout/stderr stay separate and the exit code comes back (shell_v2).
        res = run_host(self._adb("shell", "-T", quote_argv(argv)), timeout, stdin, self.target)
        self._link_failed(res)
        return res

    def push(self, local: PathLike, remote: str) -> None:
        src = Path(local)
        if not src.exists():
            raise DeviceError(f"cannot push {src}: no such file on the host")
        if src.is_file():
            parent = remote.rsplit("/", 1)[0] or "/"
            self.mkdir(parent)
            self._push([str(src)], remote)
            return
        # A directory: create the tree, then one `adb push f1 f2 ... DIR/` per folder, so the result
        # does not depend on whether `remote` existed (adb would nest the folder inside it).
        groups: Dict[str, List[str]] = defaultdict(list)
        dirs = {remote}
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src).as_posix()
            if path.is_dir():
                dirs.add(f"{remote}/{rel}")
            elif path.is_file():
                parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
                groups[f"{remote}/{parent}" if parent else remote].append(str(path))
        self.shell(["mkdir", "-p", *sorted(dirs)], timeout=120, what=f"creating {remote}")
        for dest, files in sorted(groups.items()):
            if len(files) == 1:
                self._push(files, f"{dest}/{Path(files[0]).name}")
            else:
                self._push(files, dest + "/")

    def _push(self, sources: List[str], dest: str) -> None:
        res = run_host(self._adb("push", *sources, dest), None, None, self.target)
        if res.returncode != 0:
            self._link_failed(res)
            raise DeviceError(f"adb push to {dest} failed on {self.target}: {_adb_error(res)} "
                              "(is the work dir writable, with enough free space? see `edgeocr device info`)")

    def pull(self, remote: str, local: PathLike) -> None:
        Path(local).parent.mkdir(parents=True, exist_ok=True)
        res = run_host(self._adb("pull", remote, str(local)), None, None, self.target)
        if res.returncode != 0:
            self._link_failed(res)
            raise DeviceError(f"adb pull {remote} failed on {self.target}: {_adb_error(res)}")


def _adb_error(res: ShellResult) -> str:
    """The ``adb: error: ...`` line of a failed push/pull (adb 29 prints it on stdout, newer ones on stderr)."""
    lines = [line.strip() for line in (res.error_text + "\n" + res.text).splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    return (errors or lines or [f"exit code {res.returncode}"])[-1]
