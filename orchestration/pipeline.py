"""Run the whole pipeline in-process (used by `make demo`, the CLI and the tests)."""

from __future__ import annotations

import gc
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.lib.settings import Settings
from orchestration.schedules import PIPELINE_JOB_NAME

# Exceptions whose message tells the user what to change in the landing files or the mapping
# (orchestration.sources.base.MappingError, orchestration.lib.loader.LandingFileError): the
# CLI prints them as they are, without a stack trace.
INPUT_ERROR_CLASSES = frozenset({"MappingError", "LandingFileError"})


@dataclass
class PipelineOutcome:
    """What a run did. `success`: published and no blocking failure. `warnings`: checks that
    failed at WARN severity (dbt tests with `severity: warn`): they never block publication,
    so a run can be published with warnings."""

    success: bool
    published: bool
    run_id: str
    # Checks that failed at ERROR severity (they block publication).
    failed_checks: list[str] = field(default_factory=list)
    # Checks that failed at WARN severity (published anyway), with what they found.
    warnings: list[str] = field(default_factory=list)
    warning_messages: dict[str, str] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)
    # What a failed check found (its "failures" metadata), by check.
    check_messages: dict[str, str] = field(default_factory=dict)
    # Messages of input errors (a wrong mapping, a landing file missing a column), distinct.
    input_errors: list[str] = field(default_factory=list)
    # The first lines of the error of every other failed step (no stack trace), by step.
    step_errors: dict[str, str] = field(default_factory=dict)
    # Set when another run held the run lock: the in-progress message; nothing was run.
    run_in_progress: str | None = None
    # `_publication` of the published file before and after the run (None: no file).
    publication_before: dict | None = None
    publication_after: dict | None = None
    # What the run lock did before the run (a killed run taken over), and stale files removed.
    lock_notes: list[str] = field(default_factory=list)
    # The run's as-of date (YYYY-MM-DD) and where it came from (orchestration/lib/run_inputs.py).
    as_of_date: str | None = None
    as_of_source: str | None = None
    # Set when the inputs were those of the published file: what the run said; nothing ran.
    skipped: str | None = None

    @property
    def published_with_warnings(self) -> bool:
        return self.published and bool(self.warnings)

    @property
    def published_file_unchanged(self) -> bool:
        """The published file is the one that was there before the run (or still absent)."""
        return self.publication_before == self.publication_after


def apply_settings(settings: Settings) -> None:
    """Export settings as the SALES_KPI_* variables the resources and dbt read."""
    os.environ["SALES_KPI_LANDING_DIR"] = str(settings.landing_dir)
    os.environ["SALES_KPI_WORKING_DB"] = str(settings.working_db)
    os.environ["SALES_KPI_PUBLISHED_DB"] = str(settings.published_db)
    os.environ["SALES_KPI_QUALITY_DIR"] = str(settings.quality_dir)
    os.environ["SALES_KPI_DBT_VARS"] = json.dumps(settings.extra_dbt_vars)
    os.environ["SALES_KPI_ENGINE"] = settings.engine
    if settings.as_of_date:
        os.environ["SALES_KPI_AS_OF_DATE"] = settings.as_of_date.isoformat()
    else:
        os.environ.pop("SALES_KPI_AS_OF_DATE", None)


def input_error_message(error: object) -> str | None:
    """The message of the MappingError / LandingFileError behind a step failure, else None.

    Dagster wraps an asset's exception (DagsterExecutionStepExecutionError) and keeps the
    original as the `cause` (or `context`) of its serialised error info.
    """
    seen = 0
    pending = [error]
    while pending and seen < 20:
        info = pending.pop(0)
        if info is None:
            continue
        seen += 1
        if getattr(info, "cls_name", None) in INPUT_ERROR_CLASSES:
            message = str(getattr(info, "message", "")).strip()
            # Dagster prefixes the (qualified) class name: "pkg.module.MappingError: ...".
            return re.sub(rf"^[\w.]*\b{info.cls_name}: ", "", message, count=1)
        pending += [getattr(info, "cause", None), getattr(info, "context", None)]
    return None


def _first_lines(error: object, lines: int = 3) -> str:
    """The first lines of a step error and of its cause: what failed, without the stack."""
    parts = []
    while error is not None and len(parts) < 2:
        message = str(getattr(error, "message", "")).strip()
        if message:
            parts.append("\n".join(message.splitlines()[:lines]))
        error = getattr(error, "cause", None)
    return "\n".join(parts)


def _check_message(metadata: dict) -> str | None:
    """What a failed check found: its "failures" metadata (GX suites, our checks), else the
    failing row count dagster-dbt reports for a dbt test."""
    failures = metadata.get("failures")
    if failures is not None:
        return str(failures.value)
    rows = metadata.get("dagster_dbt/failed_row_count")
    if rows is not None:
        return f"{rows.value} failing row(s) (dbt test)"
    return None


def run_pipeline(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    force: bool = False,
) -> PipelineOutcome:
    """Materialise every asset and check once; never raises for a failed check or step.

    Holds the run lock of the working database for the whole run (re-entrant: the CLI takes
    it first); when another run holds it, returns at once with `run_in_progress` set. The
    as-of date is resolved here (pinned, else the demo's, else today) and passed to the run as
    its tag; when the landing files, as-of date, dbt vars and code are those the published file
    was built from, nothing runs (`skipped` says so) unless `force`.
    """
    from orchestration.lib import run_lock
    from orchestration.lib.dagster_storage import quick_sqlite
    from orchestration.lib.publish import publication_info, remove_stale_temporary_files
    from orchestration.lib.run_inputs import (
        FORCE_ON_CLI,
        FORCE_TAG,
        as_of_tags,
        matching_publication,
        run_inputs,
        skip_message,
    )

    apply_settings(settings)
    try:
        lock = run_lock.acquire(settings.working_db)
    except run_lock.RunInProgressError as error:
        return PipelineOutcome(
            success=False, published=False, run_id="", run_in_progress=str(error)
        )
    instance = instance or dg.DagsterInstance.ephemeral()
    try:
        notes = []
        if lock.stale:
            notes.append(run_lock.mark_stale_run_failed(instance, lock.stale))
            lock.stale = None
        removed = remove_stale_temporary_files(settings.published_db)
        if removed:
            notes.append(f"removed files left by a killed publication: {', '.join(removed)}")
        before = publication_info(settings.published_db)
        inputs = run_inputs(settings)
        same = None if force else matching_publication(settings, inputs)
        if same is not None:
            outcome = PipelineOutcome(
                success=True,
                published=False,
                run_id="",
                skipped=skip_message(settings, same, FORCE_ON_CLI),
            )
        else:
            tags = as_of_tags(inputs.as_of)
            if force:
                tags[FORCE_TAG] = "true"
            with quick_sqlite(instance):  # the same events, fewer syncs and engines
                outcome = _execute(settings, instance, log_level, tags)
        outcome.as_of_date = inputs.as_of.date.isoformat()
        outcome.as_of_source = inputs.as_of.source
        outcome.publication_before = before
        outcome.publication_after = publication_info(settings.published_db)
        outcome.lock_notes = notes
        return outcome
    finally:
        run_lock.release(lock)


def _execute(
    settings: Settings, instance: dg.DagsterInstance, log_level: str, tags: dict[str, str]
) -> PipelineOutcome:
    from orchestration.assets.publication import PUBLISHED_ASSET_KEY
    from orchestration.definitions import defs

    job = defs.resolve_job_def(PIPELINE_JOB_NAME)
    # What is loaded by now (Dagster, dbt, the definitions: about 600,000 objects) stays for the
    # whole run: the garbage collector's full passes leave it aside (about 2 CPU-s otherwise).
    # Objects are freed as before; the collector sees everything again after the run.
    gc.freeze()
    try:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            tags=tags,
        )
    finally:
        gc.unfreeze()
    failed_checks, check_messages = [], {}
    warnings, warning_messages = [], {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                name = evaluation.asset_check_key.to_user_string()
                message = _check_message(evaluation.metadata)
                if evaluation.severity == dg.AssetCheckSeverity.WARN:
                    warnings.append(name)
                    if message:
                        warning_messages[name] = message
                else:
                    failed_checks.append(name)
                    if message:
                        check_messages[name] = message
    failed_steps, input_errors, step_errors = [], [], {}
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            failed_steps.append(event.step_key)
            error = getattr(event.event_specific_data, "error", None)
            message = input_error_message(error)
            if message and message not in input_errors:
                input_errors.append(message)
            elif not message and error is not None:
                step_errors[event.step_key] = _first_lines(error)
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
        warnings=sorted(set(warnings)),
        warning_messages=warning_messages,
        failed_steps=sorted(set(failed_steps)),
        check_messages=check_messages,
        input_errors=input_errors,
        step_errors=step_errors,
    )


def settings_for(
    base: Path,
    landing_dir: Path,
    as_of_date: str | None = None,
    dbt_vars: dict | None = None,
    engine: str = "duckdb",
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
        engine=engine,
    )
