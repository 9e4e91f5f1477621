"""What landing and staging a big Salesforce Task export costs, next to DuckDB's bare reader.

`python -m orchestration.lib.crm_benchmark --rows 1000000 --dir /tmp/crm_bench` (also
`make benchmark-crm`) writes a Task.csv of that many rows (Data Export layout: quoted, UTC
date-times) and measures, each step in a fresh process (CPU seconds and peak RSS of that
process):

- `read_csv`: DuckDB's `read_csv(..., all_varchar = true)` into a table, nothing else;
- `land`: orchestration/lib/crm_landing.py landing the folder (UTF-8 scan, header checks,
  reader, audit columns, load log) into raw_salesforce.task;
- `stage`: the staging model's SQL (dbt_project/models/staging/salesforce/stg_salesforce__task,
  compiled by dbt) materialised as a table over the landed rows (every cast and time zone);
- `rules`: the business rules in dbt: `dbt run --select +int_salesforce__activities` on a copy
  of the landed database (dbt's own start-up included), then the activities and their
  row outcomes materialised as tables (the models are views). dbt runs as a child of the
  step's process; CPU and peak RSS include it, and its fixed cost (start-up and a full parse
  of the project: about 30 CPU-s on 2 shared cores, measured with `--rows 1000`).

The same number of rows as a canonical `activities.csv` (one row in 10,000 with a bad time,
quarantined):

- `canonical_read_csv`: DuckDB's `read_csv(..., all_varchar = true)` of it into a table;
- `canonical_load`: orchestration/lib/loader.py loading it (UTF-8 scan, header checks, typing
  and reasons in SQL, raw.activities, quarantine, load log).

The ratios land / read_csv and canonical_load / canonical_read_csv (issue 11's ingest target:
at most 1.5x in CPU) are printed last. `--steps read_csv,land` runs only those steps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

STEPS = ("read_csv", "land", "stage", "rules")
# The canonical loader on a canonical activities.csv of the same number of rows.
CANONICAL_STEPS = ("canonical_read_csv", "canonical_load")


def _write_csv(path: Path, select: str, options: str = "header") -> None:
    """Write the rows of `select` (over `range(rows) as numbers(i)`) to the CSV file `path`."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"copy ({select}) to '{path}' ({options})")


def write_tasks(path: Path, rows: int) -> None:
    """A Task.csv of `rows` rows like a Data Export: calls, e-mails and to-dos."""
    _write_csv(
        path,
        f"""
                select
                    '00T' || lpad(cast(i as varchar), 15, '0') as "Id",
                    case when i % 997 = 0 then 'true' else 'false' end as "IsDeleted",
                    '005' || lpad(cast(i % 40 as varchar), 15, '0') as "OwnerId",
                    '00Q' || lpad(cast(i % 50000 as varchar), 15, '0') as "WhoId",
                    case when i % 3 = 0 then '006' || lpad(cast(i % 9000 as varchar), 15, '0')
                    end as "WhatId",
                    '' as "AccountId",
                    'Call ' || cast(i as varchar) as "Subject",
                    ['Call', 'Email', 'Task'][1 + i % 3] as "TaskSubtype",
                    'Completed' as "Status",
                    'true' as "IsClosed",
                    case when i % 3 = 0 then ['不在', '通話（アポなし）', 'アポ獲得'][1 + i % 3]
                    end as "CallDisposition",
                    case when i % 3 = 0 then cast(i % 900 as varchar) end
                        as "CallDurationInSeconds",
                    strftime(timestamp '2025-04-01' + to_seconds(i * 37), '%Y-%m-%d')
                        as "ActivityDate",
                    strftime(timestamp '2025-04-01' + to_seconds(i * 37),
                        '%Y-%m-%dT%H:%M:%S.000Z') as "CompletedDateTime",
                    strftime(timestamp '2025-04-01' + to_seconds(i * 37),
                        '%Y-%m-%dT%H:%M:%S.000Z') as "CreatedDate",
                    strftime(timestamp '2025-04-01' + to_seconds(i * 37),
                        '%Y-%m-%dT%H:%M:%S.000Z') as "SystemModstamp"
                from range({int(rows)}) as numbers(i)
        """,
        """header, quote '"', force_quote *""",
    )


def write_activities(path: Path, rows: int) -> None:
    """A canonical activities.csv of `rows` rows (docs/canonical_format.md), one row in 10,000
    with a bad value (quarantined) so the quarantine path is part of the cost."""
    _write_csv(
        path,
        f"""
                select
                    'A' || lpad(cast(i as varchar), 9, '0') as activity_id,
                    ['call', 'email', 'meeting', 'task'][1 + i % 4] as activity_type,
                    case when i % 10000 = 7 then 'not a time' else strftime(
                        timestamp '2025-04-01 09:00' + to_seconds(i * 29), '%Y-%m-%d %H:%M:%S'
                    ) end as activity_at,
                    'U' || lpad(cast(i % 40 as varchar), 3, '0') as owner_id,
                    ['no_answer', 'sent', 'held', 'completed'][1 + i % 4] as outcome,
                    case when i % 2 = 0 then cast(i % 90 as varchar) end as duration_minutes,
                    'L' || lpad(cast(i % 50000 as varchar), 6, '0') as lead_id,
                    case when i % 3 = 0 then 'O' || lpad(cast(i % 9000 as varchar), 5, '0')
                    end as opportunity_id,
                    case when i % 3 = 0 then 'C' || lpad(cast(i % 3000 as varchar), 5, '0')
                    end as account_id,
                    '架電 ' || cast(i as varchar) as subject
                from range({int(rows)}) as numbers(i)
        """,
    )


def _read_all_varchar(con, table: str, path: Path) -> None:
    """DuckDB's bare reader: the file into `table`, every column text, nothing sniffed."""
    con.execute(
        f"create table {table} as select * from read_csv(?, header = true, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        "all_varchar = true, columns = " + _columns(path) + ")",
        [str(path)],
    )


def run_step(step: str, folder: Path) -> None:
    """One step, in this process (the parent measures it)."""
    import duckdb

    database = folder / f"{step}.duckdb"
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        if step == "canonical_read_csv":
            _read_all_varchar(con, "activities", folder / "canonical" / "activities.csv")
        elif step == "canonical_load":
            from orchestration.lib.loader import load_landing

            load_landing(database, folder / "canonical", ["activities"], "b")
        elif step == "read_csv":
            _read_all_varchar(con, "task", folder / "salesforce" / "Task.csv")
        elif step == "land":
            from orchestration.lib.crm_landing import CrmSource, land_crm
            from orchestration.sources.salesforce import SALESFORCE

            land_crm(con, SALESFORCE, [CrmSource(folder / "salesforce", {}, "salesforce")], "b")
        elif step == "rules":
            con.close()
            shutil.copyfile(folder / "land.duckdb", database)
            run_rules(folder, database)
        else:
            con.execute(f"attach '{folder / 'land.duckdb'}' as landed (read_only)")
            con.execute("create schema raw_salesforce")
            con.execute(
                "create view raw_salesforce.task as select * from landed.raw_salesforce.task"
            )
            sql = (folder / "stg_salesforce__task.sql").read_text(encoding="utf-8")
            con.execute(f"create table staged as {sql}")


def run_rules(folder: Path, database: Path) -> None:
    """dbt builds the Salesforce activity rules (views) over the landed rows; their results are
    then materialised, so the rules really run."""
    import duckdb

    from orchestration.lib.settings import DBT_PROJECT_DIR

    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "run", "--profiles-dir", ".", "--select", "+int_salesforce__activities",
         "+int_salesforce__row_outcomes", "--target-path", str(folder / "rules_target"),
         "--log-path", str(folder / "rules_logs"), "--quiet"],
        cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=True,
        env={**os.environ, "SALES_KPI_WORKING_DB": str(database)},
    )  # fmt: skip
    with duckdb.connect(str(database)) as con:
        for model in ("int_salesforce__activities", "int_salesforce__row_outcomes"):
            (schema,) = con.execute(
                "select table_schema from information_schema.tables where table_name = ?",
                [model],
            ).fetchone()
            con.execute(f"create table main.{model} as select * from {schema}.{model}")


def _columns(path: Path) -> str:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    return "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"


def compiled_staging_sql(folder: Path) -> None:
    """The compiled SQL of stg_salesforce__task (dbt compile), with its source as raw_salesforce.task."""
    from orchestration.lib.settings import DBT_PROJECT_DIR

    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "compile", "--profiles-dir", ".", "--select", "stg_salesforce__task",
         "--output", "json", "--target-path", str(folder / "target")],
        cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=True,
        env={**os.environ, "SALES_KPI_WORKING_DB": str(folder / "compile.duckdb")},
    )  # fmt: skip
    compiled = (
        folder / "target" / "compiled" / "sales_kpi" / "models" / "staging" / "salesforce"
        / "stg_salesforce__task.sql"
    )  # fmt: skip
    sql = compiled.read_text(encoding="utf-8")
    sql = sql.replace('"compile"."raw_salesforce"."task"', "raw_salesforce.task")
    (folder / "stg_salesforce__task.sql").write_text(sql, encoding="utf-8")


def measure(step: str, folder: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-c",
         "import sys, resource, json; from pathlib import Path; "
         "from orchestration.lib.crm_benchmark import run_step; "
         "run_step(sys.argv[1], Path(sys.argv[2])); "
         "print(json.dumps(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
         "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))",
         step, str(folder)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kib = json.loads(process.stdout.strip().splitlines()[-1])
    return {"step": step, "wall_s": wall, "cpu_s": cpu, "peak_rss_mib": peak_kib / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/crm_benchmark")
    parser.add_argument(
        "--steps", default=",".join(STEPS + CANONICAL_STEPS), help="comma-separated steps"
    )
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    steps = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS + CANONICAL_STEPS))
    if unknown:
        parser.error(f"unknown step(s) {', '.join(unknown)}; known: {STEPS + CANONICAL_STEPS}")
    if any(s in STEPS for s in steps):
        write_tasks(folder / "salesforce" / "Task.csv", args.rows)
        size = (folder / "salesforce" / "Task.csv").stat().st_size / 2**20
        print(f"Task.csv: {args.rows:,} rows, {size:,.0f} MiB")
    if "stage" in steps:
        compiled_staging_sql(folder)
    if any(s in CANONICAL_STEPS for s in steps):
        write_activities(folder / "canonical" / "activities.csv", args.rows)
        size = (folder / "canonical" / "activities.csv").stat().st_size / 2**20
        print(f"canonical activities.csv: {args.rows:,} rows, {size:,.0f} MiB")
    results = {}
    for step in (s for s in STEPS + CANONICAL_STEPS if s in steps):
        result = results[step] = measure(step, folder)
        print(
            f"  {step:18} {result['wall_s']:7.1f} s wall  {result['cpu_s']:7.1f} CPU-s  "
            f"{result['peak_rss_mib']:7.0f} MiB peak RSS"
        )
    for what, base in (("land", "read_csv"), ("canonical_load", "canonical_read_csv")):
        if what in results and base in results:
            print(
                f"  {what} / {base}: {results[what]['cpu_s'] / results[base]['cpu_s']:.2f}x CPU, "
                f"{results[what]['peak_rss_mib'] / results[base]['peak_rss_mib']:.2f}x peak RSS"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
