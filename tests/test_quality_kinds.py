"""Every kind of expectation the repository's suites use fails on a bad row (tiny DuckDB file),
and the gate reads only the columns a suite needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib import quality, quality_sql, sql_runner
from orchestration.lib.quality import load_suites, needed_columns, validate

REPO_EXPECTATIONS = Path(__file__).resolve().parents[1] / "expectations"

# Rows (id, n_ok, n_bad, hi, lo, code_ok, code_bad, k1, k2, note), with lineage columns:
# every `_bad` column and the pair (lo_bad > hi) break exactly one rule in row O3.
ROWS = [
    ("O1", 1, 1, 10, 5, "JP-001", "JP-001", "a", 1, "x"),
    ("O2", 2, 2, 20, 5, "JP-002", "JP-002", "a", 2, "y"),
    ("O3", 3, None, 30, 31, "JP-003", "bad code", "a", 1, "z"),
]
COLUMNS = "id, n_ok, n_bad, hi, lo, code_ok, code_bad, k1, k2, note, _source_file, _row_number"


def _exp(type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"why": "test"}}


# (kind, passing kwargs, failing kwargs, the text the failure message must hold)
KINDS = [
    ("expect_column_values_to_not_be_null", {"column": "n_ok"}, {"column": "n_bad"}, "id=O3"),
    (
        "expect_column_values_to_be_between",
        {"column": "hi", "min_value": 10, "max_value": 30},
        {"column": "hi", "min_value": 10, "max_value": 25},
        "id=O3",
    ),
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "hi", "column_B": "n_ok", "or_equal": False},
        {"column_A": "hi", "column_B": "lo", "or_equal": True},
        "1 unexpected",
    ),
    (
        "expect_column_values_to_be_in_set",
        {"column": "code_ok", "value_set": ["JP-001", "JP-002", "JP-003"]},
        {"column": "code_bad", "value_set": ["JP-001", "JP-002", "JP-003"]},
        "id=O3 (landing/t.csv row 4)",
    ),
    (
        "expect_table_columns_to_match_set",
        {"column_set": [c.strip() for c in COLUMNS.split(",")], "exact_match": True},
        {"column_set": ["id", "n_ok", "gone"], "exact_match": True},
        "gone",
    ),
    (
        "expect_column_values_to_match_regex",
        {"column": "code_ok", "regex": r"^JP-\d{3}$"},
        {"column": "code_bad", "regex": r"^JP-\d{3}$"},
        "id=O3",
    ),
    ("expect_column_values_to_be_unique", {"column": "id"}, {"column": "k1"}, "3 unexpected"),
    (
        "expect_table_row_count_to_be_between",
        {"min_value": 1},
        {"min_value": 4},
        "observed 3",
    ),
    (
        "expect_column_values_to_not_be_in_set",
        {"column": "code_ok", "value_set": ["bad code"]},
        {"column": "code_bad", "value_set": ["bad code"]},
        "id=O3",
    ),
    (
        "expect_compound_columns_to_be_unique",
        {"column_list": ["id", "k1"]},
        {"column_list": ["k1", "k2"]},
        "2 unexpected",
    ),
]


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every table read into pandas (quality._fetch_frame) during the test."""
    seen: list[str] = []
    fetch = quality._fetch_frame

    def spy(con, sql):
        seen.append(sql)
        return fetch(con, sql)

    monkeypatch.setattr(quality, "_fetch_frame", spy)
    return seen


def make_database(path: Path) -> Path:
    """A DuckDB file with table marts.t holding ROWS (and their lineage columns)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.t (id varchar, n_ok int, n_bad int, hi int, lo int, "
            "code_ok varchar, code_bad varchar, k1 varchar, k2 int, note varchar, "
            "_source_file varchar, _row_number bigint)"
        )
        for i, row in enumerate(ROWS):
            con.execute(
                f"insert into marts.t ({COLUMNS}) values ({', '.join('?' * 12)})",
                [*row, "landing/t.csv", i + 2],
            )
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return make_database(tmp_path / "working.duckdb")


def _suite(root: Path, expectations: list[dict], **extra: Any) -> list:
    path = root / "marts" / "t.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"table": "t", "layer": "marts", "expectations": expectations, "id_columns": ["id"]}
    path.write_text(json.dumps(body | extra), encoding="utf-8")
    return load_suites(root, layer="marts")


def test_every_kind_used_by_the_repository_has_a_failing_fixture() -> None:
    used = {e["type"] for s in load_suites(REPO_EXPECTATIONS) for e in s.expectations}
    assert used <= {kind for kind, *_ in KINDS}, used - {kind for kind, *_ in KINDS}


@pytest.mark.parametrize("kind", [k[0] for k in KINDS])
def test_each_kind_passes_on_good_rows_and_fails_on_a_bad_one(
    kind: str, database: Path, tmp_path: Path
) -> None:
    _, good, bad, text = next(k for k in KINDS if k[0] == kind)
    ok = validate(
        database,
        _suite(tmp_path / "ok", [_exp(kind, **good)]),
        {"marts": "marts"},
        tmp_path / "r_ok",
    )
    assert ok.success, ok.summary_text()
    report = validate(
        database,
        _suite(tmp_path / "bad", [_exp(kind, **bad)]),
        {"marts": "marts"},
        tmp_path / "r_bad",
    )
    assert not report.success
    (failure,) = report.suites[0].failures
    assert failure.startswith(kind), failure
    assert text in failure, failure


def test_only_the_needed_columns_are_read(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, queries: list[str]
) -> None:
    monkeypatch.setattr(quality, "SQL_ROUTE", False)  # the pandas route's projection
    columns = [c.strip() for c in COLUMNS.split(",")]
    suites = _suite(
        tmp_path,
        [
            _exp("expect_column_values_to_not_be_null", column="n_bad"),
            _exp(
                "expect_column_values_to_be_between",
                column="hi",
                min_value=0,
                row_condition='k1=="a"',
                condition_parser="pandas",
            ),
            _exp("expect_table_columns_to_match_set", column_set=columns, exact_match=True),
            _exp("expect_table_row_count_to_be_between", min_value=3, max_value=3),
        ],
    )
    report = validate(database, suites, {"marts": "marts"}, tmp_path / "r")
    (select,) = [q for q in queries if "marts" in q]
    read = select.split(" from ")[0]
    for column in ("id", "n_bad", "hi", "k1", "_source_file", "_row_number"):
        assert f'"{column}"' in read, read
    for column in ("n_ok", "lo", "code_ok", "code_bad", "k2", "note"):
        assert f'"{column}"' not in read, read
    # The column set and the row count still see the whole table; the failure still names
    # the row, its file and line.
    assert report.suites[0].failed == 1, report.summary_text()
    assert "id=O3 (landing/t.csv row 4)" in report.suites[0].failures[0]


def test_needed_columns_with_no_column_expectation_is_the_row_identity() -> None:
    suite = quality.SuiteSpec(
        table="t",
        layer="marts",
        description="",
        expectations=[_exp("expect_table_row_count_to_be_between", min_value=1)],
        path=Path("t.json"),
    )
    assert needed_columns(suite, ["a", "b"]) == []
    assert needed_columns(suite, ["a", "_row_number", "b"]) == ["_row_number"]


def test_a_row_count_suite_reading_no_column_counts_the_rows(
    database: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("create table marts.bare as select range as v from range(7)")
    root = tmp_path / "e"
    (root / "marts").mkdir(parents=True)
    (root / "marts" / "bare.json").write_text(
        json.dumps(
            {
                "table": "bare",
                "layer": "marts",
                "expectations": [_exp("expect_table_row_count_to_be_between", min_value=8)],
            }
        ),
        encoding="utf-8",
    )
    report = validate(database, load_suites(root), {"marts": "marts"}, tmp_path / "r")
    assert not report.success
    assert "observed 7" in report.suites[0].failures[0], report.summary_text()


# (A null against a value under the default ignore_row_if is left out: GX on pandas raises
# "boolean value of NA is ambiguous" on a nullable integer column; SQL counts it unexpected.)
# Extra forms the suites use (row_condition, strict_min, ignore_row_if) and `mostly`, each
# evaluated by both routes; rows O1..O3 of the fixture plus nulls in n_bad and code_bad.
EXTRA = [
    ("expect_column_values_to_be_between", {"column": "n_bad", "min_value": 2, "mostly": 0.5}),
    ("expect_column_values_to_be_between", {"column": "n_bad", "min_value": 2, "mostly": 0.4}),
    ("expect_column_values_to_be_between", {"column": "hi", "min_value": 10, "strict_min": True}),
    ("expect_column_values_to_be_between", {"column": "hi", "max_value": 20, "strict_max": True}),
    (
        "expect_column_values_to_be_between",
        {"column": "hi", "max_value": 15, "row_condition": 'k1=="a"', "condition_parser": "pandas"},
    ),
    (
        "expect_column_values_to_be_in_set",
        {
            "column": "code_bad",
            "value_set": ["JP-001"],
            "row_condition": "k2==1",
            "condition_parser": "pandas",
        },
    ),
    ("expect_column_values_to_not_be_null", {"column": "n_bad", "mostly": 0.6}),
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {
            "column_A": "n_bad",
            "column_B": "lo",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    ),
    ("expect_column_values_to_be_unique", {"column": "k2"}),
    ("expect_column_values_to_match_regex", {"column": "note", "regex": "[xz]"}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["k1", "n_bad"]}),
]
CASES = [(kind, kw) for kind, good, bad, _ in KINDS for kw in (good, bad)] + EXTRA
COMPARED = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "partial_unexpected_list",
)


def _raw_result(database: Path, root: Path, entry: dict, sql: bool, monkeypatch) -> dict:
    monkeypatch.setattr(quality, "SQL_ROUTE", sql)
    suites = _suite(root / "e", [entry])
    report = validate(database, suites, {"marts": "marts"}, root / "r")
    raw = json.loads((root / "r" / "validations" / "marts__t.json").read_text(encoding="utf-8"))
    (result,) = raw["results"]
    return {"success": result["success"], "report": report.suites[0].failures} | {
        key: result["result"].get(key) for key in COMPARED
    }


@pytest.mark.parametrize(
    ("kind", "kwargs"), CASES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CASES)]
)
def test_the_sql_route_gives_what_gx_on_pandas_gives(
    kind: str, kwargs: dict, database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _exp(kind, **kwargs)
    assert quality._sql_covered(entry) == (kind in quality_sql.SQL_KINDS)
    oracle = _raw_result(database, tmp_path / "pandas", entry, False, monkeypatch)
    got = _raw_result(database, tmp_path / "sql", entry, True, monkeypatch)
    assert got == oracle


def test_unsupported_row_conditions_stay_on_pandas_with_a_clear_error() -> None:
    entry = _exp(
        "expect_column_values_to_not_be_null",
        column="n_bad",
        row_condition='k1!="a"',
        condition_parser="pandas",
    )
    assert not quality._sql_covered(entry)
    with pytest.raises(quality_sql.UnsupportedCondition, match="only"):
        quality_sql.translate_condition(entry["kwargs"])


def test_the_sql_route_reads_no_column_into_pandas(
    database: Path, tmp_path: Path, queries: list[str]
) -> None:
    suites = _suite(tmp_path, [_exp(kind, **bad) for kind, _, bad, _ in KINDS])
    report = validate(database, suites, {"marts": "marts"}, tmp_path / "r")
    assert not [q for q in queries if '"marts"."t"' in q], queries
    assert report.suites[0].failed == len(KINDS), report.summary_text()


def test_decimals_and_dates_show_the_same_values_on_both_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pandas route reads decimals as Arrow-cast floats and dates as timestamps; the values
    # the DuckDB route reports must serialise the same (Data Docs, messages).
    database = tmp_path / "typed.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.t as select 'O' || i as id, "
            "(124811412 + i * 1.07)::decimal(18, 2) as amount, "
            "date '2025-01-01' + i::int as d1, date '2025-01-03' as d2 from range(6) r(i)"
        )
    cases = [
        ("expect_column_values_to_be_between", {"column": "amount", "max_value": 124811413}),
        ("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "d1", "column_B": "d2"}),
    ]
    for i, (kind, kwargs) in enumerate(cases):
        entry = _exp(kind, **kwargs)
        oracle = _raw_result(database, tmp_path / f"pandas{i}", entry, False, monkeypatch)
        got = _raw_result(database, tmp_path / f"sql{i}", entry, True, monkeypatch)
        assert oracle["unexpected_count"] >= 3, oracle
        assert got == oracle


def test_one_scan_per_suite_gives_what_one_query_per_expectation_gives(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every case in one suite: their counts come from one aggregate query; an expectation on
    # a column the table lacks fails alone (the shared query fails, each is then counted alone).
    entries = [_exp(kind, **kwargs) for kind, kwargs in CASES]
    scans: list[str] = []
    fetchall = sql_runner.DuckDBRunner.fetchall

    def spy(self, sql, named=None):
        scans.append(sql)
        return fetchall(self, sql, named)

    monkeypatch.setattr(sql_runner.DuckDBRunner, "fetchall", spy)
    validate(database, _suite(tmp_path / "e", entries), {"marts": "marts"}, tmp_path / "r")
    raw = json.loads((tmp_path / "r" / "validations" / "marts__t.json").read_text("utf-8"))
    joined = sum("unique" in kind for kind, _ in CASES if kind in quality_sql.SQL_KINDS)
    counting = [q for q in scans if "count(case when" in q]
    assert len(counting) == 1 + joined, counting  # one scan, plus one per uniqueness check
    for entry, result in zip(entries, raw["results"], strict=True):
        alone = _raw_result(database, tmp_path / "alone", entry, True, monkeypatch)
        got = {"success": result["success"]} | {k: result["result"].get(k) for k in COMPARED}
        assert got == {k: v for k, v in alone.items() if k != "report"}, entry

    gone = _exp("expect_column_values_to_not_be_null", column="gone")
    report = validate(
        database, _suite(tmp_path / "g", [*entries, gone]), {"marts": "marts"}, tmp_path / "rg"
    )
    raw = json.loads((tmp_path / "rg" / "validations" / "marts__t.json").read_text("utf-8"))
    *results, missing = raw["results"]
    assert not missing["success"]
    assert "gone" in missing["exception_info"]["exception_message"]
    assert any("gone" in line for line in report.suites[0].failures), report.summary_text()
    assert [r["success"] for r in results] == [r["success"] for r in raw_results(tmp_path)]


def raw_results(root: Path) -> list[dict]:
    path = root / "r" / "validations" / "marts__t.json"
    return json.loads(path.read_text("utf-8"))["results"]
