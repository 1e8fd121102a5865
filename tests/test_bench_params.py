"""BenchParams validation and the TFLite stopping rule (with a fake clock: no sleeping)."""
import pytest

from edgeocr.benchmarks.bench_params import BenchParams, keep_running, keep_warming
from edgeocr.benchmarks.bench_runner import latency_stats, time_loop
from edgeocr.errors import ConfigError


class FakeClock:
    """Each call to a timed function advances time by `step` seconds."""

    def __init__(self, step):
        self.t, self.step, self.calls = 0.0, step, 0

    def __call__(self):
        return self.t

    def work(self, i):
        self.calls += 1
        self.t += self.step


def test_defaults_are_tflite_names_and_values():
    p = BenchParams()
    assert (p.num_runs, p.warmup_runs, p.min_secs, p.warmup_min_secs) == (50, 1, 1.0, 0.5)
    assert p.num_threads == (1, 2) and p.stages == ("det", "cls", "rec", "e2e")
    assert BenchParams.from_dict(p.to_dict()) == p
    assert "num_runs=50" in p.describe() and "images=synthetic" in p.describe()


@pytest.mark.parametrize("kwargs, message", [
    ({"num_runs": 0}, "--num-runs"), ({"min_secs": -1}, "--min-secs"), ({"max_secs": 0.5}, "--max-secs 0.5 is below"),
    ({"num_threads": (0,)}, "--num-threads"), ({"stages": ("det", "foo")}, "valid stages"),
    ({"warmup_runs": -1}, "--warmup-runs"), ({"max_images": 0}, "--max-images"),
])
def test_invalid_params_are_rejected_before_work(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        BenchParams(**kwargs)
    with pytest.raises(ConfigError, match="unknown bench parameter"):
        BenchParams.from_dict({"num_run": 3})


def test_max_duration_works_with_absurd_num_runs():
    """TFLite MaxDurationWorks: a billion runs requested, max_secs stops the loop."""
    p = BenchParams(num_runs=10**9, min_secs=0.0, max_secs=1.0, warmup_runs=0)
    clock = FakeClock(step=0.125)  # exact in binary floating point
    runs, warm, stopped = time_loop(clock.work, p, n_inputs=3, clock=clock)
    assert warm == 0
    assert len(runs) == 8 and stopped == "max_secs"


def test_min_secs_extends_past_num_runs():
    p = BenchParams(num_runs=2, min_secs=1.0, max_secs=5.0, warmup_runs=0)
    clock = FakeClock(step=0.25)
    runs, _, stopped = time_loop(clock.work, p, n_inputs=1, clock=clock)
    assert len(runs) == 4 and stopped == "num_runs+min_secs"


def test_num_runs_reached_before_min_secs_is_not_enough_and_vice_versa():
    p = BenchParams(num_runs=5, min_secs=0.1, max_secs=10.0, warmup_runs=0)
    clock = FakeClock(step=0.5)  # min_secs passes after one run, but 5 runs are required
    runs, _, _ = time_loop(clock.work, p, n_inputs=1, clock=clock)
    assert len(runs) == 5


def test_at_least_one_run_even_when_max_secs_is_zero():
    p = BenchParams(num_runs=3, min_secs=0.0, max_secs=0.0, warmup_runs=0)
    clock = FakeClock(step=1.0)
    runs, _, stopped = time_loop(clock.work, p, n_inputs=1, clock=clock)
    assert len(runs) == 1 and stopped == "max_secs"


def test_warmup_runs_and_min_secs():
    p = BenchParams(num_runs=1, min_secs=0.0, warmup_runs=2, warmup_min_secs=1.0)
    clock = FakeClock(step=0.25)
    _, warm, _ = time_loop(clock.work, p, n_inputs=1, clock=clock)
    assert warm == 4  # 2 runs are not enough: warmup lasts warmup_min_secs
    assert not keep_warming(0, 0.0, BenchParams(warmup_runs=0))
    assert keep_running(0, 99.0, p)  # the first run always happens


def test_latency_stats_values():
    s = latency_stats([0.001, 0.002, 0.003, 0.004], first_s=0.010)
    assert (s.count, s.first, s.min, s.max) == (4, 10.0, 1.0, 4.0)
    assert s.mean == pytest.approx(2.5) and s.std == pytest.approx(1.118, abs=1e-3)
    assert s.p50 == pytest.approx(2.5) and s.p90 == pytest.approx(3.7) and s.p99 == pytest.approx(3.97)
    assert "count=4 first=10.00 min=1.00 max=4.00 avg=2.50" in s.line()
    with pytest.raises(ValueError):
        latency_stats([], 0.0)
