"""What the dashboard shows, read from the published file as the marts hold it.

One read-only connection, closed before any page is written: the generated site needs no
database and holds no lock on the published file. Nothing here recomputes a KPI: values are
selected from the marts; the long tables are filtered to one grain and scope, and the funnel is
re-aggregated the way its mart documents (sum the numerators, sum the denominators, divide).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR

SCORECARD_GRAINS = ("month", "quarter", "fiscal_year")
# Funnel, CAC and sales cycle are shown for the fiscal year (年度) holding the as-of date.
YEAR_GRAIN = "fiscal_year"
# Retention heat map: monthly cohorts acquired in the last RETENTION_COHORTS months.
RETENTION_COHORTS = 24
TOP_ISSUES = 50


class PublishedFileMissing(FileNotFoundError):
    """The published DuckDB file is not there yet."""


@dataclass
class Section:
    """Rows of one chart or table, or why there are none."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    empty_reason: str | None = None
    period: dict[str, Any] | None = None
    # Rows shown apart (the scorecard's KPIs without a target).
    others: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.rows and not self.others


@dataclass
class DashboardData:
    published_db: Path
    as_of_date: dt.date | None
    as_of_note: str | None
    published_at: dt.datetime | None
    run_id: str | None
    reporting_currency: str
    team_names: dict[str, str]
    scorecard: dict[str, Section]
    funnel: Section
    cac: Section
    retention: Section
    sales_cycle: Section
    sales_cycle_deals: Section
    quality_counts: Section
    quality_top: Section
    quality_total: int


def reporting_currency(dbt_vars: dict[str, Any] | None = None) -> str:
    """The currency the scorecard's money KPIs are in: dbt var reporting_currency, as the run
    set it (SALES_KPI_DBT_VARS) or as dbt_project.yml declares it."""
    if dbt_vars and dbt_vars.get("reporting_currency"):
        return str(dbt_vars["reporting_currency"])
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return str(project.get("vars", {}).get("reporting_currency", "JPY"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}" if schema != "main" else name
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'main' and table_name = ?",
            [table],
        ).fetchall()
    }


def _missing(table: str) -> Section:
    return Section(
        empty_reason=f"The published file has no table {table}: run `make demo` (or the "
        "nightly job) to publish the marts, then `make dashboard` again."
    )


def _period(
    con: duckdb.DuckDBPyConnection, table: str, grain: str, as_of: dt.date | None
) -> dict[str, Any] | None:
    if as_of is None:
        return None
    rows = _rows(
        con,
        f"select distinct period_start_date, period_end_date from {table} "
        "where period_grain = ? and ? between period_start_date and period_end_date",
        grain,
        as_of,
    )
    return rows[0] if rows else None


def _no_period(table: str, grain: str, as_of: dt.date | None) -> Section:
    return Section(
        empty_reason=f"No rows in {table} for the {grain.replace('_', ' ')} holding the as-of "
        f"date {as_of}: the published file has nothing to chart here."
    )


def _scorecard(con, tables, as_of) -> dict[str, Section]:
    if "kpi_scorecard" not in tables:
        return {grain: _missing("kpi_scorecard") for grain in SCORECARD_GRAINS}
    sections = {}
    for grain in SCORECARD_GRAINS:
        period = _period(con, "kpi_scorecard", grain, as_of)
        if period is None:
            sections[grain] = _no_period("kpi_scorecard", grain, as_of)
            continue
        # Every company and team row of the period; the KPIs with a target (予算) for the
        # company or a team are compared with it, the others show actual and forecast only.
        rows = _rows(
            con,
            """
            select * from kpi_scorecard
            where period_grain = ? and period_start_date = ?
                and scope_type in ('company', 'team')
            order by kpi_code, case scope_type when 'company' then 0 else 1 end, scope_id
            """,
            grain,
            period["period_start_date"],
        )
        targeted = {r["kpi_code"] for r in rows if r["target_value"] is not None}
        section = Section(
            rows=[r for r in rows if r["kpi_code"] in targeted],
            others=[r for r in rows if r["kpi_code"] not in targeted],
            period=period,
        )
        if not section.rows:
            section.empty_reason = (
                f"No KPI has a target (予算) for the company or a team in this "
                f"{grain.replace('_', ' ')}: add them to targets.csv to compare."
            )
        if not rows:
            section.empty_reason = f"No company or team rows in kpi_scorecard for this {grain}."
        sections[grain] = section
    return sections


def _funnel(con, tables, as_of) -> Section:
    if "kpi_funnel_conversion" not in tables:
        return _missing("kpi_funnel_conversion")
    period = _period(con, "kpi_funnel_conversion", YEAR_GRAIN, as_of)
    if period is None:
        return _no_period("kpi_funnel_conversion", YEAR_GRAIN, as_of)
    # The mart's own roll-up rule: sum numerators and denominators within one grain, divide.
    rows = _rows(
        con,
        """
        select
            conversion_step,
            from_step,
            to_step,
            step_order,
            sum(numerator_count) as numerator_count,
            sum(denominator_count) as denominator_count,
            sum(inferred_numerator_count) as inferred_numerator_count,
            sum(numerator_count) / nullif(sum(denominator_count), 0) as conversion_rate
        from kpi_funnel_conversion
        where period_grain = ? and period_start_date = ? and analysis_basis = 'cohort'
        group by all
        order by step_order
        """,
        YEAR_GRAIN,
        period["period_start_date"],
    )
    section = Section(rows=rows, period=period)
    # The worst step of the whole funnel, and of the opportunity stages alone (lead to
    # opportunity is usually the lowest rate, so the stage where deals stall is named too).
    rated = [r for r in rows if r["step_order"] < 90 and r["conversion_rate"] is not None]
    stages = [r for r in rated if r["step_order"] > 0]
    worst = min(rated, key=lambda r: (r["conversion_rate"], r["step_order"]), default=None)
    worst_stage = min(stages, key=lambda r: (r["conversion_rate"], r["step_order"]), default=None)
    for row in rows:
        row["is_worst"] = row is worst
        row["is_worst_stage"] = row is worst_stage
    return section


def _cac(con, tables, as_of) -> Section:
    if "kpi_cac" not in tables:
        return _missing("kpi_cac")
    period = _period(con, "kpi_cac", YEAR_GRAIN, as_of)
    if period is None:
        return _no_period("kpi_cac", YEAR_GRAIN, as_of)
    rows = _rows(
        con,
        """
        select * from kpi_cac
        where period_grain = ? and period_start_date = ?
        order by channel, agency_key
        """,
        YEAR_GRAIN,
        period["period_start_date"],
    )
    return Section(rows=rows, period=period)


def _retention(con, tables, as_of) -> Section:
    if "kpi_retention" not in tables:
        return _missing("kpi_retention")
    if as_of is None:
        return Section(empty_reason="No as-of date in the published file (_publication).")
    month = as_of.replace(day=1)
    first = month.year * 12 + month.month - 1 - (RETENTION_COHORTS - 1)
    first_cohort = dt.date(first // 12, first % 12 + 1, 1)
    rows = _rows(
        con,
        """
        select * from kpi_retention
        where period_grain = 'month' and scope_type = 'company'
            and cohort_period_start_date between ? and ?
        order by cohort_period_start_date, periods_since_acquisition
        """,
        first_cohort,
        month,
    )
    section = Section(
        rows=rows, period={"period_start_date": first_cohort, "period_end_date": month}
    )
    if not rows:
        section.empty_reason = (
            f"No monthly cohort acquired between {first_cohort} and {month} in kpi_retention "
            "(no recurring revenue in that window): nothing to draw."
        )
    return section


def _sales_cycle(con, tables, as_of) -> tuple[Section, Section]:
    if "kpi_sales_cycle" not in tables:
        return _missing("kpi_sales_cycle"), _missing("kpi_sales_cycle_deals")
    period = _period(con, "kpi_sales_cycle", YEAR_GRAIN, as_of)
    if period is None:
        empty = _no_period("kpi_sales_cycle", YEAR_GRAIN, as_of)
        return empty, empty
    summary = _rows(
        con,
        """
        select * from kpi_sales_cycle
        where period_grain = ? and period_start_date = ? and grouping_level in ('team', 'total')
        order by case grouping_level when 'total' then 1 else 0 end, team_id
        """,
        YEAR_GRAIN,
        period["period_start_date"],
    )
    if "kpi_sales_cycle_deals" not in tables:
        return Section(rows=summary, period=period), _missing("kpi_sales_cycle_deals")
    deals = _rows(
        con,
        """
        select opportunity_id, won_date, team_id, days_opportunity_to_won, days_lead_to_won,
            excluded_reason
        from kpi_sales_cycle_deals
        where won_date between ? and ?
        order by won_date, opportunity_id
        """,
        period["period_start_date"],
        min(period["period_end_date"], as_of),
    )
    return Section(rows=summary, period=period), Section(rows=deals, period=period)


def _quality(con, tables) -> tuple[Section, Section, int]:
    if "data_quality_issues" not in tables:
        return _missing("data_quality_issues"), _missing("data_quality_issues"), 0
    counts = _rows(
        con,
        """
        select rule_code, severity, entity, count(*) as issues, any_value(description) as description,
            any_value(what_to_do) as what_to_do
        from data_quality_issues
        group by rule_code, severity, entity
        order by case severity when 'error' then 0 when 'warning' then 1 else 2 end,
            issues desc, rule_code, entity
        """,
    )
    top = _rows(
        con,
        f"""
        select issue_id, rule_code, severity, entity, record_id, source_file, source_row,
            offending_values, excluded_from
        from data_quality_issues
        order by case severity when 'error' then 0 when 'warning' then 1 else 2 end,
            rule_code, source_file, source_row, issue_id
        limit {TOP_ISSUES}
        """,
    )
    total = con.execute("select count(*) from data_quality_issues").fetchone()[0]
    reason = "No data-quality issues in the published file: every loaded record passed the rules."
    return (
        Section(rows=counts, empty_reason=None if counts else reason),
        Section(rows=top, empty_reason=None if top else reason),
        total,
    )


def _empty_reasons(data: DashboardData) -> None:
    sections = [
        *data.scorecard.values(),
        data.funnel,
        data.cac,
        data.sales_cycle,
        data.sales_cycle_deals,
    ]
    for section in sections:
        if section.is_empty and section.empty_reason is None:
            section.empty_reason = "The published file has no rows for this chart."


def read_dashboard_data(
    published_db: Path, dbt_vars: dict[str, Any] | None = None
) -> DashboardData:
    """Everything the pages show, from one read-only connection to the published file."""
    published_db = Path(published_db)
    if not published_db.exists():
        raise PublishedFileMissing(
            f"No published file at {published_db}: run `make demo` first (or point "
            "SALES_KPI_PUBLISHED_DB at a published marts.duckdb)."
        )
    with duckdb.connect(str(published_db), read_only=True) as con:
        tables = _tables(con)
        publication = (
            _rows(con, "select * from _publication order by published_at desc limit 1")
            if "_publication" in tables
            else []
        )
        as_of = publication[0]["as_of_date"] if publication else None
        as_of_note = None
        if as_of is None and "kpi_scorecard" in tables:
            as_of = con.execute("select max(as_of_date) from kpi_scorecard").fetchone()[0]
            as_of_note = "_publication has no as-of date; the scorecard's own as-of date is used."
        if isinstance(as_of, dt.datetime):
            as_of = as_of.date()
        currency = reporting_currency(dbt_vars)
        if "kpi_scorecard" in tables and "currency" in _columns(con, "kpi_scorecard"):
            found = con.execute("select any_value(currency) from kpi_scorecard").fetchone()[0]
            currency = found or currency
        team_names = (
            dict(con.execute("select team_id, team_name from core.dim_teams").fetchall())
            if "core.dim_teams" in tables
            else {}
        )
        sales_cycle, sales_cycle_deals = _sales_cycle(con, tables, as_of)
        quality_counts, quality_top, quality_total = _quality(con, tables)
        data = DashboardData(
            published_db=published_db,
            as_of_date=as_of,
            as_of_note=as_of_note,
            published_at=publication[0]["published_at"] if publication else None,
            run_id=publication[0]["run_id"] if publication else None,
            reporting_currency=currency,
            team_names={k: v for k, v in team_names.items() if v},
            scorecard=_scorecard(con, tables, as_of),
            funnel=_funnel(con, tables, as_of),
            cac=_cac(con, tables, as_of),
            retention=_retention(con, tables, as_of),
            sales_cycle=sales_cycle,
            sales_cycle_deals=sales_cycle_deals,
            quality_counts=quality_counts,
            quality_top=quality_top,
            quality_total=quality_total,
        )
    _empty_reasons(data)
    return data
