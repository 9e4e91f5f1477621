"""Run the whole pipeline in-process (used by `make demo`, the CLI and the tests)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.lib.settings import Settings
from orchestration.schedules import PIPELINE_JOB_NAME


@dataclass
class PipelineOutcome:
    success: bool
    published: bool
    run_id: str
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)


def apply_settings(settings: Settings) -> None:
    """Export settings as the SALES_KPI_* variables the resources and dbt read."""
    os.environ["SALES_KPI_LANDING_DIR"] = str(settings.landing_dir)
    os.environ["SALES_KPI_WORKING_DB"] = str(settings.working_db)
    os.environ["SALES_KPI_PUBLISHED_DB"] = str(settings.published_db)
    os.environ["SALES_KPI_QUALITY_DIR"] = str(settings.quality_dir)
    os.environ["SALES_KPI_DBT_VARS"] = json.dumps(settings.extra_dbt_vars)
    if settings.as_of_date:
        os.environ["SALES_KPI_AS_OF_DATE"] = settings.as_of_date.isoformat()
    else:
        os.environ.pop("SALES_KPI_AS_OF_DATE", None)


def run_pipeline(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
) -> PipelineOutcome:
    """Materialise every asset and check once; never raises for a failed check or step."""
    apply_settings(settings)
    from orchestration.assets.publication import PUBLISHED_ASSET_KEY
    from orchestration.definitions import defs

    job = defs.resolve_job_def(PIPELINE_JOB_NAME)
    instance = instance or dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    failed_checks = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failed_checks.append(evaluation.asset_check_key.to_user_string())
    failed_steps = [
        event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"
    ]
    published = any(
        event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key == PUBLISHED_ASSET_KEY
        for event in result.all_events
    )
    step_seconds = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS" and event.step_key:
            step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
    return PipelineOutcome(
        success=result.success and not failed_checks and published,
        step_seconds=step_seconds,
        published=published,
        run_id=result.run_id,
        failed_checks=sorted(set(failed_checks)),
        failed_steps=sorted(set(failed_steps)),
    )


def settings_for(
    base: Path,
    landing_dir: Path,
    as_of_date: str | None = None,
    dbt_vars: dict | None = None,
) -> Settings:
    """Settings with every output under `base` (tests, benchmarks)."""
    from datetime import date

    return Settings(
        home=base,
        landing_dir=landing_dir,
        working_db=base / "warehouse" / "working.duckdb",
        published_db=base / "warehouse" / "marts.duckdb",
        quality_dir=base / "warehouse" / "quality",
        as_of_date=date.fromisoformat(as_of_date) if as_of_date else None,
        nightly_cron="0 2 * * *",
        timezone="Asia/Tokyo",
        extra_dbt_vars=dbt_vars or {},
    )
