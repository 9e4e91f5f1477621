"""Metric definitions as code: seeds/kpi_definitions.csv is the one place a KPI is declared.

From it come: core.dim_kpis and kpi_scorecard (dbt reads the seed), the dbt semantic-layer
definitions (a semantic model over core.fct_kpi_daily and one metric per KPI, rendered into
dbt_project/models/semantic/_kpi__semantic.yml) and the KPI catalogue docs/kpi_catalog.md.
`python -m orchestration.cli metrics` rewrites both files; a test fails when they are stale.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR, REPO_ROOT

DEFINITIONS = REPO_ROOT / "seeds" / "kpi_definitions.csv"
SEMANTIC_YAML = DBT_PROJECT_DIR / "models" / "semantic" / "_kpi__semantic.yml"
CATALOG_MD = REPO_ROOT / "docs" / "kpi_catalog.md"
RATE_UNITS = {"rate", "amount_rate", "ratio"}
# Columns of core.fct_kpi_daily a BI tool can slice every KPI by (the scorecard's scopes).
SLICING_DIMENSIONS = (
    "team_id",
    "rep_role",
    "sales_motion",
    "agency_key",
    "lead_source",
    "channel",
    "industry",
    "company_size",
    "product",
)


def load_definitions(path: Path = DEFINITIONS) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _filter(kpi_code: str) -> str:
    return "{{ Dimension('kpi_fact__kpi_code') }} = '" + kpi_code + "'"


def semantic_layer(definitions: list[dict[str, str]]) -> dict:
    """The dbt semantic model and metrics for every KPI."""
    semantic_model = {
        "name": "kpi_daily",
        "description": "Every KPI's numerator and denominator per day, rep, lead source, segment "
        "and product (core.fct_kpi_daily).",
        "model": "ref('fct_kpi_daily')",
        "defaults": {"agg_time_dimension": "fact_date"},
        "entities": [
            {"name": "kpi_fact", "type": "primary", "expr": "kpi_daily_id"},
            {"name": "rep", "type": "foreign", "expr": "rep_id"},
        ],
        "dimensions": [
            {"name": "fact_date", "type": "time", "type_params": {"time_granularity": "day"}},
            {"name": "kpi_code", "type": "categorical"},
            *({"name": name, "type": "categorical"} for name in SLICING_DIMENSIONS),
        ],
        "measures": [
            {"name": "kpi_numerator", "agg": "sum", "expr": "numerator"},
            {"name": "kpi_denominator", "agg": "sum", "expr": "denominator"},
        ],
    }
    metrics = []
    for kpi in definitions:
        code = kpi["kpi_code"]
        label = f"{kpi['kpi_name_ja']} ({kpi['kpi_name']})"
        meta = {"direction": kpi["direction"], "unit": kpi["unit"], "phase": kpi["phase"]}
        if kpi["unit"] in RATE_UNITS:
            for part, measure in (
                ("numerator", "kpi_numerator"),
                ("denominator", "kpi_denominator"),
            ):
                metrics.append(
                    {
                        "name": f"{code}_{part}",
                        "label": f"{label}: {part}",
                        "description": kpi[f"{part}_definition"],
                        "type": "simple",
                        "type_params": {"measure": measure},
                        "filter": _filter(code),
                    }
                )
            metrics.append(
                {
                    "name": code,
                    "label": label,
                    "description": kpi["definition"],
                    "type": "ratio",
                    "type_params": {
                        "numerator": f"{code}_numerator",
                        "denominator": f"{code}_denominator",
                    },
                    "meta": meta,
                }
            )
        else:
            metrics.append(
                {
                    "name": code,
                    "label": label,
                    "description": kpi["definition"],
                    "type": "simple",
                    "type_params": {"measure": "kpi_numerator"},
                    "filter": _filter(code),
                    "meta": meta,
                }
            )
    return {"version": 2, "semantic_models": [semantic_model], "metrics": metrics}


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def render_semantic_yaml(definitions: list[dict[str, str]]) -> str:
    header = (
        "# Generated from seeds/kpi_definitions.csv by `python -m orchestration.cli metrics`.\n"
    )
    body = yaml.dump(
        semantic_layer(definitions), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
    )
    return header + body


def render_catalog(definitions: list[dict[str, str]]) -> str:
    lines = [
        "# KPI catalogue",
        "",
        "Generated from `seeds/kpi_definitions.csv` (`python -m orchestration.cli metrics`): the",
        "KPIs of `kpi_scorecard`, `core.dim_kpis` and the dbt semantic-layer metrics.",
        "",
        "| KPI | 日本語 | phase | unit | direction | numerator | denominator | forecast |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kpi in definitions:
        lines.append(
            f"| `{kpi['kpi_code']}` {kpi['kpi_name']} | {kpi['kpi_name_ja']} | {kpi['phase']} | "
            f"{kpi['unit']} | {kpi['direction']} | {kpi['numerator_definition']} | "
            f"{kpi['denominator_definition'] or '-'} | {kpi['forecast_method']} |"
        )
    return "\n".join(lines) + "\n"


def write_all() -> list[Path]:
    definitions = load_definitions()
    SEMANTIC_YAML.parent.mkdir(parents=True, exist_ok=True)
    SEMANTIC_YAML.write_text(render_semantic_yaml(definitions), encoding="utf-8")
    CATALOG_MD.write_text(render_catalog(definitions), encoding="utf-8")
    return [SEMANTIC_YAML, CATALOG_MD]
