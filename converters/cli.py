"""``edgeocr convert`` command: maps options onto :func:`edgeocr.converters.convert.convert`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from edgeocr.cli_validation import CommaList, InputPath, OutputPath
from edgeocr.errors import EdgeOCRError
from edgeocr.lite_env import DEFAULT_LITE_VERSION, HOST_VERIFY_LITE_VERSION, LITE_PYTHONS

from .convert import PARITY_IMAGES_ENV, ConvertOptions, convert
from .quant_builders import OPTION_DEFAULTS
from .variants import DEFAULT_VARIANTS, VARIANTS

_path = click.Path(path_type=Path)
_dir = InputPath("dir")
_drop = click.FloatRange(0.0, 100.0)


@click.command("convert")
@click.option("--out", type=OutputPath("dir"), required=True, help="Output folder: one bundle per variant + report.json/report.md.")
@click.option("--models", type=_dir, help="Folder with the PP-OCRv2 model folders and ppocr_keys_v1.txt. "
              "Default: the `edgeocr models pull` cache.")
@click.option("--det", type=_dir, help="Paddle det model folder (inference.pdmodel + .pdiparams); overrides --models.")
@click.option("--rec", type=_dir, help="Paddle rec model folder; overrides --models.")
@click.option("--cls", type=_dir, help="Paddle cls (angle classifier) model folder; overrides --models.")
@click.option("--dict", "dictionary", type=InputPath("file"), help="Recognizer dictionary; default ppocr_keys_v1.txt in --models.")
@click.option("--variants", type=CommaList(list(VARIANTS), extra=("all",)), default=",".join(DEFAULT_VARIANTS),
              show_default=True,
              help=f"Comma-separated bundles to build, or 'all'. Available: {', '.join(VARIANTS)}. "
              "Quantized variants need their parent (e.g. onnx-int8 needs onnx-fp32) and pass an accuracy gate.")
@click.option("--lite-version", type=click.Choice(list(LITE_PYTHONS)), default=DEFAULT_LITE_VERSION, show_default=True,
              help="Paddle-Lite version of the ARM .nb files. It MUST equal the Paddle-Lite library in your app: "
              "a .nb runs only on the runtime version that wrote it (PaddleOCR's PP-OCRv2 Android demo uses 2.10).")
@click.option("--host-lite-version", type=click.Choice(list(LITE_PYTHONS)), default=HOST_VERIFY_LITE_VERSION,
              show_default=True, help="Paddle-Lite version of the x86 .nb used to check Lite accuracy on this host "
              "(2.10 lacks x86 kernels for rec/cls; a runtime that gives wrong outputs fails parity, named).")
@click.option("--parity-images", type=_dir, help=f"Folder of real text images for the parity check. "
              f"Default: ${PARITY_IMAGES_ENV}.")
@click.option("--force", is_flag=True, help="Replace --out if it exists (the old one is kept until the new one is complete).")
@click.option("--gate-limit", type=click.IntRange(min=1), default=OPTION_DEFAULTS["gate_limit"],
              help="Quantized variants: score only this many samples per gate set (det images; rec/cls crops, at "
              "least 500). Default: the FULL test sets (icdar2015_det + msra_td500 images, icdar2015_rec + iiit5k_rec "
              "crops), paired bootstrap 95% interval; a limit is for quick experiments only.")
@click.option("--quant-search", is_flag=True,
              help="onnx-int8: derive each stage's float layers with the accuracy-aware mixed-precision search "
              "(per-layer sensitivity, then the smallest float set within budget; cached in $EDGEOCR_HOME) instead "
              "of the committed recipe file converters/int8_recipe.json.")
@click.option("--gate-device", metavar="TARGET", default=None,
              help="onnx-int8: also time int8 vs fp32 on this device (adb:SERIAL, ssh:user@host, local), "
              "interleaved; a variant slower than fp32 there is marked so in its manifest and report.")
@click.option("--require-speedup", is_flag=True,
              help="With --gate-device: reject (do not write) a quantized variant that is slower than fp32 there.")
@click.option("--max-det-drop", type=_drop, default=OPTION_DEFAULTS["det_drop_pts"], show_default=True,
              help="Accuracy gate: largest allowed det Hmean drop vs the fp32 parent, in points.")
@click.option("--max-rec-drop", type=_drop, default=OPTION_DEFAULTS["rec_drop_pts"], show_default=True,
              help="Accuracy gate: largest allowed rec accuracy drop vs the fp32 parent, in points.")
@click.option("--max-cls-drop", type=_drop, default=OPTION_DEFAULTS["cls_drop_pts"], show_default=True,
              help="Accuracy gate: largest allowed angle-classifier accuracy drop vs the fp32 parent, in points.")
@click.option("--allow-accuracy-drop", is_flag=True,
              help="Write variants that are over the accuracy budget anyway (marked so in their manifest).")
@click.option("--calibration-method", type=click.Choice(["MinMax", "Entropy", "Percentile"]),
              help="onnx-int8: calibration method for every statically quantized stage. Default: the measured "
              "best per stage (see benchmarks/results/quantization.md).")
@click.option("--gate-data", type=_path, envvar="EDGEOCR_DATA", show_envvar=True,
              help="Quantized variants: folder holding the labelled test sets of the accuracy gate "
              "(icdar2015_det, msra_td500, icdar2015_rec, iiit5k_rec).")
@click.option("--calibration-data", type=_path, envvar="EDGEOCR_DATA", show_envvar=True,
              help="onnx-int8: folder holding the calibration sets (icdar2015_train_calib, icdar2015_rec_train_calib). "
              "Never calibrate on the test sets.")
@click.option("--strict-sources", is_flag=True,
              help="Fail when a source model or the dictionary differs from the official release's size/sha256 "
              "(default: a warning naming the file; e.g. a truncated .pdiparams that Paddle still loads).")
@click.option("--slim-det", type=_dir, help="lite-*-slim / onnx-slim: the official ch_PP-OCRv2_det_slim_quant_infer "
              "folder. Default: next to the det model.")
def convert_command(
    out: Path, models: Optional[Path], det: Optional[Path], rec: Optional[Path], cls: Optional[Path],
    dictionary: Optional[Path], variants: Tuple[str, ...], lite_version: str, host_lite_version: str,
    parity_images: Optional[Path], force: bool, gate_limit: Optional[int], quant_search: bool,
    gate_device: Optional[str], require_speedup: bool, max_det_drop: float, max_rec_drop: float,
    max_cls_drop: float, allow_accuracy_drop: bool, calibration_method: Optional[str], gate_data: Optional[Path],
    calibration_data: Optional[Path], strict_sources: bool, slim_det: Optional[Path],
) -> None:
    """Convert PP-OCRv2 (det, rec, cls) to ONNX and Paddle-Lite bundles, each verified against Paddle.

    \b
    Every bundle holds the three models, the dictionary and manifest.json (pre/post-processing
    parameters, sha256 of every file, source checksums, tool versions). After each export the
    Paddle original and the artifact run on the same real inputs; a failed check fails the command
    and writes nothing. Example:
      edgeocr convert --out bundles --parity-images photos/
    """
    names: Tuple[str, ...] = tuple(variants)
    if names == ("all",):
        names = tuple(VARIANTS)
    variant_options = {
        "gate_limit": gate_limit, "det_drop_pts": max_det_drop, "rec_drop_pts": max_rec_drop, "cls_drop_pts": max_cls_drop,
        "allow_accuracy_drop": allow_accuracy_drop, "quant_search": quant_search, "gate_device": gate_device,
        "require_speedup": require_speedup,
    }
    if require_speedup and not gate_device:
        raise click.UsageError("--require-speedup needs --gate-device TARGET (the device whose speed decides)")
    if gate_device:
        from edgeocr.device.targets import check_target

        try:
            check_target(gate_device)
        except EdgeOCRError as exc:
            raise click.BadParameter(str(exc), param_hint="--gate-device") from None
    if calibration_method:
        variant_options["calibration_method"] = calibration_method
    for key, value in (("slim_det", slim_det), ("gate_data", gate_data), ("calibration_data", calibration_data)):
        if value:
            variant_options[key] = value
    opts = ConvertOptions(
        out=out, models=models, det=det, rec=rec, cls=cls, dictionary=dictionary, variants=names,
        lite_version=lite_version, host_lite_version=host_lite_version, parity_images=parity_images, force=force,
        variant_options=variant_options, strict_sources=strict_sources,
    )
    report = convert(opts, progress=lambda msg: click.echo(msg, err=True))
    for v in report.variants:
        click.echo(f"{v.name:16s} {v.status:12s} {v.total_size / 1e6:6.2f} MB  {out / v.name if v.status == 'ok' else v.message}")
    click.echo(f"report: {out / 'report.md'}")
