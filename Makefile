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
# Installed packages come with their bytecode: every process (each dbt call, each CLI run)
# would otherwise compile the modules it imports (~12 CPU-s for Dagster + GX + dbt) when
# PYTHONDONTWRITEBYTECODE is set or site-packages is read-only.
export UV_COMPILE_BYTECODE := 1

# What an install leaves: the rest of its one line of output.
INSTALLED = $(BIN)/python -c "from importlib.metadata import distributions, version as v; \
	print('%d packages (dagster %s, dbt-core %s, great-expectations %s)' % (len(list(distributions())), \
	v('dagster'), v('dbt-core'), v('great-expectations')))"

.PHONY: install install-dev browser engines engine-duckdb engine-postgres engine-spark demo test lint format ui benchmark benchmark-crm clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# pip says only errors (--quiet twice): a local pip configuration's warnings are not ours.
$(UV): $(BIN)/python
	@$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins (fails if pyproject.toml and the lock disagree): the
# runtime packages for `make demo`/`make ui`; the dev group too (pytest, ruff, sqlfluff) for
# `make test`/`make lint`. Quiet: one line says what is installed.
$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	@printf "Installing the runtime packages pinned in uv.lock into $(VENV) ... "
	@$(UV) sync --locked --no-dev --inexact --quiet
	@$(INSTALLED)
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	@printf "Installing the dev tools pinned in uv.lock (pytest, ruff, sqlfluff) and the engine extras into $(VENV) ... "
	@$(UV) sync --locked --all-groups --all-extras --quiet
	@$(INSTALLED)
	@touch $@

install: $(VENV)/.installed

# Another engine (`make demo ENGINE=postgres|spark`): its dbt adapter and client (the uv.lock
# extras `postgres`, `spark`) and what the machine needs (Debian packages, as root or sudo):
# the PostgreSQL server for a local one (unless SALES_KPI_PG_HOST names a server), Java 17 for
# Spark. Each says what it installs.
ENGINE ?= duckdb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
define APT_INSTALL
	echo "Installing $(1) from the Debian packages ($(2))"; \
	$(SUDO) apt-get update -qq >/dev/null && \
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(1) >/dev/null
endef
$(VENV)/.installed-postgres: $(VENV)/.installed
	@printf "Installing the PostgreSQL extra (dbt-postgres, psycopg2) into $(VENV) ... "
	@$(UV) sync --locked --no-dev --inexact --extra postgres --quiet && echo done
	@touch $@
$(VENV)/.installed-spark: $(VENV)/.installed
	@printf "Installing the Spark extra (dbt-spark, pyspark) into $(VENV) ... "
	@$(UV) sync --locked --no-dev --inexact --extra spark --quiet && echo done
	@touch $@
engine-postgres: $(VENV)/.installed-postgres
	@if [ -z "$$SALES_KPI_PG_HOST" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  $(call APT_INSTALL,postgresql,a local PostgreSQL server); fi
engine-spark: $(VENV)/.installed-spark
	@if ! command -v java >/dev/null 2>&1 && [ -z "$$JAVA_HOME" ]; then \
	  $(call APT_INSTALL,openjdk-17-jre-headless,Java for Spark); fi
engine-duckdb:
engines: engine-postgres engine-spark

install-dev: $(VENV)/.installed-dev

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

demo: install engine-$(ENGINE)
	@SALES_KPI_ENGINE=$(ENGINE) $(BIN)/python -m orchestration.cli demo $(DEMO_ARGS)

# Two workers (pytest-xdist), one test file per worker at a time: module and session fixtures
# (the shared pipeline runs) stay in one process. PYTEST_ARGS narrows the run.
test: install-dev browser engines
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=40 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p warehouse
	SALES_KPI_WORKING_DB=$(abspath warehouse/lint.duckdb) $(BIN)/sqlfluff lint dbt_project/models dbt_project/data-tests

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ui: install
	@$(BIN)/python -m orchestration.cli prepare
	$(BIN)/dg dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# The dashboard: static pages generated from the published file, served offline on 127.0.0.1.
DASHBOARD_PORT ?= 8050
.PHONY: dashboard
dashboard: install
	@$(BIN)/python -m orchestration.dashboard --port $(DASHBOARD_PORT)

# Per scale: generate, a full night, an incremental night with one more day and the bare-DuckDB
# floor, then the ingest lines; CPU-s and peak RSS of each step's process tree, ratios, targets.
# BENCH_ARGS="--tiers 1,5,50" for more scales (default 1: 10-15 min), --no-ingest to skip ingest.
# ENGINE=postgres|spark measures the nights on that engine (against the same DuckDB floor).
benchmark: install engine-$(ENGINE)
	@SALES_KPI_ENGINE=$(ENGINE) $(BIN)/python -m orchestration.cli benchmark $(BENCH_ARGS)

# A 1M-row Salesforce Task.csv in /tmp: DuckDB's bare read_csv vs landing vs staging (CPU, RSS).
benchmark-crm: install
	$(BIN)/python -m orchestration.lib.crm_benchmark $(CRM_BENCH_ARGS)

clean:
	rm -rf warehouse landing dbt_project/target dbt_project/logs .dagster_home
