"""`evaluate()` on the real onnx-fp32 bundle and real developer data (small --limit for CI time)."""
import json

import pytest

from edgeocr.benchmarks.datasets import load_dataset
from edgeocr.benchmarks.eval_runner import EvalResult, evaluate, score_result
from edgeocr.benchmarks.text_norm import TextNorm
from edgeocr.errors import ConfigError, DatasetError


@pytest.fixture(scope="module")
def ocr(bundles_dir):
    from edgeocr import OCR

    with OCR(bundles_dir / "onnx-fp32") as engine:
        yield engine


@pytest.fixture(scope="module")
def det_result(ocr, data_dir):
    return evaluate(ocr, data_dir / "icdar2015_det", "det", limit=6, progress=False)


def test_det_result_is_consistent_and_serializable(det_result):
    m = det_result.metrics
    assert m["images"] == 6 and det_result.dataset["evaluated"] == 6
    assert m["precision"] == pytest.approx(m["matched"] / m["det_care"])
    assert m["recall"] == pytest.approx(m["matched"] / m["gt_care"])
    assert det_result.main_metric == m["hmean"]
    # img_1..img_6 hold 23 care words (`grep -vc ',###$' gt_img_{1..6}.txt`); PP-OCRv2 finds some of them.
    assert m["gt_care"] == 23 and 0 < m["matched"] <= m["gt_care"]
    data = json.loads(json.dumps(det_result.to_dict()))
    assert data["kind"] == "eval" and data["bundle"]["variant"] == "onnx-fp32"
    assert data["machine"]["cpu_cores"] >= 1 and "onnxruntime" in data["versions"]
    assert data["bundle"]["sizes"]["det"] > 1_000_000
    assert [s["image"] for s in data["samples"]][:2] == ["ch4_test_images/img_1.jpg", "ch4_test_images/img_2.jpg"]
    missed = [f for f in det_result.failures if f["got"] == "<missed>"]
    assert len(missed) == m["gt_care"] - m["matched"]


def test_predictions_only_then_host_scoring_gives_the_same_metrics(ocr, data_dir, det_result):
    """The device path (issue 6): predict on the board, score on the host."""
    raw = evaluate(ocr, data_dir / "icdar2015_det", "det", limit=6, progress=False, predictions_only=True)
    assert raw.metrics is None
    with pytest.raises(ConfigError):
        raw.main_metric
    rescored = score_result(json.loads(json.dumps(raw.to_dict())), data_dir / "icdar2015_det")
    assert rescored.metrics == det_result.metrics


def test_rec_accuracy_and_failures(ocr, data_dir):
    res = evaluate(ocr, data_dir / "icdar2015_rec", None, limit=15, progress=False)
    assert res.task == "rec"
    m = res.metrics
    assert m["total"] == 15 and m["acc"] == pytest.approx(m["correct"] / 15)
    assert len(res.failures) == 15 - m["correct"]
    labels = {s.image.name: s.label for s in load_dataset(data_dir / "icdar2015_rec").samples}
    for f in res.failures:
        assert TextNorm()(f["got"]) != TextNorm()(labels[f["image"].split("/")[1]])
    assert set(res.texts) == {r["image"] for r in res.samples}
    # word_1.png reads "JOINT" (golden: guards rec preprocessing of single crops).
    assert res.texts["test/word_1.png"] == ["JOINT"]


def test_e2e_hits_are_a_subset_of_det_matches(ocr, data_dir):
    res = evaluate(ocr, data_dir / "icdar2015_det", "e2e", limit=3, progress=False)
    m = res.metrics
    assert m["hits"] <= m["det"]["matched"]
    assert m["gt_care"] == m["det"]["gt_care"]
    assert all(len(r["boxes"]) == len(r["texts"]) for r in res.samples)


def test_task_must_fit_the_dataset(ocr, data_dir):
    with pytest.raises(ConfigError, match="valid tasks for it: det"):
        evaluate(ocr, data_dir / "msra_td500", "e2e", limit=1, progress=False)
    with pytest.raises(ConfigError, match="valid tasks"):
        evaluate(ocr, data_dir / "iiit5k_rec", "det", limit=1, progress=False)
    with pytest.raises(DatasetError):
        evaluate(ocr, data_dir / "iiit5k_rec", "rec", limit=0, progress=False)


def test_arm_lite_bundle_is_refused_on_x86(bundles_dir, data_dir):
    # The x86 Paddle-Lite runtime runs an ARM .nb and returns garbage (scores ~1e25): refuse it.
    with pytest.raises(ConfigError, match="ARM Paddle-Lite"):
        evaluate(bundles_dir / "lite-arm-fp32", data_dir / "icdar2015_rec", "rec", limit=1, progress=False)


def test_eval_result_roundtrip(det_result):
    again = EvalResult.from_dict(det_result.to_dict())
    assert again.metrics == det_result.metrics and again.samples == det_result.samples
