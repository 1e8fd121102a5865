"""Build the demo APK without Gradle: aapt -> javac -> dx -> add dex, native libs, assets -> zipalign -> apksigner.

The steps a Gradle build would do, with the tools Debian ships (bookworm: aapt, zipalign, apksigner,
android-framework-res; bullseye via :mod:`downloads`: android.jar API 23 and dx):

1. ``aapt package``: binary manifest + resources.arsc, and ``R.java``; framework resources resolved against
   bookworm's ``framework-res.apk`` (the API 23 android.jar carries no resources.arsc). ``--debug-mode``
   marks the app debuggable, as a Gradle debug build would, so ``adb shell run-as`` can reach its files dir.
2. ``javac -source 8 -target 8 -bootclasspath android.jar`` of the app, the OCR core and R: the code is
   checked against API 23's classes (java.* included), so nothing newer than the phone has slips in.
3. ``dx --min-sdk-version=24`` of those classes + the ORT Java API (Android flavour, :mod:`ort_java`).
4. The APK zip: aapt's entries, ``classes.dex``, ``lib/arm64-v8a/*.so`` (ORT 1.29.0 from the npm aar) and
   the assets: every bundle under ``assets/bundles/<variant>/`` **stored uncompressed** (the app copies them
   to its files dir; uncompressed assets are also what ``AssetManager.openFd`` needs), sample images.
5. ``zipalign -p 4`` (stored entries on 4 bytes, .so on page boundaries), ``apksigner sign`` (v1+v2+v3)
   with a debug key generated on first use under ``$EDGEOCR_HOME/android`` (never in the repository).
"""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import downloads
import ort_java
from downloads import BuildError, require_tool, run

log = logging.getLogger("android_build")

ANDROID_DEMO = Path(__file__).resolve().parent.parent
APP_DIR = ANDROID_DEMO / "app"
CORE_SRC = ANDROID_DEMO / "core" / "src" / "main" / "java"
FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")
PACKAGE = "org.edgeocr.demo"
MIN_SDK = 24
TARGET_SDK = 29  # the framework-res.apk aapt links against is Android 10 (API 29)
VERSION_CODE = 1
VERSION_NAME = "0.1"
# Bundle formats the app's ONNX Runtime backend loads (.onnx and the ORT mobile format .ort).
APP_FORMATS = ("onnx", "ort")
ASSET_BUNDLES = "assets/bundles"
ASSET_SAMPLES = "assets/samples"
SAMPLES_NOTICE = "assets/NOTICE-samples.txt"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same inputs give the same unsigned APK
KEY_ALIAS = "androiddebugkey"
KEY_PASS = "android"  # the conventional Android debug-key password; the key is generated per machine


@dataclass(frozen=True)
class ApkConfig:
    """What goes into one APK build."""

    bundles: tuple[Path, ...]        # bundle folders, shipped as assets/bundles/<folder name>/
    samples: tuple[Path, ...]        # sample images, shipped as assets/samples/<name>
    out: Path                        # the signed APK
    build_dir: Path                  # intermediates (work/)
    samples_notice: str = ""         # licence note of the sample images (assets/NOTICE-samples.txt)
    # ort-java/ (+ jni-host/) are built once here and shared with jvm-ocr and the JUnit tests.
    ort_dir: Path = ANDROID_DEMO / "build"


@dataclass
class ApkSummary:
    """What was built, for the log and the tests."""

    apk: Path
    size: int
    seconds: float
    entries: dict[str, int] = field(default_factory=dict)  # category -> bytes (uncompressed)


def debug_keystore() -> Path:
    """``$EDGEOCR_HOME/android/debug.keystore``, created with keytool on first use."""
    ks = downloads.android_cache() / "debug.keystore"
    if ks.is_file():
        return ks
    keytool = require_tool("keytool", "a JDK")
    ks.parent.mkdir(parents=True, exist_ok=True)
    tmp = ks.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    log.info("generating a debug signing key: %s", ks)
    run([keytool, "-genkeypair", "-keystore", tmp, "-storetype", "PKCS12", "-storepass", KEY_PASS,
         "-keypass", KEY_PASS, "-alias", KEY_ALIAS, "-keyalg", "RSA", "-keysize", "2048", "-validity", "10000",
         "-dname", "CN=edgeocr debug,O=edgeocr,C=US"], f"keytool -genkeypair {ks}")
    tmp.replace(ks)
    return ks


def verify_bundle(bundle: Path) -> list[Path]:
    """manifest.json + the files it lists, after checking their sha256 (a bad bundle is never packed)."""
    from edgeocr.manifest import MANIFEST_NAME, load_bundle

    try:
        b = load_bundle(bundle, verify=True)
    except Exception as e:  # InputError / ChecksumError carry the path and the problem
        raise BuildError(f"{bundle}: {e}") from None
    files = [bundle / MANIFEST_NAME, b.dictionary_path] + [b.stage_path(s) for s in b.manifest.stages]
    if b.manifest.format not in APP_FORMATS:
        raise BuildError(f"{bundle}: format {b.manifest.format!r}; the demo app runs ONNX Runtime bundles only "
                         f"({', '.join(APP_FORMATS)})")
    return files


def _tools() -> dict[str, str]:
    return {name: require_tool(name, hint) for name, hint in (
        ("aapt", "Debian package aapt"), ("zipalign", "Debian package zipalign"),
        ("apksigner", "Debian package apksigner"), ("javac", "a JDK"), ("java", "a JDK"))}


def _java_sources(*roots: Path) -> list[Path]:
    return sorted(p for r in roots for p in r.rglob("*.java"))


def compile_classes(work: Path, r_java_dir: Path | None, ort_android_jar: Path, include_app: bool = True) -> Path:
    """javac of core + app (+ R) against android.jar API 23; returns the classes folder."""
    if not CORE_SRC.is_dir() or not _java_sources(CORE_SRC):
        raise BuildError(f"{CORE_SRC}: no OCR core sources (org.edgeocr.core) to compile")
    classes = work / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    classes.mkdir(parents=True)
    roots = [CORE_SRC] + ([APP_DIR / "src" / "main" / "java"] if include_app else []) + \
        ([r_java_dir] if r_java_dir else [])
    run(["javac", "-source", "8", "-target", "8", "-Xlint:-options", "-nowarn", "-encoding", "UTF-8",
         "-bootclasspath", downloads.android_jar(), "-cp", ort_android_jar, "-d", classes,
         *_java_sources(*roots)], f"javac of {'app + ' if include_app else ''}core against android.jar (API 23)")
    return classes


def build_apk(cfg: ApkConfig) -> ApkSummary:
    """Run every step; the APK appears at ``cfg.out`` only when all of them succeeded."""
    t0 = time.monotonic()
    tools = _tools()
    if not FRAMEWORK_RES.is_file():
        raise BuildError(f"{FRAMEWORK_RES}: missing (Debian package android-framework-res; `make setup`)")
    if not cfg.bundles:
        raise BuildError("no bundle to ship: give at least one bundle folder")
    bundle_files = {b: verify_bundle(b) for b in cfg.bundles}
    names = [b.name for b in cfg.bundles]
    if len(set(names)) != len(names):
        raise BuildError(f"bundle folder names must differ (they become assets/bundles/<name>): {names}")
    for s in cfg.samples:
        if not s.is_file():
            raise BuildError(f"{s}: sample image not found")
    jars = ort_java.build(cfg.ort_dir)
    libs = sorted(downloads.ort_android_libs().glob("*.so"))
    if not libs:
        raise BuildError(f"{downloads.ort_android_libs()}: no .so files for {downloads.ANDROID_ABI}")
    dx_jar = downloads.dx_jar()

    work = cfg.build_dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    gen = work / "gen"
    gen.mkdir(parents=True)
    base = work / "base.ap_"
    log.info("[1/5] aapt package (manifest, resources)")
    run([tools["aapt"], "package", "-f", "-m", "-M", APP_DIR / "AndroidManifest.xml", "-S", APP_DIR / "res",
         "-I", FRAMEWORK_RES, "-J", gen, "-F", base, "--min-sdk-version", str(MIN_SDK),
         "--target-sdk-version", str(TARGET_SDK), "--version-code", str(VERSION_CODE),
         "--version-name", VERSION_NAME, "--debug-mode"], "aapt package")
    log.info("[2/5] javac -source 8 -target 8 against android.jar API 23 (app + core)")
    classes = compile_classes(work, gen, jars.android_jar)
    log.info("[3/5] dx --min-sdk-version=%d (app + core + ai.onnxruntime)", MIN_SDK)
    dex_dir = work / "dex"
    dex_dir.mkdir()
    run([tools["java"], "-jar", dx_jar, "--dex", f"--min-sdk-version={MIN_SDK}",
         f"--output={dex_dir / 'classes.dex'}", classes, jars.android_jar], "dx")

    log.info("[4/5] assembling: dex, lib/%s (%d .so), %d bundle(s) stored uncompressed, %d sample(s)",
             downloads.ANDROID_ABI, len(libs), len(cfg.bundles), len(cfg.samples))
    unaligned = work / "unaligned.apk"
    entries: dict[str, int] = {"dex": 0, "native libs": 0, "bundles": 0, "samples": 0, "manifest+resources": 0}

    def add(z: zipfile.ZipFile, arcname: str, src: Path, compress: int, category: str) -> None:
        info = zipfile.ZipInfo(arcname, date_time=ZIP_TIME)
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        with open(src, "rb") as f, z.open(info, "w") as dst:
            shutil.copyfileobj(f, dst, 1 << 20)
        entries[category] += src.stat().st_size

    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(unaligned, "w") as z:
        for item in zin.infolist():
            z.writestr(item, zin.read(item.filename), compress_type=item.compress_type)
            entries["manifest+resources"] += item.file_size
        add(z, "classes.dex", dex_dir / "classes.dex", zipfile.ZIP_DEFLATED, "dex")
        for so in libs:
            add(z, f"lib/{downloads.ANDROID_ABI}/{so.name}", so, zipfile.ZIP_DEFLATED, "native libs")
        for b, files in bundle_files.items():
            for f in files:
                add(z, f"{ASSET_BUNDLES}/{b.name}/{f.name}", f, zipfile.ZIP_STORED, "bundles")
        for s in cfg.samples:
            add(z, f"{ASSET_SAMPLES}/{s.name}", s, zipfile.ZIP_STORED, "samples")
        if cfg.samples and cfg.samples_notice:
            z.writestr(zipfile.ZipInfo(SAMPLES_NOTICE, date_time=ZIP_TIME), cfg.samples_notice)

    log.info("[5/5] zipalign -p 4, apksigner sign (debug key)")
    aligned = work / "aligned.apk"
    run([tools["zipalign"], "-f", "-p", "4", unaligned, aligned], "zipalign")
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = cfg.out.with_name(cfg.out.name + ".tmp")
    run([tools["apksigner"], "sign", "--ks", debug_keystore(), "--ks-pass", f"pass:{KEY_PASS}",
         "--key-pass", f"pass:{KEY_PASS}", "--ks-key-alias", KEY_ALIAS, "--min-sdk-version", str(MIN_SDK),
         "--v4-signing-enabled", "false", "--out", tmp_out, aligned], "apksigner sign")
    run([tools["apksigner"], "verify", "--min-sdk-version", str(MIN_SDK), tmp_out], "apksigner verify")
    tmp_out.replace(cfg.out)
    summary = ApkSummary(apk=cfg.out, size=cfg.out.stat().st_size, seconds=time.monotonic() - t0,
                         entries=entries)
    log.info("APK %s: %.1f MB in %.0f s (uncompressed: %s)", cfg.out, summary.size / 1e6, summary.seconds,
             ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in entries.items()))
    return summary


def _rejected(report: Path) -> dict[str, str]:
    """Variants the last ``edgeocr convert`` into a folder rejected (accuracy gate), with its reason."""
    try:
        variants = json.loads(report.read_text())["variants"]
        return {v["name"]: v.get("message", "") for v in variants if v.get("status") == "rejected"}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def build_missing_bundles(variants: list[str], search: Path, dest: Path) -> dict[str, Path]:
    """Bundle folder per variant: from ``search`` (e.g. ``out/bundles`` of ``make demo``) when it is there,
    else built by ``edgeocr convert`` into ``dest`` (from a clean checkout ``make android`` needs this).

    A quantized variant its accuracy gate rejects is left out with a warning, as ``make demo`` leaves it out
    (the rejection is remembered through ``dest/report.json``: delete ``dest`` to try again); no bundle at
    all is an error.
    """
    found = {v: search / v for v in variants if (search / v / "manifest.json").is_file()}
    missing = [v for v in variants if v not in found]
    if not missing:
        return found
    have = {v: dest / v for v in missing if (dest / v / "manifest.json").is_file()}
    rejected = {**_rejected(search / "report.json"), **_rejected(dest / "report.json")}
    # convert --force replaces dest: when one is missing there, rebuild all of them in one run.
    still = missing if any(v not in have and v not in rejected for v in missing) else []
    if still:
        edgeocr = Path(sys.executable).parent / "edgeocr"
        if not edgeocr.exists():
            raise BuildError(f"{edgeocr}: the edgeocr CLI is not installed next to {sys.executable} (`make setup`)")
        # Quantized variants need their fp32 parent in the same run.
        todo = (["onnx-fp32"] if any(v != "onnx-fp32" for v in still) and "onnx-fp32" not in still else []) + still
        log.info("bundles %s not in %s: building them with edgeocr convert into %s", ",".join(still), search, dest)
        for cmd in ([edgeocr, "models", "pull"],
                    [edgeocr, "convert", "--out", dest, "--force", "--variants", ",".join(todo)]):
            proc = subprocess.run([str(c) for c in cmd])
            if proc.returncode != 0:
                raise BuildError(f"`{' '.join(map(str, cmd))}` failed (exit {proc.returncode}); see its output above")
        have = {v: dest / v for v in missing if (dest / v / "manifest.json").is_file()}
        rejected = {**rejected, **_rejected(dest / "report.json")}
    for v in missing:
        if v not in have:
            why = rejected.get(v) or f"not written by edgeocr convert, see {dest / 'report.md'}"
            log.warning("warning: %s is left out of the APK: %s", v, why)
    found.update(have)
    out = {v: found[v] for v in variants if v in found}
    if not out:
        raise BuildError(f"none of the variants {','.join(variants)} could be built (see {dest / 'report.md'})")
    return out
