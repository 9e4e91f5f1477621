"""Progress of a run, as a few plain lines: what the pipeline is doing and how far it is.

The assets and checks report to the `orchestration.progress` logger (`report`); nothing is
printed unless a handler is attached: the CLI attaches `ProgressPrinter`, which prints a line
when the phase changes, at most one line every few seconds within a phase, and "still ..."
when nothing was reported for a while, so a run is never silent for long. In the UI the same
messages are in the step logs (the assets also log them to Dagster).

No colour codes, ever: the lines are the same on a terminal, in a pipe and in a CI log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

LOGGER_NAME = "orchestration.progress"
logger = logging.getLogger(LOGGER_NAME)

# dbt progress: a line each time another tenth of the models is built, or every this many s.
DBT_EVERY_SHARE = 0.1
DBT_EVERY_SECONDS = 10.0


def report(
    phase: str, message: str, force: bool = False, data: Mapping[str, Any] | None = None
) -> None:
    """Say what the run does now. `phase` names the step (a new phase is always printed);
    `force` prints the line even when the last one was printed a moment ago; `data` is kept by
    the printer by phase (the dbt step's time split, for the summary)."""
    logger.info(message, extra={"phase": phase, "force": force, "data": data})


class ProgressPrinter(logging.Handler):
    """Prints `report`ed messages as `  <elapsed> s  <message>` lines on `stream`.

    A message of a new phase, or a forced one, is printed at once; within a phase at most one
    line every `every` seconds (the latest message; the others are only counted). `tick()`
    (called every second by `start_heartbeat`) prints the latest unprinted message, or
    "still <the last message>", when nothing was printed for `heartbeat` seconds.
    """

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        every: float = 5.0,
        heartbeat: float = 15.0,
    ) -> None:
        super().__init__(level=logging.INFO)
        self.stream = stream
        self.clock = clock
        self.every = every
        self.heartbeat = heartbeat
        self.started = clock()
        self.last_printed = self.started
        self.phase: str | None = None
        self.pending: str | None = None
        self.last_message = ""
        self.lines = 0
        self.data: dict[str, Mapping[str, Any]] = {}
        self._mutex = threading.Lock()
        self._stop = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        phase = getattr(record, "phase", None) or "running"
        message = record.getMessage()
        if getattr(record, "data", None):
            self.data[phase] = record.data
        with self._mutex:
            now = self.clock()
            due = now - self.last_printed >= self.every
            if phase != self.phase or getattr(record, "force", False) or due:
                self.phase = phase
                self._print(message, now)
            else:
                self.pending = message

    def tick(self) -> None:
        with self._mutex:
            now = self.clock()
            if self.phase is not None and now - self.last_printed >= self.heartbeat:
                if self.pending:
                    self._print(self.pending, now)
                else:
                    self._print(f"still {self.last_message}", now, repeat=True)

    def _print(self, message: str, now: float, repeat: bool = False) -> None:
        self.stream.write(f"  {now - self.started:5.0f} s  {message}\n")
        self.stream.flush()
        self.last_printed = now
        if not repeat:
            self.last_message = message
        self.pending = None
        self.lines += 1

    def start_heartbeat(self) -> threading.Thread:
        def beat() -> None:
            while not self._stop.wait(1.0):
                self.tick()

        thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
        thread.start()
        return thread

    def stop_heartbeat(self) -> None:
        """Stop the heartbeat thread. (Not in `close()`: logging configuration done during a
        run, e.g. `logging.config.dictConfig`, closes every handler and would stop it.)"""
        self._stop.set()


class DbtProgress:
    """Counts the events of a dbt build (a model, seed or snapshot built: a materialisation;
    a test run: a check result or an observation) and reports "dbt: m/M models, t tests" each
    time another tenth of the models is done, or every `every_seconds`."""

    def __init__(
        self,
        models_total: int,
        clock: Callable[[], float] = time.monotonic,
        every_share: float = DBT_EVERY_SHARE,
        every_seconds: float = DBT_EVERY_SECONDS,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.models_total = models_total
        self.clock = clock
        self.every_models = max(1, round(models_total * every_share))
        self.every_seconds = every_seconds
        self.say = say or (lambda line: report("dbt", line, force=True))
        self.models = 0
        self.tests = 0
        self.failed_tests = 0
        self.started = clock()
        self._last_time = self.started
        self._last_models = 0

    def line(self) -> str:
        failed = f", {self.failed_tests} failed" if self.failed_tests else ""
        return (
            f"dbt: {self.models}/{self.models_total} models, {self.tests} tests run{failed} "
            f"({self.clock() - self.started:.0f} s)"
        )

    def count(self, event: Any) -> None:
        import dagster as dg

        if isinstance(event, (dg.Output, dg.AssetMaterialization)):
            self.models += 1
        elif isinstance(event, (dg.AssetCheckResult, dg.AssetCheckEvaluation)):
            self.tests += 1
            self.failed_tests += not event.passed
        elif isinstance(event, dg.AssetObservation):
            self.tests += 1
        else:
            return
        now = self.clock()
        if (
            self.models - self._last_models >= self.every_models
            or now - self._last_time >= self.every_seconds
        ):
            self.say(self.line())
            self._last_time, self._last_models = now, self.models


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def dbt_node_intervals(run_results: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """(kind, start, end) of every node of a dbt `run_results.json`: kind "models" (models,
    seeds, snapshots) or "tests" (data tests, unit tests), from its compile start to its
    execute end."""
    intervals = []
    for result in run_results.get("results", []):
        timing = [t for t in result.get("timing", []) if t.get("started_at")]
        if not timing:
            continue
        kind = "tests" if result["unique_id"].split(".")[0] in ("test", "unit_test") else "models"
        start = min(_timestamp(t["started_at"]) for t in timing)
        end = max(_timestamp(t["completed_at"]) for t in timing if t.get("completed_at"))
        intervals.append((kind, start, end))
    return intervals


def split_wall_time(intervals: Iterable[tuple[str, float, float]]) -> dict[str, float]:
    """Wall seconds per kind of concurrent (kind, start, end) intervals: each moment counts
    once, shared between the kinds running then in proportion to their running nodes (two
    threads, one model and one test: half each). Idle moments between nodes count as "idle"."""
    events = sorted(
        (time_, step, kind)
        for kind, start, end in intervals
        for time_, step in ((start, 1), (end, -1))
    )
    totals: dict[str, float] = {}
    running: dict[str, int] = {}
    previous = None
    for time_, step, kind in events:
        if previous is not None and time_ > previous:
            nodes = sum(running.values())
            if not nodes:
                totals["idle"] = totals.get("idle", 0.0) + time_ - previous
            for name, count in running.items():
                if count:
                    totals[name] = totals.get(name, 0.0) + (time_ - previous) * count / nodes
        running[kind] = running.get(kind, 0) + step
        previous = time_
    return totals


def step_summary(
    step_seconds: Mapping[str, float], dbt_split: Mapping[str, float] | None = None
) -> list[tuple[str, float]]:
    """(phase, seconds) of a run from its steps' durations, in the order they run: load raw
    tables, raw checks, dbt (start-up, models, tests when `dbt_split` gives the models' and
    tests' share of the dbt step, else one line), mart checks, publish. The steps run one after
    the other, so each figure is wall time."""
    phases = {
        "load raw tables": 0.0,
        "raw checks (Great Expectations)": 0.0,
        "dbt build": 0.0,
        "mart checks (Great Expectations)": 0.0,
        "publish marts": 0.0,
    }
    seen = set()
    for step, seconds in step_seconds.items():
        if "_gx_" in step or step.endswith("required_inputs"):
            name = "raw checks (Great Expectations)"
            if not step.startswith(("raw__", "raw_salesforce__", "raw_hubspot__")):
                name = "mart checks (Great Expectations)"
        elif step.startswith("published"):
            name = "publish marts"
        elif "dbt" in step:
            name = "dbt build"
        else:
            name = "load raw tables"
        phases[name] += seconds
        seen.add(name)
    lines = []
    for name, seconds in phases.items():
        if name not in seen:
            continue
        if name == "dbt build" and dbt_split:
            models, tests = dbt_split.get("models", 0.0), dbt_split.get("tests", 0.0)
            lines += [
                ("dbt start-up and parsing", max(seconds - models - tests, 0.0)),
                ("dbt models", models),
                ("dbt tests", tests),
            ]
        else:
            lines.append((name, seconds))
    return lines
