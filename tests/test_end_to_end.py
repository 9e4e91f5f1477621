"""End-to-end on a small generated dataset: KPI values checked against plain Python.

The expected numbers are computed here with pandas straight from the landing CSVs and the
seed files, not by re-running the SQL under test.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.settings import REPO_ROOT
from tests.conftest import run_on

END_DATE = date(2026, 10, 31)
STAGE_ORDER = {"approach": 1, "discovery": 2, "proposal": 3, "negotiation": 4, "closed_won": 5}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from orchestration.demo.generate import generate

    base = tmp_path_factory.mktemp("e2e")
    landing = base / "landing"
    generate(landing, scale=0.03, seed=7, end_date=END_DATE)
    settings, outcome = run_on(base, landing, END_DATE.isoformat())
    assert outcome.success, outcome
    csv = {
        name: pd.read_csv(landing / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in (
            "leads",
            "opportunities",
            "opportunity_stage_history",
            "subscriptions",
            "spend",
        )
    }
    channels = pd.read_csv(REPO_ROOT / "seeds" / "lead_source_channels.csv", dtype=str)
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con, csv, dict(zip(channels.lead_source, channels.channel, strict=True))


def _month(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.to_period("M").dt.to_timestamp().dt.date


def _fiscal_quarter(series: pd.Series) -> pd.Series:
    """Start of the fiscal quarter (fiscal year from April: Apr-Jun, Jul-Sep, Oct-Dec, Jan-Mar)."""
    return pd.to_datetime(series).dt.to_period("Q-MAR").dt.start_time.dt.date


def _fiscal_year(series: pd.Series) -> pd.Series:
    """Start of the fiscal year (April 1st; FY2025 = 2025-04-01 .. 2026-03-31)."""
    return pd.to_datetime(series).dt.to_period("Y-MAR").dt.start_time.dt.date


def _busiest(series: pd.Series, n: int = 3) -> list:
    return list(series.value_counts().sort_index(ascending=False).head(12).nlargest(n).index)


def test_lead_to_opportunity_cohorts(generated):
    con, csv, _ = generated
    leads = csv["leads"].copy()
    opps = csv["opportunities"]
    linked = set(opps.loc[opps.lead_id != "", "lead_id"])
    leads["converted"] = (leads.converted_opportunity_id != "") | leads.lead_id.isin(linked)
    leads["month"] = _month(leads.created_at)
    checked = 0
    for (month, source), group in leads.groupby(["month", "lead_source"]):
        if len(group) < 5:
            continue
        row = con.execute(
            "select sum(numerator_count), sum(denominator_count) from kpi_funnel_conversion "
            "where analysis_basis = 'cohort' and conversion_step = 'lead_to_opportunity' "
            "and period_grain = 'month' and period_start_date = ? and lead_source = ?",
            [month, source],
        ).fetchone()
        assert row == (int(group.converted.sum()), len(group)), (month, source)
        checked += 1
    assert checked >= 20


def test_lead_to_opportunity_fiscal_year_cohorts(generated):
    con, csv, _ = generated
    leads = csv["leads"].copy()
    opps = csv["opportunities"]
    linked = set(opps.loc[opps.lead_id != "", "lead_id"])
    leads["converted"] = (leads.converted_opportunity_id != "") | leads.lead_id.isin(linked)
    leads["fiscal_year"] = _fiscal_year(leads.created_at)
    # 30 months to 2026-10-31: FY2024 (from May 2024), FY2025 and FY2026 (to October).
    assert sorted(set(leads.fiscal_year)) == [date(2024, 4, 1), date(2025, 4, 1), date(2026, 4, 1)]
    for (fiscal_year, source), group in leads.groupby(["fiscal_year", "lead_source"]):
        row = con.execute(
            "select sum(numerator_count), sum(denominator_count), min(period_end_date) "
            "from kpi_funnel_conversion where analysis_basis = 'cohort' "
            "and conversion_step = 'lead_to_opportunity' and period_grain = 'fiscal_year' "
            "and period_start_date = ? and lead_source = ?",
            [fiscal_year, source],
        ).fetchone()
        expected_end = date(fiscal_year.year + 1, 3, 31)
        assert row == (int(group.converted.sum()), len(group), expected_end), (fiscal_year, source)
    # Opportunity -> won by period (throughput): created vs won per fiscal year.
    opps = opps.copy()
    created = _fiscal_year(opps.created_at).value_counts()
    won = _fiscal_year(opps.loc[opps.is_won == "true", "close_date"]).value_counts()
    rows = con.execute(
        "select period_start_date, sum(numerator_count), sum(denominator_count) "
        "from kpi_funnel_conversion where analysis_basis = 'period' "
        "and conversion_step = 'opportunity_to_won' and period_grain = 'fiscal_year' "
        "group by 1 order by 1"
    ).fetchall()
    assert rows == [
        (fy, int(won.get(fy, 0)), int(created.get(fy, 0)))
        for fy in sorted(set(created.index) | set(won.index))
    ]


def test_stage_and_win_conversion_cohorts(generated):
    con, csv, _ = generated
    opps = csv["opportunities"].copy()
    history = csv["opportunity_stage_history"]
    reached = (
        history.assign(order=history.opportunity_stage.map(STAGE_ORDER))
        .groupby("opportunity_id")["order"]
        .max()
    )
    opps["max_order"] = opps.opportunity_id.map(reached)
    opps["max_order"] = opps.max_order.fillna(opps.opportunity_stage.map(STAGE_ORDER)).fillna(1)
    opps["month"] = _month(opps.created_at)
    for month in _busiest(opps.month):
        cohort = opps[opps.month == month]
        row = con.execute(
            "select sum(numerator_count), sum(denominator_count) from kpi_funnel_conversion "
            "where analysis_basis = 'cohort' and period_grain = 'month' and period_start_date = ? "
            "and conversion_step = 'information_gathering_to_proposal'",
            [month],
        ).fetchone()
        assert row == (int((cohort.max_order >= 3).sum()), int((cohort.max_order >= 2).sum()))
        row = con.execute(
            "select sum(numerator_count), sum(denominator_count) from kpi_funnel_conversion "
            "where analysis_basis = 'cohort' and period_grain = 'month' and period_start_date = ? "
            "and conversion_step = 'opportunity_to_won'",
            [month],
        ).fetchone()
        assert row == (int((cohort.is_won == "true").sum()), len(cohort))


def _new_customers_by_channel(csv, channel_of) -> pd.DataFrame:
    """Each account's acquisition (a new customer) with its date and channel, from the CSVs.

    The account's first won new-business deal (by close date, then opportunity id) with the
    channel of its lead source; else, for an account with paying subscriptions, the first one
    (by start date, then item id) with the channel of the account's earliest lead, else
    field_sales. Renewals and expansions never make a customer new.
    """
    opps = csv["opportunities"]
    leads = csv["leads"]
    won = opps[(opps.is_won == "true") & (opps.opportunity_type == "new")]
    deals = won.sort_values(["close_date", "opportunity_id"]).drop_duplicates("account_id")
    source = deals.lead_id.map(leads.set_index("lead_id").lead_source)
    by_deal = pd.DataFrame(
        {
            "account_id": deals.account_id,
            "acquired_date": deals.close_date,
            "channel": source.where(deals.lead_id != "", "ae_sourced").map(channel_of),
        }
    )
    subs = csv["subscriptions"]
    paying = subs[(subs.mrr_amount.astype(float) > 0) & ~subs.account_id.isin(deals.account_id)]
    first_items = paying.sort_values(["start_date", "subscription_item_id"]).drop_duplicates(
        "account_id"
    )
    earliest_leads = (
        leads[leads.account_id != ""]
        .sort_values(["created_at", "lead_id"])
        .drop_duplicates("account_id")
        .set_index("account_id")
        .lead_source
    )
    lead_source = first_items.account_id.map(earliest_leads).fillna("ae_sourced")
    by_subscription = pd.DataFrame(
        {
            "account_id": first_items.account_id,
            "acquired_date": first_items.start_date,
            "channel": lead_source.map(channel_of),
        }
    )
    first = pd.concat([by_deal, by_subscription], ignore_index=True)
    return first[pd.to_datetime(first.acquired_date).dt.date <= END_DATE]


def test_cac_by_channel(generated):
    con, csv, channel_of = generated
    first = _new_customers_by_channel(csv, channel_of)
    first["month"] = _month(first.acquired_date)
    spend = csv["spend"].copy()
    spend["month"] = _month(spend.spend_month + "-01")
    spend["amount"] = spend.amount.astype(float)
    checked = 0
    for (month, channel), group in first.groupby(["month", "channel"]):
        spent = spend[(spend.month == month) & (spend.channel == channel)].amount.sum()
        if not spent:
            continue
        row = con.execute(
            "select sum(new_customers), sum(spend_amount), "
            "sum(spend_amount) / sum(new_customers) from kpi_cac "
            "where period_grain = 'month' and period_start_date = ? and channel = ?",
            [month, channel],
        ).fetchone()
        assert row[0] == len(group)
        assert float(row[1]) == pytest.approx(spent)
        assert float(row[2]) == pytest.approx(spent / len(group))
        checked += 1
    assert checked >= 10


def test_cac_by_fiscal_quarter(generated):
    con, csv, channel_of = generated
    first = _new_customers_by_channel(csv, channel_of)
    first["quarter"] = _fiscal_quarter(first.acquired_date)
    spend = csv["spend"].copy()
    spend = spend[pd.to_datetime(spend.spend_month + "-01").dt.date <= END_DATE].copy()
    spend["quarter"] = _fiscal_quarter(spend.spend_month + "-01")
    spend["amount"] = spend.amount.astype(float)
    spent_by = spend.groupby(["quarter", "channel"]).amount.sum()
    checked = 0
    for (quarter, channel), group in first.groupby(["quarter", "channel"]):
        spent = spent_by.get((quarter, channel), 0.0)
        if not spent:
            continue
        row = con.execute(
            "select sum(new_customers), sum(spend_amount), "
            "sum(spend_amount) / sum(new_customers), count(distinct period_end_date) from kpi_cac "
            "where period_grain = 'quarter' and period_start_date = ? and channel = ?",
            [quarter, channel],
        ).fetchone()
        assert row[0] == len(group), (quarter, channel)
        assert float(row[1]) == pytest.approx(spent)
        assert float(row[2]) == pytest.approx(spent / len(group))
        assert row[3] == 1
        checked += 1
    assert checked >= 10
    # Every quarter's spend is the sum of its months' spend (nothing lost or double-counted).
    # Quarters before the spend data hold new customers only: customers under contract before
    # the data starts have no new-business deal and are new on their first subscription.
    quarters = con.execute(
        "select period_start_date, sum(spend_amount) from kpi_cac "
        "where period_grain = 'quarter' group by 1 order by 1"
    ).fetchall()
    expected = spend.groupby("quarter").amount.sum()
    spent = {q: float(v) for q, v in quarters if float(v) != 0}
    assert spent == pytest.approx({q: float(v) for q, v in expected.items()})
    assert set(spent) == set(expected.index)
    first_subscription_only = {q for q, v in quarters if float(v) == 0}
    assert first_subscription_only <= set(first.quarter)


def _monthly_mrr(subscriptions: pd.DataFrame) -> pd.DataFrame:
    items = subscriptions.copy()
    items["start"] = pd.to_datetime(items.start_date)
    items["end"] = pd.to_datetime(items.end_date.replace("", None))
    items["mrr"] = items.mrr_amount.astype(float)
    months = pd.date_range(items.start.min().to_period("M").to_timestamp(), END_DATE, freq="MS")
    rows = []
    for month in months:
        last_day = month + pd.offsets.MonthEnd(0)
        active = items[(items.start <= last_day) & (items.end.isna() | (items.end >= last_day))]
        for account, mrr in active.groupby("account_id").mrr.sum().items():
            rows.append((account, month.date(), mrr))
    return pd.DataFrame(rows, columns=["account_id", "month", "mrr"])


def test_retention_cohorts(generated):
    con, csv, _ = generated
    mrr = _monthly_mrr(csv["subscriptions"])
    mrr = mrr[mrr.mrr > 0]
    cohort_of = mrr.groupby("account_id").month.min()
    checked = 0
    for cohort_month in sorted(set(cohort_of))[:6]:
        accounts = cohort_of[cohort_of == cohort_month].index
        start = mrr[(mrr.month == cohort_month) & mrr.account_id.isin(accounts)]
        k_month = (pd.Timestamp(cohort_month) + pd.DateOffset(months=6)).date()
        later = mrr[(mrr.month == k_month) & mrr.account_id.isin(accounts)]
        row = con.execute(
            "select cohort_customers, active_customers, cohort_starting_mrr, cohort_mrr, "
            "net_revenue_retention_rate, logo_retention_rate from kpi_retention "
            "where period_grain = 'month' and scope_type = 'company' "
            "and cohort_period_start_date = ? and periods_since_acquisition = 6",
            [cohort_month],
        ).fetchone()
        assert row[0] == len(accounts)
        assert row[1] == later.account_id.nunique()
        assert float(row[2]) == pytest.approx(start.mrr.sum())
        assert float(row[3]) == pytest.approx(later.mrr.sum())
        assert row[4] == pytest.approx(later.mrr.sum() / start.mrr.sum())
        assert row[5] == pytest.approx(later.account_id.nunique() / len(accounts))
        checked += 1
    assert checked == 6


def test_retention_fiscal_quarter_cohorts(generated):
    con, csv, _ = generated
    mrr = _monthly_mrr(csv["subscriptions"])
    mrr = mrr[mrr.mrr > 0]
    first_month = mrr.groupby("account_id").month.min()
    baseline = mrr.set_index(["account_id", "month"]).mrr
    cohort_of = _fiscal_quarter(first_month.astype(str))
    as_of_month = END_DATE.replace(day=1)
    checked = 0
    for cohort in sorted(set(cohort_of))[:5]:
        accounts = cohort_of[cohort_of == cohort].index
        start_mrr = sum(baseline[(a, first_month[a])] for a in accounts)
        for k in (0, 1, 4):
            period_start = (pd.Timestamp(cohort) + pd.DateOffset(months=3 * k)).date()
            last_month = (pd.Timestamp(period_start) + pd.DateOffset(months=2)).date()
            measured = min(last_month, as_of_month)
            at_end = mrr[(mrr.month == measured) & mrr.account_id.isin(accounts)]
            by_account = at_end.set_index("account_id").mrr
            retained = sum(
                min(by_account.get(a, 0.0), baseline[(a, first_month[a])]) for a in accounts
            )
            row = con.execute(
                "select period_start_date, measured_month_start_date, cohort_customers, "
                "active_customers, cohort_starting_mrr, cohort_mrr, retained_base_mrr, "
                "net_revenue_retention_rate, gross_revenue_retention_rate, logo_retention_rate "
                "from kpi_retention where period_grain = 'quarter' and scope_type = 'company' "
                "and cohort_period_start_date = ? and periods_since_acquisition = ?",
                [cohort, k],
            ).fetchone()
            assert row[:4] == (period_start, measured, len(accounts), len(at_end)), (cohort, k)
            assert float(row[4]) == pytest.approx(start_mrr)
            assert float(row[5]) == pytest.approx(at_end.mrr.sum())
            assert float(row[6]) == pytest.approx(retained)
            assert row[7] == pytest.approx(at_end.mrr.sum() / start_mrr)
            assert row[8] == pytest.approx(retained / start_mrr)
            assert row[9] == pytest.approx(len(at_end) / len(accounts))
            checked += 1
    assert checked == 15


def test_sales_cycle(generated):
    con, csv, _ = generated
    opps = csv["opportunities"]
    leads = csv["leads"].set_index("lead_id")
    won = opps[opps.is_won == "true"].copy()
    won["days"] = (
        pd.to_datetime(won.close_date) - pd.to_datetime(won.created_at).dt.normalize()
    ).dt.days
    lead_created = pd.to_datetime(won.lead_id.map(leads.created_at)).dt.normalize()
    won["lead_days"] = (pd.to_datetime(won.close_date) - lead_created).dt.days
    won["month"] = _month(won.close_date)
    for month in _busiest(won.month):
        group = won[won.month == month]
        row = con.execute(
            "select won_deals, mean_days_opportunity_to_won, median_days_opportunity_to_won, "
            "p75_days_opportunity_to_won, p90_days_opportunity_to_won, median_days_lead_to_won "
            "from kpi_sales_cycle where grouping_level = 'total' and period_grain = 'month' "
            "and period_start_date = ?",
            [month],
        ).fetchone()
        assert row[0] == len(group)
        assert row[1] == pytest.approx(group.days.mean())
        for value, q in zip(row[2:5], (0.5, 0.75, 0.9), strict=True):
            assert value == pytest.approx(np.percentile(group.days, q * 100))
        assert row[5] == pytest.approx(np.percentile(group.lead_days.dropna(), 50))
    deals = con.execute("select count(*) from kpi_sales_cycle_deals").fetchone()[0]
    assert deals == len(won)


def test_every_landing_row_is_accounted_for(generated):
    con, csv, _ = generated
    assert con.execute("select count(*) from core.fct_leads").fetchone()[0] == len(csv["leads"])
