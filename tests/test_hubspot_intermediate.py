"""The HubSpot business rules in dbt (dbt_project/models/intermediate/crm_hubspot/
int_hubspot__*) give exactly what the Python converter (orchestration/sources/hubspot.py) gives.

Two sources are landed into one DuckDB file (orchestration/lib/crm_landing.py): the
`hubspot_tiny` export, and a variant of it that takes the other branches of the rules (a
company superseded by a later row with the same Record ID and one a sync marks deleted, a stage
label with its pipeline suffix, a Date entered column of another pipeline, a deal without any
date under infer_initial_stage, a deal owner written as an e-mail, a contact owner missing from
the owners export, a deal linked only from its contact's side, a contact that is not a lead,
an hh:mm:ss call duration, unreadable numbers, timestamps and durations, a call without outcome, an incoming, a bounced and an unopened
e-mail, meetings without outcome, no-show and rescheduled, given-first names). One dbt build of
the staging and intermediate models serves every assertion: each int_hubspot__<entity> equals
the converter's frame of that source (every column, values compared as canonical text),
int_hubspot__rejected_rows lists the converter's rejects, and every landed row is kept or
rejected exactly once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.lib.canonical_schema import ENTITIES
from orchestration.lib.crm_landing import FIVETRAN_DELETED, land_crm
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.sources.base import Conversion
from orchestration.sources.hubspot import (
    CONFIG_KEYS,
    FIVETRAN_DELETED_REASON,
    HUBSPOT,
    convert,
    crm_source,
)
from tests.crm_coverage import conversion_rows, intermediate_rows
from tests.test_crm_intermediate import add_copy, canonical_text, edit_csv, set_field

FIXTURES = Path(__file__).parent / "fixtures"
HS = FIXTURES / "hubspot_tiny"
SOURCES = ("hubspot", "variant")
CONVERTED_ENTITIES = (
    "agencies",
    "users",
    "accounts",
    "contacts",
    "leads",
    "opportunities",
    "opportunity_stage_history",
    "activities",
)
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
def built(tmp_path_factory) -> tuple[Path, dict[str, Conversion]]:
    """Both sources landed, the HubSpot staging and intermediate models built by dbt, and the
    converter's output for each source."""
    base = tmp_path_factory.mktemp("hubspot_intermediate")
    configs = {"hubspot": tiny_config(), "variant": write_variant(base / "variant")}
    folders = {"hubspot": HS, "variant": base / "variant"}
    database = base / "working.duckdb"
    with duckdb.connect(str(database)) as con:
        sources = [crm_source(folders[s], configs[s], s) for s in SOURCES]
        land_crm(con, HUBSPOT, sources, "load-1", CONFIG_KEYS)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "build", "--profiles-dir", ".", "--target-path", str(base / "target"),
         "--select", "path:models/staging/hubspot", "path:models/intermediate/crm_hubspot"],
        cwd=DBT_PROJECT_DIR, env={**os.environ, "SALES_KPI_WORKING_DB": str(database)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(database)) as con:
        conversions = {s: convert(folders[s], configs[s], s, con) for s in SOURCES}
    return database, conversions


def dbt_rows(database: Path, entity: str, source_system: str) -> list[tuple]:
    columns = ENTITIES[entity].column_names
    return intermediate_rows(
        database, f"int_hubspot__{entity}", columns, source_system, canonical_text
    )


def converter_rows(conversion: Conversion, entity: str) -> list[tuple]:
    return conversion_rows(conversion.frames.get(entity), ENTITIES[entity].column_names)


# --------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize("source_system", SOURCES)
@pytest.mark.parametrize("entity", CONVERTED_ENTITIES)
def test_each_entity_equals_the_converter(built, entity: str, source_system: str) -> None:
    database, conversions = built
    expected = converter_rows(conversions[source_system], entity)
    assert expected, f"the converter gives no {entity}: the comparison would prove nothing"
    assert dbt_rows(database, entity, source_system) == expected


def test_the_variant_takes_the_other_branches(built) -> None:
    """The variant is worth comparing: its frames hold what the branches give, worked out by
    hand from the edits of write_variant (so an equality above cannot pass on a branch no row
    takes)."""
    _database, conversions = built
    frames = conversions["variant"].frames
    opportunities = frames["opportunities"].set_index("opportunity_id")
    lost = opportunities.loc["variant:91002"]
    assert (lost["opportunity_stage"], lost["is_closed"], lost["is_won"]) == (
        "Closed Lost",
        "true",
        "false",
    )
    assert lost["lost_reason"] == "price"
    assert opportunities.loc["variant:91003", "opportunity_type"] == "expansion"
    assert opportunities.loc["variant:91004", "owner_id"] == "variant:70103"
    assert opportunities.loc["variant:91004", "lead_id"] == "variant:51005"
    history = frames["opportunity_stage_history"]
    undated = history[history["opportunity_id"] == "variant:91005"]
    assert undated[["opportunity_stage", "changed_at"]].values.tolist() == [
        ["Presentation Scheduled", "2025-05-15 10:00:00"]
    ]
    delta = history[history["opportunity_id"] == "variant:91004"]
    assert "Closed Won" not in delta["opportunity_stage"].tolist()  # the Renewals column
    accounts = frames["accounts"].set_index("account_id")
    assert accounts.loc["variant:81004", "account_name"] == "デルタ株式会社（新）"
    assert "variant:81005" not in accounts.index
    leads = frames["leads"].set_index("lead_id")
    assert "variant:51006" not in leads.index
    assert leads.loc["variant:51003", "owner_id"].startswith("variant:unlisted-")
    users = frames["users"].set_index("user_id")
    assert users.loc["variant:70101", "user_name"] == "花子 山田"
    activities = frames["activities"].set_index("activity_id")
    assert activities.loc["variant:61004", "duration_minutes"] == "2"
    assert activities.loc["variant:61006", "outcome"] is None
    assert activities.loc["variant:62006", "outcome"] == "sent"
    assert activities.loc["variant:63100", "outcome"] == "held"
    assert activities.loc["variant:63101", "outcome"] == "no_show"


def dbt_rejects(database: Path, source_system: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted(
            con.execute(
                "select source_file, source_row, rejection_reason "
                "from intermediate.int_hubspot__rejected_rows where source_system = ?",
                [source_system],
            ).fetchall()
        )


@pytest.mark.parametrize("source_system", SOURCES)
def test_rejected_rows_are_the_converters_rejects(built, source_system: str) -> None:
    database, conversions = built
    expected = sorted(
        (r.source_file, r.row_number, r.reason) for r in conversions[source_system].rejects
    )
    assert dbt_rejects(database, source_system) == expected


def test_the_variant_rejects_what_its_edits_reject(built) -> None:
    """Worked out by hand from the edits of write_variant."""
    database, _conversions = built
    reasons = {
        (Path(file).name, row): reason for file, row, reason in dbt_rejects(database, "variant")
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
    database, _conversions = built
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


def test_the_converters_file_accounts_agree(built) -> None:
    """Per file, the converter's rows used and rejected equal the kept and rejected outcomes."""
    database, conversions = built
    with duckdb.connect(str(database), read_only=True) as con:
        counted = {
            (file, kept): count
            for file, kept, count in con.execute(
                "select source_file, is_kept, count(*) "
                "from intermediate.int_hubspot__row_outcomes group by all"
            ).fetchall()
        }
    for conversion in conversions.values():
        assert conversion.files
        for account in conversion.files:
            used = counted.get((account.source_file, True), 0)
            rejected = counted.get((account.source_file, False), 0)
            assert (used, rejected) == (account.rows_used, account.rows_rejected), account
