"""No Great Expectations suite repeats a check that dbt already makes (a blocking test or an
enforced contract constraint): `python -m orchestration.lib.quality prune-dbt-duplicates`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestration.lib.dbt_manifest import ensure_manifest
from orchestration.lib.quality import (
    dbt_checks,
    dbt_duplicate,
    load_suites,
    prune_dbt_duplicates,
    suite_dbt_duplicates,
)

REPO_EXPECTATIONS = Path(__file__).resolve().parents[1] / "expectations"


def _exp(type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs}


def _test(uid: str, name: str, column: str, severity: str = "ERROR", **extra: Any) -> dict:
    return {
        "resource_type": "test",
        "attached_node": "model.p.kpi_x",
        "column_name": column,
        "test_metadata": {"name": name, "kwargs": extra.pop("kwargs", {})},
        "config": {"severity": severity, **extra},
    }


MANIFEST = {
    "nodes": {
        "model.p.kpi_x": {
            "resource_type": "model",
            "name": "kpi_x",
            "alias": "kpi_x",
            "config": {"contract": {"enforced": True}},
            "columns": {
                "a": {"name": "a", "constraints": [{"type": "not_null"}]},
                "b": {"name": "b", "constraints": [{"type": "check", "expression": "b > 0"}]},
            },
        },
        "model.p.kpi_loose": {
            "resource_type": "model",
            "name": "kpi_loose",
            "config": {"contract": {"enforced": False}},
            "columns": {"a": {"name": "a", "constraints": [{"type": "not_null"}]}},
        },
        "t1": _test("t1", "not_null", "c"),
        "t2": _test("t2", "unique", "id"),
        "t3": _test("t3", "accepted_values", "kind", kwargs={"values": ["x", "y"]}),
        "t4": _test("t4", "not_null", "warned", severity="warn"),
        "t5": _test("t5", "not_null", "filtered", where="kind = 'x'"),
    }
}


def test_what_dbt_checks_is_read_from_the_manifest() -> None:
    checks = dbt_checks(MANIFEST)
    assert checks["kpi_x"].not_null == {"a", "c"}
    assert checks["kpi_x"].unique == {"id"}
    assert checks["kpi_x"].accepted_values == {"kind": [frozenset({"x", "y"})]}
    assert checks["kpi_loose"].not_null == set()  # the contract is not enforced


def test_only_an_identical_blocking_check_is_a_duplicate() -> None:
    checks = dbt_checks(MANIFEST)["kpi_x"]
    duplicates = [
        _exp("expect_column_values_to_not_be_null", column="a"),
        _exp("expect_column_values_to_not_be_null", column="c"),
        _exp("expect_column_values_to_be_unique", column="id"),
        _exp("expect_column_values_to_be_in_set", column="kind", value_set=["y", "x"]),
    ]
    kept = [
        _exp("expect_column_values_to_not_be_null", column="b"),  # a check constraint only
        _exp("expect_column_values_to_not_be_null", column="warned"),  # dbt only warns
        _exp("expect_column_values_to_not_be_null", column="filtered"),  # dbt checks some rows
        _exp("expect_column_values_to_not_be_null", column="c", mostly=0.9),
        _exp("expect_column_values_to_not_be_null", column="c", row_condition='kind=="x"'),
        _exp("expect_column_values_to_be_in_set", column="kind", value_set=["x"]),
        _exp("expect_column_values_to_be_between", column="a", min_value=0),
    ]
    assert all(dbt_duplicate(entry, checks) for entry in duplicates)
    assert [dbt_duplicate(entry, checks) for entry in kept] == [None] * len(kept)


def _write(root: Path, layer: str, table: str, expectations: list[dict]) -> Path:
    path = root / layer / f"{table}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"table": table, "layer": layer, "expectations": expectations}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_pruning_keeps_raw_suites_and_the_row_ids(tmp_path: Path) -> None:
    entries = [
        _exp("expect_column_values_to_be_unique", column="id"),
        _exp("expect_column_values_to_not_be_null", column="a"),
        _exp("expect_column_values_to_be_between", column="a", min_value=0),
    ]
    mart = _write(tmp_path, "marts", "kpi_x", entries)
    raw = _write(tmp_path, "raw", "kpi_x", entries)
    removed = prune_dbt_duplicates(tmp_path, MANIFEST)
    assert removed == {str(mart): 2}
    pruned = json.loads(mart.read_text(encoding="utf-8"))
    assert pruned["expectations"] == entries[2:]
    assert pruned["id_columns"] == ["id"]  # failure messages still name the offending rows
    assert json.loads(raw.read_text(encoding="utf-8"))["expectations"] == entries


def test_no_repository_suite_repeats_a_dbt_test_or_contract() -> None:
    checks = dbt_checks(json.loads(ensure_manifest().read_text(encoding="utf-8")))
    suites = load_suites(REPO_EXPECTATIONS)
    assert {s.table for s in suites if s.layer != "raw"} <= set(checks)
    found = [
        f"{suite.name} {suite.expectations[i]['type']}: {reason}"
        for suite in suites
        for i, reason in suite_dbt_duplicates(suite, checks)
    ]
    assert not found, (
        "these expectations repeat a dbt check; run `python -m orchestration.lib.quality "
        "prune-dbt-duplicates`:\n" + "\n".join(found)
    )
