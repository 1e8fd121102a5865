"""Run jobs on several devices at once: one worker per device, strictly one job at a time per device.

Why this shape (issue 12):

* Two jobs on one phone measure nothing (they share cores, caches and the thermal budget), so each
  device gets exactly one worker thread that runs its jobs one after the other.
* Different devices do not disturb each other, so their workers run in parallel.
* The host is a measuring device too (``host`` = in-process, ``local`` = through ``sh``). Its jobs
  run first, alone: no device worker is pushing files, pulling results or (for an emulated
  device) burning host cores while the host is being measured.
* A device that fails, goes offline or times out costs only its own cells: the failure is recorded
  for that job; if the device is no longer reachable its remaining jobs are not tried (each would
  wait for a timeout) and are recorded as missing with the reason. Other devices go on.

The scheduler knows nothing about bench or eval: it calls ``run(job)`` and keeps the returned dict.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..errors import EdgeOCRError

log = logging.getLogger(__name__)

HOST = "host"  # the in-process host (no --device)
HOST_TARGETS = (HOST, "local")  # targets whose jobs measure this machine


@dataclass
class Job:
    """One cell of the matrix: a bundle on a target."""

    target: str
    bundle: Path
    variant: str


@dataclass
class Outcome:
    """What one job produced: the result dict, or why there is none."""

    job: Job
    result: Optional[Dict[str, Any]] = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class FanoutReport:
    """All outcomes in job order, plus per-target errors that stopped a device."""

    outcomes: List[Outcome]
    device_errors: Dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> List[Outcome]:
        return [o for o in self.outcomes if not o.ok]


def _reachable(target: str) -> Optional[str]:
    """None if ``target`` still answers, else why not (host targets always answer)."""
    if target in HOST_TARGETS:
        return None
    from .targets import open_target

    try:
        t = open_target(target)
        t.check()
        t.close()
    except EdgeOCRError as exc:
        return str(exc)
    return None


def run_fanout(jobs: Sequence[Job], run: Callable[[Job], Dict[str, Any]], progress: bool = True,
               check_alive: Callable[[str], Optional[str]] = _reachable) -> FanoutReport:
    """Run every job with ``run``; host jobs first (alone), then one parallel worker per device.

    ``run`` raises :class:`EdgeOCRError` for a failed job (anything else is a bug and propagates
    after the other workers finished). Returns outcomes in the order of ``jobs``.
    """
    from tqdm import tqdm

    by_target: Dict[str, List[int]] = {}
    for i, job in enumerate(jobs):
        by_target.setdefault(job.target, []).append(i)
    outcomes: List[Optional[Outcome]] = [None] * len(jobs)
    device_errors: Dict[str, str] = {}
    lock = threading.Lock()
    order = list(by_target)
    bars = {t: tqdm(total=len(by_target[t]), desc=t[:40], unit="job", position=k, leave=True,
                    disable=not progress or len(jobs) < 2) for k, t in enumerate(order)}

    def worker(target: str) -> None:
        dead: Optional[str] = None
        for i in by_target[target]:
            job = jobs[i]
            if dead is not None:
                out = Outcome(job, error=f"not run: {target} became unavailable earlier ({dead})")
            else:
                bars[target].set_postfix_str(job.variant)
                try:
                    out = Outcome(job, result=run(job))
                except EdgeOCRError as exc:
                    log.warning("%s on %s failed: %s", job.variant, target, exc)
                    out = Outcome(job, error=str(exc))
                    dead = check_alive(target)
                    if dead is not None:
                        device_errors[target] = dead
            with lock:
                outcomes[i] = out
            bars[target].update(1)

    try:
        for target in [t for t in order if t in HOST_TARGETS]:
            worker(target)  # alone: nothing else runs while the host is measured
        remote = [t for t in order if t not in HOST_TARGETS]
        if remote:
            with ThreadPoolExecutor(max_workers=len(remote), thread_name_prefix="edgeocr-device") as pool:
                futures = [pool.submit(worker, t) for t in remote]
                for f in futures:
                    f.result()  # re-raise programming errors (EdgeOCRErrors were recorded per job)
    finally:
        for bar in bars.values():
            bar.close()
    return FanoutReport([o for o in outcomes if o is not None], device_errors)
