"""The written-down KPI rules: who is a new customer, when a forecast is on pace, and what the
scorecard forecasts before a period's first business day.

The new-customer rule itself is unit-tested in dbt (`unit_tests:` of int_new_customers in
dbt_project/models/intermediate/_intermediate__models.yml); here the pipeline runs once on the
tiny fixture plus a renewal-only subscriber and an expansion-only account, dbt's unit tests are
run against its warehouse, and the marts that count new customers are checked by hand.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY

# A Saturday: no business day of November 2025 has passed (3 November, 文化の日, is a holiday).
AS_OF = "2025-11-01"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("kpi_rules")
    landing = base / "landing"
    shutil.copytree(TINY, landing)
    with (landing / "opportunities.csv").open("a", encoding="utf-8") as handle:
        # A2 (its new deal O2 was lost) renews on 15 July and subscribes from 10 June: a
        # long-standing subscriber, new on its first subscription, not on the renewal.
        handle.write(
            "O5,A2,U2,,2025-07-01 10:00:00,2025-07-15,closed_won,500000,JPY,renewal,true,true,\n"
        )
        # A4 wins only an expansion and has no subscription: never a new customer.
        handle.write(
            "O6,A4,U3,,2025-08-01 10:00:00,2025-08-20,closed_won,800000,JPY,expansion,true,true,\n"
        )
    with (landing / "subscriptions.csv").open("a", encoding="utf-8") as handle:
        handle.write("S4,SUB3,A2,standard,2025-06-10,,200000,JPY,\n")
    with (landing / "targets.csv").open("a", encoding="utf-8") as handle:
        handle.write("won_amount,month,2025-11-01,company,company,1000000,JPY,budget\n")
    settings = settings_for(base, landing, AS_OF)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield settings, con


def _dbt(settings, tmp_path, *args: str):
    """Invoke dbt in-process on the run's working warehouse (target files under tmp_path)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.dbt_env().items():
            patch.setenv(name, value)
        return dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(tmp_path / "target"),
                "--log-path",
                str(tmp_path / "logs"),
                "--quiet",
            ]
        )


def test_dbt_unit_tests_pass(run, tmp_path):
    settings, _ = run
    result = _dbt(settings, tmp_path, "test", "--select", "test_type:unit")
    assert result.success, result.exception
    names = {r.node.name for r in result.result.results}
    assert "new_customer_rule" in names  # the unit test ran (a selection of nothing passes too)


def test_new_customers_in_cac(run):
    _, con = run
    rows = con.execute(
        "select period_start_date::varchar, channel, agency_key, new_customers, new_mrr_amount "
        "from kpi_cac where period_grain = 'month' and new_customers > 0 order by 1, 2"
    ).fetchall()
    # A1: new deal O1 won 13 May (web_inquiry -> inbound_web), MRR 100,000 from June.
    # A2: no won new deal, first subscription 10 June -> new in June, attributed to its
    #     earliest lead L2 (web_inquiry -> inbound_web, in-house); new MRR 200,000.
    # A3: new deal O3 won 30 June via the agency AG1; MRR 300,000 from July.
    # Not new: A2's renewal O5 (July) and A4's expansion O6 (August). The old rule (first won
    # deal of any type) counted A2 in July and A4 in August as field_sales new customers.
    assert rows == [
        ("2025-05-01", "inbound_web", "in_house", 1, 100_000),
        ("2025-06-01", "inbound_web", "in_house", 1, 200_000),
        ("2025-06-01", "outsourced_sales", "AG1", 1, 300_000),
    ]
    assert con.execute("select count(*) from kpi_cac where channel = 'field_sales'").fetchone() == (
        0,
    )


def test_new_customers_in_scorecard_and_accounts(run):
    _, con = run

    def new_customers(scope_type: str, grain: str = "fiscal_year", start: str = "2025-04-01"):
        return dict(
            con.execute(
                "select scope_id, numerator from kpi_scorecard where kpi_code = 'new_customers' "
                "and period_grain = ? and period_start_date = ? and scope_type = ?",
                [grain, start, scope_type],
            ).fetchall()
        )

    # FY2025: A1, A2 and A3 (not A4): three, where the old rule counted four.
    assert new_customers("company") == {"company": 3.0}
    assert new_customers("company", "month", "2025-06-01") == {"company": 2.0}  # A2, A3
    # A2 is credited to the owner of its earliest lead (U1); A1 and A3 to their deals' owners.
    assert new_customers("rep") == {"U1": 1.0, "U2": 1.0, "U3": 1.0}
    assert new_customers("channel") == {"inbound_web": 2.0, "outsourced_sales": 1.0}
    accounts = {
        account: (acquired and acquired.isoformat(), basis)
        for account, acquired, basis in con.execute(
            "select account_id, acquired_date, acquisition_basis from core.dim_accounts"
        ).fetchall()
    }
    assert accounts == {
        "A1": ("2025-05-13", "new_business_deal"),
        "A2": ("2025-06-10", "first_subscription"),
        "A3": ("2025-06-30", "new_business_deal"),
        "A4": (None, None),
    }


def test_forecast_before_the_first_business_day(run):
    _, con = run
    rows = {
        kpi: rest
        for kpi, *rest in con.execute(
            "select kpi_code, business_days_elapsed, kpi_value, landing_forecast, "
            "forecast_method, status from kpi_scorecard where period_grain = 'month' "
            "and period_start_date = '2025-11-01' and scope_type = 'company'"
        ).fetchall()
    }
    # Recurring revenue (run rate): A1's S2 (150,000) and A2's S4 (200,000) bill in November,
    # but no business day has passed on Saturday 1 November: no run rate, no forecast.
    assert rows["recurring_revenue"] == [0, 350_000, None, "no_elapsed_business_day", None]
    # Won amount (weighted pipeline) is defined from day one: nothing won, nothing open due in
    # November (O4's expected close, 31 August, has passed) -> 0 against 1,000,000: behind.
    assert rows["won_amount"] == [0, 0, 0, "weighted_pipeline", "behind"]


# (forecast, target, direction, expected status), worked out by hand with a 5 % tolerance.
PACE_CASES = [
    (105.0, 100.0, "higher_is_better", "on_pace"),  # exactly +5 %: on the band (was ahead)
    (95.0, 100.0, "higher_is_better", "on_pace"),  # exactly -5 %
    (105.01, 100.0, "higher_is_better", "ahead"),  # +5.01 %
    (94.99, 100.0, "higher_is_better", "behind"),  # -5.01 %
    (105.0, 100.0, "lower_is_better", "on_pace"),
    (95.0, 100.0, "lower_is_better", "on_pace"),
    (105.01, 100.0, "lower_is_better", "behind"),  # above target is bad when lower is better
    (94.99, 100.0, "lower_is_better", "ahead"),
    (2_100_000.0, 2_000_000.0, "higher_is_better", "on_pace"),  # +5 %
    (1_900_000.0, 2_000_000.0, "higher_is_better", "on_pace"),  # -5 %
    # 2.85 / 3 = 0.95 exactly, but (2.85 - 3) / 3 = -0.05000000000000004 in floating point.
    (2.85, 3.0, "higher_is_better", "on_pace"),
    (3.15, 3.0, "higher_is_better", "on_pace"),
    (0.0, 0.0, "higher_is_better", "on_pace"),  # zero target: on pace only at zero
    (1.0, 0.0, "higher_is_better", "ahead"),
    (1.0, 0.0, "lower_is_better", "behind"),
    (None, 100.0, "higher_is_better", None),  # no forecast, no status
    (100.0, None, "higher_is_better", None),  # no target, no status
]


def test_pace_status_is_symmetric_and_inclusive(run, tmp_path):
    settings, _ = run
    result = _dbt(
        settings,
        tmp_path,
        "compile",
        "--inline",
        "select {{ pace_status('forecast', 'target', 'direction', 0.05) }} as status",
    )
    assert result.success, result.exception
    expression = result.result.results[0].node.compiled_code
    values = ", ".join(
        "({}, cast({} as double), cast({} as double), '{}')".format(
            i, "null" if f is None else f, "null" if t is None else t, d
        )
        for i, (f, t, d, _) in enumerate(PACE_CASES)
    )
    sql = (
        f"with cases(case_id, forecast, target, direction) as (values {values}), "
        f"statuses as ({expression.replace('select', 'select case_id,', 1)} from cases) "
        "select status from statuses order by case_id"
    )
    with duckdb.connect() as con:
        statuses = [status for (status,) in con.execute(sql).fetchall()]
    assert statuses == [expected for *_, expected in PACE_CASES]
