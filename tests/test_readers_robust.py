"""Readers that never crash: every bad landing or source file gives a clear error naming the
file (and where in it) and what to do, or a quarantined row with its reason; never a raw
traceback, never a silent loss. Expected values are written out by hand for tiny files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.lib.loader import (
    LandingFileError,
    discover_files,
    file_problems,
    load_landing,
    unmatched_files,
)

LEADS_HEADER = "lead_id,created_at,lead_source,lead_status\n"
AGENCY_HEADER = "agency_id,agency_name,fee_model\n"


def _write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _quarantine(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select row_number, line_number, reason from raw._quarantine order by all"
        ).fetchall()


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# ---------------------------------------------------------------------------------------------
# 1. The dialect is fixed by the format, never sniffed from a sample
# ---------------------------------------------------------------------------------------------


def test_quoted_delimiter_far_beyond_any_sample_loads(tmp_path):
    lines = [f"A{i},Agency {i},retainer\n" for i in range(1, 100_000)]
    lines.append('A100000,"Call, follow-up",per_appointment\n')
    landing = tmp_path / "landing"
    _write_bytes(landing / "agencies.csv", (AGENCY_HEADER + "".join(lines)).encode())
    db = tmp_path / "w.duckdb"
    (result,) = load_landing(db, landing, entities=["agencies"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (100_000, 100_000, 0)
    assert _rows(db, "select agency_name from raw.agencies where agency_id = 'A100000'") == [
        ("Call, follow-up",)
    ]


# ---------------------------------------------------------------------------------------------
# 2. Encodings
# ---------------------------------------------------------------------------------------------


def test_cp932_file_is_refused_with_line_offset_and_what_to_do(tmp_path):
    landing = tmp_path / "landing"
    text = AGENCY_HEADER + "A1,Alpha,retainer\nA2,株式会社ビー,retainer\n"
    path = _write_bytes(landing / "agencies.csv", text.encode("cp932"))
    with pytest.raises(LandingFileError) as error:
        load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])
    message = str(error.value)
    # Line 3 starts after 32 + 18 bytes; "A2," is 3 more: the first bad byte is at offset 53.
    offset = len(AGENCY_HEADER) + len("A1,Alpha,retainer\n") + len("A2,")
    assert offset == 53
    assert str(path) in message
    assert f"not UTF-8: line 3, byte offset {offset} (byte 0x{'株'.encode('cp932')[0]:02X})" in (
        message
    )
    assert "encoding tried: utf-8" in message and "Shift_JIS (cp932)" in message
    assert "save the file as UTF-8" in message and "`encoding: cp932`" in message


def test_a_few_bad_bytes_quarantine_their_row_only(tmp_path):
    landing = tmp_path / "landing"
    data = (AGENCY_HEADER + "A1,Alpha,retainer\n").encode() + b"A2,Caf\xff Beta,retainer\n"
    data += b"A3,Gamma,retainer\n"
    _write_bytes(landing / "agencies.csv", data)
    db = tmp_path / "w.duckdb"
    (result,) = load_landing(db, landing, entities=["agencies"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    offset = len(AGENCY_HEADER) + len("A1,Alpha,retainer\n") + len("A2,Caf")
    ((row, line, reason),) = _quarantine(db)
    assert (row, line) == (None, 3)
    assert f"not UTF-8: line 3, byte offset {offset} (byte 0xFF)" in reason
    assert "the file must be UTF-8" in reason
    assert _rows(db, "select agency_id from raw.agencies order by 1") == [("A1",), ("A3",)]


def test_utf8_bom_is_accepted(tmp_path):
    landing = tmp_path / "landing"
    _write_bytes(landing / "agencies.csv", b"\xef\xbb\xbf" + (AGENCY_HEADER + "A1,X,\n").encode())
    (result,) = load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])
    assert result.rows_loaded == 1


# ---------------------------------------------------------------------------------------------
# 3. Headers and lines
# ---------------------------------------------------------------------------------------------


def test_duplicate_header_names_are_an_error_naming_positions(tmp_path):
    landing = tmp_path / "landing"
    path = _write_bytes(
        landing / "agencies.csv", b"agency_id,agency_name,Agency_Name,fee_model\nA1,X,Y,\n"
    )
    with pytest.raises(LandingFileError) as error:
        load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])
    message = str(error.value)
    assert str(path) in message
    assert "duplicate column name(s)" in message and "'agency_name' at positions 2, 3" in message
    assert "keep one column of each name" in message


def test_empty_header_name_is_an_error_naming_position(tmp_path):
    landing = tmp_path / "landing"
    _write_bytes(landing / "agencies.csv", b"agency_id,,agency_name\nA1,x,X\n")
    with pytest.raises(LandingFileError, match=r"empty column name at position\(s\) 2 "):
        load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])


def test_zero_byte_file_is_an_error(tmp_path):
    landing = tmp_path / "landing"
    _write_bytes(landing / "agencies.csv", b"")
    with pytest.raises(LandingFileError, match=r"agencies\.csv: the file is empty"):
        load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])


@pytest.mark.parametrize(
    "data",
    [
        b"agency_id,agency_name,fee_model\r\nA1,X,\r\nA2,Y,\nA3,Z,\r\nA4,W,\n",
        b"agency_id,agency_name,fee_model\nA1,X,\r\nA2,Y,\nA3,Z,\r\nA4,W,\r\n",
        b"agency_id,agency_name,fee_model\rA1,X,\rA2,Y,\rA3,Z,\rA4,W,\r",
    ],
    ids=["crlf-then-lf", "lf-then-crlf", "cr-only"],
)
def test_mixed_line_endings_load_every_row(tmp_path, data):
    landing = tmp_path / "landing"
    _write_bytes(landing / "agencies.csv", data)
    db = tmp_path / "w.duckdb"
    (result,) = load_landing(db, landing, entities=["agencies"])
    assert (result.rows_read, result.rows_loaded) == (4, 4)
    assert _rows(db, "select agency_id, agency_name from raw.agencies order by 1") == [
        ("A1", "X"),
        ("A2", "Y"),
        ("A3", "Z"),
        ("A4", "W"),
    ]


def test_over_long_line_is_quarantined_with_a_reason(tmp_path):
    landing = tmp_path / "landing"
    data = (AGENCY_HEADER + "A1,X,\nA2," + "y" * 3_000_000 + ",\nA3,Z,\n").encode()
    _write_bytes(landing / "agencies.csv", data)
    db = tmp_path / "w.duckdb"
    (result,) = load_landing(db, landing, entities=["agencies"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    ((_row, line, reason),) = _quarantine(db)
    assert line == 3 and "LINE SIZE OVER MAXIMUM" in reason
    assert "usually an unterminated quote" in reason
    raw = _rows(db, "select length(raw_record) from raw._quarantine")
    assert raw[0][0] <= 2000  # the quarantine keeps a bounded excerpt, not 3 MB


def test_nul_byte_in_a_value_quarantines_the_row_naming_the_column(tmp_path):
    landing = tmp_path / "landing"
    data = (AGENCY_HEADER + "A1,X,\nA2,Be\x00ta,retainer\n").encode()
    _write_bytes(landing / "agencies.csv", data)
    db = tmp_path / "w.duckdb"
    (result,) = load_landing(db, landing, entities=["agencies"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    ((row, _line, reason),) = _quarantine(db)
    assert row == 2
    assert "agency_name: value holds a NUL byte (0x00); remove it from the file" in reason


# ---------------------------------------------------------------------------------------------
# 5. Symlinks never lead out of the landing folder
# ---------------------------------------------------------------------------------------------


def test_symlink_out_of_the_landing_folder_is_refused_without_echoing(tmp_path):
    secret = tmp_path / "outside" / "secret.csv"
    _write_bytes(secret, b"agency_id,agency_name\nTOPSECRET,never shown\n")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "agencies.csv").symlink_to(secret)
    with pytest.raises(LandingFileError) as error:
        load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])
    message = str(error.value)
    assert "a symbolic link to a file outside the landing folder" in message
    assert "TOPSECRET" not in message and "never shown" not in message


def test_symlink_inside_the_landing_folder_is_fine(tmp_path):
    landing = tmp_path / "landing"
    real = _write_bytes(landing / "archive" / "agencies-2025.csv", b"agency_id,agency_name\nA,B\n")
    (landing / "agencies.csv").symlink_to(real)
    (result,) = load_landing(tmp_path / "w.duckdb", landing, entities=["agencies"])
    assert result.rows_loaded == 1


# ---------------------------------------------------------------------------------------------
# 6. File names match case-insensitively; unmatched files are reported
# ---------------------------------------------------------------------------------------------


def test_file_names_match_entities_case_insensitively(tmp_path):
    landing = tmp_path / "landing"
    _write_bytes(landing / "LEADS.csv", b"x")
    _write_bytes(landing / "Leads" / "part1.CSV", b"x")
    _write_bytes(landing / "Leads" / "part2.csv", b"x")
    _write_bytes(landing / "Spend.CSV", b"x")
    assert [p.relative_to(landing).as_posix() for p in discover_files(landing, "leads")] == [
        "LEADS.csv",
        "Leads/part1.CSV",
        "Leads/part2.csv",
    ]
    assert [p.name for p in discover_files(landing, "spend")] == ["Spend.CSV"]


def test_unmatched_landing_files_are_reported(tmp_path):
    landing = tmp_path / "landing"
    for name in ("leads.csv", "Spend.CSV", "lead.csv", "opportunities.xlsx", "notes.txt"):
        _write_bytes(landing / name, b"x")
    for name in (".DS_Store", "README.md", "~$leads.csv"):
        _write_bytes(landing / name, b"x")
    _write_bytes(landing / "leads" / "part1.csv", b"x")
    _write_bytes(landing / "leads" / "part2.xlsx", b"x")
    _write_bytes(landing / "salesforce" / "source.yml", b"type: salesforce\n")
    _write_bytes(landing / "salesforce" / "Lead.csv", b"x")
    _write_bytes(landing / "old" / "leads.csv", b"x")
    found = {
        Path(path).relative_to(landing).as_posix(): why for path, why in unmatched_files(landing)
    }
    assert sorted(found) == [
        "lead.csv",
        "leads/part2.xlsx",
        "notes.txt",
        "old",
        "opportunities.xlsx",
    ]
    assert (
        found["lead.csv"] == "file name matches no entity; did you mean leads.csv?; it is not read"
    )
    assert "only .csv files are loaded" in found["opportunities.xlsx"]
    assert "save it as opportunities.csv" in found["opportunities.xlsx"]
    assert found["notes.txt"].startswith("file name matches no entity")
    assert found["old"].startswith("folder matches no entity and has no source.yml")
    assert found["leads/part2.xlsx"].startswith("not a .csv file")


def test_file_problems_lists_every_problem_of_a_file(tmp_path):
    from orchestration.lib.canonical_schema import ENTITIES

    path = _write_bytes(tmp_path / "leads.csv", b"lead_id,lead_id,,lead_status\nL1,L1,x,open\n")
    problems = file_problems(ENTITIES["leads"], path, tmp_path)
    assert len(problems) == 2
    assert "empty column name at position(s) 3" in problems[0]
    assert "'lead_id' at positions 1, 2" in problems[1]
