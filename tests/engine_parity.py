"""What the parity tests on PostgreSQL and Spark share (tests/test_engine_parity_*.py): the
datasets, the DuckDB reference runs and the comparison of published tables, mart for mart:
row counts, the sum of every numeric column and the rows themselves (hashed), exact for counts
and money, to 1e-9 for rates.

Datasets: the hand-made tiny fixture, and a small demo (generated) with every export.
One pipeline run per engine and dataset, shared by the assertions.
"""

from __future__ import annotations

import decimal
import hashlib
import math
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest

from orchestration.demo.generate import generate
from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY, TINY_AS_OF, copy_fixture
from tests.engines_support import postgres_server

DEMO_SCALE = 0.01
DEMO_END = date(2026, 10, 31)
DEMO_AS_OF = DEMO_END.isoformat()
# The published DuckDB file's schemas, by the engine's schema names.
DUCKDB_SCHEMAS = {"marts": "main", "core": "core"}
RATE_TOLERANCE = 1e-9
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    base = tmp_path_factory.mktemp("parity_landing")
    demo = base / "demo"
    generate(demo, scale=DEMO_SCALE, seed=11, end_date=DEMO_END)
    return {"tiny": (copy_fixture(TINY, base / "tiny"), TINY_AS_OF), "demo": (demo, DEMO_AS_OF)}


@pytest.fixture(scope="module")
def duckdb_runs(datasets, tmp_path_factory):
    """The reference: each dataset's published file on DuckDB."""
    runs = {}
    for name, (landing, as_of) in datasets.items():
        settings = settings_for(tmp_path_factory.mktemp(f"duckdb_{name}"), landing, as_of)
        outcome = run_pipeline(settings)
        assert outcome.success, outcome
        runs[name] = settings.published_db
    return runs


@pytest.fixture(scope="module")
def postgres_env() -> Iterator[None]:
    with postgres_server() as (_, port):
        saved = {k: os.environ.get(k) for k in ("SALES_KPI_PG_HOST", "SALES_KPI_PG_PORT")}
        os.environ.update({"SALES_KPI_PG_HOST": "127.0.0.1", "SALES_KPI_PG_PORT": str(port)})
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _normal(value, approximate: bool = False):
    """A value as the engines' rows are compared. Numbers of a column that is floating point
    on either engine: to 9 significant digits (rates); else exact (counts, money). Timestamps:
    as wall time in Asia/Tokyo, the sessions' zone (DuckDB's are naive, Spark's instants)."""
    if value is None:
        return None
    if approximate and isinstance(value, float | decimal.Decimal | int):
        number = float(value)
        return "nan" if math.isnan(number) else float(f"{number:.9g}")
    if isinstance(value, decimal.Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(TOKYO)
        return value.replace(tzinfo=None).isoformat()
    return value


def _duckdb_tables(path: Path, schema: str) -> dict[str, pa.Table]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set timezone = 'Asia/Tokyo'")
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_name <> '_publication' order by 1",
                [schema],
            ).fetchall()
        ]
        return {
            name: con.execute(f'select * from {schema}."{name}"').to_arrow_table() for name in names
        }


def compare(reference: pa.Table, other: pa.Table, where: str) -> list[str]:
    """What differs between two tables (empty: the same)."""
    problems = []
    if reference.num_rows != other.num_rows:
        return [f"{where}: {reference.num_rows} rows on DuckDB, {other.num_rows} here"]
    if sorted(reference.column_names) != sorted(other.column_names):
        return [f"{where}: columns {reference.column_names} vs {other.column_names}"]
    names = sorted(reference.column_names)
    left, right = reference.to_pydict(), other.to_pydict()
    for name in names:
        values = [v for v in left[name] if isinstance(v, int | float | decimal.Decimal)]
        if not values or isinstance(values[0], bool):
            continue
        a = sum(v for v in left[name] if v is not None)
        b = sum(v for v in right[name] if v is not None)
        if isinstance(a, float) or isinstance(b, float):
            if not math.isclose(float(a), float(b), rel_tol=RATE_TOLERANCE, abs_tol=1e-9):
                problems.append(f"{where}.{name}: sum {a} on DuckDB, {b} here")
        elif a != b:
            problems.append(f"{where}.{name}: sum {a} on DuckDB, {b} here")

    approximate = [
        pa.types.is_floating(reference.schema.field(name).type)
        or pa.types.is_floating(other.schema.field(name).type)
        for name in names
    ]

    def rows(columns: dict) -> list[tuple[str, tuple]]:
        """Each row as (hash of its exact values, its floating-point values), sorted."""
        keyed = []
        for row in zip(*(columns[name] for name in names), strict=True):
            exact = tuple(_normal(v) for v, a in zip(row, approximate, strict=True) if not a)
            floats = tuple(
                None if v is None else float(v) for v, a in zip(row, approximate, strict=True) if a
            )
            keyed.append((hashlib.sha256(repr(exact).encode()).hexdigest(), floats))
        return sorted(keyed, key=lambda r: (r[0], [_normal(x, True) for x in r[1]]))

    def same_floats(a: tuple, b: tuple) -> bool:
        return all(
            (x is None and y is None)
            or (x is not None and y is not None and math.isnan(x) and math.isnan(y))
            or (
                x is not None
                and y is not None
                and math.isclose(x, y, rel_tol=RATE_TOLERANCE, abs_tol=RATE_TOLERANCE)
            )
            for x, y in zip(a, b, strict=True)
        )

    differing = [
        (a, b)
        for a, b in zip(rows(left), rows(right), strict=True)
        if a[0] != b[0] or not same_floats(a[1], b[1])
    ]
    if differing:
        problems.append(
            f"{where}: the same counts and sums but {len(differing)} other rows, e.g. "
            f"{differing[0][1][1]} here for {differing[0][0][1]} on DuckDB"
        )
    return problems


def assert_parity(reference_db: Path, read_engine_schema) -> int:
    compared, problems = 0, []
    for schema, duck_schema in DUCKDB_SCHEMAS.items():
        expected = _duckdb_tables(reference_db, duck_schema)
        actual = read_engine_schema(schema)
        missing = sorted(set(expected) - set(actual))
        assert not missing, f"not published in {schema}: {missing}"
        for table, reference in expected.items():
            problems += compare(reference, actual[table], f"{schema}.{table}")
            compared += 1
    assert not problems, "\n".join(problems)
    return compared


def engine_run(engine: str, landing: Path, as_of: str, base: Path, dbt_vars=None):
    settings = settings_for(base, landing, as_of, dbt_vars, engine=engine)
    return settings, run_pipeline(settings, force=True)
