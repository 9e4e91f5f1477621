"""dbt assets: staging, core facts and dimensions, and KPI marts (dbt build, tests as checks).

Each build runs in its own target folder, `dbt_project/target/dbt-<run id>-<n>/` (compiled SQL,
`dbt.log`); only the newest `KEEP_TARGET_DIRS` are kept, and only the newest finished runs in
the Dagster history (orchestration/lib/run_history.py). dbt's per-node lines are not printed
(they go to the `orchestration.dbt` logger at DEBUG level and to that `dbt.log`); dbt's closing
lines (counts, and the failures it lists) are logged once, as a warning when a test failed or
warned. dbt reparses the whole project unless it finds the partial-parse state
of a previous build with the same vars and profile: that state is kept per vars in
`dbt_project/target/partial_parse/` and handed to the next such build (dbt checks it itself
and parses in full when anything that matters changed). The profile is the same for every
working database (dbt_project/profiles.yml names only the file; a plugin opens it), so a new
working database does not cost a full parse.
"""

import collections
import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.asset_utils import get_asset_check_key_for_test
from packaging import version

from orchestration.engines import Engine
from orchestration.lib import incremental
from orchestration.lib.asset_groups import dbt_groups, folder_group
from orchestration.lib.dbt_manifest import ensure_manifest
from orchestration.lib.inputs import single_data_currency
from orchestration.lib.progress import DbtProgress, dbt_node_intervals, report, split_wall_time
from orchestration.lib.run_history import prune_run_history
from orchestration.lib.run_inputs import code_checksum
from orchestration.lib.run_lock import mark_phase
from orchestration.lib.settings import DBT_PROJECT_DIR, Settings
from orchestration.resources import WarehouseResource

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST_PATH = ensure_manifest()


@functools.cache
def _manifest() -> dict[str, Any]:
    """The manifest the assets were defined from (read once; callers do not change it)."""
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


TARGET_DIR = DBT_PROJECT_DIR / "target"
# Per-build target folders (about 15 MB each) kept for inspection; older ones are removed.
KEEP_TARGET_DIRS = 2
BUILD_DIR_PREFIX = "dbt-"
# A build folder touched this recently may belong to a build still running: never removed.
ACTIVE_BUILD_SECONDS = 600
PARTIAL_PARSE_DIR = TARGET_DIR / "partial_parse"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# Saved partial-parse states (about 3 MB each), one per vars.
KEEP_PARTIAL_PARSE_STATES = 8
# dbt's closing lines logged after the build (its failures and warnings are listed there).
SUMMARY_LINES = 60
dbt_logger = logging.getLogger("orchestration.dbt")


class SalesKpiTranslator(DagsterDbtTranslator):
    """Asset keys [schema, name]; dbt sources map onto the ingestion assets [schema, table]."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # The ingestion assets' keys: ["raw", entity], ["raw_salesforce", object], ...
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The group along the data's path (orchestration/lib/asset_groups.py): staging,
        intermediate, core, marts; seeds with the raw tables; an intermediate model that reads
        a core model, and the snapshot, with the latest group they read."""
        uid = dbt_resource_props["unique_id"]
        return manifest_groups().get(uid) or folder_group(dbt_resource_props)


@functools.cache
def manifest_groups() -> dict[str, str]:
    return dbt_groups(_manifest())


translator = SalesKpiTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


# dbt's unit tests check the SQL's logic, not the night's data: they run in the test suite
# (`make test`: tests/test_kpi_rules.py runs every one), not in each build.
@dbt_assets(
    manifest=MANIFEST_PATH,
    dagster_dbt_translator=translator,
    project=dbt_project,
    exclude="test_type:unit",
)
def sales_kpi_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    mark_phase("dbt")
    settings = warehouse.settings()
    os.environ.update(settings.dbt_env())
    args = ["build"]
    variables = resolved_dbt_vars(settings.dbt_vars(), settings.working_db)
    if variables.get("reporting_currency") and "reporting_currency" not in settings.dbt_vars():
        context.log.info(
            f"reporting_currency {variables['reporting_currency']}: the only currency of the "
            "loaded amounts (set it in SALES_KPI_DBT_VARS to report in another one)"
        )
    if variables:
        args += ["--vars", json.dumps(variables)]
    code = code_checksum()
    plan = _plan_build(settings, variables, context.run.tags, code)
    args += plan.dbt_args()
    os.environ.update(plan.dbt_env())
    context.log.info(f"dbt build: {plan.reason}")
    report("dbt", plan.reason)
    target_path = TARGET_DIR / f"{BUILD_DIR_PREFIX}{context.run.run_id[:8]}-{uuid.uuid4().hex[:6]}"
    state = partial_parse_state(variables, settings.engine)
    restore_partial_parse_state(state, target_path)
    tail: collections.deque[str] = collections.deque(maxlen=SUMMARY_LINES)
    progress = DbtProgress(models_total=len(context.selected_asset_keys))
    report(
        "dbt",
        f"dbt build: {progress.models_total} models (with seeds and the snapshot) and their "
        "tests; dbt parses the project first",
    )
    engine = settings.warehouse_engine()
    if not engine.builds_in_working_db:
        _load_engine(context, settings, engine)
    try:
        invocation = dbt.cli(args, context=context, target_path=target_path)
        reported: set[dg.AssetCheckKey] = set()
        for event in _quietly(invocation.stream(), tail):
            progress.count(event)
            if isinstance(event, dg.AssetCheckResult):
                reported.add(dg.AssetCheckKey(event.asset_key, event.check_name))
            yield event
        for result in lost_check_results(
            _run_results(target_path), _manifest(), context.selected_asset_check_keys, reported
        ):
            context.log.warning(
                f"dbt test {result.check_name} on {result.asset_key.to_user_string()}: its "
                "result came in dbt's run_results.json but not in its log stream (a line of "
                "the stream was unreadable); reported from run_results.json"
            )
            yield result
        report("dbt", progress.line(), force=True)
        if not engine.builds_in_working_db:
            copied = engine.mirror_built(settings.working_db, lambda line: report("dbt", line))
            context.log.info(
                f"Copied {len(copied.rows)} tables ({copied.total:,} rows) built on "
                f"{engine.describe()} into {settings.working_db} for the published DuckDB file"
            )
        _record_build(settings, variables, plan, code)
        _record_crm_rejects(context, settings)
    except Exception as error:
        hint = out_of_memory_hint(target_path, settings.duckdb_memory_limit)
        if hint:
            raise RuntimeError(hint) from error
        raise
    finally:
        report_time_split(target_path)
        save_partial_parse_state(target_path, state)
        prune_build_dirs(TARGET_DIR, keep=KEEP_TARGET_DIRS)
        _prune_run_history(context)
        summary, problems = run_summary(list(tail))
        if summary:
            log = context.log.warning if problems else context.log.info
            log("dbt build:\n" + "\n".join(summary) + f"\n(dbt's log: {target_path / 'dbt.log'})")


def _run_results(target_path: Path) -> dict[str, Any]:
    path = target_path / "run_results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def lost_check_results(
    run_results: Mapping[str, Any],
    manifest: Mapping[str, Any],
    selected: Iterable[dg.AssetCheckKey],
    reported: set[dg.AssetCheckKey],
) -> list[dg.AssetCheckResult]:
    """The results of the dbt tests that ran (run_results.json) for a selected check that the
    event stream did not report. dagster-dbt reads dbt's results from the lines dbt prints;
    on Spark the session's JVM prints into the same pipe and can break a line, and a blocking
    check without a result would let the publication go ungated. Passed and severity as
    dagster-dbt gives them: passed only on `pass`, WARN severity on `warn`."""
    wanted = set(selected) - reported
    results = []
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        if not unique_id.startswith("test.") or unique_id not in manifest.get("nodes", {}):
            continue
        key = get_asset_check_key_for_test(manifest, translator, unique_id, project=None)
        if key is None or key not in wanted:
            continue
        wanted.discard(key)
        status = str(result.get("status"))
        results.append(
            dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=status == "pass",
                severity=dg.AssetCheckSeverity.WARN
                if status == "warn"
                else dg.AssetCheckSeverity.ERROR,
                metadata={
                    "status": status,
                    "failures": int(result.get("failures") or 0),
                    "message": str(result.get("message") or ""),
                    "unique_id": unique_id,
                    "reported_from": "run_results.json",
                },
            )
        )
    return results


def out_of_memory_hint(target_path: Path, memory_limit: str) -> str | None:
    """What to do when dbt's models failed because DuckDB ran out of memory (from dbt's
    run_results.json), else None."""
    try:
        results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    failed = sorted(
        str(result.get("unique_id", "")).rsplit(".", 1)[-1]
        for result in results.get("results", [])
        if result.get("status") == "error" and "Out of Memory Error" in str(result.get("message"))
    )
    if not failed:
        return None
    limit = (
        f"SALES_KPI_DUCKDB_MEMORY_LIMIT={memory_limit}"
        if memory_limit
        else "DuckDB's default memory limit (80 % of this machine)"
    )
    return (
        f"DuckDB ran out of memory building {', '.join(failed)} under {limit}. Set "
        "SALES_KPI_DUCKDB_MEMORY_LIMIT higher (e.g. 8GB), or build one model at a time "
        "(SALES_KPI_DBT_THREADS=1), then run again."
    )


def _prune_run_history(context: AssetExecutionContext) -> None:
    """Keep the newest finished runs only (orchestration/lib/run_history.py); this run is not
    finished yet, so it is never among those deleted."""
    try:
        removed = prune_run_history(context.instance)
    except Exception as error:  # the history must never fail a build
        context.log.warning(f"Old runs not removed from the Dagster history: {error}")
        return
    if removed:
        context.log.info(f"Removed {len(removed)} old run(s) from the Dagster history")


def report_time_split(target_path: Path) -> None:
    """Report how the build's wall time went to models and to tests (from dbt's
    run_results.json; the CLI prints it in the run's step summary)."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))
        split = split_wall_time(dbt_node_intervals(results))
        report(
            "dbt",
            f"dbt done: models {split.get('models', 0):.0f} s, tests {split.get('tests', 0):.0f} s",
            data=split,
        )


def _plan_build(
    settings: Settings, variables: dict[str, Any], tags: Mapping[str, str], code: str
) -> incremental.BuildPlan:
    """Incremental or full (orchestration/lib/incremental.py), from what the last successful
    build in this working database read."""
    import duckdb

    if not settings.working_db.exists():
        return incremental.BuildPlan(True, None, "full rebuild: a new working database")
    engine_reason = settings.warehouse_engine().full_rebuild_reason()
    if engine_reason:
        return incremental.BuildPlan(True, None, engine_reason)
    with duckdb.connect(str(settings.working_db)) as con:
        return incremental.plan_build(
            con,
            code,
            variables,
            incremental.full_refresh_requested(settings.full_refresh, tags),
        )


def _load_engine(context: AssetExecutionContext, settings: Settings, engine: Engine) -> None:
    """Start or check the engine, then copy the typed raw tables (dbt's sources) into it."""
    from orchestration.engines.transfer import source_tables

    def say(line: str) -> None:
        report("dbt", line)

    engine.prepare(say)
    loaded = engine.load_raw(settings.working_db, source_tables(_manifest()), say)
    context.log.info(
        f"Loaded {len(loaded.rows)} raw tables ({loaded.total:,} rows) into {engine.describe()}"
    )


def _record_build(
    settings: Settings, variables: dict[str, Any], plan: incremental.BuildPlan, code: str
) -> None:
    import duckdb

    with duckdb.connect(str(settings.working_db)) as con:
        # None: dbt took the build date (macro as_of_date()), which the next night cannot know.
        as_of = settings.as_of_date.isoformat() if settings.as_of_date else None
        incremental.record_build(con, code, variables, plan, as_of)


def _record_crm_rejects(context: AssetExecutionContext, settings: Settings) -> None:
    """The rows the dbt CRM rules reject (int_salesforce__row_outcomes) into raw._quarantine and
    raw._conversion_log, as the converters' rejects are (see loader.record_crm_rejects)."""
    import duckdb

    from orchestration.lib.loader import record_crm_rejects

    with duckdb.connect(str(settings.working_db)) as con:
        read, rejected = record_crm_rejects(con, context.run.run_id)
    if rejected:
        context.log.warning(
            f"{rejected:,} of {read:,} landed CRM rows rejected by the dbt rules; see "
            "raw._quarantine (entity like 'source:%') for file, row and reason."
        )


def run_summary(lines: list[str]) -> tuple[list[str], bool]:
    """dbt's closing lines (from "Finished running", with the failures and warnings it lists)
    and whether they report an error or a warning."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Finished running")]
    summary = lines[starts[-1] :] if starts else lines[-3:]
    counts = re.search(r"WARN=(\d+) ERROR=(\d+)", " ".join(summary))
    problems = bool(counts and (int(counts[1]) or int(counts[2])))
    return summary, problems or any(line.startswith("Failure in") for line in summary)


class _LineSink(io.TextIOBase):
    """Where dagster-dbt's copy of dbt's stdout goes: every line to the `orchestration.dbt`
    logger at DEBUG level, the last ones (the run summary) kept in `tail`."""

    def __init__(self, tail: collections.deque[str]) -> None:
        self.tail = tail
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            line = line.strip()
            if line:
                dbt_logger.debug("%s", line)
                self.tail.append(line)
        return len(text)


def _quietly(events: Iterator[Any], tail: collections.deque[str]) -> Iterator[Any]:
    """The events of `events`, with what producing them prints to stdout sent to `_LineSink`.

    stdout is redirected only while the next event is produced, never while Dagster handles
    the event yielded.
    """
    sink = _LineSink(tail)
    iterator = iter(events)
    while True:
        with contextlib.redirect_stdout(sink):
            try:
                event = next(iterator)
            except StopIteration:
                return
        yield event


def partial_parse_state(variables: Mapping[str, Any], engine: str = "duckdb") -> Path:
    """Where the partial-parse state of builds with these vars is.

    dbt reparses everything when the vars differ from the state's, so one state is kept per
    vars (and per engine other than DuckDB: another dbt target). The working database is not
    part of the key: the profile's rendered values, which dbt also compares, are the same for
    every working database (dbt_project/profiles.yml), and the thread count is not among them.
    """
    key = {"vars": variables} if engine == "duckdb" else {"vars": variables, "engine": engine}
    key = json.dumps(key, sort_keys=True, default=str)
    return PARTIAL_PARSE_DIR / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.msgpack"


def restore_partial_parse_state(state: Path, target_path: Path) -> None:
    """Put the saved state into the build's target folder, where dbt looks for it. Without one,
    dagster-dbt copies `target/partial_parse.msgpack` (from `dbt parse`) there instead."""
    if state.is_file():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, target_path / PARTIAL_PARSE_FILE)


def save_partial_parse_state(target_path: Path, state: Path) -> None:
    """Keep the build's partial-parse state for the next build with the same vars and database
    (atomically: concurrent builds may read it); only the newest few states are kept."""
    produced = target_path / PARTIAL_PARSE_FILE
    if not produced.is_file():
        return
    with contextlib.suppress(OSError):
        state.parent.mkdir(parents=True, exist_ok=True)
        temporary = state.with_name(f".{state.name}.{os.getpid()}.tmp")
        shutil.copyfile(produced, temporary)
        os.replace(temporary, state)
        states = sorted(state.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime)
        for old in states[:-KEEP_PARTIAL_PARSE_STATES]:
            old.unlink(missing_ok=True)


def prune_build_dirs(target_dir: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` build folders `dbt-*` (and dagster-dbt's default
    `<op name>-*` folders) of `target_dir`, except folders still in use. Returns the removed."""
    now = time.time()

    def last_used(path: Path) -> float:
        log = path / "dbt.log"
        return max(path.stat().st_mtime, log.stat().st_mtime if log.exists() else 0.0)

    folders = []
    for path in target_dir.iterdir() if target_dir.is_dir() else []:
        if path.is_dir() and path.name.startswith((BUILD_DIR_PREFIX, "sales_kpi_dbt_assets-")):
            with contextlib.suppress(OSError):
                folders.append((last_used(path), path))
    folders.sort(reverse=True)
    removed = []
    for used, path in folders[keep:]:
        if now - used > ACTIVE_BUILD_SECONDS:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def resolved_dbt_vars(variables: dict[str, Any], working_db: Path) -> dict[str, Any]:
    """The dbt vars with `reporting_currency` taken from the data when the user left it unset
    and every loaded amount has one and the same currency (else dbt's default, JPY, applies).

    Resolved here, once, because the var is compiled into many models: they all see the same.
    """
    variables = dict(variables)
    if "reporting_currency" not in variables and working_db.exists():
        currency = single_data_currency(working_db)
        if currency:
            variables["reporting_currency"] = currency
    return variables


def dbt_asset_keys(schemas: tuple[str, ...]) -> list[dg.AssetKey]:
    """Keys of the dbt models materialised in the given schemas (e.g. core, marts)."""
    keys = []
    for node in _manifest()["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("schema") in schemas:
            keys.append(translator.get_asset_key(node))
    return sorted(keys, key=lambda key: key.to_user_string())


class SalesKpiDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, asking dbt for its version once per process: dagster-dbt runs
    `dbt --version` (a Python start-up importing dbt, ~8 s of CPU) on every run otherwise."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return dbt_cli_version(self.dbt_executable)

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        """No dbt adapter in this process. dagster-dbt builds one before every dbt command
        (loading the profile, the project and dbt's macros: ~1.5 CPU-s) only to fetch column
        metadata or row counts, which this project does not ask for; and it would point at the
        profile's bare file name (dbt_project/profiles.yml), not at the working database.
        dagster-dbt runs the command without one (`adapter=None`)."""
        return None


@functools.cache
def dbt_cli_version(executable: str) -> version.Version:
    """The version of the dbt executable: for this virtualenv's own `dbt`, the installed
    dbt-core package's (no subprocess); for any other, what `dbt --version` says."""
    if Path(executable) == Path(sys.executable).with_name("dbt"):
        return version.parse(metadata.version("dbt-core"))
    output = subprocess.check_output([executable, "--version"]).decode("utf-8")
    match = re.search(r"(\d+\.\d+\.\d+)", output)
    if not match:
        raise ValueError(f"Could not parse the dbt version from `{executable} --version`: {output}")
    return version.parse(match.group(1))


def dbt_resource() -> DbtCliResource:
    """dbt from this virtualenv (next to the running Python), whatever PATH says."""
    executable = Path(sys.executable).with_name("dbt")
    return SalesKpiDbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(executable) if executable.exists() else "dbt",
        # Plain text in messages and in dbt.log: no terminal colour codes.
        global_config_flags=["--no-use-colors", "--no-use-colors-file"],
    )
