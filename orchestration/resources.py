"""Dagster resources, configured from environment variables with working defaults."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from orchestration.lib import run_lock
from orchestration.lib.run_inputs import RunInputs, is_forced, run_inputs
from orchestration.lib.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where the pipeline reads and writes; empty fields fall back to lib.settings (env vars)."""

    landing_dir: str = ""
    working_db: str = ""
    published_db: str = ""
    quality_dir: str = ""
    as_of_date: str = ""
    _run_lock: run_lock.RunLock | None = PrivateAttr(default=None)
    _inputs: RunInputs | None = PrivateAttr(default=None)
    _forced: bool = PrivateAttr(default=False)
    _bookkeeping: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Resolve the run's as-of date and input key once, and hold the run lock of the working
        database for the whole run (one run at a time).

        Resources are set up once per run (in-process executor), in every process that runs
        the job: the CLI, `run_pipeline` and the run workers the Dagster daemon launches for the
        schedule and the sensor, so every kind of run gets its as-of date here (pinned, the
        schedule's run tag, the demo's, or today: orchestration/lib/run_inputs.py). A second
        run fails here at once with the in-progress message; a run killed before it could
        release the lock is marked failed.
        """
        tags = context.run.tags if context.run is not None else {}
        self._inputs = run_inputs(self.settings(), tags)
        self._forced = is_forced(tags)
        if context.log is not None:
            context.log.info(
                f"As-of date {self._inputs.as_of.date} ({self._inputs.as_of.source}); "
                f"input key {self._inputs.key or 'none: ' + str(self._inputs.unkeyed_reason)}"
            )
        settings = self.settings()
        run_id = context.run.run_id if context.run is not None else None
        lock = run_lock.acquire(settings.working_db, run_id)
        self._run_lock = lock
        if lock.stale and context.instance is not None:
            note = run_lock.mark_stale_run_failed(context.instance, lock.stale)
            lock.stale = None
            if note and context.log is not None:
                context.log.warning(note)
        from orchestration.lib.publish import remove_stale_temporary_files

        removed = remove_stale_temporary_files(settings.published_db)
        if removed and context.log is not None:
            context.log.warning(f"removed files left by a killed publication: {removed}")
        if context.instance is not None:
            # The run's events, stored with fewer syncs and engines (orchestration/lib/
            # dagster_storage.py); already so for the whole run when `run_pipeline` runs it.
            from orchestration.lib.dagster_storage import quick_sqlite

            self._bookkeeping = contextlib.ExitStack()
            self._bookkeeping.enter_context(quick_sqlite(context.instance))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            run_lock.release(self._run_lock)
            self._run_lock = None
        if self._bookkeeping is not None:
            self._bookkeeping.close()
            self._bookkeeping = None

    def settings(self) -> Settings:
        settings = Settings.from_env()
        paths = {
            name: Path(value).resolve()
            for name, value in {
                "landing_dir": self.landing_dir,
                "working_db": self.working_db,
                "published_db": self.published_db,
                "quality_dir": self.quality_dir,
            }.items()
            if value
        }
        if self._inputs is not None:  # in a run: the date resolved when it started
            paths["as_of_date"] = self._inputs.as_of.date
        elif self.as_of_date:
            paths["as_of_date"] = date.fromisoformat(self.as_of_date)
        return dataclasses.replace(settings, **paths)

    def run_inputs(self) -> RunInputs:
        """The as-of date and input key resolved when the run started."""
        if self._inputs is None:
            raise RuntimeError("The warehouse resource was not set up for a run.")
        return self._inputs

    def forced(self) -> bool:
        """The run carries the tag sales_kpi/force=true: rebuild even on unchanged inputs."""
        return self._forced
