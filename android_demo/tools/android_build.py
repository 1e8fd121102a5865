#!/usr/bin/env python3
"""Offline, Gradle-free build of the edgeocr Android demo and of the ORT Java pieces the JVM needs.

Run through the Makefile (``make android-jvm-deps``, ``make android``) or directly with the project's
interpreter: ``.venv/bin/python android_demo/tools/android_build.py --help``.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apk  # noqa: E402
import downloads  # noqa: E402
import ort_java  # noqa: E402

log = logging.getLogger("android_build")
ANDROID_DEMO = Path(__file__).resolve().parent.parent
DEFAULT_BUILD = ANDROID_DEMO / "build"
DEFAULT_APK = DEFAULT_BUILD / "edgeocr-demo.apk"
DEFAULT_VARIANTS = "onnx-fp32,onnx-int8"
# A few of PaddleOCR's own demo images (Apache-2.0) are copied into the APK at build time, never committed.
DEFAULT_SAMPLES = ("11.jpg", "00018069.jpg", "1.jpg")
SAMPLES_NOTICE = ("Sample images: PaddleOCR doc/imgs (https://github.com/PaddlePaddle/PaddleOCR), "
                  "Apache License 2.0.\n")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log every command run.")
def cli(verbose: bool) -> None:
    """Build the Android demo APK and the ORT Java API + host JNI library, without Gradle.

    Downloads (Debian trixie/bullseye via a private apt configuration, npm) are pinned by checksum and
    cached under $EDGEOCR_HOME/android.
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s")


@cli.command("jvm-deps")
@click.option("--build-dir", type=click.Path(path_type=Path), default=DEFAULT_BUILD, show_default=True,
              help="Where ort-java/ and jni-host/ are written.")
@click.option("--force", is_flag=True, help="Rebuild even when the inputs are unchanged.")
def jvm_deps(build_dir: Path, force: bool) -> None:
    """ai.onnxruntime Java API jars (javac --release 8) + libonnxruntime4j_jni.so for this host."""
    out = ort_java.build(build_dir.resolve(), force=force)
    click.echo(f"java -cp {out.jar}:... -Donnxruntime.native.path={out.jni_dir} ...")


@cli.command("apk")
@click.option("--bundle", "bundles", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A bundle folder to ship (repeatable). Default: --variants looked up in --bundles-dir.")
@click.option("--bundles-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("out/bundles"),
              show_default=True, help="Where `make demo` wrote the bundles.")
@click.option("--variants", default=DEFAULT_VARIANTS, show_default=True,
              help="Comma-separated variants to ship when no --bundle is given; missing ones are built with "
                   "`edgeocr convert` into BUILD_DIR/bundles.")
@click.option("--samples-dir", type=click.Path(path_type=Path, file_okay=False), envvar="EDGEOCR_PARITY_IMAGES",
              default=None, help="Folder of the sample images [env EDGEOCR_PARITY_IMAGES; default "
                                 "../shared/data/paddleocr_doc_imgs].")
@click.option("--sample", "samples", multiple=True, default=DEFAULT_SAMPLES, show_default=True,
              help="Sample image file names in --samples-dir (repeatable).")
@click.option("--no-samples", is_flag=True, help="Ship no sample image.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_APK, show_default=True,
              help="The signed APK to write.")
@click.option("--build-dir", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_BUILD,
              show_default=True, help="Intermediates (work/) and bundles built on demand (bundles/); the ORT "
                                      "Java jars are always in android_demo/build/ort-java.")
def apk_cmd(bundles: tuple[Path, ...], bundles_dir: Path, variants: str, samples_dir: Path | None,
            samples: tuple[str, ...], no_samples: bool, out: Path, build_dir: Path) -> None:
    """Build the signed demo APK (aapt, javac, dx, zipalign, apksigner; no Gradle)."""
    build_dir = build_dir.resolve()
    if not bundles:
        names = [v.strip() for v in variants.split(",") if v.strip()]
        if not names:
            raise click.BadParameter("no variant given", param_hint="--variants")
        bundles = tuple(apk.build_missing_bundles(names, bundles_dir, build_dir / "bundles").values())
    if samples_dir is None:
        samples_dir = ANDROID_DEMO.parent.parent / "shared" / "data" / "paddleocr_doc_imgs"
    sample_paths = () if no_samples else tuple(samples_dir / s for s in samples)
    summary = apk.build_apk(apk.ApkConfig(bundles=tuple(b.resolve() for b in bundles), samples=sample_paths,
                                          out=out.resolve(), build_dir=build_dir, samples_notice=SAMPLES_NOTICE))
    click.echo(f"{summary.apk}  {summary.size / 1e6:.1f} MB  ({summary.seconds:.0f} s)")


@cli.command("check-core")
@click.option("--build-dir", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_BUILD,
              show_default=True, help="Where check-core/ is written (ort-java/ is always android_demo/build/ort-java).")
def check_core(build_dir: Path) -> None:
    """Compile the OCR core exactly as the APK build does (Java 8, android.jar API 23's classes only)."""
    build_dir = build_dir.resolve()
    jars = ort_java.build(DEFAULT_BUILD)
    classes = apk.compile_classes(build_dir / "check-core", None, jars.android_jar, include_app=False)
    n = sum(1 for _ in classes.rglob("*.class"))
    click.echo(f"core compiles against android.jar API 23: {n} classes in {classes}")


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except downloads.BuildError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
