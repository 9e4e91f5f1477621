"""Column-map expectations evaluated inside DuckDB: counts and a few unexpected values by SQL,
turned into the same GX result dict as GX's pandas route (through GX's own `_format_map_output`).

Covered kinds (`SQL_KINDS`), with GX 1.24's semantics:

- `expect_column_values_to_not_be_null`: unexpected = nulls, over all rows (no missing count);
  success = (rows - nulls) / rows >= mostly, vacuously true on no row.
- `expect_column_values_to_be_between` (min/max, strict_min/strict_max), `_to_be_in_set`,
  `_to_not_be_in_set`, `_to_match_regex` (a search, as pandas' `str.contains`), `_to_be_unique`:
  nulls are ignored; unexpected_percent is over the non-null rows; success = (non-null -
  unexpected) / non-null >= mostly, vacuously true when no row or no non-null row.
- `expect_column_pair_values_a_to_be_greater_than_b` (or_equal, ignore_row_if): rows left after
  `ignore_row_if` are considered; a comparison with a null is unexpected (pandas: NaN > x is
  False).
- `expect_compound_columns_to_be_unique` (ignore_row_if): a row is unexpected when another
  considered row has the same values (nulls equal, as pandas' `duplicated`).

`row_condition` (pandas parser): only the form the suites use, `column=="text"` or
`column==number`, is translated; `covered` returns False for any other, so those expectations
stay on the pandas route (`translate_condition` itself raises `UnsupportedCondition`).

Where: the SQL runs through a `SqlRunner` (orchestration/lib/sql_runner.py), in the working
DuckDB database or in the engine dbt built on (PostgreSQL, Spark), in that engine's dialect
(`_DIALECTS`: regex operator, null-safe equality). The SQL is otherwise plain: counts by
`count(case ...)`, explicit GROUP BY keys, one scalar parameter per set member.

Memory: the counts are one aggregate query; the unexpected values are a `LIMIT` of 10 rows
(in table order on DuckDB, by `rowid`; an engine without a row number gives them in its own
order); uniqueness needs the set of duplicated keys (a hash aggregate in the engine). No column
is read into Python.
"""

from __future__ import annotations

import orchestration.lib.gx_import  # noqa: F401  (before great_expectations)

# isort: split
import datetime as dt
import decimal
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
from great_expectations.core.expectation_validation_result import (
    ExpectationValidationResult,
)
from great_expectations.expectations.expectation import _format_map_output, _mostly_success

from orchestration.lib.sql_runner import PARAMETER, QueryError, SqlRunner

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
NOT_IN_SET = "expect_column_values_to_not_be_in_set"
REGEX = "expect_column_values_to_match_regex"
UNIQUE = "expect_column_values_to_be_unique"
PAIR_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
SQL_KINDS = frozenset(
    {NOT_NULL, BETWEEN, IN_SET, NOT_IN_SET, REGEX, UNIQUE, PAIR_GREATER, COMPOUND_UNIQUE}
)
# kwargs the SQL route understands (others, e.g. parse_strings_as_datetimes, keep pandas).
_KNOWN_KWARGS = frozenset(
    {
        "column",
        "column_A",
        "column_B",
        "column_list",
        "mostly",
        "min_value",
        "max_value",
        "strict_min",
        "strict_max",
        "value_set",
        "regex",
        "or_equal",
        "ignore_row_if",
        "row_condition",
        "condition_parser",
        "result_format",
        "batch_id",
        "meta",
    }
)
PARTIAL_COUNT = 10

_CONDITION = re.compile(
    r"""^\s*(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*==\s*
        (?:"(?P<dq>[^"\\]*)"|'(?P<sq>[^'\\]*)'|(?P<num>-?\d+(?:\.\d+)?))\s*$""",
    re.VERBOSE,
)


class UnsupportedCondition(ValueError):
    """A row_condition the SQL route cannot translate exactly."""


def _q(identifier: str) -> str:
    return '"' + str(identifier).replace('"', '""') + '"'


# What differs between the engines' SQL: a regex search ({value} and {regex} are SQL
# expressions) and null-safe equality.
_DIALECTS: dict[str, dict[str, str]] = {
    "duckdb": {
        "regex": "regexp_matches(cast({value} as varchar), {regex})",
        "same": "{a} is not distinct from {b}",
    },
    "postgres": {
        "regex": "(cast({value} as text) ~ {regex})",
        "same": "{a} is not distinct from {b}",
    },
    "spark": {"regex": "(cast({value} as string) rlike {regex})", "same": "({a} <=> {b})"},
}


def translate_condition(
    kwargs: Mapping[str, Any], quote: Callable[[str], str] = _q
) -> tuple[str, list[Any]]:
    """The SQL filter (and its parameters) for an expectation's `row_condition`; ("true", [])
    without one. Only `column=="text"` / `column==number` with the pandas parser are translated
    (pandas' `==` is false on a null, as SQL's `=` in a WHERE)."""
    condition = kwargs.get("row_condition")
    if not condition:
        return "true", []
    parser = kwargs.get("condition_parser")
    if parser != "pandas":
        raise UnsupportedCondition(
            f"row_condition {condition!r}: condition_parser {parser!r} is not translated to SQL "
            "(only 'pandas')"
        )
    match = _CONDITION.match(condition)
    if not match:
        raise UnsupportedCondition(
            f"row_condition {condition!r} is not translated to SQL: only "
            '`column=="text"` or `column==number` is'
        )
    if match["num"] is not None:
        value: Any = float(match["num"]) if "." in match["num"] else int(match["num"])
    else:
        value = match["dq"] if match["dq"] is not None else match["sq"]
    return f"{quote(match['column'])} = $cond", [value]


def covered(entry: Mapping[str, Any]) -> bool:
    """Whether the SQL route evaluates this (resolved) expectation entry."""
    if entry.get("type") not in SQL_KINDS:
        return False
    kwargs = entry.get("kwargs", {})
    if set(kwargs) - _KNOWN_KWARGS:
        return False
    if (
        entry["type"] == BETWEEN
        and kwargs.get("min_value") is None
        and kwargs.get("max_value") is None
    ):
        return False  # GX raises a configuration error: keep its message
    if entry["type"] in (IN_SET, NOT_IN_SET) and not isinstance(kwargs.get("value_set"), list):
        return False
    try:
        translate_condition(kwargs)
    except UnsupportedCondition:
        return False
    return True


def _python(value: Any, pair: bool = False) -> Any:
    """A value as GX's pandas route holds it: decimals as Arrow casts them to float (as the
    pandas route reads them: 124811412.07 becomes 124811412.07000001), dates and times as
    Timestamps, or as numpy datetime64 in a pair (GX zips the two columns' numpy values)."""
    if isinstance(value, decimal.Decimal):
        try:
            return pa.array([value]).cast(pa.float64())[0].as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        stamp = pd.Timestamp(value)
        return stamp.as_unit("us").to_datetime64() if pair else stamp
    return value


@dataclass
class _Plan:
    """How one expectation is computed: the considered rows, the unexpected ones, the values."""

    source: str  # FROM clause (may join the duplicated keys)
    where: str  # the row condition (parameters: `_parameters`)
    considered: str | None  # rows counted as non-missing (None: no missing count)
    unexpected: str
    values: list[str]
    shape: str  # "value", "pair", "dict"


def _plan(kind: str, kwargs: Mapping[str, Any], table: str, runner: SqlRunner) -> _Plan:
    q = runner.quote
    dialect = _DIALECTS[runner.dialect]
    where, _ = translate_condition(kwargs, q)
    source = f"{table} as t"
    if kind in (PAIR_GREATER,):
        a, b = f"t.{q(kwargs['column_A'])}", f"t.{q(kwargs['column_B'])}"
        ignore = kwargs.get("ignore_row_if") or "both_values_are_missing"
        considered = {
            "both_values_are_missing": f"not ({a} is null and {b} is null)",
            "either_value_is_missing": f"({a} is not null and {b} is not null)",
            "neither": "true",
        }[ignore]
        op = ">=" if kwargs.get("or_equal") else ">"
        unexpected = f"not coalesce({a} {op} {b}, false)"
        return _Plan(source, where, considered, unexpected, [a, b], "pair")
    if kind == COMPOUND_UNIQUE:
        names = [str(c) for c in kwargs["column_list"]]
        cols = [f"t.{q(c)}" for c in names]
        ignore = kwargs.get("ignore_row_if") or "all_values_are_missing"
        considered = {
            "all_values_are_missing": "not (" + " and ".join(f"{c} is null" for c in cols) + ")",
            "any_value_is_missing": " and ".join(f"{c} is not null" for c in cols),
            "never": "true",
        }[ignore]
        dup = (
            f"(select {', '.join(cols)}, true as dup__ from {table} as t where ({where}) "
            f"and ({considered}) group by {', '.join(cols)} having count(*) > 1)"
        )
        on = " and ".join(
            dialect["same"].format(a=c, b=f"d.{q(n)}") for c, n in zip(cols, names, strict=True)
        )
        source = f"{table} as t left join {dup} as d on {on}"
        return _Plan(source, where, considered, "coalesce(d.dup__, false)", cols, "dict")
    column = f"t.{q(kwargs['column'])}"
    values = [column]
    if kind == NOT_NULL:
        return _Plan(source, where, None, f"{column} is null", values, "value")
    if kind == BETWEEN:
        parts = []
        if kwargs.get("min_value") is not None:
            parts.append(f"{column} {'>' if kwargs.get('strict_min') else '>='} $lo")
        if kwargs.get("max_value") is not None:
            parts.append(f"{column} {'<' if kwargs.get('strict_max') else '<='} $hi")
        unexpected = "not (" + " and ".join(parts) + ")"
    elif kind in (IN_SET, NOT_IN_SET):
        members = ", ".join(f"$set_{i}" for i in range(len(kwargs["value_set"])))
        found = f"coalesce({column} in ({members}), false)" if members else "false"
        unexpected = f"{'not ' if kind == IN_SET else ''}{found}"
    elif kind == REGEX:
        unexpected = "not " + dialect["regex"].format(value=column, regex="$regex")
    elif kind == UNIQUE:
        dup = (
            f"(select {column}, true as dup__ from {table} as t where ({where}) "
            f"and {column} is not null group by {column} having count(*) > 1)"
        )
        source = f"{table} as t left join {dup} as d on {column} = d.{q(kwargs['column'])}"
        unexpected = "coalesce(d.dup__, false)"
    else:  # pragma: no cover - guarded by covered()
        raise ValueError(f"{kind} is not evaluated in SQL")
    return _Plan(source, where, f"{column} is not null", unexpected, values, "value")


def _parameters(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The values bound to the named parameters of the SQL (`$cond`, `$lo`, ...)."""
    named: dict[str, Any] = {}
    if kwargs.get("row_condition"):
        match = _CONDITION.match(kwargs["row_condition"])
        if match is None:  # pragma: no cover - guarded by covered()
            raise UnsupportedCondition(kwargs["row_condition"])
        if match["num"] is not None:
            named["cond"] = float(match["num"]) if "." in match["num"] else int(match["num"])
        else:
            named["cond"] = match["dq"] if match["dq"] is not None else match["sq"]
    for key, name in (("min_value", "lo"), ("max_value", "hi"), ("regex", "regex")):
        if kwargs.get(key) is not None:
            named[name] = kwargs[key]
    if isinstance(kwargs.get("value_set"), list):
        named.update({f"set_{i}": value for i, value in enumerate(kwargs["value_set"])})
    return named


Item = tuple[str, Mapping[str, Any], Any]  # (kind, kwargs, GX configuration)


def _prefixed(sql: str, prefix: str) -> str:
    """`sql` with every `$name` parameter renamed `$<prefix>name`."""
    return PARAMETER.sub(lambda match: f"${prefix}{match[1]}", sql)


def _shared_counts(
    runner: SqlRunner, table: str, items: list[Item], plans: list[_Plan]
) -> dict[int, tuple[int, int, int]]:
    """The (rows, considered, unexpected) counts of every item whose rows come from the table
    alone (not uniqueness, which joins its duplicates), from one scan: one aggregate query
    with three counts per item, each item's parameters renamed apart. Empty when that query
    fails (each item is then counted alone, so one bad expectation fails alone)."""
    plain = f"{table} as t"
    shared = [i for i, plan in enumerate(plans) if plan.source == plain]
    if len(shared) < 2:
        return {}
    columns: list[str] = []
    named: dict[str, Any] = {}
    for i in shared:
        prefix = f"e{i}_"
        where = _prefixed(plans[i].where, prefix)
        considered = _prefixed(plans[i].considered or "true", prefix)
        unexpected = _prefixed(plans[i].unexpected, prefix)
        columns += [
            f"count(case when {where} then 1 end)",
            f"count(case when ({where}) and ({considered}) then 1 end)",
            f"count(case when ({where}) and ({considered}) and ({unexpected}) then 1 end)",
        ]
        named.update({prefix + key: value for key, value in _parameters(items[i][1]).items()})
    try:
        (row,) = runner.fetchall(f"select {', '.join(columns)} from {plain}", named)
    except QueryError:
        return {}
    return {i: tuple(row[3 * n : 3 * n + 3]) for n, i in enumerate(shared)}


def evaluate_many(
    runner: SqlRunner,
    table: str,
    items: list[Item],
    example_columns: list[str] | None = None,
    max_examples: int = 5,
    on_error: Callable[[Any, QueryError], ExpectationValidationResult] | None = None,
) -> list[tuple[ExpectationValidationResult, list[dict]]]:
    """Evaluate each covered expectation of `items` on `table` (a qualified name) through
    `runner`, in order.

    Each gives GX's ExpectationValidationResult (result dict as GX's SUMMARY format on pandas,
    `partial_unexpected_count` 10) and, when the expectation failed and has one column, up to
    `max_examples` offending rows as dicts of `example_columns` and the column (in table order
    where the engine has one). The counts of the items that read the table alone come from one
    scan (`_shared_counts`): a suite costs one pass over its table, not one per expectation,
    which matters on an engine where each query is a job. An item whose SQL fails gets
    `on_error(configuration, error)` (without it, the QueryError is raised)."""
    plans = [_plan(kind, kwargs, table, runner) for kind, kwargs, _ in items]
    counts = _shared_counts(runner, table, items, plans)
    results = []
    for i, (kind, kwargs, configuration) in enumerate(items):
        try:
            results.append(
                _evaluate(
                    runner,
                    table,
                    plans[i],
                    kind,
                    kwargs,
                    configuration,
                    counts.get(i),
                    example_columns,
                    max_examples,
                )
            )
        except QueryError as exc:
            if on_error is None:
                raise
            results.append((on_error(configuration, exc), []))
    return results


def _evaluate(
    runner: SqlRunner,
    table: str,
    plan: _Plan,
    kind: str,
    kwargs: Mapping[str, Any],
    configuration: Any,
    counts: tuple[int, int, int] | None,
    example_columns: list[str] | None,
    max_examples: int,
) -> tuple[ExpectationValidationResult, list[dict]]:
    considered = plan.considered or "true"
    named = _parameters(kwargs)
    if counts is None:
        counts_sql = (
            f"select count(*), count(case when {considered} then 1 end), "
            f"count(case when ({considered}) and ({plan.unexpected}) then 1 end) "
            f"from {plan.source} where {plan.where}"
        )
        counts = runner.fetchall(counts_sql, named)[0]
    total, nonnull, bad = counts
    partial: list[Any] = []
    indexes: list[int] | None = None
    rows: list[dict] = []
    if bad:
        rowid = runner.has_rowid(table)
        order = " order by t.rowid" if rowid else ""
        select = ", ".join(plan.values) + (", t.rowid" if rowid else "")
        sql = (
            f"select {select} from {plan.source} where ({plan.where}) and ({considered}) "
            f"and ({plan.unexpected}){order} limit {PARTIAL_COUNT}"
        )
        fetched = runner.fetchall(sql, named)
        width = len(plan.values)
        if plan.shape == "value":
            partial = [_python(r[0]) for r in fetched]
        elif plan.shape == "pair":
            partial = [tuple(_python(v, pair=True) for v in r[:2]) for r in fetched]
        else:
            names = list(kwargs["column_list"])
            partial = [dict(zip(names, map(_python, r[:width]), strict=True)) for r in fetched]
        if rowid:
            indexes = [int(r[width]) for r in fetched]
        if example_columns and "column" in kwargs:
            cols = list(dict.fromkeys([*example_columns, kwargs["column"]]))
            select = ", ".join(f"t.{runner.quote(c)}" for c in cols)
            sql = (
                f"select {select} from {plan.source} where ({plan.where}) and ({considered}) "
                f"and ({plan.unexpected}){order} limit {int(max_examples)}"
            )
            fetched = runner.fetchall(sql, named)
            rows = [dict(zip(cols, map(_python, r), strict=True)) for r in fetched]
    mostly = kwargs.get("mostly")
    mostly = 1.0 if mostly is None else float(mostly)
    if kind == NOT_NULL:
        success = True if total == 0 else (total - bad) / total >= mostly
        nonnull_count = None
    else:
        success = True if total == 0 or nonnull == 0 else _mostly_success(nonnull, bad, mostly)
        nonnull_count = nonnull
    result = _format_map_output(
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": PARTIAL_COUNT,
            "include_unexpected_rows": False,
        },
        success=success,
        element_count=total,
        nonnull_count=nonnull_count,
        unexpected_count=bad,
        unexpected_list=partial,
        unexpected_index_list=indexes,
    )
    validation = ExpectationValidationResult(
        success=bool(success),
        expectation_config=configuration,
        result=result["result"],
        exception_info={
            "raised_exception": False,
            "exception_traceback": None,
            "exception_message": None,
        },
        meta={"evaluated_in": runner.dialect},
    )
    return validation, rows
