"""Paths and options, from environment variables with working defaults.

| variable | default | meaning |
|---|---|---|
| SALES_KPI_HOME | the repository root | base for the relative defaults below |
| SALES_KPI_LANDING_DIR | landing/ | where CRM exports land (canonical CSV) |
| SALES_KPI_WORKING_DB | warehouse/working.duckdb | the pipeline's own DuckDB database |
| SALES_KPI_PUBLISHED_DB | warehouse/marts.duckdb | the file BI tools read |
| SALES_KPI_QUALITY_DIR | warehouse/quality | validation results and Data Docs |
| SALES_KPI_AS_OF_DATE | (see below) | pin the date the marts are computed for, YYYY-MM-DD |
| SALES_KPI_DBT_VARS | {} | JSON object of dbt vars, e.g. {"fiscal_year_start_month": 1} |
| SALES_KPI_NIGHTLY_CRON | 0 2 * * * | nightly schedule |
| SALES_KPI_TIMEZONE | Asia/Tokyo | time zone of the schedule and of "today" |
| SALES_KPI_KEEP_RUNS | 60 | finished Dagster runs kept with their logs (lib/run_history.py) |
| SALES_KPI_DASHBOARD_DIR | warehouse/dashboard | where `make dashboard` writes its pages |
| SALES_KPI_ENGINE | duckdb | where dbt builds: duckdb, postgres or spark (orchestration/engines/) |
| SALES_KPI_FULL_REFRESH | (unset) | 1 or true: rebuild every raw table from every landing file instead of loading only new and changed files |

Unpinned, a run's as-of date is the nightly schedule's date, else the demo's, else today in
SALES_KPI_TIMEZONE (orchestration/lib/run_inputs.py).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestration.engines import Engine, engine_name, get_engine

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
# The dbt-duckdb plugin that opens the working database (see dbt_project/profiles.yml).
DBT_PLUGINS_DIR = DBT_PROJECT_DIR / "plugins"


def _path(name: str, default: Path, home: Path) -> Path:
    value = os.environ.get(name)
    path = Path(value) if value else default
    return (path if path.is_absolute() else home / path).resolve()


# Read by Settings.full_refresh; `cli run --full-refresh` sets it.
FULL_REFRESH_ENV = "SALES_KPI_FULL_REFRESH"
# `make demo`'s data: 0.1 x about 200,000 activities
DEMO_SCALE = 0.1


# DuckDB's memory limit for each database the pipeline opens to build (dbt's connection, the
# loader's, the publication's), e.g. "8GB": beyond it DuckDB spills to a temporary folder
# beside the file where it can, and fails with "Out of Memory Error" where it cannot. Unset:
# 2GB, with which a 10M-activity night runs in under 3 GiB for the whole process tree and no
# slower (README, "Benchmark"); DuckDB's own default would be 80 % of the machine's memory.
MEMORY_LIMIT_ENV = "SALES_KPI_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def _memory_limit() -> str:
    value = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if value and not _MEMORY_SIZE.fullmatch(value):
        raise ValueError(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a memory size; set it as e.g. 8GB or 1500MB, "
            f"or unset it for the default ({DEFAULT_MEMORY_LIMIT})."
        )
    return value or DEFAULT_MEMORY_LIMIT


def _flag(name: str) -> bool:
    """An on/off environment variable: "1" or "true" (any case) is on; unset or empty is off."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise ValueError(f"{name}={value!r} is not 1, true, 0 or false; set it to 1 or unset it.")


def _dbt_vars_from_env() -> dict[str, Any]:
    raw = os.environ.get("SALES_KPI_DBT_VARS", "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"SALES_KPI_DBT_VARS is not valid JSON ({error}); set it to an object such as "
            '{"fiscal_year_start_month": 1}.'
        ) from error
    if not isinstance(value, dict):
        raise ValueError("SALES_KPI_DBT_VARS must be a JSON object of dbt vars.")
    return value


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_dir: Path
    working_db: Path
    published_db: Path
    quality_dir: Path
    as_of_date: date | None
    nightly_cron: str
    timezone: str
    extra_dbt_vars: dict[str, Any] = field(default_factory=dict)
    # SALES_KPI_FULL_REFRESH: rebuild the raw tables from every file (else new/changed files only).
    full_refresh: bool = False
    # SALES_KPI_DUCKDB_MEMORY_LIMIT (unset: DEFAULT_MEMORY_LIMIT); empty: DuckDB's default.
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
    # SALES_KPI_ENGINE: where dbt builds (orchestration/engines/).
    engine: str = "duckdb"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("SALES_KPI_HOME", REPO_ROOT)).resolve()
        as_of = os.environ.get("SALES_KPI_AS_OF_DATE") or None
        if as_of:
            try:
                date.fromisoformat(as_of)
            except ValueError as error:
                raise ValueError(
                    f"SALES_KPI_AS_OF_DATE={as_of!r} is not a date; set it as YYYY-MM-DD "
                    "(e.g. 2025-05-16) or unset it to use today's date."
                ) from error
        timezone = os.environ.get("SALES_KPI_TIMEZONE", "Asia/Tokyo")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"SALES_KPI_TIMEZONE={timezone!r} is not a time zone; set an IANA name such as "
                "Asia/Tokyo."
            ) from error
        return cls(
            home=home,
            landing_dir=_path("SALES_KPI_LANDING_DIR", Path("landing"), home),
            working_db=_path("SALES_KPI_WORKING_DB", Path("warehouse/working.duckdb"), home),
            published_db=_path("SALES_KPI_PUBLISHED_DB", Path("warehouse/marts.duckdb"), home),
            quality_dir=_path("SALES_KPI_QUALITY_DIR", Path("warehouse/quality"), home),
            as_of_date=date.fromisoformat(as_of) if as_of else None,
            nightly_cron=os.environ.get("SALES_KPI_NIGHTLY_CRON", "0 2 * * *"),
            timezone=timezone,
            extra_dbt_vars=_dbt_vars_from_env(),
            full_refresh=_flag(FULL_REFRESH_ENV),
            duckdb_memory_limit=_memory_limit(),
            engine=engine_name(),
        )

    @property
    def converted_dir(self) -> Path:
        """Where source folders (Salesforce, HubSpot, mapped exports) are converted to."""
        return self.working_db.parent / "converted"

    def dbt_vars(self) -> dict[str, Any]:
        """The user's dbt vars (SALES_KPI_DBT_VARS). The as-of date is not among them: it goes
        to dbt as an environment variable (`dbt_env`), since a var that changes every night
        would make dbt parse the whole project again on every run."""
        return dict(self.extra_dbt_vars)

    def duckdb_config(self) -> dict[str, str]:
        """The configuration of a DuckDB database the pipeline opens to build or publish."""
        return {"memory_limit": self.duckdb_memory_limit} if self.duckdb_memory_limit else {}

    def warehouse_engine(self) -> Engine:
        """The engine dbt builds on (SALES_KPI_ENGINE)."""
        return get_engine(self.engine, self.home, self.published_db)

    def dbt_env(self) -> dict[str, str]:
        """What dbt reads from the environment: the working database and its memory limit
        (applied by the profile's plugin, dbt_project/plugins/, which is found through
        SALES_KPI_DBT_PLUGINS_DIR) and the run's as-of date (macro as_of_date(); empty: the
        build date)."""
        return {
            "SALES_KPI_WORKING_DB": str(self.working_db),
            MEMORY_LIMIT_ENV: self.duckdb_memory_limit,
            "SALES_KPI_DBT_PLUGINS_DIR": str(DBT_PLUGINS_DIR),
            "SALES_KPI_BUILD_AS_OF_DATE": self.as_of_date.isoformat() if self.as_of_date else "",
            **self.warehouse_engine().dbt_env(),
        }
