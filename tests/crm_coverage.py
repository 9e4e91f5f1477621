"""One check for every CRM that lands verbatim: each object has a dbt source entry (with
freshness), a staging model reading only landed columns, and documentation."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestration.lib.crm_landing import CONFIG_TABLE, FIVETRAN_DELETED, Crm, snake_case


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def assert_staging_covers_every_object(
    crm: Crm, staging: Path, undocumented_ok: frozenset[str] = frozenset()
) -> None:
    (source,) = _yaml(staging / f"_{crm.name}__sources.yml")["sources"]
    assert source["schema"] == crm.schema
    assert source["config"]["loaded_at_field"] == "_loaded_at"
    assert source["config"]["freshness"]["warn_after"]
    tables = {t["name"]: t for t in source["tables"]}
    models = {m["name"]: m for m in _yaml(staging / f"_{crm.name}__models.yml")["models"]}
    assert set(tables) == {obj.table for obj in crm.objects} | {CONFIG_TABLE}
    for obj in crm.objects:
        documented = {c["name"] for c in tables[obj.table]["columns"] if c.get("description")}
        sql = (staging / f"stg_{crm.name}__{obj.table}.sql").read_text(encoding="utf-8")
        assert f"source('{crm.name}', '{obj.table}')" in sql, obj.name
        read = set(re.findall(r"(?:crm|hubspot)_\w+\('(\w+)'\)", sql))
        assert read, obj.name
        landed = {snake_case(f) for f in obj.fields} | {FIVETRAN_DELETED}
        assert read <= landed, f"{obj.name}: staging reads columns that are not landed"
        assert read - undocumented_ok <= documented, f"{obj.name}: undocumented source columns"
        model = models[f"stg_{crm.name}__{obj.table}"]
        assert model.get("description"), obj.name
        selected = set(re.findall(r" as (\w+),?\n", sql.split("renamed as", 1)[1]))
        assert selected == {c["name"] for c in model["columns"] if c.get("description")}, obj.name
