"""The bad-input corpus: one small case per kind of bad input a real export carries.

Each case mutates a copy of a valid landing folder (its `base`) and declares what must happen:

- `error`: nothing is published; the message names the file (and the row or column where it
  applies) and what to do; the previously published file is untouched;
- `quarantine`: the row is kept out of the raw tables and `raw._quarantine` says why;
- `defect`: the record is loaded, a `data_quality_issues` row names the rule, and the marts are
  published without the record in the KPIs the rule names;
- `accepted`: the input is fine as it is, for the reason given.

`find` lists text that must appear: in the error message (`error`), in one quarantine row's
file, row, reason and record (`quarantine`), or the rule code and record id of one
`data_quality_issues` row (`defect`). `check` runs extra assertions on the published file.

tests/bad_inputs/test_corpus.py runs every case through the CLI's `run`, sharing one run per
base among the cases that publish; `python -m tests.bad_inputs.render` writes the README table.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.bad_inputs.edits import append, read_rows, replace_text, update, write

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OUTCOMES = ("error", "quarantine", "defect", "accepted")
AS_OF = "2025-10-31"


@dataclass(frozen=True)
class Case:
    id: str
    # "canonical" (tests/fixtures/tiny), "sources" (Salesforce + HubSpot + mapped Japanese SFA
    # exports of the same facts), "deals_jsonl" / "deals_parquet" (tests/fixtures/deals_export)
    base: str
    kind: str  # the bad input, in a few words (README table)
    outcome: str
    mutate: Callable[[Path], None]
    find: tuple[str, ...] = ()
    why: str = ""  # what happens and why that is right (README table)
    check: Callable | None = None  # check(published_connection) for publishing cases

    def __post_init__(self) -> None:
        assert self.outcome in OUTCOMES, self.id
        assert self.why, f"{self.id}: say why the outcome is right"


CASES: list[Case] = []


def case(id: str, base: str, kind: str, outcome: str, *find: str, why: str, check=None):
    """Register the decorated mutation as a corpus case."""

    def register(mutate: Callable[[Path], None]) -> Callable[[Path], None]:
        assert all(c.id != id for c in CASES), id
        CASES.append(Case(id, base, kind, outcome, mutate, tuple(find), why, check))
        return mutate

    return register


def build_base(base: str, landing: Path) -> Path:
    """A valid landing folder for `base`."""
    if base == "canonical":
        shutil.copytree(FIXTURES / "tiny", landing)
    elif base == "sources":
        landing.mkdir(parents=True)
        shutil.copytree(FIXTURES / "salesforce_tiny", landing / "salesforce")
        shutil.copytree(FIXTURES / "hubspot_tiny", landing / "hubspot")
        shutil.copytree(FIXTURES / "mapped_jp", landing / "jp_sfa")
    elif base in ("deals_jsonl", "deals_parquet"):
        landing.mkdir(parents=True)
        shutil.copytree(FIXTURES / "deals_export" / base.split("_")[1], landing / "crm")
    else:
        raise ValueError(base)
    return landing


def one_value(con, sql: str, *params):
    row = con.execute(sql, list(params)).fetchone()
    return None if row is None else row[0]


# --- canonical CSV: files that cannot be read as they are (error) --------------------------


@case(
    "duplicate_header",
    "canonical",
    "a column named twice in the header",
    "error",
    "leads.csv",
    "lead_source",
    why="Which of the two columns holds the data is a guess; the user renames one.",
)
def _(landing: Path) -> None:
    replace_text(landing / "leads.csv", "lead_status", "lead_source")


@case(
    "empty_header_name",
    "canonical",
    "an empty column name in the header",
    "error",
    "opportunities.csv",
    why="A column without a name cannot be mapped; the user names or removes it.",
)
def _(landing: Path) -> None:
    replace_text(landing / "opportunities.csv", "lost_reason", "")


@case(
    "missing_required_column",
    "canonical",
    "a required column missing",
    "error",
    "leads.csv",
    "created_at",
    why="Every lead needs its created date; the message lists the columns found.",
)
def _(landing: Path) -> None:
    replace_text(landing / "leads.csv", "created_at", "createdat")


@case(
    "cp932_in_canonical",
    "canonical",
    "a Shift_JIS (CP932) file in the canonical folder",
    "error",
    "accounts.csv",
    "UTF-8",
    "encoding",
    why="Canonical files are UTF-8; the message points to the first bad byte and to the "
    "`encoding: cp932` declaration of a source folder.",
)
def _(landing: Path) -> None:
    path = landing / "accounts.csv"
    path.write_bytes(path.read_bytes().decode("utf-8").encode("cp932"))


@case(
    "zero_byte_file",
    "canonical",
    "an empty (0-byte) file",
    "error",
    "opportunities.csv",
    why="A file without even a header is a failed export, not an empty one; re-export it.",
)
def _(landing: Path) -> None:
    (landing / "opportunities.csv").write_bytes(b"")


@case(
    "no_leads_no_opportunities",
    "canonical",
    "neither leads nor opportunities",
    "error",
    "leads",
    "opportunities",
    why="Every funnel starts from one of them: there is nothing to compute.",
)
def _(landing: Path) -> None:
    (landing / "leads.csv").unlink()
    (landing / "opportunities.csv").unlink()


@case(
    "symlink_outside",
    "canonical",
    "a landing file that is a symlink out of the folder",
    "error",
    "leads.csv",
    "symbolic link",
    why="Only files inside the landing folder are read; the target's content is never shown.",
)
def _(landing: Path) -> None:
    secret = landing.parent / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (landing / "leads.csv").unlink()
    os.symlink(secret, landing / "leads.csv")


# --- canonical CSV: rows kept out (quarantine) ---------------------------------------------


@case(
    "amount_not_a_number",
    "canonical",
    "a non-numeric amount",
    "quarantine",
    "opportunities.csv",
    "BQ-AMOUNT",
    "amount",
    why="An amount that cannot be read would be a silent zero; the row waits for a fix.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-AMOUNT", amount="百万円"))


@case(
    "amount_overflow",
    "canonical",
    "an amount of 1e309",
    "quarantine",
    "opportunities.csv",
    "BQ-1E309",
    "amount",
    why="No currency amount is that large; it would turn every sum into infinity.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-1E309", amount="1e309"))


@case(
    "impossible_date",
    "canonical",
    "the date 2025-02-30",
    "quarantine",
    "opportunities.csv",
    "BQ-0230",
    "close_date",
    why="A date that does not exist cannot be placed in any period.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-0230", close_date="2025-02-30"))


@case(
    "empty_required_value",
    "canonical",
    "an empty required value",
    "quarantine",
    "leads.csv",
    "LQ-EMPTY",
    "created_at",
    why="A lead without its created date belongs to no cohort.",
)
def _(landing: Path) -> None:
    append(landing / "leads.csv", _lead("LQ-EMPTY", created_at=""))


@case(
    "bad_boolean",
    "canonical",
    "a boolean that is neither true nor false",
    "quarantine",
    "opportunities.csv",
    "BQ-BOOL",
    "is_won",
    why="`maybe` won cannot be counted as won or lost.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-BOOL", is_won="maybe"))


@case(
    "unknown_category",
    "canonical",
    "a value outside a closed list (activity type)",
    "quarantine",
    "activities.csv",
    "TQ-FAX",
    "activity_type",
    why="An activity type the KPIs do not know would fall out of every activity count.",
)
def _(landing: Path) -> None:
    append(landing / "activities.csv", _activity("TQ-FAX", activity_type="fax"))


@case(
    "too_many_fields",
    "canonical",
    "a row with more fields than the header",
    "quarantine",
    "activities.csv",
    "malformed",
    "TQ-WIDE",
    why="A shifted row puts values in the wrong columns.",
)
def _(landing: Path) -> None:
    with (landing / "activities.csv").open("a", encoding="utf-8") as handle:
        handle.write("TQ-WIDE,call,2025-04-03 10:00:00,U1,connected,3,L1,,,件名,余分,余分\n")


@case(
    "too_few_fields",
    "canonical",
    "a row with fewer fields than the header",
    "quarantine",
    "activities.csv",
    "malformed",
    "TQ-SHORT",
    why="A truncated row lacks columns that are not simply empty.",
)
def _(landing: Path) -> None:
    with (landing / "activities.csv").open("a", encoding="utf-8") as handle:
        handle.write("TQ-SHORT,call,2025-04-03 10:00:00\n")


@case(
    "nul_byte",
    "canonical",
    "a NUL byte inside a value",
    "quarantine",
    "activities.csv",
    "TQ-NUL",
    why="A NUL byte is not text; it breaks BI tools and CSV exports downstream.",
)
def _(landing: Path) -> None:
    with (landing / "activities.csv").open("ab") as handle:
        handle.write("TQ-NUL,call,2025-04-03 10:00:00,U1,connected,3,L1,,,件\x00名\n".encode())


@case(
    "invalid_utf8_row",
    "canonical",
    "invalid UTF-8 bytes in one row",
    "quarantine",
    "activities.csv",
    "TQ-BYTES",
    why="One row with broken bytes is set aside; the rest of the file loads.",
)
def _(landing: Path) -> None:
    with (landing / "activities.csv").open("ab") as handle:
        handle.write(b"TQ-BYTES,call,2025-04-03 10:00:00,U1,connected,3,L1,,,\xff\xfe\x80\n")


@case(
    "giant_line",
    "canonical",
    "one line of 3 MB",
    "quarantine",
    "activities.csv",
    "TQ-GIANT",
    why="A line that long is a broken export (an unclosed quote or a pasted file).",
)
def _(landing: Path) -> None:
    with (landing / "activities.csv").open("a", encoding="utf-8") as handle:
        handle.write("TQ-GIANT,call,2025-04-03 10:00:00,U1,connected,3,L1,,," + "x" * 3_000_000)
        handle.write("\n")


# --- canonical CSV: records kept, flagged (defect) -----------------------------------------


@case(
    "year_9999",
    "canonical",
    "a close date in year 9999",
    "defect",
    "implausible_date",
    "BQ-9999",
    why="The deal stays; its date is treated as unknown, so no period and no calendar "
    "stretches to 9999.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-9999", close_date="9999-12-31"))


@case(
    "close_before_created",
    "canonical",
    "a deal won before it was created",
    "defect",
    "won_before_opportunity_created",
    "BQ-EARLY",
    why="It counts as won; it is left out of the days from opportunity to won.",
)
def _(landing: Path) -> None:
    append(
        landing / "opportunities.csv",
        _deal("BQ-EARLY", created_at="2025-06-01 10:00:00", close_date="2025-05-01"),
    )


@case(
    "won_before_lead",
    "canonical",
    "a deal won before its lead was created",
    "defect",
    "won_before_lead_created",
    "BQ-LEADLATE",
    why="It counts as won; it is left out of the days from lead to won.",
)
def _(landing: Path) -> None:
    append(landing / "leads.csv", _lead("LQ-LATE", created_at="2025-07-01 09:00:00"))
    append(
        landing / "opportunities.csv",
        _deal("BQ-LEADLATE", lead_id="LQ-LATE", close_date="2025-06-15"),
    )


@case(
    "unknown_account",
    "canonical",
    "a deal naming an account not in the accounts file",
    "defect",
    "unknown_account",
    "BQ-NOACCT",
    why="It counts everywhere except the industry and company-size scopes (unknown there).",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-NOACCT", account_id="A-MISSING"))


@case(
    "unknown_owner",
    "canonical",
    "a record whose owner is not in the users file",
    "defect",
    "unknown_owner",
    "BQ-NOOWNER",
    why="It counts for its owner id with the team unassigned.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-NOOWNER", owner_id="U-GONE"))


@case(
    "unknown_lead",
    "canonical",
    "a deal naming a lead that does not exist",
    "defect",
    "unknown_lead",
    "BQ-NOLEAD",
    why="The deal counts as AE-sourced; lead-based durations leave it out.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-NOLEAD", lead_id="L-GONE"))


@case(
    "dangling_conversion",
    "canonical",
    "a lead converted to an opportunity that does not exist",
    "defect",
    "unknown_converted_opportunity",
    "LQ-DANGLING",
    why="The lead counts as converted on its converted date; the missing deal is named.",
)
def _(landing: Path) -> None:
    append(
        landing / "leads.csv",
        _lead(
            "LQ-DANGLING",
            lead_status="converted",
            converted_at="2025-05-10 10:00:00",
            converted_opportunity_id="O-GONE",
        ),
    )


@case(
    "duplicate_key_conflict",
    "canonical",
    "the same id twice in a file, with different content",
    "defect",
    "duplicate_key_conflict",
    "BQ-TWICE",
    why="The row of the latest file and row wins; the issue row says so.",
)
def _(landing: Path) -> None:
    append(
        landing / "opportunities.csv",
        _deal("BQ-TWICE", amount="100000"),
        _deal("BQ-TWICE", amount="200000"),
    )


@case(
    "same_id_two_files",
    "canonical",
    "the same id in two files of one entity",
    "defect",
    "duplicate_key_conflict",
    "BQ-SPLIT",
    why="Files load in name order and the later one wins; the issue row says so.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-SPLIT", amount="300000"))
    header, _ = read_rows(landing / "opportunities.csv")
    write(landing / "opportunities" / "part2.csv", header, [_deal("BQ-SPLIT", amount="350000")])


@case(
    "formula_text",
    "canonical",
    "a spreadsheet formula in a name",
    "defect",
    "spreadsheet_formula",
    "A-FORMULA",
    why="The text is kept but neutralised (a leading ') so no BI export executes it.",
    check=lambda con: _assert_no_formula(con),
)
def _(landing: Path) -> None:
    append(
        landing / "accounts.csv",
        {
            "account_id": "A-FORMULA",
            "account_name": '=HYPERLINK("http://evil.example","請求書")',
            "industry": "it",
            "created_at": "2025-03-01 10:00:00",
        },
    )


@case(
    "unmapped_lead_source",
    "canonical",
    "a lead source not in the channel list",
    "defect",
    "unmapped_lead_source",
    "LQ-SOURCE",
    why="The lead counts under the channel `unmapped` until the source is added to "
    "seeds/lead_source_channels.csv.",
)
def _(landing: Path) -> None:
    append(landing / "leads.csv", _lead("LQ-SOURCE", lead_source="tiktok_ads"))


@case(
    "negative_amount",
    "canonical",
    "a negative deal amount",
    "defect",
    "negative_amount",
    "BQ-NEG",
    why="A credit note is not a deal; the amount is left out of won and pipeline amounts.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-NEG", amount="-500000"))


@case(
    "won_not_closed",
    "canonical",
    "a deal marked won but not closed",
    "defect",
    "won_not_closed",
    "BQ-WONOPEN",
    why="Won implies closed; the deal counts as won and leaves the open pipeline.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-WONOPEN", is_closed="false"))


@case(
    "negative_duration",
    "canonical",
    "an activity with a negative duration",
    "defect",
    "negative_duration",
    "TQ-NEGDUR",
    why="The activity counts; its duration is left out of talk-time sums.",
)
def _(landing: Path) -> None:
    append(landing / "activities.csv", _activity("TQ-NEGDUR", duration_minutes="-5"))


@case(
    "currency_without_rate",
    "canonical",
    "an amount in a currency without an exchange rate",
    "defect",
    "missing_exchange_rate",
    "BQ-USD",
    why="The deal counts; its amount is unknown in the reporting currency, so amount sums "
    "leave it out.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-USD", currency="USD"))


@case(
    "unknown_stage",
    "canonical",
    "a stage name not in the stage map",
    "defect",
    "unknown_stage",
    "BQ-STAGE",
    why="The deal counts by its open/closed/won flags; stage-based KPIs leave it out.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-STAGE", opportunity_stage="検討中"))


@case(
    "two_roles",
    "canonical",
    "one person with two roles (SDR and AE)",
    "defect",
    "user_multiple_roles",
    "U5",
    why="Deals count for the role the person had on them; an info-level flag.",
)
def _(landing: Path) -> None:
    base = {"user_name": "二役 三郎", "team_name": "フィールドセールス1課", "is_active": "true"}
    append(
        landing / "users.csv",
        base | {"user_id": "U5", "team_id": "IS", "role": "SDR", "motion": "inside"},
        base | {"user_id": "U5", "team_id": "FS1", "role": "AE", "motion": "field"},
    )


@case(
    "lead_link_conflict",
    "canonical",
    "a lead and a deal that name each other differently",
    "defect",
    "lead_link_conflict",
    "LQ-CONFLICT",
    why="The deal's own lead id wins; the lead is flagged.",
)
def _(landing: Path) -> None:
    append(
        landing / "leads.csv",
        _lead(
            "LQ-CONFLICT",
            lead_status="converted",
            converted_at="2025-04-03 10:00:00",
            converted_opportunity_id="O1",
        ),
    )


@case(
    "created_date_missing",
    "canonical",
    "a deal without a created date",
    "defect",
    "opportunity_created_unknown",
    "BQ-NOCREATED",
    why="It counts as won or lost and in the pipeline; cohort KPIs leave it out.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-NOCREATED", created_at=""))


@case(
    "won_without_date",
    "canonical",
    "a won deal without a close date",
    "defect",
    "won_date_unknown",
    "BQ-NOCLOSE",
    why="It cannot be placed in a period; dated KPIs leave it out.",
)
def _(landing: Path) -> None:
    append(landing / "opportunities.csv", _deal("BQ-NOCLOSE", close_date=""))


@case(
    "lost_before_created",
    "canonical",
    "a deal lost before it was created",
    "defect",
    "lost_before_opportunity_created",
    "BQ-LOSTEARLY",
    why="It counts as lost; flagged so the dates get corrected.",
)
def _(landing: Path) -> None:
    append(
        landing / "opportunities.csv",
        _deal(
            "BQ-LOSTEARLY",
            created_at="2025-06-01 10:00:00",
            close_date="2025-05-01",
            opportunity_stage="closed_lost",
            is_won="false",
        ),
    )


@case(
    "user_conflicting_rows",
    "canonical",
    "one user twice with different teams",
    "defect",
    "user_conflicting_attributes",
    "U6",
    why="The latest row's team is used; rep_team_history.csv is the way to record a move.",
)
def _(landing: Path) -> None:
    base = {"user_name": "異動 四郎", "role": "AE", "motion": "field", "is_active": "true"}
    append(
        landing / "users.csv",
        base | {"user_id": "U6", "team_id": "FS1", "team_name": "フィールドセールス1課"},
        base | {"user_id": "U6", "team_id": "FS2", "team_name": "フィールドセールス2課"},
    )


# --- canonical CSV: fine as it is (accepted) -----------------------------------------------


@case(
    "utf8_bom",
    "canonical",
    "a UTF-8 byte-order mark (Excel's 'CSV UTF-8')",
    "accepted",
    why="The BOM is not part of the first column's name.",
    check=lambda con: _assert_count(con, "core.dim_agencies", "agency_id like '%AG1'", 1),
)
def _(landing: Path) -> None:
    path = landing / "agencies.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


@case(
    "crlf_and_mixed_endings",
    "canonical",
    "CRLF and mixed line endings in one file",
    "accepted",
    why="Both endings are valid CSV; every row loads.",
    check=lambda con: _assert_count(con, "core.fct_leads", "lead_id = 'LQ-CRLF'", 1),
)
def _(landing: Path) -> None:
    path = landing / "leads.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n" + b"\n".join(lines[3:]))
    append(path, _lead("LQ-CRLF"))


@case(
    "quoted_delimiter_late",
    "canonical",
    "a quoted comma on row 25,000 of a file",
    "accepted",
    why="Quote and delimiter are fixed by the format, not guessed from the first rows.",
    check=lambda con: _assert_count(con, "core.fct_activities", "activity_id = 'TQ-LATE'", 1),
)
def _(landing: Path) -> None:
    rows = [_activity(f"TQ-BULK{i:05d}", subject="定例") for i in range(25_000)]
    rows.append(_activity("TQ-LATE", subject="Call, follow-up"))
    append(landing / "activities.csv", *rows)


@case(
    "quoted_newline",
    "canonical",
    "a line break inside a quoted value",
    "accepted",
    why="A multi-line memo is valid CSV; the row loads whole.",
    check=lambda con: _assert_count(con, "core.fct_activities", "activity_id = 'TQ-MEMO'", 1),
)
def _(landing: Path) -> None:
    append(landing / "activities.csv", _activity("TQ-MEMO", subject="一行目\n二行目"))


@case(
    "upper_case_file_name",
    "canonical",
    "a file named Spend.CSV",
    "accepted",
    why="File names match case-insensitively: Excel and Windows tools change case.",
    check=lambda con: _assert_spend(con, 1_400_000),
)
def _(landing: Path) -> None:
    (landing / "spend.csv").rename(landing / "Spend.CSV")


@case(
    "unmatched_file",
    "canonical",
    "a file that matches no entity (a typo)",
    "accepted",
    why="It is listed in the run report and raw._unmatched_files, never ignored silently.",
)
def _(landing: Path) -> None:
    shutil.copy(landing / "targets.csv", landing / "target_2025.csv")


@case(
    "timezone_offset",
    "canonical",
    "timestamps with a time-zone offset",
    "accepted",
    why="They are converted to the configured time zone (Asia/Tokyo) explicitly.",
    check=lambda con: _assert_tokyo_time(con),
)
def _(landing: Path) -> None:
    append(landing / "leads.csv", _lead("LQ-UTC", created_at="2025-04-30T16:30:00Z"))


@case(
    "identical_duplicate",
    "canonical",
    "the same row twice",
    "accepted",
    why="Identical rows are one record; nothing conflicts.",
    check=lambda con: _assert_count(con, "core.fct_leads", "lead_id = 'LQ-SAME'", 1),
)
def _(landing: Path) -> None:
    append(landing / "leads.csv", _lead("LQ-SAME"), _lead("LQ-SAME"))


@case(
    "old_history",
    "canonical",
    "events years back (2015)",
    "accepted",
    why="The calendar starts at the fiscal year of the earliest event.",
    check=lambda con: _assert_count(con, "core.dim_date", "date_day = date '2015-04-01'", 1),
)
def _(landing: Path) -> None:
    append(
        landing / "opportunities.csv",
        _deal("BQ-2015", created_at="2015-04-10 10:00:00", close_date="2015-06-30"),
    )


@case(
    "header_only_file",
    "canonical",
    "an optional file with a header and no rows",
    "accepted",
    why="No rows this night is a valid export; the KPIs that need it say so in kpi_availability.",
)
def _(landing: Path) -> None:
    path = landing / "subscriptions.csv"
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")


@case(
    "optional_file_missing",
    "canonical",
    "an optional file missing (targets)",
    "accepted",
    why="Every KPI that does not need it is published; kpi_availability says which cannot be.",
    check=lambda con: _assert_count(con, "kpi_availability", "not is_available", 1, True),
)
def _(landing: Path) -> None:
    (landing / "targets.csv").unlink()


# --- source exports (Salesforce, HubSpot, mapped Japanese SFA) ------------------------------


@case(
    "yaml_bomb",
    "sources",
    "a YAML bomb (billion laughs) in source.yml",
    "error",
    "source.yml",
    why="Aliases that expand without bound would exhaust memory; the file is rejected.",
)
def _(landing: Path) -> None:
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        prev = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        bomb.append(f"{name}: &{name} [{', '.join('*' + prev for _ in range(9))}]")
    path = landing / "hubspot" / "source.yml"
    path.write_text(path.read_text() + "\n" + "\n".join(bomb) + "\n")


@case(
    "path_escape",
    "sources",
    "a mapping path that leaves the landing folder",
    "error",
    "source.yml",
    "..",
    why="A source reads only files inside its own folder.",
)
def _(landing: Path) -> None:
    path = landing / "jp_sfa" / "source.yml"
    path.write_text(
        path.read_text().replace("mapping: jp_sfa_example", "mapping: ../../etc/passwd")
    )


@case(
    "salesforce_invalid_utf8",
    "sources",
    "invalid UTF-8 bytes in a Salesforce export",
    "error",
    "Opportunity.csv",
    "utf-8",
    "line",
    why="A Data Export is UTF-8; broken bytes mean a damaged file, named with its line.",
)
def _(landing: Path) -> None:
    path = landing / "salesforce" / "Opportunity.csv"
    path.write_bytes(path.read_bytes().replace("アルファ".encode(), b"\xff\xfe", 1))


@case(
    "declared_utf8_is_cp932",
    "sources",
    "a CP932 file where the mapping says UTF-8",
    "error",
    "cannot be read as utf-8",
    "encoding: cp932",
    why="The declaration is wrong; the message says which encoding to declare.",
)
def _(landing: Path) -> None:
    mapping = Path(__file__).resolve().parents[2] / "orchestration/sources/mappings"
    text = (mapping / "jp_sfa_example.yml").read_text(encoding="utf-8")
    (landing / "jp_sfa" / "mapping.yml").write_text(
        text.replace("encoding: cp932", "encoding: utf-8"), encoding="utf-8"
    )
    replace_text(
        landing / "jp_sfa" / "source.yml", "mapping: jp_sfa_example", "mapping: mapping.yml"
    )


@case(
    "xlsx_zero_bytes",
    "sources",
    "an empty (0-byte) .xlsx file",
    "error",
    ".xlsx",
    why="An empty workbook is a failed download; the message names it.",
)
def _(landing: Path) -> None:
    _agency_source(landing).joinpath("営業代行_活動報告_2025-04.xlsx").write_bytes(b"")


@case(
    "xlsx_corrupt",
    "sources",
    "a corrupt .xlsx file",
    "error",
    ".xlsx",
    why="A workbook that is not a valid zip cannot be read; re-save it from Excel.",
)
def _(landing: Path) -> None:
    _agency_source(landing).joinpath("営業代行_活動報告_2025-04.xlsx").write_bytes(
        b"PK\x03\x04 not really a workbook"
    )


@case(
    "xlsx_zip_bomb",
    "sources",
    "a .xlsx zip bomb",
    "error",
    ".xlsx",
    why="A workbook expanding to gigabytes is refused before it is unpacked.",
)
def _(landing: Path) -> None:
    path = _agency_source(landing) / "営業代行_活動報告_2025-04.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 24)
            for _ in range(64):  # 1 GiB of spaces, about 1 MB compressed
                member.write(chunk)


@case(
    "salesforce_bad_amount",
    "sources",
    "a Salesforce amount that is not a number",
    "quarantine",
    "Opportunity.csv",
    "Amount",
    why="The opportunity is rejected with its file and row; the others convert.",
)
def _(landing: Path) -> None:
    update(
        landing / "salesforce" / "Opportunity.csv",
        "Id",
        "0065g00000Rt2pPAAR",
        {"Amount": "2.4M"},
    )


@case(
    "hubspot_bad_date",
    "sources",
    "a HubSpot date that cannot be read",
    "quarantine",
    "deals.csv",
    "Close Date",
    why="The deal is rejected with its file, row and column; the other deals are kept.",
)
def _(landing: Path) -> None:
    update(landing / "hubspot" / "deals.csv", "Record ID", "91002", {"Close Date": "来月末"})


@case(
    "salesforce_unmapped_lead_source",
    "sources",
    "a Salesforce LeadSource missing from lead_source_map",
    "defect",
    "unmapped_lead_source",
    why="The lead counts under `unmapped` until the picklist value is mapped.",
)
def _(landing: Path) -> None:
    path = landing / "salesforce" / "Lead.csv"
    replace_text(path, '"Seminar - Internal"', '"Partner Referral"')


@case(
    "salesforce_negative_amount",
    "sources",
    "a negative Salesforce opportunity amount",
    "defect",
    "negative_amount",
    "0065g00000Rt3qQAAR",
    why="The deal stays; its amount is treated as unknown, so no sum goes negative.",
)
def _(landing: Path) -> None:
    update(
        landing / "salesforce" / "Opportunity.csv",
        "Id",
        "0065g00000Rt3qQAAR",
        {"Amount": "-3600000", "ExpectedRevenue": "-3600000"},
    )


@case(
    "salesforce_duplicate_id",
    "sources",
    "one Salesforce Id exported twice with different content",
    "defect",
    "duplicate_key_conflict",
    "0065g00000Rt4rRAAR",
    why="The later row wins; the other is reported with its file and row, not dropped unseen.",
)
def _(landing: Path) -> None:
    path = landing / "salesforce" / "Opportunity.csv"
    _header, rows = read_rows(path)
    (row,) = [r for r in rows if r["Id"] == "0065g00000Rt4rRAAR"]
    append(path, {**row, "Amount": "5400000", "CloseDate": "2025-09-30"})


@case(
    "exchange_rate_two_sources",
    "sources",
    "one date's USD rate given by Salesforce and by exchange_rates.csv, differently",
    "defect",
    "duplicate_key_conflict",
    "2025-04-01 USD JPY",
    why="One rate is used (the row of the latest file); the other is reported, so the "
    "conflict is seen and settled in one place.",
)
def _(landing: Path) -> None:
    # DatedConversionRate gives 1 JPY = 0.00625 USD from 2025-04-01, i.e. 160 JPY per USD.
    write(
        landing / "exchange_rates.csv",
        ["rate_date", "from_currency", "to_currency", "rate"],
        [{"rate_date": "2025-04-01", "from_currency": "USD", "to_currency": "JPY", "rate": "150"}],
    )


@case(
    "hubspot_unknown_owner",
    "sources",
    "a HubSpot deal owner missing from the owners export",
    "defect",
    "unknown_owner",
    why="The deal counts for that owner with the team unassigned.",
)
def _(landing: Path) -> None:
    update(landing / "hubspot" / "deals.csv", "Record ID", "91004", {"Deal owner": "退職 済"})


@case(
    "mapped_cp932_with_yen",
    "sources",
    "CP932 amounts with ￥ and thousands separators",
    "accepted",
    why="The mapping's number format reads them; nothing is lost.",
)
def _(landing: Path) -> None:
    pass  # the base already is such an export: this case states that it loads


@case(
    "salesforce_duplicate_header",
    "sources",
    "a Salesforce export with a column named twice",
    "error",
    "Lead.csv",
    "Status",
    why="Which column holds the value is a guess; re-export or rename one.",
)
def _(landing: Path) -> None:
    replace_text(landing / "salesforce" / "Lead.csv", '"Rating"', '"Status"')


@case(
    "hubspot_duplicate_header",
    "sources",
    "a HubSpot export with a column named twice",
    "error",
    "deals.csv",
    "Amount",
    why="A reader would rename the second column silently; which one is meant is a guess.",
)
def _(landing: Path) -> None:
    replace_text(landing / "hubspot" / "deals.csv", ",Pipeline,", ",Amount,")


@case(
    "jsonl_broken_line",
    "deals_jsonl",
    "a JSON Lines export with a broken line",
    "error",
    "sales_pipeline.jsonl",
    "line 3",
    why="A line that is not JSON means a truncated or damaged export; its line is named.",
)
def _(landing: Path) -> None:
    path = landing / "crm" / "sales_pipeline.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    path.write_text("".join(lines), encoding="utf-8")


@case(
    "parquet_corrupt",
    "deals_parquet",
    "a truncated Parquet file",
    "error",
    "sales_pipeline.parquet",
    "Parquet",
    why="A Parquet file without its footer cannot be read; re-export it.",
)
def _(landing: Path) -> None:
    path = landing / "crm" / "sales_pipeline.parquet"
    path.write_bytes(path.read_bytes()[:-100])


# --- helpers -------------------------------------------------------------------------------


def _deal(opportunity_id: str, **changes: str) -> dict:
    return {
        "opportunity_id": opportunity_id,
        "account_id": "A1",
        "owner_id": "U2",
        "lead_id": "",
        "created_at": "2025-04-20 10:00:00",
        "close_date": "2025-06-10",
        "opportunity_stage": "closed_won",
        "amount": "100000",
        "currency": "JPY",
        "opportunity_type": "new",
        "is_closed": "true",
        "is_won": "true",
    } | changes


def _lead(lead_id: str, **changes: str) -> dict:
    return {
        "lead_id": lead_id,
        "created_at": "2025-04-15 09:00:00",
        "lead_source": "web_inquiry",
        "lead_status": "working",
        "owner_id": "U1",
    } | changes


def _activity(activity_id: str, **changes: str) -> dict:
    return {
        "activity_id": activity_id,
        "activity_type": "call",
        "activity_at": "2025-04-03 10:00:00",
        "owner_id": "U1",
        "outcome": "connected",
        "duration_minutes": "3",
        "lead_id": "L1",
        "subject": "架電",
    } | changes


def _agency_source(landing: Path) -> Path:
    folder = landing / "agency_report"
    folder.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "agency_xlsx" / "source.yml", folder / "source.yml")
    return folder


def _assert_count(con, table: str, where: str, expected: int, at_least: bool = False) -> None:
    count = one_value(con, f"select count(*) from {table} where {where}")
    assert (count >= expected) if at_least else (count == expected), (table, where, count)


def _assert_spend(con, expected: int) -> None:
    spend = one_value(con, "select sum(spend_amount) from kpi_cac where period_grain = 'month'")
    assert spend == expected, spend


def _assert_no_formula(con) -> None:
    for table, column in (("core.dim_accounts", "account_name"),):
        names = [r[0] for r in con.execute(f"select {column} from {table}").fetchall()]
        assert not [n for n in names if n and n[0] in "=+-@"], (table, names)


def _assert_tokyo_time(con) -> None:
    created = one_value(con, "select created_at from core.fct_leads where lead_id = 'LQ-UTC'")
    assert str(created).startswith("2025-05-01 01:30"), created
