"""Optional inputs, skipped row-count floors, offending rows named, the run report, CLI errors.

Unit-level on hand-made DuckDB files (no pipeline run), except the CLI test, whose broken
mapping stops the run at its first step.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from orchestration.lib.inputs import missing_required_inputs
from orchestration.lib.quality import load_suites, validate
from orchestration.pipeline import input_error_message
from orchestration.summary import issues_summary, quarantine_summary, run_report
from tests.conftest import FIXTURES

LAYERS = {"raw": "raw", "marts": "marts"}


def _exp(type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs}


def _suite(root: Path, layer: str, table: str, expectations: list[dict], **extra: Any) -> Path:
    path = root / layer / f"{table}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    suite = {"table": table, "layer": layer, "description": "test", **extra}
    path.write_text(json.dumps(suite | {"expectations": expectations}), encoding="utf-8")
    return path


def _execute(database: Path, *statements: str) -> None:
    with duckdb.connect(str(database)) as con:
        for sql in statements:
            con.execute(sql)


# ---------------------------------------------------------------------------------------------
# A suite's `requires`: the row-count floor applies only when its inputs were loaded
# ---------------------------------------------------------------------------------------------

ACTIVITY_MART = [
    _exp("expect_table_row_count_to_be_between", min_value=1),
    _exp("expect_column_values_to_not_be_null", column="calls"),
]


@pytest.fixture
def activity_db(tmp_path: Path) -> Path:
    """raw.activities (empty) and an empty marts.kpi_activity."""
    path = tmp_path / "working.duckdb"
    _execute(
        path,
        "create schema raw",
        "create schema marts",
        "create table raw.activities (activity_id varchar)",
        "create table marts.kpi_activity (rep_id varchar, calls bigint)",
    )
    return path


def _activity_suites(tmp_path: Path, requires: list[str] | None) -> list:
    extra = {"requires": requires} if requires is not None else {}
    _suite(tmp_path / "exp", "marts", "kpi_activity", ACTIVITY_MART, **extra)
    return load_suites(tmp_path / "exp", layer="marts")


def test_row_count_is_skipped_and_reported_when_a_required_input_is_empty(
    activity_db: Path, tmp_path: Path
) -> None:
    report = validate(
        activity_db, _activity_suites(tmp_path, ["activities"]), LAYERS, tmp_path / "q"
    )
    assert report.success, report.summary_text()
    [suite] = report.suites
    assert (suite.evaluated, suite.failed) == (1, 0)  # only the not-null expectation ran
    [skipped] = suite.skipped
    assert "expect_table_row_count_to_be_between" in skipped and "raw.activities empty" in skipped
    assert "skipped: expect_table_row_count_to_be_between" in report.summary_text()
    summary = json.loads(report.results_json.read_text())
    assert summary["suites"][0]["skipped"] == [skipped]


def test_row_count_applies_when_the_required_input_has_rows(
    activity_db: Path, tmp_path: Path
) -> None:
    _execute(activity_db, "insert into raw.activities values ('a1')")
    report = validate(
        activity_db, _activity_suites(tmp_path, ["activities"]), LAYERS, tmp_path / "q"
    )
    assert not report.success
    [suite] = report.suites
    assert suite.skipped == []
    [message] = suite.failures
    assert "expect_table_row_count_to_be_between" in message and "observed 0" in message


def test_row_count_applies_without_requires(activity_db: Path, tmp_path: Path) -> None:
    report = validate(activity_db, _activity_suites(tmp_path, None), LAYERS, tmp_path / "q")
    assert not report.success
    assert report.suites[0].skipped == []


def test_other_expectations_still_fail_when_the_row_count_is_skipped(
    activity_db: Path, tmp_path: Path
) -> None:
    _execute(activity_db, "insert into marts.kpi_activity values ('r1', null)")
    report = validate(
        activity_db, _activity_suites(tmp_path, ["activities"]), LAYERS, tmp_path / "q"
    )
    assert not report.success
    [suite] = report.suites
    assert len(suite.skipped) == 1
    [message] = suite.failures
    assert "expect_column_values_to_not_be_null(column=calls)" in message


def test_repository_suites_require_only_raw_tables_that_exist() -> None:
    root = Path(__file__).resolve().parents[1] / "expectations"
    raw_tables = {suite.table for suite in load_suites(root, layer="raw")}
    for suite in load_suites(root):
        assert set(suite.requires) <= raw_tables, suite.name
        if suite.layer == "raw":  # raw tables are optional: no unconditional floor
            types = {entry["type"] for entry in suite.expectations}
            assert "expect_table_row_count_to_be_between" not in types, suite.name


# ---------------------------------------------------------------------------------------------
# Failure messages name a few offending rows with their file and row
# ---------------------------------------------------------------------------------------------


def test_failure_names_five_offending_rows_with_file_and_row_then_the_rest(tmp_path: Path) -> None:
    database = tmp_path / "working.duckdb"
    # Seven negative amounts among ten rows: O1, O3, ..., O13 on file rows 2, 4, ..., 14.
    _execute(
        database,
        "create schema raw",
        "create table raw.opportunities as select 'O' || i as opportunity_id, "
        "case when i % 2 = 1 then -i else i end as amount, "
        "'landing/opportunities.csv' as _source_file, i + 1 as _row_number "
        "from range(0, 14) t(i)",
    )
    _suite(
        tmp_path / "exp",
        "raw",
        "opportunities",
        [
            _exp("expect_column_values_to_be_unique", column="opportunity_id"),
            _exp("expect_column_values_to_be_between", column="amount", min_value=0),
        ],
    )
    suites = load_suites(tmp_path / "exp", layer="raw")
    report = validate(database, suites, LAYERS, tmp_path / "q")
    [message] = report.suites[0].failures
    assert "7 unexpected of 14 rows" in message
    shown = [f"opportunity_id=O{i}" for i in (1, 3, 5, 7, 9, 11, 13) if f"=O{i} " in message]
    assert len(shown) == 5, message
    assert "(landing/opportunities.csv row 2): amount -1" in message
    assert "amount -9; and 2 more [expected min_value=0" in message


# ---------------------------------------------------------------------------------------------
# Leads or opportunities: the one required input
# ---------------------------------------------------------------------------------------------


def _raw_db(path: Path, leads: int, opportunities: int) -> Path:
    _execute(
        path,
        "create schema raw",
        f"create table raw.leads as select 'L' || i as lead_id from range({leads}) t(i)",
        "create table raw.opportunities as select 'O' || i as opportunity_id "
        f"from range({opportunities}) t(i)",
        "create table raw._load_log (load_id varchar, entity varchar, source_file varchar, "
        "rows_read bigint, rows_loaded bigint, rows_quarantined bigint, extra_columns varchar, "
        "loaded_at timestamp)",
        "insert into raw._load_log values ('run1', 'opportunities', 'landing/opportunities.csv', "
        "3, 0, 3, null, timestamp '2025-04-01 09:00')",
    )
    return path


def test_deals_without_leads_are_enough(tmp_path: Path) -> None:
    database = _raw_db(tmp_path / "w.duckdb", leads=0, opportunities=1)
    assert missing_required_inputs(database, tmp_path / "landing") is None


def test_leads_without_deals_are_enough(tmp_path: Path) -> None:
    database = _raw_db(tmp_path / "w.duckdb", leads=2, opportunities=0)
    assert missing_required_inputs(database, tmp_path / "landing") is None


def test_neither_leads_nor_deals_says_where_it_looked_and_what_to_do(tmp_path: Path) -> None:
    database = _raw_db(tmp_path / "w.duckdb", leads=0, opportunities=0)
    message = missing_required_inputs(database, tmp_path / "landing")
    assert message is not None
    assert str(tmp_path / "landing") in message
    assert "leads.csv" in message and "opportunities.csv" in message
    assert "landing/opportunities.csv: 3 rows read, 3 quarantined" in message
    assert "What to do" in message


# ---------------------------------------------------------------------------------------------
# The run report: quarantine by entity and reason kind, data quality issues by rule
# ---------------------------------------------------------------------------------------------


def _quarantine_db(path: Path) -> Path:
    _execute(
        path,
        "create schema raw",
        "create table raw._quarantine (load_id varchar, entity varchar, source_file varchar, "
        "row_number bigint, line_number bigint, reason varchar, raw_record varchar, "
        "quarantined_at timestamp)",
        "insert into raw._quarantine values "
        "('r', 'opportunities', 'o.csv', 2, null, 'amount: cannot read 12x as decimal', null, now()), "
        "('r', 'opportunities', 'o.csv', 3, null, 'amount: cannot read abc as decimal', null, now()), "
        "('r', 'opportunities', 'o.csv', 4, null, "
        "'amount: cannot read ? as decimal; opportunity_id: required value is empty', null, now()), "
        "('r', 'leads', 'l.csv', null, 7, 'malformed row: TOO MANY COLUMNS (x)', null, now())",
    )
    return path


def test_quarantine_is_grouped_by_column_and_kind_not_by_value(tmp_path: Path) -> None:
    text = quarantine_summary(_quarantine_db(tmp_path / "w.duckdb"))
    assert text is not None
    assert "Quarantined input rows: 4 " in text
    lines = text.splitlines()
    amount = [line for line in lines if "amount: cannot read as decimal" in line]
    assert len(amount) == 1 and amount[0].rstrip().endswith(" 3")
    assert any("opportunity_id: required value is empty" in line for line in lines)
    assert any("leads" in line and "malformed row" in line for line in lines)
    assert "12x" not in text and "abc" not in text


def test_no_quarantine_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _execute(path, "create schema raw")
    assert quarantine_summary(path) is None
    assert "Quarantined input rows: none" in run_report(path, None)


def test_issues_are_counted_by_entity_rule_and_severity(tmp_path: Path) -> None:
    published = tmp_path / "marts.duckdb"
    _execute(
        published,
        "create table data_quality_issues (rule_code varchar, severity varchar, entity varchar, "
        "record_id varchar, source_system varchar, source_file varchar, source_row bigint, "
        "offending_values varchar, excluded_from varchar, what_to_do varchar)",
        "insert into data_quality_issues values "
        "('close_before_create', 'error', 'opportunities', 'O1', 'canonical', 'o.csv', 2, "
        "'x', 'kpi_sales_cycle', 'fix'), "
        "('close_before_create', 'error', 'opportunities', 'O2', 'canonical', 'o.csv', 3, "
        "'x', 'kpi_sales_cycle', 'fix'), "
        "('unknown_owner', 'warning', 'opportunities', 'O3', 'canonical', 'o.csv', 4, "
        "'x', null, 'fix'), "
        "('unknown_owner', 'warning', 'activities', 'A1', 'canonical', 'a.csv', 2, "
        "'x', null, 'fix')",
    )
    text = issues_summary(published)
    assert text is not None and "Data quality issues flagged: 4 " in text
    rows = [line.split() for line in text.splitlines()[3:]]
    assert rows == [
        ["opportunities", "close_before_create", "error", "2"],
        ["activities", "unknown_owner", "warning", "1"],
        ["opportunities", "unknown_owner", "warning", "1"],
    ]
    assert str(published) in text


def test_published_file_without_the_issues_table_is_fine(tmp_path: Path) -> None:
    published = tmp_path / "marts.duckdb"
    _execute(published, "create table kpi_cac (x integer)")
    assert issues_summary(published) is None
    assert issues_summary(tmp_path / "absent.duckdb") is None


# ---------------------------------------------------------------------------------------------
# Input errors: recognised behind Dagster's wrapper, printed once by the CLI, exit code 2
# ---------------------------------------------------------------------------------------------


def test_input_error_is_found_behind_the_step_wrapper() -> None:
    cause = SimpleNamespace(
        cls_name="MappingError", message="MappingError: 商談一覧.csv: add X", cause=None
    )
    wrapper = SimpleNamespace(
        cls_name="DagsterExecutionStepExecutionError", message="Error in op", cause=cause
    )
    assert input_error_message(wrapper) == "商談一覧.csv: add X"
    cause.message = "orchestration.sources.base.MappingError: 商談一覧.csv: add X\n"
    assert input_error_message(wrapper) == "商談一覧.csv: add X"
    other = SimpleNamespace(cls_name="RuntimeError", message="boom", cause=None, context=None)
    assert input_error_message(other) is None


def _broken_mapping_landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    folder = landing / "jp_sfa"
    shutil.copytree(FIXTURES / "mapped_jp", folder)
    path = folder / "商談一覧.csv"
    text = path.read_bytes().decode("cp932")
    assert ",受注," in text
    path.write_bytes(text.replace(",受注,", ",保留中,", 1).encode("cp932"))
    return landing


def test_cli_prints_a_mapping_error_once_without_a_traceback(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from orchestration.cli import main

    landing = _broken_mapping_landing(tmp_path)
    monkeypatch.setenv("SALES_KPI_HOME", str(tmp_path))
    monkeypatch.setenv("SALES_KPI_LANDING_DIR", str(landing))
    for name in ("SALES_KPI_WORKING_DB", "SALES_KPI_QUALITY_DIR", "SALES_KPI_DBT_VARS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SALES_KPI_LOG_LEVEL", raising=False)
    status = main(["run"])
    out = capsys.readouterr()
    printed = out.out + out.err
    assert status == 2, printed
    assert printed.count("'保留中' (1 row)") == 1, printed
    assert "商談一覧.csv" in printed and "MappingError" not in printed
    assert "Traceback" not in printed and "Stack Trace" not in printed
    assert "fix the mapping/file and run again" in printed.lower()
    assert "Data Docs" not in printed


def test_cli_invalid_dbt_vars_is_a_configuration_error(monkeypatch, capsys) -> None:
    from orchestration.cli import main

    monkeypatch.setenv("SALES_KPI_DBT_VARS", "{not json")
    assert main(["run"]) == 2
    printed = capsys.readouterr().out
    assert printed.count("SALES_KPI_DBT_VARS is not valid JSON") == 1
    assert "Traceback" not in printed


# ---------------------------------------------------------------------------------------------
# Reporting currency from the data when the user did not set it
# ---------------------------------------------------------------------------------------------


def _currency_db(
    path: Path, opportunity_currencies: list[str], spend_currencies: list[str]
) -> Path:
    def values(currencies: list[str]) -> str:
        return ", ".join(f"('{c}')" for c in currencies) or "(null)"

    _execute(
        path,
        "create schema raw",
        f"create table raw.opportunities as select * from (values {values(opportunity_currencies)}) "
        "t(currency)",
        f"create table raw.spend as select * from (values {values(spend_currencies)}) t(currency)",
        "create table raw.targets as select * from (values (null), ('')) t(currency)",
    )
    return path


def test_one_currency_in_the_data_becomes_the_reporting_currency(tmp_path: Path) -> None:
    from orchestration.assets.transform import resolved_dbt_vars

    database = _currency_db(tmp_path / "w.duckdb", ["USD", "USD"], ["usd "])
    assert resolved_dbt_vars({"gross_margin": 0.7}, database) == {
        "gross_margin": 0.7,
        "reporting_currency": "USD",
    }
    # Set by the user: kept as is.
    assert resolved_dbt_vars({"reporting_currency": "JPY"}, database) == {
        "reporting_currency": "JPY"
    }


def test_several_currencies_keep_the_default(tmp_path: Path) -> None:
    from orchestration.lib.inputs import single_data_currency

    database = _currency_db(tmp_path / "w.duckdb", ["USD"], ["JPY"])
    assert single_data_currency(database) is None
    assert single_data_currency(_currency_db(tmp_path / "e.duckdb", [], [])) is None


def test_reference_to_an_empty_table_is_skipped_and_reported(tmp_path: Path) -> None:
    database = tmp_path / "working.duckdb"
    _execute(
        database,
        "create schema marts",
        "create table marts.dim_reps (rep_id varchar)",
        "create table marts.kpi_deals as select 'U9' as rep_id",
    )
    reference = {"$column_values": {"table": "dim_reps", "column": "rep_id"}}
    _suite(
        tmp_path / "exp",
        "marts",
        "kpi_deals",
        [_exp("expect_column_values_to_be_in_set", column="rep_id", value_set=reference)],
    )
    suites = load_suites(tmp_path / "exp", layer="marts")
    report = validate(database, suites, LAYERS, tmp_path / "q")
    assert report.success, report.summary_text()
    [skipped] = report.suites[0].skipped
    assert "referenced dim_reps.rep_id is empty" in skipped
    _execute(database, "insert into marts.dim_reps values ('U1')")  # now U9 is unknown
    report = validate(database, suites, LAYERS, tmp_path / "q2")
    assert not report.success and report.suites[0].skipped == []
