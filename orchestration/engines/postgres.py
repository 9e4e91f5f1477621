"""PostgreSQL: raw tables loaded with COPY, marts published by swapping schemas in one
transaction.

Connection: SALES_KPI_PG_HOST, _PORT, _USER, _PASSWORD, _DATABASE (dbt_project/profiles.yml
reads the same variables). With SALES_KPI_PG_HOST unset, the pipeline starts a local server of
its own from the Debian package (orchestration/engines/local_postgres.py) on port 55432, its
data under warehouse/postgres.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.engines import transfer
from orchestration.engines.base import (
    PUBLICATION_COLUMNS,
    PUBLISHED_SCHEMAS,
    WORK_PREFIX,
    Engine,
    Progress,
    Publication,
    TransferResult,
)
from orchestration.engines.transfer import literal, quote
from orchestration.lib.sql_runner import (
    PARAMETER,
    QueryError,
    SqlRunner,
    rows_to_arrow,
    used_parameters,
)

DEFAULT_PORT = 55432
DEFAULT_DATABASE = "sales_kpi"
# A schema swapped in by a publication is built under this suffix first.
NEXT_SUFFIX = "__next"
# The swap of a publication: attempts when it deadlocks with a BI query, and its
# deadlock_timeout (shorter than the server's default 1 s: the swap, not the query, gives up).
SWAP_ATTEMPTS = 10
SWAP_DEADLOCK_TIMEOUT = "100ms"


def _deadlock() -> type[Exception]:
    import psycopg2

    return psycopg2.errors.DeadlockDetected


# Other types (and transfer.TEXT_EXPORT_TYPES, exported as text) load as text.
_SIMPLE_TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(38,0)",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}

_BACK_TYPES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time without time zone": "TIME",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "uuid": "UUID",
    "bytea": "BLOB",
}


def postgres_type(duckdb_type: str) -> str:
    """PostgreSQL's type for a column of the working database."""
    upper = duckdb_type.upper()
    decimal = transfer.parse_decimal(upper)
    if decimal:
        return f"numeric({decimal[0]},{decimal[1]})"
    if transfer.nested_type(upper):
        return "text"
    return _SIMPLE_TYPES.get(upper, "text")


def duckdb_type(data_type: str, precision: int | None, scale: int | None) -> str:
    """DuckDB's type for a PostgreSQL column (information_schema.columns)."""
    if data_type == "numeric":
        return transfer.decimal_type(precision, scale)
    return _BACK_TYPES.get(data_type, "VARCHAR")


class PostgresRunner(SqlRunner):
    """The quality gate's queries on PostgreSQL: one read-only autocommit connection (a failed
    query does not abort the next), parameters bound by psycopg2."""

    dialect = "postgres"

    def __init__(self, connection, where: str) -> None:
        self.connection = connection
        self.where = where
        connection.set_session(readonly=True, autocommit=True)

    def describe(self) -> str:
        return self.where

    def _execute(self, sql: str, named: Mapping[str, Any] | None = None) -> tuple[list, list]:
        import psycopg2

        parameters = used_parameters(sql, named)
        if parameters:  # psycopg2 reads % as its own only when given parameters
            sql = PARAMETER.sub(lambda match: f"%({match[1]})s", sql.replace("%", "%%"))
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, parameters or None)
                names = [column.name for column in cursor.description or []]
                return names, cursor.fetchall() if cursor.description else []
        except psycopg2.Error as exc:
            raise QueryError(f"PostgreSQL: {str(exc).strip()}") from exc

    def fetchall(self, sql: str, named: Mapping[str, Any] | None = None) -> list[tuple]:
        return [tuple(row) for row in self._execute(sql, named)[1]]

    def fetch_arrow(self, sql: str) -> pa.Table:
        return rows_to_arrow(*self._execute(sql))

    def columns(self, table: str) -> list[str]:
        return self._execute(f"select * from {table} limit 0")[0]

    def close(self) -> None:
        self.connection.close()


@dataclass
class PostgresEngine(Engine):
    host: str
    port: int
    user: str
    password: str
    database: str
    # Set when the pipeline runs a server of its own (SALES_KPI_PG_HOST unset).
    local_data_dir: Path | None = None
    name: str = "postgres"

    @classmethod
    def from_env(cls, home: os.PathLike | str) -> PostgresEngine:
        host = os.environ.get("SALES_KPI_PG_HOST", "")
        return cls(
            host=host or "127.0.0.1",
            port=int(os.environ.get("SALES_KPI_PG_PORT") or DEFAULT_PORT),
            user=os.environ.get("SALES_KPI_PG_USER") or "postgres",
            password=os.environ.get("SALES_KPI_PG_PASSWORD", ""),
            database=os.environ.get("SALES_KPI_PG_DATABASE") or DEFAULT_DATABASE,
            local_data_dir=None if host else Path(home) / "warehouse" / "postgres",
        )

    def describe(self) -> str:
        where = f"{self.user}@{self.host}:{self.port}/{self.database}"
        return f"postgres ({where}{', local server' if self.local_data_dir else ''})"

    def dbt_env(self) -> dict[str, str]:
        env = {
            **super().dbt_env(),
            "SALES_KPI_PG_PORT": str(self.port),
            "SALES_KPI_PG_USER": self.user,
            "SALES_KPI_PG_PASSWORD": self.password,
            "SALES_KPI_PG_DATABASE": self.database,
        }
        if self.local_data_dir is None:
            # Not for the local server (the profile's default host is 127.0.0.1): the process
            # keeps what it exports, and a configured host means "not the local server".
            env["SALES_KPI_PG_HOST"] = self.host
        return env

    def prepare(self, progress: Progress | None = None) -> None:
        if self.local_data_dir is not None:
            from orchestration.engines.local_postgres import ensure_server

            ensure_server(self.local_data_dir, self.port, self.user, progress)
        self._ensure_database()

    def _connect(self, database: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.database,
            connect_timeout=10,
            application_name="sales-kpi",
        )

    def quality_runner(self) -> Callable[[], SqlRunner]:
        def connect() -> SqlRunner:
            import psycopg2

            try:
                return PostgresRunner(self._connect(), self.describe())
            except psycopg2.Error as exc:
                raise QueryError(
                    f"Cannot connect to PostgreSQL {self.describe()} for the quality checks: "
                    f"{str(exc).strip()}"
                ) from exc

        return connect

    def _ensure_database(self) -> None:
        import psycopg2

        try:
            self._connect().close()
            return
        except psycopg2.OperationalError as error:
            if "does not exist" not in str(error):
                raise RuntimeError(
                    f"Cannot connect to PostgreSQL {self.describe()}: {str(error).strip()}. "
                    "Check SALES_KPI_PG_HOST/_PORT/_USER/_PASSWORD, or unset SALES_KPI_PG_HOST "
                    "to let the pipeline run a local server."
                ) from error
        connection = self._connect("postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"create database {quote(self.database)}")
        finally:
            connection.close()

    @contextlib.contextmanager
    def connection(self) -> Iterator:
        """A connection (committed when the block ends without error)."""
        connection = self._connect()
        try:
            with connection:
                yield connection
        finally:
            connection.close()

    def load_raw(
        self, working_db: Path, tables: Iterable[tuple[str, str]], progress: Progress | None = None
    ) -> TransferResult:
        result = TransferResult()
        folder = transfer.work_dir(working_db, self.name)
        with duckdb.connect(str(working_db), read_only=True) as con, self.connection() as pg:
            present = transfer.existing_tables(con, tables)
            for schema, table in present:
                columns = transfer.duckdb_columns(con, schema, table)
                path = folder / f"{schema}.{table}.csv"
                con.execute(
                    f"copy (select {transfer.export_columns(columns)} from "
                    f"{quote(schema)}.{quote(table)}) to {literal(str(path))} "
                    "(format csv, header false)"
                )
                definition = ", ".join(
                    f"{quote(name)} {postgres_type(kind)}" for name, kind in columns
                )
                with pg.cursor() as cursor, path.open("rb") as handle:
                    cursor.execute(f"create schema if not exists {quote(schema)}")
                    cursor.execute(f"drop table if exists {quote(schema)}.{quote(table)} cascade")
                    cursor.execute(f"create table {quote(schema)}.{quote(table)} ({definition})")
                    cursor.copy_expert(
                        f"copy {quote(schema)}.{quote(table)} from stdin with (format csv)",
                        handle,
                    )
                    result.rows[f"{schema}.{table}"] = cursor.rowcount
                path.unlink()
                if progress:
                    progress(f"loaded {schema}.{table} into PostgreSQL ({cursor.rowcount:,} rows)")
        return result

    def _tables(self, cursor, schemas: Iterable[str], kinds=("BASE TABLE",)) -> list[tuple]:
        cursor.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = any(%s) and table_type = any(%s) order by 1, 2",
            (list(schemas), list(kinds)),
        )
        return cursor.fetchall()

    def _work_schemas(self, cursor) -> list[str]:
        cursor.execute(
            "select schema_name from information_schema.schemata where schema_name like %s "
            "order by 1",
            (WORK_PREFIX.replace("_", r"\_") + "%",),
        )
        return [row[0] for row in cursor.fetchall()]

    def _columns(self, cursor, schema: str, table: str) -> list[tuple[str, str]]:
        cursor.execute(
            "select column_name, data_type, numeric_precision, numeric_scale "
            "from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position",
            (schema, table),
        )
        return [
            (name, duckdb_type(kind, precision, scale))
            for name, kind, precision, scale in cursor.fetchall()
        ]

    def mirror_built(self, working_db: Path, progress: Progress | None = None) -> TransferResult:
        result = TransferResult()
        folder = transfer.work_dir(working_db, self.name)
        with self.connection() as pg, duckdb.connect(str(working_db)) as con:
            with pg.cursor() as cursor:
                tables = self._tables(cursor, self._work_schemas(cursor))
            for schema, table in tables:
                target_schema = schema.removeprefix(WORK_PREFIX)
                path = folder / f"{schema}.{table}.csv"
                with pg.cursor() as cursor:
                    columns = self._columns(cursor, schema, table)
                    with path.open("wb") as handle:
                        cursor.copy_expert(
                            f"copy {quote(schema)}.{quote(table)} to stdout "
                            "with (format csv, header false)",
                            handle,
                        )
                types = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in columns)
                rows = transfer.replace_duckdb_table(
                    con,
                    target_schema,
                    table,
                    columns,
                    f"select * from read_csv({literal(str(path))}, header = false, auto_detect = false, "
                    "delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, "
                    f"columns = {{{types}}})",
                )
                path.unlink()
                result.rows[f"{target_schema}.{table}"] = rows
            if progress:
                progress(f"copied {len(tables)} built tables from PostgreSQL for the DuckDB file")
        return result

    def publish(
        self, publication: Publication, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
    ) -> dict[str, int]:
        """First the copies, under `<schema>__next` (committed; BI never reads them), then the
        swap, in one short transaction: the previous tables locked, dropped, and the new
        schemas renamed in their place. A reader's query waiting for the swap's locks reads
        the new tables once it commits (PostgreSQL looks its names up again). A deadlock with
        a reader ends the swap, not the reader's query (the swap gives up first: its
        deadlock_timeout is shorter), and the swap is tried again."""
        counts = self._copy_for_publication(publication, schemas)
        try:
            for attempt in range(SWAP_ATTEMPTS):
                try:
                    self._swap(schemas)
                    return counts
                except _deadlock() as error:
                    if attempt == SWAP_ATTEMPTS - 1:
                        raise RuntimeError(
                            f"The publication on {self.describe()} could not take its locks "
                            f"({SWAP_ATTEMPTS} attempts): BI queries held the marts. The "
                            "previous marts are still published; run again."
                        ) from error
                    time.sleep(0.2 * (attempt + 1))
        except Exception:
            with self.connection() as pg, pg.cursor() as cursor:
                for schema in schemas:
                    cursor.execute(f"drop schema if exists {quote(schema + NEXT_SUFFIX)} cascade")
            raise
        return counts

    def _copy_for_publication(
        self, publication: Publication, schemas: tuple[str, ...]
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.connection() as pg, pg.cursor() as cursor:
            for schema in schemas:
                work, following = WORK_PREFIX + schema, schema + NEXT_SUFFIX
                cursor.execute(f"drop schema if exists {quote(following)} cascade")
                cursor.execute(f"create schema {quote(following)}")
                for _, table in self._tables(cursor, [work]):
                    cursor.execute(
                        f"create table {quote(following)}.{quote(table)} as "
                        f"select * from {quote(work)}.{quote(table)}"
                    )
                    counts[f"{schema}.{table}"] = cursor.rowcount
                self._copy_comments(cursor, work, following)
            following = "marts" + NEXT_SUFFIX
            cursor.execute(
                f"create table {quote(following)}._publication (published_at timestamp, "
                "run_id text, as_of_date date, as_of_date_source text, input_key text)"
            )
            cursor.execute(
                f"insert into {quote(following)}._publication "
                f"({', '.join(PUBLICATION_COLUMNS)}) values (%s, %s, %s, %s, %s)",
                publication.values(),
            )
        return counts

    def _swap(self, schemas: tuple[str, ...]) -> None:
        import psycopg2

        connection = self._connect()
        try:
            connection.autocommit = True
            # Not a superuser: the server's deadlock_timeout applies.
            with (
                connection.cursor() as cursor,
                contextlib.suppress(psycopg2.errors.InsufficientPrivilege),
            ):
                cursor.execute(f"set deadlock_timeout = '{SWAP_DEADLOCK_TIMEOUT}'")
            connection.autocommit = False
            with connection, connection.cursor() as cursor:
                old = self._tables(cursor, schemas)
                if old:
                    names = ", ".join(f"{quote(schema)}.{quote(table)}" for schema, table in old)
                    cursor.execute(f"lock table {names} in access exclusive mode")
                for schema in schemas:
                    cursor.execute(f"drop schema if exists {quote(schema)} cascade")
                    cursor.execute(
                        f"alter schema {quote(schema + NEXT_SUFFIX)} rename to {quote(schema)}"
                    )
        finally:
            connection.close()

    def _copy_comments(self, cursor, source: str, target: str) -> None:
        """The table and column descriptions dbt wrote (persist_docs) onto the copies."""
        cursor.execute(
            "select c.relname, a.attname, d.description from pg_description d "
            "join pg_class c on c.oid = d.objoid join pg_namespace n on n.oid = c.relnamespace "
            "left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid "
            "where n.nspname = %s and c.relkind = 'r'",
            (source,),
        )
        for table, column, description in cursor.fetchall():
            name = f"{quote(target)}.{quote(table)}"
            if column:
                cursor.execute(f"comment on column {name}.{quote(column)} is %s", (description,))
            else:
                cursor.execute(f"comment on table {name} is %s", (description,))

    def published_tables(self, schema: str) -> list[str]:
        with self.connection() as pg, pg.cursor() as cursor:
            return [table for _, table in self._tables(cursor, [schema])]

    def read_published(self, schema: str, table: str) -> pa.Table:
        with self.connection() as pg, pg.cursor() as cursor:
            cursor.execute(f"select * from {quote(schema)}.{quote(table)}")
            names = [column.name for column in cursor.description]
            rows = cursor.fetchall()
        return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})
