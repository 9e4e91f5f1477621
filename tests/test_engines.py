"""The engine layer (orchestration/engines/): copies to and from PostgreSQL and Spark keep
every value, a PostgreSQL publication is atomic for a reader querying in a loop, and a failed
publication leaves the previous marts readable."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import date, datetime

import duckdb
import pytest

from orchestration.engines import engine_name, get_engine
from orchestration.engines.base import Publication
from orchestration.engines.postgres import PostgresEngine, duckdb_type, postgres_type
from orchestration.engines.transfer import source_tables
from orchestration.lib import quality
from tests.engines_support import (
    free_port,
    postgres_engine,
    postgres_server,
    spark_create_work_table,
)
from tests.test_quality_kinds import CASES, COMPARED, _exp, _suite, make_database

# Values a CSV or Parquet copy could get wrong: empty text vs null, quotes, commas, newlines,
# Japanese text, a backslash, exact decimals, a timestamp with a time zone, a list.
TRICKY = """
    select * from (values
        (1, 'plain', 1234567.89::decimal(18,2), 0.1::double, true, date '2025-04-01',
         timestamp '2025-04-01 09:30:00', timestamptz '2025-04-01 09:30:00+09', [1, 2],
         9007199254740993::bigint),
        (2, '', -0.01::decimal(18,2), 1e-300::double, false, date '1999-12-31',
         timestamp '1999-12-31 23:59:59.123456', timestamptz '1999-12-31 15:00:00+00', [],
         -1::bigint),
        (3, null, null, null, null, null, null, null, null, null),
        (4, 'it''s "quoted", with, commas' || chr(10) || 'and a newline \\N', 0::decimal(18,2),
         -2.5::double, true, date '2024-02-29', timestamp '2024-02-29 00:00:00',
         timestamptz '2024-02-29 00:00:00+09', [3], 0::bigint),
        (5, '株式会社テスト（東京）', 99.99::decimal(18,2), 3.141592653589793::double, false,
         date '2026-01-01', timestamp '2026-01-01 00:00:00', timestamptz '2026-01-01 00:00:00+09',
         [4, 5, 6], 42::bigint)
    ) t(id, label, amount, ratio, flag, day, at_local, at_zoned, items, big)
"""


def _working_db(path):
    with duckdb.connect(str(path)) as con:
        con.execute("set timezone = 'Asia/Tokyo'")
        con.execute("create schema raw")
        con.execute(f"create table raw.tricky as {TRICKY}")
        con.execute(f"create table raw.empty as select * from ({TRICKY}) where false")
        # Spark skips files and folders named _*: such a table must still read back.
        con.execute("create table raw._config as select 'k' as config_key, 'v' as config_value")
    return path


def _rows(path, schema, table):
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set timezone = 'Asia/Tokyo'")
        return con.execute(
            f"select id, label, amount, ratio, flag, day, at_local, at_zoned, "
            f"cast(items as varchar), big from {schema}.{table} order by id"
        ).fetchall()


def _types(path, schema, table):
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()
        )


def test_engine_name_is_checked(monkeypatch):
    monkeypatch.setenv("SALES_KPI_ENGINE", "Spark ")
    assert engine_name() == "spark"
    monkeypatch.setenv("SALES_KPI_ENGINE", "oracle")
    with pytest.raises(ValueError, match=r"SALES_KPI_ENGINE='oracle' is not an engine.*duckdb"):
        engine_name()
    monkeypatch.delenv("SALES_KPI_ENGINE")
    assert engine_name() == "duckdb"
    assert get_engine("duckdb", ".").builds_in_working_db


def test_duckdb_engine_reads_the_published_file(tiny_run):
    settings, outcome = tiny_run
    assert outcome.success, outcome
    engine = settings.warehouse_engine()
    assert "kpi_cac" in engine.published_tables("marts")
    assert "fct_leads" in engine.published_tables("core")
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        expected = con.execute("select count(*) from main.kpi_cac").fetchone()[0]
        run_id = con.execute("select run_id from main._publication").fetchone()[0]
    assert engine.read_published("marts", "kpi_cac").num_rows == expected
    assert engine.read_published("marts", "_publication").column("run_id").to_pylist() == [run_id]


def test_type_mappings():
    assert postgres_type("VARCHAR") == "text"
    assert postgres_type("DOUBLE") == "double precision"
    assert postgres_type("DECIMAL(18,2)") == "numeric(18,2)"
    assert postgres_type("TIMESTAMP WITH TIME ZONE") == "timestamptz"
    assert postgres_type("INTEGER[]") == "text"
    assert postgres_type("STRUCT(a INTEGER)") == "text"
    assert duckdb_type("numeric", 18, 2) == "DECIMAL(18,2)"
    assert duckdb_type("numeric", None, None) == "DOUBLE"  # unconstrained: any size
    assert duckdb_type("timestamp with time zone", None, None) == "TIMESTAMPTZ"
    assert duckdb_type("character varying", None, None) == "VARCHAR"


def test_source_tables_from_the_manifest():
    manifest = {
        "sources": {
            "a": {"schema": "raw", "name": "leads", "identifier": "leads"},
            "b": {"schema": "raw_hubspot", "name": "_config", "identifier": None},
            "c": {"schema": "raw", "name": "leads", "identifier": "leads"},
        }
    }
    assert source_tables(manifest) == [("raw", "leads"), ("raw_hubspot", "_config")]


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as (_, port):
        yield port


def _gate_results(root, database, schemas, runners=None, extra=()):
    """The raw GX results (COMPARED fields, unexpected values sorted) and the report of one
    suite holding every CASES expectation (and `extra`) on marts.t."""
    entries = [_exp(kind, **kwargs) for kind, kwargs in CASES] + list(extra)
    report = quality.validate(database, _suite(root / "e", entries), schemas, root / "r", runners)
    raw = json.loads((root / "r" / "validations" / "marts__t.json").read_text("utf-8"))
    results = []
    for result in raw["results"]:
        got = {"success": result["success"]} | {k: result["result"].get(k) for k in COMPARED}
        if got["partial_unexpected_list"] is not None:  # engines have no row order of theirs
            got["partial_unexpected_list"] = sorted(got["partial_unexpected_list"], key=json.dumps)
        results.append(got)
    return results, report


def assert_gate_in_engine_is_gx_on_pandas(engine, tmp_path, monkeypatch, message_prefix):
    """Every kind of expectation the suites use, evaluated in the engine (its own SQL
    dialect, one scan per suite), gives what GX gives on pandas over the same rows; an
    expectation the engine cannot evaluate fails alone with the engine's message."""
    database = make_database(tmp_path / "working.duckdb")
    assert engine.load_raw(database, [("marts", "t")]).rows == {"marts.t": 3}
    monkeypatch.setattr(quality, "SQL_ROUTE", False)
    oracle, _ = _gate_results(tmp_path / "pandas", database, {"marts": "marts"})
    monkeypatch.setattr(quality, "SQL_ROUTE", True)
    runners = {"marts": engine.quality_runner()}
    gone = _exp("expect_column_values_to_not_be_null", column="gone")
    got, report = _gate_results(
        tmp_path / "engine", database, {"marts": "marts"}, runners, extra=[gone]
    )
    assert got[:-1] == oracle
    assert not got[-1]["success"]
    failures = "\n".join(report.suites[0].failures)
    assert f"{message_prefix}" in failures and "gone" in failures, failures
    assert "id=O3" in failures  # offending rows are named from the engine too
    raw = json.loads((tmp_path / "engine" / "r" / "validations" / "marts__t.json").read_text())
    where = {r["meta"].get("evaluated_in") for r in raw["results"]}
    assert where == {engine.name, None}, where  # None: table-level kinds, on GX's pandas


def test_postgres_quality_gate_runs_in_the_engine(postgres, tmp_path, monkeypatch):
    engine = postgres_engine(postgres, "gate")
    assert_gate_in_engine_is_gx_on_pandas(engine, tmp_path, monkeypatch, "PostgreSQL:")
    down = PostgresEngine("127.0.0.1", free_port(), "postgres", "", "gate")
    report = quality.validate(
        tmp_path / "working.duckdb",
        _suite(tmp_path / "down", [_exp("expect_column_values_to_not_be_null", column="id")]),
        {"marts": "marts"},
        tmp_path / "down" / "r",
        {"marts": down.quality_runner()},
    )
    assert not report.success  # an engine that cannot be reached fails the check
    assert "Cannot connect to PostgreSQL" in report.summary_text()


def test_postgres_round_trip_keeps_every_value(postgres, tmp_path):
    engine = postgres_engine(postgres, "round_trip")
    working = _working_db(tmp_path / "working.duckdb")
    loaded = engine.load_raw(working, [("raw", "tricky"), ("raw", "empty"), ("raw", "absent")])
    assert loaded.rows == {"raw.tricky": 5, "raw.empty": 0}  # an absent table is skipped
    with engine.connection() as pg, pg.cursor() as cursor:
        cursor.execute("select count(*) from raw.tricky where label = ''")
        assert cursor.fetchone()[0] == 1  # empty text stays text, null stays null
        cursor.execute("create schema work_marts")
        cursor.execute("create table work_marts.tricky as select * from raw.tricky")
        cursor.execute("create table work_marts.empty as select * from raw.empty")
    back = tmp_path / "back.duckdb"
    mirrored = engine.mirror_built(back)
    assert mirrored.rows == {"marts.tricky": 5, "marts.empty": 0}
    assert _rows(back, "marts", "tricky") == _rows(working, "raw", "tricky")
    types = _types(back, "marts", "empty")
    assert types["amount"] == "DECIMAL(18,2)"
    assert types["ratio"] == "DOUBLE"
    assert types["at_zoned"] == "TIMESTAMP WITH TIME ZONE"
    assert types["big"] == "BIGINT"


def _work_tables(engine: PostgresEngine, version: int) -> None:
    with engine.connection() as pg, pg.cursor() as cursor:
        cursor.execute("create schema if not exists work_marts")
        cursor.execute("create schema if not exists work_core")
        for schema, table in [("work_marts", "kpi_a"), ("work_marts", "kpi_b"), ("work_core", "d")]:
            cursor.execute(f"drop table if exists {schema}.{table}")
            cursor.execute(
                f"create table {schema}.{table} as "
                f"select {version} as version, g as n from generate_series(1, 2000) g"
            )
        cursor.execute("comment on table work_marts.kpi_a is 'KPI A: 受注率'")


def _publication(run: int) -> Publication:
    return Publication(datetime(2026, 1, 1), f"run-{run}", "2026-01-01", "test", "key")


def test_postgres_publication_is_atomic_for_a_reader(postgres):
    engine = postgres_engine(postgres, "atomic")
    _work_tables(engine, 1)
    engine.publish(_publication(1))
    seen, errors, done = set(), [], threading.Event()

    def read() -> None:
        pg = engine._connect()
        pg.autocommit = True  # as a BI tool's queries: each its own transaction
        with contextlib.closing(pg), pg.cursor() as cursor:
            if True:
                while not done.is_set():
                    try:
                        cursor.execute(
                            "select (select min(version) from marts.kpi_a), "
                            "(select max(version) from marts.kpi_b), "
                            "(select count(*) from marts.kpi_b), "
                            "(select max(version) from core.d), "
                            "(select run_id from marts._publication)"
                        )
                        seen.add(cursor.fetchone())
                    except Exception as error:  # any error fails the test below
                        errors.append(repr(error))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(2, 7):
            _work_tables(engine, version)
            counts = engine.publish(_publication(version))
            time.sleep(0.05)
    finally:
        done.set()
        reader.join(30)
    assert errors == []
    # Every answer is one whole publication: both marts, the core table and the run agree.
    assert all(a == b == d and n == 2000 and run == f"run-{a}" for a, b, n, d, run in seen)
    assert {row[0] for row in seen} >= {6}
    assert counts == {"marts.kpi_a": 2000, "marts.kpi_b": 2000, "core.d": 2000}
    assert engine.published_tables("marts") == ["_publication", "kpi_a", "kpi_b"]
    with engine.connection() as pg, pg.cursor() as cursor:
        cursor.execute("select obj_description('marts.kpi_a'::regclass)")
        assert cursor.fetchone()[0] == "KPI A: 受注率"  # dbt's descriptions come along


def test_postgres_failed_publication_leaves_the_previous_marts(postgres, monkeypatch):
    engine = postgres_engine(postgres, "failed")
    _work_tables(engine, 1)
    engine.publish(_publication(1))
    _work_tables(engine, 2)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(PostgresEngine, "_copy_comments", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        engine.publish(_publication(2))
    published = engine.read_published("marts", "kpi_a")
    assert set(published.column("version").to_pylist()) == {1}
    assert engine.read_published("marts", "_publication").column("run_id").to_pylist() == ["run-1"]
    with engine.connection() as pg, pg.cursor() as cursor:
        cursor.execute(
            "select count(*) from information_schema.schemata where schema_name like '%%next'"
        )
        assert cursor.fetchone()[0] == 0


def test_spark_quality_gate_runs_in_the_engine(tmp_path, monkeypatch):
    from orchestration.engines.spark import _WORKERS, stop_workers

    engine = get_engine("spark", tmp_path)
    engine.prepare()
    try:
        assert_gate_in_engine_is_gx_on_pandas(engine, tmp_path, monkeypatch, "Spark:")
        assert len(_WORKERS) == 1  # one session served every query of the run
    finally:
        stop_workers()
    assert not _WORKERS


def test_spark_round_trip_and_publication(tmp_path):
    engine = get_engine("spark", tmp_path)
    engine.prepare()
    working = _working_db(tmp_path / "working.duckdb")
    loaded = engine.load_raw(working, [("raw", "tricky"), ("raw", "empty"), ("raw", "_config")])
    assert loaded.rows == {"raw.tricky": 5, "raw.empty": 0, "raw._config": 1}
    engine._run(spark_create_work_table, "tricky")
    back = tmp_path / "back.duckdb"
    assert engine.mirror_built(back).rows == {"marts.tricky": 5, "marts.empty": 0}
    assert _rows(back, "marts", "tricky") == _rows(working, "raw", "tricky")
    assert _types(back, "marts", "empty")["amount"] == "DECIMAL(18,2)"
    counts = engine.publish(_publication(1), schemas=("marts",))
    assert counts == {"marts.tricky": 5, "marts.empty": 0}
    tables = engine.read_all_published("marts")
    assert sorted(tables) == ["_publication", "empty", "tricky"]
    assert tables["_publication"].column("as_of_date").to_pylist() == [date(2026, 1, 1)]
    assert sorted(tables["tricky"].column("id").to_pylist()) == [1, 2, 3, 4, 5]


def test_spark_steps_and_dbt_session_share_one_configuration(tmp_path, monkeypatch):
    # Derby's home, the warehouse folder and Spark's log configuration must be the same in
    # dbt's session (profiles.yml) and in the pipeline's Spark steps (spark_conf).
    import re

    import yaml

    from orchestration.engines.spark import LOG4J_CONFIG, spark_conf
    from orchestration.lib.settings import DBT_PROJECT_DIR

    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    outputs = next(iter(profile.values()))["outputs"]
    engine = get_engine("spark", tmp_path)
    env = engine.dbt_env()

    def render(text: str) -> str:  # dbt's env_var(name, default), with the engine's env
        pattern = r"\{\{\s*env_var\('(\w+)',\s*'([^']*)'\)\s*(\|\s*int\s*)?\}\}"
        return re.sub(pattern, lambda m: env.get(m[1], m[2]), str(text))

    session = {k: render(v) for k, v in outputs["spark"]["server_side_parameters"].items()}
    conf = spark_conf(engine.spark_dir)
    assert session == conf
    assert LOG4J_CONFIG.is_file()
    assert f"-Dlog4j2.configurationFile={LOG4J_CONFIG}" in conf["spark.driver.extraJavaOptions"]
