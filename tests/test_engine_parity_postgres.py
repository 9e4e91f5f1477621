"""The same pipeline on PostgreSQL publishes the same marts as on DuckDB (tests/engine_parity.py
says how they are compared), and there a failing quality check blocks the publication while the
previous marts stay readable."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from tests import engine_parity
from tests.engine_parity import assert_parity, engine_run

# The shared module-scoped fixtures (each test module runs them once).
datasets = engine_parity.datasets
duckdb_runs = engine_parity.duckdb_runs
postgres_env = engine_parity.postgres_env

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("postgres_env")
def test_postgres_publishes_the_same_marts(datasets, duckdb_runs, tmp_path_factory):
    base = tmp_path_factory.mktemp("postgres")
    for name, (landing, as_of) in datasets.items():
        os.environ["SALES_KPI_PG_DATABASE"] = f"parity_{name}"
        try:
            settings, outcome = engine_run("postgres", landing, as_of, base / name)
            assert outcome.success, outcome
            engine = settings.warehouse_engine()

            def read(schema: str, engine=engine) -> dict[str, pa.Table]:
                return {
                    t: engine.read_published(schema, t) for t in engine.published_tables(schema)
                }

            assert assert_parity(duckdb_runs[name], read) >= 30  # every published table, compared
        finally:
            os.environ.pop("SALES_KPI_PG_DATABASE", None)


@pytest.mark.usefixtures("postgres_env")
def test_postgres_gate_blocks_publication(datasets, tmp_path_factory):
    landing, as_of = datasets["tiny"]
    base = tmp_path_factory.mktemp("postgres_gate")
    os.environ["SALES_KPI_PG_DATABASE"] = "gate"
    try:
        settings, good = engine_run("postgres", landing, as_of, base)
        assert good.success, good
        # A gross margin of 150 % puts kpi_cac.gross_margin out of [0, 1]: the GX suite fails.
        _, bad = engine_run("postgres", landing, as_of, base, {"gross_margin": 1.5})
        assert not bad.published
        assert "marts/kpi_cac:gx_kpi_cac" in bad.failed_checks
        engine = settings.warehouse_engine()
        run_ids = engine.read_published("marts", "_publication").column("run_id").to_pylist()
        assert run_ids == [good.run_id]
        margins = engine.read_published("marts", "kpi_cac").column("gross_margin").to_pylist()
        assert all(m is None or float(m) == 0.8 for m in margins)
    finally:
        os.environ.pop("SALES_KPI_PG_DATABASE", None)
