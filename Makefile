# Two commands on a fresh machine: `make demo` and `make test`. Both create the virtualenv
# (.venv, exact pins from requirements.lock) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# No telemetry from any of the tools, ever.
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := False

.PHONY: install demo test lint format ui screenshots bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jeugdhulp demo

# Three workers on two cores: a pipeline run waits on dbt, GX and SQLite about a third of its
# time (user+sys ~0.7 of wall), so a third worker fills the cores. Files go out in collection
# order, the three longest fixtures first (tests/conftest.py, HEAVY_FIRST).
test: $(STAMP)
	$(BIN)/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=15

# ruff (lint and format check) for the Python, sqlfluff for the dbt SQL; `make format` fixes what
# the tools can fix themselves.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 2 dbt_project

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix --processes 2 dbt_project

ui: $(STAMP)
	$(BIN)/jeugdhulp ui

# needs a running UI (`make ui`) and Chromium; see orchestration/screenshots.py
screenshots: $(STAMP)
	$(BIN)/python -m orchestration.screenshots --out docs/screenshots

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .dagster_home
