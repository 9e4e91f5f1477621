"""Funnels across sources: an agency's spreadsheet lead converted in the company's SFA.

The agency (営業代行) reports its appointments in an .xlsx file (source agency_report); the
company's Japanese SFA export (source jp_sfa) holds the opportunity. The agency's mapping
names the SFA's opportunity id (`source: jp_sfa`), so the lead and the deal meet in one funnel.
"""

from __future__ import annotations

import shutil

import duckdb

from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import FIXTURES, TINY, TINY_AS_OF
from tests.test_mapping import write_agency_workbook


def _drop_lines(path, predicate) -> None:
    lines = path.read_bytes().decode("cp932").split("\r\n")
    kept = "\r\n".join(line for line in lines if not predicate(line))
    path.write_bytes(kept.encode("cp932"))


def test_agency_lead_converted_in_the_sfa(tmp_path):
    landing = tmp_path / "landing"
    sfa = landing / "jp_sfa"
    shutil.copytree(FIXTURES / "mapped_jp", sfa)
    # In this company the SFA does not hold the agency's leads: drop L4 there, and O3 names
    # no lead of its own (the agency's report says which lead became O3).
    _drop_lines(sfa / "リード一覧.csv", lambda line: line.startswith("L4,"))
    _drop_lines(sfa / "活動履歴.csv", lambda line: ",L4," in line)  # reported by the agency
    text = (sfa / "商談一覧.csv").read_bytes().decode("cp932")
    assert ",L4," in text
    (sfa / "商談一覧.csv").write_bytes(text.replace(",L4,", ",,").encode("cp932"))
    agency = landing / "agency_report"
    agency.mkdir()
    shutil.copy(FIXTURES / "agency_xlsx" / "source.yml", agency / "source.yml")
    write_agency_workbook(agency / "営業代行_活動報告_2025-04.xlsx")
    for name in ("subscriptions.csv", "spend.csv", "accounts.csv", "agencies.csv"):
        shutil.copy(TINY / name, landing / name)

    settings = settings_for(tmp_path, landing, TINY_AS_OF)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        lead = con.execute(
            "select lead_source, agency_key, is_converted, converted_opportunity_id "
            "from core.fct_leads where lead_id = 'agency_report:L4'"
        ).fetchone()
        opportunity = con.execute(
            "select lead_id, lead_source, sourced_by, is_won from core.fct_opportunities "
            "where opportunity_id = 'jp_sfa:O3'"
        ).fetchone()
        funnel = con.execute(
            "select sum(numerator_count), sum(denominator_count) from kpi_funnel_conversion "
            "where analysis_basis = 'cohort' and conversion_step = 'lead_to_opportunity' "
            "and lead_source = 'agency_outbound' and period_grain = 'month' "
            "and period_start_date = '2025-04-01'"
        ).fetchone()
        cycle = con.execute(
            "select days_lead_to_won from kpi_sales_cycle_deals where opportunity_id = 'jp_sfa:O3'"
        ).fetchone()
        sources = {
            row[0]
            for row in con.execute("select distinct source_system from core.fct_leads").fetchall()
        }
    assert lead == ("agency_outbound", "jp_sfa:AG1", True, "jp_sfa:O3")
    assert opportunity == ("agency_report:L4", "agency_outbound", "sdr", True)
    # April agency leads: L4 (converted to the SFA's O3) and L9 (still being arranged).
    assert funnel == (1, 2)
    assert cycle == (71,)  # lead created 2025-04-20 in the agency report, won 2025-06-30
    assert sources == {"jp_sfa", "agency_report"}
