"""Build (once, cached) an ARM64 Debian sysroot and turn a folder into an emulated ARM64 device.

Recipe (issue 6): a private apt config (``APT::Architecture "arm64"``, own state/cache dirs, the
host's Debian sources) downloads ``python3.11 libgomp1 libstdc++6 coreutils`` and their
dependencies with ``apt-get install -d``; each .deb is unpacked with ``dpkg -x``. Programs run with
``qemu-aarch64-static -L SYSROOT``. qemu 7.2 hands the guest the host's x86 ``/proc/cpuinfo``, which
makes onnxruntime's cpuinfo crash on import; qemu's ``-L`` prefix lookup finds
``SYSROOT/proc/cpuinfo`` first, so we write a real-looking big.LITTLE ARM one there (4x Cortex-A55
+ 4x Cortex-A77, the layout of a mid-range phone) along with matching cpufreq files.

The Python wheels are *not* baked in: ``edgeocr device prepare`` installs them, which is what the
tests exercise. Cached under ``$EDGEOCR_HOME/device-test/`` (never inside tests/), keyed by the
recipe, built in a temp dir and renamed so an interrupted build is never reused.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from edgeocr.home import edgeocr_home

APT_PACKAGES = ("python3.11", "libgomp1", "libstdc++6", "coreutils")
QEMU = "qemu-aarch64-static"
EMULATED_MARKER = "etc/edgeocr-emulated"  # read by `edgeocr device info` through the device's cat
RECIPE_VERSION = "3"  # bump when the recipe below changes

# (CPU part, max kHz) per core: little cores first, as on real SoCs.
CPUS = [("0xd05", 1800000)] * 4 + [("0xd0d", 2400000)] * 4


def _run(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def sysroot_cache_dir() -> Path:
    return edgeocr_home() / "device-test"


def build_sysroot() -> Path:
    """Return the cached sysroot, building it (~10 s + download) if needed. Fails loudly without tools."""
    for tool in (QEMU, "apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"`{tool}` is missing: run `make setup` (requirements/apt.txt lists qemu-user-static)")
    key = hashlib.sha256(f"{RECIPE_VERSION}|{APT_PACKAGES}|{CPUS}".encode()).hexdigest()[:12]
    cache = sysroot_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    final = cache / f"sysroot-arm64-{key}"
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pytest processes never build at once
        if (final / ".complete").is_file():
            return final
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
        try:
            root = work / "sysroot"
            root.mkdir()
            for deb in _download_debs(work):
                _run(["dpkg", "-x", str(deb), str(root)])
            _write_fake_proc_sys(root)
            (root / EMULATED_MARKER).write_text("qemu-aarch64-static user-mode emulation (timings are not performance)\n")
            # Smoke check the interpreter before caching it.
            out = _run([QEMU, "-L", str(root), str(root / "usr/bin/python3.11"), "-c",
                        "import platform; print(platform.machine())"]).stdout.decode().strip()
            if out != "aarch64":
                raise RuntimeError(f"emulated python reports machine {out!r}, expected aarch64")
            (root / ".complete").write_text(key + "\n")
            shutil.rmtree(final, ignore_errors=True)
            os.replace(root, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final


def _download_debs(work: Path) -> list:
    """``apt-get install -d`` for arm64 with a private state, so the host's dpkg is never touched."""
    state, cache = work / "apt-state", work / "apt-cache"
    (state / "lists" / "partial").mkdir(parents=True)
    (cache / "archives" / "partial").mkdir(parents=True)
    (work / "apt-etc" / "preferences.d").mkdir(parents=True)
    (state / "status").write_text("")  # nothing "installed": apt downloads the whole closure
    conf = work / "apt.conf"
    conf.write_text(
        'APT::Architecture "arm64";\n'
        'APT::Architectures { "arm64"; };\n'
        f'Dir::State "{state}";\n'
        f'Dir::State::status "{state}/status";\n'
        f'Dir::Cache "{cache}";\n'
        'Dir::Etc::SourceList "/etc/apt/sources.list";\n'
        'Dir::Etc::SourceParts "/etc/apt/sources.list.d";\n'
        f'Dir::Etc::Preferences "{work}/apt-etc/preferences";\n'
        f'Dir::Etc::PreferencesParts "{work}/apt-etc/preferences.d";\n'
        'Debug::NoLocking "true";\n'
        'APT::Install-Recommends "false";\n'
    )
    env = {**os.environ, "APT_CONFIG": str(conf), "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env)
    _run(["apt-get", "install", "-d", "-y", "-qq", *APT_PACKAGES], env=env)
    debs = sorted((cache / "archives").glob("*.deb"))
    if not debs:
        raise RuntimeError("apt-get downloaded no arm64 packages")
    return debs


def _write_fake_proc_sys(root: Path) -> None:
    """ARM ``/proc/cpuinfo`` (what onnxruntime's cpuinfo parses), meminfo and cpufreq for 8 cores."""
    blocks = []
    for i, (part, _khz) in enumerate(CPUS):
        blocks.append(
            f"processor\t: {i}\nBogoMIPS\t: 52.00\n"
            "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
            f"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: {part}\nCPU revision\t: 0\n")
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc/cpuinfo").write_text("\n".join(blocks) + "\nHardware\t: edgeocr emulated big.LITTLE (qemu)\n")
    cpu = root / "sys/devices/system/cpu"
    cpu.mkdir(parents=True)
    (cpu / "possible").write_text(f"0-{len(CPUS) - 1}\n")
    for i, (_part, khz) in enumerate(CPUS):
        freq = cpu / f"cpu{i}" / "cpufreq"
        freq.mkdir(parents=True)
        (freq / "cpuinfo_max_freq").write_text(f"{khz}\n")
        (freq / "scaling_governor").write_text("schedutil\n")
    zone = root / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("41000\n")


def make_device(device_root: Path, sysroot: Path, props: dict) -> Path:
    """Lay out an emulated device in ``device_root``; return its shell (used by adbd and sshd).

    ``device_root/bin`` holds wrappers so that ``python3``, ``uname``, ``cat``, ``head`` and ``nproc`` are the
    aarch64 binaries under qemu (so ``/proc/cpuinfo`` reads the ARM one), plus an Android-style
    ``getprop`` reading ``device_root/system/build.prop``. Everything else is the host's sh tools.
    """
    bin_dir = device_root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (device_root / "home").mkdir(exist_ok=True)
    (device_root / "system").mkdir(exist_ok=True)
    q = _sh_quote
    qemu = shutil.which(QEMU)
    for name, target in (("python3", "usr/bin/python3.11"), ("python3.11", "usr/bin/python3.11"),
                         ("uname", "bin/uname"), ("cat", "bin/cat"), ("head", "usr/bin/head"), ("nproc", "usr/bin/nproc")):
        # -cpu cortex-a76: a phone's big core (ARMv8.2, no SVE/SME), not qemu's default "max" CPU.
        _write_exec(bin_dir / name, f'#!/bin/sh\nexec {q(qemu)} -cpu cortex-a76 -L {q(str(sysroot))} {q(str(sysroot / target))} "$@"\n')
    (device_root / "system/build.prop").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    _write_exec(bin_dir / "getprop",
                "#!/bin/sh\n"
                f"f={q(str(device_root / 'system/build.prop'))}\n"
                'if [ $# -eq 0 ]; then sed "s/^\\([^=]*\\)=\\(.*\\)$/[\\1]: [\\2]/" "$f"; exit 0; fi\n'
                'grep -m1 "^$1=" "$f" | cut -d= -f2-\n')
    shell = device_root / "devshell"
    _write_exec(shell,
                "#!/bin/sh\n"
                "# The emulated device's shell: adbd runs `devshell -c CMD`, sshd runs it as ForceCommand.\n"
                f"export HOME={q(str(device_root / 'home'))}\n"
                f"export PATH={q(str(bin_dir))}:/usr/local/bin:/usr/bin:/bin\n"
                "unset PYTHONPATH PYTHONHOME VIRTUAL_ENV\n"
                f"cd {q(str(device_root))} || exit 1\n"
                'if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; fi\n'
                'exec /bin/sh "$@"\n')
    return shell


def _write_exec(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _sh_quote(s: str) -> str:
    import shlex

    return shlex.quote(s)
