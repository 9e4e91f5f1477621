"""The same pipeline on Spark (a local session) publishes the same marts as on DuckDB
(tests/engine_parity.py says how they are compared), and there a failing quality check blocks the publication while the
previous marts stay readable."""

from __future__ import annotations

import pytest

from tests import engine_parity
from tests.engine_parity import assert_parity, engine_run

# The shared module-scoped fixtures (each test module runs them once).
datasets = engine_parity.datasets
duckdb_runs = engine_parity.duckdb_runs

pytestmark = pytest.mark.slow


def test_spark_publishes_the_same_marts_and_gates(datasets, duckdb_runs, tmp_path_factory):
    for name, (landing, as_of) in datasets.items():
        base = tmp_path_factory.mktemp(f"spark_{name}")
        settings, outcome = engine_run("spark", landing, as_of, base)
        assert outcome.success, outcome
        engine = settings.warehouse_engine()
        # Every published table compared (assert_parity fails on one missing).
        assert assert_parity(duckdb_runs[name], engine.read_all_published) >= 30
        if name != "tiny":
            continue
        _, bad = engine_run("spark", landing, as_of, base, {"gross_margin": 1.5})
        assert not bad.published
        assert "marts/kpi_cac:gx_kpi_cac" in bad.failed_checks
        published = engine.read_all_published("marts")
        assert published["_publication"].column("run_id").to_pylist() == [outcome.run_id]
        margins = published["kpi_cac"].column("gross_margin").to_pylist()
        assert all(m is None or float(m) == 0.8 for m in margins)
