# Two commands for a newcomer: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
ORACLE_VENV := .venv-oracle
PY := $(VENV)/bin/python
EDGEOCR := $(VENV)/bin/edgeocr
export EDGEOCR_HOME ?= $(CURDIR)/.cache/edgeocr
# Where `make demo` pulls the official models from; here: the shared mirror folder.
export EDGEOCR_MODEL_SOURCE ?= $(abspath $(CURDIR)/../shared/models)
# Real text images for the parity check after every export.
export EDGEOCR_PARITY_IMAGES ?= $(abspath $(CURDIR)/../shared/data/paddleocr_doc_imgs)
# Labelled test sets (accuracy gate, eval) and calibration sets (int8), side by side.
export EDGEOCR_DATA ?= $(abspath $(CURDIR)/../shared/data)
DEMO_OUT ?= out/bundles
# fp32 bundles first (parents), then the quantized ones; a variant over its accuracy budget is reported
# "rejected" and not written. `make demo`: what most users ship (static int8 gated on the full test sets, its ORT
# form, fp16); `make demo-all`: every variant (README "Quantized variants" gives the times).
DEMO_VARIANTS ?= onnx-fp32,lite-arm-fp32,lite-x86-fp32,onnx-int8,ort-int8,onnx-fp16
DEMO_ALL_VARIANTS ?= $(DEMO_VARIANTS),onnx-int8w,onnx-int8-dynamic,ort-fp32,lite-x86-int8,lite-x86-int16,lite-x86-slim,lite-arm-int8,lite-arm-int16,lite-arm-slim,onnx-slim

.PHONY: setup setup-apt setup-venv setup-oracle demo demo-all test bench bench-rapidocr quant-report clean android android-jvm-deps

setup: setup-apt setup-venv setup-oracle  ## install everything (apt + pip), idempotent

setup-apt:
	@pkgs=$$(grep -v '^\s*#' requirements/apt.txt | xargs); \
	missing=$$(for p in $$pkgs; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done | xargs); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.installed: setup.cfg pyproject.toml requirements/pins.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements/pins.txt -e ".[onnx,convert,bench,vis,test,ray]"
	$(PY) -m pip install -q -c requirements/pins.txt --no-deps rapidocr_onnxruntime==1.4.4 PyYAML six
	touch $@

setup-venv: $(VENV)/.installed

$(ORACLE_VENV)/.installed: requirements/oracle.txt
	$(PYTHON) -m venv $(ORACLE_VENV)
	$(ORACLE_VENV)/bin/python -m pip install -q --upgrade pip
	$(ORACLE_VENV)/bin/python -m pip install -q -r requirements/oracle.txt
	touch $@

setup-oracle: $(ORACLE_VENV)/.installed

demo: setup  ## pull PP-OCRv2, convert to ONNX + Paddle-Lite bundles with parity report
	$(EDGEOCR) models pull
	$(EDGEOCR) convert --out $(DEMO_OUT) --force --variants $(DEMO_VARIANTS)
	@echo "bundles: $(DEMO_OUT)/   report: $(DEMO_OUT)/report.md"

demo-all: setup  ## `make demo` plus every other variant (weight-only, dynamic, Paddle-Lite int8/int16/slim, ort-fp32)
	$(EDGEOCR) models pull
	$(EDGEOCR) convert --out $(DEMO_OUT) --force --variants $(DEMO_ALL_VARIANTS)
	@echo "bundles: $(DEMO_OUT)/   report: $(DEMO_OUT)/report.md"

test: setup  ## the full test suite (what CI runs)
	$(PY) -m pytest -q

bench: setup  ## accuracy + latency of every demo bundle -> benchmarks/results/
	$(PY) -m edgeocr.benchmarks.run_all --bundles $(DEMO_OUT) --out benchmarks/results

quant-report: setup  ## builds every variant into out/quant-bundles (over-budget ones kept, marked), measures size / accuracy / speed -> benchmarks/results/quantization.*
	$(PY) -m edgeocr.converters.quant_report --bundles out/quant-bundles --out benchmarks/results --gate-limit 50

bench-rapidocr: setup  ## edgeocr vs RapidOCR 1.4.4, same ONNX files and threads -> benchmarks/results/rapidocr_compare.*
	$(PY) -m edgeocr.benchmarks.rapidocr_compare --bundle $(DEMO_OUT)/onnx-fp32 \
	  --images $(EDGEOCR_DATA)/paddleocr_doc_imgs --images $(EDGEOCR_DATA)/paddleocr_doc_imgs/ch \
	  --images $(EDGEOCR_DATA)/icdar2015_det/ch4_test_images --max-per-dir 50 --threads 2 --rounds 2 --out benchmarks/results

# Bundles the demo APK ships (from $(DEMO_OUT) when `make demo` made them, else built into android_demo/build/bundles).
ANDROID_VARIANTS ?= onnx-fp32,onnx-int8
ANDROID_APK ?= android_demo/build/edgeocr-demo.apk

android: setup  ## the Android demo APK, no Gradle (aapt, javac, dx, zipalign, apksigner) -> $(ANDROID_APK)
	$(PY) android_demo/tools/android_build.py apk --bundles-dir $(DEMO_OUT) --variants $(ANDROID_VARIANTS) --out $(ANDROID_APK)

android-jvm-deps: setup-venv  ## ORT Java API jar + host JNI lib -> android_demo/build/{ort-java,jni-host} (for jvm-ocr / JUnit)
	$(PY) android_demo/tools/android_build.py jvm-deps

clean:
	rm -rf $(VENV) $(ORACLE_VENV) out .cache android_demo/build
