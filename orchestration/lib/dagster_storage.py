"""Dagster's SQLite storage (the default under $DAGSTER_HOME) made cheaper per event during a run.

Dagster's SQLite storages create a new SQLAlchemy engine for every read and write, open a
connection, and dispose of the engine again. A full night stores about 1,700 events in the
run's file and 1,000 more in the cross-run index (every asset and check is planned, evaluated
and materialised), and reads the assets' latest records a few hundred times: about 5,000
engines, each compiling its SQL afresh (SQLAlchemy caches compiled statements per engine).
With SQLite's defaults, each commit also syncs the WAL to disk, and each close of a file's last
connection checkpoints the WAL into the database and deletes it (more syncs). Together, more
CPU than anything else the pipeline does outside dbt, for bookkeeping.

`quick_sqlite(instance)`, while a run executes in this process (`run_pipeline` puts the whole
run in it, from its creation; the warehouse resource puts the steps of every other run in it,
e.g. those the daemon launches for the schedule and the sensor):

- the instance's SQLite event log and run storage keep one engine per file for the block, with
  a pool holding its connection open between operations (SQLAlchemy's own default for SQLite
  files; Dagster's event log still serialises its operations with its lock), so statements
  are compiled once and a file is opened once (and a table Dagster finds is not looked up
  again). An idle pooled connection holds no lock: the UI and the daemon read and write the
  files as before (WAL mode), and each operation sees what they committed;
- `PRAGMA synchronous=NORMAL` on each connection to a WAL-mode file under the instance's root
  directory (all of Dagster's files are in WAL mode): in WAL mode a database is always
  consistent with it (https://sqlite.org/pragma.html#pragma_synchronous); a power loss may
  drop the last committed events, it never corrupts the file;
- one idle connection is kept open to each such file until the block ends (also those opened
  by Dagster's other, one-off engines), so that a connection's close is never the file's last
  one: no checkpoint and WAL deletion at every close. SQLite still checkpoints by itself every
  1,000 pages, and once when the last connection closes at the end of the block.

The same rows are written and read; only how often SQLAlchemy and SQLite redo fixed work
changes. Anything else (an in-memory instance, another storage) is left as it is.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool


class _Keeper:
    """The connect hook: synchronous=NORMAL and one kept connection per WAL file under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.kept: dict[str, sqlite3.Connection] = {}
        self.elsewhere: set[str] = set()
        self._lock = threading.Lock()

    def on_connect(self, dbapi_connection: Any, connection_record: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        rows = dbapi_connection.execute("pragma database_list").fetchall()
        path = next((row[2] for row in rows if row[1] == "main"), "")
        if not path or path in self.elsewhere:  # in memory, or not the instance's
            return
        if path not in self.kept:
            if not Path(path).resolve().is_relative_to(self.root):
                self.elsewhere.add(path)
                return
            mode = dbapi_connection.execute("pragma journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":  # a new file: Dagster switches it to WAL next
                return
        dbapi_connection.execute("pragma synchronous=NORMAL")
        with self._lock:
            if path not in self.kept:
                self.kept[path] = sqlite3.connect(path, check_same_thread=False)

    def close(self) -> None:
        with self._lock:
            for connection in self.kept.values():
                with contextlib.suppress(sqlite3.Error):
                    connection.close()
            self.kept.clear()


def _engine_per_shard(storage: Any, engines: dict[str, Engine]) -> None:
    """Give a SqliteEventLogStorage one engine per shard (Dagster's `_connect` less the engine
    created and disposed of each time)."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log as module

    # (Dagster's own create_engine is SQLAlchemy's.)
    busy_timeout = getattr(module, "SQLITE_BUSY_TIMEOUT_SECONDS", 120)

    @contextlib.contextmanager
    def _connect(shard: str) -> Iterator[Any]:
        with storage._db_lock:
            engine = engines.get(shard)
            if engine is None:
                engine = create_engine(
                    storage.conn_string_for_shard(shard),
                    poolclass=QueuePool,
                    pool_size=1,
                    max_overflow=-1,
                    connect_args={"timeout": busy_timeout},
                )
                engines[shard] = engine
            if shard not in storage._initialized_dbs:
                storage._initdb(engine)
                storage._initialized_dbs.add(shard)
                # A new file's first connection predates its switch to WAL (no
                # synchronous=NORMAL then): the next one is opened afresh.
                engine.dispose()
            with engine.connect() as conn, conn.begin():
                yield conn

    original_has_table = storage.has_table
    present: set[str] = set()

    def has_table(table_name: str) -> bool:
        """Dagster asks whether a table exists before every asset check event and asset tag
        write, with an engine of its own each time: a table found stays found for the block."""
        if table_name not in present and original_has_table(table_name):
            present.add(table_name)
        return table_name in present

    storage._connect = _connect
    storage.has_table = has_table


def _engine_for_runs(storage: Any, engines: dict[str, Engine]) -> None:
    """Give a SqliteRunStorage one engine (Dagster's `connect` less the engine per call)."""
    engine = create_engine(storage._conn_string, poolclass=QueuePool, pool_size=1, max_overflow=-1)
    engines["runs"] = engine

    @contextlib.contextmanager
    def connect() -> Iterator[Any]:
        with engine.connect() as conn, conn.begin():
            yield conn

    storage.connect = connect


# The private parts of Dagster's SQLite storages the patches above use (Dagster 1.13). A
# Dagster that lacks one keeps its own storage code: slower bookkeeping, never a broken run.
_EVENT_LOG_INTERNALS = (
    "_connect",
    "_db_lock",
    "_initdb",
    "_initialized_dbs",
    "conn_string_for_shard",
)
_RUN_STORAGE_INTERNALS = ("connect", "_conn_string")


def _has(storage: Any, names: tuple[str, ...]) -> bool:
    return all(hasattr(storage, name) for name in names)


# The instances (by id) inside a `quick_sqlite` block.
_ACTIVE: set[int] = set()


@contextlib.contextmanager
def quick_sqlite(instance: Any) -> Iterator[None]:
    """Cheaper SQLite bookkeeping for `instance` (a DagsterInstance) while the block runs;
    nested blocks for the same instance (the CLI's run, then the run's resources) do nothing."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    if id(instance) in _ACTIVE:
        yield
        return
    _ACTIVE.add(id(instance))
    root = getattr(instance, "root_directory", None)
    event_log, runs = instance.event_log_storage, instance.run_storage
    patched = []
    engines: dict[str, Engine] = {}
    keeper = _Keeper(Path(root)) if root else None
    if keeper is not None:
        event.listen(Engine, "connect", keeper.on_connect)
    try:
        if type(event_log) is SqliteEventLogStorage and _has(event_log, _EVENT_LOG_INTERNALS):
            _engine_per_shard(event_log, engines)
            patched += [(event_log, "_connect"), (event_log, "has_table")]
        if type(runs) is SqliteRunStorage and _has(runs, _RUN_STORAGE_INTERNALS):
            _engine_for_runs(runs, engines)
            patched.append((runs, "connect"))
        yield
    finally:
        for storage, name in patched:
            with contextlib.suppress(AttributeError):
                delattr(storage, name)  # the class's method again
        for engine in engines.values():
            engine.dispose()
        if keeper is not None:
            event.remove(Engine, "connect", keeper.on_connect)
            keeper.close()
        _ACTIVE.discard(id(instance))
