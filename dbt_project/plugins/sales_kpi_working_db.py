"""dbt-duckdb plugin: open the working database named by SALES_KPI_WORKING_DB.

dbt reuses its partial-parse state only when the profile's rendered connection values are
those the state was saved with (dbt/parser/manifest.py, `profile_hash`); with the database
path in the profile, every working database (each test, benchmark and checkout) cost a full
parse of the project (~25 CPU-s). So profiles.yml names only the file (its name is the
database name dbt writes into the manifest, the same for every working database), and this
plugin points the connection at the real file when dbt opens it, after dbt's check (and sets
DuckDB's memory limit the same way, outside the profile). The
folder is not part of anything dbt parses. `module_paths` in profiles.yml makes it
importable (dbt-duckdb loads plugins when it opens its first connection).
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

ENV_VAR = "SALES_KPI_WORKING_DB"
# DuckDB's memory limit for dbt's connection (e.g. "8GB"); the pipeline passes its setting on
# (2GB unless set). Beyond it DuckDB spills to <working db>.tmp where it can. Unset or empty
# (dbt run by hand): DuckDB's default (80 % of the machine's memory).
MEMORY_LIMIT_ENV_VAR = "SALES_KPI_DUCKDB_MEMORY_LIMIT"


def working_db_path(default: str) -> str:
    """The working database: SALES_KPI_WORKING_DB, else `default` (relative paths are taken
    from the current folder, as dbt-duckdb takes the profile's `path`)."""
    return os.path.abspath(os.environ.get(ENV_VAR) or default)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.default_path = str(plugin_config.get("default_path") or "")

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        path = working_db_path(self.default_path or creds.path)
        expected = os.path.basename(creds.path)
        if os.path.basename(path) != expected:
            raise RuntimeError(
                f"{ENV_VAR}={path!r} is not the file the dbt profile names ({expected!r}): "
                "profiles.yml takes the file name from the same variable; run dbt with the "
                "variable set as it was when dbt read the profile."
            )
        creds.path = path
        memory_limit = os.environ.get(MEMORY_LIMIT_ENV_VAR, "").strip()
        if memory_limit:
            config["memory_limit"] = memory_limit
