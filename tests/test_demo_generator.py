"""Fast tests of the demo-data generator (small scale, a few seconds in total)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import holidays
import numpy as np
import pytest

from orchestration.demo.calendar import Calendar, fiscal_year_start_month
from orchestration.demo.common import DAY, epoch_day
from orchestration.demo.deals import fiscal_push
from orchestration.demo.generate import generate
from orchestration.lib.canonical_schema import ENTITIES
from orchestration.lib.canonical_schema import ENTITY_ORDER as ALL_ENTITIES

# The demo company bills in yen only, keeps no team history, sells subscriptions (no orders)
# and runs no survey, and its lead sources are all in the seed: it writes none of the optional
# files.
OPTIONAL = {
    "exchange_rates",
    "rep_team_history",
    "orders",
    "satisfaction_surveys",
    "lead_sources",
    "teams",
    "products",
}
ENTITY_ORDER = tuple(e for e in ALL_ENTITIES if e not in OPTIONAL)

SCALE = 0.02
END = date(2026, 10, 31)
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
DBT_PROJECT_FILE = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


def _rows(landing: Path, entity: str) -> list[dict[str, str]]:
    with (landing / f"{entity}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _seed_values(name: str, column: str) -> set[str]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as fh:
        return {row[column] for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("landing")
    counts = generate(path, scale=SCALE, seed=42, end_date=END)
    return path, counts


@pytest.fixture(scope="module")
def data(landing: tuple[Path, dict[str, int]]) -> dict[str, list[dict[str, str]]]:
    path, _ = landing
    return {entity: _rows(path, entity) for entity in ENTITY_ORDER}


def test_same_seed_gives_byte_identical_files(landing, tmp_path: Path) -> None:
    first, _ = landing
    generate(tmp_path, scale=SCALE, seed=42, end_date=END)
    for entity in ENTITY_ORDER:
        name = f"{entity}.csv"
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name


def test_other_seed_gives_other_data(landing, tmp_path: Path) -> None:
    first, _ = landing
    generate(tmp_path, scale=SCALE, seed=43, end_date=END)
    assert (tmp_path / "activities.csv").read_bytes() != (first / "activities.csv").read_bytes()


def test_every_file_has_exactly_the_canonical_columns(landing) -> None:
    path, counts = landing
    assert list(counts) == list(ENTITY_ORDER)
    for entity in ENTITY_ORDER:
        with (path / f"{entity}.csv").open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            widths = {len(row) for row in reader}
            n_rows = reader.line_num - 1
        assert header == ENTITIES[entity].column_names, entity
        assert widths <= {len(header)}, entity
        assert n_rows == counts[entity] > 0, entity


def test_allowed_values(data) -> None:
    for entity, rows in data.items():
        for column in ENTITIES[entity].columns:
            values = {r[column.name] for r in rows} - {""}
            if column.allowed:
                assert values <= set(column.allowed), (entity, column.name)
            if column.required:
                assert all(r[column.name] for r in rows), (entity, column.name)
    stages = _seed_values("stage_map.csv", "opportunity_stage")
    assert {r["opportunity_stage"] for r in data["opportunities"]} <= stages
    assert {r["opportunity_stage"] for r in data["opportunity_stage_history"]} <= stages
    # ae_sourced is the source given to deals without a lead, unknown the one of leads with an
    # empty origin: no demo lead carries them, and nothing is spent on the unknown channel.
    assert {r["lead_source"] for r in data["leads"]} == _seed_values(
        "lead_source_channels.csv", "lead_source"
    ) - {"ae_sourced", "unknown"}
    assert {r["channel"] for r in data["spend"]} == _seed_values(
        "lead_source_channels.csv", "channel"
    ) - {"unknown"}
    assert {r["currency"] for r in data["opportunities"] + data["spend"]} == {"JPY"}


def test_referential_integrity(data) -> None:
    accounts = {r["account_id"] for r in data["accounts"]}
    users = {r["user_id"] for r in data["users"]}
    agencies = {r["agency_id"] for r in data["agencies"]}
    opportunities = {r["opportunity_id"]: r for r in data["opportunities"]}
    leads = {r["lead_id"] for r in data["leads"]}

    assert all(o["account_id"] in accounts for o in opportunities.values())
    assert all(o["owner_id"] in users for o in opportunities.values())
    for a in data["activities"]:
        assert a["owner_id"] in users
        assert a["lead_id"] in leads | {""}
        assert a["opportunity_id"] in opportunities.keys() | {""}
        assert a["account_id"] in accounts | {""}
    converted = [r for r in data["leads"] if r["lead_status"] == "converted"]
    assert converted
    for lead in converted:
        opp = opportunities[lead["converted_opportunity_id"]]
        assert opp["lead_id"] == lead["lead_id"]
        assert opp["created_at"] == lead["converted_at"] >= lead["created_at"]
        assert lead["account_id"] in accounts
    for lead in data["leads"]:
        assert (lead["lead_source"] == "agency_outbound") == (lead["agency_id"] in agencies)
    assert all(s["account_id"] in accounts for s in data["subscriptions"])
    assert all(c["account_id"] in accounts for c in data["contacts"])


def test_stage_history_is_consistent(data) -> None:
    history = defaultdict(list)
    for row in data["opportunity_stage_history"]:
        history[row["opportunity_id"]].append((row["changed_at"], row["opportunity_stage"]))
    opportunities = data["opportunities"]
    assert {o["opportunity_stage"] for o in opportunities} >= {"closed_won", "closed_lost"}
    for opp in opportunities:
        rows = sorted(history[opp["opportunity_id"]])
        times = [t for t, _ in rows]
        assert len(set(times)) == len(times), opp["opportunity_id"]  # strictly increasing
        assert rows[0] == (opp["created_at"], "approach")
        assert rows[-1][1] == opp["opportunity_stage"]
        if opp["is_won"] == "true":
            assert rows[-1][1] == "closed_won"
        if opp["is_closed"] == "true":
            assert rows[-1][0][:10] == opp["close_date"] <= END.isoformat()


def test_activities_on_business_days_in_working_hours(data) -> None:
    public = holidays.Japan(years=range(2024, 2027))
    for a in data["activities"]:
        at = datetime.fromisoformat(a["activity_at"])
        assert at.date() <= END
        assert at.weekday() < 5 and at.date() not in public, a["activity_at"]
        assert 9 <= at.hour < 19, a["activity_at"]


def test_scale_changes_activity_volume_proportionally(landing, tmp_path: Path) -> None:
    _, small = landing
    large = generate(tmp_path, scale=3 * SCALE, seed=42, end_date=END)
    ratio = large["activities"] / small["activities"]
    assert 2.4 < ratio < 3.6
    assert large["leads"] > 2 * small["leads"]


# Fiscal year ------------------------------------------------------------------------------------


def test_fiscal_year_start_month_is_read_from_the_dbt_project(tmp_path: Path) -> None:
    text = DBT_PROJECT_FILE.read_text(encoding="utf-8")
    configured = int(re.search(r"^  fiscal_year_start_month: (\d+)", text, re.M).group(1))
    assert fiscal_year_start_month() == configured
    other = tmp_path / "dbt_project.yml"
    other.write_text("name: x\nvars:\n  fiscal_year_start_month: 7\n", encoding="utf-8")
    assert fiscal_year_start_month(other) == 7
    wrong = tmp_path / "wrong.yml"  # another file: the month is read once per file
    wrong.write_text("name: x\nvars:\n  fiscal_year_start_month: 13\n", encoding="utf-8")
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        fiscal_year_start_month(wrong)


def test_default_fiscal_year_is_the_dbt_projects(landing, tmp_path: Path) -> None:
    """The fixture's data (no fiscal-year argument) is the data for the configured month."""
    default, _ = landing
    configured = int(
        re.search(
            r"^  fiscal_year_start_month: (\d+)", DBT_PROJECT_FILE.read_text("utf-8"), re.M
        ).group(1)
    )
    generate(tmp_path, scale=SCALE, seed=42, end_date=END, fiscal_year_start_month=configured)
    for entity in ENTITY_ORDER:
        name = f"{entity}.csv"
        assert (tmp_path / name).read_bytes() == (default / name).read_bytes(), name
    with pytest.raises(ValueError, match="month number"):
        generate(tmp_path, scale=SCALE, end_date=END, fiscal_year_start_month=0)


@pytest.mark.parametrize(
    ("start_month", "fiscal_year_starts", "first_month", "last_month"),
    [
        # The data runs 2024-05 .. 2026-10 (30 months to END): fiscal years 2024-2026 either way.
        (4, ["2024-04-01", "2025-04-01", "2026-04-01"], "2024-04-01", "2027-03-01"),
        (1, ["2024-01-01", "2025-01-01", "2026-01-01"], "2024-01-01", "2026-12-01"),
    ],
)
def test_budgets_cover_the_configured_fiscal_years(
    tmp_path: Path, start_month, fiscal_year_starts, first_month, last_month
) -> None:
    generate(tmp_path, scale=SCALE, seed=42, end_date=END, fiscal_year_start_month=start_month)
    targets = _rows(tmp_path, "targets")
    yearly = [t for t in targets if t["period_grain"] == "fiscal_year"]
    assert [t["period_start_date"] for t in yearly] == fiscal_year_starts
    assert {t["kpi_code"] for t in yearly} == {"won_amount"}
    monthly = [t for t in targets if t["period_grain"] == "month"]
    months = sorted({t["period_start_date"] for t in monthly})
    assert (months[0], months[-1], len(months)) == (first_month, last_month, 36)
    company_won = {
        t["period_start_date"]: int(t["target_value"])
        for t in monthly
        if t["kpi_code"] == "won_amount" and t["scope_id"] == "company"
    }
    for year in yearly:  # the fiscal-year budget is the sum of its twelve monthly budgets
        start = date.fromisoformat(year["period_start_date"])
        end = date(start.year + 1, start.month, 1)
        in_year = [v for d, v in company_won.items() if start <= date.fromisoformat(d) < end]
        assert len(in_year) == 12
        assert int(year["target_value"]) == sum(in_year)


@pytest.mark.parametrize(
    ("start_month", "year_end", "half_year_end"), [(4, 3, 9), (1, 12, 6), (10, 9, 3)]
)
def test_year_end_push_follows_the_fiscal_year(start_month, year_end, half_year_end) -> None:
    """Won deals due from the 10th of the fiscal year-end (half-year-end) month to the 25th
    (20th) of the next close in the second half of the end month instead, 85 % of them; lost
    deals and deals due at other times keep their date."""
    cal = Calendar.build(END, 30, start_month)
    days = cal.bdays[(cal.bdays >= epoch_day(date(2025, 1, 1))) & (cal.bdays < epoch_day(END))]
    due = np.repeat(days, 2) * DAY + 10 * 3600  # two deals due each business day at 10:00
    won = np.tile([True, False], len(days))
    close_bt = fiscal_push(
        np.random.default_rng(0), cal, cal.to_bt(due), np.zeros(len(due), np.int64), won, None
    )
    moved = in_window = 0
    for old_s, new_s, is_won in zip(due, cal.to_wall(close_bt), won, strict=True):
        old = date.fromordinal(date(1970, 1, 1).toordinal() + int(old_s) // DAY)
        new = date.fromordinal(date(1970, 1, 1).toordinal() + int(new_s) // DAY)
        window = any(
            (old.month == end and old.day >= 10) or (old.month == end % 12 + 1 and old.day <= last)
            for end, last in ((year_end, 25), (half_year_end, 20))
        )
        if new == old:
            in_window += window and is_won
            continue
        assert is_won and window, (old, new)
        assert new.month in (year_end, half_year_end) and new.day >= 16, (old, new)
        months_back = (old.year * 12 + old.month) - (new.year * 12 + new.month)
        assert months_back in (0, 1), (old, new)  # into the end month the deal was due in or after
        moved += 1
        in_window += 1
    assert moved > 40
    assert 0.7 < moved / in_window < 0.97


def test_demo_command_rejects_a_wrong_fiscal_month_in_dbt_vars(tmp_path: Path, monkeypatch) -> None:
    """`make demo` makes data for the marts' fiscal year, SALES_KPI_DBT_VARS included: a month
    that is not one is a configuration error (exit 2) before anything is written."""
    from orchestration.cli import EXIT_CONFIGURATION, main

    monkeypatch.setenv("SALES_KPI_HOME", str(tmp_path))
    monkeypatch.setenv("SALES_KPI_DBT_VARS", '{"fiscal_year_start_month": 13}')
    assert main(["demo", "--scale", "0.01"]) == EXIT_CONFIGURATION
    assert not (tmp_path / "landing").exists()
