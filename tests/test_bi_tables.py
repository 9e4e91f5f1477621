"""Tables a BI tool cannot misread (issue 9, item 2), on the published file of the tiny run.

Each per-grain table (dbt_project/models/marts/kpi/per_grain/) must hold exactly the rows of its
long mart at one grain and scope, so that its plain sums equal the long table's sums filtered by
hand: here the long rows are read whole and filtered and summed in Python. Money has one
decimal type with its currency beside it; rates are never decimals.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.conftest import query_rows

CENT = Decimal("0.01")


def _money(value: float | Decimal | None) -> Decimal | None:
    """A double of the long table as the money type holds it (2 decimals, half away from 0)."""
    if value is None:
        return None
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _sums(rows: list[dict], key: str, columns: list[str]) -> dict:
    """Per value of `key`, the sum of each column (nulls skipped) and the row count."""
    sums: dict = defaultdict(lambda: defaultdict(lambda: 0))
    for row in rows:
        group = sums[row[key]]
        group["rows"] += 1
        for column in columns:
            if row[column] is not None:
                group[column] += row[column]
    return {group: dict(values) for group, values in sums.items()}


def _approx(sums: dict) -> dict:
    return {
        group: {
            column: value if isinstance(value, int | Decimal) else pytest.approx(value, rel=1e-12)
            for column, value in values.items()
        }
        for group, values in sums.items()
    }


# --- the scorecard -----------------------------------------------------------------------------

SCORECARD_TABLES = [
    ("kpi_scorecard_month_company", "month", "company"),
    ("kpi_scorecard_month_team", "month", "team"),
    ("kpi_scorecard_month_rep", "month", "rep"),
    ("kpi_scorecard_quarter_company", "quarter", "company"),
    ("kpi_scorecard_quarter_team", "quarter", "team"),
    ("kpi_scorecard_fiscal_year_company", "fiscal_year", "company"),
    ("kpi_scorecard_fiscal_year_team", "fiscal_year", "team"),
]
SCORECARD_VALUES = ["kpi_value", "target_value", "expected_to_date", "landing_forecast", "gap"]
SCORECARD_AMOUNTS = [
    "actual_amount",
    "target_amount",
    "expected_to_date_amount",
    "landing_forecast_amount",
    "gap_amount",
]


@pytest.fixture(scope="module")
def scorecard_rows(marts) -> list[dict]:
    return query_rows(marts, "select * from kpi_scorecard")


@pytest.mark.parametrize(("table", "grain", "scope"), SCORECARD_TABLES)
def test_scorecard_per_grain_sums_equal_the_long_table_filtered(
    marts, scorecard_rows, table, grain, scope
):
    long_rows = [
        row for row in scorecard_rows if row["period_grain"] == grain and row["scope_type"] == scope
    ]
    assert long_rows, f"the tiny fixture has no {grain} × {scope} scorecard rows"
    # What a BI user gets: money KPIs (unit amount) in the *_amount columns, the rest in the
    # double columns; the expected values split the long rows by hand.
    expected_rows = []
    for row in long_rows:
        is_money = row["unit"] == "amount"
        split = {
            "kpi_code": row["kpi_code"],
            "numerator": row["numerator"],
            "denominator": row["denominator"],
        }
        for value, amount in zip(SCORECARD_VALUES, SCORECARD_AMOUNTS, strict=True):
            split[value] = None if is_money else row[value]
            split[amount] = _money(row[value]) if is_money else None
        expected_rows.append(split)
    columns = ["numerator", "denominator", *SCORECARD_VALUES, *SCORECARD_AMOUNTS]
    per_grain = query_rows(marts, f"select * from {table}")
    assert _sums(per_grain, "kpi_code", columns) == _approx(
        _sums(expected_rows, "kpi_code", columns)
    )
    # The same rows, keyed alike: scope ids and periods are those of the long table.
    scope_column = {"team": "team_id", "rep": "rep_id"}.get(scope)
    assert sorted(
        (r["scorecard_id"], r["period_start_date"], r[scope_column] if scope_column else None)
        for r in per_grain
    ) == sorted(
        (r["scorecard_id"], r["period_start_date"], r["scope_id"] if scope_column else None)
        for r in long_rows
    )
    # Currency beside every amount, and only there.
    for row in per_grain:
        assert (row["currency"] == "JPY") == (row["unit"] == "amount"), row
        if row["unit"] == "amount":
            assert row["kpi_value"] is None and row["actual_amount"] is not None, row


def test_a_plain_sum_of_won_amount_counts_each_deal_once(marts, scorecard_rows):
    """The issue's example: SUM(won amount) over the whole long table over-counts; over the
    per-grain company tables it is the won amount of the periods, once."""
    won = [row for row in scorecard_rows if row["kpi_code"] == "won_amount"]
    company_months = sum(
        _money(row["kpi_value"])
        for row in won
        if row["period_grain"] == "month" and row["scope_type"] == "company"
    )
    assert company_months > 0
    assert sum(row["kpi_value"] for row in won) > 5 * float(company_months)
    for table in ("kpi_scorecard_month_company", "kpi_scorecard_fiscal_year_company"):
        total = marts.execute(
            f"select sum(actual_amount) from {table} where kpi_code = 'won_amount'"
        ).fetchone()[0]
        assert total == company_months, table


# --- the other marts ---------------------------------------------------------------------------

# per-grain table, long mart, filter on the long mart, key of a row, additive columns
SLICES = [
    (
        "kpi_handoff_month",
        "kpi_handoff",
        {"period_grain": "month"},
        "sourced_by",
        [
            "opportunities_created",
            "opportunities_accepted",
            "closed_deals",
            "won_deals",
            "won_amount",
            "won_deals_with_cycle",
            "sum_days_opportunity_to_won",
        ],
    ),
    (
        "kpi_cac_month",
        "kpi_cac",
        {"period_grain": "month"},
        "channel",
        ["spend_amount", "agency_fee_amount", "new_customers", "new_mrr_amount"],
    ),
    (
        "kpi_agency_performance_month",
        "kpi_agency_performance",
        {"period_grain": "month"},
        "agency_key",
        ["activities", "calls", "appointments_set", "won_deals", "won_amount", "fee_amount"],
    ),
    (
        "kpi_funnel_conversion_month_cohort",
        "kpi_funnel_conversion",
        {"period_grain": "month", "analysis_basis": "cohort"},
        "conversion_step",
        ["numerator_count", "denominator_count", "inferred_numerator_count"],
    ),
    (
        "kpi_funnel_conversion_month_period",
        "kpi_funnel_conversion",
        {"period_grain": "month", "analysis_basis": "period"},
        "conversion_step",
        ["numerator_count", "denominator_count", "inferred_numerator_count"],
    ),
]


@pytest.mark.parametrize(("table", "long_table", "where", "key", "columns"), SLICES)
def test_per_grain_sums_equal_the_long_table_filtered(
    marts, table, long_table, where, key, columns
):
    long_rows = [
        row
        for row in query_rows(marts, f"select * from {long_table}")
        if all(row[column] == value for column, value in where.items())
    ]
    assert long_rows, f"the tiny fixture has no {where} rows in {long_table}"
    per_grain = query_rows(marts, f"select * from {table}")
    assert _sums(per_grain, key, columns) == _sums(long_rows, key, columns)


def test_handoff_long_table_sums_five_times_the_month_table(marts):
    """Why the per-grain table exists: each opportunity is in every grain of the long table."""
    long_total = marts.execute("select sum(opportunities_created) from kpi_handoff").fetchone()[0]
    month_total = marts.execute(
        "select sum(opportunities_created) from kpi_handoff_month"
    ).fetchone()[0]
    assert month_total > 0
    assert long_total == 5 * month_total


# --- types -------------------------------------------------------------------------------------

MONEY_NAME = re.compile(r"(^|_)(amount|mrr)$|^amount_reporting$|^revenue_target$")
# Named like money, but not money: a count of deals without an amount; a ratio of two amounts.
NOT_MONEY = {
    ("kpi_pipeline", "open_opportunities_unknown_amount"),
    ("kpi_reverse_planning", "required_to_run_rate_won_amount"),
}
RATE_NAME = re.compile(r"(_rate|_ratio|^attainment|_share)$")
MONEY_TYPE = "DECIMAL(18,2)"


@pytest.fixture(scope="module")
def published_columns(marts) -> list[dict]:
    return query_rows(
        marts,
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name in ('main', 'core') "
        "and table_name <> '_publication'",
    )


def test_money_has_one_decimal_type_and_a_currency(published_columns):
    money = [
        column
        for column in published_columns
        if MONEY_NAME.search(column["column_name"])
        and (column["table_name"], column["column_name"]) not in NOT_MONEY
    ]
    # Every kind of money the marts hold, so the check cannot pass on an empty list.
    names = {(c["table_name"], c["column_name"]) for c in money}
    for expected in [
        ("kpi_cac", "cac_amount"),
        ("kpi_cac", "ltv_amount"),
        ("fct_mrr_movements", "new_mrr"),
        ("fct_opportunities", "weighted_open_amount"),
        ("kpi_scorecard_month_team", "actual_amount"),
        ("kpi_handoff_month", "won_amount"),
        ("kpi_reverse_planning", "revenue_target"),
        ("kpi_reverse_planning", "run_rate_won_amount"),
    ]:
        assert expected in names
    wrong = {
        f"{c['table_name']}.{c['column_name']}": c["data_type"]
        for c in money
        if c["data_type"] != MONEY_TYPE
    }
    assert wrong == {}, f"money columns not {MONEY_TYPE}"
    tables_with_currency = {
        c["table_name"]
        for c in published_columns
        if c["column_name"] in ("currency", "reporting_currency")
    }
    assert {c["table_name"] for c in money} - tables_with_currency == set()


def test_no_rate_is_a_decimal(published_columns):
    rates = [c for c in published_columns if RATE_NAME.search(c["column_name"])]
    assert any(c["column_name"] == "conversion_rate" for c in rates)
    decimals = [
        f"{c['table_name']}.{c['column_name']}"
        for c in rates
        if c["data_type"].startswith("DECIMAL")
    ]
    assert decimals == []
