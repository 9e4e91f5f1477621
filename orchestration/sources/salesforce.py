"""Salesforce Data Export -> canonical entities.

The folder holds the CSV files of a Salesforce Data Export (Setup > Data Export, or a Data
Loader export): one UTF-8 file per object named `<Object>.csv`, with the objects' API field
names as headers (matched case-insensitively, so Data Loader's upper-case headers work too).
Every object file is optional. The files are not parsed here: they are landed verbatim first
(orchestration/lib/crm_landing.py: DuckDB's CSV reader, `raw_salesforce.<object>`, Fivetran
column names, audit columns, load log), or, for a source.yml with `schema:` (and optionally
`database:`), copied from a synced schema of the same tables (Fivetran, Airbyte, dlt); this
module reads the landed rows of its source_system and applies the rules below. The files read
and what they feed:

| file                          | canonical entity                                   |
|-------------------------------|----------------------------------------------------|
| User.csv + UserRole.csv       | users (the role is the team)                       |
| Account.csv                   | accounts                                           |
| Contact.csv                   | contacts                                           |
| Lead.csv                      | leads                                              |
| Opportunity.csv               | opportunities                                      |
| OpportunityHistory.csv        | opportunity_stage_history (stage changes only)     |
| OpportunityFieldHistory.csv   | opportunity_stage_history when there is no         |
|                               | OpportunityHistory.csv (Field = StageName/created) |
| Task.csv, Event.csv           | activities                                         |
| DatedConversionRate.csv       | exchange_rates                                     |
| (source.yml `agencies`)       | agencies                                           |

Other files of the export (Campaign.csv, Case.csv, ...) are not read. Deleted records
(`IsDeleted` true, or `_fivetran_deleted` true in a synced table) are rejected with the reason
`DELETED_REASON` (`FIVETRAN_DELETED_REASON`). Ids are namespaced with the
source system and otherwise kept as exported (15 or 18 characters). Salesforce exports date-times
in UTC (`2025-04-03T01:00:00.000Z`); they become Asia/Tokyo wall time `2025-04-03 10:00:00`.

The source.yml keys read (the `config` dict):

- `user_roles` (required when User.csv is present): UserRole.Name -> `{role: SDR|AE|CS|MANAGER,
  motion: inside|field}`, or null to leave the role's users out (they become rejects).
- `user_overrides`: User.Id -> the same mapping (plus optional `team_id`, `team_name`,
  `agency_id`), winning over the role; needed for a user without a UserRoleId.
- `agency_roles`: UserRole.Name -> agency id, for agency (営業代行) staff.
- `agencies`: agency id -> name, or -> `{name: ..., fee_model: ...}`; emitted as the agencies
  entity (with namespaced ids, like the agency ids on users and leads; lineage
  `<folder>/source.yml#agencies` and the entry's position).
- `encoding` (default utf-8, a BOM allowed): the encoding of the export files; a file that
  does not decode is an error naming the file, line and byte offset of the first bad byte.
- `schema`, `database`: read the objects from a synced schema instead of files (see
  orchestration/lib/crm_landing.py).
- `hired_date_field`: a User date field holding the hiring date (e.g. a custom `HireDate__c`).
- `name_order`: `last_first` (default, 山田 花子) or `first_last`, used only when a file has no
  `Name` column and the full name is built from LastName/FirstName.
- `corporate_number_field`: Account field with the 法人番号 (e.g. `CorporateNumber__c`).
- `industry_map`: Account.Industry picklist value -> canonical industry (unmapped values kept).
- `lead_source_map` (required): Lead.LeadSource picklist value -> canonical lead_source
  (see seeds/lead_source_channels.csv); the key `""` maps an empty LeadSource. A value missing
  from it is kept as it is and flagged `unmapped_lead_source` (channel `unmapped`).
- `lead_status_map`: Lead.Status -> open|working|converted|disqualified, over the defaults
  `DEFAULT_LEAD_STATUS_MAP`; IsConverted = true always gives `converted`, anything else `open`.
- `lead_agency_field`: Lead field with the agency id; without it (or when it is empty) a lead
  gets the agency of its owner (from `agency_roles` / `user_overrides`).
- `corporate_currency` (default JPY): currency of amounts when Opportunity.csv has no
  CurrencyIsoCode column (single-currency org), and the to_currency of exchange rates.
- `opportunity_type_map`: Opportunity.Type -> new|expansion|renewal over
  `DEFAULT_OPPORTUNITY_TYPE_MAP` (an empty Type is `new`).
- `lost_reason_field`: Opportunity field with the lost reason (e.g. a custom `Loss_Reason__c`).
- `call_disposition_map` (required when calls have a CallDisposition): CallDisposition ->
  no_answer|connected|appointment_set; the key `""` maps calls without a disposition.
- `email_opened_field`: Task checkbox that is true when an e-mail was opened.
- `event_no_show_field`: Event checkbox that is true when a meeting did not take place.

Choices worth knowing:

- converted_at: Lead.ConvertedDate is a date; the converted opportunity's (or else contact's)
  CreatedDate is used when it falls on that date, else the date at 00:00:00.
- Task time: CompletedDateTime, else CreatedDate, else ActivityDate 00:00:00; when ActivityDate
  (the date the call was made) differs from the CreatedDate's date, ActivityDate 00:00:00.
- Call minutes: CallDurationInSeconds rounded up to whole minutes (40 s -> 1).
- Exchange rates: the corporate currency's own row (ConversionRate 1) is kept as a rate of 1.
- OpportunityHistory rows that do not change the stage (amount or close-date edits) are
  rejected with a reason; so are child copies of group events (Event.IsChild = true), users
  without a role, roles without a converted user, and OpportunityFieldHistory rows when
  OpportunityHistory.csv is present (the stage history comes from one file only).
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.lib.canonical_schema import (
    ENTITIES,
    FALSE_WORDS,
    LEAD_STATUSES,
    MOTIONS,
    OPPORTUNITY_TYPES,
    ROLES,
    TRUE_WORDS,
)
from orchestration.lib.crm_landing import (
    FILES_TABLE,
    FIVETRAN_DELETED,
    Crm,
    CrmObject,
    CrmSource,
    land_crm,
    snake_case,
)
from orchestration.sources.base import (
    LINEAGE_COLUMNS,
    TOKYO,
    Conversion,
    FileAccount,
    MappingError,
    Reject,
    namespaced,
)

DELETED_REASON = "deleted in Salesforce (IsDeleted = true)"
FIVETRAN_DELETED_REASON = "deleted in Salesforce (_fivetran_deleted = true in the synced table)"
# The objects read, with the fields the staging models read (dbt_project/models/staging/
# salesforce/): they land verbatim in raw_salesforce.<object> (orchestration/lib/crm_landing.py).
SALESFORCE = Crm(
    "salesforce",
    (
        CrmObject("User", ("Id", "IsDeleted", "Name", "FirstName", "LastName", "Email",
                           "UserRoleId", "IsActive", "CreatedDate", "SystemModstamp")),
        CrmObject("UserRole", ("Id", "IsDeleted", "Name", "SystemModstamp")),
        CrmObject("Account", ("Id", "IsDeleted", "Name", "Industry", "NumberOfEmployees",
                              "BillingState", "OwnerId", "CreatedDate", "SystemModstamp")),
        CrmObject("Contact", ("Id", "IsDeleted", "AccountId", "Name", "FirstName", "LastName",
                              "Email", "Phone", "MobilePhone", "Title", "CreatedDate",
                              "SystemModstamp")),
        CrmObject("Lead", ("Id", "IsDeleted", "OwnerId", "LeadSource", "Status", "IsConverted",
                           "ConvertedDate", "ConvertedAccountId", "ConvertedContactId",
                           "ConvertedOpportunityId", "CreatedDate", "SystemModstamp")),
        CrmObject("Opportunity", ("Id", "IsDeleted", "AccountId", "OwnerId", "StageName",
                                  "Amount", "CurrencyIsoCode", "Type", "CloseDate", "IsClosed",
                                  "IsWon", "CreatedDate", "SystemModstamp")),
        CrmObject("OpportunityHistory", ("Id", "IsDeleted", "OpportunityId", "StageName",
                                         "Amount", "CloseDate", "CreatedById", "CreatedDate",
                                         "SystemModstamp")),
        CrmObject("OpportunityFieldHistory", ("Id", "IsDeleted", "OpportunityId", "Field",
                                              "OldValue", "NewValue", "CreatedById",
                                              "CreatedDate")),
        CrmObject("Task", ("Id", "IsDeleted", "OwnerId", "WhoId", "WhatId", "AccountId",
                           "Subject", "TaskSubtype", "Type", "Status", "IsClosed",
                           "CallDisposition", "CallDurationInSeconds", "ActivityDate",
                           "CompletedDateTime", "CreatedDate", "SystemModstamp")),
        CrmObject("Event", ("Id", "IsDeleted", "OwnerId", "WhoId", "WhatId", "AccountId",
                            "Subject", "IsChild", "IsAllDayEvent", "ActivityDate",
                            "ActivityDateTime", "StartDateTime", "DurationInMinutes",
                            "CreatedDate", "SystemModstamp")),
        CrmObject("DatedConversionRate", ("Id", "IsoCode", "ConversionRate", "StartDate",
                                          "NextStartDate", "SystemModstamp")),
    ),
)  # fmt: skip
OBJECT_FILES = tuple(obj.file_name for obj in SALESFORCE.objects)
# The source.yml keys the models read, written to raw_salesforce._config.
CONFIG_KEYS = (
    "corporate_currency",
    "user_roles",
    "user_overrides",
    "agency_roles",
    "agencies",
    "hired_date_field",
    "name_order",
    "corporate_number_field",
    "industry_map",
    "lead_source_map",
    "lead_status_map",
    "lead_agency_field",
    "opportunity_type_map",
    "lost_reason_field",
    "call_disposition_map",
    "email_opened_field",
    "event_no_show_field",
)
# source.yml options naming a custom field, and the object the field is on.
CUSTOM_FIELD_OPTIONS = {
    "hired_date_field": "User",
    "corporate_number_field": "Account",
    "lead_agency_field": "Lead",
    "lost_reason_field": "Opportunity",
    "email_opened_field": "Task",
    "event_no_show_field": "Event",
}
DEFAULT_LEAD_STATUS_MAP = {
    "Closed - Converted": "converted",
    "Closed - Not Converted": "disqualified",
    "Unqualified": "disqualified",
    "Working - Contacted": "working",
}
DEFAULT_OPPORTUNITY_TYPE_MAP = {
    "": "new",
    "New Business": "new",
    "New Customer": "new",
    "Existing Customer - Upgrade": "expansion",
    "Existing Customer - Replacement": "renewal",
    "Renewal": "renewal",
}
OVERRIDE_TEXT_KEYS = ("role", "motion", "team_name")
CALL_OUTCOMES = ("no_answer", "connected", "appointment_set")
EMAIL_SUBTYPES = frozenset({"Email", "ListEmail"})
COMPLETED_STATUS = "Completed"
EMPLOYEE_BANDS = ((1000, "1000+"), (300, "300-999"), (50, "50-299"))
LEAD_PREFIX, ACCOUNT_PREFIX, OPPORTUNITY_PREFIX = "00Q", "001", "006"

Record = dict[str, Any]
Row = Mapping[str, str]


class RowError(Exception):
    """A value of one row cannot be converted: the row becomes a Reject with this reason."""

    def __init__(self, reason: str, column: str | None = None, value: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.value = value


@dataclass
class SfFile:
    """One export file: its live rows (deleted rows already rejected) and its row accounting."""

    name: str
    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (1-based data row, raw column -> value)
    rows_read: int
    used: set[int] = field(default_factory=set)
    rejects: list[Reject] = field(default_factory=list)

    def has(self, column: str) -> bool:
        """Whether the export had the column (an API name, matched as its raw column name)."""
        return key(column) in self.header

    def require(self, *columns: str) -> None:
        """Raise MappingError naming the file and the first missing required column."""
        for column in columns:
            if not self.has(column):
                raise MappingError(
                    f"{self.name}: required column {column} is missing "
                    f"(file {self.path}; columns found: {', '.join(self.header)})"
                )

    def use(self, number: int) -> None:
        self.used.add(number)

    def reject(
        self, number: int, reason: str, column: str | None = None, value: str | None = None
    ) -> None:
        self.rejects.append(Reject(str(self.path), number, reason, column, value))

    def reject_error(self, number: int, error: RowError) -> None:
        self.reject(number, error.reason, error.column, error.value)

    def account(self) -> FileAccount:
        """Row accounting; a row neither used nor rejected is rejected here (never dropped)."""
        rejected = {r.row_number for r in self.rejects}
        for number, _row in self.rows:
            if number not in self.used and number not in rejected:
                self.reject(number, "not used by the Salesforce converter")
        return FileAccount(str(self.path), self.rows_read, len(self.used), len(self.rejects))


@dataclass
class Context:
    """What every entity conversion needs: the files, the config and the source system."""

    folder: Path
    files: dict[str, SfFile]
    config: Mapping[str, Any]
    source_system: str

    def ns(self, value: object) -> str | None:
        return namespaced(self.source_system, value)

    def file(self, name: str) -> SfFile | None:
        return self.files.get(name)

    def mapping(self, key: str) -> dict[str, Any]:
        """A source.yml mapping (picklist value -> ...); {} when absent."""
        return config_mapping(self.config, key)


# --------------------------------------------------------------------------- values


@functools.cache
def key(column: str) -> str:
    """The raw column of an API field name (`StageName` -> `stage_name`)."""
    return snake_case(column)


def val(row: Row, column: str) -> str:
    """The stripped text of a field ("" when empty or absent)."""
    return (row.get(key(column)) or "").strip()


def tokyo_timestamp(text: str, column: str) -> str | None:
    """UTC Salesforce date-time (`2025-04-03T01:00:00.000Z`) -> `2025-04-03 10:00:00` Tokyo."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise RowError(f"{column} is not a date-time", column, text) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S")


def iso_date(text: str, column: str) -> str | None:
    """A Salesforce date (`2025-05-13`) as `YYYY-MM-DD`."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError as error:
        raise RowError(f"{column} is not a date", column, text) from error


def boolean(text: str, column: str) -> str | None:
    """`true`/`false` (also 1/0, yes/no) -> canonical `true`/`false`."""
    word = text.lower()
    if not word:
        return None
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise RowError(f"{column} is not a boolean", column, text)


def is_true(text: str) -> bool:
    return text.strip().lower() in TRUE_WORDS


def decimal_value(text: str, column: str) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation as error:
        raise RowError(f"{column} is not a number", column, text) from error
    if not number.is_finite():
        raise RowError(f"{column} is not a number", column, text)
    return number


def decimal_text(text: str, column: str) -> str | None:
    """A plain decimal: `1200000.00` -> `1200000`, `1200000.50` -> `1200000.5`."""
    number = decimal_value(text, column)
    if number is None:
        return None
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def employee_band(text: str) -> str | None:
    """NumberOfEmployees -> 1-49, 50-299, 300-999 or 1000+."""
    number = decimal_value(text, "NumberOfEmployees")
    if number is None:
        return None
    for floor, band in EMPLOYEE_BANDS:
        if number >= floor:
            return band
    return "1-49"


def minutes_from_seconds(text: str) -> str | None:
    """CallDurationInSeconds -> whole minutes, rounded up (40 s -> 1)."""
    seconds = decimal_value(text, "CallDurationInSeconds")
    return None if seconds is None else str(math.ceil(seconds / 60))


def integer_text(text: str, column: str) -> str | None:
    number = decimal_value(text, column)
    return None if number is None else str(int(number))


def full_name(row: Row, name_order: str) -> str | None:
    """Name, or LastName/FirstName joined in the configured order."""
    if val(row, "Name"):
        return val(row, "Name")
    parts = [val(row, "LastName"), val(row, "FirstName")]
    if name_order == "first_last":
        parts.reverse()
    return " ".join(p for p in parts if p) or None


def required(value: str | None, column: str, canonical: str) -> str:
    if not value:
        raise RowError(f"{column} is empty ({canonical} is required)", column, "")
    return value


def id_kind(value: str) -> str | None:
    """The object of a polymorphic WhoId/WhatId, from its key prefix."""
    kinds = {LEAD_PREFIX: "lead", ACCOUNT_PREFIX: "account", OPPORTUNITY_PREFIX: "opportunity"}
    return kinds.get(value[:3]) if value else None


# --------------------------------------------------------------------------- config


def config_mapping(config: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A mapping from source.yml with text keys (a YAML null key counts as "")."""
    value = config.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MappingError(f"source.yml: {key} must be a mapping, not {type(value).__name__}")
    return {"" if k is None else str(k): v for k, v in value.items()}


def check_values(key: str, mapping: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Every target of a source.yml map must be a canonical value."""
    allowed = tuple(allowed)
    wrong = {k: v for k, v in mapping.items() if v not in allowed}
    if wrong:
        shown = ", ".join(f"{k!r}: {v!r}" for k, v in wrong.items())
        raise MappingError(
            f"source.yml: {key} maps to values that are not canonical ({shown}); "
            f"use one of {', '.join(allowed)}"
        )


def unmapped_error(file: str, column: str, key: str, counts: Counter[str], hint: str) -> str:
    """The message for picklist values missing from a source.yml map, with YAML to add."""
    listed = ", ".join(f"{v or '(empty)'!r} ({n} rows)" for v, n in sorted(counts.items()))
    lines = "\n".join(f"  {json.dumps(v, ensure_ascii=False)}: {hint}" for v in sorted(counts))
    return (
        f"{file}: {column} values not mapped in source.yml: {listed}. "
        f"Add them under {key} in source.yml, e.g.:\n{key}:\n{lines}"
    )


def check_mapped(
    file: SfFile,
    column: str,
    key: str,
    mapping: Mapping[str, Any],
    values: Iterable[str],
    hint: str,
) -> None:
    """Raise MappingError listing the values that `mapping` (source.yml `key`) lacks."""
    counts = Counter(v for v in values if v not in mapping)
    if counts:
        raise MappingError(unmapped_error(file.name, column, key, counts, hint))


def role_spec(value: Any, where: str) -> dict[str, str]:
    """Validate a `{role, motion, ...}` entry of user_roles / user_overrides."""
    if not isinstance(value, Mapping):
        raise MappingError(
            f"source.yml: {where} must be a mapping like {{role: SDR, motion: inside}}, "
            f"not {value!r}"
        )
    spec = {str(k): str(v) for k, v in value.items() if v is not None}
    if spec.get("role") not in ROLES or spec.get("motion") not in MOTIONS:
        raise MappingError(
            f"source.yml: {where} needs role (one of {', '.join(ROLES)}) and motion "
            f"(one of {', '.join(MOTIONS)}); got {dict(value)!r}"
        )
    return spec


# --------------------------------------------------------------------------- files


def custom_fields(config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Object name -> the custom fields source.yml names on it (landed like known fields)."""
    fields: dict[str, tuple[str, ...]] = {}
    for option, object_name in CUSTOM_FIELD_OPTIONS.items():
        if config.get(option):
            fields[object_name] = (*fields.get(object_name, ()), str(config[option]))
    return fields


def crm_source(folder: Path, config: Mapping[str, Any], source_system: str) -> CrmSource:
    """The landing description of a Salesforce source folder."""
    return CrmSource(Path(folder), config, source_system, custom_fields(config))


def landed_export(
    con: duckdb.DuckDBPyConnection, obj: CrmObject, source_file: str, columns: list[str]
) -> SfFile:
    """One landed export file as live rows; rows with IsDeleted = true are rejected at once.

    Rows whose every field is empty are not counted (a blank line of a spreadsheet export).
    """
    table = f'{SALESFORCE.schema}."{obj.table}"'
    selected = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    cursor = con.execute(
        f"select _row_number, {selected} from {table} where _source_file = ? order by _row_number",
        [source_file],
    )
    records = [(row[0], dict(zip(columns, row[1:], strict=True))) for row in cursor.fetchall()]
    records = [(n, row) for n, row in records if any((v or "").strip() for v in row.values())]
    path = Path(source_file)
    export = SfFile(path.name, path, columns, [], len(records))
    for number, row in records:
        if is_true(val(row, "IsDeleted")):
            export.reject(number, DELETED_REASON, "IsDeleted", val(row, "IsDeleted"))
        elif is_true(val(row, FIVETRAN_DELETED)):
            export.reject(number, FIVETRAN_DELETED_REASON, FIVETRAN_DELETED, "true")
        else:
            export.rows.append((number, row))
    return export


def landed_exports(con: duckdb.DuckDBPyConnection, source_system: str) -> dict[str, SfFile]:
    """The files landed for the source (raw_salesforce), by object file name (`Lead.csv`)."""
    landed = con.execute(
        f"select object_name, source_file, columns from {SALESFORCE.schema}.{FILES_TABLE} "
        "where source_system = ?",
        [source_system],
    ).fetchall()
    objects = {obj.name: obj for obj in SALESFORCE.objects}
    return {
        objects[name].file_name: landed_export(con, objects[name], source_file, list(columns))
        for name, source_file, columns in landed
    }


def convert_rows(export: SfFile, build: Callable[[Row], Record]) -> list[Record]:
    """Build one record per live row; a RowError rejects the row with its reason."""
    records = []
    for number, row in export.rows:
        try:
            record = build(row)
        except RowError as error:
            export.reject_error(number, error)
            continue
        records.append(with_lineage(record, export, number))
        export.use(number)
    return records


def with_lineage(record: Record, export: SfFile, number: int) -> Record:
    return {**record, "_source_file": str(export.path), "_source_row": number}


def frame(entity: str, records: list[Record]) -> pd.DataFrame:
    """Records as text columns: every canonical column of the entity plus the lineage columns."""
    columns = [*ENTITIES[entity].column_names, *LINEAGE_COLUMNS]
    data = [[record.get(c) for c in columns] for record in records]
    result = pd.DataFrame(data, columns=columns, dtype=object)
    result["_source_row"] = result["_source_row"].astype("Int64")
    return result


def created_index(export: SfFile | None) -> dict[str, str]:
    """Id -> CreatedDate (Tokyo) of the live rows; unreadable values are left out."""
    index: dict[str, str] = {}
    for _number, row in export.rows if export else []:
        try:
            created = tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate")
        except RowError:
            continue
        if created:
            index[val(row, "Id")] = created
    return index


# --------------------------------------------------------------------------- agencies and users


def convert_agencies(ctx: Context, conversion: Conversion) -> set[str]:
    """source.yml `agencies` -> agencies entity; returns the agency ids (raw)."""
    agencies = ctx.mapping("agencies")
    records = []
    for position, (agency_id, value) in enumerate(agencies.items(), 1):
        spec = value if isinstance(value, Mapping) else {"name": value}
        name = spec.get("name") or spec.get("agency_name")
        if not name:
            raise MappingError(f"source.yml: agencies[{agency_id!r}] needs a name")
        records.append(
            {
                "agency_id": ctx.ns(agency_id),
                "agency_name": str(name),
                "fee_model": spec.get("fee_model"),
                "_source_file": f"{ctx.folder / 'source.yml'}#agencies",
                "_source_row": position,
            }
        )
    if records:
        conversion.add_frame("agencies", frame("agencies", records))
    return set(agencies)


def role_names(ctx: Context) -> dict[str, tuple[str, int]]:
    """UserRole.Id -> (Name, row number) of the live UserRole rows."""
    roles = ctx.file("UserRole.csv")
    if roles is None:
        return {}
    roles.require("Id", "Name")
    return {val(row, "Id"): (val(row, "Name"), number) for number, row in roles.rows}


@dataclass
class UserMapping:
    """The validated user_roles / user_overrides / agency_roles of source.yml."""

    roles: dict[str, dict[str, str] | None]
    overrides: dict[str, dict[str, str]]
    agency_roles: dict[str, str]

    @classmethod
    def from_config(cls, ctx: Context, agencies: set[str]) -> UserMapping:
        roles = {
            name: None if spec is None else role_spec(spec, f"user_roles[{name!r}]")
            for name, spec in ctx.mapping("user_roles").items()
        }
        overrides = {
            user_id: role_spec(spec, f"user_overrides[{user_id!r}]")
            for user_id, spec in ctx.mapping("user_overrides").items()
        }
        agency_roles = {k: str(v) for k, v in ctx.mapping("agency_roles").items()}
        unknown = set(agency_roles.values()) - agencies if agencies else set()
        if unknown:
            raise MappingError(
                f"source.yml: agency_roles names agencies missing from agencies: "
                f"{', '.join(sorted(unknown))}"
            )
        return cls(roles, overrides, agency_roles)


def check_user_roles(
    users: SfFile, roles: dict[str, tuple[str, int]], mapping: UserMapping
) -> None:
    """Every role of a user without an override must be in user_roles."""
    if not roles and any(val(r, "UserRoleId") for _n, r in users.rows):
        raise MappingError("User.csv: users have a UserRoleId but UserRole.csv is missing")
    names = [
        roles[val(row, "UserRoleId")][0]
        for _number, row in users.rows
        if val(row, "UserRoleId") in roles and val(row, "Id") not in mapping.overrides
    ]
    hint = "{role: SDR, motion: inside}  # role SDR/AE/CS/MANAGER, motion inside/field; or null"
    check_mapped(users, "UserRoleId (UserRole.Name)", "user_roles", mapping.roles, names, hint)


def user_assignment(
    row: Row, roles: dict[str, tuple[str, int]], mapping: UserMapping, ctx: Context
) -> tuple[Record, int | None]:
    """Team, role, motion and agency of one user; and the UserRole row it used."""
    user_id, role_id = val(row, "Id"), val(row, "UserRoleId")
    override = mapping.overrides.get(user_id)
    assignment: Record = {}
    role_row = None
    if role_id:
        if role_id not in roles:
            raise RowError("UserRoleId not found in UserRole.csv", "UserRoleId", role_id)
        role_name, role_row = roles[role_id]
        spec = mapping.roles.get(role_name)
        if spec is None and override is None:
            raise RowError(
                f"role {role_name!r} is set to null in source.yml user_roles (left out)",
                "UserRoleId",
                role_id,
            )
        agency = mapping.agency_roles.get(role_name)
        assignment = {"team_id": ctx.ns(role_id), "team_name": role_name}
        assignment.update({k: v for k, v in (spec or {}).items() if k in ("role", "motion")})
        assignment["agency_id"] = ctx.ns(agency)
    elif override is None:
        raise RowError(
            "user has no UserRoleId and no entry in source.yml user_overrides (not a sales user)",
            "UserRoleId",
            "",
        )
    if override:
        assignment.update({k: v for k, v in override.items() if k in OVERRIDE_TEXT_KEYS})
        assignment["agency_id"] = ctx.ns(override.get("agency_id")) or assignment.get("agency_id")
        if "team_id" in override:
            assignment["team_id"] = ctx.ns(override["team_id"])
    if not assignment.get("team_id"):
        raise MappingError(f"source.yml: user_overrides[{user_id!r}] needs a team_id (no role)")
    return assignment, role_row


def convert_users(ctx: Context, conversion: Conversion, agencies: set[str]) -> dict[str, str]:
    """User.csv (+ UserRole.csv) -> users; returns user id -> namespaced agency id."""
    users = ctx.file("User.csv")
    roles = role_names(ctx)
    if users is None:
        reject_unused_roles(ctx, set())
        return {}
    users.require("Id", "UserRoleId")
    mapping = UserMapping.from_config(ctx, agencies)
    check_user_roles(users, roles, mapping)
    used_roles: set[int] = set()
    name_order = str(ctx.config.get("name_order", "last_first"))
    hired_field = ctx.config.get("hired_date_field")
    if hired_field:
        users.require(hired_field)

    def build(row: Row) -> Record:
        assignment, role_row = user_assignment(row, roles, mapping, ctx)
        if role_row is not None:
            used_roles.add(role_row)
        return {
            "user_id": ctx.ns(val(row, "Id")),
            "user_name": full_name(row, name_order),
            "email": val(row, "Email") or None,
            **{k: assignment.get(k) for k in ("team_id", "team_name", "role", "motion")},
            "agency_id": assignment.get("agency_id"),
            "hired_date": iso_date(val(row, hired_field), hired_field) if hired_field else None,
            "is_active": boolean(val(row, "IsActive"), "IsActive"),
        }

    records = convert_rows(users, build)
    conversion.add_frame("users", frame("users", records))
    reject_unused_roles(ctx, used_roles)
    return {r["user_id"]: r["agency_id"] for r in records if r["agency_id"]}


def reject_unused_roles(ctx: Context, used_rows: set[int]) -> None:
    """UserRole rows are used when a converted user has the role (its name is the team name)."""
    roles = ctx.file("UserRole.csv")
    for number, row in roles.rows if roles else []:
        if number in used_rows:
            roles.use(number)
        else:
            reason = "no converted user in User.csv has this role (no team emitted)"
            roles.reject(number, reason, "Name", val(row, "Name"))


# --------------------------------------------------------------------------- accounts, contacts


def convert_accounts(ctx: Context, conversion: Conversion) -> None:
    accounts = ctx.file("Account.csv")
    if accounts is None:
        return
    accounts.require("Id", "Name")
    number_field = ctx.config.get("corporate_number_field")
    if number_field:
        accounts.require(number_field)
    industries = ctx.mapping("industry_map")

    def build(row: Row) -> Record:
        industry = val(row, "Industry")
        return {
            "account_id": ctx.ns(val(row, "Id")),
            "account_name": required(val(row, "Name"), "Name", "account_name"),
            "corporate_number": (val(row, number_field) or None) if number_field else None,
            "industry": industries.get(industry, industry) or None,
            "employee_band": employee_band(val(row, "NumberOfEmployees")),
            "prefecture": val(row, "BillingState") or None,
            "created_at": tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate"),
        }

    conversion.add_frame("accounts", frame("accounts", convert_rows(accounts, build)))


def convert_contacts(ctx: Context, conversion: Conversion) -> None:
    contacts = ctx.file("Contact.csv")
    if contacts is None:
        return
    contacts.require("Id")
    name_order = str(ctx.config.get("name_order", "last_first"))

    def build(row: Row) -> Record:
        return {
            "contact_id": ctx.ns(val(row, "Id")),
            "account_id": ctx.ns(val(row, "AccountId")),
            "full_name": full_name(row, name_order),
            "email": val(row, "Email") or None,
            "phone": val(row, "Phone") or val(row, "MobilePhone") or None,
            "title": val(row, "Title") or None,
            "created_at": tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate"),
        }

    conversion.add_frame("contacts", frame("contacts", convert_rows(contacts, build)))


# --------------------------------------------------------------------------- leads


def lead_status(row: Row, status_map: Mapping[str, str]) -> str:
    """IsConverted wins; then source.yml lead_status_map over the defaults; else open."""
    if is_true(val(row, "IsConverted")):
        return "converted"
    return status_map.get(val(row, "Status"), "open")


def converted_at(
    row: Row, opportunity_created: dict[str, str], contact_created: dict[str, str]
) -> str | None:
    """ConvertedDate with the time of the record created by the conversion when it matches."""
    converted_date = iso_date(val(row, "ConvertedDate"), "ConvertedDate")
    if converted_date is None:
        return None
    candidates = (
        opportunity_created.get(val(row, "ConvertedOpportunityId")),
        contact_created.get(val(row, "ConvertedContactId")),
    )
    for created in candidates:
        if created and created[:10] == converted_date:
            return created
    return f"{converted_date} 00:00:00"


def convert_leads(ctx: Context, conversion: Conversion, user_agencies: dict[str, str]) -> None:
    leads = ctx.file("Lead.csv")
    if leads is None:
        return
    leads.require("Id", "CreatedDate", "LeadSource", "Status")
    # A LeadSource value missing from lead_source_map (a picklist value added since the map was
    # written) is kept as it is: dbt flags the lead `unmapped_lead_source` and counts it under
    # the channel `unmapped`; the rule blocks only when most leads are unmapped.
    sources = ctx.mapping("lead_source_map")
    status_map = {**DEFAULT_LEAD_STATUS_MAP, **ctx.mapping("lead_status_map")}
    check_values("lead_status_map", status_map, LEAD_STATUSES)
    agency_field = ctx.config.get("lead_agency_field")
    if agency_field:
        leads.require(agency_field)
    opportunity_created = created_index(ctx.file("Opportunity.csv"))
    contact_created = created_index(ctx.file("Contact.csv"))

    def build(row: Row) -> Record:
        owner_id = ctx.ns(val(row, "OwnerId"))
        agency = ctx.ns(val(row, agency_field)) if agency_field else None
        return {
            "lead_id": ctx.ns(val(row, "Id")),
            "created_at": required(
                tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate"), "CreatedDate", "created_at"
            ),
            "lead_source": sources.get(val(row, "LeadSource"), val(row, "LeadSource")),
            "lead_status": lead_status(row, status_map),
            "owner_id": owner_id,
            "agency_id": agency or user_agencies.get(owner_id or ""),
            "account_id": ctx.ns(val(row, "ConvertedAccountId")),
            "contact_id": ctx.ns(val(row, "ConvertedContactId")),
            "converted_at": converted_at(row, opportunity_created, contact_created),
            "converted_opportunity_id": ctx.ns(val(row, "ConvertedOpportunityId")),
        }

    conversion.add_frame("leads", frame("leads", convert_rows(leads, build)))


def leads_by_opportunity(ctx: Context) -> dict[str, str]:
    """ConvertedOpportunityId -> Lead Id (the earliest converted lead when several)."""
    leads = ctx.file("Lead.csv")
    candidates = sorted(
        (val(row, "ConvertedDate"), val(row, "CreatedDate"), number, row)
        for number, row in (leads.rows if leads else [])
        if val(row, "ConvertedOpportunityId")
    )
    index: dict[str, str] = {}
    for *_order, row in candidates:
        index.setdefault(val(row, "ConvertedOpportunityId"), val(row, "Id"))
    return index


# --------------------------------------------------------------------------- opportunities


def convert_opportunities(ctx: Context, conversion: Conversion) -> None:
    opportunities = ctx.file("Opportunity.csv")
    if opportunities is None:
        return
    opportunities.require("Id", "AccountId", "OwnerId", "CreatedDate", "StageName")
    opportunities.require("IsClosed", "IsWon")
    types = {**DEFAULT_OPPORTUNITY_TYPE_MAP, **ctx.mapping("opportunity_type_map")}
    check_values("opportunity_type_map", types, OPPORTUNITY_TYPES)
    values = (val(row, "Type") for _n, row in opportunities.rows)
    hint = "new  # or expansion / renewal"
    check_mapped(opportunities, "Type", "opportunity_type_map", types, values, hint)
    currency = str(ctx.config.get("corporate_currency", "JPY"))
    lost_field = ctx.config.get("lost_reason_field")
    if lost_field:
        opportunities.require(lost_field)
    lead_of = leads_by_opportunity(ctx)

    def build(row: Row) -> Record:
        created = tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate")
        return {
            "opportunity_id": ctx.ns(val(row, "Id")),
            "account_id": ctx.ns(required(val(row, "AccountId"), "AccountId", "account_id")),
            "owner_id": ctx.ns(required(val(row, "OwnerId"), "OwnerId", "owner_id")),
            "lead_id": ctx.ns(lead_of.get(val(row, "Id"))),
            "created_at": required(created, "CreatedDate", "created_at"),
            "close_date": iso_date(val(row, "CloseDate"), "CloseDate"),
            "opportunity_stage": required(val(row, "StageName"), "StageName", "opportunity_stage"),
            "amount": decimal_text(val(row, "Amount"), "Amount"),
            "currency": val(row, "CurrencyIsoCode") or currency,
            "opportunity_type": types[val(row, "Type")],
            "is_closed": required(
                boolean(val(row, "IsClosed"), "IsClosed"), "IsClosed", "is_closed"
            ),
            "is_won": required(boolean(val(row, "IsWon"), "IsWon"), "IsWon", "is_won"),
            "lost_reason": (val(row, lost_field) or None) if lost_field else None,
        }

    conversion.add_frame(
        "opportunities", frame("opportunities", convert_rows(opportunities, build))
    )


# --------------------------------------------------------------------------- stage history


@dataclass(frozen=True)
class StageEntry:
    """One candidate stage-history row, before consecutive repeats are collapsed."""

    number: int
    opportunity_id: str
    stage: str
    changed_at: str
    changed_by: str


def collapse_stages(export: SfFile, entries: list[StageEntry], ctx: Context) -> list[Record]:
    """Keep the entries whose stage differs from the opportunity's previous entry."""
    records = []
    previous: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: (e.opportunity_id, e.changed_at, e.number)):
        if previous.get(entry.opportunity_id) == entry.stage:
            export.reject(
                entry.number,
                "no stage change (the stage equals the previous row of the opportunity: "
                "an amount or close-date change)",
                "StageName",
                entry.stage,
            )
            continue
        previous[entry.opportunity_id] = entry.stage
        record = {
            "opportunity_id": ctx.ns(entry.opportunity_id),
            "opportunity_stage": entry.stage,
            "changed_at": entry.changed_at,
            "changed_by_id": ctx.ns(entry.changed_by),
        }
        records.append(with_lineage(record, export, entry.number))
        export.use(entry.number)
    return records


def stage_entry(number: int, row: Row, stage: str) -> StageEntry:
    """A stage entry of a history row; RowError when a required value is missing."""
    changed_at = tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate")
    return StageEntry(
        number,
        required(val(row, "OpportunityId"), "OpportunityId", "opportunity_id"),
        required(stage, "StageName", "opportunity_stage"),
        required(changed_at, "CreatedDate", "changed_at"),
        val(row, "CreatedById"),
    )


def history_entries(export: SfFile) -> list[StageEntry]:
    """OpportunityHistory rows as stage entries (one per stage, amount or close-date change)."""
    export.require("OpportunityId", "StageName", "CreatedDate")
    entries = []
    for number, row in export.rows:
        try:
            entries.append(stage_entry(number, row, val(row, "StageName")))
        except RowError as error:
            export.reject_error(number, error)
    return entries


def initial_stages(export: SfFile, ctx: Context) -> dict[str, str]:
    """Opportunity id -> stage at creation: OldValue of its first StageName change, else the
    opportunity's current StageName (Opportunity.csv)."""
    opportunities = ctx.file("Opportunity.csv")
    stages = (
        {val(r, "Id"): val(r, "StageName") for _n, r in opportunities.rows} if opportunities else {}
    )
    changes = sorted(
        (val(row, "CreatedDate"), number, row)
        for number, row in export.rows
        if val(row, "Field") == "StageName"
    )
    first: dict[str, str] = {}
    for *_order, row in changes:
        first.setdefault(val(row, "OpportunityId"), val(row, "OldValue"))
    return {**stages, **first}


def field_history_entries(export: SfFile, ctx: Context) -> list[StageEntry]:
    """OpportunityFieldHistory: StageName rows (NewValue), `created` rows (initial stage)."""
    export.require("OpportunityId", "Field", "NewValue", "CreatedDate")
    initial = initial_stages(export, ctx)
    entries = []
    for number, row in export.rows:
        changed = val(row, "Field")
        try:
            if changed == "StageName":
                entries.append(stage_entry(number, row, val(row, "NewValue")))
            elif changed == "created":
                stage = initial.get(val(row, "OpportunityId"), "")
                entries.append(stage_entry(number, row, stage))
            else:
                export.reject(number, "not a stage change", "Field", changed)
        except RowError as error:
            export.reject_error(number, error)
    return entries


def convert_stage_history(ctx: Context, conversion: Conversion) -> None:
    """OpportunityHistory, else OpportunityFieldHistory; neither: no stage history at all."""
    history = ctx.file("OpportunityHistory.csv")
    field_history = ctx.file("OpportunityFieldHistory.csv")
    if history is not None:
        records = collapse_stages(history, history_entries(history), ctx)
        for number, _row in field_history.rows if field_history else []:
            field_history.reject(
                number, "not used: the stage history is taken from OpportunityHistory.csv"
            )
    elif field_history is not None:
        entries = field_history_entries(field_history, ctx)
        records = collapse_stages(field_history, entries, ctx)
    else:
        return
    conversion.add_frame("opportunity_stage_history", frame("opportunity_stage_history", records))


# --------------------------------------------------------------------------- activities


def related_ids(row: Row, ctx: Context) -> Record:
    """lead_id from WhoId (00Q), opportunity_id/account_id from WhatId (006/001) or AccountId."""
    who, what = val(row, "WhoId"), val(row, "WhatId")
    what_kind = id_kind(what)
    account = what if what_kind == "account" else val(row, "AccountId")
    return {
        "lead_id": ctx.ns(who) if id_kind(who) == "lead" else None,
        "opportunity_id": ctx.ns(what) if what_kind == "opportunity" else None,
        "account_id": ctx.ns(account),
    }


def task_type(row: Row, subtype_column: str) -> str:
    """TaskSubtype (or Type) Call -> call, Email/ListEmail -> email, anything else -> task."""
    subtype = val(row, subtype_column)
    if subtype == "Call":
        return "call"
    return "email" if subtype in EMAIL_SUBTYPES else "task"


def task_time(row: Row) -> str:
    """CompletedDateTime, else CreatedDate unless ActivityDate names another day."""
    completed = tokyo_timestamp(val(row, "CompletedDateTime"), "CompletedDateTime")
    if completed:
        return completed
    created = tokyo_timestamp(val(row, "CreatedDate"), "CreatedDate")
    activity_date = iso_date(val(row, "ActivityDate"), "ActivityDate")
    if activity_date and (created is None or created[:10] != activity_date):
        return f"{activity_date} 00:00:00"
    return required(created, "CreatedDate", "activity_at")


def task_outcome(
    row: Row, kind: str, dispositions: Mapping[str, str], opened_field: str | None
) -> str | None:
    """call: the mapped CallDisposition; email: opened/sent; task: completed when closed."""
    closed = is_true(val(row, "IsClosed")) or val(row, "Status") == COMPLETED_STATUS
    if kind == "call":
        return dispositions.get(val(row, "CallDisposition"))
    if kind == "email":
        if opened_field and is_true(val(row, opened_field)):
            return "opened"
        return "sent" if closed else None
    return "completed" if closed else None


def convert_tasks(ctx: Context) -> list[Record]:
    tasks = ctx.file("Task.csv")
    if tasks is None:
        return []
    tasks.require("Id", "OwnerId", "CreatedDate")
    subtype_column = "TaskSubtype" if tasks.has("TaskSubtype") or not tasks.has("Type") else "Type"
    tasks.require(subtype_column)
    dispositions = {str(k): str(v) for k, v in ctx.mapping("call_disposition_map").items()}
    check_values("call_disposition_map", dispositions, CALL_OUTCOMES)
    calls = (
        val(r, "CallDisposition") for _n, r in tasks.rows if task_type(r, subtype_column) == "call"
    )
    hint = "connected  # or no_answer / appointment_set"
    check_mapped(
        tasks,
        "CallDisposition",
        "call_disposition_map",
        dispositions,
        (c for c in calls if c),
        hint,
    )
    opened_field = ctx.config.get("email_opened_field")
    if opened_field:
        tasks.require(opened_field)

    def build(row: Row) -> Record:
        kind = task_type(row, subtype_column)
        return {
            "activity_id": ctx.ns(val(row, "Id")),
            "activity_type": kind,
            "activity_at": task_time(row),
            "owner_id": ctx.ns(required(val(row, "OwnerId"), "OwnerId", "owner_id")),
            "outcome": task_outcome(row, kind, dispositions, opened_field),
            "duration_minutes": minutes_from_seconds(val(row, "CallDurationInSeconds"))
            if kind == "call"
            else None,
            **related_ids(row, ctx),
            "subject": val(row, "Subject") or None,
        }

    return convert_rows(tasks, build)


def event_time(row: Row) -> tuple[str, str | None]:
    """(activity_at, duration_minutes); an all-day event is its ActivityDate, no duration."""
    if is_true(val(row, "IsAllDayEvent")) and val(row, "ActivityDate"):
        return f"{iso_date(val(row, 'ActivityDate'), 'ActivityDate')} 00:00:00", None
    column = "StartDateTime" if val(row, "StartDateTime") else "ActivityDateTime"
    start = required(tokyo_timestamp(val(row, column), column), column, "activity_at")
    return start, integer_text(val(row, "DurationInMinutes"), "DurationInMinutes")


def convert_events(ctx: Context) -> list[Record]:
    events = ctx.file("Event.csv")
    if events is None:
        return []
    events.require("Id", "OwnerId")
    if not (events.has("StartDateTime") or events.has("ActivityDateTime")):
        events.require("StartDateTime")
    no_show_field = ctx.config.get("event_no_show_field")
    if no_show_field:
        events.require(no_show_field)

    def build(row: Row) -> Record:
        if is_true(val(row, "IsChild")):
            raise RowError(
                "child copy of a group event (the invitee's copy; the parent event is kept)",
                "IsChild",
                val(row, "IsChild"),
            )
        activity_at, minutes = event_time(row)
        no_show = bool(no_show_field) and is_true(val(row, no_show_field))
        return {
            "activity_id": ctx.ns(val(row, "Id")),
            "activity_type": "meeting",
            "activity_at": activity_at,
            "owner_id": ctx.ns(required(val(row, "OwnerId"), "OwnerId", "owner_id")),
            "outcome": "no_show" if no_show else "held",
            "duration_minutes": minutes,
            **related_ids(row, ctx),
            "subject": val(row, "Subject") or None,
        }

    return convert_rows(events, build)


def convert_activities(ctx: Context, conversion: Conversion) -> None:
    if ctx.file("Task.csv") is None and ctx.file("Event.csv") is None:
        return
    records = convert_tasks(ctx) + convert_events(ctx)
    conversion.add_frame("activities", frame("activities", records))


# --------------------------------------------------------------------------- exchange rates


def convert_exchange_rates(ctx: Context, conversion: Conversion) -> None:
    """Salesforce rate = IsoCode units per corporate unit -> rate = 1 / ConversionRate."""
    rates = ctx.file("DatedConversionRate.csv")
    if rates is None:
        return
    rates.require("IsoCode", "ConversionRate", "StartDate")
    corporate = str(ctx.config.get("corporate_currency", "JPY"))

    def build(row: Row) -> Record:
        rate = decimal_value(val(row, "ConversionRate"), "ConversionRate")
        if rate is None or rate <= 0:
            raise RowError("ConversionRate must be a positive number", "ConversionRate", str(rate))
        return {
            "rate_date": required(
                iso_date(val(row, "StartDate"), "StartDate"), "StartDate", "rate_date"
            ),
            "from_currency": required(val(row, "IsoCode"), "IsoCode", "from_currency").upper(),
            "to_currency": corporate,
            "rate": str((1 / rate).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)),
        }

    conversion.add_frame("exchange_rates", frame("exchange_rates", convert_rows(rates, build)))


# --------------------------------------------------------------------------- entry point


def convert(
    folder: Path,
    config: dict,
    source_system: str,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Conversion:
    """Convert a Salesforce source to canonical frames, rejects and file accounts.

    The rows are read from raw_salesforce (orchestration/lib/crm_landing.py) of `con`, where the
    pipeline has landed every Salesforce source; without `con` the source is landed first into
    an in-memory database.
    """
    folder = Path(folder)
    if con is None:
        with duckdb.connect() as memory:
            land_crm(
                memory,
                SALESFORCE,
                [crm_source(folder, config or {}, source_system)],
                load_id="",
                error=MappingError,
            )
            return convert(folder, config, source_system, memory)
    files = landed_exports(con, source_system)
    if not files:
        raise MappingError(
            f"{folder}: no Salesforce export file found (expected some of {', '.join(OBJECT_FILES)})"
        )
    ctx = Context(folder, files, config or {}, source_system)
    conversion = Conversion(source_system=source_system)
    agencies = convert_agencies(ctx, conversion)
    user_agencies = convert_users(ctx, conversion, agencies)
    convert_accounts(ctx, conversion)
    convert_contacts(ctx, conversion)
    convert_leads(ctx, conversion, user_agencies)
    convert_opportunities(ctx, conversion)
    convert_stage_history(ctx, conversion)
    convert_activities(ctx, conversion)
    convert_exchange_rates(ctx, conversion)
    for export in files.values():
        conversion.files.append(export.account())
        conversion.rejects.extend(export.rejects)
    return conversion
