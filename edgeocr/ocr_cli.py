"""``edgeocr ocr BUNDLE IMAGE...``: read text with a bundle; one library call per image (:class:`OCR`).

Bad images never stop the run: each gets one ``edgeocr: error: <file>: <problem>`` line on stderr,
the others are processed, and the exit status is 1 if any failed (issue 3, item 7).
Every pre/post-processing parameter of the manifest can be overridden with an option generated
from :mod:`edgeocr.stage_params` (``--det-box-thresh``, ``--rec-batch-size``, ``--drop-score``...),
so defaults live in one place.
"""
from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import click

from .backends.base import BACKENDS
from .cli_validation import InputPath, OutputPath, ThreadCount, check_input_path, check_separate, param_range_type
from .benchmarks.remote_hook import device_options
from .ocr_device import check_device_only, forward_args, ocr_on_devices
from .errors import EdgeOCRError, InputError, ModelFormatError
from .image_io import MAX_IMAGE_PIXELS
from .stage_params import ClsParams, DetParams, PipelineParams, RecParams

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pbm", ".pgm", ".ppm")

# What each overridable field does (the value itself comes from the manifest / stage_params).
_FIELD_HELP: Dict[str, str] = {
    "det_limit_side_len": "Detector input side limit in pixels (see --det-limit-type); caps memory on huge images.",
    "det_limit_type": "'max': shrink so the longer side <= limit; 'min': enlarge so the shorter side >= limit.",
    "det_thresh": "Binarization threshold of the DB probability map; lower finds fainter text.",
    "det_box_thresh": "Drop boxes whose mean probability is below this; lower keeps more (and more false) boxes.",
    "det_unclip_ratio": "How far DB boxes are grown; larger gives looser boxes.",
    "det_max_candidates": "Maximum contours examined per image.",
    "det_min_size": "Drop boxes whose short side is below this (map pixels).",
    "det_score_mode": "'fast': box score inside the rectangle; 'slow': inside the contour.",
    "det_use_dilation": "Dilate the binary map before finding contours.",
    "cls_thresh": "Rotate a crop by 180 degrees only when the classifier's '180' probability exceeds this.",
    "cls_batch_size": "Crops per classifier batch.",
    "rec_batch_size": "Crops per recognizer batch (crops are sorted by aspect ratio first).",
    "drop_score": "Lines whose recognition score is below this are dropped.",
}
# Fields whose values are tied to the converted model or the dictionary: not exposed as options.
_NOT_OPTIONS = {"mean", "std", "color_order", "box_type", "image_shape", "labels", "use_space_char", "decoder", "use_cls"}
_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _override_fields() -> List[Tuple[str, dataclasses.Field, type]]:
    """``(override name, field, params class)`` for every scalar stage parameter users may override."""
    out = []
    for prefix, cls in (("det_", DetParams), ("cls_", ClsParams), ("rec_", RecParams), ("", PipelineParams)):
        for f in dataclasses.fields(cls):
            if f.name not in _NOT_OPTIONS and str(f.type) in _TYPES:
                out.append((prefix + f.name, f, cls))
    return out


def _override_options(func: Callable) -> Callable:
    """Attach one ``--<name>`` option per overridable parameter (default: the manifest's value)."""
    for name, f, cls in reversed(_override_fields()):
        flag = "--" + name.replace("_", "-")
        help_text = f"{_FIELD_HELP.get(name, name)} Default: the bundle manifest's value (PP-OCRv2: {f.default})."
        if str(f.type) == "bool":
            opt = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)
        elif str(f.type) in ("int", "float"):
            # The valid range comes from stage_params (defined once), checked before any model loads.
            opt = click.option(flag, name, type=param_range_type(cls, f.name, _TYPES[str(f.type)]), default=None,
                               help=help_text)
        elif f.metadata.get("choices"):
            opt = click.option(flag, name, type=click.Choice(f.metadata["choices"]), default=None, help=help_text)
        else:
            opt = click.option(flag, name, type=_TYPES[str(f.type)], default=None, help=help_text)
        func = opt(func)
    return func


def expand_images(args: Tuple[str, ...]) -> List[Path]:
    """Files as given, directories replaced by their image files (sorted, not recursive).

    A directory without image files stays in the list, so reading it reports one error line.
    A FIFO, device or socket is never opened (reading a named pipe blocks forever): it stays in the
    list as a path that :func:`check_image_arg` reports.
    """
    paths: List[Path] = []
    for arg in args:
        p = Path(arg)
        found = []
        if check_input_path(p, "dir") is None:
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES and not q.is_dir())
        if found:
            paths.extend(found)
        else:
            paths.append(p)
    return paths


def _vis_path(vis_dir: Path, image: Path, used: Dict[str, int]) -> Path:
    stem = image.stem
    n = used.get(stem, 0)
    used[stem] = n + 1
    return vis_dir / (f"{stem}.png" if n == 0 else f"{stem}_{n}.png")


@click.command("ocr", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("bundle", type=InputPath("dir"))
@click.argument("images", nargs=-1, required=True)
@click.option(
    "--backend",
    type=click.Choice(sorted(BACKENDS)),
    default=None,
    help="Inference backend. Default: the one the bundle's manifest names (onnxruntime for ONNX, paddle-lite for .nb).",
)
@click.option(
    "--threads",
    type=ThreadCount(),
    default=None,
    help="Inference threads, 1 to 4 x cores (a warning above the core count). Default: the backend's own "
    "(onnxruntime: all cores; Paddle-Lite's Python API: 1).",
)
@click.option("--max-image-pixels", type=click.IntRange(min=0), default=MAX_IMAGE_PIXELS, show_default=True,
              help="Refuse images with more pixels than this, checked from the file header before decoding "
                   "(Pillow's MAX_IMAGE_PIXELS; a small PNG can declare 30000x30000 = 3.6 GB). 0: no limit.")
@click.option("--json", "json_out", type=OutputPath("file"), default=None,
              help="Write boxes, texts, scores and timings of every image to this JSON file (atomically).")
@click.option("--vis", "vis_dir", type=OutputPath("dir"), default=None,
              help="Write DIR/<image>.png: boxes on the image and the text beside it (needs Pillow and a CJK font).")
@click.option("--no-cls", is_flag=True, default=False,
              help="Skip the 180-degree classifier: faster, but upside-down lines are misread.")
@click.option("--no-verify", is_flag=True, default=False, help="Skip the sha256 check of the bundle files on load.")
@click.option("--source-models", type=InputPath("dir"), default=None,
              help="With --backend paddle: folder of the original Paddle model dirs the bundle was converted from "
                   "(sha256-checked against the manifest). Runs the Paddle originals as the host-side reference.")
@device_options
@click.option("--compare-host", is_flag=True, default=False,
              help="With --device: also read the images on this host and print every line whose text differs.")
@_override_options
def ocr_command(
    bundle: Path,
    images: Tuple[str, ...],
    backend: Optional[str],
    threads: Optional[int],
    max_image_pixels: int,
    json_out: Optional[Path],
    vis_dir: Optional[Path],
    no_cls: bool,
    no_verify: bool,
    source_models: Optional[Path],
    device: Tuple[str, ...],
    keep: bool,
    cpu_mask: Optional[str],
    device_work_dir: Tuple[str, ...],
    device_timeout: Optional[float],
    compare_host: bool,
    **overrides: Any,
) -> None:
    """Read the text in IMAGE... (files or folders) with the models of BUNDLE.

    Prints each image's lines in reading order as ``score<TAB>text``. Unreadable or non-image files
    get one error line each and are skipped; the exit status is 1 if any file failed.

    \b
    On a phone or board (repeat --device for several, run in parallel):
      edgeocr ocr BUNDLE photo.jpg --device adb:SERIAL --compare-host
    """
    from tqdm import tqdm

    from .atomic_io import write_json
    from .pipeline import OCR

    overrides = {k: v for k, v in overrides.items() if v is not None}
    paths = expand_images(images)
    if not paths:
        raise click.UsageError("no image files found in the given IMAGE arguments")
    inputs = [("BUNDLE", bundle)] + [("IMAGE", p) for p in paths]
    for name, out in (("--json", json_out), ("--vis", vis_dir)):
        check_separate((name, out), inputs)
    device_flags = {"--keep": keep, "--cpu-mask": cpu_mask, "--device-work-dir": device_work_dir,
                    "--device-timeout": device_timeout}
    check_device_only(device, compare_host, vis_dir, source_models, device_flags)
    if device:
        host_options = dict(backend=backend, threads=threads, no_cls=no_cls, no_verify=no_verify,
                            max_image_pixels=max_image_pixels, overrides=overrides)
        ocr_on_devices(bundle, paths, device, {"keep": keep, "cpu_mask": cpu_mask, "device_work_dir": device_work_dir,
                                               "device_timeout": device_timeout}, compare_host, json_out, host_options,
                       forward_args(backend, threads, no_cls, no_verify, max_image_pixels, overrides))
        return
    ocr = OCR(bundle, backend=backend, threads=threads, use_cls=False if no_cls else None,
              verify=not no_verify, source_models=source_models, max_image_pixels=max_image_pixels or None,
              **overrides)
    records: List[Dict[str, Any]] = []
    errors: List[Dict[str, str]] = []
    used_names: Dict[str, int] = {}
    try:
        for path in tqdm(paths, desc="ocr", unit="img", file=sys.stderr, disable=True if len(paths) < 2 else None):
            try:
                problem = check_input_path(path, "any")
                if problem:
                    raise InputError(problem, path)
                if vis_dir is not None:
                    from .image_io import read_image

                    img = read_image(path, max_pixels=max_image_pixels or None)
                    result = ocr(img)
                    result.source = str(path)
                else:
                    result = ocr(path)
            except EdgeOCRError as exc:
                if isinstance(exc, ModelFormatError):
                    raise  # the bundle is broken (model in the wrong slot...): one line, not one per image
                if exc.path is None:
                    exc.path = str(path)
                click.echo(f"edgeocr: error: {exc}", err=True)
                errors.append({"source": str(path), "error": exc.message})
                continue
            click.echo(f"{path}\t{len(result.lines)} lines\t{result.timings.total * 1000:.1f} ms")
            for line in result.lines:
                click.echo(f"{line.score:.3f}\t{line.text}")
            record = result.to_dict()
            record["texts"] = result.texts
            records.append(record)
            if vis_dir is not None:
                from .visualize import save_visualization

                save_visualization(_vis_path(vis_dir, path, used_names), img,
                                   [line.box for line in result.lines], result.texts)
        if json_out is not None:
            write_json(json_out, {"ocr": ocr.describe(), "images": records, "errors": errors})
    finally:
        ocr.close()
    if errors:
        click.echo(f"edgeocr: {len(errors)} of {len(paths)} file(s) failed", err=True)
        raise click.exceptions.Exit(1)
