"""The funnel-export fixture and its plain-Python oracle (no pipeline run: fast).

tests/test_real_export.py compares the warehouse with tests/funnel_oracle.py; these tests make
sure the oracle itself is right (percentiles by hand), that the fixture has the traps it was
built for, and that the committed files are what tests/fixtures/funnel_export/make_fixture.py
writes.
"""

from __future__ import annotations

import filecmp
import importlib.util
from datetime import date
from pathlib import Path

import pytest

from tests.funnel_oracle import compute, percentile_cont

FUNNEL = Path(__file__).parent / "fixtures" / "funnel_export"
VARIANTS = ("deal_side", "lead_side")


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        # 4 values: position (n - 1) x fraction = 3 x fraction between sorted values 1, 2, 3, 4.
        ([4, 1, 3, 2], 0.5, 2.5),  # position 1.5: halfway between 2 and 3
        ([4, 1, 3, 2], 0.75, 3.25),  # position 2.25: 3 + 0.25 x (4 - 3)
        ([4, 1, 3, 2], 0.9, 3.7),  # position 2.7: 3 + 0.7 x (4 - 3)
        ([4, 1, 3, 2], 0.0, 1),
        ([4, 1, 3, 2], 1.0, 4),
        # 3 uneven values: position 2 x 0.75 = 1.5, halfway between 20 and 40.
        ([10, 40, 20], 0.75, 30),
        ([10, 40, 20], 0.5, 20),  # the middle value
        ([7], 0.9, 7),  # one value is every percentile
    ],
)
def test_percentile_cont_by_hand(values, fraction, expected):
    assert percentile_cont(values, fraction) == pytest.approx(expected)


@pytest.fixture(scope="module")
def oracles():
    return {variant: compute(FUNNEL / variant) for variant in VARIANTS}


def test_both_variants_hold_the_same_facts(oracles):
    deal_side, lead_side = oracles["deal_side"], oracles["lead_side"]
    assert deal_side == lead_side


def test_fixture_has_the_traps_it_was_built_for(oracles):
    oracle = oracles["deal_side"]
    assert (oracle.leads, oracle.wins) == (400, 70)
    assert oracle.data_rows == {"leads.csv": 400, "closed_deals.csv": 70}
    # Every deal names one distinct lead: 70 converted leads.
    assert oracle.lead_to_won == (70, 400)
    # 15 % of the leads and a few wins (2016) are dated years before the as-of year.
    assert sum(day < date(2018, 1, 1) for day in oracle.lead_dates.values()) == 60
    assert {month.year for month in oracle.lead_to_won_by_cohort_month} == {2016, 2017, 2018}
    # Exactly one deal won 2 days before its lead's first contact, on closed_deals.csv's row.
    [defect] = oracle.defects
    assert (defect.days_lead_to_won, defect.source_file) == (-2, "closed_deals.csv")
    assert 0 in oracle.days_lead_to_won.values()  # a same-day win is not a defect
    assert oracle.cycle.count == 69
    # One person is the SDR on some deals and the closer on others.
    [person] = set(oracle.wins_by_sdr) & set(oracle.wins_by_closer)
    assert oracle.wins_by_sdr[person] >= 2 and oracle.wins_by_closer[person] >= 2
    assert (len(oracle.wins_by_sdr), len(oracle.wins_by_closer)) == (8, 6)
    # 20 empty origins (-> unknown), besides the export's own `unknown`; 3 of them won.
    assert oracle.lead_to_won_by_origin["unknown"][1] >= 20
    assert sum(num for num, _ in oracle.lead_to_won_by_origin.values()) == 70
    assert sum(den for _, den in oracle.lead_to_won_by_cohort_month.values()) == 400


def test_oracle_counts_against_the_raw_lines():
    """The oracle's totals against a plain line count and text search of the files."""
    oracle = compute(FUNNEL / "deal_side")
    leads = (FUNNEL / "deal_side" / "leads.csv").read_text().splitlines()[1:]
    deals = (FUNNEL / "deal_side" / "closed_deals.csv").read_text().splitlines()[1:]
    assert (oracle.leads, oracle.wins) == (len(leads), len(deals))
    empty_origin = {line.split(",")[0] for line in leads if line.endswith(",")}
    won = {line.split(",")[0] for line in deals}
    assert len(empty_origin) == 20 and len(empty_origin & won) == 3
    # The defect's row, located by hand: its won date is 2 days before its lead's first contact.
    first_contact = {line.split(",")[0]: line.split(",")[1] for line in leads}
    [defect] = oracle.defects
    line = deals[defect.source_row - 1].split(",")
    assert line[1] == defect.seller_id
    assert (date.fromisoformat(first_contact[line[0]]) - date.fromisoformat(line[4][:10])).days == 2


def test_committed_fixture_is_the_generators_output(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fixture", FUNNEL / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_fixture(tmp_path)
    for variant in VARIANTS:
        for name in ("leads.csv", "closed_deals.csv"):
            assert filecmp.cmp(tmp_path / variant / name, FUNNEL / variant / name, shallow=False), (
                f"{variant}/{name} differs from make_fixture.py's output: regenerate it"
            )
