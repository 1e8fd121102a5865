"""``edgeocr convert --gate-device TARGET``: is the quantized bundle faster than fp32 *on that device*? (issue 10)

int8 pays off only where the CPU has integer kernels that beat its float ones (ARMv8.2 sdot, x86 VNNI); on an
AVX2 host the static int8 det is ~1.2x faster and rec about even, on an older ARMv8 core it may be slower. So
the speed verdict must come from the target itself. Both bundles are benchmarked there with ``edgeocr bench``
(the device layer of issue 6: adb / ssh / local), **interleaved** (fp32, int8, fp32, int8) so drift (thermal,
other load) hits both, and compared as a ratio of mean latencies per stage. On an emulated device (qemu) the
ratio is meaningless and is reported as such; the plumbing is the same.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from edgeocr.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_STAGES = ("det", "rec")
DEFAULT_ROUNDS = 2


def _means(result: Dict[str, Any]) -> Dict[str, float]:
    """Mean latency (ms) per stage of a bench result."""
    return {r["stage"]: float(r["stats"]["mean"]) for r in result.get("records", []) if r.get("stats")}


def measure_speedup(candidate: Path, parent: Path, target: str, images: Optional[Path] = None,
                    stages: Sequence[str] = DEFAULT_STAGES, rounds: int = DEFAULT_ROUNDS, num_runs: int = 3,
                    threads: int = 1, progress: Callable[[str], None] = lambda m: None,
                    work_dir: Optional[str] = None, warmup_runs: int = 1) -> Dict[str, Any]:
    """Latency of ``candidate`` vs ``parent`` (fp32) on ``target``; ``slower`` is True when the candidate's summed
    mean latency over ``stages`` exceeds fp32's. ``images``: one real text image (default: the first calibration
    image under ``$EDGEOCR_DATA``)."""
    from edgeocr.device.remote import run_remote_bench

    if rounds < 1 or num_runs < 1:
        raise ConfigError(f"device speed check needs rounds >= 1 and num_runs >= 1 (got {rounds}, {num_runs})")
    images = Path(images) if images is not None else _default_image()
    args = ["--stages", ",".join(stages), "--num-threads", str(threads), "--num-runs", str(num_runs),
            "--warmup-runs", str(warmup_runs), "--warmup-min-secs", "0", "--min-secs", "0", "--max-images", "1"]
    runs: Dict[str, List[Dict[str, float]]] = {"fp32": [], "int8": []}
    info: Dict[str, Any] = {}
    for i in range(rounds):
        for name, bundle in (("fp32", parent), ("int8", candidate)):
            progress(f"bench {name} on {target} (round {i + 1}/{rounds})")
            res = run_remote_bench(target, bundle, images, list(args), work_dir=work_dir, progress=False)
            runs[name].append(_means(res))
            info = res.get("device", info)
    mean = {n: {s: sum(r.get(s, 0.0) for r in rs) / len(rs) for s in stages} for n, rs in runs.items()}
    ratio = {s: (mean["fp32"][s] / mean["int8"][s]) if mean["int8"][s] else None for s in stages}
    total = {n: sum(mean[n].values()) for n in mean}
    speedup = total["fp32"] / total["int8"] if total["int8"] else None
    emulated = bool(info.get("emulated"))
    summary = (f"int8/fp32 speed-up {speedup:.2f}x over {'+'.join(stages)} "
               f"(fp32 {total['fp32']:.1f} ms, int8 {total['int8']:.1f} ms, {rounds} interleaved rounds)")
    if emulated:
        summary += "; EMULATED device: not a performance number"
    return {"target": target, "emulated": emulated, "stages": list(stages), "threads": threads,
            "mean_ms": mean, "speedup": ratio, "total_speedup": speedup,
            "slower": bool(speedup is not None and speedup < 1.0), "summary": summary,
            "device": {k: info.get(k) for k in ("abi", "machine", "model", "soc") if k in info}}


def _default_image() -> Path:
    from .data_paths import DET_CALIB_SUBDIR, resolve_data_root

    folder = resolve_data_root(None, "--calibration-data") / DET_CALIB_SUBDIR
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise ConfigError(f"--gate-device needs a text image to time; none in {folder}")
    return files[0]
