"""Acceptance test on a real-shaped export: the funnel export, through the whole pipeline.

tests/fixtures/funnel_export holds a marketing-funnel export in the shape of a well-known
public one (leads.csv + closed_deals.csv, won deals only; no activities, users or accounts),
in two variants: the lead -> deal link on the deal side and on the lead side only. Each is
loaded with its own mapping.yml (lead sources declared in the mapping, lookups across files,
users derived from the deals' people) and run once, as of 2019-01-31 in BRL. Every expected
value comes from tests/funnel_oracle.py, which reads the raw CSV files in plain Python.

The traps: leads and wins dated years before the as-of date (2016), exactly one deal won
2 days before its lead's first contact (published anyway, reported in data_quality_issues
and left out of the cycle statistics), a person who is the SDR on some deals and the closer
on others, empty origins (-> unknown) with won deals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.settings import Settings
from orchestration.pipeline import PipelineOutcome, run_pipeline, settings_for
from tests.conftest import FIXTURES, copy_fixture
from tests.funnel_oracle import CycleStats, FunnelOracle, compute

FUNNEL = FIXTURES / "funnel_export"
VARIANTS = ("deal_side", "lead_side")
AS_OF = "2019-01-31"
SOURCE = "funnel"
DEFECT_RULE = "won_before_lead_created"
# kpi_sales_cycle_deals: a deal whose dates are inconsistent (won before its lead was
# created): such a deal is kept in the mart but left out of the cycle statistics.
DEFECT_FLAG = "excluded_reason is not null"


@dataclass
class ExportRun:
    variant: str
    settings: Settings
    outcome: PipelineOutcome
    oracle: FunnelOracle


def _id(raw_id: str) -> str:
    """An export id as the warehouse holds it: namespaced with the source."""
    return f"{SOURCE}:{raw_id}"


def _ids(counts: Counter) -> dict[str, int]:
    return {_id(key): value for key, value in counts.items()}


@pytest.fixture(scope="module", params=VARIANTS)
def export_run(request, tmp_path_factory) -> ExportRun:
    """The whole pipeline once per variant, the variant folder as landing/funnel/."""
    variant = request.param
    base = tmp_path_factory.mktemp(f"funnel_{variant}")
    landing = base / "landing"
    landing.mkdir()
    copy_fixture(FUNNEL / variant, landing / SOURCE)
    settings = settings_for(base, landing, AS_OF, dbt_vars={"reporting_currency": "BRL"})
    outcome = run_pipeline(settings)
    return ExportRun(variant, settings, outcome, compute(FUNNEL / variant))


@pytest.fixture(scope="module")
def marts(export_run):
    """A read-only connection to the published file of the variant's run."""
    assert export_run.outcome.published, (
        f"{export_run.variant}: nothing was published: {export_run.outcome}"
    )
    with duckdb.connect(str(export_run.settings.published_db), read_only=True) as con:
        yield con


def _pairs(con, sql: str, *params) -> dict:
    """A two-column query as {first: second}."""
    return dict(con.execute(sql, list(params)).fetchall())


def test_published_and_the_defect_reported(export_run, marts):
    # Published although one deal is defective: a data-quality issue, not a failed gate.
    assert export_run.outcome.published, export_run.outcome
    [defect] = export_run.oracle.defects
    issues = marts.execute(
        "select record_id, source_file, source_row from data_quality_issues where rule_code = ?",
        [DEFECT_RULE],
    ).fetchall()
    assert len(issues) == 1, issues
    record_id, source_file, source_row = issues[0]
    assert record_id == _id(defect.seller_id)
    # It points at the deal's row in closed_deals.csv (row 1 = first line after the header).
    assert Path(source_file).name == defect.source_file == "closed_deals.csv"
    assert source_row == defect.source_row


def test_every_lead_and_win_reaches_the_marts(export_run, marts):
    oracle = export_run.oracle
    assert marts.execute("select count(*) from core.fct_leads").fetchone() == (oracle.leads,)
    assert marts.execute("select count(*) from core.fct_opportunities where is_won").fetchone() == (
        oracle.wins,
    )
    # Leads dated years before the as-of date are kept (60 before 2018, the first in 2016).
    early = sum(day.year < 2018 for day in oracle.lead_dates.values())
    assert marts.execute(
        "select count(*) from core.fct_leads where created_date < '2018-01-01'"
    ).fetchone() == (early,)
    assert (
        marts.execute(
            "select count(*) from kpi_funnel_conversion where period_grain = 'month' "
            "and period_start_date between '2016-01-01' and '2016-12-31'"
        ).fetchone()[0]
        > 0
    )


COHORT_LEAD_TO_OPPORTUNITY = (
    "from kpi_funnel_conversion where analysis_basis = 'cohort' "
    "and conversion_step = 'lead_to_opportunity' and period_grain = 'month'"
)


def test_lead_to_won_cohort_conversion_by_origin_and_month(export_run, marts):
    # Every deal of the export is won: lead -> opportunity is lead -> won here.
    oracle = export_run.oracle
    rows = marts.execute(
        "select lead_source, sum(numerator_count), sum(denominator_count) "
        f"{COHORT_LEAD_TO_OPPORTUNITY} group by lead_source"
    ).fetchall()
    assert {source: (num, den) for source, num, den in rows} == oracle.lead_to_won_by_origin
    rows = marts.execute(
        "select period_start_date, sum(numerator_count), sum(denominator_count) "
        f"{COHORT_LEAD_TO_OPPORTUNITY} group by period_start_date"
    ).fetchall()
    assert {month: (num, den) for month, num, den in rows} == oracle.lead_to_won_by_cohort_month
    assert (
        marts.execute(
            f"select sum(numerator_count), sum(denominator_count) {COHORT_LEAD_TO_OPPORTUNITY}"
        ).fetchone()
        == oracle.lead_to_won
    )


def _scorecard(con, kpi_code: str, scope_type: str) -> dict[str, float]:
    """{scope_id: numerator summed over the fiscal years}, zero scopes left out."""
    totals = _pairs(
        con,
        "select scope_id, sum(numerator) from kpi_scorecard where kpi_code = ? "
        "and scope_type = ? and period_grain = 'fiscal_year' group by scope_id",
        kpi_code,
        scope_type,
    )
    return {scope: total for scope, total in totals.items() if total}


def test_wins_by_closer_and_by_sdr(export_run, marts):
    # Attribution by the role on the deal: the closer (sr_id) wins it, the SDR sourced it.
    oracle = export_run.oracle
    by_closer = _scorecard(marts, "deals_won", "rep")
    assert by_closer == _ids(oracle.wins_by_closer)
    handoff = _pairs(
        marts,
        "select sdr_rep_id, sum(won_deals) from kpi_handoff where period_grain = 'fiscal_year' "
        "group by sdr_rep_id",
    )
    assert handoff == _ids(oracle.wins_by_sdr)
    sourced = _scorecard(marts, "opportunities_sourced", "rep")
    assert sourced == _ids(oracle.wins_by_sdr)  # every deal here is won
    # The person who is SDR on some deals and closer on others has both numbers right.
    [person] = set(oracle.wins_by_sdr) & set(oracle.wins_by_closer)
    assert by_closer[_id(person)] == oracle.wins_by_closer[person]
    assert handoff[_id(person)] == sourced[_id(person)] == oracle.wins_by_sdr[person]


def test_wins_by_role(export_run, marts):
    # Every win counts for the closers' role, every deal for the SDRs': none twice.
    oracle = export_run.oracle
    assert _scorecard(marts, "deals_won", "role") == {"AE": oracle.wins}
    assert _scorecard(marts, "opportunities_sourced", "role") == {"SDR": oracle.wins}


def test_sales_cycle_lead_to_won(export_run, marts):
    oracle = export_run.oracle
    [defect] = oracle.defects
    deals = marts.execute(
        f"select opportunity_id, days_lead_to_won, {DEFECT_FLAG} from kpi_sales_cycle_deals"
    ).fetchall()
    # The defect deal is still a won deal in the mart, flagged; the others carry their days.
    assert {deal_id for deal_id, _, flagged in deals if flagged} == {_id(defect.seller_id)}
    days = {deal_id: gap for deal_id, gap, flagged in deals if not flagged}
    assert days == {_id(seller): gap for seller, gap in oracle.days_lead_to_won.items()}
    stats = CycleStats.of(list(days.values()))
    assert stats.count == oracle.cycle.count
    for name in ("mean", "median", "p75", "p90"):
        assert getattr(stats, name) == pytest.approx(getattr(oracle.cycle, name), abs=1e-6)

    # kpi_sales_cycle, all teams and sources, per fiscal year of the win (the percentiles of a
    # year cannot be summed, so each year is compared with the oracle's year): the defect is
    # left out of the statistics and counted as excluded.
    rows = marts.execute(
        "select extract(year from period_start_date), won_deals_with_lead, "
        "mean_days_lead_to_won, median_days_lead_to_won, p75_days_lead_to_won, "
        "p90_days_lead_to_won from kpi_sales_cycle "
        "where period_grain = 'fiscal_year' and grouping_level = 'total'"
    ).fetchall()
    by_year = {int(year): CycleStats(*values) for year, *values in rows}
    assert by_year.keys() == oracle.cycle_by_fiscal_year.keys()
    for year, expected in oracle.cycle_by_fiscal_year.items():
        actual = by_year[year]
        assert actual.count == expected.count, year
        for name in ("mean", "median", "p75", "p90"):
            assert getattr(actual, name) == pytest.approx(getattr(expected, name), abs=1e-6), (
                year,
                name,
            )
    assert marts.execute(
        "select sum(excluded_deals) from kpi_sales_cycle "
        "where period_grain = 'fiscal_year' and grouping_level = 'total'"
    ).fetchone() == (1,)


def test_nothing_lost_in_conversion(export_run, marts):
    # Per source file: rows read = used + rejected, and read = the file's data lines.
    with duckdb.connect(str(export_run.settings.working_db), read_only=True) as con:
        log = con.execute(
            "select source_file, rows_read, rows_used, rows_rejected from raw._conversion_log "
            "where source_system = ?",
            [SOURCE],
        ).fetchall()
    assert {Path(source_file).name for source_file, *_ in log} == set(
        export_run.oracle.data_rows
    ), log
    for source_file, read, used, rejected in log:
        assert read == used + rejected, source_file
        assert read == export_run.oracle.data_rows[Path(source_file).name], source_file
        assert rejected == 0, source_file  # the export is clean; the defect is not a reject
