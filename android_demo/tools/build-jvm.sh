#!/usr/bin/env bash
# Build (only when a source changed) the JVM jar of the OCR core + the jvm-ocr entry:
#   android_demo/build/jvm-ocr/edgeocr-jvm.jar
# and make sure the ONNX Runtime Java API jar + host JNI library exist (`make android-jvm-deps`).
# Prints nothing on success; one `error:` line and a non-zero status otherwise. Used by jvm-ocr and run-junit.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="$HERE/build"
ORT_JAR="$BUILD/ort-java/onnxruntime-java.jar"
JNI_DIR="$BUILD/jni-host"
JAR="$BUILD/jvm-ocr/edgeocr-jvm.jar"
PY="${EDGEOCR_PYTHON:-$ROOT/.venv/bin/python}"

for tool in javac jar java; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: '$tool' not found: install a JDK (>= 11), e.g. apt-get install openjdk-17-jdk-headless" >&2; exit 2; }
done

if [ ! -f "$ORT_JAR" ] || [ ! -f "$JNI_DIR/libonnxruntime4j_jni.so" ]; then
  if [ ! -x "$PY" ]; then
    echo "error: $ORT_JAR is missing and $PY does not exist: run 'make setup android-jvm-deps' first" >&2
    exit 2
  fi
  if ! log="$("$PY" "$HERE/tools/android_build.py" jvm-deps 2>&1)"; then
    echo "$log" >&2
    echo "error: building the ONNX Runtime Java API failed ('make android-jvm-deps')" >&2
    exit 2
  fi
fi

SOURCES=("$HERE/core/src/main/java" "$HERE/jvm/src/main/java")
if [ -f "$JAR" ] && [ -z "$(find "${SOURCES[@]}" -name '*.java' -newer "$JAR" -print -quit)" ] \
   && [ "$JAR" -nt "$ORT_JAR" ]; then
  exit 0
fi
mkdir -p "$BUILD/jvm-ocr"
TMP="$(mktemp -d "$BUILD/jvm-ocr/.build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mapfile -t files < <(find "${SOURCES[@]}" -name '*.java' | sort)
# --release 8: the same bytecode level the APK's dx accepts, so the JVM runs the code the phone runs.
if ! javac --release 8 -nowarn -encoding UTF-8 -cp "$ORT_JAR" -d "$TMP/classes" "${files[@]}" >"$TMP/javac.log" 2>&1; then
  cat "$TMP/javac.log" >&2
  echo "error: compiling the OCR core failed (see above)" >&2
  exit 2
fi
jar cf "$TMP/edgeocr-jvm.jar" -C "$TMP/classes" .
mv -f "$TMP/edgeocr-jvm.jar" "$JAR"
