"""Prepare the dbt manifest that dagster-dbt needs to build the asset graph.

`dg dev` / `dagster dev` does not prepare it for us, so the definitions call
`ensure_manifest()` at import time: it runs `dbt parse` when the manifest is missing or
older than any dbt project file (seconds), and otherwise does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, as before
    fcntl = None  # type: ignore[assignment]

from orchestration.lib.settings import DBT_PLUGINS_DIR, DBT_PROJECT_DIR, REPO_ROOT

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
_WATCHED = ("models", "macros", "data-tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    paths = [DBT_PROJECT_DIR / name for name in _WATCHED] + [REPO_ROOT / "seeds"]
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    newest = max(newest, child.stat().st_mtime)
    return newest


def _fresh() -> bool:
    return MANIFEST_PATH.exists() and MANIFEST_PATH.stat().st_mtime >= _newest_source_mtime()


def ensure_manifest(force: bool = False) -> Path:
    """Run `dbt parse` if the manifest is missing or stale; return its path.

    Processes that import the definitions at once (test workers, the UI and a run) take turns
    through a lock file: one parses, the others then find the manifest fresh.
    """
    if not force and _fresh():
        return MANIFEST_PATH
    MANIFEST_PATH.parent.mkdir(parents=True, exist_ok=True)
    with (MANIFEST_PATH.parent / ".manifest.lock").open("w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _fresh():
            return MANIFEST_PATH
        return _parse()


def _parse() -> Path:
    from dbt.cli.main import dbtRunner

    from orchestration.engines.duckdb import DuckDBEngine

    os.environ.setdefault("SALES_KPI_WORKING_DB", str(REPO_ROOT / "warehouse" / "working.duckdb"))
    os.environ.setdefault("SALES_KPI_DBT_PLUGINS_DIR", str(DBT_PLUGINS_DIR))
    # The engine's variables as a DuckDB run sets them (SALES_KPI_ENGINE=duckdb, no schema
    # prefix): dbt parses everything again when a variable the profile or a macro reads had
    # another value (or none) when its saved state was made.
    for name, value in DuckDBEngine().dbt_env().items():
        os.environ.setdefault(name, value)
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--quiet",
        ]
    )
    if not result.success or not MANIFEST_PATH.exists():
        raise RuntimeError(
            f"dbt parse failed ({result.exception}); run `dbt parse --project-dir "
            f"{DBT_PROJECT_DIR} --profiles-dir {DBT_PROJECT_DIR}` to see the error."
        )
    return MANIFEST_PATH
