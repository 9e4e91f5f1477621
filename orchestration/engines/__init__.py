"""The engine dbt builds the models on: DuckDB (the default), PostgreSQL or Apache Spark.

`SALES_KPI_ENGINE=duckdb|postgres|spark` picks it. Everything Python does to the warehouse
of another engine goes through one `Engine` (orchestration/engines/base.py); nothing outside
this package branches on the engine.

On every engine the night is the same: the landing files are read, typed and quarantined into
the working DuckDB database (the pipeline's own ledger: load log, quarantine, incremental
state); `Engine.load_raw` copies the typed raw tables into the engine with its own bulk reader;
dbt builds and tests the models there, into schemas named `work_<schema>`;
`Engine.mirror_built` copies the built tables back into the working database (for the DuckDB
file published beside the engine's marts); the quality gate checks `work_core`/`work_marts` in
the engine, through `Engine.quality_runner` (the raw suites check the working database); and
only when every check passed, `Engine.publish` swaps them in atomically where the engine's BI
users read them (`marts` and `core`). The published DuckDB file is written on every engine too
(the CLI's summary and the dashboard read it).
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.engines.base import Engine

ENGINE_ENV = "SALES_KPI_ENGINE"
ENGINES = ("duckdb", "postgres", "spark")


def engine_name() -> str:
    """The engine SALES_KPI_ENGINE names (default duckdb); a ValueError says what is valid."""
    name = (os.environ.get(ENGINE_ENV) or "duckdb").strip().lower()
    if name not in ENGINES:
        raise ValueError(
            f"{ENGINE_ENV}={os.environ.get(ENGINE_ENV)!r} is not an engine; set one of "
            f"{', '.join(ENGINES)} (or unset it for DuckDB)."
        )
    return name


def get_engine(
    name: str, home: os.PathLike | str, published_db: os.PathLike | str | None = None
) -> Engine:
    """The engine called `name`; `home` is the project's base folder (local servers' data);
    `published_db` the DuckDB engine's published file."""
    if name == "postgres":
        from orchestration.engines.postgres import PostgresEngine

        return PostgresEngine.from_env(home)
    if name == "spark":
        from orchestration.engines.spark import SparkEngine

        return SparkEngine.from_env(home)
    from orchestration.engines.duckdb import DuckDBEngine

    return DuckDBEngine(Path(published_db) if published_db else None)


__all__ = ["ENGINES", "ENGINE_ENV", "Engine", "engine_name", "get_engine"]
