"""Salesforce Data Export (or synced Salesforce tables) -> canonical entities, in dbt.

The folder holds the CSV files of a Salesforce Data Export (Setup > Data Export, or a Data
Loader export): one UTF-8 file per object named `<Object>.csv`, with the objects' API field
names as headers (matched case-insensitively, so Data Loader's upper-case headers work too).
Every object file is optional. The files are not parsed in Python: they are landed verbatim
(orchestration/lib/crm_landing.py: DuckDB's CSV reader, `raw_salesforce.<object>`, Fivetran
column names, audit columns, load log), or, for a source.yml with `schema:` (and optionally
`database:`), copied from a synced schema of the same tables (Fivetran, Airbyte, dlt). The
business rules are dbt models: `stg_salesforce__<object>` (dbt_project/models/staging/
salesforce/) rename and cast, `int_salesforce__<entity>` (dbt_project/models/intermediate/crm/,
rules documented in `_crm__docs.md`) apply the rules below, `int_canonical__<entity>` bring the
rows to the marts. This module describes the objects landed (`SALESFORCE`) and the source.yml
keys written to `raw_salesforce._config` (`CONFIG_KEYS`). The files read and what they feed:

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

Other files of the export (Campaign.csv, Case.csv, ...) are not read. Every landed row is kept
or rejected with a reason (`int_salesforce__row_outcomes`, `int_salesforce__rejected_rows`):
deleted records (`IsDeleted` true, or `_fivetran_deleted` true in a synced table), unreadable
values, and values missing from a source.yml map (the reason names the value and the key to add
it under, e.g. `CallDisposition '不在' is not in source.yml call_disposition_map`). Ids are
namespaced with the source system and otherwise kept as exported (15 or 18 characters).
Salesforce exports date-times in UTC (`2025-04-03T01:00:00.000Z`); they become Asia/Tokyo wall
time `2025-04-03 10:00:00`.

The source.yml keys read (`CONFIG_KEYS`, plus `encoding`, `schema` and `database` read by
landing):

- `user_roles` (required when User.csv is present): UserRole.Name -> `{role: SDR|AE|CS|MANAGER,
  motion: inside|field}`, or null to leave the role's users out (they become rejects, as do
  users of a role missing from it).
- `user_overrides`: User.Id -> the same mapping (plus optional `team_id`, `team_name`,
  `agency_id`), winning over the role; needed for a user without a UserRoleId.
- `agency_roles`: UserRole.Name -> agency id, for agency (営業代行) staff.
- `agencies`: agency id -> name, or -> `{name: ..., fee_model: ...}`; emitted as the agencies
  entity (with namespaced ids, like the agency ids on users and leads).
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
  (`Closed - Converted`: converted, `Closed - Not Converted` and `Unqualified`: disqualified,
  `Working - Contacted`: working); IsConverted = true always gives `converted`, anything else
  `open`.
- `lead_agency_field`: Lead field with the agency id; without it (or when it is empty) a lead
  gets the agency of its owner (from `agency_roles` / `user_overrides`).
- `corporate_currency` (default JPY): currency of amounts when Opportunity.csv has no
  CurrencyIsoCode column (single-currency org), and the to_currency of exchange rates.
- `opportunity_type_map`: Opportunity.Type -> new|expansion|renewal over the defaults (empty,
  `New Business`, `New Customer`: new; `Existing Customer - Upgrade`: expansion;
  `Existing Customer - Replacement`, `Renewal`: renewal); an opportunity of another Type is
  rejected.
- `lost_reason_field`: Opportunity field with the lost reason (e.g. a custom `Loss_Reason__c`).
- `call_disposition_map` (required when calls have a CallDisposition): CallDisposition ->
  no_answer|connected|appointment_set; the key `""` maps calls without a disposition; a call
  with a disposition missing from it is rejected.
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
  without a role, roles without a kept user, and OpportunityFieldHistory rows when
  OpportunityHistory.csv is present (the stage history comes from one file only).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestration.lib.crm_landing import Crm, CrmObject, CrmSource

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
