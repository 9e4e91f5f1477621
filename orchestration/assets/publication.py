"""Publication: the gated marts copied atomically into the file BI tools read."""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.transform import dbt_asset_keys
from orchestration.lib.asset_groups import PUBLISHED
from orchestration.lib.landing_state import mark_published
from orchestration.lib.progress import report
from orchestration.lib.publish import PUBLISHED_SCHEMAS, publish_marts
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
    result = publish_marts(
        settings.working_db,
        settings.published_db,
        run_id=context.run.run_id,
        as_of_date=settings.as_of_date.isoformat() if settings.as_of_date else None,
    )
    mark_published(settings)  # a daemon started afresh does not re-run these files
    context.log.info(f"Published {len(result.tables)} tables to {result.path}")
    data_docs = settings.quality_dir / "data_docs" / "index.html"
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "tables": dg.MetadataValue.json(result.tables),
            "data_docs": dg.MetadataValue.path(str(data_docs)),
        }
    )
