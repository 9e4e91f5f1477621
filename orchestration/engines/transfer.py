"""Copies between the working DuckDB database and another engine, through files.

The working database's tables leave as CSV (for PostgreSQL's COPY) or Parquet (for Spark's
reader); an engine's tables come back the same way and are typed here from the engine's own
column types, so an empty table or an all-null column keeps its type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

# The raw schemas dbt reads as sources (dbt_project/models/staging/*/_*__sources.yml).
RAW_SCHEMAS = ("raw", "raw_hubspot", "raw_salesforce")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def source_tables(manifest: dict) -> list[tuple[str, str]]:
    """(schema, table) of every dbt source, from the dbt manifest."""
    tables = {
        (source["schema"], source.get("identifier") or source["name"])
        for source in manifest.get("sources", {}).values()
    }
    return sorted(tables)


def duckdb_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    """(name, DuckDB type) of a table of the working database, in order."""
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()


def existing_tables(
    con: duckdb.DuckDBPyConnection, tables: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Those of `tables` the working database has (an optional export not loaded is absent)."""
    present = set(
        con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE'"
        ).fetchall()
    )
    return [table for table in tables if table in present]


_DECIMAL = re.compile(r"(?:DECIMAL|NUMERIC)\s*\((\d+)\s*,\s*(\d+)\)", re.IGNORECASE)


def nested_type(duckdb_type: str) -> bool:
    """A list, struct or map: leaves as its text form."""
    upper = duckdb_type.upper()
    return upper.endswith("]") or upper.startswith(("STRUCT", "MAP", "UNION"))


# Exported as text for every engine: types the others lack or read differently.
TEXT_EXPORT_TYPES = ("UUID", "JSON", "INTERVAL", "TIME", "BLOB")


def export_columns(columns: list[tuple]) -> str:
    """The select list that exports a table: nested values and the TEXT_EXPORT_TYPES as text."""
    return ", ".join(
        f"cast({quote(name)} as varchar) as {quote(name)}"
        if nested_type(kind) or kind.upper() in TEXT_EXPORT_TYPES
        else quote(name)
        for name, kind in columns
    )


def replace_duckdb_table(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    select_sql: str,
) -> int:
    """Create (or replace) `schema.table` of the working database with the DuckDB `columns`
    and fill it from `select_sql` (which reads an exported file). Returns its rows."""
    con.execute(f"create schema if not exists {quote(schema)}")
    target = f"{quote(schema)}.{quote(table)}"
    kind = con.execute(
        "select table_type from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if kind and kind[0] == "VIEW":
        con.execute(f"drop view {target}")
    definition = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
    con.execute(f"create or replace table {target} ({definition})")
    names = ", ".join(quote(name) for name, _ in columns)
    con.execute(f"insert into {target} ({names}) {select_sql}")
    return con.execute(f"select count(*) from {target}").fetchone()[0]


def decimal_type(precision: int | None, scale: int | None) -> str:
    """DuckDB's type for a decimal of an engine: DECIMAL when it fits, else DOUBLE."""
    if precision is None or precision > 38:
        return "DOUBLE"
    return f"DECIMAL({precision},{scale or 0})"


def parse_decimal(text: str) -> tuple[int, int] | None:
    match = _DECIMAL.fullmatch(text.strip())
    return (int(match[1]), int(match[2])) if match else None


def work_dir(working_db: Path, engine: str) -> Path:
    """A scratch folder for the files of one copy (beside the working database)."""
    path = working_db.parent / f".transfer-{engine}"
    path.mkdir(parents=True, exist_ok=True)
    return path
