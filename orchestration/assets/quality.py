"""Great Expectations suites (expectations/<layer>/<table>.json) as blocking asset checks.

Every suite becomes a check on the asset holding its table: raw suites on the ingestion
assets, core and marts suites on the dbt models. Checks are blocking: when one fails, the
assets downstream of its table are not materialised, so nothing is published.

One more blocking check, `required_inputs` on raw/opportunities, fails only when neither
leads nor opportunities were loaded (orchestration.lib.inputs): every other input is
optional, and a suite's row-count floor is skipped when its `requires` inputs are empty.

The checks of one run share one Great Expectations session (`QualityGateResource`): one GX
context, and the Data Docs rendered once, when the run ends (also when a check failed).
"""

import collections
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster import AssetCheckExecutionContext
from pydantic import PrivateAttr

from orchestration.engines.base import PUBLISHED_SCHEMAS, WORK_PREFIX, Engine
from orchestration.lib.inputs import REQUIRED_ANY, missing_required_inputs
from orchestration.lib.progress import report as progress
from orchestration.lib.run_lock import mark_phase
from orchestration.lib.settings import EXPECTATIONS_DIR
from orchestration.lib.suites import SuiteSpec, load_suites
from orchestration.resources import WarehouseResource

if TYPE_CHECKING:
    from orchestration.lib.quality import GateSession
    from orchestration.lib.sql_runner import SqlRunner

# Each suite layer is a schema of the working database and the first part of the asset key.
LAYER_SCHEMAS = {"raw": "raw", "core": "core", "marts": "marts"}
SUITES = load_suites(EXPECTATIONS_DIR)


def check_locations(
    engine: Engine,
) -> tuple[dict[str, str], dict[str, Callable[[], "SqlRunner"]] | None]:
    """Where each layer's suites run: its schema, and the runners of the layers checked in the
    engine. The raw layer is always in the working database (the pipeline loads it there);
    on an engine other than DuckDB, the core and marts suites run in the engine itself, on the
    `work_*` tables dbt built, before anything is published."""
    factory = engine.quality_runner()
    if factory is None:
        return dict(LAYER_SCHEMAS), None
    schemas = dict(LAYER_SCHEMAS) | {layer: WORK_PREFIX + layer for layer in PUBLISHED_SCHEMAS}
    return schemas, dict.fromkeys(PUBLISHED_SCHEMAS, factory)


def check_phase(layer: str) -> str:
    """The phase a suite's check belongs to in the run's progress and step summary."""
    return "raw checks" if layer == "raw" else "mart checks"


SUITES_PER_PHASE = collections.Counter(check_phase(suite.layer) for suite in SUITES)


class QualityGateResource(dg.ConfigurableResource):
    """The Great Expectations session of a run, shared by its checks.

    With the in-process executor a run sets its resources up once and tears them down after
    the last step, so every check of the run validates through one GX context and the Data
    Docs are built once at teardown, for every suite the run validated.
    """

    # GateSession (orchestration.lib.quality): imported when a check runs, not with the
    # definitions (Great Expectations' import costs ~3.5 CPU-s).
    _sessions: dict[Path, Any] = PrivateAttr(default_factory=dict)
    _done: collections.Counter = PrivateAttr(default_factory=collections.Counter)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._sessions = {}
        self._done = collections.Counter()

    def count_done(self, phase: str) -> int:
        """How many checks of `phase` this run has done, this one included."""
        self._done[phase] += 1
        return self._done[phase]

    def session(self, results_dir: Path) -> "GateSession":
        """The run's session writing into `results_dir` (created on first use)."""
        from orchestration.lib.quality import GateSession

        key = Path(results_dir).resolve()
        if key not in self._sessions:
            self._sessions[key] = GateSession(key)
        return self._sessions[key]

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for session in self._sessions.values():
            started = time.monotonic()
            progress("data docs", "rendering the Data Docs of the suites checked")
            index = session.build_data_docs()
            if index is not None:
                progress("data docs", f"Data Docs rendered ({time.monotonic() - started:.0f} s)")
                if context.log:
                    context.log.info(f"Data Docs: {index}")
        self._sessions = {}


def _build_check(suite: SuiteSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([suite.layer, suite.table]),
        name=f"gx_{suite.table}",
        description=f"Great Expectations suite {suite.path.name}: "
        f"{suite.description or len(suite.expectations)}",
        blocking=True,
    )
    def _check(
        context: AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        quality_gate: QualityGateResource,
    ) -> dg.AssetCheckResult:
        mark_phase("checks")
        settings = warehouse.settings()
        session = quality_gate.session(settings.quality_dir)
        schemas, runners = check_locations(settings.warehouse_engine())
        report = session.validate(settings.working_db, [suite], schemas, runners)
        result = report.suites[0]
        phase = check_phase(suite.layer)
        progress(
            phase,
            f"{phase}: {quality_gate.count_done(phase)}/{SUITES_PER_PHASE[phase]} suites "
            f"({suite.layer}.{suite.table} {'passed' if result.success else 'FAILED'})",
            force=not result.success,
        )
        if not result.success:
            context.log.error(report.summary_text())
        metadata = {
            "expectations_evaluated": result.evaluated,
            "expectations_failed": result.failed,
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in result.failures) or "none"
            ),
            "validation_results": dg.MetadataValue.path(str(report.results_json)),
        }
        if result.skipped:
            context.log.info(f"{result.name}: skipped " + "; ".join(result.skipped))
            metadata["skipped"] = dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in result.skipped)
            )
        # Rendered once for the whole run, when it ends.
        metadata["data_docs"] = dg.MetadataValue.url(session.data_docs_index.as_uri())
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
        )

    return _check


@dg.asset_check(
    asset=dg.AssetKey(["raw", "opportunities"]),
    additional_deps=[dg.AssetKey(["raw", "leads"])],
    name="required_inputs",
    description="Leads or opportunities were loaded (at least one row of either): every funnel "
    "starts from one of them; every other input is optional.",
    blocking=True,
)
def required_inputs(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    settings = warehouse.settings()
    message = missing_required_inputs(settings.working_db, settings.landing_dir)
    if message:
        context.log.error(message)
    return dg.AssetCheckResult(
        passed=message is None,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "required_any_of": dg.MetadataValue.json(list(REQUIRED_ANY)),
            "failures": dg.MetadataValue.md(message or "none"),
        },
    )


quality_checks = [
    *(_build_check(suite) for suite in SUITES),
    required_inputs,
]
