"""JUnit 4 tests of the Android OCR core (issue 9), run from pytest so `make test` (= pytest) runs them.

Why from pytest rather than a separate Makefile step: one command, one report; a JUnit failure shows up in
the pytest summary with the wrapper's output, and the golden values it compares against are generated
from this very Python runtime + OpenCV (android_demo/tools/make_junit_fixtures.py) in the same run.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN_JUNIT = REPO / "android_demo" / "tools" / "run-junit.sh"
# The suite has 39 tests today; fewer means test classes were not found (the runner would "pass" on nothing).
MIN_TESTS = 30

pytestmark = pytest.mark.timeout(600)


def test_junit_core_suite_passes() -> None:
    """run-junit.sh builds the core, generates the fixtures, runs every *Test class: all must pass."""
    proc = subprocess.run([str(RUN_JUNIT)], cwd=REPO, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"run-junit.sh printed nothing (exit {proc.returncode}):\n{output}"
    closing = re.fullmatch(r"(\d+) passed, (\d+) failed", lines[-1])
    assert closing, f"run-junit.sh did not end with 'N passed, N failed' (exit {proc.returncode}):\n{output}"
    passed, failed = int(closing.group(1)), int(closing.group(2))
    assert proc.returncode == 0 and failed == 0, f"JUnit: {passed} passed, {failed} failed:\n{output}"
    assert passed >= MIN_TESTS, f"only {passed} JUnit tests ran (expected >= {MIN_TESTS}):\n{output}"
