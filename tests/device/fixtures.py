"""pytest fixtures: an emulated ARM64 device reached through the real adb server and through sshd.

Import the fixtures you use into a test module (``from device.fixtures import adb_device``).
Session-scoped pieces (built once per test run):

* ``sysroot``        cached ARM64 Debian sysroot (:mod:`device.sysroot`), run under qemu-aarch64-static
* ``device_root``    one emulated device: its shell, wrappers and the shared work dir
* ``adb_server``     the real Debian adb server on a free ANDROID_ADB_SERVER_PORT (killed afterwards)
* ``adb_device``     fake adbd for ``device_root`` + ``adb connect 127.0.0.1:PORT``
* ``ssh_device``     sshd on 127.0.0.1 with a throwaway key, ForceCommand = the device shell

``fake_adbd_factory`` starts extra, misbehaving adbds for the fault tests.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

from .sysroot import build_sysroot, make_device

FAKE_ADBD = Path(__file__).resolve().with_name("fake_adbd.py")
DEVICE_PROPS = {
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.product.cpu.abilist": "arm64-v8a",
    "ro.product.model": "edgeocr emulated arm64",
    "ro.product.manufacturer": "qemu",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def adb(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["adb", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


@dataclass
class Device:
    """One emulated device: ``root`` is its filesystem root stand-in, ``work`` the edgeocr work dir."""

    root: Path
    shell: Path
    work: str


@dataclass
class FakeAdbd:
    proc: subprocess.Popen
    port: int
    serial: str
    device: Device
    extra: List[str] = field(default_factory=list)

    def vanish(self) -> None:
        """The phone is unplugged: adbd stops, children die, sockets close."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.vanish()
        adb("disconnect", self.serial, timeout=30)


@pytest.fixture(scope="session")
def sysroot() -> Path:
    return build_sysroot()


# The work dir every remote test uses: spaces, quotes and shell metacharacters on purpose, so each
# on-device run also proves that nothing sent to the device shell is left unquoted.
HOSTILE_WORK = "data/local/tmp/edge ocr's;$(touch PWNED)&`touch PWNED2`"


def _new_device(base: Path, sysroot: Path, work_name: str = HOSTILE_WORK) -> Device:
    base.mkdir(parents=True, exist_ok=True)
    shell = make_device(base, sysroot, DEVICE_PROPS)
    return Device(root=base, shell=shell, work=str(base / work_name))


@pytest.fixture(scope="session")
def device_root(tmp_path_factory: pytest.TempPathFactory, sysroot: Path) -> Device:
    return _new_device(tmp_path_factory.mktemp("arm64-device"), sysroot)


@pytest.fixture(scope="session")
def adb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The real adb server on a non-default port; its keys live in a temp HOME, not the user's."""
    if shutil.which("adb") is None:
        raise RuntimeError("adb is missing: run `make setup` (requirements/apt.txt)")
    port = free_port()
    old = os.environ.get("ANDROID_ADB_SERVER_PORT")
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    home = tmp_path_factory.mktemp("adb-home")
    subprocess.run(["adb", "start-server"], env={**os.environ, "HOME": str(home)}, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    try:
        yield port
    finally:
        adb("kill-server", timeout=30)
        if old is None:
            os.environ.pop("ANDROID_ADB_SERVER_PORT", None)
        else:
            os.environ["ANDROID_ADB_SERVER_PORT"] = old


def start_fake_adbd(device: Device, *extra: str, connect: bool = True) -> FakeAdbd:
    proc = subprocess.Popen([sys.executable, str(FAKE_ADBD), "--root", str(device.root), "--shell", str(device.shell),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        proc.kill()
        raise RuntimeError(f"fake adbd did not start: {proc.stderr.read()}")
    port = int(line)
    serial = f"127.0.0.1:{port}"
    handle = FakeAdbd(proc, port, serial, device, list(extra))
    if connect:
        out = adb("connect", serial)
        deadline = time.time() + 20
        want = "unauthorized" if "--unauthorized" in extra else "device"
        while time.time() < deadline:
            states = {line.split()[0]: line.split()[1] for line in adb("devices").stdout.splitlines()[1:] if line.strip()}
            if states.get(serial) == want:
                break
            time.sleep(0.2)
        else:
            handle.stop()
            raise RuntimeError(f"adb connect {serial} failed: {out.stdout} {out.stderr}")
    return handle


@pytest.fixture(scope="session")
def adb_device(adb_server: int, device_root: Device) -> Iterator[FakeAdbd]:
    handle = start_fake_adbd(device_root)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def fake_adbd_factory(adb_server: int, sysroot: Path, tmp_path: Path) -> Iterator:
    """Start adbds for one test (each with a fresh device root unless one is passed); all stopped after."""
    started: List[FakeAdbd] = []

    def factory(*extra: str, device: Optional[Device] = None, connect: bool = True) -> FakeAdbd:
        dev = device or _new_device(tmp_path / f"dev{len(started)}", sysroot)
        handle = start_fake_adbd(dev, *extra, connect=connect)
        started.append(handle)
        return handle

    yield factory
    for h in started:
        h.stop()


@dataclass
class SshDevice:
    target: str
    device: Device
    proc: subprocess.Popen
    options: str


@pytest.fixture(scope="session")
def ssh_device(tmp_path_factory: pytest.TempPathFactory, device_root: Device) -> Iterator[SshDevice]:
    """sshd on 127.0.0.1:PORT (Debian openssh-server), key auth only; every command runs in the device shell."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd) or shutil.which("ssh-keygen") is None:
        raise RuntimeError("sshd/ssh-keygen missing: run `make setup` (openssh-server, openssh-client)")
    d = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    (d / "authorized_keys").chmod(0o600)
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
        f"ForceCommand {device_root.shell}\nLogLevel ERROR\nMaxSessions 20\nMaxStartups 20:30:60\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(d / "sshd_config")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd failed: {proc.stderr.read()}")
            time.sleep(0.1)
    user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
    options = (f"-F /dev/null -i {d / 'client_key'} -o IdentitiesOnly=yes -o UserKnownHostsFile={d / 'known_hosts'} "
               "-o StrictHostKeyChecking=accept-new -o LogLevel=ERROR")
    old = os.environ.get("EDGEOCR_SSH_OPTIONS")
    os.environ["EDGEOCR_SSH_OPTIONS"] = options
    try:
        yield SshDevice(f"ssh:{user}@127.0.0.1:{port}", device_root, proc, options)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if old is None:
            os.environ.pop("EDGEOCR_SSH_OPTIONS", None)
        else:
            os.environ["EDGEOCR_SSH_OPTIONS"] = old


# ---------------------------------------------------------------------------------------------
# Small real test data (emulation is ~200x slower than native: a few small images only)
# ---------------------------------------------------------------------------------------------

WORD_LABELS = {  # readings given in ../shared/data/paddleocr_doc_imgs/README.md (word_2 left out: emulated rec is slow)
    "word_1.jpg": "韩国小馆",
    "word_3.jpg": "电话：15952301928",
}
IC15_CROP = (590, 135, 700, 245)  # x0, y0, x1, y1 of img_5.jpg: "Ahead" and "SLOW" of a road sign


@pytest.fixture(scope="session")
def rec_dataset(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """PaddleOCR rec label file + 2 real Chinese word crops (folder name with a space)."""
    root = tmp_path_factory.mktemp("rec data") / "words ch"
    (root / "test").mkdir(parents=True)
    lines = []
    for name, label in WORD_LABELS.items():
        shutil.copyfile(data_dir / "paddleocr_doc_imgs" / "ch" / name, root / "test" / name)
        lines.append(f"test/{name}\t{label}")
    (root / "rec_gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def e2e_dataset(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """ICDAR 2015 layout with one 110x110 crop of img_5.jpg (2 words of a road sign), GT shifted into it."""
    import cv2

    src = data_dir / "icdar2015_det"
    root = tmp_path_factory.mktemp("ic15") / "ic15 crop"
    (root / "ch4_test_images").mkdir(parents=True)
    (root / "Challenge4_Test_Task1_GT").mkdir()
    x0, y0, x1, y1 = IC15_CROP
    img = cv2.imread(str(src / "ch4_test_images" / "img_5.jpg"))
    cv2.imwrite(str(root / "ch4_test_images" / "img_5.jpg"), img[y0:y1, x0:x1])
    kept = []
    for line in (src / "Challenge4_Test_Task1_GT" / "gt_img_5.txt").read_text(encoding="utf-8-sig").splitlines():
        parts = line.strip().split(",", 8)
        if len(parts) != 9:
            continue
        xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
        if min(xs) >= x0 and max(xs) < x1 and min(ys) >= y0 and max(ys) < y1:
            pts = [str(v - (x0 if i % 2 == 0 else y0)) for i, v in enumerate(int(p) for p in parts[:8])]
            kept.append(",".join(pts + [parts[8]]))
    assert len(kept) == 2, kept  # the crop really holds the sign's words
    (root / "Challenge4_Test_Task1_GT" / "gt_img_5.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def bench_images(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """One small real image for on-device bench: a 78x362 shop sign (bench also runs cls/rec cold on
    every text line of the first image, so a page full of text would take minutes under emulation)."""
    root = tmp_path_factory.mktemp("bench imgs") / "imgs"
    root.mkdir()
    shutil.copyfile(data_dir / "paddleocr_doc_imgs" / "ch" / "word_1.jpg", root / "a_sign.jpg")
    return root
