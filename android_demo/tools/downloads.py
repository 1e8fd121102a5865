"""Pinned downloads of the offline Android build, fetched once into ``$EDGEOCR_HOME/android`` and checked.

There is no Gradle, Google Maven or Maven Central here, so every input of the build comes from a registry
this machine can reach, pinned by checksum:

- Debian trixie source ``onnxruntime 1.21.0``: the orig tarball (Java API + JNI C sources + C headers).
- Debian bullseye ``libandroid-23-java`` (android.jar, API 23), ``android-sdk-platform-23`` and
  ``dalvik-exchange`` (``dx``): architecture-independent debs, unpacked with ``dpkg-deb -x``.
- npm ``com.github.asus4.onnxruntime@0.4.9``: its ``onnxruntime.aar`` carries ORT 1.29.0 for Android.

Debian suites other than the system's are reached through a *private* apt configuration (own sources list,
state and cache under the cache dir) pointing at the mirror the machine already uses; ``/etc/apt`` is never
touched.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edgeocr.hashing import sha256_file
from edgeocr.home import edgeocr_home

log = logging.getLogger("android_build")

DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class BuildError(RuntimeError):
    """A build step failed; the message is one line naming the file/tool and the problem."""


@dataclass(frozen=True)
class DebPin:
    """A binary deb from a Debian suite, pinned by version and sha256."""

    package: str
    version: str
    suite: str
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.package}_{self.version}_all.deb"


@dataclass(frozen=True)
class SourcePin:
    """One file of a Debian source package (here: the orig tarball), pinned by sha256."""

    package: str
    version: str
    suite: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class NpmPin:
    """An npm package pinned by its registry integrity (sha512) and one file inside it."""

    name: str
    version: str
    integrity: str
    member: str
    member_sha256: str


ORT_SOURCE = SourcePin(
    package="onnxruntime", version="1.21.0+dfsg-1", suite="trixie",
    filename="onnxruntime_1.21.0+dfsg.orig.tar.xz",
    sha256="32df1f82bd6b07b18372c0f387133214905cbde7a586b3ad83f0ed0075f80273")
ANDROID_DEBS = (
    DebPin("libandroid-23-java", "6.0.1+r72-6", "bullseye",
           "8af1b6df556971dda0a6da3536ea526a838e0c363afcdd454213d8bce94793e3"),
    DebPin("android-sdk-platform-23", "6.0.1+r72-6", "bullseye",
           "fd30c49c709b0cb72184a5d1676782208f023bf432d64bd5a3b2e2f4dbaf5b1f"),
    DebPin("dalvik-exchange", "10.0.0+r36-1", "bullseye",
           "8fc128db7c27253d963eb9b33de79b197162a4749d2ba69019b2fd0664cbd7fe"),
)
ORT_ANDROID_NPM = NpmPin(
    name="com.github.asus4.onnxruntime", version="0.4.9",
    integrity="sha512-BkzxduSZ9IkeDP6Q8lz2TFU2ie7hSSvS7ZIfzMooExoq0CNzJnuuGaUJ7IsojBgqO4ouD1jXah8OYyJbCN29Fg==",
    member="package/Plugins/Android/onnxruntime.aar",
    member_sha256="98cddbac92640b4a6af72a03c42e0491851f366d3da66bbaeb5dd66310946cf2")
# Inside the aar: the ORT 1.29.0 libraries for the one ABI the app ships.
ANDROID_ABI = "arm64-v8a"


def android_cache() -> Path:
    """Where the Android build keeps downloads, unpacked SDK pieces and the debug keystore (absolute: the build
    runs tools in other working directories)."""
    return edgeocr_home().resolve() / "android"


def require_tool(name: str, hint: str) -> str:
    """Path of a host tool, or a one-line error saying how to get it."""
    path = shutil.which(name)
    if not path:
        raise BuildError(f"{name}: not found on PATH ({hint}; `make setup` installs it)")
    return path


def run(cmd: list[str], what: str, cwd: Path | None = None, env: dict | None = None) -> str:
    """Run a command; on failure raise one line naming the step and the tool's last error line."""
    log.debug("run: %s", " ".join(map(str, cmd)))
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        tail = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise BuildError(f"{what}: `{Path(str(cmd[0])).name}` failed: {tail}")
    return proc.stdout


def system_mirror() -> str:
    """The Debian mirror the machine already uses (``EDGEOCR_DEBIAN_MIRROR`` overrides it)."""
    env = os.environ.get("EDGEOCR_DEBIAN_MIRROR")
    if env:
        return env.rstrip("/")
    texts = []
    for p in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            texts.append(p.read_text(errors="replace"))
        except OSError:
            continue
    for text in texts:
        for m in re.finditer(r"^\s*URIs:\s*(\S+)", text, re.M):  # deb822
            if not m.group(1).rstrip("/").endswith("-security"):
                return m.group(1).rstrip("/")
        for m in re.finditer(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.M):  # one-line format
            if not m.group(1).rstrip("/").endswith("-security"):
                return m.group(1).rstrip("/")
    return DEFAULT_MIRROR


class PrivateApt:
    """apt-get with its own sources list, state and cache (never the system's ``/etc/apt``)."""

    def __init__(self, root: Path, mirror: str | None = None) -> None:
        self.root = root
        self.mirror = mirror or system_mirror()
        self.sources = root / "sources.list"

    def _options(self) -> list[str]:
        r = self.root
        # Only the package sources, pinning, state and cache are private: the system's apt.conf.d (proxy,
        # snapshot settings) still applies, read-only.
        return ["-o", f"Dir::Etc::sourcelist={self.sources}",
                "-o", f"Dir::Etc::sourceparts={r / 'etc' / 'sources.list.d'}",
                "-o", f"Dir::Etc::preferences={r / 'etc' / 'preferences'}",
                "-o", f"Dir::Etc::preferencesparts={r / 'etc' / 'preferences.d'}",
                "-o", f"Dir::State={r / 'state'}", "-o", f"Dir::State::status={r / 'state' / 'status'}",
                "-o", f"Dir::Cache={r / 'cache'}", "-o", "APT::Sandbox::User=root",
                "-o", "Debug::NoLocking=1", "-o", "Acquire::Retries=2"]

    def _prepare(self) -> None:
        for d in ("etc/sources.list.d", "etc/preferences.d", "state/lists/partial", "cache/archives/partial"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        (self.root / "state" / "status").touch()
        (self.root / "etc" / "preferences").touch()
        text = (f"deb [signed-by={KEYRING}] {self.mirror} bullseye main\n"
                f"deb-src [signed-by={KEYRING}] {self.mirror} trixie main\n")
        if not self.sources.exists() or self.sources.read_text() != text:
            self.sources.write_text(text)
            for f in (self.root / "state" / "lists").glob("*_*"):
                f.unlink()

    def update(self) -> None:
        self._prepare()
        if any((self.root / "state" / "lists").glob("*_Packages*")) and \
                any((self.root / "state" / "lists").glob("*_Sources*")):
            return
        log.info("private apt: update (bullseye, trixie sources) from %s", self.mirror)
        run(["apt-get", *self._options(), "-q", "update"], f"apt-get update via {self.sources}")

    def download(self, pin: DebPin, dest: Path) -> None:
        self.update()
        run(["apt-get", *self._options(), "-q", "download", f"{pin.package}={pin.version}"],
            f"download {pin.package} {pin.version} ({pin.suite}) from {self.mirror}", cwd=dest)

    def source(self, pin: SourcePin, dest: Path) -> None:
        self.update()
        # The mirror may carry only the orig tarball of a source package (here .dsc and debian.tar.xz
        # are 404): apt-get then exits non-zero although the file we need is there; the checksum decides.
        subprocess.run(["apt-get", *self._options(), "-q", "source", "--download-only",
                        f"{pin.package}={pin.version}"], cwd=dest, capture_output=True, text=True)


def _check(path: Path, sha256: str, what: str) -> None:
    got = sha256_file(path)
    if got != sha256:
        path.unlink()
        raise BuildError(f"{path}: sha256 {got} is not the pinned {sha256} ({what}); deleted, run again")


def fetch_deb(pin: DebPin) -> Path:
    """The pinned deb, downloaded once into the cache and verified."""
    dest = android_cache() / "downloads"
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / pin.filename
    if path.exists() and sha256_file(path) == pin.sha256:
        return path
    require_tool("apt-get", "Debian's apt")
    PrivateApt(android_cache() / "apt").download(pin, dest)
    if not path.exists():
        raise BuildError(f"{pin.filename}: missing after apt-get download ({pin.suite}, {system_mirror()})")
    _check(path, pin.sha256, f"{pin.package} {pin.version}")
    return path


def fetch_source(pin: SourcePin = ORT_SOURCE) -> Path:
    """The pinned Debian source tarball, downloaded once into the cache and verified."""
    dest = android_cache() / "downloads"
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / pin.filename
    if path.exists() and sha256_file(path) == pin.sha256:
        return path
    require_tool("apt-get", "Debian's apt")
    log.info("fetching %s (%s source %s) ...", pin.filename, pin.suite, pin.version)
    PrivateApt(android_cache() / "apt").source(pin, dest)
    if not path.exists():
        raise BuildError(f"{pin.filename}: not downloaded by `apt-get source {pin.package}={pin.version}` "
                         f"({pin.suite} deb-src at {system_mirror()})")
    _check(path, pin.sha256, f"{pin.package} {pin.version} orig tarball")
    return path


def unpacked_debs() -> Path:
    """The bullseye debs unpacked (``dpkg-deb -x``) into one root; returns that root."""
    root = android_cache() / "sdk"
    stamp = root / ".debs"
    want = "\n".join(f"{p.filename} {p.sha256}" for p in ANDROID_DEBS)
    if stamp.exists() and stamp.read_text() == want:
        return root
    require_tool("dpkg-deb", "Debian's dpkg")
    debs = [fetch_deb(p) for p in ANDROID_DEBS]
    tmp = Path(tempfile.mkdtemp(prefix=".sdk-", dir=android_cache()))
    for deb in debs:
        run(["dpkg-deb", "-x", deb, tmp], f"unpack {deb.name}")
    if root.exists():
        shutil.rmtree(root)
    tmp.rename(root)
    stamp.write_text(want)
    return root


def android_jar() -> Path:
    """android.jar of API 23 (bullseye ``libandroid-23-java``)."""
    path = unpacked_debs() / "usr/share/java/com.android.android-23.jar"
    if not path.is_file():
        raise BuildError(f"{path}: android.jar missing from the unpacked libandroid-23-java")
    return path


def dx_jar() -> Path:
    """The ``dx`` dexer (bullseye ``dalvik-exchange``), run as ``java -jar``."""
    path = unpacked_debs() / "usr/share/java/com.android.dx-10.0.0.jar"
    if not path.is_file():
        raise BuildError(f"{path}: dx jar missing from the unpacked dalvik-exchange")
    return path


def _integrity(path: Path) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def ort_android_libs(pin: NpmPin = ORT_ANDROID_NPM) -> Path:
    """Folder with ``libonnxruntime.so`` and ``libonnxruntime4j_jni.so`` for arm64-v8a (ORT 1.29.0).

    The 150 MB npm tarball is fetched with ``npm pack`` (checked against the pinned integrity), its aar is
    kept (checked by sha256) and the tarball deleted.
    """
    base = android_cache() / "ort-android"
    libdir = base / "jni" / ANDROID_ABI
    aar = base / "onnxruntime.aar"
    stamp = base / ".aar-sha256"
    if stamp.exists() and stamp.read_text() == pin.member_sha256 and libdir.is_dir():
        return libdir
    base.mkdir(parents=True, exist_ok=True)
    if not (aar.exists() and sha256_file(aar) == pin.member_sha256):
        npm = require_tool("npm", "Node's npm client")
        log.info("fetching npm %s@%s (~150 MB) ...", pin.name, pin.version)
        with tempfile.TemporaryDirectory(dir=base) as tmp:
            run([npm, "pack", f"{pin.name}@{pin.version}", "--cache", Path(tmp) / "npm-cache",
                 "--pack-destination", tmp, "--silent"], f"npm pack {pin.name}@{pin.version}")
            tgz = Path(tmp) / f"{pin.name}-{pin.version}.tgz"
            if not tgz.exists():
                raise BuildError(f"{tgz.name}: not written by npm pack {pin.name}@{pin.version}")
            got = _integrity(tgz)
            if got != pin.integrity:
                raise BuildError(f"{tgz.name}: integrity {got} is not the pinned {pin.integrity}")
            with tarfile.open(tgz) as tf:
                member = tf.getmember(pin.member)
                with tf.extractfile(member) as src, open(Path(tmp) / "onnxruntime.aar", "wb") as dst:
                    shutil.copyfileobj(src, dst)
            (Path(tmp) / "onnxruntime.aar").replace(aar)
        _check(aar, pin.member_sha256, f"{pin.member} of {pin.name}@{pin.version}")
    if libdir.exists():
        shutil.rmtree(libdir)
    with zipfile.ZipFile(aar) as z:
        for name in z.namelist():
            if name.startswith(f"jni/{ANDROID_ABI}/") and not name.endswith("/"):
                z.extract(name, base)
    stamp.write_text(pin.member_sha256)
    return libdir
