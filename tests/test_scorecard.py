"""Scorecard: targets, pace over Japanese business days, landing forecast, as-of dates.

Values are worked out by hand from tests/fixtures/tiny. May 2025 has 31 days: 9 weekend days
(3-4, 10-11, 17-18, 24-25, 31) and two weekday holidays of Golden Week (5 May こどもの日,
6 May 振替休日), so 20 business days; up to 16 May, 10 of them have passed (1-2, 7-9, 12-16).
"""

from __future__ import annotations

import shutil

import duckdb
import holidays
import pandas as pd
import pytest

from orchestration.lib.metrics import (
    CATALOG_MD,
    README,
    SEMANTIC_YAML,
    load_definitions,
    render_catalog,
    render_readme,
    render_semantic_yaml,
)
from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY


def _run(base, as_of: str, extra_lead: bool = False, products: dict[str, str] | None = None):
    landing = base / "landing"
    shutil.copytree(TINY, landing)
    if extra_lead:  # the last day of fiscal year 2024
        with (landing / "leads.csv").open("a", encoding="utf-8") as handle:
            handle.write("L6,2025-03-31 10:00:00,referral,open,U1,,,,,\n")
    if products:  # an export with the optional product column, filled for some deals
        deals = pd.read_csv(landing / "opportunities.csv", dtype=str, keep_default_na=False)
        deals["product"] = deals["opportunity_id"].map(products).fillna("")
        deals.to_csv(landing / "opportunities.csv", index=False)
    settings = settings_for(base, landing, as_of)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    return duckdb.connect(str(settings.published_db), read_only=True)


@pytest.fixture(scope="module")
def mid_may(tmp_path_factory):
    with _run(tmp_path_factory.mktemp("mid_may"), "2025-05-16") as con:
        yield con


@pytest.fixture(scope="module")
def end_of_october(tmp_path_factory):
    october = tmp_path_factory.mktemp("october")
    with _run(october, "2025-10-31", extra_lead=True, products={"O4": "enterprise"}) as con:
        yield con


def _row(con, columns: str, **where):
    clauses = " and ".join(f"{key} = ?" for key in where)
    rows = con.execute(f"select {columns} from kpi_scorecard where {clauses}", list(where.values()))
    result = rows.fetchall()
    assert len(result) == 1, result
    return result[0]


def test_pace_and_weighted_pipeline_forecast_across_golden_week(mid_may):
    row = _row(
        mid_may,
        "kpi_value, target_value, attainment, business_days, business_days_elapsed, "
        "expected_to_date, pace_ratio, landing_forecast, forecast_method, gap, status",
        period_grain="month",
        period_start_date="2025-05-01",
        scope_type="team",
        scope_id="FS1",
        kpi_code="won_amount",
    )
    # Won so far: O1 (13 May, 1,200,000). Open on 16 May and due by 31 May: O2, then in
    # discovery (probability 0.25), 2,400,000 closing 20 May -> 600,000 weighted.
    assert row[0] == 1_200_000 and row[1] == 2_000_000
    assert row[2] == pytest.approx(0.6)
    assert row[3:5] == (20, 10)
    assert row[5] == pytest.approx(1_000_000)  # 2,000,000 x 10 / 20
    assert row[6] == pytest.approx(1.2)
    assert row[7] == pytest.approx(1_800_000)
    assert row[8] == "weighted_pipeline"
    assert row[9] == pytest.approx(200_000)
    assert row[10] == "behind"  # 1,800,000 < 2,000,000 x 0.95


def test_run_rate_forecast_for_counts(mid_may):
    # Leads in May up to the 16th: L5 (2 May) -> 1 in 10 business days; 10 more remain.
    row = _row(
        mid_may,
        "kpi_value, landing_forecast, forecast_method",
        period_grain="month",
        period_start_date="2025-05-01",
        scope_type="company",
        scope_id="company",
        kpi_code="leads_created",
    )
    assert row == (1.0, 2.0, "run_rate")


def test_as_of_date_decides_what_is_known(mid_may, end_of_october):
    # On 16 May only O1 had closed (won); by 31 October O2 (lost 20 May) had too.
    query = dict(
        period_grain="month",
        period_start_date="2025-05-01",
        scope_type="company",
        scope_id="company",
        kpi_code="win_rate",
    )
    assert _row(mid_may, "numerator, denominator, kpi_value", **query) == (1.0, 1.0, 1.0)
    assert _row(end_of_october, "numerator, denominator, kpi_value", **query) == (1.0, 2.0, 0.5)
    assert _row(mid_may, "as_of_date", **query)[0].isoformat() == "2025-05-16"
    # A period over by the as-of date forecasts its actual.
    row = _row(
        end_of_october, "landing_forecast, forecast_method", **(query | {"kpi_code": "deals_won"})
    )
    assert row == (1.0, "actual")


def test_fiscal_year_boundary(end_of_october):
    fy = {
        start.isoformat(): value
        for start, value in end_of_october.execute(
            "select period_start_date, kpi_value from kpi_scorecard where period_grain = "
            "'fiscal_year' and scope_type = 'company' and kpi_code = 'leads_created'"
        ).fetchall()
    }
    # L6 (31 March 2025) is in FY2024; L1-L5 (April-May 2025) in FY2025.
    assert fy == {"2024-04-01": 1.0, "2025-04-01": 5.0}
    quarters = end_of_october.execute(
        "select period_start_date, kpi_value from kpi_scorecard where period_grain = 'quarter' "
        "and scope_type = 'company' and kpi_code = 'leads_created' order by 1"
    ).fetchall()
    assert [(q.isoformat(), v) for q, v in quarters] == [("2025-01-01", 1.0), ("2025-04-01", 5.0)]


def test_rep_and_team_scopes_add_up(end_of_october):
    totals = dict(
        end_of_october.execute(
            "select scope_type, sum(numerator) from kpi_scorecard where period_grain = 'month' "
            "and kpi_code = 'calls' group by 1"
        ).fetchall()
    )
    # 4 calls in the fixture (T1, T2 by U1 on lead L1; T4, T6 by the agency's U4 on lead L4):
    # every scope adds up to them. Lead source, channel and segment come from the leads (L1:
    # web_inquiry, account A1; L4: agency_outbound, account A3); product does not apply, as no
    # call is on an opportunity.
    assert totals == {
        "company": 4.0,
        "team": 4.0,
        "rep": 4.0,
        "role": 4.0,
        "motion": 4.0,
        "agency": 4.0,
        "lead_source": 4.0,
        "channel": 4.0,
        "industry": 4.0,
        "company_size": 4.0,
    }


def _by_scope(con, scope_type: str, kpi_code: str, grain="fiscal_year", start="2025-04-01"):
    return dict(
        con.execute(
            "select scope_id, kpi_value from kpi_scorecard where period_grain = ? and "
            "period_start_date = ? and scope_type = ? and kpi_code = ?",
            [grain, start, scope_type, kpi_code],
        ).fetchall()
    )


def test_segment_and_product_scopes(end_of_october):
    # Won in FY2025: O1 (A1: manufacturing, 50-299 employees) 1,200,000 and O3 (A3: retail,
    # 300-999) 3,600,000.
    assert _by_scope(end_of_october, "industry", "won_amount") == {
        "manufacturing": 1_200_000,
        "retail": 3_600_000,
    }
    assert _by_scope(end_of_october, "company_size", "won_amount") == {
        "50-299": 1_200_000,
        "300-999": 3_600_000,
    }
    # Calls: T1, T2 on L1 (A1, manufacturing); T4, T6 on L4 (A3, retail).
    assert _by_scope(end_of_october, "industry", "calls") == {"manufacturing": 2, "retail": 2}
    # Products: O4 has one in the export; O1 and O3 take the product of the subscription they
    # created (standard); O2 has neither.
    assert _by_scope(end_of_october, "product", "opportunities_created") == {
        "enterprise": 1,
        "standard": 2,
        "unspecified": 1,
    }
    assert _by_scope(end_of_october, "product", "won_amount") == {"standard": 4_800_000}


def _business_days(first: str, last: str) -> int:
    """Weekdays that are not Japanese public holidays, from the holidays library."""
    days = pd.date_range(first, last, freq="D")
    japan = holidays.Japan(years=sorted({day.year for day in days}))
    return sum(1 for day in days if day.weekday() < 5 and day.date() not in japan)


def test_activity_efficiency_per_rep_day_and_per_won_deal(mid_may, end_of_october):
    # Rep-days: the four selling reps (U1-U4, all active, hired before the data starts) from the
    # first activity (1 April 2025) on. April 2025 has 21 business days (29 April, 昭和の日).
    april_days = _business_days("2025-04-01", "2025-04-30")
    assert april_days == 21
    april = dict(period_grain="month", period_start_date="2025-04-01")
    company = dict(scope_type="company", scope_id="company")
    # 6 activities in April; 1 + 8 + 5 + 60 + 6 = 80 minutes (the e-mail has none).
    row = _row(
        end_of_october,
        "numerator, denominator, kpi_value",
        **april,
        **company,
        kpi_code="activities_per_rep_day",
    )
    assert row == (6.0, 4.0 * april_days, pytest.approx(6 / (4 * april_days)))
    row = _row(
        end_of_october,
        "numerator, denominator",
        **april,
        **company,
        kpi_code="activity_minutes_per_rep_day",
    )
    assert row == (80.0, 4.0 * april_days)
    # U1 did T1, T2 and T3; per-rep-day KPIs have no lead-source or segment scope.
    row = _row(
        end_of_october,
        "numerator, denominator",
        **april,
        scope_type="rep",
        scope_id="U1",
        kpi_code="activities_per_rep_day",
    )
    assert row == (3.0, april_days)
    assert not _by_scope(end_of_october, "industry", "activities_per_rep_day")
    # On 16 May: no activity in May yet, 10 business days gone for each of the four reps.
    row = _row(
        mid_may,
        "numerator, denominator, kpi_value",
        period_grain="month",
        period_start_date="2025-05-01",
        **company,
        kpi_code="activities_per_rep_day",
    )
    assert row == (0.0, 4.0 * _business_days("2025-05-01", "2025-05-16"), 0.0)
    # Activities per won deal in FY2025: 6 activities / 2 won deals (O1, O3); lower is better.
    row = _row(
        end_of_october,
        "numerator, denominator, kpi_value, direction",
        period_grain="fiscal_year",
        period_start_date="2025-04-01",
        **company,
        kpi_code="activities_per_won_deal",
    )
    assert row == (6.0, 2.0, 3.0, "lower_is_better")


def test_kpi_definitions_are_published(end_of_october):
    codes = {c for (c,) in end_of_october.execute("select kpi_code from core.dim_kpis").fetchall()}
    assert codes == {d["kpi_code"] for d in load_definitions()}


def test_semantic_layer_and_catalog_are_generated_from_the_definitions():
    definitions = load_definitions()
    assert SEMANTIC_YAML.read_text(encoding="utf-8") == render_semantic_yaml(definitions), (
        "run `python -m orchestration.cli metrics`"
    )
    assert CATALOG_MD.read_text(encoding="utf-8") == render_catalog(definitions)
    readme = README.read_text(encoding="utf-8")
    assert readme == render_readme(readme, definitions), "run `python -m orchestration.cli metrics`"
    for kpi in definitions:  # every KPI is in the README with its Japanese name
        assert f"| `{kpi['kpi_code']}` | {kpi['kpi_name_ja']} |" in readme


def test_a_rep_who_changes_team_counts_for_the_team_of_the_day(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    # U3 moves from FS1 to a new team FS2 on 1 June 2025, in the middle of fiscal Q1.
    (landing / "rep_team_history.csv").write_text(
        "user_id,team_id,team_name,valid_from_date\n"
        "U3,FS1,フィールドセールス1課,2024-10-01\n"
        "U3,FS2,フィールドセールス2課,2025-06-01\n",
        encoding="utf-8",
    )
    with (landing / "targets.csv").open("a", encoding="utf-8") as handle:
        handle.write("won_amount,quarter,2025-04-01,team,FS2,3000000,JPY,budget\n")
    settings = settings_for(tmp_path, landing, "2025-10-31")
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        rows = {
            (team, kpi): value
            for team, kpi, value in con.execute(
                "select scope_id, kpi_code, kpi_value from kpi_scorecard "
                "where period_grain = 'quarter' and period_start_date = '2025-04-01' "
                "and scope_type = 'team' and kpi_code in ('won_amount', 'opportunities_created')"
            ).fetchall()
        }
        target = con.execute(
            "select target_value, attainment from kpi_scorecard where period_grain = 'quarter' "
            "and period_start_date = '2025-04-01' and scope_type = 'team' and scope_id = 'FS2' "
            "and kpi_code = 'won_amount'"
        ).fetchone()
    # Q1 (April-June): U3 created O3 (1 May) and O4 (15 May) while in FS1, and won O3
    # (30 June, 3,600,000) while in FS2; U2 (FS1) created O1, O2 and won O1 (1,200,000).
    assert rows[("FS1", "opportunities_created")] == 4
    assert rows[("FS1", "won_amount")] == 1_200_000
    assert rows[("FS2", "won_amount")] == 3_600_000
    assert ("FS2", "opportunities_created") not in rows
    assert target == (3_000_000, pytest.approx(1.2))


def test_lead_to_opportunity_rate_counts_conversions_known_on_the_as_of_date(
    mid_may, end_of_october
):
    query = dict(
        period_grain="month",
        period_start_date="2025-04-01",
        scope_type="company",
        scope_id="company",
        kpi_code="lead_to_opportunity_rate",
    )
    # April leads L1-L4: L1 (3 Apr), L2 (10 Apr) and L4 (1 May) converted; L3 never did.
    assert _row(mid_may, "numerator, denominator", **query) == (3.0, 4.0)
    # By 31 October the same; the extra lead L6 is in March, not April.
    assert _row(end_of_october, "numerator, denominator", **query) == (3.0, 4.0)


def test_win_rate_by_amount_and_by_cohort(mid_may, end_of_october):
    fiscal_2025 = dict(period_grain="fiscal_year", period_start_date="2025-04-01")
    company = dict(scope_type="company", scope_id="company")
    # Closed in FY2025: O1 won 1,200,000, O2 lost 2,400,000, O3 won 3,600,000.
    row = _row(
        end_of_october,
        "numerator, denominator, kpi_value",
        **fiscal_2025,
        **company,
        kpi_code="win_rate_amount",
    )
    assert row == (4_800_000, 7_200_000, pytest.approx(2 / 3))

    def cohort(con, month: str):
        return _row(
            con,
            "numerator, denominator",
            period_grain="month",
            period_start_date=month,
            **company,
            kpi_code="win_rate_cohort",
        )

    # Created in April: O1 (won 13 May), O2 (lost); in May: O3 (won 30 June), O4 (open).
    assert cohort(end_of_october, "2025-04-01") == (1.0, 2.0)
    assert cohort(end_of_october, "2025-05-01") == (1.0, 2.0)
    # On 16 May, O3 was not won yet.
    assert cohort(mid_may, "2025-04-01") == (1.0, 2.0)
    assert cohort(mid_may, "2025-05-01") == (0.0, 2.0)


def test_recurring_revenue_recognises_the_mrr_of_every_month(end_of_october):
    # S1 (A1) 100,000 June-August, S2 (A1) 150,000 from September, S3 (A3) 300,000
    # July-September: June 100,000; July, August 400,000; September 450,000; October 150,000.
    months = {
        start.isoformat(): value
        for start, value in end_of_october.execute(
            "select period_start_date, kpi_value from kpi_scorecard where period_grain = 'month' "
            "and scope_type = 'company' and kpi_code = 'recurring_revenue'"
        ).fetchall()
    }
    assert months == {
        "2025-06-01": 100_000,
        "2025-07-01": 400_000,
        "2025-08-01": 400_000,
        "2025-09-01": 450_000,
        "2025-10-01": 150_000,
    }
    assert _by_scope(end_of_october, "company", "recurring_revenue") == {"company": 1_500_000}
    assert _by_scope(end_of_october, "industry", "recurring_revenue", "quarter", "2025-07-01") == {
        "manufacturing": 100_000 + 100_000 + 150_000,
        "retail": 900_000,
    }


def test_funnel_and_sales_cycle_ignore_events_after_the_as_of_date(mid_may):
    def opportunity_to_won(grain: str, start: str):
        return mid_may.execute(
            "select sum(numerator_count), sum(denominator_count) from kpi_funnel_conversion "
            "where analysis_basis = 'cohort' and from_step = 'opportunity' and to_step = 'won' "
            "and period_grain = ? and period_start_date = ?",
            [grain, start],
        ).fetchone()

    # On 16 May: O3 (created 1 May) is won only on 30 June and O4 (15 May) is open, so the May
    # cohort has no win yet, at the month and at the quarter grain (O1 won on 13 May).
    assert opportunity_to_won("month", "2025-05-01") == (0, 2)
    assert opportunity_to_won("quarter", "2025-04-01") == (1, 4)
    won = mid_may.execute(
        "select period_grain, sum(won_deals) from kpi_sales_cycle where grouping_level = 'total' "
        "and period_start_date <= '2025-05-16' and period_end_date >= '2025-05-16' group by 1"
    ).fetchall()
    # The ISO week of 16 May (12-18 May) holds 13 May too; 16 May itself has no win.
    assert dict(won) == {"week": 1, "month": 1, "quarter": 1, "fiscal_year": 1}


def test_a_fiscal_year_starting_in_february(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    settings = settings_for(tmp_path, landing, "2025-10-31", {"fiscal_year_start_month": 2})
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        leads = {
            (grain, start.isoformat()): value
            for grain, start, value in con.execute(
                "select period_grain, period_start_date, kpi_value from kpi_scorecard "
                "where period_grain in ('quarter', 'fiscal_year') and scope_type = 'company' "
                "and kpi_code = 'leads_created'"
            ).fetchall()
        }
        funnel_years = {
            start.isoformat()
            for (start,) in con.execute(
                "select distinct period_start_date from kpi_funnel_conversion "
                "where period_grain = 'fiscal_year'"
            ).fetchall()
        }
    # Fiscal quarters run February-April, May-July, August-October: L1-L4 (April) are in the
    # quarter of 1 February, L5 (2 May) in that of 1 May; all five in the year from 1 February.
    assert leads == {
        ("quarter", "2025-02-01"): 4.0,
        ("quarter", "2025-05-01"): 1.0,
        ("fiscal_year", "2025-02-01"): 5.0,
    }
    assert funnel_years == {"2025-02-01"}


def test_hand_off_outcomes_as_known_on_the_as_of_date(mid_may):
    # April cohort (O1 and O2 from U1's leads, closed by U2): on 16 May O1 was won (13 May) and
    # O2 still open (lost only on 20 May).
    row = mid_may.execute(
        "select sum(opportunities_created), sum(won_deals), sum(closed_deals) from kpi_handoff "
        "where period_grain = 'month' and period_start_date = '2025-04-01'"
    ).fetchone()
    assert row == (2, 1, 1)
