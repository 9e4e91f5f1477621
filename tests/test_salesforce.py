"""The Salesforce Data Export converter on `salesforce_tiny`: the tiny fixture's facts as exported
by Salesforce (tests/fixtures/salesforce_tiny/README.md has the id correspondence)."""

from __future__ import annotations

import copy
import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from orchestration.sources.base import Conversion, MappingError
from orchestration.sources.salesforce import DELETED_REASON, convert, tokyo_timestamp

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
LINEAGE = ["_source_file", "_source_row"]
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


def sf(tiny_id: str) -> str:
    """The namespaced converted id of a tiny fixture id."""
    return f"{NS}:{SF_IDS[tiny_id]}"


def source_config() -> dict:
    return yaml.safe_load((SF / "source.yml").read_text(encoding="utf-8"))


def run(folder: Path = SF, config: dict | None = None) -> Conversion:
    return convert(folder, source_config() if config is None else config, NS)


@pytest.fixture(scope="module")
def conversion() -> Conversion:
    return run()


def by_id(frame: pd.DataFrame, column: str, value: str) -> dict:
    rows = frame[frame[column] == value]
    assert len(rows) == 1, f"{column} = {value}: {len(rows)} rows"
    return rows.iloc[0].to_dict()


def copy_export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SF, tmp_path / "export"))


def edit_csv(path: Path, edit: Callable[[list[str], list[list[str]]], tuple[list, list]]) -> None:
    """Rewrite an export file: `edit(header, rows)` returns the new header and rows."""
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    header, rows = edit(header, rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerows([header, *rows])


def set_value(row_id: str, column: str, value: str):
    """An `edit_csv` edit setting one field of the row with that Id."""

    def edit(header: list[str], rows: list[list[str]]):
        index = header.index(column)
        for row in rows:
            if row[0] == row_id:
                row[index] = value
        return header, rows

    return edit


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def as_tiny(value: object) -> str:
    """A converted value in tiny fixture terms: ids un-namespaced and translated, stages too."""
    if value is None or pd.isna(value):
        return ""
    text = str(value)
    if text.startswith(f"{NS}:"):
        return TINY_IDS[text.removeprefix(f"{NS}:")]
    return TINY_STAGES.get(text, text)


# --------------------------------------------------------------------------- the same facts


@pytest.mark.parametrize("entity", list(PRIMARY_KEYS))
def test_same_facts_as_the_tiny_fixture(conversion: Conversion, entity: str) -> None:
    expected = pd.read_csv(TINY / f"{entity}.csv", dtype=str, keep_default_na=False)
    converted = conversion.frames[entity][expected.columns].map(as_tiny)
    if entity == "users":  # team names are the role names; the tiny ids are team codes
        converted["team_name"] = conversion.frames[entity]["team_name"]
    keys = PRIMARY_KEYS[entity]
    expected = expected.sort_values(keys).reset_index(drop=True)
    converted = converted.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(converted, expected, check_dtype=False)


def test_no_subscriptions_spend_or_targets(conversion: Conversion) -> None:
    assert set(conversion.frames) == {*PRIMARY_KEYS, "exchange_rates"}


# --------------------------------------------------------------------------- values by hand


def test_opportunity_o1(conversion: Conversion) -> None:
    o1 = by_id(conversion.frames["opportunities"], "opportunity_id", sf("O1"))
    assert o1["opportunity_stage"] == "Closed Won"
    assert o1["amount"] == "1200000"
    assert o1["currency"] == "JPY"
    assert o1["created_at"] == "2025-04-03 10:00:00"  # 2025-04-03T01:00:00.000Z
    assert o1["close_date"] == "2025-05-13"
    assert o1["lead_id"] == sf("L1")
    assert o1["account_id"] == "salesforce:0015g00000Qk1aAAAR"
    assert (o1["opportunity_type"], o1["is_closed"], o1["is_won"]) == ("new", "true", "true")
    assert o1["_source_file"] == str(SF / "Opportunity.csv")
    assert o1["_source_row"] == 1


def test_opportunity_amount_type_and_lost_reason(conversion: Conversion) -> None:
    opportunities = conversion.frames["opportunities"]
    o2 = by_id(opportunities, "opportunity_id", sf("O2"))
    assert o2["amount"] == "2400000"  # exported as 2400000.00
    assert (o2["opportunity_type"], o2["lost_reason"]) == ("new", "price")  # Type New Business
    o4 = by_id(opportunities, "opportunity_id", sf("O4"))
    assert o4["opportunity_type"] == "new"  # empty Type
    assert o4["lead_id"] is None  # no lead was converted into O4
    assert o4["opportunity_stage"] == "Proposal/Price Quote"


def test_users_roles_teams_and_agency(conversion: Conversion) -> None:
    users = conversion.frames["users"]
    u1 = by_id(users, "user_id", sf("U1"))
    assert (u1["role"], u1["motion"], u1["team_name"]) == ("SDR", "inside", "インサイドセールス課")
    assert u1["team_id"] == "salesforce:00E5g000001Is7KEAS"
    assert u1["agency_id"] is None
    u4 = by_id(users, "user_id", sf("U4"))
    assert (u4["agency_id"], u4["hired_date"]) == ("salesforce:AG1", "2024-01-01")
    agencies = conversion.frames["agencies"]
    assert agencies[["agency_id", "agency_name", "fee_model"]].values.tolist() == [
        ["salesforce:AG1", "株式会社セールスブースト", "retainer"]
    ]


def test_leads_status_source_and_conversion(conversion: Conversion) -> None:
    leads = conversion.frames["leads"]
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


def test_activities(conversion: Conversion) -> None:
    activities = conversion.frames["activities"]
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


def test_stage_history_keeps_stage_changes_only(conversion: Conversion) -> None:
    history = conversion.frames["opportunity_stage_history"]
    o1 = history[history["opportunity_id"] == sf("O1")].sort_values("changed_at")
    assert o1[["opportunity_stage", "changed_at"]].values.tolist() == [
        ["Prospecting", "2025-04-03 10:00:00"],
        ["Needs Analysis", "2025-04-10 10:00:00"],
        ["Proposal/Price Quote", "2025-04-20 10:00:00"],
        ["Negotiation/Review", "2025-05-01 10:00:00"],
        ["Closed Won", "2025-05-13 10:00:00"],
    ]
    assert set(o1["changed_by_id"]) == {sf("U2")}
    assert AMOUNT_ONLY_HISTORY_ROW not in set(history["_source_row"])
    (amount_only,) = [
        r
        for r in conversion.rejects
        if r.row_number == AMOUNT_ONLY_HISTORY_ROW
        and r.source_file.endswith("OpportunityHistory.csv")
    ]
    assert amount_only.reason.startswith("no stage change")
    assert len(history) == 15


def test_stage_history_is_ordered_by_created_date(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    edit_csv(folder / "OpportunityHistory.csv", lambda header, rows: (header, rows[::-1]))
    history = run(folder).frames["opportunity_stage_history"].drop(columns=LINEAGE)
    expected = run().frames["opportunity_stage_history"].drop(columns=LINEAGE)
    key = ["opportunity_id", "changed_at"]
    pd.testing.assert_frame_equal(
        history.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True),
    )


# --------------------------------------------------------------------------- rejects, accounting


def test_deleted_lead_is_a_reject(conversion: Conversion) -> None:
    (deleted,) = [r for r in conversion.rejects if r.reason == DELETED_REASON]
    assert deleted.reason == "deleted in Salesforce (IsDeleted = true)"
    assert (deleted.source_file, deleted.row_number) == (str(SF / "Lead.csv"), 6)
    assert f"{NS}:{DELETED_LEAD}" not in set(conversion.frames["leads"]["lead_id"])


def test_every_file_is_accounted_for(conversion: Conversion) -> None:
    csv_files = sorted(SF.glob("*.csv"))
    accounts = {Path(a.source_file).name: a for a in conversion.files}
    assert sorted(accounts) == [p.name for p in csv_files]
    for path in csv_files:
        account = accounts[path.name]
        assert account.balanced, account
        assert account.rows_read == data_rows(path), path.name
        rejects = [r for r in conversion.rejects if r.source_file == str(path)]
        assert account.rows_rejected == len(rejects), path.name
    rejected = {Path(a.source_file).name: a.rows_rejected for a in conversion.files}
    assert {name: n for name, n in rejected.items() if n} == {
        "User.csv": 1,  # 連携ユーザー: no role
        "UserRole.csv": 1,  # 営業本部: no users
        "Lead.csv": 1,  # deleted
        "OpportunityHistory.csv": 1,  # amount-only change
    }


def test_user_and_role_rejects_say_why(conversion: Conversion) -> None:
    reasons = {Path(r.source_file).name: r for r in conversion.rejects}
    assert "no UserRoleId" in reasons["User.csv"].reason
    assert "user_overrides" in reasons["User.csv"].reason
    assert (reasons["UserRole.csv"].column, reasons["UserRole.csv"].value) == ("Name", "営業本部")


def test_unreadable_value_rejects_the_row(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    edit_csv(folder / "Opportunity.csv", set_value(SF_IDS["O4"], "CloseDate", "31/08/2025"))
    result = run(folder)
    (bad,) = [r for r in result.rejects if r.source_file.endswith("Opportunity.csv")]
    assert (bad.row_number, bad.column, bad.value) == (4, "CloseDate", "31/08/2025")
    assert len(result.frames["opportunities"]) == 3
    assert all(a.balanced for a in result.files)


def test_child_event_is_a_reject(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)

    def add_child(header: list[str], rows: list[list[str]]):
        child = list(rows[0])
        child[0] = "00U5g00000Ev7gWEAR"
        child[header.index("IsChild")] = "true"
        return header, [*rows, child]

    edit_csv(folder / "Event.csv", add_child)
    result = run(folder)
    (child,) = [r for r in result.rejects if r.source_file.endswith("Event.csv")]
    assert "group event" in child.reason
    assert len(result.frames["activities"]) == 6


# --------------------------------------------------------------------------- mapping errors


def test_unmapped_call_disposition() -> None:
    config = source_config()
    del config["call_disposition_map"]["不在"]
    with pytest.raises(MappingError) as error:
        run(config=config)
    message = str(error.value)
    assert "Task.csv" in message and "CallDisposition" in message
    assert "'不在' (1 rows)" in message
    assert "call_disposition_map:" in message and '"不在":' in message


def test_unmapped_lead_source_is_kept_as_it_is() -> None:
    """A picklist value missing from lead_source_map does not stop the night: the value is
    kept (dbt flags it unmapped_lead_source), the mapped ones are still mapped."""
    config = source_config()
    del config["lead_source_map"]["Web"]
    leads = run(config=config).frames["leads"]
    assert by_id(leads, "lead_id", sf("L1"))["lead_source"] == "Web"
    assert by_id(leads, "lead_id", sf("L3"))["lead_source"] == "seminar"


def test_unmapped_role() -> None:
    config = source_config()
    del config["user_roles"]["フィールドセールス1課"]
    with pytest.raises(MappingError) as error:
        run(config=config)
    message = str(error.value)
    assert "User.csv" in message and "'フィールドセールス1課' (2 rows)" in message
    assert "user_roles:" in message and "role: SDR" in message


def test_unmapped_opportunity_type(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    downgrade = "Existing Customer - Downgrade"
    edit_csv(folder / "Opportunity.csv", set_value(SF_IDS["O4"], "Type", downgrade))
    with pytest.raises(MappingError, match="opportunity_type_map") as error:
        run(folder)
    assert downgrade in str(error.value)


def test_invalid_role_in_config() -> None:
    config = source_config()
    config["user_roles"]["インサイドセールス課"] = {"role": "Appointer", "motion": "inside"}
    with pytest.raises(MappingError, match="user_roles"):
        run(config=config)


def test_missing_stage_name_column(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)

    def drop_stage(header: list[str], rows: list[list[str]]):
        index = header.index("StageName")
        return header[:index] + header[index + 1 :], [r[:index] + r[index + 1 :] for r in rows]

    edit_csv(folder / "Opportunity.csv", drop_stage)
    with pytest.raises(MappingError, match=r"Opportunity\.csv: required column StageName"):
        run(folder)


# --------------------------------------------------------------------------- options and variants


def test_exchange_rates(conversion: Conversion) -> None:
    rates = conversion.frames["exchange_rates"]
    rows = rates[["rate_date", "from_currency", "to_currency", "rate"]].values.tolist()
    assert rows == [
        ["2025-04-01", "JPY", "JPY", "1.000000"],  # the corporate currency is kept, rate 1
        ["2025-04-01", "USD", "JPY", "160.000000"],  # 1 / 0.00625
        ["2025-07-01", "USD", "JPY", "156.250000"],  # 1 / 0.0064
        ["2025-04-01", "EUR", "JPY", "172.413793"],  # 1 / 0.0058 = 172.4137931...
    ]


def test_single_currency_org_uses_corporate_currency(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)

    def drop_currency(header: list[str], rows: list[list[str]]):
        index = header.index("CurrencyIsoCode")
        return header[:index] + header[index + 1 :], [r[:index] + r[index + 1 :] for r in rows]

    edit_csv(folder / "Opportunity.csv", drop_currency)
    config = source_config()
    config["corporate_currency"] = "USD"
    assert set(run(folder, config).frames["opportunities"]["currency"]) == {"USD"}
    del config["corporate_currency"]
    assert set(run(folder, config).frames["opportunities"]["currency"]) == {"JPY"}


def test_timestamps_are_tokyo_wall_time() -> None:
    assert tokyo_timestamp("2025-04-03T01:00:00.000Z", "CreatedDate") == "2025-04-03 10:00:00"
    assert tokyo_timestamp("2025-03-31T15:30:00.000Z", "CreatedDate") == "2025-04-01 00:30:00"
    assert tokyo_timestamp("2025-03-31T15:30:00.000+0000", "X") == "2025-04-01 00:30:00"
    assert tokyo_timestamp("2025-03-31 15:30:00", "X") == "2025-04-01 00:30:00"  # UTC
    assert tokyo_timestamp("", "X") is None


def test_converted_at_without_the_opportunity_is_midnight(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    (folder / "Opportunity.csv").unlink()
    leads = run(folder).frames["leads"]
    assert by_id(leads, "lead_id", sf("L1"))["converted_at"] == "2025-04-03 00:00:00"


def test_lead_agency_defaults_to_the_owners_agency() -> None:
    config = source_config()
    del config["lead_agency_field"]
    leads = run(config=config).frames["leads"]
    assert by_id(leads, "lead_id", sf("L4"))["agency_id"] == "salesforce:AG1"
    assert by_id(leads, "lead_id", sf("L1"))["agency_id"] is None


def test_agency_given_by_name_only() -> None:
    config = source_config()
    config["agencies"] = {"AG1": "株式会社セールスブースト"}
    agencies = run(config=config).frames["agencies"]
    assert agencies[["agency_id", "agency_name", "fee_model"]].values.tolist() == [
        ["salesforce:AG1", "株式会社セールスブースト", None]
    ]


def test_lead_status_map_overrides_defaults() -> None:
    config = source_config()
    config["lead_status_map"] = {"Working - Contacted": "open"}
    leads = run(config=config).frames["leads"]
    assert by_id(leads, "lead_id", sf("L5"))["lead_status"] == "open"
    assert by_id(leads, "lead_id", sf("L1"))["lead_status"] == "converted"  # IsConverted


def test_user_override_brings_in_a_user_without_role() -> None:
    config = source_config()
    config["user_overrides"] = {
        "0055g00000Ab5VUAAZ": {"role": "MANAGER", "motion": "inside", "team_id": "SYS"}
    }
    result = run(config=config)
    user = by_id(result.frames["users"], "user_id", "salesforce:0055g00000Ab5VUAAZ")
    assert (user["role"], user["team_id"], user["user_name"]) == (
        "MANAGER",
        "salesforce:SYS",
        "連携ユーザー",
    )
    assert not [r for r in result.rejects if r.source_file.endswith("User.csv")]


def test_uppercase_data_loader_headers(tmp_path: Path, conversion: Conversion) -> None:
    folder = copy_export(tmp_path)
    edit_csv(folder / "Account.csv", lambda header, rows: ([h.upper() for h in header], rows))
    accounts = run(folder).frames["accounts"].drop(columns=LINEAGE)
    pd.testing.assert_frame_equal(accounts, conversion.frames["accounts"].drop(columns=LINEAGE))


# --------------------------------------------------------------------------- field history


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


def write_field_history(folder: Path) -> None:
    with (folder / "OpportunityFieldHistory.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(FIELD_HISTORY)


def test_field_history_when_there_is_no_opportunity_history(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    (folder / "OpportunityHistory.csv").unlink()
    write_field_history(folder)
    result = run(folder)
    history = result.frames["opportunity_stage_history"]
    assert history[["opportunity_stage", "changed_at", "_source_row"]].values.tolist() == [
        ["Prospecting", "2025-04-03 10:00:00", 1],  # `created`: OldValue of the first change
        ["Needs Analysis", "2025-04-10 10:00:00", 3],
        ["Closed Won", "2025-05-13 10:00:00", 4],
    ]
    (amount,) = [r for r in result.rejects if r.source_file.endswith("FieldHistory.csv")]
    assert (amount.row_number, amount.reason, amount.value) == (2, "not a stage change", "Amount")


def test_field_history_is_not_used_next_to_opportunity_history(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    write_field_history(folder)
    result = run(folder)
    assert len(result.frames["opportunity_stage_history"]) == 15
    rejects = [r for r in result.rejects if r.source_file.endswith("FieldHistory.csv")]
    assert len(rejects) == 4 and all("not used" in r.reason for r in rejects)
    assert all(a.balanced for a in result.files)


def test_no_history_file_means_no_stage_history(tmp_path: Path) -> None:
    folder = copy_export(tmp_path)
    (folder / "OpportunityHistory.csv").unlink()
    assert "opportunity_stage_history" not in run(folder).frames


def test_config_is_not_modified() -> None:
    config = source_config()
    before = copy.deepcopy(config)
    run(config=config)
    assert config == before
