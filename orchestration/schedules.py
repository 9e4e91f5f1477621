"""The pipeline job and its nightly schedule (02:00 Asia/Tokyo by default)."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.settings import Settings

PIPELINE_JOB_NAME = "sales_kpi_pipeline"

# Everything, in one process: DuckDB allows one writer per file, so steps run one by one.
sales_kpi_pipeline = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Landing files -> raw tables -> dbt models and tests -> quality gate -> "
    "published marts.",
    executor_def=dg.in_process_executor,
)


def nightly_schedule(settings: Settings | None = None) -> dg.ScheduleDefinition:
    settings = settings or Settings.from_env()
    return dg.ScheduleDefinition(
        name="nightly_sales_kpi",
        job=sales_kpi_pipeline,
        cron_schedule=settings.nightly_cron,
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Rebuild and publish the marts every night ({settings.nightly_cron}, "
        f"{settings.timezone}).",
    )
