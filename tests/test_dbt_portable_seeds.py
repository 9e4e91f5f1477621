"""The seed guard dbt data test (data-tests/assert_seed_text_intact.sql) expects, per seed, the
number of text values holding an apostrophe and knows its text columns: both must match the CSV
files and the seeds' column_types (seeds/_seeds.yml)."""

import ast
import csv
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEST_SQL = ROOT / "dbt_project" / "data-tests" / "assert_seed_text_intact.sql"


def expected_in_test() -> dict[str, tuple[list[str], int]]:
    text = TEST_SQL.read_text(encoding="utf-8")
    block = re.search(r"set seeds = (\{.*?\}) %\}", text, re.S)
    assert block, "no `set seeds = {...}` in the test"
    return ast.literal_eval(block.group(1))


def test_seed_guard_matches_the_csv_files() -> None:
    expected = expected_in_test()
    config = yaml.safe_load((ROOT / "seeds" / "_seeds.yml").read_text(encoding="utf-8"))
    seeds = {seed["name"]: seed for seed in config["seeds"]}
    assert set(expected) == set(seeds)
    for name, (columns, apostrophes) in expected.items():
        types = seeds[name]["config"]["column_types"]
        text_columns = [column for column, kind in types.items() if "string" in kind]
        assert columns == text_columns, name
        with (ROOT / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        found = sum(1 for row in rows for column in columns if "'" in (row[column] or ""))
        assert found == apostrophes, (
            f"{name}: {found} values with an apostrophe, test says {apostrophes}"
        )
