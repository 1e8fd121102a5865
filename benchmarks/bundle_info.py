"""What was measured: a bundle's variant and manifest summary, and its model file sizes."""
from __future__ import annotations

from typing import Any, Dict, Optional

from edgeocr.manifest import Bundle


def bundle_summary(bundle: Bundle) -> Dict[str, Any]:
    """Variant, format, backend, precision, Lite version/target, tool versions, quantization, and
    per-file sizes in bytes (``sizes``: det/cls/rec/dictionary, ``total_bytes``). JSON-friendly."""
    m = bundle.manifest
    sizes = {stage: entry.size for stage, entry in m.stages.items()}
    sizes["dictionary"] = m.dictionary.size
    return {
        "path": str(bundle.root),
        "variant": m.variant,
        # which build was measured: the results store keys runs by it (issue 12)
        "manifest_sha256": _sha256(bundle.root / "manifest.json"),
        "format": m.format,
        "backend": m.backend,
        "precision": m.precision,
        "target": m.target,
        "lite_version": m.lite_version,
        "files": {stage: entry.file for stage, entry in m.stages.items()},
        "sizes": sizes,
        "total_bytes": sum(sizes.values()),
        "tool_versions": dict(m.tool_versions),
        "quantization": m.quantization,
        "accuracy_gate": m.accuracy,
        "parity": _parity_summary(m.parity),
    }


def _sha256(path: Any) -> Optional[str]:
    import hashlib

    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _parity_summary(parity: Any) -> Any:
    """Keep the parity verdict small: only scalar fields, not per-tensor arrays."""
    if not isinstance(parity, dict):
        return parity
    return {k: v for k, v in parity.items() if isinstance(v, (str, int, float, bool)) or v is None}


ARM_MACHINES = ("aarch64", "arm64", "armv7l", "armv8l", "arm")


def check_runs_here(bundle: Bundle) -> None:
    """Refuse a Paddle-Lite ARM bundle on a non-ARM host before any work.

    The x86 Paddle-Lite runtime loads an ARM ``.nb`` and returns garbage (scores ~1e25) instead of
    failing, so measuring it here would produce meaningless numbers.
    """
    import platform

    from edgeocr.errors import ConfigError

    m = bundle.manifest
    machine = platform.machine().lower()
    if m.format == "paddle-lite" and m.target == "arm" and not machine.startswith(ARM_MACHINES):
        raise ConfigError(
            f"bundle {m.variant} holds ARM Paddle-Lite models and this host is {machine}: its x86 Paddle-Lite "
            "runtime would return garbage. Run it on the device (--device adb:SERIAL or ssh:user@host) or "
            "measure the matching lite-x86-* bundle here",
            bundle.root,
        )
