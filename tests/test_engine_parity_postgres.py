"""The same pipeline on PostgreSQL publishes the same marts as on DuckDB (tests/engine_parity.py
says how they are compared), and there a failing quality check blocks the publication while the
previous marts stay readable; a BI reader querying during a whole night sees one publication
or the next, never an error or a mix."""

from __future__ import annotations

import collections
import os
import threading
import time

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


class Reader(threading.Thread):
    """A BI tool on its own connection: one statement in a loop reading the publication's
    run id with the margins and row count of kpi_cac (one statement sees one snapshot)."""

    QUERY = (
        "select p.run_id, min(k.gross_margin), max(k.gross_margin), count(*) "
        "from marts._publication p cross join marts.kpi_cac k group by p.run_id"
    )

    def __init__(self, engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.answers: list[tuple] = []
        self.errors: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        connection = self.engine._connect()
        connection.autocommit = True
        try:
            while not self.done.is_set():
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(self.QUERY)
                        rows = cursor.fetchall()
                    self.answers.append(tuple(rows))
                except Exception as exc:  # what a BI tool would show its user
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.05)
        finally:
            connection.close()


@pytest.mark.usefixtures("postgres_env")
def test_postgres_gate_blocks_publication(datasets, tmp_path_factory):
    landing, as_of = datasets["tiny"]
    base = tmp_path_factory.mktemp("postgres_gate")
    os.environ["SALES_KPI_PG_DATABASE"] = "gate"
    try:
        settings, first = engine_run("postgres", landing, as_of, base)
        assert first.success, first
        engine = settings.warehouse_engine()
        # A BI reader queries while a whole night runs and publishes (gross margin 0.7).
        reader = Reader(engine)
        reader.start()
        try:
            _, second = engine_run("postgres", landing, as_of, base, {"gross_margin": 0.7})
        finally:
            time.sleep(1)
            reader.done.set()
            reader.join(timeout=60)
        assert second.success, second
        assert not reader.errors, reader.errors[:3]
        seen = collections.Counter()
        for (answer,) in reader.answers:  # one publication per answer, never a mix
            run_id, low, high, rows = answer
            margin = {first.run_id: 0.8, second.run_id: 0.7}[run_id]
            assert float(low) == float(high) == margin, answer
            assert rows > 0
            seen[run_id] += 1
        assert seen[first.run_id] and seen[second.run_id], seen

        # A gross margin of 150 % puts kpi_cac.gross_margin out of [0, 1]: the GX suite, run
        # in PostgreSQL, fails and the publication is blocked.
        _, bad = engine_run("postgres", landing, as_of, base, {"gross_margin": 1.5})
        assert not bad.published
        assert "marts/kpi_cac:gx_kpi_cac" in bad.failed_checks
        run_ids = engine.read_published("marts", "_publication").column("run_id").to_pylist()
        assert run_ids == [second.run_id]
        margins = engine.read_published("marts", "kpi_cac").column("gross_margin").to_pylist()
        assert all(m is None or float(m) == 0.7 for m in margins)
    finally:
        os.environ.pop("SALES_KPI_PG_DATABASE", None)
