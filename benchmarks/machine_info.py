"""Where a result was measured: machine (CPU model, cores, OS, affinity) and package versions.

Stored in every eval/bench JSON, like the device model / tool versions TFLite and ai-hub-models'
``perf.yaml`` record. Standard library only: this also runs on a board or phone (issue 6).
"""
from __future__ import annotations

import os
import platform
import sys
from typing import Dict, Optional

# Packages whose versions change numbers: the runtime, its deps, and the metric libraries.
VERSIONED_PACKAGES = ("edgeocr", "numpy", "opencv-python-headless", "onnxruntime", "paddlepaddle",
                      "paddlelite", "pyclipper", "shapely", "rapidfuzz")


def _cpuinfo() -> Optional[Dict[str, str]]:
    """The first value of each /proc/cpuinfo field (None where there is no /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            info = fh.read()
    except OSError:
        return None
    fields: Dict[str, str] = {}
    for line in info.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def has_vnni() -> bool:
    """Whether this x86 CPU multiplies U8S8 exactly in int32 (AVX512-VNNI / AVX-VNNI): int8 pays only there."""
    flags = ((_cpuinfo() or {}).get("flags") or "").split()
    return "avx512_vnni" in flags or "avx_vnni" in flags


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (x86 "model name", ARM "Hardware"/"CPU part"), else platform."""
    fields = _cpuinfo()
    if fields is None:
        return platform.processor() or platform.machine()
    for key in ("model name", "Hardware", "Model", "cpu model"):
        if fields.get(key):
            return fields[key]
    if "CPU part" in fields:
        return f"ARM CPU part {fields['CPU part']} (implementer {fields.get('CPU implementer', '?')})"
    return platform.processor() or platform.machine()


def affinity() -> Optional[str]:
    """CPUs this process may run on, e.g. ``"0-1"`` (None where the OS cannot tell)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if not cpus:
        return None
    ranges, start, prev = [], cpus[0], cpus[0]
    for c in cpus[1:] + [None]:  # type: ignore[list-item]
        if c is not None and c == prev + 1:
            prev = c
            continue
        ranges.append(f"{start}-{prev}" if prev != start else str(start))
        if c is not None:
            start = prev = c
    return ",".join(ranges)


def machine_info() -> Dict[str, object]:
    """CPU model, logical cores, affinity, OS, Python. JSON-friendly."""
    return {
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "affinity": affinity(),
        "arch": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "os_release": _os_release(),
        "python": platform.python_version(),
        "hostname": platform.node(),
        "loadavg": load_average(),
    }


def load_average() -> Optional[list]:
    """1/5/15-minute load averages (None where unavailable). Above the core count, other work
    competed for the CPU while measuring: latencies are then indicative only."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def package_versions() -> Dict[str, str]:
    """Installed versions of :data:`VERSIONED_PACKAGES` (missing ones are left out)."""
    try:
        from importlib import metadata
    except ImportError:  # Python 3.7 (Paddle-Lite boards)
        return {}
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out["python"] = sys.version.split()[0]
    return out


def _os_release() -> Optional[str]:
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None
