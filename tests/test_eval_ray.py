"""`edgeocr eval --executor ray` on a local Ray cluster (issue 12): the same numbers as a local run,
also when a worker is killed mid-run (Ray retries its shard)."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest
from click.testing import CliRunner

from edgeocr.benchmarks.eval_ray import evaluate_ray
from edgeocr.benchmarks.eval_runner import evaluate
from edgeocr.cli import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """`ray start --head` on this host (2 CPUs, no dashboard), joined as 127.0.0.1:PORT; stopped afterwards.

    (Ray itself maps a 127.0.0.1 address to the node's own IP, so the head keeps its default IP.)"""
    port = free_port()
    # Ray 2.60 clusters require token authentication: a fresh token for this head and this driver.
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **auth}
    proc = subprocess.run([RAY, "start", "--head", "--port", str(port),
                           "--num-cpus", "2", "--include-dashboard=false", "--disable-usage-stats",
                           "--object-store-memory", str(200 * 1024 * 1024)],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    try:
        with pytest.MonkeyPatch.context() as mp:
            for k, v in auth.items():
                mp.setenv(k, v)
            yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


def test_ray_eval_cli_gives_the_local_numbers(ray_head, bundles_dir, data_dir, tmp_path) -> None:
    bundle, dataset = bundles_dir / "onnx-fp32", data_dir / "icdar2015_det"
    out = tmp_path / "ray.json"
    res = CliRunner().invoke(cli, ["eval", str(bundle), "--dataset", str(dataset), "--limit", "6", "--executor", "ray",
                                   "--ray-address", ray_head, "--ray-shards", "3", "--json", str(out), "--no-store"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    ray_result = json.loads(out.read_text(encoding="utf-8"))
    local = evaluate(bundle, dataset, "det", 6, progress=False)
    assert ray_result["metrics"] == local.metrics and ray_result["per_sample"] == local.per_sample
    assert [s["boxes"] for s in ray_result["samples"]] == [s["boxes"] for s in local.samples]
    ex = ray_result["runtime"]["executor"]
    assert ex["name"] == "ray" and ex["address"] == ray_head and ex["shards"] == 3
    print(res.output)


def test_killed_worker_is_retried_and_the_result_is_complete(ray_head, bundles_dir, data_dir) -> None:
    bundle, dataset = bundles_dir / "onnx-fp32", data_dir / "icdar2015_det"
    killed = []

    def killer() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            for p in psutil.process_iter(["pid", "cmdline"]):
                if any("ray::predict_shard" in c for c in (p.info["cmdline"] or [])):
                    os.kill(p.info["pid"], signal.SIGKILL)  # a worker dies mid-shard (OOM, node lost...)
                    killed.append(p.info["pid"])
                    return
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    result = evaluate_ray(bundle, dataset, "e2e", 8, address=ray_head, shards=4, progress=False)
    t.join(timeout=5)
    assert killed, "no shard worker was seen running"
    local = evaluate(bundle, dataset, "e2e", 8, progress=False)
    assert [s["image"] for s in result.samples] == [s["image"] for s in local.samples]  # complete, in order
    assert result.metrics == local.metrics and result.texts == local.texts
    assert killed[0] not in result.runtime["executor"]["worker_pids"]  # its shard was re-run by another worker
