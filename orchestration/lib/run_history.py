"""A bounded run history: the Dagster instance keeps the newest finished runs only.

Every run writes its event log into the instance (`$DAGSTER_HOME/history/`, about 10 MB per run
at demo scale): a nightly job would grow it without end. After each build the runs beyond the
newest `SALES_KPI_KEEP_RUNS` finished ones (default 60, two months of nights) are deleted with
their event logs; runs not finished (queued, in progress) are never touched.
"""

from __future__ import annotations

import os

import dagster as dg

KEEP_RUNS = 60
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def keep_runs() -> int:
    value = os.environ.get("SALES_KPI_KEEP_RUNS", "").strip()
    if not value:
        return KEEP_RUNS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"SALES_KPI_KEEP_RUNS is {value!r}; set it to a whole number of runs, 1 or more "
            f"(default {KEEP_RUNS})."
        )
    return int(value)


def prune_run_history(instance: dg.DagsterInstance, keep: int | None = None) -> list[str]:
    """Delete the finished runs older than the newest `keep` (run ids returned, oldest last)."""
    keep = keep if keep is not None else keep_runs()
    finished = instance.get_run_ids(filters=dg.RunsFilter(statuses=FINISHED))  # newest first
    old = list(finished[keep:])
    for run_id in old:
        instance.delete_run(run_id)
    return old
