"""One check for every CRM that lands verbatim: each object has a dbt source entry (with
freshness), a staging model reading only landed columns, and documentation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
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


# --------------------------------------------------------------------------- rules in dbt
# Helpers of the tests that compare a CRM's intermediate dbt models (int_<crm>__<entity>) with
# its Python converter's frames, column by column, as canonical text.


def intermediate_rows(
    database: Path,
    model: str,
    columns: list[str],
    source_system: str,
    text: Callable[[object, str], str | None],
) -> list[tuple]:
    """The rows of `intermediate.<model>` of one source: the columns, then source_file and
    source_row, each value as canonical text (`text(value, column)`), sorted."""
    selected = [*columns, "source_file", "source_row"]
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select {', '.join(selected)} from intermediate.{model} where source_system = ?",
            [source_system],
        ).fetchall()
    return sorted(
        (tuple(text(v, c) for v, c in zip(row, selected, strict=True)) for row in rows),
        key=_sort_key,
    )


def conversion_rows(frame: pd.DataFrame | None, columns: list[str]) -> list[tuple]:
    """The rows of a converter's frame: the columns (a column the converter does not fill is
    None), then _source_file and _source_row, empty values as None, sorted."""
    if frame is None:
        return []
    selected = [*columns, "_source_file", "_source_row"]
    rows = [
        tuple(None if _empty(v) else str(v) for v in row)
        for row in frame.reindex(columns=selected).astype(object).itertuples(index=False)
    ]
    return sorted(rows, key=_sort_key)


def _empty(value: object) -> bool:
    """None, pandas' NA, a NaN (a column the frame lacks) or ''."""
    if value is None or value is pd.NA or value == "":
        return True
    return isinstance(value, float) and value != value


def _sort_key(row: tuple) -> tuple:
    return (row[-2], int(row[-1]), tuple("" if v is None else str(v) for v in row))
