"""Ingestion assets: one per canonical entity, each landing file -> a typed raw table; one per
Salesforce and HubSpot object, its export files (or synced table) landed verbatim in
raw_salesforce.<object> / raw_hubspot.<object>, which the dbt rules of the CRM read."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.lib.asset_groups import LANDING, RAW
from orchestration.lib.canonical_schema import ENTITIES, ENTITY_ORDER
from orchestration.lib.crm_landing import CONFIG_TABLE, Crm, CrmSource, land_crm
from orchestration.lib.incremental import full_refresh_requested
from orchestration.lib.landing_state import remember_loaded
from orchestration.lib.loader import (
    LandingFileError,
    converted_files,
    discover_files,
    landing_changes,
    load_entity,
    new_load_id,
    precheck_landing,
    record_conversions,
    record_unmatched_files,
    unmatched_files,
)
from orchestration.lib.progress import report as progress
from orchestration.lib.reference import load_jp_public_holidays
from orchestration.lib.run_lock import mark_phase
from orchestration.resources import WarehouseResource
from orchestration.sources.base import MappingError
from orchestration.sources.hubspot import CONFIG_KEYS as HUBSPOT_CONFIG_KEYS
from orchestration.sources.hubspot import HUBSPOT
from orchestration.sources.hubspot import crm_source as hubspot_source
from orchestration.sources.registry import (
    RULES_IN_DBT,
    convert_sources,
    discover_sources,
    precheck_sources,
)
from orchestration.sources.salesforce import CONFIG_KEYS as SALESFORCE_CONFIG_KEYS
from orchestration.sources.salesforce import SALESFORCE, crm_source

INGESTION_GROUP = RAW
CONVERTED_SOURCES_KEY = dg.AssetKey(["converted", "sources"])
LANDING_SOURCES_KEY = dg.AssetKey(["landing", "sources"])


def landing_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", entity])


# The landing files, drawn as the source (external) assets the raw load reads: nothing in this
# project materialises them; the exports are put there by people or a sync job.
LANDING_SPECS = [
    dg.AssetSpec(
        landing_asset_key(name),
        group_name=LANDING,
        description=f"Landing files {name}.csv and {name}/*.csv (canonical format, "
        "docs/canonical_format.md), read by the raw load.",
        kinds={"csv"},
    )
    for name in ENTITY_ORDER
] + [
    dg.AssetSpec(
        LANDING_SOURCES_KEY,
        group_name=LANDING,
        description="Source folders of the landing directory (each with a source.yml): mapped "
        "SFA or agency exports, Salesforce and HubSpot exports.",
        kinds={"csv", "yaml"},
    )
]


def crm_asset_key(schema: str, table: str) -> dg.AssetKey:
    """The key of a landed CRM object: the dbt source of the same table maps onto it."""
    return dg.AssetKey([schema, table])


SALESFORCE_KEYS = [crm_asset_key(SALESFORCE.schema, obj.table) for obj in SALESFORCE.objects]
SALESFORCE_CONFIG_KEY = crm_asset_key(SALESFORCE.schema, CONFIG_TABLE)
HUBSPOT_KEYS = [crm_asset_key(HUBSPOT.schema, obj.table) for obj in HUBSPOT.objects]
HUBSPOT_CONFIG_KEY = crm_asset_key(HUBSPOT.schema, CONFIG_TABLE)
SALESFORCE_SPECS = [
    dg.AssetSpec(
        crm_asset_key(SALESFORCE.schema, obj.table),
        group_name=INGESTION_GROUP,
        deps=[LANDING_SOURCES_KEY],
        description=f"{SALESFORCE.schema}.{obj.table}: Salesforce {obj.name} as exported "
        f"({obj.file_name} of every `type: salesforce` source folder, or the synced table), "
        "every column text, Fivetran column names, audit columns (orchestration/lib/"
        "crm_landing.py).",
        kinds={"duckdb", "salesforce"},
    )
    for obj in SALESFORCE.objects
] + [
    dg.AssetSpec(
        SALESFORCE_CONFIG_KEY,
        group_name=INGESTION_GROUP,
        deps=[LANDING_SOURCES_KEY],
        description=f"{SALESFORCE.schema}.{CONFIG_TABLE}: the value maps and options of every "
        "Salesforce source.yml as rows (source_system, config_key, entry_key, attribute, value).",
        kinds={"duckdb", "yaml"},
    )
]
HUBSPOT_SPECS = [
    dg.AssetSpec(
        crm_asset_key(HUBSPOT.schema, obj.table),
        group_name=INGESTION_GROUP,
        deps=[LANDING_SOURCES_KEY],
        description=f"{HUBSPOT.schema}.{obj.table}: the HubSpot {obj.name} export files of "
        "every `type: hubspot` source folder (CSV or .xlsx, or the synced table) as exported, "
        "every column text, named by HubSpot internal property names, audit columns "
        "(orchestration/sources/hubspot.py, orchestration/lib/crm_landing.py).",
        kinds={"duckdb", "hubspot"},
    )
    for obj in HUBSPOT.objects
] + [
    dg.AssetSpec(
        HUBSPOT_CONFIG_KEY,
        group_name=INGESTION_GROUP,
        deps=[LANDING_SOURCES_KEY],
        description=f"{HUBSPOT.schema}.{CONFIG_TABLE}: the value maps and options of every "
        "HubSpot source.yml as rows, and the stage and pipeline labels of every landed "
        '`Date entered "<Stage> (<Pipeline>)"` column (config_key date_entered_columns).',
        kinds={"duckdb", "yaml"},
    )
]
# The CRMs whose sources land verbatim before they are converted: the CRM, the source.yml
# keys written to its _config table, and how a source folder is described for landing.
LANDED_CRMS: tuple[tuple[Crm, tuple[str, ...], Callable[[Path, dict, str], CrmSource]], ...] = (
    (SALESFORCE, SALESFORCE_CONFIG_KEYS, crm_source),
    (HUBSPOT, HUBSPOT_CONFIG_KEYS, hubspot_source),
)


@dg.multi_asset(
    specs=[
        *SALESFORCE_SPECS,
        *HUBSPOT_SPECS,
        dg.AssetSpec(
            CONVERTED_SOURCES_KEY,
            group_name=INGESTION_GROUP,
            deps=[LANDING_SOURCES_KEY],
            description="Exports in source folders of the landing directory (mapped Japanese "
            "SFA or agency files, each with a source.yml) converted to "
            "canonical CSV files with the original file and row kept; rejected input rows go to "
            "raw._quarantine. First checks every canonical landing file (encoding, header) and "
            "source.yml and fails with one error listing every problem, so a bad input stops "
            "the run before anything is converted; landing files that match no entity are "
            "recorded in raw._unmatched_files. Salesforce and HubSpot sources are landed "
            "verbatim (raw_salesforce.*, raw_hubspot.*) and not converted here: their business "
            "rules are the dbt models int_salesforce__* and int_hubspot__* (intermediate/crm, "
            "intermediate/crm_hubspot), and the rows they reject reach raw._quarantine after the "
            "dbt build.",
            kinds={"python", "csv"},
        ),
    ],
    name="converted__sources",  # the step name the single asset had (its key, converted/sources)
)
def converted_sources(context: AssetExecutionContext, warehouse: WarehouseResource):
    import duckdb

    mark_phase("convert")
    progress("load", "loading raw tables: checking the landing folder, landing CRM exports")
    settings = warehouse.settings()
    settings.working_db.parent.mkdir(parents=True, exist_ok=True)
    remember_loaded(settings)  # what this run loads; the sensor's baseline once published
    load_id = context.run.run_id or new_load_id()
    unmatched = unmatched_files(settings.landing_dir)
    with duckdb.connect(str(settings.working_db)) as con:
        record_unmatched_files(con, unmatched, load_id)
    for path, reason in unmatched:
        context.log.warning(f"Not loaded: {path}: {reason} (see raw._unmatched_files).")
    problems = precheck_landing(settings.landing_dir)
    source_problems = precheck_sources(settings.landing_dir)
    conversions, landed = [], []
    with duckdb.connect(str(settings.working_db)) as con:
        if not source_problems:
            try:
                folders = discover_sources(settings.landing_dir)
                for crm, config_keys, describe in LANDED_CRMS:
                    sources: list[CrmSource] = [
                        describe(s.folder, s.config, s.source_system)
                        for s in folders
                        if s.source_type == crm.name
                    ]
                    landed += land_crm(
                        con, crm, sources, load_id, config_keys, context.log.info, MappingError
                    )
                conversions = convert_sources(
                    settings.landing_dir, settings.converted_dir, context.log.info
                )
            except (MappingError, LandingFileError) as error:
                source_problems.append(str(error))
        problems += source_problems
        if problems:
            raise LandingFileError(
                f"{len(problems)} problem(s) in the landing folder {settings.landing_dir}; "
                "nothing was loaded. Fix them all and run again:\n\n" + "\n\n".join(problems)
            )
        read, rejected = record_conversions(con, conversions, load_id)
    if rejected:
        context.log.warning(
            f"{rejected:,} of {read:,} source rows rejected; see raw._quarantine "
            "(entity like 'source:%') for file, row and reason."
        )
    for crm, _, _ in LANDED_CRMS:
        for obj in crm.objects:
            mine = [r for r in landed if r.entity == f"{crm.name}.{obj.table}"]
            yield dg.MaterializeResult(
                asset_key=crm_asset_key(crm.schema, obj.table),
                metadata={
                    "files": dg.MetadataValue.json([r.source_file for r in mine]),
                    "rows_read": sum(r.rows_read for r in mine),
                    "rows_quarantined": sum(r.rows_quarantined for r in mine),
                    "dagster/row_count": sum(r.rows_loaded for r in mine),
                },
            )
        yield dg.MaterializeResult(asset_key=crm_asset_key(crm.schema, CONFIG_TABLE))
    yield dg.MaterializeResult(
        asset_key=CONVERTED_SOURCES_KEY,
        metadata={
            "sources": dg.MetadataValue.json([c.source_system for c in conversions]),
            "source_rows_read": read,
            "source_rows_rejected": rejected,
            "unmatched_files": dg.MetadataValue.json([path for path, _ in unmatched]),
        },
    )


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _build_entity_asset(entity_name: str) -> dg.AssetsDefinition:
    entity = ENTITIES[entity_name]

    @dg.asset(
        key=raw_asset_key(entity_name),
        deps=[landing_asset_key(entity_name), CONVERTED_SOURCES_KEY],
        group_name=INGESTION_GROUP,
        description=f"raw.{entity_name}: {entity.description} Loaded from the landing files "
        f"{entity_name}.csv and {entity_name}/*.csv; bad rows go to raw._quarantine. New and "
        "changed files are loaded, unchanged ones kept (raw._landed_files; "
        "SALES_KPI_FULL_REFRESH=1 rebuilds from every file).",
        kinds={"duckdb", "csv"},
    )
    def _ingest(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        import duckdb

        mark_phase("load")
        settings = warehouse.settings()
        settings.working_db.parent.mkdir(parents=True, exist_ok=True)
        files = discover_files(settings.landing_dir, entity_name)
        files += [path for path, _ in converted_files(settings.converted_dir, entity_name)]
        # A Salesforce or HubSpot source feeds users and opportunities through dbt
        # (int_canonical__*).
        rules_in_dbt = any(
            s.source_type in RULES_IN_DBT for s in discover_sources(settings.landing_dir)
        )
        if (
            not files
            and not rules_in_dbt
            and entity.required_columns
            and entity_name in {"users", "opportunities"}
        ):
            context.log.warning(
                f"No landing file for {entity_name} in {settings.landing_dir}: "
                f"put {entity_name}.csv there (see docs/canonical_format.md)."
            )
        load_id = context.run.run_id or new_load_id()
        full_refresh = full_refresh_requested(settings.full_refresh, context.run.tags)
        with duckdb.connect(str(settings.working_db), config=settings.duckdb_config()) as con:
            results = load_entity(
                con,
                entity_name,
                settings.landing_dir,
                load_id,
                context.log.info,
                settings.converted_dir,
                full_refresh=full_refresh,
            )
            changes = landing_changes(con, entity_name)
            (rows,) = con.execute(f'select count(*) from raw."{entity_name}"').fetchone()
        read = sum(r.rows_read for r in results)
        loaded = sum(r.rows_loaded for r in results)
        quarantined = sum(r.rows_quarantined for r in results)
        progress(
            "load",
            f"raw.{entity_name}: {changes['unchanged']} files unchanged (kept), "
            f"{len(results)} loaded: {loaded:,} rows loaded"
            + (f", {quarantined:,} quarantined" if quarantined else "")
            + f"; {rows:,} rows in all",
        )
        if quarantined:
            context.log.warning(
                f"{entity_name}: {quarantined:,} of {read:,} rows quarantined; see "
                f"raw._quarantine (entity = '{entity_name}') for file, row and reason."
            )
        return dg.MaterializeResult(
            metadata={
                "files": dg.MetadataValue.json([r.source_file for r in results]),
                "files_unchanged": changes["unchanged"],
                "files_removed": changes["removed"],
                "full_refresh": full_refresh,
                "rows_read": read,
                "rows_loaded": loaded,
                "rows_quarantined": quarantined,
                "extra_columns_ignored": dg.MetadataValue.json(
                    sorted({c for r in results for c in r.extra_columns})
                ),
                "dagster/row_count": rows,
            }
        )

    return _ingest


@dg.asset(
    key=raw_asset_key("jp_public_holidays"),
    group_name=INGESTION_GROUP,
    description="raw.jp_public_holidays: Japanese public holidays from the `holidays` library.",
    kinds={"duckdb", "python"},
)
def jp_public_holidays(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    settings.working_db.parent.mkdir(parents=True, exist_ok=True)
    count = load_jp_public_holidays(settings.working_db)
    return dg.MaterializeResult(metadata={"dagster/row_count": count})


entity_assets = [_build_entity_asset(name) for name in ENTITY_ORDER]
ingestion_assets = [*LANDING_SPECS, converted_sources, *entity_assets, jp_public_holidays]
