"""Latency of a bundle per stage and thread count: ``bench(bundle, params) -> BenchResult``.

Measurement only; printing and report files are listeners/writers elsewhere (TFLite's
``BenchmarkListener``). For each thread count:

1. **init**: each stage's model is loaded alone (``create_backend``) and timed; ``e2e`` init is
   the whole :class:`edgeocr.OCR` construction (3 models + dictionary).
2. **first**: the first (cold) call of each stage on a freshly created OCR; ``e2e`` gets its own
   fresh OCR so its first call is cold too.
3. **warmup** (untimed) then **timed runs** under the TFLite stopping rule
   (:func:`~edgeocr.benchmarks.bench_params.keep_running`). One run = one stage call on the next
   image of the rotation: ``det`` = ``ocr.detect`` (resize, normalize, model, DB post-processing),
   ``cls`` = ``ocr.classify`` on that image's crops, ``rec`` = ``ocr.recognize`` on its (classified)
   crops, ``e2e`` = ``ocr(image)``.

Memory: the process's peak RSS (``getrusage``), which is process-wide and cumulative: it is only
APPROXIMATE and is not per configuration (TFLite's caveat). Standard library + the slim runtime
only, so it runs on a board too (issue 6).
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from edgeocr.errors import InputError

from .bench_params import BenchParams, keep_running, keep_warming
from .bundle_info import bundle_summary, check_runs_here
from .machine_info import machine_info, package_versions

log = logging.getLogger(__name__)

RESULT_KIND = "bench"
SCHEMA_VERSION = 1
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
MEMORY_CAVEAT = ("peak RSS of the whole benchmark process (all thread counts and stages so far, plus Python "
                 "and imports): only APPROXIMATE, not per configuration")


@dataclass
class LatencyStats:
    """Timed runs of one stage at one thread count, milliseconds (``first`` = the cold call)."""

    count: int
    first: float
    min: float
    max: float
    mean: float
    std: float
    p50: float
    p90: float
    p99: float
    total_s: float

    def line(self) -> str:
        """TFLite-style stats line."""
        return (f"count={self.count} first={self.first:.2f} min={self.min:.2f} max={self.max:.2f} "
                f"avg={self.mean:.2f} std={self.std:.2f} p50={self.p50:.2f} p90={self.p90:.2f} p99={self.p99:.2f} (ms)")


def latency_stats(runs_s: Sequence[float], first_s: float) -> LatencyStats:
    """Stats of ``runs_s`` (seconds) in ms; percentiles by linear interpolation; std is the
    population std (TFLite's ``Stat``)."""
    if not runs_s:
        raise ValueError("no timed runs")
    ms = np.asarray(runs_s, dtype=np.float64) * 1000.0
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return LatencyStats(count=len(ms), first=first_s * 1000.0, min=float(ms.min()), max=float(ms.max()),
                        mean=float(ms.mean()), std=float(ms.std()), p50=float(p50), p90=float(p90), p99=float(p99),
                        total_s=float(ms.sum() / 1000.0))


@dataclass
class StageRecord:
    """One stage at one thread count."""

    stage: str
    threads: int
    init_ms: float
    stats: Optional[LatencyStats]
    warmup_runs: int = 0
    stopped_by: str = ""  # "num_runs+min_secs" or "max_secs"
    note: str = ""
    # Every timed run in ms, in order: what `edgeocr compare` tests (Mann-Whitney U), not just the summary.
    samples_ms: List[float] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class BenchResult:
    """Everything one ``edgeocr bench`` produced; ``to_dict`` is the JSON schema."""

    params: Dict[str, Any]
    bundle: Dict[str, Any]
    records: List[StageRecord]
    images: List[Dict[str, Any]]
    memory: Dict[str, Any]
    runtime: Dict[str, Any] = field(default_factory=dict)
    machine: Dict[str, Any] = field(default_factory=machine_info)
    versions: Dict[str, str] = field(default_factory=package_versions)
    device: Optional[Dict[str, Any]] = None
    incomplete: Optional[Dict[str, Any]] = None

    def to_dict(self) -> Dict[str, Any]:
        data = {"kind": RESULT_KIND, "schema_version": SCHEMA_VERSION, **asdict(self)}
        for key in ("device", "incomplete"):
            if data[key] is None:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "BenchResult":
        if data.get("kind") != RESULT_KIND:
            raise InputError(f"not a bench result (kind={data.get('kind')!r})")
        recs = []
        for r in data["records"]:
            stats = LatencyStats(**r["stats"]) if r.get("stats") else None
            recs.append(StageRecord(**{**r, "stats": stats}))
        names = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        return cls(**{**{k: v for k, v in data.items() if k in names}, "records": recs})


class BenchListener:
    """Hooks for progress output; the CLI prints, tests collect. Default: log."""

    def on_start(self, params: BenchParams, bundle: Dict[str, Any], machine: Dict[str, Any]) -> None:
        log.info("bench %s: %s", bundle.get("variant"), params.describe())

    def on_record(self, record: StageRecord) -> None:
        log.info("%s threads=%d %s", record.stage, record.threads, record.stats.line() if record.stats else record.note)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def synthetic_image() -> np.ndarray:
    """A deterministic ``[540, 960, 3]`` uint8 BGR page with 6 lines of black Latin text on white,
    used when no ``--images`` are given (so a bench needs no data files, also on a device)."""
    import cv2

    img = np.full((540, 960, 3), 255, dtype=np.uint8)
    lines = ["EDGEOCR BENCHMARK 2026", "PP-OCRv2 on ARM phones", "det cls rec e2e latency",
             "The quick brown fox 0123", "jumps over the lazy dog", "Thread count 1 and 2"]
    for i, text in enumerate(lines):
        cv2.putText(img, text, (40, 70 + i * 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3, cv2.LINE_AA)
    return img


def load_images(images: Optional[Union[str, Path]], max_images: int) -> List[Tuple[str, np.ndarray]]:
    """``(name, [h, w, 3] uint8 BGR)`` for the first ``max_images`` images of a folder (sorted by
    name) or one file; the synthetic page when ``images`` is None."""
    if images is None:
        return [("synthetic", synthetic_image())]
    from edgeocr.image_io import read_image

    path = Path(images)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError("holds no images (.jpg/.jpeg/.png/.bmp)", path)
    elif path.is_file():
        files = [path]
    else:
        raise InputError("does not exist", path)
    return [(p.name, read_image(p)) for p in files[:max_images]]


def peak_rss_mb() -> Optional[float]:
    """Peak resident set size of this process in MB (Linux/Android ``ru_maxrss`` is in KB)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


def time_loop(call: Callable[[int], Any], params: BenchParams, n_inputs: int,
              clock: Callable[[], float] = time.perf_counter) -> Tuple[List[float], int, str]:
    """Warm up, then time ``call(i)`` (i = input index, cycling) under the stopping rule.

    Returns (run durations in s, warmup count, what stopped the loop).
    """
    warm, t_start = 0, clock()
    while keep_warming(warm, clock() - t_start, params):
        call(warm % n_inputs)
        warm += 1
    runs: List[float] = []
    t_start = clock()
    while keep_running(len(runs), clock() - t_start, params):
        if runs and params.run_delay:
            time.sleep(params.run_delay)
        t0 = clock()
        call(len(runs) % n_inputs)
        runs.append(clock() - t0)
    elapsed = clock() - t_start
    stopped = "max_secs" if elapsed >= params.max_secs and (len(runs) < params.num_runs or elapsed < params.min_secs) \
        else "num_runs+min_secs"
    return runs, warm, stopped


def _stage_init_ms(bundle_dir: Path, stage: str, backend: Optional[str], threads: int) -> float:
    """Load one stage's model alone, timed, then free it."""
    from edgeocr.backends.base import create_backend
    from edgeocr.manifest import load_bundle

    b = load_bundle(bundle_dir, verify=False)
    name = backend or b.manifest.backend
    options: Dict[str, Any] = {}
    if name == "paddle-lite" and b.manifest.lite_version:
        options["lite_version"] = b.manifest.lite_version
    t0 = time.perf_counter()
    model = create_backend(name, b.stage_path(stage), threads=threads, **options)
    ms = (time.perf_counter() - t0) * 1000.0
    model.close()
    return ms


def bench(bundle_dir: Union[str, Path], params: BenchParams = BenchParams(),
          listener: Optional[BenchListener] = None) -> BenchResult:
    """Measure ``bundle_dir`` with ``params`` (see the module docstring for what one run is)."""
    from edgeocr.manifest import load_bundle
    from edgeocr.pipeline import OCR

    listener = listener or BenchListener()
    bundle_dir = Path(bundle_dir)
    bundle = load_bundle(bundle_dir, verify=True)
    check_runs_here(bundle)
    bsum = bundle_summary(bundle)
    machine = machine_info()
    listener.on_start(params, bsum, machine)
    images = load_images(params.images, params.max_images)
    records: List[StageRecord] = []
    runtime: Dict[str, Any] = {}
    boxes_per_image: List[int] = []
    use_cls = True if "cls" in params.stages else None
    for threads in params.num_threads:
        e2e_init = e2e_first = None
        if "e2e" in params.stages:
            # A fresh pipeline so the e2e first call is really cold.
            t0 = time.perf_counter()
            fresh = OCR(bundle_dir, backend=params.backend, threads=threads, use_cls=None, verify=False)
            e2e_init = time.perf_counter() - t0
            t0 = time.perf_counter()
            fresh(images[0][1])
            e2e_first = time.perf_counter() - t0
            fresh.close()
        ocr = OCR(bundle_dir, backend=params.backend, threads=threads, use_cls=use_cls, verify=False)
        try:
            runtime = ocr.describe()
            # Cold calls, in pipeline order, each on the first image; they also give the crops.
            first: Dict[str, float] = {}
            t0 = time.perf_counter()
            det0 = ocr.detect(images[0][1])
            first["det"] = time.perf_counter() - t0
            raw_crops: List[List[np.ndarray]] = [ocr.crop(images[0][1], det0.boxes)]
            raw_crops += [ocr.crop(img, ocr.detect(img).boxes) for _, img in images[1:]]
            with_text = [i for i, c in enumerate(raw_crops) if c]
            boxes_per_image = [len(c) for c in raw_crops]
            rec_crops = list(raw_crops)
            if with_text and ocr.pipeline_params.use_cls:
                i0 = with_text[0]
                t0 = time.perf_counter()
                rec_crops[i0] = ocr.classify(raw_crops[i0]).crops
                first["cls"] = time.perf_counter() - t0
                for i in with_text[1:]:
                    rec_crops[i] = ocr.classify(raw_crops[i]).crops
            if with_text:
                t0 = time.perf_counter()
                ocr.recognize(rec_crops[with_text[0]])
                first["rec"] = time.perf_counter() - t0
            calls: Dict[str, Tuple[Callable[[int], Any], int]] = {
                "det": (lambda i: ocr.detect(images[i][1]), len(images)),
                "cls": (lambda i: ocr.classify(raw_crops[with_text[i]]), len(with_text)),
                "rec": (lambda i: ocr.recognize(rec_crops[with_text[i]]), len(with_text)),
                "e2e": (lambda i: ocr(images[i][1]), len(images)),
            }
            for stage in params.stages:
                if stage == "e2e":
                    init_ms = e2e_init * 1000.0  # type: ignore[operator]
                    first_s = e2e_first
                else:
                    init_ms = _stage_init_ms(bundle_dir, stage, params.backend, threads)
                    first_s = first.get(stage)
                call, n = calls[stage]
                if first_s is None or n == 0:
                    why = ("the classifier is off in this bundle (pipeline.use_cls=false)"
                           if stage == "cls" and with_text else "no text was detected in the benchmark images")
                    rec = StageRecord(stage=stage, threads=threads, init_ms=init_ms, stats=None, note=f"not measured: {why}")
                else:
                    runs, warm, stopped = time_loop(call, params, n)
                    rec = StageRecord(stage=stage, threads=threads, init_ms=init_ms,
                                      stats=latency_stats(runs, first_s), warmup_runs=warm, stopped_by=stopped,
                                      samples_ms=[round(r * 1000.0, 4) for r in runs])
                records.append(rec)
                listener.on_record(rec)
        finally:
            ocr.close()
    machine["loadavg_end"] = machine_info()["loadavg"]  # was the host busy while we measured?
    memory = {"peak_rss_mb": peak_rss_mb(), "scope": "process", "caveat": MEMORY_CAVEAT}
    if runtime.get("backend") == "paddle-lite":
        memory["caveat"] += "; Paddle-Lite may run in a worker process whose memory is not included"
    return BenchResult(
        params=params.to_dict(),
        bundle=bsum,
        records=records,
        images=[{"name": name, "height": int(img.shape[0]), "width": int(img.shape[1]), "boxes": n}
                for (name, img), n in zip(images, boxes_per_image)],
        memory=memory,
        runtime=runtime,
        machine=machine,
    )
