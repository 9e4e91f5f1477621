"""Command line: `python -m orchestration.cli {demo,run,benchmark,prepare,docs}`.

- demo: generate demo data, run the whole pipeline through Dagster, print a KPI summary.
- run: run the pipeline on the landing folder as configured (SALES_KPI_* variables).
- benchmark: per scale, generate data, run a full and an incremental night and the bare-DuckDB
  floor, and print CPU-seconds and peak RSS of each step's process tree with the ratios.
- prepare: build the dbt manifest (needed before `dagster dev`).
- docs: regenerate docs/canonical_format.md from the schema.
- metrics: regenerate the dbt semantic layer, docs/kpi_catalog.md and the README KPI table from
  seeds/kpi_definitions.csv.

Exit codes of `run` and `demo`:
- 0 published, no warnings; or skipped: the landing files, as-of date, dbt vars and code are
  those the published file was built from (it is left as it is; `run --force` rebuilds).
- 1 not published because a quality check or a step failed (the failing rule is printed);
  the message says what the published file holds, from its `_publication` table (unchanged:
  still the previous run's, or no file yet).
- 2 a configuration or input error the user fixes before running again (a mapping that does
  not fit the export, a landing file missing a required column, an invalid SALES_KPI_*
  variable): its message is printed once, without a stack trace; nothing was published.
- 3 published with warnings: warn-severity dbt tests failed (printed with their failing row
  counts); they never block publication, and the published file holds this run's marts.
- 4 another run is in progress on the same working database (the run lock, see
  orchestration/lib/run_lock.py): nothing was run; the message names that run (id, pid, host,
  start time, phase). Run again when it has finished.
After every run the command also prints what was quarantined and flagged.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from orchestration.lib.progress import LOGGER_NAME as PROGRESS_LOGGER
from orchestration.lib.progress import ProgressPrinter, step_summary
from orchestration.lib.progress import report as progress
from orchestration.lib.settings import DEMO_SCALE, FULL_REFRESH_ENV, REPO_ROOT, Settings
from orchestration.summary import run_report

EXIT_PUBLISHED = 0
EXIT_NOT_PUBLISHED = 1
EXIT_CONFIGURATION = 2
EXIT_PUBLISHED_WITH_WARNINGS = 3
EXIT_RUN_IN_PROGRESS = 4


class ConfigurationError(Exception):
    """An invalid setting (SALES_KPI_* variable): printed as is, exit code 2."""


def _say(message: str) -> None:
    print(message, flush=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as error:  # the message names the variable and a valid value
        raise ConfigurationError(str(error)) from error


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


DAGSTER_CODE_SERVERS = "code_servers:\n  local_startup_timeout: 600\n"


def _dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    text = config.read_text()
    if "code_servers:" not in text:
        # Loading the definitions imports dbt, GX and Dagster: on a busy 2-core machine that can
        # pass the UI's default 180 s start-up limit for the code server.
        config.write_text(text.rstrip("\n") + "\n" + DAGSTER_CODE_SERVERS)
    return home


def _run(settings: Settings, force: bool = False) -> int:
    from orchestration.lib import run_lock

    # The run lock comes first: before Dagster's storage or DuckDB is opened, so a second run
    # says "another run is in progress" instead of failing on a storage or DuckDB lock.
    try:
        lock = run_lock.acquire(settings.working_db)
    except run_lock.RunInProgressError as error:
        _say(f"{error}\nNothing was run; the published file is untouched.")
        return EXIT_RUN_IN_PROGRESS
    try:
        return _run_locked(settings, lock, force)
    finally:
        run_lock.release(lock)


def _run_locked(settings: Settings, lock, force: bool = False) -> int:
    import dagster as dg

    from orchestration.lib import run_lock
    from orchestration.pipeline import run_pipeline

    _dagster_home()
    _say(
        f"Running the pipeline on {settings.landing_dir} (working db {settings.working_db}):\n"
        "  load raw tables -> raw checks -> dbt build (models + tests) -> mart checks -> "
        "publish. At demo scale this takes 1 to 5 minutes, depending on the machine (about "
        "10 on a local Spark session); the lines below say where it is "
        "(SALES_KPI_LOG_LEVEL=INFO prints every step's log)."
    )
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance, _progress_printed() as printer:
        if lock.stale:
            _say("  " + run_lock.mark_stale_run_failed(instance, lock.stale))
            lock.stale = None
        progress("start", "starting the Dagster run (loading the dbt manifest and the checks)")
        # Dagster's own log repeats every failure with its stack trace; what the user needs
        # is printed below, so it stays quiet unless asked for.
        outcome = run_pipeline(
            settings,
            instance=instance,
            log_level=os.environ.get("SALES_KPI_LOG_LEVEL", "CRITICAL"),
            force=force,
        )
    elapsed = time.perf_counter() - started
    dbt_split = printer.data.get("dbt")
    for note in outcome.lock_notes:
        _say(f"  {note}")
    if outcome.run_in_progress:  # cannot happen while this process holds the lock
        _say(outcome.run_in_progress)
        return EXIT_RUN_IN_PROGRESS
    if outcome.skipped:
        _say(outcome.skipped)
        return EXIT_PUBLISHED
    _say(f"  as of {outcome.as_of_date} ({outcome.as_of_source})")
    if outcome.input_errors:
        _say(f"\nThe input does not fit (run {outcome.run_id}); nothing was published:\n")
        for message in outcome.input_errors:
            _say(message + "\n")
        _say("Fix the mapping/file and run again. " + _published_state(outcome, settings))
        return EXIT_CONFIGURATION
    _print_steps(outcome.step_seconds, dbt_split, elapsed)
    if not outcome.published:
        _say(f"\nThe pipeline did not publish (run {outcome.run_id}, {elapsed:.0f} s).")
        _print_failures(outcome)
        _say("\n" + run_report(settings.working_db, None))
        data_docs = settings.quality_dir / "data_docs" / "index.html"
        _say(
            f"\n{_published_state(outcome, settings)}\n"
            f"Quality check results: {data_docs}; dbt test failures and every step's log: "
            "SALES_KPI_LOG_LEVEL=INFO, or the run in the UI (make ui). Fix the input, then run "
            "again."
        )
        return EXIT_NOT_PUBLISHED
    report = "\n" + run_report(settings.working_db, settings.published_db)
    if outcome.success and not outcome.warnings and not outcome.failed_steps:
        _say(f"Pipeline finished in {elapsed:.0f} s (run {outcome.run_id}): published.")
        _say(report)
        _say("\n" + _published_state(outcome, settings))
        return EXIT_PUBLISHED
    problems = len(outcome.warnings) + len(outcome.failed_checks) + len(outcome.failed_steps)
    _say(
        f"\nPublished with {problems} warning(s) (run {outcome.run_id}, {elapsed:.0f} s): "
        "warn-severity tests failed; they do not block publication. Look at them:"
    )
    for check in outcome.warnings:
        _say(f"  warning: {check}")
        message = outcome.warning_messages.get(check)
        if message:
            _say(_indent(message))
    _print_failures(outcome)
    _say(report)
    _say("\n" + _published_state(outcome, settings))
    return EXIT_PUBLISHED_WITH_WARNINGS


def _print_failures(outcome) -> None:
    for check in outcome.failed_checks:
        _say(f"  failed quality check: {check}")
        message = outcome.check_messages.get(check)
        if message:
            _say(_indent(message))
    for step in outcome.failed_steps:
        if not any(step.endswith(check.split(":")[-1]) for check in outcome.failed_checks):
            _say(f"  failed step: {step}")
            message = outcome.step_errors.get(step)
            if message:
                _say(_indent(message))


def _published_state(outcome, settings: Settings) -> str:
    """What the published file holds now, from its `_publication` table: only what is true."""
    before, after = outcome.publication_before, outcome.publication_after
    path = settings.published_db
    if after is None:
        return f"There is no published file yet ({path})."
    if after.get("error"):
        state = "unchanged" if before == after else "changed"
        return (
            f"The file at {path} is {state} and was not written by this project's publication "
            f"(it has no readable _publication table: {after['error']})."
        )
    held = f"run {after['run_id']}, published at {after['published_at']} UTC"
    if outcome.published and after["run_id"] == outcome.run_id:
        return f"The published file now holds this run's marts ({held}): {path}"
    if before == after:
        return f"The published file is unchanged: it still holds {held}: {path}"
    return (
        f"The published file was replaced by another process during this run: it now holds "
        f"{held}: {path}"
    )


def _print_steps(
    step_seconds: dict[str, float], dbt_split: dict | None = None, elapsed: float | None = None
) -> None:
    """Where the run's time went, phase by phase (wall time: the steps run one by one)."""
    for line in steps_table(step_seconds, dbt_split, elapsed):
        _say(line)


def steps_table(
    step_seconds: dict[str, float], dbt_split: dict | None = None, elapsed: float | None = None
) -> list[str]:
    rows = step_summary(step_seconds, dbt_split)
    if elapsed is not None and rows:
        other = elapsed - sum(step_seconds.values())
        rows.append(("Dagster start-up, Data Docs, bookkeeping", max(other, 0.0)))
    return [f"  {name:<42} {seconds:7.1f} s" for name, seconds in rows]


@contextlib.contextmanager
def _progress_printed() -> Iterator[ProgressPrinter]:
    """Print the run's progress lines (orchestration.lib.progress) while the block runs."""
    printer = ProgressPrinter(sys.stdout)
    logger = logging.getLogger(PROGRESS_LOGGER)
    logger.addHandler(printer)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # Dagster's handlers on the root logger would print them again
    printer.start_heartbeat()
    try:
        yield printer
    finally:
        printer.stop_heartbeat()
        logger.removeHandler(printer)


def _print_locations(settings: Settings) -> None:
    engine = settings.warehouse_engine()
    _say(
        "\nWhere things are:\n"
        f"  published marts (BI tools read this): {settings.published_db}\n"
        f"  Data Docs (quality gate results):     "
        f"{settings.quality_dir / 'data_docs' / 'index.html'}\n"
        f"  working database (pipeline only):     {settings.working_db}\n"
        + (
            f"  on the engine (BI reads marts, core): {engine.describe()}\n"
            if not engine.builds_in_working_db
            else ""
        )
        + "  Dashboard: make dashboard   (then open http://127.0.0.1:8050)\n"
        "  Dagster UI: make ui   (then open http://127.0.0.1:3000)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.demo.calendar import check_month
    from orchestration.demo.generate import generate
    from orchestration.summary import kpi_summary

    settings = _settings()
    end = date.fromisoformat(args.end_date)
    # The demo's fiscal year is the marts': SALES_KPI_DBT_VARS first, else dbt_project.yml.
    fiscal_start = settings.extra_dbt_vars.get("fiscal_year_start_month")
    if fiscal_start is not None:
        try:
            check_month(fiscal_start, "fiscal_year_start_month in SALES_KPI_DBT_VARS")
        except ValueError as error:
            raise ConfigurationError(str(error)) from error
    _say(f"Generating demo data (scale {args.scale}, seed {args.seed}) in {settings.landing_dir}")
    counts = generate(
        settings.landing_dir,
        scale=args.scale,
        seed=args.seed,
        end_date=end,
        fiscal_year_start_month=fiscal_start,
    )
    _say("  " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    from orchestration.lib.landing_state import record_demo_as_of

    # The demo's as-of date goes with its files: this run and any later run on them (the
    # sensor's after `make ui`) compute as of it, unless SALES_KPI_AS_OF_DATE pins another.
    record_demo_as_of(settings.landing_dir, end)
    status = _run(settings)
    if status in (EXIT_PUBLISHED, EXIT_PUBLISHED_WITH_WARNINGS):
        _say("\n" + kpi_summary(settings.published_db))
    if status not in (
        EXIT_CONFIGURATION,
        EXIT_RUN_IN_PROGRESS,
    ):  # the message said what to fix; nothing else to look at
        _print_locations(settings)
    return status


def cmd_run(args: argparse.Namespace) -> int:
    if args.full_refresh:
        # Read by the raw load and the dbt build (orchestration/lib/incremental.py).
        os.environ[FULL_REFRESH_ENV] = "1"
    settings = _settings()
    status = _run(settings, force=args.force or args.full_refresh)
    if status not in (EXIT_CONFIGURATION, EXIT_RUN_IN_PROGRESS):
        _print_locations(settings)
    return status


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Per scale: generate, a full night, an incremental night with one more day, and the
    bare-DuckDB floor, each a measured child process (orchestration/lib/benchmark.py)."""
    from orchestration.lib import benchmark

    try:
        return benchmark.run(args, say=_say)
    except RuntimeError as error:  # a step failed: its exit code and the end of its log
        _say(str(error))
        return EXIT_NOT_PUBLISHED


def cmd_prepare(args: argparse.Namespace) -> int:
    from orchestration.lib.dbt_manifest import ensure_manifest

    _dagster_home()
    path = ensure_manifest(force=True)
    _say(f"dbt manifest ready: {path}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from orchestration.lib.canonical_schema import render_markdown

    target = REPO_ROOT / "docs" / "canonical_format.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_markdown() + "\n", encoding="utf-8")
    _say(f"wrote {target}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from orchestration.lib.data_quality_docs import write_readme
    from orchestration.lib.metrics import write_all

    for path in [*write_all(), write_readme()]:
        _say(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate demo data, run the pipeline, print KPIs")
    demo.add_argument(
        "--scale", type=float, default=DEMO_SCALE, help="1.0 = about 200,000 activities"
    )
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--end-date", default="2026-10-31", help="last day of the demo data")
    demo.set_defaults(func=cmd_demo)
    run = sub.add_parser("run", help="run the pipeline on the landing folder")
    run.add_argument(
        "--force",
        action="store_true",
        help="rebuild and republish even when the landing files, as-of date, dbt vars and code "
        "are those of the published file (such a run is skipped otherwise)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="reload every landing file and rebuild every table (also the incremental activity "
        "facts); implies --force",
    )
    run.set_defaults(func=cmd_run)
    bench = sub.add_parser(
        "benchmark",
        help="full night, incremental night and the bare-DuckDB floor, in CPU-s and peak RSS",
    )
    from orchestration.lib.benchmark import add_arguments as benchmark_arguments

    benchmark_arguments(bench)
    bench.set_defaults(func=cmd_benchmark)
    sub.add_parser("prepare", help="build the dbt manifest").set_defaults(func=cmd_prepare)
    sub.add_parser("docs", help="write docs/canonical_format.md").set_defaults(func=cmd_docs)
    sub.add_parser(
        "metrics",
        help="write the semantic-layer YAML, docs/kpi_catalog.md and the README KPI table",
    ).set_defaults(func=cmd_metrics)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigurationError as error:
        _say(f"{error}\nFix the setting and run again.")
        return EXIT_CONFIGURATION


if __name__ == "__main__":
    sys.exit(main())
