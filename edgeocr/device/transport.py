"""The one small interface every device target implements: push, pull, shell, exists, remove.

A target string names the transport (``adb:SERIAL``, ``adb``, ``ssh:user@host[:port]``, ``local``);
``targets.open_target`` turns it into a :class:`Transport` (this module knows none of the
implementations, which import it). Remote commands are always built from an
argv list whose items are :func:`shlex.quote`-d, or from a constant script that receives user data
only as positional parameters (``sh -c SCRIPT sh "$1" "$2"``), so no path with spaces, quotes or
``;`` can ever change what runs on the device.
"""
from __future__ import annotations

import abc
import logging
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

from ..errors import ConfigError, DeviceError

log = logging.getLogger(__name__)

PathLike = Union[str, Path]


@dataclass
class ShellResult:
    """Outcome of one device command: its exit code and captured output (bytes, undecoded)."""

    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def error_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()


def quote_argv(argv: Sequence[str]) -> str:
    """One shell command line from ``argv``, every item quoted (the only way commands are built)."""
    return " ".join(shlex.quote(str(a)) for a in argv)


def script_argv(script: str, *args: str) -> List[str]:
    """argv running a constant POSIX ``script`` with ``args`` as ``$1``, ``$2``... (never spliced in)."""
    return ["sh", "-c", script, "sh", *[str(a) for a in args]]


class Transport(abc.ABC):
    """A device reachable from the host. Subclasses drive adb, ssh, or the local machine.

    ``target`` is the string the user gave (``adb:emulator-5554``); ``default_work_dir`` is where
    edgeocr keeps its files on that kind of device when ``--work-dir`` is not given.
    """

    kind: str = "base"
    default_work_dir: str = "/tmp/edgeocr"

    def __init__(self, target: str) -> None:
        self.target = target

    # -- the interface -------------------------------------------------------------------------
    @abc.abstractmethod
    def run(self, argv: Sequence[str], timeout: Optional[float] = None, stdin: Optional[bytes] = None) -> ShellResult:
        """Run ``argv`` in the device's shell (each item quoted); never raises for a non-zero exit.

        Raises :class:`DeviceError` when the device cannot be reached or ``timeout`` (seconds)
        expires; in that case the command is killed on the host side.
        """

    @abc.abstractmethod
    def push(self, local: PathLike, remote: str) -> None:
        """Copy a host file or directory to the device path ``remote`` (parents created; replaces files)."""

    @abc.abstractmethod
    def pull(self, remote: str, local: PathLike) -> None:
        """Copy the device file ``remote`` to the host path ``local``."""

    def check(self) -> None:
        """Raise :class:`DeviceError` with a clear message unless the device is ready for commands."""

    # -- helpers built on run() ----------------------------------------------------------------
    def shell(self, argv: Sequence[str], timeout: Optional[float] = None, what: str = "command") -> ShellResult:
        """:meth:`run`, raising :class:`DeviceError` (with the device's stderr) on a non-zero exit."""
        res = self.run(argv, timeout=timeout)
        if res.returncode != 0:
            detail = res.error_text or res.text.strip() or f"exit code {res.returncode}"
            raise DeviceError(f"{what} failed on {self.target}: {detail.splitlines()[-1] if detail else ''}")
        return res

    def script(self, script: str, *args: str, timeout: Optional[float] = None) -> ShellResult:
        """Run a constant POSIX ``script`` with ``args`` as positional parameters."""
        return self.run(script_argv(script, *args), timeout=timeout)

    def exists(self, remote: str) -> bool:
        """True if ``remote`` exists on the device (file, dir or link)."""
        return self.script('test -e "$1" || test -L "$1"', remote, timeout=60).returncode == 0

    def remove(self, remote: str) -> None:
        """Delete ``remote`` recursively; refuses obviously dangerous paths."""
        if remote.rstrip("/") in ("", "/", "~", ".", "..") or remote.strip() == "":
            raise ConfigError(f"refusing to remove {remote!r} on {self.target}")
        self.shell(["rm", "-rf", remote], timeout=300, what=f"rm -rf {remote}")

    def mkdir(self, remote: str) -> None:
        """``mkdir -p`` that names the directory when it fails (read-only, a file in the way...)."""
        self.shell(["mkdir", "-p", remote], timeout=60, what=f"creating work dir {remote}")

    def describe(self) -> str:
        return self.target

    def close(self) -> None:
        """Release host-side resources (connections)."""


def run_host(argv: Sequence[str], timeout: Optional[float], stdin: Optional[bytes], target: str,
             input_file: Optional[Path] = None) -> ShellResult:
    """Run a host tool (adb, ssh, sh) with a timeout that kills it; returns its exit code and output."""
    log.debug("host: %s", quote_argv(argv))
    stdin_arg = open(input_file, "rb") if input_file is not None else (subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
    try:
        proc = subprocess.Popen(list(argv), stdin=stdin_arg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except FileNotFoundError:
        raise DeviceError(f"`{argv[0]}` not found on the host; install it (see requirements/apt.txt)") from None
    finally:
        if input_file is not None:
            stdin_arg.close()
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise DeviceError(f"command timed out after {timeout:g} s on {target}: {quote_argv(argv)[-200:]}") from None
    except BaseException:
        _kill(proc)
        raise
    return ShellResult(proc.returncode, out, err)


def expand_home(transport: Transport, path: str) -> str:
    """Resolve a leading ``~`` against the device's ``$HOME`` (quoting would stop the shell doing it)."""
    if path == "~" or path.startswith("~/"):
        home = transport.shell(script_argv('printf %s "$HOME"'), timeout=60, what="reading $HOME").text.strip()
        if not home:
            raise DeviceError(f"{transport.target}: $HOME is empty; pass --work-dir")
        return home + path[1:]
    return path


def _kill(proc: "subprocess.Popen[bytes]") -> None:
    import os
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()
