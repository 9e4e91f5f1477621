"""A sensor that starts the pipeline when files land (new or changed files in the landing dir)
or a synced CRM database a source names (`database:` in its source.yml) changes."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.lib.settings import Settings
from orchestration.schedules import sales_kpi_pipeline
from orchestration.sources.base import MappingError
from orchestration.sources.registry import discover_sources


def landing_fingerprint(landing_dir: Path) -> dict[str, list[int]]:
    """Path -> [size, mtime_ns] of every file under the landing directory.

    Every file counts, whatever the case of its name (`Spend.CSV`) or its kind (a source
    export's .xlsx, .jsonl, .parquet or source.yml); hidden files and Excel's `~$` lock files
    do not. A synced source's DuckDB file (`database:` in its source.yml, often outside the
    landing folder) counts too, under `synced:<source folder>:<file>`, with its write-ahead log:
    a Fivetran/Airbyte/dlt sync into it starts a run as a new export file does. A schema synced
    into the working database itself cannot be told from the pipeline's own writes: the nightly
    schedule picks it up.
    """
    if not landing_dir.is_dir():
        return {}
    stamps = _synced_databases(landing_dir)
    for path in sorted(landing_dir.rglob("*")):
        relative = path.relative_to(landing_dir)
        if any(part.startswith((".", "~$")) for part in relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        stamps[str(relative)] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def _synced_databases(landing_dir: Path) -> dict[str, list[int]]:
    try:
        sources = discover_sources(landing_dir)
    except MappingError:
        return {}  # the run reports a bad source.yml; the file's own stamp already counts
    stamps = {}
    for source in sources:
        database = source.config.get("database")
        if not database:
            continue
        path = Path(str(database))
        path = path if path.is_absolute() else source.folder / path
        for file in (path, path.with_name(path.name + ".wal")):
            if file.is_file():
                stat = file.stat()
                stamps[f"synced:{source.folder.name}:{file}"] = [stat.st_size, stat.st_mtime_ns]
    return stamps


@dg.sensor(
    name="landing_files_sensor",
    job=sales_kpi_pipeline,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the pipeline when a file is added to or changed in the landing dir, or "
    "a synced CRM database named by a source.yml (`database:`) changes.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    landing_dir = Settings.from_env().landing_dir
    current = landing_fingerprint(landing_dir)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(name for name, stamp in current.items() if previous.get(name) != stamp)
    if not changed:
        return dg.SkipReason(f"No new or changed files in {landing_dir}.")
    cursor = json.dumps(current, sort_keys=True)
    context.update_cursor(cursor)
    return dg.RunRequest(
        run_key=hashlib.sha256(cursor.encode()).hexdigest()[:16],
        tags={"trigger": "landing_files", "changed_files": ", ".join(changed)[:200]},
    )
