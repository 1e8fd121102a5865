"""ONNX Runtime's Java API (``ai.onnxruntime``) built from Debian's 1.21.0 source, plus a host JNI library.

Why build it: the only ORT Java classes on a reachable registry (the npm aar's ``classes.jar``) are Java 17
bytecode, which ``dx`` (the only dexer here) rejects. The 1.21.0 Java sources compile with
``javac --release 8`` once their 4 lambdas are rewritten (``ort-java-no-lambdas.patch``); their native-method
table matches the aar's 1.29 ``libonnxruntime4j_jni.so`` (except ``addArmNN``, which we never call).

Two jars, because ORT's ``ai.onnxruntime.platform.Fp16Conversions`` has a JVM and an Android flavour
(the JVM one uses ``MethodHandle.invokeExact``, which ``dx`` accepts only for API 26+):

- ``onnxruntime-java.jar`` — JVM flavour, for ``jvm-ocr`` and the JUnit tests;
- ``onnxruntime-java-android.jar`` — Android flavour, dexed into the APK.

For the JVM, ORT's JNI C sources are compiled with gcc against the ``libonnxruntime.so`` inside the PyPI
``onnxruntime`` wheel of ``.venv`` (so the JVM runs the same ORT as the Python runtime), into
``jni-host/`` next to ``libonnxruntime.so`` / ``.so.1`` links to that library. Load it with
``-Donnxruntime.native.path=<build>/jni-host``.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from downloads import ORT_SOURCE, BuildError, fetch_source, require_tool, run
from edgeocr.hashing import sha256_file

log = logging.getLogger("android_build")

TOOLS_DIR = Path(__file__).resolve().parent
PATCH = TOOLS_DIR / "ort-java-no-lambdas.patch"
SRC_TOP = "onnxruntime-1.21.0"
# Parts of the tarball the Java API and its JNI need (the full tree is ~400 MB unpacked).
SRC_MEMBERS = (f"{SRC_TOP}/java/src/main/", f"{SRC_TOP}/include/onnxruntime/",
               f"{SRC_TOP}/orttraining/orttraining/training_api/include/")


@dataclass(frozen=True)
class OrtJavaOutputs:
    """What ``android-jvm-deps`` produces (paths under the build dir)."""

    jar: Path          # JVM flavour
    android_jar: Path  # Android flavour (dexed into the APK)
    jni_dir: Path      # -Donnxruntime.native.path


def outputs(build_dir: Path) -> OrtJavaOutputs:
    return OrtJavaOutputs(jar=build_dir / "ort-java" / "onnxruntime-java.jar",
                          android_jar=build_dir / "ort-java" / "onnxruntime-java-android.jar",
                          jni_dir=build_dir / "jni-host")


def java_home() -> Path:
    """The JDK whose ``javac`` is on PATH (its ``include/jni.h`` is needed for the JNI build)."""
    javac = Path(require_tool("javac", "a JDK (openjdk-17-jdk-headless)")).resolve()
    home = javac.parent.parent
    if not (home / "include" / "jni.h").is_file():
        raise BuildError(f"{home}/include/jni.h: missing (javac at {javac} is not a full JDK)")
    return home


def wheel_onnxruntime() -> tuple[Path, str]:
    """(``libonnxruntime.so.X`` inside the installed onnxruntime wheel, its version)."""
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("onnxruntime: the Python package is not installed in this interpreter (run `make setup`)")
    capi = Path(list(spec.submodule_search_locations)[0]) / "capi"
    libs = sorted(capi.glob("libonnxruntime.so.*"))
    if not libs:
        raise BuildError(f"{capi}: no libonnxruntime.so.* in the onnxruntime wheel")
    return libs[0], importlib.metadata.version("onnxruntime")


def _extract_sources(tarball: Path, dest: Path) -> Path:
    log.info("unpacking the ORT Java/JNI sources from %s", tarball.name)
    with tarfile.open(tarball) as tf:
        members = [m for m in tf.getmembers() if m.name.startswith(SRC_MEMBERS)]
        tf.extractall(dest, members=members)
    top = dest / SRC_TOP
    require_tool("patch", "GNU patch")
    run(["patch", "-p1", "--batch", "--forward", "-d", top, "-i", PATCH], f"apply {PATCH.name}")
    return top


def _javac_jar(srcs: list[Path], out_jar: Path, work: Path, header_dir: Path | None = None) -> None:
    classes = work / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    classes.mkdir(parents=True)
    cmd = ["javac", "-nowarn", "--release", "8", "-encoding", "UTF-8", "-d", classes]
    if header_dir is not None:
        cmd += ["-h", header_dir]
    run(cmd + sorted(srcs), f"javac --release 8 of the ORT Java API ({out_jar.name})")
    out_jar.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_jar.with_suffix(".jar.tmp")
    run(["jar", "cf", tmp, "-C", classes, "."], f"jar {out_jar.name}")
    tmp.replace(out_jar)


def _java_sources(top: Path, flavour: str) -> list[Path]:
    main = top / "java" / "src" / "main"
    return sorted((main / "java").rglob("*.java")) + sorted((main / flavour).rglob("*.java"))


def build(build_dir: Path, force: bool = False) -> OrtJavaOutputs:
    """Build both jars and the host JNI library (skipped when the inputs are unchanged)."""
    out = outputs(build_dir)
    lib, version = wheel_onnxruntime()
    stamp_file = build_dir / "ort-java" / ".stamp.json"
    stamp = {"source": ORT_SOURCE.sha256, "patch": sha256_file(PATCH), "wheel_lib": str(lib),
             "wheel_version": version, "builder": sha256_file(Path(__file__))}
    done = [out.jar, out.android_jar, out.jni_dir / "libonnxruntime4j_jni.so",
            out.jni_dir / "libonnxruntime.so", out.jni_dir / "libonnxruntime.so.1"]
    if not force and stamp_file.exists() and all(p.exists() for p in done):
        try:
            if json.loads(stamp_file.read_text()) == stamp:
                log.info("ORT Java API + host JNI up to date in %s", build_dir)
                return out
        except ValueError:
            pass
    for tool, hint in (("javac", "a JDK"), ("jar", "a JDK"), ("gcc", "the C compiler")):
        require_tool(tool, hint)
    jhome = java_home()
    tarball = fetch_source()
    build_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ort-java-", dir=build_dir) as tmp:
        work = Path(tmp)
        top = _extract_sources(tarball, work / "src")
        headers = work / "jni-headers"
        _javac_jar(_java_sources(top, "jvm"), out.jar, work / "jvm", header_dir=headers)
        _javac_jar(_java_sources(top, "android"), out.android_jar, work / "android")
        # cmake would generate onnxruntime_config.h; the JNI reads only ORT_VERSION from it, which
        # OrtEnvironment.getVersion() reports: the version of the library it runs on (the wheel's).
        gen = work / "gen"
        gen.mkdir()
        (gen / "onnxruntime_config.h").write_text(f'#pragma once\n#define ORT_VERSION "{version}"\n')
        jni_tmp = work / "jni-host"
        jni_tmp.mkdir()
        for name in ("libonnxruntime.so", "libonnxruntime.so.1"):
            os.symlink(lib, jni_tmp / name)
        native = top / "java" / "src" / "main" / "native"
        log.info("gcc: libonnxruntime4j_jni.so against %s (onnxruntime %s)", lib.name, version)
        run(["gcc", "-O2", "-shared", "-fPIC", "-w",
             f"-I{jhome / 'include'}", f"-I{jhome / 'include' / 'linux'}", f"-I{headers}", f"-I{gen}",
             f"-I{native}", f"-I{top / 'include'}", f"-I{top / 'include' / 'onnxruntime'}",
             f"-I{top / 'include' / 'onnxruntime' / 'core' / 'session'}",
             f"-I{top / 'orttraining' / 'orttraining' / 'training_api' / 'include'}",
             *sorted(native.glob("*.c")), f"-L{jni_tmp}", "-l:libonnxruntime.so.1",
             "-Wl,-rpath,$ORIGIN", "-o", jni_tmp / "libonnxruntime4j_jni.so"],
            "gcc of ORT's JNI sources")
        if out.jni_dir.exists():
            shutil.rmtree(out.jni_dir)
        jni_tmp.rename(out.jni_dir)
    stamp_file.write_text(json.dumps(stamp, indent=1))
    log.info("wrote %s, %s, %s", out.jar, out.android_jar, out.jni_dir)
    return out
