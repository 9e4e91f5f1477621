"""Customer engagement mart (リピート率, 利用頻度・分量, 顧客満足度) on the tiny fixture, by hand.

The tiny fixture (as-of 2025-10-31) has accounts A1 (manufacturing), A2 (it), A3 (retail) and
A4 (it), no orders and no survey answers. The test adds, in a copy of the landing folder:

- orders.csv:
  R1 A1 2025-08-05 100,000 JPY qty 2;  R2 A1 2025-08-20 50,000 JPY qty 1;
  R3 A3 2025-08-25 1,000 USD qty 3 (rate dated 2025-08-01: 150 -> 150,000 JPY);
  R4 A1 2025-09-10 80,000 JPY qty 4;   R5 A3 2025-09-15 30,000 JPY, no quantity (counts 0);
  R6 A3 2025-11-05 after the as-of date -> left out.
- exchange_rates.csv: USD->JPY 140 from 2025-01-01, 150 from 2025-08-01, 160 from 2025-09-01.
- satisfaction_surveys.csv (scale 1-5):
  S1 A1 2025-08-10 score 4 / 5;  S2 A3 2025-08-12 score 5 / 5;
  S3 A1 2025-09-03 score 3 / 5;  S4 A3 2025-09-20 score 2, max_score unknown.

Months run from the first order or answer (August) to the as-of month (October). The month
tests read period_grain 'month'; the other grains are recomputed from the dated orders and
answers (fiscal quarters from April: Q2 = July-September, Q3 = October-December).
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY, TINY_AS_OF

ORDERS = (
    "order_id,account_id,ordered_at,amount,currency,quantity,product,opportunity_id\n"
    "R1,A1,2025-08-05 10:00:00,100000,JPY,2,plan,\n"
    "R2,A1,2025-08-20 10:00:00,50000,JPY,1,plan,\n"
    "R3,A3,2025-08-25 10:00:00,1000,USD,3,plan,\n"
    "R4,A1,2025-09-10 10:00:00,80000,JPY,4,plan,\n"
    "R5,A3,2025-09-15 10:00:00,30000,JPY,,plan,\n"
    "R6,A3,2025-11-05 10:00:00,999,JPY,1,plan,\n"
)
SURVEYS = (
    "response_id,account_id,responded_at,score,max_score,survey_name\n"
    "S1,A1,2025-08-10 09:00:00,4,5,csat\n"
    "S2,A3,2025-08-12 09:00:00,5,5,csat\n"
    "S3,A1,2025-09-03 09:00:00,3,5,csat\n"
    "S4,A3,2025-09-20 09:00:00,2,,csat\n"
)
RATES = (
    "rate_date,from_currency,to_currency,rate\n"
    "2025-01-01,USD,JPY,140.0\n"
    "2025-08-01,USD,JPY,150.0\n"
    "2025-09-01,USD,JPY,160.0\n"
)
COLUMNS = (
    "ordering_customers, repeat_customers, customers_with_orders_to_date, repeat_rate, "
    "repeat_customers_to_date, cumulative_repeat_rate, orders, order_amount, currency, quantity, "
    "usage_frequency, usage_volume, survey_responses, score_sum, mean_score, "
    "normalised_responses, normalised_score_sum, mean_normalised_score"
)


@pytest.fixture(scope="module")
def engagement(tmp_path_factory):
    base = tmp_path_factory.mktemp("engagement")
    landing = base / "landing"
    shutil.copytree(TINY, landing)
    (landing / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (landing / "satisfaction_surveys.csv").write_text(SURVEYS, encoding="utf-8")
    (landing / "exchange_rates.csv").write_text(RATES, encoding="utf-8")
    settings = settings_for(base, landing, TINY_AS_OF)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        yield con


def _row(
    con,
    month: str,
    scope_type: str = "company",
    scope_id: str = "company",
    grain: str = "month",
) -> dict:
    cursor = con.execute(
        f"select {COLUMNS} from kpi_customer_engagement where period_grain = ? "
        "and period_start_date = ? and scope_type = ? and scope_id = ?",
        [grain, month, scope_type, scope_id],
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def test_grain(engagement):
    # August (first activity) to October (as-of month) for the company and for the two
    # industries with orders or answers (A1 manufacturing, A3 retail): 3 x 3 rows.
    keys = engagement.execute(
        "select period_start_date::varchar, scope_type, scope_id from kpi_customer_engagement "
        "where period_grain = 'month' order by 2, 3, 1"
    ).fetchall()
    months = ["2025-08-01", "2025-09-01", "2025-10-01"]
    assert keys == (
        [(m, "company", "company") for m in months]
        + [(m, "industry", "manufacturing") for m in months]
        + [(m, "industry", "retail") for m in months]
    )


def test_company_august(engagement):
    row = _row(engagement, "2025-08-01")
    # Ordering customers A1 (R1, R2) and A3 (R3) = 2. A1 has 2 orders to date -> repeat;
    # A3 has 1. Customers to date 2 -> repeat rate 1 / 2 = 0.5.
    assert (row["ordering_customers"], row["repeat_customers"]) == (2, 1)
    assert row["customers_with_orders_to_date"] == 2
    assert row["repeat_rate"] == pytest.approx(0.5)
    # Usage frequency 3 orders / 2 customers = 1.5; volume (2 + 1 + 3) / 2 = 3.
    assert row["orders"] == 3
    assert row["usage_frequency"] == pytest.approx(1.5)
    assert float(row["quantity"]) == 6
    assert row["usage_volume"] == pytest.approx(3.0)
    # Amount 100,000 + 50,000 + 1,000 USD x 150 (rate of 2025-08-01) = 300,000 JPY.
    assert (float(row["order_amount"]), row["currency"]) == (300_000.0, "JPY")
    # CSAT: S1 4 + S2 5 = 9 over 2 answers = 4.5; normalised 4/5 + 5/5 = 1.8 / 2 = 0.9.
    assert (row["survey_responses"], float(row["score_sum"])) == (2, 9.0)
    assert row["mean_score"] == pytest.approx(4.5)
    assert row["normalised_responses"] == 2
    assert row["normalised_score_sum"] == pytest.approx(1.8)
    assert row["mean_normalised_score"] == pytest.approx(0.9)


def test_company_september(engagement):
    row = _row(engagement, "2025-09-01")
    # A1 (R4, 3 orders to date) and A3 (R5, 2 to date) both ordered and both repeat:
    # repeat rate 2 / 2 = 1.0.
    assert (row["ordering_customers"], row["repeat_customers"]) == (2, 2)
    assert row["customers_with_orders_to_date"] == 2
    assert row["repeat_rate"] == pytest.approx(1.0)
    # Frequency 2 / 2 = 1.0; volume (4 + 0, R5 has no quantity) / 2 = 2.0.
    assert row["orders"] == 2
    assert row["usage_frequency"] == pytest.approx(1.0)
    assert row["usage_volume"] == pytest.approx(2.0)
    # Amount 80,000 + 30,000 = 110,000 JPY.
    assert float(row["order_amount"]) == 110_000
    # CSAT: S3 3 + S4 2 = 5 / 2 = 2.5; only S3 has a scale: 3/5 = 0.6 over 1 answer.
    assert (row["survey_responses"], float(row["score_sum"])) == (2, 5.0)
    assert row["mean_score"] == pytest.approx(2.5)
    assert row["normalised_responses"] == 1
    assert row["mean_normalised_score"] == pytest.approx(0.6)


def test_company_october_without_activity(engagement):
    row = _row(engagement, "2025-10-01")
    # No orders (R6 is after the as-of date) and no answers: counts 0, per-customer and
    # per-answer rates null. Customers to date stay 2, both repeat customers to date:
    # repeat rate 0 / 2 = 0 (nobody ordered in October), cumulative repeat rate 2 / 2 = 1.
    assert (row["ordering_customers"], row["orders"], row["survey_responses"]) == (0, 0, 0)
    assert float(row["order_amount"]) == 0
    assert row["usage_frequency"] is None
    assert row["usage_volume"] is None
    assert row["mean_score"] is None
    assert row["customers_with_orders_to_date"] == 2
    assert row["repeat_rate"] == pytest.approx(0.0)
    assert row["repeat_customers_to_date"] == 2
    assert row["cumulative_repeat_rate"] == pytest.approx(1.0)


def test_industry_august(engagement):
    # Manufacturing = A1: 2 orders, repeat 1 / 1; frequency 2 / 1 = 2; 150,000 JPY; CSAT 4.
    manufacturing = _row(engagement, "2025-08-01", "industry", "manufacturing")
    assert (manufacturing["ordering_customers"], manufacturing["repeat_customers"]) == (1, 1)
    assert manufacturing["repeat_rate"] == pytest.approx(1.0)
    assert manufacturing["usage_frequency"] == pytest.approx(2.0)
    assert float(manufacturing["order_amount"]) == 150_000
    assert manufacturing["mean_score"] == pytest.approx(4.0)
    # Retail = A3: 1 order, not yet a repeat customer: 0 / 1; 1,000 USD x 150 = 150,000 JPY.
    retail = _row(engagement, "2025-08-01", "industry", "retail")
    assert (retail["ordering_customers"], retail["repeat_customers"]) == (1, 0)
    assert retail["repeat_rate"] == pytest.approx(0.0)
    assert retail["usage_frequency"] == pytest.approx(1.0)
    assert float(retail["order_amount"]) == 150_000
    assert retail["mean_score"] == pytest.approx(5.0)


def test_company_fiscal_quarter(engagement):
    # Fiscal Q2 2025 (2025-07-01 .. 09-30) holds R1-R5 and S1-S4. Recomputed for the quarter,
    # not summed from August and September: ordering customers A1 and A3 = 2 (the months
    # count 2 + 2); by 09-30 A1 has 3 orders and A3 2 -> both repeat: 2 / 2 = 1.0.
    row = _row(engagement, "2025-07-01", grain="quarter")
    assert (row["ordering_customers"], row["repeat_customers"]) == (2, 2)
    assert (row["customers_with_orders_to_date"], row["repeat_customers_to_date"]) == (2, 2)
    assert row["repeat_rate"] == pytest.approx(1.0)
    assert row["cumulative_repeat_rate"] == pytest.approx(1.0)
    # Usage frequency 5 orders / 2 customers = 2.5 (the months give 1.5 and 1.0); volume
    # (2 + 1 + 3 + 4 + 0) / 2 = 5.0; amount 300,000 + 110,000 = 410,000 JPY.
    assert row["orders"] == 5
    assert row["usage_frequency"] == pytest.approx(2.5)
    assert float(row["quantity"]) == 10
    assert row["usage_volume"] == pytest.approx(5.0)
    assert float(row["order_amount"]) == 410_000
    # CSAT: 4 + 5 + 3 + 2 = 14 over 4 answers = 3.5; normalised (0.8 + 1.0 + 0.6) / 3 = 0.8.
    assert (row["survey_responses"], float(row["score_sum"])) == (4, 14.0)
    assert row["mean_score"] == pytest.approx(3.5)
    assert row["normalised_responses"] == 3
    assert row["normalised_score_sum"] == pytest.approx(2.4)
    assert row["mean_normalised_score"] == pytest.approx(0.8)
    # Fiscal Q3 (from 2025-10-01, holding the as-of date): nothing ordered, customers to date 2.
    row = _row(engagement, "2025-10-01", grain="quarter")
    assert (row["ordering_customers"], row["orders"], row["usage_frequency"]) == (0, 0, None)
    assert (row["customers_with_orders_to_date"], row["repeat_rate"]) == (2, 0.0)


def test_industry_fiscal_quarter(engagement):
    # Retail = A3: R3 (August) and R5 (September) -> 1 ordering customer with 2 orders in the
    # quarter: frequency 2 / 1 = 2.0 (1.0 in each month), repeat 1 / 1.
    retail = _row(engagement, "2025-07-01", "industry", "retail", grain="quarter")
    assert (retail["ordering_customers"], retail["repeat_customers"], retail["orders"]) == (1, 1, 2)
    assert retail["usage_frequency"] == pytest.approx(2.0)
    assert retail["repeat_rate"] == pytest.approx(1.0)
    # 150,000 (R3) + 30,000 (R5); quantity 3 + 0 -> volume 3.0.
    assert float(retail["order_amount"]) == 180_000
    assert retail["usage_volume"] == pytest.approx(3.0)
    # Manufacturing = A1: R1, R2, R4 -> frequency 3 / 1 = 3.0.
    manufacturing = _row(engagement, "2025-07-01", "industry", "manufacturing", grain="quarter")
    assert (manufacturing["ordering_customers"], manufacturing["orders"]) == (1, 3)
    assert manufacturing["usage_frequency"] == pytest.approx(3.0)


def test_company_iso_weeks(engagement):
    # Week 2025-08-18 .. 08-24: A1's R2 (8/20), its second order -> repeat 1 / 1; A3 has not
    # ordered yet (R3 on 8/25), so customers to date are 1 (the month of August says 2).
    row = _row(engagement, "2025-08-18", grain="week")
    assert (row["ordering_customers"], row["repeat_customers"]) == (1, 1)
    assert row["customers_with_orders_to_date"] == 1
    assert row["repeat_rate"] == pytest.approx(1.0)
    assert (row["orders"], row["usage_frequency"]) == (1, pytest.approx(1.0))
    # Week 2025-08-25 .. 08-31: A3's first order R3 -> 1 ordering, not a repeat customer;
    # customers to date 2 -> repeat rate 0 / 2; repeat customers to date 1 (A1).
    row = _row(engagement, "2025-08-25", grain="week")
    assert (row["ordering_customers"], row["repeat_customers"]) == (1, 0)
    assert (row["customers_with_orders_to_date"], row["repeat_customers_to_date"]) == (2, 1)
    assert row["repeat_rate"] == pytest.approx(0.0)
    assert row["cumulative_repeat_rate"] == pytest.approx(0.5)
    # Weeks run from the one holding the first activity (R1 on Tuesday 8/5 -> week of 8/4) to
    # the one holding the as-of date (Friday 10/31 -> week of 10/27): 13 weeks.
    weeks = engagement.execute(
        "select min(period_start_date)::varchar, max(period_start_date)::varchar, count(*) "
        "from kpi_customer_engagement where period_grain = 'week' and scope_type = 'company'"
    ).fetchone()
    assert weeks == ("2025-08-04", "2025-10-27", 13)


def test_every_grain_present(engagement):
    # Orders and answers are dated: every grain, from the first activity's period to the as-of
    # date's. Days: 2025-08-05 .. 2025-10-31 = 88; fiscal years: FY2025 only.
    counts = dict(
        engagement.execute(
            "select period_grain, count(*) from kpi_customer_engagement "
            "where scope_type = 'company' group by 1"
        ).fetchall()
    )
    assert counts == {"day": 88, "week": 13, "month": 3, "quarter": 2, "fiscal_year": 1}
    fiscal_year = _row(engagement, "2025-04-01", grain="fiscal_year")
    assert (fiscal_year["ordering_customers"], fiscal_year["orders"]) == (2, 5)


def test_mart_is_empty_without_orders_or_surveys(tiny_run):
    # The tiny fixture as is (the session's run of it): neither optional export -> the
    # pipeline still publishes and the mart exists with no rows.
    settings, outcome = tiny_run
    assert not {"orders.csv", "satisfaction_surveys.csv"} & {p.name for p in TINY.iterdir()}
    assert outcome.success, outcome
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        count = con.execute("select count(*) from kpi_customer_engagement").fetchone()
    assert count == (0,)


def test_order_revenue_in_the_scorecard(engagement):
    def revenue(grain: str, start: str, scope_type: str) -> dict:
        return dict(
            engagement.execute(
                "select scope_id, kpi_value from kpi_scorecard where kpi_code = 'order_revenue' "
                "and period_grain = ? and period_start_date = ? and scope_type = ?",
                [grain, start, scope_type],
            ).fetchall()
        )

    # Fiscal Q2 (July-September): R1 100,000 + R2 50,000 + R3 1,000 USD x 150 + R4 80,000 +
    # R5 30,000 = 410,000 JPY; R6 (5 November) is after the as-of date.
    assert revenue("quarter", "2025-07-01", "company") == {"company": 410_000}
    assert revenue("month", "2025-08-01", "company") == {"company": 300_000}
    # A1 (manufacturing): R1, R2, R4; A3 (retail): R3, R5. Every order is for product "plan".
    assert revenue("quarter", "2025-07-01", "industry") == {
        "manufacturing": 230_000,
        "retail": 180_000,
    }
    assert revenue("quarter", "2025-07-01", "product") == {"plan": 410_000}
