"""When a night may update the activity facts in place (orchestration/lib/incremental.py):
only new activities files since the last successful build, same code and vars, no CRM export.
Each case builds the loader's file record by hand in an in-memory database."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib import incremental

CODE = "code-1"
VARS = {"reporting_currency": "JPY"}


def _database(files: list[tuple[str, str, str]]) -> duckdb.DuckDBPyConnection:
    """A working database whose raw tables hold `files` ([entity, path, sha256]) and two
    activities loaded at 2025-11-01 09:00."""
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw._landed_files (entity varchar, landing_file varchar, "
        "source_system varchar, size_bytes bigint, sha256 varchar, load_id varchar, "
        "loaded_at timestamp, rows_read bigint, rows_loaded bigint, rows_quarantined bigint)"
    )
    _set_files(con, files)
    con.execute(
        "create table raw.activities as select * from (values "
        "('A1', timestamp '2025-11-01 09:00:00'), ('A2', timestamp '2025-11-01 09:00:00.5')) "
        "as t(activity_id, _loaded_at)"
    )
    return con


def _set_files(con: duckdb.DuckDBPyConnection, files: list[tuple[str, str, str]]) -> None:
    con.execute("delete from raw._landed_files")
    for entity, path, digest in files:
        con.execute(
            "insert into raw._landed_files values (?, ?, 'canonical', 10, ?, 'l', now(), 1, 1, 0)",
            [entity, path, digest],
        )


BASE = [
    ("activities", "/l/activities.csv", "a"),
    ("leads", "/l/leads.csv", "b"),
    ("users", "/l/users.csv", "c"),
]


def _built(files=BASE) -> duckdb.DuckDBPyConnection:
    con = _database(files)
    first = incremental.plan_build(con, CODE, VARS, requested_full=False)
    assert first.full_refresh and "no earlier build" in first.reason
    incremental.record_build(con, CODE, VARS, first, "2025-11-01")
    return con


def test_new_activities_files_only_are_incremental_from_the_watermark():
    con = _built()
    _set_files(con, [*BASE, ("activities", "/l/activities/2025-11-02.csv", "d")])
    plan = incremental.plan_build(con, CODE, VARS, requested_full=False)
    assert not plan.full_refresh, plan.reason
    # The newest raw load time of the last build, to the microsecond.
    assert plan.since == "2025-11-01 09:00:00.5"
    assert plan.dbt_args() == []
    assert plan.dbt_env() == {
        incremental.SINCE_ENV: "2025-11-01 09:00:00.5",
        incremental.PREVIOUS_AS_OF_ENV: "2025-11-01",
    }
    assert "1 new activities file" in plan.reason


def test_a_new_file_stamped_before_the_watermark_is_a_full_rebuild():
    """A clock set back would hide the file's rows from a batch of rows loaded after it."""
    con = _built()
    _set_files(con, [*BASE, ("activities", "/l/activities/late.csv", "d")])
    con.execute(
        "update raw._landed_files set loaded_at = timestamp '2025-11-01 08:00:00' "
        "where landing_file = '/l/activities/late.csv'"
    )
    plan = incremental.plan_build(con, CODE, VARS, requested_full=False)
    assert plan.full_refresh and "/l/activities/late.csv has a load time not after" in plan.reason


def test_nothing_new_is_incremental_too():
    con = _built()
    plan = incremental.plan_build(con, CODE, VARS, requested_full=False)
    assert not plan.full_refresh and "0 new activities file" in plan.reason


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        # An activities file re-sent with other content: its old rows are gone from raw.
        (
            [("activities", "/l/activities.csv", "a2"), *BASE[1:]],
            "activities file /l/activities.csv changed or was removed",
        ),
        (BASE[1:], "activities file /l/activities.csv changed or was removed"),
        ([*BASE[:1], ("leads", "/l/leads.csv", "b2"), BASE[2]], "leads file /l/leads.csv"),
        ([*BASE, ("opportunities", "/l/opportunities.csv", "e")], "new opportunities file"),
    ],
)
def test_any_other_change_is_a_full_rebuild(files, reason):
    con = _built()
    _set_files(con, files)
    plan = incremental.plan_build(con, CODE, VARS, requested_full=False)
    assert plan.full_refresh and plan.since is None, plan.reason
    assert reason in plan.reason
    assert plan.dbt_args() == ["--full-refresh"]
    assert plan.dbt_env() == {incremental.SINCE_ENV: "", incremental.PREVIOUS_AS_OF_ENV: ""}


def test_code_vars_crm_and_request_force_a_full_rebuild():
    con = _built()
    assert "code changed" in incremental.plan_build(con, "code-2", VARS, False).reason
    changed_vars = {"reporting_currency": "USD"}
    assert "dbt vars changed" in incremental.plan_build(con, CODE, changed_vars, False).reason
    assert "requested" in incremental.plan_build(con, CODE, VARS, True).reason
    assert incremental.full_refresh_requested(True)
    assert not incremental.full_refresh_requested(False, {"other": "true"})
    assert incremental.full_refresh_requested(False, {incremental.FULL_REFRESH_TAG: "true"})
    con.execute("create schema raw_salesforce")
    con.execute("create table raw_salesforce.task (id varchar)")
    assert not incremental.plan_build(con, CODE, VARS, False).full_refresh  # empty: no export
    con.execute("insert into raw_salesforce.task values ('00T1')")
    plan = incremental.plan_build(con, CODE, VARS, False)
    assert plan.full_refresh and "raw_salesforce.task" in plan.reason


def test_an_older_working_database_without_the_file_record_is_rebuilt():
    con = _built()
    con.execute("drop table raw._landed_files")
    plan = incremental.plan_build(con, CODE, VARS, requested_full=False)
    assert plan.full_refresh and "raw._landed_files is missing" in plan.reason


def test_the_state_records_how_the_build_ran():
    con = _built()
    state = incremental.last_build(con)
    assert state["plan"]["full_refresh"] is True
    assert state["files"] == [[e, p, "canonical", 10, d] for e, p, d in sorted(BASE)]
    assert state["watermark"] == "2025-11-01 09:00:00.5"
    assert state["as_of"] == "2025-11-01"
