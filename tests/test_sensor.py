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
