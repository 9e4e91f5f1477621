"""The landing sensor sees every landing file, whatever the case of its name or its kind."""

from orchestration.sensors import landing_fingerprint


def test_fingerprint_covers_every_export_file(tmp_path):
    (tmp_path / "Spend.CSV").write_text("spend_month\n")
    (tmp_path / "hubspot").mkdir()
    (tmp_path / "hubspot" / "deals.csv").write_text("Record ID\n")
    (tmp_path / "hubspot" / "source.yml").write_text("type: hubspot\n")
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "deals.jsonl").write_text("{}\n")
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / "~$report.xlsx").write_text("lock")
    assert sorted(landing_fingerprint(tmp_path)) == [
        "Spend.CSV",
        "crm/deals.jsonl",
        "hubspot/deals.csv",
        "hubspot/source.yml",
    ]
    before = landing_fingerprint(tmp_path)
    (tmp_path / "Spend.CSV").write_text("spend_month\n2025-04\n")
    assert landing_fingerprint(tmp_path)["Spend.CSV"] != before["Spend.CSV"]


def test_fingerprint_covers_a_synced_database_outside_the_landing_folder(tmp_path):
    landing = tmp_path / "landing"
    (landing / "salesforce").mkdir(parents=True)
    (landing / "salesforce" / "source.yml").write_text(
        "type: salesforce\nsource_system: salesforce\nschema: salesforce\n"
        "database: ../../fivetran.duckdb\n"
    )
    synced = tmp_path / "fivetran.duckdb"
    synced.write_bytes(b"x" * 10)
    before = landing_fingerprint(landing)
    key = f"synced:salesforce:{landing / 'salesforce' / '../../fivetran.duckdb'}"
    assert before[key] == [10, synced.stat().st_mtime_ns]
    (synced.parent / "fivetran.duckdb.wal").write_bytes(b"sync")  # a sync not yet checkpointed
    after = landing_fingerprint(landing)
    assert after != before and after[key + ".wal"][0] == 4


def _settings(tmp_path, monkeypatch):
    from orchestration.lib.settings import Settings

    for name, value in {
        "SALES_KPI_HOME": tmp_path,
        "SALES_KPI_LANDING_DIR": tmp_path / "landing",
        "SALES_KPI_WORKING_DB": tmp_path / "warehouse" / "working.duckdb",
        "SALES_KPI_PUBLISHED_DB": tmp_path / "published" / "marts.duckdb",
    }.items():
        monkeypatch.setenv(name, str(value))
    (tmp_path / "published").mkdir()
    (tmp_path / "landing").mkdir()
    return Settings.from_env()


def test_a_daemon_started_afresh_runs_only_what_the_last_publication_did_not_load(
    tmp_path, monkeypatch
):
    import dagster as dg

    from orchestration.lib.landing_state import mark_published, remember_loaded
    from orchestration.sensors import landing_files_sensor

    settings = _settings(tmp_path, monkeypatch)
    (settings.landing_dir / "leads.csv").write_text("lead_id\nL1\n")
    # Nothing published yet: the first evaluation starts a run.
    assert isinstance(landing_files_sensor(dg.build_sensor_context()), dg.RunRequest)
    remember_loaded(settings)  # a run starts loading these files ...
    assert isinstance(landing_files_sensor(dg.build_sensor_context()), dg.RunRequest)
    mark_published(settings)  # ... and publishes: a fresh daemon (no cursor) starts nothing
    assert isinstance(landing_files_sensor(dg.build_sensor_context()), dg.SkipReason)
    (settings.landing_dir / "opportunities.csv").write_text("opportunity_id\nO1\n")
    request = landing_files_sensor(dg.build_sensor_context())
    assert isinstance(request, dg.RunRequest)
    assert request.tags["changed_files"] == "opportunities.csv"


def _tick(cursor: str | None):
    """One sensor evaluation as the daemon does it: (run requests, skip message, new cursor)."""
    import dagster as dg

    from orchestration.sensors import landing_files_sensor

    data = landing_files_sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor))
    return data.run_requests, data.skip_message, data.cursor


def test_two_ticks_on_an_unchanged_folder_start_one_run_and_a_touched_file_one_more(
    tmp_path, monkeypatch
):
    import os

    settings = _settings(tmp_path, monkeypatch)
    (settings.landing_dir / "leads.csv").write_text("lead_id\nL1\n")
    (settings.landing_dir / "users.csv").write_text("user_id\nU1\n")
    first, _, cursor = _tick(None)
    second, skipped, cursor_after = _tick(cursor)
    assert len(first) == 1 and second == []
    assert skipped == f"No new or changed files in {settings.landing_dir}."
    assert cursor_after == cursor
    # The run carries the as-of date it will use: today in Asia/Tokyo (no pin, no demo).
    assert first[0].tags["sales_kpi/as_of_date"] == _today_in_tokyo()
    assert first[0].tags["sales_kpi/as_of_date_source"] == "today in Asia/Tokyo"
    # Touching one file (same content, a later modified time) starts exactly one run.
    leads = settings.landing_dir / "leads.csv"
    stat = leads.stat()
    os.utime(leads, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third, _, cursor = _tick(cursor)
    fourth, _, _ = _tick(cursor)
    assert len(third) == 1 and fourth == []
    assert third[0].tags["changed_files"] == "leads.csv"
    assert third[0].run_key != first[0].run_key


def _today_in_tokyo() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(hours=9)).date().isoformat()  # JST: UTC+9, no DST


def test_files_the_published_file_was_built_from_start_nothing(tmp_path, monkeypatch):
    """A fresh daemon without the fingerprint file (or a stale cursor): the inputs are those of
    the published file, so the sensor says which publication it matches instead of a run."""
    from orchestration.lib.publish import publish_marts
    from orchestration.lib.run_inputs import run_inputs
    from tests.test_publication import _working_db

    settings = _settings(tmp_path, monkeypatch)
    (settings.landing_dir / "leads.csv").write_text("lead_id\nL1\n")
    inputs = run_inputs(settings)
    publish_marts(
        _working_db(tmp_path / "w.duckdb", 1, rows=3),
        settings.published_db,
        run_id="run-published",
        as_of_date=inputs.as_of.date.isoformat(),
        input_key=inputs.key,
    )
    requests, skipped, _ = _tick(None)
    assert requests == []
    assert skipped.startswith("Skipped: nothing changed since run run-published")
    assert "sales_kpi/force=true" in skipped
    (settings.landing_dir / "leads.csv").write_text("lead_id\nL1\nL2\n")
    requests, _, _ = _tick(None)
    assert len(requests) == 1
