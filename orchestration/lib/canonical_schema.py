"""The canonical export format: one CSV file per entity, documented column by column.

This module is the single source of truth for the format. The loader types and
checks landing files against it, the demo generator writes it, the docs
(`docs/canonical_format.md`) are rendered from it and the dbt sources mirror it.

Conventions of the format:

- UTF-8 (a BOM is accepted), comma separated, `"`-quoted, a header row with these column
  names; extra columns are kept out of the warehouse and reported in the load log. The
  dialect is fixed, never sniffed (see "How files are read" in `render_markdown`).
- Timestamps are ISO 8601 (`2025-04-01 09:30:00`, optionally with an offset);
  without an offset they are read as Asia/Tokyo local time (with one, converted to it);
  timestamps are stored as Asia/Tokyo wall-clock time.
- Dates are ISO 8601 (`2025-04-01`); months are `YYYY-MM`.
- Money is a plain decimal number with its ISO 4217 currency code in the
  neighbouring `currency` column.
- Booleans are `true`/`false` (also `1`/`0`, `yes`/`no`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical column types and the SQL type each one is stored as.
SQL_TYPES: dict[str, str] = {
    "text": "varchar",
    "integer": "bigint",
    "decimal": "decimal(18, 2)",
    "decimal6": "decimal(18, 6)",
    "boolean": "boolean",
    "date": "date",
    "month": "date",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    personal: bool = False  # personal data: never leaves staging

    def __post_init__(self) -> None:
        if self.type not in SQL_TYPES:
            raise ValueError(f"unknown column type {self.type!r} for {self.name}")


@dataclass(frozen=True)
class Entity:
    name: str
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


# The words read as a boolean (any case), by every reader: the loader, the mapping readers and
# the Salesforce converter (dbt's macro crm_boolean holds the same list for SQL).
TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")
ROLES = ("SDR", "AE", "CS", "MANAGER")
MOTIONS = ("inside", "field")
LEAD_STATUSES = ("open", "working", "converted", "disqualified")
OPPORTUNITY_TYPES = ("new", "expansion", "renewal")
ACTIVITY_TYPES = ("call", "email", "meeting", "task")
ACTIVITY_OUTCOMES = (
    "no_answer",  # call not connected
    "connected",  # call connected, no appointment
    "appointment_set",  # call connected and an appointment was set
    "sent",  # e-mail sent (delivered), not opened
    "opened",  # e-mail opened
    "held",  # meeting held
    "no_show",  # meeting planned but not held
    "completed",  # task done
)
SPEND_CATEGORIES = ("marketing", "sales", "agency_fee")
SCOPE_TYPES = ("company", "team", "rep")
PERIOD_GRAINS = ("day", "week", "month", "quarter", "fiscal_year")


def _c(name: str, type_: str, description: str, **kwargs) -> Column:
    return Column(name=name, type=type_, description=description, **kwargs)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            name="agencies",
            description="Outsourced sales agencies (営業代行) working for the company.",
            primary_key=("agency_id",),
            columns=(
                _c("agency_id", "text", "Agency identifier.", required=True),
                _c("agency_name", "text", "Agency name (company name).", required=True),
                _c(
                    "fee_model",
                    "text",
                    "How the agency is paid (e.g. retainer, per_appointment, success_fee).",
                ),
            ),
        ),
        Entity(
            name="users",
            description="Users of the CRM: sales reps and their managers, in-house or agency staff.",
            primary_key=("user_id",),
            columns=(
                _c("user_id", "text", "User (rep) identifier.", required=True),
                _c("user_name", "text", "Display name of the rep (personal data).", personal=True),
                _c("email", "text", "E-mail address of the rep (personal data).", personal=True),
                _c(
                    "team_id",
                    "text",
                    "Team the rep belongs to; empty: `unassigned`.",
                ),
                _c("team_name", "text", "Team name, e.g. インサイドセールス1課."),
                _c(
                    "role",
                    "text",
                    "SDR (appointer, アポインター), AE (closer, クローザー), CS or MANAGER. A "
                    "person with several roles (SDR on some deals, closer on others) has one row "
                    "per role; deals are attributed by the role on the deal.",
                    required=True,
                    allowed=ROLES,
                ),
                _c(
                    "motion",
                    "text",
                    "Sales motion: inside (インサイドセールス) or field (フィールドセールス); "
                    "empty: inside for SDRs, field for everyone else.",
                    allowed=MOTIONS,
                ),
                _c("agency_id", "text", "Agency the rep works for; empty for in-house staff."),
                _c("hired_date", "date", "First day of the rep in the sales organisation."),
                _c("is_active", "boolean", "Whether the user is active today."),
            ),
        ),
        Entity(
            name="rep_team_history",
            description="Team memberships over time (異動履歴), optional: a rep counts for the team "
            "they belonged to on the day of each fact; without it, users.team_id applies throughout.",
            primary_key=("user_id", "valid_from_date"),
            columns=(
                _c("user_id", "text", "User (rep) identifier.", required=True),
                _c(
                    "team_id",
                    "text",
                    "Team the rep belongs to from valid_from_date on.",
                    required=True,
                ),
                _c("team_name", "text", "Team name."),
                _c(
                    "valid_from_date",
                    "date",
                    "First day in the team; it holds until the next row.",
                    required=True,
                ),
            ),
        ),
        Entity(
            name="accounts",
            description="Customer and prospect companies (取引先).",
            primary_key=("account_id",),
            columns=(
                _c("account_id", "text", "Account identifier.", required=True),
                _c("account_name", "text", "Company name.", required=True),
                _c("corporate_number", "text", "Japanese corporate number (法人番号, 13 digits)."),
                _c("industry", "text", "Industry segment (業種)."),
                _c(
                    "employee_band",
                    "text",
                    "Company size band (従業員規模), e.g. 1-49, 50-299, 300-999, 1000+; empty: "
                    "derived from employee_count with dbt var company_size_bands.",
                ),
                _c("employee_count", "integer", "Number of employees (従業員数)."),
                _c("prefecture", "text", "Prefecture of the head office (都道府県)."),
                _c("created_at", "timestamp", "When the account was created in the CRM."),
            ),
        ),
        Entity(
            name="contacts",
            description="People at accounts (personal data: stays in staging, never in a mart).",
            primary_key=("contact_id",),
            columns=(
                _c("contact_id", "text", "Contact identifier.", required=True),
                _c("account_id", "text", "Account the contact works for."),
                _c("full_name", "text", "Name of the person.", personal=True),
                _c("email", "text", "E-mail address.", personal=True),
                _c("phone", "text", "Phone number.", personal=True),
                _c("title", "text", "Job title (役職)."),
                _c("created_at", "timestamp", "When the contact was created."),
            ),
        ),
        Entity(
            name="leads",
            description="Leads (見込み客): prospects before qualification, with their source.",
            primary_key=("lead_id",),
            columns=(
                _c("lead_id", "text", "Lead identifier.", required=True),
                _c(
                    "created_at",
                    "timestamp",
                    "When the lead was created (cohort date).",
                    required=True,
                ),
                _c(
                    "lead_source",
                    "text",
                    "Where the lead came from (e.g. web_inquiry, seminar); mapped to a "
                    "channel by the seed lead_source_channels. Empty: `unknown`.",
                ),
                _c(
                    "lead_status",
                    "text",
                    "Current status; empty: converted when the lead is linked to an "
                    "opportunity, else open.",
                    allowed=LEAD_STATUSES,
                ),
                _c("owner_id", "text", "User who owns the lead (usually an SDR)."),
                _c(
                    "agency_id",
                    "text",
                    "Agency that generated or works the lead; empty when in-house.",
                ),
                _c("account_id", "text", "Account of the lead's company when known."),
                _c("contact_id", "text", "Contact created from the lead when known."),
                _c("converted_at", "timestamp", "When the lead was converted to an opportunity."),
                _c("converted_opportunity_id", "text", "Opportunity the lead was converted to."),
            ),
        ),
        Entity(
            name="opportunities",
            description="Opportunities (商談, 案件): current state of each deal.",
            primary_key=("opportunity_id",),
            columns=(
                _c("opportunity_id", "text", "Opportunity identifier.", required=True),
                _c(
                    "account_id",
                    "text",
                    "Account the deal is with; a deal without one still counts where it can "
                    "(won/lost, pipeline) and is left out of segment scopes.",
                ),
                _c("owner_id", "text", "User who owns the deal (usually an AE).", required=True),
                _c(
                    "lead_id",
                    "text",
                    "Lead the opportunity was converted from; empty when AE-sourced.",
                ),
                _c(
                    "sdr_id",
                    "text",
                    "SDR (appointer) who sourced the deal, when the deal file names them; "
                    "otherwise the owner of the deal's lead.",
                ),
                _c(
                    "created_at",
                    "timestamp",
                    "When the opportunity was created; when unknown the deal still counts as "
                    "won/lost and is flagged where a cycle length is needed.",
                ),
                _c(
                    "close_date",
                    "date",
                    "Expected close date while open; actual close date once closed.",
                ),
                _c(
                    "opportunity_stage",
                    "text",
                    "Current stage name; must appear in the seed stage_map "
                    "for source_system canonical.",
                    required=True,
                ),
                _c("amount", "decimal", "Deal amount (total contract value of the first year)."),
                _c(
                    "product",
                    "text",
                    "Product or plan the deal is for (商材); when empty, the product of the "
                    "subscription the deal created is used.",
                ),
                _c(
                    "currency", "text", "ISO 4217 currency code of amount, e.g. JPY.", required=True
                ),
                _c(
                    "opportunity_type",
                    "text",
                    "new (新規), expansion (アップセル) or renewal (更新).",
                    required=True,
                    allowed=OPPORTUNITY_TYPES,
                ),
                _c("is_closed", "boolean", "Whether the deal is closed.", required=True),
                _c("is_won", "boolean", "Whether the deal is closed won.", required=True),
                _c("lost_reason", "text", "Reason for a lost deal (失注理由)."),
            ),
        ),
        Entity(
            name="opportunity_stage_history",
            description="One row per stage change of an opportunity (OpportunityHistory).",
            primary_key=("opportunity_id", "changed_at", "opportunity_stage"),
            columns=(
                _c("opportunity_id", "text", "Opportunity whose stage changed.", required=True),
                _c("opportunity_stage", "text", "Stage entered at changed_at.", required=True),
                _c(
                    "changed_at",
                    "timestamp",
                    "When the opportunity entered the stage.",
                    required=True,
                ),
                _c("changed_by_id", "text", "User who changed the stage."),
            ),
        ),
        Entity(
            name="activities",
            description="Sales activities: calls, e-mails, meetings and tasks (活動履歴).",
            primary_key=("activity_id",),
            columns=(
                _c("activity_id", "text", "Activity identifier.", required=True),
                _c(
                    "activity_type",
                    "text",
                    "call (架電), email, meeting (商談・訪問) or task.",
                    required=True,
                    allowed=ACTIVITY_TYPES,
                ),
                _c("activity_at", "timestamp", "When the activity happened.", required=True),
                _c("owner_id", "text", "User who did the activity.", required=True),
                _c("outcome", "text", "Result of the activity.", allowed=ACTIVITY_OUTCOMES),
                _c("duration_minutes", "integer", "Duration in minutes (calls and meetings)."),
                _c("lead_id", "text", "Lead the activity relates to."),
                _c("opportunity_id", "text", "Opportunity the activity relates to."),
                _c("account_id", "text", "Account the activity relates to."),
                _c("subject", "text", "Free-text subject (may hold personal data).", personal=True),
            ),
        ),
        Entity(
            name="subscriptions",
            description="Subscription line items: a constant MRR over a date range. An expansion or "
            "contraction ends one item and starts another.",
            primary_key=("subscription_item_id",),
            columns=(
                _c(
                    "subscription_item_id",
                    "text",
                    "Subscription line item identifier.",
                    required=True,
                ),
                _c(
                    "subscription_id",
                    "text",
                    "Subscription (contract) the item belongs to.",
                    required=True,
                ),
                _c("account_id", "text", "Customer account.", required=True),
                _c("product", "text", "Product or plan."),
                _c("start_date", "date", "First day the item is billed.", required=True),
                _c("end_date", "date", "Last day the item is billed; empty while active."),
                _c(
                    "mrr_amount", "decimal", "Monthly recurring revenue of the item.", required=True
                ),
                _c("currency", "text", "ISO 4217 currency code of mrr_amount.", required=True),
                _c("opportunity_id", "text", "Opportunity that created the item."),
            ),
        ),
        Entity(
            name="orders",
            description="Orders or invoices (受注・請求), optional: for revenue, repeat rate (リピート率) "
            "and usage frequency (利用頻度・分量).",
            primary_key=("order_id",),
            columns=(
                _c("order_id", "text", "Order identifier.", required=True),
                _c("account_id", "text", "Customer account.", required=True),
                _c("ordered_at", "timestamp", "When the order was placed.", required=True),
                _c("amount", "decimal", "Order amount.", required=True),
                _c("currency", "text", "ISO 4217 currency code of amount.", required=True),
                _c("quantity", "decimal", "Quantity or usage volume ordered."),
                _c("product", "text", "Product."),
                _c("opportunity_id", "text", "Opportunity the order came from."),
            ),
        ),
        Entity(
            name="satisfaction_surveys",
            description="Customer satisfaction survey answers (顧客満足度), optional.",
            primary_key=("response_id",),
            columns=(
                _c("response_id", "text", "Survey answer identifier.", required=True),
                _c("account_id", "text", "Customer account that answered.", required=True),
                _c("responded_at", "timestamp", "When the answer was given.", required=True),
                _c("score", "decimal", "Satisfaction score (e.g. 1-5 or 0-10).", required=True),
                _c("max_score", "decimal", "Highest possible score of the scale (e.g. 5)."),
                _c("survey_name", "text", "Survey name."),
            ),
        ),
        Entity(
            name="spend",
            description="Marketing and sales spend by month and channel/agency (販促費, 営業代行費).",
            primary_key=("spend_month", "channel", "agency_id", "spend_category"),
            columns=(
                _c("spend_month", "month", "Month of the spend, YYYY-MM.", required=True),
                _c(
                    "channel",
                    "text",
                    "Channel the spend is for (see seed lead_source_channels).",
                    required=True,
                ),
                _c("agency_id", "text", "Agency paid; empty for in-house spend."),
                _c(
                    "spend_category",
                    "text",
                    "marketing, sales or agency_fee.",
                    required=True,
                    allowed=SPEND_CATEGORIES,
                ),
                _c("amount", "decimal", "Amount spent.", required=True),
                _c("currency", "text", "ISO 4217 currency code of amount.", required=True),
            ),
        ),
        Entity(
            name="exchange_rates",
            description="Dated exchange rates (為替レート) to convert amounts to the reporting currency.",
            primary_key=("rate_date", "from_currency", "to_currency"),
            columns=(
                _c(
                    "rate_date",
                    "date",
                    "First day the rate applies; it holds until the next rate.",
                    required=True,
                ),
                _c(
                    "from_currency",
                    "text",
                    "ISO 4217 code of the amount's currency.",
                    required=True,
                ),
                _c(
                    "to_currency",
                    "text",
                    "ISO 4217 code converted to (the reporting currency).",
                    required=True,
                ),
                _c(
                    "rate",
                    "decimal6",
                    "Units of to_currency for one unit of from_currency.",
                    required=True,
                ),
            ),
        ),
        Entity(
            name="targets",
            description="KPI targets (予算・目標) per KPI × period × scope, with a scenario.",
            primary_key=(
                "kpi_code",
                "period_grain",
                "period_start_date",
                "scope_type",
                "scope_id",
                "scenario",
            ),
            columns=(
                _c(
                    "kpi_code",
                    "text",
                    "KPI the target is for, e.g. won_amount, deals_won, leads_created.",
                    required=True,
                ),
                _c(
                    "period_grain",
                    "text",
                    "day, week, month, quarter or fiscal_year.",
                    required=True,
                    allowed=PERIOD_GRAINS,
                ),
                _c("period_start_date", "date", "First day of the period.", required=True),
                _c(
                    "scope_type",
                    "text",
                    "company, team or rep.",
                    required=True,
                    allowed=SCOPE_TYPES,
                ),
                _c(
                    "scope_id",
                    "text",
                    "Team or rep id; 'company' for company-wide targets.",
                    required=True,
                ),
                _c("target_value", "decimal", "Target value.", required=True),
                _c("currency", "text", "Currency for money targets; empty for counts."),
                _c(
                    "scenario",
                    "text",
                    "Target version or scenario, e.g. budget, stretch.",
                    required=True,
                ),
            ),
        ),
        Entity(
            name="lead_sources",
            description="Lead sources (リードソース) and their channels, optional: declares sources "
            "beyond the seed lead_source_channels (a mapping's `lead_sources:` writes this file); "
            "a row overrides the seed row of the same lead source.",
            primary_key=("lead_source",),
            columns=(
                _c("lead_source", "text", "Lead source, as in leads.lead_source.", required=True),
                _c(
                    "channel",
                    "text",
                    "Channel the lead source belongs to (spend and CAC are by channel).",
                    required=True,
                ),
                _c(
                    "lead_source_name_ja",
                    "text",
                    "Japanese name of the lead source; empty: the seed's name, else the code.",
                ),
                _c(
                    "channel_name_ja",
                    "text",
                    "Japanese name of the channel; empty: the seed's name of the channel, else "
                    "the code.",
                ),
            ),
        ),
        Entity(
            name="teams",
            description="The sales organisation above the reps (組織), optional: teams and the units "
            "above them (manager, office, region: any depth), each naming its parent. Every unit "
            "above a rep's team is a scorecard scope (scope_type org_unit).",
            primary_key=("team_id",),
            columns=(
                _c(
                    "team_id",
                    "text",
                    "Team or unit identifier (users.team_id names the team).",
                    required=True,
                ),
                _c("team_name", "text", "Name of the team or unit."),
                _c("parent_team_id", "text", "The unit this one belongs to; empty at the top."),
                _c("unit_level", "text", "What the unit is, e.g. team, manager, office, region."),
            ),
        ),
        Entity(
            name="products",
            description="Product catalog (商材), optional: deals' products are matched to it "
            "leniently (case, spaces and punctuation ignored: GTXPro = GTX Pro); a product that "
            "matches no entry is flagged (data_quality_issues rule unknown_product).",
            primary_key=("product",),
            columns=(
                _c("product", "text", "Product name as the catalog spells it.", required=True),
                _c("series", "text", "Product series or family."),
                _c("list_price", "decimal", "List price of one unit."),
                _c("currency", "text", "ISO 4217 currency code of list_price."),
            ),
        ),
    )
}

# The order in which entities are loaded and documented.
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITIES)


def render_markdown() -> str:
    """Render the format as Markdown (used for docs/canonical_format.md)."""
    lines = [
        "# The canonical export format",
        "",
        "One CSV file per entity, placed in the landing folder as `<entity>.csv` or as any number of",
        "files `<entity>/*.csv` (e.g. one per day). UTF-8 (BOM accepted), comma separated, header row.",
        "Timestamps are ISO 8601; without an offset they are Asia/Tokyo time; with one they are converted to it.",
        "Dates are `YYYY-MM-DD`, months `YYYY-MM`, booleans `true`/`false`, money a plain decimal",
        "with its ISO 4217 code in `currency`. Columns not listed are ignored (and reported).",
        "Rows that cannot be typed go to quarantine with the reason; a file without a required",
        "column fails the load with a message naming the file and the column.",
        "Personal data (marked ✱) is loaded for matching but never reaches a mart.",
        "",
        "## How files are read",
        "",
        "- **File names** match case-insensitively: `Spend.CSV`, `LEADS.csv` and `leads/part1.CSV`",
        "  are loaded. A file or folder in the landing folder that matches no entity and is not a",
        "  source folder (a folder with a `source.yml`) is not read: it is listed in",
        "  `raw._unmatched_files`, logged as a warning and printed in the run report. Hidden files",
        "  (`.name`), Office lock files (`~$name`) and README files are ignored without a word.",
        '- **Dialect** is fixed, never guessed from a sample: `,` between fields, `"` around a',
        '  value holding a comma, quote or line break, `""` for a quote inside it, one header row.',
        "  Line ends may be LF, CRLF or CR; a file mixing CRLF and LF is read with every CRLF as LF.",
        "- **Encoding** is UTF-8 (a BOM is allowed). A file whose header line is not UTF-8, whose",
        "  bad lines read as Japanese in Shift_JIS (cp932), or with more than 10 lines (and 1 % of",
        "  its lines) holding bytes that are not UTF-8 stops the run with an error naming the line",
        "  and byte offset of the first bad byte; save it as CSV UTF-8, or put a Shift_JIS export in",
        "  a source folder whose `source.yml` declares `encoding: cp932`. Fewer bad lines are",
        "  quarantined one by one (`not UTF-8: line N, byte offset M (byte 0xXX)`).",
        "- **Header**: an empty column name or the same name twice (ignoring case) stops the run",
        "  with the positions; so does an empty (0-byte) file.",
        "- **Rows** with the wrong number of fields, a line over 2,000,000 bytes (usually an",
        "  unterminated quote) or a NUL byte in a value are quarantined with the reason",
        "  (`raw._quarantine`), never loaded and never silently dropped: rows read = loaded +",
        "  quarantined for every file.",
        "- **Symlinks** whose target is outside the landing folder are refused (the target is",
        "  never read); so are paths and patterns in `source.yml` or a mapping that are absolute",
        "  or contain `..`. `source.yml` and mapping files may hold at most 1 MiB, and their aliases",
        "  may expand to at most 100,000 values. Workbooks (.xlsx) that are empty, not a zip",
        "  archive, or unpack to over 512 MiB (or one part at over 200 to 1) are refused.",
        "- Every canonical file and `source.yml` is checked before anything is loaded; the run",
        "  stops with one error listing every problem found.",
        "",
        "",
        "This page is generated from `orchestration/lib/canonical_schema.py`",
        "(`python -m orchestration.cli docs`).",
        "",
    ]
    for entity in ENTITIES.values():
        lines += [
            f"## `{entity.name}`",
            "",
            entity.description,
            "",
            f"Primary key: {', '.join(f'`{k}`' for k in entity.primary_key)}.",
            "",
            "| column | type | required | meaning |",
            "|---|---|---|---|",
        ]
        for col in entity.columns:
            meaning = col.description
            if col.allowed:
                meaning += " One of: " + ", ".join(f"`{v}`" for v in col.allowed) + "."
            mark = " ✱" if col.personal else ""
            lines.append(
                f"| `{col.name}`{mark} | {col.type} | {'yes' if col.required else 'no'} | {meaning} |"
            )
        lines.append("")
    return "\n".join(lines)
