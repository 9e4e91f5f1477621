"""Plain-Python oracle for the deals-export fixture (tests/fixtures/deals_export/csv).

Reads ONLY the raw export files (``sales_pipeline.csv``, ``sales_teams.csv``, ``products.csv``,
``accounts.csv``) with the csv module and computes the KPIs the warehouse must publish for
them, without any of the project's code or SQL: the expected values of
tests/test_deals_export.py.

Definitions:

- won / lost: ``deal_stage`` Won / Lost; open: Prospecting or Engaging (every deal is dated on
  or before the as-of date, 2017-12-31, so "open on the as-of date" is "open in the export");
- win rate = won / (won + lost); won amount = sum of ``close_value`` of won deals (USD, the
  reporting currency); average deal size = won amount / won deals;
- sales cycle: whole days ``engage_date`` -> ``close_date`` of the won deals that have an engage
  date; a won deal without one has no created date: it counts as won but is left out of the
  cycle statistics (and counted as excluded);
- open deals with an unknown amount: open deals with an empty ``close_value``;
- scopes: company, team (the agent's ``manager``), office (the manager's ``regional_office``),
  rep (``sales_agent``) and product (the catalog name the deal's product matches when case,
  spaces and punctuation are ignored, ``GTXPro`` = ``GTX Pro``; a product matching no catalog
  entry belongs to no product scope and is listed in ``unknown_products``);
- totals are over the whole export (the scorecard's fiscal-year rows summed); the cycle
  statistics are per fiscal year of the close date, which start in April (the project's
  default, no dbt var needed) and are named after the calendar year they start in;
- percentiles are continuous with linear interpolation, as SQL's ``percentile_cont``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# The same plain-Python statistics as the funnel export's oracle (no project code).
from tests.funnel_oracle import CycleStats as Cycle

FISCAL_YEAR_START_MONTH = 4
SCOPE_TYPES = ("company", "team", "office", "rep", "product")
COMPANY = "company"


@dataclass
class Totals:
    """The deal KPIs of one scope over the whole export."""

    won: int = 0
    lost: int = 0
    won_amount: int = 0
    open: int = 0
    open_unknown_amount: int = 0
    cycle_days: list[int] = field(default_factory=list)  # won deals with an engage date

    @property
    def win_rate(self) -> tuple[int, int]:
        """(numerator, denominator)."""
        return self.won, self.won + self.lost

    @property
    def average_deal_size(self) -> tuple[int, int]:
        """(numerator, denominator)."""
        return self.won_amount, self.won


@dataclass(frozen=True)
class Deal:
    """A deal with a defect, with its row in sales_pipeline.csv (1 = first data line)."""

    opportunity_id: str
    deal_stage: str
    source_row: int


@dataclass
class DealsOracle:
    deals: int
    scopes: dict[str, dict[str, Totals]]  # scope type -> scope id (raw name) -> totals
    cycle_by_fiscal_year: dict[int, Cycle]  # company, per fiscal year of the win
    team_cycle_by_fiscal_year: dict[tuple[int, str], Cycle]  # (fiscal year, manager)
    won_by_fiscal_year: dict[int, int]
    excluded_by_fiscal_year: dict[int, int]  # won deals without an engage date
    created_unknown: list[Deal]  # every deal without an engage date
    closed_created_unknown: list[Deal]  # the won and lost ones among them
    without_account: int
    unknown_products: dict[str, int]  # raw product name -> deals
    unknown_product_deals: list[Deal]  # the deals whose product matches no catalog entry
    catalog: list[str]
    agents: list[str]
    managers: list[str]
    offices: list[str]
    office_of: dict[str, str]  # manager -> regional office
    data_rows: dict[str, int] = field(default_factory=dict)  # file name -> data lines

    @property
    def company(self) -> Totals:
        return self.scopes["company"][COMPANY]


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def lenient(name: str) -> str:
    """A product name with case, spaces and punctuation ignored: 'GTXPro' == 'gtx pro'."""
    return re.sub(r"[\W_]+", "", name).lower()


def fiscal_year(day: date) -> int:
    return day.year if day.month >= FISCAL_YEAR_START_MONTH else day.year - 1


def compute(folder: Path) -> DealsOracle:
    """Every expected value for the export in `folder`."""
    deals = _read(folder / "sales_pipeline.csv")
    teams = _read(folder / "sales_teams.csv")
    products = _read(folder / "products.csv")
    accounts = _read(folder / "accounts.csv")

    manager_of = {row["sales_agent"]: row["manager"] for row in teams}
    office_of = {row["manager"]: row["regional_office"] for row in teams}
    catalog = {lenient(row["product"]): row["product"] for row in products}

    scopes: dict[str, dict[str, Totals]] = {scope: {} for scope in SCOPE_TYPES}
    days_by_year: dict[int, list[int]] = {}
    days_by_year_team: dict[tuple[int, str], list[int]] = {}
    won_by_year: dict[int, int] = {}
    excluded_by_year: dict[int, int] = {}
    created_unknown = []
    unknown_products: dict[str, int] = {}
    unknown_product_deals = []
    for number, deal in enumerate(deals, start=1):
        stage = deal["deal_stage"]
        agent = deal["sales_agent"]
        manager = manager_of[agent]
        product = catalog.get(lenient(deal["product"]))
        if product is None:
            unknown_products[deal["product"]] = unknown_products.get(deal["product"], 0) + 1
            unknown_product_deals.append(Deal(deal["opportunity_id"], stage, number))
        scope_ids = {
            "company": COMPANY,
            "team": manager,
            "office": office_of[manager],
            "rep": agent,
            "product": product,
        }
        engaged = date.fromisoformat(deal["engage_date"]) if deal["engage_date"] else None
        closed = date.fromisoformat(deal["close_date"]) if deal["close_date"] else None
        if engaged is None:
            created_unknown.append(Deal(deal["opportunity_id"], stage, number))
        days = None
        if stage == "Won":
            year = fiscal_year(closed)
            won_by_year[year] = won_by_year.get(year, 0) + 1
            if engaged is None:
                excluded_by_year[year] = excluded_by_year.get(year, 0) + 1
            else:
                days = (closed - engaged).days
                days_by_year.setdefault(year, []).append(days)
                days_by_year_team.setdefault((year, manager), []).append(days)
        for scope_type, scope_id in scope_ids.items():
            if scope_id is None:
                continue
            totals = scopes[scope_type].setdefault(scope_id, Totals())
            if stage == "Won":
                totals.won += 1
                totals.won_amount += int(deal["close_value"])
                if days is not None:
                    totals.cycle_days.append(days)
            elif stage == "Lost":
                totals.lost += 1
            else:
                totals.open += 1
                totals.open_unknown_amount += deal["close_value"] == ""

    return DealsOracle(
        deals=len(deals),
        scopes=scopes,
        cycle_by_fiscal_year={year: Cycle.of(days) for year, days in days_by_year.items()},
        team_cycle_by_fiscal_year={key: Cycle.of(days) for key, days in days_by_year_team.items()},
        won_by_fiscal_year=won_by_year,
        excluded_by_fiscal_year=excluded_by_year,
        created_unknown=created_unknown,
        closed_created_unknown=[d for d in created_unknown if d.deal_stage in ("Won", "Lost")],
        without_account=sum(not deal["account"] for deal in deals),
        unknown_products=unknown_products,
        unknown_product_deals=unknown_product_deals,
        catalog=[row["product"] for row in products],
        agents=[row["sales_agent"] for row in teams],
        managers=sorted(office_of),
        offices=sorted(set(office_of.values())),
        office_of=office_of,
        data_rows={
            "sales_pipeline.csv": len(deals),
            "sales_teams.csv": len(teams),
            "products.csv": len(products),
            "accounts.csv": len(accounts),
        },
    )
