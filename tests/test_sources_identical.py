"""The same deals exported four ways give the same KPI marts.

tests/fixtures/tiny is the canonical CSV export; salesforce_tiny, hubspot_tiny and mapped_jp
express the same business facts as a Salesforce Data Export, HubSpot exports and a
CP932 Japanese SFA export. Subscriptions and spend are not CRM data: every landing folder
gets the canonical subscriptions.csv, spend.csv, accounts.csv and agencies.csv beside the source,
and the accounts from the CRM merge with the canonical ones on their 法人番号 (the
declared merge key), so subscriptions find their customers.

Ids differ between sources (they are namespaced), so marts are compared on what does not
name a record: KPI values by month, step, lead source, channel and cohort. The Salesforce
fixture also comes as a synced schema (Fivetran tables in a DuckDB file) and gives the same
marts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import FIXTURES, TINY, TINY_AS_OF

SOURCES = {
    "salesforce": FIXTURES / "salesforce_tiny",
    "hubspot": FIXTURES / "hubspot_tiny",
    "jp_sfa": FIXTURES / "mapped_jp",
}
NON_CRM = ("subscriptions.csv", "spend.csv", "accounts.csv", "agencies.csv")

QUERIES = {
    "funnel": """
        select analysis_basis, period_grain, period_start_date, lead_source, channel,
               conversion_step,
               sum(numerator_count), sum(denominator_count)
        from kpi_funnel_conversion
        where conversion_step in ('lead_to_opportunity', 'opportunity_to_won')
           or analysis_basis = 'cohort'
        group by all order by all
    """,
    "cac": """
        select period_grain, period_start_date, channel, sum(spend_amount), sum(new_customers),
               sum(new_mrr_amount), currency
        from kpi_cac group by all order by all
    """,
    "retention": """
        select period_grain, cohort_period_start_date, periods_since_acquisition, cohort_customers,
               active_customers, cohort_starting_mrr, cohort_mrr, net_revenue_retention_rate
        from kpi_retention order by all
    """,
    "sales_cycle": """
        select won_date, days_opportunity_to_won, days_lead_to_won, lead_source, channel,
               amount, currency
        from kpi_sales_cycle_deals order by all
    """,
}


def _marts(published: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(published), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in QUERIES.items()}


def _run(base: Path, landing: Path) -> dict[str, list[tuple]]:
    settings = settings_for(base, landing, TINY_AS_OF)
    outcome = run_pipeline(settings)
    assert outcome.success, outcome
    return _marts(settings.published_db)


@pytest.fixture(scope="module")
def canonical_marts(tiny_run):
    """The marts of the canonical export: the session's run of tests/fixtures/tiny (same
    as-of date and settings as the source runs below)."""
    settings, outcome = tiny_run
    assert outcome.success, outcome
    return _marts(settings.published_db)


@pytest.mark.parametrize("source_system", sorted(SOURCES))
def test_source_export_gives_the_same_marts(source_system, canonical_marts, tmp_path):
    fixture = SOURCES[source_system]
    if not fixture.exists():
        pytest.fail(f"fixture {fixture} is missing")
    landing = tmp_path / "landing"
    shutil.copytree(fixture, landing / source_system)
    for name in NON_CRM:
        shutil.copy(TINY / name, landing / name)
    marts = _run(tmp_path, landing)
    for name, rows in canonical_marts.items():
        assert marts[name] == rows, name


def fivetran_database(path: Path) -> Path:
    """The Salesforce fixture as a Fivetran sync in a DuckDB file: schema `salesforce`, one
    table per object named in snake case, snake-case columns, deletions in `_fivetran_deleted`
    (no is_deleted column), no audit columns."""
    from orchestration.lib.crm_landing import AUDIT_COLUMNS, land_crm, snake_case
    from orchestration.sources.salesforce import SALESFORCE, crm_source

    fixture = SOURCES["salesforce"]
    config = yaml.safe_load((fixture / "source.yml").read_text(encoding="utf-8"))
    with duckdb.connect(str(path)) as con:
        land_crm(con, SALESFORCE, [crm_source(fixture, config, "salesforce")], "fixture")
        con.execute("create schema salesforce")
        for obj in SALESFORCE.objects:
            if not (fixture / obj.file_name).exists():
                continue
            deleted = "is_deleted" in {snake_case(f) for f in obj.fields}
            dropped = ["_fivetran_deleted", *AUDIT_COLUMNS] + (["is_deleted"] if deleted else [])
            flag = "is_deleted = 'true'" if deleted else "false"
            con.execute(
                f'create table salesforce."{obj.table}" as '
                f"select * exclude ({', '.join(dropped)}), {flag} as _fivetran_deleted "
                f'from raw_salesforce."{obj.table}" order by _row_number'
            )
        con.execute("drop schema raw_salesforce cascade")
        con.execute("drop schema raw cascade")
    return path


def test_synced_salesforce_schema_gives_the_same_marts(canonical_marts, tmp_path):
    """A source.yml naming a synced schema (`schema:` + `database:`) instead of export files:
    the same tables as a Fivetran sync give the same marts as the Data Export."""
    landing = tmp_path / "landing"
    folder = landing / "salesforce"
    folder.mkdir(parents=True)
    fivetran_database(tmp_path / "fivetran.duckdb")
    config = yaml.safe_load((SOURCES["salesforce"] / "source.yml").read_text(encoding="utf-8"))
    config.update(schema="salesforce", database=str(tmp_path / "fivetran.duckdb"))
    (folder / "source.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    for name in NON_CRM:
        shutil.copy(TINY / name, landing / name)
    marts = _run(tmp_path, landing)
    for name, rows in canonical_marts.items():
        assert marts[name] == rows, name
