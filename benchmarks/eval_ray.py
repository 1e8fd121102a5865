"""``edgeocr eval --executor ray``: shard a big eval set over a Ray cluster (issue 12).

Why Ray and not a scheduler of our own: retries of crashed workers, data transfer, and clusters
that users already run come for free. The split of work mirrors :func:`eval_runner.evaluate`:

1. The host loads the dataset and selects the samples (``--limit``), exactly as a local run.
2. The bundle's files go once into Ray's object store; the samples are cut into shards (image
   bytes travel with the shard, so the workers need no shared filesystem).
3. One Ray task per shard materializes the bundle, loads it ONCE (one :class:`edgeocr.OCR`), and
   returns per-sample predictions from the same :func:`eval_runner.predict` a local run uses. A
   worker that dies (killed, OOM, node lost) is retried by Ray (``max_retries``).
4. The host puts the predictions back in sample order and scores them with the same metric code
   (:func:`eval_runner.score`), so the numbers are identical to a local run on the same data.

Ray is optional (``pip install 'edgeocr[ray]'``); the default executor stays local.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from edgeocr.errors import ConfigError, ToolMissingError

from .eval_runner import EvalResult, check_task, default_task, sample_key, score
from .text_norm import TextNorm

log = logging.getLogger(__name__)

MAX_RETRIES = 3  # Ray re-runs a shard whose worker died this many times
SHARDS_PER_CPU = 2  # enough shards to balance load, few enough that each bundle load is amortized


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ToolMissingError("--executor ray needs Ray: pip install 'edgeocr[ray]'") from None
    return ray


def bundle_files(bundle: Path) -> Dict[str, bytes]:
    """Every file of the bundle, relative path -> bytes (sent once to the object store)."""
    return {p.relative_to(bundle).as_posix(): p.read_bytes() for p in sorted(Path(bundle).rglob("*")) if p.is_file()}


def make_shards(samples: Sequence[Any], n_shards: int) -> List[List[Tuple[str, bytes]]]:
    """Contiguous shards of (sample key, image bytes), in sample order."""
    n = max(1, min(n_shards, len(samples)))
    size = -(-len(samples) // n)
    return [[(sample_key(s), Path(s.image).read_bytes()) for s in samples[i:i + size]]
            for i in range(0, len(samples), size)]


def predict_shard(files: Dict[str, bytes], shard: List[Tuple[str, bytes]], task: str, backend: Optional[str],
                  threads: Optional[int], ocr_options: Dict[str, Any]) -> Dict[str, Any]:
    """Body of one Ray task: write the bundle and images to a temp dir, load the bundle once, predict."""
    from edgeocr.pipeline import OCR

    from .eval_runner import predict

    with tempfile.TemporaryDirectory(prefix="edgeocr-ray.") as tmp:
        root = Path(tmp)
        for rel, data in files.items():
            (root / "bundle" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "bundle" / rel).write_bytes(data)
        samples = []
        for key, data in shard:  # key = <parent folder>/<file>: the same sample_key as on the host
            path = root / "images" / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            samples.append(SimpleNamespace(image=path))
        t0 = time.perf_counter()
        ocr = OCR(root / "bundle", backend=backend, threads=threads, use_cls=None, **ocr_options)
        init_s = time.perf_counter() - t0
        try:
            records = predict(ocr, samples, task, progress=False)
            runtime = ocr.describe()
        finally:
            ocr.close()
    return {"records": records, "runtime": runtime, "init_s": init_s, "pid": os.getpid()}


def evaluate_ray(bundle: Union[str, Path], dataset: Union[str, Path], task: Optional[str] = None,
                 limit: Optional[int] = None, *, backend: Optional[str] = None, threads: Optional[int] = None,
                 norm: TextNorm = TextNorm(), predictions_only: bool = False, address: Optional[str] = None,
                 shards: Optional[int] = None, ocr_options: Optional[Dict[str, Any]] = None,
                 progress: bool = True) -> EvalResult:
    """:func:`eval_runner.evaluate` with the predictions computed by Ray tasks (see the module doc)."""
    from tqdm import tqdm

    from edgeocr.manifest import load_bundle

    from .bundle_info import bundle_summary, check_runs_here
    from .datasets import limit_samples, load_dataset

    ray = import_ray()
    bundle = Path(bundle)
    ds = load_dataset(dataset)
    task = task or default_task(ds)
    check_task(ds, task)
    samples = limit_samples(ds.samples, limit)
    b = load_bundle(bundle, verify=True)
    check_runs_here(b)
    if shards is not None and shards < 1:
        raise ConfigError(f"--ray-shards {shards} must be >= 1")
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING)
        except ConnectionError as exc:
            cause = str(exc.__cause__ or "").splitlines()[0][:200] if exc.__cause__ else ""
            raise ConfigError(f"cannot join the Ray cluster at {address or 'RAY_ADDRESS'}: {exc}"
                              + (f" ({cause})" if cause else "") + "; check --ray-address, and for a cluster with "
                              "token authentication set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN") from None
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = shards or SHARDS_PER_CPU * cpus
        files_ref = ray.put(bundle_files(bundle))
        remote = ray.remote(max_retries=MAX_RETRIES, num_cpus=1)(predict_shard)
        t0 = time.perf_counter()
        parts = make_shards(samples, n)
        refs = [remote.remote(files_ref, part, task, backend, threads, ocr_options or {}) for part in parts]
        pending = list(refs)
        with tqdm(total=len(refs), desc=f"eval {task} on ray", unit="shard", disable=not progress, leave=False) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                bar.update(len(done))
        outs = ray.get(refs)  # raises if a shard failed after its retries
        wall = time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
    records = [r for out in outs for r in out["records"]]
    per = [r["seconds"] for r in records]
    result = EvalResult(
        task=task, dataset={**ds.summary(), "evaluated": len(samples)}, bundle=bundle_summary(b), limit=limit,
        normalization=asdict(norm), metrics=None, samples=records, runtime=outs[0]["runtime"] if outs else {},
        timing={"init_s": max((o["init_s"] for o in outs), default=0.0), "wall_s": wall,
                "mean_s_per_sample": sum(per) / len(per) if per else 0.0},
    )
    result.runtime["executor"] = {"name": "ray", "address": address or "local", "shards": len(parts),
                                  "cluster_cpus": cpus, "worker_pids": sorted({o["pid"] for o in outs})}
    if not predictions_only:
        scored = score(samples, records, task, norm)
        result.metrics, result.failures, result.per_sample = scored["metrics"], scored["failures"], scored["per_sample"]
    return result
