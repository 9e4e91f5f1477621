"""Plain-Python oracle for the funnel-export fixture (tests/fixtures/funnel_export).

Reads ONLY the raw files of one variant folder (``leads*.csv``, ``closed_deals*.csv``) with
the csv module and computes the KPIs the warehouse must publish for them, without any of the
project's code or SQL: the expected values of tests/test_real_export.py.

Definitions (the export holds won deals only, so every deal is a win):

- a lead is converted (won) when a deal names it (``closed_deals.mql_id``, deal_side variant)
  or it names a deal (``leads.seller_id``, lead_side variant);
- origin: the ``origin`` cell, ``unknown`` when empty; cohort month: the month of the lead's
  ``first_contact_date``;
- wins by SDR / by closer: by the role on the deal (``sdr_id`` / ``sr_id``);
- cycle lead -> won: whole days from ``first_contact_date`` to the date of ``won_date``; a deal
  won before its lead's first contact is a defect, listed and left out of the cycle statistics;
- percentiles are continuous with linear interpolation, as SQL's ``percentile_cont``;
- fiscal years start in April (the project's default) and are named after their first year.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

FISCAL_YEAR_START_MONTH = 4


def percentile_cont(values: list[float], fraction: float) -> float:
    """The `fraction` percentile of `values`, interpolated linearly between closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class CycleStats:
    count: int
    mean: float
    median: float
    p75: float
    p90: float

    @classmethod
    def of(cls, days: list[int]) -> CycleStats:
        return cls(
            count=len(days),
            mean=statistics.fmean(days),
            median=percentile_cont(days, 0.5),
            p75=percentile_cont(days, 0.75),
            p90=percentile_cont(days, 0.9),
        )


@dataclass(frozen=True)
class Defect:
    """A deal won before its lead's first contact, with its row in closed_deals (1 = first)."""

    seller_id: str
    source_file: str
    source_row: int
    days_lead_to_won: int


@dataclass
class FunnelOracle:
    leads: int
    wins: int
    lead_to_won: tuple[int, int]  # (numerator, denominator)
    lead_to_won_by_origin: dict[str, tuple[int, int]]
    lead_to_won_by_cohort_month: dict[date, tuple[int, int]]  # month start -> (num, den)
    wins_by_sdr: Counter
    wins_by_closer: Counter
    days_lead_to_won: dict[str, int]  # seller_id -> days, deals without a defect
    cycle: CycleStats  # over the deals without a defect
    cycle_by_fiscal_year: dict[int, CycleStats] = field(default_factory=dict)  # won fiscal year
    defects: list[Defect] = field(default_factory=list)
    data_rows: dict[str, int] = field(default_factory=dict)  # file name -> data lines
    lead_dates: dict[str, date] = field(default_factory=dict)  # mql_id -> first contact


def _read(folder: Path, pattern: str) -> list[tuple[str, int, dict]]:
    """(file name, row number after the header, row) of every file matching `pattern`."""
    rows = []
    for path in sorted(folder.glob(pattern)):
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                rows.append((path.name, number, row))
    return rows


def _fiscal_year(day: date) -> int:
    return day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1


def compute(folder: Path) -> FunnelOracle:
    """Every expected value for one variant folder of the fixture."""
    leads = _read(folder, "leads*.csv")
    deals = _read(folder, "closed_deals*.csv")
    data_rows = Counter(name for name, _, _ in leads + deals)

    lead_by_id = {row["mql_id"]: row for _, _, row in leads}
    lead_of_deal = {
        row["seller_id"]: row["mql_id"] for _, _, row in leads if row.get("seller_id")
    }  # lead_side variant
    for _, _, deal in deals:
        if deal.get("mql_id"):  # deal_side variant
            lead_of_deal[deal["seller_id"]] = deal["mql_id"]
    converted = set(lead_of_deal.values())

    by_origin: dict[str, list[int]] = {}
    by_month: dict[date, list[int]] = {}
    for mql_id, lead in lead_by_id.items():
        first_contact = date.fromisoformat(lead["first_contact_date"])
        for groups, key in (
            (by_origin, lead["origin"] or "unknown"),
            (by_month, first_contact.replace(day=1)),
        ):
            counts = groups.setdefault(key, [0, 0])
            counts[0] += mql_id in converted
            counts[1] += 1

    days: dict[str, int] = {}
    days_by_year: dict[int, list[int]] = {}
    defects = []
    for name, number, deal in deals:
        lead = lead_by_id[lead_of_deal[deal["seller_id"]]]
        won = date.fromisoformat(deal["won_date"][:10])
        gap = (won - date.fromisoformat(lead["first_contact_date"])).days
        if gap < 0:
            defects.append(Defect(deal["seller_id"], name, number, gap))
            continue
        days[deal["seller_id"]] = gap
        days_by_year.setdefault(_fiscal_year(won), []).append(gap)

    return FunnelOracle(
        leads=len(lead_by_id),
        wins=len(deals),
        lead_to_won=(len(converted & set(lead_by_id)), len(lead_by_id)),
        lead_to_won_by_origin={key: tuple(value) for key, value in by_origin.items()},
        lead_to_won_by_cohort_month={key: tuple(value) for key, value in by_month.items()},
        wins_by_sdr=Counter(deal["sdr_id"] for _, _, deal in deals),
        wins_by_closer=Counter(deal["sr_id"] for _, _, deal in deals),
        days_lead_to_won=days,
        cycle=CycleStats.of(list(days.values())),
        cycle_by_fiscal_year={year: CycleStats.of(gaps) for year, gaps in days_by_year.items()},
        defects=defects,
        data_rows=dict(data_rows),
        lead_dates={
            mql_id: date.fromisoformat(lead["first_contact_date"])
            for mql_id, lead in lead_by_id.items()
        },
    )
