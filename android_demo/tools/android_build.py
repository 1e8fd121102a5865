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

import downloads  # noqa: E402
import ort_java  # noqa: E402

log = logging.getLogger("android_build")
ANDROID_DEMO = Path(__file__).resolve().parent.parent
DEFAULT_BUILD = ANDROID_DEMO / "build"


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
