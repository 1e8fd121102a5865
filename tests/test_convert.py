"""`edgeocr convert` on the real PP-OCRv2 models: bundles, manifests, parity, report, bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import List, Tuple

import numpy as np
import onnx
import pytest

from edgeocr.backends.lite_worker import read_nb_version
from edgeocr.cli import main
from edgeocr.converters import variants as variants_mod
from edgeocr.converters.variants import VARIANTS
from edgeocr.manifest import load_bundle
from edgeocr.stage_params import ClsParams, DetParams, PipelineParams, RecParams, params_to_dict


def run_cli(args: List[str], capsys: pytest.CaptureFixture) -> Tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    lines = [l for l in err.splitlines() if l.startswith("edgeocr: error:")]
    assert code != 0
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_three_bundles_with_complete_manifests(bundles_dir: Path) -> None:
    for variant in ("onnx-fp32", "lite-arm-fp32", "lite-x86-fp32"):
        bundle = load_bundle(bundles_dir / variant)  # verifies sizes + sha256 of every file
        m = bundle.manifest
        assert m.variant == variant and m.schema_version == 1
        assert m.dictionary.entries == 6623 and m.dictionary.use_space_char
        assert m.stages["det"].params == params_to_dict(DetParams())
        assert m.stages["cls"].params == params_to_dict(ClsParams())
        assert m.stages["rec"].params == params_to_dict(RecParams())
        assert m.pipeline == params_to_dict(PipelineParams())
        assert m.stages["rec"].outputs[0].shape == ["batch", "time", 6625]
        assert m.stages["det"].inputs[0].shape == ["batch", 3, "height", "width"]
        assert m.stages["det"].source["sha256"]["inference.pdmodel"].startswith("4211628528fb")
        assert m.tool_versions["paddlepaddle"] == "2.6.2" and m.tool_versions["paddle2onnx"] == "1.3.1" or m.format != "onnx"
        assert m.parity["passed"] is True
    arm = load_bundle(bundles_dir / "lite-arm-fp32").manifest
    assert arm.lite_version == "2.12" and arm.target == "arm" and arm.backend == "paddle-lite"
    assert "rnn" in arm.stages["rec"].ops
    for stage in ("det", "cls", "rec"):
        assert read_nb_version(bundles_dir / "lite-arm-fp32" / f"{stage}.nb") == "v2.12"


def test_onnx_has_named_dynamic_dims_and_checks(bundles_dir: Path) -> None:
    expected = {"det": ["batch", 3, "height", "width"], "rec": ["batch", 3, 32, "width"], "cls": ["batch", 3, 48, "width"]}
    for stage, dims in expected.items():
        model = onnx.load(str(bundles_dir / "onnx-fp32" / f"{stage}.onnx"))
        onnx.checker.check_model(model)
        got = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        assert got == dims


def test_report_quotes_parity_per_stage_and_sizes(bundles_dir: Path) -> None:
    md = (bundles_dir / "report.md").read_text(encoding="utf-8")
    data = json.loads((bundles_dir / "report.json").read_text(encoding="utf-8"))
    by_name = {v["name"]: v for v in data["variants"]}
    for variant in ("onnx-fp32", "lite-x86-fp32"):
        stages = {p["stage"]: p for p in by_name[variant]["parity"]}
        assert set(stages) == {"det", "cls", "rec"}
        assert stages["det"]["max_abs"] <= 1e-4 and stages["det"]["metric"] <= 1e-4
        assert stages["rec"]["metric"] == 1.0 and stages["cls"]["metric"] == 1.0
        assert len(stages["det"]["cases"]) >= 3
        assert len({tuple(c["shape"]) for c in stages["rec"]["cases"]}) >= 3
    assert all(p["skipped"] for p in by_name["lite-arm-fp32"]["parity"])
    assert "| onnx-fp32 | det |" in md and "✓ pass" in md and "not run: arm kernels" in md
    # The PP-OCRv2 system is ~11.6 MB: every bundle is within 10% of that.
    for v in data["variants"]:
        assert 10.5e6 < v["total_size"] < 12.8e6


def test_lite_backend_is_correct_across_changing_input_shapes(bundles_dir: Path, models_dir: Path) -> None:
    """Regression: Paddle-Lite 2.12's x86 predictor aborts when an input shrinks and returns wrong
    rec probabilities (max diff 0.5) when the width grows after its first run."""
    from edgeocr.backends.base import create_backend

    rng = np.random.default_rng(0)
    with create_backend("paddle", models_dir / "ch_PP-OCRv2_rec_infer") as ref, create_backend(
        "paddle-lite", bundles_dir / "lite-x86-fp32" / "rec.nb"
    ) as lite:
        for width in (320, 512, 320, 800, 480):
            x = rng.uniform(-1, 1, (2, 3, 32, width)).astype(np.float32)
            assert np.abs(lite.run_single(x) - ref.run_single(x)).max() < 1e-4
    with create_backend("paddle", models_dir / "ch_PP-OCRv2_det_infer") as ref, create_backend(
        "paddle-lite", bundles_dir / "lite-x86-fp32" / "det.nb"
    ) as lite:
        for hw in ((512, 896), (352, 352), (640, 320)):
            x = rng.uniform(-2, 2, (1, 3) + hw).astype(np.float32)
            assert np.abs(lite.run_single(x) - ref.run_single(x)).max() < 1e-4


def test_registry_every_host_runnable_variant_is_parity_checked(bundles_dir: Path) -> None:
    """Like optimum's test_all_models_tested: every fp32 variant built here ran its parity step."""
    data = json.loads((bundles_dir / "report.json").read_text(encoding="utf-8"))
    built = {v["name"]: v for v in data["variants"]}
    for name in variants_mod.DEFAULT_VARIANTS:
        spec = VARIANTS[name]
        ran = [p for p in built[name]["parity"] if not p["skipped"]]
        assert bool(ran) == spec.runs_on_host, name


# ---- bad input: one line naming the file, non-zero exit, nothing written -------------------------

@pytest.fixture()
def base_args(models_dir: Path, parity_images: Path, tmp_path: Path) -> List[str]:
    return ["convert", "--models", str(models_dir), "--parity-images", str(parity_images), "--variants", "onnx-fp32"]


def _copy_model(models_dir: Path, name: str, dest: Path) -> Path:
    shutil.copytree(models_dir / name, dest / name)
    return dest / name


def test_missing_model_dir(base_args: List[str], tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli(base_args + ["--out", str(out), "--det", str(tmp_path / "nope")], capsys)
    assert_one_line_error(code, err, str(tmp_path / "nope"), "does not exist")
    assert not out.exists()


def test_truncated_pdiparams(base_args: List[str], models_dir: Path, tmp_path: Path, capsys) -> None:
    det = _copy_model(models_dir, "ch_PP-OCRv2_det_infer", tmp_path)
    params = det / "inference.pdiparams"
    params.write_bytes(params.read_bytes()[:100_000])
    out = tmp_path / "out"
    code, _, err = run_cli(base_args + ["--out", str(out), "--det", str(det)], capsys)
    assert_one_line_error(code, err, str(det))
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_det_model_given_as_rec(base_args: List[str], models_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    det = models_dir / "ch_PP-OCRv2_det_infer"
    code, _, err = run_cli(base_args + ["--out", str(out), "--rec", str(det)], capsys)
    assert_one_line_error(code, err, str(det), "--rec")
    assert not out.exists()


def test_non_paddle_file(base_args: List[str], models_dir: Path, tmp_path: Path, capsys) -> None:
    cls = _copy_model(models_dir, "ch_ppocr_mobile_v2.0_cls_infer", tmp_path)
    (cls / "inference.pdmodel").write_text("<html>not a model</html>")
    out = tmp_path / "out"
    code, _, err = run_cli(base_args + ["--out", str(out), "--cls", str(cls)], capsys)
    assert_one_line_error(code, err, "inference.pdmodel", "not a Paddle program")


def test_unwritable_out(base_args: List[str], tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run_cli(base_args + ["--out", str(blocker / "out")], capsys)
    assert_one_line_error(code, err, str(blocker))


def test_existing_out_needs_force(base_args: List[str], tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(base_args + ["--out", str(out)], capsys)
    assert_one_line_error(code, err, str(out), "--force")
    assert (out / "keep.txt").read_text() == "mine"


def test_unknown_variant_lists_valid_ones(base_args: List[str], tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(base_args[:-2] + ["--variants", "onnx-fp64", "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "onnx-fp64", "onnx-fp32", "lite-arm-fp32")


def test_ctrl_c_mid_way_leaves_nothing(
    base_args: List[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("previous run")

    def interrupted(ctx, vdir):  # the user presses Ctrl-C while the det model is exporting
        (vdir / "det.onnx").write_bytes(b"half")
        raise KeyboardInterrupt

    spec = VARIANTS["onnx-fp32"]
    monkeypatch.setitem(VARIANTS, "onnx-fp32", type(spec)(**{**spec.__dict__, "build": interrupted}))
    code, _, err = run_cli(base_args + ["--out", str(out), "--force"], capsys)
    assert code == 130 and "interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp dirs left beside it
    assert [p.name for p in out.iterdir()] == ["old.txt"]  # previous output untouched


# ---- Paddle-Lite versions ---------------------------------------------------------------------

def test_lite_2_10_builds_the_android_demo_version_for_arm(models_dir: Path, parity_images: Path, tmp_path: Path) -> None:
    """PaddleOCR's PP-OCRv2 Android demo ships 2.10 .nb files: the header must say so."""
    from edgeocr.converters.convert import ConvertOptions, convert

    out = tmp_path / "b"
    convert(ConvertOptions(out=out, models=models_dir, parity_images=parity_images,
                           variants=("lite-arm-fp32",), lite_version="2.10"))
    manifest = load_bundle(out / "lite-arm-fp32").manifest
    assert manifest.lite_version == "2.10"
    assert read_nb_version(out / "lite-arm-fp32" / "rec.nb") == "v2.10"
    reference = models_dir / "ch_PP-OCRv2_android_lite_nb" / "det_db.nb"
    assert read_nb_version(reference) == "v2.10"


def test_lite_2_10_x86_names_the_missing_kernel(models_dir: Path, parity_images: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(
        ["convert", "--models", str(models_dir), "--parity-images", str(parity_images), "--variants", "lite-x86-fp32",
         "--host-lite-version", "2.10", "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "matmul_v2", "2.10", "x86")
    assert not (tmp_path / "o").exists()


def test_lite_2_13rc0_x86_passes_parity_with_one_predictor_per_shape(
    models_dir: Path, parity_images: Path, tmp_path: Path
) -> None:
    """2.13rc0's x86 runtime was reported to return det maps of ~1e-8 (PaddleOCR#14383). Measured here,
    its wrong outputs come from reusing a predictor across input shapes; with one predictor per shape
    (LitePredictor) it reproduces Paddle like 2.12 does."""
    from edgeocr.converters.convert import ConvertOptions, convert

    report = convert(ConvertOptions(out=tmp_path / "b", models=models_dir, parity_images=parity_images,
                                    variants=("lite-x86-fp32",), host_lite_version="2.13rc0"))
    (variant,) = report.variants
    assert variant.status == "ok" and variant.lite_version == "2.13rc0"
    assert all(p.passed and p.max_abs < 1e-4 for p in variant.parity)


def test_parity_names_a_broken_runtime_combination(
    models_dir: Path, parity_images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A Lite runtime whose det map collapses to ~1e-8 (the symptom of PaddleOCR#14383) must fail
    parity, name the variant, Paddle-Lite version/target and stage, and leave nothing on disk."""
    from edgeocr.converters import convert as convert_mod

    real_create = convert_mod.create_backend

    def collapsing_backend(name, path, **kw):
        backend = real_create(name, path, **kw)
        if Path(path).name == "det.nb":
            run = backend.run_single
            backend.run_single = lambda x: run(x) * 1e-8  # type: ignore[method-assign]
        return backend

    monkeypatch.setattr(convert_mod, "create_backend", collapsing_backend)
    code, _, err = run_cli(
        ["convert", "--models", str(models_dir), "--parity-images", str(parity_images), "--variants", "lite-x86-fp32",
         "--host-lite-version", "2.13rc0", "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "parity check failed", "lite-x86-fp32", "Paddle-Lite 2.13rc0/x86", "det:")
    assert list(tmp_path.iterdir()) == []


def test_loading_nb_with_another_runtime_version_warns(bundles_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    from edgeocr.backends.paddle_lite_backend import PaddleLiteBackend

    with caplog.at_level("WARNING"):
        backend = PaddleLiteBackend(bundles_dir / "lite-x86-fp32" / "cls.nb", lite_version="2.13rc0")
        backend.close()
    assert any("optimized by Paddle-Lite 2.12" in r.message and "2.13rc0 runtime" in r.message for r in caplog.records)


def test_arm_nb_is_refused_on_an_x86_host(bundles_dir: Path) -> None:
    """An ARM .nb runs on the x86 runtime and returns garbage instead of failing: refuse it clearly."""
    from edgeocr.backends.base import create_backend
    from edgeocr.errors import ConfigError

    with pytest.raises(ConfigError, match="built for arm"):
        create_backend("paddle-lite", bundles_dir / "lite-arm-fp32" / "rec.nb", target="arm")


def test_report_marks_unverified_accuracy() -> None:
    """An ARM quantized bundle whose accuracy could not be measured here says so in report.md."""
    from edgeocr.converters.convert import ConvertReport, VariantReport
    from edgeocr.converters.report import render_markdown

    arm = VariantReport("lite-arm-int8", "paddle-lite", "int8", "weight-only", status="ok", target="arm",
                        lite_version="2.12", sizes={"det.nb": 1_000_000, "cls.nb": 480_000, "rec.nb": 3_670_000,
                                                    "ppocr_keys_v1.txt": 26249, "manifest.json": 9000},
                        accuracy={"passed": None, "note": "UNVERIFIED: ARM kernels cannot run here"})
    report = ConvertReport(out="o", variants=[arm], parity_inputs={"images_dir": "i", "images": ["a.jpg"], "shapes": {}},
                           sources={"det": {"dir": "ch_PP-OCRv2_det_infer"}}, tool_versions={})
    md = render_markdown(report)
    assert "| lite-arm-int8 | paddle-lite | int8 | arm | 2.12 | 1.00 | 0.48 | 3.67 | 0.03 | 5.18 | ok (accuracy UNVERIFIED here" in md
