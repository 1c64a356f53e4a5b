# Two commands on a fresh machine: `make run` and `make test` (see README.md).
# The venv is (re)built whenever requirements.txt or pyproject.toml change.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ltrr-installed
PYTEST_ARGS ?=

.PHONY: setup run test test-fast lint airflow clean-state bench

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3" "setuptools==84.2.1" "wheel==0.48.0"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## Simulate the world if data/ has none, run the nightly DAG for the last day, print a summary.
run: setup
	$(VENV)/bin/ltrr run

## Set up and run the whole test suite (slow integration tests included, as in CI).
## The 30 slowest tests and fixtures are listed at the end, so CI logs say where the time goes.
test: setup
	$(PY) -m pytest --durations=30 $(PYTEST_ARGS)

## The suite without the slow integration tests.
test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

## Start the real Airflow services on 127.0.0.1 (UI, REST API, scheduler, dag-processor) with the DAG
## loaded; prints the URL, login and how to backfill. Ctrl-C stops them (docs/deployment.md).
airflow: setup
	$(VENV)/bin/ltrr airflow

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true

bench: setup
	$(PY) bench/bench_simulate.py --scales small medium

## Remove local state (Airflow/MLflow DBs, generated data). Keeps the venv.
clean-state:
	rm -rf .ltrr data bundles
