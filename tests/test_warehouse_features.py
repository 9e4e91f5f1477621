"""Multi-currency, snapshots of current-state exports, and account merging, on the tiny fixture."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY, TINY_AS_OF


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(TINY, landing)
    return landing


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def currency_and_merge(tmp_path_factory):
    """One run of the tiny fixture with two independent changes: O3 booked in USD with dated
    rates, and a second record of アルファ (A1) with the same 法人番号 and its own deal."""
    tmp_path = tmp_path_factory.mktemp("currency_and_merge")
    landing = _landing(tmp_path)
    # O3 (won 2025-06-30) is booked in USD: 24,000 USD; its subscription bills 2,000 USD a month.
    _replace(landing / "opportunities.csv", ",3600000,JPY,", ",24000,USD,")
    _replace(landing / "subscriptions.csv", ",300000,JPY,O3", ",2000,USD,O3")
    (landing / "exchange_rates.csv").write_text(
        "rate_date,from_currency,to_currency,rate\n"
        "2025-01-01,USD,JPY,140.0\n"
        "2025-06-01,USD,JPY,150.0\n"
        "2025-07-01,USD,JPY,160.0\n",
        encoding="utf-8",
    )
    # A9 is アルファ again (same 法人番号) from another system, with its own expansion deal O9
    # (no subscription: the MRR figures of the currency test do not move).
    with (landing / "accounts.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "A9,株式会社アルファ（別システム）,1234567890123,manufacturing,50-299,東京都,"
            "2025-03-02 10:00:00\n"
        )
    with (landing / "opportunities.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "O9,A9,U3,,2025-07-01 10:00:00,2025-07-20,closed_won,600000,JPY,expansion,true,true,\n"
        )
    settings = settings_for(tmp_path, landing, TINY_AS_OF)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def test_amounts_are_converted_with_the_dated_rate(currency_and_merge):
    con = currency_and_merge
    # Closed 2025-06-30: the rate dated 2025-06-01 applies -> 24,000 x 150.
    amount = con.execute(
        "select amount, currency from kpi_sales_cycle_deals where opportunity_id = 'O3'"
    ).fetchone()
    # The subscription starts 2025-07-01: rate 160 -> 320,000 JPY of MRR.
    mrr = con.execute(
        "select cohort_starting_mrr, currency from kpi_retention "
        "where period_grain = 'month' and scope_type = 'company' "
        "and cohort_period_start_date = '2025-07-01' and periods_since_acquisition = 0"
    ).fetchone()
    original = con.execute(
        "select amount, currency, amount_reporting from core.fct_opportunities "
        "where opportunity_id = 'O3'"
    ).fetchone()
    assert (float(amount[0]), amount[1]) == (3_600_000.0, "JPY")
    assert (float(mrr[0]), mrr[1]) == (320_000.0, "JPY")
    assert (float(original[0]), original[1], float(original[2])) == (24_000, "USD", 3_600_000)


def test_accounts_sharing_a_corporate_number_are_merged(currency_and_merge):
    con = currency_and_merge
    accounts = con.execute(
        "select account_id, accounts_merged from core.dim_accounts where account_id in ('A1', 'A9')"
    ).fetchall()
    owner = con.execute(
        "select account_id from core.fct_opportunities where opportunity_id = 'O9'"
    ).fetchone()
    assert accounts == [("A1", 2)]
    assert owner == ("A1",)


def test_a_missing_exchange_rate_stops_publication(tmp_path):
    landing = _landing(tmp_path)
    _replace(landing / "opportunities.csv", ",3600000,JPY,", ",24000,USD,")
    settings = settings_for(tmp_path, landing, TINY_AS_OF)
    outcome = run_pipeline(settings)
    assert not outcome.published
    assert outcome.failed_steps or outcome.failed_checks
    assert not settings.published_db.exists()


def test_current_state_exports_get_history_from_snapshots(tmp_path):
    landing = _landing(tmp_path)
    (landing / "opportunity_stage_history.csv").unlink()
    # Snapshots date a change when a run sees it (now), so the marts must be as of today or
    # later to count it; as of an earlier date the change was not known yet.
    as_of = (date.today() + timedelta(days=1)).isoformat()
    funnel_query = (
        "select sum(numerator_count), sum(inferred_numerator_count) "
        "from kpi_funnel_conversion where analysis_basis = 'cohort' "
        "and conversion_step = 'proposal_to_closing' and period_grain = 'month' "
        "and period_start_date = '2025-05-01' and lead_source = 'ae_sourced'"
    )
    settings = settings_for(tmp_path, landing, as_of)
    assert run_pipeline(settings).success
    # The next night O4 moved from proposal to negotiation.
    _replace(landing / "opportunities.csv", ",proposal,6000000,", ",negotiation,6000000,")
    assert run_pipeline(settings).success
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        rows = con.execute(
            "select opportunity_stage, transition_source from core.fct_opportunity_stage_transitions "
            "where opportunity_id = 'O4' order by stage_sequence"
        ).fetchall()
        sources = dict(
            con.execute(
                "select transition_source, count(*) from core.fct_opportunity_stage_transitions "
                "group by 1"
            ).fetchall()
        )
        funnel = con.execute(funnel_query).fetchone()
    assert rows == [("proposal", "inferred"), ("negotiation", "snapshot")]
    # O4 reached closing, and the mart says this is known from a snapshot, not observed.
    assert funnel == (1, 1)
    assert sources == {"inferred": 4, "snapshot": 1}
    # As of the end of October 2025 (before the snapshot saw the change) O4 had not reached
    # closing: the past stays as it was known then.
    assert run_pipeline(settings_for(tmp_path, landing, TINY_AS_OF)).success
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        assert con.execute(funnel_query).fetchone() == (0, 0)


@pytest.mark.parametrize("merge_key", [None])
def test_merging_can_be_switched_off(tmp_path, merge_key):
    landing = _landing(tmp_path)
    with (landing / "accounts.csv").open("a", encoding="utf-8") as handle:
        handle.write("A9,株式会社アルファ（別システム）,1234567890123,,,,\n")
    settings = settings_for(tmp_path, landing, TINY_AS_OF, {"account_merge_key": merge_key})
    assert run_pipeline(settings).success
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        ids = con.execute(
            "select account_id from core.dim_accounts where account_id in ('A1', 'A9') order by 1"
        ).fetchall()
    assert ids == [("A1",), ("A9",)]
