"""The fan-out scheduler (issue 12): one worker per device, strictly sequential on each device,
host jobs alone, a failed device costs only its own cells. Real threads and clocks, fake jobs."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from edgeocr.device.fanout import Job, run_fanout
from edgeocr.errors import DeviceError

TARGETS = ["host", "local", "adb:A", "ssh:pi@b"]


def jobs(targets=TARGETS) -> List[Job]:
    return [Job(t, Path(f"/b/{v}"), v) for t in targets for v in ("fp32", "int8")]


def overlap(a: Tuple[float, float], b: Tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_sequential_per_device_parallel_across_devices_host_alone() -> None:
    spans: Dict[str, List[Tuple[float, float]]] = {}
    lock = threading.Lock()

    def run(job: Job) -> dict:
        t0 = time.monotonic()
        time.sleep(0.3)
        with lock:
            spans.setdefault(job.target, []).append((t0, time.monotonic()))
        return {"variant": job.variant, "target": job.target}

    report = run_fanout(jobs(), run, progress=False)
    assert [(o.job.target, o.job.variant) for o in report.outcomes] == [(j.target, j.variant) for j in jobs()]
    assert all(o.ok for o in report.outcomes)
    for t, s in spans.items():  # never two jobs at once on one device
        assert not overlap(s[0], s[1]), t
    host_spans = spans["host"] + spans["local"]
    remote_spans = spans["adb:A"] + spans["ssh:pi@b"]
    assert not any(overlap(h, r) for h in host_spans for r in remote_spans)  # host measured alone
    assert any(overlap(a, b) for a in spans["adb:A"] for b in spans["ssh:pi@b"])  # devices in parallel


def test_a_vanished_device_costs_only_its_cells() -> None:
    tried: List[Tuple[str, str]] = []

    def run(job: Job) -> dict:
        tried.append((job.target, job.variant))
        if job.target == "adb:A":
            raise DeviceError("adb:A is offline: reconnect the cable")
        return {"ok": True}

    def alive(target: str) -> Optional[str]:
        return "adb:A disconnected" if target == "adb:A" else None

    report = run_fanout(jobs(), run, progress=False, check_alive=alive)
    bad = {(o.job.target, o.job.variant): o.error for o in report.outcomes if not o.ok}
    assert set(bad) == {("adb:A", "fp32"), ("adb:A", "int8")}
    assert "offline" in bad[("adb:A", "fp32")] and "not run" in bad[("adb:A", "int8")]
    assert ("adb:A", "int8") not in tried  # not retried against a gone device
    assert report.device_errors == {"adb:A": "adb:A disconnected"}
    assert sum(o.ok for o in report.outcomes) == 6


def test_a_bundle_failure_on_a_live_device_does_not_skip_the_next_bundle() -> None:
    def run(job: Job) -> dict:
        if (job.target, job.variant) == ("ssh:pi@b", "fp32"):
            raise DeviceError("ssh:pi@b cannot run fp32: its backend needs paddlelite")
        return {}

    report = run_fanout(jobs(), run, progress=False, check_alive=lambda t: None)
    assert [(o.job.target, o.job.variant) for o in report.outcomes if not o.ok] == [("ssh:pi@b", "fp32")]
