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
