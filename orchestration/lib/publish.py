"""Publish the marts for BI tools: a separate DuckDB file, replaced atomically.

The published file holds only the KPI marts (schema `main`, so `select * from kpi_cac` works)
and the core facts and dimensions (schema `core`): no staging, no raw data, no personal data;
plus a `_publication` table saying when and from what it was built. Every table and column
carries its dbt description as a comment (dbt's persist_docs writes them into the working
database; publishing copies them), so a BI tool shows what each column means. It is
written next to its final path under a temporary name, in a storage version DuckDB 1.x
clients can read, checkpointed, fsynced, and then renamed over the old file. A BI tool that
holds the old file open keeps reading the old, complete marts; a connection opened later sees
the new ones (in the same process: see below). Nothing ever writes into the file a reader has open, so readers never block a run.

What a reader in a long-lived process sees (proved by tests/test_runs.py): a connection keeps
the publication that was current when it was opened; `duckdb.connect(path)` in a process
that still has any connection to `path` open returns DuckDB's cached database instance, i.e.
the old file, and sees the new one only once every connection to it in that process is closed;
an in-memory connection that ATTACHes the file (`duckdb.connect()` then
`attach '<path>' as marts (read_only)`) always sees the newest publication.

A publication killed mid-way leaves `.<name>.<pid>.tmp` (and its `.wal`); the next run removes
those whose process is gone (`remove_stale_temporary_files`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.run_lock import pid_alive

PUBLISHED_SCHEMAS = ("core", "marts")
# Where each working schema lands in the published file. The KPI marts go to `main`, so a BI
# tool sees them unqualified (`select * from kpi_cac`); a schema named `marts` would also be
# ambiguous with the catalog name DuckDB derives from `marts.duckdb`.
PUBLISHED_SCHEMA_NAMES = {"marts": "main", "core": "core"}
STORAGE_VERSION = "v1.0.0"


PUBLICATION_COMMENTS = {
    "": "When and from what this file was published: one row per publication (the latest).",
    "published_at": "When the file was published (UTC).",
    "run_id": "The pipeline run that published it (Dagster run id).",
    "as_of_date": "The as-of date the KPIs were computed for (集計基準日).",
    "as_of_date_source": "Where the as-of date came from: SALES_KPI_AS_OF_DATE, the nightly "
    "schedule's run tag, the demo's landing data or today in the configured time zone.",
    "source_database": "The working database the marts were copied from.",
    "input_key": "SHA-256 of what the marts were computed from (landing files, as-of date, dbt "
    "vars, code): a run with the same key is skipped and leaves this file as it is.",
}


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con: duckdb.DuckDBPyConnection, target: str, schemas: tuple[str, ...]) -> None:
    """The comments of every published table and column, as the working database has them."""
    placeholders = ", ".join("?" for _ in schemas)
    tables = con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        f"where database_name = 'working' and schema_name in ({placeholders}) "
        "and comment is not null",
        list(schemas),
    ).fetchall()
    for schema, table, comment in tables:
        published = PUBLISHED_SCHEMA_NAMES.get(schema, schema)
        con.execute(f'comment on table {target}.{published}."{table}" is {_quoted(comment)}')
    columns = con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        f"where database_name = 'working' and schema_name in ({placeholders}) "
        "and comment is not null",
        list(schemas),
    ).fetchall()
    for schema, table, column, comment in columns:
        published = PUBLISHED_SCHEMA_NAMES.get(schema, schema)
        con.execute(
            f'comment on column {target}.{published}."{table}"."{column}" is {_quoted(comment)}'
        )


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]
    published_at: datetime


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in schemas)
    return con.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where database_name = 'working' and schema_name in ({placeholders}) "
        "order by schema_name, table_name",
        list(schemas),
    ).fetchall()


def remove_stale_temporary_files(published_db: Path) -> list[str]:
    """Remove `.<name>.<pid>.tmp` and `.<name>.<pid>.tmp.wal` next to `published_db` left by a
    publication whose process is gone (killed mid-way); return the names removed."""
    published_db = Path(published_db)
    if not published_db.parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(published_db.name)}\.(\d+)\.tmp(\.wal)?$")
    removed = []
    for path in sorted(published_db.parent.iterdir()):
        match = pattern.match(path.name)
        if match and not pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def publish_marts(
    working_db: Path,
    published_db: Path,
    *,
    run_id: str = "",
    as_of_date: str | None = None,
    as_of_date_source: str | None = None,
    input_key: str | None = None,
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    config: dict[str, str] | None = None,
) -> PublishResult:
    """Copy the published schemas of `working_db` into `published_db`, atomically; `config`:
    more DuckDB settings for the copy (e.g. its memory limit)."""
    published_db.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporary_files(published_db)
    tmp_path = published_db.with_name(f".{published_db.name}.{os.getpid()}.tmp")
    tmp_path.unlink(missing_ok=True)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(
            str(tmp_path),
            config={**(config or {}), "storage_compatibility_version": STORAGE_VERSION},
        )
        try:
            con.execute(f"attach '{working_db}' as working (read_only)")
            tables = _tables(con, schemas)
            if not any(schema == "marts" for schema, _ in tables):
                raise RuntimeError(
                    f"{working_db} holds no marts: run the dbt models before publishing."
                )
            # Fully qualified names: the temporary file's catalog name may equal a schema name.
            target = '"' + con.execute("select current_database()").fetchone()[0] + '"'
            # One transaction for the whole copy: a commit per table and per comment (about 500)
            # costs seconds; the temporary file is thrown away if anything fails.
            con.execute("begin transaction")
            for schema in schemas:
                published = PUBLISHED_SCHEMA_NAMES.get(schema, schema)
                con.execute(f"create schema if not exists {target}.{published}")
            for schema, table in tables:
                published = PUBLISHED_SCHEMA_NAMES.get(schema, schema)
                con.execute(
                    f'create table {target}.{published}."{table}" as '
                    f'select * from working.{schema}."{table}"'
                )
                counts[f"{published}.{table}"] = con.execute(
                    f'select count(*) from {target}.{published}."{table}"'
                ).fetchone()[0]
            con.execute(
                f"create table {target}.main._publication as select ? as published_at, ? as run_id, "
                "cast(? as date) as as_of_date, cast(? as varchar) as as_of_date_source, "
                "? as source_database, cast(? as varchar) as input_key",
                [published_at, run_id, as_of_date, as_of_date_source, str(working_db), input_key],
            )
            _copy_comments(con, target, schemas)
            for column, comment in PUBLICATION_COMMENTS.items():
                if column:
                    con.execute(
                        f'comment on column {target}.main._publication."{column}" '
                        f"is {_quoted(comment)}"
                    )
                else:
                    con.execute(
                        f"comment on table {target}.main._publication is {_quoted(comment)}"
                    )
            con.execute("commit")
            con.execute("detach working")
            con.execute("checkpoint")
        finally:
            con.close()
        with tmp_path.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, published_db)
        directory = os.open(published_db.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        tmp_path.unlink(missing_ok=True)
        Path(str(tmp_path) + ".wal").unlink(missing_ok=True)
    return PublishResult(path=published_db, tables=counts, published_at=published_at)


def attach_published(con: duckdb.DuckDBPyConnection, published_db: Path) -> None:
    """Attach the published file read-only as `published` (on an in-memory connection it is
    the file on disk now, never a database instance cached in this process)."""
    con.execute(f"attach {_quoted(str(published_db))} as published (read_only)")


def publication_info(published_db: Path) -> dict | None:
    """`_publication` of a published file ({run_id, published_at, as_of_date, and
    as_of_date_source and input_key when the file has them}), None without the file. Opened
    through an in-memory connection, so the answer is the file on disk now, never a database
    instance cached in this process."""
    published_db = Path(published_db)
    if not published_db.exists():
        return None
    try:
        with duckdb.connect() as con:
            attach_published(con, published_db)
            # Files published before a column existed lack it (and say so by its absence).
            optional = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'published' "
                    "and table_name = '_publication' "
                    "and column_name in ('as_of_date_source', 'input_key')"
                ).fetchall()
            ]
            columns = ", ".join(f'"{name}"' for name in ["run_id", *optional])
            row = con.execute(
                f"select cast(published_at as varchar), cast(as_of_date as varchar), {columns} "
                "from published.main._publication"
            ).fetchone()
    except duckdb.Error as error:
        # Not a file this project published (or damaged): say so rather than fail the report.
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return {"run_id": None, "published_at": None, "as_of_date": None, "error": first_line}
    if row is None:
        return None
    info = {"run_id": row[2], "published_at": row[0], "as_of_date": row[1]}
    info.update(zip(optional, row[3:], strict=True))
    return info
