"""Per-Paddle-Lite-version environments: interpreter discovery and the missing-Python message."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgeocr import lite_env
from edgeocr.errors import ConfigError, ToolMissingError


def test_unknown_version_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="2.10, 2.11, 2.12, 2.13rc0"):
        lite_env.check_version("2.9")


def test_missing_python_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pythonX.Y, no pyenv
    for var in ("EDGEOCR_PYTHON_3_7", "EDGEOCR_PYTHON_37"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ToolMissingError) as info:
        lite_env.find_python("2.12")
    message = str(info.value)
    assert "Python 3.7" in message and "EDGEOCR_PYTHON_3_7" in message and "pyenv install 3.7.16" in message


def test_env_var_interpreter_is_used_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    python37 = lite_env.find_python("2.12")[0]  # this machine has a 3.7 (pyenv)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("EDGEOCR_PYTHON_3_7", str(python37))
    assert lite_env.find_python("2.12") == (python37, "3.7")
    # An interpreter of the wrong version behind the variable is not accepted.
    monkeypatch.setenv("EDGEOCR_PYTHON_3_7", "/usr/bin/false")
    with pytest.raises(ToolMissingError):
        lite_env.find_python("2.12")


def test_2_10_prefers_python_3_9() -> None:
    _, version = lite_env.find_python("2.10")
    assert version == "3.9"


def test_built_env_has_opt_and_matching_runtime() -> None:
    env = lite_env.ensure_lite_env("2.12")
    assert env.opt.is_file() and env.python.is_file()
    import subprocess

    out = subprocess.run([str(env.python), "-c", "import paddlelite.lite as l; print(l.MobileConfig)"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_normalize_version() -> None:
    assert lite_env.normalize_version("v2.13-rc") == "2.13rc0"
    assert lite_env.normalize_version("v2.12") == "2.12"
