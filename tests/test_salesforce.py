"""The Salesforce rules (dbt models intermediate/crm/int_salesforce__*) on `salesforce_tiny`: the
tiny fixture's facts as exported by Salesforce (tests/fixtures/salesforce_tiny/README.md has the
id correspondence). Every expectation is worked out by hand from the export files.

One dbt build serves the module: the export itself is landed as source `salesforce`, and mutated
copies of it as further sources in the same DuckDB file, each grouping edits that do not touch
the same rows (SOURCES says which test uses which):

- `configs`: the files as exported, source.yml changed (a call disposition, a lead source, the
  lead agency field, agencies by name only, a lead status map, a user override) and O4's Type set
  to a value the type map lacks;
- `edits`: OpportunityHistory.csv in reverse order, an unreadable CloseDate, a child event,
  upper-case Account.csv headers, Lead CreatedDates in other spellings, no CurrencyIsoCode
  column and no corporate_currency;
- `nostage`: no StageName column, no stage history file, a role missing from user_roles and a
  role that is not canonical;
- `noopp`: no Opportunity.csv, an OpportunityFieldHistory.csv beside OpportunityHistory.csv;
- `fieldhist`: OpportunityFieldHistory.csv instead of OpportunityHistory.csv, no CurrencyIsoCode
  column, corporate_currency USD;
- `badmaps`: the files as exported, source.yml maps naming values that are not canonical.
"""

from __future__ import annotations

import copy
import csv
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml

from orchestration.lib.canonical_schema import ENTITIES
from orchestration.lib.crm_landing import land_crm
from orchestration.sources.salesforce import CONFIG_KEYS, SALESFORCE, crm_source
from tests.crm_dbt import (
    DBT_DELETED_REASON,
    add_copy,
    drop_column,
    edit_csv,
    land_and_build,
    salesforce_rejects,
    salesforce_rows,
    set_field,
)

FIXTURES = Path(__file__).parent / "fixtures"
SF = FIXTURES / "salesforce_tiny"
TINY = FIXTURES / "tiny"
NS = "salesforce"

# Salesforce id -> tiny fixture id (the table in salesforce_tiny/README.md).
TINY_IDS = {
    "00E5g000001Is7KEAS": "IS",
    "00E5g000001Fs3MEAS": "FS1",
    "00E5g000001Ag9TEAS": "AGT",
    "0055g00000Ab1XQAAZ": "U1",
    "0055g00000Ab2YRAAZ": "U2",
    "0055g00000Ab3ZSAAZ": "U3",
    "0055g00000Ab4WTAAZ": "U4",
    "AG1": "AG1",
    "0015g00000Qk1aAAAR": "A1",
    "0015g00000Qk2bBAAR": "A2",
    "0015g00000Qk3cCAAR": "A3",
    "0015g00000Qk4dDAAR": "A4",
    "0035g00000Lm1eEAAR": "C1",
    "0035g00000Lm2fFAAR": "C2",
    "00Q5g00000Pz1gGEAR": "L1",
    "00Q5g00000Pz2hHEAR": "L2",
    "00Q5g00000Pz3iIEAR": "L3",
    "00Q5g00000Pz4jJEAR": "L4",
    "00Q5g00000Pz5kKEAR": "L5",
    "0065g00000Rt1nNAAR": "O1",
    "0065g00000Rt2pPAAR": "O2",
    "0065g00000Rt3qQAAR": "O3",
    "0065g00000Rt4rRAAR": "O4",
    "00T5g00000Wx1aQEAR": "T1",
    "00T5g00000Wx2bREAR": "T2",
    "00T5g00000Wx3cSEAR": "T3",
    "00T5g00000Wx4dTEAR": "T4",
    "00U5g00000Ev5eUEAR": "T5",
    "00T5g00000Wx6fVEAR": "T6",
}
SF_IDS = {tiny: sf for sf, tiny in TINY_IDS.items()}
DELETED_LEAD = "00Q5g00000Pz6mMEAR"
INTEGRATION_USER = "0055g00000Ab5VUAAZ"
AMOUNT_ONLY_HISTORY_ROW = 2  # OpportunityHistory.csv row 0085g00000Hs02ZAAR
# Salesforce stage -> tiny canonical stage (the same funnel step in seeds/stage_map.csv).
TINY_STAGES = {
    "Prospecting": "approach",
    "Needs Analysis": "discovery",
    "Proposal/Price Quote": "proposal",
    "Negotiation/Review": "negotiation",
    "Closed Won": "closed_won",
    "Closed Lost": "closed_lost",
}
LINEAGE = ["source_file", "source_row"]
PRIMARY_KEYS = {
    "agencies": ["agency_id"],
    "users": ["user_id"],
    "accounts": ["account_id"],
    "contacts": ["contact_id"],
    "leads": ["lead_id"],
    "opportunities": ["opportunity_id"],
    "opportunity_stage_history": ["opportunity_id", "changed_at"],
    "activities": ["activity_id"],
}
DOWNGRADE = "Existing Customer - Downgrade"
FIELD_HISTORY = [
    ["Id", "IsDeleted", "OpportunityId", "CreatedById", "CreatedDate", "Field", "DataType",
     "OldValue", "NewValue"],
    ["0175g00000Fh01ZAAR", "false", SF_IDS["O1"], SF_IDS["U2"], "2025-04-03T01:00:00.000Z",
     "created", "EntityId", "", ""],
    ["0175g00000Fh02ZAAR", "false", SF_IDS["O1"], SF_IDS["U2"], "2025-04-05T02:30:00.000Z",
     "Amount", "Currency", "1000000", "1200000"],
    ["0175g00000Fh03ZAAR", "false", SF_IDS["O1"], SF_IDS["U2"], "2025-04-10T01:00:00.000Z",
     "StageName", "DynamicEnum", "Prospecting", "Needs Analysis"],
    ["0175g00000Fh04ZAAR", "false", SF_IDS["O1"], SF_IDS["U2"], "2025-05-13T01:00:00.000Z",
     "StageName", "DynamicEnum", "Needs Analysis", "Closed Won"],
]  # fmt: skip


def sf(tiny_id: str, ns: str = NS) -> str:
    """The namespaced id of a tiny fixture id in source `ns`."""
    return f"{ns}:{SF_IDS[tiny_id]}"


def source_config() -> dict:
    return yaml.safe_load((SF / "source.yml").read_text(encoding="utf-8"))


def write_field_history(folder: Path) -> None:
    with (folder / "OpportunityFieldHistory.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(FIELD_HISTORY)


def reverse_rows(header: list[str], rows: list[list[str]]) -> None:
    rows.reverse()


def upper_header(header: list[str], rows: list[list[str]]) -> None:
    header[:] = [h.upper() for h in header]


# --------------------------------------------------------------------------- the sources


def configs_source(folder: Path) -> dict:
    """Config edits that touch different rows, and O4's Type missing from the type map."""
    edit_csv(folder / "Opportunity.csv", set_field(SF_IDS["O4"], "Type", DOWNGRADE))
    config = source_config()
    del config["call_disposition_map"]["不在"]  # T1
    del config["lead_source_map"]["Web"]  # L1, L2, L5
    del config["lead_agency_field"]  # L4 gets its owner's agency
    config["agencies"] = {"AG1": "株式会社セールスブースト"}
    config["lead_status_map"] = {"Working - Contacted": "open"}  # L5
    config["user_overrides"] = {
        INTEGRATION_USER: {"role": "MANAGER", "motion": "inside", "team_id": "SYS"}
    }
    return config


def edits_source(folder: Path) -> dict:
    edit_csv(folder / "OpportunityHistory.csv", reverse_rows)
    edit_csv(folder / "Opportunity.csv", set_field(SF_IDS["O4"], "CloseDate", "31/08/2025"))
    edit_csv(folder / "Opportunity.csv", drop_column("CurrencyIsoCode"))
    edit_csv(folder / "Event.csv", add_copy(SF_IDS["T5"], "00U5g00000Ev7gWEAR", IsChild="true"))
    edit_csv(folder / "Account.csv", upper_header)
    for lead, created in {
        "L2": "2025-03-31T15:30:00.000+0000",
        "L3": "2025-03-31 15:30:00",  # no zone: UTC
        "L4": "",
        "L5": "2025-03-31T15:30:00.000Z",
    }.items():
        edit_csv(folder / "Lead.csv", set_field(SF_IDS[lead], "CreatedDate", created))
    config = source_config()
    del config["corporate_currency"]
    return config


def nostage_source(folder: Path) -> dict:
    edit_csv(folder / "Opportunity.csv", drop_column("StageName"))
    (folder / "OpportunityHistory.csv").unlink()
    config = source_config()
    del config["user_roles"]["フィールドセールス1課"]  # U2, U3
    config["user_roles"]["インサイドセールス課"] = {"role": "Appointer", "motion": "inside"}  # U1
    return config


def noopp_source(folder: Path) -> dict:
    (folder / "Opportunity.csv").unlink()
    write_field_history(folder)
    return source_config()


def fieldhist_source(folder: Path) -> dict:
    (folder / "OpportunityHistory.csv").unlink()
    write_field_history(folder)
    edit_csv(folder / "Opportunity.csv", drop_column("CurrencyIsoCode"))
    config = source_config()
    config["corporate_currency"] = "USD"
    return config


def badmaps_source(folder: Path) -> dict:
    config = source_config()
    config["opportunity_type_map"] = {"New Customer": "upsell"}  # O1, O3
    config["call_disposition_map"]["不在"] = "busy"  # T1
    config["lead_status_map"] = {"Working - Contacted": "nurture"}  # L5
    return config


SOURCES = {
    "badmaps": badmaps_source,
    "configs": configs_source,
    "edits": edits_source,
    "nostage": nostage_source,
    "noopp": noopp_source,
    "fieldhist": fieldhist_source,
}


class Built:
    def __init__(self, database: Path, target: Path, configs: dict, before: dict) -> None:
        self.database, self.target, self.configs, self.before = database, target, configs, before

    def rows(self, entity: str, ns: str = NS) -> list[dict[str, Any]]:
        return salesforce_rows(self.database, entity, ns)

    def rejects(self, ns: str = NS) -> list[tuple[str, int, str]]:
        return salesforce_rejects(self.database, ns)

    def rejects_of(self, file_name: str, ns: str = NS) -> list[tuple[int, str]]:
        return [(row, reason) for file, row, reason in self.rejects(ns) if file == file_name]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """The export and its mutated copies landed, the Salesforce models built once by dbt."""
    base = tmp_path_factory.mktemp("salesforce")
    sources = {NS: (SF, source_config())}
    for ns, write in SOURCES.items():
        folder = Path(shutil.copytree(SF, base / ns))
        sources[ns] = (folder, write(folder))
    before = {ns: copy.deepcopy(config) for ns, (_folder, config) in sources.items()}
    database = land_and_build(base, sources)
    configs = {ns: config for ns, (_folder, config) in sources.items()}
    return Built(database, base / "target", configs, before)


def by_id(rows: list[dict[str, Any]], column: str, value: str) -> dict[str, Any]:
    found = [row for row in rows if row[column] == value]
    assert len(found) == 1, f"{column} = {value}: {len(found)} rows"
    return found[0]


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def as_tiny(value: object) -> str:
    """A dbt value in tiny fixture terms: ids un-namespaced and translated, stages too."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(f"{NS}:"):
        return TINY_IDS[text.removeprefix(f"{NS}:")]
    return TINY_STAGES.get(text, text)


def without_namespace(rows: list[dict[str, Any]], ns: str) -> list[dict[str, Any]]:
    """Rows without lineage, ids of source `ns` un-namespaced (to compare two sources)."""
    return [
        {
            c: v.removeprefix(f"{ns}:") if isinstance(v, str) else v
            for c, v in row.items()
            if c not in LINEAGE
        }
        for row in rows
    ]


def sorted_by(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: tuple(row[k] or "" for k in keys))


def outcomes(built: Built, ns: str) -> Counter[tuple[str, bool]]:
    """(file name, is kept) -> landed rows, from int_salesforce__row_outcomes."""
    with duckdb.connect(str(built.database), read_only=True) as con:
        rows = con.execute(
            "select source_file, is_kept, count(*) from intermediate.int_salesforce__row_outcomes "
            "where source_system = ? group by all",
            [ns],
        ).fetchall()
    return Counter({(Path(file).name, kept): count for file, kept, count in rows})


# --------------------------------------------------------------------------- the same facts


@pytest.mark.parametrize("entity", list(PRIMARY_KEYS))
def test_same_facts_as_the_tiny_fixture(built: Built, entity: str) -> None:
    expected = pd.read_csv(TINY / f"{entity}.csv", dtype=str, keep_default_na=False)
    rows = [{c: as_tiny(row[c]) for c in expected.columns} for row in built.rows(entity)]
    converted = pd.DataFrame(rows, columns=expected.columns, dtype=str)
    keys = PRIMARY_KEYS[entity]
    expected = expected.sort_values(keys).reset_index(drop=True)
    converted = converted.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(converted, expected, check_dtype=False)


def test_no_subscriptions_spend_or_targets(built: Built) -> None:
    """The Salesforce models give the CRM entities and exchange rates, nothing else."""
    with duckdb.connect(str(built.database), read_only=True) as con:
        tables = {
            name.removeprefix("int_salesforce__")
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'intermediate' and table_name like 'int_salesforce__%'"
            ).fetchall()
        }
    assert tables & set(ENTITIES) == {*PRIMARY_KEYS, "exchange_rates"}
    for entity in (*PRIMARY_KEYS, "exchange_rates"):
        assert built.rows(entity), entity


# --------------------------------------------------------------------------- values by hand


def test_opportunity_o1(built: Built) -> None:
    o1 = by_id(built.rows("opportunities"), "opportunity_id", sf("O1"))
    assert o1["opportunity_stage"] == "Closed Won"
    assert o1["amount"] == "1200000"
    assert o1["currency"] == "JPY"
    assert o1["created_at"] == "2025-04-03 10:00:00"  # 2025-04-03T01:00:00.000Z
    assert o1["close_date"] == "2025-05-13"
    assert o1["lead_id"] == sf("L1")
    assert o1["account_id"] == "salesforce:0015g00000Qk1aAAAR"
    assert (o1["opportunity_type"], o1["is_closed"], o1["is_won"]) == ("new", "true", "true")
    assert o1["source_file"] == str(SF / "Opportunity.csv")
    assert o1["source_row"] == 1


def test_opportunity_amount_type_and_lost_reason(built: Built) -> None:
    opportunities = built.rows("opportunities")
    o2 = by_id(opportunities, "opportunity_id", sf("O2"))
    assert o2["amount"] == "2400000"  # exported as 2400000.00
    assert (o2["opportunity_type"], o2["lost_reason"]) == ("new", "price")  # Type New Business
    o4 = by_id(opportunities, "opportunity_id", sf("O4"))
    assert o4["opportunity_type"] == "new"  # empty Type
    assert o4["lead_id"] is None  # no lead was converted into O4
    assert o4["opportunity_stage"] == "Proposal/Price Quote"


def test_users_roles_teams_and_agency(built: Built) -> None:
    users = built.rows("users")
    u1 = by_id(users, "user_id", sf("U1"))
    assert (u1["role"], u1["motion"], u1["team_name"]) == ("SDR", "inside", "インサイドセールス課")
    assert u1["team_id"] == "salesforce:00E5g000001Is7KEAS"
    assert u1["agency_id"] is None
    u4 = by_id(users, "user_id", sf("U4"))
    assert (u4["agency_id"], u4["hired_date"]) == ("salesforce:AG1", "2024-01-01")
    agencies = [[r["agency_id"], r["agency_name"], r["fee_model"]] for r in built.rows("agencies")]
    assert agencies == [["salesforce:AG1", "株式会社セールスブースト", "retainer"]]


def test_leads_status_source_and_conversion(built: Built) -> None:
    leads = built.rows("leads")
    l1 = by_id(leads, "lead_id", sf("L1"))
    # ConvertedDate 2025-04-03 + the converted opportunity's CreatedDate that day.
    assert l1["converted_at"] == "2025-04-03 10:00:00"
    assert (l1["lead_source"], l1["lead_status"]) == ("web_inquiry", "converted")
    assert (l1["account_id"], l1["contact_id"]) == (sf("A1"), sf("C1"))
    assert l1["converted_opportunity_id"] == sf("O1")
    assert by_id(leads, "lead_id", sf("L3"))["lead_status"] == "disqualified"
    assert by_id(leads, "lead_id", sf("L5"))["lead_status"] == "working"
    l4 = by_id(leads, "lead_id", sf("L4"))
    assert (l4["lead_source"], l4["agency_id"]) == ("agency_outbound", "salesforce:AG1")


def test_activities(built: Built) -> None:
    activities = built.rows("activities")
    t1 = by_id(activities, "activity_id", sf("T1"))
    assert (t1["activity_type"], t1["outcome"], t1["duration_minutes"]) == (
        "call",
        "no_answer",
        "1",
    )
    t6 = by_id(activities, "activity_id", sf("T6"))
    assert t6["duration_minutes"] == "6"  # 345 s rounded up
    assert (t6["lead_id"], t6["account_id"]) == (sf("L4"), sf("A3"))
    t3 = by_id(activities, "activity_id", sf("T3"))
    assert (t3["activity_type"], t3["outcome"], t3["activity_at"]) == (
        "email",
        "opened",
        "2025-04-02 11:00:00",
    )
    t5 = by_id(activities, "activity_id", sf("T5"))
    assert (t5["activity_type"], t5["outcome"], t5["duration_minutes"]) == ("meeting", "held", "60")
    assert t5["activity_at"] == "2025-04-10 14:00:00"  # StartDateTime 05:00Z
    assert t5["lead_id"] is None  # WhoId is a contact
    assert (t5["opportunity_id"], t5["account_id"]) == (sf("O1"), sf("A1"))


def test_stage_history_keeps_stage_changes_only(built: Built) -> None:
    history = built.rows("opportunity_stage_history")
    o1 = sorted(
        (r["changed_at"], r["opportunity_stage"], r["changed_by_id"])
        for r in history
        if r["opportunity_id"] == sf("O1")
    )
    assert [[stage, at] for at, stage, _by in o1] == [
        ["Prospecting", "2025-04-03 10:00:00"],
        ["Needs Analysis", "2025-04-10 10:00:00"],
        ["Proposal/Price Quote", "2025-04-20 10:00:00"],
        ["Negotiation/Review", "2025-05-01 10:00:00"],
        ["Closed Won", "2025-05-13 10:00:00"],
    ]
    assert {by for _at, _stage, by in o1} == {sf("U2")}
    assert AMOUNT_ONLY_HISTORY_ROW not in {r["source_row"] for r in history}
    ((amount_only_reason),) = [
        reason
        for row, reason in built.rejects_of("OpportunityHistory.csv")
        if row == AMOUNT_ONLY_HISTORY_ROW
    ]
    assert amount_only_reason.startswith("no stage change")
    assert len(history) == 15


def test_stage_history_is_ordered_by_created_date(built: Built) -> None:
    """`edits` has OpportunityHistory.csv in reverse order: the same stage history."""
    key = ["opportunity_id", "changed_at"]
    reversed_rows = without_namespace(built.rows("opportunity_stage_history", "edits"), "edits")
    expected = without_namespace(built.rows("opportunity_stage_history"), NS)
    assert len(expected) == 15
    assert sorted_by(reversed_rows, key) == sorted_by(expected, key)


# --------------------------------------------------------------------------- rejects, accounting


def test_deleted_lead_is_a_reject(built: Built) -> None:
    assert built.rejects_of("Lead.csv") == [(6, DBT_DELETED_REASON)]
    assert f"{NS}:{DELETED_LEAD}" not in {r["lead_id"] for r in built.rows("leads")}


def test_every_file_is_accounted_for(built: Built) -> None:
    csv_files = sorted(SF.glob("*.csv"))
    counted = outcomes(built, NS)
    assert sorted({file for file, _kept in counted}) == [p.name for p in csv_files]
    for path in csv_files:
        assert counted[path.name, True] + counted[path.name, False] == data_rows(path), path.name
    rejected = Counter(file for file, _row, _reason in built.rejects())
    assert rejected == {name: n for (name, kept), n in counted.items() if not kept}
    assert rejected == {
        "User.csv": 1,  # 連携ユーザー: no role
        "UserRole.csv": 1,  # 営業本部: no users
        "Lead.csv": 1,  # deleted
        "OpportunityHistory.csv": 1,  # amount-only change
    }


def test_user_and_role_rejects_say_why(built: Built) -> None:
    ((user_row, user_reason),) = built.rejects_of("User.csv")
    assert user_row == 5  # 連携ユーザー
    assert "no UserRoleId" in user_reason and "user_overrides" in user_reason
    with (SF / "UserRole.csv").open(encoding="utf-8", newline="") as handle:
        first_role = next(csv.DictReader(handle))["Name"]
    assert first_role == "営業本部"
    assert built.rejects_of("UserRole.csv") == [
        (1, "no converted user in User.csv has this role (no team emitted)")
    ]


def test_unreadable_value_rejects_the_row(built: Built) -> None:
    """`edits`: O4's CloseDate is 31/08/2025."""
    ((row, reason),) = built.rejects_of("Opportunity.csv", "edits")
    assert row == 4 and "CloseDate" in reason
    opportunities = built.rows("opportunities", "edits")
    assert sorted(r["opportunity_id"] for r in opportunities) == [
        sf(o, "edits") for o in ("O1", "O2", "O3")
    ]


def test_child_event_is_a_reject(built: Built) -> None:
    """`edits`: a copy of T5 with IsChild = true, row 2 of Event.csv."""
    ((row, reason),) = built.rejects_of("Event.csv", "edits")
    assert row == 2 and "group event" in reason
    assert len(built.rows("activities", "edits")) == 6


# --------------------------------------------------------------------------- unmapped values


def test_unmapped_call_disposition(built: Built) -> None:
    """`configs`: 不在 is not in call_disposition_map; T1 (row 1 of Task.csv) is rejected with
    the value and the key to add it under."""
    assert built.rejects_of("Task.csv", "configs") == [
        (1, "CallDisposition '不在' is not in source.yml call_disposition_map")
    ]
    activities = {r["activity_id"] for r in built.rows("activities", "configs")}
    assert sf("T1", "configs") not in activities
    assert len(activities) == 5


def test_unmapped_lead_source_is_kept_as_it_is(built: Built) -> None:
    """A picklist value missing from lead_source_map does not reject the lead: the value is
    kept (the canonical models flag it unmapped_lead_source), the mapped ones are still mapped."""
    leads = built.rows("leads", "configs")
    assert by_id(leads, "lead_id", sf("L1", "configs"))["lead_source"] == "Web"
    assert by_id(leads, "lead_id", sf("L3", "configs"))["lead_source"] == "seminar"
    assert built.rejects_of("Lead.csv", "configs") == [(6, DBT_DELETED_REASON)]


def test_unmapped_role(built: Built) -> None:
    """`nostage`: フィールドセールス1課 is not in user_roles: its users U2, U3 (rows 2, 3) are
    rejected with the role and the key to add it under."""
    reason = "role 'フィールドセールス1課' is not in source.yml user_roles"
    rejects = built.rejects_of("User.csv", "nostage")
    assert [r for r in rejects if r[1] == reason] == [(2, reason), (3, reason)]
    users = {r["user_id"] for r in built.rows("users", "nostage")}
    assert users == {sf("U4", "nostage")}  # U1: test_invalid_role_in_config


def test_unmapped_opportunity_type(built: Built) -> None:
    """`configs`: O4 (row 4) has a Type missing from opportunity_type_map."""
    ((row, reason),) = built.rejects_of("Opportunity.csv", "configs")
    assert row == 4
    assert DOWNGRADE in reason and "opportunity_type_map" in reason


def test_invalid_role_in_config(built: Built) -> None:
    """`nostage` maps インサイドセールス課 to role Appointer: U1 (row 1) is rejected with the
    value, and no user carries it."""
    reason = (
        "role 'Appointer' in source.yml user_roles / user_overrides is not one of "
        "SDR, AE, CS, MANAGER"
    )
    assert (1, reason) in built.rejects_of("User.csv", "nostage")
    assert "Appointer" not in {r["role"] for r in built.rows("users", "nostage")}


def test_map_values_that_are_not_canonical(built: Built) -> None:
    """`badmaps`: a map that names a value outside the canonical ones (a typo in source.yml)
    rejects the rows it maps, naming the value, the map and what it may be; the night goes on."""
    upsell = (
        "Type 'New Customer' maps to 'upsell' in source.yml opportunity_type_map, "
        "not one of new, expansion, renewal"
    )
    assert built.rejects_of("Opportunity.csv", "badmaps") == [(1, upsell), (3, upsell)]
    assert built.rejects_of("Task.csv", "badmaps") == [
        (
            1,
            "CallDisposition '不在' maps to 'busy' in source.yml call_disposition_map, "
            "not one of no_answer, connected, appointment_set",
        )
    ]
    assert (
        5,
        "Status 'Working - Contacted' maps to 'nurture' in source.yml lead_status_map, "
        "not one of open, working, converted, disqualified",
    ) in built.rejects_of("Lead.csv", "badmaps")
    assert len(built.rows("opportunities", "badmaps")) == 2  # O2, O4


def test_missing_stage_name_column(built: Built) -> None:
    """`nostage`: Opportunity.csv has no StageName column: every opportunity is rejected."""
    reason = "StageName is empty (opportunity_stage is required)"
    assert built.rejects_of("Opportunity.csv", "nostage") == [(n, reason) for n in (1, 2, 3, 4)]
    assert built.rows("opportunities", "nostage") == []


# --------------------------------------------------------------------------- options and variants


def test_exchange_rates(built: Built) -> None:
    rows = [
        [r["rate_date"], r["from_currency"], r["to_currency"], r["rate"]]
        for r in built.rows("exchange_rates")
    ]
    assert rows == [
        ["2025-04-01", "JPY", "JPY", "1.000000"],  # the corporate currency is kept, rate 1
        ["2025-04-01", "USD", "JPY", "160.000000"],  # 1 / 0.00625
        ["2025-07-01", "USD", "JPY", "156.250000"],  # 1 / 0.0064
        ["2025-04-01", "EUR", "JPY", "172.413793"],  # 1 / 0.0058 = 172.4137931...
    ]


def test_single_currency_org_uses_corporate_currency(built: Built) -> None:
    """No CurrencyIsoCode column: `fieldhist` (corporate_currency USD) and `edits` (none: JPY)."""
    assert {r["currency"] for r in built.rows("opportunities", "fieldhist")} == {"USD"}
    assert len(built.rows("opportunities", "fieldhist")) == 4
    assert {r["currency"] for r in built.rows("opportunities", "edits")} == {"JPY"}


def test_timestamps_are_tokyo_wall_time(built: Built) -> None:
    """`edits`: Lead CreatedDates in the spellings an export or a sync gives, read as UTC."""
    leads = built.rows("leads", "edits")
    created = {TINY_IDS[r["lead_id"].removeprefix("edits:")]: r["created_at"] for r in leads}
    assert created == {
        "L1": "2025-04-01 09:00:00",  # 2025-04-01T00:00:00.000Z
        "L2": "2025-04-01 00:30:00",  # 2025-03-31T15:30:00.000+0000
        "L3": "2025-04-01 00:30:00",  # 2025-03-31 15:30:00
        "L5": "2025-04-01 00:30:00",  # 2025-03-31T15:30:00.000Z
    }
    assert built.rejects_of("Lead.csv", "edits") == [
        (4, "CreatedDate is empty (created_at is required)"),  # L4: ""
        (6, DBT_DELETED_REASON),
    ]


def test_converted_at_without_the_opportunity_is_midnight(built: Built) -> None:
    """`noopp` has no Opportunity.csv."""
    leads = built.rows("leads", "noopp")
    assert by_id(leads, "lead_id", sf("L1", "noopp"))["converted_at"] == "2025-04-03 00:00:00"


def test_lead_agency_defaults_to_the_owners_agency(built: Built) -> None:
    """`configs` has no lead_agency_field: L4 gets its owner U4's agency."""
    leads = built.rows("leads", "configs")
    assert by_id(leads, "lead_id", sf("L4", "configs"))["agency_id"] == "configs:AG1"
    assert by_id(leads, "lead_id", sf("L1", "configs"))["agency_id"] is None


def test_agency_given_by_name_only(built: Built) -> None:
    agencies = [
        [r["agency_id"], r["agency_name"], r["fee_model"]]
        for r in built.rows("agencies", "configs")
    ]
    assert agencies == [["configs:AG1", "株式会社セールスブースト", None]]


def test_lead_status_map_overrides_defaults(built: Built) -> None:
    leads = built.rows("leads", "configs")
    assert by_id(leads, "lead_id", sf("L5", "configs"))["lead_status"] == "open"
    assert by_id(leads, "lead_id", sf("L1", "configs"))["lead_status"] == "converted"


def test_user_override_brings_in_a_user_without_role(built: Built) -> None:
    users = built.rows("users", "configs")
    user = by_id(users, "user_id", f"configs:{INTEGRATION_USER}")
    assert (user["role"], user["team_id"], user["user_name"]) == (
        "MANAGER",
        "configs:SYS",
        "連携ユーザー",
    )
    assert built.rejects_of("User.csv", "configs") == []


def test_uppercase_data_loader_headers(built: Built) -> None:
    """`edits` has Account.csv headers in upper case (Data Loader): the same accounts."""
    accounts = without_namespace(built.rows("accounts", "edits"), "edits")
    expected = without_namespace(built.rows("accounts"), NS)
    assert len(expected) == 4
    assert accounts == expected


# --------------------------------------------------------------------------- field history


def test_field_history_when_there_is_no_opportunity_history(built: Built) -> None:
    history = built.rows("opportunity_stage_history", "fieldhist")
    assert [[r["opportunity_stage"], r["changed_at"], r["source_row"]] for r in history] == [
        ["Prospecting", "2025-04-03 10:00:00", 1],  # `created`: OldValue of the first change
        ["Needs Analysis", "2025-04-10 10:00:00", 3],
        ["Closed Won", "2025-05-13 10:00:00", 4],
    ]
    assert built.rejects_of("OpportunityFieldHistory.csv", "fieldhist") == [
        (2, "not a stage change")
    ]


def test_field_history_is_not_used_next_to_opportunity_history(built: Built) -> None:
    """`noopp` has both history files: the stage history comes from OpportunityHistory.csv."""
    assert len(built.rows("opportunity_stage_history", "noopp")) == 15
    rejects = built.rejects_of("OpportunityFieldHistory.csv", "noopp")
    assert [row for row, _reason in rejects] == [1, 2, 3, 4]
    assert all("not used" in reason for _row, reason in rejects)
    counted = outcomes(built, "noopp")
    assert counted["OpportunityFieldHistory.csv", False] == 4
    assert counted["OpportunityFieldHistory.csv", True] == 0


def test_no_history_file_means_no_stage_history(built: Built) -> None:
    assert built.rows("opportunity_stage_history", "nostage") == []


def test_config_is_not_modified(built: Built) -> None:
    """Landing reads source.yml settings without changing them."""
    assert built.configs == built.before
    config = source_config()
    before = copy.deepcopy(config)
    with duckdb.connect() as con:
        land_crm(con, SALESFORCE, [crm_source(SF, config, NS)], "load-1", CONFIG_KEYS)
    assert config == before
