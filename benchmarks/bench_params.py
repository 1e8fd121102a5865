"""Every ``edgeocr bench`` default in one place, with TFLite ``benchmark_model``'s flag names.

TFLite's ``DefaultParams()``: num_runs 50, min_secs 1.0, max_secs 150, run_delay -1 (none),
warmup_runs 1, warmup_min_secs 0.5. We keep those meanings; ``max_secs`` is lower (20 s) because
one run here is a whole OCR stage on a photo, not one small model call, and a bench covers 4 stages
x several thread counts. The stopping rule (:func:`keep_running`): run at least ``num_runs`` times
AND at least ``min_secs``, but stop once ``max_secs`` have passed (at least one run always
happens, so every stage has a latency).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Optional, Tuple

from edgeocr.errors import ConfigError

STAGES = ("det", "cls", "rec", "e2e")


@dataclass(frozen=True)
class BenchParams:
    """Benchmark parameters. Seconds are wall-clock; thread counts are per inference session."""

    num_runs: int = 50  # --num-runs: minimum timed runs per stage and thread count
    warmup_runs: int = 1  # --warmup-runs: untimed runs after the cold (first) run
    warmup_min_secs: float = 0.5  # --warmup-min-secs: keep warming up at least this long
    min_secs: float = 1.0  # --min-secs: minimum timed duration per stage and thread count
    max_secs: float = 20.0  # --max-secs: stop timing a stage after this long, whatever num_runs says
    run_delay: float = 0.0  # --run-delay: seconds to sleep between runs (thermal relief on phones)
    num_threads: Tuple[int, ...] = (1, 2)  # --num-threads: comma list, each measured separately
    stages: Tuple[str, ...] = STAGES  # --stages: det (incl. pre/post), cls, rec, e2e (whole pipeline)
    images: Optional[str] = None  # --images: folder or file; None = one synthetic text image
    max_images: int = 8  # --max-images: runs cycle through at most this many images
    backend: Optional[str] = None  # --backend: override the bundle's backend

    def __post_init__(self) -> None:
        if self.num_runs < 1:
            raise ConfigError(f"--num-runs {self.num_runs} must be >= 1")
        if self.warmup_runs < 0:
            raise ConfigError(f"--warmup-runs {self.warmup_runs} must be >= 0")
        for name in ("warmup_min_secs", "min_secs", "max_secs", "run_delay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} {getattr(self, name)} must be >= 0")
        if self.max_secs < self.min_secs:
            raise ConfigError(f"--max-secs {self.max_secs} is below --min-secs {self.min_secs}; "
                              "max_secs caps the run, so it must be >= min_secs")
        if not self.num_threads or any(t < 1 for t in self.num_threads):
            raise ConfigError(f"--num-threads {','.join(map(str, self.num_threads))}: each must be >= 1")
        bad = [s for s in self.stages if s not in STAGES]
        if bad or not self.stages:
            raise ConfigError(f"--stages {','.join(self.stages)}: valid stages are {', '.join(STAGES)}")
        if self.max_images < 1:
            raise ConfigError(f"--max-images {self.max_images} must be >= 1")

    def to_dict(self) -> Dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "BenchParams":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown bench parameter(s) {unknown}; valid: {sorted(names)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def describe(self) -> str:
        """One line for the top of every report (TFLite prints its params first too)."""
        return (f"num_runs={self.num_runs} warmup_runs={self.warmup_runs} warmup_min_secs={self.warmup_min_secs} "
                f"min_secs={self.min_secs} max_secs={self.max_secs} run_delay={self.run_delay} "
                f"num_threads={','.join(map(str, self.num_threads))} stages={','.join(self.stages)} "
                f"images={self.images or 'synthetic'} max_images={self.max_images}"
                + (f" backend={self.backend}" if self.backend else ""))


def keep_running(count: int, elapsed: float, params: BenchParams) -> bool:
    """TFLite's rule: continue while (count < num_runs or elapsed < min_secs) and elapsed < max_secs;
    the first run always happens."""
    if count == 0:
        return True
    if elapsed >= params.max_secs:
        return False
    return count < params.num_runs or elapsed < params.min_secs


def keep_warming(count: int, elapsed: float, params: BenchParams) -> bool:
    """Warmup: at least ``warmup_runs`` runs and ``warmup_min_secs``, capped by ``max_secs``
    (with ``warmup_runs=0`` there is no warmup at all)."""
    if params.warmup_runs == 0 or elapsed >= params.max_secs:
        return False
    return count < params.warmup_runs or elapsed < params.warmup_min_secs
