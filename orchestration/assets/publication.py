"""Publication: the gated marts copied atomically into the file BI tools read."""

from datetime import UTC, datetime

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.transform import dbt_asset_keys
from orchestration.engines.base import Publication
from orchestration.lib.asset_groups import PUBLISHED
from orchestration.lib.landing_state import mark_published
from orchestration.lib.progress import report
from orchestration.lib.publish import PUBLISHED_SCHEMAS, publish_marts
from orchestration.lib.run_inputs import FORCE_IN_DAGSTER, matching_publication, skip_message
from orchestration.lib.run_lock import mark_phase
from orchestration.resources import WarehouseResource

PUBLISHED_ASSET_KEY = dg.AssetKey(["published", "marts_duckdb"])


@dg.asset(
    key=PUBLISHED_ASSET_KEY,
    deps=dbt_asset_keys(PUBLISHED_SCHEMAS),
    group_name=PUBLISHED,
    description="The published DuckDB file for BI tools (warehouse/marts.duckdb by default): "
    "the core and marts schemas only, replaced atomically after every quality check passed.",
    kinds={"duckdb"},
)
def published_marts(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    mark_phase("publish")
    report("publish", "publishing the marts (core and marts schemas)")
    settings = warehouse.settings()
    inputs = warehouse.run_inputs()
    data_docs = settings.quality_dir / "data_docs" / "index.html"
    # A run launched by hand (the UI) on the inputs the published file was built from: the
    # marts are the same, so the file is left byte for byte as it is (the CLI, the schedule
    # and the sensor skip such a run before it starts).
    same = None if warehouse.forced() else matching_publication(settings, inputs)
    if same is not None:
        message = skip_message(settings, same, FORCE_IN_DAGSTER)
        context.log.warning(message)
        mark_published(settings)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(settings.published_db)),
                "skipped": message,
                "published_run_id": same["run_id"],
                "as_of_date": inputs.as_of.date.isoformat(),
                "data_docs": dg.MetadataValue.path(str(data_docs)),
            }
        )
    engine = settings.warehouse_engine()
    if not engine.builds_in_working_db:
        # The engine's BI schemas first: a failure there leaves both publications as they were.
        engine_tables = engine.publish(
            Publication(
                published_at=datetime.now(UTC).replace(tzinfo=None),
                run_id=context.run.run_id,
                as_of_date=inputs.as_of.date.isoformat(),
                as_of_date_source=inputs.as_of.source,
                input_key=inputs.key,
            )
        )
        context.log.info(
            f"Published {len(engine_tables)} tables on {engine.describe()} (schemas marts and core)"
        )
    result = publish_marts(
        settings.working_db,
        settings.published_db,
        run_id=context.run.run_id,
        as_of_date=inputs.as_of.date.isoformat(),
        as_of_date_source=inputs.as_of.source,
        input_key=inputs.key,
        config=settings.duckdb_config(),
    )
    mark_published(settings)  # a daemon started afresh does not re-run these files
    context.log.info(
        f"Published {len(result.tables)} tables to {result.path} as of {inputs.as_of.date} "
        f"({inputs.as_of.source})"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "tables": dg.MetadataValue.json(result.tables),
            "as_of_date": inputs.as_of.date.isoformat(),
            "as_of_date_source": inputs.as_of.source,
            "data_docs": dg.MetadataValue.path(str(data_docs)),
        }
    )
