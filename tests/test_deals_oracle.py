"""The deals-export fixture and its plain-Python oracle (no pipeline run: fast).

tests/test_deals_export.py compares the warehouse with tests/deals_oracle.py; these tests make
sure the oracle itself is right (percentiles and small cases by hand, totals against plain line
counts of the files), that the fixture has the traps it was built for, and that the committed
files are what tests/fixtures/deals_export/make_fixture.py writes.
"""

from __future__ import annotations

import filecmp
import importlib.util
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.deals_oracle import Cycle, compute, fiscal_year, lenient
from tests.funnel_oracle import percentile_cont

DEALS = Path(__file__).parent / "fixtures" / "deals_export"
CSV = DEALS / "csv"
FILE_STEMS = ("sales_pipeline", "sales_teams", "accounts", "products")


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        # 5 values 1, 2, 3, 5, 10: rank (n - 1) x fraction = 4 x fraction.
        ([10, 1, 5, 3, 2], 0.5, 3),  # rank 2: the middle value
        ([10, 1, 5, 3, 2], 0.75, 5),  # rank 3 exactly
        ([10, 1, 5, 3, 2], 0.9, 8),  # rank 3.6: 5 + 0.6 x (10 - 5)
        ([10, 1, 5, 3, 2], 0.1, 1.4),  # rank 0.4: 1 + 0.4 x (2 - 1)
        # 2 values: rank 0.75 between them.
        ([0, 8], 0.75, 6),
        ([4, 4, 4], 0.9, 4),
        ([12], 0.5, 12),  # one value is every percentile
    ],
)
def test_percentile_cont_by_hand(values, fraction, expected):
    assert percentile_cont(values, fraction) == pytest.approx(expected)


def test_cycle_of_by_hand():
    # 0, 10, 20, 30: mean 15; median rank 1.5 -> 15; p75 rank 2.25 -> 22.5; p90 rank 2.7 -> 27.
    assert Cycle.of([30, 0, 20, 10]) == Cycle(4, 15.0, 15.0, 22.5, 27.0)


def test_lenient_product_names_and_fiscal_years():
    from datetime import date

    assert lenient("GTXPro") == lenient("GTX Pro") == lenient("gtx-pro") == "gtxpro"
    assert lenient("GTX Ultra") not in {lenient(name) for name in ("GTX Pro", "GTX Plus Pro")}
    assert fiscal_year(date(2017, 3, 31)) == 2016  # April fiscal years
    assert fiscal_year(date(2017, 4, 1)) == 2017


def _write(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_oracle_on_a_hand_made_export(tmp_path):
    """Five deals worked out by hand: every rule of the oracle on one screen."""
    _write(
        tmp_path,
        "sales_pipeline.csv",
        [
            "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
            "close_value",
            "D1,Ann,GTXPro,Acme,Won,2017-01-01,2017-01-11,100",  # FY2016, 10 days
            "D2,Ann,GTX Pro,Acme,Won,2017-04-01,2017-04-05,300",  # FY2017, 4 days
            "D3,Bob,GTX Ultra,Acme,Won,,2017-05-01,50",  # no engage date: excluded
            "D4,Bob,MG Special,Acme,Lost,2017-02-01,2017-03-01,0",
            "D5,Bob,MG Special,,Prospecting,,,",
        ],
    )
    _write(
        tmp_path,
        "sales_teams.csv",
        ["sales_agent,manager,regional_office", "Ann,Max,East", "Bob,Eve,West", "Cy,Eve,West"],
    )
    _write(
        tmp_path, "products.csv", ["product,series,sales_price", "GTX Pro,GTX,1", "MG Special,MG,1"]
    )
    _write(tmp_path, "accounts.csv", ["account,employees", "Acme,10"])
    oracle = compute(tmp_path)
    company = oracle.company
    assert (company.won, company.lost, company.won_amount) == (3, 1, 450)
    assert (company.open, company.open_unknown_amount) == (1, 1)
    assert company.win_rate == (3, 4) and company.average_deal_size == (450, 3)
    assert sorted(company.cycle_days) == [4, 10]
    # GTXPro counts for the catalog's GTX Pro; GTX Ultra for no product.
    products = oracle.scopes["product"]
    assert set(products) == {"GTX Pro", "MG Special"}
    assert (products["GTX Pro"].won, products["GTX Pro"].won_amount) == (2, 400)
    assert (products["MG Special"].lost, products["MG Special"].open) == (1, 1)
    assert oracle.unknown_products == {"GTX Ultra": 1}
    assert [(d.opportunity_id, d.source_row) for d in oracle.unknown_product_deals] == [("D3", 3)]
    # Teams are the managers, offices the managers' regional offices.
    assert {k: (v.won, v.lost) for k, v in oracle.scopes["team"].items()} == {
        "Max": (2, 0),
        "Eve": (1, 1),
    }
    assert oracle.scopes["office"].keys() == {"East", "West"}
    assert oracle.scopes["rep"]["Bob"].won_amount == 50
    assert oracle.cycle_by_fiscal_year == {2016: Cycle.of([10]), 2017: Cycle.of([4])}
    assert oracle.won_by_fiscal_year == {2016: 1, 2017: 2}
    assert oracle.excluded_by_fiscal_year == {2017: 1}
    assert [(d.opportunity_id, d.source_row) for d in oracle.created_unknown] == [
        ("D3", 3),
        ("D5", 5),
    ]
    assert [d.opportunity_id for d in oracle.closed_created_unknown] == ["D3"]
    assert oracle.without_account == 1
    assert (oracle.managers, oracle.offices) == (["Eve", "Max"], ["East", "West"])


@pytest.fixture(scope="module")
def oracle():
    return compute(CSV)


def test_fixture_has_the_traps_it_was_built_for(oracle):
    company = oracle.company
    assert oracle.deals == 300
    assert (company.won, company.lost, company.open) == (140, 90, 70)
    assert oracle.data_rows == {
        "sales_pipeline.csv": 300,
        "sales_teams.csv": 12,
        "products.csv": 7,
        "accounts.csv": 30,
    }
    # Every open deal lacks its amount; 25 Prospecting deals and 3 closed ones lack a created date.
    assert company.open_unknown_amount == company.open == 70
    assert len(oracle.created_unknown) == 28
    assert sorted(d.deal_stage for d in oracle.closed_created_unknown) == ["Lost", "Won", "Won"]
    assert oracle.excluded_by_fiscal_year == {2016: 1, 2017: 1}
    assert sum(oracle.won_by_fiscal_year.values()) == 140
    assert sum(c.count for c in oracle.cycle_by_fiscal_year.values()) == 138
    assert 0 in company.cycle_days  # a deal won on its engage date
    assert oracle.without_account >= 20
    # GTX Ultra matches no catalog entry; GTXPro counts for GTX Pro.
    assert oracle.unknown_products == {"GTX Ultra": 3}
    assert sorted(d.deal_stage for d in oracle.unknown_product_deals) == [
        "Engaging",
        "Lost",
        "Won",
    ]
    assert set(oracle.scopes["product"]) == set(oracle.catalog)
    # Every scope's totals add up to the company's (GTX Ultra's deals in no product).
    for scope_type in ("team", "office", "rep"):
        scopes = oracle.scopes[scope_type].values()
        assert sum(t.won_amount for t in scopes) == company.won_amount, scope_type
        assert sum(t.open for t in scopes) == company.open, scope_type
    products = oracle.scopes["product"].values()
    assert sum(t.won for t in products) == company.won - 1
    assert sum(t.lost for t in products) == company.lost - 1
    assert sum(t.open for t in products) == company.open - 1
    # 12 agents (11 with deals) under 4 managers in 3 offices.
    assert (len(oracle.agents), len(oracle.scopes["rep"])) == (12, 11)
    assert (len(oracle.managers), oracle.offices) == (4, ["Central", "East", "West"])
    assert len(oracle.scopes["team"]) == 4


def test_oracle_counts_against_the_raw_lines(oracle):
    """The oracle's totals against plain line counts and text search of the files."""
    lines = (CSV / "sales_pipeline.csv").read_text(encoding="utf-8").splitlines()[1:]
    fields = [line.split(",") for line in lines]  # no quoted commas in this export
    assert len(fields) == oracle.deals
    won = [f for f in fields if f[4] == "Won"]
    assert len(won) == oracle.company.won
    assert sum(int(f[7]) for f in won) == oracle.company.won_amount
    assert sum(f[4] == "Lost" for f in fields) == oracle.company.lost
    assert sum(line.endswith(",,") for line in lines) == oracle.company.open_unknown_amount
    assert sum(",GTXPro," in line for line in lines) >= 3
    assert sum(",GTX Ultra," in line for line in lines) == 3
    # The created-unknown deals, located by their row: an empty engage date.
    for deal in oracle.created_unknown:
        line = fields[deal.source_row - 1]
        assert (line[0], line[5]) == (deal.opportunity_id, "")


def test_committed_fixture_is_the_generators_output(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fixture", DEALS / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_fixture(tmp_path, config_from=CSV)
    for folder, extension in (("csv", "csv"), ("jsonl", "jsonl")):
        for stem in FILE_STEMS:
            name = f"{folder}/{stem}.{extension}"
            assert filecmp.cmp(tmp_path / name, DEALS / name, shallow=False), (
                f"{name} differs from make_fixture.py's output: regenerate it"
            )
    for stem in FILE_STEMS:
        name = f"parquet/{stem}.parquet"
        assert pq.read_table(tmp_path / name).equals(pq.read_table(DEALS / name)), (
            f"{name} differs from make_fixture.py's output: regenerate it"
        )
    for folder in ("jsonl", "parquet"):
        for name in ("source.yml", "mapping.yml"):
            path = f"{folder}/{name}"
            assert filecmp.cmp(tmp_path / path, DEALS / path, shallow=False), (
                f"{path} differs from csv/{name} with the patterns changed: regenerate it"
            )


def test_typed_variants_hold_the_export_values():
    """JSON Lines and Parquet rows, read back as text, are the CSV rows (same order)."""
    import csv

    for stem in FILE_STEMS:
        with (CSV / f"{stem}.csv").open(encoding="utf-8", newline="") as handle:
            expected = [{k: v or None for k, v in row.items()} for row in csv.DictReader(handle)]
        jsonl = [
            json.loads(line)
            for line in (DEALS / "jsonl" / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        parquet = pq.read_table(DEALS / "parquet" / f"{stem}.parquet").to_pylist()
        for records in (jsonl, parquet):
            as_text = [
                {k: None if row.get(k) is None else str(row[k]) for k in expected[0]}
                for row in records
            ]
            assert as_text == expected, stem
