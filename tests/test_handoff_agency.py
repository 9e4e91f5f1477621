"""Hand-off (分業) and agency (営業代行) marts on the tiny fixture, worked out by hand.

From tests/fixtures/tiny (as-of 2025-10-31):

- users: U1 SDR in-house, U2 and U3 AEs in-house, U4 SDR of agency AG1.
- leads: L1, L2 (U1, web_inquiry), L4 (U4, agency AG1); L3 disqualified, L5 working.
- opportunities:
  O1 U2 from L1, created 2025-04-03, reached negotiation, won 2025-05-13, 1,200,000 JPY;
  O2 U2 from L2, created 2025-04-10, reached discovery, lost 2025-05-20;
  O3 U3 from L4 (AG1), created 2025-05-01, approach -> proposal, won 2025-06-30, 3,600,000 JPY;
  O4 U3 without a lead (AE-sourced), created 2025-05-15, open at proposal.
  Qualified (有効商談) = reached information_gathering (order 2); a skipped step counts.
- activities: T1 call no_answer U1, T2 call appointment_set U1, T3 email U1, T5 meeting U2
  (all in-house, April); T4 call connected U4, T6 call appointment_set U4 (AG1, April).
- spend: 900,000 JPY agency_fee for AG1 in 2025-06 (the 500,000 marketing row is no fee).

Everything happens in fiscal year 2025 (April start: 2025-04-01 .. 2026-03-31) and, except the
AE-sourced O4 and the fee, in fiscal Q1 (April-June). The month tests read period_grain 'month';
a second run adds an opportunity on 2025-03-31 (FY2024) and one after the as-of date.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.conftest import TINY, TINY_AS_OF, run_on
from tests.conftest import query_one as _one
from tests.conftest import query_rows as _rows

HANDOFF_COLUMNS = (
    "opportunities_created, opportunities_accepted, acceptance_rate, won_deals, closed_deals, "
    "win_rate, won_amount, currency, sum_days_opportunity_to_won, mean_days_opportunity_to_won"
)
AGENCY_COLUMNS = (
    "activities, calls, connected_calls, appointments_set, opportunities_created, won_deals, "
    "won_amount, has_fee_data, fee_amount, currency, cost_per_appointment, cost_per_won_deal, "
    "return_on_fees, is_outsourced"
)


def test_handoff_grain(marts):
    # One row per (creation month, SDR, AE, sourced_by): April U1 -> U2 (O1, O2), May U4 -> U3
    # (O3), May 'none' -> U3 (O4, AE-sourced).
    keys = marts.execute(
        "select period_start_date::varchar, sdr_rep_id, ae_rep_id, sourced_by "
        "from kpi_handoff where period_grain = 'month' order by 1, 2"
    ).fetchall()
    assert keys == [
        ("2025-04-01", "U1", "U2", "sdr"),
        ("2025-05-01", "U4", "U3", "sdr"),
        ("2025-05-01", "none", "U3", "ae"),
    ]


def test_handoff_sdr_to_ae_april(marts):
    # O1 and O2, both created in April by SDR U1's leads and owned by AE U2.
    # Accepted: O1 reached negotiation, O2 discovery -> both qualified: 2 / 2.
    # Closed: both; won: O1 -> win rate 1 / 2; won amount 1,200,000 JPY.
    # Cycle: O1 2025-04-03 -> 2025-05-13 = 40 days (sum 40 over 1 won deal, mean 40).
    row = _one(
        marts,
        f"select {HANDOFF_COLUMNS} from kpi_handoff where period_grain = 'month' "
        "and period_start_date = '2025-04-01' "
        "and sdr_rep_id = 'U1' and ae_rep_id = 'U2' and sourced_by = 'sdr'",
    )
    assert (row["opportunities_created"], row["opportunities_accepted"]) == (2, 2)
    assert row["acceptance_rate"] == pytest.approx(1.0)
    assert (row["won_deals"], row["closed_deals"]) == (1, 2)
    assert row["win_rate"] == pytest.approx(0.5)
    assert float(row["won_amount"]) == 1_200_000
    assert row["currency"] == "JPY"
    assert row["sum_days_opportunity_to_won"] == 40
    assert row["mean_days_opportunity_to_won"] == pytest.approx(40.0)


def test_handoff_agency_sdr_may(marts):
    # O3: lead L4 owned by U4 (AG1's SDR), AE U3, created 2025-05-01; approach -> proposal
    # skips information_gathering but counts as reaching it -> accepted 1 / 1.
    # Won 2025-06-30 (counted in the creation month May): 1 / 1, 3,600,000 JPY, 60 days.
    row = _one(
        marts,
        f"select {HANDOFF_COLUMNS} from kpi_handoff where period_grain = 'month' "
        "and period_start_date = '2025-05-01' and sdr_rep_id = 'U4'",
    )
    assert (row["opportunities_created"], row["opportunities_accepted"]) == (1, 1)
    assert (row["won_deals"], row["closed_deals"], row["win_rate"]) == (1, 1, 1.0)
    assert float(row["won_amount"]) == 3_600_000
    assert row["sum_days_opportunity_to_won"] == 60


def test_handoff_ae_sourced(marts):
    # O4 has no lead: sourced_by 'ae', sdr_rep_id 'none'. It reached discovery and proposal
    # -> accepted 1 / 1; still open -> 0 closed, win rate null (not 0), nothing won:
    # won amount 0, day sum 0 and mean null.
    row = _one(
        marts,
        f"select {HANDOFF_COLUMNS}, sdr_rep_id from kpi_handoff "
        "where period_grain = 'month' and sourced_by = 'ae'",
    )
    assert row["sdr_rep_id"] == "none"
    assert (row["opportunities_created"], row["opportunities_accepted"]) == (1, 1)
    assert (row["won_deals"], row["closed_deals"]) == (0, 0)
    assert row["win_rate"] is None
    assert float(row["won_amount"]) == 0
    assert row["sum_days_opportunity_to_won"] == 0
    assert row["mean_days_opportunity_to_won"] is None


def test_agency_months(marts):
    # AG1: April (T4, T6), May (O3 created), June (O3 won, fee). In-house: April (T1, T2, T3,
    # T5; O1, O2 created), May (O4 created, O1 won). Nothing else happened in any month.
    keys = marts.execute(
        "select period_start_date::varchar, agency_key from kpi_agency_performance "
        "where period_grain = 'month' order by 2, 1"
    ).fetchall()
    assert keys == [
        ("2025-04-01", "AG1"),
        ("2025-05-01", "AG1"),
        ("2025-06-01", "AG1"),
        ("2025-04-01", "in_house"),
        ("2025-05-01", "in_house"),
    ]


def test_agency_activities_april(marts):
    # AG1 in April: T4 (call, connected) and T6 (call, appointment_set, also a connected call)
    # -> 2 activities, 2 calls, 2 connected, 1 appointment. No fee row in April: cost per
    # appointment is null (unknown), not 0.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where period_grain = 'month' and agency_key = 'AG1' "
        "and period_start_date = '2025-04-01'",
    )
    assert (row["activities"], row["calls"], row["connected_calls"], row["appointments_set"]) == (
        2,
        2,
        2,
        1,
    )
    assert (row["opportunities_created"], row["won_deals"]) == (0, 0)
    assert row["is_outsourced"] is True
    assert row["has_fee_data"] is False
    assert float(row["fee_amount"]) == 0
    assert row["cost_per_appointment"] is None
    # In-house in April: T1, T2 (calls; T2 connected with an appointment), T3 (e-mail), T5
    # (meeting) -> 4 activities, 2 calls, 1 connected, 1 appointment; O1 and O2 created.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where period_grain = 'month' and agency_key = 'in_house' "
        "and period_start_date = '2025-04-01'",
    )
    assert (row["activities"], row["calls"], row["connected_calls"], row["appointments_set"]) == (
        4,
        2,
        1,
        1,
    )
    assert row["opportunities_created"] == 2
    assert row["is_outsourced"] is False


def test_agency_opportunity_win_and_fees(marts):
    # May: O3 created for AG1 (lead L4's agency); nothing won, no fee.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where period_grain = 'month' and agency_key = 'AG1' "
        "and period_start_date = '2025-05-01'",
    )
    assert (row["opportunities_created"], row["won_deals"], row["activities"]) == (1, 0, 0)
    assert row["return_on_fees"] is None
    # June: O3 won for 3,600,000 JPY; fee 900,000 JPY (agency_fee for AG1, 2025-06).
    # Cost per won deal = 900,000 / 1; return on fees = 3,600,000 / 900,000 = 4.0;
    # no appointment in June -> cost per appointment null (0 denominator).
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where period_grain = 'month' and agency_key = 'AG1' "
        "and period_start_date = '2025-06-01'",
    )
    assert (row["won_deals"], row["appointments_set"]) == (1, 0)
    assert float(row["won_amount"]) == 3_600_000
    assert row["has_fee_data"] is True
    assert float(row["fee_amount"]) == 900_000
    assert row["currency"] == "JPY"
    assert row["cost_per_won_deal"] == pytest.approx(900_000)
    assert row["return_on_fees"] == pytest.approx(4.0)
    assert row["cost_per_appointment"] is None
    # Over April-June together (re-aggregating numerators and denominators): fees 900,000 /
    # 1 appointment = 900,000 per appointment.
    total = _one(
        marts,
        "select sum(fee_amount) as fees, sum(appointments_set) as appointments "
        "from kpi_agency_performance where period_grain = 'month' and agency_key = 'AG1'",
    )
    assert float(total["fees"]) / total["appointments"] == pytest.approx(900_000)


def test_agency_in_house_win_has_no_fee_ratios(marts):
    # In-house May: O4 created, O1 won (2025-05-13, 1,200,000 JPY); no agency fee is paid for
    # in-house staff -> cost ratios and return on fees are null.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where period_grain = 'month' and agency_key = 'in_house' "
        "and period_start_date = '2025-05-01'",
    )
    assert (row["opportunities_created"], row["won_deals"]) == (1, 1)
    assert float(row["won_amount"]) == 1_200_000
    assert row["has_fee_data"] is False
    assert (row["cost_per_won_deal"], row["return_on_fees"]) == (None, None)


def test_agency_fees_match_cac(marts):
    # The fees are the agency_fee spend kpi_cac reports, summed by month x agency.
    cac = marts.execute(
        "select period_start_date, agency_key, sum(agency_fee_amount) from kpi_cac "
        "where period_grain = 'month' group by 1, 2 having sum(agency_fee_amount) <> 0 order by 1, 2"
    ).fetchall()
    agency = marts.execute(
        "select period_start_date, agency_key, fee_amount from kpi_agency_performance "
        "where period_grain = 'month' and fee_amount <> 0 order by 1, 2"
    ).fetchall()
    assert agency == cac


def test_handoff_fiscal_year_grain(marts):
    # Fiscal year from April: O1..O4 were all created in FY2025 (2025-04-01 .. 2026-03-31), so
    # April's U1 -> U2 cohort and May's two U3 cohorts each make one fiscal-year row.
    rows = _rows(
        marts,
        f"select period_start_date::varchar as period_start, period_end_date::varchar as "
        f"period_end, sdr_rep_id, ae_rep_id, sourced_by, {HANDOFF_COLUMNS} from kpi_handoff "
        "where period_grain = 'fiscal_year' order by sdr_rep_id",
    )
    assert [(r["sdr_rep_id"], r["ae_rep_id"], r["sourced_by"]) for r in rows] == [
        ("U1", "U2", "sdr"),
        ("U4", "U3", "sdr"),
        ("none", "U3", "ae"),
    ]
    assert {(r["period_start"], r["period_end"]) for r in rows} == {("2025-04-01", "2026-03-31")}
    u1, u4, ae = rows
    # U1 -> U2: O1 (won, 40 days, 1,200,000) and O2 (lost): 2 created, 2 accepted, 1 / 2 won.
    assert (u1["opportunities_created"], u1["opportunities_accepted"]) == (2, 2)
    assert (u1["won_deals"], u1["closed_deals"], u1["win_rate"]) == (1, 2, 0.5)
    assert (float(u1["won_amount"]), u1["sum_days_opportunity_to_won"]) == (1_200_000, 40)
    # U4 -> U3: O3 won after 60 days for 3,600,000.
    assert (u4["opportunities_created"], u4["won_deals"], u4["closed_deals"]) == (1, 1, 1)
    assert (float(u4["won_amount"]), u4["mean_days_opportunity_to_won"]) == (3_600_000, 60.0)
    # AE-sourced O4: open, win rate null.
    assert (ae["opportunities_created"], ae["closed_deals"], ae["win_rate"]) == (1, 0, None)


# O5: AE-sourced (no lead), owner U3, created on the last day of FY2024, open at approach.
# O6: AE-sourced, owner U3, created after the as-of date 2025-10-31: left out at every grain.
EXTRA_OPPORTUNITIES = (
    "O5,A4,U3,,2025-03-31 10:00:00,2025-09-30,approach,1000000,JPY,new,false,false,\n"
    "O6,A4,U3,,2025-11-04 10:00:00,2026-01-31,approach,2000000,JPY,new,false,false,\n"
)
EXTRA_STAGE_HISTORY = "O5,approach,2025-03-31 10:00:00,U3\nO6,approach,2025-11-04 10:00:00,U3\n"


@pytest.fixture(scope="module")
def fiscal_boundary(tmp_path_factory):
    """The tiny fixture plus O5 (2025-03-31, FY2024) and O6 (after the as-of date)."""
    base = tmp_path_factory.mktemp("fiscal_boundary")
    landing = base / "landing"
    shutil.copytree(TINY, landing)
    for name, extra in (
        ("opportunities.csv", EXTRA_OPPORTUNITIES),
        ("opportunity_stage_history.csv", EXTRA_STAGE_HISTORY),
    ):
        with (landing / name).open("a", encoding="utf-8") as f:
            f.write(extra)
    settings, outcome = run_on(base, landing, TINY_AS_OF)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def test_handoff_fiscal_year_starts_in_april(fiscal_boundary):
    # none -> U3 (AE-sourced): O5 created 2025-03-31 is FY2024 (2024-04-01 .. 2025-03-31) and
    # fiscal Q4 (2025-01-01 .. 03-31); O4 (2025-05-15) is FY2025. With a January start both
    # would share one 2025 row. O6 (2025-11-04) is after the as-of date: no row, no count.
    rows = fiscal_boundary.execute(
        "select period_grain, period_start_date::varchar, period_end_date::varchar, "
        "opportunities_created from kpi_handoff where sourced_by = 'ae' "
        "and period_grain in ('quarter', 'fiscal_year') order by 1, 2"
    ).fetchall()
    assert rows == [
        ("fiscal_year", "2024-04-01", "2025-03-31", 1),
        ("fiscal_year", "2025-04-01", "2026-03-31", 1),
        ("quarter", "2025-01-01", "2025-03-31", 1),
        ("quarter", "2025-04-01", "2025-06-30", 1),
    ]
    later = fiscal_boundary.execute(
        "select count(*) from kpi_handoff where period_start_date > ?::date", [TINY_AS_OF]
    ).fetchone()
    assert later == (0,)
    # The SDR cohorts are unchanged: FY2025 U1 -> U2 still holds O1 and O2 only.
    u1 = _one(
        fiscal_boundary,
        f"select {HANDOFF_COLUMNS} from kpi_handoff where period_grain = 'fiscal_year' "
        "and sdr_rep_id = 'U1'",
    )
    assert (u1["opportunities_created"], u1["won_deals"], u1["closed_deals"]) == (2, 1, 2)


def test_agency_grains_are_monthly_or_coarser(marts):
    # Fees are monthly data: the mart has month, quarter and fiscal_year rows only.
    grains = {
        r[0] for r in marts.execute("select period_grain from kpi_agency_performance").fetchall()
    }
    assert grains == {"month", "quarter", "fiscal_year"}


def test_agency_quarter_grain(marts):
    # Fiscal Q1 2025 (April-June) adds up AG1's three months: April T4, T6 (2 calls, both
    # connected, 1 appointment), May O3 created, June O3 won (3,600,000 JPY) and the fee
    # 900,000 JPY. The ratios come from the quarter's sums: cost per appointment
    # 900,000 / 1 = 900,000 (null in every single month: April has no fee, June no
    # appointment), cost per won deal 900,000 / 1, return on fees 3,600,000 / 900,000 = 4.0.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS}, period_end_date::varchar as period_end "
        "from kpi_agency_performance where period_grain = 'quarter' "
        "and period_start_date = '2025-04-01' and agency_key = 'AG1'",
    )
    assert row["period_end"] == "2025-06-30"
    assert (row["activities"], row["calls"], row["connected_calls"], row["appointments_set"]) == (
        2,
        2,
        2,
        1,
    )
    assert (row["opportunities_created"], row["won_deals"]) == (1, 1)
    assert float(row["won_amount"]) == 3_600_000
    assert row["has_fee_data"] is True
    assert float(row["fee_amount"]) == 900_000
    assert row["cost_per_appointment"] == pytest.approx(900_000)
    assert row["cost_per_won_deal"] == pytest.approx(900_000)
    assert row["return_on_fees"] == pytest.approx(4.0)
    # In-house Q1: April T1, T2, T3, T5 (4 activities, 2 calls, 1 connected, 1 appointment),
    # O1, O2 (April) and O4 (May) created, O1 won in May (1,200,000); no fee -> null ratios.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance where period_grain = 'quarter' "
        "and period_start_date = '2025-04-01' and agency_key = 'in_house'",
    )
    assert (row["activities"], row["calls"], row["connected_calls"], row["appointments_set"]) == (
        4,
        2,
        1,
        1,
    )
    assert (row["opportunities_created"], row["won_deals"]) == (3, 1)
    assert float(row["won_amount"]) == 1_200_000
    assert row["has_fee_data"] is False
    assert (row["cost_per_appointment"], row["cost_per_won_deal"], row["return_on_fees"]) == (
        None,
        None,
        None,
    )
    # Nothing happened after June: the quarter rows are fiscal Q1 only.
    quarters = marts.execute(
        "select distinct period_start_date::varchar from kpi_agency_performance "
        "where period_grain = 'quarter'"
    ).fetchall()
    assert quarters == [("2025-04-01",)]
