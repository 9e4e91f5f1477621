"""A PostgreSQL server of a test's own (the pipeline's local-server code, on a free port)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.engines.local_postgres import ensure_server, stop_server
from orchestration.engines.postgres import PostgresEngine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[tuple[Path, int]]:
    """A started local server: (data folder, port). Its folder is outside pytest's own
    temporary folders, which only their owner may enter (the server runs as `postgres` when
    the tests run as root)."""
    base = Path(tempfile.mkdtemp(prefix="sales-kpi-pg-"))
    os.chmod(base, 0o755)
    data_dir, port = base / "data", free_port()
    ensure_server(data_dir, port, "postgres")
    try:
        yield data_dir, port
    finally:
        stop_server(data_dir)
        shutil.rmtree(base, ignore_errors=True)


def postgres_engine(port: int, database: str) -> PostgresEngine:
    """An engine on the test's server (as if SALES_KPI_PG_HOST named it), database created."""
    engine = PostgresEngine(
        host="127.0.0.1", port=port, user="postgres", password="", database=database
    )
    engine.prepare()
    return engine


def spark_create_work_table(spark, table: str) -> None:
    """In a Spark child process: `work_marts.<table>` and `work_marts.empty` from raw, as dbt
    would build them."""
    spark.sql("create database if not exists work_marts")
    for name in (table, "empty"):
        spark.sql(f"drop table if exists work_marts.{name}")
        spark.sql(f"create table work_marts.{name} using parquet as select * from raw.{name}")
