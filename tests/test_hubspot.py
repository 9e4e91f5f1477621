"""The HubSpot rules (dbt models intermediate/crm_hubspot/int_hubspot__*) on `hubspot_tiny`: the
tiny fixture's facts as exported by HubSpot (tests/fixtures/hubspot_tiny/README.md has the id
correspondence). Every expectation is worked out by hand from the export files;
`test_same_facts_as_tiny` checks that the HubSpot exports say the same as `fixtures/tiny` once
ids and stage labels are mapped.

One dbt build serves the module: the export itself is landed as source `hubspot`, and mutated
copies of it as further sources in the same DuckDB file, each grouping edits that do not touch
the same rows (SOURCES says which test uses which):

- `configs`: source.yml without the call outcome Connected (T4), the lead source Other
  Campaigns (L3) and the team 営業代行チーム (U4), with an owner-id entry for 70103 (U3), an
  owner alias, and infer_initial_stage; deal 91004 without any Date entered value and owned by
  an owner missing from the owners export (the alias's name);
- `unknown`: deals 91003 and 91004 owned by one owner missing from the owners export, deal
  91004 without any Date entered value (infer_initial_stage off);
- `owners`: deal owners written given name first and as a name with an e-mail address;
- `utc`: the portal's time zone UTC, a Close Date at 20:00, a Create Date with an explicit Z;
- `edits`: an unreadable Create Date, a later export row of deal 91004, a contact that is not
  a lead, the lead source read from a custom property (lead_source_property);
- `nostage`: the Deal Stage column exported under a label nothing knows (Stage);
- `xlsx`: the calls as an .xlsx with typed cells instead of calls.csv, the Deal Stage column
  headed by its internal property name (Dealstage);
- `badroles`: source.yml owner_roles with a role (Appointer) and a motion (remote) that are
  not canonical;
- `quirks`: owners archived `Y` and `yes`, a call outcome in full-width letters, an all-empty
  row in calls.csv (where the dbt rules knowingly differ from the converter);
- `sizes`: copies of call 61001 with other durations and of company 81001 with other employee
  counts (the duration and size band rules, case by case).
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml
from openpyxl import Workbook

from orchestration.lib.crm_landing import FILES_TABLE, land_crm
from orchestration.sources.base import MappingError
from orchestration.sources.hubspot import CONFIG_KEYS, HUBSPOT, crm_source
from tests.crm_dbt import (
    Edit,
    add_copy,
    crm_outcomes,
    crm_rejects,
    crm_rows,
    edit_csv,
    land_and_build,
    set_field,
)

FIXTURES = Path(__file__).parent / "fixtures"
HS = FIXTURES / "hubspot_tiny"
TINY = FIXTURES / "tiny"
NS = "hubspot"
COMPANIES = "hubspot-crm-exports-all-companies-2025-10-31.csv"
LINEAGE = ("source_file", "source_row")

# tiny id -> HubSpot record id (see fixtures/hubspot_tiny/README.md)
IDS = {
    **{f"U{i}": f"7010{i}" for i in range(1, 5)},
    **{f"A{i}": f"8100{i}" for i in range(1, 5)},
    **{f"L{i}": f"5100{i}" for i in range(1, 6)},
    **{f"C{i}": f"5100{i}" for i in range(1, 3)},
    **{f"O{i}": f"9100{i}" for i in range(1, 5)},
    **{"T1": "61001", "T2": "61002", "T3": "62003", "T4": "61004", "T5": "63005", "T6": "61006"},
    **{"AG1": "AG1", "IS": "IS", "FS1": "FS1", "AGT": "AGT"},
}
STAGES = {
    "approach": "Appointment Scheduled",
    "discovery": "Qualified To Buy",
    "proposal": "Presentation Scheduled",
    "negotiation": "Contract Sent",
    "closed_won": "Closed Won",
    "closed_lost": "Closed Lost",
}
ID_COLUMNS = {
    "agency_id",
    "user_id",
    "team_id",
    "account_id",
    "contact_id",
    "lead_id",
    "owner_id",
    "opportunity_id",
    "converted_opportunity_id",
    "activity_id",
}
RETIRED = "高橋 退職者"  # a deal owner missing from the owners export
# copies of call 61001 (Call duration -> minutes) and of company 81001 (employees -> band)
DURATIONS = {
    "61101": ("60000", "1"),
    "61102": ("480000", "8"),
    "61103": ("29000", "0"),
    "61104": ("30000", "1"),
    "61105": ("00:08:00", "8"),
    "61106": ("5:30", "6"),
    "61107": ("", None),
}
BANDS = {
    "81101": ("1", "1-49"),
    "81102": ("49", "1-49"),
    "81103": ("50", "50-299"),
    "81104": ("999", "300-999"),
    "81105": ("1,000", "1000+"),
}


def tiny_config() -> dict:
    return yaml.safe_load((HS / "source.yml").read_text(encoding="utf-8"))


def edit_all(folder: Path, edits: dict[str, list[Edit]]) -> None:
    for name, changes in edits.items():
        for change in changes:
            edit_csv(folder / name, change)


def clear_date_entered(record_id: str) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        for row in rows:
            if row[0] == record_id:
                for index, label in enumerate(header):
                    if label.startswith("Date entered"):
                        row[index] = ""

    return edit


# --------------------------------------------------------------------------- the sources


def configs_source(folder: Path) -> dict:
    edit_all(
        folder,
        {"deals.csv": [clear_date_entered("91004"), set_field("91004", "Deal owner", RETIRED)]},
    )
    config = tiny_config()
    del config["call_outcome_map"]["Connected"]  # T4
    del config["lead_source_map"]["Other Campaigns"]  # L3
    del config["owner_roles"]["営業代行チーム"]  # U4
    config["owner_roles"][70103] = {"role": "MANAGER", "motion": "field", "team_id": "FS1"}
    config["owner_aliases"] = {RETIRED: 70999}
    config["infer_initial_stage"] = True
    return config


def unknown_source(folder: Path) -> dict:
    owners = [set_field(deal, "Deal owner", RETIRED) for deal in ("91003", "91004")]
    edit_all(folder, {"deals.csv": [*owners, clear_date_entered("91004")]})
    return tiny_config()


def owners_source(folder: Path) -> dict:
    edit_all(
        folder,
        {
            "deals.csv": [
                set_field("91003", "Deal owner", "一郎 鈴木"),
                set_field("91004", "Deal owner", "Ichiro <ichiro@example.co.jp>"),
            ]
        },
    )
    return tiny_config()


def utc_source(folder: Path) -> dict:
    edit_all(
        folder,
        {
            "deals.csv": [
                set_field("91001", "Close Date", "2025-05-13 20:00"),
                set_field("91002", "Create Date", "2025-04-10T01:00:00Z"),
            ]
        },
    )
    return tiny_config() | {"timezone": "UTC"}


def add_lead_source_property(header: list[str], rows: list[list[str]]) -> None:
    """A custom property リード獲得経路 (Web問い合わせ where Original Source has a value) and
    contact 51099, a Subscriber that never became a lead."""
    source = header.index("Original Source")
    header.append("リード獲得経路")
    for row in rows:
        row.append("Web問い合わせ" if row[source] else "")
    subscriber = dict.fromkeys(header, "") | {
        "Record ID": "51099",
        "Lifecycle Stage": "Subscriber",
        "Create Date": "2025-06-01 12:00",
    }
    rows.append([subscriber[h] for h in header])


def edits_source(folder: Path) -> dict:
    edit_all(
        folder,
        {
            "deals.csv": [
                add_copy("91004", "91004", Amount="6,500,000"),  # a later export of 91004
                set_field("91001", "Create Date", "yesterday"),
            ],
            "contacts.csv": [add_lead_source_property],
        },
    )
    return tiny_config() | {
        "lead_source_property": "リード獲得経路",
        "lead_source_map": {"Web問い合わせ": "web_inquiry"},
    }


def rename_deal_stage(label: str) -> Edit:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        header[header.index("Deal Stage")] = label

    return edit


def nostage_source(folder: Path) -> dict:
    edit_all(folder, {"deals.csv": [rename_deal_stage("Stage")]})
    return tiny_config()


def xlsx_source(folder: Path) -> dict:
    """calls.csv as calls.xlsx, with typed cells (datetimes, integers); the Deal Stage column
    under its internal property name `Dealstage`."""
    edit_all(folder, {"deals.csv": [rename_deal_stage("Dealstage")]})
    with (folder / "calls.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    book = Workbook()
    sheet = book.active
    sheet.append(rows[0])
    for row in rows[1:]:
        typed: list[object] = [int(row[0]), datetime.fromisoformat(row[1]), *row[2:7]]
        typed += [int(row[7]), row[8], int(row[9]), *row[10:]]
        sheet.append(typed)
    book.save(folder / "calls.xlsx")
    (folder / "calls.csv").unlink()
    return tiny_config()


def sizes_source(folder: Path) -> dict:
    edit_all(
        folder,
        {
            "calls.csv": [
                add_copy("61001", call, **{"Call duration": text})
                for call, (text, _minutes) in DURATIONS.items()
            ],
            COMPANIES: [
                add_copy("81001", company, **{"Number of Employees": text})
                for company, (text, _band) in BANDS.items()
            ],
        },
    )
    return tiny_config()


def badroles_source(folder: Path) -> dict:
    config = tiny_config()
    config["owner_roles"]["インサイドセールス課"] = {"role": "Appointer", "motion": "inside"}  # U1
    config["owner_roles"]["フィールドセールス1課"]["motion"] = "remote"  # U2, U3
    return config


def add_empty_row(header: list[str], rows: list[list[str]]) -> None:
    """A row whose every value is empty (a blank line of a spreadsheet export)."""
    rows.append([""] * len(header))


def quirks_source(folder: Path) -> dict:
    edit_all(
        folder,
        {
            "owners.csv": [
                set_field("70103", "Archived", "Y"),
                set_field("70104", "Archived", "yes"),
            ],
            "calls.csv": [set_field("61001", "Call outcome", "Ｎｏ ａｎｓｗｅｒ"), add_empty_row],
        },
    )
    return tiny_config()


SOURCES: dict[str, Callable[[Path], dict]] = {
    "quirks": quirks_source,
    "badroles": badroles_source,
    "configs": configs_source,
    "unknown": unknown_source,
    "owners": owners_source,
    "utc": utc_source,
    "edits": edits_source,
    "nostage": nostage_source,
    "xlsx": xlsx_source,
    "sizes": sizes_source,
}


class Built:
    def __init__(self, database: Path) -> None:
        self.database = database

    def rows(self, entity: str, ns: str = NS) -> list[dict[str, Any]]:
        return crm_rows(self.database, "hubspot", entity, ns)

    def by_id(self, entity: str, key: str, ns: str = NS) -> dict[str, dict[str, Any]]:
        rows = self.rows(entity, ns)
        found = {row[key]: row for row in rows}
        assert len(found) == len(rows), f"{entity}: {key} not unique"
        return found

    def rejects(self, ns: str = NS) -> list[tuple[str, int, str]]:
        return crm_rejects(self.database, "hubspot", ns)

    def rejects_of(self, file_name: str, ns: str = NS) -> list[tuple[int, str]]:
        return [(row, reason) for file, row, reason in self.rejects(ns) if file == file_name]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """The export and its mutated copies landed, the HubSpot models built once by dbt."""
    base = tmp_path_factory.mktemp("hubspot")
    sources = {NS: (HS, tiny_config())}
    for ns, write in SOURCES.items():
        folder = Path(shutil.copytree(HS, base / ns))
        sources[ns] = (folder, write(folder))
    return Built(land_and_build(base, sources, crm="hubspot"))


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def hs(record_id: str, ns: str = NS) -> str:
    return f"{ns}:{record_id}"


# --------------------------------------------------------------------------- values by hand


def test_opportunity_o1(built: Built) -> None:
    o1 = built.by_id("opportunities", "opportunity_id")["hubspot:91001"]
    assert {k: v for k, v in o1.items() if k != "source_file"} == {
        "opportunity_id": "hubspot:91001",
        "account_id": "hubspot:81001",
        "owner_id": "hubspot:70102",
        "lead_id": "hubspot:51001",
        "created_at": "2025-04-03 10:00:00",
        "close_date": "2025-05-13",
        "opportunity_stage": "Closed Won",
        "amount": "1200000",
        "currency": "JPY",
        "opportunity_type": "new",
        "is_closed": "true",
        "is_won": "true",
        "lost_reason": None,
        "product": None,  # HubSpot deals carry no product line
        "sdr_id": None,  # nor an SDR
        "source_row": 1,
    }
    assert Path(o1["source_file"]).name == "deals.csv"


def test_other_opportunities(built: Built) -> None:
    opps = built.by_id("opportunities", "opportunity_id")
    o2, o4 = opps["hubspot:91002"], opps["hubspot:91004"]
    assert (o2["opportunity_stage"], o2["is_closed"], o2["is_won"]) == (
        "Closed Lost",
        "true",
        "false",
    )
    assert (o2["amount"], o2["lost_reason"], o2["lead_id"]) == ("2400000", "price", "hubspot:51002")
    assert (o4["opportunity_stage"], o4["is_closed"], o4["is_won"]) == (
        "Presentation Scheduled",
        "false",
        "false",
    )
    assert (o4["amount"], o4["close_date"], o4["lead_id"]) == ("6000000", "2025-08-31", None)
    assert opps["hubspot:91003"]["lead_id"] == "hubspot:51004"


def test_stage_history_in_order(built: Built) -> None:
    history = built.rows("opportunity_stage_history")
    o1 = sorted(
        (r["changed_at"], r["opportunity_stage"])
        for r in history
        if r["opportunity_id"] == "hubspot:91001"
    )
    assert [(stage, at) for at, stage in o1] == [
        ("Appointment Scheduled", "2025-04-03 10:00:00"),
        ("Qualified To Buy", "2025-04-10 10:00:00"),
        ("Presentation Scheduled", "2025-04-20 10:00:00"),
        ("Contract Sent", "2025-05-01 10:00:00"),
        ("Closed Won", "2025-05-13 10:00:00"),
    ]
    o2 = sorted(
        (r["changed_at"], r["opportunity_stage"])
        for r in history
        if r["opportunity_id"] == "hubspot:91002"
    )
    assert [stage for _at, stage in o2] == [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Closed Lost",
    ]
    assert len(history) == 5 + 3 + 4 + 3
    assert {r["changed_by_id"] for r in history} == {None}


def test_leads(built: Built) -> None:
    leads = built.by_id("leads", "lead_id")
    l1 = leads["hubspot:51001"]
    assert (l1["created_at"], l1["lead_source"], l1["lead_status"]) == (
        "2025-04-01 09:00:00",  # "Became a Lead Date", not the contact's Create Date
        "web_inquiry",
        "converted",
    )
    assert (l1["converted_at"], l1["converted_opportunity_id"]) == (
        "2025-04-03 10:00:00",
        "hubspot:91001",
    )
    assert (l1["owner_id"], l1["account_id"], l1["contact_id"], l1["agency_id"]) == (
        "hubspot:70101",
        "hubspot:81001",
        "hubspot:51001",
        None,
    )
    l3, l4, l5 = leads["hubspot:51003"], leads["hubspot:51004"], leads["hubspot:51005"]
    assert (l3["lead_source"], l3["lead_status"], l3["converted_opportunity_id"]) == (
        "seminar",
        "disqualified",
        None,
    )
    assert (l4["lead_source"], l4["agency_id"], l4["owner_id"]) == (
        "agency_outbound",
        "hubspot:AG1",
        "hubspot:70104",
    )
    assert (l4["converted_at"], l4["converted_opportunity_id"]) == (
        "2025-05-01 10:00:00",
        "hubspot:91003",
    )
    assert (l5["lead_status"], l5["converted_at"]) == ("working", None)


def test_contacts(built: Built) -> None:
    contacts = built.by_id("contacts", "contact_id")
    assert len(contacts) == 5  # every HubSpot lead is a contact
    c1 = contacts["hubspot:51001"]
    assert (c1["full_name"], c1["title"], c1["phone"], c1["created_at"]) == (
        "高橋 健",
        "部長",
        "03-1111-2222",
        "2025-03-01 10:00:00",
    )


def test_calls_mapped(built: Built) -> None:
    activities = built.by_id("activities", "activity_id")
    calls = {k: v for k, v in activities.items() if v["activity_type"] == "call"}
    assert {k: (v["outcome"], v["duration_minutes"]) for k, v in calls.items()} == {
        "hubspot:61001": ("no_answer", "1"),  # "No answer", 60000 ms
        "hubspot:61002": ("appointment_set", "8"),  # custom outcome アポ獲得, 480000 ms
        "hubspot:61004": ("connected", "5"),
        "hubspot:61006": ("appointment_set", "6"),
    }
    t2 = activities["hubspot:61002"]
    assert (t2["activity_at"], t2["owner_id"], t2["lead_id"], t2["account_id"]) == (
        "2025-04-02 10:00:00",
        "hubspot:70101",
        "hubspot:51001",
        "hubspot:81001",
    )


def test_email_meeting_and_canceled_meeting(built: Built) -> None:
    activities = built.by_id("activities", "activity_id")
    email, meeting = activities["hubspot:62003"], activities["hubspot:63005"]
    assert (email["outcome"], email["lead_id"], email["activity_at"]) == (
        "opened",
        "hubspot:51002",
        "2025-04-02 11:00:00",
    )
    assert (meeting["outcome"], meeting["duration_minutes"], meeting["opportunity_id"]) == (
        "held",
        "60",
        "hubspot:91001",
    )
    assert "hubspot:63099" not in activities
    assert built.rejects() == [("meetings.csv", 2, "meeting canceled")]


def test_users_accounts_agencies(built: Built) -> None:
    users = built.by_id("users", "user_id")
    u4 = users["hubspot:70104"]
    assert (u4["user_name"], u4["team_id"], u4["role"], u4["motion"], u4["agency_id"]) == (
        "代行 次郎",
        "hubspot:AGT",
        "SDR",
        "inside",
        "hubspot:AG1",
    )
    assert users["hubspot:70102"]["role"] == "AE"
    a4 = built.by_id("accounts", "account_id")["hubspot:81004"]
    assert (a4["employee_band"], a4["industry"], a4["corporate_number"]) == (
        "1000+",  # "2,500"
        "it",
        "4234567890123",
    )
    agencies = built.rows("agencies")
    assert [(a["agency_id"], a["agency_name"]) for a in agencies] == [
        ("hubspot:AG1", "株式会社セールスブースト")
    ]


def test_every_row_accounted(built: Built) -> None:
    """Every landed row of every file is kept or rejected, once (rows counted in Python)."""
    counted = crm_outcomes(built.database, "hubspot", NS)
    files = sorted(HS.glob("*.csv"))
    assert {name for name, _kept in counted} == {p.name for p in files}
    for path in files:
        assert counted.get((path.name, True), 0) + counted.get((path.name, False), 0) == (
            data_rows(path)
        ), path.name
    assert {
        name: (counted.get((name, True), 0), counted.get((name, False), 0)) for name, _ in counted
    } == {
        "owners.csv": (4, 0),
        COMPANIES: (4, 0),
        "contacts.csv": (5, 0),
        "deals.csv": (4, 0),
        "calls.csv": (4, 0),
        "emails.csv": (1, 0),
        "meetings.csv": (1, 1),
    }
    rejected = Counter(file for file, _row, _reason in built.rejects())
    assert rejected == {name: n for (name, kept), n in counted.items() if not kept}
    for entity in ("users", "accounts", "contacts", "opportunities", "activities"):
        assert all(r["source_file"] and r["source_row"] for r in built.rows(entity)), entity


def as_tiny_value(column: str, value: object) -> str:
    """A tiny fixture value as the HubSpot rules give it."""
    if value in ("", None) or (isinstance(value, float) and pd.isna(value)):
        return ""
    if column in ID_COLUMNS:
        return f"{NS}:{IDS[value]}"
    if column == "opportunity_stage":
        return STAGES[value]
    return str(value)


@pytest.mark.parametrize(
    ("entity", "key", "ignored"),
    [
        ("agencies", "agency_id", set()),
        ("users", "user_id", {"hired_date"}),
        ("accounts", "account_id", set()),
        ("contacts", "contact_id", set()),
        ("leads", "lead_id", {"contact_id"}),
        ("opportunities", "opportunity_id", set()),
        ("opportunity_stage_history", None, {"changed_by_id"}),
        ("activities", "activity_id", set()),
    ],
)
def test_same_facts_as_tiny(built: Built, entity: str, key: str | None, ignored: set) -> None:
    tiny = pd.read_csv(TINY / f"{entity}.csv", dtype=str, keep_default_na=False)
    columns = [c for c in tiny.columns if c not in ignored]
    expected = [{c: as_tiny_value(c, r[c]) for c in columns} for r in tiny.to_dict("records")]
    actual = [{c: as_tiny_value("", r.get(c)) for c in columns} for r in built.rows(entity)]
    if key is not None:  # HubSpot has more contacts than tiny: compare the ones tiny has
        wanted = {e[key] for e in expected}
        actual = [a for a in actual if a[key] in wanted]
    assert sorted(map(str, actual)) == sorted(map(str, expected))


# --------------------------------------------------------------------------- values not mapped


def test_unmapped_call_outcome(built: Built) -> None:
    """`configs` lacks Connected in call_outcome_map. The converter stopped the run; in dbt the
    call (T4, calls.csv row 3) is rejected with the value and the source.yml key to add it to,
    and the other calls are kept."""
    assert built.rejects_of("calls.csv", "configs") == [
        (3, "Call outcome 'Connected' is not in source.yml call_outcome_map (value: outcome)")
    ]
    calls = built.by_id("activities", "activity_id", "configs")
    assert "configs:61004" not in calls
    assert calls["configs:61001"]["outcome"] == "no_answer"


def test_unmapped_lead_source_is_kept_as_it_is(built: Built) -> None:
    """A source missing from lead_source_map does not reject the lead: the value is kept (the
    marts flag it unmapped_lead_source)."""
    leads = built.by_id("leads", "lead_id", "configs")
    assert leads["configs:51003"]["lead_source"] == "Other Campaigns"
    assert leads["configs:51001"]["lead_source"] == "web_inquiry"
    assert built.rejects_of("contacts.csv", "configs") == []


def test_unmapped_owner_team(built: Built) -> None:
    """`configs` has no owner_roles entry for 営業代行チーム. The converter stopped the run; in
    dbt owner 70104 (owners.csv row 4) is rejected, naming the owner, the team and the key."""
    assert built.rejects_of("owners.csv", "configs") == [
        (
            4,
            "owner 70104 (team '営業代行チーム') has no entry in source.yml owner_roles "
            "(by owner id or team name)",
        )
    ]
    assert "configs:70104" not in built.by_id("users", "user_id", "configs")


def test_owner_roles_values_that_are_not_canonical(built: Built) -> None:
    """`badroles` maps インサイドセールス課 to role Appointer and フィールドセールス1課 to motion
    remote. The converter refused the config; in dbt the owners concerned (U1, U2, U3) are
    rejected with the value, the key and what it may be, and the other owner is kept."""
    role = (
        "role 'Appointer' of owner 70101 in source.yml owner_roles is not one of "
        "SDR, AE, CS, MANAGER"
    )
    motion = "motion 'remote' of owner {} in source.yml owner_roles is not one of inside, field"
    assert built.rejects_of("owners.csv", "badroles") == [
        (1, role),
        (2, motion.format("70102")),
        (3, motion.format("70103")),
    ]
    assert list(built.by_id("users", "user_id", "badroles")) == ["badroles:70104"]


def test_owner_role_keyed_by_owner_id(built: Built) -> None:
    users = built.by_id("users", "user_id", "configs")
    assert (users["configs:70103"]["role"], users["configs:70102"]["role"]) == ("MANAGER", "AE")


def test_unknown_deal_owner_is_kept_without_the_name(built: Built) -> None:
    """A deactivated owner missing from the owners export: the deal is kept (the marts flag it
    unknown_owner) under an id that does not carry the name, one id for one unknown owner; an
    alias (`configs`) gives the real id."""
    opps = built.by_id("opportunities", "opportunity_id", "unknown")
    owner = opps["unknown:91004"]["owner_id"]
    assert owner.startswith("unknown:unlisted-") and "高橋" not in owner
    assert opps["unknown:91003"]["owner_id"] == owner
    aliased = built.by_id("opportunities", "opportunity_id", "configs")
    assert aliased["configs:91004"]["owner_id"] == "configs:70999"


def test_owner_by_email_and_given_name_first(built: Built) -> None:
    opps = built.by_id("opportunities", "opportunity_id", "owners")
    assert opps["owners:91003"]["owner_id"] == opps["owners:91004"]["owner_id"] == "owners:70103"


def test_missing_deal_stage_column(built: Built) -> None:
    """`nostage` exports Deal Stage under a label nothing knows (Stage). The converter refused
    the export; landing keeps the column as `stage` and dbt reads no stage: every deal is
    rejected with the value it lacks (known difference), none reaches the opportunities."""
    assert built.rejects_of("deals.csv", "nostage") == [
        (row, "'Deal Stage' is empty") for row in (1, 2, 3, 4)
    ]
    assert built.rows("opportunities", "nostage") == []
    assert built.rows("opportunity_stage_history", "nostage") == []


def test_deal_stage_under_its_internal_name(built: Built) -> None:
    """`xlsx` heads the Deal Stage column `Dealstage`, HubSpot's internal name of the property:
    it is read as the deal stage (the converter refused it)."""
    stages = {
        row["opportunity_id"].removeprefix("xlsx:"): row["opportunity_stage"]
        for row in built.rows("opportunities", "xlsx")
    }
    assert stages == {
        "91001": "Closed Won",
        "91002": "Closed Lost",
        "91003": "Closed Won",
        "91004": "Presentation Scheduled",
    }


def test_unrecognised_file(tmp_path: Path) -> None:
    """A file that is no known export stops the landing (before any dbt model), unless
    `ignore_files` names it."""
    folder = Path(shutil.copytree(HS, tmp_path / "hubspot"))
    (folder / "tasks.csv").write_text("Record ID,Task Title\n1,x\n", encoding="utf-8")
    with (
        duckdb.connect(str(tmp_path / "refused.duckdb")) as con,
        pytest.raises(MappingError, match=r"tasks\.csv.*ignore_files"),
    ):
        land_crm(con, HUBSPOT, [crm_source(folder, tiny_config(), NS)], "load-1", CONFIG_KEYS)
    config = tiny_config() | {"ignore_files": ["tasks*"]}
    with duckdb.connect(str(tmp_path / "ignored.duckdb")) as con:
        land_crm(con, HUBSPOT, [crm_source(folder, config, NS)], "load-1", CONFIG_KEYS)
        landed = con.execute(f"select source_file from {HUBSPOT.schema}.{FILES_TABLE}").fetchall()
    assert sorted(Path(file).name for (file,) in landed) == sorted(p.name for p in HS.glob("*.csv"))


# --------------------------------------------------------------------------- formats and options


def without_lineage(rows: list[dict[str, Any]], ns: str) -> list[dict[str, Any]]:
    """Rows without source_file, ids of source `ns` un-namespaced (to compare two sources)."""
    return sorted(
        (
            {
                c: v.removeprefix(f"{ns}:") if isinstance(v, str) else v
                for c, v in row.items()
                if c != "source_file"
            }
            for row in rows
        ),
        key=str,
    )


def test_calls_from_xlsx(built: Built) -> None:
    """The same calls as an .xlsx with typed cells (datetimes, integers): the same activities."""
    from_xlsx = built.rows("activities", "xlsx")
    assert without_lineage(from_xlsx, "xlsx") == without_lineage(built.rows("activities"), NS)
    files = {Path(row["source_file"]).name for row in from_xlsx if row["activity_type"] == "call"}
    assert files == {"calls.xlsx"}


def test_portal_time_zone(built: Built) -> None:
    opps = built.by_id("opportunities", "opportunity_id", "utc")
    assert opps["utc:91001"]["created_at"] == "2025-04-03 19:00:00"  # 10:00 UTC
    assert opps["utc:91001"]["close_date"] == "2025-05-14"  # 20:00 UTC = 05:00 JST next day
    assert opps["utc:91002"]["created_at"] == "2025-04-10 10:00:00"  # explicit offset wins


def stage_history(built: Built, ns: str, deal: str) -> list[tuple[str, str]]:
    rows = built.rows("opportunity_stage_history", ns)
    return sorted(
        (row["opportunity_stage"], row["changed_at"])
        for row in rows
        if row["opportunity_id"] == f"{ns}:{deal}"
    )


def test_infer_initial_stage(built: Built) -> None:
    """Deal 91004 without any Date entered value: no history (`unknown`), or under
    infer_initial_stage (`configs`) its current stage at its Create Date."""
    assert stage_history(built, "unknown", "91004") == []
    assert "unknown:91004" in built.by_id("opportunities", "opportunity_id", "unknown")
    assert stage_history(built, "configs", "91004") == [
        ("Presentation Scheduled", "2025-05-15 10:00:00")
    ]


def test_bad_value_and_duplicate_rows_are_rejected(built: Built) -> None:
    """`edits`: deals.csv row 1 has an unreadable Create Date, row 5 is a later export of deal
    91004 (row 4)."""
    counted = crm_outcomes(built.database, "hubspot", "edits")
    assert (counted.get(("deals.csv", True), 0), counted.get(("deals.csv", False), 0)) == (3, 2)
    assert built.rejects_of("deals.csv", "edits") == [
        (1, "cannot read 'Create Date' as a timestamp"),
        (4, "duplicate Record ID 91004: superseded by deals.csv row 5"),
    ]
    opps = built.by_id("opportunities", "opportunity_id", "edits")
    assert "edits:91001" not in opps
    assert (opps["edits:91004"]["amount"], opps["edits:91004"]["source_row"]) == ("6500000", 5)


def test_non_lead_contact_and_lead_source_property(built: Built) -> None:
    contacts = built.by_id("contacts", "contact_id", "edits")
    assert "edits:51099" in contacts
    leads = built.by_id("leads", "lead_id", "edits")
    assert "edits:51099" not in leads
    assert {lead["lead_source"] for lead in leads.values()} == {"web_inquiry"}


@pytest.mark.parametrize(("call", "text", "minutes"), [(k, *v) for k, v in DURATIONS.items()])
def test_call_duration_formats(built: Built, call: str, text: str, minutes: str | None) -> None:
    """Call duration in ms (rounded half up to minutes), hh:mm:ss or mm:ss (`sizes`)."""
    calls = built.by_id("activities", "activity_id", "sizes")
    assert calls[f"sizes:{call}"]["duration_minutes"] == minutes, text


@pytest.mark.parametrize(("company", "text", "band"), [(k, *v) for k, v in BANDS.items()])
def test_employee_bands(built: Built, company: str, text: str, band: str) -> None:
    accounts = built.by_id("accounts", "account_id", "sizes")
    assert accounts[f"sizes:{company}"]["employee_band"] == band, text


# --------------------------------------------------------------------------- known differences


def test_archived_owners_are_inactive(built: Built) -> None:
    """`quirks`: Archived `yes` (70104) and `Y` (70103) make the owner inactive, `false` keeps
    it active. Known difference: dbt reads true/t/1/yes/y as archived, the converter only
    true/yes/1 (it took `Y` for active)."""
    users = built.by_id("users", "user_id", "quirks")
    active = {user: row["is_active"] for user, row in users.items()}
    assert active == {
        "quirks:70101": "true",
        "quirks:70102": "true",
        "quirks:70103": "false",
        "quirks:70104": "false",
    }


def test_full_width_letters_are_not_folded_in_map_matching(built: Built) -> None:
    """`quirks`: call 61001's outcome is `Ｎｏ ａｎｓｗｅｒ` (full-width letters). Known
    difference: the dbt lookup key case-folds and drops spaces, `_` and `-` but does not fold
    full-width letters (the converter did, NFKC, and mapped it to no_answer): the call is
    rejected with the value and the key to add it under."""
    assert (
        1,
        "Call outcome 'Ｎｏ ａｎｓｗｅｒ' is not in source.yml call_outcome_map (value: outcome)",
    ) in built.rejects_of("calls.csv", "quirks")
    assert "quirks:61001" not in built.by_id("activities", "activity_id", "quirks")


def test_an_all_empty_row_is_rejected(built: Built) -> None:
    """`quirks`: calls.csv row 5 has no value at all. Known difference: the converter skipped
    such a row without a word; dbt rejects it (nothing lost silently), for want of a Record ID."""
    assert built.rejects_of("calls.csv", "quirks") == [
        (
            1,
            "Call outcome 'Ｎｏ ａｎｓｗｅｒ' is not in source.yml call_outcome_map (value: outcome)",
        ),
        (5, "'Record ID' is empty"),
    ]
    counted = crm_outcomes(built.database, "hubspot", "quirks")
    assert (counted[("calls.csv", True)], counted[("calls.csv", False)]) == (3, 2)
