"""What a run computes from: its as-of date (集計基準日) and the key of its inputs.

Every run has an explicit as-of date, resolved once when it starts (`resolve_as_of`):

1. `SALES_KPI_AS_OF_DATE` (or the warehouse resource's `as_of_date`), when pinned;
2. else the run tag `sales_kpi/as_of_date`: the nightly schedule sets it to its scheduled date
   in the configured time zone (a tick at 2025-10-31T17:30Z is 2025-11-01 in Asia/Tokyo);
3. else the demo's date, while the landing folder holds the demo's files unchanged (the demo
   records it in `landing/.demo_as_of_date.json`, see `landing_state.record_demo_as_of`);
4. else today in the configured time zone (`SALES_KPI_TIMEZONE`, Asia/Tokyo).

The input key (`run_inputs`) is a hash of everything the marts are computed from: every landing
file (size, modified time and, up to `HASH_LIMIT_BYTES`, a SHA-256 of its content), the as-of
date, the dbt vars, the time zone, the folders, and the code (the dbt project, seeds,
expectations and pipeline sources, hashed file by file, plus the versions of the engines).
The publication records it in `_publication.input_key`; a run whose key equals the published
file's is skipped (`matching_publication`) unless forced (`--force`, run tag
`sales_kpi/force=true`): the published file stays byte for byte as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.lib.landing_state import demo_as_of_date, landing_contents
from orchestration.lib.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR, REPO_ROOT, Settings

AS_OF_TAG = "sales_kpi/as_of_date"
# Where a tagged date came from (the schedule, the CLI, the sensor), recorded in _publication.
AS_OF_SOURCE_TAG = "sales_kpi/as_of_date_source"
FORCE_TAG = "sales_kpi/force"
# Packages whose version can change the marts (SQL engine, dbt, quality gate, holidays).
ENGINE_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "holidays")
# What the code checksum covers: the dbt project's sources, seeds, suites and the pipeline.
CODE_PATHS = (
    DBT_PROJECT_DIR / "dbt_project.yml",
    DBT_PROJECT_DIR / "models",
    DBT_PROJECT_DIR / "macros",
    DBT_PROJECT_DIR / "data-tests",
    DBT_PROJECT_DIR / "snapshots",
    REPO_ROOT / "seeds",
    EXPECTATIONS_DIR,
    REPO_ROOT / "orchestration",
)


@dataclass(frozen=True)
class AsOf:
    """The as-of date of a run and where it came from (recorded in `_publication`)."""

    date: date
    source: str


@dataclass(frozen=True)
class RunInputs:
    """What a run computes from. `key` is None when it cannot be known (a source synced into
    the working database itself): such a run is never skipped; `unkeyed_reason` says why."""

    as_of: AsOf
    key: str | None
    unkeyed_reason: str | None = None


def today_in(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def scheduled_date(scheduled_at: datetime | None, timezone: str) -> date:
    """The calendar date of a schedule tick in `timezone` (naive times are UTC, as Dagster's)."""
    if scheduled_at is None:
        return today_in(timezone)
    if scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=UTC)
    return scheduled_at.astimezone(ZoneInfo(timezone)).date()


def as_of_tags(as_of: AsOf) -> dict[str, str]:
    """The run tags that hand a resolved as-of date (and its origin) to a run."""
    return {AS_OF_TAG: as_of.date.isoformat(), AS_OF_SOURCE_TAG: as_of.source}


def is_forced(tags: Mapping[str, str] | None) -> bool:
    return str((tags or {}).get(FORCE_TAG, "")).strip().lower() in ("true", "1", "yes")


def resolve_as_of(settings: Settings, tags: Mapping[str, str] | None = None) -> AsOf:
    """The as-of date of a run (order in the module docstring)."""
    if settings.as_of_date is not None:
        return AsOf(settings.as_of_date, "SALES_KPI_AS_OF_DATE")
    tagged = (tags or {}).get(AS_OF_TAG)
    if tagged:
        try:
            source = (tags or {}).get(AS_OF_SOURCE_TAG) or f"run tag {AS_OF_TAG}"
            return AsOf(date.fromisoformat(str(tagged)), str(source))
        except ValueError as error:
            raise ValueError(
                f"The run tag {AS_OF_TAG}={tagged!r} is not a date (YYYY-MM-DD); fix or remove "
                "the tag and launch the run again."
            ) from error
    demo = demo_as_of_date(settings.landing_dir)
    if demo is not None:
        return AsOf(demo, "the demo's landing data")
    return AsOf(today_in(settings.timezone), f"today in {settings.timezone}")


def run_inputs(settings: Settings, tags: Mapping[str, str] | None = None) -> RunInputs:
    """The as-of date and input key of a run on `settings` with these run tags."""
    as_of = resolve_as_of(settings, tags)
    working = _sources_synced_into_working_db(settings)
    if working:
        return RunInputs(
            as_of,
            None,
            f"source {', '.join(working)} reads a schema synced into the working database, "
            "whose changes cannot be told from the pipeline's own writes",
        )
    parts = {
        "as_of_date": as_of.date.isoformat(),
        "landing_dir": str(settings.landing_dir.resolve()),
        "landing": landing_contents(settings.landing_dir),
        "working_db": str(settings.working_db.resolve()),
        "dbt_vars": settings.extra_dbt_vars,
        "timezone": settings.timezone,
        "code": code_checksum(),
        # The same marts on another engine are published somewhere else.
        "engine": settings.engine,
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return RunInputs(as_of, hashlib.sha256(text.encode()).hexdigest())


def _sources_synced_into_working_db(settings: Settings) -> list[str]:
    from orchestration.sources.base import MappingError
    from orchestration.sources.registry import discover_sources

    try:
        sources = discover_sources(settings.landing_dir)
    except MappingError:
        return []  # the run reports it; the source.yml itself is in the landing key
    return [
        source.folder.name
        for source in sources
        if source.config.get("schema") and not source.config.get("database")
    ]


@lru_cache(maxsize=1)
def _code_checksum_cached(stamp: str) -> str:
    digest = hashlib.sha256()
    for path in _code_files():
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for package in ENGINE_PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    return digest.hexdigest()


def _code_files() -> list[Path]:
    files = []
    for root in CODE_PATHS:
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.append(path)
    return files


def code_checksum() -> str:
    """A hash of the code the marts are built by (what the dbt manifest is parsed from, plus
    the Python pipeline and the suites) and the engine versions. Cached while no file changed
    (the cache key is the files' sizes and modified times)."""
    stamp = hashlib.sha256()
    for path in _code_files():
        stat = path.stat()
        stamp.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return _code_checksum_cached(stamp.hexdigest())


def matching_publication(settings: Settings, inputs: RunInputs) -> dict | None:
    """The published file's `_publication` when it was built from exactly these inputs."""
    from orchestration.lib.publish import publication_info

    if inputs.key is None:
        return None
    info = publication_info(settings.published_db)
    if info and info.get("input_key") == inputs.key:
        return info
    return None


def skip_message(settings: Settings, publication: dict, how_to_force: str) -> str:
    """What a skipped run says: which publication it matches and how to rebuild anyway."""
    return (
        f"Skipped: nothing changed since run {publication['run_id']} (published at "
        f"{publication['published_at']} UTC, as of {publication['as_of_date']}): same landing "
        "files, as-of date, dbt vars and code, so the published file already holds these "
        f"marts and is left byte for byte as it is ({settings.published_db}). "
        f"To rebuild and republish anyway: {how_to_force}."
    )


FORCE_ON_CLI = "run again with --force (python -m orchestration.cli run --force)"
FORCE_IN_DAGSTER = f"launch the job with the run tag {FORCE_TAG}=true"
