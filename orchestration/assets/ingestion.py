"""Ingestion assets: one per canonical entity, each landing file -> a typed raw table."""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.lib.canonical_schema import ENTITIES, ENTITY_ORDER
from orchestration.lib.loader import (
    LandingFileError,
    converted_files,
    discover_files,
    load_entity,
    new_load_id,
    precheck_landing,
    record_conversions,
    record_unmatched_files,
    unmatched_files,
)
from orchestration.lib.reference import load_jp_public_holidays
from orchestration.lib.run_lock import mark_phase
from orchestration.resources import WarehouseResource
from orchestration.sources.base import MappingError
from orchestration.sources.registry import convert_sources, precheck_sources

INGESTION_GROUP = "ingestion"
CONVERTED_SOURCES_KEY = dg.AssetKey(["converted", "sources"])


@dg.asset(
    key=CONVERTED_SOURCES_KEY,
    group_name=INGESTION_GROUP,
    description="CRM exports in source folders of the landing directory (Salesforce, HubSpot, "
    "mapped Japanese SFA or agency files, each with a source.yml) converted to canonical CSV "
    "files with the original file and row kept; rejected input rows go to raw._quarantine. "
    "First checks every canonical landing file (encoding, header) and source.yml and fails "
    "with one error listing every problem, so a bad input stops the run before any load; "
    "landing files that match no entity are recorded in raw._unmatched_files.",
    kinds={"python", "csv"},
)
def converted_sources(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    import duckdb

    mark_phase("convert")
    settings = warehouse.settings()
    settings.working_db.parent.mkdir(parents=True, exist_ok=True)
    load_id = context.run.run_id or new_load_id()
    unmatched = unmatched_files(settings.landing_dir)
    with duckdb.connect(str(settings.working_db)) as con:
        record_unmatched_files(con, unmatched, load_id)
    for path, reason in unmatched:
        context.log.warning(f"Not loaded: {path}: {reason} (see raw._unmatched_files).")
    problems = precheck_landing(settings.landing_dir)
    source_problems = precheck_sources(settings.landing_dir)
    conversions = []
    if not source_problems:
        try:
            conversions = convert_sources(
                settings.landing_dir, settings.converted_dir, progress=context.log.info
            )
        except MappingError as error:
            source_problems.append(str(error))
    problems += source_problems
    if problems:
        raise LandingFileError(
            f"{len(problems)} problem(s) in the landing folder {settings.landing_dir}; nothing "
            "was loaded. Fix them all and run again:\n\n" + "\n\n".join(problems)
        )
    with duckdb.connect(str(settings.working_db)) as con:
        read, rejected = record_conversions(con, conversions, load_id)
    if rejected:
        context.log.warning(
            f"{rejected:,} of {read:,} source rows rejected; see raw._quarantine "
            "(entity like 'source:%') for file, row and reason."
        )
    return dg.MaterializeResult(
        metadata={
            "sources": dg.MetadataValue.json([c.source_system for c in conversions]),
            "source_rows_read": read,
            "source_rows_rejected": rejected,
            "unmatched_files": dg.MetadataValue.json([path for path, _ in unmatched]),
        }
    )


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def _build_entity_asset(entity_name: str) -> dg.AssetsDefinition:
    entity = ENTITIES[entity_name]

    @dg.asset(
        key=raw_asset_key(entity_name),
        deps=[CONVERTED_SOURCES_KEY],
        group_name=INGESTION_GROUP,
        description=f"raw.{entity_name}: {entity.description} Loaded from the landing files "
        f"{entity_name}.csv and {entity_name}/*.csv; bad rows go to raw._quarantine.",
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
        if not files and entity.required_columns and entity_name in {"users", "opportunities"}:
            context.log.warning(
                f"No landing file for {entity_name} in {settings.landing_dir}: "
                f"put {entity_name}.csv there (see docs/canonical_format.md)."
            )
        load_id = context.run.run_id or new_load_id()
        with duckdb.connect(str(settings.working_db)) as con:
            results = load_entity(
                con,
                entity_name,
                settings.landing_dir,
                load_id,
                context.log.info,
                settings.converted_dir,
            )
        read = sum(r.rows_read for r in results)
        loaded = sum(r.rows_loaded for r in results)
        quarantined = sum(r.rows_quarantined for r in results)
        if quarantined:
            context.log.warning(
                f"{entity_name}: {quarantined:,} of {read:,} rows quarantined; see "
                f"raw._quarantine (entity = '{entity_name}') for file, row and reason."
            )
        return dg.MaterializeResult(
            metadata={
                "files": dg.MetadataValue.json([r.source_file for r in results]),
                "rows_read": read,
                "rows_loaded": loaded,
                "rows_quarantined": quarantined,
                "extra_columns_ignored": dg.MetadataValue.json(
                    sorted({c for r in results for c in r.extra_columns})
                ),
                "dagster/row_count": loaded,
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
ingestion_assets = [converted_sources, *entity_assets, jp_public_holidays]
