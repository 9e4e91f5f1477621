"""Converter for HubSpot CRM exports -> canonical rows (see `sources/base.py`).

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

The files are not parsed here row by row: each lands verbatim first (`HUBSPOT`, landed by
orchestration/lib/crm_landing.py with DuckDB's CSV reader, after an .xlsx or cp932 file is
turned into UTF-8 CSV text) in `raw_hubspot.<table>` (Fivetran's table names, `TABLES`), its
columns named by HubSpot internal property names (`PROPERTIES`; unknown labels snake-cased,
`Date entered "<Stage> (<Pipeline>)"` -> `date_entered__<stage>__<pipeline>` with the labels
in `raw_hubspot._config`), or, for a source.yml with `schema:` (and optionally `database:`),
is copied from a synced schema of the same tables (Fivetran's `property_` prefix removed).
This module reads the landed rows of its source_system (with the export's own header labels,
kept in `_landed_files`) and applies the rules below; rows a sync marks `_fivetran_deleted`
are rejected with the reason `FIVETRAN_DELETED_REASON`.

Keys read from the source's `source.yml` (the `config` dict):

- `timezone` (default `Asia/Tokyo`): the portal's time zone; export timestamps are in it and are
  converted to Asia/Tokyo wall time.
- `files`: kind -> glob pattern(s) (a list, or one string with `|` between patterns).
  `ignore_files`: patterns of CSV/xlsx files in the folder that are not exports to convert.
  Patterns are file names in the folder: a path (`/`, `..`) is refused.
- `encoding`: the encoding of the CSV exports; default UTF-8 (BOM allowed), else cp932.
- `columns`: kind -> {field: header label} to override a default label (e.g. a portal that
  exports Japanese labels); the fields are the keys of `FIELDS` below.
- `owner_roles` (required with an owners file): owner id or team name -> `{role, motion,
  agency_id?, team_id?}`; an owner id entry wins over its team's entry.
- `owner_aliases`: owner value as it appears in an export (name, e-mail) -> owner id, for
  owners missing from the owners export. Without an alias such a record is kept with the owner
  id `unlisted-<hash of the value>` and flagged `unknown_owner` in `data_quality_issues`.
- `agencies`: agency id -> name (or `{name, fee_model}`); emitted as agencies.
- `agency_property`: contact property naming the lead's agency (agency id or name). Without it,
  or when empty, a lead's agency is its owner's agency (from `owner_roles`).
- `lead_source_property` (default: "Original Source", "Original Traffic Source") and
  `lead_source_map` (required for leads): source value -> canonical lead source. A value
  missing from it is kept as it is and flagged `unmapped_lead_source` (channel `unmapped`).
- `lead_status_map`: lifecycle stage or "Lead Status" value -> open/working/converted/
  disqualified (extends the defaults `LIFECYCLE_STATUS`, `LEAD_STATUS`).
- `call_outcome_map` (required for calls with an outcome): "Call outcome" value -> canonical
  outcome (HubSpot defaults: Busy, Connected, Left live message, Left voicemail, No answer,
  Wrong number; custom outcomes such as アポ獲得 need a line too).
- `meeting_outcome_map`: "Meeting outcome" -> held/no_show/reject (extends `MEETING_OUTCOMES`:
  Scheduled and Completed are held, No show is no_show, Canceled and Rescheduled are rejected
  with the reason "meeting canceled" / "meeting rescheduled").
- `deal_type_map` ("Deal Type" -> new/expansion/renewal, extends `DEAL_TYPES`) and
  `default_deal_type` (default `new`) for deals without a type.
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

Rules: the stage history comes from the `Date entered "<Stage> (<Pipeline>)"` properties (one row
per stage with a value; HubSpot keeps only the latest entry into a stage, and "Date exited" adds
nothing to one-row-per-entry history, so it is not read). Stage labels are kept as they are; the
seed stage_map maps them for source_system `hubspot`. Leads and contacts share ids (a HubSpot
lead is a contact). Rows that cannot be used become `Reject`s; a later duplicate of a Record ID
supersedes an earlier one (the earlier row is rejected). Required values left empty (a deal
without a company) pass through empty and are quarantined by the loader.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pandas as pd

from orchestration.lib.canonical_schema import (
    ENTITIES,
    LEAD_STATUSES,
    MOTIONS,
    OPPORTUNITY_TYPES,
    ROLES,
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
from orchestration.lib.input_files import (
    bad_byte,
    check_relative,
    check_xlsx,
    refuse_duplicate_columns,
    refuse_outside,
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
from orchestration.sources.readers import SOURCE_ENCODING_HINT, decode_export

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
REQUIRED: dict[str, tuple[str, ...]] = {
    "owners": ("id",),
    "companies": ("id", "name"),
    "contacts": ("id", "created"),
    "deals": ("id", "stage", "created", "owner", "companies"),
    "calls": ("id", "at", "owner"),
    "emails": ("id", "at", "owner"),
    "meetings": ("id", "at", "owner"),
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


# Lifecycle stages in HubSpot's order; "lead or later" makes a contact a lead.
LIFECYCLE_ORDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
LIFECYCLE_STATUS = {
    "subscriber": "open",
    "lead": "open",
    "marketingqualifiedlead": "open",
    "salesqualifiedlead": "working",
    "opportunity": "converted",
    "customer": "converted",
    "evangelist": "converted",
    "other": "open",
}
LEAD_STATUS = {
    "new": "open",
    "open": "open",
    "inprogress": "working",
    "attemptedtocontact": "working",
    "connected": "working",
    "opendeal": "converted",
    "unqualified": "disqualified",
    "badtiming": "open",
}
DEAL_TYPES = {
    "newbusiness": "new",
    "existingbusiness": "expansion",
    "new": "new",
    "expansion": "expansion",
    "renewal": "renewal",
}
MEETING_OUTCOMES = {
    "scheduled": "held",
    "completed": "held",
    "noshow": "no_show",
    "canceled": "reject",
    "cancelled": "reject",
    "rescheduled": "reject",
}
CALL_OUTCOMES = ("no_answer", "connected", "appointment_set")
EMPLOYEE_BANDS = ((50, "1-49"), (300, "50-299"), (1000, "300-999"))
_DATE_ENTERED = re.compile(r'^date entered "(?P<stage>.+) \((?P<pipeline>[^()]+)\)"$', re.I)
_DATE_ONLY = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$|^\d{1,2}/\d{1,2}/\d{4}$")
_TS_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
)
_EPOCH_MS = re.compile(r"^\d{12,14}$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

Row = dict[str, str]
Produced = dict[str, list[dict[str, Any]]]


# --------------------------------------------------------------------------- small helpers


def _key(value: object) -> str:
    """Normalised lookup key: NFKC, case-folded, without spaces, `_` and `-`."""
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    return re.sub(r"[\s_\-]+", "", text)


def _label_key(label: str) -> str:
    """Normalised header label: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", label).casefold().split())


def _ids(text: str) -> list[str]:
    """Ids of an association cell (`123;456` or `123, 456`), in order, without blanks."""
    return [part.strip() for part in re.split(r"[;,]", text) if part.strip()]


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in sorted(set(values)))


class _RowError(Exception):
    """The row cannot be used: it becomes a Reject with this reason."""

    def __init__(self, reason: str, column: str | None = None, value: str | None = None):
        super().__init__(reason)
        self.reason, self.column, self.value = reason, column, value


class _Unmapped(Exception):
    """A value has no entry in a source.yml mapping (collected, then one MappingError)."""

    def __init__(self, key: str, column: str, value: str, hint: str = ""):
        super().__init__(value)
        self.key, self.column, self.value, self.hint = key, column, value, hint


# --------------------------------------------------------------------------- values


def _cell_text(value: object) -> str:
    """One spreadsheet cell as export text (datetimes ISO, integral floats without `.0`)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_datetime(text: str, tz: ZoneInfo) -> datetime | None:
    """An export timestamp (portal time unless it has an offset) as an Asia/Tokyo datetime."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    if _EPOCH_MS.match(text):  # a synced table: milliseconds since 1970-01-01 UTC
        return datetime.fromtimestamp(int(text) / 1000, UTC).astimezone(TOKYO)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TS_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(TOKYO)


def _timestamp_text(text: str, tz: ZoneInfo, column: str) -> str | None:
    """Canonical `YYYY-MM-DD HH:MM:SS` (Asia/Tokyo) text, or a _RowError."""
    try:
        parsed = _parse_datetime(text, tz)
    except ValueError:
        raise _RowError(f"cannot read {column!r} as a timestamp", column, text) from None
    return parsed.strftime("%Y-%m-%d %H:%M:%S") if parsed else None


def _date_text(text: str, tz: ZoneInfo, column: str) -> str | None:
    """Canonical `YYYY-MM-DD`: a date stays as it is, a timestamp is taken in Asia/Tokyo."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    try:
        if _DATE_ONLY.match(text):
            return _parse_datetime(text, TOKYO).date().isoformat()
        return _parse_datetime(text, tz).date().isoformat()
    except ValueError:
        raise _RowError(f"cannot read {column!r} as a date", column, text) from None


def _decimal(text: str, column: str) -> Decimal | None:
    """A number with optional thousands separators / currency signs; None when empty."""
    cleaned = re.sub(r"[,\s¥$円]", "", unicodedata.normalize("NFKC", text))
    if not cleaned:
        return None
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise _RowError(f"cannot read {column!r} as a number", column, text) from None
    if not number.is_finite():
        raise _RowError(f"cannot read {column!r} as a number", column, text)
    return number


def _decimal_text(number: Decimal | None) -> str | None:
    """Plain decimal text: `1200000`, `1200000.5`."""
    return None if number is None else format(number.normalize(), "f")


def _minutes(seconds: Decimal) -> int:
    return int((seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def duration_minutes(text: str, column: str = "Call duration") -> int | None:
    """Call duration in whole minutes: milliseconds (`480000`) or `hh:mm:ss` / `mm:ss`."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts):
            raise _RowError(f"cannot read {column!r} as a duration", column, text)
        seconds = 0
        for part in parts:
            seconds = seconds * 60 + int(part)
        return _minutes(Decimal(seconds))
    millis = _decimal(text, column)
    return None if millis is None else _minutes(millis / 1000)


def employee_band(text: str, column: str = "Number of Employees") -> str | None:
    """1-49 / 50-299 / 300-999 / 1000+ from a head count."""
    number = _decimal(text, column)
    if number is None:
        return None
    for limit, band in EMPLOYEE_BANDS:
        if number < limit:
            return band
    return "1000+"


def _full_name(first: str, last: str, order: str) -> str | None:
    parts = [last, first] if order == "family_first" else [first, last]
    return " ".join(p for p in parts if p) or None


# --------------------------------------------------------------------------- reading files


@dataclass
class _Table:
    """One export file: its rows as text and the header label of each field."""

    kind: str
    path: Path
    header: list[str]
    rows: list[Row]
    labels: dict[str, str]
    superseded: dict[int, str] = field(default_factory=dict)
    numbers: list[int] | None = None  # the landed `_row_number` of each row (else 1, 2, ...)

    def get(self, row: Row, name: str) -> str:
        label = self.labels.get(name)
        return (row.get(label) or "").strip() if label else ""

    def label(self, name: str) -> str:
        return self.labels.get(name) or FIELDS.get(self.kind, {}).get(name, (name,))[0]

    def numbered(self) -> Iterator[tuple[int, Row]]:
        """(1-based data row number, row) of every row."""
        if self.numbers is None:
            yield from enumerate(self.rows, start=1)
        else:
            yield from zip(self.numbers, self.rows, strict=True)

    def live(self) -> Iterator[tuple[int, Row]]:
        """Rows not superseded by a later row with the same id."""
        return ((n, r) for n, r in self.numbered() if n not in self.superseded)


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
    """An .xlsx export as CSV text: the first sheet, every cell as export text (a file quirk
    handled here; DuckDB then reads the text like any export)."""
    check_xlsx(path, MappingError)
    try:
        sheet = pd.read_excel(path, dtype=object, engine="openpyxl", header=None)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise MappingError(
            f"{path}: cannot be read ({type(error).__name__}: {str(error)[:300]}). Export the "
            "file again (CSV UTF-8 or .xlsx), or list it under `ignore_files:` in source.yml."
        ) from error
    if sheet.empty:
        raise _empty_file(path)
    header = ["" if pd.isna(c) else str(c).strip() for c in sheet.iloc[0]]
    refuse_duplicate_columns(path, MappingError, header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell_text(v) for v in row] for row in sheet.iloc[1:].itertuples(False))
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
) -> tuple[dict[str, tuple[str, ...]], set]:
    """(field -> accepted labels, required fields) after the source.yml overrides; a synced
    table's columns are the internal property names (PROPERTIES) instead of labels."""
    labels = dict(FIELDS[kind])
    required = set(REQUIRED[kind])
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
            required.add(name)
    return labels, required


def _resolve_labels(
    kind: str, path: Path, header: list[str], config: Mapping, synced: bool = False
) -> dict[str, str]:
    """field -> actual header label; MappingError for a missing required column."""
    by_key = {_label_key(h): h for h in header}
    aliases, required = _field_labels(kind, config, synced)
    labels: dict[str, str] = {}
    for name, candidates in aliases.items():
        found = next((by_key[_label_key(c)] for c in candidates if _label_key(c) in by_key), None)
        if found is not None:
            labels[name] = found
        elif name in required:
            lowered = {h.casefold(): h for h in header}
            close = [
                lowered[m]
                for m in difflib.get_close_matches(candidates[0].casefold(), lowered, 3, 0.6)
            ]
            hint = f" Close matches: {', '.join(map(repr, close))}." if close else ""
            raise MappingError(
                f"{path}: required column {candidates[0]!r} ({kind} export) is missing.{hint} "
                f"Export the property or name its label under `columns: {kind}: {name}:` "
                "in source.yml."
            )
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
    aliases, _ = _field_labels(kind, config, synced)
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


def _landed_rows(
    con: duckdb.DuckDBPyConnection,
    obj: CrmObject,
    source_system: str,
    source_file: str,
    columns: list[str],
    labels: list[str],
) -> tuple[list[int], list[Row], list[tuple[int, str]]]:
    """(row numbers, rows keyed by label, deleted rows) of one landed file; rows whose every
    value is empty (a blank line of a spreadsheet export) are left out."""
    selected = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    cursor = con.execute(
        f'select _row_number, "{FIVETRAN_DELETED}", {selected} '
        f'from {HUBSPOT.schema}."{obj.table}" '
        "where _source_system = ? and _source_file = ? order by _row_number",
        [source_system, source_file],
    )
    numbers, rows, deleted = [], [], []
    for number, flag, *values in cursor.fetchall():
        if not any((v or "").strip() for v in values):
            continue
        if (flag or "").strip().lower() in ("true", "t", "1"):
            deleted.append((number, flag))
            continue
        numbers.append(number)
        rows.append({label: (v or "") for label, v in zip(labels, values, strict=True)})
    return numbers, rows, deleted


def _landed_tables(
    con: duckdb.DuckDBPyConnection, source_system: str, config: Mapping[str, Any]
) -> tuple[dict[str, list[_Table]], list[Reject]]:
    """kind -> its landed files (name order), with their columns resolved; deleted rows."""
    landed = con.execute(
        f"select object_name, source_file, columns, source_columns "
        f"from {HUBSPOT.schema}.{FILES_TABLE} where source_system = ? order by source_file",
        [source_system],
    ).fetchall()
    objects = {obj.name: obj for obj in HUBSPOT.objects}
    synced = bool(config.get("schema"))
    tables: dict[str, list[_Table]] = {k: [] for k in KINDS}
    deleted: list[Reject] = []
    for kind, source_file, columns, source_columns in landed:
        columns = [c for c in columns if c != FIVETRAN_DELETED]
        labels = columns if synced else [c.strip() for c in source_columns]
        labels = [label for label in labels if label != FIVETRAN_DELETED]
        path = Path(source_file)
        numbers, rows, gone = _landed_rows(
            con, objects[kind], source_system, source_file, columns, labels
        )
        deleted += [
            Reject(str(path), n, FIVETRAN_DELETED_REASON, FIVETRAN_DELETED, v) for n, v in gone
        ]
        resolved = _resolve_labels(kind, path, labels, config, synced)
        tables[kind].append(_Table(kind, path, labels, rows, resolved, numbers=numbers))
    return tables, deleted


def _mark_superseded(tables: list[_Table]) -> None:
    """A Record ID seen again later (same or later file) supersedes the earlier row."""
    last: dict[str, tuple[_Table, int]] = {}
    for table in tables:
        for number, row in table.numbered():
            record_id = table.get(row, "id")
            if not record_id:
                continue
            if record_id in last:
                old_table, old_number = last[record_id]
                old_table.superseded[old_number] = (
                    f"duplicate Record ID {record_id}: superseded by {table.path.name} row {number}"
                )
            last[record_id] = (table, number)


# --------------------------------------------------------------------------- context


def _mapping(config: Mapping[str, Any], key: str, allowed: Iterable[str] | None = None) -> dict:
    """A source.yml mapping with normalised keys; MappingError for a value not allowed."""
    raw = config.get(key) or {}
    if not isinstance(raw, Mapping):
        raise MappingError(f"source.yml: `{key}` must be a mapping (value: target)")
    result = {_key(k): str(v).strip() for k, v in raw.items()}
    if allowed is not None:
        bad = [f"{k}: {v}" for k, v in raw.items() if str(v).strip() not in set(allowed)]
        if bad:
            raise MappingError(
                f"source.yml: `{key}` maps to values that are not allowed ({_quoted(bad)}); "
                f"allowed: {', '.join(allowed)}"
            )
    return result


@dataclass
class _Context:
    """Settings from source.yml and the lookups built from the exports."""

    source: str
    config: Mapping[str, Any]
    tz: ZoneInfo
    owners: _OwnerIndex
    contacts: _ContactIndex
    deals: _DealIndex
    agencies: dict[str, str]  # normalised agency id or name -> agency id
    cache: dict[str, dict[str, str]] = field(default_factory=dict)
    first_deals: dict[str, str | None] = field(default_factory=dict)  # contact -> its first deal

    def mapping(self, key: str, allowed: Iterable[str] | None = None) -> dict[str, str]:
        """A source.yml mapping with normalised keys (checked once, then cached)."""
        if key not in self.cache:
            self.cache[key] = _mapping(self.config, key, allowed)
        return self.cache[key]

    def ns(self, value: object) -> str | None:
        return namespaced(self.source, value)

    def first_ns(self, values: list[str]) -> str | None:
        return self.ns(values[0]) if values else None


def _timezone(config: Mapping[str, Any]) -> ZoneInfo:
    name = str(config.get("timezone") or "Asia/Tokyo")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(
            f"source.yml: unknown `timezone: {name}` (use e.g. Asia/Tokyo)"
        ) from None


def _agency_entries(config: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(agency id, name, fee model) of `agencies:` (value: a name or {name, fee_model})."""
    entries = []
    for agency_id, value in (config.get("agencies") or {}).items():
        if isinstance(value, Mapping):
            name = value.get("name") or value.get("agency_name") or str(agency_id)
            entries.append((str(agency_id), str(name), value.get("fee_model")))
        else:
            entries.append((str(agency_id), str(value), None))
    return entries


# --------------------------------------------------------------------------- owners


@dataclass
class _OwnerIndex:
    """Owner ids by id, e-mail and name (both name orders); agencies of owners."""

    ids: set[str] = field(default_factory=set)
    by_key: dict[str, str | None] = field(default_factory=dict)  # None: ambiguous
    aliases: dict[str, str] = field(default_factory=dict)
    agency: dict[str, str | None] = field(default_factory=dict)
    entry: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # owner_roles entry

    def add(self, owner_id: str, keys: Iterable[str]) -> None:
        self.ids.add(owner_id)
        for key in {_key(k) for k in keys if k}:
            seen = self.by_key.get(key, owner_id)
            self.by_key[key] = owner_id if seen == owner_id else None

    def resolve(self, value: str) -> str | None:
        """The owner id of an export value (id, name, e-mail, "Name (e-mail)")."""
        if not value:
            return None
        if _key(value) in self.aliases:
            return self.aliases[_key(value)]
        if value in self.ids:
            return value
        email = _EMAIL.search(value)
        for key in (_key(value), _key(email.group(0)) if email else ""):
            if key and self.by_key.get(key):
                return self.by_key[key]
        if value.isdigit():
            return value
        # An owner missing from the owners export (typically a deactivated user) is a defect of
        # the record, not of the night: the record keeps a stable id derived from the value
        # (never the name itself, which is personal data), and dbt flags it `unknown_owner`.
        # `owner_aliases` in source.yml maps such a value to the owner's real id.
        return "unlisted-" + hashlib.sha256(_key(value).encode()).hexdigest()[:12]


def _owner_entry(roles: Mapping[str, Any], owner_id: str, team: str) -> Mapping | None:
    for key in (owner_id, team):
        entry = roles.get(key) if key else None
        if entry is not None:
            return entry
    return None


def _owner_roles(config: Mapping[str, Any], tables: list[_Table]) -> dict[str, Mapping]:
    """owner_roles with text keys, checked: every owner has an entry with a valid role/motion."""
    roles = {str(k): v for k, v in (config.get("owner_roles") or {}).items()}
    missing = []
    for table in tables:
        for _, row in table.live():
            owner_id, team = table.get(row, "id"), _primary_team(table, row)
            if owner_id and _owner_entry(roles, owner_id, team) is None:
                order = str(config.get("name_order") or "family_first")
                first, last = table.get(row, "first_name"), table.get(row, "last_name")
                name = _full_name(first, last, order)
                missing.append(
                    f"owner {owner_id} {name or ''} (team {team or '-'!r}) in {table.path}"
                )
    if missing:
        raise MappingError(
            "No role for: " + "; ".join(missing) + ". Add an entry under `owner_roles:` in "
            "source.yml keyed by the owner id or the team name, e.g. "
            "`owner_roles: {<team>: {role: SDR, motion: inside}}`."
        )
    for key, entry in roles.items():
        if not isinstance(entry, Mapping):
            raise MappingError(f"source.yml: `owner_roles: {key}` must be {{role, motion}}")
        if entry.get("role") not in ROLES or entry.get("motion") not in MOTIONS:
            raise MappingError(
                f"source.yml: `owner_roles: {key}` needs role in {ROLES} and motion in {MOTIONS} "
                f"(got role={entry.get('role')!r}, motion={entry.get('motion')!r})"
            )
    return roles


def _primary_team(table: _Table, row: Row) -> str:
    teams = _ids(table.get(row, "team"))
    return teams[0] if teams else ""


def _owner_index(tables: list[_Table], config: Mapping[str, Any], source: str) -> _OwnerIndex:
    roles = _owner_roles(config, tables) if tables else {}
    index = _OwnerIndex(
        aliases={_key(k): str(v) for k, v in (config.get("owner_aliases") or {}).items()}
    )
    for table in tables:
        for _, row in table.live():
            owner_id = table.get(row, "id")
            if not owner_id:
                continue
            first, last = table.get(row, "first_name"), table.get(row, "last_name")
            index.add(owner_id, (owner_id, table.get(row, "email"), first + last, last + first))
            entry = _owner_entry(roles, owner_id, _primary_team(table, row)) or {}
            index.entry[owner_id] = entry
            index.agency[owner_id] = namespaced(source, entry.get("agency_id"))
    return index


def _user_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    owner_id = _required_id(table, row)
    team = _primary_team(table, row)
    entry = ctx.owners.entry.get(owner_id, {})
    archived = _key(table.get(row, "archived"))
    order = str(ctx.config.get("name_order") or "family_first")
    name = _full_name(table.get(row, "first_name"), table.get(row, "last_name"), order)
    return {
        "users": [
            {
                "user_id": ctx.ns(owner_id),
                "user_name": name,
                "email": table.get(row, "email") or None,
                "team_id": ctx.ns(entry.get("team_id") or team),
                "team_name": entry.get("team_name") or team or None,
                "role": entry.get("role"),
                "motion": entry.get("motion"),
                "agency_id": ctx.ns(entry.get("agency_id")),
                "is_active": None
                if not archived
                else str(archived not in ("true", "yes", "1")).lower(),
            }
        ]
    }


def _required_id(table: _Table, row: Row) -> str:
    record_id = table.get(row, "id")
    if not record_id:
        raise _RowError(f"{table.label('id')!r} is empty", table.label("id"), "")
    return record_id


# --------------------------------------------------------------------------- contacts / deals


@dataclass
class _ContactIndex:
    """Which contacts are leads, and each contact's associated deals."""

    leads: set[str] = field(default_factory=set)
    deals: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _DealIndex:
    """Each deal's associated contacts and create time (for picking a lead's first deal)."""

    contacts: dict[str, list[str]] = field(default_factory=dict)
    created: dict[str, datetime] = field(default_factory=dict)


def _is_lead(table: _Table, row: Row) -> bool:
    """Became a lead: a lead date, a lifecycle stage of lead or later, or a lead source."""
    lifecycle = _key(table.get(row, "lifecycle"))
    in_order = lifecycle in LIFECYCLE_ORDER and LIFECYCLE_ORDER.index(lifecycle) >= 1
    return bool(table.get(row, "became_lead") or in_order or table.get(row, "lead_source"))


def _indexes(tables: dict[str, list[_Table]], tz: ZoneInfo) -> tuple[_ContactIndex, _DealIndex]:
    contacts, deals = _ContactIndex(), _DealIndex()
    for table in tables["deals"]:
        for _, row in table.live():
            deal_id = table.get(row, "id")
            if not deal_id:
                continue
            deals.contacts[deal_id] = _ids(table.get(row, "contacts"))
            try:
                created = _parse_datetime(table.get(row, "created"), tz)
            except ValueError:
                created = None  # the deal row itself is rejected later
            if created is not None:
                deals.created[deal_id] = created
    for table in tables["contacts"]:
        for _, row in table.live():
            contact_id = table.get(row, "id")
            if not contact_id:
                continue
            contacts.deals[contact_id] = _ids(table.get(row, "deals"))
            if _is_lead(table, row):
                contacts.leads.add(contact_id)
    _link_both_ways(contacts, deals)
    return contacts, deals


def _link_both_ways(contacts: _ContactIndex, deals: _DealIndex) -> None:
    """Associations listed on either side are added to the other side (order kept)."""
    _add_links(deals.contacts, contacts.deals)
    _add_links(contacts.deals, deals.contacts)


def _add_links(source: dict[str, list[str]], target: dict[str, list[str]]) -> None:
    """Each `key -> [other, ...]` of source as `other -> [..., key]` in target, once."""
    seen = {key: set(values) for key, values in target.items()}
    for key, others in list(source.items()):
        for other in others:
            listed, known = target.setdefault(other, []), seen.setdefault(other, set())
            if key not in known:
                listed.append(key)
                known.add(key)


def _first_deal(ctx: _Context, contact_id: str) -> str | None:
    """The contact's earliest-created associated deal (listing order breaks ties); computed
    once per contact (a contact with many deals would otherwise cost deals² per deal)."""
    if contact_id not in ctx.first_deals:
        deal_ids = ctx.contacts.deals.get(contact_id, [])
        far = datetime.max.replace(tzinfo=TOKYO)
        ctx.first_deals[contact_id] = (
            min(enumerate(deal_ids), key=lambda p: (ctx.deals.created.get(p[1], far), p[0]))[1]
            if deal_ids
            else None
        )
    return ctx.first_deals[contact_id]


def _lead_of_deal(ctx: _Context, deal_id: str) -> str | None:
    """The associated contact that is a lead, preferring one whose first deal is this one."""
    leads = [c for c in ctx.deals.contacts.get(deal_id, []) if c in ctx.contacts.leads]
    preferred = [c for c in leads if _first_deal(ctx, c) == deal_id]
    chosen = (preferred or leads or [None])[0]
    return ctx.ns(chosen)


# --------------------------------------------------------------------------- accounts, leads


def _account_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    company_id = _required_id(table, row)
    industry = table.get(row, "industry")
    industry_map = ctx.mapping("industry_map")
    return {
        "accounts": [
            {
                "account_id": ctx.ns(company_id),
                "account_name": table.get(row, "name") or None,
                "corporate_number": table.get(row, "corporate_number") or None,
                "industry": industry_map.get(_key(industry), industry) or None,
                "employee_band": employee_band(
                    table.get(row, "employees"), table.label("employees")
                ),
                "prefecture": table.get(row, "prefecture") or None,
                "created_at": _timestamp_text(
                    table.get(row, "created"), ctx.tz, table.label("created")
                ),
            }
        ]
    }


def _contact_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    contact_id = _required_id(table, row)
    order = str(ctx.config.get("name_order") or "family_first")
    contact = {
        "contact_id": ctx.ns(contact_id),
        "account_id": ctx.first_ns(_ids(table.get(row, "companies"))),
        "full_name": _full_name(table.get(row, "first_name"), table.get(row, "last_name"), order),
        "email": table.get(row, "email") or None,
        "phone": table.get(row, "phone") or None,
        "title": table.get(row, "title") or None,
        "created_at": _timestamp_text(table.get(row, "created"), ctx.tz, table.label("created")),
    }
    produced: Produced = {"contacts": [contact]}
    if contact_id in ctx.contacts.leads:
        produced["leads"] = [_lead(ctx, table, row, contact)]
    return produced


def _lead(ctx: _Context, table: _Table, row: Row, contact: dict[str, Any]) -> dict[str, Any]:
    contact_id = table.get(row, "id")
    owner = _resolve_owner(ctx, table, row, "owner")
    status = _lead_status(ctx, table, row)
    converted_at = opportunity_id = None
    if status == "converted":
        first_deal = _first_deal(ctx, contact_id)
        opportunity_id = ctx.ns(first_deal)
        converted_at = _timestamp_text(
            table.get(row, "became_opportunity"), ctx.tz, table.label("became_opportunity")
        )
        if converted_at is None and first_deal in ctx.deals.created:
            converted_at = ctx.deals.created[first_deal].strftime("%Y-%m-%d %H:%M:%S")
    created = table.get(row, "became_lead") or table.get(row, "created")
    created_label = table.label("became_lead" if table.get(row, "became_lead") else "created")
    return {
        "lead_id": ctx.ns(contact_id),
        "created_at": _timestamp_text(created, ctx.tz, created_label),
        "lead_source": _lead_source(ctx, table, row),
        "lead_status": status,
        "owner_id": ctx.ns(owner),
        "agency_id": _lead_agency(ctx, table, row, owner),
        "account_id": contact["account_id"],
        "contact_id": contact["contact_id"],
        "converted_at": converted_at,
        "converted_opportunity_id": opportunity_id,
    }


def _lead_source(ctx: _Context, table: _Table, row: Row) -> str | None:
    value = table.get(row, "lead_source")
    if not value:
        return None
    mapped = ctx.mapping("lead_source_map").get(_key(value))
    # A value missing from lead_source_map (a source added in the portal since the map was
    # written) is kept as it is: dbt flags the lead `unmapped_lead_source` and counts it under
    # the channel `unmapped`; the rule blocks only when most leads are unmapped.
    return value if mapped is None else mapped


def _lead_status(ctx: _Context, table: _Table, row: Row) -> str:
    """converted when the lifecycle stage says so; else from "Lead Status"; else lifecycle."""
    custom = ctx.mapping("lead_status_map", LEAD_STATUSES)
    lifecycle, status = table.get(row, "lifecycle"), table.get(row, "lead_status")
    from_lifecycle = custom.get(_key(lifecycle), LIFECYCLE_STATUS.get(_key(lifecycle)))
    if from_lifecycle == "converted":
        return "converted"
    if status:
        mapped = custom.get(_key(status), LEAD_STATUS.get(_key(status)))
        if mapped is None:
            raise _Unmapped("lead_status_map", table.label("lead_status"), status, "value: status")
        return mapped
    if lifecycle and from_lifecycle is None:
        raise _Unmapped("lead_status_map", table.label("lifecycle"), lifecycle, "value: status")
    return from_lifecycle or "open"


def _lead_agency(ctx: _Context, table: _Table, row: Row, owner: str | None) -> str | None:
    """The agency named in `agency_property`, else the owner's agency."""
    value = table.get(row, "agency")
    if value:
        agency_id = ctx.agencies.get(_key(value))
        if agency_id is None:
            raise _Unmapped("agencies", table.label("agency"), value, "agency id: name")
        return ctx.ns(agency_id)
    return ctx.owners.agency.get(owner) if owner else None


def _resolve_owner(ctx: _Context, table: _Table, row: Row, name: str) -> str | None:
    try:
        return ctx.owners.resolve(table.get(row, name))
    except _Unmapped as err:
        raise _Unmapped(err.key, table.label(name), err.value, err.hint) from None


# --------------------------------------------------------------------------- deals


def _deal_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    deal_id = _required_id(table, row)
    stage = _stage_label(table.get(row, "stage"), table.get(row, "pipeline"))
    if not stage:
        raise _RowError(f"{table.label('stage')!r} is empty", table.label("stage"), "")
    created = table.get(row, "created")
    if not created:
        raise _RowError(f"{table.label('created')!r} is empty", table.label("created"), "")
    created_at = _timestamp_text(created, ctx.tz, table.label("created"))
    won = _key(stage) in _stage_set(ctx.config, "won_stages", "Closed Won")
    lost = _key(stage) in _stage_set(ctx.config, "lost_stages", "Closed Lost")
    opportunity = {
        "opportunity_id": ctx.ns(deal_id),
        "account_id": ctx.first_ns(_ids(table.get(row, "companies"))),
        "owner_id": ctx.ns(_resolve_owner(ctx, table, row, "owner")),
        "lead_id": _lead_of_deal(ctx, deal_id),
        "created_at": created_at,
        "close_date": _date_text(table.get(row, "close"), ctx.tz, table.label("close")),
        "opportunity_stage": stage,
        "amount": _decimal_text(_decimal(table.get(row, "amount"), table.label("amount"))),
        "currency": table.get(row, "currency") or str(ctx.config.get("currency") or "JPY"),
        "opportunity_type": _deal_type(ctx, table, row),
        "is_closed": str(won or lost).lower(),
        "is_won": str(won).lower(),
        "lost_reason": (table.get(row, "lost_reason") or None) if lost else None,
    }
    history = _stage_history(ctx, table, row, opportunity)
    return {"opportunities": [opportunity], "opportunity_stage_history": history}


def _stage_label(value: str, pipeline: str) -> str:
    """The stage label, without a trailing " (<Pipeline>)" some exports add."""
    suffix = f" ({pipeline})"
    return value[: -len(suffix)].strip() if pipeline and value.endswith(suffix) else value


def _stage_set(config: Mapping[str, Any], key: str, default: str) -> set[str]:
    value = config.get(key) or [default]
    return {_key(v) for v in ([value] if isinstance(value, str) else value)}


def _deal_type(ctx: _Context, table: _Table, row: Row) -> str:
    value = table.get(row, "type")
    if not value:
        return str(ctx.config.get("default_deal_type") or "new")
    custom = ctx.mapping("deal_type_map", OPPORTUNITY_TYPES)
    mapped = custom.get(_key(value), DEAL_TYPES.get(_key(value)))
    if mapped is None:
        raise _Unmapped("deal_type_map", table.label("type"), value, "value: new/expansion/renewal")
    return mapped


def _stage_columns(
    header: list[str], config: Mapping[str, Any] | None = None
) -> list[tuple[str, str, str]]:
    """(header label, stage label, pipeline label) of every `Date entered` column: the export
    labels, or the columns source.yml names under `date_entered_columns:` (a synced table's
    `hs_date_entered_<stage id>` -> `{stage: <label>, pipeline: <label>}`)."""
    named = (config or {}).get(DATE_ENTERED_KEY) or {}
    found = []
    for label in header:
        match = _DATE_ENTERED.match(unicodedata.normalize("NFKC", label).strip())
        if match:
            found.append((label, match["stage"].strip(), match["pipeline"].strip()))
        elif isinstance(named.get(label), Mapping):
            entry = named[label]
            found.append((label, str(entry.get("stage", "")), str(entry.get("pipeline", ""))))
    return found


def _stage_history(
    ctx: _Context, table: _Table, row: Row, opportunity: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per stage entered, in time order (column order breaks ties)."""
    pipeline = _key(table.get(row, "pipeline"))
    entries = []
    for position, (label, stage, stage_pipeline) in enumerate(
        _stage_columns(table.header, ctx.config)
    ):
        if pipeline and _key(stage_pipeline) != pipeline:
            continue
        value = (row.get(label) or "").strip()
        if value:
            entries.append((_timestamp_text(value, ctx.tz, label), position, stage))
    if not entries and ctx.config.get("infer_initial_stage", False):
        entries.append((opportunity["created_at"], 0, opportunity["opportunity_stage"]))
    return [
        {
            "opportunity_id": opportunity["opportunity_id"],
            "opportunity_stage": stage,
            "changed_at": changed_at,
            "changed_by_id": None,
        }
        for changed_at, _, stage in sorted(entries)
    ]


# --------------------------------------------------------------------------- activities


def _activity(ctx: _Context, table: _Table, row: Row, activity_type: str) -> dict[str, Any]:
    """The columns every activity kind fills the same way."""
    activity_id = _required_id(table, row)
    at = table.get(row, "at")
    if not at:
        raise _RowError(f"{table.label('at')!r} is empty", table.label("at"), "")
    leads = [c for c in _ids(table.get(row, "contacts")) if c in ctx.contacts.leads]
    return {
        "activity_id": ctx.ns(activity_id),
        "activity_type": activity_type,
        "activity_at": _timestamp_text(at, ctx.tz, table.label("at")),
        "owner_id": ctx.ns(_resolve_owner(ctx, table, row, "owner")),
        "outcome": None,
        "duration_minutes": None,
        "lead_id": ctx.first_ns(leads),
        "opportunity_id": ctx.first_ns(_ids(table.get(row, "deals"))),
        "account_id": ctx.first_ns(_ids(table.get(row, "companies"))),
        "subject": table.get(row, "subject") or None,
    }


def _call_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    activity = _activity(ctx, table, row, "call")
    outcome = table.get(row, "outcome")
    if outcome:
        mapped = ctx.mapping("call_outcome_map", CALL_OUTCOMES).get(_key(outcome))
        if mapped is None:
            raise _Unmapped("call_outcome_map", table.label("outcome"), outcome, "value: outcome")
        activity["outcome"] = mapped
    minutes = duration_minutes(table.get(row, "duration"), table.label("duration"))
    activity["duration_minutes"] = None if minutes is None else str(minutes)
    return {"activities": [activity]}


def _email_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    """opened when opened at least once, else sent; incoming/bounced/unsent ones are rejected."""
    activity = _activity(ctx, table, row, "email")
    direction, status = table.get(row, "direction"), _key(table.get(row, "status"))
    if "incoming" in _key(direction):
        raise _RowError("incoming e-mail (not a rep activity)", table.label("direction"), direction)
    if status in ("bounced", "failed"):
        raise _RowError(f"e-mail {status}", table.label("status"), table.get(row, "status"))
    if status in ("scheduled", "sending"):
        raise _RowError("e-mail not sent yet", table.label("status"), table.get(row, "status"))
    opens = _decimal(table.get(row, "opens"), table.label("opens"))
    activity["outcome"] = "opened" if opens and opens > 0 else "sent"
    return {"activities": [activity]}


def _meeting_row(ctx: _Context, table: _Table, row: Row) -> Produced:
    """held / no_show from "Meeting outcome"; canceled and rescheduled meetings are rejected."""
    activity = _activity(ctx, table, row, "meeting")
    outcome = table.get(row, "outcome")
    custom = ctx.mapping("meeting_outcome_map", ("held", "no_show", "reject"))
    mapped = custom.get(_key(outcome), MEETING_OUTCOMES.get(_key(outcome))) if outcome else "held"
    if mapped is None:
        raise _Unmapped("meeting_outcome_map", table.label("outcome"), outcome, "value: held")
    if mapped == "reject":
        reason = "meeting canceled" if "cancel" in _key(outcome) else f"meeting {outcome.lower()}"
        raise _RowError(reason, table.label("outcome"), outcome)
    activity["outcome"] = mapped
    activity["duration_minutes"] = _meeting_minutes(ctx, table, row)
    return {"activities": [activity]}


def _meeting_minutes(ctx: _Context, table: _Table, row: Row) -> str | None:
    try:
        start = _parse_datetime(table.get(row, "start"), ctx.tz)
        end = _parse_datetime(table.get(row, "end"), ctx.tz)
    except ValueError as err:
        raise _RowError("cannot read the meeting start/end time", None, str(err)) from None
    if start is None or end is None or end < start:
        return None
    return str(_minutes(Decimal(str((end - start).total_seconds()))))


# --------------------------------------------------------------------------- assembly

RowConverter = Callable[[_Context, _Table, Row], Produced]
CONVERTERS: dict[str, RowConverter] = {
    "owners": _user_row,
    "companies": _account_row,
    "contacts": _contact_row,
    "deals": _deal_row,
    "calls": _call_row,
    "emails": _email_row,
    "meetings": _meeting_row,
}


def _columns(entity: str, rows: list[dict[str, Any]]) -> list[str]:
    present = set().union(*(r.keys() for r in rows))
    return [c for c in ENTITIES[entity].column_names if c in present] + list(LINEAGE_COLUMNS)


def _unmapped_error(table: _Table, unmapped: list[_Unmapped]) -> MappingError:
    parts = []
    for key in sorted({u.key for u in unmapped}):
        items = [u for u in unmapped if u.key == key]
        columns = sorted({u.column for u in items})
        hint = f" ({items[0].hint})" if items[0].hint else ""
        parts.append(
            f"column {', '.join(repr(c) for c in columns)} has value(s) without a mapping: "
            f"{_quoted(u.value for u in items)}; add them under `{key}:` in source.yml{hint}"
        )
    return MappingError(f"{table.path}: " + ". ".join(parts) + ".")


def _convert_table(conversion: Conversion, ctx: _Context, table: _Table) -> None:
    """Convert one file's rows; account for every row; unmapped values fail the file."""
    produced: dict[str, list[dict[str, Any]]] = {}
    rejects: list[Reject] = []
    unmapped: list[_Unmapped] = []
    used = 0
    for number, row in table.numbered():
        if number in table.superseded:
            rejects.append(Reject(str(table.path), number, table.superseded[number], "id"))
            continue
        try:
            result = CONVERTERS[table.kind](ctx, table, row)
        except _RowError as err:
            rejects.append(Reject(str(table.path), number, err.reason, err.column, err.value))
            continue
        except _Unmapped as err:
            unmapped.append(err)
            continue
        used += 1
        for entity, rows in result.items():
            for out in rows:
                out.update({"_source_file": str(table.path), "_source_row": number})
                produced.setdefault(entity, []).append(out)
    if unmapped:
        raise _unmapped_error(table, unmapped)
    conversion.rejects.extend(rejects)
    conversion.files.append(FileAccount(str(table.path), len(table.rows), used, len(rejects)))
    for entity, rows in produced.items():
        conversion.add_frame(
            entity, pd.DataFrame(rows, columns=_columns(entity, rows), dtype=object)
        )


def _agencies(conversion: Conversion, config: Mapping[str, Any], source: str) -> dict[str, str]:
    """Emit `agencies:` from source.yml; return normalised id/name -> agency id."""
    entries = _agency_entries(config)
    if entries:
        rows = [
            {
                "agency_id": namespaced(source, agency_id),
                "agency_name": name,
                "fee_model": fee_model,
                "_source_file": "source.yml#agencies",
                "_source_row": number,
            }
            for number, (agency_id, name, fee_model) in enumerate(entries, start=1)
        ]
        conversion.add_frame("agencies", pd.DataFrame(rows, dtype=object))
    lookup = {_key(name): agency_id for agency_id, name, _ in entries}
    lookup.update({_key(agency_id): agency_id for agency_id, _, _ in entries})
    return lookup


def convert(
    folder: Path,
    config: dict,
    source_system: str,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Conversion:
    """Convert a HubSpot source into canonical frames, rejects and file accounts.

    The rows are read from raw_hubspot (orchestration/lib/crm_landing.py) of `con`, where the
    pipeline has landed every HubSpot source; without `con` the source is landed first into an
    in-memory database."""
    folder = Path(folder)
    config = config or {}
    tz = _timezone(config)
    if con is None:
        with duckdb.connect() as memory:
            land_crm(
                memory,
                HUBSPOT,
                [crm_source(folder, config, source_system)],
                load_id="",
                config_keys=CONFIG_KEYS,
                error=MappingError,
            )
            return convert(folder, config, source_system, memory)
    tables, deleted = _landed_tables(con, source_system, config)
    if not any(tables.values()):
        raise MappingError(f"{folder}: no HubSpot export files found")
    for kind_tables in tables.values():
        _mark_superseded(kind_tables)
    conversion = Conversion(source_system=source_system)
    agencies = _agencies(conversion, config, source_system)
    owners = _owner_index(tables["owners"], config, source_system)
    contacts, deals = _indexes(tables, tz)
    ctx = _Context(source_system, config, tz, owners, contacts, deals, agencies)
    for kind in KINDS:
        for table in tables[kind]:
            _convert_table(conversion, ctx, table)
    _account_deleted(conversion, deleted)
    return conversion


def _account_deleted(conversion: Conversion, deleted: list[Reject]) -> None:
    """Rows a sync marks deleted: rejected with the reason, counted in their table's account."""
    conversion.rejects.extend(deleted)
    for index, account in enumerate(conversion.files):
        gone = sum(1 for r in deleted if r.source_file == account.source_file)
        if gone:
            conversion.files[index] = FileAccount(
                account.source_file,
                account.rows_read + gone,
                account.rows_used,
                account.rows_rejected + gone,
            )
