"""The benchmark's own parts (orchestration/lib/benchmark.py), at unit level: the floor SQL
against a plain-Python computation of the same figures on a tiny generated landing folder, the
process-tree measurement, and the one-more-day split. No pipeline run here."""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generate import generate
from orchestration.lib import benchmark

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench") / "landing"
    generate(folder, scale=0.01, seed=7, end_date=END)
    return folder


@pytest.fixture(scope="module")
def floor(landing: Path):
    database = landing.parent / "floor.duckdb"
    counts = benchmark.run_floor(landing, database)
    assert all(rows > 0 for rows in counts.values()), counts
    with duckdb.connect(str(database), read_only=True) as con:
        yield con


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _teams(landing: Path) -> dict[str, str]:
    teams: dict[str, str] = {}
    for user in _rows(landing / "users.csv"):
        team = user["team_id"] or "unassigned"
        teams[user["user_id"]] = min(team, teams.get(user["user_id"], team))
    return teams


def test_win_rate_by_month_and_team_equals_python(landing: Path, floor) -> None:
    teams = _teams(landing)
    won: Counter = Counter()
    closed: Counter = Counter()
    for opp in _rows(landing / "opportunities.csv"):
        if opp["is_closed"] != "true" or not opp["close_date"]:
            continue
        month = opp["close_date"][:7] + "-01"
        for key in ((month, "company"), (month, teams.get(opp["owner_id"], "unassigned"))):
            closed[key] += 1
            won[key] += opp["is_won"] == "true"
    got = {
        (str(month), scope): (w, c, rate)
        for month, scope, w, c, rate in floor.execute(
            "select close_month, scope_id, won, closed, win_rate from win_rate"
        ).fetchall()
    }
    assert set(got) == set(closed)
    assert any(won.values()) and any(won[k] != closed[k] for k in closed)
    for key, total in closed.items():
        assert got[key][:2] == (won[key], total)
        assert got[key][2] == pytest.approx(won[key] / total)


def test_sales_cycle_percentiles_equal_python(landing: Path, floor) -> None:
    cycles = [
        (
            date.fromisoformat(opp["close_date"]) - datetime.fromisoformat(opp["created_at"]).date()
        ).days
        for opp in _rows(landing / "opportunities.csv")
        if opp["is_won"] == "true" and opp["created_at"] and opp["close_date"]
    ]
    assert len(cycles) > 5
    median, p75, p90, deals = floor.execute(
        "select median_days, p75_days, p90_days, won_deals from sales_cycle "
        "where close_month is null"
    ).fetchone()
    assert deals == len(cycles)
    assert median == pytest.approx(statistics.median(cycles))
    # quantile_cont interpolates linearly between order statistics, as 'inclusive' does
    quartiles = statistics.quantiles(cycles, n=20, method="inclusive")
    assert p75 == pytest.approx(quartiles[14])
    assert p90 == pytest.approx(quartiles[17])


def test_funnel_cohorts_equal_python(landing: Path, floor) -> None:
    won_by_lead: dict[str, bool] = {}
    for opp in _rows(landing / "opportunities.csv"):
        if opp["lead_id"]:
            won_by_lead[opp["lead_id"]] = won_by_lead.get(opp["lead_id"], False) or (
                opp["is_won"] == "true"
            )
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for lead in _rows(landing / "leads.csv"):
        row = expected[lead["created_at"][:7] + "-01"]
        row[0] += 1
        row[1] += lead["lead_id"] in won_by_lead
        row[2] += won_by_lead.get(lead["lead_id"], False)
    got = {
        str(month): [a, b, c]
        for month, a, b, c in floor.execute(
            "select cohort_month, leads, leads_to_opportunity, leads_to_won from funnel_cohort"
        ).fetchall()
    }
    assert got == dict(expected)
    assert sum(row[2] for row in got.values()) > 0


def _fiscal_year_start(day: date, start_month: int = 4) -> date:
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def test_activity_scorecard_at_fiscal_year_and_week_equals_python(landing: Path, floor) -> None:
    activities = _rows(landing / "activities.csv")
    by_year: Counter = Counter()
    minutes: Counter = Counter()
    calls_by_week: Counter = Counter()
    for row in activities:
        day = datetime.fromisoformat(row["activity_at"]).date()
        year = _fiscal_year_start(day)
        by_year[year] += 1
        minutes[year] += int(row["duration_minutes"] or 0)
        week = date.fromordinal(day.toordinal() - day.weekday())
        calls_by_week[week] += row["activity_type"] == "call"
    got = floor.execute(
        "select period_start, activities, minutes from activity_scorecard "
        "where grain = 'fiscal_year' and scope_type = 'company'"
    ).fetchall()
    assert {start: (n, m) for start, n, m in got} == {
        year: (by_year[year], minutes[year]) for year in by_year
    }
    weeks = floor.execute(
        "select period_start, calls from activity_scorecard "
        "where grain = 'week' and scope_type = 'company'"
    ).fetchall()
    assert dict(weeks) == dict(calls_by_week)
    # rep rows add up to the company's at every grain
    (mismatches,) = floor.execute(
        """
        select count(*) from (
            select grain, period_start, sum(activities) filter (where scope_type = 'rep') as reps,
                   sum(activities) filter (where scope_type = 'company') as company
            from activity_scorecard group by all
        ) where reps is distinct from company
        """
    ).fetchone()
    assert mismatches == 0


def test_split_last_day_moves_exactly_that_days_activities(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate(landing, scale=0.01, seed=3, end_date=END)
    before = _rows(landing / "activities.csv")
    last_day = sorted(r["activity_at"] for r in before)[-1][:10]
    day = date.fromisoformat(last_day)
    moved = benchmark.split_last_day(landing, day, tmp_path / "aside")
    extra = tmp_path / "aside" / f"activities_{last_day}.csv"
    kept = _rows(landing / "activities.csv")
    new = _rows(extra)
    assert moved == len(new) > 0
    assert all(r["activity_at"].startswith(last_day) for r in new)
    assert not any(r["activity_at"].startswith(last_day) for r in kept)
    key = lambda r: r["activity_id"]  # noqa: E731
    assert sorted(kept + new, key=key) == sorted(before, key=key)  # nothing lost or changed
    # the next night's file is read by the loader beside activities.csv
    (landing / "activities").mkdir()
    extra.rename(landing / "activities" / extra.name)
    assert [p.name for p in benchmark.landing_files(landing, "activities")] == [
        "activities.csv",
        extra.name,
    ]


BURN = """
import subprocess, sys, time
# a grandchild burns the CPU: the measurement must count the whole tree
code = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.5: pass\\n" \\
    "blob = bytearray(64 * 2**20)\\nfor i in range(0, len(blob), 4096): blob[i] = 1\\n" \\
    "time.sleep(0.6)"
subprocess.run([sys.executable, "-c", code], check=True)
"""


def test_measure_counts_the_cpu_and_memory_of_grandchildren() -> None:
    result = benchmark.measure("burn", [sys.executable, "-c", BURN])
    assert result.returncode == 0
    assert result.cpu_s >= 0.4
    assert result.wall_s >= 0.5
    # 64 MiB touched in the grandchild, besides two interpreters
    assert result.peak_rss >= 64 * 2**20


ORPHAN = """
import os, subprocess, sys, time
# a grandchild burns the CPU and is never reaped (as pyspark's JVM): RUSAGE_CHILDREN never
# sees its CPU
code = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.8: pass"
child = subprocess.Popen([sys.executable, "-c", code])
os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, but not reaped
time.sleep(0.5)  # a sample or more of the ended process
os._exit(0)
"""


def test_measure_counts_a_grandchild_nobody_waits_for() -> None:
    result = benchmark.measure("orphan", [sys.executable, "-c", ORPHAN])
    assert result.returncode == 0
    # RUSAGE_CHILDREN alone would say ~0.05 s (the child's own start-up)
    assert result.cpu_s >= 0.6


def test_measure_separates_the_cpu_of_dbt_commands(tmp_path: Path) -> None:
    """The CPU of a process run as `dbt` is counted apart from its parent's own."""
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
        "time.sleep(0.5)\n"
    )
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, {str(fake_dbt)!r}], check=True)\n"
        "t = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    )
    result = benchmark.measure("pipeline", [sys.executable, "-c", code])
    assert result.returncode == 0
    assert 0.55 <= result.dbt_cpu_s <= 0.9
    assert result.cpu_s - result.dbt_cpu_s >= 0.35
    assert benchmark.measure("burn", [sys.executable, "-c", BURN]).dbt_cpu_s == 0.0


def test_tree_rss_of_a_finished_process_is_zero() -> None:
    import subprocess

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert benchmark.tree_rss(process.pid) == 0


def test_report_prints_targets_with_verdicts() -> None:
    m = benchmark.Measurement
    tier = {
        "scale": 1.0,
        "rows": 1000,
        "activities": 700,
        "steps": [
            m("generate", 1.0, 1.0, 2**20, 0),
            m("full", 10.0, 80.0, 5 * 2**30, 0, dbt_cpu_s=60.0),
            m("incremental", 5.0, 4.0, 2**30, 0, dbt_cpu_s=3.0),
            m("floor", 1.0, 2.0, 2**28, 0),
        ],
    }
    text = "\n".join(benchmark.report([tier], None))
    assert "project/floor CPU         40.0x" in text and "NOT met" in text
    assert "incremental/full CPU      0.05x   target <= 0.1x: met" in text
    assert "peak RSS (tree)           5.00 GiB target <= 4 GiB: NOT met" in text
    assert "full                     10.0     80.0    5,120 MiB     60.0     20.0" in text
    assert "outside dbt" not in text  # checked at demo scale only
    small = {**tier, "scale": 0.1}
    text = "\n".join(benchmark.report([small], None))
    assert "full night outside dbt    20.0 CPU-s target <= 15 (at demo scale): NOT met" in text


def test_tiers_are_checked() -> None:
    assert benchmark.parse_tiers("1,5,50") == [1.0, 5.0, 50.0]
    with pytest.raises(argparse.ArgumentTypeError, match="positive"):
        benchmark.parse_tiers("0")
    with pytest.raises(argparse.ArgumentTypeError, match="commas"):
        benchmark.parse_tiers("1;5")


def test_a_failing_step_stops_with_its_exit_code_and_log(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    code = "import sys; print('the reason it failed'); sys.exit(2)"
    result = benchmark.python_step("full", code, log=log)
    assert result.returncode == 2
    with pytest.raises(RuntimeError, match=r"full exited with 2(.|\n)*the reason it failed"):
        benchmark._check(result)


def test_the_pipeline_runs_with_the_callers_resource_settings_only(
    tmp_path: Path, monkeypatch
) -> None:
    """A benchmark run computes what the benchmark says (its own folders and as-of date), but
    with the memory cap and dbt threads the caller set."""
    monkeypatch.setenv("SALES_KPI_DUCKDB_MEMORY_LIMIT", "4GB")
    monkeypatch.setenv("SALES_KPI_DBT_THREADS", "1")
    monkeypatch.setenv("SALES_KPI_DBT_VARS", '{"fiscal_year_start_month": 1}')
    monkeypatch.setenv("SALES_KPI_FULL_REFRESH", "1")
    env = benchmark._pipeline_env(tmp_path, tmp_path / "landing", date(2026, 10, 29))
    assert env["SALES_KPI_DUCKDB_MEMORY_LIMIT"] == "4GB"
    assert env["SALES_KPI_DBT_THREADS"] == "1"
    assert "SALES_KPI_DBT_VARS" not in env and "SALES_KPI_FULL_REFRESH" not in env
    assert env["SALES_KPI_AS_OF_DATE"] == "2026-10-29"
    assert env["SALES_KPI_LANDING_DIR"] == str(tmp_path / "landing")
