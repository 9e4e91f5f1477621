"""The quality-gate module (orchestration/lib/quality.py) on tiny DuckDB fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib import quality
from orchestration.lib.canonical_schema import ENTITIES, SQL_TYPES
from orchestration.lib.quality import (
    REFERENCE_KEY,
    GateSession,
    SuiteFormatError,
    SuiteSpec,
    build_expectation,
    expectation_class,
    find_references,
    load_suites,
    resolve_references,
    validate,
)

REPO_EXPECTATIONS = Path(__file__).resolve().parents[1] / "expectations"
LAYERS = {"marts": "marts", "raw": "raw"}


def _exp(type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"why": "test"}}


def _write_suite(root: Path, layer: str, table: str, expectations: list[dict]) -> Path:
    path = root / layer / f"{table}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    suite = {"table": table, "layer": layer, "description": "test", "expectations": expectations}
    path.write_text(json.dumps(suite, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """marts.dim_reps (r1, r2) and marts.kpi_rates (rates within [0, 1], reps r1/r2)."""
    path = tmp_path / "working.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_reps as select * from (values ('r1'), ('r2')) t(rep_id)"
        )
        con.execute(
            "create table marts.kpi_rates as select * from (values "
            "('r1', 0.25, 10), ('r2', 1.0, 20), ('r1', 0.0, 5), (null, 0.5, 1)"
            ") t(rep_id, rate, deals)"
        )
    return path


def _suites(tmp_path: Path, expectations: list[dict], table: str = "kpi_rates") -> list[SuiteSpec]:
    root = tmp_path / "expectations"
    _write_suite(root, "marts", table, expectations)
    return load_suites(root, layer="marts")


def _execute(database: Path, sql: str) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute(sql)


PASSING = [
    _exp("expect_table_row_count_to_be_between", min_value=1),
    _exp("expect_column_values_to_not_be_null", column="rate"),
    _exp("expect_column_values_to_be_between", column="rate", min_value=0, max_value=1),
    _exp("expect_column_values_to_be_between", column="deals", min_value=0),
]


def test_passing_table_passes(database: Path, tmp_path: Path) -> None:
    report = validate(database, _suites(tmp_path, PASSING), LAYERS, tmp_path / "quality")
    assert report.success, report.summary_text()
    [suite] = report.suites
    assert (suite.layer, suite.table, suite.evaluated, suite.failed) == ("marts", "kpi_rates", 4, 0)
    assert "✓ marts.kpi_rates 4/4 expectations" in report.summary_text()
    raw = json.loads((tmp_path / "quality/validations/marts__kpi_rates.json").read_text())
    assert raw["success"] is True
    assert len(raw["results"]) == 4
    summary = json.loads(report.results_json.read_text())
    assert summary["success"] is True


def test_null_in_not_null_column_fails_and_names_the_column(database: Path, tmp_path: Path) -> None:
    _execute(database, "update marts.kpi_rates set rate = null where deals = 20")
    report = validate(database, _suites(tmp_path, PASSING), LAYERS, tmp_path / "quality")
    assert not report.success
    [suite] = report.suites
    assert suite.failed == 1
    [message] = suite.failures
    assert "expect_column_values_to_not_be_null" in message
    assert "rate" in message
    assert "1 unexpected" in message
    assert "✗ marts.kpi_rates 3/4 expectations" in report.summary_text()


def test_out_of_range_rate_fails(database: Path, tmp_path: Path) -> None:
    _execute(database, "update marts.kpi_rates set rate = 1.5 where deals = 20")
    report = validate(database, _suites(tmp_path, PASSING), LAYERS, tmp_path / "quality")
    assert not report.success
    [message] = report.suites[0].failures
    assert "expect_column_values_to_be_between(column=rate)" in message
    assert "1.5" in message


REFERENCE = _exp(
    "expect_column_values_to_be_in_set",
    column="rep_id",
    value_set={REFERENCE_KEY: {"table": "dim_reps", "column": "rep_id"}},
)


def test_reference_check_passes_when_all_values_exist(database: Path, tmp_path: Path) -> None:
    report = validate(database, _suites(tmp_path, [REFERENCE]), LAYERS, tmp_path / "quality")
    assert report.success, report.summary_text()


def test_reference_check_fails_for_an_orphan_value(database: Path, tmp_path: Path) -> None:
    _execute(database, "insert into marts.kpi_rates values ('r9', 0.5, 3)")
    report = validate(database, _suites(tmp_path, [REFERENCE]), LAYERS, tmp_path / "quality")
    assert not report.success
    [message] = report.suites[0].failures
    assert "rep_id" in message
    assert "'r9'" in message


def test_reference_to_a_missing_table_fails_the_suite(database: Path, tmp_path: Path) -> None:
    bad = _exp(
        "expect_column_values_to_be_in_set",
        column="rep_id",
        value_set={REFERENCE_KEY: {"table": "dim_nothing", "column": "rep_id"}},
    )
    report = validate(database, _suites(tmp_path, [bad]), LAYERS, tmp_path / "quality")
    assert not report.success
    assert "dim_nothing" in report.suites[0].failures[0]


def test_missing_table_is_a_failed_suite_with_a_message(database: Path, tmp_path: Path) -> None:
    suites = _suites(tmp_path, PASSING, table="kpi_missing") + _suites(tmp_path, PASSING)
    report = validate(database, suites, LAYERS, tmp_path / "quality")
    assert not report.success
    by_table = {s.table: s for s in report.suites}
    missing = by_table["kpi_missing"]
    assert not missing.success
    assert "marts.kpi_missing does not exist" in missing.failures[0]
    assert by_table["kpi_rates"].success
    assert "marts.kpi_missing" in report.summary_text()


def test_unknown_expectation_type_fails_the_suite(database: Path, tmp_path: Path) -> None:
    suites = _suites(tmp_path, [_exp("expect_column_values_to_be_nul", column="rate")])
    report = validate(database, suites, LAYERS, tmp_path / "quality")
    assert not report.success
    assert (
        "unknown expectation type 'expect_column_values_to_be_nul'"
        in (report.suites[0].failures[0])
    )


def test_data_docs_are_built(database: Path, tmp_path: Path) -> None:
    report = validate(database, _suites(tmp_path, PASSING), LAYERS, tmp_path / "quality")
    assert report.data_docs_index == (tmp_path / "quality/data_docs/index.html").resolve()
    assert report.data_docs_index.is_file()
    assert "kpi_rates" in report.data_docs_index.read_text(encoding="utf-8")


def test_second_run_into_the_same_results_dir(database: Path, tmp_path: Path) -> None:
    results = tmp_path / "quality"
    suites = _suites(tmp_path, PASSING)
    assert validate(database, suites, LAYERS, results).success
    _execute(database, "update marts.kpi_rates set rate = 1.5 where deals = 20")
    second = validate(database, suites, LAYERS, results)
    assert not second.success
    summary = json.loads((results / "gate_summary.json").read_text())
    assert summary["success"] is False
    # Only the latest result per suite is kept, for Data Docs too.
    pages = list((results / "data_docs/validations").rglob("*.html"))
    assert len(pages) == 1


def test_separate_calls_accumulate_in_summary_and_data_docs(database: Path, tmp_path: Path) -> None:
    results = tmp_path / "quality"
    root = tmp_path / "expectations"
    _write_suite(root, "marts", "kpi_rates", PASSING)
    _write_suite(
        root, "marts", "dim_reps", [_exp("expect_column_values_to_be_unique", column="rep_id")]
    )
    for suite in load_suites(root):  # one call per suite, like one asset check per table
        assert validate(database, [suite], LAYERS, results).success
    summary = json.loads((results / "gate_summary.json").read_text())
    assert [s["name"] for s in summary["suites"]] == ["marts.dim_reps", "marts.kpi_rates"]
    index = (results / "data_docs/index.html").read_text(encoding="utf-8")
    assert "dim_reps" in index
    assert "kpi_rates" in index


def test_one_session_one_gx_context_and_data_docs_built_once(
    database: Path, tmp_path: Path, monkeypatch
) -> None:
    # The pipeline's checks validate one suite each through one session per run.
    contexts, builds = [], []
    make_context, build_docs = quality._make_context, quality._build_data_docs
    monkeypatch.setattr(quality, "_make_context", lambda *a: contexts.append(a) or make_context(*a))
    monkeypatch.setattr(quality, "_build_data_docs", lambda *a: builds.append(a) or build_docs(*a))
    results = tmp_path / "quality"
    root = tmp_path / "expectations"
    _write_suite(root, "marts", "kpi_rates", PASSING)
    _write_suite(
        root, "marts", "dim_reps", [_exp("expect_column_values_to_be_unique", column="rep_id")]
    )
    _write_suite(root, "raw", "missing", PASSING)
    dim_reps, kpi_rates = load_suites(root, layer="marts")
    session = GateSession(results)
    first = session.validate(database, [kpi_rates], LAYERS)
    second = session.validate(database, [dim_reps], LAYERS)
    again = session.validate(database, [kpi_rates], LAYERS)  # the same suite twice: fine
    (missing,) = load_suites(root, layer="raw")
    failed = session.validate(database, [missing], LAYERS)
    assert (first.success, second.success, again.success, failed.success) == (
        True,
        True,
        True,
        False,
    )
    assert failed.suites[0].failures == [f"table raw.missing does not exist in {database}"]
    assert first.data_docs_index is None
    assert not session.data_docs_index.exists()  # rendered once, at the end
    assert len(contexts) == 1
    assert builds == []
    summary = json.loads((results / "gate_summary.json").read_text())
    assert [s["name"] for s in summary["suites"]] == [
        "marts.dim_reps",
        "marts.kpi_rates",
        "raw.missing",
    ]
    assert summary["success"] is False
    assert summary["data_docs_index"] is None

    assert session.build_data_docs() == session.data_docs_index.resolve()
    assert len(builds) == 1
    assert session.build_data_docs() is None  # nothing validated since
    assert len(builds) == 1 and len(contexts) == 1
    index = session.data_docs_index.read_text(encoding="utf-8")
    assert "dim_reps" in index and "kpi_rates" in index
    pages = list((results / "data_docs/validations").rglob("*.html"))
    assert len(pages) == 2  # the latest result of each suite that ran
    summary = json.loads((results / "gate_summary.json").read_text())
    assert summary["data_docs_index"] == str(session.data_docs_index)


def test_database_is_not_locked_after_validate(database: Path, tmp_path: Path) -> None:
    validate(database, _suites(tmp_path, [REFERENCE]), LAYERS, tmp_path / "quality")
    # Another process (like dbt) can open the file read-write ...
    writer = (
        "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table marts.x (i int)')"
    )
    subprocess.run([sys.executable, "-c", writer, str(database)], check=True, timeout=60)
    # ... and so can this process (DuckDB refuses a read-write open while a read-only one is open).
    with duckdb.connect(str(database)) as con:
        con.execute("insert into marts.dim_reps values ('r3')")
        assert con.execute("select count(*) from marts.dim_reps").fetchall() == [(3,)]


def test_load_suites_checks_the_file_location(tmp_path: Path) -> None:
    path = _write_suite(tmp_path, "marts", "kpi_rates", PASSING)
    data = json.loads(path.read_text())
    data["table"] = "kpi_other"
    path.write_text(json.dumps(data))
    with pytest.raises(SuiteFormatError, match="do not match"):
        load_suites(tmp_path)


def test_references_are_resolved_without_touching_the_spec() -> None:
    kwargs = REFERENCE["kwargs"]
    assert find_references(kwargs) == [("dim_reps", "rep_id")]
    resolved = resolve_references(kwargs, {("dim_reps", "rep_id"): ["r1", "r2"]})
    assert resolved["value_set"] == ["r1", "r2"]
    assert REFERENCE_KEY in kwargs["value_set"]


# --- the suites in the repository ------------------------------------------------------------


def test_every_repository_suite_uses_real_gx_expectations() -> None:
    suites = load_suites(REPO_EXPECTATIONS)
    assert suites, f"no suites found in {REPO_EXPECTATIONS}"
    for suite in suites:
        for entry in suite.expectations:
            expectation_class(entry["type"])  # raises for a typo in the type
            kwargs = entry.get("kwargs", {})
            placeholders = {ref: ["x"] for ref in find_references(kwargs)}
            # Also checks the kwargs: GX expectations reject unknown or ill-typed arguments.
            build_expectation(entry | {"kwargs": resolve_references(kwargs, placeholders)})


def test_raw_suites_cover_every_entity() -> None:
    tables = {suite.table for suite in load_suites(REPO_EXPECTATIONS, layer="raw")}
    assert tables == set(ENTITIES)


from orchestration.lib.loader import AUDIT_COLUMNS  # noqa: E402 - the loader's own audit columns


def _valid_value(name: str, type_: str, allowed: tuple[str, ...] | None) -> Any:
    if allowed:
        return allowed[0]
    if name.endswith("currency"):
        return "JPY"
    if name == "corporate_number":
        return "1234567890123"
    return {
        "text": f"{name}-1",
        "integer": 5,
        "decimal": 100.5,
        "decimal6": 0.0067,
        "boolean": True,
        "date": date(2025, 4, 1),
        "month": date(2025, 4, 1),
        "timestamp": datetime(2025, 4, 1, 9, 30),
    }[type_]


@pytest.fixture
def raw_database(tmp_path: Path) -> Path:
    """Every raw table, typed as the loader types it, with one valid row.

    The file is named like its schema on purpose: `raw.<table>` is then ambiguous in DuckDB
    (catalog raw or schema raw) and the gate must still find the tables.
    """
    path = tmp_path / "raw.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        for entity in ENTITIES.values():
            columns = {c.name: SQL_TYPES[c.type] for c in entity.columns} | AUDIT_COLUMNS
            ddl = ", ".join(f"{name} {type_}" for name, type_ in columns.items())
            con.execute(f"create table raw.raw.{entity.name} ({ddl})")
            row = [_valid_value(c.name, c.type, c.allowed) for c in entity.columns]
            row += [
                "canonical",
                "landing/x.csv",
                2,
                "load-1",
                datetime(2025, 4, 2),
                "landing/x.csv",
            ]
            marks = ", ".join("?" for _ in row)
            con.execute(f"insert into raw.raw.{entity.name} values ({marks})", row)
    return path


def test_raw_suites_pass_on_valid_rows_and_catch_bad_ones(
    raw_database: Path, tmp_path: Path
) -> None:
    suites = load_suites(REPO_EXPECTATIONS, layer="raw")
    report = validate(raw_database, suites, {"raw": "raw"}, tmp_path / "ok")
    assert report.success, report.summary_text()
    _execute(raw_database, "update raw.raw.opportunities set currency = 'yen', amount = -1")
    _execute(raw_database, "update raw.raw.subscriptions set end_date = date '2025-03-01'")
    report = validate(raw_database, suites, {"raw": "raw"}, tmp_path / "bad")
    failed = {s.table: s.failures for s in report.failed_suites}
    assert set(failed) == {"opportunities", "subscriptions"}
    assert any("currency" in m and "'yen'" in m for m in failed["opportunities"])
    # A negative amount is a value defect of one row (dbt rule negative_amount),
    # flagged and kept out of the KPIs, not a reason to stop the whole raw layer.
    assert not any("amount" in m for m in failed["opportunities"])
    assert any("end_date" in m for m in failed["subscriptions"])
