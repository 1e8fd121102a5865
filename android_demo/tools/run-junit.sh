#!/usr/bin/env bash
# JUnit 4 tests of the Java OCR core (android_demo/core/src/test/java) and of jvm-ocr's image decoding
# (android_demo/jvm/src/test/java), against golden values the Python
# runtime and OpenCV compute on this machine (tools/make_junit_fixtures.py). Ends with `N passed, N failed`;
# non-zero exit on any failure. Run by `make test` through tests/test_android_junit.py.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="$HERE/build"
PY="${EDGEOCR_PYTHON:-$ROOT/.venv/bin/python}"
JUNIT_JARS="${JUNIT_JARS:-/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar}"

for jar in ${JUNIT_JARS//:/ }; do
  [ -f "$jar" ] || { echo "error: $jar is missing: install the Debian packages junit4 and libhamcrest-java ('make setup-apt')" >&2; exit 2; }
done
"$HERE/tools/build-jvm.sh"

OUT="$BUILD/junit"
rm -rf "$OUT"
mkdir -p "$OUT/classes"
"$PY" "$HERE/tools/make_junit_fixtures.py" "$OUT/fixtures.json" >/dev/null
CP="$BUILD/jvm-ocr/edgeocr-jvm.jar:$BUILD/ort-java/onnxruntime-java.jar:$JUNIT_JARS"
mapfile -t tests < <(find "$HERE/core/src/test/java" "$HERE/jvm/src/test/java" -name '*.java' | sort)
javac --release 8 -nowarn -encoding UTF-8 -cp "$CP" -d "$OUT/classes" "${tests[@]}"
mapfile -t classes < <(cd "$OUT/classes" && find . -name '*Test.class' | sed 's|^\./||; s|\.class$||; s|/|.|g' | sort)
exec java -cp "$OUT/classes:$CP" -Dedgeocr.fixtures="$OUT/fixtures.json" org.edgeocr.core.JunitMain "${classes[@]}"
