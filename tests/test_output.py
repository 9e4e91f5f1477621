"""What a run prints: progress lines and the step summary (cheap: no pipeline run).

The formatting functions are fed recorded events and hand-made timings; expected figures are
worked out by hand in the comments.
"""

from __future__ import annotations

import io
import logging
import re

import dagster as dg
import pytest

from orchestration.lib.progress import (
    LOGGER_NAME,
    DbtProgress,
    ProgressPrinter,
    dbt_node_intervals,
    report,
    split_wall_time,
    step_summary,
)

ANSI = re.compile(r"\x1b\[")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def printed():
    """A ProgressPrinter on a StringIO (not a TTY) attached to the progress logger."""
    clock, stream = Clock(), io.StringIO()
    printer = ProgressPrinter(stream, clock=clock, every=5.0, heartbeat=15.0)
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(printer)
    logger.setLevel(logging.INFO)
    try:
        yield clock, stream, printer
    finally:
        logger.removeHandler(printer)


def test_printer_prints_phase_changes_at_once_and_throttles_within_a_phase(printed):
    clock, stream, printer = printed
    report("load", "raw.accounts: 10 rows loaded")  # new phase: printed
    clock.now += 1
    report("load", "raw.leads: 20 rows loaded")  # 1 s later, same phase: held back
    clock.now += 1
    report("load", "raw.users: 3 rows loaded")  # 2 s: held back (replaces the previous)
    clock.now += 4
    report("load", "raw.spend: 4 rows loaded")  # 6 s after the last line: printed
    clock.now += 1
    report("raw checks", "raw checks: 1/12 suites")  # new phase: printed
    clock.now += 1
    report("raw checks", "raw checks: 2/12 suites (raw.leads FAILED)", force=True)  # forced
    assert stream.getvalue().splitlines() == [
        "      0 s  raw.accounts: 10 rows loaded",
        "      6 s  raw.spend: 4 rows loaded",
        "      7 s  raw checks: 1/12 suites",
        "      8 s  raw checks: 2/12 suites (raw.leads FAILED)",
    ]
    assert printer.lines == 4


def test_heartbeat_breaks_a_long_silence(printed):
    clock, stream, printer = printed
    report("dbt", "dbt build: 150 models and their tests")
    clock.now += 14
    printer.tick()  # 14 s of silence: not yet
    assert len(stream.getvalue().splitlines()) == 1
    clock.now += 1
    printer.tick()  # 15 s: "still <the last message>"
    clock.now += 2
    report("dbt", "dbt: 3/150 models, 10 tests run (17 s)")  # 2 s after: held back
    clock.now += 13
    printer.tick()  # 15 s after the last line: the held-back message
    assert stream.getvalue().splitlines()[1:] == [
        "     15 s  still dbt build: 150 models and their tests",
        "     30 s  dbt: 3/150 models, 10 tests run (17 s)",
    ]


def test_printer_keeps_the_data_of_a_phase(printed):
    _, _, printer = printed
    report("dbt", "dbt done", data={"models": 30.0, "tests": 12.5})
    assert printer.data == {"dbt": {"models": 30.0, "tests": 12.5}}


def _events(models: int, tests: int, failed: int = 0) -> list:
    """Recorded shape of a dbt build's events: a model, then its tests."""
    events = []
    for i in range(models):
        key = dg.AssetKey(["marts", f"m{i}"])
        events.append(dg.Output(None, output_name=f"m{i}"))
        for j in range(tests):
            events.append(
                dg.AssetCheckResult(
                    asset_key=key, check_name=f"t{j}", passed=not (i == 0 and j < failed)
                )
            )
    return events


def test_dbt_progress_reports_every_tenth_of_the_models():
    clock, lines = Clock(), []
    progress = DbtProgress(models_total=20, clock=clock, say=lines.append)
    for event in _events(models=20, tests=3, failed=1):
        clock.now += 0.125  # 80 events in 10 s, lines about 1 s apart: never the 10 s rule
        progress.count(event)
    # A tenth of 20 models is 2: a line after models 2, 4, ..., 20 (when the 2nd model's
    # Output arrives its tests have not run yet: model k of the line has run (k-1)*3 tests).
    assert len(lines) == 10
    assert lines[0] == "dbt: 2/20 models, 3 tests run, 1 failed (1 s)"
    assert lines[-1] == "dbt: 20/20 models, 57 tests run, 1 failed (10 s)"
    assert progress.line() == "dbt: 20/20 models, 60 tests run, 1 failed (10 s)"


def test_dbt_progress_reports_every_ten_seconds_when_models_are_slow():
    clock, lines = Clock(), []
    progress = DbtProgress(models_total=100, clock=clock, say=lines.append)
    for event in _events(models=3, tests=1):
        clock.now += 4  # 6 events, one every 4 s: a line at 12 s (>= 10 s), the next at 24 s
        progress.count(event)
    assert lines == [
        "dbt: 2/100 models, 1 tests run (12 s)",
        "dbt: 3/100 models, 3 tests run (24 s)",
    ]


def test_dbt_progress_ignores_other_events():
    progress = DbtProgress(models_total=5, say=lambda line: None)
    progress.count(dg.AssetMaterialization(asset_key="a"))
    progress.count(dg.AssetObservation(asset_key="a"))  # a test on several models
    progress.count("a log line")
    assert (progress.models, progress.tests) == (1, 1)


def _result(unique_id: str, start: str, end: str) -> dict:
    """A node of dbt's run_results.json (only the fields read)."""
    return {
        "unique_id": unique_id,
        "timing": [
            {"name": "compile", "started_at": f"2026-11-30T10:00:{start}Z", "completed_at": None},
            {
                "name": "execute",
                "started_at": f"2026-11-30T10:00:{start}.5Z",
                "completed_at": f"2026-11-30T10:00:{end}Z",
            },
        ],
    }


def test_dbt_time_split_shares_concurrent_time():
    run_results = {
        "results": [
            _result("model.sales_kpi.a", "00", "10"),  # model 0-10
            _result("test.sales_kpi.not_null_a", "05", "15"),  # test 5-15, beside the model
            _result("seed.sales_kpi.map", "20", "30"),  # after 5 s with nothing running
            _result("unit_test.sales_kpi.a.case", "30", "31"),
            {"unique_id": "model.sales_kpi.skipped", "timing": []},
        ]
    }
    intervals = dbt_node_intervals(run_results)
    assert [kind for kind, _, _ in intervals] == ["models", "tests", "models", "tests"]
    split = split_wall_time(intervals)
    # 0-5 model alone (5), 5-10 both (2.5 each), 10-15 test alone (5), 15-20 idle,
    # 20-30 seed (10), 30-31 unit test (1): models 17.5, tests 8.5, idle 5; total 31 s.
    assert split == pytest.approx({"models": 17.5, "tests": 8.5, "idle": 5.0})


# Step keys as Dagster names them for this project's job (checked against the real job below).
STEPS = {
    "converted__sources": 1.5,
    "raw__leads": 2.0,
    "raw__jp_public_holidays": 0.5,
    "raw__leads_gx_leads": 3.0,
    "raw__opportunities_required_inputs": 0.25,
    "sales_kpi_dbt_assets": 60.0,
    "core__fct_leads_gx_fct_leads": 4.0,
    "marts__kpi_cac_gx_kpi_cac": 1.0,
    "published__marts_duckdb": 2.0,
}


def test_step_summary_splits_load_checks_and_dbt():
    rows = step_summary(STEPS, {"models": 30.0, "tests": 20.0, "idle": 1.0})
    assert rows == [
        ("load raw tables", 4.0),  # 1.5 + 2 + 0.5: the raw checks are not in it
        ("raw checks (Great Expectations)", 3.25),
        ("dbt start-up and parsing", 10.0),  # 60 - 30 - 20
        ("dbt models", 30.0),
        ("dbt tests", 20.0),
        ("mart checks (Great Expectations)", 5.0),
        ("publish marts", 2.0),
    ]
    assert ("dbt build", 60.0) in step_summary(STEPS)  # without dbt's timings: one line


def test_step_summary_knows_every_step_of_the_job():
    """Every step of the real job is in the phase its key says."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("sales_kpi_pipeline")
    names = set(job.graph.node_names())
    assert set(STEPS) <= names
    phases = {name: step_summary({name: 1.0})[0][0] for name in names}
    checks = {name for name in names if "_gx_" in name or name.endswith("required_inputs")}
    assert checks and all("checks" in phases[name] for name in checks)
    assert {name for name in names if phases[name] == "dbt build"} == {"sales_kpi_dbt_assets"}
    raw_checks = {name for name in names if phases[name].startswith("raw checks")}
    assert raw_checks == {name for name in checks if name.startswith("raw__")}


def test_cli_steps_table_is_plain_text():
    from orchestration.cli import steps_table

    lines = steps_table(STEPS, {"models": 30.0, "tests": 20.0}, elapsed=80.0)
    assert lines[0].split() == ["load", "raw", "tables", "4.0", "s"]
    # 80 s of wall time, 74.25 s in steps: 5.75 s outside them (Dagster, Data Docs).
    assert lines[-1].split() == ["Dagster", "start-up,", "Data", "Docs,", "bookkeeping", "5.8", "s"]
    assert len(lines) == 8 and len({len(line) for line in lines}) == 1  # one aligned column
    assert not any(ANSI.search(line) for line in lines)


def test_run_history_keeps_the_newest_finished_runs(monkeypatch):
    """What grows every night is bounded: old finished runs leave the Dagster history."""
    from orchestration.lib.run_history import keep_runs, prune_run_history

    @dg.op
    def step(context):
        return 1

    @dg.job
    def tiny():
        step()

    with dg.instance_for_test() as instance:
        ran = [tiny.execute_in_process(instance=instance).run_id for _ in range(4)]
        running = instance.create_run_for_job(tiny, status=dg.DagsterRunStatus.STARTED).run_id
        assert prune_run_history(instance, keep=2) == [ran[1], ran[0]]  # the two oldest
        assert set(instance.get_run_ids()) == {ran[2], ran[3], running}
        assert not instance.all_logs(ran[0])  # their event logs went with them
        assert prune_run_history(instance, keep=2) == []
    monkeypatch.setenv("SALES_KPI_KEEP_RUNS", "30")
    assert keep_runs() == 30
    monkeypatch.setenv("SALES_KPI_KEEP_RUNS", "all")
    with pytest.raises(ValueError, match="SALES_KPI_KEEP_RUNS"):
        keep_runs()


def test_heartbeat_survives_the_handlers_being_closed():
    """Logging configuration during a run (dictConfig) closes every handler: the heartbeat of
    the printer goes on until it is stopped."""
    import time

    clock, stream = Clock(), io.StringIO()
    printer = ProgressPrinter(stream, clock=clock, heartbeat=15.0)
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(printer)
    logger.setLevel(logging.INFO)
    thread = printer.start_heartbeat()
    try:
        report("dbt", "dbt build: 3 models")
        logging.shutdown([weakref_to(printer)])  # what dictConfig does to existing handlers
        clock.now += 20
        deadline = time.monotonic() + 10
        while printer.lines < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stream.getvalue().splitlines()[-1] == "     20 s  still dbt build: 3 models"
    finally:
        printer.stop_heartbeat()
        logger.removeHandler(printer)
    thread.join(timeout=5)
    assert not thread.is_alive()


def weakref_to(handler):
    import weakref

    return weakref.ref(handler)


def test_the_dagster_home_gives_the_code_server_time_to_start(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.cli import _dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # an older home
    _dagster_home()
    _dagster_home()  # idempotent
    text = (tmp_path / "dagster.yaml").read_text()
    assert text.count("code_servers:") == 1 and "enabled: false" in text
    assert dg.DagsterInstance.get().code_server_process_startup_timeout == 600
