"""One real gated quantization end to end, and the gate refusing a broken variant (issue 5).

Real PP-OCRv2 models (the session's onnx-fp32 bundle from `edgeocr convert`), real calibration images, real
labelled developer data scored by ``edgeocr eval``'s library; kept fast with a small ``gate_limit``.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import onnx
import pytest
from onnx import helper, numpy_helper
import numpy as np

from edgeocr.converters.accuracy_gate import (
    GATE_DATASETS,
    MIN_CROPS,
    GateBudget,
    assemble_bundle,
    crop_limit,
    enforce,
    run_gate,
)
from edgeocr.converters.quant_builders import build_onnx_int8
from edgeocr.converters.source_models import resolve_sources
from edgeocr.converters.variants import VARIANTS, BuildContext
from edgeocr.errors import AccuracyGateError

GATE_LIMIT = 3  # det images per gate dataset: enough to run every code path, fast on 2 shared cores
MIN_CROPS_TEST = 100  # rec/cls crops per set (the real floor is MIN_CROPS; 100 keeps one crop = the 1-pt budget)


@pytest.fixture(scope="module")
def fp32_bundle(bundles_dir: Path) -> Path:
    return bundles_dir / "onnx-fp32"


@pytest.fixture(scope="module")
def int8_build(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, data_dir: Path, fp32_bundle: Path):
    work = tmp_path_factory.mktemp("work")
    out = tmp_path_factory.mktemp("onnx-int8")
    ctx = BuildContext(
        sources=resolve_sources(models_dir), lite_version="2.12", host_lite_version="2.12", work_dir=work,
        built={"onnx-fp32": fp32_bundle},
        options={"gate_limit": GATE_LIMIT, "gate_min_crops": MIN_CROPS_TEST, "gate_data": data_dir,
                 "calibration_data": data_dir},
    )
    return build_onnx_int8(ctx, out), out


def test_onnx_int8_is_built_small_quantized_and_gated(int8_build, fp32_bundle: Path):
    build, out = int8_build
    fp32_size = sum((fp32_bundle / f"{s}.onnx").stat().st_size for s in ("det", "cls", "rec"))
    int8_size = sum(e.path.stat().st_size for e in build.exports.values())
    assert {s: e.path for s, e in build.exports.items()} == {s: out / f"{s}.onnx" for s in ("det", "cls", "rec")}
    # int8 weights: the three models shrink to well under half (the recipe keeps a few small convs float)
    assert int8_size < 0.45 * fp32_size, (int8_size, fp32_size)
    for stage, export in build.exports.items():
        ops = set(export.ops)
        assert "DequantizeLinear" in ops, f"{stage} has no int8 weights: {sorted(ops)}"
        onnx.checker.check_model(str(export.path))
    # manifest extras: config per stage, calibration digest, tool versions, gate outcome
    q = build.quantization
    assert set(q["recipe"]) == {"det", "cls", "rec"}
    assert all(q["recipe"][s]["config"]["mode"] == "weight_only" for s in q["recipe"])  # the measured best
    assert q["recipe"]["rec"]["config"]["float_first_convs"] == 10
    assert q["calibration"] is None  # weight-only needs no calibration data (static variants record its digest)
    assert {"onnxruntime", "onnx"} <= set(build.tool_versions)
    acc = build.accuracy
    datasets = [r["dataset"] for r in acc["rows"]]
    assert datasets == list(GATE_DATASETS["det"][1]) + ["icdar2015_rec+rot180"] + list(GATE_DATASETS["rec"][1])
    assert acc["gate_limit"] == GATE_LIMIT and acc["passed"] is True and acc["allowed_accuracy_drop"] is False
    for row in acc["rows"]:
        assert row["drop_pts"] <= row["budget_pts"]
    # det scores --gate-limit images; rec at least MIN_CROPS crops (cls: crops and their 180-degree turns)
    assert [r["samples"] for r in acc["rows"]] == [GATE_LIMIT, GATE_LIMIT, 2 * MIN_CROPS_TEST, MIN_CROPS_TEST,
                                                   MIN_CROPS_TEST]
    json.dumps(acc)  # goes into manifest.json as-is


def _broken_det(fp32_det: Path, dst: Path) -> Path:
    """The fp32 det with its logits multiplied by 0: the probability map is 0.5 everywhere."""
    model = onnx.load(str(fp32_det))
    sig = next(n for n in model.graph.node if n.op_type == "Sigmoid")
    model.graph.initializer.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero_gain"))
    mul = helper.make_node("Mul", [sig.input[0], "zero_gain"], ["logits_zeroed"], name="break_logits")
    sig.input[0] = "logits_zeroed"
    nodes = list(model.graph.node)
    nodes.insert(nodes.index(sig), mul)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(dst))
    return dst


def test_gate_rejects_a_variant_over_budget(tmp_path: Path, fp32_bundle: Path, data_dir: Path, caplog):
    broken = _broken_det(fp32_bundle / "det.onnx", tmp_path / "det.onnx")
    candidate = assemble_bundle(fp32_bundle, {"det": broken}, tmp_path / "candidate")
    result = run_gate(candidate, fp32_bundle, ["det"], data_dir, limit=GATE_LIMIT, budget=GateBudget(), variant="broken")
    assert not result.passed
    assert all(r.drop_pts > r.budget_pts for r in result.rows)
    with pytest.raises(AccuracyGateError, match="broken loses .* points of hmean .* not written") as info:
        enforce(result, allow_accuracy_drop=False)
    assert info.value.accuracy["passed"] is False  # the report shows the table even when rejected
    with caplog.at_level(logging.WARNING):
        kept = enforce(result, allow_accuracy_drop=True)
    assert kept.to_dict()["allowed_accuracy_drop"] is True and "OVER BUDGET (kept" in kept.table()


def test_rec_gate_resolution_is_finer_than_its_budget():
    # one flipped crop must move rec accuracy by less than the 1-point budget
    assert 100.0 / crop_limit(3) < GateBudget().rec_drop_pts
    assert crop_limit(None) is None and crop_limit(2 * MIN_CROPS) == 2 * MIN_CROPS


def test_quantized_variants_are_registered_with_parents():
    for name in ("onnx-int8", "onnx-int8-static", "onnx-int8-dynamic", "onnx-fp16", "ort-fp32", "ort-int8", "onnx-slim",
                 "lite-arm-int8", "lite-arm-int16", "lite-x86-int8", "lite-x86-int16", "lite-arm-slim", "lite-x86-slim"):
        spec = VARIANTS[name]
        assert spec.parent in VARIANTS, name
        assert spec.runs_on_host == ("arm" not in name), name


def test_gate_data_must_be_given(monkeypatch: pytest.MonkeyPatch):
    """An installed edgeocr has no ../shared beside it: the data folder comes from an option or EDGEOCR_DATA."""
    from edgeocr.converters.data_paths import resolve_data_root
    from edgeocr.errors import ConfigError

    monkeypatch.delenv("EDGEOCR_DATA", raising=False)
    with pytest.raises(ConfigError, match="--gate-data DIR or set EDGEOCR_DATA"):
        resolve_data_root(None, "--gate-data")
