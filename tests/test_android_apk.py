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
    assert "application-debuggable" in out, out  # a debug build: `adb shell run-as` reaches the files dir


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


def _jni_mangle(text: str) -> str:
    out = []
    for ch in text:
        if ch == "/":
            out.append("_")
        elif ch == "_":
            out.append("_1")
        elif ch == ";":
            out.append("_2")
        elif ch == "[":
            out.append("_3")
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(f"_0{ord(ch):04x}")
    return "".join(out)


# The one native method of the ORT 1.21 Java API that the 1.29 JNI library no longer exports (ArmNN EP;
# the app never calls it). Everything else must resolve, or the phone would throw UnsatisfiedLinkError.
KNOWN_UNRESOLVED = {"ai/onnxruntime/OrtSession$SessionOptions.addArmNN(JJI)V"}


def test_every_ort_native_method_resolves_in_the_shipped_jni_lib(apk: Path, tmp_path: Path) -> None:
    """The ai.onnxruntime classes come from ORT 1.21.0, the JNI library from the 1.29.0 aar: every native
    method in the dex must have its JNI symbol (short or overload-long name) in libonnxruntime4j_jni.so."""
    with zipfile.ZipFile(apk) as z:
        (tmp_path / "classes.dex").write_bytes(z.read("classes.dex"))
        (tmp_path / "jni.so").write_bytes(z.read("lib/arm64-v8a/libonnxruntime4j_jni.so"))
    dump = _run([_tool("dexdump"), tmp_path / "classes.dex"])
    assert dump.returncode == 0, dump.stderr
    natives = re.findall(r"\(in L([^;]+);\)\s+name\s+: '([^']+)'\s+type\s+: '\(([^)]*)\)([^']*)'\s+"
                         r"access\s+: 0x[0-9a-f]+ \([^)]*NATIVE", dump.stdout)
    assert len(natives) > 100, f"only {len(natives)} native methods found in the dex"
    nm = _run([_tool("nm"), "-D", "--defined-only", tmp_path / "jni.so"])
    assert nm.returncode == 0, nm.stderr
    symbols = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    unresolved = set()
    for cls, name, args, ret in natives:
        short = f"Java_{_jni_mangle(cls)}_{_jni_mangle(name)}"
        if short not in symbols and f"{short}__{_jni_mangle(args)}" not in symbols:
            unresolved.add(f"{cls}.{name}({args}){ret}")
    assert unresolved == KNOWN_UNRESOLVED, f"native methods without a JNI symbol: {sorted(unresolved)}"


def _jar_natives(jar: Path) -> set[str]:
    """``pkg/Cls.name(desc)`` of every native method in a jar, read by javap (any class-file version)."""
    with zipfile.ZipFile(jar) as z:
        classes = [n[:-6].replace("/", ".") for n in z.namelist()
                   if n.startswith("ai/onnxruntime/") and n.endswith(".class")]
    proc = _run([_tool("javap"), "-p", "-s", "-cp", jar, *classes])
    assert proc.returncode == 0, proc.stderr
    out, cls = set(), None
    lines = proc.stdout.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(?:\S.*?)?(?:class|interface|enum) (\S+)", line)
        if m and not line.startswith(" "):
            cls = m.group(1).split("<")[0].replace(".", "/")
            # javap prints nested classes as Outer$Inner already
        elif " native " in line:
            name = re.search(r"(\w+)\(", line).group(1)
            desc = lines[i + 1].split("descriptor:")[1].strip()
            out.add(f"{cls}.{name}{desc}")
    return out


def test_ort_java_natives_match_the_android_ort_release(apk: Path, tmp_path: Path) -> None:
    """Same JNI contract as the aar's own (Java 17, undexable) classes.jar of ORT 1.29: every native method of
    our 1.21 build exists there with the same descriptor (a changed descriptor would crash on the phone)."""
    sys.path.insert(0, str(TOOLS))
    import downloads

    aar = downloads.ort_android_libs().parent.parent / "onnxruntime.aar"
    with zipfile.ZipFile(aar) as z:
        (tmp_path / "classes.jar").write_bytes(z.read("classes.jar"))
    ours = _jar_natives(ORT_BUILD / "ort-java" / "onnxruntime-java-android.jar")
    theirs = _jar_natives(tmp_path / "classes.jar")
    assert len(ours) > 100, sorted(ours)[:5]
    assert ours - theirs == KNOWN_UNRESOLVED, f"natives not in ORT 1.29's Java API: {sorted(ours - theirs)}"


def test_shipped_jni_lib_looks_up_only_what_our_api_has(apk: Path) -> None:
    """The 1.29 JNI library also calls *into* Java (constructs OnnxTensor, TensorInfo, OrtException ...): every
    class it names and every method descriptor it looks up must exist in the 1.21 classes we ship."""
    with zipfile.ZipFile(apk) as z:
        so = z.read("lib/arm64-v8a/libonnxruntime4j_jni.so")
    wanted_classes = {m.decode() for m in re.findall(rb"ai/onnxruntime/[A-Za-z0-9_$/]+", so)}
    wanted_descs = {m.decode() for m in re.findall(rb"\([A-Za-z0-9_$/;\[]*\)[A-Za-z0-9_$/;\[]+", so)}
    assert len(wanted_classes) > 5 and len(wanted_descs) > 5, (wanted_classes, wanted_descs)
    jar = ORT_BUILD / "ort-java" / "onnxruntime-java-android.jar"
    with zipfile.ZipFile(jar) as z:
        ours = {n[:-6] for n in z.namelist() if n.endswith(".class")}
    proc = _run([_tool("javap"), "-p", "-s", "-cp", jar, *sorted(c.replace("/", ".") for c in ours)])
    assert proc.returncode == 0, proc.stderr
    descs = set(re.findall(r"descriptor: (\(.*)", proc.stdout))
    assert wanted_classes <= ours, f"classes the JNI library needs but we lack: {sorted(wanted_classes - ours)}"
    assert wanted_descs <= descs, f"methods the JNI library looks up but we lack: {sorted(wanted_descs - descs)}"


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


def test_gate_rejected_variant_is_left_out_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`make android` ships what `make demo` ships: a quantized variant its accuracy gate rejected is left out
    (named, with the gate's reason), without re-running a conversion; no bundle at all is an error."""
    sys.path.insert(0, str(TOOLS))
    import apk as apk_build
    from downloads import BuildError

    search = tmp_path / "out"
    (search / "onnx-fp32").mkdir(parents=True)
    (search / "onnx-fp32" / "manifest.json").write_text("{}")
    (search / "report.json").write_text(json.dumps({"variants": [
        {"name": "onnx-fp32", "status": "ok", "message": ""},
        {"name": "onnx-int8", "status": "rejected", "message": "onnx-int8 loses 2.00 points of acc"}]}))
    with caplog.at_level("WARNING", logger="android_build"):
        got = apk_build.build_missing_bundles(["onnx-fp32", "onnx-int8"], search, tmp_path / "dest")
    assert got == {"onnx-fp32": search / "onnx-fp32"}
    assert "onnx-int8 is left out of the APK: onnx-int8 loses 2.00 points of acc" in caplog.text
    assert not (tmp_path / "dest").exists()  # nothing was converted
    with pytest.raises(BuildError, match="none of the variants onnx-int8"):
        apk_build.build_missing_bundles(["onnx-int8"], search, tmp_path / "dest")
