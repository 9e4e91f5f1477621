"""Fast tests of the demo-data generator (small scale, a few seconds in total)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import holidays
import pytest

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
