"""Great Expectations suites (expectations/<layer>/<table>.json) as blocking asset checks.

Every suite becomes a check on the asset holding its table: raw suites on the ingestion
assets, core and marts suites on the dbt models. Checks are blocking: when one fails, the
assets downstream of its table are not materialised, so nothing is published.

One more blocking check, `required_inputs` on raw/opportunities, fails only when neither
leads nor opportunities were loaded (orchestration.lib.inputs): every other input is
optional, and a suite's row-count floor is skipped when its `requires` inputs are empty.
"""

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration.lib.inputs import REQUIRED_ANY, missing_required_inputs
from orchestration.lib.quality import SuiteSpec, load_suites, validate
from orchestration.lib.run_lock import mark_phase
from orchestration.lib.settings import EXPECTATIONS_DIR
from orchestration.resources import WarehouseResource

# Each suite layer is a schema of the working database and the first part of the asset key.
LAYER_SCHEMAS = {"raw": "raw", "core": "core", "marts": "marts"}


def _build_check(suite: SuiteSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([suite.layer, suite.table]),
        name=f"gx_{suite.table}",
        description=f"Great Expectations suite {suite.path.name}: "
        f"{suite.description or len(suite.expectations)}",
        blocking=True,
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        mark_phase("checks")
        settings = warehouse.settings()
        report = validate(settings.working_db, [suite], LAYER_SCHEMAS, settings.quality_dir)
        result = report.suites[0]
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
        if report.data_docs_index:
            metadata["data_docs"] = dg.MetadataValue.url(report.data_docs_index.as_uri())
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
    *(_build_check(suite) for suite in load_suites(EXPECTATIONS_DIR)),
    required_inputs,
]
