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


# ---------------------------------------------------------------------------------------------
# Sources: source.yml, mapping paths, encodings, xlsx
# ---------------------------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
YAML_BOMB = (
    "type: mapping\n"
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def _copy_fixture(name: str, landing: Path) -> Path:
    import shutil

    return Path(shutil.copytree(FIXTURES / name, landing / name))


def test_yaml_bomb_in_source_yml_is_refused_naming_the_file(tmp_path):
    from orchestration.sources.base import MappingError
    from orchestration.sources.registry import discover_sources

    assert len(YAML_BOMB) < 600  # expands to 9**9 = 387,420,489 strings
    path = _write_bytes(tmp_path / "landing" / "crm" / "source.yml", YAML_BOMB.encode())
    with pytest.raises(MappingError) as error:
        discover_sources(tmp_path / "landing")
    message = str(error.value)
    assert str(path) in message and "expand to more than 100,000 values" in message
    assert "YAML bomb" in message


def test_small_aliases_in_source_yml_are_fine(tmp_path):
    from orchestration.lib.input_files import load_yaml
    from orchestration.sources.base import MappingError

    path = _write_bytes(tmp_path / "m.yml", b"a: &x {k: 1}\nb: *x\n")
    assert load_yaml(path, MappingError) == {"a": {"k": 1}, "b": {"k": 1}}


def test_oversized_or_non_utf8_source_yml_is_refused(tmp_path):
    from orchestration.sources.base import MappingError
    from orchestration.sources.registry import discover_sources

    landing = tmp_path / "landing"
    big = _write_bytes(landing / "a" / "source.yml", b"type: mapping\n#" + b"x" * 1_100_000)
    with pytest.raises(MappingError, match=r"may hold at most 1,048,576 bytes") as error:
        discover_sources(landing)
    assert str(big) in str(error.value)
    big.unlink()
    _write_bytes(landing / "a" / "source.yml", "type: mapping\n# 日本語\n".encode("cp932"))
    with pytest.raises(MappingError, match=r"cannot be read as utf-8: line 2, byte offset 16"):
        discover_sources(landing)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "sub/../../x.yml"])
def test_mapping_path_cannot_leave_the_source_folder(tmp_path, name):
    from orchestration.sources.base import MappingError
    from orchestration.sources.mapping import resolve_mapping

    folder = tmp_path / "landing" / "jp"
    folder.mkdir(parents=True)
    with pytest.raises(MappingError, match="must be a path inside the source folder"):
        resolve_mapping(folder, name)


def test_mapping_pattern_cannot_leave_the_source_folder(tmp_path):
    from orchestration.sources.base import MappingError
    from orchestration.sources.mapping import load_mapping

    path = _write_bytes(
        tmp_path / "m.yml",
        b"files:\n  - pattern: '../*.csv'\n    entity: agencies\n"
        b"    columns: {agency_id: a, agency_name: b}\n",
    )
    with pytest.raises(MappingError, match=r"files\[0\]\.pattern: '\.\./\*\.csv' must be a path"):
        load_mapping(path)


def test_symlinked_mapping_and_export_outside_landing_are_refused(tmp_path):
    from orchestration.sources.base import MappingError
    from orchestration.sources.mapping import convert, resolve_mapping

    secret = _write_bytes(tmp_path / "outside" / "secret.yml", b"TOPSECRET: 1\n")
    folder = tmp_path / "landing" / "jp"
    folder.mkdir(parents=True)
    (folder / "my_mapping.yml").symlink_to(secret)
    with pytest.raises(MappingError) as error:
        resolve_mapping(folder, "my_mapping")
    assert "symbolic link to a mapping file outside the landing folder" in str(error.value)
    assert "TOPSECRET" not in str(error.value)
    (folder / "my_mapping.yml").unlink()
    (folder / "商談一覧.csv").symlink_to(secret)
    with pytest.raises(MappingError, match="symbolic link to a file outside the landing folder"):
        convert(folder, {"mapping": "jp_sfa_example"}, "jp")


def test_salesforce_export_with_bad_bytes_names_line_offset_and_declaration(tmp_path):
    """Landing the export (as the pipeline does, before dbt) stops on the file with bad bytes."""
    import duckdb

    from orchestration.lib.crm_landing import land_crm
    from orchestration.sources.base import MappingError
    from orchestration.sources.registry import _read_config
    from orchestration.sources.salesforce import CONFIG_KEYS, SALESFORCE, crm_source

    folder = _copy_fixture("salesforce_tiny", tmp_path / "landing")
    lead = folder / "Lead.csv"
    data = lead.read_bytes()
    header_end = data.index(b"\n") + 1
    lead.write_bytes(data[:header_end] + b'"\xff' + data[header_end + 1 :])
    source = crm_source(folder, _read_config(folder / "source.yml"), "salesforce")
    with duckdb.connect() as con, pytest.raises(MappingError) as error:
        land_crm(con, SALESFORCE, [source], "load-1", CONFIG_KEYS, error=MappingError)
    message = str(error.value)
    assert str(lead) in message
    assert f"cannot be read as utf-8: line 2, byte offset {header_end + 1} (byte 0xFF)" in message
    assert "`encoding: cp932`" in message and "source.yml" in message


def test_mapped_cp932_file_declared_utf8_names_line_and_offset(tmp_path):
    from orchestration.sources.base import MappingError
    from orchestration.sources.mapping import convert

    folder = _copy_fixture("mapped_jp", tmp_path / "landing")
    # The shipped mapping declares cp932; a copy declaring UTF-8 reads the CP932 files wrongly.
    mapping = (Path("orchestration/sources/mappings/jp_sfa_example.yml")).read_text("utf-8")
    assert "\nencoding: cp932\n" in mapping
    mapping = mapping.replace("\nencoding: cp932\n", "\nencoding: utf-8\n")
    (folder / "m.yml").write_text(mapping, encoding="utf-8")
    with pytest.raises(MappingError) as error:
        convert(folder, {"mapping": "m"}, "jp")
    message = str(error.value)
    assert "cannot be read as utf-8: line 1, byte offset 0" in message
    assert "`encoding: cp932` for Shift_JIS" in message


def test_hubspot_export_in_no_known_encoding_is_a_clear_error(tmp_path):
    from orchestration.lib.crm_landing import land_crm
    from orchestration.sources.base import MappingError
    from orchestration.sources.hubspot import CONFIG_KEYS, HUBSPOT, crm_source
    from orchestration.sources.registry import _read_config

    folder = _copy_fixture("hubspot_tiny", tmp_path / "landing")
    deals = folder / "deals.csv"
    data = deals.read_bytes()
    cut = data.index(b"\n") + 1
    deals.write_bytes(data[:cut] + b"\x81 " + data[cut:])  # invalid in UTF-8 and in cp932
    source = crm_source(folder, _read_config(folder / "source.yml"), "hubspot")
    with duckdb.connect() as con, pytest.raises(MappingError) as error:
        land_crm(con, HUBSPOT, [source], "load-1", CONFIG_KEYS, error=MappingError)
    message = str(error.value)
    assert str(deals) in message and "encodings tried: utf-8, cp932" in message
    assert f"line 2, byte offset {cut} (byte 0x81) is not valid UTF-8" in message


def _zip_bomb(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (50 * 1024 * 1024))
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("empty", "the file is empty (0 bytes), so it is no workbook"),
        ("corrupt", "not a valid .xlsx workbook (the zip container is corrupt"),
        ("bomb", "refused: part xl/worksheets/sheet1.xml is compressed"),
        ("garbage_zip", "not a readable .xlsx workbook"),
    ],
)
def test_damaged_xlsx_is_a_clear_error(tmp_path, kind, expected):
    import zipfile

    from orchestration.sources.base import MappingError
    from orchestration.sources.readers import read_table

    path = tmp_path / "report.xlsx"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    elif kind == "bomb":
        _zip_bomb(path)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(MappingError) as error:
        read_table(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_csv_field_over_the_csv_module_limit_names_the_line(tmp_path):
    from orchestration.sources.base import MappingError
    from orchestration.sources.readers import read_table

    path = _write_bytes(tmp_path / "x.csv", b"a,b\n1,2\n3," + b"y" * 200_000 + b"\n")
    with pytest.raises(MappingError, match=r"x\.csv: line 3: cannot be read as CSV"):
        read_table(path)


def test_spend_csv_in_capitals_is_loaded(tmp_path):
    landing = tmp_path / "landing"
    source = (FIXTURES / "tiny" / "spend.csv").read_bytes()
    _write_bytes(landing / "Spend.CSV", source)
    (result,) = load_landing(tmp_path / "w.duckdb", landing, entities=["spend"])
    data_rows = source.rstrip(b"\n").count(b"\n")  # lines after the header
    assert data_rows > 0
    assert (result.source_file, result.rows_read) == (str(landing / "Spend.CSV"), data_rows)
    assert result.rows_loaded == data_rows


# ---------------------------------------------------------------------------------------------
# 7. Fail fast: one error listing every problem, before anything is loaded
# ---------------------------------------------------------------------------------------------


def test_bad_inputs_stop_the_run_at_once_with_every_problem_listed(tmp_path):
    import shutil

    from orchestration.pipeline import run_pipeline, settings_for
    from orchestration.summary import run_report

    landing = Path(shutil.copytree(FIXTURES / "tiny", tmp_path / "landing"))
    agencies = (landing / "agencies.csv").read_text(encoding="utf-8")
    (landing / "agencies.csv").write_bytes(agencies.encode("cp932"))
    users = landing / "users.csv"
    header, rest = users.read_text(encoding="utf-8").split("\n", 1)
    first = header.split(",")[0]
    users.write_text(f"{header},{first}\n{rest}", encoding="utf-8")
    _write_bytes(landing / "crm" / "source.yml", YAML_BOMB.encode())
    _write_bytes(landing / "notes.txt", b"not data")
    settings = settings_for(tmp_path / "run", landing, as_of_date="2025-06-30")
    outcome = run_pipeline(settings)
    assert not outcome.success and not outcome.published
    assert outcome.failed_steps == ["converted__sources"]
    (message,) = outcome.input_errors
    assert message.startswith(f"3 problem(s) in the landing folder {landing}; nothing was loaded")
    assert f"{landing / 'agencies.csv'}: not UTF-8: line " in message
    assert f"{users}: duplicate column name(s)" in message
    assert f"'{first}' at positions 1, {len(header.split(',')) + 1}" in message
    assert f"{landing / 'crm' / 'source.yml'}: refused" in message and "YAML bomb" in message
    report = run_report(settings.working_db, None)
    assert "Files in the landing folder that were NOT loaded: 1" in report
    assert f"{landing / 'notes.txt'}: file name matches no entity" in report
    # Nothing after the check ran: no raw table was loaded, no quality suite, no dbt (the
    # holidays asset does not depend on the landing folder).
    assert set(outcome.step_seconds) <= {"raw__jp_public_holidays"}


def test_broken_symlink_is_reported_as_unmatched(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "leads.csv").symlink_to(tmp_path / "missing.csv")
    assert unmatched_files(landing) == [
        (str(landing / "leads.csv"), "a broken symbolic link or not a regular file; not read")
    ]
