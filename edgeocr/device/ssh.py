"""``ssh:user@host[:port]``: an ARM Linux board (RK3588, Raspberry Pi, Jetson) through OpenSSH.

Uses the system ``ssh`` client (``$SSH`` or PATH) with key authentication only (``BatchMode=yes``:
a password prompt would hang an unattended benchmark). The user's ``~/.ssh/config`` applies as
usual; extra client options can be given in ``EDGEOCR_SSH_OPTIONS`` (shell-split), e.g.
``-i ~/.ssh/board_key -o StrictHostKeyChecking=accept-new``. Files travel through the same
connection (``cat`` for files, ``tar`` for folders), so the board needs no sftp server.
"""
from __future__ import annotations

import os
import shlex
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from ..atomic_io import atomic_file
from ..errors import ConfigError, DeviceError, ToolMissingError
from .transport import PathLike, ShellResult, Transport, quote_argv, run_host, script_argv

SSH_FAILED = 255  # ssh's own exit code for connection/authentication failures


def parse_ssh_target(spec: str) -> "tuple[Optional[str], str, Optional[int]]":
    """``user@host:port`` -> (user, host, port); user and port optional."""
    user, _, hostport = spec.rpartition("@")
    host, sep, port = hostport.rpartition(":")
    if not sep:
        host, port = hostport, ""
    if not host or (port and not port.isdigit()):
        raise ConfigError(f"bad ssh target {spec!r}; expected ssh:user@host[:port]")
    return (user or None), host, (int(port) if port else None)


class SshTransport(Transport):
    """Commands through ``ssh -o BatchMode=yes user@host -- CMD``; the remote login shell runs CMD."""

    kind = "ssh"
    default_work_dir = "~/.edgeocr"

    def __init__(self, spec: str, connect_timeout: int = 15) -> None:
        super().__init__(f"ssh:{spec}")
        self.user, self.host, self.port = parse_ssh_target(spec)
        self.ssh = os.environ.get("SSH") or shutil.which("ssh")
        if not self.ssh:
            raise ToolMissingError("`ssh` not found: install the OpenSSH client (Debian: openssh-client) or set $SSH")
        self.base: List[str] = [self.ssh, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout}",
                                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "-T"]
        self.base += shlex.split(os.environ.get("EDGEOCR_SSH_OPTIONS", ""))
        if self.port:
            self.base += ["-p", str(self.port)]
        self.base.append(f"{self.user}@{self.host}" if self.user else self.host)

    def check(self) -> None:
        res = self.run(["true"], timeout=60)
        if res.returncode != 0:
            raise DeviceError(f"{self.target}: `true` exited {res.returncode}: {res.error_text}")

    def run(self, argv: Sequence[str], timeout: Optional[float] = None, stdin: Optional[bytes] = None,
            input_file: Optional[Path] = None) -> ShellResult:
        res = run_host([*self.base, "--", quote_argv(argv)], timeout, stdin, self.target, input_file=input_file)
        if res.returncode == SSH_FAILED:
            self._raise_link(res)
        return res

    def _raise_link(self, res: ShellResult) -> None:
        err = res.error_text
        if "Permission denied" in err:
            raise DeviceError(f"{self.target}: key not accepted ({err.splitlines()[-1]}); install your public key on "
                              "the board (`ssh-copy-id`) or name it in EDGEOCR_SSH_OPTIONS='-i KEY'")
        if "Host key verification failed" in err:
            raise DeviceError(f"{self.target}: unknown host key; connect once with `ssh` to accept it, or set "
                              "EDGEOCR_SSH_OPTIONS='-o StrictHostKeyChecking=accept-new'")
        last = err.splitlines()[-1] if err else "connection failed"
        raise DeviceError(f"{self.target} unreachable or disconnected: {last}")

    def push(self, local: PathLike, remote: str) -> None:
        src = Path(local)
        if src.is_file():
            res = self.run(script_argv('mkdir -p "$(dirname "$1")" && cat > "$1"', remote), input_file=src)
        elif src.is_dir():
            with tempfile.TemporaryDirectory(prefix="edgeocr-push.") as tmp:
                tar_path = Path(tmp) / "push.tar"
                with tarfile.open(tar_path, "w") as tar:
                    for child in sorted(src.iterdir()):
                        tar.add(child, arcname=child.name)
                res = self.run(script_argv('mkdir -p "$1" && tar -C "$1" -xf -', remote), input_file=tar_path)
        else:
            raise DeviceError(f"cannot push {src}: no such file on the host")
        if res.returncode != 0:
            raise DeviceError(f"copying {src.name} to {remote} failed on {self.target}: "
                              f"{res.error_text.splitlines()[-1] if res.error_text else res.returncode} "
                              "(is the work dir writable, with enough free space? see `edgeocr device info`)")

    def pull(self, remote: str, local: PathLike) -> None:
        res = self.run(["cat", remote])
        if res.returncode != 0:
            raise DeviceError(f"reading {remote} failed on {self.target}: {res.error_text or res.returncode}")
        Path(local).parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(local, "wb") as fh:
            fh.write(res.stdout)

