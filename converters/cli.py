"""``edgeocr convert`` command: maps options onto :func:`edgeocr.converters.convert.convert`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import click

from edgeocr.lite_env import DEFAULT_LITE_VERSION, HOST_VERIFY_LITE_VERSION, LITE_PYTHONS

from .convert import PARITY_IMAGES_ENV, ConvertOptions, convert
from .variants import DEFAULT_VARIANTS, VARIANTS

_path = click.Path(path_type=Path)


@click.command("convert")
@click.option("--out", type=_path, required=True, help="Output folder: one bundle per variant + report.json/report.md.")
@click.option("--models", type=_path, help="Folder with the PP-OCRv2 model folders and ppocr_keys_v1.txt. "
              "Default: the `edgeocr models pull` cache.")
@click.option("--det", type=_path, help="Paddle det model folder (inference.pdmodel + .pdiparams); overrides --models.")
@click.option("--rec", type=_path, help="Paddle rec model folder; overrides --models.")
@click.option("--cls", type=_path, help="Paddle cls (angle classifier) model folder; overrides --models.")
@click.option("--dict", "dictionary", type=_path, help="Recognizer dictionary; default ppocr_keys_v1.txt in --models.")
@click.option("--variants", default=",".join(DEFAULT_VARIANTS), show_default=True,
              help=f"Comma-separated bundles to build. Available: {', '.join(VARIANTS)}.")
@click.option("--lite-version", type=click.Choice(list(LITE_PYTHONS)), default=DEFAULT_LITE_VERSION, show_default=True,
              help="Paddle-Lite version of the ARM .nb files. It MUST equal the Paddle-Lite library in your app: "
              "a .nb runs only on the runtime version that wrote it (PaddleOCR's PP-OCRv2 Android demo uses 2.10).")
@click.option("--host-lite-version", type=click.Choice(list(LITE_PYTHONS)), default=HOST_VERIFY_LITE_VERSION,
              show_default=True, help="Paddle-Lite version of the x86 .nb used to check Lite accuracy on this host. "
              "Only 2.12's x86 runtime is correct here (2.13rc0's returns wrong maps; parity will fail and say so).")
@click.option("--parity-images", type=_path, help=f"Folder of real text images for the parity check. "
              f"Default: ${PARITY_IMAGES_ENV}.")
@click.option("--force", is_flag=True, help="Replace --out if it exists (the old one is kept until the new one is complete).")
def convert_command(
    out: Path, models: Optional[Path], det: Optional[Path], rec: Optional[Path], cls: Optional[Path],
    dictionary: Optional[Path], variants: str, lite_version: str, host_lite_version: str,
    parity_images: Optional[Path], force: bool,
) -> None:
    """Convert PP-OCRv2 (det, rec, cls) to ONNX and Paddle-Lite bundles, each verified against Paddle.

    \b
    Every bundle holds the three models, the dictionary and manifest.json (pre/post-processing
    parameters, sha256 of every file, source checksums, tool versions). After each export the
    Paddle original and the artifact run on the same real inputs; a failed check fails the command
    and writes nothing. Example:
      edgeocr convert --out bundles --parity-images photos/
    """
    names: Tuple[str, ...] = tuple(v.strip() for v in variants.split(",") if v.strip())
    opts = ConvertOptions(
        out=out, models=models, det=det, rec=rec, cls=cls, dictionary=dictionary, variants=names,
        lite_version=lite_version, host_lite_version=host_lite_version, parity_images=parity_images, force=force,
    )
    report = convert(opts, progress=lambda msg: click.echo(msg, err=True))
    for v in report.variants:
        click.echo(f"{v.name:16s} {v.status:12s} {v.total_size / 1e6:6.2f} MB  {out / v.name if v.status == 'ok' else v.message}")
    click.echo(f"report: {out / 'report.md'}")
