"""Apache Spark, as a local session (pyspark from PyPI, Java 17 or newer).

Tables are Parquet files under SALES_KPI_SPARK_DIR/warehouse (default warehouse/spark), with
an embedded Derby metastore beside them, the same configuration as dbt's `spark` target
(dbt_project/profiles.yml; `spark_conf` must stay equal to it). Derby lets one process open
the metastore at a time: dbt's session and ours never overlap, since each of our steps runs
in a child process of its own that ends before the next dbt command starts. The quality
checks share one child (`_Worker`), stopped before any other Spark step (`stop_workers`).

Raw tables load with Spark's Parquet reader; the marts publish as one set of tables per
run (database `published_runs`) behind stable views in the databases `marts` and `core`,
repointed after the copy: a BI query reads either the previous run's tables or this run's.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
from orchestration.lib.sql_runner import PARAMETER, QueryError, SqlRunner, used_parameters

RUNS_DATABASE = "published_runs"
# Spark's logging configuration (dbt's session reads it through SALES_KPI_SPARK_LOG4J).
LOG4J_CONFIG = Path(__file__).with_name("spark_log4j2.properties")
# Published runs kept (the current one and the one before, which a long query may still read).
KEEP_RUNS = 2


def spark_conf(spark_dir: Path) -> dict[str, str]:
    """The session's configuration (as dbt_project/profiles.yml's `spark` target)."""
    spark_dir = Path(spark_dir).resolve()
    return {
        "spark.sql.warehouse.dir": f"{spark_dir}/warehouse",
        # Derby's home: the metastore (metastore_db) and derby.log are made there; Spark's own
        # log goes to spark.log there too (LOG4J_CONFIG).
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={spark_dir} -Dlog4j2.configurationFile={LOG4J_CONFIG}"
        ),
        "spark.driver.memory": os.environ.get("SALES_KPI_SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.shuffle.partitions": os.environ.get("SALES_KPI_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.sql.session.timeZone": "Asia/Tokyo",
        "spark.ui.enabled": "false",
        # No progress bars on stderr (in dbt's process they break the lines dagster-dbt reads).
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }


def _session(spark_dir: str):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("sales-kpi").enableHiveSupport()
    for key, value in spark_conf(Path(spark_dir)).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _output_to_log(spark_dir: str) -> None:
    """In a child process: what Spark and its JVM print goes to SALES_KPI_SPARK_DIR/spark.log,
    not to the pipeline's output."""
    log = os.open(Path(spark_dir) / "spark.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def _child(function: Callable, spark_dir: str, args: tuple) -> Any:
    """Runs in the child process: one session for `function`, stopped afterwards."""
    _output_to_log(spark_dir)
    spark = _session(spark_dir)
    try:
        return function(spark, *args)
    finally:
        spark.stop()


def _serve(connection: Any, spark_dir: str) -> None:
    """Runs in the quality gate's worker process: one session answering `(function, args)`
    requests with `("ok", function(spark, *args))` or `("error", message)` until told to stop
    (None) or its parent goes away."""
    _output_to_log(spark_dir)
    spark = _session(spark_dir)
    try:
        while True:
            try:
                request = connection.recv()
            except (EOFError, OSError):
                break
            if request is None:
                break
            function, args = request
            try:
                reply: tuple[str, Any] = ("ok", function(spark, *args))
            except Exception as exc:  # the message goes back to the check that asked
                reply = ("error", f"Spark: {type(exc).__name__}: {str(exc).strip()[:2000]}")
            connection.send(reply)
    finally:
        spark.stop()


class _Worker:
    """A child process keeping one Spark session for the quality gate's many small queries
    (a session per query would start a JVM each time). Derby lets one process open the
    metastore: every other Spark step stops the workers first (`stop_workers`)."""

    def __init__(self, spark_dir: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.spark_dir = spark_dir
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, str(spark_dir)), name="sales-kpi-spark-checks", daemon=True
        )
        self.process.start()
        child.close()

    def call(self, function: Callable, *args: Any) -> Any:
        try:
            self.connection.send((function, args))
            status, value = self.connection.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise QueryError(
                f"Spark: the quality checks' session ended (see {self.spark_dir / 'spark.log'})"
            ) from exc
        if status == "error":
            raise QueryError(value)
        return value

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.connection.send(None)
        self.process.join(timeout=120)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=30)
        self.connection.close()


_WORKERS: dict[Path, _Worker] = {}


def stop_workers() -> None:
    """Stop every quality-check session of this process (before another Spark step)."""
    while _WORKERS:
        _WORKERS.popitem()[1].stop()


atexit.register(stop_workers)


def _query(spark, sql: str, named: dict[str, Any]) -> list[tuple]:
    sql = PARAMETER.sub(lambda match: f":{match[1]}", sql)
    return [tuple(row) for row in spark.sql(sql, args=named or None).collect()]


def _query_arrow(spark, sql: str) -> pa.Table:
    return spark.sql(sql).toArrow()


def _columns(spark, table: str) -> list[str]:
    return list(spark.sql(f"select * from {table} limit 0").columns)


class SparkRunner(SqlRunner):
    """The quality gate's queries on the engine's Spark session (the worker's)."""

    dialect = "spark"

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker

    def describe(self) -> str:
        return f"spark ({self.worker.spark_dir})"

    def fetchall(self, sql: str, named: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.worker.call(_query, sql, used_parameters(sql, named))

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.worker.call(_query_arrow, sql)

    def columns(self, table: str) -> list[str]:
        return self.worker.call(_columns, table)


def _duckdb_type(data_type: Any) -> str:
    """DuckDB's type for a Spark column type."""
    from pyspark.sql import types

    simple = {
        types.StringType: "VARCHAR",
        types.CharType: "VARCHAR",
        types.VarcharType: "VARCHAR",
        types.DoubleType: "DOUBLE",
        types.FloatType: "FLOAT",
        types.LongType: "BIGINT",
        types.IntegerType: "INTEGER",
        types.ShortType: "SMALLINT",
        types.ByteType: "TINYINT",
        types.BooleanType: "BOOLEAN",
        types.DateType: "DATE",
        types.TimestampType: "TIMESTAMPTZ",
        types.TimestampNTZType: "TIMESTAMP",
        types.BinaryType: "BLOB",
    }
    if isinstance(data_type, types.DecimalType):
        return transfer.decimal_type(data_type.precision, data_type.scale)
    for kind, name in simple.items():
        if isinstance(data_type, kind):
            return name
    return "VARCHAR"


def _load(spark, files: list[tuple[str, str, str]]) -> dict[str, int]:
    rows = {}
    for schema, table, path in files:
        spark.sql(f"create database if not exists `{schema}`")
        frame = spark.read.parquet(path)
        writer = frame.write.mode("overwrite").format("parquet")
        if table.startswith("_"):
            # Spark's file listing skips files and folders named _*: such a table (_config)
            # would read back empty from its default folder.
            warehouse = spark.conf.get("spark.sql.warehouse.dir")
            writer = writer.option("path", f"{warehouse}/{schema}.db/underscore{table}")
        writer.saveAsTable(f"`{schema}`.`{table}`")
        rows[f"{schema}.{table}"] = spark.table(f"`{schema}`.`{table}`").count()
    return rows


def _tables(spark, database: str) -> list[str]:
    return sorted(
        table.name
        for table in spark.catalog.listTables(database)
        if (table.tableType or "").upper() != "VIEW" and not table.isTemporary
    )


def _databases(spark, prefix: str) -> list[str]:
    return sorted(db.name for db in spark.catalog.listDatabases() if db.name.startswith(prefix))


def _export_built(spark, folder: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    exported = []
    for database in _databases(spark, WORK_PREFIX):
        for table in _tables(spark, database):
            frame = spark.table(f"`{database}`.`{table}`")
            path = f"{folder}/{database}/{table}"
            frame.coalesce(1).write.mode("overwrite").parquet(path)
            columns = [(field.name, _duckdb_type(field.dataType)) for field in frame.schema]
            exported.append((database, table, columns))
    return exported


def _publish(spark, publication: list[Any], schemas: tuple[str, ...]) -> dict[str, int]:
    tag = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "_" + str(publication[1])[:8]
    tag = "".join(character if character.isalnum() else "_" for character in tag)
    spark.sql(f"create database if not exists {RUNS_DATABASE}")
    counts, views = {}, []
    for schema in schemas:
        spark.sql(f"create database if not exists `{schema}`")
        for table in _tables(spark, WORK_PREFIX + schema):
            stored = f"{schema}__{table}__{tag}"
            spark.sql(
                f"create table {RUNS_DATABASE}.`{stored}` using parquet as "
                f"select * from `{WORK_PREFIX + schema}`.`{table}`"
            )
            counts[f"{schema}.{table}"] = spark.table(f"{RUNS_DATABASE}.`{stored}`").count()
            views.append((schema, table, stored))
    stored = f"marts___publication__{tag}"
    frame = spark.createDataFrame(
        [tuple(None if value is None else str(value) for value in publication)],
        "published_at string, run_id string, as_of_date string, as_of_date_source string, "
        "input_key string",
    )
    frame.selectExpr(
        "cast(published_at as timestamp) as published_at",
        "run_id",
        "cast(as_of_date as date) as as_of_date",
        "as_of_date_source",
        "input_key",
    ).select(*PUBLICATION_COLUMNS).write.format("parquet").saveAsTable(
        f"{RUNS_DATABASE}.`{stored}`"
    )
    views.append(("marts", "_publication", stored))
    # Every view repointed only once every table of this run is written.
    for schema, table, stored in views:
        spark.sql(
            f"create or replace view `{schema}`.`{table}` as "
            f"select * from {RUNS_DATABASE}.`{stored}`"
        )
    current = {(schema, table) for schema, table, _ in views}
    for schema in schemas:
        for view in spark.catalog.listTables(schema):
            if (view.tableType or "").upper() == "VIEW" and (schema, view.name) not in current:
                spark.sql(f"drop view if exists `{schema}`.`{view.name}`")
    tags = sorted({name.rsplit("__", 1)[-1] for name in _tables(spark, RUNS_DATABASE)})
    for old in tags[:-KEEP_RUNS]:
        for name in _tables(spark, RUNS_DATABASE):
            if name.endswith("__" + old):
                spark.sql(f"drop table if exists {RUNS_DATABASE}.`{name}`")
    return counts


def _published_tables(spark, schema: str) -> list[str]:
    if schema not in {db.name for db in spark.catalog.listDatabases()}:
        return []
    return sorted(table.name for table in spark.catalog.listTables(schema))


def _read(spark, schema: str, tables: list[str]) -> dict[str, pa.Table]:
    return {table: spark.table(f"`{schema}`.`{table}`").toArrow() for table in tables}


def _read_all(spark, schema: str) -> dict[str, pa.Table]:
    return _read(spark, schema, _published_tables(spark, schema))


@dataclass
class SparkEngine(Engine):
    spark_dir: Path
    name: str = "spark"

    @classmethod
    def from_env(cls, home: os.PathLike | str) -> SparkEngine:
        configured = os.environ.get("SALES_KPI_SPARK_DIR")
        path = Path(configured) if configured else Path(home) / "warehouse" / "spark"
        if not path.is_absolute():
            path = Path(home) / path
        return cls(spark_dir=path.resolve())

    def describe(self) -> str:
        return f"spark (local session, tables under {self.spark_dir})"

    def dbt_env(self) -> dict[str, str]:
        return {
            **super().dbt_env(),
            "SALES_KPI_SPARK_DIR": str(self.spark_dir),
            "SALES_KPI_SPARK_LOG4J": str(LOG4J_CONFIG),
        }

    def prepare(self, progress: Progress | None = None) -> None:
        stop_workers()  # dbt's session opens the metastore next
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise RuntimeError(
                "Spark needs Java 17 or newer and none was found: install it (Debian/Ubuntu: "
                "`apt-get install openjdk-17-jre-headless`; `make demo ENGINE=spark` does) "
                "or set JAVA_HOME."
            )
        self.spark_dir.mkdir(parents=True, exist_ok=True)

    def quality_runner(self) -> Callable[[], SqlRunner]:
        def runner() -> SqlRunner:
            worker = _WORKERS.get(self.spark_dir)
            if worker is None or not worker.process.is_alive():
                stop_workers()
                worker = _WORKERS[self.spark_dir] = _Worker(self.spark_dir)
            return SparkRunner(worker)

        return runner

    def _run(self, function: Callable, *args: Any) -> Any:
        """`function(spark, *args)` in a child process with its own session (see the module)."""
        stop_workers()  # Derby: one process at a time
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            return pool.apply(_child, (function, str(self.spark_dir), args))

    def load_raw(
        self, working_db: Path, tables: Iterable[tuple[str, str]], progress: Progress | None = None
    ) -> TransferResult:
        folder = transfer.work_dir(working_db, self.name)
        files = []
        with duckdb.connect(str(working_db), read_only=True) as con:
            for schema, table in transfer.existing_tables(con, tables):
                columns = transfer.duckdb_columns(con, schema, table)
                path = folder / f"{schema}.{table}.parquet"
                con.execute(
                    f"copy (select {transfer.export_columns(columns)} from "
                    f"{quote(schema)}.{quote(table)}) to {literal(str(path))} (format parquet)"
                )
                files.append((schema, table, str(path)))
        if progress:
            progress(f"loading {len(files)} raw tables into Spark")
        try:
            rows = self._run(_load, files)
        finally:
            for _, _, path in files:
                Path(path).unlink(missing_ok=True)
        return TransferResult(rows)

    def mirror_built(self, working_db: Path, progress: Progress | None = None) -> TransferResult:
        folder = transfer.work_dir(working_db, self.name) / "built"
        shutil.rmtree(folder, ignore_errors=True)
        result = TransferResult()
        try:
            exported = self._run(_export_built, str(folder))
            with duckdb.connect(str(working_db)) as con:
                for database, table, columns in exported:
                    schema = database.removeprefix(WORK_PREFIX)
                    files = sorted((folder / database / table).glob("*.parquet"))
                    names = ", ".join(quote(name) for name, _ in columns)
                    source = (
                        f"select {names} from read_parquet("
                        f"{literal(str(folder / database / table / '*.parquet'))})"
                    )
                    if not files:  # no rows: typed nulls keep the columns' types
                        source = (
                            "select "
                            + ", ".join(
                                f"cast(null as {kind}) as {quote(name)}" for name, kind in columns
                            )
                            + " where false"
                        )
                    result.rows[f"{schema}.{table}"] = transfer.replace_duckdb_table(
                        con, schema, table, columns, source
                    )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if progress:
            progress(f"copied {len(result.rows)} built tables from Spark for the DuckDB file")
        return result

    def publish(
        self, publication: Publication, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
    ) -> dict[str, int]:
        return self._run(_publish, publication.values(), schemas)

    def published_tables(self, schema: str) -> list[str]:
        return self._run(_published_tables, schema)

    def read_published(self, schema: str, table: str) -> pa.Table:
        return self._run(_read, schema, [table])[table]

    def read_all_published(self, schema: str) -> dict[str, pa.Table]:
        """Every published table of a schema, in one Spark session."""
        return self._run(_read_all, schema)
