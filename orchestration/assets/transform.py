"""dbt assets: staging, core facts and dimensions, and KPI marts (dbt build, tests as checks)."""

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.lib.dbt_manifest import ensure_manifest
from orchestration.lib.inputs import single_data_currency
from orchestration.lib.run_lock import mark_phase
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.resources import WarehouseResource

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
MANIFEST_PATH = ensure_manifest()


class SalesKpiTranslator(DagsterDbtTranslator):
    """Asset keys [schema, name]; dbt sources map onto the ingestion assets ["raw", table]."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = SalesKpiTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=MANIFEST_PATH, dagster_dbt_translator=translator, project=dbt_project)
def sales_kpi_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    mark_phase("dbt")
    settings = warehouse.settings()
    os.environ.update(settings.dbt_env())
    args = ["build"]
    variables = resolved_dbt_vars(settings.dbt_vars(), settings.working_db)
    if variables.get("reporting_currency") and "reporting_currency" not in settings.dbt_vars():
        context.log.info(
            f"reporting_currency {variables['reporting_currency']}: the only currency of the "
            "loaded amounts (set it in SALES_KPI_DBT_VARS to report in another one)"
        )
    if variables:
        args += ["--vars", json.dumps(variables)]
    yield from dbt.cli(args, context=context).stream()


def resolved_dbt_vars(variables: dict[str, Any], working_db: Path) -> dict[str, Any]:
    """The dbt vars with `reporting_currency` taken from the data when the user left it unset
    and every loaded amount has one and the same currency (else dbt's default, JPY, applies).

    Resolved here, once, because the var is compiled into many models: they all see the same.
    """
    variables = dict(variables)
    if "reporting_currency" not in variables and working_db.exists():
        currency = single_data_currency(working_db)
        if currency:
            variables["reporting_currency"] = currency
    return variables


def dbt_asset_keys(schemas: tuple[str, ...]) -> list[dg.AssetKey]:
    """Keys of the dbt models materialised in the given schemas (e.g. core, marts)."""
    manifest = json.loads(MANIFEST_PATH.read_text())
    keys = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("schema") in schemas:
            keys.append(translator.get_asset_key(node))
    return sorted(keys, key=lambda key: key.to_user_string())


def dbt_resource() -> DbtCliResource:
    """dbt from this virtualenv (next to the running Python), whatever PATH says."""
    executable = Path(sys.executable).with_name("dbt")
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(executable) if executable.exists() else "dbt",
    )
