"""Does the int8 bundle compute in int8 on ARM? Run the kernel probe on a device and count MACs (issue 10).

``check_kernels(bundle, target)`` pushes ``bundle`` to a device (adb / ssh / local, the device layer of issue 6),
runs ``python3 -m edgeocr.kernel_probe`` there (ORT profiling of one small run per stage), pulls the list of
executed kernels back and costs it on the host (:mod:`mac_count`): per stage, the share of conv/matmul MACs that
ran in integer kernels (QLinearConv, QLinearMatMul, QGemm...) versus float ones. On the emulated ARM64 device
(aarch64 onnxruntime under qemu) this is a correctness check of the graph ORT builds for ARM64, not a timing.
``target=None`` probes this host in-process.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

from edgeocr.errors import DeviceError
from edgeocr.kernel_probe import probe_bundle

from .mac_count import bundle_cost


def run_probe(bundle: Path, target: Optional[str] = None, work_dir: Optional[str] = None,
              timeout: float = 1800.0) -> Dict[str, Any]:
    """The kernel probe of ``bundle`` on ``target`` (None: this host)."""
    if target is None:
        return probe_bundle(Path(bundle))
    from edgeocr.device.remote import _LAUNCH, _push_bundle, _start
    from edgeocr.device.transport import script_argv

    transport, run, info, _ = _start(target, work_dir, None, False, timeout)
    try:
        remote_bundle = _push_bundle(run, Path(bundle), info, [])
        out = f"{run.run_dir}/kernels.json"
        cmd = ["env", f"PYTHONPATH={run.work}/lib:{run.work}/src", "python3", "-m", "edgeocr.kernel_probe",
               remote_bundle, out]
        res = transport.run(script_argv(_LAUNCH, run.run_dir, *cmd), timeout=run.remaining())
        if res.returncode != 0:
            tail = next((x for x in reversed(res.error_text.splitlines()) if x.strip()), f"exit {res.returncode}")
            raise DeviceError(f"kernel probe failed on {target}: {tail}")
        with tempfile.TemporaryDirectory(prefix="edgeocr-kernels.") as tmp:
            local = Path(tmp) / "kernels.json"
            transport.pull(out, local)
            probe = json.loads(local.read_text(encoding="utf-8"))
        probe["device"] = {"target": target, "emulated": bool(getattr(info, "emulated", False)),
                           "machine": probe.get("machine")}
        return probe
    finally:
        run.cleanup()


def check_kernels(bundle: Path, target: Optional[str] = None, work_dir: Optional[str] = None) -> Dict[str, Any]:
    """``{"machine", "onnxruntime", "device", "stages": {stage: {int8_macs, float_macs, int8_share, ...}}}``."""
    probe = run_probe(bundle, target, work_dir)
    costs = bundle_cost(probe, Path(bundle))
    return {"variant": probe.get("variant"), "machine": probe.get("machine"), "onnxruntime": probe.get("onnxruntime"),
            "device": probe.get("device"), "stages": {s: c.to_dict() for s, c in costs.items()}}
