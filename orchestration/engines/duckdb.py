"""DuckDB, the default: dbt builds in the working database itself, and the publication is the
DuckDB file orchestration/lib/publish.py writes (nothing more to do here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.engines.base import (
    PUBLISHED_SCHEMAS,
    Engine,
    Progress,
    Publication,
    TransferResult,
)
from orchestration.lib.publish import PUBLISHED_SCHEMA_NAMES, attach_published


@dataclass
class DuckDBEngine(Engine):
    # The published file (SALES_KPI_PUBLISHED_DB); needed only to read the publication.
    published_db: Path | None = None
    name: str = "duckdb"

    @property
    def builds_in_working_db(self) -> bool:
        return True

    def dbt_env(self) -> dict[str, str]:
        return {"SALES_KPI_ENGINE": self.name, "SALES_KPI_SCHEMA_PREFIX": ""}

    def full_rebuild_reason(self) -> str | None:
        return None

    def load_raw(
        self, working_db: Path, tables: Iterable[tuple[str, str]], progress: Progress | None = None
    ) -> TransferResult:
        return TransferResult()

    def mirror_built(self, working_db: Path, progress: Progress | None = None) -> TransferResult:
        return TransferResult()

    def publish(
        self, publication: Publication, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
    ) -> dict[str, int]:
        return {}

    def _published(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with the published file attached (always the newest)."""
        if self.published_db is None or not Path(self.published_db).exists():
            raise FileNotFoundError(f"No published file: {self.published_db}")
        con = duckdb.connect()
        attach_published(con, self.published_db)
        return con

    def published_tables(self, schema: str) -> list[str]:
        with self._published() as con:
            return [
                name
                for (name,) in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'published' "
                    "and schema_name = ? order by 1",
                    [PUBLISHED_SCHEMA_NAMES.get(schema, schema)],
                ).fetchall()
            ]

    def read_published(self, schema: str, table: str) -> pa.Table:
        published = PUBLISHED_SCHEMA_NAMES.get(schema, schema)
        with self._published() as con:
            return con.sql(f'select * from published.{published}."{table}"').to_arrow_table()
