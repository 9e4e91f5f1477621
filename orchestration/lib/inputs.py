"""Which inputs a run needs: leads or opportunities, everything else is optional.

Every funnel starts from leads (lead KPIs, lead → opportunity conversion) or from
opportunities (deal KPIs: pipeline, win rate, sales cycle, CAC). A deals-only export with no
leads, activities or users file is a valid input: the marts that need the missing files are
empty and `kpi_availability` says why. Only when both leads and opportunities are empty is
there nothing to compute, and the run stops with a message saying where it looked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# At least one of these raw tables must have a row.
REQUIRED_ANY = ("leads", "opportunities")
# The landed CRM objects that feed them without a converter (their rules are dbt models):
# (schema, table); a landed row counts (the dbt rules may still reject it).
REQUIRED_ANY_LANDED = (
    ("raw_salesforce", "lead"),
    ("raw_salesforce", "opportunity"),
    ("raw_hubspot", "contact"),
    ("raw_hubspot", "deal"),
)
# The landed CRM deals and where their currency is: (schema, table, currency column, the
# source.yml key of the source's default currency), read as the dbt rules read them
# (int_salesforce__opportunities_checked, int_hubspot__opportunities_checked; default JPY).
LANDED_CURRENCIES = (
    ("raw_salesforce", "opportunity", "currency_iso_code", "corporate_currency"),
    ("raw_hubspot", "deal", "deal_currency_code", "currency"),
)


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _count(con: duckdb.DuckDBPyConnection, table: str, schema: str = "raw") -> int:
    if not _exists(con, schema, table):
        return 0
    return int(con.execute(f'select count(*) from {schema}."{table}"').fetchall()[0][0])


def _loaded_files(con: duckdb.DuckDBPyConnection, entities: tuple[str, ...]) -> list[tuple]:
    """(entity, file, rows read, rows quarantined) of every file the raw tables now hold
    (raw._landed_files: a file kept unchanged from an earlier load counts too); from a working
    database before incremental loads, the latest load's files (raw._load_log)."""
    placeholders = ", ".join("?" for _ in entities)
    if _exists(con, "raw", "_landed_files"):
        return con.execute(
            f"""
            select entity, landing_file, rows_read, rows_quarantined
            from raw._landed_files
            where entity in ({placeholders})
            order by entity, landing_file
            """,
            list(entities),
        ).fetchall()
    if not _exists(con, "raw", "_load_log"):
        return []
    return con.execute(
        f"""
        select entity, source_file, rows_read, rows_quarantined
        from raw._load_log
        where entity in ({placeholders})
            and load_id = (select max_by(load_id, loaded_at) from raw._load_log)
        order by entity, source_file
        """,
        list(entities),
    ).fetchall()


def missing_required_inputs(working_db: Path, landing_dir: Path) -> str | None:
    """None when raw.leads or raw.opportunities has a row; else what to do, as a message.

    The message names the files looked for in `landing_dir` and, when files were found but
    none of their rows could be loaded, those files and their quarantined row counts.
    """
    with duckdb.connect(str(working_db), read_only=True) as con:
        counts = {table: _count(con, table) for table in REQUIRED_ANY}
        counts.update(
            {
                f"{schema}.{table}": _count(con, table, schema)
                for schema, table in REQUIRED_ANY_LANDED
            }
        )
        if any(counts.values()):
            return None
        loaded = _loaded_files(con, REQUIRED_ANY)
    looked_for = ", ".join(f"{name}.csv, {name}/*.csv" for name in REQUIRED_ANY)
    lines = [
        "No leads and no opportunities were loaded, so no KPI can be computed: every funnel "
        "starts from leads or from opportunities (deals).",
        f"Looked in the landing folder {landing_dir} for {looked_for} (canonical files) and for "
        "source folders (a sub-folder with a source.yml: Salesforce Lead/Opportunity, HubSpot "
        "contacts/deals, a mapping's leads/opportunities files).",
    ]
    for entity, file, read, quarantined in loaded:
        lines.append(
            f"  {entity}: {file}: {read:,} rows read, {quarantined:,} quarantined "
            "(see raw._quarantine for the reason of each)"
        )
    lines.append(
        "What to do: put the deals export (opportunities) or the leads export in the landing "
        "folder (SALES_KPI_LANDING_DIR), or fix the quarantined rows, and run again. Every "
        "other file (activities, users, accounts, spend, targets, ...) is optional."
    )
    return "\n".join(lines)


def single_data_currency(working_db: Path) -> str | None:
    """The one currency of every amount loaded, or None when there are several or none.

    Read from the `currency` column of every raw table that has one (opportunities,
    subscriptions, spend, orders, targets); nulls (count targets) are ignored. Used as the
    reporting currency when the user did not set dbt var `reporting_currency`, so a USD-only
    export reports in USD instead of failing for want of USD → JPY rates.
    """
    from orchestration.lib.canonical_schema import ENTITIES

    tables = [name for name, entity in ENTITIES.items() if "currency" in entity.column_names]
    currencies: set[str] = set()
    with duckdb.connect(str(working_db), read_only=True) as con:
        for table in tables:
            exists = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'raw' and table_name = ?",
                [table],
            ).fetchall()[0][0]
            if exists:
                rows = con.execute(
                    f'select distinct upper(trim(currency)) from raw."{table}" '
                    "where nullif(trim(currency), '') is not null"
                ).fetchall()
                currencies.update(row[0] for row in rows)
        for landed in LANDED_CURRENCIES:
            currencies.update(_landed_crm_currencies(con, *landed))
    return currencies.pop() if len(currencies) == 1 else None


def _landed_crm_currencies(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str, config_key: str
) -> set[str]:
    """The currencies of a CRM's landed deals (their rules are dbt models, so they are in no
    raw canonical table): the deal's currency, else the source's default currency (source.yml
    `config_key`), else JPY."""
    if not _exists(con, schema, table):
        return set()
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    code = f"nullif(trim(o.{column}), '')" if column in columns else "null"
    default = "null"
    if _exists(con, schema, "_config"):
        default = (
            f"(select max(nullif(trim(c.value), '')) from {schema}._config as c "
            f"where c.config_key = '{config_key}' and c.source_system = o._source_system)"
        )
    rows = con.execute(
        f"select distinct upper(coalesce({code}, {default}, 'JPY')) from {schema}.{table} as o"
    ).fetchall()
    return {row[0] for row in rows if row[0]}
