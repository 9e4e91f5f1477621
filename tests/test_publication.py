"""Publication: atomic replacement, readable by DuckDB 1.x storage, never blocked by readers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.publish import STORAGE_VERSION, publish_marts


def _working_db(path: Path, version: int, rows: int = 2_000) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists core")
        con.execute("create schema if not exists staging")
        con.execute(
            "create or replace table marts.kpi_test as "
            f"select {version} as version, i from range({rows}) t(i)"
        )
        con.execute(f"create or replace table core.dim_test as select {version} as version")
        con.execute("create or replace table staging.secret as select 'personal' as contact_email")
    return path


def test_publish_copies_only_marts_and_core(tmp_path):
    working = _working_db(tmp_path / "working.duckdb", 1)
    published = tmp_path / "pub" / "marts.duckdb"
    result = publish_marts(working, published, run_id="r1", as_of_date="2025-10-31")
    assert result.tables == {"core.dim_test": 1, "main.kpi_test": 2_000}
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from kpi_test").fetchone() == (2_000,)
        schemas = {s for (s,) in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert "staging" not in schemas
        tags = con.execute(
            "select tags from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
        run_id = con.execute("select run_id from _publication").fetchone()
    assert tags["storage_version"].startswith(STORAGE_VERSION)
    assert run_id == ("r1",)
    assert not list(published.parent.glob(".*tmp*"))


def test_publish_refuses_a_database_without_marts(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        con.execute("create table t as select 1")
    published = tmp_path / "marts.duckdb"
    with pytest.raises(RuntimeError, match="no marts"):
        publish_marts(tmp_path / "empty.duckdb", published)
    assert not published.exists()


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    seen, errors = [], []
    held = duckdb.connect(path, read_only=True)  # a BI tool keeping the file open
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            rows = held.execute("select min(version), max(version), count(*) from kpi_test").fetchone()
            seen.append(("held",) + rows)
        except Exception as exc:  # any error is a failure of the publication contract
            errors.append(repr(exc))
        time.sleep(0.01)
    with open(out, "w") as f:
        f.write(repr((seen, errors)))
    """
)


def test_reader_holding_the_file_sees_old_or_new_and_never_blocks(tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(_working_db(tmp_path / "w1.duckdb", 1), published)
    script = tmp_path / "reader.py"
    script.write_text(READER)
    out = tmp_path / "seen.txt"
    reader = subprocess.Popen([sys.executable, str(script), str(published), str(out), "6"])
    try:
        time.sleep(1.5)  # the reader holds the file open now
        started = time.perf_counter()
        for version in (2, 3, 4):
            publish_marts(_working_db(tmp_path / f"w{version}.duckdb", version), published)
        publishing_seconds = time.perf_counter() - started
        # Another process (a new BI connection) sees the new marts while the reader holds the old.
        with duckdb.connect(str(published), read_only=True) as con:
            new_connection_version = con.execute("select max(version) from kpi_test").fetchone()
    finally:
        reader.wait(timeout=60)
    seen, errors = eval(out.read_text())
    assert errors == []
    assert publishing_seconds < 30  # three publications, never waiting for the reader's lock
    # Every read saw one complete version: never a mix, never a partial table.
    assert all(low == high and count == 2_000 for _, low, high, count in seen)
    assert len(seen) > 10
    assert {low for _, low, _, _ in seen} == {1}  # the open connection keeps the old file
    assert new_connection_version == (4,)  # new connections see the newest publication
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select distinct version from kpi_test").fetchall() == [(4,)]
