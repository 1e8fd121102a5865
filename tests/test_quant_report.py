"""benchmarks/results/quantization.md's overview (converters/quant_report.py): speeds are measured as the runtime
runs each bundle, and the verdict names the variants as they are today (int8w = size, int8 = static)."""
import time
from types import SimpleNamespace

import numpy as np

from edgeocr.converters import quant_report
from edgeocr.converters.int8_report import BEGIN, END
from edgeocr.manifest import Manifest

WEIGHT_ONLY_CONFIG = {"session.disable_quant_qdq": "1"}


def test_speed_is_measured_with_the_session_config_each_manifest_asks_for(monkeypatch, tmp_path):
    manifests = {"onnx-fp32": None, "onnx-int8w": {"ort_session_config": WEIGHT_ONLY_CONFIG}, "onnx-int8": {}}
    seen = {}

    class FakeBackend:
        def __init__(self, path, config):
            self.path, self.config = path, config

        def run_single(self, x):
            end = time.perf_counter() + 1e-3  # busy 1 ms: medians must not round to 0 ms
            while time.perf_counter() < end:
                pass
            return x

        def close(self):
            pass

    def fake_load_bundle(path, verify=True):
        manifest = SimpleNamespace(quantization=manifests[path.name])
        manifest.ort_session_config = Manifest.ort_session_config.fget(manifest)  # the real reading of the manifest
        return SimpleNamespace(manifest=manifest, stage_path=lambda stage: path / f"{stage}.onnx")

    def fake_create_backend(name, model_path, threads=None, **options):
        seen[(model_path.parent.name, model_path.stem)] = options.get("session_config")
        return FakeBackend(model_path, options.get("session_config"))

    monkeypatch.setattr("edgeocr.manifest.load_bundle", fake_load_bundle)
    monkeypatch.setattr("edgeocr.backends.base.create_backend", fake_create_backend)
    monkeypatch.setattr(quant_report, "_inputs", lambda data: {s: np.zeros(1) for s in ("det", "cls", "rec")})
    out = quant_report.bench_interleaved({v: tmp_path / v for v in manifests}, threads=1, runs=3, data=tmp_path)
    assert set(out) == set(manifests)  # one row per variant: no second "+config" row
    for stage in ("det", "cls", "rec"):
        assert seen[("onnx-int8w", stage)] == WEIGHT_ONLY_CONFIG
        assert seen[("onnx-fp32", stage)] == {} and seen[("onnx-int8", stage)] == {}


def _variant(mb, passed, limit=50):
    return {"status": "ok", "total_bytes": mb * 1e6, "size_vs_fp32": round(mb / 11.34, 3), "sizes": {},
            "accuracy": {"passed": passed, "gate_limit": limit, "rows": []}, "quantization": {}, "notes": []}


def _data(limit=50):
    variants = {"onnx-fp32": _variant(11.34, None, limit), "onnx-int8w": _variant(3.19, True, limit),
                "onnx-int8": _variant(5.26, False, limit), "onnx-fp16": _variant(6.49, True, limit),
                "onnx-int8-dynamic": {"status": "unsupported", "total_bytes": None, "size_vs_fp32": None,
                                      "accuracy": None, "message": "no"}}
    speed = {"det": {"median_ms": 1.0}, "cls": {"median_ms": 1.0}, "rec": {"median_ms": 1.0}}
    latency = {t: {v: dict(speed, **{"det+rec": {"median_ms": 2.0, "speedup": s}})
                   for v, s in (("onnx-fp32", 1.0), ("onnx-int8w", 1.02), ("onnx-int8", 0.86), ("onnx-fp16", 1.01))}
               for t in ("1", "2")}
    return {"variants": variants, "latency": latency, "created": "now", "machine": {}, "onnxruntime": "1.x",
            "bench": {"runs_per_stage": 20, "method": "m", "inputs": {}}}


def test_verdict_names_weight_only_and_static_int8_from_the_measured_rows():
    text = quant_report.verdict(_data())
    assert ("**onnx-int8w** (int8 weights, float compute: the size choice): inside the accuracy budgets, 3.19 MB "
            "(0.281x fp32); det+rec 1.02x / 1.02x fp32 speed") in text
    assert "**onnx-int8** (static int8: int8 activations and weights, the speed choice on ARM64): OUTSIDE" in text
    assert "rejects them): onnx-int8." in text  # the only row that failed its gate
    assert "int8-static" not in text and "+session" not in text


def test_accuracy_scope_follows_the_gate_limit_of_the_bundles():
    assert "on the first 50 images of each det set and the first 500 crops" in quant_report.markdown(_data(50))
    assert "rec accuracy on the full test sets. Drop" in quant_report.markdown(_data(None))


def test_rewriting_the_overview_keeps_the_static_int8_section(tmp_path):
    target = tmp_path / "quantization.md"
    target.write_text("# old overview\n\n" + BEGIN + "\nSTATIC SECTION\n" + END + "\n", encoding="utf-8")
    quant_report.write_markdown(target, _data())
    text = target.read_text(encoding="utf-8")
    assert "# old overview" not in text and text.startswith("# Quantized variants")
    assert text.count(BEGIN) == 1 and "STATIC SECTION" in text.split("## Verdict")[1]
