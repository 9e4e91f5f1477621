"""The Salesforce business rules in dbt (dbt_project/models/intermediate/crm/int_salesforce__*) on
an export that takes the other branches of the rules, with every landed row accounted for.

Two sources are landed into one DuckDB file (orchestration/lib/crm_landing.py): the
`salesforce_tiny` export (its values are tested by hand in tests/test_salesforce.py), and a
variant of it that takes the other branches of the rules (stage history from
OpportunityFieldHistory with a repeated stage and a deleted row, a child and an all-day event, a
plain task, an unopened e-mail, a call without disposition, a user brought in by user_overrides,
a mapped opportunity Type, an opportunity without currency, an unreadable amount, an unmapped
industry, a deleted account). One dbt build of the staging and intermediate models serves every
assertion: the variant's values and rejects are worked out by hand from its edits, and every
landed row is kept or rejected exactly once (landed rows counted from the files in Python).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from orchestration.lib.canonical_schema import ENTITIES
from orchestration.sources.base import Conversion
from orchestration.sources.salesforce import SALESFORCE
from tests.crm_dbt import (
    DBT_DELETED_REASON,
    add_copy,
    canonical_text,
    edit_csv,
    land_and_build,
    set_field,
)

FIXTURES = Path(__file__).parent / "fixtures"
SF = FIXTURES / "salesforce_tiny"
NS = "salesforce"
SOURCES = (NS, "variant")
CONVERTED_ENTITIES = (
    "agencies",
    "users",
    "accounts",
    "contacts",
    "leads",
    "opportunities",
    "opportunity_stage_history",
    "activities",
    "exchange_rates",
)

O1, O2 = "0065g00000Rt1nNAAR", "0065g00000Rt2pPAAR"
O3, O4 = "0065g00000Rt3qQAAR", "0065g00000Rt4rRAAR"
U2, U3 = "0055g00000Ab2YRAAZ", "0055g00000Ab3ZSAAZ"
FIELD_HISTORY = [
    ["Id", "IsDeleted", "OpportunityId", "CreatedById", "CreatedDate", "Field", "OldValue",
     "NewValue"],
    # O1: created (stage = OldValue of its first change), an amount edit, two changes.
    ["0175g00000Fh01ZAAR", "false", O1, U2, "2025-04-03T01:00:00.000Z", "created", "", ""],
    ["0175g00000Fh02ZAAR", "false", O1, U2, "2025-04-05T02:30:00.000Z", "Amount", "1000000",
     "1200000"],
    ["0175g00000Fh03ZAAR", "false", O1, U2, "2025-04-10T01:00:00.000Z", "StageName",
     "Prospecting", "Needs Analysis"],
    ["0175g00000Fh04ZAAR", "false", O1, U2, "2025-05-13T01:00:00.000Z", "StageName",
     "Needs Analysis", "Closed Won"],
    # O2: created, a change, the same stage written again (collapses away), a deleted row.
    ["0175g00000Fh05ZAAR", "false", O2, U2, "2025-04-10T01:00:00.000Z", "created", "", ""],
    ["0175g00000Fh06ZAAR", "false", O2, U2, "2025-05-20T01:00:00.000Z", "StageName",
     "Prospecting", "Closed Lost"],
    ["0175g00000Fh07ZAAR", "false", O2, U2, "2025-05-21T01:00:00.000Z", "StageName",
     "Closed Lost", "Closed Lost"],
    ["0175g00000Fh08ZAAR", "true", O2, U2, "2025-05-22T01:00:00.000Z", "StageName",
     "Closed Lost", "Prospecting"],
    # O3: created, with no StageName change in the file: its current stage (Closed Won).
    ["0175g00000Fh11ZAAR", "false", O3, U3, "2025-05-01T01:00:00.000Z", "created", "", ""],
    # O4: a change back to an earlier stage is a change.
    ["0175g00000Fh09ZAAR", "false", O4, U3, "2025-06-01T01:00:00.000Z", "StageName",
     "Prospecting", "Needs Analysis"],
    ["0175g00000Fh10ZAAR", "false", O4, U3, "2025-06-02T01:00:00.000Z", "StageName",
     "Needs Analysis", "Prospecting"],
]  # fmt: skip


# --------------------------------------------------------------------------- the variant


def write_variant(folder: Path) -> dict:
    """The tiny export changed to take the other branches of the rules; returns its config."""
    shutil.copytree(SF, folder)
    (folder / "OpportunityHistory.csv").unlink()
    with (folder / "OpportunityFieldHistory.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(FIELD_HISTORY)
    edits = {
        "Event.csv": [
            add_copy("00U5g00000Ev5eUEAR", "00U5g00000Ev7gWEAR", IsChild="true"),
            add_copy("00U5g00000Ev5eUEAR", "00U5g00000Ev8hXEAR", IsAllDayEvent="true",
                     ActivityDate="2025-04-11", StartDateTime="", ActivityDateTime=""),
        ],
        "Task.csv": [
            add_copy("00T5g00000Wx1aQEAR", "00T5g00000Wx7gWEAR", TaskSubtype="Task",
                     Type="Other", CallDisposition="", CallDurationInSeconds="n/a"),
            add_copy("00T5g00000Wx3cSEAR", "00T5g00000Wx8hXEAR", Status="Not Started",
                     IsClosed="false", Email_Opened__c="false", CompletedDateTime=""),
            add_copy("00T5g00000Wx1aQEAR", "00T5g00000Wx9iYEAR", CallDisposition="",
                     CompletedDateTime="", ActivityDate="2025-04-03"),
        ],
        "Opportunity.csv": [
            set_field(O4, "Type", "Existing Customer - Upgrade"),
            set_field(O2, "CurrencyIsoCode", ""),
            set_field(O3, "Amount", "百万"),
        ],
        "Lead.csv": [set_field("00Q5g00000Pz5kKEAR", "Status", "Open - Not Contacted")],
        "Account.csv": [
            set_field("0015g00000Qk4dDAAR", "Industry", "Finance"),
            set_field("0015g00000Qk3cCAAR", "NumberOfEmployees", ""),
            add_copy("0015g00000Qk4dDAAR", "0015g00000Qk5eEAAR", IsDeleted="true"),
        ],
    }  # fmt: skip
    for name, changes in edits.items():
        for change in changes:
            edit_csv(folder / name, change)
    config = yaml.safe_load((SF / "source.yml").read_text(encoding="utf-8"))
    config["source_system"] = "variant"
    config["corporate_currency"] = "USD"
    config["user_overrides"] = {
        "0055g00000Ab5VUAAZ": {"role": "MANAGER", "motion": "field", "team_id": "OPS",
                               "team_name": "営業企画"},
    }  # fmt: skip
    config["lead_status_map"] = {"Working - Contacted": "open"}
    return config


# --------------------------------------------------------------------------- one build


def tiny_config() -> dict:
    return yaml.safe_load((SF / "source.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Both sources landed, the Salesforce staging and intermediate models built by dbt."""
    base = tmp_path_factory.mktemp("crm_intermediate")
    configs = {"salesforce": tiny_config(), "variant": write_variant(base / "variant")}
    folders = {"salesforce": SF, "variant": base / "variant"}
    return land_and_build(base, {s: (folders[s], configs[s]) for s in SOURCES})


def dbt_rows(database: Path, entity: str, source_system: str) -> list[tuple]:
    columns = [*ENTITIES[entity].column_names, "source_file", "source_row"]
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select {', '.join(columns)} from intermediate.int_salesforce__{entity} "
            "where source_system = ?",
            [source_system],
        ).fetchall()
    return sorted(
        (tuple(canonical_text(v, c) for v, c in zip(row, columns, strict=True)) for row in rows),
        key=lambda row: (row[-2], int(row[-1])),
    )


def converter_rows(conversion: Conversion, entity: str) -> list[tuple]:
    """A converter's frame as dbt_rows gives a model's rows (for CRMs still converted in
    Python: their dbt models are compared with it)."""
    if entity not in conversion.frames:
        return []
    frame = conversion.frames[entity]
    columns = [*ENTITIES[entity].column_names, "_source_file", "_source_row"]
    rows = [
        tuple(None if v is None or v is pd.NA or v == "" else str(v) for v in row)
        for row in frame[columns].astype(object).itertuples(index=False)
    ]
    return sorted(rows, key=lambda row: (row[-2], int(row[-1])))


# --------------------------------------------------------------------------- the variant


def by_key(database: Path, entity: str, key: str) -> dict[str, dict[str, str | None]]:
    columns = [*ENTITIES[entity].column_names, "source_file", "source_row"]
    return {
        dict(zip(columns, row, strict=True))[key]: dict(zip(columns, row, strict=True))
        for row in dbt_rows(database, entity, "variant")
    }


def test_the_variant_takes_the_other_branches(built) -> None:
    """Worked out by hand from the edits of write_variant (times: UTC + 9 h)."""
    database = built
    history = [
        (row[-1], row[0], row[1], row[2], row[3])
        for row in dbt_rows(database, "opportunity_stage_history", "variant")
    ]
    v = "variant:"
    assert sorted(history, key=lambda r: int(r[0])) == [
        # O1: `created` (the OldValue of its first change), two changes; the amount edit goes.
        ("1", v + O1, "Prospecting", "2025-04-03 10:00:00", v + U2),
        ("3", v + O1, "Needs Analysis", "2025-04-10 10:00:00", v + U2),
        ("4", v + O1, "Closed Won", "2025-05-13 10:00:00", v + U2),
        # O2: `created`, a change; the repeated stage and the deleted row go.
        ("5", v + O2, "Prospecting", "2025-04-10 10:00:00", v + U2),
        ("6", v + O2, "Closed Lost", "2025-05-20 10:00:00", v + U2),
        # O3: `created` without a change: its current stage.
        ("9", v + O3, "Closed Won", "2025-05-01 10:00:00", v + U3),
        # O4: a change back to an earlier stage is a change.
        ("10", v + O4, "Needs Analysis", "2025-06-01 10:00:00", v + U3),
        ("11", v + O4, "Prospecting", "2025-06-02 10:00:00", v + U3),
    ]
    activities = by_key(database, "activities", "activity_id")
    assert activities["variant:00U5g00000Ev8hXEAR"]["activity_at"] == "2025-04-11 00:00:00"
    assert activities["variant:00T5g00000Wx7gWEAR"]["outcome"] == "completed"
    assert activities["variant:00T5g00000Wx7gWEAR"]["duration_minutes"] is None  # not a call
    assert activities["variant:00T5g00000Wx8hXEAR"]["outcome"] is None
    assert activities["variant:00T5g00000Wx9iYEAR"]["activity_at"] == "2025-04-03 00:00:00"
    assert "variant:00U5g00000Ev7gWEAR" not in activities  # the child event
    users = by_key(database, "users", "user_id")
    integration = users["variant:0055g00000Ab5VUAAZ"]
    assert (integration["team_id"], integration["team_name"]) == ("variant:OPS", "営業企画")
    assert (integration["role"], integration["motion"]) == ("MANAGER", "field")
    opportunities = by_key(database, "opportunities", "opportunity_id")
    assert sorted(opportunities) == [v + O1, v + O2, v + O4]  # O3's amount is unreadable
    assert opportunities[v + O2]["currency"] == "USD"  # no CurrencyIsoCode: corporate_currency
    assert opportunities[v + O4]["opportunity_type"] == "expansion"
    accounts = by_key(database, "accounts", "account_id")
    assert accounts["variant:0015g00000Qk4dDAAR"]["industry"] == "Finance"  # unmapped: kept
    a3 = accounts["variant:0015g00000Qk3cCAAR"]
    assert (a3["employee_count"], a3["employee_band"]) == (None, None)
    leads = by_key(database, "leads", "lead_id")
    assert leads["variant:00Q5g00000Pz5kKEAR"]["lead_status"] == "open"  # Open - Not Contacted
    rates = dbt_rows(database, "exchange_rates", "variant")
    assert {row[2] for row in rates} == {"USD"}  # to the corporate currency


def dbt_rejects(database: Path, source_system: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted(
            con.execute(
                "select source_file, source_row, rejection_reason "
                "from intermediate.int_salesforce__rejected_rows where source_system = ?",
                [source_system],
            ).fetchall()
        )


def test_the_export_rejects_what_the_readme_says(built) -> None:
    """salesforce_tiny/README.md: the integration user, the parent role, the deleted lead and
    the amount-only history row."""
    reasons = {(Path(file).name, row): reason for file, row, reason in dbt_rejects(built, NS)}
    assert reasons == {
        ("User.csv", 5): "user has no UserRoleId and no entry in source.yml user_overrides "
        "(not a sales user)",
        ("UserRole.csv", 1): "no converted user in User.csv has this role (no team emitted)",
        ("Lead.csv", 6): DBT_DELETED_REASON,
        ("OpportunityHistory.csv", 2): "no stage change (the stage equals the previous row "
        "of the opportunity: an amount or close-date change)",
    }


def test_the_variant_rejects_what_its_edits_reject(built) -> None:
    """Worked out by hand from the edits of write_variant."""
    database = built
    reasons = {
        (Path(file).name, row): reason for file, row, reason in dbt_rejects(database, "variant")
    }
    assert reasons == {
        ("UserRole.csv", 1): "no converted user in User.csv has this role (no team emitted)",
        ("Lead.csv", 6): DBT_DELETED_REASON,
        ("Account.csv", 5): DBT_DELETED_REASON,
        ("OpportunityFieldHistory.csv", 2): "not a stage change",
        ("OpportunityFieldHistory.csv", 7): "no stage change (the stage equals the previous row "
        "of the opportunity: an amount or close-date change)",
        ("OpportunityFieldHistory.csv", 8): DBT_DELETED_REASON,
        ("Opportunity.csv", 3): "Amount is not a number",
        ("Event.csv", 2): "child copy of a group event (the invitee's copy; the parent event is "
        "kept)",
    }


@pytest.mark.parametrize("source_system", SOURCES)
def test_every_landed_row_is_kept_or_rejected_once(built, source_system: str) -> None:
    database = built
    landed = " union all ".join(
        f'select _source_file, _row_number from raw_salesforce."{obj.table}" '
        "where _source_system = $1"
        for obj in SALESFORCE.objects
    )
    with duckdb.connect(str(database), read_only=True) as con:
        outcomes = con.execute(
            "select source_file, source_row from intermediate.int_salesforce__row_outcomes "
            "where source_system = $1 order by all",
            [source_system],
        ).fetchall()
        rows = con.execute(f"select * from ({landed}) as landed order by all", [source_system])
        assert outcomes == rows.fetchall()
        for entity in CONVERTED_ENTITIES:
            if entity == "agencies":  # from source.yml, not a landed row
                continue
            kept = con.execute(
                "select source_file, source_row from intermediate.int_salesforce__row_outcomes "
                "where source_system = $1 and canonical_entity = $2 and is_kept "
                "and object_name <> 'user_role' order by all",
                [source_system, entity],
            ).fetchall()
            emitted = con.execute(
                f"select source_file, source_row from intermediate.int_salesforce__{entity} "
                "where source_system = $1 order by all",
                [source_system],
            ).fetchall()
            assert kept == emitted, entity


def test_every_file_row_has_one_outcome(built) -> None:
    """Per export file, kept + rejected outcomes = the file's data rows, counted in Python."""
    database = built
    with duckdb.connect(str(database), read_only=True) as con:
        counted = dict(
            con.execute(
                "select source_file, count(*) from intermediate.int_salesforce__row_outcomes "
                "group by all"
            ).fetchall()
        )
    variant = database.parent / "variant"
    files = [*SF.glob("*.csv"), *variant.glob("*.csv")]
    assert len(files) == 20  # 10 files each (the variant swaps the history file)
    expected = {}
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            expected[str(path)] = sum(1 for _ in csv.reader(handle)) - 1
    assert counted == expected
