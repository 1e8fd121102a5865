"""The Android demo APK, built offline without Gradle and checked statically with the SDK tools Debian ships.

No device or emulator runs here: the APK is built by the same code path as `make android` (from the bundles
the test session makes), then `apksigner verify`, `zipalign -c`, `aapt dump badging`, `dexdump` and the bundle
bytes inside the APK prove what a phone would install. The ORT Java API + host JNI library of
`make android-jvm-deps` is proven by running the real det model through it on the JVM.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "android_demo" / "tools"
BUILD_SCRIPT = TOOLS / "android_build.py"
CORE_SRC = REPO / "android_demo" / "core" / "src" / "main" / "java"
APP_SRC = REPO / "android_demo" / "app" / "src" / "main" / "java"
ORT_BUILD = REPO / "android_demo" / "build"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed (apt package in requirements/apt.txt; run `make setup`)")
    return path


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def apk(tmp_path_factory: pytest.TempPathFactory, int8_bundles_dir: Path) -> Path:
    """The APK built by `android_build.py apk` (what `make android` runs) from the session's bundles."""
    out = tmp_path_factory.mktemp("apk")
    bundles = sorted(p.parent for p in int8_bundles_dir.glob("*/manifest.json"))
    assert int8_bundles_dir / "onnx-fp32" in bundles, f"no onnx-fp32 bundle in {int8_bundles_dir}"
    args = [sys.executable, BUILD_SCRIPT, "apk", "--out", out / "edgeocr-demo.apk", "--build-dir", out / "build"]
    for b in bundles:
        args += ["--bundle", b]
    proc = _run(args)
    assert proc.returncode == 0, f"APK build failed:\n{proc.stdout}\n{proc.stderr}"
    return out / "edgeocr-demo.apk"


def test_apk_is_signed(apk: Path) -> None:
    proc = _run([_tool("apksigner"), "verify", "--verbose", "--min-sdk-version", "24", apk])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verifies" in proc.stdout
    assert "Verified using v2 scheme (APK Signature Scheme v2): true" in proc.stdout


def test_apk_is_aligned(apk: Path) -> None:
    for flags in (["-c", "-v", "4"], ["-c", "-p", "-v", "4"]):
        proc = _run([_tool("zipalign"), *flags, apk])
        assert proc.returncode == 0 and "Verification successful" in proc.stdout, proc.stdout[-2000:] + proc.stderr


def test_badging(apk: Path) -> None:
    proc = _run([_tool("aapt"), "dump", "badging", apk])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^package: name='org\.edgeocr\.demo'", out, re.M), out
    assert "launchable-activity: name='org.edgeocr.demo.MainActivity'" in out, out
    assert "native-code: 'arm64-v8a'" in out, out
    assert "sdkVersion:'24'" in out, out


def _dex_classes(apk: Path, tmp_path: Path) -> set[str]:
    with zipfile.ZipFile(apk) as z:
        dexes = [n for n in z.namelist() if re.fullmatch(r"classes\d*\.dex", n)]
        assert dexes, "no classes.dex in the APK"
        names: set[str] = set()
        for d in dexes:
            (tmp_path / d).write_bytes(z.read(d))
            proc = _run([_tool("dexdump"), tmp_path / d])
            assert proc.returncode == 0, proc.stderr
            names |= set(re.findall(r"Class descriptor\s*:\s*'L([^;]+);'", proc.stdout))
    return {n.replace("/", ".") for n in names}


def _source_classes(root: Path) -> set[str]:
    return {".".join(p.relative_to(root).with_suffix("").parts) for p in root.rglob("*.java")
            if p.name != "package-info.java"}


def test_dex_holds_core_app_and_ort_api(apk: Path, tmp_path: Path) -> None:
    classes = _dex_classes(apk, tmp_path)
    core = _source_classes(CORE_SRC)
    assert core, f"no core sources under {CORE_SRC}"
    assert core <= classes, f"core classes missing from the dex: {sorted(core - classes)}"
    app = _source_classes(APP_SRC)
    assert app <= classes, f"app classes missing from the dex: {sorted(app - classes)}"
    for c in ("ai.onnxruntime.OrtEnvironment", "ai.onnxruntime.OrtSession", "ai.onnxruntime.OnnxTensor",
              "ai.onnxruntime.platform.Fp16Conversions", "org.edgeocr.demo.R"):
        assert c in classes, f"{c} missing from the dex"


def test_native_libs_are_arm64(apk: Path) -> None:
    with zipfile.ZipFile(apk) as z:
        libs = {n for n in z.namelist() if n.startswith("lib/")}
        assert libs == {"lib/arm64-v8a/libonnxruntime.so", "lib/arm64-v8a/libonnxruntime4j_jni.so"}, libs
        for n in libs:
            head = z.read(n)[:20]
            assert head[:4] == b"\x7fELF" and head[4] == 2, f"{n}: not a 64-bit ELF"
            assert int.from_bytes(head[18:20], "little") == 183, f"{n}: e_machine is not AArch64"


def test_bundles_inside_match_manifest_and_are_stored(apk: Path, int8_bundles_dir: Path) -> None:
    shipped = sorted(p.parent.name for p in int8_bundles_dir.glob("*/manifest.json"))
    with zipfile.ZipFile(apk) as z:
        in_apk = sorted({n.split("/")[2] for n in z.namelist() if n.startswith("assets/bundles/")})
        assert in_apk == shipped
        for name in shipped:
            prefix = f"assets/bundles/{name}/"
            manifest = json.loads(z.read(prefix + "manifest.json"))
            assert z.read(prefix + "manifest.json") == (int8_bundles_dir / name / "manifest.json").read_bytes()
            entries = [(s["file"], s["size"], s["sha256"]) for s in manifest["stages"].values()]
            d = manifest["dictionary"]
            entries.append((d["file"], d["size"], d["sha256"]))
            for fname, size, digest in entries:
                info = z.getinfo(prefix + fname)
                assert info.compress_type == zipfile.ZIP_STORED, f"{info.filename} is compressed"
                data = z.read(info)
                assert len(data) == size and hashlib.sha256(data).hexdigest() == digest, \
                    f"{info.filename}: bytes differ from the manifest's size/sha256"
            assert z.getinfo(prefix + "manifest.json").compress_type == zipfile.ZIP_STORED
        samples = [n for n in z.namelist() if n.startswith("assets/samples/")]
        assert samples, "no sample image in the APK"


def test_corrupt_bundle_is_refused(tmp_path: Path, int8_bundles_dir: Path) -> None:
    bad = tmp_path / "onnx-fp32"
    shutil.copytree(int8_bundles_dir / "onnx-fp32", bad)
    with open(bad / "det.onnx", "r+b") as f:
        f.seek(1000)
        f.write(b"\0" * 16)
    out = tmp_path / "bad.apk"
    proc = _run([sys.executable, BUILD_SCRIPT, "apk", "--bundle", bad, "--out", out, "--build-dir",
                 tmp_path / "build"])
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "det.onnx" in err[0] and "sha256" in err[0], proc.stderr
    assert not out.exists() and not out.with_name(out.name + ".tmp").exists()


def test_missing_tool_is_one_clear_line(tmp_path: Path, int8_bundles_dir: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # no aapt, no java on PATH
    proc = _run([sys.executable, BUILD_SCRIPT, "apk", "--bundle", int8_bundles_dir / "onnx-fp32", "--out",
                 tmp_path / "x.apk", "--build-dir", tmp_path / "build"], env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: aapt: not found on PATH (Debian package aapt; "
                                   "`make setup` installs it)"), proc.stderr


OrtSmoke = """
import ai.onnxruntime.*;
import java.nio.FloatBuffer;
import java.util.Collections;

public class OrtSmoke {
  public static void main(String[] args) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession s = env.createSession(args[0], new OrtSession.SessionOptions());
    String in = s.getInputNames().iterator().next();
    long[] shape = {1, 3, 64, 96};
    OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.allocate(3 * 64 * 96), shape);
    OrtSession.Result r = s.run(Collections.singletonMap(in, t));
    OnnxTensor o = (OnnxTensor) r.get(0);
    float[] f = new float[(int) o.getInfo().getNumElements()];
    o.getFloatBuffer().get(f);
    float max = 0;
    for (float v : f) max = Math.max(max, v);
    System.out.println(env.getVersion() + " " + java.util.Arrays.toString(o.getInfo().getShape()) + " " + max);
  }
}
"""


def test_ort_java_runs_det_on_the_jvm(tmp_path: Path, int8_bundles_dir: Path) -> None:
    """`make android-jvm-deps`: the Java API + host JNI run the real det model with the wheel's ORT."""
    proc = _run([sys.executable, BUILD_SCRIPT, "jvm-deps"])
    assert proc.returncode == 0, proc.stderr
    jar = ORT_BUILD / "ort-java" / "onnxruntime-java.jar"
    (tmp_path / "OrtSmoke.java").write_text(OrtSmoke)
    proc = _run([_tool("javac"), "--release", "8", "-cp", jar, "-d", tmp_path, tmp_path / "OrtSmoke.java"])
    assert proc.returncode == 0, proc.stderr
    proc = _run([_tool("java"), "-cp", f"{jar}:{tmp_path}", f"-Donnxruntime.native.path={ORT_BUILD / 'jni-host'}",
                 "OrtSmoke", int8_bundles_dir / "onnx-fp32" / "det.onnx"])
    assert proc.returncode == 0, proc.stderr
    import onnxruntime

    version, shape, peak = proc.stdout.split(" ", 2)[0], proc.stdout.split("]")[0] + "]", proc.stdout.split()[-1]
    assert version == onnxruntime.__version__
    assert shape.endswith("[1, 1, 64, 96]")
    assert 0.0 <= float(peak) < 0.01  # a blank page: no text probability anywhere
