"""Row accounting of the loader: good rows load, bad rows are quarantined with reasons."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.lib.loader import LandingFileError, load_landing

OPPORTUNITY_HEADER = (
    "opportunity_id,account_id,owner_id,lead_id,created_at,close_date,opportunity_stage,"
    "amount,currency,opportunity_type,is_closed,is_won,lost_reason"
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def test_bad_rows_are_quarantined_and_every_row_is_accounted_for(tmp_path):
    landing = tmp_path / "landing"
    _write(
        landing / "opportunities.csv",
        OPPORTUNITY_HEADER + "\n"
        "O1,A1,U1,,2025-04-01 10:00:00,2025-05-01,approach,1000,JPY,new,false,false,\n"
        "O2,A1,U1,,2025-13-01 10:00:00,2025-05-01,approach,1000,JPY,new,false,false,\n"
        "O3,A1,U1,,2025-04-01 10:00:00,2025-05-01,approach,12abc,JPY,new,false,false,\n"
        "O4,A1,,,2025-04-01 10:00:00,2025-05-01,approach,1000,JPY,new,false,false,\n"
        "O5,A1,U1,,2025-04-01 10:00:00,2025-05-01,approach,1000,JPY,upsell,maybe,false,\n"
        "O6,A1,U1,too,many,fields,in,this,row,x,y,z,w,v\n"
        '"O7",A1,U1,,2025-04-02 10:00:00+00:00,,"approach",2000,JPY,new,0,0,"line\nbreak"\n',
    )
    db = tmp_path / "working.duckdb"
    (result,) = load_landing(db, landing, entities=["opportunities"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 2, 5)
    assert result.balanced
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute(
            "select opportunity_id, created_at, amount, is_closed, lost_reason, _row_number "
            "from raw.opportunities order by 1"
        ).fetchall()
        reasons = dict(
            con.execute(
                "select coalesce(cast(row_number as varchar), 'line ' || line_number), reason "
                "from raw._quarantine where entity = 'opportunities'"
            ).fetchall()
        )
        log = con.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw._load_log"
        ).fetchall()
    assert [row[0] for row in loaded] == ["O1", "O7"]
    # Each row keeps its data row in the file, also after the malformed row 6 the reader
    # left out (row 7 is not renumbered 6).
    assert [row[5] for row in loaded] == [1, 7]
    # An explicit offset is converted to Asia/Tokyo wall time: 10:00 UTC = 19:00 JST.
    assert str(loaded[1][1]) == "2025-04-02 19:00:00"
    assert loaded[1][3] is False and loaded[1][4] == "line\nbreak"
    assert "created_at: cannot read 2025-13-01 10:00:00 as timestamp" in reasons["2"]
    assert "amount: cannot read 12abc as decimal" in reasons["3"]
    assert "owner_id: required value is empty" in reasons["4"]
    assert "opportunity_type: value upsell is not one of new, expansion, renewal" in reasons["5"]
    assert "is_closed: cannot read maybe as boolean" in reasons["5"]
    malformed = [r for key, r in reasons.items() if key.startswith("line")]
    assert len(malformed) == 1 and "TOO MANY COLUMNS" in malformed[0]
    assert "line 7" in reasons  # the header is line 1
    assert log == [(7, 2, 5)]


def test_missing_required_column_names_file_and_column(tmp_path):
    landing = tmp_path / "landing"
    path = _write(landing / "leads.csv", "lead_id,lead_source,lead_status\nL1,web_inquiry,open\n")
    with pytest.raises(LandingFileError) as error:
        load_landing(tmp_path / "w.duckdb", landing, entities=["leads"])
    message = str(error.value)
    assert str(path) in message and "created_at" in message


def test_bom_multiple_files_and_reload_is_idempotent(tmp_path):
    landing = tmp_path / "landing"
    header = "agency_id,agency_name,fee_model,note\n"
    _write(landing / "agencies.csv", "\ufeff" + header + "A1,株式会社エー,retainer,x\n")
    _write(
        landing / "agencies" / "2025-05.csv", header + "A2,ビー株式会社,,y\nA1,エー改,retainer,z\n"
    )
    db = tmp_path / "w.duckdb"
    results = load_landing(db, landing, entities=["agencies"])
    assert [r.rows_loaded for r in results] == [1, 2]
    assert results[0].extra_columns == ["note"]
    # The second load finds both files unchanged: it reads neither and keeps their rows.
    assert load_landing(db, landing, entities=["agencies"]) == []
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.agencies").fetchone() == (3,)
        assert con.execute("select count(*) from raw._load_log").fetchone() == (2,)
        assert con.execute("select count(*) from raw._quarantine").fetchone() == (0,)


def test_no_landing_file_gives_an_empty_table(tmp_path):
    (tmp_path / "landing").mkdir()
    results = load_landing(tmp_path / "w.duckdb", tmp_path / "landing", entities=["targets"])
    assert results == []
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.targets").fetchone() == (0,)


def test_every_offset_form_is_converted_and_only_quarantined_rows_keep_a_raw_record(tmp_path):
    """The offset regex runs only on values ending in a sign or Z: every offset form is still
    converted (expected values from zoneinfo), a value without one is taken as local time, and
    the JSON record is kept for the quarantined row only."""
    import json
    from datetime import datetime
    from zoneinfo import ZoneInfo

    stamps = {
        "O1": "2025-04-02 10:00:00Z",
        "O2": "2025-04-02T10:00:00+09",
        "O3": "2025-04-02 10:00:00-0500",
        "O4": "2025-04-02 10:00:00.250+05:30",
        "O6": "2025-04-02 10:00:00",
        "O7": "2025-04-02 10:00",
    }
    rows = [
        f"{key},A1,U1,,{value},2025-05-01,approach,1,JPY,new,false,false,"
        for key, value in stamps.items()
    ]
    rows.append("O5,A1,U1,,2025-04-02 25:00:00+09:00,2025-05-01,approach,1,JPY,new,false,false,")
    landing = tmp_path / "landing"
    _write(landing / "opportunities.csv", OPPORTUNITY_HEADER + "\n" + "\n".join(rows) + "\n")
    db = tmp_path / "w.duckdb"
    (result,) = load_landing(db, landing, entities=["opportunities"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 6, 1)
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = dict(
            con.execute("select opportunity_id, created_at from raw.opportunities").fetchall()
        )
        quarantined = con.execute(
            "select row_number, reason, raw_record from raw._quarantine"
        ).fetchall()
    tokyo = ZoneInfo("Asia/Tokyo")
    for key, value in stamps.items():
        parsed = datetime.fromisoformat(value.replace(" -", "-").replace("+09", "+09:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(tokyo).replace(tzinfo=None)
        assert loaded[key] == parsed, key
    ((row, reason, record),) = quarantined
    assert row == 7 and "created_at: cannot read 2025-04-02 25:00:00+09:00" in reason
    assert json.loads(record)["opportunity_id"] == "O5"
    assert json.loads(record)["created_at"] == "2025-04-02 25:00:00+09:00"
