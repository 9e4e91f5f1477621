"""How the dbt asset runs dbt (orchestration/assets/transform.py), without running dbt: the
per-build target folders are pruned, dbt's lines do not reach stdout, and the partial-parse
state is kept per vars; and with dbt itself: a new working database does not make dbt parse
the whole project again."""

from __future__ import annotations

import collections
import importlib.util
import json
import os
import shutil
import sys
import time
import types
from importlib import metadata
from pathlib import Path

import pytest

from orchestration.assets import transform
from orchestration.lib.dbt_manifest import MANIFEST_PATH, ensure_manifest
from orchestration.lib.settings import DBT_PLUGINS_DIR, DBT_PROJECT_DIR, REPO_ROOT
from orchestration.pipeline import settings_for


def _folder(target: Path, name: str, age_seconds: float, log: bool = True) -> Path:
    path = target / name
    (path / "compiled").mkdir(parents=True)
    stamp = time.time() - age_seconds
    if log:
        (path / "dbt.log").write_text("{}\n", encoding="utf-8")
        os.utime(path / "dbt.log", (stamp, stamp))
    os.utime(path, (stamp, stamp))
    return path


def test_only_the_newest_build_folders_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    hour = 3600
    newest = _folder(target, "dbt-aaaa-1", 2 * hour)
    second = _folder(target, "sales_kpi_dbt_assets-bbbb-2", 3 * hour)  # dagster-dbt's naming
    old = _folder(target, "dbt-cccc-3", 4 * hour)
    older = _folder(target, "sales_kpi_dbt_assets-dddd-4", 5 * hour, log=False)
    unrelated = target / "partial_parse"
    unrelated.mkdir()
    manifest = target / "manifest.json"
    manifest.write_text("{}", encoding="utf-8")

    removed = transform.prune_build_dirs(target, keep=2)

    assert sorted(removed) == sorted([old, older])
    assert {p.name for p in target.iterdir()} == {
        newest.name,
        second.name,
        "partial_parse",
        "manifest.json",
    }


def test_build_folders_in_use_are_never_removed(tmp_path: Path) -> None:
    # Three builds running at once (their logs written a minute ago), one folder kept: the
    # two others are still in use, so nothing is removed.
    target = tmp_path / "target"
    target.mkdir()
    running = [_folder(target, f"dbt-run{n}", 6 * 3600) for n in range(3)]
    for path in running:
        os.utime(path / "dbt.log", (time.time() - 60, time.time() - 60))
    assert transform.prune_build_dirs(target, keep=1) == []
    assert all(path.exists() for path in running)


def test_dbt_lines_do_not_reach_stdout_and_the_summary_is_kept(capsys) -> None:
    def events():
        sys.stdout.write("1 of 2 START sql view model staging.x ..... [RUN]\n")
        yield "event-1"
        sys.stdout.write("Done. PASS=2 WARN=0")
        sys.stdout.write(" ERROR=0\n")
        yield "event-2"

    tail: collections.deque[str] = collections.deque(maxlen=6)
    consumed = []
    for event in transform._quietly(events(), tail):
        print(f"handled {event}")  # Dagster's own output while an event is handled stays
        consumed.append(event)

    assert consumed == ["event-1", "event-2"]
    assert capsys.readouterr().out == "handled event-1\nhandled event-2\n"
    assert list(tail) == [
        "1 of 2 START sql view model staging.x ..... [RUN]",
        "Done. PASS=2 WARN=0 ERROR=0",
    ]


def test_partial_parse_state_per_vars(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(transform, "PARTIAL_PARSE_DIR", tmp_path / "states")
    variables = {"as_of_date": "2025-10-31", "reporting_currency": "JPY"}
    state = transform.partial_parse_state(variables)
    assert state == transform.partial_parse_state(dict(reversed(variables.items())))
    assert state != transform.partial_parse_state({**variables, "as_of_date": "2025-11-01"})

    build = tmp_path / "target" / "dbt-1"
    transform.restore_partial_parse_state(state, build)  # nothing saved yet: nothing copied
    assert not build.exists()
    build.mkdir(parents=True)
    (build / "partial_parse.msgpack").write_bytes(b"state of build 1")
    transform.save_partial_parse_state(build, state)
    assert state.read_bytes() == b"state of build 1"

    next_build = tmp_path / "target" / "dbt-2"
    transform.restore_partial_parse_state(state, next_build)
    assert (next_build / "partial_parse.msgpack").read_bytes() == b"state of build 1"

    monkeypatch.setattr(transform, "KEEP_PARTIAL_PARSE_STATES", 2)
    for day in range(3, 6):  # three more states: only the newest two are kept
        other = transform.partial_parse_state({"as_of_date": f"2025-11-0{day}"})
        transform.save_partial_parse_state(build, other)
        time.sleep(0.01)
    assert len(list(state.parent.glob("*.msgpack"))) == 2
    assert not state.exists()
    assert not list(state.parent.glob(".*"))  # no temporary file left


def test_dbt_runs_without_colour_codes() -> None:
    flags = transform.dbt_resource().global_config_flags
    assert "--no-use-colors" in flags and "--no-use-colors-file" in flags


def test_run_summary_is_the_closing_lines_and_says_when_something_failed() -> None:
    lines = [
        "438 of 439 PASS unique_x ..... [PASS in 0.1s]",
        "Finished running 1 seed, 366 data tests in 0 hours 1 minutes and 2.00 seconds (62.00s).",
        "Completed with 1 error, 0 partial successes, and 0 warnings:",
        "Failure in test not_null_kpi_cac_channel (models/marts/kpi/_kpi__models.yml)",
        "Got 1 result, configured to fail if != 0",
        "Done. PASS=437 WARN=0 ERROR=1 SKIP=0 NO-OP=1 TOTAL=439",
    ]
    summary, problems = transform.run_summary(lines)
    assert summary == lines[1:] and problems
    ok = [lines[0], lines[1], "Completed successfully", "Done. PASS=438 WARN=0 ERROR=0 SKIP=0"]
    assert transform.run_summary(ok) == (ok[1:], False)
    warned = [*ok[:3], "Done. PASS=437 WARN=1 ERROR=0 SKIP=0"]
    assert transform.run_summary(warned)[1]


def test_dbt_version_is_asked_once_per_process_and_never_of_our_own_dbt(
    monkeypatch, tmp_path: Path
) -> None:
    calls = []

    def check_output(args):
        calls.append(args)
        return b"Core:\n  - installed: 1.11.16\n"

    monkeypatch.setattr(transform.subprocess, "check_output", check_output)
    transform.dbt_cli_version.cache_clear()
    resource = transform.dbt_resource()
    ours = resource._cli_version
    assert str(ours) == metadata.version("dbt-core")
    assert calls == []  # this virtualenv's dbt: the installed package's version
    other = str(tmp_path / "bin" / "dbt")
    assert str(transform.dbt_cli_version(other)) == "1.11.16"
    assert str(transform.dbt_cli_version(other)) == "1.11.16"
    assert calls == [[other, "--version"]]  # asked once
    transform.dbt_cli_version.cache_clear()


def _plugin_module():
    spec = importlib.util.spec_from_file_location(
        "sales_kpi_working_db_under_test", DBT_PLUGINS_DIR / "sales_kpi_working_db.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_profile_plugin_opens_the_working_database_of_the_environment(
    tmp_path: Path, monkeypatch
) -> None:
    plugin = _plugin_module().Plugin(
        name="p", plugin_config={"default_path": "../warehouse/working.duckdb"}
    )
    creds = types.SimpleNamespace(path="working.duckdb")
    database = tmp_path / "run" / "working.duckdb"
    monkeypatch.setenv("SALES_KPI_WORKING_DB", str(database))
    plugin.update_connection_config(creds, {})
    assert creds.path == str(database)

    monkeypatch.delenv("SALES_KPI_WORKING_DB")
    monkeypatch.chdir(tmp_path)
    creds = types.SimpleNamespace(path="working.duckdb")
    plugin.update_connection_config(creds, {})  # dbt by hand: the profile's default
    assert creds.path == str((tmp_path / ".." / "warehouse" / "working.duckdb").resolve())

    # A profile rendered with another file name than the variable now names: never the
    # wrong database, a clear error.
    monkeypatch.setenv("SALES_KPI_WORKING_DB", str(tmp_path / "other.duckdb"))
    with pytest.raises(RuntimeError, match=r"other\.duckdb"):
        plugin.update_connection_config(types.SimpleNamespace(path="working.duckdb"), {})


def test_duckdb_memory_limit_reaches_dbt_the_loader_and_the_publication(
    tmp_path: Path, monkeypatch
) -> None:
    """SALES_KPI_DUCKDB_MEMORY_LIMIT (unset: 2GB) configures the pipeline's building
    connections and reaches dbt's through the environment and the profile's plugin; a
    value that is not a size is refused with the variable named."""
    import duckdb

    from orchestration.lib.settings import MEMORY_LIMIT_ENV, Settings

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert Settings.from_env().duckdb_config() == {"memory_limit": "2GB"}
    assert Settings.from_env().dbt_env()[MEMORY_LIMIT_ENV] == "2GB"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1500MB")
    settings = Settings.from_env()
    assert settings.dbt_env()[MEMORY_LIMIT_ENV] == "1500MB"
    with duckdb.connect(str(tmp_path / "w.duckdb"), config=settings.duckdb_config()) as con:
        (limit,) = con.execute("select current_setting('memory_limit')").fetchone()
    assert limit in ("1.3 GiB", "1.4 GiB", "1.5 GB")  # DuckDB prints it in its own unit

    plugin = _plugin_module().Plugin(name="p", plugin_config={"default_path": "w.duckdb"})
    monkeypatch.setenv("SALES_KPI_WORKING_DB", str(tmp_path / "w.duckdb"))
    config: dict = {}
    plugin.update_connection_config(types.SimpleNamespace(path="w.duckdb"), config)
    assert config == {"memory_limit": "1500MB"}
    monkeypatch.delenv(MEMORY_LIMIT_ENV)  # dbt by hand: DuckDB's own default
    config = {}
    plugin.update_connection_config(types.SimpleNamespace(path="w.duckdb"), config)
    assert config == {}

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=MEMORY_LIMIT_ENV):
        Settings.from_env()


def test_a_build_out_of_duckdb_memory_says_which_models_and_what_to_set(tmp_path: Path) -> None:
    out_of_memory_hint = transform.out_of_memory_hint
    assert out_of_memory_hint(tmp_path, "") is None  # no run_results.json
    oom = "Out of Memory Error: failed to allocate data of size 128.0 MiB (1.7 GiB/1.8 GiB used)"
    results = {
        "results": [
            {"unique_id": "model.sales_kpi.kpi_stage_velocity", "status": "error", "message": oom},
            {"unique_id": "model.sales_kpi.fct_kpi_daily", "status": "error", "message": oom},
            {"unique_id": "model.sales_kpi.dim_reps", "status": "success", "message": "OK"},
        ]
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results), encoding="utf-8")
    hint = out_of_memory_hint(tmp_path, "2GB")
    assert hint is not None
    assert "fct_kpi_daily, kpi_stage_velocity" in hint
    assert "SALES_KPI_DUCKDB_MEMORY_LIMIT=2GB" in hint and "SALES_KPI_DBT_THREADS=1" in hint
    assert "80 %" in out_of_memory_hint(tmp_path, "")
    results["results"][0]["message"] = results["results"][1]["message"] = "Binder Error: x"
    (tmp_path / "run_results.json").write_text(json.dumps(results), encoding="utf-8")
    assert out_of_memory_hint(tmp_path, "2GB") is None  # another failure: dbt's own message


def test_a_new_working_database_and_as_of_date_do_not_make_dbt_parse_the_whole_project(
    tmp_path: Path, monkeypatch
) -> None:
    """The state of `dbt parse` (ensure_manifest: the default working database, no vars, no
    as-of date) is reused by dbt for a working database elsewhere and a run's as-of date (an
    environment variable read only when SQL is compiled): no "Unable to do partial parsing"."""
    from dbt.cli.main import dbtRunner

    ensure_manifest()
    target = tmp_path / "target"
    target.mkdir()
    shutil.copyfile(
        MANIFEST_PATH.with_name("partial_parse.msgpack"), target / "partial_parse.msgpack"
    )
    settings = settings_for(tmp_path / "elsewhere", tmp_path / "landing", "2025-11-01")
    assert settings.dbt_vars() == {}
    assert settings.dbt_env()["SALES_KPI_BUILD_AS_OF_DATE"] == "2025-11-01"
    assert settings.working_db != REPO_ROOT / "warehouse" / "working.duckdb"
    for name, value in settings.dbt_env().items():
        monkeypatch.setenv(name, value)
    events: list[str] = []
    result = dbtRunner(callbacks=[lambda event: events.append(event.info.name)]).invoke(
        [
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(tmp_path / "logs"),
            "--quiet",
        ]
    )
    assert result.success, result.exception
    assert "StateCheckVarsHash" in events  # dbt did compare the saved state
    assert "UnableToPartialParse" not in events


def test_no_dbt_adapter_is_built_in_the_pipeline_process() -> None:
    # dagster-dbt would build one per dbt command (~1.5 CPU-s) for metadata we do not fetch.
    assert transform.dbt_resource()._initialize_dbt_core_adapter(["build"]) is None
