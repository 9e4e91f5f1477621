"""The one Dagster `Definitions` of the project: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ingestion import ingestion_assets
from orchestration.assets.publication import published_marts
from orchestration.assets.quality import QualityGateResource, quality_checks
from orchestration.assets.transform import dbt_resource, sales_kpi_dbt_assets
from orchestration.resources import WarehouseResource
from orchestration.schedules import nightly_schedule, sales_kpi_pipeline
from orchestration.sensors import landing_files_sensor

defs = dg.Definitions(
    assets=[*ingestion_assets, sales_kpi_dbt_assets, published_marts],
    asset_checks=quality_checks,
    jobs=[sales_kpi_pipeline],
    schedules=[nightly_schedule()],
    sensors=[landing_files_sensor],
    resources={
        "dbt": dbt_resource(),
        "warehouse": WarehouseResource(),
        "quality_gate": QualityGateResource(),
    },
    executor=dg.in_process_executor,
)
