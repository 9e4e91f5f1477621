"""Helpers for tests of the Salesforce rules in dbt: land export folders (or mutated copies of
one) into a DuckDB file, build the Salesforce staging and intermediate models once, read the
models' rows as the canonical text the loader writes."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.canonical_schema import ENTITIES
from orchestration.lib.crm_landing import land_crm
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.sources.salesforce import CONFIG_KEYS, SALESFORCE, crm_source

SALESFORCE_MODELS = "path:models/staging/salesforce path:models/intermediate/crm"
# dbt names the deleted rows of an export file and of a synced table with one reason.
DBT_DELETED_REASON = "deleted in Salesforce (IsDeleted or _fivetran_deleted = true)"

Edit = Callable[[list[str], list[list[str]]], None]


def edit_csv(path: Path, edit: Edit) -> None:
    """Rewrite an export file in place: `edit(header, rows)` changes the rows list."""
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    edit(header, rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([header, *rows])


def set_field(row_id: str, column: str, value: str) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        for row in rows:
            if row[0] == row_id:
                row[header.index(column)] = value

    return edit


def add_copy(row_id: str, new_id: str, **fields: str) -> Edit:
    """Append a copy of the row with that Id, with a new Id and some fields changed."""

    def edit(header: list[str], rows: list[list[str]]) -> None:
        (original,) = [row for row in rows if row[0] == row_id]
        copy = list(original)
        copy[0] = new_id
        for column, value in fields.items():
            copy[header.index(column)] = value
        rows.append(copy)

    return edit


def drop_column(column: str) -> Edit:
    """Remove a column (header and every row)."""

    def edit(header: list[str], rows: list[list[str]]) -> None:
        index = header.index(column)
        del header[index]
        for row in rows:
            del row[index]

    return edit


def land_and_build(
    base: Path, sources: Mapping[str, tuple[Path, Mapping[str, Any]]], selector: str = ""
) -> Path:
    """Land every source (source_system -> (folder, source.yml config)) into `base`/working.duckdb
    and `dbt build` the Salesforce staging and intermediate models (or `selector`) on it."""
    database = base / "working.duckdb"
    with duckdb.connect(str(database)) as con:
        landed = [
            crm_source(folder, config, system) for system, (folder, config) in sources.items()
        ]
        land_crm(con, SALESFORCE, landed, "load-1", CONFIG_KEYS)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "build", "--profiles-dir", ".", "--target-path", str(base / "target"),
         "--select", selector or SALESFORCE_MODELS],
        cwd=DBT_PROJECT_DIR, env={**os.environ, "SALES_KPI_WORKING_DB": str(database)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    return database


def canonical_text(value: object, column: str) -> str | None:
    """A dbt value as canonical text (as orchestration/sources/base.py writes it)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if column == "rate":
            return f"{value:.6f}"
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    return str(value)


def salesforce_rows(database: Path, entity: str, source_system: str) -> list[dict[str, Any]]:
    """The rows of int_salesforce__<entity> of a source, canonical columns as canonical text,
    plus `source_file` and `source_row` (an int), in file and row order."""
    columns = [*ENTITIES[entity].column_names, "source_file", "source_row"]
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select {', '.join(columns)} from intermediate.int_salesforce__{entity} "
            "where source_system = ? order by source_file, source_row",
            [source_system],
        ).fetchall()
    records = []
    for row in rows:
        record = {c: canonical_text(v, c) for v, c in zip(row, columns, strict=True)}
        record["source_row"] = row[-1]
        records.append(record)
    return records


def salesforce_rejects(database: Path, source_system: str) -> list[tuple[str, int, str]]:
    """(file name, row, reason) of every rejected landed row of a source, sorted."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select source_file, source_row, rejection_reason "
            "from intermediate.int_salesforce__rejected_rows where source_system = ?",
            [source_system],
        ).fetchall()
    return sorted((Path(file).name, row, reason) for file, row, reason in rows)
