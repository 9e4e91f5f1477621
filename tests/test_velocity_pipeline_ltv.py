"""Stage velocity, pipeline and LTV:CAC on the tiny fixture, worked out by hand.

From tests/fixtures/tiny (as-of 2025-10-31), every stage change at 10:00, all observed in
opportunity_stage_history.csv; owners U2 and U3 are both in team FS1:

- O1: approach 4/3 -> discovery 4/10 (7 days) -> proposal 4/20 (10) -> negotiation 5/1 (11)
  -> closed_won 5/13 (12).
- O2: approach 4/10 -> discovery 4/17 (7) -> closed_lost 5/20 (33).
- O3: approach 5/1 -> proposal 5/20 (19, a skipped step is still forward) -> negotiation 6/10
  (21) -> closed_won 6/30 (20).
- O4: approach 5/15 -> discovery 6/1 (17) -> proposal 7/1 (30); still at proposal (current).

Funnel steps: approach, discovery = information_gathering, proposal, negotiation = closing,
closed_won = follow_up, closed_lost = lost. By month of exit (period_grain 'month'):

- 2025-04: approach O1 7, O2 7; information_gathering O1 10.
- 2025-05: approach O3 19; information_gathering O2 33 (-> lost); proposal O1 11; closing O1 12.
- 2025-06: approach O4 17; proposal O3 21; closing O3 20.
- 2025-07: information_gathering O4 30.

By ISO week of exit (Monday start; 2025-04-20 and 2025-06-01 are Sundays, 2025-06-30 a Monday):

- 04-07..04-13: approach O1 7 (4/10).
- 04-14..04-20: approach O2 7 (4/17); information_gathering O1 10 (4/20).
- 04-28..05-04: proposal O1 11 (5/1).
- 05-12..05-18: closing O1 12 (5/13).
- 05-19..05-25: approach O3 19 (5/20); information_gathering O2 33 (5/20, -> lost).
- 05-26..06-01: approach O4 17 (6/1).
- 06-09..06-15: proposal O3 21 (6/10).
- 06-30..07-06: information_gathering O4 30 (7/1); closing O3 20 (6/30): one week, two months.

Pipeline on 2025-10-31: only O4 is open, at proposal (probability 0.50), 6,000,000 JPY ->
weighted 3,000,000; close date 2025-08-31 (month 2025-08, before the as-of month).

MRR (subscriptions.csv): A1 100,000 from 2025-06, 150,000 from 2025-09; A3 300,000 2025-07 to
2025-09, churned in 2025-10. CAC rows exist only for 2025-05 and 2025-06: their trailing 12
months hold no churn (and no starting MRR at all), so the churn rate and LTV are null there.
No CAC row falls in 2025-10, the only month with churn, so only the null behaviour is asserted
(for 2025-10 it would be churned 300,000 / starting 1,350,000 = A1 100k+100k+100k+150k + A3
300k+300k+300k).
"""

from __future__ import annotations

import csv
import itertools
from datetime import date, datetime, timedelta

import pytest

from tests.conftest import TINY
from tests.conftest import query_rows as _rows

VELOCITY_COLUMNS = (
    "transitions_exited, sum_days_in_stage, mean_days_in_stage, median_days_in_stage, "
    "forward_exits, forward_rate, lost_exits, lost_rate, observed_exits"
)


def _velocity(con, month, step, grain="month"):
    rows = _rows(
        con,
        f"select {VELOCITY_COLUMNS} from kpi_stage_velocity where period_grain = ? "
        "and period_start_date = ?::date and scope_type = 'team' and scope_id = 'FS1' "
        "and funnel_step = ?",
        grain,
        month,
        step,
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_stage_velocity_grain(marts):
    keys = marts.execute(
        "select period_start_date::varchar, scope_id, funnel_step, transitions_exited "
        "from kpi_stage_velocity where period_grain = 'month' and scope_type = 'team' "
        "order by 1, funnel_step_order"
    ).fetchall()
    assert keys == [
        ("2025-04-01", "FS1", "approach", 2),
        ("2025-04-01", "FS1", "information_gathering", 1),
        ("2025-05-01", "FS1", "approach", 1),
        ("2025-05-01", "FS1", "information_gathering", 1),
        ("2025-05-01", "FS1", "proposal", 1),
        ("2025-05-01", "FS1", "closing", 1),
        ("2025-06-01", "FS1", "approach", 1),
        ("2025-06-01", "FS1", "proposal", 1),
        ("2025-06-01", "FS1", "closing", 1),
        ("2025-07-01", "FS1", "information_gathering", 1),
    ]


def test_stage_velocity_april_approach(marts):
    # O1 and O2 left approach in April after 7 days each, both forward to discovery.
    row = _velocity(marts, "2025-04-01", "approach")
    assert row["transitions_exited"] == 2
    assert row["sum_days_in_stage"] == pytest.approx(14.0)
    assert row["mean_days_in_stage"] == pytest.approx(7.0)
    assert row["median_days_in_stage"] == pytest.approx(7.0)
    assert (row["forward_exits"], row["lost_exits"], row["observed_exits"]) == (2, 0, 2)
    assert row["forward_rate"] == pytest.approx(1.0)
    assert row["lost_rate"] == pytest.approx(0.0)


def test_stage_velocity_may_information_gathering_lost(marts):
    # O2 left discovery on 5/20 after 33 days, to closed_lost: 0 forward, 1 lost.
    row = _velocity(marts, "2025-05-01", "information_gathering")
    assert row["transitions_exited"] == 1
    assert row["sum_days_in_stage"] == pytest.approx(33.0)
    assert row["median_days_in_stage"] == pytest.approx(33.0)
    assert (row["forward_exits"], row["lost_exits"]) == (0, 1)
    assert row["forward_rate"] == pytest.approx(0.0)
    assert row["lost_rate"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("month", "step", "days"),
    [
        ("2025-04-01", "information_gathering", 10.0),  # O1 discovery 4/10 -> 4/20
        ("2025-05-01", "approach", 19.0),  # O3 approach -> proposal (skipped step)
        ("2025-05-01", "proposal", 11.0),  # O1 proposal 4/20 -> 5/1
        ("2025-05-01", "closing", 12.0),  # O1 negotiation 5/1 -> won 5/13
        ("2025-06-01", "approach", 17.0),  # O4 approach 5/15 -> 6/1
        ("2025-06-01", "proposal", 21.0),  # O3 proposal 5/20 -> 6/10
        ("2025-06-01", "closing", 20.0),  # O3 negotiation 6/10 -> won 6/30
        ("2025-07-01", "information_gathering", 30.0),  # O4 discovery 6/1 -> 7/1
    ],
)
def test_stage_velocity_single_forward_exits(marts, month, step, days):
    row = _velocity(marts, month, step)
    assert row["transitions_exited"] == 1
    assert row["sum_days_in_stage"] == pytest.approx(days)
    assert row["median_days_in_stage"] == pytest.approx(days)
    assert (row["forward_exits"], row["lost_exits"], row["observed_exits"]) == (1, 0, 1)
    assert row["forward_rate"] == pytest.approx(1.0)


def test_stage_velocity_totals(marts):
    # Exits: O1 4, O2 2, O3 3, O4 2 = 11; days 40 + 40 + 60 + 47 = 187; lost 1 (O2).
    total = marts.execute(
        "select sum(transitions_exited), sum(sum_days_in_stage), sum(lost_exits), "
        "count(*) filter (where funnel_step = 'lost') from kpi_stage_velocity "
        "where period_grain = 'month' and scope_type = 'company'"
    ).fetchone()
    assert total[0] == 11
    assert total[1] == pytest.approx(187.0)
    assert total[2] == 1
    assert total[3] == 0


def test_stage_velocity_by_segment_and_product(marts):
    def by_scope(scope_type: str) -> dict:
        rows = marts.execute(
            "select scope_id, sum(transitions_exited), sum(sum_days_in_stage), sum(lost_exits) "
            "from kpi_stage_velocity where period_grain = 'month' and scope_type = ? group by 1",
            [scope_type],
        ).fetchall()
        return {row[0]: tuple(row[1:]) for row in rows}

    # Exits (days): O1 4 (40) on A1, manufacturing, 50-299; O2 2 (40, lost once) on A2, it,
    # 1-49; O3 3 (60) on A3, retail, 300-999; O4 2 (47) on A4, it, 1000+. O1 and O3 take the
    # product of their subscriptions (standard); O2 and O4 have none.
    assert by_scope("industry") == {
        "manufacturing": (4, 40.0, 0),
        "it": (4, 87.0, 1),
        "retail": (3, 60.0, 0),
    }
    assert by_scope("company_size") == {
        "50-299": (4, 40.0, 0),
        "1-49": (2, 40.0, 1),
        "300-999": (3, 60.0, 0),
        "1000+": (2, 47.0, 0),
    }
    assert by_scope("product") == {"standard": (7, 100.0, 0), "unspecified": (4, 87.0, 1)}
    assert by_scope("company") == {"company": (11, 187.0, 1)}


def test_stage_velocity_week_grain(marts):
    # The weeks listed in the module docstring: (week start, end, step, exits, sum of days,
    # forward exits, lost exits).
    rows = marts.execute(
        "select period_start_date::varchar, period_end_date::varchar, funnel_step, "
        "transitions_exited, sum_days_in_stage, forward_exits, lost_exits "
        "from kpi_stage_velocity where period_grain = 'week' and scope_type = 'team' "
        "and scope_id = 'FS1' "
        "order by 1, funnel_step_order"
    ).fetchall()
    assert rows == [
        ("2025-04-07", "2025-04-13", "approach", 1, 7.0, 1, 0),
        ("2025-04-14", "2025-04-20", "approach", 1, 7.0, 1, 0),
        ("2025-04-14", "2025-04-20", "information_gathering", 1, 10.0, 1, 0),
        ("2025-04-28", "2025-05-04", "proposal", 1, 11.0, 1, 0),
        ("2025-05-12", "2025-05-18", "closing", 1, 12.0, 1, 0),
        ("2025-05-19", "2025-05-25", "approach", 1, 19.0, 1, 0),
        ("2025-05-19", "2025-05-25", "information_gathering", 1, 33.0, 0, 1),
        ("2025-05-26", "2025-06-01", "approach", 1, 17.0, 1, 0),
        ("2025-06-09", "2025-06-15", "proposal", 1, 21.0, 1, 0),
        ("2025-06-30", "2025-07-06", "information_gathering", 1, 30.0, 1, 0),
        ("2025-06-30", "2025-07-06", "closing", 1, 20.0, 1, 0),
    ]


def test_stage_velocity_week_across_months(marts):
    # Week 2025-06-30 .. 07-06 holds O3's exit from negotiation (June) and O4's from discovery
    # (July); the month grain splits them. The lost exit week: O2 left discovery to closed_lost.
    row = _velocity(marts, "2025-05-19", "information_gathering", grain="week")
    assert (row["transitions_exited"], row["forward_exits"], row["lost_exits"]) == (1, 0, 1)
    assert row["lost_rate"] == pytest.approx(1.0)
    assert row["forward_rate"] == pytest.approx(0.0)
    assert row["mean_days_in_stage"] == pytest.approx(33.0)


def test_stage_velocity_quarter_percentiles_from_exits(marts):
    # Fiscal Q1 2025 (April-June) approach exits: O1 7, O2 7, O3 19, O4 17 -> 4 exits, 50 days,
    # mean 12.5; continuous median of (7, 7, 17, 19) = 12.0 (not the mean of monthly medians);
    # p75 = 17 + 0.25 x (19 - 17) = 17.5. All four moved forward.
    row = _rows(
        marts,
        f"select {VELOCITY_COLUMNS}, p75_days_in_stage, period_end_date::varchar as period_end "
        "from kpi_stage_velocity where period_grain = 'quarter' and scope_type = 'company' "
        "and period_start_date = '2025-04-01' and funnel_step = 'approach'",
    )
    assert len(row) == 1, row
    row = row[0]
    assert row["period_end"] == "2025-06-30"
    assert row["transitions_exited"] == 4
    assert row["sum_days_in_stage"] == pytest.approx(50.0)
    assert row["mean_days_in_stage"] == pytest.approx(12.5)
    assert row["median_days_in_stage"] == pytest.approx(12.0)
    assert row["p75_days_in_stage"] == pytest.approx(17.5)
    assert (row["forward_exits"], row["forward_rate"]) == (4, pytest.approx(1.0))


def _exits_from_raw_files():
    """Stage exits (exit date, funnel step, days, forward?, lost?) from the raw history CSV."""
    steps = {
        "approach": "approach",
        "discovery": "information_gathering",
        "proposal": "proposal",
        "negotiation": "closing",
        "closed_won": "follow_up",
        "closed_lost": "lost",
    }
    order = {"approach": 1, "information_gathering": 2, "proposal": 3, "closing": 4}
    history = {}
    with (TINY / "opportunity_stage_history.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            changed = datetime.fromisoformat(row["changed_at"])
            history.setdefault(row["opportunity_id"], []).append(
                (changed, steps[row["opportunity_stage"]])
            )
    exits = []
    for changes in history.values():
        changes.sort()
        for (entered, step), (left, next_step) in itertools.pairwise(changes):
            if step == "lost":
                continue
            forward = next_step == "follow_up" or order.get(next_step, 0) > order[step]
            exits.append(
                (
                    left.date(),
                    step,
                    (left - entered).total_seconds() / 86400,
                    forward,
                    next_step == "lost",
                )
            )
    return exits


def _period_start(day, grain):
    """Start of the period holding `day`: ISO week from Monday, fiscal quarter/year from April."""
    fiscal_year = day.year if day.month >= 4 else day.year - 1
    fiscal_month = (day.month - 4) % 12
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        month = 4 + fiscal_month // 3 * 3
        return date(fiscal_year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return date(fiscal_year, 4, 1)


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "fiscal_year"])
def test_stage_velocity_every_grain_matches_raw_history(marts, grain):
    # Recomputed in plain Python from opportunity_stage_history.csv (fiscal year from April):
    # per period and step, exits, days, forward and lost exits.
    expected = {}
    for day, step, days, forward, lost in _exits_from_raw_files():
        key = (_period_start(day, grain), step)
        exits, total, forwards, losts = expected.get(key, (0, 0.0, 0, 0))
        expected[key] = (exits + 1, total + days, forwards + forward, losts + lost)
    rows = marts.execute(
        "select period_start_date, funnel_step, transitions_exited, sum_days_in_stage, "
        "forward_exits, lost_exits from kpi_stage_velocity where period_grain = ? "
        "and scope_type = 'company'",
        [grain],
    ).fetchall()
    actual = {(r[0], r[1]): (r[2], pytest.approx(r[3]), r[4], r[5]) for r in rows}
    assert actual == expected


def test_pipeline_as_of(marts):
    rows = _rows(
        marts,
        "select as_of_date::varchar as as_of_date, scope_type, scope_id, funnel_step, "
        "expected_close_month_start_date::varchar as close_month, is_past_expected_close, "
        "open_opportunities, open_amount, weighted_amount, currency "
        "from kpi_pipeline order by scope_type, scope_id",
    )
    assert [(r["scope_type"], r["scope_id"]) for r in rows] == [
        ("company", "company"),
        ("rep", "U3"),
        ("team", "FS1"),
    ]
    for row in rows:
        assert row["as_of_date"] == "2025-10-31"
        assert row["funnel_step"] == "proposal"
        assert row["close_month"] == "2025-08-01"
        assert row["is_past_expected_close"] is True
        assert row["open_opportunities"] == 1
        assert float(row["open_amount"]) == pytest.approx(6_000_000)
        assert float(row["weighted_amount"]) == pytest.approx(3_000_000)
        assert row["currency"] == "JPY"


def test_ltv_null_without_churn_in_trailing_window(marts):
    rows = _rows(
        marts,
        "select period_start_date::varchar as month, new_customers, trailing_churned_mrr, "
        "trailing_starting_mrr, trailing_revenue_churn_rate, ltv_amount, ltv_to_cac_ratio "
        "from kpi_cac where period_grain = 'month' order by 1",
    )
    assert {r["month"] for r in rows} == {"2025-05-01", "2025-06-01"}
    for row in rows:
        # Window 2024-06 .. 2025-05 has no MRR; 2024-07 .. 2025-06 only A1's new 100,000
        # (starting 0): no churn, no starting MRR -> churn rate, LTV and LTV:CAC null.
        assert float(row["trailing_churned_mrr"]) == 0
        assert float(row["trailing_starting_mrr"]) == 0
        assert row["trailing_revenue_churn_rate"] is None
        assert row["ltv_amount"] is None
        assert row["ltv_to_cac_ratio"] is None


def test_mrr_churn_falls_in_october(marts):
    # The month LTV would use churn from: company-wide 2024-11 .. 2025-10 holds churned
    # 300,000 (A3 in October) over starting 1,350,000.
    churned, starting = marts.execute(
        "select sum(churned_mrr + contraction_mrr), sum(starting_mrr) from core.fct_mrr_movements "
        "where month_start_date between '2024-11-01' and '2025-10-01'"
    ).fetchone()
    assert float(churned) == pytest.approx(300_000)
    assert float(starting) == pytest.approx(1_350_000)
