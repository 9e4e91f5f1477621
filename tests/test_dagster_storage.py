"""orchestration/lib/dagster_storage.py: the run's SQLite bookkeeping, cheaper, same rows."""

import sqlite3
import time

import dagster as dg
from dagster._core.events.log import EventLogEntry

from orchestration.lib.dagster_storage import quick_sqlite


def _entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None, level="INFO", user_message=message, run_id=run_id, timestamp=time.time()
    )


def _messages(home, run_id: str) -> list[str]:
    """What another process would read: the run's file, through a connection of its own."""
    with sqlite3.connect(home / "history" / "runs" / f"{run_id}.db") as con:
        rows = con.execute("select event from event_logs order by id").fetchall()
    return [row[0] for row in rows]


def test_events_are_stored_and_visible_at_once_and_the_storage_is_restored(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        instance.store_event(_entry("r1", "before"))
        with quick_sqlite(instance):
            assert "_connect" in vars(storage)
            for i in range(5):
                instance.store_event(_entry("r1", f"during {i}"))
                instance.store_event(_entry("r2", f"other run {i}"))
            # committed: another connection (the UI, the daemon) reads them during the run
            assert sum("during" in text for text in _messages(tmp_path, "r1")) == 5
            assert instance.get_records_for_run("r2").records
            assert storage.has_table("event_logs")
            assert not storage.has_table("no_such_table")
        # Dagster's own methods again
        assert "_connect" not in vars(storage) and "has_table" not in vars(storage)
        assert "connect" not in vars(instance.run_storage)
        instance.store_event(_entry("r1", "after"))
        messages = [e.user_message for e in instance.all_logs("r1")]
    assert messages == ["before", *(f"during {i}" for i in range(5)), "after"]
    for name in ("r1.db", "index.db"):
        with sqlite3.connect(tmp_path / "history" / "runs" / name) as con:
            assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
            assert con.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_an_in_memory_instance_is_left_as_it_is():
    with dg.DagsterInstance.ephemeral() as instance, quick_sqlite(instance):
        instance.store_event(_entry("r1", "x"))
        assert [e.user_message for e in instance.all_logs("r1")] == ["x"]


def test_a_nested_block_leaves_the_outer_one_in_place(tmp_path, monkeypatch):
    """The CLI's run_pipeline and the run's warehouse resource both ask for it."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        with quick_sqlite(instance):
            patched = vars(storage)["_connect"]
            with quick_sqlite(instance):
                assert vars(storage)["_connect"] is patched
                instance.store_event(_entry("r1", "inner"))
            assert vars(storage)["_connect"] is patched
            instance.store_event(_entry("r1", "outer"))
        assert "_connect" not in vars(storage)
        assert [e.user_message for e in instance.all_logs("r1")] == ["inner", "outer"]


def test_a_dagster_without_the_private_parts_keeps_its_own_storage(tmp_path, monkeypatch):
    """After a Dagster upgrade that renames what the shortcuts use, runs are slower, not broken."""
    from orchestration.lib import dagster_storage

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setattr(
        dagster_storage, "_EVENT_LOG_INTERNALS", (*dagster_storage._EVENT_LOG_INTERNALS, "_gone")
    )
    monkeypatch.setattr(dagster_storage, "_RUN_STORAGE_INTERNALS", ("_gone",))
    with dg.DagsterInstance.get() as instance:
        with quick_sqlite(instance):
            assert "_connect" not in vars(instance.event_log_storage)
            assert "connect" not in vars(instance.run_storage)
            instance.store_event(_entry("r1", "stored"))
        assert [e.user_message for e in instance.all_logs("r1")] == ["stored"]
