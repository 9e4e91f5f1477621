"""One pipeline run at a time: a lock file next to the working database.

`<working db>.lock` (e.g. `warehouse/working.duckdb.lock`) is held with an OS-level exclusive
lock (`fcntl.flock`) for the whole run and holds, as JSON, who owns it: pid, host, Dagster run
id (once known), start time and the current phase (`convert`, `load`, `checks`, `dbt`,
`publish`, set by `mark_phase` at the start of each step). Two starts cannot both win: the
kernel grants the lock to one; the other raises `RunInProgressError` at once, naming the run
that holds it, before it opens DuckDB or Dagster's storage.

A run that is killed (kill -9, OOM, power loss) cannot clean up, but the kernel releases its
flock. The next run then finds the lock free and the file still filled in: that is a stale
lock. It takes the lock over and returns the dead run's record (`RunLock.stale`), so the caller
can mark that run failed in the Dagster instance (`mark_stale_run_failed`). A run that ends
normally empties the file (it is never deleted: deleting it would let two processes lock two
different files of the same name).

Acquisition is re-entrant within one process: the CLI takes the lock before it opens the
Dagster instance, `run_pipeline` and the warehouse resource take it again (the resource is how
runs launched by the Dagster daemon, from the schedule or the sensor, are covered), and the
file is released when the outermost holder releases it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PHASES = ("starting", "convert", "load", "checks", "dbt", "publish")


class RunInProgressError(Exception):
    """Another run holds the run lock; the message says which and what to do."""


@dataclass
class RunLock:
    path: Path
    fd: int
    record: dict[str, Any]
    # The record of a killed run whose lock this run took over, else None.
    stale: dict[str, Any] | None = None
    depth: int = 1
    released: bool = field(default=False)

    def write(self) -> None:
        data = (json.dumps(self.record, sort_keys=True) + "\n").encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)


_HELD: dict[Path, RunLock] = {}
_MUTEX = threading.Lock()


def lock_path(working_db: Path) -> Path:
    """The lock file of the runs that write `working_db`."""
    working_db = Path(working_db).resolve()
    return working_db.with_name(working_db.name + ".lock")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read(fd: int) -> dict[str, Any] | None:
    size = os.fstat(fd).st_size
    if not size:
        return None
    try:
        record = json.loads(os.pread(fd, min(size, 65_536), 0).decode("utf-8", "replace"))
    except json.JSONDecodeError:
        return {"pid": None, "note": "unreadable lock record"}
    return record if isinstance(record, dict) else None


def pid_alive(pid: object) -> bool:
    """Whether a process with this pid exists on this machine."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(record: dict[str, Any] | None) -> str:
    """`run <id>, pid <n> on <host>, started at <time>, phase <phase>` of a lock record."""
    if not record:
        return "unknown run"
    parts = [
        f"run {record.get('run_id') or '(id not known yet)'}",
        f"pid {record.get('pid')} on {record.get('host')}",
        f"started at {record.get('started_at')}",
    ]
    if record.get("phase"):
        parts.append(f"phase {record['phase']}")
    return ", ".join(parts)


def in_progress_message(record: dict[str, Any] | None, path: Path) -> str:
    message = (
        f"Another run ({describe(record)}) is in progress on this working database; "
        "wait for it to finish and run again, or stop it"
    )
    pid = (record or {}).get("pid")
    if (record or {}).get("host") == socket.gethostname() and not pid_alive(pid):
        message += (
            f". Its process {pid} is gone, but a process it started (e.g. dbt) still holds the "
            "lock: wait a minute for it to end, or stop it"
        )
    return message + f". (lock file: {path})"


def _working_db_holder(working_db: Path) -> str | None:
    """DuckDB's message when another process holds `working_db` open (e.g. a dbt process left
    running by a killed run), else None."""
    if not Path(working_db).exists():
        return None
    import duckdb

    try:
        duckdb.connect(str(working_db)).close()
    except duckdb.Error as error:
        if "lock" in str(error).lower():
            return str(error).splitlines()[0]
    return None


def acquire(working_db: Path, run_id: str | None = None) -> RunLock:
    """Take the run lock of `working_db` or raise RunInProgressError; re-entrant per process."""
    path = lock_path(working_db)
    with _MUTEX:
        held = _HELD.get(path)
        if held is not None:
            held.depth += 1
            if run_id and held.record.get("run_id") != run_id:
                held.record["run_id"] = run_id
                held.write()
            return held
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            record = _read(fd)
            os.close(fd)
            raise RunInProgressError(in_progress_message(record, path)) from None
        # The lock is ours. A record left in the file is a run that never released it: killed.
        stale = _read(fd)
        holder = _working_db_holder(working_db)
        if holder:  # a process the killed run started (dbt) still writes the working database
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise RunInProgressError(
                f"Another process still holds the working database {working_db} "
                f"({holder}); it was probably started by a run that was killed "
                f"({describe(stale)}). Wait a minute for it to end, or stop that process, "
                "then run again."
            )
        lock = RunLock(
            path=path,
            fd=fd,
            record={
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "run_id": run_id,
                "started_at": _now(),
                "phase": "starting",
                "phase_started_at": _now(),
            },
            stale=stale,
        )
        lock.write()
        _HELD[path] = lock
        return lock


def release(lock: RunLock) -> None:
    """Release one acquisition; the outermost empties the file and unlocks it."""
    with _MUTEX:
        if lock.released:
            return
        lock.depth -= 1
        if lock.depth > 0:
            return
        lock.released = True
        _HELD.pop(lock.path, None)
        try:
            os.ftruncate(lock.fd, 0)
            fcntl.flock(lock.fd, fcntl.LOCK_UN)
        finally:
            os.close(lock.fd)


@contextmanager
def run_lock(working_db: Path, run_id: str | None = None):
    lock = acquire(working_db, run_id)
    try:
        yield lock
    finally:
        release(lock)


def mark_phase(name: str) -> None:
    """Record the phase the running pipeline enters in every lock this process holds."""
    with _MUTEX:
        for lock in _HELD.values():
            if lock.record.get("phase") != name:
                lock.record["phase"] = name
                lock.record["phase_started_at"] = _now()
                lock.write()


def current_record(working_db: Path) -> dict[str, Any] | None:
    """The record in the lock file of `working_db` (for tests and tools), without locking."""
    path = lock_path(working_db)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        return _read(fd)
    finally:
        os.close(fd)


def mark_stale_run_failed(instance: Any, stale: dict[str, Any] | None) -> str | None:
    """Mark the killed run of a stale lock FAILED in the Dagster instance, if it is there and
    still not finished; return what was done (for the log), else None."""
    if not stale:
        return None
    run_id = stale.get("run_id")
    note = f"took over the run lock of a run that ended without releasing it ({describe(stale)})"
    if not run_id:
        return note
    run = instance.get_run_by_id(run_id)
    if run is None:
        return note + "; that run is not in this Dagster instance"
    if run.is_finished:
        return note
    instance.report_run_failed(
        run,
        message=(
            f"Marked failed by the next run: its process (pid {stale.get('pid')} on "
            f"{stale.get('host')}) ended during phase {stale.get('phase')} without finishing "
            "(killed?). Nothing it built was published."
        ),
    )
    return note + "; marked it FAILED in Dagster"
