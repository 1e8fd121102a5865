"""What a device is: ABI, CPU cores and clusters, governor, memory, free space, OS, Python, backends.

Everything is read with plain shell tools (``uname``, ``cat``, ``getprop``, ``df``) that exist on
Android (toybox) and on Linux boards, so ``edgeocr device info`` works before ``device prepare``.
The result is stored in every on-device bench/eval result, like ai-hub-models' device records
and the TFLite README's advice to note the affinity mask (``taskset f0``) used.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from .transport import Transport, script_argv

log = logging.getLogger(__name__)

# ARM "CPU part" ids (implementer 0x41) -> core name, for the cluster summary.
ARM_PARTS = {
    "0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd41": "Cortex-A78", "0xd44": "Cortex-X1",
    "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd48": "Cortex-X2", "0xd4d": "Cortex-A715",
    "0xd4e": "Cortex-X3", "0xd80": "Cortex-A520", "0xd81": "Cortex-A720", "0xd82": "Cortex-X4",
}

# One round trip for the cheap facts. Sections start with "@name"; $1 is the work dir.
_PROBE = r'''
w="$1"
echo @machine; uname -m 2>/dev/null
echo @kernel; uname -r 2>/dev/null
echo @abi; getprop ro.product.cpu.abi 2>/dev/null
echo @abilist; getprop ro.product.cpu.abilist 2>/dev/null
echo @model; getprop ro.product.model 2>/dev/null
echo @manufacturer; getprop ro.product.manufacturer 2>/dev/null
echo @soc; getprop ro.soc.model 2>/dev/null || getprop ro.board.platform 2>/dev/null
echo @android; getprop ro.build.version.release 2>/dev/null
echo @sdk; getprop ro.build.version.sdk 2>/dev/null
echo @os_release; cat /etc/os-release 2>/dev/null
echo @dt_model; cat /proc/device-tree/model 2>/dev/null; echo
echo @cpuinfo; cat /proc/cpuinfo 2>/dev/null
echo @possible; cat /sys/devices/system/cpu/possible 2>/dev/null
echo @nproc; nproc 2>/dev/null
echo @meminfo; cat /proc/meminfo 2>/dev/null
echo @emulated; cat /etc/edgeocr-emulated 2>/dev/null; printf '%s\n' "${EDGEOCR_DEVICE_EMULATED:-}"
echo @df; d="$w"; while [ ! -d "$d" ]; do d=$(dirname "$d"); done; df -kP "$d" 2>/dev/null || df -k "$d" 2>/dev/null
echo @writable; if [ -d "$w" ]; then p="$w/.edgeocr-probe.$$"; if (: > "$p") 2>/dev/null; then rm -f "$p"; echo yes; else echo no; fi; else echo missing; fi
echo @python; command -v python3 2>/dev/null
'''

# Per-file reads for the paths computed from the probe (cpufreq per core, thermal zones).
# `head` with several files prints "==> path <==" before each readable one (toybox, busybox, coreutils).
_READ_FILES = r'''head -n 1 "$@" 2>/dev/null; true'''

# Run by the device's python3 (with the work dir's lib/ on sys.path): version, platform, backends.
_PY_PROBE = r'''
import importlib.util, json, platform, sys, sysconfig
def ver(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    try:
        from importlib.metadata import version
        return version({"cv2": "opencv-python-headless"}.get(name, name))
    except Exception:
        return "present"
print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "tag": "cp%d%d" % sys.version_info[:2],
    "machine": platform.machine(), "platform": sysconfig.get_platform(), "libc": " ".join(platform.libc_ver()),
    "pip": importlib.util.find_spec("pip") is not None,
    "packages": {n: ver(n) for n in ("numpy", "cv2", "onnxruntime", "paddlelite", "pyclipper", "click", "tqdm")}}))
'''


@dataclass
class Cluster:
    """Cores sharing a max frequency (a big.LITTLE cluster); ``mask`` is the taskset hex mask."""

    cpus: List[int]
    max_khz: Optional[int]
    core: Optional[str]
    mask: str


@dataclass
class DeviceInfo:
    """Facts about a device, stored in every on-device result (``result["device"]``)."""

    target: str
    transport: str
    machine: str = ""
    abi: str = ""
    kernel: str = ""
    model: str = ""
    manufacturer: str = ""
    soc: str = ""
    os: str = ""
    android_version: Optional[str] = None
    cpu_model: str = ""
    cores: int = 0
    clusters: List[Cluster] = field(default_factory=list)
    governor: Optional[str] = None
    mem_total_mb: Optional[int] = None
    mem_available_mb: Optional[int] = None
    work_dir: str = ""
    work_dir_free_mb: Optional[int] = None
    work_dir_writable: Optional[str] = None  # "yes" | "no" | "missing"
    python: Optional[Dict[str, Any]] = None
    thermal: List[Dict[str, Any]] = field(default_factory=list)
    emulated: bool = False
    emulation: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @property
    def big_cores_mask(self) -> Optional[str]:
        """taskset mask of the fastest cluster (what TFLite's README pins with ``taskset f0``)."""
        with_freq = [c for c in self.clusters if c.max_khz]
        return max(with_freq, key=lambda c: c.max_khz).mask if len(with_freq) > 1 else None

    def summary_lines(self) -> List[str]:
        """Human-readable lines for ``edgeocr device info``."""
        py = self.python or {}
        lines = [
            f"target      {self.target}" + ("   [EMULATED: " + (self.emulation or "yes") + "]" if self.emulated else ""),
            f"model       {' '.join(x for x in (self.manufacturer, self.model) if x) or '-'}"
            + (f"   soc {self.soc}" if self.soc else ""),
            f"abi         {self.abi or '-'} (uname -m: {self.machine or '-'})",
            f"os          {self.os or '-'}" + (f" (Android {self.android_version})" if self.android_version else "")
            + f"   kernel {self.kernel or '-'}",
            f"cpu         {self.cores} cores, {self.cpu_model or '-'}",
        ]
        for c in self.clusters:
            mhz = f"{c.max_khz // 1000} MHz" if c.max_khz else "? MHz"
            lines.append(f"  cluster   cpus {_ranges(c.cpus)}  {c.core or '?'} @ {mhz}  taskset mask {c.mask}")
        if self.big_cores_mask:
            lines.append(f"  big cores --cpu-mask {self.big_cores_mask}")
        lines += [
            f"governor    {self.governor or '-'}",
            f"memory      {self.mem_total_mb or '?'} MB total, {self.mem_available_mb or '?'} MB available",
            f"work dir    {self.work_dir}  ({self.work_dir_writable}, {self.work_dir_free_mb if self.work_dir_free_mb is not None else '?'} MB free)",
            f"python3     {py.get('version', 'not found')}" + (f" {py.get('platform')} {py.get('libc')}".rstrip() if py else ""),
        ]
        if py:
            pk = py.get("packages", {})
            lines.append("packages    " + ", ".join(f"{k} {v or 'missing'}" for k, v in pk.items()))
        for t in self.thermal:
            lines.append(f"thermal     {t['type']}: {t['temp_c']} °C")
        return lines


def probe_device(transport: Transport, work_dir: str, lib_dir: Optional[str] = None, with_python: bool = True) -> DeviceInfo:
    """Collect :class:`DeviceInfo` in two or three shell round trips (plus one python3 start)."""
    res = transport.shell(script_argv(_PROBE, work_dir), timeout=120, what="device probe")
    sec = _sections(res.text)
    info = DeviceInfo(target=transport.target, transport=transport.kind, work_dir=work_dir)
    info.machine = _first(sec, "machine")
    info.kernel = _first(sec, "kernel")
    info.abi = _first(sec, "abi") or {"aarch64": "arm64-v8a", "armv7l": "armeabi-v7a", "armv8l": "armeabi-v7a",
                                       "x86_64": "x86_64"}.get(info.machine, info.machine)
    info.model = _first(sec, "model") or _first(sec, "dt_model").rstrip("\x00")
    info.manufacturer = _first(sec, "manufacturer")
    info.soc = _first(sec, "soc")
    info.android_version = _first(sec, "android") or None
    osr = dict(_kv(line, "=") for line in sec.get("os_release", []) if "=" in line)
    info.os = f"Android {info.android_version}" if info.android_version else osr.get("PRETTY_NAME", "").strip('"')
    cpus = _parse_cpuinfo(sec.get("cpuinfo", []))
    possible = _parse_ranges(_first(sec, "possible"))
    ids = possible or sorted(cpus) or list(range(int(_first(sec, "nproc") or 0)))
    info.cores = len(ids)
    parts = sorted({c.get("part", "") for c in cpus.values() if c.get("part")})
    names = [ARM_PARTS.get(p, p) for p in parts]
    hw = next((c.get("Hardware") for c in cpus.values() if c.get("Hardware")), "")
    model_name = next((c.get("model name") for c in cpus.values() if c.get("model name")), "")
    info.cpu_model = model_name or " + ".join(names) or hw
    if hw and hw not in info.cpu_model:
        info.cpu_model += f" ({hw})"
    mem = dict(_kv(line, ":") for line in sec.get("meminfo", []) if ":" in line)
    info.mem_total_mb = _kb_to_mb(mem.get("MemTotal"))
    info.mem_available_mb = _kb_to_mb(mem.get("MemAvailable"))
    info.work_dir_free_mb = _parse_df(sec.get("df", []))
    info.work_dir_writable = _first(sec, "writable") or None
    marker = " ".join(x for x in sec.get("emulated", []) if x.strip()).strip()
    info.emulated = bool(marker)
    info.emulation = marker or None

    # cpufreq per core and thermal zones: explicit paths (no shell globs, which differ per device).
    files = []
    for i in ids:
        base = f"/sys/devices/system/cpu/cpu{i}/cpufreq"
        files += [f"{base}/cpuinfo_max_freq", f"{base}/scaling_governor"]
    files += [f"/sys/class/thermal/thermal_zone{z}/{n}" for z in range(12) for n in ("type", "temp")]
    values = _read_files(transport, files)
    clusters: Dict[Any, List[int]] = {}
    for i in ids:
        khz = values.get(f"/sys/devices/system/cpu/cpu{i}/cpufreq/cpuinfo_max_freq", "")
        key = int(khz) if khz.isdigit() else cpus.get(i, {}).get("part")
        clusters.setdefault(key, []).append(i)
    for key, members in sorted(clusters.items(), key=lambda kv: min(kv[1])):
        part = cpus.get(members[0], {}).get("part")
        info.clusters.append(Cluster(cpus=members, max_khz=key if isinstance(key, int) else None,
                                     core=ARM_PARTS.get(part, part) if part else None,
                                     mask=format(sum(1 << c for c in members), "x")))
    govs = sorted({values[f] for f in values if f.endswith("scaling_governor") and values[f]})
    info.governor = ",".join(govs) or None
    for z in range(12):
        ztype, temp = values.get(f"/sys/class/thermal/thermal_zone{z}/type"), values.get(f"/sys/class/thermal/thermal_zone{z}/temp")
        if ztype and temp and temp.lstrip("-").isdigit():
            info.thermal.append({"zone": z, "type": ztype, "temp_c": int(temp) / 1000 if abs(int(temp)) > 1000 else int(temp)})
    if with_python and _first(sec, "python"):
        info.python = probe_python(transport, lib_dir)
    return info


def probe_python(transport: Transport, lib_dir: Optional[str]) -> Optional[Dict[str, Any]]:
    """Version/platform of the device's python3 and which runtime packages it can import from ``lib_dir``."""
    argv = ["python3", "-c", _PY_PROBE]
    if lib_dir:
        argv = ["env", f"PYTHONPATH={lib_dir}", *argv]
    res = transport.run(argv, timeout=300)
    if res.returncode != 0:
        log.warning("python3 on %s failed: %s", transport.target, res.error_text)
        return None
    try:
        return json.loads(res.text.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return None


def _read_files(transport: Transport, files: List[str]) -> Dict[str, str]:
    res = transport.run(script_argv(_READ_FILES, *files, "/dev/null"), timeout=120)
    out: Dict[str, str] = {}
    cur = None
    for line in res.text.splitlines():
        m = re.fullmatch(r"==> (.*) <==", line.strip())
        if m:
            cur = m.group(1) if m.group(1) in files else None
            if cur:
                out[cur] = ""
        elif cur and line.strip() and not out[cur]:
            out[cur] = line.strip()
    return out


def _sections(text: str) -> Dict[str, List[str]]:
    sec: Dict[str, List[str]] = {}
    cur = None
    for line in text.splitlines():
        if re.fullmatch(r"@[a-z_]+", line.strip()):
            cur = line.strip()[1:]
            sec[cur] = []
        elif cur is not None:
            sec[cur].append(line)
    return sec


def _first(sec: Dict[str, List[str]], name: str) -> str:
    return next((line.strip() for line in sec.get(name, []) if line.strip()), "")


def _kv(line: str, sep: str) -> "tuple[str, str]":
    k, _, v = line.partition(sep)
    return k.strip(), v.strip()


def _parse_cpuinfo(lines: List[str]) -> Dict[int, Dict[str, str]]:
    cpus: Dict[int, Dict[str, str]] = {}
    cur: Optional[int] = None
    extra: Dict[str, str] = {}
    for line in lines:
        k, v = _kv(line, ":")
        if k == "processor" and v.isdigit():
            cur = int(v)
            cpus[cur] = {}
        elif k == "CPU part" and cur is not None:
            cpus[cur]["part"] = v.lower()
        elif k == "model name" and cur is not None:
            cpus[cur]["model name"] = v
        elif k == "Hardware":
            extra["Hardware"] = v
    for c in cpus.values():
        c.update(extra)
    return cpus


def _parse_ranges(text: str) -> List[int]:
    """``0-3,6`` -> [0, 1, 2, 3, 6] (the kernel's cpu list format)."""
    out: List[int] = []
    for part in text.split(","):
        part = part.strip()
        if re.fullmatch(r"\d+-\d+", part):
            a, b = map(int, part.split("-"))
            out += range(a, b + 1)
        elif part.isdigit():
            out.append(int(part))
    return out


def _ranges(ids: List[int]) -> str:
    return f"{ids[0]}-{ids[-1]}" if len(ids) > 1 and ids == list(range(ids[0], ids[-1] + 1)) else ",".join(map(str, ids))


def _parse_df(lines: List[str]) -> Optional[int]:
    rows = [line.split() for line in lines if line.strip() and not line.startswith("Filesystem")]
    if not rows:
        return None
    fields = rows[-1]
    # POSIX: Filesystem 1024-blocks Used Available Capacity Mounted-on (a wrapped row has 5 fields)
    avail = fields[3] if len(fields) >= 6 else fields[2] if len(fields) == 5 else None
    return int(avail) // 1024 if avail and avail.isdigit() else None


def _kb_to_mb(value: Optional[str]) -> Optional[int]:
    if not value:
        return None
    num = value.split()[0]
    return int(num) // 1024 if num.isdigit() else None
