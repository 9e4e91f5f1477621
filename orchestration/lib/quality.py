"""The data-quality gate: Great Expectations suites run against the warehouse (the working
DuckDB database, or for core and marts the engine dbt built on: PostgreSQL, Spark).

Suites are JSON files in `expectations/<layer>/<table>.json`::

    {"table": "kpi_cac", "layer": "marts", "description": "...",
     "expectations": [{"type": "expect_column_values_to_not_be_null",
                       "kwargs": {"column": "x"}, "meta": {"why": "..."}}]}

`type` is any registered GX expectation in snake_case. One extension for referential sanity:
a kwarg value `{"$column_values": {"table": "dim_reps", "column": "rep_id"}}` is replaced at
run time by the distinct non-null values of that column, read from the same database and
schema as the validated table.

Optional inputs: a suite may say which raw tables its table is built from and cannot have
rows without, e.g. `"requires": ["activities"]` on `kpi_agency_performance`. When one of them is
empty (or absent) in the layer `raw` schema, the suite's row-count expectations
(`expect_table_row_count_*`) are skipped, not failed: an export without activities
legitimately gives an empty activity mart. Every other expectation still runs, and the
skipped ones are reported (`SuiteResult.skipped`, the summary text, `gate_summary.json`) with
the reason. Without `requires` a row-count expectation always applies. Likewise an
expectation whose `$column_values` reference resolves to no value at all (e.g. `dim_reps`
when no users file was loaded) is skipped and reported: there is nothing to check against.

Offending rows are named in failure messages: for at most `MAX_EXAMPLES` rows, their id and,
on raw tables, the landing file and row they came from (`_source_file`, `_row_number`), then
the count of the rest. The id columns are the suite's optional `"id_columns": [...]`, else the
column of its first `expect_column_values_to_be_unique` (the table's key). They are looked up
for failed single-column expectations only: in DuckDB, as the first unexpected rows in table
order (`quality_sql.evaluate_many`); on pandas, after validation, as the first rows holding one of
GX's few unexpected values (or a null, for not-null checks). No index list is built (GX's
`unexpected_index_column_names` would build one for every unexpected row before truncating).

Where the checks run: the column-map expectations the suites use (`quality_sql.SQL_KINDS`, with
the `row_condition` form they use) are evaluated in SQL by `quality_sql`, where the table is:
in DuckDB through one short-lived READ-ONLY connection per suite (closed before GX runs, so
the gate never blocks the single writer for long), or in the engine through the runner
`validate(runners=...)` gives for the layer (orchestration/lib/sql_runner.py; the engine's
`quality_runner`). A suite's counts come from one scan of its table. Their GX results are
built with GX's own result formatting. The other
expectations (row counts, column sets, anything not covered) run with GX's pandas datasource in
an ephemeral (in-memory) GX context, on a frame holding only the columns they name plus the
example columns (`needed_columns`); the others are empty sparse columns, present by name only.
Both kinds of result go into one ExpectationSuiteValidationResult per suite, stored in GX's
validation results store as GX's own run would, so Data Docs and messages are unchanged.
`SQL_ROUTE = False` runs everything on pandas (the oracle of tests/test_quality_kinds.py).
Why not GX's SQL datasource: it returns empty metrics on DuckDB (GX 1.24.1, DuckDB 2.0,
duckdb-engine 0.17: a table asset loses its schema, a query asset fails with "list index out
of range" in GX's bundled metric query).

No suite outside the raw layer repeats a blocking dbt test or contract constraint
(`prune_dbt_duplicates`, run as `python -m orchestration.lib.quality prune-dbt-duplicates`). The only files GX writes are the Data Docs,
into `results_dir/data_docs/` (rewritten after each build to render with no network:
`orchestration.lib.offline_docs`); the raw validation results and a summary are written as JSON
by this module.
"""

from __future__ import annotations

import orchestration.lib.gx_import  # noqa: F401  (before great_expectations)

# isort: split
import contextlib
import copy
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.exceptions import ExpectationNotFoundError
from great_expectations.execution_engine import pandas_execution_engine
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.registry import get_expectation_impl
from great_expectations.validator.v1_validator import Validator
from great_expectations.validator.validation_statistics import calc_validation_statistics

from orchestration.lib import offline_docs, quality_sql
from orchestration.lib.sql_runner import DuckDBRunner, QueryError, SqlRunner
from orchestration.lib.suites import (  # noqa: F401  (re-exported: the gate's API)
    LINEAGE_COLUMNS,
    SuiteFormatError,
    SuiteSpec,
    load_suites,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

REFERENCE_KEY = "$column_values"
# Expectations on the number of rows: the ones a suite's `requires` switches off.
ROW_COUNT_TYPES = frozenset(
    {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}
)
# The layer whose schema holds the tables named in a suite's `requires`.
REQUIRES_LAYER = "raw"
DATA_DOCS_SITE = "quality_gate"
RUN_NAME = "quality_gate"
DATASOURCE = "warehouse"
VALIDATIONS_DIR = "validations"
DATA_DOCS_DIR = "data_docs"
GX_STORES_DIR = "gx_stores"
SUMMARY_FILE = "gate_summary.json"
LOCK_FILE = ".gate.lock"
# SUMMARY gives counts and a few unexpected values without materialising full index lists.
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 10}
MAX_EXAMPLES = 5
# Evaluate the expectation kinds `quality_sql` covers inside DuckDB (False: all on pandas, the
# route the tests use as the oracle).
SQL_ROUTE = True
LARGE_VALUE_SET = 50_000
# Expectations whose value_set only serves to test membership of the column's values.
MEMBERSHIP_TYPES = frozenset(
    {
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_distinct_values_to_be_in_set",
        "expect_column_most_common_value_to_be_in_set",
    }
)


# Arrow types read as pandas nullable dtypes (when the column has nulls).
_NULLABLE_DTYPES: dict[pa.DataType, Any] = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


class ExpectationSpecError(ValueError):
    """An expectation entry names an unknown GX expectation or has invalid kwargs."""


class TableNotFoundError(LookupError):
    """A validated or referenced table does not exist in the database."""


# ---------------------------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------------------------


@dataclass
class SuiteResult:
    """The outcome of one suite."""

    table: str
    layer: str
    success: bool
    evaluated: int
    failed: int
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """`<layer>.<table>`."""
        return f"{self.layer}.{self.table}"


@dataclass
class GateReport:
    """The outcome of a gate run over several suites."""

    success: bool
    suites: list[SuiteResult]
    data_docs_index: Path | None
    results_json: Path

    @property
    def failed_suites(self) -> list[SuiteResult]:
        """The suites that did not pass."""
        return [s for s in self.suites if not s.success]

    def summary_text(self) -> str:
        """A short multi-line summary: one line per suite, then the failures."""
        passed = sum(s.success for s in self.suites)
        status = "PASSED" if self.success else "FAILED"
        lines = [f"Quality gate {status}: {passed}/{len(self.suites)} suites passed"]
        for suite in self.suites:
            mark = "✓" if suite.success else "✗"
            ok = suite.evaluated - suite.failed
            lines.append(f"  {mark} {suite.name} {ok}/{suite.evaluated} expectations")
            lines += [f"      skipped: {reason}" for reason in suite.skipped]
        failures = [(s.name, msg) for s in self.suites for msg in s.failures]
        if failures:
            lines.append("Failures:")
            lines += [f"  - {name}: {msg}" for name, msg in failures]
        if self.data_docs_index is not None:
            lines.append(f"Data Docs: {self.data_docs_index}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form of the report (written as `gate_summary.json`)."""
        return {
            "success": self.success,
            "suites": [asdict(s) | {"name": s.name} for s in self.suites],
            "data_docs_index": str(self.data_docs_index) if self.data_docs_index else None,
            "results_json": str(self.results_json),
        }


# ---------------------------------------------------------------------------------------------
# Loading suites
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Building GX expectations
# ---------------------------------------------------------------------------------------------


def expectation_class(type_name: str) -> type[Expectation]:
    """The GX expectation class for a snake_case type, e.g. `expect_column_values_to_be_unique`."""
    try:
        return get_expectation_impl(type_name)
    except ExpectationNotFoundError as exc:
        raise ExpectationSpecError(f"unknown expectation type {type_name!r}") from exc


def build_expectation(entry: Mapping[str, Any]) -> Expectation:
    """Instantiate a GX expectation from a suite entry whose kwargs are already resolved."""
    cls = expectation_class(entry["type"])
    kwargs = dict(entry.get("kwargs", {}))
    meta = dict(entry.get("meta", {}))
    try:
        return cls(**kwargs, meta=meta)
    except Exception as exc:  # pydantic validation errors; message is what matters
        raise ExpectationSpecError(f"{entry['type']}: invalid kwargs {kwargs}: {exc}") from exc


def find_references(kwargs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The `(table, column)` pairs referenced by `$column_values` in an entry's kwargs."""
    refs = []
    for value in kwargs.values():
        ref = _reference(value)
        if ref is not None:
            refs.append(ref)
    return refs


def resolve_references(
    kwargs: Mapping[str, Any], values: Mapping[tuple[str, str], list[Any]]
) -> dict[str, Any]:
    """A copy of `kwargs` with each `$column_values` reference replaced by its values."""
    resolved = copy.deepcopy(dict(kwargs))
    for key, value in kwargs.items():
        ref = _reference(value)
        if ref is not None:
            resolved[key] = list(values[ref])
    return resolved


def _reference(value: Any) -> tuple[str, str] | None:
    """`(table, column)` if `value` is a `$column_values` reference, else None."""
    if not (isinstance(value, dict) and set(value) == {REFERENCE_KEY}):
        return None
    target = value[REFERENCE_KEY]
    if not (isinstance(target, dict) and {"table", "column"} <= set(target)):
        raise ExpectationSpecError(f"{REFERENCE_KEY} needs 'table' and 'column': {value}")
    return str(target["table"]), str(target["column"])


# ---------------------------------------------------------------------------------------------
# Reading from DuckDB
# ---------------------------------------------------------------------------------------------


@dataclass
class _TableData:
    """A table read into pandas plus the values of the columns its suite references."""

    frame: pd.DataFrame
    references: dict[tuple[str, str], list[Any]]


def _present_values(values: list[Any], column: pd.Series) -> list[Any]:
    """The values (of a referenced column) that also occur in `column`, in their order."""
    index = pd.Index(values)
    return index[index.isin(column.dropna().unique())].tolist()


def _warn_if_large(entry: Mapping[str, Any], values: Mapping[Any, list[Any]]) -> None:
    """Log a warning when a resolved value_set is large enough to make GX slow."""
    size = max((len(v) for v in values.values()), default=0)
    if size >= LARGE_VALUE_SET:
        logger.warning(
            "%s(column=%s): value_set resolved to %d values; GX needs ~80 µs per value "
            "(about %.0f s)",
            entry["type"],
            entry.get("kwargs", {}).get("column"),
            size,
            size * 80e-6,
        )


def _entry_for_run(entry: Mapping[str, Any], data: _TableData) -> dict[str, Any]:
    """The entry with its `$column_values` references resolved, ready for `build_expectation`.

    GX copies an expectation's kwargs many times while validating, costing ~80 µs per value in a
    value_set (100k values ≈ 9 s). For membership-only expectations the value_set is therefore
    narrowed to the referenced values that occur in the validated column, which gives exactly
    the same verdict and unexpected values. The meta records what was resolved.
    """
    kwargs = entry.get("kwargs", {})
    refs = {key: _reference(value) for key, value in kwargs.items()}
    refs = {key: ref for key, ref in refs.items() if ref is not None}
    if not refs:
        return dict(entry)
    column = kwargs.get("column")
    narrow = entry["type"] in MEMBERSHIP_TYPES and column in data.frame.columns
    values = {
        ref: _present_values(data.references[ref], data.frame[column])
        if narrow
        else data.references[ref]
        for ref in refs.values()
    }
    _warn_if_large(entry, values)
    meta = dict(entry.get("meta", {}))
    meta["resolved_references"] = {
        key: {
            "table": table,
            "column": col,
            "distinct_values": len(data.references[(table, col)]),
            "listed": len(values[(table, col)]),
            "listed_values": "those occurring in the column" if narrow else "all",
        }
        for key, (table, col) in refs.items()
    }
    return {**entry, "kwargs": resolve_references(kwargs, values), "meta": meta}


def _pandas_type(arrow_type: pa.DataType) -> pa.DataType:
    """The Arrow type to convert a column to before pandas: decimals as float64 and dates as
    timestamps, the types DuckDB's own `.df()` produces (and GX compares numerically)."""
    if pa.types.is_decimal(arrow_type):
        return pa.float64()
    if pa.types.is_date(arrow_type):
        return pa.timestamp("us")
    return arrow_type


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert an Arrow table to pandas with the dtypes of DuckDB's `.df()`.

    Integers and booleans with nulls become nullable (Int64, boolean), without nulls plain
    numpy dtypes. Going through Arrow needs about a third of the memory of `.df()` and is
    several times faster (1M rows x 17 columns: 0.2 s and +0.4 GB instead of 1.1 s and +1.5 GB).
    """
    schema = pa.schema([pa.field(f.name, _pandas_type(f.type)) for f in table.schema])
    frame = table.cast(schema).to_pandas(types_mapper=_NULLABLE_DTYPES.get)
    for name, column in zip(table.column_names, table.columns, strict=True):
        dtype = frame[name].dtype
        if column.null_count == 0 and hasattr(dtype, "numpy_dtype") and dtype.kind in "iub":
            frame[name] = frame[name].to_numpy(dtype=dtype.numpy_dtype)
    return frame


def _fetch_frame(runner: SqlRunner, sql: str) -> pd.DataFrame:
    """Run a query and return its result as a DataFrame (via Arrow)."""
    return _to_pandas(runner.fetch_arrow(sql))


def _read_column_values(runner: SqlRunner, schema: str, table: str, column: str) -> list[Any]:
    """The distinct non-null values of `schema.table.column`, as pandas would type them."""
    if not runner.table_exists(schema, table):
        raise TableNotFoundError(f"referenced table {schema}.{table} does not exist")
    col = runner.quote(column)
    sql = (
        f"select distinct {col} as v from {runner.qualified(schema, table)} "
        f"where {col} is not null order by 1"
    )
    try:
        return _fetch_frame(runner, sql)["v"].tolist()
    except QueryError as exc:
        raise TableNotFoundError(
            f"referenced column {schema}.{table}.{column} does not exist ({exc})"
        ) from exc


def needed_columns(suite: SuiteSpec, available: list[str]) -> list[str]:
    """The columns of `available` that the suite's expectations read, plus the columns naming
    an offending row (`SuiteSpec.example_columns`), in table order.

    An expectation reads the columns named by its `column`, `column_A`, `column_B` and
    `column_list` kwargs, and every column whose name occurs as a word in its `row_condition`
    (over-approximated: a name inside a quoted value is read too, which costs memory, not
    correctness). Table-level expectations (row count, column set) read no column values.
    """
    wanted: set[str] = set(suite.example_columns(available))
    for entry in suite.expectations:
        kwargs = entry.get("kwargs", {})
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                wanted.add(kwargs[key])
        if isinstance(kwargs.get("column_list"), list):
            wanted.update(str(c) for c in kwargs["column_list"])
        condition = kwargs.get("row_condition")
        if isinstance(condition, str) and condition:
            wanted.update(
                c for c in available if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", condition)
            )
    return [c for c in available if c in wanted]


def _reads_columns(entry: Mapping[str, Any]) -> bool:
    """Whether an expectation reads column values (not only the table's shape)."""
    kwargs = entry.get("kwargs", {})
    return any(key in kwargs for key in ("column", "column_A", "column_B", "column_list"))


def _with_placeholders(frame: pd.DataFrame, columns: list[str], rows: int) -> pd.DataFrame:
    """`frame` (the columns read) with every other column of `columns` as an all-null sparse
    column, in table order: table-level expectations (`expect_table_columns_to_match_set`,
    row counts) see the table's real column names and row count, while a column no
    expectation reads costs no memory (a sparse all-null column stores no value)."""
    frame = frame.reset_index(drop=True) if len(frame.columns) else pd.DataFrame(index=range(rows))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        empty = pd.arrays.SparseArray(np.full(rows, np.nan), fill_value=np.nan)
        frame = pd.concat(
            [frame, pd.DataFrame({c: empty for c in missing}, index=frame.index)], axis=1
        )
    return frame[columns]


def _read_table(runner: SqlRunner, schema: str, suite: SuiteSpec) -> _TableData:
    """Read the columns of `schema.<suite table>` that the suite's pandas-route expectations
    need (`needed_columns`; none when every column expectation is evaluated in SQL) and the
    suite's referenced columns, through `runner` (the working database or the engine).

    The other columns are there by name only (`_with_placeholders`).
    """
    refs = {ref for entry in suite.expectations for ref in find_references(entry.get("kwargs", {}))}
    table = runner.qualified(schema, suite.table)
    try:
        columns = runner.columns(table)
    except QueryError as exc:
        raise TableNotFoundError(
            f"table {schema}.{suite.table} does not exist in {runner.describe()}"
        ) from exc
    on_pandas = [e for e in suite.expectations if not (SQL_ROUTE and _sql_covered(e))]
    read = []
    if any(_reads_columns(e) for e in on_pandas):
        read = needed_columns(dataclasses.replace(suite, expectations=on_pandas), columns)
    if read:
        frame = _fetch_frame(runner, f"select {', '.join(map(runner.quote, read))} from {table}")
        rows = len(frame)
    else:
        frame = pd.DataFrame()
        rows = int(runner.fetchall(f"select count(*) from {table}")[0][0])
    frame = _with_placeholders(frame, columns, rows)
    values = {ref: _read_column_values(runner, schema, *ref) for ref in sorted(refs)}
    return _TableData(frame=frame, references=values)


def _empty_inputs(runner: SqlRunner, schema: str, tables: tuple[str, ...]) -> list[str]:
    """The tables of `tables` (in `schema`) that are absent or have no row."""
    empty = []
    for table in tables:
        if not runner.table_exists(schema, table):
            empty.append(table)
            continue
        sql = f"select count(*) from (select 1 from {runner.qualified(schema, table)} limit 1) x"
        if runner.fetchall(sql)[0][0] == 0:
            empty.append(table)
    return empty


def apply_requires(suite: SuiteSpec, empty_inputs: list[str]) -> tuple[SuiteSpec, list[str]]:
    """The suite without its row-count expectations when a required input is empty.

    Returns the suite to run and one "skipped" message per row-count expectation left out
    (naming the empty inputs); the suite unchanged and no message when every input has rows.
    """
    empty = [table for table in suite.requires if table in empty_inputs]
    if not empty:
        return suite, []
    inputs = ", ".join(f"{REQUIRES_LAYER}.{table}" for table in empty)
    kept, skipped = [], []
    for entry in suite.expectations:
        if entry["type"] in ROW_COUNT_TYPES:
            params = _params(entry.get("kwargs", {}))
            skipped.append(
                f"{entry['type']}({params}): {inputs} empty (no such export loaded), so "
                f"{suite.table} may legitimately be empty"
            )
        else:
            kept.append(entry)
    return dataclasses.replace(suite, expectations=kept), skipped


def _skip_empty_references(suite: SuiteSpec, data: _TableData) -> tuple[SuiteSpec, list[str]]:
    """The suite without the expectations whose `$column_values` reference has no value."""
    kept, skipped = [], []
    for entry in suite.expectations:
        empty = [
            ref for ref in find_references(entry.get("kwargs", {})) if not data.references[ref]
        ]
        if empty:
            names = ", ".join(f"{table}.{column}" for table, column in empty)
            skipped.append(
                f"{entry['type']}({_domain(entry.get('kwargs', {}))}): referenced {names} is "
                "empty (its export was not loaded), nothing to check against"
            )
        else:
            kept.append(entry)
    if not skipped:
        return suite, []
    return dataclasses.replace(suite, expectations=kept), skipped


# ---------------------------------------------------------------------------------------------
# GX context
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _gx_runtime() -> Iterator[None]:
    """Run GX quietly and without its batch fingerprint, restoring both afterwards.

    - GX's INFO/WARNING logging and Python warnings are silenced (progress bars are switched
      off in the context config).
    - GX fingerprints every pandas batch by hashing the whole DataFrame (only stored in the
      result's meta as `pandas_data_fingerprint`); on 1M rows that is ~1.5 s, two thirds of the
      validation time. GX itself skips it for frames above `HASH_THRESHOLD` bytes; we set the
      threshold to 0 while the gate runs.
    """
    gx_logger = logging.getLogger("great_expectations")
    previous_level = gx_logger.level
    previous_threshold = getattr(pandas_execution_engine, "HASH_THRESHOLD", None)
    gx_logger.setLevel(logging.ERROR)
    if previous_threshold is not None:
        pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        gx_logger.setLevel(previous_level)
        if previous_threshold is not None:
            pandas_execution_engine.HASH_THRESHOLD = previous_threshold


def _make_context(results_dir: Path) -> Any:
    """An ephemeral GX context that writes only inside `results_dir`.

    No analytics and no progress bars. Suites and validation results are kept in filesystem
    stores under `gx_stores/` (the latest result per suite; older ones are pruned) so that
    Data Docs in `data_docs/` can list every suite validated into `results_dir`, also by
    separate calls (e.g. one Dagster asset check per suite). Everything else is in memory.
    """
    defaults = InMemoryStoreBackendDefaults()
    for store_name, folder in (
        (defaults.expectations_store_name, "expectations"),
        (defaults.validation_results_store_name, "validations"),
    ):
        defaults.stores[store_name]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(results_dir / GX_STORES_DIR / folder),
        }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites={
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(results_dir / DATA_DOCS_DIR),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    context.data_sources.add_pandas(DATASOURCE)
    return context


def _sql_covered(entry: Mapping[str, Any]) -> bool:
    """Whether the entry is evaluated in DuckDB (`quality_sql.covered`); a `$column_values`
    reference counts as the list of values it resolves to."""
    kwargs = {
        key: [] if _reference(value) is not None else value
        for key, value in entry.get("kwargs", {}).items()
    }
    return quality_sql.covered({**entry, "kwargs": kwargs})


def _run_suite(
    context: Any,
    suite: SuiteSpec,
    data: _TableData,
    run_id: RunIdentifier,
    sql_table: tuple[SqlRunner, str] | None = None,
    release: Callable[[], None] | None = None,
) -> tuple[Any, list[str], dict[str, list[dict]]]:
    """Validate one table: the expectations `quality_sql` covers in SQL (when `sql_table`,
    the runner and qualified table name, is given), the others with GX on `data.frame`.

    The GX result of each is combined into one ExpectationSuiteValidationResult (in suite
    order), stored in the context's validation results store as GX's own run would. Returns it,
    the expectation ids in suite order, and the offending rows found in SQL per expectation id.
    """
    entries = []
    for entry in suite.expectations:
        in_sql = sql_table is not None and _sql_covered(entry)
        if in_sql:
            resolved = {
                **entry,
                "kwargs": resolve_references(entry.get("kwargs", {}), data.references),
            }
        else:
            resolved = _entry_for_run(entry, data)
        entries.append((resolved, in_sql))
    expectations = [build_expectation(entry) for entry, _ in entries]
    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=expectations,
            meta={"description": suite.description, "source": str(suite.path)},
        )
    )
    configs = gx_suite.expectation_configurations
    datasource = context.data_sources.get(DATASOURCE)
    if suite.key in datasource.get_asset_names():  # validated before in this context
        datasource.delete_asset(suite.key)
    asset = datasource.add_dataframe_asset(name=suite.key)
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")
    validator = Validator(
        batch_definition=batch_definition,
        batch_parameters={"dataframe": data.frame},
        result_format=RESULT_FORMAT,
    )
    pandas_configs = [c for c, (_, in_sql) in zip(configs, entries, strict=True) if not in_sql]
    by_id: dict[str, Any] = {}
    examples: dict[str, list[dict]] = {}
    if sql_table is not None and any(in_sql for _, in_sql in entries):
        runner, table = sql_table
        id_columns = suite.example_columns(list(data.frame.columns))  # the table's, in order
        covered = [
            (config, entry)
            for config, (entry, in_sql) in zip(configs, entries, strict=True)
            if in_sql
        ]
        evaluated = quality_sql.evaluate_many(
            runner,
            table,
            [(entry["type"], entry.get("kwargs", {}), config) for config, entry in covered],
            id_columns,
            MAX_EXAMPLES,
            on_error=_sql_error,
        )
        for (config, _), (r, rows) in zip(covered, evaluated, strict=True):
            by_id[str(config.id)] = r
            examples[str(config.id)] = rows
    if release is not None:
        release()  # the database is not needed any more
    if pandas_configs:
        for r in validator._validate_expectation_configs(expectation_configs=pandas_configs):
            by_id[str(r.expectation_config.id)] = r
    results = [by_id[str(c.id)] for c in configs]
    statistics = calc_validation_statistics(results)
    result = ExpectationSuiteValidationResult(
        results=results,
        success=statistics.success,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "batch_spec": {"dataframe": "<in SQL and pandas>"},
            "active_batch_definition": {
                "datasource_name": DATASOURCE,
                "data_connector_name": "fluent",
                "data_asset_name": suite.key,
                "batch_identifiers": {"dataframe": "<table>"},
            },
            "run_id": run_id,
            "validation_time": run_id.run_time,
            "batch_parameters": {"dataframe": "<table>"},
            "evaluated_in_sql": sum(in_sql for _, in_sql in entries),
            "evaluated_in": sql_table[0].dialect if sql_table is not None else "pandas",
        },
        batch_id=f"{DATASOURCE}-{suite.key}",
    )
    context.validation_results_store.store_validation_results(
        suite_validation_result=result,
        suite_validation_result_identifier=ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
            run_id=run_id,
            batch_identifier=f"{DATASOURCE}-{suite.key}",
        ),
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
    )
    return result, [str(c.id) for c in configs], examples


def _sql_error(config: Any, exc: Exception) -> Any:
    """A failed result for an expectation whose SQL raised (the message is shown)."""
    return ExpectationValidationResult(
        success=False,
        expectation_config=config,
        result={},
        exception_info={
            "raised_exception": True,
            "exception_traceback": None,
            "exception_message": str(exc),
        },
    )


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


def _domain(kwargs: Mapping[str, Any]) -> str:
    """The column(s) an expectation is about, for messages."""
    if "column" in kwargs:
        return f"column={kwargs['column']}"
    if "column_A" in kwargs:
        return f"columns={kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return f"columns={','.join(map(str, kwargs['column_list']))}"
    return "table"


def _short(value: Any, limit: int = 80) -> str:
    """`repr` of a value, shortened; long lists are summarised by their length."""
    if isinstance(value, (list, tuple, set)) and len(value) > MAX_EXAMPLES:
        return f"<{len(value)} values>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _params(kwargs: Mapping[str, Any]) -> str:
    """The non-domain kwargs of an expectation, compactly."""
    skip = {"column", "column_A", "column_B", "column_list", "batch_id", "result_format"}
    parts = [f"{k}={_short(v)}" for k, v in kwargs.items() if k not in skip and v is not None]
    return ", ".join(parts)


def _exception_message(exception_info: Any) -> str | None:
    """The first exception message in a GX result's exception_info (two shapes exist)."""
    if not exception_info:
        return None
    infos = [exception_info]
    if "raised_exception" not in exception_info:
        infos = [v for v in exception_info.values() if isinstance(v, dict)]
    for info in infos:
        if info.get("raised_exception"):
            return str(info.get("exception_message") or "exception raised").strip()
    return None


def _plain(value: Any) -> Any:
    """A plain Python value for messages: no numpy scalars; dates and times as ISO strings."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.datetime64, dt.date)):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_missing(value: Any) -> bool:
    """Whether a value is None/NaN/NaT (not worth showing as an example)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, tuples
        return False


def offending_rows(
    validation_result: Any, frame: pd.DataFrame, id_columns: list[str]
) -> list[dict]:
    """Up to MAX_EXAMPLES offending rows of a failed single-column expectation, as dicts of
    the id columns and the checked column; [] when they cannot be told (pair, table-level)."""
    kwargs = validation_result.expectation_config.kwargs
    column = kwargs.get("column")
    result = validation_result.result or {}
    if not id_columns or column not in frame.columns or not result.get("unexpected_count"):
        return []
    if validation_result.expectation_config.type == "expect_column_values_to_not_be_null":
        mask = frame[column].isna()
    else:
        values = [v for v in result.get("partial_unexpected_list") or [] if not _is_missing(v)]
        if not values:
            return []
        try:
            mask = frame[column].isin(values)
        except TypeError:  # unhashable values
            return []
    positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))[:MAX_EXAMPLES]
    columns = list(dict.fromkeys([*id_columns, column]))
    return frame.iloc[positions][columns].to_dict("records")


def _example_rows(rows: list[dict], index_names: list[str]) -> list[str]:
    """Offending rows as text: `opportunity_id=O7 (landing/x.csv row 8): amount -8`."""
    examples = []
    for item in rows[:MAX_EXAMPLES]:
        ids = [
            f"{name}={_plain(item[name])}"
            for name in index_names
            if name in item and name not in LINEAGE_COLUMNS
        ]
        where = ""
        if item.get("_source_file") is not None:
            where = f"{_plain(item['_source_file'])}"
            if item.get("_row_number") is not None:
                where += f" row {_plain(item['_row_number'])}"
        values = [
            f"{name} {_short(_plain(value), 40)}"
            for name, value in item.items()
            if name not in index_names
        ]
        text = " ".join(ids) or "row"
        if where:
            text += f" ({where})"
        if values:
            text += ": " + ", ".join(values)
        examples.append(text)
    return examples


def _observation(result: Mapping[str, Any], rows: list[str] | None = None) -> str:
    """What GX observed: unexpected count and examples, a column mismatch, or the observed value.

    `rows` are offending rows already described (ids, file and row); without them the message
    shows a few unexpected values.
    """
    if result.get("unexpected_count") is not None:
        count = result["unexpected_count"]
        text = f"{count} unexpected of {result.get('element_count', '?')} rows"
        if result.get("unexpected_percent") is not None:
            text += f" ({result['unexpected_percent']:.2f}%)"
        if rows:
            shown = len(rows)
            text += "; " + "; ".join(rows)
            if count > shown:
                text += f"; and {count - shown:,} more"
            return text
        values = [v for v in result.get("partial_unexpected_list") or [] if not _is_missing(v)]
        examples = list(dict.fromkeys(_short(_plain(v), 40) for v in values))  # distinct
        if examples:
            text += f", e.g. {', '.join(examples[:MAX_EXAMPLES])}"
        return text
    mismatched = (result.get("details") or {}).get("mismatched")
    if isinstance(mismatched, dict):
        parts = [f"{k} {_plain(v)}" for k, v in mismatched.items() if v]
        return "columns " + "; ".join(parts)
    if "observed_value" in result:
        return f"observed {_short(_plain(result['observed_value']))}"
    return "failed"


def failure_message(validation_result: Any, rows: list[str] | None = None) -> str:
    """A one-line human-readable message for one failed ExpectationValidationResult.

    `rows`: descriptions of a few offending rows (`_example_rows`), shown instead of values.
    """
    config = validation_result.expectation_config
    kwargs = dict(config.kwargs)
    head = f"{config.type}({_domain(kwargs)})"
    error = _exception_message(validation_result.exception_info)
    if error:
        return f"{head}: error: {error.splitlines()[0]}"
    params = _params(kwargs)
    detail = _observation(validation_result.result or {}, rows)
    return f"{head}: {detail}" + (f" [expected {params}]" if params else "")


def _summarise(
    suite: SuiteSpec,
    result: Any,
    order_ids: list[str],
    frame: pd.DataFrame | None = None,
    examples: Mapping[str, list[dict]] | None = None,
) -> SuiteResult:
    """Turn a GX suite validation result into a SuiteResult (failures in suite order), naming
    a few offending rows (found in SQL: `examples` by expectation id; else in `frame`) when the
    suite's table has id or lineage columns."""
    order = {exp_id: i for i, exp_id in enumerate(order_ids)}
    results = sorted(result.results, key=lambda r: order.get(r.expectation_config.id, len(order)))
    id_columns = suite.example_columns(frame.columns) if frame is not None else []
    examples = examples or {}
    failures = []
    for r in results:
        if r.success:
            continue
        if str(r.expectation_config.id) in examples:
            rows = examples[str(r.expectation_config.id)]
        else:
            rows = offending_rows(r, frame, id_columns) if id_columns else []
        failures.append(failure_message(r, _example_rows(rows, id_columns)))
    return SuiteResult(
        table=suite.table,
        layer=suite.layer,
        success=bool(result.success),
        evaluated=len(results),
        failed=len(failures),
        failures=failures,
    )


def _error_result(suite: SuiteSpec, message: str) -> SuiteResult:
    """A failed SuiteResult for a suite that could not be run at all."""
    return SuiteResult(
        table=suite.table,
        layer=suite.layer,
        success=False,
        evaluated=len(suite.expectations),
        failed=len(suite.expectations),
        failures=[message],
    )


# ---------------------------------------------------------------------------------------------
# The gate
# ---------------------------------------------------------------------------------------------


def _write_json(path: Path, payload: Any) -> None:
    """Write JSON (2-space indent) atomically, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def _results_lock(results_dir: Path) -> Iterator[None]:
    """An exclusive lock on `results_dir` (Data Docs index and summary), between processes."""
    if fcntl is None:  # pragma: no cover - Windows: no locking
        yield
        return
    with open(results_dir / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune_results(context: Any, suite_name: str, run_id: RunIdentifier) -> list[Any]:
    """Remove the suite's older validation results from the GX store; return the current keys."""
    store = context.validation_results_store
    current = []
    for key in store.list_keys():
        if key.expectation_suite_identifier.name != suite_name:
            continue
        if key.run_id == run_id:
            current.append(key)
        else:
            store.remove_key(key.to_tuple())
    return current


def _validate_suite(
    context: Any,
    database: Path,
    suite: SuiteSpec,
    schema_for_layer: Mapping[str, str],
    run_id: RunIdentifier,
    runners: Mapping[str, Callable[[], SqlRunner]] | None = None,
) -> tuple[SuiteResult, dict[str, Any]]:
    """Run one suite; return its summary and the raw result as a JSON-ready dict. A layer in
    `runners` is read through the runner its factory opens (the engine's), not `database`."""
    schema = schema_for_layer.get(suite.layer)
    if schema is None:
        message = f"no schema configured for layer {suite.layer!r}"
        return _error_result(suite, message), {"success": False, "error": message}
    skipped: list[str] = []
    raw_schema = schema_for_layer.get(REQUIRES_LAYER)
    if suite.requires and raw_schema is None:
        message = f"'requires' needs a schema for layer {REQUIRES_LAYER!r}"
        return _error_result(suite, message), {"success": False, "error": message}
    # A read-only connection to the working database looks at the required inputs (raw
    # tables); the table itself is read and its SQL-route expectations evaluated through the
    # layer's runner (the engine's, from `runners`) or that same connection. Both are closed
    # before GX runs the rest on pandas.
    working = DuckDBRunner(duckdb.connect(str(database), read_only=True), owned=True)
    table_runner: SqlRunner = working
    try:
        if suite.requires:
            empty = _empty_inputs(working, raw_schema, suite.requires)
            suite, skipped = apply_requires(suite, empty)
        factory = (runners or {}).get(suite.layer)
        if factory is not None:
            working.close()
            table_runner = factory()
        data = _read_table(table_runner, schema, suite)
        suite, skipped_references = _skip_empty_references(suite, data)
        skipped += skipped_references
        sql_table = (table_runner, table_runner.qualified(schema, suite.table))
        result, order_ids, examples = _run_suite(
            context,
            suite,
            data,
            run_id,
            sql_table if SQL_ROUTE else None,
            release=table_runner.close,
        )
    except (TableNotFoundError, ExpectationSpecError, QueryError) as exc:
        return _error_result(suite, str(exc)), {"success": False, "error": str(exc)}
    finally:
        working.close()
        table_runner.close()
    summary = _summarise(suite, result, order_ids, data.frame, examples)
    summary.skipped = skipped
    return summary, result.to_json_dict() | {"skipped_expectations": skipped}


def _build_data_docs(context: Any, results_dir: Path, resources: list[Any]) -> Path | None:
    """Render the pages of `resources` and rebuild the index; None if rendering failed.

    The index lists the latest result of every suite in the GX stores (pages of pruned results
    are removed by GX while building it). The pages are then made to render with no network
    (`offline_docs.make_offline`: vendored CSS/JS instead of GX's CDN links).
    """
    try:
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=resources)
    except Exception:  # the gate's verdict must not depend on HTML rendering
        logger.exception("building Data Docs failed")
        return None
    index = results_dir / DATA_DOCS_DIR / "index.html"
    _make_docs_offline(results_dir / DATA_DOCS_DIR)
    return index if index.exists() else None


def _make_docs_offline(site_dir: Path) -> None:
    """Point the Data Docs pages at vendored assets; say so when a page still needs the
    internet (the pages stay usable online either way)."""
    try:
        left = offline_docs.make_offline(site_dir)
    except Exception:  # the gate's verdict must not depend on HTML rendering
        logger.exception(
            "the Data Docs in %s were built but still load CSS/JS from the internet", site_dir
        )
        return
    if left:
        logger.warning(
            "%d Data Docs page(s) in %s still load files from the internet, e.g. %s: %s. "
            "To view them offline, vendor those files into expectations/data_docs_assets/ and "
            "map their addresses in orchestration/lib/offline_docs.py (ASSETS).",
            len(left),
            site_dir,
            next(iter(left)),
            ", ".join(sorted({url for urls in left.values() for url in urls})),
        )


def _merge_summary(path: Path, report: GateReport, validated_at: str) -> None:
    """Update `gate_summary.json`: the latest result of every suite validated into the folder.

    The Data Docs index is kept from the previous summary when `report` has none (its pages are
    built later, once per session: `GateSession.build_data_docs`).
    """
    entries: dict[str, dict[str, Any]] = {}
    previous_index = None
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        previous = json.loads(path.read_text(encoding="utf-8"))
        previous_index = previous.get("data_docs_index")
        entries = {entry["name"]: entry for entry in previous["suites"]}
    for suite in report.suites:
        entries[suite.name] = asdict(suite) | {"name": suite.name, "validated_at": validated_at}
    suites = [entries[name] for name in sorted(entries)]
    summary = {
        "success": all(entry["success"] for entry in suites),
        "updated_at": validated_at,
        "data_docs_index": str(report.data_docs_index)
        if report.data_docs_index
        else previous_index,
        "last_call": report.to_dict(),
        "suites": suites,
    }
    _write_json(path, summary)


def _set_summary_docs_index(path: Path, index: Path | None) -> None:
    """Record the Data Docs index in `gate_summary.json` (if the summary exists)."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    summary["data_docs_index"] = str(index) if index else None
    _write_json(path, summary)


class GateSession:
    """Validations into one `results_dir` that share one GX context and one GX run id, with
    the Data Docs rendered once for all of them (`build_data_docs`).

    Creating a GX context and rendering Data Docs are fixed costs of about a second each; the
    pipeline's ~40 suites run as separate Dagster asset checks, so one session serves every
    check of a run (`orchestration.assets.quality.QualityGateResource`) and the docs are built
    when the run ends. `validate()` below is one session with one call.
    """

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = Path(results_dir).resolve()
        self.run_time = dt.datetime.now(dt.UTC)
        self.run_id = RunIdentifier(run_name=RUN_NAME, run_time=self.run_time)
        self._context: Any = None
        self._to_render: list[str] = []  # suites validated since the docs were last built

    @property
    def data_docs_index(self) -> Path:
        """Where the Data Docs index is (once `build_data_docs` has run)."""
        return self.results_dir / DATA_DOCS_DIR / "index.html"

    def _gx_context(self) -> Any:
        if self._context is None:
            self._context = _make_context(self.results_dir)
        return self._context

    def validate(
        self,
        database: Path,
        suites: list[SuiteSpec],
        schema_for_layer: Mapping[str, str],
        runners: Mapping[str, Callable[[], SqlRunner]] | None = None,
    ) -> GateReport:
        """Validate each suite's table in `database` (or, for a layer in `runners`, through the
        runner its factory opens: the engine dbt built on); write the validation JSON files and
        update `gate_summary.json` (see `validate`). The report has no Data Docs index: the
        pages are rendered by `build_data_docs`."""
        database = Path(database).resolve()
        if not database.exists():
            raise FileNotFoundError(f"database {database} does not exist")
        (self.results_dir / VALIDATIONS_DIR).mkdir(parents=True, exist_ok=True)
        with _gx_runtime():
            context = self._gx_context()
            suite_results = []
            for suite in suites:
                summary, raw = _validate_suite(
                    context, database, suite, schema_for_layer, self.run_id, runners
                )
                _write_json(self.results_dir / VALIDATIONS_DIR / f"{suite.key}.json", raw)
                suite_results.append(summary)
                logger.debug("suite %s: success=%s", suite.name, summary.success)
            with _results_lock(self.results_dir):
                for suite in suites:
                    if _prune_results(context, suite.name, self.run_id):
                        self._to_render.append(suite.name)  # the suite ran: render it
                report = GateReport(
                    success=all(s.success for s in suite_results),
                    suites=suite_results,
                    data_docs_index=None,
                    results_json=self.results_dir / SUMMARY_FILE,
                )
                _merge_summary(report.results_json, report, self.run_time.isoformat())
        return report

    def build_data_docs(self) -> Path | None:
        """Render the pages of the suites validated since the last call (their result and
        expectations pages) and rebuild the index, which lists the latest result of every
        suite validated into `results_dir`. Returns the index, or None when nothing was
        validated or rendering failed (the gate's verdict never depends on HTML rendering)."""
        names = list(dict.fromkeys(self._to_render))
        if not names:
            return None
        self._to_render.clear()
        with _gx_runtime():
            context = self._gx_context()
            with _results_lock(self.results_dir):
                resources: list[Any] = []
                for name in names:
                    current = _prune_results(context, name, self.run_id)
                    if current:
                        resources += [*current, ExpectationSuiteIdentifier(name=name)]
                index = _build_data_docs(context, self.results_dir, resources)
                _set_summary_docs_index(self.results_dir / SUMMARY_FILE, index)
        return index


def validate(
    database: Path,
    suites: list[SuiteSpec],
    schema_for_layer: Mapping[str, str],
    results_dir: Path,
    runners: Mapping[str, Callable[[], SqlRunner]] | None = None,
) -> GateReport:
    """Validate each suite's table in `database` and write the results under `results_dir`.

    `schema_for_layer` maps a suite's layer to the schema holding its tables: in the DuckDB
    `database`, or in the engine of `runners[layer]` (a factory of `SqlRunner`s) when the layer
    is there. A missing table, or an engine that cannot be reached, fails its suite. Writes, replacing the previous output for the same suites:

    - `validations/<layer>__<table>.json`: the raw GX validation result;
    - `gate_summary.json`: the latest result of every suite validated into `results_dir`;
    - `data_docs/index.html`: GX Data Docs for those results (GX's stores in `gx_stores/`).

    Several calls may share `results_dir` (also concurrently: the index and summary are
    updated under a file lock). Raises FileNotFoundError if the database does not exist.
    Many suites validated by separate calls are cheaper through one `GateSession`.
    """
    session = GateSession(results_dir)
    report = session.validate(database, suites, schema_for_layer, runners)
    report.data_docs_index = session.build_data_docs()
    return report


# ---------------------------------------------------------------------------------------------
# Expectations that repeat a dbt test or contract constraint
# ---------------------------------------------------------------------------------------------

# Suites of this layer check tables loaded before dbt runs, which dbt does not test.
LAYERS_BEFORE_DBT = frozenset({"raw"})


@dataclass
class DbtChecks:
    """What dbt already enforces on one model, blocking the run when it fails: columns with an
    error-severity `not_null` test or an enforced-contract `not_null` constraint, columns with
    an error-severity `unique` test, and each column's error-severity `accepted_values` sets.
    Tests with a `where` filter check only some rows and are left out."""

    not_null: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)
    accepted_values: dict[str, list[frozenset[str]]] = field(default_factory=dict)


def dbt_checks(manifest: Mapping[str, Any]) -> dict[str, DbtChecks]:
    """The blocking column checks dbt makes on each model, by the model's relation name."""
    nodes = manifest.get("nodes", {})
    by_id: dict[str, DbtChecks] = {}
    relation: dict[str, str] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") != "model":
            continue
        relation[uid] = node.get("alias") or node["name"]
        checks = by_id.setdefault(uid, DbtChecks())
        if (node.get("config", {}).get("contract") or {}).get("enforced"):
            for column in node.get("columns", {}).values():
                if any(c.get("type") == "not_null" for c in column.get("constraints", [])):
                    checks.not_null.add(column["name"])
            for constraint in node.get("constraints", []):
                if constraint.get("type") == "not_null":
                    checks.not_null.update(constraint.get("columns") or [])
    for node in nodes.values():
        meta = node.get("test_metadata") or {}
        config = node.get("config", {})
        target = node.get("attached_node")
        if (
            node.get("resource_type") != "test"
            or target not in by_id
            or str(config.get("severity", "error")).lower() != "error"
            or config.get("where")
            or not node.get("column_name")
        ):
            continue
        checks, column = by_id[target], node["column_name"]
        if meta.get("name") == "not_null":
            checks.not_null.add(column)
        elif meta.get("name") == "unique":
            checks.unique.add(column)
        elif meta.get("name") == "accepted_values":
            values = frozenset(str(v) for v in meta.get("kwargs", {}).get("values") or [])
            checks.accepted_values.setdefault(column, []).append(values)
    names = list(relation.values())
    return {name: by_id[uid] for uid, name in relation.items() if names.count(name) == 1}


def dbt_duplicate(entry: Mapping[str, Any], checks: DbtChecks | None) -> str | None:
    """Which dbt test or constraint makes the same check as a suite entry, or None.

    Only an entry that checks every row with no tolerance (no `row_condition`, `mostly` 1 or
    absent) can repeat a dbt test: `not_null`, `unique`, and `in_set` with a literal value set
    equal to an `accepted_values` set.
    """
    kwargs = entry.get("kwargs", {})
    column = kwargs.get("column")
    if checks is None or not isinstance(column, str):
        return None
    if kwargs.get("row_condition") or kwargs.get("mostly", 1) != 1:
        return None
    kind = entry["type"]
    if kind == "expect_column_values_to_not_be_null" and column in checks.not_null:
        return f"dbt not_null test or contract constraint on {column}"
    if kind == "expect_column_values_to_be_unique" and column in checks.unique:
        return f"dbt unique test on {column}"
    value_set = kwargs.get("value_set")
    if (
        kind == "expect_column_values_to_be_in_set"
        and isinstance(value_set, list)
        and frozenset(str(v) for v in value_set) in checks.accepted_values.get(column, [])
    ):
        return f"dbt accepted_values test on {column}"
    return None


def suite_dbt_duplicates(
    suite: SuiteSpec, checks: Mapping[str, DbtChecks]
) -> list[tuple[int, str]]:
    """`(index, reason)` of each entry of `suite` that repeats a dbt test or constraint."""
    if suite.layer in LAYERS_BEFORE_DBT:
        return []
    table_checks = checks.get(suite.table)
    found = [(i, dbt_duplicate(entry, table_checks)) for i, entry in enumerate(suite.expectations)]
    return [(i, reason) for i, reason in found if reason]


def prune_dbt_duplicates(expectations_dir: Path, manifest: Mapping[str, Any]) -> dict[str, int]:
    """Remove from the suite files the expectations that repeat a dbt test or constraint.

    A suite whose row ids came from a removed `unique` expectation (no `id_columns`) gets that
    column as `id_columns`, so failure messages keep naming offending rows. Returns the number
    of expectations removed per suite file changed.
    """
    checks = dbt_checks(manifest)
    removed: dict[str, int] = {}
    for suite in load_suites(expectations_dir):
        duplicates = dict(suite_dbt_duplicates(suite, checks))
        if not duplicates:
            continue
        data = json.loads(suite.path.read_text(encoding="utf-8"))
        unique = [
            i
            for i, entry in enumerate(suite.expectations)
            if entry["type"] == "expect_column_values_to_be_unique"
            and "column" in entry.get("kwargs", {})
        ]
        if not suite.id_columns and unique and unique[0] in duplicates:
            data["id_columns"] = [suite.expectations[unique[0]]["kwargs"]["column"]]
        data["expectations"] = [
            e for i, e in enumerate(data["expectations"]) if i not in duplicates
        ]
        suite.path.write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        removed[str(suite.path)] = len(duplicates)
    return removed


def main(argv: list[str] | None = None) -> int:
    """`python -m orchestration.lib.quality prune-dbt-duplicates [MANIFEST]`: remove the suite
    expectations that repeat a dbt test or contract (manifest: dbt_project/target/manifest.json
    by default; run `python -m orchestration.cli prepare` first)."""
    import argparse

    from orchestration.lib.dbt_manifest import MANIFEST_PATH
    from orchestration.lib.settings import EXPECTATIONS_DIR

    parser = argparse.ArgumentParser(prog="python -m orchestration.lib.quality")
    parser.add_argument("command", choices=["prune-dbt-duplicates"])
    parser.add_argument("manifest", nargs="?", type=Path, default=MANIFEST_PATH)
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text(encoding="utf-8"))
    removed = prune_dbt_duplicates(EXPECTATIONS_DIR, manifest)
    for path, count in sorted(removed.items()):
        print(f"{path}: {count} expectation(s) removed")
    print(f"{sum(removed.values())} expectation(s) removed from {len(removed)} suite(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
