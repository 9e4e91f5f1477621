"""Salesforce objects land verbatim (orchestration/lib/crm_landing.py) and dbt stages them
(dbt_project/models/staging/salesforce/): names, row accounting, the config table, synced
schemas, and a staging model, source entry and column docs for every object."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.lib.crm_landing import (
    AUDIT_COLUMNS,
    CONFIG_TABLE,
    FIVETRAN_DELETED,
    CrmSource,
    column_names,
    land_crm,
    snake_case,
)
from orchestration.lib.loader import LandingFileError
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.sources.salesforce import CONFIG_KEYS, SALESFORCE
from tests.crm_coverage import assert_staging_covers_every_object

FIXTURES = Path(__file__).parent / "fixtures"
SF = FIXTURES / "salesforce_tiny"
STAGING = DBT_PROJECT_DIR / "models" / "staging" / "salesforce"


def source_config() -> dict:
    return yaml.safe_load((SF / "source.yml").read_text(encoding="utf-8"))


def land(database: Path, *sources: CrmSource) -> list:
    with duckdb.connect(str(database)) as con:
        return land_crm(con, SALESFORCE, sources, "load-1", CONFIG_KEYS)


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Path:
    database = tmp_path_factory.mktemp("landed") / "working.duckdb"
    land(database, CrmSource(SF, source_config(), "salesforce"))
    return database


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("api_name", "column"),
    [
        ("StageName", "stage_name"),
        ("Id", "id"),
        ("CallDurationInSeconds", "call_duration_in_seconds"),
        ("Custom__c", "custom__c"),
        ("Email_Opened__c", "email_opened__c"),
        ("CorporateNumber__c", "corporate_number__c"),
        ("OpportunityHistory", "opportunity_history"),
        ("stage_name", "stage_name"),  # a synced table's column keeps its name
        ("_fivetran_deleted", "_fivetran_deleted"),
    ],
)
def test_fivetran_names(api_name: str, column: str) -> None:
    assert snake_case(api_name) == column


def test_headers_match_known_fields_ignoring_case() -> None:
    known = ("StageName", "IsWon")
    assert column_names(["STAGENAME", "iswon", "My_Field__C"], known) == [
        "stage_name",
        "is_won",
        "my_field__c",
    ]


# --------------------------------------------------------------------------- landing


def test_every_file_row_is_landed_with_its_audit_columns(landed: Path) -> None:
    with duckdb.connect(str(landed), read_only=True) as con:
        for obj in SALESFORCE.objects:
            path = SF / obj.file_name
            rows = con.execute(
                f"select _source_file, _row_number, _source_system, _load_id "
                f'from raw_salesforce."{obj.table}" order by _row_number'
            ).fetchall()
            expected = data_rows(path) if path.exists() else 0
            assert len(rows) == expected, obj.name
            assert [r[1] for r in rows] == list(range(1, expected + 1)), obj.name
            assert {(r[0], r[2], r[3]) for r in rows} <= {(str(path), "salesforce", "load-1")}
        log = con.execute(
            "select entity, rows_read, rows_loaded, rows_quarantined from raw._load_log"
        ).fetchall()
    assert sorted(entity for entity, *_ in log) == sorted(
        f"salesforce.{obj.table}" for obj in SALESFORCE.objects if (SF / obj.file_name).exists()
    )
    assert all(read == loaded + quarantined for _e, read, loaded, quarantined in log)


def test_values_are_verbatim_text(landed: Path) -> None:
    with duckdb.connect(str(landed), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw_salesforce' and table_name = 'opportunity'"
            ).fetchall()
        )
        o1 = con.execute(
            "select amount, created_date, is_won, loss_reason__c "
            "from raw_salesforce.opportunity where id = '0065g00000Rt2pPAAR'"
        ).fetchone()
    assert {t for c, t in types.items() if c not in AUDIT_COLUMNS} == {"VARCHAR"}
    assert o1 == ("2400000.00", "2025-04-10T01:00:00.000Z", "false", "price")


def test_every_object_has_a_table_with_its_fields(landed: Path) -> None:
    """OpportunityFieldHistory.csv is not in the fixture: its table exists, empty."""
    with duckdb.connect(str(landed), read_only=True) as con:
        for obj in SALESFORCE.objects:
            columns = {
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw_salesforce' and table_name = ?",
                    [obj.table],
                ).fetchall()
            }
            wanted = {snake_case(f) for f in obj.fields} | {FIVETRAN_DELETED, *AUDIT_COLUMNS}
            assert wanted <= columns, obj.name


def test_config_rows(landed: Path) -> None:
    with duckdb.connect(str(landed), read_only=True) as con:
        rows = con.execute(
            f"select config_key, entry_key, attribute, value from raw_salesforce.{CONFIG_TABLE}"
        ).fetchall()
    assert ("corporate_currency", None, None, "JPY") in rows
    assert ("lead_source_map", "Web", None, "web_inquiry") in rows
    assert ("user_roles", "インサイドセールス課", "role", "SDR") in rows
    assert ("agencies", "AG1", "fee_model", "retainer") in rows
    assert ("call_disposition_map", "不在", None, "no_answer") in rows


def test_data_loader_upper_case_headers_land_in_the_same_columns(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(SF, tmp_path / "landing" / "salesforce"))
    path = folder / "Opportunity.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(lines[0].upper() + "".join(lines[1:]), encoding="utf-8")
    database = tmp_path / "working.duckdb"
    land(database, CrmSource(folder, source_config(), "salesforce"))
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "select stage_name, is_won from raw_salesforce.opportunity where _row_number = 1"
        ).fetchone()
    assert row == ("Closed Won", "true")


def test_a_malformed_row_is_quarantined_and_counted(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(SF, tmp_path / "landing" / "salesforce"))
    with (folder / "Account.csv").open("a", encoding="utf-8") as handle:
        handle.write('"0015g00000Qk9zZAAR","false","too few fields"\n')
    database = tmp_path / "working.duckdb"
    land(database, CrmSource(folder, source_config(), "salesforce"))
    with duckdb.connect(str(database), read_only=True) as con:
        log = con.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw._load_log "
            "where entity = 'salesforce.account'"
        ).fetchone()
        (reason,) = con.execute(
            "select reason from raw._quarantine where entity = 'salesforce.account'"
        ).fetchone()
    assert log == (5, 4, 1)
    assert reason.startswith("malformed row")


def test_a_file_that_is_not_utf8_stops_the_landing(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(SF, tmp_path / "landing" / "salesforce"))
    text = (folder / "UserRole.csv").read_text(encoding="utf-8")
    (folder / "UserRole.csv").write_bytes(text.encode("cp932"))
    with pytest.raises(
        LandingFileError, match=r"UserRole\.csv: cannot be read as utf-8(-sig)?: line 2"
    ):
        land(tmp_path / "working.duckdb", CrmSource(folder, source_config(), "salesforce"))


def test_a_declared_encoding_is_read(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(SF, tmp_path / "landing" / "salesforce"))
    for path in folder.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp932"))
    config = {**source_config(), "encoding": "cp932"}
    database = tmp_path / "working.duckdb"
    land(database, CrmSource(folder, config, "salesforce"))
    with duckdb.connect(str(database), read_only=True) as con:
        names = {n for (n,) in con.execute("select name from raw_salesforce.user_role").fetchall()}
    assert "インサイドセールス課" in names


# --------------------------------------------------------------------------- synced schemas


def fivetran_copy(landed: Path, target: Path) -> Path:
    """The fixture as a Fivetran sync: tables salesforce.<object>, snake-case columns, the
    deleted flag in `_fivetran_deleted` (no is_deleted column), no audit columns."""
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach '{landed}' as landed (read_only)")
        con.execute("create schema salesforce")
        for obj in SALESFORCE.objects:
            if not (SF / obj.file_name).exists():
                continue
            deleted = "is_deleted" in {snake_case(f) for f in obj.fields}
            dropped = ["_fivetran_deleted", *AUDIT_COLUMNS] + (["is_deleted"] if deleted else [])
            flag = "is_deleted = 'true'" if deleted else "false"
            con.execute(
                f'create table salesforce."{obj.table}" as '
                f"select * exclude ({', '.join(dropped)}), {flag} as _fivetran_deleted "
                f'from landed.raw_salesforce."{obj.table}" order by _row_number'
            )
    return target


def dbt_staging(database: Path, target_path: Path) -> None:
    env = {**os.environ, "SALES_KPI_WORKING_DB": str(database)}
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "run", "--profiles-dir", ".", "--target-path", str(target_path),
         "--select", "path:models/staging/salesforce"],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_synced_schema_stages_like_the_export(tmp_path: Path, landed: Path) -> None:
    synced = fivetran_copy(landed, tmp_path / "fivetran.duckdb")
    database = tmp_path / "working.duckdb"
    land(
        database,
        CrmSource(SF, source_config(), "salesforce"),
        CrmSource(tmp_path, {"schema": "salesforce", "database": str(synced)}, "synced"),
    )
    dbt_staging(database, tmp_path / "target")
    lineage = "source_system, source_file, source_row, loaded_at"
    with duckdb.connect(str(database), read_only=True) as con:
        for obj in SALESFORCE.objects:
            model = f"staging.stg_salesforce__{obj.table}"
            rows = {
                system: con.execute(
                    f"select * exclude ({lineage}) from {model} "
                    "where source_system = ? order by all",
                    [system],
                ).fetchall()
                for system in ("salesforce", "synced")
            }
            assert rows["synced"] == rows["salesforce"], obj.name
        deleted = con.execute(
            "select source_system, lead_id from staging.stg_salesforce__lead "
            "where is_deleted order by all"
        ).fetchall()
    assert deleted == [("salesforce", "00Q5g00000Pz6mMEAR"), ("synced", "00Q5g00000Pz6mMEAR")]


def test_a_missing_synced_database_is_named(tmp_path: Path) -> None:
    config = {"schema": "salesforce", "database": "nowhere.duckdb"}
    with pytest.raises(LandingFileError, match=r"nowhere\.duckdb"):
        land(tmp_path / "working.duckdb", CrmSource(tmp_path, config, "synced"))


# --------------------------------------------------------------------------- dbt coverage


def test_every_object_has_a_source_entry_a_staging_model_and_docs() -> None:
    assert_staging_covers_every_object(SALESFORCE, STAGING, frozenset({FIVETRAN_DELETED}))


def test_each_landed_object_is_an_asset_feeding_its_staging_model() -> None:
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    converted = dg.AssetKey(["converted", "sources"])
    for obj in SALESFORCE.objects:
        landed = dg.AssetKey([SALESFORCE.schema, obj.table])
        staging = dg.AssetKey(["staging", f"stg_salesforce__{obj.table}"])
        assert graph.get(staging).parent_keys == {landed}, obj.name
        # No Python between the landed rows and the marts: the converter asset does not read them.
        assert landed not in graph.get(converted).parent_keys, obj.name
    config = dg.AssetKey([SALESFORCE.schema, CONFIG_TABLE])
    assert graph.get(dg.AssetKey(["staging", "stg_salesforce__config"])).parent_keys == {config}
    # ... and from the dbt rules to the marts: Opportunity -> int_salesforce -> union -> core.
    rules = dg.AssetKey(["intermediate", "int_salesforce__opportunities"])
    union = dg.AssetKey(["intermediate", "int_canonical__opportunities"])
    assert rules in graph.get(union).parent_keys
    assert dg.AssetKey(["core", "fct_leads"]) in graph.get(union).child_keys
