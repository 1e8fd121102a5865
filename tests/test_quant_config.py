"""QuantConfig validation and presets (issue 5): invalid combinations fail before any work, naming both
values and the valid choices; presets are what their comments promise; round trip through the manifest."""
from __future__ import annotations

import dataclasses

import pytest

from edgeocr.converters.quant_builders import INT8W_RECIPE, apply_overrides
from edgeocr.converters.quant_config import (
    CalibrationMethod,
    QuantConfig,
    QuantDType,
    QuantFormat,
    QuantMode,
)
from edgeocr.errors import ConfigError


def test_arm64_static_is_qdq_s8s8_per_channel():
    cfg = QuantConfig.arm64_static()
    assert (cfg.mode, cfg.format, cfg.activation_type, cfg.weight_type, cfg.per_channel) == (
        QuantMode.STATIC, QuantFormat.QDQ, QuantDType.INT8, QuantDType.INT8, True)
    assert str(cfg) == "QuantConfig(static QDQ S8S8 per-channel MinMax n=64)"


def test_presets_and_str_are_one_line():
    dyn = QuantConfig.arm64_dynamic()
    assert (dyn.mode, dyn.format, dyn.activation_type) == (QuantMode.DYNAMIC, QuantFormat.QOPERATOR, QuantDType.UINT8)
    mixed = QuantConfig.arm64_mixed(calibration_samples=8)
    assert mixed.dynamic_op_types == ("LSTM",) and mixed.float_last_ops == 1
    wo = QuantConfig.weight_only(float_first_convs=10)
    assert str(wo) == "QuantConfig(weight_only int8-weights per-channel float=first-10-convs)"
    for cfg in (dyn, mixed, wo, QuantConfig(calibration_method="Percentile", percentile=99.99)):
        assert "\n" not in str(cfg) and str(cfg).startswith("QuantConfig(")
    assert "Percentile(99.99)" in str(QuantConfig(calibration_method="Percentile", percentile=99.99))


def test_frozen_and_round_trip():
    cfg = QuantConfig.arm64_mixed(calibration_samples=32, nodes_to_exclude=["Conv.0"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.per_channel = False  # type: ignore[misc]
    data = cfg.to_dict()
    assert data["mode"] == "static" and data["calibration_method"] == "MinMax" and data["nodes_to_exclude"] == ["Conv.0"]
    assert QuantConfig.from_dict(data) == cfg


def test_strings_are_coerced_case_insensitively():
    cfg = QuantConfig(format="qdq", activation_type="INT8", calibration_method="entropy")
    assert cfg.format is QuantFormat.QDQ and cfg.calibration_method is CalibrationMethod.ENTROPY


@pytest.mark.parametrize(
    "kwargs, must_name",
    [
        # dynamic quantization has no QDQ form
        (dict(mode="dynamic", format="QDQ", activation_type="uint8"), ["mode=dynamic", "format=QDQ", "QOperator"]),
        # DynamicQuantizeLinear is uint8 only
        (dict(mode="dynamic", format="QOperator", activation_type="int8"), ["mode=dynamic", "activation_type=int8", "uint8"]),
        # ORT runs QOperator S8S8 on slow reference kernels
        (dict(format="QOperator", activation_type="int8"), ["format=QOperator", "activation_type=int8", "valid"]),
        (dict(mode="weight_only", weight_type="uint8"), ["mode=weight_only", "weight_type=uint8", "valid"]),
        (dict(calibration_method="KL"), ["calibration_method='KL'", "MinMax", "Entropy", "Percentile"]),
        (dict(mode="int4"), ["mode='int4'", "static", "dynamic", "weight_only"]),
        (dict(calibration_samples=0), ["calibration_samples=0", ">= 1"]),
        (dict(dynamic_op_types=("Softmax",)), ["Softmax", "LSTM"]),
        (dict(dynamic_op_types=("LSTM",), op_types_to_exclude=("LSTM",)), ["dynamic_op_types", "op_types_to_exclude"]),
        (dict(percentile=50.0), ["percentile=50.0", "(90, 100]"]),
        (dict(float_first_convs=-1), ["float_first_convs=-1"]),
    ],
)
def test_invalid_combinations_name_both_values_and_valid_choices(kwargs, must_name):
    with pytest.raises(ConfigError) as info:
        QuantConfig(**kwargs)
    message = str(info.value)
    for fragment in must_name:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ConfigError, match=r"unknown QuantConfig field\(s\) \['extra_options'\]; valid fields"):
        QuantConfig.from_dict({"extra_options": {"ActivationSymmetric": True}})


def test_recipe_overrides_touch_static_stages_only():
    recipe = apply_overrides(INT8W_RECIPE, "Entropy", {"det": 4})
    for stage, cfg in recipe.items():
        if cfg.mode is QuantMode.STATIC:
            assert cfg.calibration_method is CalibrationMethod.ENTROPY
        else:
            assert cfg == INT8W_RECIPE[stage]
    if recipe["det"].mode is QuantMode.STATIC:
        assert recipe["det"].calibration_samples == 4
    with pytest.raises(ConfigError, match="unknown stage"):
        apply_overrides(INT8W_RECIPE, None, {"detector": 4})
