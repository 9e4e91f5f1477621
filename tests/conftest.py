"""Shared fixtures: every test writes under tmp_path, with its own Dagster home."""

from __future__ import annotations

import orchestration.lib.gx_import  # noqa: F401  (before great_expectations)

# isort: split
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.settings import Settings
from orchestration.pipeline import PipelineOutcome, run_pipeline, settings_for

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
TINY_AS_OF = "2025-10-31"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name in (
        "SALES_KPI_AS_OF_DATE",
        "SALES_KPI_LANDING_DIR",
        "SALES_KPI_PUBLISHED_DB",
        # Left by a run on another engine in this process (the pipeline exports its settings).
        "SALES_KPI_ENGINE",
        "SALES_KPI_SCHEMA_PREFIX",
    ):
        monkeypatch.delenv(name, raising=False)


def copy_fixture(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def run_on(base: Path, landing: Path, as_of: str) -> tuple[Settings, PipelineOutcome]:
    settings = settings_for(base, landing, as_of)
    return settings, run_pipeline(settings)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> tuple[Settings, PipelineOutcome]:
    """The whole pipeline once on the hand-made tiny fixture."""
    base = tmp_path_factory.mktemp("tiny_run")
    landing = copy_fixture(TINY, base / "landing")
    return run_on(base, landing, TINY_AS_OF)


@pytest.fixture(scope="module")
def marts(tiny_run):
    """A read-only connection to the published file of the tiny run."""
    settings, outcome = tiny_run
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def query_rows(con, sql: str, *params) -> list[dict]:
    """Rows of a query as dicts keyed by column name."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def query_one(con, sql: str, *params) -> dict:
    """The single row of a query, as a dict."""
    rows = query_rows(con, sql, *params)
    assert len(rows) == 1, rows
    return rows[0]


# The longest test files, started first: pytest-xdist (--dist loadfile) hands files to the
# workers in collection order, so one worker runs the Spark parity file (about 15 minutes)
# while the other works through the rest, instead of it starting last.
LONGEST_FILES = ("test_engine_parity_spark.py", "test_engine_parity_postgres.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept
