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
"""

from __future__ import annotations

import pytest

from tests.conftest import query_one as _one

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
        "select month_start_date::varchar, sdr_rep_id, ae_rep_id, sourced_by "
        "from kpi_handoff order by 1, 2"
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
        f"select {HANDOFF_COLUMNS} from kpi_handoff where month_start_date = '2025-04-01' "
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
        f"select {HANDOFF_COLUMNS} from kpi_handoff where month_start_date = '2025-05-01' "
        "and sdr_rep_id = 'U4'",
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
        f"select {HANDOFF_COLUMNS}, sdr_rep_id from kpi_handoff where sourced_by = 'ae'",
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
        "select month_start_date::varchar, agency_key from kpi_agency_performance order by 2, 1"
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
        "where agency_key = 'AG1' and month_start_date = '2025-04-01'",
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
        "where agency_key = 'in_house' and month_start_date = '2025-04-01'",
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
        "where agency_key = 'AG1' and month_start_date = '2025-05-01'",
    )
    assert (row["opportunities_created"], row["won_deals"], row["activities"]) == (1, 0, 0)
    assert row["return_on_fees"] is None
    # June: O3 won for 3,600,000 JPY; fee 900,000 JPY (agency_fee for AG1, 2025-06).
    # Cost per won deal = 900,000 / 1; return on fees = 3,600,000 / 900,000 = 4.0;
    # no appointment in June -> cost per appointment null (0 denominator).
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where agency_key = 'AG1' and month_start_date = '2025-06-01'",
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
        "from kpi_agency_performance where agency_key = 'AG1'",
    )
    assert float(total["fees"]) / total["appointments"] == pytest.approx(900_000)


def test_agency_in_house_win_has_no_fee_ratios(marts):
    # In-house May: O4 created, O1 won (2025-05-13, 1,200,000 JPY); no agency fee is paid for
    # in-house staff -> cost ratios and return on fees are null.
    row = _one(
        marts,
        f"select {AGENCY_COLUMNS} from kpi_agency_performance "
        "where agency_key = 'in_house' and month_start_date = '2025-05-01'",
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
        "select month_start_date, agency_key, fee_amount from kpi_agency_performance "
        "where fee_amount <> 0 order by 1, 2"
    ).fetchall()
    assert agency == cac
