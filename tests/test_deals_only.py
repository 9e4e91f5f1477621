"""A deals-only export (opportunities.csv and nothing else) publishes.

No leads, activities, users or accounts: the raw gate needs leads or opportunities only, the
marts that need the missing files are empty and `kpi_availability` says why, and open deals
without an amount are unknown in kpi_pipeline (null sums and a count), never worth 0.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import TINY, TINY_AS_OF, query_rows, run_on

# tiny's four deals (O4 open: proposal, 6,000,000 JPY, closing 2025-08) plus two open
# proposals without an amount: O5 closing in August like O4, O6 closing in November.
EXTRA_DEALS = (
    "O5,A4,U3,,2025-06-01 10:00:00,2025-08-20,proposal,,JPY,new,false,false,\n"
    "O6,A4,U2,,2025-06-01 10:00:00,2025-11-30,proposal,,JPY,new,false,false,\n"
)


@pytest.fixture(scope="module")
def deals_only(tmp_path_factory):
    base = tmp_path_factory.mktemp("deals_only")
    landing = base / "landing"
    landing.mkdir()
    text = (TINY / "opportunities.csv").read_text(encoding="utf-8")
    (landing / "opportunities.csv").write_text(text + EXTRA_DEALS, encoding="utf-8")
    settings, outcome = run_on(base, landing, TINY_AS_OF)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def test_kpi_availability_says_which_marts_lack_an_input(deals_only):
    rows = {
        (r["mart_name"], r["kpi_group"]): r
        for r in query_rows(deals_only, "select * from kpi_availability")
    }
    assert rows[("kpi_pipeline", "all")]["is_available"] is True
    assert rows[("kpi_pipeline", "all")]["reason"] is None
    assert rows[("kpi_pipeline", "all")]["input_rows"] == 6
    funnel = rows[("kpi_funnel_conversion", "all")]
    assert (funnel["is_available"], funnel["required_inputs"], funnel["input_rows"]) == (
        True,
        "leads or opportunities",
        6,
    )
    retention = rows[("kpi_retention", "all")]
    assert retention["is_available"] is False and retention["input_rows"] == 0
    assert retention["reason"].startswith("no subscriptions export loaded")
    activity = rows[("kpi_scorecard", "activity_kpis")]
    assert activity["is_available"] is False
    assert "no activities export loaded" in activity["reason"]
    assert rows[("kpi_scorecard", "lead_kpis")]["is_available"] is False
    assert rows[("kpi_scorecard", "deal_kpis")]["is_available"] is True
    assert deals_only.execute("select count(*) from kpi_retention").fetchone()[0] == 0


def test_open_deals_without_amount_are_unknown_not_zero(deals_only):
    rows = query_rows(
        deals_only,
        "select expected_close_month_start_date::varchar as close_month, open_opportunities, "
        "open_opportunities_unknown_amount as unknown, open_amount, weighted_amount "
        "from kpi_pipeline where scope_type = 'company' order by close_month",
    )
    amounts = [
        (
            r["close_month"],
            r["open_opportunities"],
            r["unknown"],
            None if r["open_amount"] is None else float(r["open_amount"]),
            None if r["weighted_amount"] is None else float(r["weighted_amount"]),
        )
        for r in rows
    ]
    # August: O4 (6,000,000 at proposal's 50 %) and O5 without amount; November: O6 only.
    assert amounts == [
        ("2025-08-01", 2, 1, 6_000_000.0, 3_000_000.0),
        ("2025-11-01", 1, 1, None, None),
    ]
