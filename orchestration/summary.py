"""A short KPI summary of the published marts, printed by `make demo`."""

from __future__ import annotations

from pathlib import Path

import duckdb

FUNNEL_SQL = """
select
    conversion_step,
    sum(numerator_count) as reached,
    sum(denominator_count) as started,
    sum(numerator_count) / nullif(sum(denominator_count), 0) as rate
from kpi_funnel_conversion
where analysis_basis = 'cohort'
    and period_grain = 'month'
    and period_start_date >= (
        select max(period_start_date) from kpi_funnel_conversion where period_grain = 'month'
    ) - interval 12 month
group by conversion_step, step_order
order by step_order
"""

CAC_SQL = """
select
    channel,
    sum(spend_amount) as spend,
    sum(new_customers) as new_customers,
    nullif(sum(spend_amount), 0) / nullif(sum(new_customers), 0) as cac,
    nullif(sum(spend_amount), 0) / nullif(sum(cac_payback_denominator), 0) as payback_months,
    max(currency) as currency
from kpi_cac
where period_grain = 'month'
    and period_start_date >= (
        select max(period_start_date) from kpi_cac where period_grain = 'month'
    ) - interval 12 month
group by channel
order by spend desc
"""

RETENTION_SQL = """
select
    periods_since_acquisition as months_since_acquisition,
    sum(active_customers) / nullif(sum(cohort_customers), 0) as logo_retention,
    sum(cohort_mrr) / nullif(sum(cohort_starting_mrr), 0) as net_revenue_retention,
    sum(retained_base_mrr) / nullif(sum(cohort_starting_mrr), 0) as gross_revenue_retention,
    count(*) as cohorts
from kpi_retention
where period_grain = 'month' and scope_type = 'company'
    and periods_since_acquisition in (3, 6, 12, 24)
group by periods_since_acquisition
order by periods_since_acquisition
"""

CYCLE_SQL = """
select
    team_id,
    count(*) as won_deals,
    median(days_opportunity_to_won) as median_days,
    quantile_cont(days_opportunity_to_won, 0.9) as p90_days,
    median(days_lead_to_won) as median_days_from_lead
from kpi_sales_cycle_deals
where won_date >= (select max(won_date) from kpi_sales_cycle_deals) - interval 12 month
group by team_id
order by team_id
"""


SCORECARD_SQL = """
select
    scope_id as team_id,
    kpi_code,
    kpi_value as actual,
    target_value as target,
    attainment,
    pace_ratio,
    landing_forecast as forecast,
    status
from kpi_scorecard
where period_grain = 'month'
    and scope_type = 'team'
    and target_value is not null
    and period_start_date = (
        select max(period_start_date) from kpi_scorecard where period_grain = 'month'
    )
order by team_id, kpi_code
"""


def _format(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    try:
        number = float(value)  # Decimal
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.0f}"


def _table(title: str, columns: list[str], rows: list[tuple]) -> str:
    cells = [[_format(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [title, line, "  ".join("-" * w for w in widths)]
    numeric = [
        all(
            isinstance(row[i], int | float) or row[i] is None or not isinstance(row[i], str)
            for row in rows
        )
        for i in range(len(columns))
    ]
    out += [
        "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    return "\n".join(out)


def kpi_summary(published_db: Path) -> str:
    """Render the summary from the published file (read-only, so it never blocks a run)."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        sections = []
        for title, sql in (
            (
                "Funnel conversion, cohorts of the last 12 months (商談化率・ステージ転換率)",
                FUNNEL_SQL,
            ),
            ("CAC by channel, last 12 months (顧客獲得コスト)", CAC_SQL),
            ("Retention by months since acquisition, all cohorts (顧客維持率・NRR)", RETENTION_SQL),
            ("Sales cycle of deals won in the last 12 months, days (セールスサイクル)", CYCLE_SQL),
            (
                "Scorecard, current month by team: attainment, pace and landing forecast "
                "(予算達成率・着地見込み)",
                SCORECARD_SQL,
            ),
        ):
            rel = con.sql(sql)
            sections.append(_table(title, rel.columns, rel.fetchall()))
    return "\n\n".join(sections)
