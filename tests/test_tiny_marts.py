"""KPI values on the hand-made tiny fixture, worked out by hand from tests/fixtures/tiny.

The fixture: 5 leads, 4 opportunities (O1 won, O2 lost, O3 won via the agency, O4 open and
AE-sourced), 3 subscription items, 2 spend rows; as-of date 2025-10-31.
"""

from __future__ import annotations

import pytest

from tests.conftest import query_one, query_rows


def _one(con, sql, *params):
    rows = con.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_lead_to_opportunity_cohort(marts):
    # April 2025, web_inquiry, U1: L1 and L2 were both converted -> 2 / 2.
    row = _one(
        marts,
        "select numerator_count, denominator_count, conversion_rate from kpi_funnel_conversion "
        "where analysis_basis = 'cohort' and conversion_step = 'lead_to_opportunity' "
        "and period_grain = 'month' and period_start_date = '2025-04-01' and lead_source = 'web_inquiry'",
    )
    assert row == (2, 2, 1.0)
    # April seminar lead L3 was disqualified -> 0 / 1, a rate of 0 (not null).
    row = _one(
        marts,
        "select numerator_count, denominator_count, conversion_rate from kpi_funnel_conversion "
        "where analysis_basis = 'cohort' and conversion_step = 'lead_to_opportunity' "
        "and period_grain = 'month' and period_start_date = '2025-04-01' and lead_source = 'seminar'",
    )
    assert row == (0, 1, 0.0)


def test_stage_conversion_cohort(marts):
    # April opportunities O1 (won) and O2 (lost from discovery), both U2 / web_inquiry.
    expected = {
        "approach_to_information_gathering": (2, 2),
        "information_gathering_to_proposal": (1, 2),
        "proposal_to_closing": (1, 1),
        "closing_to_follow_up": (1, 1),
        "opportunity_to_won": (1, 2),
    }
    rows = marts.execute(
        "select conversion_step, numerator_count, denominator_count from kpi_funnel_conversion "
        "where analysis_basis = 'cohort' and period_grain = 'month' "
        "and period_start_date = '2025-04-01' and rep_id = 'U2'"
    ).fetchall()
    assert {step: (num, den) for step, num, den in rows} == expected


def test_skipped_stage_counts_as_reached(marts):
    # O3 went approach -> proposal: it reached information_gathering on the way.
    row = _one(
        marts,
        "select numerator_count, denominator_count from kpi_funnel_conversion "
        "where analysis_basis = 'cohort' and period_grain = 'month' "
        "and period_start_date = '2025-05-01' "
        "and lead_source = 'agency_outbound' and conversion_step = 'approach_to_information_gathering'",
    )
    assert row == (1, 1)


def test_period_basis_counts_entries_in_month(marts):
    # Leads converted in May 2025: L4 (converted 2025-05-01); leads created in May: L5.
    row = _one(
        marts,
        "select sum(numerator_count), sum(denominator_count) from kpi_funnel_conversion "
        "where analysis_basis = 'period' and conversion_step = 'lead_to_opportunity' "
        "and period_grain = 'month' and period_start_date = '2025-05-01'",
    )
    assert row == (1, 1)


def _funnel_totals(con, basis: str, grain: str, step: str) -> dict[str, tuple]:
    """{period_start: (period_end, numerator, denominator)} summed over sources, teams and reps."""
    rows = con.execute(
        "select period_start_date::varchar, period_end_date::varchar, sum(numerator_count), "
        "sum(denominator_count) from kpi_funnel_conversion "
        "where analysis_basis = ? and period_grain = ? and conversion_step = ? "
        "group by 1, 2 order by 1",
        [basis, grain, step],
    ).fetchall()
    return {start: (end, num, den) for start, end, num, den in rows}


def test_funnel_conversion_by_iso_week(marts):
    # Leads by ISO week (Monday start): L1 (Tue 04-01), L2 (04-02), L3 (Sat 04-05) in the week
    # of Mon 2025-03-31, which starts in March; L4 (Sun 04-20) still in the week of Mon 04-14;
    # L5 (Fri 05-02) in the week of Mon 04-28, which spans April and May.
    assert _funnel_totals(marts, "cohort", "week", "lead_to_opportunity") == {
        "2025-03-31": ("2025-04-06", 2, 3),
        "2025-04-14": ("2025-04-20", 1, 1),
        "2025-04-28": ("2025-05-04", 0, 1),
    }
    # Period basis, opportunity -> won: created O1 (04-03), O2 (04-10), O3 (05-01), O4 (05-15);
    # won O1 (05-13), O3 (06-30).
    assert _funnel_totals(marts, "period", "week", "opportunity_to_won") == {
        "2025-03-31": ("2025-04-06", 0, 1),
        "2025-04-07": ("2025-04-13", 0, 1),
        "2025-04-28": ("2025-05-04", 0, 1),
        "2025-05-12": ("2025-05-18", 1, 1),
        "2025-06-30": ("2025-07-06", 1, 0),
    }
    # The same cohort for rep U2 only (O1, O2 created in different weeks).
    rows = marts.execute(
        "select period_start_date::varchar, numerator_count, denominator_count, conversion_rate "
        "from kpi_funnel_conversion where analysis_basis = 'cohort' and period_grain = 'week' "
        "and conversion_step = 'opportunity_to_won' and rep_id = 'U2' order by 1"
    ).fetchall()
    assert rows == [("2025-03-31", 1, 1, 1.0), ("2025-04-07", 0, 1, 0.0)]


def test_funnel_conversion_by_fiscal_year_from_april(marts):
    # Everything in the fixture happens in FY2025 (2025-04-01 .. 2026-03-31): one row per step
    # whose period is the fiscal year, not the calendar year 2025.
    assert _funnel_totals(marts, "cohort", "fiscal_year", "lead_to_opportunity") == {
        "2025-04-01": ("2026-03-31", 3, 5),
    }
    assert _funnel_totals(marts, "cohort", "fiscal_year", "opportunity_to_won") == {
        "2025-04-01": ("2026-03-31", 2, 4),
    }
    # Stage conversion over the fiscal year: O1..O4 reached approach -> information gathering
    # (O3 by skipping it); O1, O3, O4 reached proposal.
    assert _funnel_totals(marts, "cohort", "fiscal_year", "information_gathering_to_proposal") == {
        "2025-04-01": ("2026-03-31", 3, 4)
    }
    # The fiscal quarter is the first fiscal quarter (April .. June), holding April and May.
    assert _funnel_totals(marts, "cohort", "quarter", "lead_to_opportunity") == {
        "2025-04-01": ("2025-06-30", 3, 5),
    }
    grains = {
        grain
        for (grain,) in marts.execute(
            "select distinct period_grain from kpi_funnel_conversion"
        ).fetchall()
    }
    assert grains == {"day", "week", "month", "quarter", "fiscal_year"}


def test_cac_and_payback(marts):
    # May: A1 won via web_inquiry (inbound_web); spend 500,000; MRR 100,000; margin 0.8.
    row = _one(
        marts,
        "select spend_amount, new_customers, new_mrr_amount, cac_amount, cac_payback_months, currency "
        "from kpi_cac where period_grain = 'month' and period_start_date = '2025-05-01' "
        "and channel = 'inbound_web'",
    )
    assert float(row[0]) == 500_000
    assert row[1] == 1
    assert float(row[2]) == 100_000
    assert row[3] == pytest.approx(500_000)
    assert row[4] == pytest.approx(500_000 / (100_000 * 0.8))  # 6.25 months
    assert row[5] == "JPY"
    # June: A3 won via the agency AG1; agency fee 900,000; MRR 300,000.
    row = _one(
        marts,
        "select agency_fee_amount, new_customers, cac_amount, cac_payback_months "
        "from kpi_cac where period_grain = 'month' and period_start_date = '2025-06-01' "
        "and agency_key = 'AG1'",
    )
    assert float(row[0]) == 900_000
    assert row[1] == 1
    assert row[2] == pytest.approx(900_000)
    assert row[3] == pytest.approx(900_000 / (300_000 * 0.8))  # 3.75 months


def test_cac_by_fiscal_quarter_and_year(marts):
    # Spend is monthly: no day or week rows.
    grains = marts.execute("select distinct period_grain from kpi_cac order by 1").fetchall()
    assert grains == [("fiscal_year",), ("month",), ("quarter",)]
    # FY2025 Q1 (April .. June) holds May (inbound_web) and June (AG1). Company-wide: spend
    # 500,000 + 900,000 over 2 new customers; payback from the sums: 1,400,000 / (400,000 x 0.8).
    row = query_one(
        marts,
        "select min(period_end_date)::varchar as period_end, sum(spend_amount) as spend, "
        "sum(new_customers) as new_customers, sum(new_mrr_amount) as new_mrr, "
        "sum(spend_amount) / sum(cac_payback_denominator) as payback "
        "from kpi_cac where period_grain = 'quarter' and period_start_date = '2025-04-01'",
    )
    assert row["period_end"] == "2025-06-30"
    assert (float(row["spend"]), row["new_customers"], float(row["new_mrr"])) == (
        1_400_000,
        2,
        400_000,
    )
    assert row["payback"] == pytest.approx(1_400_000 / (400_000 * 0.8))  # 4.375 months
    assert marts.execute(
        "select count(*) from kpi_cac where period_grain = 'quarter'"
    ).fetchone() == (2,)
    # The quarter's churn window ends with June (2024-07 .. 2025-06): no starting MRR, no LTV.
    ag1 = query_one(
        marts,
        "select cac_amount, cac_payback_months, trailing_starting_mrr, ltv_amount "
        "from kpi_cac where period_grain = 'quarter' and agency_key = 'AG1'",
    )
    assert ag1["cac_amount"] == pytest.approx(900_000)
    assert ag1["cac_payback_months"] == pytest.approx(3.75)
    assert float(ag1["trailing_starting_mrr"]) == 0
    assert ag1["ltv_amount"] is None
    # FY2025 is still running on 2025-10-31: its window ends with October (2024-11 .. 2025-10),
    # churned 300,000 (A3) over starting 1,350,000 -> monthly revenue churn 2/9.
    # LTV inbound_web = 100,000 x 0.8 / (2/9) = 360,000; CAC 500,000 -> LTV:CAC 0.72.
    # LTV AG1 = 300,000 x 0.8 / (2/9) = 1,080,000; CAC 900,000 -> 1.2.
    rows = query_rows(
        marts,
        "select channel, period_end_date::varchar as period_end, has_spend_data, new_customers, "
        "cac_amount, trailing_churned_mrr, trailing_starting_mrr, trailing_revenue_churn_rate, "
        "ltv_amount, ltv_to_cac_ratio from kpi_cac "
        "where period_grain = 'fiscal_year' and period_start_date = '2025-04-01' order by 1",
    )
    assert [(r["channel"], r["period_end"], r["has_spend_data"]) for r in rows] == [
        ("inbound_web", "2026-03-31", True),
        ("outsourced_sales", "2026-03-31", True),
    ]
    for row, cac, ltv in zip(rows, (500_000, 900_000), (360_000, 1_080_000), strict=True):
        assert row["new_customers"] == 1
        assert row["cac_amount"] == pytest.approx(cac)
        assert float(row["trailing_churned_mrr"]) == 300_000
        assert float(row["trailing_starting_mrr"]) == 1_350_000
        assert row["trailing_revenue_churn_rate"] == pytest.approx(2 / 9)
        assert row["ltv_amount"] == pytest.approx(ltv)
        assert row["ltv_to_cac_ratio"] == pytest.approx(ltv / cac)


def test_retention_expansion_and_churn(marts):
    # A1: 100,000 from June, 150,000 from September (expansion) -> NRR 1.5 in month 3.
    row = _one(
        marts,
        "select cohort_customers, active_customers, net_revenue_retention_rate, "
        "gross_revenue_retention_rate, cumulative_expansion_mrr "
        "from kpi_retention where period_grain = 'month' and scope_type = 'company' "
        "and cohort_period_start_date = '2025-06-01' "
        "and periods_since_acquisition = 3",
    )
    assert row[:2] == (1, 1)
    assert row[2] == pytest.approx(1.5)
    assert row[3] == pytest.approx(1.0)
    assert float(row[4]) == 50_000
    # A3: 300,000 from July, ended 2025-09-30 -> churned in October (month 3).
    row = _one(
        marts,
        "select active_customers, logo_retention_rate, logo_churn_rate, revenue_churn_rate, "
        "net_revenue_retention_rate from kpi_retention "
        "where period_grain = 'month' and scope_type = 'company' "
        "and cohort_period_start_date = '2025-07-01' and periods_since_acquisition = 3",
    )
    assert row == (0, 0.0, 1.0, 1.0, 0.0)


RETENTION_COLUMNS = (
    "periods_since_acquisition as k, period_start_date::varchar as period_start, "
    "period_end_date::varchar as period_end, measured_month_start_date::varchar as measured, "
    "cohort_customers, active_customers, cohort_starting_mrr::double as starting_mrr, "
    "cohort_mrr::double as cohort_mrr, cumulative_expansion_mrr::double as expansion, "
    "cumulative_churned_mrr::double as churned, logo_retention_rate, "
    "net_revenue_retention_rate, gross_revenue_retention_rate, revenue_churn_rate"
)


def _retention(
    con, grain: str, cohort: str, scope_type: str = "company", scope_id: str = "company"
) -> list[tuple]:
    rows = query_rows(
        con,
        f"select {RETENTION_COLUMNS} from kpi_retention where period_grain = ? "
        "and cohort_period_start_date = ? and scope_type = ? and scope_id = ? "
        "order by periods_since_acquisition",
        grain,
        cohort,
        scope_type,
        scope_id,
    )
    return [tuple(row.values()) for row in rows]


def test_retention_by_fiscal_quarter(marts):
    # MRR at month ends: A1 100,000 in June .. August, 150,000 from September; A3 300,000 in
    # July .. September, 0 in October. FY2025 Q1 (April .. June) acquires A1, Q2 (July ..
    # September) acquires A3. Each quarter is measured at its last month; Q3 (October ..
    # December) is running on 2025-10-31, so it is measured at October.
    assert _retention(marts, "quarter", "2025-04-01") == [
        # k, period, end, measured, customers, active, start MRR, MRR, expansion, churned,
        # logo retention, NRR, GRR, revenue churn
        (0, "2025-04-01", "2025-06-30", "2025-06-01", 1, 1, 1e5, 1e5, 0, 0, 1.0, 1.0, 1.0, 0.0),
        (1, "2025-07-01", "2025-09-30", "2025-09-01", 1, 1, 1e5, 1.5e5, 5e4, 0, 1.0, 1.5, 1.0, 0.0),
        (2, "2025-10-01", "2025-12-31", "2025-10-01", 1, 1, 1e5, 1.5e5, 5e4, 0, 1.0, 1.5, 1.0, 0.0),
    ]
    assert _retention(marts, "quarter", "2025-07-01") == [
        (0, "2025-07-01", "2025-09-30", "2025-09-01", 1, 1, 3e5, 3e5, 0, 0, 1.0, 1.0, 1.0, 0.0),
        (1, "2025-10-01", "2025-12-31", "2025-10-01", 1, 0, 3e5, 0, 0, 3e5, 0.0, 0.0, 0.0, 1.0),
    ]
    cohorts = marts.execute(
        "select distinct cohort_period_start_date::varchar from kpi_retention "
        "where period_grain = 'quarter' order by 1"
    ).fetchall()
    assert cohorts == [("2025-04-01",), ("2025-07-01",)]


FY_RATES = (0.5, 0.375, 0.25, 0.75)  # logo retention, NRR, GRR, revenue churn


def test_retention_by_fiscal_year(marts):
    # One FY2025 cohort (A1 and A3, starting MRR 100,000 + 300,000), measured at October.
    # GRR = (min(150,000, 100,000) + min(0, 300,000)) / 400,000.
    assert _retention(marts, "fiscal_year", "2025-04-01") == [
        (0, "2025-04-01", "2026-03-31", "2025-10-01", 2, 1, 4e5, 1.5e5, 5e4, 3e5, *FY_RATES),
    ]
    grains = marts.execute("select distinct period_grain from kpi_retention order by 1").fetchall()
    assert grains == [("fiscal_year",), ("month",), ("quarter",)]
    # By segment: A1 is manufacturing (50-299 employees) and kept its 150,000; A3 is retail
    # (300-999) and churned its 300,000.
    assert _retention(marts, "fiscal_year", "2025-04-01", "industry", "manufacturing") == [
        (0, "2025-04-01", "2026-03-31", "2025-10-01", 1, 1, 1e5, 1.5e5, 5e4, 0, 1.0, 1.5, 1.0, 0.0),
    ]
    assert _retention(marts, "fiscal_year", "2025-04-01", "company_size", "300-999") == [
        (0, "2025-04-01", "2026-03-31", "2025-10-01", 1, 0, 3e5, 0, 0, 3e5, 0.0, 0.0, 0.0, 1.0),
    ]
    scopes = marts.execute(
        "select scope_type, count(distinct scope_id) from kpi_retention group by 1 order by 1"
    ).fetchall()
    assert scopes == [("company", 1), ("company_size", 2), ("industry", 2)]


def test_sales_cycle(marts):
    rows = dict(
        (r[0], r[1:])
        for r in marts.execute(
            "select opportunity_id, days_opportunity_to_won, days_lead_to_won "
            "from kpi_sales_cycle_deals"
        ).fetchall()
    )
    # O1: 2025-04-03 -> 2025-05-13 = 40 days; lead L1 2025-04-01 -> 42 days.
    # O3: 2025-05-01 -> 2025-06-30 = 60 days; lead L4 2025-04-20 -> 71 days.
    assert rows == {"O1": (40, 42), "O3": (60, 71)}
    total = _one(
        marts,
        "select won_deals, median_days_opportunity_to_won from kpi_sales_cycle "
        "where grouping_level = 'total' and period_grain = 'month' "
        "and period_start_date = '2025-06-01'",
    )
    assert total == (1, 60.0)


def test_sales_cycle_by_fiscal_quarter(marts):
    # Both won deals fall in FY2025 Q1 (2025-04-01 .. 2025-06-30): O1 40 days (lead 42), O3 60
    # days (lead 71). Percentiles are recomputed over the two deals, not taken from the months:
    # median 50, p75 = 40 + 0.75 x 20 = 55, p90 = 58; lead -> won median 56.5.
    row = query_one(
        marts,
        "select period_end_date::varchar as period_end, won_deals, won_deals_with_lead, "
        "sum_days_opportunity_to_won, mean_days_opportunity_to_won, "
        "median_days_opportunity_to_won, p75_days_opportunity_to_won, "
        "p90_days_opportunity_to_won, mean_days_lead_to_won, median_days_lead_to_won "
        "from kpi_sales_cycle where period_grain = 'quarter' and grouping_level = 'total' "
        "and period_start_date = '2025-04-01'",
    )
    assert row == {
        "period_end": "2025-06-30",
        "won_deals": 2,
        "won_deals_with_lead": 2,
        "sum_days_opportunity_to_won": 100,
        "mean_days_opportunity_to_won": 50.0,
        "median_days_opportunity_to_won": 50.0,
        "p75_days_opportunity_to_won": 55.0,
        "p90_days_opportunity_to_won": pytest.approx(58.0),
        "mean_days_lead_to_won": 56.5,
        "median_days_lead_to_won": 56.5,
    }
    # No other quarter has won deals; FY2025 Q2 and Q3 have none.
    quarters = marts.execute(
        "select distinct period_start_date::varchar from kpi_sales_cycle "
        "where period_grain = 'quarter'"
    ).fetchall()
    assert quarters == [("2025-04-01",)]
    # Roll-up by team: both deals are FS1's (U2, U3).
    team = query_one(
        marts,
        "select won_deals, median_days_opportunity_to_won from kpi_sales_cycle "
        "where period_grain = 'quarter' and grouping_level = 'team' and team_id = 'FS1'",
    )
    assert team == {"won_deals": 2, "median_days_opportunity_to_won": 50.0}


def test_fiscal_year_and_holidays(marts):
    # 2025-04-29 (昭和の日) is a holiday in FY2025; 2025-03-31 is the last day of FY2024.
    row = _one(
        marts,
        "select fiscal_year, fiscal_quarter, is_public_holiday, is_business_day "
        "from core.dim_date where date_day = '2025-04-29'",
    )
    assert row == (2025, 1, True, False)
    assert _one(marts, "select fiscal_year from core.dim_date where date_day = '2025-03-31'") == (
        2024,
    )
    # Golden Week 2025: 3 to 6 May are holidays (6 May is 振替休日).
    holidays = marts.execute(
        "select date_day from core.dim_date where date_day between '2025-05-01' and '2025-05-07' "
        "and is_public_holiday order by 1"
    ).fetchall()
    assert [str(d[0]) for d in holidays] == ["2025-05-03", "2025-05-04", "2025-05-05", "2025-05-06"]


def test_no_personal_data_in_published_file(marts):
    columns = {
        name
        for (name,) in marts.execute(
            "select column_name from information_schema.columns"
        ).fetchall()
    }
    for personal in (
        "user_name",
        "email",
        "user_email",
        "contact_name",
        "contact_email",
        "contact_phone",
        "phone",
        "full_name",
        "subject",
    ):
        assert personal not in columns
    values = marts.execute(
        "select count(*) from core.dim_accounts where account_name like '%@%'"
    ).fetchone()
    assert values == (0,)
    schemas = {s for (s,) in marts.execute("select schema_name from duckdb_schemas()").fetchall()}
    assert "staging" not in schemas and "raw" not in schemas


def test_every_published_table_and_column_carries_its_description(marts):
    """A BI tool reading the published file shows what each table and column means: the dbt
    descriptions (persist_docs, copied by publication), and _publication's own."""
    import json
    from pathlib import Path

    tables = marts.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = current_database()"
    ).fetchall()
    columns = marts.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = current_database()"
    ).fetchall()
    assert len(tables) >= 20 and len(columns) >= 400
    assert [row[:2] for row in tables if not (row[2] or "").strip()] == []
    assert [row[:3] for row in columns if not (row[3] or "").strip()] == []
    # The text is dbt's (the manifest's description), not a placeholder.
    manifest = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    cac = next(
        n for n in nodes.values() if n["name"] == "kpi_cac" and n["resource_type"] == "model"
    )
    comments = {(row[1], row[2]): row[3] for row in columns}
    assert comments[("kpi_cac", "cac_amount")] == cac["columns"]["cac_amount"]["description"]
    assert "集計基準日" in comments[("_publication", "as_of_date")]
