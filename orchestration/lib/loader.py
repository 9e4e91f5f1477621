"""Load landing files into typed raw tables with DuckDB's native CSV reader.

Every input row is accounted for: for each file and load,
``rows_read = rows_loaded + rows_quarantined``. Rows that cannot be parsed (wrong
number of fields) or typed (bad date, unknown category, empty required value) go
to ``raw._quarantine`` with the file, row and column and a reason. A file
without a required column fails the load with a message naming both.

Raw tables are rebuilt from every file present in the landing folder on each
load (idempotent: re-running a load gives the same raw tables); the load log
``raw._load_log`` keeps one row per file and load.
"""

from __future__ import annotations

import csv
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.canonical_schema import ENTITIES, SQL_TYPES, Column, Entity

# Converted source files carry the original export file and row (orchestration/sources).
LINEAGE_COLUMNS = ("_source_file", "_source_row")

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
SOURCE_TIMEZONE = "Asia/Tokyo"
TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")
AUDIT_COLUMNS = {
    "_source_system": "varchar",
    "_source_file": "varchar",
    "_row_number": "bigint",
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
}


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


def discover_files(landing_dir: Path, entity: str) -> list[Path]:
    """`<entity>.csv` and every `<entity>/*.csv`, in name order (later files win on duplicates)."""
    files = []
    single = landing_dir / f"{entity}.csv"
    if single.is_file():
        files.append(single)
    folder = landing_dir / entity
    if folder.is_dir():
        files.extend(sorted(p for p in folder.glob("*.csv") if p.is_file()))
    return files


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
        has_offset = rf"regexp_matches({raw}, '\d{{2}}:\d{{2}}(:\d{{2}}(\.\d+)?)? ?([+-]\d{{2}}(:?\d{{2}})?|Z)$')"
        return (
            f"case when {has_offset} then "
            f"timezone({_literal(zone)}, try_cast({raw} as timestamptz)) "
            f"else try_cast({raw} as timestamp) end"
        )
    return f"try_cast({raw} as {target})"


def _column_checks(col: Column, present: bool) -> tuple[str, str]:
    """(typed expression, reason expression) for one column of a staged file."""
    if not present:
        return f"cast(null as {SQL_TYPES[col.type]})", "cast(null as varchar)"
    raw = f"nullif(trim({_quote(col.name)}), '')"
    typed = _typed_expression(col, raw)
    reasons = []
    if col.required:
        reasons.append(
            f"when {raw} is null then {_literal(f'{col.name}: required value is empty')}"
        )
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
    return typed, "case " + " ".join(reasons) + " end"


def _read_header(path: Path) -> list[str]:
    """The header row, read with Python's csv module (UTF-8, BOM stripped)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
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
            quarantined_at timestamp not null
        )
        """
    )


def _create_entity_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    cols = [f"{_quote(c.name)} {SQL_TYPES[c.type]}" for c in entity.columns]
    cols += [f"{name} {type_}" for name, type_ in AUDIT_COLUMNS.items()]
    con.execute(f"create or replace table {RAW_SCHEMA}.{entity.name} ({', '.join(cols)})")


def load_file(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    path: Path,
    load_id: str,
    loaded_at: datetime,
    source_system: str = "canonical",
) -> FileLoadResult:
    """Append one file's good rows to raw.<entity> and its bad rows to raw._quarantine."""
    header = _read_header(path)
    extra = check_header(entity, path, header)
    present = set(header)
    # Lineage: the original export file and row when the file was converted from a source.
    if "_source_file" in present and "_source_row" in present:
        origin_file = f'coalesce("_source_file", {_literal(str(path))})'
        origin_row = 'coalesce(try_cast("_source_row" as bigint), _row_number)'
    else:
        origin_file, origin_row = _literal(str(path)), "_row_number"
    con.execute("drop table if exists _staged_file")
    con.execute(
        "create temp table _staged_file as select row_number() over () as _row_number, * "
        "from read_csv(?, header = true, all_varchar = true, store_rejects = true, "
        "strict_mode = true, rejects_table = '_csv_rejects', rejects_scan = '_csv_scans')",
        [str(path)],
    )
    checks = {c.name: _column_checks(c, c.name in present) for c in entity.columns}
    reasons = ", ".join(reason for _, reason in checks.values())
    con.execute(
        f"""
        create or replace temp table _typed_file as
        select
            {origin_row} as _row_number,
            {origin_file} as _origin_file,
            {", ".join(f"{typed} as {_quote(name)}" for name, (typed, _) in checks.items())},
            concat_ws('; ', {reasons}) as _reason,
            to_json(struct_pack({", ".join(f"{_quote(h)} := {_quote(h)}" for h in header)}))
                as _raw_record
        from _staged_file
        """
    )
    names = ", ".join(_quote(c) for c in entity.column_names)
    con.execute(
        f"""
        insert into {RAW_SCHEMA}.{entity.name}
        select {names}, ?, _origin_file, _row_number, ?, ?
        from _typed_file where _reason = '' order by _row_number
        """,
        [source_system, load_id, loaded_at],
    )
    con.execute(
        f"""
        insert into {RAW_SCHEMA}._quarantine
        select ?, ?, _origin_file, _row_number, null, _reason, _raw_record, ?
        from _typed_file where _reason <> ''
        """,
        [load_id, entity.name, loaded_at],
    )
    con.execute(
        f"""
        insert into {RAW_SCHEMA}._quarantine
        select ?, ?, ?, null, errors.line,
            'malformed row: ' || string_agg(
                errors.error_type || ' (' || errors.error_message || ')', '; '
            ),
            any_value(errors.csv_line), ?
        from _csv_rejects as errors
        group by errors.line
        """,
        [load_id, entity.name, str(path), loaded_at],
    )
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


def load_entity(
    con: duckdb.DuckDBPyConnection,
    entity_name: str,
    landing_dir: Path,
    load_id: str,
    progress: Callable[[str], None] | None = None,
    converted_dir: Path | None = None,
) -> list[FileLoadResult]:
    """Rebuild raw.<entity> from its landing and converted files, atomically (one transaction)."""
    entity = ENTITIES[entity_name]
    ensure_raw_schema(con)
    files = [(path, "canonical") for path in discover_files(landing_dir, entity_name)]
    files += converted_files(converted_dir, entity_name)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        # Delete this entity's quarantine rows from earlier loads: the raw table is rebuilt whole.
        con.execute(f"delete from {RAW_SCHEMA}._quarantine where entity = ?", [entity_name])
        _create_entity_table(con, entity)
        results = []
        for path, source_system in files:
            result = load_file(con, entity, path, load_id, loaded_at, source_system)
            results.append(result)
            if progress:
                progress(
                    f"{entity_name}: {path.name} read {result.rows_read:,}, "
                    f"loaded {result.rows_loaded:,}, quarantined {result.rows_quarantined:,}"
                )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return results


def load_landing(
    database: Path,
    landing_dir: Path,
    entities: Iterable[str] | None = None,
    load_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    converted_dir: Path | None = None,
) -> list[FileLoadResult]:
    """Load every entity's landing (and converted) files into `database`; one result per file."""
    load_id = load_id or new_load_id()
    database.parent.mkdir(parents=True, exist_ok=True)
    results: list[FileLoadResult] = []
    with duckdb.connect(str(database)) as con:
        for name in entities or ENTITIES:
            results.extend(load_entity(con, name, landing_dir, load_id, progress, converted_dir))
    return results


def record_conversions(
    con: duckdb.DuckDBPyConnection, conversions: Iterable, load_id: str
) -> tuple[int, int]:
    """Log per source file rows read/used/rejected; quarantine the rejected input rows.

    Returns (rows read, rows rejected) over all source files.
    """
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
            ]
            for r in conversion.rejects
        ]
        if rows:
            con.executemany(
                f"insert into {RAW_SCHEMA}._quarantine values (?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
    return read, rejected


def results_as_dicts(results: Iterable[FileLoadResult]) -> list[dict]:
    return [asdict(r) for r in results]
