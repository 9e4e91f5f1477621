"""The data-quality gate: Great Expectations suites run against the DuckDB warehouse.

Suites are JSON files in `expectations/<layer>/<table>.json`::

    {"table": "kpi_cac", "layer": "marts", "description": "...",
     "expectations": [{"type": "expect_column_values_to_not_be_null",
                       "kwargs": {"column": "x"}, "meta": {"why": "..."}}]}

`type` is any registered GX expectation in snake_case. One extension for referential sanity:
a kwarg value `{"$column_values": {"table": "dim_reps", "column": "rep_id"}}` is replaced at
run time by the distinct non-null values of that column, read from the same database and
schema as the validated table.

Why pandas and not GX's SQL datasource: GX's SQL datasource returns empty metrics on DuckDB.
Each table is therefore read through a short-lived READ-ONLY DuckDB connection (closed right
after reading, so the gate never blocks the single writer) and validated with GX's pandas
datasource in an ephemeral (in-memory) GX context. The only files GX writes are the Data Docs,
into `results_dir/data_docs/`; the raw validation results and a summary are written as JSON by
this module.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import logging
import shutil
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.exceptions import ExpectationNotFoundError
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.registry import get_expectation_impl

logger = logging.getLogger(__name__)

REFERENCE_KEY = "$column_values"
DATA_DOCS_SITE = "quality_gate"
RUN_NAME = "quality_gate"
# SUMMARY gives counts and a few unexpected values without materialising full index lists.
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 10}
MAX_EXAMPLES = 5


class SuiteFormatError(ValueError):
    """A suite file is not valid JSON or does not have the expected structure."""


class ExpectationSpecError(ValueError):
    """An expectation entry names an unknown GX expectation or has invalid kwargs."""


class TableNotFoundError(LookupError):
    """A validated or referenced table does not exist in the database."""


# ---------------------------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteSpec:
    """One suite file: the expectations for one table of one layer."""

    table: str
    layer: str
    description: str
    expectations: list[dict[str, Any]]
    path: Path

    @property
    def name(self) -> str:
        """The suite name used in GX and in reports: `<layer>.<table>`."""
        return f"{self.layer}.{self.table}"

    @property
    def key(self) -> str:
        """A file-name friendly identifier: `<layer>__<table>`."""
        return f"{self.layer}__{self.table}"


@dataclass
class SuiteResult:
    """The outcome of one suite."""

    table: str
    layer: str
    success: bool
    evaluated: int
    failed: int
    failures: list[str] = field(default_factory=list)

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


def load_suites(expectations_dir: Path, layer: str | None = None) -> list[SuiteSpec]:
    """Load the suite files `<expectations_dir>/<layer>/<table>.json`, sorted by layer and table.

    With `layer`, only that layer's folder is read. Raises `SuiteFormatError` for a malformed file.
    """
    expectations_dir = Path(expectations_dir)
    pattern = f"{layer}/*.json" if layer else "*/*.json"
    return [_load_suite(path) for path in sorted(expectations_dir.glob(pattern))]


def _load_suite(path: Path) -> SuiteSpec:
    """Parse and check one suite file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteFormatError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteFormatError(f"{path}: expected a JSON object")
    table = data.get("table") or path.stem
    layer = data.get("layer") or path.parent.name
    if table != path.stem or layer != path.parent.name:
        raise SuiteFormatError(
            f"{path}: table/layer {layer}.{table} do not match the file location "
            f"{path.parent.name}/{path.name}"
        )
    expectations = data.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteFormatError(f"{path}: 'expectations' must be a list")
    for i, entry in enumerate(expectations):
        _check_entry(path, i, entry)
    return SuiteSpec(
        table=table,
        layer=layer,
        description=str(data.get("description", "")),
        expectations=expectations,
        path=path,
    )


def _check_entry(path: Path, index: int, entry: Any) -> None:
    """Check the structure (not the GX validity) of one expectation entry."""
    where = f"{path}: expectations[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise SuiteFormatError(f"{where}: expected an object with a string 'type'")
    if not isinstance(entry.get("kwargs", {}), dict):
        raise SuiteFormatError(f"{where}: 'kwargs' must be an object")
    if not isinstance(entry.get("meta", {}), dict):
        raise SuiteFormatError(f"{where}: 'meta' must be an object")


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


def _quote(identifier: str) -> str:
    """Quote a DuckDB identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` exists as a table or view."""
    rows = con.execute(
        "select count(*) from information_schema.tables "
        "where lower(table_schema) = lower(?) and lower(table_name) = lower(?)",
        [schema, table],
    ).fetchall()  # fetchall: DuckDB 2 refuses new work while a result is partly fetched
    return bool(rows[0][0])


def _read_column_values(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str
) -> list[Any]:
    """The distinct non-null values of `schema.table.column`, as pandas would type them."""
    if not _table_exists(con, schema, table):
        raise TableNotFoundError(f"referenced table {schema}.{table} does not exist")
    col = _quote(column)
    sql = (
        f"select distinct {col} as v from {_quote(schema)}.{_quote(table)} "
        f"where {col} is not null order by 1"
    )
    try:
        return con.sql(sql).df()["v"].tolist()
    except duckdb.BinderException as exc:
        raise TableNotFoundError(
            f"referenced column {schema}.{table}.{column} does not exist"
        ) from exc


def _read_table(database: Path, schema: str, suite: SuiteSpec) -> _TableData:
    """Read `schema.<suite table>` and the suite's referenced columns via a read-only connection.

    The connection is closed before returning, so the file is not locked afterwards.
    """
    refs = {ref for entry in suite.expectations for ref in find_references(entry.get("kwargs", {}))}
    with duckdb.connect(str(database), read_only=True) as con:
        if not _table_exists(con, schema, suite.table):
            raise TableNotFoundError(f"table {schema}.{suite.table} does not exist in {database}")
        frame = con.sql(f"select * from {_quote(schema)}.{_quote(suite.table)}").df()
        values = {ref: _read_column_values(con, schema, *ref) for ref in sorted(refs)}
    return _TableData(frame=frame, references=values)


# ---------------------------------------------------------------------------------------------
# GX context
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_gx() -> Iterator[None]:
    """Silence GX's INFO/WARNING logging and Python warnings while the gate runs."""
    gx_logger = logging.getLogger("great_expectations")
    previous = gx_logger.level
    gx_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        gx_logger.setLevel(previous)


def _make_context(data_docs_dir: Path) -> Any:
    """An ephemeral GX context: in-memory stores, no analytics, no progress bars, and one
    Data Docs site written to `data_docs_dir` (the only thing GX writes to disk)."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites={
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _run_suite(
    context: Any, suite: SuiteSpec, data: _TableData, run_id: RunIdentifier
) -> tuple[Any, list[str]]:
    """Validate one table with GX.

    Returns the ExpectationSuiteValidationResult and the expectation ids in suite order (GX
    returns results grouped by its metric graph, not in suite order).
    """
    expectations = [
        build_expectation(
            entry | {"kwargs": resolve_references(entry.get("kwargs", {}), data.references)}
        )
        for entry in suite.expectations
    ]
    gx_suite = context.suites.add(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=expectations,
            meta={"description": suite.description, "source": str(suite.path)},
        )
    )
    datasource = context.data_sources.get("warehouse")
    asset = datasource.add_dataframe_asset(name=suite.key)
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.key, data=batch_definition, suite=gx_suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": data.frame}, result_format=RESULT_FORMAT, run_id=run_id
    )
    return result, [str(exp.id) for exp in gx_suite.expectations]


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


def _observation(result: Mapping[str, Any]) -> str:
    """What GX observed: unexpected count and examples, or the observed value."""
    if result.get("unexpected_count") is not None:
        count = result["unexpected_count"]
        text = f"{count} unexpected of {result.get('element_count', '?')} rows"
        if result.get("unexpected_percent") is not None:
            text += f" ({result['unexpected_percent']:.2f}%)"
        examples = [v for v in result.get("partial_unexpected_list") or [] if v is not None]
        if examples:
            shown = ", ".join(_short(v, 40) for v in examples[:MAX_EXAMPLES])
            text += f", e.g. {shown}"
        return text
    if "observed_value" in result:
        return f"observed {_short(result['observed_value'])}"
    return "failed"


def failure_message(validation_result: Any) -> str:
    """A one-line human-readable message for one failed ExpectationValidationResult."""
    config = validation_result.expectation_config
    kwargs = dict(config.kwargs)
    head = f"{config.type}({_domain(kwargs)})"
    error = _exception_message(validation_result.exception_info)
    if error:
        return f"{head}: error: {error.splitlines()[0]}"
    params = _params(kwargs)
    detail = _observation(validation_result.result or {})
    return f"{head}: {detail}" + (f" [expected {params}]" if params else "")


def _summarise(suite: SuiteSpec, result: Any, order_ids: list[str]) -> SuiteResult:
    """Turn a GX suite validation result into a SuiteResult (failures in suite order)."""
    order = {exp_id: i for i, exp_id in enumerate(order_ids)}
    results = sorted(result.results, key=lambda r: order.get(r.expectation_config.id, len(order)))
    failures = [failure_message(r) for r in results if not r.success]
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
    """Write JSON (2-space indent), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


def _prepare_results_dir(results_dir: Path) -> tuple[Path, Path]:
    """Create results_dir and clear this module's previous output in it."""
    validations_dir = results_dir / "validations"
    data_docs_dir = results_dir / "data_docs"
    for folder in (validations_dir, data_docs_dir):
        if folder.exists():
            shutil.rmtree(folder)
    validations_dir.mkdir(parents=True)
    return validations_dir, data_docs_dir


def _validate_suite(
    context: Any,
    database: Path,
    suite: SuiteSpec,
    schema_for_layer: Mapping[str, str],
    run_id: RunIdentifier,
) -> tuple[SuiteResult, dict[str, Any]]:
    """Run one suite; return its summary and the raw result as a JSON-ready dict."""
    schema = schema_for_layer.get(suite.layer)
    if schema is None:
        message = f"no schema configured for layer {suite.layer!r}"
        return _error_result(suite, message), {"success": False, "error": message}
    try:
        data = _read_table(database, schema, suite)
        result, order_ids = _run_suite(context, suite, data, run_id)
    except (TableNotFoundError, ExpectationSpecError) as exc:
        return _error_result(suite, str(exc)), {"success": False, "error": str(exc)}
    return _summarise(suite, result, order_ids), result.to_json_dict()


def _build_data_docs(context: Any, data_docs_dir: Path) -> Path | None:
    """Render Data Docs for everything validated in this run; None if rendering failed."""
    try:
        context.build_data_docs(site_names=[DATA_DOCS_SITE])
    except Exception:  # the gate's verdict must not depend on HTML rendering
        logger.exception("building Data Docs failed")
        return None
    index = data_docs_dir / "index.html"
    return index if index.exists() else None


def validate(
    database: Path,
    suites: list[SuiteSpec],
    schema_for_layer: Mapping[str, str],
    results_dir: Path,
) -> GateReport:
    """Validate each suite's table in `database` and write the results under `results_dir`.

    `schema_for_layer` maps a suite's layer to the DuckDB schema holding its tables. Writes
    `validations/<layer>__<table>.json` (raw GX results), `gate_summary.json` and Data Docs in
    `data_docs/` (previous output of these is replaced). A missing table fails its suite.
    Raises FileNotFoundError if the database file does not exist.
    """
    database = Path(database).resolve()
    if not database.exists():
        raise FileNotFoundError(f"database {database} does not exist")
    results_dir = Path(results_dir).resolve()
    validations_dir, data_docs_dir = _prepare_results_dir(results_dir)
    run_id = RunIdentifier(run_name=RUN_NAME, run_time=dt.datetime.now(dt.UTC))

    with _quiet_gx():
        context = _make_context(data_docs_dir)
        context.data_sources.add_pandas("warehouse")
        suite_results = []
        for suite in suites:
            summary, raw = _validate_suite(context, database, suite, schema_for_layer, run_id)
            _write_json(validations_dir / f"{suite.key}.json", raw)
            suite_results.append(summary)
            logger.debug("suite %s: success=%s", suite.name, summary.success)
        docs_index = _build_data_docs(context, data_docs_dir)

    report = GateReport(
        success=all(s.success for s in suite_results),
        suites=suite_results,
        data_docs_index=docs_index,
        results_json=results_dir / "gate_summary.json",
    )
    _write_json(report.results_json, report.to_dict())
    return report
