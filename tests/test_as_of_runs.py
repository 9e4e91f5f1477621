"""Runs that mean something: every run has an explicit as-of date (集計基準日), recorded in
`_publication`, and a run on the inputs the published file was built from is skipped.

No pipeline run of its own: the skip is shown on the session's tiny run (`tiny_run`), the
schedule and the sensor by evaluating them, and the publication of a scheduled run by
materialising the publication asset alone over a small working database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.lib.landing_state import record_demo_as_of
from orchestration.lib.publish import publication_info
from orchestration.lib.run_inputs import (
    AS_OF_TAG,
    FORCE_TAG,
    matching_publication,
    resolve_as_of,
    run_inputs,
)
from orchestration.lib.settings import Settings
from orchestration.resources import WarehouseResource
from tests.conftest import TINY_AS_OF
from tests.test_publication import _working_db

SEEN: dict = {}


@dg.asset
def dbt_vars_probe(warehouse: WarehouseResource) -> None:
    """What a run's assets take from the warehouse resource: the environment dbt is given."""
    SEEN["dbt_env"] = warehouse.settings().dbt_env()


def _today_in_tokyo() -> date:
    return (datetime.now(UTC) + timedelta(hours=9)).date()  # JST is UTC+9 all year


def _configure(tmp_path: Path, monkeypatch) -> Settings:
    """SALES_KPI_* pointing under tmp_path, nothing pinned, as the daemon's run worker sees."""
    for name, value in {
        "SALES_KPI_HOME": tmp_path,
        "SALES_KPI_LANDING_DIR": tmp_path / "landing",
        "SALES_KPI_WORKING_DB": tmp_path / "warehouse" / "working.duckdb",
        "SALES_KPI_PUBLISHED_DB": tmp_path / "warehouse" / "marts.duckdb",
        "SALES_KPI_QUALITY_DIR": tmp_path / "warehouse" / "quality",
    }.items():
        monkeypatch.setenv(name, str(value))
    for name in ("SALES_KPI_AS_OF_DATE", "SALES_KPI_DBT_VARS", "SALES_KPI_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "landing").mkdir()
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "landing" / "leads.csv").write_text("lead_id\nL1\n")
    (tmp_path / "landing" / "users.csv").write_text("user_id\nU1\n")
    return Settings.from_env()


def _touch(path: Path, seconds: int = 1) -> None:
    """A later modified time, the same content."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_as_of_date_is_pinned_else_tagged_else_the_demos_else_today(tmp_path, monkeypatch):
    settings = _configure(tmp_path, monkeypatch)
    today = _today_in_tokyo()
    assert resolve_as_of(settings).date == today
    assert resolve_as_of(settings).source == "today in Asia/Tokyo"
    # The demo records its date with the files it generated.
    record_demo_as_of(settings.landing_dir, date(2026, 10, 31))
    demo = resolve_as_of(settings)
    assert (demo.date, demo.source) == (date(2026, 10, 31), "the demo's landing data")
    # A run tag (the nightly schedule's) comes before the demo's date ...
    tagged = resolve_as_of(settings, {AS_OF_TAG: "2025-11-01"})
    assert (tagged.date, tagged.source) == (date(2025, 11, 1), "run tag sales_kpi/as_of_date")
    # ... and a pinned SALES_KPI_AS_OF_DATE before both.
    monkeypatch.setenv("SALES_KPI_AS_OF_DATE", "2025-05-16")
    pinned = resolve_as_of(Settings.from_env(), {AS_OF_TAG: "2025-11-01"})
    assert (pinned.date, pinned.source) == (date(2025, 5, 16), "SALES_KPI_AS_OF_DATE")
    # Once the landing folder no longer holds exactly the demo's files, today it is.
    _touch(settings.landing_dir / "users.csv")
    assert resolve_as_of(settings).date == today
    record_demo_as_of(settings.landing_dir, date(2026, 10, 31))
    (settings.landing_dir / "targets.csv").write_text("kpi_code\n")
    assert resolve_as_of(settings).date == today
    with pytest.raises(ValueError, match="is not a date \\(YYYY-MM-DD\\); fix or remove"):
        resolve_as_of(settings, {AS_OF_TAG: "2025-13-01"})
    monkeypatch.setenv("SALES_KPI_TIMEZONE", "Tokyo")
    with pytest.raises(ValueError, match="not a time zone; set an IANA name such as Asia/Tokyo"):
        Settings.from_env()


def _tick(scheduled_at: datetime):
    from orchestration.schedules import nightly_schedule

    schedule = nightly_schedule()
    return schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=scheduled_at))


@pytest.fixture
def scheduled_publication(tmp_path, monkeypatch):
    """The nightly tick of 2025-10-31T17:30Z (02:30 on 1 November in Tokyo) and the publication
    of its run: the publication asset materialised alone, with the run's tags, over a small
    working database; a probe asset records what the run gives dbt."""
    from orchestration.assets.publication import published_marts

    settings = _configure(tmp_path, monkeypatch)
    _working_db(settings.working_db, 1, rows=3)
    tick = _tick(datetime(2025, 10, 31, 17, 30, tzinfo=UTC))
    (request,) = tick.run_requests
    SEEN.clear()
    result = dg.materialize(
        [dbt_vars_probe, published_marts],
        resources={"warehouse": WarehouseResource()},
        tags=request.tags,
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return settings, request, result.run_id, dict(SEEN)


def test_a_scheduled_run_is_computed_and_published_as_of_the_schedules_date(
    scheduled_publication,
):
    settings, request, run_id, seen = scheduled_publication
    assert request.tags[AS_OF_TAG] == "2025-11-01"
    # What dbt is given (macro as_of_date() reads it when it compiles SQL).
    assert seen["dbt_env"]["SALES_KPI_BUILD_AS_OF_DATE"] == "2025-11-01"
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        row = con.execute(
            "select run_id, as_of_date, as_of_date_source, input_key from _publication"
        ).fetchone()
    assert row[:3] == (run_id, date(2025, 11, 1), "the nightly schedule's date in Asia/Tokyo")
    assert row[3] == run_inputs(settings, {AS_OF_TAG: "2025-11-01"}).key
    assert len(row[3]) == 64
    # A tick before midnight in Tokyo (23:59 JST on 31 October) is still 31 October.
    (before_midnight,) = _tick(datetime(2025, 10, 31, 14, 59, tzinfo=UTC)).run_requests
    assert before_midnight.tags[AS_OF_TAG] == "2025-10-31"


def test_the_schedule_skips_unchanged_inputs_but_runs_every_new_night(scheduled_publication):
    settings, _, run_id, _ = scheduled_publication
    # The same tick again (a daemon restarted, a retried tick): nothing changed, no run.
    again = _tick(datetime(2025, 10, 31, 17, 30, tzinfo=UTC))
    assert again.run_requests == []
    assert again.skip_message.startswith(f"Skipped: nothing changed since run {run_id}")
    assert "as of 2025-11-01" in again.skip_message
    assert f"run tag {FORCE_TAG}=true" in again.skip_message
    # The next night, on the same files: a new as-of date, so it runs.
    (next_night,) = _tick(datetime(2025, 11, 1, 17, 30, tzinfo=UTC)).run_requests
    assert next_night.tags[AS_OF_TAG] == "2025-11-02"
    # The same night with one file touched: it runs.
    _touch(settings.landing_dir / "leads.csv")
    (touched,) = _tick(datetime(2025, 10, 31, 17, 30, tzinfo=UTC)).run_requests
    assert touched.tags[AS_OF_TAG] == "2025-11-01"


def test_a_run_without_pin_or_tag_publishes_todays_date_never_null(tmp_path, monkeypatch):
    """A run launched by hand from the UI: no pin, no tag, no demo marker."""
    from orchestration.assets.publication import published_marts

    settings = _configure(tmp_path, monkeypatch)
    _working_db(settings.working_db, 1, rows=3)
    first = dg.materialize(
        [published_marts],
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    info = publication_info(settings.published_db)
    assert info["run_id"] == first.run_id
    assert info["as_of_date"] == _today_in_tokyo().isoformat()
    assert info["as_of_date_source"] == "today in Asia/Tokyo"
    # Launched again on the same inputs: the file is left byte for byte as it was, and the
    # materialization says which publication it matches; the force tag republishes.
    digest = _sha256(settings.published_db)
    second = dg.materialize(
        [published_marts],
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    (materialization,) = second.asset_materializations_for_node("published__marts_duckdb")
    assert materialization.metadata["published_run_id"].value == first.run_id
    assert "sales_kpi/force=true" in materialization.metadata["skipped"].value
    assert _sha256(settings.published_db) == digest
    forced = dg.materialize(
        [published_marts],
        resources={"warehouse": WarehouseResource()},
        tags={FORCE_TAG: "true"},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert publication_info(settings.published_db)["run_id"] == forced.run_id


def test_running_again_on_the_same_inputs_is_skipped_and_the_file_stays_byte_identical(
    tiny_run, monkeypatch, capsys
):
    from orchestration.cli import main
    from orchestration.pipeline import run_pipeline

    settings, outcome = tiny_run
    assert outcome.success, outcome
    info = publication_info(settings.published_db)
    assert info["as_of_date"] == TINY_AS_OF
    assert info["as_of_date_source"] == "SALES_KPI_AS_OF_DATE"
    # Guard: were the key to differ, the run below would rebuild the shared tiny run's file.
    assert matching_publication(settings, run_inputs(settings)) == info
    published = settings.published_db
    digest, mtime = _sha256(published), published.stat().st_mtime_ns

    again = run_pipeline(settings)
    assert again.skipped is not None and not again.published and again.success
    assert again.skipped.startswith(
        f"Skipped: nothing changed since run {outcome.run_id} (published at "
        f"{info['published_at']} UTC, as of {TINY_AS_OF})"
    )
    assert "--force" in again.skipped
    assert (_sha256(published), published.stat().st_mtime_ns) == (digest, mtime)
    assert again.publication_after == info

    # The CLI says the same and exits 0.
    for name, value in {
        "SALES_KPI_HOME": settings.home,
        "SALES_KPI_LANDING_DIR": settings.landing_dir,
        "SALES_KPI_WORKING_DB": settings.working_db,
        "SALES_KPI_PUBLISHED_DB": published,
        "SALES_KPI_QUALITY_DIR": settings.quality_dir,
        "SALES_KPI_AS_OF_DATE": TINY_AS_OF,
        "SALES_KPI_DBT_VARS": "{}",
    }.items():
        monkeypatch.setenv(name, str(value))
    assert main(["run"]) == 0
    printed = capsys.readouterr().out
    assert f"Skipped: nothing changed since run {outcome.run_id}" in printed
    assert "python -m orchestration.cli run --force" in printed
    assert _sha256(published) == digest

    # Another as-of date, or one landing file touched, is not the published file's input.
    other_day = dataclasses.replace(settings, as_of_date=date(2025, 11, 1))
    assert matching_publication(other_day, run_inputs(other_day)) is None
    leads = settings.landing_dir / "leads.csv"
    stat = leads.stat()
    _touch(leads)
    try:
        assert matching_publication(settings, run_inputs(settings)) is None
    finally:
        os.utime(leads, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert matching_publication(settings, run_inputs(settings)) == info


def test_a_sensor_run_on_the_demos_files_keeps_the_demos_date(tmp_path, monkeypatch):
    """`make demo` then `make ui` with a file changed by the sensor's own cursor (no
    publication yet here): the run computes and publishes as of the demo's date, not today."""
    from orchestration.assets.publication import published_marts
    from orchestration.sensors import landing_files_sensor

    settings = _configure(tmp_path, monkeypatch)
    _working_db(settings.working_db, 1, rows=3)
    record_demo_as_of(settings.landing_dir, date(2026, 10, 31))
    (request,) = landing_files_sensor.evaluate_tick(dg.build_sensor_context()).run_requests
    assert request.tags[AS_OF_TAG] == "2026-10-31"
    dg.materialize(
        [published_marts],
        resources={"warehouse": WarehouseResource()},
        tags=request.tags,
        instance=dg.DagsterInstance.ephemeral(),
    )
    info = publication_info(settings.published_db)
    assert (info["as_of_date"], info["as_of_date_source"]) == (
        "2026-10-31",
        "the demo's landing data",
    )
