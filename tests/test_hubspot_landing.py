"""HubSpot exports land verbatim in raw_hubspot.<object> (orchestration/sources/hubspot.py with
orchestration/lib/crm_landing.py) and dbt stages them (dbt_project/models/staging/hubspot/):
column names, row accounting, the date-entered map, a synced schema with internal property
names, and a staging model, source entry, column docs and Dagster asset for every object."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from orchestration.lib.crm_landing import AUDIT_COLUMNS, CONFIG_TABLE, FIVETRAN_DELETED, land_crm
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.sources.hubspot import (
    CONFIG_KEYS,
    FIVETRAN_DELETED_REASON,
    HUBSPOT,
    crm_source,
    raw_column_names,
    synced_column_names,
)
from tests.crm_coverage import assert_staging_covers_every_object
from tests.crm_dbt import crm_outcomes, crm_rejects, crm_rows, land_and_build

FIXTURE = Path(__file__).parent / "fixtures" / "hubspot_tiny"
STAGING = DBT_PROJECT_DIR / "models" / "staging" / "hubspot"
TOKYO = ZoneInfo("Asia/Tokyo")
# The fixture's files and the raw table each lands in (worked out from the file names).
FILES = {
    "owners.csv": "owner",
    "hubspot-crm-exports-all-companies-2025-10-31.csv": "company",
    "contacts.csv": "contact",
    "deals.csv": "deal",
    "calls.csv": "engagement_call",
    "emails.csv": "engagement_email",
    "meetings.csv": "engagement_meeting",
}
LINEAGE = "source_system, source_file, source_row, loaded_at"
# The canonical entities the HubSpot rules give (int_hubspot__<entity>).
HUBSPOT_ENTITIES = (
    "agencies",
    "users",
    "accounts",
    "contacts",
    "leads",
    "opportunities",
    "opportunity_stage_history",
    "activities",
)


def source_config() -> dict:
    return yaml.safe_load((FIXTURE / "source.yml").read_text(encoding="utf-8"))


def land(database: Path, *sources) -> list:
    with duckdb.connect(str(database)) as con:
        return land_crm(con, HUBSPOT, sources, "load-1", CONFIG_KEYS)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Path:
    database = tmp_path_factory.mktemp("landed") / "working.duckdb"
    land(database, crm_source(FIXTURE, source_config(), "hubspot"))
    return database


# --------------------------------------------------------------------------- names


def test_export_labels_become_internal_property_names() -> None:
    header = [
        "Record ID",
        "Deal Stage",
        "Close Date",
        "Deal owner",
        'Date entered "Closed Won (Sales Pipeline)"',
        "Deal Name",
        "法人番号",
        "Associated Company IDs",
    ]
    assert raw_column_names("deals", header, {}) == [
        "hs_object_id",
        "dealstage",
        "closedate",
        "hubspot_owner_id",
        "date_entered__closed_won__sales_pipeline",
        "deal_name",
        "法人番号",
        "associated_company_ids",
    ]


def test_a_columns_override_names_the_property() -> None:
    config = {"columns": {"deals": {"stage": "取引ステージ"}}}
    assert raw_column_names("deals", ["Record ID", "取引ステージ"], config) == [
        "hs_object_id",
        "dealstage",
    ]


def test_synced_columns_lose_their_prefixes() -> None:
    fivetran = ["id", "property_dealstage", "property_closedate", "_fivetran_deleted"]
    assert synced_column_names("deals", fivetran, {}) == [
        "hs_object_id",
        "dealstage",
        "closedate",
        "_fivetran_deleted",
    ]
    call = ["engagement_id", "property_hs_call_disposition", "property_hs_timestamp"]
    assert synced_column_names("calls", call, {}) == [
        "hs_object_id",
        "hs_call_disposition",
        "hs_timestamp",
    ]
    airbyte_owners = ["id", "firstName", "lastName", "email"]
    assert synced_column_names("owners", airbyte_owners, {}) == [
        "owner_id",
        "first_name",
        "last_name",
        "email",
    ]


# --------------------------------------------------------------------------- landing


def test_every_file_row_is_landed_with_its_audit_columns(landed: Path) -> None:
    with duckdb.connect(str(landed), read_only=True) as con:
        for name, table in FILES.items():
            expected = len(csv_rows(FIXTURE / name))
            rows = con.execute(
                f"select _source_system, _source_file, _row_number, _load_id "
                f'from raw_hubspot."{table}" order by _row_number'
            ).fetchall()
            assert [r[2] for r in rows] == list(range(1, expected + 1)), name
            assert {(r[0], Path(r[1]).name, r[3]) for r in rows} == {("hubspot", name, "load-1")}
            logged = con.execute(
                "select rows_read, rows_loaded, rows_quarantined from raw._load_log "
                "where entity = ?",
                [f"hubspot.{table}"],
            ).fetchall()
            assert logged == [(expected, expected, 0)], name


def test_values_are_verbatim_text(landed: Path) -> None:
    deals = {r["Record ID"]: r for r in csv_rows(FIXTURE / "deals.csv")}
    with duckdb.connect(str(landed), read_only=True) as con:
        row = con.execute(
            "select amount, dealstage, hubspot_owner_id, "
            "date_entered__closed_won__sales_pipeline from raw_hubspot.deal "
            "where hs_object_id = '91001'"
        ).fetchone()
        types = {
            t
            for (t,) in con.execute(
                "select column_type from (describe raw_hubspot.deal)"
            ).fetchall()
        }
    source = deals["91001"]
    assert row == (
        source["Amount"],  # "1,200,000": not a number yet
        source["Deal Stage"],
        source["Deal owner"],
        source['Date entered "Closed Won (Sales Pipeline)"'],
    )
    assert row[0] == "1,200,000"
    assert types == {"VARCHAR", "BIGINT", "TIMESTAMP"}  # text, plus _row_number and _loaded_at


def test_the_date_entered_labels_are_kept_in_config(landed: Path) -> None:
    with open(FIXTURE / "deals.csv", encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    entered = [h for h in header if h.startswith("Date entered")]
    assert len(entered) == 7
    with duckdb.connect(str(landed), read_only=True) as con:
        rows = con.execute(
            "select entry_key, attribute, value from raw_hubspot._config "
            "where config_key = 'date_entered_columns' order by all"
        ).fetchall()
        described = con.execute("select column_name from (describe raw_hubspot.deal)").fetchall()
    columns = {c for (c,) in described}
    by_column: dict[str, dict[str, str]] = {}
    for column, attribute, value in rows:
        by_column.setdefault(column, {})[attribute] = value
    # Each label is recoverable exactly from its column's config rows.
    assert sorted(
        f'Date entered "{v["stage"]} ({v["pipeline"]})"' for v in by_column.values()
    ) == sorted(entered)
    assert set(by_column) <= columns
    assert by_column["date_entered__decision_maker_bought_in__sales_pipeline"] == {
        "stage": "Decision Maker Bought-In",
        "pipeline": "Sales Pipeline",
    }


def test_config_rows(landed: Path) -> None:
    with duckdb.connect(str(landed), read_only=True) as con:
        rows = con.execute(
            "select config_key, entry_key, attribute, value from raw_hubspot._config "
            "where config_key in ('timezone', 'call_outcome_map', 'owner_roles') "
            "and (entry_key is null or entry_key in ('アポ獲得', '営業代行チーム')) order by all"
        ).fetchall()
    assert rows == [
        ("call_outcome_map", "アポ獲得", None, "appointment_set"),
        ("owner_roles", "営業代行チーム", "agency_id", "AG1"),
        ("owner_roles", "営業代行チーム", "motion", "inside"),
        ("owner_roles", "営業代行チーム", "role", "SDR"),
        ("owner_roles", "営業代行チーム", "team_id", "AGT"),
        ("timezone", None, None, "Asia/Tokyo"),
    ]


def malformed_copy(folder: Path) -> Path:
    """The fixture with one row of two fields too many between the 4 deals (row 3 of
    deals.csv): 5 rows read. Returns deals.csv."""
    shutil.copytree(FIXTURE, folder)
    path = folder / "deals.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        width = len(next(csv.reader(handle)))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, "99999," + ",".join(["x"] * (width + 1)) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_a_malformed_row_is_quarantined_and_counted(tmp_path: Path) -> None:
    path = malformed_copy(tmp_path / "hubspot")
    database = tmp_path / "working.duckdb"
    results = land(database, crm_source(path.parent, source_config(), "hubspot"))
    (deal,) = [r for r in results if r.entity == "hubspot.deal"]
    assert (deal.rows_read, deal.rows_loaded, deal.rows_quarantined) == (5, 4, 1)
    with duckdb.connect(str(database)) as con:
        quarantined = con.execute(
            "select source_file, row_number, reason from raw._quarantine "
            "where entity = 'hubspot.deal'"
        ).fetchall()
        ids = con.execute("select hs_object_id from raw_hubspot.deal order by all").fetchall()
        logged = con.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw._load_log "
            "where entity = 'hubspot.deal'"
        ).fetchall()
    assert len(quarantined) == 1
    assert quarantined[0][0] == str(path) and "malformed row" in quarantined[0][2]
    assert ids == [("91001",), ("91002",), ("91003",), ("91004",)]
    assert logged == [(5, 4, 1)]


def test_a_cp932_export_is_detected(tmp_path: Path) -> None:
    folder = tmp_path / "hubspot"
    shutil.copytree(FIXTURE, folder)
    owners = folder / "owners.csv"
    owners.write_bytes(owners.read_text(encoding="utf-8").encode("cp932"))
    database = tmp_path / "working.duckdb"
    land(database, crm_source(folder, source_config(), "hubspot"))
    with duckdb.connect(str(database), read_only=True) as con:
        teams = con.execute(
            "select owner_id, primary_team_name from raw_hubspot.owner order by owner_id"
        ).fetchall()
    assert teams[0] == ("70101", "インサイドセールス課")


# --------------------------------------------------------------------------- synced schema

# Properties holding date-times: a sync stores them as epoch milliseconds.
TIMESTAMPS = {
    "createdate",
    "hs_timestamp",
    "hs_meeting_start_time",
    "hs_meeting_end_time",
    "hs_lifecyclestage_lead_date",
    "hs_lifecyclestage_opportunity_date",
    "closedate",
}


def epoch_ms(text: str | None) -> str | None:
    """Tokyo wall time `2025-04-03 10:00` -> epoch milliseconds, computed in Python."""
    if not text:
        return text
    local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TOKYO)
    return str(int(local.astimezone(UTC).timestamp() * 1000))


def fivetran_copy(landed: Path, target: Path) -> tuple[Path, dict]:
    """The fixture as a Fivetran sync: schema hubspot, Fivetran table names, `id` (or
    `engagement_id`) for the record id, `property_<internal name>` columns, date-times in
    epoch milliseconds, `hs_date_entered_<stage id>` columns, `_fivetran_deleted`, and one
    more deal deleted in HubSpot. Returns the database and the `date_entered_columns` map."""
    stage_map: dict[str, dict[str, str]] = {}
    with (
        duckdb.connect(str(landed), read_only=True) as source,
        duckdb.connect(str(target)) as con,
    ):
        con.execute("create schema hubspot")
        labels = {
            (column, attribute): value
            for column, attribute, value in source.execute(
                "select entry_key, attribute, value from raw_hubspot._config "
                "where config_key = 'date_entered_columns'"
            ).fetchall()
        }
        for obj in HUBSPOT.objects:
            described = source.execute(f'describe raw_hubspot."{obj.table}"').fetchall()
            columns = [c for (c, *_) in described if c not in (*AUDIT_COLUMNS, FIVETRAN_DELETED)]
            names = []
            for column in columns:
                if column == "hs_object_id":
                    names.append("engagement_id" if obj.table.startswith("engagement") else "id")
                elif column.startswith(("associated_", "owner_id")) or obj.table == "owner":
                    names.append(column)
                elif column.startswith("date_entered__"):
                    stage_id = labels[(column, "stage")].lower().replace(" ", "")
                    names.append(f"property_hs_date_entered_{stage_id}")
                    stage_map[f"hs_date_entered_{stage_id}"] = {
                        "stage": labels[(column, "stage")],
                        "pipeline": labels[(column, "pipeline")],
                    }
                else:
                    names.append(f"property_{column}")
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = source.execute(
                f'select {quoted} from raw_hubspot."{obj.table}" order by _row_number'
            ).fetchall()
            rows = [
                [epoch_ms(v) if c in TIMESTAMPS else v for c, v in zip(columns, row, strict=True)]
                + [False]
                for row in rows
            ]
            if obj.table == "deal":
                deleted = dict.fromkeys(columns)
                deleted.update(hs_object_id="99001", dealstage="Closed Won")
                rows.append([deleted[c] for c in columns] + [True])
            definition = ", ".join(f'"{n}" varchar' for n in names)
            con.execute(
                f'create table hubspot."{obj.table}" ({definition}, _fivetran_deleted boolean)'
            )
            if rows:
                marks = ", ".join("?" for _ in range(len(names) + 1))
                con.executemany(f'insert into hubspot."{obj.table}" values ({marks})', rows)
    return target, stage_map


@pytest.fixture(scope="module")
def built(tmp_path_factory, landed: Path) -> Path:
    """The export (`hubspot`), its Fivetran copy (`synced`) and the export with a malformed
    deal row (`malformed`) landed, the HubSpot staging and intermediate models built once."""
    base = tmp_path_factory.mktemp("hubspot_synced")
    synced, stage_map = fivetran_copy(landed, base / "fivetran.duckdb")
    assert len(stage_map) == 7
    synced_config = {
        **source_config(),
        "schema": "hubspot",
        "database": str(synced),
        "date_entered_columns": stage_map,
    }
    sources = {
        "hubspot": (FIXTURE, source_config()),
        "synced": (base, synced_config),
        "malformed": (malformed_copy(base / "malformed").parent, source_config()),
    }
    return land_and_build(base, sources, crm="hubspot")


def test_a_synced_schema_stages_and_gives_the_same_rows_as_the_export(built: Path) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        for obj in HUBSPOT.objects:
            model = f"staging.stg_hubspot__{obj.table}"
            rows = {
                system: con.execute(
                    f"select * exclude ({LINEAGE}) from {model} "
                    "where source_system = ? and not is_deleted order by all",
                    [system],
                ).fetchall()
                for system in ("hubspot", "synced")
            }
            assert rows["hubspot"], obj.table
            assert rows["synced"] == rows["hubspot"], obj.table
        deleted = con.execute(
            "select source_system, deal_id from staging.stg_hubspot__deal where is_deleted"
        ).fetchall()
    assert deleted == [("synced", "99001")]
    for entity in HUBSPOT_ENTITIES:
        export_rows = without_lineage(crm_rows(built, "hubspot", entity, "hubspot"), "hubspot")
        sync_rows = without_lineage(crm_rows(built, "hubspot", entity, "synced"), "synced")
        assert export_rows, entity
        assert sync_rows == export_rows, entity
    rejects = crm_rejects(built, "hubspot", "synced")
    assert sorted((row, reason) for _table, row, reason in rejects) == [
        (2, "meeting canceled"),
        (5, FIVETRAN_DELETED_REASON),  # deal 99001
    ]


def test_the_rules_read_every_deal_landed_beside_a_malformed_row(built: Path) -> None:
    """The 4 deals landed from a file with a malformed row are each kept, once."""
    outcomes = crm_outcomes(built, "hubspot", "malformed")
    assert (outcomes.get(("deals.csv", True)), outcomes.get(("deals.csv", False))) == (4, None)
    deals = crm_rows(built, "hubspot", "opportunities", "malformed")
    assert sorted(row["opportunity_id"] for row in deals) == [
        f"malformed:{deal}" for deal in ("91001", "91002", "91003", "91004")
    ]


def without_lineage(rows: list[dict], ns: str) -> list[tuple]:
    """Rows without source_file and source_row, ids of source `ns` un-namespaced."""
    return sorted(
        tuple(
            v.removeprefix(f"{ns}:") if isinstance(v, str) else v
            for c, v in row.items()
            if c not in ("source_file", "source_row")
        )
        for row in rows
    )


# --------------------------------------------------------------------------- dbt and Dagster


def test_every_object_has_a_source_entry_a_staging_model_and_docs() -> None:
    assert_staging_covers_every_object(HUBSPOT, STAGING)


def test_each_landed_object_is_an_asset_feeding_its_staging_model() -> None:
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    converted = dg.AssetKey(["converted", "sources"])
    config = dg.AssetKey([HUBSPOT.schema, CONFIG_TABLE])
    for obj in HUBSPOT.objects:
        landed = dg.AssetKey([HUBSPOT.schema, obj.table])
        staging = dg.AssetKey(["staging", f"stg_hubspot__{obj.table}"])
        assert graph.get(staging).parent_keys <= {landed, config}, obj.name
        assert landed in graph.get(staging).parent_keys, obj.name
        # No Python between the landed rows and the marts: the converter asset does not read them.
        assert landed not in graph.get(converted).parent_keys, obj.name
    assert graph.get(dg.AssetKey(["staging", "stg_hubspot__config"])).parent_keys == {config}
    assert config not in graph.get(converted).parent_keys
    # ... and from the dbt rules to the marts: deal -> int_hubspot -> union -> core.
    deal = dg.AssetKey(["staging", "stg_hubspot__deal"])
    checked = dg.AssetKey(["intermediate", "int_hubspot__opportunities_checked"])
    rules = dg.AssetKey(["intermediate", "int_hubspot__opportunities"])
    union = dg.AssetKey(["intermediate", "int_canonical__opportunities"])
    assert deal in graph.get(checked).parent_keys
    assert checked in graph.get(rules).parent_keys
    assert rules in graph.get(union).parent_keys
    enriched = dg.AssetKey(["intermediate", "int_opportunities_enriched"])
    assert enriched in graph.get(union).child_keys
