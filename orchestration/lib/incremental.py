"""Incremental nights: may tonight's dbt build update the activity facts in place?

The activity facts (core.fct_activities, intermediate.int_activity_daily: the largest tables)
are dbt incremental models. After every successful build the pipeline records, in the working
database (`raw._incremental_state`), what that build read: the files the raw tables held
(`raw._landed_files`, kept by the loader, with their content hashes), the code checksum, the
dbt vars and the watermark (the newest raw `_loaded_at` of the activities).

The next night updates the activity facts in place only when every difference from that record
is a new canonical activities file: nothing removed or changed, no other entity touched, the
same code and vars, and no Salesforce/HubSpot export (those are landed whole each night). dbt
then gets the watermark (SALES_KPI_INCREMENTAL_SINCE) and recomputes only the activities and
days the new files touch (dbt_project/macros/incremental/activity_batch.sql). Anything else, or
`cli run --full-refresh`, rebuilds every table (`dbt build --full-refresh`). Either way the marts
equal those of a full build on the same inputs (tests/test_incremental.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.lib.loader import raw_table_exists

STATE_TABLE = "_incremental_state"
LANDED_FILES_TABLE = "_landed_files"
# The one entity whose new files are applied in place: facts that only grow.
INCREMENTAL_ENTITY = "activities"
# Schemas the CRM exports are landed in, whole, on every run (orchestration/lib/crm_landing.py).
CRM_SCHEMAS = ("raw_salesforce", "raw_hubspot")
SINCE_ENV = "SALES_KPI_INCREMENTAL_SINCE"
PREVIOUS_AS_OF_ENV = "SALES_KPI_INCREMENTAL_PREVIOUS_AS_OF"


# The run tag that asks for a full refresh from the Dagster UI.
FULL_REFRESH_TAG = "sales_kpi/full_refresh"


def full_refresh_requested(settings_flag: bool, tags: Mapping[str, str] | None = None) -> bool:
    """`cli run --full-refresh` (SALES_KPI_FULL_REFRESH=1, Settings.full_refresh), or the run
    tag sales_kpi/full_refresh=true: reload every file and rebuild every table tonight."""
    tagged = str((tags or {}).get(FULL_REFRESH_TAG, "")).strip().lower()
    return settings_flag or tagged in ("1", "true", "yes")


@dataclass(frozen=True)
class BuildPlan:
    """How tonight's dbt build runs. `since`: the watermark handed to dbt (incremental);
    `reason`: why, in words for the run's log."""

    full_refresh: bool
    since: str | None
    reason: str
    # The last build's as-of date (YYYY-MM-DD): fct_kpi_daily keeps its activity-only rows up
    # to it; without it that table is recomputed whole.
    previous_as_of: str | None = None

    def dbt_args(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []

    def dbt_env(self) -> dict[str, str]:
        return {SINCE_ENV: self.since or "", PREVIOUS_AS_OF_ENV: self.previous_as_of or ""}


def landed_files(con: duckdb.DuckDBPyConnection) -> list[list[Any]] | None:
    """[entity, landing file, source system, size, SHA-256] of every file the raw tables hold,
    sorted; None when the loader keeps no such record (an older working database)."""
    if not raw_table_exists(con, LANDED_FILES_TABLE):
        return None
    rows = con.execute(
        f"select entity, landing_file, source_system, size_bytes, sha256 from raw.{LANDED_FILES_TABLE} "
        "order by entity, landing_file, source_system"
    ).fetchall()
    return [list(row) for row in rows]


def _crm_rows(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The landed CRM tables that hold rows."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in "
        f"({', '.join('?' for _ in CRM_SCHEMAS)}) and table_name not like '\\_%' escape '\\'",
        list(CRM_SCHEMAS),
    ).fetchall()
    return [
        f"{schema}.{name}"
        for schema, name in tables
        if con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    ]


def watermark(con: duckdb.DuckDBPyConnection) -> str | None:
    """The newest raw `_loaded_at` of the activities (as text), or None when there are none."""
    if not raw_table_exists(con, INCREMENTAL_ENTITY):
        return None
    value = con.execute(
        f"select cast(max(_loaded_at) as varchar) from raw.{INCREMENTAL_ENTITY}"
    ).fetchone()[0]
    return value


def last_build(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """What the last successful build read and how it ran (record_build), or None."""
    if not raw_table_exists(con, STATE_TABLE):
        return None
    row = con.execute(f"select state from raw.{STATE_TABLE}").fetchone()
    return json.loads(row[0]) if row else None


def _file_changes(before: list[list[Any]], now: list[list[Any]]) -> tuple[list, list]:
    """(files added, files changed or removed), each as [entity, landing file]."""
    old = {(e, f, s): (size, digest) for e, f, s, size, digest in before}
    new = {(e, f, s): (size, digest) for e, f, s, size, digest in now}
    added = [[key[0], key[1]] for key in new if key not in old]
    changed = [[key[0], key[1]] for key in old if new.get(key) != old[key]]
    return sorted(added), sorted(changed)


def plan_build(
    con: duckdb.DuckDBPyConnection, code: str, dbt_vars: dict[str, Any], requested_full: bool
) -> BuildPlan:
    """Tonight's build: incremental when only new activity files arrived since the last
    successful build (module docstring), else a full refresh, with the reason."""

    def full(reason: str) -> BuildPlan:
        return BuildPlan(True, None, f"full rebuild: {reason}")

    if requested_full:
        return full("requested (--full-refresh / SALES_KPI_FULL_REFRESH)")
    state = last_build(con)
    if state is None:
        return full("no earlier build in this working database")
    now = landed_files(con)
    if now is None:
        return full(f"the loader's file record raw.{LANDED_FILES_TABLE} is missing")
    if state.get("code") != code:
        return full("the dbt project, seeds, suites or pipeline code changed since the last build")
    if state.get("dbt_vars") != json.loads(json.dumps(dbt_vars, default=str)):
        return full("the dbt vars changed since the last build")
    crm = _crm_rows(con)
    if crm:
        return full(f"CRM exports are landed whole every night ({', '.join(crm[:3])})")
    added, changed = _file_changes(state.get("files") or [], now)
    if changed:
        entity, path = changed[0]
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        return full(f"{entity} file {path} changed or was removed{more}")
    others = [f"{entity} file {path}" for entity, path in added if entity != INCREMENTAL_ENTITY]
    if others:
        return full(
            f"new {others[0]}" + (f" and {len(others) - 1} more" if len(others) > 1 else "")
        )
    since = state.get("watermark")
    if since is None:
        return full("the last build had no activities")
    # The batch is the rows loaded after the watermark: a new file stamped at or before it (the
    # clock was set back, the database came from another machine) would be missed.
    early = [
        path
        for _, path in added
        if con.execute(
            f"select count(*) from raw.{LANDED_FILES_TABLE} where landing_file = ? "
            "and loaded_at <= cast(? as timestamp)",
            [path, since],
        ).fetchone()[0]
    ]
    if early:
        return full(f"new file {early[0]} has a load time not after the last build's ({since})")
    return BuildPlan(
        False,
        since,
        f"incremental: {len(added)} new activities file(s) since the build of "
        f"{state.get('built_at')}; the activity facts recompute only what they touch",
        state.get("as_of"),
    )


def record_build(
    con: duckdb.DuckDBPyConnection,
    code: str,
    dbt_vars: dict[str, Any],
    plan: BuildPlan,
    as_of: str | None,
) -> None:
    """After a successful build: what it read (`as_of`: its as-of date, YYYY-MM-DD), for the
    next night's plan, and how it ran."""
    state = {
        "as_of": as_of,
        "plan": {"full_refresh": plan.full_refresh, "since": plan.since, "reason": plan.reason},
        "code": code,
        "dbt_vars": json.loads(json.dumps(dbt_vars, default=str)),
        "files": landed_files(con) or [],
        "watermark": watermark(con),
        "built_at": con.execute("select cast(current_timestamp as varchar)").fetchone()[0],
    }
    con.execute(f"create or replace table raw.{STATE_TABLE} (state varchar)")
    con.execute(f"insert into raw.{STATE_TABLE} values (?)", [json.dumps(state, sort_keys=True)])
