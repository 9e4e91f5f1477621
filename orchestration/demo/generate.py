"""The generator's entry point: `generate()` writes one canonical CSV per entity."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from orchestration.demo.activities import write_activities
from orchestration.demo.calendar import Calendar
from orchestration.demo.calendar import fiscal_year_start_month as default_fiscal_year_start_month
from orchestration.demo.model import build_model
from orchestration.demo.spend import spend_table
from orchestration.demo.tables import (
    accounts_table,
    agencies_table,
    contacts_table,
    leads_table,
    opportunities_table,
    stage_history_table,
    subscriptions_table,
    users_table,
)
from orchestration.demo.targets import targets_table
from orchestration.demo.writer import write_entity
from orchestration.lib.canonical_schema import ENTITY_ORDER


def generate(
    landing_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    end_date: date = date(2026, 10, 31),
    months: int = 30,
    fiscal_year_start_month: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write one canonical CSV per entity into `landing_dir`; return rows written per entity.

    scale 1.0 gives about 200,000 activities; `months` months of data end on `end_date`. The
    fiscal year (year-end push, budgets) starts in `fiscal_year_start_month`, by default the dbt
    var of the same name in dbt_project.yml, so that the marts see the year the data was made for.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    if months < 1:
        raise ValueError("months must be at least 1")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if fiscal_year_start_month is None:
        fiscal_year_start_month = default_fiscal_year_start_month()
    calendar = Calendar.build(end_date, months, fiscal_year_start_month)
    say = log or (lambda _msg: None)
    landing = Path(landing_dir)
    landing.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = build_model(calendar, scale, seed)
    say(f"{'(model)':<28}{'':>12}      {time.perf_counter() - t0:7.1f}s")

    writers: dict[str, Callable[[], int]] = {
        "agencies": lambda: write_entity(landing, "agencies", agencies_table()),
        "users": lambda: write_entity(landing, "users", users_table(model)),
        "accounts": lambda: write_entity(landing, "accounts", accounts_table(model)),
        "contacts": lambda: write_entity(landing, "contacts", contacts_table(model)),
        "leads": lambda: write_entity(landing, "leads", leads_table(model)),
        "opportunities": lambda: write_entity(landing, "opportunities", opportunities_table(model)),
        "opportunity_stage_history": lambda: write_entity(
            landing, "opportunity_stage_history", stage_history_table(model)
        ),
        "subscriptions": lambda: write_entity(landing, "subscriptions", subscriptions_table(model)),
        "spend": lambda: write_entity(landing, "spend", spend_table(model)),
        "targets": lambda: write_entity(landing, "targets", targets_table(model)),
        "activities": lambda: write_activities(model, landing),
    }
    counts: dict[str, int] = {}
    for entity in writers:
        t = time.perf_counter()
        counts[entity] = writers[entity]()
        say(f"{entity:<28}{counts[entity]:>12,} rows {time.perf_counter() - t:7.1f}s")
    say(f"{'total':<28}{sum(counts.values()):>12,} rows {time.perf_counter() - t0:7.1f}s")
    return {entity: counts[entity] for entity in ENTITY_ORDER if entity in counts}


if __name__ == "__main__":  # python -m orchestration.demo.generate, as before
    from orchestration.demo.cli import main

    sys.exit(main())
