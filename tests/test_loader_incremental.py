"""Incremental raw loads: unchanged files are kept, new ones appended, changed ones replaced,
removed ones deleted, and the result equals a fresh full load of the same files.

Every expected count below is written from the CSV text of the test, not taken from the
loader; "a fresh full load" is `load_landing` into a new database, compared on every column but
the load id and the load time.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.lib.inputs import missing_required_inputs
from orchestration.lib.loader import AUDIT_COLUMNS, load_landing
from orchestration.lib.settings import Settings

ENTITY = "activities"
HEADER = "activity_id,activity_type,activity_at,owner_id,outcome,duration_minutes\n"
# (text, rows read, rows loaded, rows quarantined) of each file, counted by hand.
FILE_A = (
    HEADER + "A1,call,2025-04-01 10:00:00,U1,connected,5\n"
    "A2,email,2025-04-01 11:00:00,U1,sent,\n"
    "A3,fax,2025-04-01 12:00:00,U2,,\n",  # unknown activity_type: quarantined
    3,
    2,
    1,
)
FILE_B = (
    HEADER + "B1,meeting,2025-04-02 10:00:00,U2,held,30\n"
    "B2,call,2025-04-02 11:00:00,U2,no_answer,1,too,many,fields\n"  # malformed
    "B3,task,not a time,U2,completed,\n"  # bad timestamp: quarantined
    "B4,task,2025-04-02 13:00:00,U3,completed,15\n",
    4,
    2,
    2,
)
FILE_C = (HEADER + "C1,call,2025-04-03 09:00:00,U1,connected,2\n", 1, 1, 0)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _landing(tmp_path: Path, *files: tuple[str, str]) -> Path:
    landing = tmp_path / "landing"
    for name, text in files:
        _write(landing / ENTITY / name, text)
    return landing


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _snapshot(db: Path) -> tuple[list[tuple], list[tuple]]:
    """The raw rows and the entity's quarantine rows without load id and load time, sorted."""
    raw = _rows(
        db,
        f"select * exclude (_load_id, _loaded_at) from raw.{ENTITY} order by all",
    )
    quarantine = _rows(
        db,
        "select * exclude (load_id, quarantined_at) from raw._quarantine "
        "where entity = ? order by all",
        [ENTITY],
    )
    return raw, quarantine


def _fresh_snapshot(tmp_path: Path, landing: Path, converted: Path | None = None):
    fresh = tmp_path / "fresh.duckdb"
    fresh.unlink(missing_ok=True)
    load_landing(fresh, landing, entities=[ENTITY], converted_dir=converted)
    return _snapshot(fresh)


def _assert_accounted(db: Path) -> None:
    """raw rows + quarantined rows = rows read over the files raw._landed_files holds, in all
    and per file, and the load log balances per file."""
    ((raw,),) = _rows(db, f"select count(*) from raw.{ENTITY}")
    ((quarantined,),) = _rows(db, "select count(*) from raw._quarantine where entity = ?", [ENTITY])
    ((read,),) = _rows(
        db, "select coalesce(sum(rows_read), 0) from raw._landed_files where entity = ?", [ENTITY]
    )
    assert raw + quarantined == read
    for file, rows_read, rows_loaded, rows_quarantined in _rows(
        db,
        "select landing_file, rows_read, rows_loaded, rows_quarantined from raw._landed_files "
        "where entity = ?",
        [ENTITY],
    ):
        ((in_raw,),) = _rows(
            db, f"select count(*) from raw.{ENTITY} where _landing_file = ?", [file]
        )
        ((in_quarantine,),) = _rows(
            db,
            "select count(*) from raw._quarantine where entity = ? and landing_file = ?",
            [ENTITY, file],
        )
        assert (in_raw, in_quarantine) == (rows_loaded, rows_quarantined), file
        assert rows_read == rows_loaded + rows_quarantined, file
    for file, rows_read, rows_loaded, rows_quarantined in _rows(
        db, "select source_file, rows_read, rows_loaded, rows_quarantined from raw._load_log"
    ):
        assert rows_read == rows_loaded + rows_quarantined, file


def _changes(db: Path, load_id: str) -> dict[str, str]:
    rows = _rows(
        db,
        "select landing_file, change from raw._landing_changes where entity = ? and load_id = ?",
        [ENTITY, load_id],
    )
    assert len(rows) == len(
        _rows(db, "select * from raw._landing_changes where entity = ?", [ENTITY])
    )
    return {Path(file).name: change for file, change in rows}


def _load_ids_by_file(db: Path) -> dict[str, set[str]]:
    """Landing file name -> the load ids of its raw and quarantined rows."""
    found: dict[str, set[str]] = {}
    for file, load_id in _rows(
        db,
        f"select _landing_file, _load_id from raw.{ENTITY} union "
        "select landing_file, load_id from raw._quarantine where entity = ?",
        [ENTITY],
    ):
        found.setdefault(Path(file).name, set()).add(load_id)
    return found


def _read_in_load(db: Path, load_id: str) -> int:
    ((read,),) = _rows(
        db, "select coalesce(sum(rows_read), 0) from raw._load_log where load_id = ?", [load_id]
    )
    return read


def test_first_load_records_every_file_with_its_hash_and_counts(tmp_path):
    import hashlib

    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    landed = _rows(
        db,
        "select landing_file, source_system, size_bytes, sha256, load_id, rows_read, "
        "rows_loaded, rows_quarantined from raw._landed_files order by landing_file",
    )
    expected = []
    for name, (text, read, loaded, quarantined) in (("a.csv", FILE_A), ("b.csv", FILE_B)):
        data = text.encode("utf-8")
        path = landing / ENTITY / name
        expected.append(
            (
                str(path),
                "canonical",
                len(data),
                hashlib.sha256(data).hexdigest(),
                "L1",
                read,
                loaded,
                quarantined,
            )
        )
    assert landed == expected
    described = _rows(db, "describe raw._landed_files")
    assert [(r[0], r[1]) for r in described] == [
        ("entity", "VARCHAR"),
        ("landing_file", "VARCHAR"),
        ("source_system", "VARCHAR"),
        ("size_bytes", "BIGINT"),
        ("sha256", "VARCHAR"),
        ("load_id", "VARCHAR"),
        ("loaded_at", "TIMESTAMP"),
        ("rows_read", "BIGINT"),
        ("rows_loaded", "BIGINT"),
        ("rows_quarantined", "BIGINT"),
    ]
    assert "_landing_file" in AUDIT_COLUMNS
    assert _changes(db, "L1") == {"a.csv": "added", "b.csv": "added"}
    _assert_accounted(db)


def test_a_new_file_is_appended_and_equals_a_fresh_full_load(tmp_path):
    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    _assert_accounted(db)
    before = _rows(
        db, f"select * from raw.{ENTITY} where _landing_file not like '%c.csv' order by all"
    )
    _write(landing / ENTITY / "c.csv", FILE_C[0])
    (result,) = load_landing(db, landing, entities=[ENTITY], load_id="L2")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == FILE_C[1:]
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing)
    # The kept files' rows are exactly as they were, load id, load time and row numbers too.
    after = _rows(
        db, f"select * from raw.{ENTITY} where _landing_file not like '%c.csv' order by all"
    )
    assert after == before
    assert _load_ids_by_file(db) == {"a.csv": {"L1"}, "b.csv": {"L1"}, "c.csv": {"L2"}}
    assert _changes(db, "L2") == {"a.csv": "unchanged", "b.csv": "unchanged", "c.csv": "added"}
    assert _read_in_load(db, "L2") == FILE_C[1]
    _assert_accounted(db)


def test_a_changed_file_is_replaced_with_its_quarantine_rows(tmp_path):
    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    # Same size, other content: only the hash tells (B1's owner U2 -> U9, B3 now readable).
    changed = FILE_B[0].replace(
        "B1,meeting,2025-04-02 10:00:00,U2", "B1,meeting,2025-04-02 10:00:00,U9"
    )
    changed = changed.replace("not a time", "2025-04-03")
    assert len(changed) == len(FILE_B[0]) and changed != FILE_B[0]
    _write(landing / ENTITY / "b.csv", changed)
    (result,) = load_landing(db, landing, entities=[ENTITY], load_id="L2")
    # B1, B3, B4 load; B2 (malformed) is quarantined again.
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing)
    owners = _rows(db, f"select owner_id from raw.{ENTITY} where activity_id = 'B1'")
    assert owners == [("U9",)]
    reasons = _rows(
        db,
        "select load_id, reason from raw._quarantine where entity = ? and landing_file like ?",
        [ENTITY, "%b.csv"],
    )
    assert len(reasons) == 1 and reasons[0][0] == "L2" and "malformed" in reasons[0][1]
    assert _load_ids_by_file(db) == {"a.csv": {"L1"}, "b.csv": {"L2"}}
    assert _changes(db, "L2") == {"a.csv": "unchanged", "b.csv": "replaced"}
    _assert_accounted(db)


def test_a_removed_file_has_its_rows_deleted(tmp_path):
    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    (landing / ENTITY / "a.csv").unlink()
    assert load_landing(db, landing, entities=[ENTITY], load_id="L2") == []
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing)
    ids = {r[0] for r in _rows(db, f"select activity_id from raw.{ENTITY}")}
    assert ids == {"B1", "B4"}
    assert _load_ids_by_file(db) == {"b.csv": {"L1"}}
    assert _changes(db, "L2") == {"a.csv": "removed", "b.csv": "unchanged"}
    assert [Path(f).name for (f,) in _rows(db, "select landing_file from raw._landed_files")] == [
        "b.csv"
    ]
    _assert_accounted(db)


def test_a_removed_file_with_malformed_rows_leaves_no_quarantine_rows(tmp_path):
    landing = _landing(tmp_path, ("b.csv", FILE_B[0]), ("c.csv", FILE_C[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    reasons = [r for (r,) in _rows(db, "select reason from raw._quarantine")]
    assert len(reasons) == 2 and any(r.startswith("malformed row") for r in reasons)
    (landing / ENTITY / "b.csv").unlink()
    load_landing(db, landing, entities=[ENTITY], load_id="L2")
    assert _rows(db, "select count(*) from raw._quarantine") == [(0,)]
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing)
    _assert_accounted(db)


def test_an_unchanged_landing_reads_no_file(tmp_path):
    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    raw_before = _rows(db, f"select * from raw.{ENTITY} order by all")
    quarantine_before = _rows(db, "select * from raw._quarantine order by all")
    messages: list[str] = []
    assert (
        load_landing(db, landing, entities=[ENTITY], load_id="L2", progress=messages.append) == []
    )
    assert _read_in_load(db, "L2") == 0
    assert _rows(db, "select count(*) from raw._load_log where load_id = 'L2'") == [(0,)]
    assert _changes(db, "L2") == {"a.csv": "unchanged", "b.csv": "unchanged"}
    assert _rows(db, f"select * from raw.{ENTITY} order by all") == raw_before
    assert _rows(db, "select * from raw._quarantine order by all") == quarantine_before
    assert _rows(db, "select distinct load_id from raw._landed_files") == [("L1",)]
    assert f"{ENTITY}: 2 files unchanged (kept), 0 loaded" in messages
    _assert_accounted(db)


def test_full_refresh_reloads_every_file(tmp_path):
    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    results = load_landing(db, landing, entities=[ENTITY], load_id="L2", full_refresh=True)
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [
        FILE_A[1:],
        FILE_B[1:],
    ]
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing)
    assert _load_ids_by_file(db) == {"a.csv": {"L2"}, "b.csv": {"L2"}}
    assert _changes(db, "L2") == {"a.csv": "replaced", "b.csv": "replaced"}
    assert _read_in_load(db, "L2") == FILE_A[1] + FILE_B[1]
    _assert_accounted(db)


@pytest.mark.parametrize(
    "old_state",
    [
        f"alter table raw.{ENTITY} drop column _landing_file",
        f"alter table raw.{ENTITY} drop column subject",
        f"alter table raw.{ENTITY} alter column duration_minutes type varchar",
        "drop table raw._landed_files",
    ],
    ids=["no-landing-file-column", "entity-column-missing", "column-type", "no-landed-files"],
)
def test_an_old_working_database_is_rebuilt(tmp_path, old_state):
    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1")
    with duckdb.connect(str(db)) as con:
        con.execute(old_state)
    load_landing(db, landing, entities=[ENTITY], load_id="L2")
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing)
    columns = _rows(db, f"select column_name, column_type from (describe raw.{ENTITY})")
    fresh_columns = _rows(
        tmp_path / "fresh.duckdb", f"select column_name, column_type from (describe raw.{ENTITY})"
    )
    assert columns == fresh_columns
    assert _load_ids_by_file(db) == {"a.csv": {"L2"}, "b.csv": {"L2"}}
    _assert_accounted(db)


def test_converted_files_are_kept_and_replaced_by_landing_file_not_origin(tmp_path):
    """Two converted files whose rows name the same original export file: changing one
    replaces only its own rows."""
    landing = tmp_path / "landing"
    landing.mkdir()
    converted = tmp_path / "converted"
    lineage = "activity_id,activity_type,activity_at,owner_id,_source_file,_source_row\n"
    first = (
        lineage + "X1,call,2025-04-01 10:00:00,U1,export.csv,2\nX2,fax,2025-04-01,U1,export.csv,3\n"
    )
    second = lineage + "Y1,call,2025-04-01 10:00:00,U1,export.csv,2\n"
    _write(converted / "sfa_one" / f"{ENTITY}.csv", first)
    _write(converted / "sfa_two" / f"{ENTITY}.csv", second)
    db = tmp_path / "w.duckdb"
    load_landing(db, landing, entities=[ENTITY], load_id="L1", converted_dir=converted)
    _assert_accounted(db)
    assert _rows(db, "select count(*) from raw._quarantine") == [(1,)]
    _write(
        converted / "sfa_one" / f"{ENTITY}.csv",
        lineage + "X3,email,2025-04-02 10:00:00,U1,export.csv,9\n",
    )
    load_landing(db, landing, entities=[ENTITY], load_id="L2", converted_dir=converted)
    rows = _rows(
        db,
        f"select activity_id, _source_system, _source_file, _row_number, _load_id "
        f"from raw.{ENTITY} order by 1",
    )
    assert rows == [
        ("X3", "sfa_one", "export.csv", 9, "L2"),
        ("Y1", "sfa_two", "export.csv", 2, "L1"),
    ]
    assert _rows(db, "select count(*) from raw._quarantine") == [(0,)]
    assert _snapshot(db) == _fresh_snapshot(tmp_path, landing, converted)
    landed = _rows(db, "select landing_file, source_system from raw._landed_files order by 1")
    assert landed == [
        (str(converted / "sfa_one" / f"{ENTITY}.csv"), "sfa_one"),
        (str(converted / "sfa_two" / f"{ENTITY}.csv"), "sfa_two"),
    ]
    _assert_accounted(db)


def test_missing_inputs_message_names_files_kept_from_an_earlier_load(tmp_path):
    """The run's "nothing to compute" message lists the files the raw tables hold, also when
    the latest load read none of them (they were unchanged)."""
    header = (
        "opportunity_id,account_id,owner_id,lead_id,created_at,close_date,opportunity_stage,"
        "amount,currency,opportunity_type,is_closed,is_won,lost_reason\n"
    )
    bad = "O1,A1,U1,,not a date,2025-05-01,approach,1000,JPY,new,false,false,\n"
    landing = tmp_path / "landing"
    path = _write(landing / "opportunities.csv", header + bad + bad.replace("O1", "O2"))
    db = tmp_path / "w.duckdb"
    for load_id in ("L1", "L2"):
        load_landing(db, landing, entities=["opportunities", "leads"], load_id=load_id)
    message = missing_required_inputs(db, landing)
    assert message is not None
    assert f"opportunities: {path}: 2 rows read, 2 quarantined" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("TRUE", True)],
)
def test_full_refresh_setting(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("SALES_KPI_FULL_REFRESH", raising=False)
    else:
        monkeypatch.setenv("SALES_KPI_FULL_REFRESH", value)
    assert Settings.from_env().full_refresh is expected


def test_full_refresh_setting_refuses_other_values(monkeypatch):
    monkeypatch.setenv("SALES_KPI_FULL_REFRESH", "sometimes")
    with pytest.raises(ValueError, match="SALES_KPI_FULL_REFRESH"):
        Settings.from_env()


def test_the_raw_asset_keeps_unchanged_files_and_full_refresh_reloads_them(tmp_path, monkeypatch):
    """The ingestion asset of one entity, materialised alone three times: the second run reads
    no file and says so; with SALES_KPI_FULL_REFRESH=1 the third reads every file again."""
    import dagster as dg

    from orchestration.assets.ingestion import entity_assets, raw_asset_key
    from orchestration.resources import WarehouseResource

    landing = _landing(tmp_path, ("a.csv", FILE_A[0]), ("b.csv", FILE_B[0]))
    working = tmp_path / "warehouse" / "working.duckdb"
    for name, value in {
        "SALES_KPI_HOME": tmp_path,
        "SALES_KPI_LANDING_DIR": landing,
        "SALES_KPI_WORKING_DB": working,
        "SALES_KPI_PUBLISHED_DB": tmp_path / "warehouse" / "marts.duckdb",
        "SALES_KPI_QUALITY_DIR": tmp_path / "warehouse" / "quality",
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("SALES_KPI_FULL_REFRESH", raising=False)
    (asset,) = [a for a in entity_assets if a.key == raw_asset_key(ENTITY)]
    instance = dg.DagsterInstance.ephemeral()

    def run() -> dict:
        result = dg.materialize(
            [asset], resources={"warehouse": WarehouseResource()}, instance=instance
        )
        assert result.success
        (event,) = result.get_asset_materialization_events()
        metadata = event.materialization.metadata
        return {key: getattr(value, "value", value) for key, value in metadata.items()}, (
            result.run_id
        )

    first, first_run = run()
    rows = FILE_A[2] + FILE_B[2]
    assert (first["rows_read"], first["files_unchanged"]) == (FILE_A[1] + FILE_B[1], 0)
    assert first["dagster/row_count"] == rows
    second, _ = run()
    assert (second["rows_read"], second["files_unchanged"]) == (0, 2)
    assert second["dagster/row_count"] == rows  # the rows kept, not the rows read
    assert _load_ids_by_file(working) == {"a.csv": {first_run}, "b.csv": {first_run}}
    monkeypatch.setenv("SALES_KPI_FULL_REFRESH", "1")
    third, third_run = run()
    assert (third["rows_read"], third["files_unchanged"]) == (FILE_A[1] + FILE_B[1], 0)
    assert third["full_refresh"] is True
    assert _load_ids_by_file(working) == {"a.csv": {third_run}, "b.csv": {third_run}}
    _assert_accounted(working)
