# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
UV_VERSION ?= 0.13.9
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON := $(abspath $(BIN)/python)
# Runs of `make demo` and `make ui` share one Dagster instance, so the UI shows the demo run.
export DAGSTER_HOME ?= $(abspath .dagster_home)

.PHONY: install browser demo test lint format ui benchmark benchmark-crm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins (fails if pyproject.toml and the lock disagree).
$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --all-groups
	touch $@

install: $(VENV)/.installed

# Headless Chromium for the tests that render the dashboard and the Data Docs, with a Japanese
# font so that screenshots show the labels (Debian packages).
BROWSER_PACKAGES := chromium fonts-ipafont-gothic
browser:
	@if ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing $(BROWSER_PACKAGES) (headless browser for the page tests) from the Debian packages"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null && \
	  echo "Installed: $$(chromium --version)"; \
	fi

demo: install
	$(BIN)/python -m orchestration.cli demo $(DEMO_ARGS)

# Two workers (pytest-xdist), one test file per worker at a time: module and session fixtures
# (the shared pipeline runs) stay in one process. PYTEST_ARGS narrows the run.
test: install browser
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=40 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SALES_KPI_WORKING_DB=$(abspath warehouse/lint.duckdb) $(BIN)/sqlfluff lint dbt_project/models dbt_project/data-tests

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ui: install
	$(BIN)/python -m orchestration.cli prepare
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# The dashboard: static pages generated from the published file, served offline on 127.0.0.1.
DASHBOARD_PORT ?= 8050
.PHONY: dashboard
dashboard: install
	@$(BIN)/python -m orchestration.dashboard --port $(DASHBOARD_PORT)

benchmark: install
	$(BIN)/python -m orchestration.cli benchmark $(BENCH_ARGS)

# A 1M-row Salesforce Task.csv in /tmp: DuckDB's bare read_csv vs landing vs staging (CPU, RSS).
benchmark-crm: install
	$(BIN)/python -m orchestration.lib.crm_benchmark $(CRM_BENCH_ARGS)

clean:
	rm -rf warehouse landing dbt_project/target dbt_project/logs .dagster_home
