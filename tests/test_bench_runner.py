"""`bench()` on the real onnx-fp32 bundle with tiny params (synthetic page, fast stopping rule)."""
import json
import time

import pytest

from edgeocr.benchmarks.bench_params import BenchParams
from edgeocr.benchmarks.bench_runner import BenchListener, BenchResult, bench, load_images, synthetic_image
from edgeocr.benchmarks.machine_info import affinity, cpu_model, machine_info
from edgeocr.errors import ConfigError, InputError

TINY = BenchParams(num_runs=2, warmup_runs=1, warmup_min_secs=0.0, min_secs=0.0, max_secs=30.0, num_threads=(1, 2))


class Collect(BenchListener):
    def __init__(self):
        self.events = []

    def on_start(self, params, bundle, machine):
        self.events.append(("start", params))

    def on_record(self, record):
        self.events.append(("record", record.stage, record.threads))


@pytest.fixture(scope="module")
def result_and_events(bundles_dir):
    listener = Collect()
    return bench(bundles_dir / "onnx-fp32", TINY, listener), listener.events


def test_every_stage_and_thread_count_has_full_stats(result_and_events):
    result, _ = result_and_events
    assert [(r.stage, r.threads) for r in result.records] == [
        (s, t) for t in (1, 2) for s in ("det", "cls", "rec", "e2e")]
    for r in result.records:
        s = r.stats
        assert s is not None, r.note
        assert s.count >= 2 and r.warmup_runs >= 1 and r.init_ms > 0 and s.first > 0
        assert s.min <= s.p50 <= s.p90 <= s.p99 <= s.max
        assert s.min <= s.mean <= s.max
    assert result.images[0]["name"] == "synthetic" and result.images[0]["boxes"] == 6


def test_params_are_announced_first_and_stored(result_and_events):
    result, events = result_and_events
    assert events[0] == ("start", TINY) and len(events) == 1 + 8
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == "bench" and BenchParams.from_dict(data["params"]) == TINY
    assert data["machine"]["cpu_cores"] >= 1 and data["machine"]["os"]
    assert data["versions"]["onnxruntime"]
    assert data["bundle"]["variant"] == "onnx-fp32" and data["bundle"]["sizes"]["rec"] > 1_000_000
    assert data["memory"]["peak_rss_mb"] > 50 and "APPROXIMATE" in data["memory"]["caveat"]
    again = BenchResult.from_dict(data)
    assert again.records == result.records


def test_max_secs_stops_a_real_stage(bundles_dir):
    """TFLite MaxDurationWorks on the real det stage: 10^9 runs requested, 0.3 s allowed."""
    p = BenchParams(num_runs=10**9, warmup_runs=0, min_secs=0.0, max_secs=0.3, num_threads=(1,), stages=("det",))
    t0 = time.perf_counter()
    res = bench(bundles_dir / "onnx-fp32", p)
    assert time.perf_counter() - t0 < 30
    (rec,) = res.records
    assert rec.stopped_by == "max_secs" and 1 <= rec.stats.count < 1000
    assert rec.stats.total_s < 0.3 + rec.stats.max / 1000 + 0.05


def test_images_and_refusals(bundles_dir, data_dir, tmp_path):
    imgs = load_images(data_dir / "icdar2015_det" / "ch4_test_images", 2)
    assert [n for n, _ in imgs] == ["img_1.jpg", "img_10.jpg"] and imgs[0][1].shape == (720, 1280, 3)
    assert synthetic_image().shape == (540, 960, 3)
    with pytest.raises(InputError, match="holds no images"):
        load_images(tmp_path, 2)
    with pytest.raises(ConfigError, match="ARM Paddle-Lite"):
        bench(bundles_dir / "lite-arm-fp32", TINY)


def test_machine_info():
    info = machine_info()
    assert cpu_model() and info["cpu_cores"] >= 1 and info["python"]
    assert affinity() is None or affinity()[0].isdigit()
