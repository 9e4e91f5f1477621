"""Reverse planning (逆算) from a won_amount target down to calls, on the tiny fixture.

As of 2025-05-31 with a 90-day look-back the window is 2025-03-03 .. 2025-05-31 and holds every
fact of tests/fixtures/tiny that is dated by the as-of date:

- calls T1, T2 (U1, team IS), T4, T6 (U4, team AGT)                          -> 4
- connected calls (outcome connected or appointment set) T2, T4, T6          -> 3
- appointments T2 (IS), T6 (AGT)                                             -> 2
- opportunities created O1 (3 Apr), O2 (10 Apr) by U2, O3 (1 May), O4 (15 May)
  by U3, all team FS1                                                        -> 4
- won O1 (13 May, 1,200,000 JPY); O3 closes won only on 30 June, after the as-of date -> 1

Company rates: average deal size 1,200,000; win rate 1 / 4; appointment-to-opportunity 4 / 2
(inbound and AE-sourced opportunities make it exceed 1); appointment rate 2 / 3 per connected
call; connect rate 3 / 4.

Business days (weekdays that are not Japanese public holidays): in the window, March 3-31
has 21 weekdays less 春分の日 (20 March) = 20, April 22 less 昭和の日 (29 April) = 21 and May
20 (Golden Week: 5 and 6 May) -> 61. June 2025 has 21, July-September 2025 (fiscal Q2)
22 + 20 + 20 = 62 (海の日 21 July, 山の日 11 August, 敬老の日 15 and 秋分の日 23 September).
"""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY

AS_OF = "2025-05-31"
LOOKBACK_DAYS = 90
TRAILING_BUSINESS_DAYS = 61

# Appended to the fixture's targets (which already hold FS1's May 2025 target of 2,000,000).
EXTRA_TARGETS = """\
won_amount,month,2025-06-01,company,company,3000000,JPY,budget
won_amount,month,2025-06-01,company,company,9999999,JPY,stretch
won_amount,quarter,2025-07-01,company,company,9000000,JPY,budget
won_amount,month,2025-04-01,company,company,1000000,JPY,budget
won_amount,month,2025-06-01,team,FS1,2400000,JPY,budget
won_amount,month,2025-06-01,team,AGT,1000000,JPY,budget
won_amount,month,2025-06-01,rep,U2,1000000,JPY,budget
deals_won,month,2025-06-01,company,company,5,,budget
"""

RATES = (
    "connect_rate",
    "appointment_rate",
    "appointment_to_opportunity_rate",
    "win_rate",
    "average_deal_size",
)
STEPS = ("won_deals", "opportunities", "appointments", "connected_calls", "calls")


@pytest.fixture(scope="module")
def planning(tmp_path_factory):
    base = tmp_path_factory.mktemp("reverse_planning")
    landing = base / "landing"
    shutil.copytree(TINY, landing)
    with (landing / "targets.csv").open("a", encoding="utf-8") as handle:
        handle.write(EXTRA_TARGETS)
    settings = settings_for(base, landing, AS_OF, {"reverse_planning_lookback_days": LOOKBACK_DAYS})
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def _rows(con, where: str = "true") -> list[dict]:
    cursor = con.execute(f"select * from kpi_reverse_planning where {where}")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con, grain: str, start: str, scope_id: str) -> dict:
    rows = _rows(
        con,
        f"period_grain = '{grain}' and period_start_date = date '{start}' "
        f"and scope_id = '{scope_id}'",
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_one_row_per_current_or_future_won_amount_target(planning):
    keys = {
        (r["period_grain"], r["period_start_date"].isoformat(), r["scope_type"], r["scope_id"])
        for r in _rows(planning)
    }
    # Not: April (over by the as-of date), the stretch scenario, a rep scope, another KPI.
    assert keys == {
        ("month", "2025-05-01", "team", "FS1"),
        ("month", "2025-06-01", "company", "company"),
        ("month", "2025-06-01", "team", "FS1"),
        ("month", "2025-06-01", "team", "AGT"),
        ("quarter", "2025-07-01", "company", "company"),
    }
    for row in _rows(planning):
        assert row["as_of_date"].isoformat() == AS_OF
        assert row["lookback_start_date"].isoformat() == "2025-03-03"  # 90 days incl. 31 May
        assert row["trailing_business_days"] == TRAILING_BUSINESS_DAYS
        assert row["currency"] == "JPY"


def test_round_trip_from_required_calls_to_the_revenue_target(planning):
    complete = _rows(planning, "missing_rate is null")
    assert len(complete) == 2  # the company's June and fiscal Q2 targets
    for row in complete:
        revenue = row["required_calls"]
        for rate in RATES:
            revenue *= row[rate]
        assert revenue == pytest.approx(float(row["revenue_target"]), rel=1e-12)
        # Each step of the chain, too.
        assert row["required_won_deals"] * row["average_deal_size"] == pytest.approx(
            float(row["revenue_target"])
        )
        assert row["required_calls"] * row["connect_rate"] == pytest.approx(
            row["required_connected_calls"]
        )


def test_round_trip_on_generated_data(tmp_path_factory):
    """The same on the demo generator's budgets: monthly and fiscal-year company targets."""
    from orchestration.demo.generate import generate

    base = tmp_path_factory.mktemp("reverse_planning_demo")
    landing = base / "landing"
    generate(landing, scale=0.03, seed=7, end_date=date(2026, 10, 31))
    settings = settings_for(base, landing, "2026-10-31")
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        rows = _rows(con)
    complete = [row for row in rows if row["missing_rate"] is None]
    assert {row["period_grain"] for row in complete} == {"month", "fiscal_year"}
    for row in complete:
        revenue = row["required_calls"]
        for rate in RATES:
            revenue *= row[rate]
        assert revenue == pytest.approx(float(row["revenue_target"]), rel=1e-12)
        assert row["required_calls_ceil"] >= row["required_calls"] - 1e-6
    # The AE teams own the opportunities but set no appointments (分業): their chain stops there.
    for row in rows:
        if row["missing_rate"] is not None:
            assert row["required_appointments"] is None and row["required_calls"] is None


def test_company_june_by_hand(planning):
    row = _one(planning, "month", "2025-06-01", "company")
    assert row["revenue_target"] == 3_000_000  # the budget scenario, not the stretch one
    assert [row[f"trailing_{name}"] for name in ("won_amount", *STEPS)] == [
        1_200_000,
        1,
        4,
        2,
        3,
        4,
    ]
    assert row["average_deal_size"] == pytest.approx(1_200_000)
    assert row["win_rate"] == pytest.approx(0.25)
    assert row["appointment_to_opportunity_rate"] == pytest.approx(2.0)
    assert row["appointment_rate"] == pytest.approx(2 / 3)
    assert row["connect_rate"] == pytest.approx(0.75)
    # 3,000,000 / 1,200,000 = 2.5 won deals; / 0.25 = 10 opportunities; / 2 = 5 appointments;
    # / (2/3) = 7.5 connected calls; / 0.75 = 10 calls.
    required = [row[f"required_{name}"] for name in STEPS]
    assert required == pytest.approx([2.5, 10, 5, 7.5, 10])
    assert [row[f"required_{name}_ceil"] for name in STEPS] == [3, 10, 5, 8, 10]
    assert row["missing_rate"] is None
    # Run rate over June's 21 business days: trailing count / 61 x 21.
    assert row["business_days_in_period"] == 21
    assert row["run_rate_calls"] == pytest.approx(4 / 61 * 21)
    assert row["run_rate_won_deals"] == pytest.approx(1 / 61 * 21)
    assert float(row["run_rate_won_amount"]) == pytest.approx(1_200_000 / 61 * 21)
    # 10 calls against 84/61 at the current pace: 610 / 84 = 7.26 times faster.
    assert row["required_to_run_rate_calls"] == pytest.approx(610 / 84)
    assert row["required_to_run_rate_appointments"] == pytest.approx(5 / (2 / 61 * 21))
    # With rates and run rates from the same window every step needs the same speed-up.
    assert row["required_to_run_rate_won_amount"] == pytest.approx(610 / 84)


def test_company_fiscal_quarter_by_hand(planning):
    row = _one(planning, "quarter", "2025-07-01", "company")
    assert row["period_end_date"].isoformat() == "2025-09-30"
    assert row["business_days_in_period"] == 62
    # 9,000,000 / 1,200,000 = 7.5 deals; 30 opportunities; 15 appointments; 22.5 connected; 30.
    required = [row[f"required_{name}"] for name in STEPS]
    assert required == pytest.approx([7.5, 30, 15, 22.5, 30])
    assert [row[f"required_{name}_ceil"] for name in STEPS] == [8, 30, 15, 23, 30]
    assert row["run_rate_opportunities"] == pytest.approx(4 / 61 * 62)


def test_team_without_calls_stops_at_the_missing_rate(planning):
    # FS1 (field sales AEs) owns O1-O4 and won O1 but makes no calls and sets no appointments.
    row = _one(planning, "month", "2025-06-01", "FS1")
    assert row["scope_type"] == "team"
    assert (row["trailing_calls"], row["trailing_appointments"]) == (0, 0)
    assert row["average_deal_size"] == pytest.approx(1_200_000)
    assert row["win_rate"] == pytest.approx(0.25)
    assert row["required_won_deals"] == pytest.approx(2.0)  # 2,400,000 / 1,200,000
    assert row["required_opportunities"] == pytest.approx(8.0)
    assert row["appointment_to_opportunity_rate"] is None  # 4 / 0
    assert row["missing_rate"] == "appointment_to_opportunity_rate"
    for name in ("appointments", "connected_calls", "calls"):
        assert row[f"required_{name}"] is None
        assert row[f"required_{name}_ceil"] is None
        assert row[f"required_to_run_rate_{name}"] is None  # also never divides by a 0 run rate
    assert row["run_rate_calls"] == 0


def test_team_without_won_deals_has_no_requirements(planning):
    # AGT (the agency's SDR) calls (T4, T6) and sets an appointment (T6) but owns no deal.
    row = _one(planning, "month", "2025-06-01", "AGT")
    assert [row[f"trailing_{name}"] for name in ("won_amount", *STEPS)] == [0, 0, 0, 1, 2, 2]
    assert row["missing_rate"] == "average_deal_size"
    assert row["connect_rate"] == pytest.approx(1.0)
    assert all(row[f"required_{name}"] is None for name in STEPS)


def test_current_period_is_planned_for_the_whole_period(planning):
    # FS1's May target (the fixture's): May contains the as-of date, 20 business days.
    row = _one(planning, "month", "2025-05-01", "FS1")
    assert row["business_days_in_period"] == 20
    assert row["required_won_deals"] == pytest.approx(2_000_000 / 1_200_000)
    assert row["required_won_deals_ceil"] == 2
    assert row["required_opportunities"] == pytest.approx(2_000_000 / 1_200_000 * 4)
    assert row["required_opportunities_ceil"] == 7
