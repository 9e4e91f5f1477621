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
    settings = warehouse.settings()
    os.environ.update(settings.dbt_env())
    args = ["build"]
    if settings.dbt_vars():
        args += ["--vars", json.dumps(settings.dbt_vars())]
    yield from dbt.cli(args, context=context).stream()


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
