"""Row-level defects are flagged, kept out of the KPIs they would distort, and never fatal.

One pipeline run on the tiny fixture with defects a real export has (expected values worked
out by hand from the rows added below), then a second run whose threshold makes one rule
structural: it must block publication and leave the published file as it was.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.data_quality_docs import render_readme
from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY, query_rows

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2025-10-31"
# One defect in a handful of rows is a large share: the first run allows it (a threshold is the
# user's to set per rule), the last one makes a rule strict.
RELAXED = {
    rule: {"max_flagged_share": 0.5}
    for rule in (
        "won_before_lead_created",
        "won_before_opportunity_created",
        "lost_before_opportunity_created",
        "won_date_unknown",
        "duplicate_key_conflict",
        "unknown_lead",
        "lead_link_conflict",
        "unknown_converted_opportunity",
    )
}


def _append(path: Path, rows: list[dict]) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        for row in rows:
            writer.writerow(row)


def _defective_landing(target: Path) -> Path:
    landing = shutil.copytree(TINY, target)
    _append(
        landing / "leads.csv",
        [
            # Years before any other event; empty origin; linked on the lead side only.
            {
                "lead_id": "L6",
                "created_at": "2016-03-01 09:00:00",
                "lead_source": "",
                "lead_status": "",
                "owner_id": "U1",
                "converted_opportunity_id": "O6",
            },
            {
                "lead_id": "L7",
                "created_at": "2025-06-10 09:00:00",
                "lead_source": "seminar",
                "lead_status": "converted",
                "owner_id": "U1",
            },
            # Names O1, whose own lead id is L1: a link conflict.
            {
                "lead_id": "L8",
                "created_at": "2025-06-11 09:00:00",
                "lead_source": "seminar",
                "lead_status": "working",
                "owner_id": "U1",
                "converted_opportunity_id": "O1",
            },
            # Names an opportunity the export does not hold.
            {
                "lead_id": "L9",
                "created_at": "2025-06-12 09:00:00",
                "lead_source": "seminar",
                "lead_status": "converted",
                "owner_id": "U1",
                "converted_opportunity_id": "O404",
            },
            # L3 again with other content: the later row wins, the first one is reported.
            {
                "lead_id": "L3",
                "created_at": "2025-04-05 09:00:00",
                "lead_source": "seminar",
                "lead_status": "working",
                "owner_id": "U1",
            },
        ],
    )
    opportunity = {"currency": "JPY", "opportunity_type": "new"}
    _append(
        landing / "opportunities.csv",
        [
            opportunity
            | {
                "opportunity_id": "O6",
                "account_id": "A1",
                "owner_id": "U2",
                "created_at": "2016-04-01 10:00:00",
                "close_date": "2016-05-10",
                "opportunity_stage": "closed_won",
                "amount": "500000",
                "is_closed": "true",
                "is_won": "true",
            },
            # Won on 6/5, before its lead L7 was created on 6/10; owned by U1 (an SDR too).
            opportunity
            | {
                "opportunity_id": "O7",
                "account_id": "A2",
                "owner_id": "U1",
                "lead_id": "L7",
                "created_at": "2025-06-01 10:00:00",
                "close_date": "2025-06-05",
                "opportunity_stage": "closed_won",
                "amount": "700000",
                "is_closed": "true",
                "is_won": "true",
            },
            opportunity
            | {
                "opportunity_id": "O8",
                "account_id": "A3",
                "owner_id": "U3",
                "lead_id": "L99",
                "created_at": "2025-07-01 10:00:00",
                "close_date": "2025-12-31",
                "opportunity_stage": "proposal",
                "amount": "800000",
                "is_closed": "false",
                "is_won": "false",
            },
            # Won on 8/1, "created" on 8/10.
            opportunity
            | {
                "opportunity_id": "O10",
                "account_id": "A1",
                "owner_id": "U2",
                "created_at": "2025-08-10 10:00:00",
                "close_date": "2025-08-01",
                "opportunity_stage": "closed_won",
                "amount": "200000",
                "is_closed": "true",
                "is_won": "true",
            },
            # Lost on 8/5, "created" on 8/10.
            opportunity
            | {
                "opportunity_id": "O11",
                "account_id": "A1",
                "owner_id": "U2",
                "created_at": "2025-08-10 10:00:00",
                "close_date": "2025-08-05",
                "opportunity_stage": "closed_lost",
                "amount": "300000",
                "is_closed": "true",
                "is_won": "false",
                "lost_reason": "price",
            },
            # Won, but neither a close date nor a created date: no date to count it on.
            opportunity
            | {
                "opportunity_id": "O12",
                "account_id": "A1",
                "owner_id": "U2",
                "opportunity_stage": "closed_won",
                "amount": "400000",
                "is_closed": "true",
                "is_won": "true",
            },
            # An owner and an account the export does not hold.
            opportunity
            | {
                "opportunity_id": "O13",
                "account_id": "A99",
                "owner_id": "U99",
                "created_at": "2025-09-01 10:00:00",
                "close_date": "2025-12-20",
                "opportunity_stage": "proposal",
                "amount": "900000",
                "is_closed": "false",
                "is_won": "false",
            },
            # Created date unknown: still a won deal, not a cycle.
            opportunity
            | {
                "opportunity_id": "O9",
                "account_id": "A1",
                "owner_id": "U2",
                "created_at": "",
                "close_date": "2025-07-15",
                "opportunity_stage": "closed_won",
                "amount": "100000",
                "is_closed": "true",
                "is_won": "true",
            },
        ],
    )
    # U1 is the SDR of L1..L8 and the closer of O7.
    _append(
        landing / "users.csv",
        [
            {
                "user_id": "U1",
                "team_id": "IS",
                "team_name": "インサイドセールス課",
                "role": "AE",
                "motion": "inside",
                "hired_date": "2023-04-01",
                "is_active": "true",
            },
            # U3 again in another team: conflicting attributes.
            {
                "user_id": "U3",
                "team_id": "FS2",
                "team_name": "フィールドセールス2課",
                "role": "AE",
                "motion": "field",
                "hired_date": "2022-10-01",
                "is_active": "true",
            },
        ],
    )
    return landing


@pytest.fixture(scope="module")
def defect_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("defects")
    landing = _defective_landing(base / "landing")
    settings = settings_for(base, landing, AS_OF, {"data_quality_rules": RELAXED})
    return settings, run_pipeline(settings)


@pytest.fixture(scope="module")
def published(defect_run):
    settings, outcome = defect_run
    assert outcome.published, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def test_defects_publish_with_one_issue_row_per_rule_broken(published) -> None:
    issues = query_rows(
        published,
        "select rule_code, entity, record_id, source_file, source_row, severity "
        "from data_quality_issues order by rule_code, record_id",
    )
    found = {(i["rule_code"], i["record_id"]) for i in issues}
    assert found == {
        ("duplicate_key_conflict", "L3"),
        ("lead_link_conflict", "L8"),
        ("lost_before_opportunity_created", "O11"),
        ("opportunity_created_unknown", "O9"),
        ("opportunity_created_unknown", "O12"),
        ("unknown_account", "O13"),
        ("unknown_converted_opportunity", "L9"),
        ("unknown_lead", "O8"),
        ("unknown_owner", "O13"),
        ("user_conflicting_attributes", "U3"),
        ("user_multiple_roles", "U1"),
        ("won_before_lead_created", "O7"),
        ("won_before_opportunity_created", "O10"),
        ("won_date_unknown", "O12"),
    }
    by_rule = {i["rule_code"]: i for i in issues}
    # The ignored copy of L3 is the original row 3 of leads.csv; O7 is row 6 of its file.
    assert by_rule["duplicate_key_conflict"]["source_file"].endswith("leads.csv")
    assert by_rule["duplicate_key_conflict"]["source_row"] == 3
    assert by_rule["won_before_lead_created"]["source_file"].endswith("opportunities.csv")
    assert by_rule["won_before_lead_created"]["source_row"] == 6
    assert by_rule["won_before_lead_created"]["severity"] == "warning"


def test_defective_deal_is_kept_out_of_the_cycle_only(published) -> None:
    deals = {
        d["opportunity_id"]: d
        for d in query_rows(
            published,
            "select opportunity_id, days_opportunity_to_won, days_lead_to_won, excluded_reason "
            "from kpi_sales_cycle_deals",
        )
    }
    # Still won deals, with the durations that are meaningful.
    assert deals["O7"]["days_lead_to_won"] is None
    assert deals["O7"]["days_opportunity_to_won"] == 4  # 6/1 -> 6/5
    assert deals["O7"]["excluded_reason"] == "won_before_lead_created"
    assert deals["O9"]["days_opportunity_to_won"] is None
    assert deals["O9"]["excluded_reason"] == "opportunity_created_unknown"
    # O6: lead L6 created 2016-03-01, won 2016-05-10 = 70 days, no defect.
    assert deals["O6"]["days_lead_to_won"] == 70
    assert deals["O6"]["excluded_reason"] is None
    assert deals["O10"]["days_opportunity_to_won"] is None
    assert deals["O10"]["excluded_reason"] == "won_before_opportunity_created"
    # O12 has no date to be won on: in no dated KPI (data_quality_issues says so).
    assert "O12" not in deals
    # FY2025 (April start): won O1 (5/13), O3 (6/30), O7 (6/5), O9 (7/15), O10 (8/1); O7, O9
    # and O10 are kept out of a duration.
    total = query_rows(
        published,
        "select won_deals, excluded_deals, won_deals_with_lead from kpi_sales_cycle "
        "where period_grain = 'fiscal_year' and grouping_level = 'total' "
        "and period_start_date = date '2025-04-01'",
    )[0]
    assert total == {"won_deals": 5, "excluded_deals": 3, "won_deals_with_lead": 2}
    won = published.execute(
        "select sum(numerator) from kpi_scorecard where kpi_code = 'deals_won' "
        "and scope_type = 'company' and period_grain = 'fiscal_year' "
        "and period_start_date = date '2025-04-01'"
    ).fetchone()[0]
    assert won == 5


def test_calendar_covers_events_years_back(published) -> None:
    first_day = published.execute("select min(date_day) from core.dim_date").fetchone()[0]
    assert str(first_day) == "2015-04-01"  # the fiscal year holding L6 (2016-03-01)
    cohort = query_rows(
        published,
        "select sum(numerator_count) as converted, sum(denominator_count) as leads "
        "from kpi_funnel_conversion where analysis_basis = 'cohort' and period_grain = 'month' "
        "and period_start_date = date '2016-03-01' and from_step = 'lead'",
    )[0]
    assert cohort == {"converted": 1, "leads": 1}


def test_links_both_ways_and_roles_on_the_deal(published) -> None:
    leads = {
        lead["lead_id"]: lead
        for lead in query_rows(
            published,
            "select lead_id, is_converted, converted_opportunity_id, lead_source, lead_status, "
            "cast(converted_at as varchar) as converted_at from core.fct_leads",
        )
    }
    # Linked on the lead side only: converted when its opportunity was created.
    assert leads["L6"]["is_converted"] is True
    assert leads["L6"]["converted_opportunity_id"] == "O6"
    assert leads["L6"]["converted_at"] == "2016-04-01 10:00:00"
    assert leads["L6"]["lead_source"] == "unknown"
    assert leads["L6"]["lead_status"] == "converted"
    # L8 names O1, which is L1's: the deal's own lead id wins.
    assert leads["L8"]["is_converted"] is False
    assert leads["L1"]["converted_opportunity_id"] == "O1"
    roles = {
        (r["kpi_code"], r["scope_id"]): r["numerator"]
        for r in query_rows(
            published,
            "select kpi_code, scope_id, sum(numerator) as numerator from kpi_scorecard "
            "where scope_type = 'role' and period_grain = 'fiscal_year' "
            "and period_start_date = date '2025-04-01' "
            "and kpi_code in ('deals_won', 'leads_created') group by all",
        )
    }
    # U1 closed O7: an AE win. AE wins in FY2025: O1, O3 (U2, U3), O7, O9, O10 = 5, none as SDR.
    assert roles[("deals_won", "AE")] == 5
    assert ("deals_won", "SDR") not in roles
    # U1 sourced L1, L2, L3, L5, L7, L8, L9 (FY2025) as SDR; U4 (SDR) sourced L4.
    assert roles[("leads_created", "SDR")] == 8
    reps = query_rows(published, "select rep_roles from core.dim_reps where rep_id = 'U1'")
    assert reps == [{"rep_roles": "AE,SDR"}]


def test_every_lead_row_is_accounted_for(defect_run, published) -> None:
    settings, _ = defect_run
    with duckdb.connect(str(settings.working_db), read_only=True) as con:
        read, loaded, quarantined = con.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            "from raw._load_log where entity = 'leads'"
        ).fetchone()
    assert (read, loaded, quarantined) == (10, 10, 0)
    leads = published.execute("select count(*) from core.fct_leads").fetchone()[0]
    duplicates = published.execute(
        "select count(*) from data_quality_issues "
        "where entity = 'leads' and rule_code = 'duplicate_key_conflict'"
    ).fetchone()[0]
    assert leads + duplicates == loaded


def test_structural_failures_block_publication(defect_run, published) -> None:
    """A rule over its threshold, and an event before explicitly fixed calendar bounds."""
    settings, _ = defect_run
    before = published.execute("select run_id from _publication").fetchone()[0]
    strict = settings_for(
        settings.home,
        settings.landing_dir,
        AS_OF,
        {
            "data_quality_rules": RELAXED | {"won_before_lead_created": {"max_flagged_share": 0}},
            # L6 was created on 2016-03-01, before this bound.
            "calendar_start_date": "2016-03-02",
        },
    )
    outcome = run_pipeline(strict)
    assert not outcome.published
    failed = " ".join(outcome.failed_checks)
    assert "assert_data_quality_within_thresholds" in failed
    assert "assert_events_inside_calendar" in failed
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert con.execute("select run_id from _publication").fetchone()[0] == before
    # The failing rows name the record, the file and the row.
    with duckdb.connect(str(settings.working_db), read_only=True) as con:
        outside = query_rows(
            con,
            "select entity, record_id, source_file, source_row, event_column "
            "from dbt_test__audit.assert_events_inside_calendar",
        )
    assert [(o["entity"], o["record_id"], o["event_column"]) for o in outside] == [
        ("leads", "L6", "created_at")
    ]
    assert outside[0]["source_file"].endswith("leads.csv")
    assert outside[0]["source_row"] == 6


def test_readme_lists_every_rule_with_its_severity() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- data-quality-rules:start")[1].split("<!-- data-quality-rules:end")[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| \w+ \| (\w+) \|", block, flags=re.M))
    with (REPO / "seeds" / "data_quality_rules.csv").open(encoding="utf-8") as handle:
        seeded = {row["rule_code"]: row["severity"] for row in csv.DictReader(handle)}
    assert documented == seeded
    # The block is exactly what the generator renders (run `python -m orchestration.cli metrics`).
    assert render_readme(readme) == readme
