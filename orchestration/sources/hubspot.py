"""HubSpot CRM exports (or synced HubSpot tables) -> canonical entities, in dbt.

The source folder holds HubSpot exports (CSV or .xlsx) whose headers are property *labels*
("Record ID", "Deal Stage", "Date entered \"Closed Won (Sales Pipeline)\"" ...). Files are
recognised by name (`files:`), one or more per kind:

| kind      | default name patterns  | canonical entities                            |
|-----------|------------------------|-----------------------------------------------|
| owners    | `*owners*`, `*users*`  | users                                         |
| companies | `*companies*`          | accounts                                      |
| contacts  | `*contacts*`           | contacts, leads (contacts that became a lead) |
| deals     | `*deals*`              | opportunities, opportunity_stage_history      |
| calls     | `*calls*`              | activities (call)                             |
| emails    | `*emails*`             | activities (email)                            |
| meetings  | `*meetings*`           | activities (meeting)                          |

The files are not parsed in Python: each lands verbatim (`HUBSPOT`, landed by
orchestration/lib/crm_landing.py with DuckDB's CSV reader, after an .xlsx or cp932 file is
turned into UTF-8 CSV text by `export_text`) in `raw_hubspot.<table>` (Fivetran's table names,
`TABLES`), its columns named by HubSpot internal property names (`PROPERTIES`; unknown labels
snake-cased, `Date entered "<Stage> (<Pipeline>)"` -> `date_entered__<stage>__<pipeline>` with
the labels in `raw_hubspot._config`), or, for a source.yml with `schema:` (and optionally
`database:`), is copied from a synced schema of the same tables (Fivetran's `property_` prefix
removed). The business rules are dbt models: `stg_hubspot__<object>` (dbt_project/models/
staging/hubspot/) rename and cast, `int_hubspot__<entity>` (dbt_project/models/intermediate/
crm_hubspot/, rules documented in `_crm_hubspot__docs.md`) apply the rules below, and
`int_hubspot__rejected_rows` / `int_hubspot__row_outcomes` account for every landed row. This
module describes the files and objects landed and the source.yml keys written to
`raw_hubspot._config` (`CONFIG_KEYS`).

Keys read from the source's `source.yml`:

- `timezone` (default `Asia/Tokyo`): the portal's time zone; export timestamps are in it and are
  converted to Asia/Tokyo wall time.
- `files`: kind -> glob pattern(s) (a list, or one string with `|` between patterns).
  `ignore_files`: patterns of CSV/xlsx files in the folder that are not exports to land.
  Patterns are file names in the folder: a path (`/`, `..`) is refused. A file matching no
  kind stops the landing (name it under `files:` or `ignore_files:`).
- `encoding`: the encoding of the CSV exports; default UTF-8 (BOM allowed), else cp932.
- `columns`: kind -> {field: header label} to override a default label (e.g. a portal that
  exports Japanese labels); the fields are the keys of `FIELDS` below.
- `owner_roles`: owner id or team name -> `{role, motion, agency_id?, team_id?}`; an owner id
  entry wins over its team's entry. An owner with neither is rejected, the reason naming the
  owner, the team and this key.
- `owner_aliases`: owner value as it appears in an export (name, e-mail) -> owner id, for
  owners missing from the owners export. Without an alias such a record is kept with the owner
  id `unlisted-<hash of the value>` and flagged `unknown_owner` in `data_quality_issues`.
- `agencies`: agency id -> name (or `{name, fee_model}`); emitted as agencies.
- `agency_property`: contact property naming the lead's agency (agency id or name). Without it,
  or when empty, a lead's agency is its owner's agency (from `owner_roles`).
- `lead_source_property` (default: "Original Source", "Original Traffic Source") and
  `lead_source_map`: source value -> canonical lead source. A value missing from it is kept as
  it is and flagged `unmapped_lead_source` (channel `unmapped`).
- `lead_status_map`: lifecycle stage or "Lead Status" value -> open/working/converted/
  disqualified (extends HubSpot's defaults).
- `call_outcome_map`: "Call outcome" value -> canonical outcome (HubSpot defaults: Busy,
  Connected, Left live message, Left voicemail, No answer, Wrong number; custom outcomes such
  as アポ獲得 need a line too).
- `meeting_outcome_map`: "Meeting outcome" -> held/no_show/reject (extends the defaults:
  Scheduled and Completed are held, No show is no_show, Canceled and Rescheduled are rejected
  with the reason "meeting canceled" / "meeting rescheduled").
- `deal_type_map` ("Deal Type" -> new/expansion/renewal, extends the defaults New Business and
  Existing Business) and `default_deal_type` (default `new`) for deals without a type.
- `won_stages` / `lost_stages` (default `Closed Won` / `Closed Lost`): stage labels.
- `currency` (default `JPY`): for deals without a "Currency" column value.
- `schema`, `database`: read the objects from a synced schema instead of files; then
  `date_entered_columns` names the stage and pipeline labels of its `hs_date_entered_<stage
  id>` columns (`{hs_date_entered_closedwon: {stage: Closed Won, pipeline: Sales Pipeline}}`).
- `infer_initial_stage` (default false): a deal without any "Date entered" value gets one history
  row, its current stage at its Create Date.
- `corporate_number_property`: company property holding the 法人番号.
- `industry_map`: industry label -> canonical industry (unmapped labels pass through).
- `name_order` (default `family_first`): how first/last names make a full name
  (`family_first`: "山田 花子"; `given_first`: "花子 山田").

A value missing from a map that has no pass-through (lead status, agency, Deal Type, call or
meeting outcome) rejects the row, the reason naming the value and the source.yml key to add it
under; the night goes on. Rules (the dbt models): the stage history comes from the `Date entered
"<Stage> (<Pipeline>)"` properties (one row per stage with a value; HubSpot keeps only the
latest entry into a stage, and "Date exited" adds nothing to one-row-per-entry history, so it is
not read). Stage labels are kept as they are; the seed stage_map maps them for source_system
`hubspot`. Leads and contacts share ids (a HubSpot lead is a contact). A later duplicate of a
Record ID supersedes an earlier one (the earlier row is rejected), a row a sync marks
`_fivetran_deleted` is rejected with `FIVETRAN_DELETED_REASON`, an unreadable value or an empty
required one (Record ID, Deal Stage, Create Date, Activity date) rejects the row with the
column's label.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.lib.crm_landing import FIVETRAN_DELETED, Crm, CrmObject, CrmSource, snake_case
from orchestration.lib.input_files import (
    bad_byte,
    check_relative,
    refuse_duplicate_columns,
    refuse_outside,
)
from orchestration.sources.base import MappingError
from orchestration.sources.readers import SOURCE_ENCODING_HINT, decode_export, xlsx_records

DATA_SUFFIXES = (".csv", ".xlsx", ".xlsm")
KINDS = ("owners", "companies", "contacts", "deals", "calls", "emails", "meetings")
DEFAULT_FILES: dict[str, tuple[str, ...]] = {
    "owners": ("*owners*.csv", "*owners*.xlsx", "*users*.csv", "*users*.xlsx"),
    **{
        kind: (f"*{kind}*.csv", f"*{kind}*.xlsx")
        for kind in ("companies", "contacts", "deals", "calls", "emails", "meetings")
    },
}

_ACTIVITY_LINKS: dict[str, tuple[str, ...]] = {
    "contacts": ("Associated Contact IDs", "Associated Contact ID"),
    "companies": ("Associated Company IDs", "Associated Company ID"),
    "deals": ("Associated Deal IDs", "Associated Deal ID"),
}
_ACTIVITY_COMMON: dict[str, tuple[str, ...]] = {
    "at": ("Activity date",),
    "owner": ("Activity assigned to", "Assigned to", "Activity owner"),
    **_ACTIVITY_LINKS,
}

# kind -> field -> accepted header labels (first one is the one named in messages).
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "owners": {
        "id": ("Owner ID", "ID", "User ID"),
        "first_name": ("First Name",),
        "last_name": ("Last Name",),
        "email": ("Email",),
        "team": ("Primary team", "Team", "Teams"),
        "archived": ("Archived", "Deactivated"),
    },
    "companies": {
        "id": ("Record ID", "Company ID"),
        "name": ("Company name", "Name"),
        "industry": ("Industry",),
        "employees": ("Number of Employees",),
        "prefecture": ("State/Region",),
        "created": ("Create Date",),
    },
    "contacts": {
        "id": ("Record ID", "Contact ID"),
        "first_name": ("First Name",),
        "last_name": ("Last Name",),
        "email": ("Email",),
        "phone": ("Phone Number", "Mobile Phone Number"),
        "title": ("Job Title",),
        "created": ("Create Date",),
        "lifecycle": ("Lifecycle Stage",),
        "lead_status": ("Lead Status",),
        "became_lead": ("Became a Lead Date", 'Date entered "Lead (Lifecycle Stage Pipeline)"'),
        "became_opportunity": (
            "Became an Opportunity Date",
            'Date entered "Opportunity (Lifecycle Stage Pipeline)"',
        ),
        "lead_source": ("Original Source", "Original Traffic Source"),
        "owner": ("Contact owner",),
        "companies": (
            "Associated Company IDs",
            "Associated Company IDs (Primary)",
            "Primary Associated Company ID",
        ),
        "deals": ("Associated Deal IDs", "Associated Deal ID"),
    },
    "deals": {
        "id": ("Record ID", "Deal ID"),
        "stage": ("Deal Stage",),
        "pipeline": ("Pipeline",),
        "amount": ("Amount",),
        "currency": ("Currency",),
        "created": ("Create Date",),
        "close": ("Close Date",),
        "owner": ("Deal owner",),
        "type": ("Deal Type",),
        "lost_reason": ("Closed Lost Reason",),
        "companies": ("Associated Company IDs", "Associated Company IDs (Primary)"),
        "contacts": ("Associated Contact IDs", "Associated Contact ID"),
    },
    "calls": {
        "id": ("Record ID", "Call ID", "Activity ID"),
        **_ACTIVITY_COMMON,
        "outcome": ("Call outcome",),
        "duration": ("Call duration",),
        "subject": ("Call Title", "Call name"),
    },
    "emails": {
        "id": ("Record ID", "Email ID", "Activity ID"),
        **_ACTIVITY_COMMON,
        "subject": ("Email subject",),
        "opens": ("Email open count", "Number of opens", "Opens"),
        "status": ("Email send status", "Email status"),
        "direction": ("Email direction",),
    },
    "meetings": {
        "id": ("Record ID", "Meeting ID", "Activity ID"),
        **_ACTIVITY_COMMON,
        "at": ("Activity date", "Meeting start time"),
        "start": ("Meeting start time",),
        "end": ("Meeting end time",),
        "outcome": ("Meeting outcome",),
        "subject": ("Meeting name", "Meeting title"),
    },
}

# kind -> field -> the HubSpot internal property name: the raw column (raw_hubspot.<object>)
# an export column with one of the field's labels lands in, and the name a synced table uses
# (Fivetran's `property_` and Airbyte's `properties_` prefixes removed). The association
# columns of an export ("Associated Company IDs") are not properties: they land as
# `associated_<object>_ids`, a sync provides them from its association tables.
_ACTIVITY_PROPERTIES = {
    "id": "hs_object_id",
    "at": "hs_timestamp",
    "owner": "hubspot_owner_id",
    "contacts": "associated_contact_ids",
    "companies": "associated_company_ids",
    "deals": "associated_deal_ids",
}
PROPERTIES: dict[str, dict[str, str]] = {
    "owners": {
        "id": "owner_id",
        "first_name": "first_name",
        "last_name": "last_name",
        "email": "email",
        "team": "primary_team_name",
        "archived": "archived",
    },
    "companies": {
        "id": "hs_object_id",
        "name": "name",
        "industry": "industry",
        "employees": "numberofemployees",
        "prefecture": "state",
        "created": "createdate",
    },
    "contacts": {
        "id": "hs_object_id",
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "phone": "phone",
        "title": "jobtitle",
        "created": "createdate",
        "lifecycle": "lifecyclestage",
        "lead_status": "hs_lead_status",
        "became_lead": "hs_lifecyclestage_lead_date",
        "became_opportunity": "hs_lifecyclestage_opportunity_date",
        "lead_source": "hs_analytics_source",
        "owner": "hubspot_owner_id",
        "companies": "associated_company_ids",
        "deals": "associated_deal_ids",
    },
    "deals": {
        "id": "hs_object_id",
        "stage": "dealstage",
        "pipeline": "pipeline",
        "amount": "amount",
        "currency": "deal_currency_code",
        "created": "createdate",
        "close": "closedate",
        "owner": "hubspot_owner_id",
        "type": "dealtype",
        "lost_reason": "closed_lost_reason",
        "companies": "associated_company_ids",
        "contacts": "associated_contact_ids",
    },
    "calls": {
        **_ACTIVITY_PROPERTIES,
        "outcome": "hs_call_disposition",
        "duration": "hs_call_duration",
        "subject": "hs_call_title",
    },
    "emails": {
        **_ACTIVITY_PROPERTIES,
        "subject": "hs_email_subject",
        "opens": "hs_email_open_count",
        "status": "hs_email_status",
        "direction": "hs_email_direction",
    },
    "meetings": {
        **_ACTIVITY_PROPERTIES,
        "start": "hs_meeting_start_time",
        "end": "hs_meeting_end_time",
        "outcome": "hs_meeting_outcome",
        "subject": "hs_meeting_title",
    },
}
# Export kind -> raw table: Fivetran's HubSpot table names; the other names a sync may use
# (Airbyte's streams, dlt's resources) are matched too.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "owners": ("owner", ("owners",)),
    "companies": ("company", ("companies",)),
    "contacts": ("contact", ("contacts",)),
    "deals": ("deal", ("deals",)),
    "calls": ("engagement_call", ("engagements_calls", "calls")),
    "emails": ("engagement_email", ("engagements_emails", "emails")),
    "meetings": ("engagement_meeting", ("engagements_meetings", "meetings")),
}
# The source.yml keys the models read, written to raw_hubspot._config.
CONFIG_KEYS = (
    "timezone",
    "currency",
    "owner_roles",
    "owner_aliases",
    "agencies",
    "agency_property",
    "corporate_number_property",
    "lead_source_property",
    "lead_source_map",
    "lead_status_map",
    "call_outcome_map",
    "meeting_outcome_map",
    "deal_type_map",
    "default_deal_type",
    "won_stages",
    "lost_stages",
    "infer_initial_stage",
    "industry_map",
    "name_order",
    "date_entered_columns",
)
# `_config` rows of the `Date entered "<Stage> (<Pipeline>)"` columns of a landed export: the
# column name -> its stage and pipeline labels (the same shape as `date_entered_columns:` in a
# source.yml, which names them for a synced table's `hs_date_entered_<stage id>` columns).
DATE_ENTERED_KEY = "date_entered_columns"
FIVETRAN_DELETED_REASON = "deleted in HubSpot (_fivetran_deleted = true in the synced table)"
_SYNCED_PREFIXES = ("property_", "properties_")
_SYNCED_IDS = ("id", "engagement_id")

_DATE_ENTERED = re.compile(r'^date entered "(?P<stage>.+) \((?P<pipeline>[^()]+)\)"$', re.I)


def _label_key(label: str) -> str:
    """Normalised header label: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", label).casefold().split())


# --------------------------------------------------------------------------- reading files


def _decode_csv(path: Path, encoding: str | None) -> str:
    """The declared encoding, else UTF-8 (BOM allowed), else cp932 (Shift_JIS)."""
    data = path.read_bytes()
    if encoding:
        return decode_export(path, encoding, SOURCE_ENCODING_HINT, data)
    for codec in ("utf-8-sig", "cp932"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    first = bad_byte(data.removeprefix(b"\xef\xbb\xbf"), "utf-8")
    where = f": {first.describe()} is not valid UTF-8" if first else ""
    raise MappingError(
        f"{path}: cannot be read as UTF-8 nor as cp932 (Shift_JIS) (encodings tried: utf-8, "
        f"cp932){where}. {SOURCE_ENCODING_HINT}"
    )


def _empty_file(path: Path) -> MappingError:
    return MappingError(
        f"{path}: the file is empty (no header row). Export it again, or list it under "
        "`ignore_files:` in source.yml."
    )


def _xlsx_text(path: Path) -> str:
    """An .xlsx export as CSV text: the first sheet, every cell as export text (the one
    spreadsheet reader, readers.xlsx_records); DuckDB then reads the text like any export."""
    records, _ = xlsx_records(path, None)
    if not records:
        raise _empty_file(path)
    header = [(cell or "").strip() for cell in records[0]]
    refuse_duplicate_columns(path, MappingError, header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell or "" for cell in row] for row in records[1:])
    return out.getvalue()


def export_text(path: Path, encoding: str | None) -> str | None:
    """The text of an export DuckDB cannot read as it is (.xlsx, a declared encoding, cp932
    detected), else None (UTF-8, a BOM allowed: read directly)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_text(path)
    data = path.read_bytes()
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise _empty_file(path)
    if encoding:
        text = decode_export(path, encoding, SOURCE_ENCODING_HINT, data)
    else:
        try:
            data.decode("utf-8-sig")
            return None
        except UnicodeDecodeError:
            text = _decode_csv(path, None)
    refuse_duplicate_columns(path, MappingError, next(csv.reader(io.StringIO(text)), []))
    return text


def _field_labels(
    kind: str, config: Mapping[str, Any], synced: bool = False
) -> dict[str, tuple[str, ...]]:
    """field -> accepted labels after the source.yml overrides; a synced table's columns are
    the internal property names (PROPERTIES) instead of labels."""
    labels = dict(FIELDS[kind])
    for name, label in (config.get("columns") or {}).get(kind, {}).items():
        labels[name] = (str(label),)
    if synced:
        labels = {name: (prop,) for name, prop in PROPERTIES[kind].items()}
    extra = {
        ("companies", "corporate_number"): config.get("corporate_number_property"),
        ("contacts", "agency"): config.get("agency_property"),
        ("contacts", "lead_source"): config.get("lead_source_property"),
    }
    for (owner_kind, name), label in extra.items():
        if owner_kind == kind and label:
            labels[name] = (str(label),)
    return labels


def _patterns(config: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    value = (config.get("files") or {}).get(kind)
    if value is None:
        return DEFAULT_FILES[kind]
    if isinstance(value, str):
        patterns = tuple(p.strip() for p in value.split("|") if p.strip())
    else:
        patterns = tuple(str(p) for p in value)
    for pattern in patterns:
        check_relative(pattern, f"source.yml: files.{kind}", MappingError)
    return patterns


def _kind_of(path: Path, config: Mapping[str, Any]) -> str | None:
    """The export kind a file name matches; MappingError when it matches several."""
    name = path.name.lower()
    kinds = [
        k for k in KINDS if any(fnmatch.fnmatch(name, p.lower()) for p in _patterns(config, k))
    ]
    if len(kinds) > 1:
        raise MappingError(
            f"{path}: the file name matches several export kinds ({', '.join(kinds)}); "
            "narrow the patterns under `files:` in source.yml."
        )
    return kinds[0] if kinds else None


def _export_paths(folder: Path, config: Mapping[str, Any]) -> list[tuple[str, Path]]:
    """(kind, file) of every export file of the folder, in name order."""
    ignored = [str(p).lower() for p in config.get("ignore_files") or ()]
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() not in DATA_SUFFIXES or path.name.startswith(("~$", ".")):
            continue
        if any(fnmatch.fnmatch(path.name.lower(), p) for p in ignored):
            continue
        kind = _kind_of(path, config)
        if kind is None:
            raise MappingError(
                f"{path}: not a recognised HubSpot export (kinds: {', '.join(KINDS)}). Name it "
                "like the patterns under `files:` in source.yml, or list it under `ignore_files:`."
            )
        refuse_outside(path, folder.parent, MappingError)
        found.append((kind, path))
    if not found:
        raise MappingError(f"{folder}: no HubSpot export files found")
    return found


def _slug(label: str) -> str:
    """A column name of a label no property is known for: NFKC, case-folded, every run of
    other characters than letters and digits one `_` (`Deal Name` -> `deal_name`, `法人番号`
    kept)."""
    text = re.sub(r"[^\w]+", "_", unicodedata.normalize("NFKC", label).casefold())
    return text.strip("_") or "column"


def _date_entered_name(stage: str, pipeline: str) -> str:
    """`Date entered "Closed Won (Sales Pipeline)"` -> `date_entered__closed_won__sales_pipeline`
    (the labels themselves are kept in raw_hubspot._config)."""
    return f"date_entered__{_slug(stage)}__{_slug(pipeline)}"


def _unique(names: list[str]) -> list[str]:
    """Column names made unique: a later repeat gets `_2`, `_3`, ..."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, number = name, 1
        while candidate in seen:
            number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        result.append(candidate)
    return result


def raw_column_names(
    kind: str, header: list[str], config: Mapping[str, Any], synced: bool = False
) -> list[str]:
    """Raw column names of an export header (labels) or a synced table (property names).

    A label of a known field (FIELDS, `columns:` overrides; the first label found per field)
    -> the field's internal property name (PROPERTIES); `Date entered "<Stage> (<Pipeline>)"`
    -> `date_entered__<stage>__<pipeline>`; any other label -> `_slug(label)`."""
    aliases = _field_labels(kind, config, synced)
    by_key = {_label_key(h): h for h in header}
    named: dict[str, str] = {}
    for name, prop in PROPERTIES[kind].items():
        found = next(
            (by_key[_label_key(c)] for c in aliases.get(name, ()) if _label_key(c) in by_key),
            None,
        )
        if found is not None and found not in named:
            named[found] = prop
    names = []
    for label in header:
        match = _DATE_ENTERED.match(unicodedata.normalize("NFKC", label).strip())
        if label in named:
            names.append(named[label])
        elif label == FIVETRAN_DELETED:
            names.append(label)
        elif match:
            names.append(_date_entered_name(match["stage"].strip(), match["pipeline"].strip()))
        else:
            names.append(_slug(label))
    return _unique(names)


def synced_column_names(kind: str, header: list[str], config: Mapping[str, Any]) -> list[str]:
    """A synced table's columns: Fivetran's `property_` / Airbyte's `properties_` prefix
    removed, the record id (`id`, Fivetran's `engagement_id`) named like the export's, camel
    case (Airbyte's owners `firstName`) in snake case; then as for an export header."""
    plain = []
    for column in header:
        name = snake_case(column)
        for prefix in _SYNCED_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        if name in _SYNCED_IDS:
            name = PROPERTIES[kind]["id"]
        plain.append(name)
    return raw_column_names(kind, plain, config, synced=True)


@dataclass(frozen=True)
class HubSpotCrm(Crm):
    """HubSpot: export files recognised by name pattern (`files:`), headers are property
    labels, CSV (UTF-8, else cp932, or the declared `encoding`) or .xlsx."""

    def export_files(self, source: CrmSource) -> list[tuple[CrmObject, Path]]:
        objects = {obj.name: obj for obj in self.objects}
        return [(objects[kind], path) for kind, path in _export_paths(source.folder, source.config)]

    def read_text(self, path: Path, source: CrmSource) -> str | None:
        encoding = source.config.get("encoding")
        return export_text(path, str(encoding) if encoding else None)

    def header_names(self, obj: CrmObject, header: list[str], source: CrmSource) -> list[str]:
        return raw_column_names(obj.name, [h.strip() for h in header], source.config)

    def synced_column_names(
        self, obj: CrmObject, header: list[str], source: CrmSource
    ) -> list[str]:
        return synced_column_names(obj.name, header, source.config)

    def column_config(
        self, obj: CrmObject, header: list[str], names: list[str]
    ) -> list[tuple[str, str | None, str | None, str | None]]:
        rows: list[tuple[str, str | None, str | None, str | None]] = []
        for label, name in zip(header, names, strict=True):
            match = _DATE_ENTERED.match(unicodedata.normalize("NFKC", label).strip())
            if match and name.startswith("date_entered__"):
                rows.append((DATE_ENTERED_KEY, name, "stage", match["stage"].strip()))
                rows.append((DATE_ENTERED_KEY, name, "pipeline", match["pipeline"].strip()))
        return rows


# The export kinds as CRM objects, with the properties the staging models read
# (dbt_project/models/staging/hubspot/): they land verbatim in raw_hubspot.<table>.
HUBSPOT = HubSpotCrm(
    "hubspot",
    tuple(
        CrmObject(kind, tuple(PROPERTIES[kind].values()), TABLES[kind][0], TABLES[kind][1])
        for kind in KINDS
    ),
)


def crm_source(folder: Path, config: Mapping[str, Any], source_system: str) -> CrmSource:
    """The landing description of a HubSpot source folder (or synced schema)."""
    return CrmSource(Path(folder), config, source_system)
