"""What the pipeline's Python does to the warehouse, behind one interface per engine."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from orchestration.lib.sql_runner import SqlRunner

# dbt builds into `work_<schema>` on an engine that BI users read (dbt_project/macros/schema/
# generate_schema_name.sql reads SALES_KPI_SCHEMA_PREFIX): a failed or gated night never
# shows there; `publish` swaps the gated tables into the schemas BI reads.
WORK_PREFIX = "work_"
# The schemas BI reads on the engine (the KPI marts, the core facts and dimensions).
PUBLISHED_SCHEMAS = ("core", "marts")
# The description of every column of the `_publication` table (as in the DuckDB file).
PUBLICATION_COLUMNS = (
    "published_at",
    "run_id",
    "as_of_date",
    "as_of_date_source",
    "input_key",
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Publication:
    """The `_publication` row a publication writes beside the marts."""

    published_at: Any
    run_id: str
    as_of_date: str | None
    as_of_date_source: str | None
    input_key: str | None

    def values(self) -> list[Any]:
        return [getattr(self, name) for name in PUBLICATION_COLUMNS]


@dataclass
class TransferResult:
    """Rows per table of a copy between the working database and the engine."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class Engine(abc.ABC):
    """One warehouse engine. DuckDB's own implementation does nothing in `load_raw` and
    `mirror_built`: dbt builds in the working database itself."""

    name: str = ""

    @property
    def builds_in_working_db(self) -> bool:
        """True when dbt builds in the working DuckDB database itself (no copies)."""
        return False

    def dbt_env(self) -> dict[str, str]:
        """Environment variables dbt needs for this engine (its profile target, connection)."""
        return {"SALES_KPI_ENGINE": self.name, "SALES_KPI_SCHEMA_PREFIX": WORK_PREFIX}

    def full_rebuild_reason(self) -> str | None:
        """Why every night is a full dbt rebuild on this engine (None: incremental nights)."""
        return (
            f"full rebuild: on {self.name} every night rebuilds every model (incremental "
            "nights are kept for DuckDB, whose working database holds their state)"
        )

    def describe(self) -> str:
        """Where the engine is, for messages (no password)."""
        return self.name

    def quality_runner(self) -> Callable[[], SqlRunner] | None:
        """A factory of the runners through which the quality gate checks the built tables in
        the engine itself (schemas `work_core`, `work_marts`); None when they are checked in
        the working database (DuckDB, where dbt builds them)."""
        return None

    def prepare(self, progress: Progress | None = None) -> None:  # noqa: B027
        """Start or check what the engine needs (a local server); raise with what to do."""

    @abc.abstractmethod
    def load_raw(
        self, working_db: Path, tables: Iterable[tuple[str, str]], progress: Progress | None = None
    ) -> TransferResult:
        """Replace each (schema, table) of the engine with the working database's rows."""

    @abc.abstractmethod
    def mirror_built(self, working_db: Path, progress: Progress | None = None) -> TransferResult:
        """Copy every table dbt built (schemas `work_*`) into the working database, under the
        schema's name without the prefix, for the DuckDB file published beside the engine's."""

    @abc.abstractmethod
    def publish(
        self, publication: Publication, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
    ) -> dict[str, int]:
        """Swap the built `work_<schema>` tables into `<schema>`, where BI reads, atomically
        (for a reader: the previous publication or this one, never a mix or nothing). Returns
        rows per published table."""

    @abc.abstractmethod
    def read_published(self, schema: str, table: str) -> pa.Table:
        """A published table as BI reads it."""

    @abc.abstractmethod
    def published_tables(self, schema: str) -> list[str]:
        """The tables BI can read in a published schema, sorted."""
