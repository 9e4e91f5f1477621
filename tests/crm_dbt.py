"""Helpers for tests of the CRM rules in dbt (Salesforce: intermediate/crm/int_salesforce__*,
HubSpot: intermediate/crm_hubspot/int_hubspot__*): land export folders (or mutated copies of
one) into a DuckDB file, build the CRM's staging and intermediate models once, read the models'
rows as the canonical text the loader writes."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.canonical_schema import ENTITIES
from orchestration.lib.crm_landing import Crm, CrmSource, land_crm
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.sources import hubspot, salesforce

SALESFORCE_MODELS = "path:models/staging/salesforce path:models/intermediate/crm"
# The HubSpot models are tagged not_in_nightly_build: selected by path, as here.
HUBSPOT_MODELS = "path:models/staging/hubspot path:models/intermediate/crm_hubspot"
# dbt names the deleted rows of an export file and of a synced table with one reason.
DBT_DELETED_REASON = "deleted in Salesforce (IsDeleted or _fivetran_deleted = true)"

Edit = Callable[[list[str], list[list[str]]], None]


@dataclass(frozen=True)
class CrmRules:
    """How a CRM's sources are landed and which dbt models hold its rules (`int_<name>__*`)."""

    crm: Crm
    source: Callable[[Path, Mapping[str, Any], str], CrmSource]
    config_keys: tuple[str, ...]
    models: str

    @property
    def name(self) -> str:
        return self.crm.name


CRMS = {
    "salesforce": CrmRules(
        salesforce.SALESFORCE, salesforce.crm_source, salesforce.CONFIG_KEYS, SALESFORCE_MODELS
    ),
    "hubspot": CrmRules(hubspot.HUBSPOT, hubspot.crm_source, hubspot.CONFIG_KEYS, HUBSPOT_MODELS),
}


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
    base: Path,
    sources: Mapping[str, tuple[Path, Mapping[str, Any]]],
    selector: str = "",
    crm: str = "salesforce",
) -> Path:
    """Land every source (source_system -> (folder, source.yml config)) of the CRM `crm` into
    `base`/working.duckdb and `dbt build` its staging and intermediate models (or `selector`)."""
    rules = CRMS[crm]
    database = base / "working.duckdb"
    with duckdb.connect(str(database)) as con:
        landed = [
            rules.source(folder, config, system) for system, (folder, config) in sources.items()
        ]
        land_crm(con, rules.crm, landed, "load-1", rules.config_keys)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "build", "--profiles-dir", ".", "--target-path", str(base / "target"),
         "--select", *(selector or rules.models).split()],
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


def crm_rows(database: Path, crm: str, entity: str, source_system: str) -> list[dict[str, Any]]:
    """The rows of int_<crm>__<entity> of a source, canonical columns as canonical text, plus
    `source_file` and `source_row` (an int), in file and row order."""
    columns = [*ENTITIES[entity].column_names, "source_file", "source_row"]
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select {', '.join(columns)} from intermediate.int_{crm}__{entity} "
            "where source_system = ? order by source_file, source_row",
            [source_system],
        ).fetchall()
    records = []
    for row in rows:
        record = {c: canonical_text(v, c) for v, c in zip(row, columns, strict=True)}
        record["source_row"] = row[-1]
        records.append(record)
    return records


def salesforce_rows(database: Path, entity: str, source_system: str) -> list[dict[str, Any]]:
    return crm_rows(database, "salesforce", entity, source_system)


def crm_rejects(database: Path, crm: str, source_system: str) -> list[tuple[str, int, str]]:
    """(file name, row, reason) of every rejected landed row of a source, sorted."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select source_file, source_row, rejection_reason "
            f"from intermediate.int_{crm}__rejected_rows where source_system = ?",
            [source_system],
        ).fetchall()
    return sorted((Path(file).name, row, reason) for file, row, reason in rows)


def salesforce_rejects(database: Path, source_system: str) -> list[tuple[str, int, str]]:
    return crm_rejects(database, "salesforce", source_system)


def crm_outcomes(database: Path, crm: str, source_system: str) -> dict[tuple[str, bool], int]:
    """(file name, is kept) -> landed rows of a source, from int_<crm>__row_outcomes."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select source_file, is_kept, count(*) from intermediate.int_{crm}__row_outcomes "
            "where source_system = ? group by all",
            [source_system],
        ).fetchall()
    return {(Path(file).name, kept): count for file, kept, count in rows}
