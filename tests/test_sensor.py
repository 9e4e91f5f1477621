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
