"""The HubSpot business rules in dbt (dbt_project/models/intermediate/crm_hubspot/
int_hubspot__*) on an export that takes the other branches of the rules, with every landed row
accounted for.

Two sources are landed into one DuckDB file (orchestration/lib/crm_landing.py): the
`hubspot_tiny` export, and a variant of it that takes the other branches of the rules (a
company superseded by a later row with the same Record ID and one a sync marks deleted, a stage
label with its pipeline suffix, a Date entered column of another pipeline, a deal without any
date under infer_initial_stage, a deal owner written as an e-mail, a contact owner missing from
the owners export, a deal linked only from its contact's side, a contact that is not a lead,
an hh:mm:ss call duration, unreadable numbers, timestamps and durations, a call without outcome, an incoming, a bounced and an unopened
e-mail, meetings without outcome, no-show and rescheduled, given-first names). One dbt build of
the staging and intermediate models serves every assertion: the variant's values and rejects
are worked out by hand from its edits, and every landed row is kept or rejected exactly once
(landed rows counted from the files in Python).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from orchestration.lib.crm_landing import FIVETRAN_DELETED
from orchestration.sources.hubspot import FIVETRAN_DELETED_REASON, HUBSPOT
from tests.crm_dbt import add_copy, crm_rejects, crm_rows, edit_csv, land_and_build, set_field

FIXTURES = Path(__file__).parent / "fixtures"
HS = FIXTURES / "hubspot_tiny"
SOURCES = ("hubspot", "variant")
# The entity each landed object's kept rows are counted under in int_hubspot__row_outcomes (a
# contact row feeds leads too, a deal row stage history too, with the same lineage).
PRIMARY = {
    "users": "users",
    "accounts": "accounts",
    "contacts": "contacts",
    "leads": "contacts",
    "opportunities": "opportunities",
    "opportunity_stage_history": "opportunities",
    "activities": "activities",
}
COMPANIES = "hubspot-crm-exports-all-companies-2025-10-31.csv"
RENEWALS = 'Date entered "Closed Won (Renewals)"'


# --------------------------------------------------------------------------- the variant


def add_deleted_column(header: list[str], rows: list[list[str]]) -> None:
    """A `_fivetran_deleted` column (as a sync has), false on every row but a new copy of 81003."""
    header.append(FIVETRAN_DELETED)
    for row in rows:
        row.append("false")
    (original,) = [row for row in rows if row[0] == "81003"]
    rows.append(["81005", *original[1:-1], "true"])


def add_renewals_column(header: list[str], rows: list[list[str]]) -> None:
    """A Date entered column of another pipeline, with a value on deal 91004 (left out)."""
    header.append(RENEWALS)
    for row in rows:
        row.append("2025-07-02 10:00" if row[0] == "91004" else "")


def add_undated_deal(header: list[str], rows: list[list[str]]) -> None:
    """Deal 91005: a copy of 91004 without any Date entered value and without contacts."""
    (original,) = [row for row in rows if row[0] == "91004"]
    copy = list(original)
    copy[0] = "91005"
    for index, label in enumerate(header):
        if label.startswith("Date entered") or label == "Associated Contact IDs":
            copy[index] = ""
    rows.append(copy)


def write_variant(folder: Path) -> dict:
    """The tiny export changed to take the other branches of the rules; returns its config."""
    shutil.copytree(HS, folder)
    edits = {
        COMPANIES: [
            add_copy("81004", "81004", **{"Company name": "デルタ株式会社（新）"}),
            add_deleted_column,
            add_copy("81001", "81006", **{"Number of Employees": "多数"}),
        ],
        "deals.csv": [
            set_field("91002", "Deal Stage", "Closed Lost (Sales Pipeline)"),
            set_field("91003", "Deal Type", "Existing Business"),
            set_field("91004", "Deal owner", "ichiro@example.co.jp"),
            add_renewals_column,
            add_undated_deal,
            add_copy("91004", "91006", Amount="百万"),
        ],
        "contacts.csv": [
            set_field("51005", "Associated Deal IDs", "91004"),
            set_field("51003", "Contact owner", "退職 三郎"),
            add_copy("51003", "51006", **{"Lifecycle Stage": "Subscriber", "Lead Status": "",
                     "Original Source": "", "Became a Lead Date": ""}),
            add_copy("51006", "51007", **{"Create Date": "昨日"}),
            add_copy("51004", "51008", **{"Became an Opportunity Date": "不明"}),
        ],
        "calls.csv": [
            set_field("61004", "Call duration", "00:01:30"),
            set_field("61006", "Call outcome", ""),
            add_copy("61001", "61007", **{"Call duration": "1:xx"}),
        ],
        "emails.csv": [
            add_copy("62003", "62004", **{"Email direction": "Incoming email"}),
            add_copy("62003", "62005", **{"Email send status": "Bounced"}),
            add_copy("62003", "62006", **{"Email open count": "0"}),
            add_copy("62003", "62007", **{"Email open count": "多数"}),
            add_copy("62004", "62008", **{"Email open count": "多数"}),
        ],
        "meetings.csv": [
            add_copy("63005", "63100", **{"Meeting outcome": ""}),
            add_copy("63005", "63101", **{"Meeting outcome": "No show"}),
            add_copy("63005", "63102", **{"Meeting outcome": "Rescheduled"}),
            add_copy("63005", "63103", **{"Meeting end time": "終了未定"}),
            add_copy("63099", "63104", **{"Meeting end time": "終了未定"}),
        ],
    }  # fmt: skip
    for name, changes in edits.items():
        for change in changes:
            edit_csv(folder / name, change)
    config = tiny_config()
    config["infer_initial_stage"] = True
    config["name_order"] = "given_first"
    return config


# --------------------------------------------------------------------------- one build


def tiny_config() -> dict:
    return yaml.safe_load((HS / "source.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Both sources landed, the HubSpot staging and intermediate models built once by dbt."""
    base = tmp_path_factory.mktemp("hubspot_intermediate")
    variant = base / "variant"
    sources = {"hubspot": (HS, tiny_config()), "variant": (variant, write_variant(variant))}
    return land_and_build(base, sources, crm="hubspot")


def by_key(database: Path, entity: str, key: str) -> dict[str, dict[str, Any]]:
    rows = crm_rows(database, "hubspot", entity, "variant")
    found = {row[key]: row for row in rows}
    assert len(found) == len(rows), f"{entity}: {key} not unique"
    return found


# --------------------------------------------------------------------------- the variant


def test_the_variant_takes_the_other_branches(built) -> None:
    """Worked out by hand from the edits of write_variant."""
    database = built
    opportunities = by_key(database, "opportunities", "opportunity_id")
    lost = opportunities["variant:91002"]
    assert (lost["opportunity_stage"], lost["is_closed"], lost["is_won"]) == (
        "Closed Lost",  # "Closed Lost (Sales Pipeline)": the pipeline suffix goes
        "true",
        "false",
    )
    assert lost["lost_reason"] == "price"
    assert opportunities["variant:91003"]["opportunity_type"] == "expansion"  # Existing Business
    assert opportunities["variant:91004"]["owner_id"] == "variant:70103"  # by e-mail
    assert opportunities["variant:91004"]["lead_id"] == "variant:51005"  # linked from 51005
    assert "variant:91006" not in opportunities  # Amount 百万
    history = crm_rows(database, "hubspot", "opportunity_stage_history", "variant")
    undated = [
        (row["opportunity_stage"], row["changed_at"])
        for row in history
        if row["opportunity_id"] == "variant:91005"
    ]
    assert undated == [("Presentation Scheduled", "2025-05-15 10:00:00")]  # infer_initial_stage
    delta = {
        row["opportunity_stage"] for row in history if row["opportunity_id"] == "variant:91004"
    }
    assert "Closed Won" not in delta  # the Renewals pipeline's column is left out
    accounts = by_key(database, "accounts", "account_id")
    assert accounts["variant:81004"]["account_name"] == "デルタ株式会社（新）"  # the later row
    assert "variant:81005" not in accounts  # deleted by the sync
    leads = by_key(database, "leads", "lead_id")
    assert "variant:51006" not in leads  # a Subscriber: not a lead
    assert "variant:51006" in by_key(database, "contacts", "contact_id")
    assert leads["variant:51003"]["owner_id"].startswith("variant:unlisted-")
    assert "退職" not in leads["variant:51003"]["owner_id"]
    users = by_key(database, "users", "user_id")
    assert users["variant:70101"]["user_name"] == "花子 山田"  # name_order given_first
    activities = by_key(database, "activities", "activity_id")
    assert activities["variant:61004"]["duration_minutes"] == "2"  # 00:01:30, half up
    assert activities["variant:61006"]["outcome"] is None  # no Call outcome
    assert activities["variant:62006"]["outcome"] == "sent"  # not opened
    assert activities["variant:63100"]["outcome"] == "held"  # no Meeting outcome
    assert activities["variant:63101"]["outcome"] == "no_show"


def test_the_export_rejects_what_the_readme_says(built) -> None:
    """hubspot_tiny/README.md: one row is rejected on purpose, the canceled meeting 63099."""
    assert crm_rejects(built, "hubspot", "hubspot") == [("meetings.csv", 2, "meeting canceled")]


def test_the_variant_rejects_what_its_edits_reject(built) -> None:
    """Worked out by hand from the edits of write_variant."""
    reasons = {
        (file, row): reason for file, row, reason in crm_rejects(built, "hubspot", "variant")
    }
    assert reasons == {
        (COMPANIES, 4): f"duplicate Record ID 81004: superseded by {COMPANIES} row 5",
        (COMPANIES, 6): FIVETRAN_DELETED_REASON,
        (COMPANIES, 7): "cannot read 'Number of Employees' as a number",
        ("deals.csv", 6): "cannot read 'Amount' as a number",
        ("contacts.csv", 7): "cannot read 'Create Date' as a timestamp",
        ("calls.csv", 5): "cannot read 'Call duration' as a duration",
        ("emails.csv", 2): "incoming e-mail (not a rep activity)",
        ("emails.csv", 3): "e-mail bounced",
        ("meetings.csv", 2): "meeting canceled",
        ("meetings.csv", 5): "meeting rescheduled",
        ("meetings.csv", 6): "cannot read the meeting start/end time",
        ("meetings.csv", 7): "meeting canceled",  # its outcome is read first
        ("contacts.csv", 8): "cannot read 'Became an Opportunity Date' as a timestamp",
        ("emails.csv", 5): "cannot read 'Email open count' as a number",
        ("emails.csv", 6): "incoming e-mail (not a rep activity)",  # read before the count
    }


@pytest.mark.parametrize("source_system", SOURCES)
def test_every_landed_row_is_kept_or_rejected_once(built, source_system: str) -> None:
    database = built
    landed = " union all ".join(
        f'select _source_file, _row_number from raw_hubspot."{obj.table}" where _source_system = $1'
        for obj in HUBSPOT.objects
    )
    with duckdb.connect(str(database), read_only=True) as con:
        outcomes = con.execute(
            "select source_file, source_row from intermediate.int_hubspot__row_outcomes "
            "where source_system = $1 order by all",
            [source_system],
        ).fetchall()
        rows = con.execute(f"select * from ({landed}) as landed order by all", [source_system])
        assert outcomes == rows.fetchall()
        for entity, counted_under in PRIMARY.items():
            kept = con.execute(
                "select distinct source_file, source_row "
                "from intermediate.int_hubspot__row_outcomes "
                "where source_system = $1 and canonical_entity = $2 and is_kept order by all",
                [source_system, counted_under],
            ).fetchall()
            emitted = con.execute(
                f"select distinct source_file, source_row from intermediate.int_hubspot__{entity} "
                "where source_system = $1 order by all",
                [source_system],
            ).fetchall()
            if entity == counted_under:
                assert kept == emitted, entity
            else:  # leads from some kept contact rows, history from some kept deal rows
                assert emitted and set(emitted) <= set(kept), entity


def test_every_file_row_has_one_outcome(built) -> None:
    """Per export file, kept + rejected outcomes = the file's data rows, counted in Python; the
    rejected outcomes are the rejected rows."""
    database = built
    with duckdb.connect(str(database), read_only=True) as con:
        counted = dict(
            con.execute(
                "select source_file, count(*) from intermediate.int_hubspot__row_outcomes "
                "group by all"
            ).fetchall()
        )
        rejected = con.execute(
            "select count(*) from intermediate.int_hubspot__row_outcomes where not is_kept"
        ).fetchone()
    files = [*HS.glob("*.csv"), *(database.parent / "variant").glob("*.csv")]
    assert len(files) == 14  # 7 files each
    expected = {}
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            expected[str(path)] = sum(1 for _ in csv.reader(handle)) - 1
    assert counted == expected
    all_rejects = crm_rejects(database, "hubspot", "hubspot")
    all_rejects += crm_rejects(database, "hubspot", "variant")
    assert rejected == (len(all_rejects),) == (1 + 15,)
