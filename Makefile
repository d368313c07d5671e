# Two commands: `make demo` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export OLIGO_HOME ?= $(CURDIR)/data
# Telemetry off everywhere.
export DAGSTER_DISABLE_TELEMETRY := 1
export GE_USAGE_STATS := FALSE
export GX_ANALYTICS_ENABLED := false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
# Install from PyPI only, whatever the machine's pip configuration says.
export PIP_CONFIG_FILE := /dev/null
export UV_NO_CONFIG := 1
export UV_INDEX_URL := https://pypi.org/simple

DEMO_PATIENTS ?= 5000
DEMO_SEED ?= 1
DEMO_BATCH ?= demo-2026-10-31
DEMO_PORT ?= 8501
DEMO_DAGSTER_PORT ?= 3000

.PHONY: demo test env browser postgres lint bench clean dictionary

$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --index-url https://pypi.org/simple uv==$(UV_VERSION)
	$(BIN)/uv pip sync --python $(BIN)/python --require-hashes --compile-bytecode requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	touch $@

env: $(BIN)/.installed

# Debian's chromium for the browser tests; installed only when root and missing.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed"; \
	  else echo "chromium missing and not root: browser tests will skip (fail under CI=true)"; fi; \
	fi

# Debian's PostgreSQL for the DuckLake tests (the suite starts its own server on a loopback
# port); installed only when root and missing.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian postgresql for the DuckLake tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "postgresql could not be installed"; \
	  else echo "postgresql missing and not root: DuckLake tests will skip (fail under CI=true)"; fi; \
	fi

test: env browser postgres
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: env
	$(BIN)/ruff check pipelines dashboards tests

dictionary: env
	$(BIN)/oligo dictionary --out docs/data-dictionary.md

# Dashboards and the Dagster UI (webserver + daemon, loopback); Ctrl-C stops both.
demo: env
	$(BIN)/oligo demo --patients $(DEMO_PATIENTS) --seed $(DEMO_SEED) --batch-id $(DEMO_BATCH) --port $(DEMO_PORT) --dagster-port $(DEMO_DAGSTER_PORT)

bench: env
	$(BIN)/python -m pipelines.bench

clean:
	rm -rf $(VENV) data
