"""Where the quality gate's SQL runs: one small interface over a DuckDB connection, a
PostgreSQL connection or a Spark session (orchestration/engines/ implement the last two).

SQL handed to a runner names its parameters `$name` (DuckDB's own style); each runner binds
them its engine's way. Every value bound is a scalar (a list is expanded by the caller), so
no engine needs array parameters. A failing query raises `QueryError` with the engine's
message, whatever the driver's own exception class is.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class QueryError(Exception):
    """A query the engine refused or failed (its message names the engine)."""


class SqlRunner(abc.ABC):
    """Runs the gate's queries on one engine. `dialect` picks the SQL (quality_sql)."""

    dialect: str = ""

    def quote(self, identifier: str) -> str:
        """An identifier quoted for the dialect."""
        if self.dialect == "spark":
            return "`" + str(identifier).replace("`", "``") + "`"
        return '"' + str(identifier).replace('"', '""') + '"'

    def describe(self) -> str:
        """Where the queries run, for messages."""
        return self.dialect

    def qualified(self, schema: str, table: str) -> str:
        """`schema.table`, quoted."""
        return f"{self.quote(schema)}.{self.quote(table)}"

    @abc.abstractmethod
    def fetchall(self, sql: str, named: Mapping[str, Any] | None = None) -> list[tuple]:
        """Every row of `sql`, its `$name` parameters bound from `named`."""

    @abc.abstractmethod
    def fetch_arrow(self, sql: str) -> pa.Table:
        """The result of `sql` as an Arrow table (no parameters)."""

    @abc.abstractmethod
    def columns(self, table: str) -> list[str]:
        """The column names of a qualified table, in table order; QueryError if it is absent."""

    def table_exists(self, schema: str, table: str) -> bool:
        try:
            self.columns(self.qualified(schema, table))
        except QueryError:
            return False
        return True

    def has_rowid(self, table: str) -> bool:
        """Whether rows have a stable order number (DuckDB's `rowid`) to report them in."""
        return False

    def close(self) -> None:  # noqa: B027 - most runners hold nothing to release
        """Release what the runner holds (a connection)."""


def used_parameters(sql: str, named: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters of `named` that `sql` names (`$name`)."""
    names = set(PARAMETER.findall(sql))
    return {key: value for key, value in (named or {}).items() if key in names}


class DuckDBRunner(SqlRunner):
    """The gate's queries on a DuckDB connection (the working database, read-only)."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, owned: bool = False) -> None:
        self.con = con
        self._owned = owned
        self.catalog = str(con.execute("select current_database()").fetchall()[0][0])

    def describe(self) -> str:
        rows = self.fetchall(
            "select path from duckdb_databases() where database_name = $catalog",
            {"catalog": self.catalog},
        )
        return str(rows[0][0]) if rows and rows[0][0] else self.catalog

    def qualified(self, schema: str, table: str) -> str:
        # With the catalog: a database file named like a schema (raw.duckdb holding schema
        # raw) makes `raw.table` ambiguous in DuckDB.
        return ".".join(self.quote(part) for part in (self.catalog, schema, table))

    def fetchall(self, sql: str, named: Mapping[str, Any] | None = None) -> list[tuple]:
        try:
            # fetchall: DuckDB 2 refuses new work while a result is partly fetched
            return self.con.execute(sql, used_parameters(sql, named)).fetchall()
        except duckdb.Error as exc:
            raise QueryError(f"DuckDB: {exc}") from exc

    def fetch_arrow(self, sql: str) -> pa.Table:
        try:
            return self.con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"DuckDB: {exc}") from exc

    def columns(self, table: str) -> list[str]:
        try:
            return list(self.con.sql(f"select * from {table} limit 0").columns)
        except duckdb.Error as exc:
            raise QueryError(f"DuckDB: {exc}") from exc

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.fetchall(
            "select count(*) from information_schema.tables where table_catalog = $catalog "
            "and lower(table_schema) = lower($schema) and lower(table_name) = lower($table)",
            {"catalog": self.catalog, "schema": schema, "table": table},
        )
        return bool(rows[0][0])

    def has_rowid(self, table: str) -> bool:
        try:
            self.con.execute(f"select rowid from {table} limit 0").fetchall()
        except duckdb.Error:
            return False
        return True

    def close(self) -> None:
        if self._owned:
            self.con.close()


def rows_to_arrow(names: list[str], rows: list[tuple]) -> pa.Table:
    """Rows of Python values (a DB-API cursor's) as an Arrow table."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table(
        {name: pa.array(list(values)) for name, values in zip(names, columns, strict=True)}
    )
