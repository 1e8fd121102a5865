"""``local``: this machine as a device, through ``sh -c`` (same code path as a board, no network).

Useful to check that a remote run gives the same result as a host run, and as the baseline for
the adb and ssh transports.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from ..errors import DeviceError
from .transport import PathLike, ShellResult, Transport, quote_argv, run_host


class LocalTransport(Transport):
    """Runs device commands with the host's ``/bin/sh`` and copies files with :mod:`shutil`."""

    kind = "local"

    def __init__(self) -> None:
        super().__init__("local")
        self.default_work_dir = os.path.join(tempfile.gettempdir(), "edgeocr-device")

    def run(self, argv: Sequence[str], timeout: Optional[float] = None, stdin: Optional[bytes] = None) -> ShellResult:
        return run_host(["/bin/sh", "-c", quote_argv(argv)], timeout, stdin, self.target)

    def push(self, local: PathLike, remote: str) -> None:
        _copy(Path(local), Path(os.path.expanduser(remote)))

    def pull(self, remote: str, local: PathLike) -> None:
        _copy(Path(os.path.expanduser(remote)), Path(local))


def _copy(src: Path, dst: Path) -> None:
    """A file or a folder (merged into an existing one); failures become a DeviceError naming both paths."""
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dst)
    except OSError as exc:
        raise DeviceError(f"cannot copy {src} to {dst}: {exc.strerror or exc}") from None
