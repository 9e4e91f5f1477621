"""What the landing folder held: the sensor's fingerprint, and the one of the last published run.

The sensor compares the landing folder with its cursor; a daemon started afresh has no cursor
and compares with the fingerprint of the files the last published run loaded, so starting the
UI on an unchanged landing folder starts nothing.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path

from orchestration.lib.input_files import RACY_NS
from orchestration.lib.input_files import sha256_of as _sha256
from orchestration.lib.settings import Settings
from orchestration.sources.base import MappingError
from orchestration.sources.registry import discover_sources

PUBLISHED_FINGERPRINT = "landing_fingerprint.json"  # beside the published file
PENDING_FINGERPRINT = ".landing_fingerprint.pending.json"  # beside the working database
DEMO_MARKER = ".demo_as_of_date.json"  # in the landing folder (hidden: never loaded)
# Files up to this size are hashed for the input key (cheap); larger ones count by size and
# modified time only, so a schedule tick never spends minutes reading gigabytes.
HASH_LIMIT_BYTES = 256 * 2**20


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


def landing_contents(landing_dir: Path) -> dict[str, list]:
    """Path -> [size, mtime_ns, SHA-256 of the content] of every landing file (the hash is
    null for files over HASH_LIMIT_BYTES and for synced databases, which change on every
    checkpoint): the landing part of a run's input key."""
    contents: dict[str, list] = {}
    for name, (size, mtime) in landing_fingerprint(landing_dir).items():
        digest = None
        if not name.startswith("synced:") and size <= HASH_LIMIT_BYTES:
            path = str(landing_dir / name)
            # A file written in the last seconds may be written again with the same size and
            # mtime tick (as git's "racy" entries): hash it afresh rather than from the cache.
            recent = time.time_ns() - mtime < RACY_NS
            digest = _sha256.__wrapped__(path) if recent else _sha256(path, size, mtime)
        contents[name] = [size, mtime, digest]
    return contents


def record_demo_as_of(landing_dir: Path, as_of: date) -> Path:
    """The demo's as-of date, with the fingerprint of the files it generated: a run on these
    files (the sensor's after `make ui`, `cli run`) computes the marts as of the demo's date."""
    path = landing_dir / DEMO_MARKER
    _write_json(path, {"as_of_date": as_of.isoformat(), "files": landing_fingerprint(landing_dir)})
    return path


def demo_as_of_date(landing_dir: Path) -> date | None:
    """The demo's as-of date while the landing folder holds exactly the demo's files (none
    added, removed or changed since it generated them), else None."""
    try:
        marker = json.loads((landing_dir / DEMO_MARKER).read_text(encoding="utf-8"))
        as_of = date.fromisoformat(marker["as_of_date"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return as_of if marker.get("files") == landing_fingerprint(landing_dir) else None


def remember_loaded(settings: Settings) -> None:
    """At the start of a run: the fingerprint of the files this run loads (pending)."""
    settings.working_db.parent.mkdir(parents=True, exist_ok=True)
    _write_json(
        settings.working_db.parent / PENDING_FINGERPRINT,
        landing_fingerprint(settings.landing_dir),
    )


def mark_published(settings: Settings) -> None:
    """After publication: the pending fingerprint becomes the published run's."""
    pending = settings.working_db.parent / PENDING_FINGERPRINT
    if pending.is_file():
        os.replace(pending, settings.published_db.parent / PUBLISHED_FINGERPRINT)


def last_published(settings: Settings) -> dict[str, list[int]]:
    """The fingerprint of the files the last published run loaded; empty when unknown."""
    path = settings.published_db.parent / PUBLISHED_FINGERPRINT
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, value: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
