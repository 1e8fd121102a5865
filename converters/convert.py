"""``edgeocr convert``: Paddle inference models -> verified, self-describing bundles.

Recipe (numbered comments in :func:`convert` match):
  1. Check every option before any work (unknown variant, Lite version, existing --out).
  2. Resolve and validate the source models and dictionary (one-line errors naming the file).
  3. Load the Paddle originals as references and check each is the stage it claims to be.
  4. Build parity inputs from real images with the runtime's own preprocessing.
  5. Build each variant into a temp dir: export, copy the dictionary, write the manifest.
  6. Prove parity stage by stage against the Paddle original (skipped only where the target's
     kernels cannot run here, e.g. ARM ``.nb`` on x86 — said so in the report).
  7. Fail the whole run if any fp32 parity check failed: nothing is written.
  8. Write report.json + report.md and rename the temp dir to --out.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from edgeocr import __version__
from edgeocr.atomic_io import atomic_dir, sweep_partials
from edgeocr.cli_validation import check_output_path, check_separate
from edgeocr.backends.base import Backend, create_backend
from edgeocr.ctc_decode import CTCDecoder, load_character_list
from edgeocr.errors import ConfigError, EdgeOCRError, InputError, OutputExistsError, ParityError
from edgeocr.lite_env import DEFAULT_LITE_VERSION, HOST_VERIFY_LITE_VERSION, check_version
from edgeocr.manifest import DictionaryEntry, Manifest, StageEntry, TensorSpec, file_entry, write_manifest
from edgeocr.stage_params import ClsParams, DetParams, PipelineParams, RecParams, params_to_dict

from .parity import ParityInputs, StageParity, build_inputs, compare_stage, find_images, skipped_stage
from .report import write_reports
from .source_models import SourceSet, check_stage_identity, resolve_sources
from .stage_specs import STAGE_SPECS
from .variants import DEFAULT_VARIANTS, STAGE_ORDER, VARIANTS, BuildContext, VariantBuild, VariantSpec

log = logging.getLogger(__name__)

PARITY_IMAGES_ENV = "EDGEOCR_PARITY_IMAGES"


@dataclass
class ConvertOptions:
    """Everything ``edgeocr convert`` accepts; defaults live here once."""

    out: Path
    models: Optional[Path] = None
    det: Optional[Path] = None
    rec: Optional[Path] = None
    cls: Optional[Path] = None
    dictionary: Optional[Path] = None
    variants: Sequence[str] = DEFAULT_VARIANTS
    lite_version: str = DEFAULT_LITE_VERSION
    host_lite_version: str = HOST_VERIFY_LITE_VERSION
    parity_images: Optional[Path] = None
    force: bool = False
    variant_options: Dict[str, Any] = field(default_factory=dict)
    strict_sources: bool = False  # a source differing from the official release is an error, not a warning


@dataclass
class VariantReport:
    """One variant's outcome for report.json / report.md."""

    name: str
    format: str
    precision: str
    description: str
    status: str  # "ok" | "parity-failed" | "rejected" | "unsupported"
    target: Optional[str] = None
    lite_version: Optional[str] = None
    sizes: Dict[str, int] = field(default_factory=dict)  # file -> bytes
    parity: List[StageParity] = field(default_factory=list)
    message: str = ""
    notes: List[str] = field(default_factory=list)
    quantization: Optional[Dict[str, Any]] = None
    accuracy: Optional[Dict[str, Any]] = None

    @property
    def total_size(self) -> int:
        return sum(self.sizes.values())


@dataclass
class ConvertReport:
    out: str
    variants: List[VariantReport]
    parity_inputs: Dict[str, Any]
    sources: Dict[str, Any]
    tool_versions: Dict[str, str]
    seconds: float = 0.0


def convert(opts: ConvertOptions, progress: Callable[[str], None] = lambda m: None) -> ConvertReport:
    """Build the requested bundles under ``opts.out``; see the module docstring for the recipe."""
    start = time.time()
    # 1. Options first: nothing is loaded or written before they all make sense.
    specs = _check_options(opts)
    images_dir = _parity_images_dir(opts)
    images = find_images(images_dir)
    # 2. Sources.
    sources = resolve_sources(opts.models, opts.det, opts.rec, opts.cls, opts.dictionary, strict=opts.strict_sources)
    det_p, cls_p, rec_p = DetParams(), ClsParams(), RecParams()
    decoder = CTCDecoder(load_character_list(sources.dictionary, rec_p.use_space_char))
    # 3. References (Paddle Inference) and stage identity.
    refs: Dict[str, Backend] = {}
    try:
        for stage in STAGE_ORDER:
            progress(f"reference: loading Paddle {stage} model {sources.models[stage].path}")
            refs[stage] = create_backend("paddle", sources.models[stage].path, threads=1)
            check_stage_identity(sources.models[stage], refs[stage], decoder.num_classes, sources.dictionary)
            sources.models[stage].output_name = refs[stage].output_names[0]
        # 4. Parity inputs.
        inputs = build_inputs(images, refs["det"].run_single, det_p, cls_p, rec_p)
        progress(f"parity inputs: {len(images)} images from {images_dir}: {inputs.describe()}")
        reference_outputs = {s: [refs[s].run_single(x) for x in getattr(inputs, s)] for s in STAGE_ORDER}
    finally:
        for ref in refs.values():
            ref.close()

    reports: List[VariantReport] = []
    with atomic_dir(opts.out, force=opts.force) as tmp_out, tempfile.TemporaryDirectory(
        prefix="edgeocr.convert.", dir=str(tmp_out)
    ) as work:
        ctx = BuildContext(
            sources=sources, lite_version=opts.lite_version, host_lite_version=opts.host_lite_version,
            work_dir=Path(work), options=dict(opts.variant_options),
        )
        for spec in specs:
            # 5. + 6. Build and verify each variant.
            report = _build_variant(spec, ctx, tmp_out, inputs, reference_outputs, decoder, progress)
            reports.append(report)
        # 7. Any failed parity check of a variant that must match fails the whole run.
        failed = [r for r in reports if r.status == "parity-failed"]
        if failed:
            lines = [f"{r.name}: {r.message}" for r in failed]
            raise ParityError("parity check failed, no bundle written: " + " | ".join(lines), opts.out)
        # 8. Reports.
        convert_report = ConvertReport(
            out=str(opts.out),
            variants=reports,
            parity_inputs={"images_dir": str(images_dir), "images": inputs.images, "shapes": inputs.describe()},
            sources={s: m.manifest_source() for s, m in sources.models.items()},
            tool_versions=_host_tool_versions(),
            seconds=round(time.time() - start, 1),
        )
        write_reports(tmp_out, convert_report)
    return convert_report


def _check_options(opts: ConvertOptions) -> List[VariantSpec]:
    problem = check_output_path(Path(opts.out), "dir")
    if problem:
        raise InputError(problem, opts.out)
    # --force replaces --out as a whole: it may never be, hold, or sit inside an input.
    from edgeocr.model_pull import models_dir

    options = opts.variant_options
    check_separate(("--out", Path(opts.out)), [
        ("--models" if opts.models else "the models cache", opts.models or models_dir()),
        ("--det", opts.det), ("--rec", opts.rec), ("--cls", opts.cls), ("--dict", opts.dictionary),
        ("--parity-images", opts.parity_images or (Path(os.environ[PARITY_IMAGES_ENV])
                                                   if os.environ.get(PARITY_IMAGES_ENV) else None)),
        ("--gate-data", options.get("gate_data")), ("--calibration-data", options.get("calibration_data")),
        ("--slim-det", options.get("slim_det")),
    ], replaces_folder=True)
    sweep_partials(opts.out)  # leftovers of a killed earlier run (kill -9) beside --out
    duplicates = sorted({v for v in opts.variants if list(opts.variants).count(v) > 1})
    if duplicates:
        raise ConfigError(f"--variants names {', '.join(duplicates)} more than once")
    unknown = [v for v in opts.variants if v not in VARIANTS]
    if unknown:
        raise ConfigError(f"unknown variant(s) {', '.join(unknown)}; valid variants: {', '.join(VARIANTS)}")
    if not opts.variants:
        raise ConfigError(f"no variant selected; valid variants: {', '.join(VARIANTS)}")
    check_version(opts.lite_version)
    check_version(opts.host_lite_version)
    if opts.out.exists() and not opts.force:
        raise OutputExistsError("already exists; pass --force to replace it", opts.out)
    # Parents are built first so children (quantized variants) can start from them.
    ordered: List[VariantSpec] = []
    for name in opts.variants:
        spec = VARIANTS[name]
        if spec.parent and spec.parent not in opts.variants:
            raise ConfigError(f"variant {name} needs its parent {spec.parent}; add it to --variants")
        ordered.append(spec)
    ordered.sort(key=lambda s: (s.parent is not None, list(opts.variants).index(s.name)))
    return ordered


def _parity_images_dir(opts: ConvertOptions) -> Path:
    if opts.parity_images:
        return Path(opts.parity_images)
    env = os.environ.get(PARITY_IMAGES_ENV)
    if env:
        return Path(env)
    raise ConfigError(
        f"parity needs real text images: pass --parity-images DIR (photos or scans with text) or set {PARITY_IMAGES_ENV}"
    )


def _build_variant(
    spec: VariantSpec,
    ctx: BuildContext,
    out_root: Path,
    inputs: ParityInputs,
    reference_outputs: Dict[str, List[Any]],
    decoder: CTCDecoder,
    progress: Callable[[str], None],
) -> VariantReport:
    vdir = out_root / spec.name
    vdir.mkdir()
    ctx.progress = lambda msg: progress(f"[{spec.name}] {msg}")
    report = VariantReport(spec.name, spec.format, spec.precision, spec.description, status="ok", target=spec.target)
    try:
        build = spec.build(ctx, vdir)
    except EdgeOCRError as exc:
        if spec.parent is None:
            raise
        # Derived variants (quantized, slim) may be unsupported or rejected by the accuracy gate:
        # the run goes on, the report says why, and no half-built bundle is kept.
        shutil.rmtree(vdir)
        report.status = "rejected" if exc.__class__.__name__ == "AccuracyGateError" else "unsupported"
        report.message = str(exc)
        report.accuracy = getattr(exc, "accuracy", None)
        ctx.progress(f"{report.status}: {exc}")
        return report
    report.lite_version, report.notes = build.lite_version, list(build.notes)
    report.quantization, report.accuracy = build.quantization, build.accuracy
    shutil.copyfile(ctx.sources.dictionary, vdir / ctx.sources.dictionary.name)
    manifest = _manifest(spec, ctx, build, vdir)
    # 6. Parity against the Paddle original.
    if spec.runs_on_host:
        report.parity = _parity(spec, build, vdir, inputs, reference_outputs, decoder, ctx.progress)
    else:
        reason = (
            f"{spec.target} kernels cannot run on this host; all ops are supported for {spec.target} "
            f"(paddle_lite_opt --print_model_ops); the graph is verified through lite-x86-fp32"
        )
        report.parity = [skipped_stage(s, reason) for s in STAGE_ORDER]
    failures = [f"{p.stage}: {'; '.join(p.failures)}" for p in report.parity if not p.passed]
    if failures:
        combo = f" (Paddle-Lite {build.lite_version}/{spec.target})" if build.lite_version else ""
        report.status, report.message = "parity-failed", f"{combo.strip()} " + " | ".join(failures)
        report.message = report.message.strip()
    manifest.parity = {
        "passed": not failures,
        "stages": {p.stage: {"max_abs": p.max_abs, "mean_abs": p.mean_abs, p.metric_name: p.metric, "skipped": p.skipped}
                   for p in report.parity},
    }
    write_manifest(vdir, manifest)
    report.sizes = {f.name: f.stat().st_size for f in sorted(vdir.iterdir()) if f.is_file()}
    ctx.built[spec.name] = vdir
    ctx.progress(f"{'parity ok' if not failures else 'PARITY FAILED'}; {report.total_size / 1e6:.2f} MB")
    return report


def _parity(
    spec: VariantSpec,
    build: VariantBuild,
    vdir: Path,
    inputs: ParityInputs,
    reference_outputs: Dict[str, List[Any]],
    decoder: CTCDecoder,
    progress: Callable[[str], None],
) -> List[StageParity]:
    results = []
    for stage in STAGE_ORDER:
        opts: Dict[str, Any] = (
            {"lite_version": build.lite_version, "target": build.target} if spec.format == "paddle-lite" else {}
        )
        with create_backend(spec.backend, build.exports[stage].path, **opts) as backend:
            refs = iter(reference_outputs[stage])
            result = compare_stage(
                stage, getattr(inputs, stage), lambda x: next(refs), backend.run_single,
                spec.tolerance, DetParams(), decoder,
            )
        verdict = "measured, report only" if result.report_only else "ok" if result.passed else "FAILED"
        progress(f"{stage}: parity {verdict} (max abs diff {result.max_abs:.2e})")
        results.append(result)
    return results


def _manifest(spec: VariantSpec, ctx: BuildContext, build: VariantBuild, vdir: Path) -> Manifest:
    sources: SourceSet = ctx.sources
    stages: Dict[str, StageEntry] = {}
    num_classes = sources.dictionary_entries + 2  # CTC blank + dictionary + space
    for stage in STAGE_ORDER:
        export = build.exports[stage]
        source = build.source_override.get(stage) or sources.models[stage]
        output_name = export.output_name or sources.models[stage].output_name
        tensors = STAGE_SPECS[stage].tensor_specs(output_name, num_classes)
        entry = file_entry(export.path)
        stages[stage] = StageEntry(
            file=entry["file"], size=entry["size"], sha256=entry["sha256"],
            inputs=[TensorSpec(**t) for t in tensors["inputs"]],
            outputs=[TensorSpec(**t) for t in tensors["outputs"]],
            params=params_to_dict(STAGE_SPECS[stage].params_cls()),
            source=source.manifest_source(),
            ops=export.ops,
        )
    d = file_entry(vdir / sources.dictionary.name)
    tool_versions = {"edgeocr": __version__, **_host_tool_versions(), **build.tool_versions}
    if build.lite_version:
        tool_versions["paddlelite_runtime_required"] = build.lite_version
    return Manifest(
        variant=spec.name, format=spec.format, backend=spec.backend, precision=spec.precision,
        stages=stages,
        dictionary=DictionaryEntry(file=d["file"], size=d["size"], sha256=d["sha256"],
                                   entries=sources.dictionary_entries, use_space_char=RecParams().use_space_char),
        pipeline=params_to_dict(PipelineParams()),
        target=build.target, lite_version=build.lite_version, tool_versions=tool_versions,
        quantization=build.quantization, accuracy=build.accuracy, notes=list(build.notes),
    )


def _host_tool_versions() -> Dict[str, str]:
    versions = {}
    for module in ("paddle", "paddle2onnx", "onnx", "onnxruntime", "numpy", "cv2"):
        try:
            mod = __import__(module)
            versions["paddlepaddle" if module == "paddle" else "opencv" if module == "cv2" else module] = mod.__version__
        except ImportError:
            continue
    return versions
