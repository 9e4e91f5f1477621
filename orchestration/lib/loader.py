"""Load landing files into typed raw tables with DuckDB's native CSV reader.

Every input row is accounted for: for each file and load,
``rows_read = rows_loaded + rows_quarantined``. Rows that cannot be parsed (wrong
number of fields) or typed (bad date, unknown category, empty required value) go
to ``raw._quarantine`` with the file, row and column and a reason. A file
without a required column fails the load with a message naming both.

Raw tables are incremental, keyed by file identity and content: ``raw._landed_files`` has one
row per file whose rows the raw tables hold (path, source system, size, SHA-256, the load that
appended them). On each load a file with the same path, source system, size and hash is
unchanged and not read again (its rows keep their load id and row numbers); a new file is
appended, a changed one has its rows (raw and quarantined, found by the audit column
``_landing_file`` / ``raw._quarantine.landing_file``) deleted and is read again, a removed one
has its rows deleted. ``raw._landing_changes`` says what this load did per file (added,
replaced, removed, unchanged). A raw table whose columns differ from the entity definition, a
database without ``raw._landed_files``, or ``full_refresh=True`` rebuilds the entity from every
file (the same raw tables as an incremental load of the same files, load ids aside). The load
log ``raw._load_log`` keeps one row per file read, per load.
"""

from __future__ import annotations

import csv
import difflib
import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.canonical_schema import (
    ENTITIES,
    FALSE_WORDS,
    SQL_TYPES,
    TRUE_WORDS,
    Column,
    Entity,
)
from orchestration.lib.input_files import (
    ENCODING_HINT,
    MAX_BAD_UTF8_LINES,
    Utf8Scan,
    duplicate_columns_message,
    file_sha256,
    looks_like_cp932,
    refuse_outside,
    scan_utf8,
)

# Converted source files carry the original export file and row (orchestration/sources).
LINEAGE_COLUMNS = ("_source_file", "_source_row")

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
SOURCE_TIMEZONE = "Asia/Tokyo"
AUDIT_COLUMNS = {
    "_source_system": "varchar",
    "_source_file": "varchar",
    "_row_number": "bigint",
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
    # The file the loader read (for a converted source: the converted CSV, while _source_file
    # is the original export): the key by which a changed or removed file's rows are deleted.
    "_landing_file": "varchar",
}
# What each load did per file (raw._landing_changes.change).
CHANGES = ("added", "replaced", "removed", "unchanged")


class LandingFileError(ValueError):
    """A landing file cannot be loaded at all (e.g. a required column is missing)."""


@dataclass
class FileLoadResult:
    load_id: str
    entity: str
    source_file: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    extra_columns: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def new_load_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def _is_ignored(path: Path) -> bool:
    """Hidden files, Office lock files and README files are never data."""
    return path.name.startswith((".", "~$")) or path.name.lower().startswith("readme")


def discover_files(landing_dir: Path, entity: str) -> list[Path]:
    """`<entity>.csv` and every `<entity>/*.csv`, names matched case-insensitively (`Spend.CSV`,
    `LEADS/part1.Csv`), in name order (later files win on duplicates)."""
    if not landing_dir.is_dir():
        return []
    files, folders = [], []
    for path in sorted(landing_dir.iterdir()):
        if _is_ignored(path):
            continue
        if path.is_dir() and path.name.lower() == entity:
            folders.append(path)
        elif path.is_file() and path.name.lower() == f"{entity}.csv":
            files.append(path)
    for folder in folders:
        files.extend(
            sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix.lower() == ".csv" and not _is_ignored(p)
            )
        )
    return files


def unmatched_files(landing_dir: Path) -> list[tuple[str, str]]:
    """(path, reason) of every landing file that no run reads: its name matches no entity and
    it is not in a source folder. Hidden files, Office lock files (`~$...`) and README files
    are ignored."""
    if not landing_dir.is_dir():
        return []
    expected = [f"{name}.csv" for name in ENTITIES]
    found: list[tuple[str, str]] = []
    for path in sorted(landing_dir.iterdir()):
        if _is_ignored(path):
            continue
        name = path.name.lower()
        if path.is_dir():
            if (path / "source.yml").is_file():
                continue
            if name in ENTITIES:
                for inner in sorted(path.iterdir()):
                    if not _is_ignored(inner) and inner.suffix.lower() != ".csv":
                        found.append(
                            (
                                str(inner),
                                f"not a .csv file: only .csv files in {path.name}/ are loaded "
                                f"as {name}",
                            )
                        )
                continue
            close = difflib.get_close_matches(name, list(ENTITIES), n=1)
            hint = f" (did you mean {close[0]}/?)" if close else ""
            found.append(
                (
                    str(path),
                    "folder matches no entity and has no source.yml" + hint + "; it is not read",
                )
            )
        elif not path.is_file():
            found.append((str(path), "a broken symbolic link or not a regular file; not read"))
        elif name not in expected:
            stem = name.rsplit(".", 1)[0]
            close = difflib.get_close_matches(f"{stem}.csv", expected, n=1)
            if path.suffix.lower() != ".csv" and stem in ENTITIES:
                reason = (
                    f"only .csv files are loaded from the landing folder; save it as {stem}.csv "
                    "(CSV UTF-8), or put it in a source folder with a source.yml"
                )
            else:
                hint = f"; did you mean {close[0]}?" if close else ""
                reason = f"file name matches no entity{hint}; it is not read"
            found.append((str(path), reason))
    return found


def precheck_landing(landing_dir: Path) -> list[str]:
    """Every file-level problem of every canonical landing file (see `file_problems`),
    collected so that one error lists them all before any row is loaded."""
    problems: list[str] = []
    for name, entity in ENTITIES.items():
        for path in discover_files(landing_dir, name):
            problems.extend(file_problems(entity, path, landing_dir))
    return problems


def record_unmatched_files(
    con: duckdb.DuckDBPyConnection, files: list[tuple[str, str]], load_id: str
) -> None:
    """Replace raw._unmatched_files with this run's landing files that no entity reads."""
    ensure_raw_schema(con)
    con.execute(
        f"""
        create or replace table {RAW_SCHEMA}._unmatched_files (
            load_id varchar not null,
            path varchar not null,
            reason varchar not null,
            found_at timestamp not null
        )
        """
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    if files:
        con.executemany(
            f"insert into {RAW_SCHEMA}._unmatched_files values (?, ?, ?, ?)",
            [[load_id, path, reason, now] for path, reason in files],
        )


def converted_files(converted_dir: Path | None, entity: str) -> list[tuple[Path, str]]:
    """(`<converted_dir>/<source_system>/<entity>.csv`, source_system) for every source."""
    if converted_dir is None or not converted_dir.is_dir():
        return []
    return [
        (path, path.parent.name)
        for path in sorted(converted_dir.glob(f"*/{entity}.csv"))
        if path.is_file()
    ]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _typed_expression(col: Column, raw: str) -> str:
    """SQL that types the trimmed text `raw`; null when empty or not parseable."""
    target = SQL_TYPES[col.type]
    if col.type == "text":
        return raw
    if col.type == "boolean":
        trues = ", ".join(_literal(w) for w in TRUE_WORDS)
        falses = ", ".join(_literal(w) for w in FALSE_WORDS)
        return (
            f"case when lower({raw}) in ({trues}) then true "
            f"when lower({raw}) in ({falses}) then false end"
        )
    if col.type == "month":
        return f"try_cast(try_strptime({raw} || '-01', '%Y-%m-%d') as date)"
    if col.type == "date":
        return f"try_cast({raw} as date)"
    if col.type == "timestamp":
        # With an offset after the time (Z, +09, +09:00, -0500): the instant converted to wall
        # time in the configured zone (SALES_KPI_TIMEZONE, Asia/Tokyo). Without: already local.
        zone = os.environ.get("SALES_KPI_TIMEZONE") or SOURCE_TIMEZONE
        # The offset is at most the last 6 characters (Z, +09, +0900, +09:00): the regular
        # expression runs only on values whose end holds a sign or a Z.
        tail = f"right({raw}, 6)"
        has_offset = (
            f"(suffix({raw}, 'Z') or contains({tail}, '+') or contains({tail}, '-')) and "
            rf"regexp_matches({raw}, '\d{{2}}:\d{{2}}(:\d{{2}}(\.\d+)?)? ?([+-]\d{{2}}(:?\d{{2}})?|Z)$')"
        )
        return (
            f"case when {has_offset} then "
            f"timezone({_literal(zone)}, try_cast({raw} as timestamptz)) "
            f"else try_cast({raw} as timestamp) end"
        )
    return f"try_cast({raw} as {target})"


def _column_checks(
    col: Column,
    present: bool,
    has_nul: bool = True,
    value: str | None = None,
    typed_value: str | None = None,
) -> tuple[str, str]:
    """(typed expression, reason expression) for one column of a staged file; `has_nul`:
    the file holds a NUL byte somewhere (else no value is checked for one). `value` and
    `typed_value`: columns already holding the trimmed text and the typed expression's result,
    which the reason then reads instead of computing them again."""
    if not present:
        return f"cast(null as {SQL_TYPES[col.type]})", "cast(null as varchar)"
    raw = value or f"nullif(trim({_quote(col.name)}), '')"
    typed_expression = _typed_expression(col, raw)
    typed = typed_value or typed_expression
    # A NUL byte is never data: the row is quarantined rather than published with it.
    reasons = []
    if has_nul:
        reasons.append(
            f"when contains({_quote(col.name)}, chr(0)) then "
            f"{_literal(f'{col.name}: value holds a NUL byte (0x00); remove it from the file')}"
        )
    if col.required:
        reasons.append(
            f"when {raw} is null then {_literal(f'{col.name}: required value is empty')}"
        )
    if col.type != "text":  # text is never unreadable
        reasons.append(
            f"when {raw} is not null and ({typed}) is null then "
            f"{_literal(f'{col.name}: cannot read ')} || {raw} || {_literal(f' as {col.type}')}"
        )
    if col.allowed:
        allowed = ", ".join(_literal(v) for v in col.allowed)
        reasons.append(
            f"when {raw} is not null and {raw} not in ({allowed}) then "
            f"{_literal(f'{col.name}: value ')} || {raw} || "
            f"{_literal(' is not one of ' + ', '.join(col.allowed))}"
        )
    if not reasons:  # optional text: nothing can be wrong with it
        return typed_expression, "cast(null as varchar)"
    return typed_expression, "case " + " ".join(reasons) + " end"


def read_header(path: Path) -> list[str]:
    """The header row, read with Python's csv module (UTF-8, BOM stripped)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = next(csv.reader(handle), [])
    return [c.strip() for c in first]


def check_header(entity: Entity, path: Path, header: list[str]) -> list[str]:
    """Raise when a required column is missing; return the extra (ignored) columns."""
    missing = [c for c in entity.required_columns if c not in header]
    if missing:
        raise LandingFileError(
            f"{path}: required column(s) {', '.join(missing)} missing from the header "
            f"(found: {', '.join(header) or 'no columns'}). Add the column(s) to the file; "
            f"the canonical format of '{entity.name}' is described in docs/canonical_format.md."
        )
    return [c for c in header if c not in entity.column_names and c not in LINEAGE_COLUMNS]


def header_problems(path: Path, header: list[str]) -> list[str]:
    """Empty, duplicate (case-insensitively) or NUL-holding column names, with positions."""
    problems = []
    empty = [str(i) for i, name in enumerate(header, 1) if not name]
    if empty:
        problems.append(
            f"{path}: empty column name at position(s) {', '.join(empty)} of the header "
            f"(1-based, of {len(header)} columns). What to do: name the column(s) or delete "
            "them (a trailing comma at the end of the header line makes an empty column)."
        )
    duplicated = duplicate_columns_message(path, header)
    if duplicated:
        problems.append(duplicated)
    if any("\x00" in name for name in header):
        problems.append(f"{path}: the header holds a NUL byte; save the file again as CSV UTF-8.")
    return problems


def encoding_problem(path: Path, scan: Utf8Scan) -> str | None:
    """A message when the file as a whole is not UTF-8 (a few bad rows are quarantined)."""
    if not scan.bad_lines:
        return None
    first = scan.bad_lines[0]
    limit = max(MAX_BAD_UTF8_LINES, scan.lines // 100)
    header_bad = first.line == 1
    shift_jis = looks_like_cp932(scan)
    if not (header_bad or shift_jis or len(scan.bad_lines) > limit):
        return None
    if header_bad:
        why = "the header line is not UTF-8"
    else:
        why = f"{len(scan.bad_lines):,} line(s) hold bytes that are not UTF-8"
    if shift_jis:
        why += "; they read as Japanese in Shift_JIS (cp932)"
    return (
        f"{path}: not UTF-8: {first.describe()} is not valid UTF-8 (encoding tried: utf-8; "
        f"{why}). Canonical landing files must be UTF-8 (a BOM is allowed). " + ENCODING_HINT
    )


def file_problems(entity: Entity, path: Path, root: Path | None = None) -> list[str]:
    """Every reason why `path` cannot be loaded at all as `entity` (empty when it can).

    Checked before any row is read: a symlink leaving `root`, an empty file, a file that is
    not UTF-8 (see `_encoding_problem`), empty or duplicate header names, a missing required
    column. Row-level problems (bad values, bad bytes on a few rows, NUL bytes, over-long
    lines, wrong field counts) are not file problems: those rows are quarantined.
    """
    if root is not None:
        try:
            refuse_outside(path, root, LandingFileError)
        except LandingFileError as error:
            return [str(error)]
    if not path.is_file():
        return [f"{path}: not a regular file; put the CSV file itself in the landing folder."]
    try:
        scan = scan_utf8(path)
    except OSError as error:
        return [f"{path}: cannot be read ({error.strerror or error}); check its permissions."]
    if scan.size == 0 or not scan.header.strip(b"\r\n\xef\xbb\xbf"):
        return [
            f"{path}: the file is empty (no header row). What to do: export it again with its "
            "header row, or remove it from the landing folder."
        ]
    encoding = encoding_problem(path, scan)
    if encoding:
        return [encoding]
    header = read_header(path)
    problems = header_problems(path, header)
    if not problems:
        try:
            check_header(entity, path, header)
        except LandingFileError as error:
            problems.append(str(error))
    return problems


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._load_log (
            load_id varchar not null,
            entity varchar not null,
            source_file varchar not null,
            rows_read bigint not null,
            rows_loaded bigint not null,
            rows_quarantined bigint not null,
            extra_columns varchar,
            loaded_at timestamp not null
        )
        """
    )
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._quarantine (
            load_id varchar not null,
            entity varchar not null,
            source_file varchar not null,
            row_number bigint,
            line_number bigint,
            reason varchar not null,
            raw_record varchar,
            quarantined_at timestamp not null,
            landing_file varchar
        )
        """
    )
    # A working database from before incremental loads: the landing file of each quarantined row.
    con.execute(
        f"alter table {RAW_SCHEMA}._quarantine add column if not exists landing_file varchar"
    )
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._landed_files (
            entity varchar,
            landing_file varchar,
            source_system varchar,
            size_bytes bigint,
            sha256 varchar,
            load_id varchar,
            loaded_at timestamp,
            rows_read bigint,
            rows_loaded bigint,
            rows_quarantined bigint
        )
        """
    )
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._landing_changes (
            load_id varchar,
            entity varchar,
            landing_file varchar,
            change varchar
        )
        """
    )


def _entity_columns_sql(entity: Entity) -> str:
    cols = [f"{_quote(c.name)} {SQL_TYPES[c.type]}" for c in entity.columns]
    cols += [f"{name} {type_}" for name, type_ in AUDIT_COLUMNS.items()]
    return ", ".join(cols)


def _create_entity_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    con.execute(
        f"create or replace table {RAW_SCHEMA}.{entity.name} ({_entity_columns_sql(entity)})"
    )


def _table_columns(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str
) -> list[tuple[str, str]]:
    """(name, type) of every column of the table, in order; empty when there is no such table."""
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? "
        "order by column_index",
        [database, schema, table],
    ).fetchall()


def raw_table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    (found,) = con.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? and table_name = ?",
        [RAW_SCHEMA, table],
    ).fetchone()
    return bool(found)


# A raw table's definition (its columns as SQL) -> the (name, type) columns DuckDB gives a table
# created with it, worked out once per process from a temporary table.
_EXPECTED_COLUMNS: dict[str, list[tuple[str, str]]] = {}


def entity_table_is_current(con: duckdb.DuckDBPyConnection, entity: Entity) -> bool:
    """raw.<entity> exists with exactly the columns (names, order, types) the entity definition
    and AUDIT_COLUMNS now give it; else its rows cannot be kept and the entity is rebuilt."""
    (database,) = con.execute("select current_database()").fetchone()
    found = _table_columns(con, database, RAW_SCHEMA, entity.name)
    if not found:
        return False
    definition = _entity_columns_sql(entity)
    expected = _EXPECTED_COLUMNS.get(definition)
    if expected is None:
        con.execute(f"create or replace temp table _expected_columns ({definition})")
        expected = _table_columns(con, "temp", "main", "_expected_columns")
        con.execute("drop table _expected_columns")
        _EXPECTED_COLUMNS[definition] = expected
    return found == expected


def _lf_copy(path: Path) -> Path:
    """A temporary copy of `path` with every CRLF written as LF (mixed line endings)."""
    with (
        tempfile.NamedTemporaryFile(prefix="landing-", suffix=".csv", delete=False) as handle,
        path.open("rb") as source,
    ):
        carry = b""
        while block := source.read(8 * 1024 * 1024):
            data = carry + block
            carry = b"\r" if data.endswith(b"\r") else b""
            handle.write(data[: len(data) - len(carry)].replace(b"\r\n", b"\n"))
        handle.write(carry)
    return Path(handle.name)


# The file's rows as DuckDB's reader gives them, numbered in file order (`_row_number`, before
# any reader reject is counted: see `renumber_after_rejects`). Rejected rows go to the temp
# tables _csv_rejects / _csv_scans.
READ_CSV_ROWS = """(
select row_number() over () as _row_number, *
from read_csv(
    {source}, header = true, auto_detect = false, columns = {columns}, delim = ',',
    quote = '"', escape = '"', encoding = 'utf-8', all_varchar = true, strict_mode = true,
    store_rejects = true, rejects_table = '_csv_rejects', rejects_scan = '_csv_scans'
)
)"""

# row_number() counts the rows the reader kept; a rejected record would shift every later
# row's number by one. DuckDB's reject `line` is the record's ordinal counting the header as
# 1 (a value with a line break inside quotes does not advance it), so rejected record i (in
# file order) is data row line - 1, and kept row k is data row k + the number of rejected
# records with fewer than k kept rows before them.
RENUMBER_AFTER_REJECTS_SQL = """
update {table} as target set _row_number = _row_number + (
    select count(*) from (
        select line - 1 - row_number() over (order by line) as kept_before
        from (select distinct line from _csv_rejects) as rejected_lines
    ) as rejected
    where rejected.kept_before < target._row_number
)
{where}
"""


def renumber_after_rejects(
    con: duckdb.DuckDBPyConnection, table: str, where: str = "", parameters: list | None = None
) -> None:
    """Give the rows of `table` read by `read_csv_into` (those matching `where`, a SQL
    condition with `parameters`) their data row numbers in the file when the reader rejected
    records; nothing is run when it rejected none."""
    (rejected,) = con.execute("select count(*) from _csv_rejects").fetchone()
    if rejected:
        condition = f"where {where}" if where else ""
        con.execute(RENUMBER_AFTER_REJECTS_SQL.format(table=table, where=condition), parameters)


def read_csv_into(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: list[str],
    scan,
    statement: str,
    kind: str = "a canonical CSV file",
) -> int:
    """Run `statement` and return the number of rows it wrote; its literal `{rows}` is the file's rows as read by DuckDB (`READ_CSV_ROWS`:
    a `_row_number` and every header column as text); the dialect is fixed, nothing is sniffed.

    Canonical files are comma-separated, `"`-quoted (`""` inside a quoted value), UTF-8 with
    an optional BOM, one header row; LF, CRLF or CR line ends (a file mixing CRLF and LF is
    read with every CRLF as LF). The statement reads the file once; row numbers are as the
    reader kept the rows until `renumber_after_rejects` runs.
    """
    columns = "{" + ", ".join(f"{_literal(h)}: 'VARCHAR'" for h in header) + "}"
    source = _lf_copy(path) if scan.mixed_line_endings else path
    try:
        rows = READ_CSV_ROWS.format(source="?", columns=columns)
        (written,) = con.execute(statement.replace("{rows}", rows), [str(source)]).fetchone()
    except duckdb.Error as error:
        detail = str(error).strip().splitlines()[0]
        raise LandingFileError(
            f"{path}: cannot be read as {kind} (comma-separated, double-quoted, "
            f"UTF-8, one header row): {detail}. What to do: save it again as CSV UTF-8 from "
            "the spreadsheet or export tool, and check for an unterminated quote."
        ) from error
    finally:
        if source != path:
            source.unlink(missing_ok=True)
    return written


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: list[str],
    scan,
    kind: str = "a canonical CSV file",
) -> None:
    """Read the file into temp table _staged_file (`_row_number` and every column as text)."""
    con.execute("drop table if exists _staged_file")
    read_csv_into(
        con, path, header, scan, "create temp table _staged_file as select * from {rows}", kind
    )
    renumber_after_rejects(con, "_staged_file")


def quarantine_malformed_rows(
    con: duckdb.DuckDBPyConnection, load_id: str, entity: str, path: Path, loaded_at: datetime
) -> None:
    """Rows DuckDB's reader rejected (temp table _csv_rejects of `stage_csv`, bad bytes in
    _bad_bytes) -> raw._quarantine, one row per line with every error of the line."""
    con.execute(
        f"""
        insert into {RAW_SCHEMA}._quarantine
        select ?, ?, ?, null, errors.line,
            'malformed row: ' || string_agg(
                errors.error_type || ' (' || case
                    when errors.error_type = 'INVALID ENCODING' then coalesce(
                        bad.reason, errors.error_message
                    ) || '; the file must be UTF-8'
                    when errors.error_type = 'LINE SIZE OVER MAXIMUM' then errors.error_message
                        || '; a record this long is usually an unterminated quote'
                    else errors.error_message
                end || ')', '; '
            ),
            left(any_value(errors.csv_line), 2000), ?, ?
        from _csv_rejects as errors
        left join _bad_bytes as bad on bad.line = errors.line
        group by errors.line, bad.reason
        """,
        [load_id, entity, str(path), loaded_at, str(path)],
    )


def load_file(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    path: Path,
    load_id: str,
    loaded_at: datetime,
    source_system: str = "canonical",
    root: Path | None = None,
) -> FileLoadResult:
    """Append one file's good rows to raw.<entity> and its bad rows to raw._quarantine.

    `root`: the folder the file must stay in (a symlink leading out of it is refused).
    """
    problems = file_problems(entity, path, root)
    if problems:
        raise LandingFileError("\n".join(problems))
    scan = scan_utf8(path)
    header = read_header(path)
    extra = check_header(entity, path, header)
    present = set(header)
    # Lineage: the original export file and row when the file was converted from a source.
    if "_source_file" in present and "_source_row" in present:
        origin_file = f'coalesce("_source_file", {_literal(str(path))})'
        origin_row = 'try_cast("_source_row" as bigint)'
    else:
        origin_file, origin_row = _literal(str(path)), "cast(null as bigint)"
    # The UTF-8 scan saw every NUL byte: a file without one needs no NUL check per value.
    has_nul = bool(scan.nul_lines)
    # Each present column's trimmed text ("__v<i>") and typed value ("__t<i>") are computed
    # once, in their own projection; the reasons and the typed columns read them.
    given = [c for c in entity.columns if c.name in present]
    values = {c.name: f'"__v{i}"' for i, c in enumerate(given)}
    typed_values = {c.name: f'"__t{i}"' for i, c in enumerate(given)}
    trimmed = ", ".join(f"nullif(trim({_quote(c.name)}), '') as {values[c.name]}" for c in given)
    typed = ", ".join(
        f"{_typed_expression(c, values[c.name])} as {typed_values[c.name]}" for c in given
    )
    checks = [
        _column_checks(c, True, has_nul, values[c.name], typed_values[c.name])[1] for c in given
    ]
    # Absent columns are null (and only required ones are missing, refused by check_header).
    reasons = ", ".join(r for r in checks if r != "cast(null as varchar)") or "''"
    columns = ", ".join(
        f"{typed_values[c.name]} as {_quote(c.name)}"
        if c.name in present
        else f"cast(null as {SQL_TYPES[c.type]}) as {_quote(c.name)}"
        for c in entity.columns
    )
    # One pass over the file: typed in SQL, with the reason of every row that cannot be typed;
    # only those rows keep their fields as a JSON record (for the quarantine).
    record = ", ".join(f"{_quote(h)} := {_quote(h)}" for h in header)
    read_csv_into(
        con,
        path,
        header,
        scan,
        f"""
        create or replace temp table _typed_file as
        select
            _row_number,
            {origin_row} as _origin_row,
            {origin_file} as _origin_file,
            {columns},
            "__reason" as _reason,
            case when "__reason" <> '' then to_json(struct_pack({record})) end as _raw_record
        from (
            select *, concat_ws('; ', {reasons}) as "__reason"
            from (select *, {typed} from (select *, {trimmed} from {{rows}}))
        )
        """,
    )
    renumber_after_rejects(con, "_typed_file")
    con.execute("create or replace temp table _bad_bytes (line bigint, reason varchar)")
    if scan.bad_lines:
        con.executemany(
            "insert into _bad_bytes values (?, ?)",
            [[b.line, f"not UTF-8: {b.describe()}"] for b in scan.bad_lines],
        )
    names = ", ".join(_quote(c) for c in entity.column_names)
    con.execute(
        f"""
        insert into {RAW_SCHEMA}.{entity.name}
        select {names}, ?, _origin_file, coalesce(_origin_row, _row_number), ?, ?, ?
        from _typed_file where _reason = ''
        """,
        [source_system, load_id, loaded_at, str(path)],
    )
    con.execute(
        f"""
        insert into {RAW_SCHEMA}._quarantine
        select ?, ?, _origin_file, coalesce(_origin_row, _row_number), null, _reason,
            _raw_record, ?, ?
        from _typed_file where _reason <> ''
        """,
        [load_id, entity.name, loaded_at, str(path)],
    )
    quarantine_malformed_rows(con, load_id, entity.name, path, loaded_at)
    counts = con.execute(
        "select (select count(*) from _typed_file where _reason = ''), "
        "(select count(*) from _typed_file where _reason <> ''), "
        "(select count(distinct line) from _csv_rejects)"
    ).fetchone()
    loaded, bad_typed, malformed = counts
    con.execute("drop table if exists _csv_rejects")
    con.execute("drop table if exists _csv_scans")
    con.execute("drop table if exists _staged_file")
    con.execute("drop table if exists _typed_file")
    con.execute("drop table if exists _bad_bytes")
    result = FileLoadResult(
        load_id=load_id,
        entity=entity.name,
        source_file=str(path),
        rows_read=loaded + bad_typed + malformed,
        rows_loaded=loaded,
        rows_quarantined=bad_typed + malformed,
        extra_columns=extra,
    )
    con.execute(
        f"insert into {RAW_SCHEMA}._load_log values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            entity.name,
            str(path),
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            ", ".join(extra) or None,
            loaded_at,
        ],
    )
    return result


@dataclass(frozen=True)
class LandingFile:
    """One file the loader reads, identified by path, source system, size and content hash."""

    path: Path
    source_system: str
    size_bytes: int
    sha256: str

    @property
    def identity(self) -> tuple[str, int, str]:
        return (self.source_system, self.size_bytes, self.sha256)


def _identify(
    entity_name: str,
    landing_dir: Path,
    converted_dir: Path | None,
) -> list[LandingFile]:
    """Every landing and converted file of the entity with its size and SHA-256 (streamed). A
    file leading out of its folder is refused before it is read."""
    files = [(path, "canonical", landing_dir) for path in discover_files(landing_dir, entity_name)]
    files += [
        (path, system, converted_dir)
        for path, system in converted_files(converted_dir, entity_name)
    ]
    identified = []
    for path, source_system, root in files:
        if root is not None:
            refuse_outside(path, root, LandingFileError)
        try:
            size, digest = file_sha256(path)
        except OSError as error:
            raise LandingFileError(
                f"{path}: cannot be read ({error.strerror or error}); check its permissions."
            ) from error
        identified.append(LandingFile(path, source_system, size, digest))
    return identified


def _delete_file_rows(con: duckdb.DuckDBPyConnection, entity: str, landing_file: str) -> None:
    """Delete every raw and quarantined row one landing file gave, and its _landed_files row."""
    con.execute(f"delete from {RAW_SCHEMA}.{entity} where _landing_file = ?", [landing_file])
    con.execute(
        f"delete from {RAW_SCHEMA}._quarantine where entity = ? and landing_file = ?",
        [entity, landing_file],
    )
    con.execute(
        f"delete from {RAW_SCHEMA}._landed_files where entity = ? and landing_file = ?",
        [entity, landing_file],
    )


def _rebuild_reason(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    full_refresh: bool,
    had_landed_files: bool,
    landed: dict,
) -> str | None:
    """Why raw.<entity> is rebuilt from every file rather than appended to; None: incremental."""
    if full_refresh:
        return "full refresh"
    if not had_landed_files:
        return "no record of the landed files (raw._landed_files)"
    if not raw_table_exists(con, entity.name):
        return "no raw table yet"
    if not entity_table_is_current(con, entity):
        return "its columns differ from the entity definition"
    if not landed:
        return "no landed file recorded"
    return None


def load_entity(
    con: duckdb.DuckDBPyConnection,
    entity_name: str,
    landing_dir: Path,
    load_id: str,
    progress: Callable[[str], None] | None = None,
    converted_dir: Path | None = None,
    full_refresh: bool = False,
) -> list[FileLoadResult]:
    """Bring raw.<entity> up to date with its landing and converted files, atomically (one
    transaction): unchanged files are kept as they are, new files appended, changed files
    replaced, removed files' rows deleted (see the module docstring). `full_refresh`: rebuild
    from every file. Returns one result per file read in this load."""
    entity = ENTITIES[entity_name]
    had_landed_files = raw_table_exists(con, "_landed_files")
    ensure_raw_schema(con)
    files = _identify(entity_name, landing_dir, converted_dir)
    roots = {"canonical": landing_dir}
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        landed = {
            name: (system, size, digest)
            for name, system, size, digest in con.execute(
                f"select landing_file, source_system, size_bytes, sha256 "
                f"from {RAW_SCHEMA}._landed_files where entity = ?",
                [entity_name],
            ).fetchall()
        }
        previous = dict(landed)
        reason = _rebuild_reason(con, entity, full_refresh, had_landed_files, landed)
        if reason:
            # The raw table is rebuilt whole: this entity's quarantine rows go with it.
            con.execute(f"delete from {RAW_SCHEMA}._quarantine where entity = ?", [entity_name])
            con.execute(f"delete from {RAW_SCHEMA}._landed_files where entity = ?", [entity_name])
            _create_entity_table(con, entity)
            landed = {}
        changes: list[tuple[str, str]] = []
        discovered = {str(f.path) for f in files}
        for name in sorted(set(previous) - discovered):
            if name in landed:
                _delete_file_rows(con, entity_name, name)
            changes.append((name, "removed"))
        results = []
        for file in files:
            name = str(file.path)
            if landed.get(name) == file.identity:
                changes.append((name, "unchanged"))
                continue
            if name in landed:
                _delete_file_rows(con, entity_name, name)
            changes.append((name, "replaced" if name in previous else "added"))
            root = roots.get(file.source_system, converted_dir)
            result = load_file(con, entity, file.path, load_id, loaded_at, file.source_system, root)
            con.execute(
                f"insert into {RAW_SCHEMA}._landed_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    entity_name,
                    name,
                    file.source_system,
                    file.size_bytes,
                    file.sha256,
                    load_id,
                    loaded_at,
                    result.rows_read,
                    result.rows_loaded,
                    result.rows_quarantined,
                ],
            )
            results.append(result)
            if progress:
                progress(
                    f"{entity_name}: {file.path.name} read {result.rows_read:,}, "
                    f"loaded {result.rows_loaded:,}, quarantined {result.rows_quarantined:,}"
                )
        con.execute(f"delete from {RAW_SCHEMA}._landing_changes where entity = ?", [entity_name])
        if changes:
            con.executemany(
                f"insert into {RAW_SCHEMA}._landing_changes values (?, ?, ?, ?)",
                [[load_id, entity_name, name, change] for name, change in changes],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    kept = sum(1 for _, change in changes if change == "unchanged")
    removed = sum(1 for _, change in changes if change == "removed")
    message = f"{entity_name}: {kept} files unchanged (kept), {len(results)} loaded" + (
        f", {removed} removed" if removed else ""
    )
    if reason and previous:
        message += f" (rebuilt: {reason})"
    log.info(message)
    if progress and (files or previous):
        progress(message)
    return results


def landing_changes(con: duckdb.DuckDBPyConnection, entity_name: str) -> dict[str, int]:
    """How many files the entity's latest load added, replaced, removed and kept unchanged."""
    counts = dict.fromkeys(CHANGES, 0)
    counts.update(
        con.execute(
            f"select change, count(*) from {RAW_SCHEMA}._landing_changes where entity = ? "
            "group by change",
            [entity_name],
        ).fetchall()
    )
    return counts


def load_landing(
    database: Path,
    landing_dir: Path,
    entities: Iterable[str] | None = None,
    load_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    converted_dir: Path | None = None,
    full_refresh: bool = False,
) -> list[FileLoadResult]:
    """Load every entity's landing (and converted) files into `database` (incrementally unless
    `full_refresh`); one result per file read."""
    load_id = load_id or new_load_id()
    database.parent.mkdir(parents=True, exist_ok=True)
    results: list[FileLoadResult] = []
    with duckdb.connect(str(database)) as con:
        for name in entities or ENTITIES:
            results.extend(
                load_entity(con, name, landing_dir, load_id, progress, converted_dir, full_refresh)
            )
    return results


def ensure_conversion_log(con: duckdb.DuckDBPyConnection) -> None:
    """raw._conversion_log: per source file, rows read = used + rejected."""
    ensure_raw_schema(con)
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}._conversion_log (
            load_id varchar not null,
            source_system varchar not null,
            source_file varchar not null,
            rows_read bigint not null,
            rows_used bigint not null,
            rows_rejected bigint not null,
            converted_at timestamp not null
        )
        """
    )


def record_conversions(
    con: duckdb.DuckDBPyConnection, conversions: Iterable, load_id: str
) -> tuple[int, int]:
    """Log per source file rows read/used/rejected; quarantine the rejected input rows.

    Returns (rows read, rows rejected) over all source files.
    """
    ensure_conversion_log(con)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute(f"delete from {RAW_SCHEMA}._quarantine where entity like 'source:%'")
    read = rejected = 0
    for conversion in conversions:
        for account in conversion.files:
            con.execute(
                f"insert into {RAW_SCHEMA}._conversion_log values (?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id,
                    conversion.source_system,
                    account.source_file,
                    account.rows_read,
                    account.rows_used,
                    account.rows_rejected,
                    now,
                ],
            )
            read += account.rows_read
            rejected += account.rows_rejected
        rows = [
            [
                load_id,
                f"source:{conversion.source_system}",
                r.source_file,
                r.row_number,
                None,
                r.reason if r.column is None else f"{r.column}: {r.reason}",
                None if r.value is None else str(r.value),
                now,
                None,
            ]
            for r in conversion.rejects
        ]
        if rows:
            con.executemany(
                f"insert into {RAW_SCHEMA}._quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
    return read, rejected


def results_as_dicts(results: Iterable[FileLoadResult]) -> list[dict]:
    return [asdict(r) for r in results]


# The dbt models that decide what becomes of every landed CRM row (the rules are dbt models,
# not a converter): one row per landed row, kept or rejected with its reason.
CRM_ROW_OUTCOMES = (
    ("intermediate", "int_salesforce__row_outcomes"),
    ("intermediate", "int_hubspot__row_outcomes"),
)


def record_crm_rejects(con: duckdb.DuckDBPyConnection, load_id: str) -> tuple[int, int]:
    """After dbt: log per landed CRM file the rows read/used/rejected by the dbt rules
    (raw._conversion_log) and quarantine the rejected rows (raw._quarantine, entity
    `source:<source_system>`, as a converter's rejects), so landed = kept + rejected is
    recorded as for converted sources. Returns (rows read, rows rejected)."""
    ensure_conversion_log(con)
    read = rejected = 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for schema, table in CRM_ROW_OUTCOMES:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
        if not exists:
            continue
        outcomes = f'{schema}."{table}"'
        files = con.execute(
            f"""
            select source_system, source_file, count(*),
                count(*) filter (where is_kept), count(*) filter (where not is_kept)
            from {outcomes}
            group by source_system, source_file
            order by source_system, source_file
            """
        ).fetchall()
        if not files:
            continue
        con.execute(
            f"delete from {RAW_SCHEMA}._conversion_log where load_id = ? and source_file in "
            f"(select distinct source_file from {outcomes})",
            [load_id],
        )
        con.executemany(
            f"insert into {RAW_SCHEMA}._conversion_log values (?, ?, ?, ?, ?, ?, ?)",
            [[load_id, system, file, n, kept, gone, now] for system, file, n, kept, gone in files],
        )
        con.execute(
            f"""
            insert into {RAW_SCHEMA}._quarantine
            select ?, 'source:' || source_system, source_file, source_row, null,
                rejection_reason, null, ?, null
            from {outcomes}
            where not is_kept
            order by source_system, source_file, source_row
            """,
            [load_id, now],
        )
        read += sum(row[2] for row in files)
        rejected += sum(row[4] for row in files)
    return read, rejected
