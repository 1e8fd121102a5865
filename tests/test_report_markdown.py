"""Report writers on hand-made result dicts (no models): side-by-side tables, ratios, explanations, verdicts."""
import pytest

from edgeocr.benchmarks.report_collect import collect, identical_text_share, variant_label
from edgeocr.benchmarks.report_markdown import render_markdown


def eval_result(variant, dataset, task, value, texts=None, device=None, total=11_000_000):
    key = "acc" if task == "rec" else "hmean"
    metrics = {key: value, "precision": value, "recall": value, "norm_edit_dis": 0.9,
               "normalization": "spaces removed, case-sensitive"}
    r = {"kind": "eval", "task": task, "dataset": {"name": dataset, "samples": 100, "evaluated": 50},
         "bundle": {"variant": variant, "sizes": {"det": 2_000_000, "cls": 500_000, "rec": total - 2_500_000,
                                                  "dictionary": 0}, "total_bytes": total},
         "metrics": metrics, "texts": texts or {}}
    if device:
        r["device"] = device
    return r


def bench_result(variant, e2e_ms, det_ms=100.0):
    recs = []
    for t in (1, 2):
        for stage, ms in (("det", det_ms), ("cls", 5.0), ("rec", 50.0), ("e2e", e2e_ms)):
            ms_t = ms / t
            recs.append({"stage": stage, "threads": t, "init_ms": 20.0, "warmup_runs": 1, "stopped_by": "num_runs+min_secs",
                         "note": "", "stats": {"count": 20, "first": ms_t * 2, "min": ms_t * 0.9, "max": ms_t * 1.2,
                                               "mean": ms_t, "std": 1.0, "p50": ms_t, "p90": ms_t * 1.1,
                                               "p99": ms_t * 1.15, "total_s": 1.0}})
    return {"kind": "bench", "bundle": {"variant": variant, "sizes": {"det": 1, "cls": 1, "rec": 1, "dictionary": 1},
                                        "total_bytes": 4},
            "params": {"num_runs": 20, "num_threads": [1, 2]}, "records": recs,
            "memory": {"peak_rss_mb": 300.0, "caveat": "process-wide, APPROXIMATE"},
            "machine": {"cpu_model": "Test CPU", "cpu_cores": 2, "os": "Linux"}, "versions": {"numpy": "1.26.4"}}


def test_variants_side_by_side_with_ratios_explanations_and_verdicts():
    results = [
        eval_result("onnx-fp32", "icdar2015_det", "det", 0.43), eval_result("onnx-int8", "icdar2015_det", "det", 0.428),
        eval_result("onnx-fp32", "iiit5k_rec", "rec", 0.80), eval_result("onnx-int8", "iiit5k_rec", "rec", 0.795),
        eval_result("lite-x86-int8", "iiit5k_rec", "rec", 0.70),
        bench_result("onnx-fp32", 600.0), bench_result("onnx-int8", 300.0), bench_result("lite-x86-int8", 900.0),
        {"kind": "skipped", "bundle": {"variant": "lite-arm-fp32"}, "reason": "ARM bundle on an x86 host"},
    ]
    md = render_markdown(collect(results))
    # Accuracy: one row per dataset/task, one column per variant, reference first, drop in points.
    assert "| dataset | task | samples | metric | onnx-fp32 | onnx-int8 | lite-x86-int8 |" in md
    assert "| icdar2015_det | det | 50 of 100 | H-mean | 43.00 | 42.80 | – | -0.20 | – |" in md
    # Latency: mean (p90) per variant and the ratio to the reference.
    assert "| e2e | 1 | 600 (660) | 300 (330) | 900 (990) | 0.50× | 1.50× |" in md
    # Every table is followed by a one-line explanation in italics.
    for heading in ("## Accuracy", "## Latency per stage", "## Model size", "## Memory"):
        section = md.split(heading, 1)[1]
        table_end = section.index("\n\n", section.index("|"))
        assert section[table_end + 2] == "*", heading
    # Verdicts in words.
    assert "- **onnx-int8** should work well: accuracy within budget (worst drop +0.50 points) and faster" in md
    assert "- **lite-x86-int8** is not recommended: it loses more accuracy than allowed (iiit5k_rec rec −10.00 points" in md
    assert "- **lite-arm-fp32**: not measured here — ARM bundle on an x86 host." in md
    assert md.index("onnx-fp32** (reference)") < md.index("## Accuracy")
    assert "Machine: Test CPU, 2 logical cores" in md


def test_slower_variant_and_host_vs_device_texts():
    host = eval_result("onnx-fp32", "icdar2015_rec", "rec", 0.6, texts={"a": ["X"], "b": ["Y"], "c": ["Z"], "d": ["W"]})
    dev = eval_result("onnx-fp32", "icdar2015_rec", "rec", 0.6, texts={"a": ["X"], "b": ["Y"], "c": ["Z"], "d": ["?"]},
                      device={"target": "adb:emu", "emulated": True})
    c = collect([host, dev, bench_result("onnx-fp32", 100.0), bench_result("lite-x86-fp32", 200.0)])
    assert variant_label(dev) == "onnx-fp32@adb:emu (emulated)"
    assert identical_text_share(c.accuracy[1], c.accuracy[0]) == pytest.approx(0.75)
    md = render_markdown(c)
    assert "## Host vs device" in md and "| icdar2015_rec | rec | onnx-fp32 | onnx-fp32@adb:emu (emulated) | 75.0 |" in md
    assert "- **lite-x86-fp32** is slower on this host (0.50× the reference speed at 1 thread" in md


def test_emulated_device_timings_get_no_speed_ratio():
    """Emulated timings (qemu, ~200x slower) must never be presented as performance."""
    host = bench_result("onnx-fp32", 5.0)
    dev = bench_result("onnx-fp32", 1766.0)
    dev["device"] = {"target": "adb:emu", "emulated": True}
    md = render_markdown(collect([host, dev]))
    assert "emulated: no ratio" in md
    assert "353.20×" not in md and "0.00× the reference speed" not in md
