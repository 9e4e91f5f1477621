"""A sensor that starts the pipeline when files land (new or changed files in the landing dir)
or a synced CRM database a source names (`database:` in its source.yml) changes."""

import hashlib
import json

import dagster as dg

from orchestration.lib.landing_state import landing_fingerprint, last_published
from orchestration.lib.run_inputs import (
    FORCE_IN_DAGSTER,
    as_of_tags,
    matching_publication,
    run_inputs,
    skip_message,
)
from orchestration.lib.settings import Settings
from orchestration.schedules import sales_kpi_pipeline

__all__ = ["landing_files_sensor", "landing_fingerprint"]


@dg.sensor(
    name="landing_files_sensor",
    job=sales_kpi_pipeline,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the pipeline when a file is added to or changed in the landing dir, or "
    "a synced CRM database named by a source.yml (`database:`) changes; not when the published "
    "file was already built from these files.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    settings = Settings.from_env()
    landing_dir = settings.landing_dir
    current = landing_fingerprint(landing_dir)
    # A daemon started afresh has no cursor: compare with what the last published run loaded.
    previous = json.loads(context.cursor) if context.cursor else last_published(settings)
    changed = sorted(name for name, stamp in current.items() if previous.get(name) != stamp)
    if not changed:
        return dg.SkipReason(f"No new or changed files in {landing_dir}.")
    cursor = json.dumps(current, sort_keys=True)
    context.update_cursor(cursor)
    # The as-of date the run will use (pinned, the demo's, or today), fixed now and shown on
    # the run; the same inputs as the published file's (e.g. published by the CLI since the
    # cursor was written) start nothing.
    inputs = run_inputs(settings)
    same = matching_publication(settings, inputs)
    if same is not None:
        return dg.SkipReason(skip_message(settings, same, FORCE_IN_DAGSTER))
    return dg.RunRequest(
        run_key=hashlib.sha256(cursor.encode()).hexdigest()[:16],
        tags={
            "trigger": "landing_files",
            "changed_files": ", ".join(changed)[:200],
            **as_of_tags(inputs.as_of),
        },
    )
