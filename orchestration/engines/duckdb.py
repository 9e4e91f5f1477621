"""DuckDB, the default: dbt builds in the working database itself, and the publication is the
DuckDB file orchestration/lib/publish.py writes (nothing more to do here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from orchestration.engines.base import (
    PUBLISHED_SCHEMAS,
    Engine,
    Progress,
    Publication,
    TransferResult,
)


@dataclass
class DuckDBEngine(Engine):
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

    def published_tables(self, schema: str) -> list[str]:
        raise NotImplementedError("DuckDB's publication is the published file: read it")

    def read_published(self, schema: str, table: str) -> pa.Table:
        raise NotImplementedError("DuckDB's publication is the published file: read it")
