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
DEMO_OUT ?= out/bundles

.PHONY: setup setup-apt setup-venv setup-oracle demo test bench clean

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
	$(PY) -m pip install -q -c requirements/pins.txt -e ".[onnx,convert,bench,vis,test]"
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
	$(EDGEOCR) convert --out $(DEMO_OUT) --force
	@echo "bundles: $(DEMO_OUT)/   report: $(DEMO_OUT)/report.md"

test: setup  ## the full test suite (what CI runs)
	$(PY) -m pytest -q

bench: setup  ## accuracy + latency of every demo bundle -> benchmarks/results/
	$(PY) -m edgeocr.benchmarks.run_all --bundles $(DEMO_OUT) --out benchmarks/results

clean:
	rm -rf $(VENV) $(ORACLE_VENV) out .cache
