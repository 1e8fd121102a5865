"""Which kernels ONNX Runtime really runs for each stage of a bundle, on the machine it runs on (issue 10).

Runs on a device too (``python3 -m edgeocr.kernel_probe BUNDLE OUT.json``: pushed with the runtime sources, needs
only onnxruntime and numpy): each stage is loaded with the graph optimizations the runtime uses, run once on a
small zero input with ORT profiling on, and every executed node is recorded with its kernel (op type) and the
input/output shapes the profile reports, from which the host counts MACs (``converters/mac_count.py``). Kernel
choice does not depend on the input size, which is why a small input is enough (emulated ARM64 is ~200x slower
than a phone). Level EXTENDED = ALL minus x86's NCHWc layout transform: the QDQ -> QLinearConv fusions are the
same, and weight shapes stay unblocked, so host and ARM numbers are comparable.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

# small inputs per stage (N, C, H, W): enough to execute every node
PROBE_SHAPES = {"det": (1, 3, 64, 96), "cls": (1, 3, 48, 192), "rec": (1, 3, 32, 160)}


def _shapes(items) -> list:
    """Profile ``[{"float": [1, 3, 32, 320]}, ...]`` -> ``[[1, 3, 32, 320], ...]``."""
    return [next(iter(d.values())) if d else [] for d in (items or [])]


def probe_model(path: Path, shape, session_config: Dict[str, str]) -> list:
    """``[{"name", "op", "inputs", "outputs"}]`` of the nodes ORT executed for one run of ``path``."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="edgeocr-probe.") as tmp:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED  # see module docstring
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(tmp, "profile")
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        for key, value in session_config.items():
            opts.add_session_config_entry(key, str(value))
        sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        sess.run(None, {sess.get_inputs()[0].name: np.zeros(shape, np.float32)})
        profile = sess.end_profiling()
        events = json.loads(Path(profile).read_text(encoding="utf-8"))
    nodes = []
    for ev in events:
        args = ev.get("args") or {}
        if ev.get("cat") == "Node" and "op_name" in args and ev.get("name", "").endswith("_kernel_time"):
            nodes.append({"name": ev["name"][: -len("_kernel_time")], "op": args["op_name"],
                          "inputs": _shapes(args.get("input_type_shape")),
                          "outputs": _shapes(args.get("output_type_shape"))})
    return nodes


def probe_bundle(bundle: Path, shapes: Dict[str, Any] = PROBE_SHAPES,
                 session_config: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Executed kernels of every stage of ``bundle`` plus where it ran; ORT session config entries from the
    manifest (as the runtime applies them) unless ``session_config`` is given."""
    import onnxruntime as ort

    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    config = session_config if session_config is not None else (
        (manifest.get("quantization") or {}).get("ort_session_config") or {})
    stages = {s: probe_model(bundle / e["file"], shapes[s], config) for s, e in manifest["stages"].items()}
    return {"variant": manifest.get("variant"), "machine": platform.machine(), "onnxruntime": ort.__version__,
            "session_config": config, "stages": stages}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2:
        sys.stderr.write("usage: python -m edgeocr.kernel_probe BUNDLE OUT.json\n")
        return 2
    result = probe_bundle(Path(argv[0]))
    Path(argv[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
