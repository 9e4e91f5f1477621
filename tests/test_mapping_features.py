"""Mapping features real exports need: derived entities, lookups, filters and de-duplication,
declared lead sources, defaults for empty cells, JSON Lines and Parquet input.

Every fixture is written here to tmp_path (UTF-8 CSV: encoding is tested elsewhere) and every
expected value is worked out by hand from it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.sources.base import FileAccount, MappingError, write_conversion
from orchestration.sources.mapping import convert

ROOT = Path(__file__).resolve().parents[1]

# A marketing-funnel export: leads (MQLs) and the deals closed from some of them.
LEADS = [
    ["mql_id", "first_contact_date", "landing_page_id", "origin"],
    ["M1", "2025-04-01", "P1", "paid_search"],
    ["M2", "2025-04-02", "P2", "organic_search"],
    ["M3", "2025-04-03", "P1", ""],
    ["M4", "2025-04-04", "P3", "social"],
]
DEALS = [
    ["mql_id", "seller_id", "sdr_id", "sr_id", "won_date", "declared_monthly_revenue"],
    ["M1", "S1", "U1", "U2", "2025-05-01", "0"],
    ["M2", "S2", "U2", "U3", "2025-05-10", "1200000.0"],
    ["M9", "S3", "", "U3", "2025-05-20", "0"],
]
FUNNEL_MAPPING = """
lead_sources:
  paid_search: {channel: inbound_marketing, name_ja: リスティング広告}
  organic_search: {channel: inbound_marketing}
  social: {channel: social_media, channel_name_ja: ソーシャル}
  unknown: {channel: unknown}
files:
  - pattern: "leads*.csv"
    entity: leads
    columns:
      lead_id: mql_id
      created_at: first_contact_date
      lead_source: {column: origin, default: unknown}
      owner_id: {lookup: {pattern: "closed_deals*.csv", key: mql_id, value: sdr_id}, column: mql_id}
  - pattern: "closed_deals*.csv"
    entity: opportunities
    columns:
      opportunity_id: mql_id
      lead_id: mql_id
      owner_id: sr_id
      sdr_id: sdr_id
      created_at: {lookup: {pattern: "leads*.csv", key: mql_id, value: first_contact_date}, column: mql_id}
      close_date: won_date
      opportunity_stage: {value: closed_won}
      amount: declared_monthly_revenue
      currency: {value: BRL}
      opportunity_type: {value: new}
      is_closed: {value: "true"}
      is_won: {value: "true"}
  - pattern: "closed_deals*.csv"
    entity: users
    derive:
      key: user_id
      from:
        - {column: sdr_id, set: {role: SDR, motion: inside}}
        - {column: sr_id,  set: {role: AE,  motion: field}}
    columns:
      team_id: {value: sales}
"""


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def folder_with(tmp_path: Path, mapping: str, files: dict[str, list[list[str]]]) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "mapping.yml").write_text(mapping, encoding="utf-8")
    for name, rows in files.items():
        write_csv(folder / name, rows)
    return folder


def run(folder: Path):
    return convert(folder, {"type": "mapping", "mapping": "mapping.yml"}, "mk")


def records(frame) -> list[dict]:
    return [
        {k: (None if v != v else v) for k, v in row.items()}  # NaN -> None
        for row in frame.drop(columns=["_source_file"]).to_dict("records")
    ]


@pytest.fixture
def funnel(tmp_path):
    folder = folder_with(tmp_path, FUNNEL_MAPPING, {"leads.csv": LEADS, "closed_deals.csv": DEALS})
    return folder, run(folder)


# ---------------------------------------------------------------------------------------------
# derive
# ---------------------------------------------------------------------------------------------


def test_derive_gives_one_row_per_value_and_role(funnel):
    folder, conversion = funnel
    users = conversion.frames["users"]
    # SDR column first (U1 row 1, U2 row 2; row 3 is empty), then the AE column (U2 row 1,
    # U3 row 2; row 3's U3 is already derived). U2 is SDR and AE: two rows, not merged.
    assert records(users) == [
        {
            "user_id": "mk:U1",
            "team_id": "mk:sales",
            "role": "SDR",
            "motion": "inside",
            "_source_row": 1,
        },
        {
            "user_id": "mk:U2",
            "team_id": "mk:sales",
            "role": "SDR",
            "motion": "inside",
            "_source_row": 2,
        },
        {
            "user_id": "mk:U2",
            "team_id": "mk:sales",
            "role": "AE",
            "motion": "field",
            "_source_row": 1,
        },
        {
            "user_id": "mk:U3",
            "team_id": "mk:sales",
            "role": "AE",
            "motion": "field",
            "_source_row": 2,
        },
    ]
    assert set(users["_source_file"]) == {str(folder / "closed_deals.csv")}
    deals = str(folder / "closed_deals.csv")
    # The deals file is accounted once per entry: 3 rows each, the derive entry rejects none.
    assert [a for a in conversion.files if a.source_file == deals] == [
        FileAccount(deals, 3, 3, 0),
        FileAccount(deals, 3, 3, 0),
    ]
    assert conversion.rejects == []


def test_derive_set_values_are_checked_like_constants(tmp_path):
    mapping = FUNNEL_MAPPING.replace("role: AE,", "role: closer,")
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "closed_deals.csv": DEALS})
    with pytest.raises(MappingError) as error:
        run(folder)
    message = str(error.value)
    assert "files[2].derive.from[1].set.role" in message
    assert "'closer' is not a valid users.role value" in message
    assert "SDR, AE, CS, MANAGER" in message


def test_derive_needs_the_required_columns(tmp_path):
    mapping = FUNNEL_MAPPING.replace("set: {role: AE,  motion: field}", "set: {motion: field}")
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "closed_deals.csv": DEALS})
    with pytest.raises(MappingError, match=r"files\[2\]\.derive\.from\[1\].*required.*role"):
        run(folder)


# ---------------------------------------------------------------------------------------------
# lookup
# ---------------------------------------------------------------------------------------------


def test_lookup_both_directions_hit_and_miss(funnel):
    _, conversion = funnel
    leads = records(conversion.frames["leads"])
    # owner = the SDR of the lead's deal: M1 -> U1, M2 -> U2; M3, M4 have no deal (miss).
    assert [(r["lead_id"], r["owner_id"]) for r in leads] == [
        ("mk:M1", "mk:U1"),
        ("mk:M2", "mk:U2"),
        ("mk:M3", None),
        ("mk:M4", None),
    ]
    opportunities = records(conversion.frames["opportunities"])
    # created = the lead's first contact (a date, read as midnight); M9 has no lead (miss).
    assert [(r["opportunity_id"], r["created_at"], r["amount"]) for r in opportunities] == [
        ("mk:M1", "2025-04-01 00:00:00", "0"),
        ("mk:M2", "2025-04-02 00:00:00", "1200000.0"),  # decimals are kept as written
        ("mk:M9", None, "0"),
    ]
    assert opportunities[0]["sdr_id"] == "mk:U1" and opportunities[2]["sdr_id"] is None


def test_lookup_with_several_values_takes_the_first_and_warns(tmp_path, caplog):
    deals = [
        *DEALS,
        ["M1", "S4", "U5", "U2", "2025-06-01", "0"],
        ["M2", "S2", "U2", "U3", "x", "0"],
    ]
    mapping = FUNNEL_MAPPING.split('  - pattern: "closed_deals*.csv"')[0]  # the leads entry only
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "closed_deals.csv": deals})
    with caplog.at_level(logging.WARNING):
        conversion = run(folder)
    owners = [r["owner_id"] for r in records(conversion.frames["leads"])]
    assert owners == ["mk:U1", "mk:U2", None, None]  # M1: U1 (row 1) wins over U5 (row 4)
    # M1 has two different sdr_id values; M2 has two rows with the same value: not ambiguous.
    warnings = [r.getMessage() for r in caplog.records if "several different" in r.getMessage()]
    assert len(warnings) == 1 and ": 1 mql_id value(s) of closed_deals*.csv" in warnings[0]


def test_lookup_label_missing_in_the_other_file_names_that_file(tmp_path):
    mapping = FUNNEL_MAPPING.replace("value: sdr_id}", "value: sdr}")
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "closed_deals.csv": DEALS})
    with pytest.raises(MappingError) as error:
        run(folder)
    message = str(error.value)
    assert (
        f"{folder / 'closed_deals.csv'}: column label 'sdr' (files[0].columns.owner_id.lookup"
        in message
    )
    assert "Did you mean 'sdr_id'?" in message


def test_lookup_values_go_through_value_maps(tmp_path):
    mapping = """
files:
  - pattern: "leads*.csv"
    entity: leads
    columns:
      lead_id: mql_id
      created_at: first_contact_date
      lead_status: {lookup: {pattern: "deals*.csv", key: mql_id, value: state}, column: mql_id, map: state, default: open}
value_maps:
  state: {won: converted, lost: disqualified}
"""
    deals = [["mql_id", "state"], ["M1", "won"], ["M2", "lost"]]
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "deals.csv": deals})
    statuses = [r["lead_status"] for r in records(run(folder).frames["leads"])]
    assert statuses == ["converted", "disqualified", "open", "open"]


# ---------------------------------------------------------------------------------------------
# filter and deduplicate
# ---------------------------------------------------------------------------------------------

FILTER_MAPPING = """
files:
  - pattern: "deals.csv"
    entity: agencies
    columns:
      agency_id: mql_id
      agency_name: status
    filter:
      - {column: status, in: [won, lost]}
      - {column: deleted, not_in: ["1", "true"]}
      - {column: mql_id, not_empty: true}
    deduplicate: {key: [mql_id], keep: last}
"""
FILTER_ROWS = [
    ["mql_id", "status", "deleted"],
    ["A", "won", ""],  # 1: duplicate of row 4 (keep last)
    ["B", "open", ""],  # 2: filter[0]
    ["C", "lost", "1"],  # 3: filter[1]
    ["A", "lost", ""],  # 4: kept
    ["", "won", ""],  # 5: filter[2]
    ["D", "Won", "0"],  # 6: kept (values match like labels: case folded)
]


def test_filter_and_deduplicate_reject_with_reasons_and_balance(tmp_path):
    folder = folder_with(tmp_path, FILTER_MAPPING, {"deals.csv": FILTER_ROWS})
    conversion = run(folder)
    deals = str(folder / "deals.csv")
    assert records(conversion.frames["agencies"]) == [
        {"agency_id": "mk:A", "agency_name": "lost", "_source_row": 4},
        {"agency_id": "mk:D", "agency_name": "Won", "_source_row": 6},
    ]
    reasons = {r.row_number: (r.reason, r.value) for r in conversion.rejects}
    assert reasons == {
        1: ("duplicate of row 4 on mql_id (files[0].deduplicate, keep last)", "A"),
        2: ("filtered out by files[0].filter[0]: status = 'open' not in [won, lost]", "open"),
        3: ("filtered out by files[0].filter[1]: deleted = '1' in not_in [1, true]", "1"),
        5: ("filtered out by files[0].filter[2]: mql_id is empty", None),
    }
    assert conversion.files == [FileAccount(deals, 6, 2, 4)]


def test_deduplicate_keep_first(tmp_path):
    mapping = FILTER_MAPPING.replace("keep: last", "keep: first").replace(
        "      - {column: status, in: [won, lost]}\n", ""
    )
    folder = folder_with(tmp_path, mapping, {"deals.csv": FILTER_ROWS})
    conversion = run(folder)
    kept = [r["_source_row"] for r in records(conversion.frames["agencies"])]
    assert kept == [1, 2, 6]
    reasons = {r.row_number: r.reason for r in conversion.rejects}
    assert reasons[4] == "duplicate of row 1 on mql_id (files[0].deduplicate, keep first)"
    assert sorted(reasons) == [3, 4, 5]


def test_filter_labels_are_checked(tmp_path):
    mapping = FILTER_MAPPING.replace("{column: deleted,", "{column: removed,")
    folder = folder_with(tmp_path, mapping, {"deals.csv": FILTER_ROWS})
    with pytest.raises(MappingError, match=r"column label 'removed' \(files\[0\]\.filter\[1\]"):
        run(folder)


# ---------------------------------------------------------------------------------------------
# lead_sources, default and empty values
# ---------------------------------------------------------------------------------------------


def test_declared_lead_sources_are_valid_and_written(funnel, tmp_path):
    folder, conversion = funnel
    sources = [r["lead_source"] for r in records(conversion.frames["leads"])]
    assert sources == ["paid_search", "organic_search", "unknown", "social"]  # M3: default
    written = write_conversion(conversion, tmp_path / "out")
    with written["lead_sources"].open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    mapping = folder / "mapping.yml"
    assert lines == [
        "lead_source,channel,lead_source_name_ja,channel_name_ja,_source_file,_source_row",
        f"paid_search,inbound_marketing,リスティング広告,,{mapping},1",
        f"organic_search,inbound_marketing,,,{mapping},2",
        f"social,social_media,,ソーシャル,{mapping},3",
        f"unknown,unknown,,,{mapping},4",
    ]


def test_undeclared_lead_source_is_a_mapping_error(tmp_path):
    mapping = FUNNEL_MAPPING.replace(
        "  social: {channel: social_media, channel_name_ja: ソーシャル}\n", ""
    )
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "closed_deals.csv": DEALS})
    with pytest.raises(MappingError, match=r"values that are not canonical: 'social' \(1 row\)"):
        run(folder)


def test_default_must_be_a_valid_value(tmp_path):
    mapping = FUNNEL_MAPPING.replace("default: unknown", "default: nowhere")
    folder = folder_with(tmp_path, mapping, {"leads.csv": LEADS, "closed_deals.csv": DEALS})
    with pytest.raises(MappingError, match=r"files\[0\]\.columns\.lead_source\.default.*'nowhere'"):
        run(folder)


def test_value_map_error_lists_empty_cells_and_how_to_handle_them(tmp_path):
    mapping = (
        FUNNEL_MAPPING.replace(
            "{column: origin, default: unknown}", "{column: origin, map: origin}"
        )
        + "value_maps:\n  origin: {paid_search: paid_search}\n"
    )
    leads = [*LEADS, ["M5", "2025-04-05", "P1", ""]]
    folder = folder_with(tmp_path, mapping, {"leads.csv": leads, "closed_deals.csv": DEALS})
    with pytest.raises(MappingError) as error:
        run(folder)
    message = str(error.value)
    assert "'organic_search' (1 row), 'social' (1 row), (empty) (2 rows)." in message
    assert "`\"\": <value>` in value map 'origin' or `default: <value>`" in message
    assert "otherwise they stay empty" in message


def test_empty_required_values_are_rejected_with_a_warning(tmp_path, caplog):
    leads = [*LEADS, ["M5", "", "P1", "social"], ["M6", "", "P1", "social"]]
    folder = folder_with(tmp_path, FUNNEL_MAPPING, {"leads.csv": leads, "closed_deals.csv": DEALS})
    with caplog.at_level(logging.WARNING):
        conversion = run(folder)
    rejected = [(r.row_number, r.reason) for r in conversion.rejects]
    assert rejected == [
        (5, "first_contact_date (created_at): empty required value"),
        (6, "first_contact_date (created_at): empty required value"),
    ]
    assert [a for a in conversion.files if a.source_file.endswith("leads.csv")] == [
        FileAccount(str(folder / "leads.csv"), 6, 4, 2)
    ]
    assert any(
        "2 rows empty in required column leads.created_at" in r.getMessage() for r in caplog.records
    )


# ---------------------------------------------------------------------------------------------
# JSON Lines and Parquet
# ---------------------------------------------------------------------------------------------

ORDERS_MAPPING = """
files:
  - pattern: "orders*"
    entity: orders
    columns:
      order_id: id
      account_id: customer
      ordered_at: at
      amount: amount
      currency: {value: JPY}
      quantity: qty
"""
ORDERS_CSV = [
    ["id", "customer", "at", "amount", "qty"],
    ["R1", "C1", "2025-04-01 09:00:00", "1200000", "3"],
    ["R2", "C2", "2025-04-02 18:30:00", "1500.5", ""],
]
EXPECTED_ORDERS = [
    {
        "order_id": "mk:R1",
        "account_id": "mk:C1",
        "ordered_at": "2025-04-01 09:00:00",
        "amount": "1200000",
        "currency": "JPY",
        "quantity": "3",
        "_source_row": 1,
    },
    {
        "order_id": "mk:R2",
        "account_id": "mk:C2",
        "ordered_at": "2025-04-02 18:30:00",
        "amount": "1500.5",
        "currency": "JPY",
        "quantity": None,
        "_source_row": 2,
    },
]


def _orders_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "mapping.yml").write_text(ORDERS_MAPPING, encoding="utf-8")
    return folder


def test_csv_jsonl_and_parquet_give_the_same_rows(tmp_path):
    csv_folder = _orders_folder(tmp_path, "csv")
    write_csv(csv_folder / "orders.csv", ORDERS_CSV)
    json_folder = _orders_folder(tmp_path, "jsonl")
    lines = [
        {"id": "R1", "customer": "C1", "at": "2025-04-01 09:00:00", "amount": 1200000.0, "qty": 3},
        {"id": "R2", "customer": "C2", "at": "2025-04-02T09:30:00Z", "amount": 1500.5},
    ]  # R2 at 09:30 UTC = 18:30 Tokyo; R2 has no qty key
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n"
    (json_folder / "orders.jsonl").write_text(text, encoding="utf-8")
    parquet_folder = _orders_folder(tmp_path, "parquet")
    table = pa.table(
        {
            "id": ["R1", "R2"],
            "customer": ["C1", "C2"],
            "at": pa.array([datetime(2025, 4, 1, 9), datetime(2025, 4, 2, 18, 30)]),
            "amount": [1200000.0, 1500.5],
            "qty": pa.array([3, None], type=pa.int64()),
        }
    )
    pq.write_table(table, parquet_folder / "orders.parquet")
    for folder in (csv_folder, json_folder, parquet_folder):
        assert records(run(folder).frames["orders"]) == EXPECTED_ORDERS, folder.name


def test_nested_json_value_is_a_mapping_error(tmp_path):
    folder = _orders_folder(tmp_path, "nested")
    (folder / "orders.ndjson").write_text('{"id": "R1", "customer": {"id": "C1"}}\n')
    with pytest.raises(
        MappingError, match=r"orders\.ndjson: record 1: key 'customer' holds a nested"
    ):
        run(folder)


# ---------------------------------------------------------------------------------------------
# lead_sources reaches core.dim_lead_sources
# ---------------------------------------------------------------------------------------------


def test_declared_lead_sources_reach_dim_lead_sources(tmp_path, monkeypatch):
    """Load a leads file and a lead_sources file, then build +dim_lead_sources with dbt."""
    from dbt.cli.main import dbtRunner

    from orchestration.lib.crm_landing import land_crm
    from orchestration.lib.loader import load_landing
    from orchestration.sources.hubspot import HUBSPOT
    from orchestration.sources.salesforce import SALESFORCE

    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(
        landing / "leads.csv",
        [
            ["lead_id", "created_at", "lead_source"],
            ["L1", "2025-04-01", "paid_search"],
            ["L2", "2025-04-01", "web_inquiry"],
            ["L3", "2025-04-01", "seminar"],
            ["L4", "2025-04-01", "mystery"],
        ],
    )
    write_csv(
        landing / "lead_sources.csv",
        [
            ["lead_source", "channel", "lead_source_name_ja", "channel_name_ja"],
            ["paid_search", "inbound_marketing", "リスティング広告", ""],  # new source, new channel
            ["Web_Inquiry", "paid_media", "", ""],
        ],  # overrides the seed row; names from the seed
    )
    database = tmp_path / "working.duckdb"
    load_landing(database, landing, entities=["leads", "lead_sources"])
    # The nightly job always lands the CRM objects (empty tables when no export came); so does this.
    with duckdb.connect(str(database)) as con:
        for crm in (SALESFORCE, HUBSPOT):
            land_crm(con, crm, [], "load-1")
    monkeypatch.setenv("SALES_KPI_WORKING_DB", str(database))
    # dbt's connection, kept open in this process, must have the configuration of the test's own
    # connection below: no memory limit (a pipeline run earlier in this process exports one).
    monkeypatch.delenv("SALES_KPI_DUCKDB_MEMORY_LIMIT", raising=False)
    project = ROOT / "dbt_project"
    result = dbtRunner().invoke(
        [
            "build",
            "--select",
            "+dim_lead_sources",
            "--exclude",
            "resource_type:test",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--quiet",
        ]
    )
    assert result.success, result.exception
    # Not read_only: dbt-duckdb keeps its connection to the file open in this process.
    with duckdb.connect(str(database)) as con:
        rows = con.execute(
            "select lead_source, lead_source_name_ja, channel, channel_name_ja, is_mapped "
            "from core.dim_lead_sources where lead_source in "
            "('paid_search', 'web_inquiry', 'seminar', 'mystery') order by lead_source"
        ).fetchall()
    assert rows == [
        ("mystery", "mystery", "unmapped", "未分類", False),
        ("paid_search", "リスティング広告", "inbound_marketing", "inbound_marketing", True),
        ("seminar", "セミナー・ウェビナー", "events", "イベント", True),
        ("web_inquiry", "Webお問い合わせ", "paid_media", "広告", True),
    ]
