"""Land a CRM's objects verbatim: `raw_<crm>.<object>`, every column text, read by DuckDB.

A CRM source folder (`type: salesforce` in its source.yml) holds one export file per object
(`Opportunity.csv`, `OpportunityHistory.csv`, ...). Each file is read by DuckDB's own CSV reader
with a fixed dialect (comma, `"` quote and escape, one header row, every column VARCHAR; nothing
is sniffed) into `raw_<crm>.<object>`, the object's API name in snake case
(`OpportunityHistory` -> `opportunity_history`). A source may instead name a schema of synced
tables (`schema:`, optionally in another DuckDB file: `database:`, attached read-only): its
tables are copied the same way. Nothing is converted here: dbt's staging models
(`dbt_project/models/staging/<crm>/`) rename and cast; the converters in
`orchestration/sources/` read these tables, and for Salesforce the same rules are also dbt
models (`intermediate/crm/`, proved equal to the converter; the marts still use the converter).

What differs between CRMs is a method of `Crm`: which files a folder holds (`export_files`),
whether a file must be decoded or converted to CSV text first (`read_text`: a declared
encoding; HubSpot's cp932 detection and .xlsx), how header and synced columns are named
(`header_names`, `synced_column_names`) and which `_config` rows describe a file's columns
(`column_config`). Salesforce uses the defaults; HubSpot (`orchestration/sources/hubspot.py`,
`HUBSPOT`) overrides them: files by name pattern, labels -> internal property names.
`_landed_files.source_columns` keeps each file's header as it was, beside the raw names.

Column names follow the Fivetran convention, so an export file, a Fivetran table and an
Airbyte or dlt table look the same to staging (`column_name`):

- `StageName` -> `stage_name`, `CallDurationInSeconds` -> `call_duration_in_seconds`,
  `Custom__c` -> `custom__c`, `Email_Opened__c` -> `email_opened__c`;
- headers are matched to the object's known fields ignoring case first, so Data Loader's
  `STAGENAME` is `stage_name` too; an unknown all-capitals header is just lower-cased;
- a column already in snake case (a synced table) keeps its name.

Every object the staging models read has a table, with every field they read, even when the
export lacks the file or the field (empty table, null column): an export need not carry every
object or field. Columns the export has beyond those are kept as they are. Audit columns, as
in the canonical raw tables: `_source_system` (the source folder's source_system), `_source_file`,
`_row_number` (1-based data row of the file; for a synced table its row order), `_load_id`,
`_loaded_at` (UTC).

Row accounting as for canonical files: every file row is in the raw table, or, when DuckDB's
reader cannot parse it (wrong field count, bad bytes), in `raw._quarantine` (entity
`<crm>.<object>`); `raw._load_log` has one row per file with rows read = loaded + quarantined.
A file that cannot be read at all (not UTF-8, empty, duplicate header names) stops the load with
the same messages as a canonical file.

The source.yml settings the models need (value maps and options) are written to
`raw_<crm>._config` (source_system, config_key, entry_key, attribute, value): one row per scalar
option (`corporate_currency: JPY` -> config_key `corporate_currency`, value `JPY`), per list
item (entry_key its 1-based position), per map
entry (`lead_source_map: {Web: web_inquiry}` -> config_key `lead_source_map`, entry_key `Web`,
value `web_inquiry`) and per attribute of a nested entry (`user_roles: {IS: {role: SDR}}` ->
entry_key `IS`, attribute `role`, value `SDR`). The user's source.yml does not change.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.input_files import decode_text, refuse_outside, scan_utf8
from orchestration.lib.loader import (
    RAW_SCHEMA,
    FileLoadResult,
    LandingFileError,
    ensure_raw_schema,
    header_problems,
    quarantine_malformed_rows,
    read_csv_into,
    read_header,
    renumber_after_rejects,
)

AUDIT_COLUMNS = {
    "_source_system": "varchar",
    "_source_file": "varchar",
    "_row_number": "bigint",
    "_load_id": "varchar",
    "_loaded_at": "timestamp",
}
CONFIG_TABLE = "_config"
# Per landed file (or synced table): its object, source and the columns it had (the raw table
# has every known field; this says which ones the export itself carried).
FILES_TABLE = "_landed_files"
# Fivetran's soft-delete flag: every object table has it (null unless a Fivetran sync sets it),
# so staging reads one deleted flag whatever the source.
FIVETRAN_DELETED = "_fivetran_deleted"
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class CrmObject:
    """One CRM object: its API name and the fields the staging model reads.

    `table_name`: the raw table when it is not the API name in snake case (HubSpot's `deals`
    export lands in `deal`, as Fivetran names it); `synced_names`: other names a sync gives the
    table (Airbyte's `deals`), matched when a synced schema has no table named `table`."""

    name: str
    fields: tuple[str, ...]
    table_name: str | None = None
    synced_names: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.table_name or snake_case(self.name)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


@dataclass(frozen=True)
class Crm:
    """A CRM whose exports land verbatim: raw schema `raw_<name>`, its objects."""

    name: str
    objects: tuple[CrmObject, ...]

    @property
    def schema(self) -> str:
        return f"raw_{self.name}"

    # What differs between CRMs; a CRM whose exports are not `<Object>.csv` files with API
    # names as headers (HubSpot) overrides these.

    def export_files(self, source: CrmSource) -> list[tuple[CrmObject, Path]]:
        """(object, file) of every export file of a source folder, in landing order."""
        return list(export_files(self, source.folder).items())

    def read_text(self, path: Path, source: CrmSource) -> str | None:
        """The text of an export file when it must be decoded or converted first (a declared
        `encoding`), else None: DuckDB reads the file itself."""
        encoding = source.config.get("encoding")
        declared = str(encoding or "utf-8").lower().replace("_", "-")
        if declared in {"utf-8", "utf-8-sig", "utf8"}:
            return None
        from orchestration.sources.readers import SOURCE_ENCODING_HINT, decode_export

        return decode_export(path, str(encoding), SOURCE_ENCODING_HINT)

    def header_names(self, obj: CrmObject, header: list[str], source: CrmSource) -> list[str]:
        """Raw column names of an export file's header."""
        return column_names(header, source.fields(obj))

    def synced_column_names(
        self, obj: CrmObject, header: list[str], source: CrmSource
    ) -> list[str]:
        """Raw column names of a synced table's columns."""
        return column_names(header, source.fields(obj))

    def column_config(
        self, obj: CrmObject, header: list[str], names: list[str]
    ) -> list[tuple[str, str | None, str | None, str | None]]:
        """Rows for `_config` (config_key, entry_key, attribute, value) describing columns of
        a landed file whose name alone loses information; none by default."""
        return []


def snake_case(name: str) -> str:
    """The Fivetran column (and table) name of a CRM API name: `StageName` -> `stage_name`."""
    text = name.strip()
    return _BOUNDARY.sub("_", text).lower()


def column_names(header: Iterable[str], known: Iterable[str]) -> list[str]:
    """Raw column names of a header: known fields matched ignoring case, then snake case."""
    spelled = {field.lower(): field for field in known}
    return [snake_case(spelled.get(h.strip().lower(), h.strip())) for h in header]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class CrmSource:
    """One source of a CRM: an export folder, or a synced schema (config `schema`, `database`).

    `extra_fields`: object name -> custom fields the source.yml names (e.g. `HireDate__c` on
    User), matched ignoring case like the known fields (Data Loader's `HIREDATE__C`)."""

    folder: Path
    config: Mapping[str, Any]
    source_system: str
    extra_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def fields(self, obj: CrmObject) -> tuple[str, ...]:
        return (*obj.fields, *self.extra_fields.get(obj.name, ()))


# --------------------------------------------------------------------------- tables


def create_tables(con: duckdb.DuckDBPyConnection, crm: Crm) -> None:
    """(Re)create every object table of the CRM, empty, with its known fields and audits."""
    con.execute(f"create schema if not exists {crm.schema}")
    for obj in crm.objects:
        columns = [f"{_quote(snake_case(f))} varchar" for f in (*obj.fields, FIVETRAN_DELETED)]
        columns += [f"{name} {type_}" for name, type_ in AUDIT_COLUMNS.items()]
        con.execute(
            f"create or replace table {crm.schema}.{_quote(obj.table)} ({', '.join(columns)})"
        )
    con.execute(
        f"""
        create or replace table {crm.schema}.{FILES_TABLE} (
            source_system varchar not null,
            object_name varchar not null,
            source_file varchar not null,
            columns varchar[] not null,
            rows_landed bigint not null,
            source_columns varchar[]
        )
        """
    )
    con.execute(
        f"""
        create or replace table {crm.schema}.{CONFIG_TABLE} (
            source_system varchar not null,
            config_key varchar not null,
            entry_key varchar,
            attribute varchar,
            value varchar,
            _source_file varchar not null,
            _loaded_at timestamp not null
        )
        """
    )


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> None:
    schema, name = table.split(".", 1)
    present = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name.strip('"')],
        ).fetchall()
    }
    for column in names:
        if column not in present:
            con.execute(f"alter table {table} add column {_quote(column)} varchar")
            present.add(column)


def _utf8_copy(text: str) -> Path:
    """A temporary UTF-8 file of an export's text (decoded or converted by `Crm.read_text`)."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", prefix="crm-", suffix=".csv", delete=False
    ) as handle:
        handle.write(text)
    return Path(handle.name)


def file_problems(path: Path, root: Path) -> list[str]:
    """Why `path` cannot be landed at all: a symlink out of the landing folder, an empty file,
    bytes that are not UTF-8 (an export tool writes UTF-8: named with line and byte offset, as
    the source readers do), empty or duplicate header names (as for a canonical file)."""
    from orchestration.sources.readers import SOURCE_ENCODING_HINT

    try:
        refuse_outside(path, root, LandingFileError)
    except LandingFileError as error:
        return [str(error)]
    scan = scan_utf8(path)
    if scan.size == 0 or not scan.header.strip(b"\r\n\xef\xbb\xbf"):
        return [
            f"{path}: the file is empty (no header row). What to do: export it again with its "
            "header row, or remove it from the landing folder."
        ]
    if scan.bad_lines:
        try:
            data = path.read_bytes()
            codec = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
            decode_text(data, codec, path, LandingFileError, SOURCE_ENCODING_HINT)
        except LandingFileError as error:
            return [str(error)]
    return header_problems(path, read_header(path))


def land_file(
    con: duckdb.DuckDBPyConnection,
    crm: Crm,
    obj: CrmObject,
    path: Path,
    source: CrmSource,
    load_id: str,
    loaded_at: datetime,
    error: type[Exception] = LandingFileError,
) -> FileLoadResult:
    """Append every row of one export file to raw_<crm>.<object>; malformed rows quarantined.

    A file the CRM must decode or convert first (`Crm.read_text`) is read from a temporary
    UTF-8 copy; messages and `_source_file` still name the file itself."""
    text = crm.read_text(path, source)
    readable = path if text is None else _utf8_copy(text)
    try:
        if readable == path:
            problems = file_problems(path, source.folder.parent)
        else:
            problems = header_problems(path, read_header(readable))
        if problems:
            raise error("\n".join(problems))
        scan = scan_utf8(readable)
        header = read_header(readable)
        names = crm.header_names(obj, header, source)
        source_system = source.source_system
        table = f"{crm.schema}.{_quote(obj.table)}"
        _add_missing_columns(con, table, names)
        selected = ", ".join(
            f"{_quote(h)} as {_quote(n)}" for h, n in zip(header, names, strict=True)
        )
        # Read straight into the object's table: no staging copy, no sort.
        loaded = read_csv_into(
            con,
            readable,
            header,
            scan,
            f"""
            insert into {table} by name
            select {selected}, {_literal(source_system)} as _source_system,
                {_literal(str(path))} as _source_file, _row_number,
                {_literal(load_id)} as _load_id, cast({_literal(str(loaded_at))} as timestamp)
                    as _loaded_at
            from {{rows}}
            """,
            kind=f"a {crm.name} export file",
        )
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)
    renumber_after_rejects(con, table, "_source_file = ? and _load_id = ?", [str(path), load_id])
    con.execute("create or replace temp table _bad_bytes (line bigint, reason varchar)")
    if scan.bad_lines:
        con.executemany(
            "insert into _bad_bytes values (?, ?)",
            [[b.line, f"not UTF-8: {b.describe()}"] for b in scan.bad_lines],
        )
    entity = f"{crm.name}.{obj.table}"
    quarantine_malformed_rows(con, load_id, entity, path, loaded_at)
    (malformed,) = con.execute("select count(distinct line) from _csv_rejects").fetchone()
    for temp in ("_csv_rejects", "_csv_scans", "_bad_bytes"):
        con.execute(f"drop table if exists {temp}")
    result = FileLoadResult(load_id, entity, str(path), loaded + malformed, loaded, malformed)
    con.execute(
        f"insert into {crm.schema}.{FILES_TABLE} values (?, ?, ?, ?, ?, ?)",
        [source_system, obj.name, str(path), names, loaded, header],
    )
    write_config_rows(
        con, crm, source_system, crm.column_config(obj, header, names), path, loaded_at
    )
    con.execute(
        f"insert into {RAW_SCHEMA}._load_log values (?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, entity, str(path), loaded + malformed, loaded, malformed, None, loaded_at],
    )
    return result


def land_synced_schema(
    con: duckdb.DuckDBPyConnection,
    crm: Crm,
    source: CrmSource,
    load_id: str,
    loaded_at: datetime,
    catalog: str | None = None,
) -> list[FileLoadResult]:
    """Copy the object tables of a synced schema (Fivetran, Airbyte, dlt) into raw_<crm>.

    The schema is the source's `schema:`; `catalog`: the attached database holding it (else
    the working database). Tables are matched by snake-case name (`opportunity_history`, also
    `OpportunityHistory`), then by the object's other synced names; a missing table is an
    object the sync does not carry.
    """
    schema, source_system = str(source.config["schema"]), source.source_system
    tables = {
        snake_case(name): name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?"
            + (" and table_catalog = ?" if catalog else ""),
            [schema, catalog] if catalog else [schema],
        ).fetchall()
    }
    if not tables:
        raise LandingFileError(
            f"schema {schema}: no tables found for source {source_system}; check `schema:` "
            "(and `database:`) in its source.yml."
        )
    results = []
    prefix = f"{_quote(catalog)}.{_quote(schema)}" if catalog else _quote(schema)
    for obj in crm.objects:
        candidates = (obj.table, *(snake_case(n) for n in obj.synced_names))
        name = next((tables[c] for c in candidates if c in tables), None)
        if name is None:
            continue
        header = [row[0] for row in con.execute(f"describe {prefix}.{_quote(name)}").fetchall()]
        names = crm.synced_column_names(obj, header, source)
        table = f"{crm.schema}.{_quote(obj.table)}"
        _add_missing_columns(con, table, names)
        where = f"{schema}.{name}"
        selected = ", ".join(
            f"cast({_quote(h)} as varchar) as {_quote(n)}"
            for h, n in zip(header, names, strict=True)
        )
        (count,) = con.execute(
            f"""
            insert into {table} by name
            select {selected}, ? as _source_system, ? as _source_file,
                row_number() over () as _row_number, ? as _load_id, ? as _loaded_at
            from {prefix}.{_quote(name)}
            """,
            [source_system, where, load_id, loaded_at],
        ).fetchone()
        entity = f"{crm.name}.{obj.table}"
        results.append(FileLoadResult(load_id, entity, where, count, count, 0))
        con.execute(
            f"insert into {crm.schema}.{FILES_TABLE} values (?, ?, ?, ?, ?, ?)",
            [source_system, obj.name, where, names, count, header],
        )
        con.execute(
            f"insert into {RAW_SCHEMA}._load_log values (?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, entity, where, count, count, 0, None, loaded_at],
        )
    return results


def attach_synced(con: duckdb.DuckDBPyConnection, source: CrmSource) -> str | None:
    """Attach a synced source's `database:` read-only (outside any transaction); its name."""
    database = source.config.get("database")
    if not database:
        return None
    path = Path(str(database))
    path = path if path.is_absolute() else source.folder / path
    if not path.is_file():
        raise LandingFileError(
            f"{path}: the synced database named by `database:` in the source.yml of "
            f"{source.source_system} is missing; give the path of the DuckDB file."
        )
    catalog = f"synced_{source.source_system}"
    con.execute(f"attach {_literal(str(path))} as {_quote(catalog)} (read_only)")
    return catalog


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------- config


def config_rows(config: Mapping[str, Any], keys: Iterable[str]) -> list[tuple]:
    """(config_key, entry_key, attribute, value) rows of the source.yml keys the models read."""
    rows: list[tuple] = []

    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    for key in keys:
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, list | tuple):
            rows.extend((key, str(n), None, text(v)) for n, v in enumerate(value, start=1))
            continue
        if not isinstance(value, Mapping):
            rows.append((key, None, None, text(value)))
            continue
        for entry, spec in value.items():
            entry_key = "" if entry is None else str(entry)
            if isinstance(spec, Mapping):
                rows.extend((key, entry_key, str(a), text(v)) for a, v in spec.items())
            else:
                rows.append((key, entry_key, None, text(spec)))
    return rows


def write_config(
    con: duckdb.DuckDBPyConnection,
    crm: Crm,
    source_system: str,
    config: Mapping[str, Any],
    keys: Iterable[str],
    source_file: Path,
    loaded_at: datetime,
) -> int:
    return write_config_rows(
        con, crm, source_system, config_rows(config, keys), source_file, loaded_at
    )


def write_config_rows(
    con: duckdb.DuckDBPyConnection,
    crm: Crm,
    source_system: str,
    rows: list[tuple],
    source_file: Path,
    loaded_at: datetime,
) -> int:
    if rows:
        con.executemany(
            f"insert into {crm.schema}.{CONFIG_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [[source_system, *row, str(source_file), loaded_at] for row in rows],
        )
    return len(rows)


# --------------------------------------------------------------------------- entry point


def export_files(crm: Crm, folder: Path) -> dict[CrmObject, Path]:
    """The object files present in an export folder, names matched ignoring case."""
    present = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    return {
        obj: present[obj.file_name.lower()]
        for obj in crm.objects
        if obj.file_name.lower() in present
    }


def _land_source(
    con: duckdb.DuckDBPyConnection,
    crm: Crm,
    source: CrmSource,
    load_id: str,
    loaded_at: datetime,
    catalogs: Mapping[str, str | None],
    error: type[Exception] = LandingFileError,
) -> list[FileLoadResult]:
    if source.config.get("schema"):
        catalog = catalogs.get(source.source_system)
        return land_synced_schema(con, crm, source, load_id, loaded_at, catalog)
    return [
        land_file(con, crm, obj, path, source, load_id, loaded_at, error)
        for obj, path in crm.export_files(source)
    ]


def land_crm(
    con: duckdb.DuckDBPyConnection,
    crm: Crm,
    sources: Iterable[CrmSource],
    load_id: str,
    config_keys: Iterable[str] = (),
    progress: Callable[[str], None] | None = None,
    error: type[Exception] = LandingFileError,
) -> list[FileLoadResult]:
    """Rebuild every raw_<crm> table from the CRM's sources, in one transaction.

    A file that cannot be landed raises `error` (the caller's input-error class)."""
    ensure_raw_schema(con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    config_keys = tuple(config_keys)
    sources = list(sources)
    results: list[FileLoadResult] = []
    catalogs: dict[str, str | None] = {}
    try:
        for source in sources:
            if source.config.get("schema"):
                catalogs[source.source_system] = attach_synced(con, source)
        con.execute("begin transaction")
        try:
            con.execute(
                f"delete from {RAW_SCHEMA}._quarantine where entity like ?", [f"{crm.name}.%"]
            )
            create_tables(con, crm)
            for source in sources:
                results += _land_source(con, crm, source, load_id, loaded_at, catalogs, error)
                write_config(
                    con,
                    crm,
                    source.source_system,
                    source.config,
                    config_keys,
                    source.folder / "source.yml",
                    loaded_at,
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        for catalog in catalogs.values():
            if catalog:
                con.execute(f"detach {_quote(catalog)}")
    if progress:
        for result in results:
            progress(
                f"{result.entity}: {Path(result.source_file).name} read {result.rows_read:,}, "
                f"landed {result.rows_loaded:,}, quarantined {result.rows_quarantined:,}"
            )
    return results
