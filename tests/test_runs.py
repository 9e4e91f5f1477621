"""Runs: one at a time (the run lock), kill -9 in every phase, honest exit status, nights that
repeat exactly, and what a reader in one long-lived process sees across publications.

The CLI scenario shares its pipeline runs (each ~100 s): two runs started together on a fresh
working database and Dagster home (the winner is the good run), four runs killed in the load,
checks, dbt and publish phases, one recovery run on the reused working database; the good run
and the recovery run are the idempotence pair. A run published with warnings is the corpus's
(tests/bad_inputs/test_corpus.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.lib import run_lock
from orchestration.lib.publish import (
    publication_info,
    publish_marts,
    remove_stale_temporary_files,
)
from orchestration.lib.settings import REPO_ROOT
from tests.conftest import TINY, TINY_AS_OF, copy_fixture
from tests.test_publication import _working_db

PYTHON = sys.executable

# ---------------------------------------------------------------------------------------------
# The run lock, alone
# ---------------------------------------------------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from orchestration.lib import run_lock
lock = run_lock.acquire(Path(sys.argv[1]), sys.argv[2])
run_lock.mark_phase("dbt")
print("held", flush=True)
time.sleep(120)
"""


def _holder(working: Path, run_id: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [PYTHON, "-c", HOLDER, str(working), run_id],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_and_a_killed_runs_lock_is_taken_over(tmp_path):
    working = tmp_path / "warehouse" / "working.duckdb"
    holder = _holder(working, "run-A")
    try:
        with pytest.raises(run_lock.RunInProgressError) as refused:
            run_lock.acquire(working)
        message = str(refused.value)
        assert f"Another run (run run-A, pid {holder.pid} on " in message
        assert "phase dbt) is in progress" in message
        assert "wait for it to finish and run again" in message
        assert str(run_lock.lock_path(working)) in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel released the dead holder's flock; its record is still in the file: stale.
    assert run_lock.current_record(working)["pid"] == holder.pid
    lock = run_lock.acquire(working, "run-B")
    try:
        assert lock.stale["run_id"] == "run-A" and lock.stale["phase"] == "dbt"
        assert run_lock.current_record(working)["pid"] == os.getpid()
        assert run_lock.current_record(working)["run_id"] == "run-B"
        # Re-entrant in one process (CLI -> run_pipeline -> the warehouse resource).
        inner = run_lock.acquire(working, "run-B")
        assert inner is lock and lock.depth == 2
        run_lock.release(inner)
        run_lock.mark_phase("publish")
        assert run_lock.current_record(working)["phase"] == "publish"
    finally:
        run_lock.release(lock)
    assert run_lock.current_record(working) is None  # released cleanly: emptied
    again = run_lock.acquire(working)
    assert again.stale is None
    run_lock.release(again)


def test_a_process_left_holding_the_working_database_is_named(tmp_path):
    """A dbt process outliving its killed run holds the working database: the next run says
    so (exit 4) instead of failing on DuckDB's lock error."""
    working = tmp_path / "working.duckdb"
    duckdb.connect(str(working)).close()
    script = (
        "import sys, time, duckdb\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "print('open', flush=True)\n"
        "time.sleep(120)\n"
    )
    other = subprocess.Popen(
        [PYTHON, "-c", script, str(working)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "open"
        with pytest.raises(run_lock.RunInProgressError) as refused:
            run_lock.acquire(working)
        assert "Another process still holds the working database" in str(refused.value)
        assert f"PID {other.pid}" in str(refused.value)
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
    assert run_lock.current_record(working) is None  # the refused run left no record
    run_lock.release(run_lock.acquire(working))


def test_the_killed_run_is_marked_failed_in_dagster(tmp_path):
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_run(
            DagsterRun(
                job_name="sales_kpi_pipeline", run_id="killed-1", status=DagsterRunStatus.STARTED
            )
        )
        stale = {"pid": 999_999, "host": "h", "run_id": "killed-1", "phase": "load"}
        note = run_lock.mark_stale_run_failed(instance, stale)
        assert "marked it FAILED" in note
        run = instance.get_run_by_id("killed-1")
        assert run.status == DagsterRunStatus.FAILURE
        # A finished run is left as it is.
        assert "marked" not in run_lock.mark_stale_run_failed(instance, stale).split(";")[-1]


def _dead_pid() -> int:
    process = subprocess.Popen([PYTHON, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporary_files_of_a_dead_publication_are_removed(tmp_path):
    published = tmp_path / "marts.duckdb"
    dead = _dead_pid()
    names = [
        f".marts.duckdb.{dead}.tmp",
        f".marts.duckdb.{dead}.tmp.wal",
        f".marts.duckdb.{os.getpid()}.tmp",  # a live publication: kept
        f".other.duckdb.{dead}.tmp",  # another file's: kept
        "marts.duckdb",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    assert remove_stale_temporary_files(published) == names[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


# ---------------------------------------------------------------------------------------------
# What a reader in one long-lived process sees across publications (README "Connecting a BI
# tool" says exactly this)
# ---------------------------------------------------------------------------------------------


def _version(con) -> int:
    return con.execute("select max(version) from kpi_test").fetchone()[0]


def _attached(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"attach '{path}' as marts (read_only)")
    con.execute("use marts")
    return con


def test_a_reader_in_one_process_across_publications(tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(_working_db(tmp_path / "w1.duckdb", 1), published, run_id="r1")
    held = duckdb.connect(str(published), read_only=True)  # a pooled connection
    assert _version(held) == 1
    publish_marts(_working_db(tmp_path / "w2.duckdb", 2), published, run_id="r2")
    # 1. A connection held open keeps the publication it opened.
    assert _version(held) == 1
    # 2. A new duckdb.connect(path) while another is open in this process: DuckDB's instance
    #    cache hands back the old file.
    second = duckdb.connect(str(published), read_only=True)
    assert _version(second) == 1
    # 3. An in-memory connection that attaches the file sees the newest publication, whatever
    #    else is open.
    fresh = _attached(published)
    assert _version(fresh) == 2
    # 4. Once every connection to the path is closed, the next one sees the new file.
    second.close()
    held.close()
    reopened = duckdb.connect(str(published), read_only=True)
    assert _version(reopened) == 2
    publish_marts(_working_db(tmp_path / "w3.duckdb", 3), published, run_id="r3")
    # An attached connection also keeps its publication until it is re-attached.
    assert _version(fresh) == 2 and _version(_attached(published)) == 3
    assert _version(reopened) == 2
    reopened.close()
    with duckdb.connect(str(published), read_only=True) as con:
        assert _version(con) == 3
    assert publication_info(published)["run_id"] == "r3"


# ---------------------------------------------------------------------------------------------
# The CLI scenario: kills, recovery, two runs at once, idempotence, honest exit status
# ---------------------------------------------------------------------------------------------

# A lead whose owner is in no users export: flagged (unknown_owner, info), and the dbt
# relationship test fct_leads.rep_id -> dim_reps, of severity warn, fails: published with a
# warning.


def _start(base: Path, landing: Path, dagster_home: Path, log: Path) -> subprocess.Popen:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SALES_KPI_") and key != "DAGSTER_HOME"
    }
    env |= {
        "SALES_KPI_HOME": str(base),
        "SALES_KPI_LANDING_DIR": str(landing),
        "SALES_KPI_AS_OF_DATE": TINY_AS_OF,
        "DAGSTER_HOME": str(dagster_home),
    }
    dagster_home.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        return subprocess.Popen(
            # Every run here is on the same inputs on purpose (kills, recovery, idempotence):
            # --force, or all but the first would be skipped (tests/test_as_of_runs.py).
            [PYTHON, "-m", "orchestration.cli", "run", "--force"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the test can see dbt outlive it
        )


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_in_phase(process: subprocess.Popen, working: Path, published: Path, phase: str) -> dict:
    """kill -9 the CLI once its lock file says it is in `phase` (publish: once its temporary
    file exists); wait until every process it started is gone."""
    deadline = time.monotonic() + 600
    tmp = published.with_name(f".{published.name}.{process.pid}.tmp")
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the run ended before phase {phase}"
        record = run_lock.current_record(working) or {}
        in_phase = record.get("pid") == process.pid and record.get("phase") == phase
        if in_phase and (phase != "publish" or tmp.exists()):
            break
        time.sleep(0.001 if record.get("phase") == "publish" else 0.05)
    else:
        raise AssertionError(f"phase {phase} not reached")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = time.monotonic()
    while _group_alive(process.pid) and time.monotonic() < killed_at + 300:
        time.sleep(0.1)
    return {
        "record": record,
        "tmp_left": sorted(p.name for p in published.parent.glob(f".{published.name}.*")),
        "orphans_seconds": time.monotonic() - killed_at,
    }


def _published_digest(path: Path) -> dict[str, tuple[int, str]]:
    """Every published table except _publication: row count and a hash of its sorted rows."""
    digest = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as published (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'published' and table_name <> '_publication' "
            "order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            rows = con.execute(f'select * from published.{schema}."{table}"').fetchall()
            text = sorted(repr(row) for row in rows)
            digest[f"{schema}.{table}"] = (
                len(rows),
                hashlib.sha256("\n".join(text).encode()).hexdigest(),
            )
    return digest


def _differences(left: Path, right: Path, table: str, limit: int = 5) -> list[str]:
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        rows = con.execute(
            f"(select 'reused' as run, * from (select * from l.{table} except all "
            f"select * from r.{table})) union all (select 'fresh', * from (select * from "
            f"r.{table} except all select * from l.{table})) limit {limit}"
        ).fetchall()
    return [repr(row) for row in rows]


def _run_id(output: str) -> str:
    """The id of the run that printed `output`: in its last `(run <id>` (earlier ones can name
    a killed run whose lock it took over)."""
    ids = re.findall(r"\(run ([0-9a-f-]{36})", output)
    assert ids, output
    return ids[-1]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    landing = copy_fixture(TINY, base / "landing")
    dagster_home = base / "dagster_home"
    working = base / "warehouse" / "working.duckdb"
    published = base / "warehouse" / "marts.duckdb"
    result: dict = {"base": base, "published": published, "dagster_home": dagster_home}

    # Two runs started together on a fresh working database and a fresh Dagster home: the
    # winner is the good run every later step starts from.
    pair = [_start(base, landing, dagster_home, base / f"together_{i}.log") for i in (1, 2)]
    result["together"] = [
        (process.wait(timeout=900), (base / f"together_{i}.log").read_text())
        for i, process in zip((1, 2), pair, strict=True)
    ]
    result["good_out"] = next((out for code, out in result["together"] if code != 4), "")
    result["good_rc"] = next((code for code, _ in result["together"] if code != 4), None)
    result["good_publication"] = publication_info(published)
    # The fresh database's publication, kept for the idempotence comparison.
    result["fresh_published"] = base / "fresh_marts.duckdb"
    result["fresh_published"].write_bytes(published.read_bytes())

    result["kills"] = {}
    for phase in ("load", "checks", "dbt", "publish"):
        process = _start(base, landing, dagster_home, base / f"kill_{phase}.log")
        killed = _kill_in_phase(process, working, published, phase)
        killed["publication"] = publication_info(published)
        with duckdb.connect(str(published), read_only=True) as con:
            killed["readable_tables"] = con.execute(
                "select count(*) from duckdb_tables()"
            ).fetchone()[0]
        result["kills"][phase] = killed

    # The same inputs again on the reused working database.
    recovery = _start(base, landing, dagster_home, base / "recovery.log")
    result["recovery_rc"] = recovery.wait(timeout=900)
    result["recovery_out"] = (base / "recovery.log").read_text()
    result["recovery_publication"] = publication_info(published)
    result["leftovers"] = sorted(
        p.name for p in published.parent.iterdir() if p.name.startswith(".")
    )
    result["lock_after"] = run_lock.current_record(working)
    return result


def test_good_run_exits_0_and_says_published(scenario):
    assert scenario["good_rc"] == 0, scenario["good_out"]
    out = scenario["good_out"]
    assert "): published." in out and "Published with" not in out
    assert scenario["good_publication"]["run_id"] == _run_id(out)


@pytest.mark.parametrize("phase", ["load", "checks", "dbt", "publish"])
def test_kill_in_a_phase_leaves_the_previous_publication(scenario, phase):
    killed = scenario["kills"][phase]
    assert killed["record"]["phase"] == phase
    assert killed["publication"] == scenario["good_publication"]
    assert killed["readable_tables"] > 10
    if phase == "publish":  # killed mid-publication: its temporary file is left behind
        assert any(name.endswith(".tmp") for name in killed["tmp_left"]), killed


def test_recovery_publishes_cleans_up_and_marks_the_killed_runs_failed(scenario):
    from dagster._core.storage.dagster_run import DagsterRunStatus

    out = scenario["recovery_out"]
    assert scenario["recovery_rc"] == 0, out
    assert scenario["recovery_publication"]["run_id"] == _run_id(out)
    assert f"now holds this run's marts (run {_run_id(out)}" in out
    assert scenario["leftovers"] == [], scenario["leftovers"]
    assert scenario["lock_after"] is None
    os.environ["DAGSTER_HOME"] = str(scenario["dagster_home"])
    with dg.DagsterInstance.get() as instance:
        for phase, killed in scenario["kills"].items():
            run = instance.get_run_by_id(killed["record"]["run_id"])
            assert run.status == DagsterRunStatus.FAILURE, (phase, run.status)
        recovered = instance.get_run_by_id(_run_id(out))
        assert recovered.status == DagsterRunStatus.SUCCESS


def test_after_the_published_runs_a_fresh_daemon_starts_nothing(scenario, monkeypatch):
    """`make ui` after `make demo`: the sensor has no cursor yet, and the files the last
    published run loaded are not new to it."""
    from orchestration.sensors import landing_files_sensor

    base = scenario["base"]
    monkeypatch.setenv("SALES_KPI_HOME", str(base))
    monkeypatch.setenv("SALES_KPI_LANDING_DIR", str(base / "landing"))
    monkeypatch.setenv("SALES_KPI_WORKING_DB", str(base / "warehouse" / "working.duckdb"))
    monkeypatch.setenv("SALES_KPI_PUBLISHED_DB", str(scenario["published"]))
    assert (scenario["published"].parent / "landing_fingerprint.json").is_file()
    assert isinstance(landing_files_sensor(dg.build_sensor_context()), dg.SkipReason)


def test_two_runs_started_together_one_publishes_the_other_exits_4(scenario):
    codes = sorted(code for code, _ in scenario["together"])
    assert codes == [0, 4], scenario["together"]
    (winner,) = [out for code, out in scenario["together"] if code == 0]
    (loser,) = [out for code, out in scenario["together"] if code == 4]
    assert re.search(r"Another run \(run .*, pid \d+ on .*, started at .*\) is in progress", loser)
    assert "Traceback" not in loser and "Conflicting lock" not in loser
    assert scenario["good_publication"]["run_id"] == _run_id(winner)


def test_reused_and_fresh_working_databases_publish_identical_tables(scenario):
    reused = _published_digest(scenario["published"])
    fresh = _published_digest(scenario["fresh_published"])
    assert reused.keys() == fresh.keys()
    differing = sorted(name for name in reused if reused[name] != fresh[name])
    details = {
        name: _differences(scenario["published"], scenario["fresh_published"], name)
        for name in differing
    }
    assert differing == [], details


def test_the_message_about_the_published_file_is_what_its_publication_table_says(tmp_path):
    """Exit 1 says "unchanged" only when `_publication` is the same before and after."""
    from orchestration.cli import _published_state
    from orchestration.pipeline import PipelineOutcome, settings_for

    settings = settings_for(tmp_path, tmp_path / "landing")
    old = {"run_id": "r-old", "published_at": "2025-11-01 02:00:00", "as_of_date": None}
    new = {"run_id": "r-new", "published_at": "2025-11-02 02:00:00", "as_of_date": None}

    def state(published: bool, before, after) -> str:
        outcome = PipelineOutcome(success=published, published=published, run_id="r-new")
        outcome.publication_before, outcome.publication_after = before, after
        return _published_state(outcome, settings)

    assert state(False, old, old).startswith(
        "The published file is unchanged: it still holds run r-old"
    )
    assert state(False, None, None).startswith("There is no published file yet")
    assert state(True, old, new).startswith(
        "The published file now holds this run's marts (run r-new"
    )
    assert "was replaced by another process" in state(False, old, new)


def test_a_job_run_outside_the_cli_holds_the_lock_too(tmp_path, monkeypatch):
    """Runs the Dagster daemon launches (schedule, sensor, UI) execute the job without the CLI
    or run_pipeline: the warehouse resource takes the run lock when the run starts, so such a
    run fails at once with the in-progress message while another run holds the lock."""
    from orchestration.definitions import defs
    from orchestration.schedules import PIPELINE_JOB_NAME

    working = tmp_path / "warehouse" / "working.duckdb"
    monkeypatch.setenv("SALES_KPI_HOME", str(tmp_path))
    monkeypatch.setenv("SALES_KPI_LANDING_DIR", str(tmp_path / "landing"))
    for name in ("SALES_KPI_WORKING_DB", "SALES_KPI_PUBLISHED_DB", "SALES_KPI_QUALITY_DIR"):
        monkeypatch.delenv(name, raising=False)
    holder = _holder(working, "nightly-run")
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = defs.resolve_job_def(PIPELINE_JOB_NAME).execute_in_process(
                instance=instance, raise_on_error=False
            )
            failure = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
            messages = " ".join(
                str(e.message) + str(e.event_specific_data) for e in result.all_events
            )
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    events = [(e.event_type_value, str(e.message)[:300]) for e in result.all_events]
    assert not result.success and failure, events
    assert "Another run (run nightly-run, pid" in messages, messages
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
