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


# ---------------------------------------------------------------------------------------------
# What a run quarantined and flagged (printed after every `run` / `demo`, published or not)
# ---------------------------------------------------------------------------------------------

# raw._quarantine reasons embed the offending value ("amount: cannot read 12,3x as decimal");
# they are grouped by column and kind, one regexp rewrite per kind, applied to every part of a
# reason (the loader joins the reasons of one row with '; ').
QUARANTINE_KINDS_SQL = r"""
with parts as (
    select entity, trim(unnest(string_split(reason, '; '))) as part
    from raw._quarantine
),

kinds as (
    select
        entity,
        case
            when part like 'malformed row%' then 'malformed row (CSV structure)'
            when regexp_matches(part, '^[A-Za-z_][A-Za-z0-9_]*: cannot read .* as [a-z0-9]+$')
                then regexp_replace(part, '^([A-Za-z0-9_]+): cannot read .* as ([a-z0-9]+)$',
                    '\1: cannot read as \2')
            when regexp_matches(part, '^[A-Za-z_][A-Za-z0-9_]*: value .* is not one of ')
                then regexp_replace(part, '^([A-Za-z0-9_]+): value .* (is not one of .*)$',
                    '\1: value \2')
            else left(regexp_replace(part, '[0-9]+', '#', 'g'), 80)
        end as kind
    from parts
)

select entity, kind, count(*) as rows
from kinds
group by entity, kind
order by entity, rows desc, kind
"""

ISSUES_SQL = """
select entity, rule_code, severity, count(*) as issues
from data_quality_issues
group by entity, rule_code, severity
order by
    case severity when 'error' then 0 when 'warning' then 1 else 2 end,
    entity, issues desc, rule_code
"""

AVAILABILITY_SQL = """
select mart_name, kpi_group, reason
from kpi_availability
where not is_available
order by mart_name, kpi_group
"""


def _has_table(con: duckdb.DuckDBPyConnection, schema: str | None, table: str) -> bool:
    sql = "select count(*) from duckdb_tables() where table_name = ?"
    params = [table]
    if schema is not None:
        sql += " and schema_name = ?"
        params.append(schema)
    return bool(con.execute(sql, params).fetchall()[0][0])


def quarantine_summary(working_db: Path) -> str | None:
    """Rows of raw._quarantine by entity and reason kind, or None when nothing was quarantined.

    A row with two bad columns counts under both reasons, so the counts add up to reasons,
    not rows; the total line gives the rows.
    """
    if not Path(working_db).exists():
        return None
    with duckdb.connect(str(working_db), read_only=True) as con:
        if not _has_table(con, "raw", "_quarantine"):
            return None
        total = con.execute("select count(*) from raw._quarantine").fetchall()[0][0]
        if not total:
            return None
        rel = con.sql(QUARANTINE_KINDS_SQL)
        table = _table(
            f"Quarantined input rows: {total:,} (not loaded; file, row, reason and the raw "
            f"record of each in raw._quarantine of {working_db})",
            ["entity", "reason (by column and kind)", "rows"],
            rel.fetchall(),
        )
    return table


def unmatched_files_summary(working_db: Path) -> str | None:
    """Landing files no entity or source folder reads (raw._unmatched_files), or None."""
    if not Path(working_db).exists():
        return None
    with duckdb.connect(str(working_db), read_only=True) as con:
        if not _has_table(con, "raw", "_unmatched_files"):
            return None
        rows = con.execute("select path, reason from raw._unmatched_files order by path").fetchall()
    if not rows:
        return None
    lines = [
        f"Files in the landing folder that were NOT loaded: {len(rows):,} (their names match no "
        "entity and they are not in a source folder; hidden files and README files are ignored "
        "without a word)"
    ]
    lines += [f"  {path}: {reason}" for path, reason in rows]
    return "\n".join(lines)


def issues_summary(published_db: Path) -> str | None:
    """Counts of `data_quality_issues` by entity, rule and severity; None without the table."""
    if not Path(published_db).exists():
        return None
    with duckdb.connect(str(published_db), read_only=True) as con:
        if not _has_table(con, "main", "data_quality_issues"):
            return None
        total = con.execute("select count(*) from data_quality_issues").fetchall()[0][0]
        if not total:
            return (
                f"Data quality issues: none flagged (table data_quality_issues in {published_db})"
            )
        rel = con.sql(ISSUES_SQL)
        return _table(
            f"Data quality issues flagged: {total:,} (loaded and kept, or excluded where the "
            f"table says; each record with its file, row and what to do in table "
            f"data_quality_issues of {published_db})",
            ["entity", "rule", "severity", "issues"],
            rel.fetchall(),
        )


def availability_summary(published_db: Path) -> str | None:
    """The marts and scorecard KPI groups that are empty for lack of an input, or None."""
    if not Path(published_db).exists():
        return None
    with duckdb.connect(str(published_db), read_only=True) as con:
        if not _has_table(con, "main", "kpi_availability"):
            return None
        rows = con.execute(AVAILABILITY_SQL).fetchall()
    if not rows:
        return None
    lines = [
        f"Not computed for lack of an optional export (table kpi_availability in {published_db}):"
    ]
    for mart, group, reason in rows:
        name = mart if group == "all" else f"{mart} [{group}]"
        lines.append(f"  {name}: {reason}")
    return "\n".join(lines)


def run_report(working_db: Path, published_db: Path | None) -> str:
    """What the run left out and flagged: quarantine, data quality issues, unavailable marts.

    `published_db` is None when the run did not publish (the published file is then the
    previous run's, so its issues are not this run's).
    """
    sections = [
        unmatched_files_summary(working_db),
        quarantine_summary(working_db) or "Quarantined input rows: none",
    ]
    if published_db is not None:
        sections += [issues_summary(published_db), availability_summary(published_db)]
    return "\n\n".join(section for section in sections if section)
