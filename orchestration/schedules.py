"""The pipeline job and its nightly schedule (02:00 Asia/Tokyo by default).

Each tick's run is computed as of the tick's date in the configured time zone (run tag
`sales_kpi/as_of_date`): a tick at 02:00 JST on 1 November (2025-10-31T17:00Z) computes the
marts as of 2025-11-01. A tick whose inputs (landing files, as-of date, dbt vars, code) are
those of the published file starts nothing and says so (orchestration/lib/run_inputs.py).
"""

from __future__ import annotations

import dagster as dg

from orchestration.lib.run_inputs import (
    AS_OF_SOURCE_TAG,
    AS_OF_TAG,
    FORCE_IN_DAGSTER,
    matching_publication,
    run_inputs,
    scheduled_date,
    skip_message,
)
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

    @dg.schedule(
        name="nightly_sales_kpi",
        job=sales_kpi_pipeline,
        cron_schedule=settings.nightly_cron,
        execution_timezone=settings.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Rebuild and publish the marts every night ({settings.nightly_cron}, "
        f"{settings.timezone}), as of the night's date in {settings.timezone}; skipped when "
        "nothing changed since the published run.",
    )
    def nightly_sales_kpi(context: dg.ScheduleEvaluationContext):
        current = Settings.from_env()  # the landing folder and vars as they are at the tick
        as_of = scheduled_date(context.scheduled_execution_time, settings.timezone)
        tags = {
            AS_OF_TAG: as_of.isoformat(),
            AS_OF_SOURCE_TAG: f"the nightly schedule's date in {settings.timezone}",
            "trigger": "nightly_schedule",
        }
        inputs = run_inputs(current, tags)
        same = matching_publication(current, inputs)
        if same is not None:
            return dg.SkipReason(skip_message(current, same, FORCE_IN_DAGSTER))
        return dg.RunRequest(tags=tags)

    return nightly_sales_kpi
