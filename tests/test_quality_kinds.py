"""Every kind of expectation the repository's suites use fails on a bad row (tiny DuckDB file),
and the gate reads only the columns a suite needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib import quality
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
def database(tmp_path: Path) -> Path:
    path = tmp_path / "working.duckdb"
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
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries: list[str] = []
    fetch = quality._fetch_frame

    def spy(con, sql):
        queries.append(sql)
        return fetch(con, sql)

    monkeypatch.setattr(quality, "_fetch_frame", spy)
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
