"""The data test data-tests/assert_contract_not_null.sql stands in for the
contracts' not_null constraints on Spark (Parquet tables take none): its list must be exactly the
not_null constraints declared in the models' yml."""

import ast
import re
from pathlib import Path

import yaml

DBT = Path(__file__).resolve().parent.parent / "dbt_project"


def test_spark_not_null_test_lists_every_constraint() -> None:
    declared: dict[str, list[str]] = {}
    for path in sorted((DBT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            columns = [
                column["name"]
                for column in model.get("columns") or []
                if any(c.get("type") == "not_null" for c in column.get("constraints") or [])
            ]
            if columns:
                declared[model["name"]] = columns
    text = (DBT / "data-tests" / "assert_contract_not_null.sql").read_text(encoding="utf-8")
    block = re.search(r"set constrained = (\{.*?\}) %\}", text, re.S)
    assert block
    assert ast.literal_eval(block.group(1)) == declared
