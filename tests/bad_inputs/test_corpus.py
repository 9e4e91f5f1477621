"""Every case of the bad-input corpus (tests/bad_inputs/cases.py) meets its declared outcome.

Cases run through the CLI's `run` command, as an operator runs it. Cases that must publish
(quarantine, defect, accepted) share one run per base: their mutations touch different
records. Each `error` case runs alone, on its own copy, next to a previously published file
that must come out byte for byte unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration import cli
from tests.bad_inputs.cases import AS_OF, CASES, Case, build_base

# Many defects in a tiny fixture are a large share of its records: the combined runs raise
# every rule's threshold so that the cases are judged one by one, not by their sum.
RULES_SEED = Path(__file__).resolve().parents[2] / "seeds" / "data_quality_rules.csv"
with RULES_SEED.open(encoding="utf-8") as _handle:
    RELAXED_RULES = {
        "data_quality_rules": {
            row["rule_code"]: {"max_flagged_share": 1.0} for row in csv.DictReader(_handle)
        }
    }
EXIT_PUBLISHED = {0, 3}  # published; published with warnings


@dataclass
class CliRun:
    exit_code: int
    output: str
    working_db: Path
    published_db: Path
    landing: Path


def run_cli(base_dir: Path, landing: Path, dbt_vars: dict | None = None) -> CliRun:
    """`python -m orchestration.cli run` in-process, configured as an operator would."""
    warehouse = base_dir / "warehouse"
    env = {
        "SALES_KPI_HOME": str(base_dir),
        "SALES_KPI_LANDING_DIR": str(landing),
        "SALES_KPI_WORKING_DB": str(warehouse / "working.duckdb"),
        "SALES_KPI_PUBLISHED_DB": str(warehouse / "marts.duckdb"),
        "SALES_KPI_QUALITY_DIR": str(warehouse / "quality"),
        "SALES_KPI_AS_OF_DATE": AS_OF,
        "SALES_KPI_DBT_VARS": json.dumps(dbt_vars or {}),
    }
    output = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = cli.main(["run"])
    return CliRun(
        code, output.getvalue(), warehouse / "working.duckdb", warehouse / "marts.duckdb", landing
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _previous_publication(path: Path) -> str:
    """A stand-in for last night's published file; returns its digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table _publication as select timestamp '2025-10-30 17:00:00' as "
            "published_at, 'previous-night' as run_id, date '2025-10-30' as as_of_date, "
            "'working.duckdb' as source_database"
        )
    return _digest(path)


@pytest.fixture(scope="session")
def combined_runs(tmp_path_factory):
    """One publishing run per base with every non-error case of that base applied."""
    runs: dict[str, CliRun] = {}

    def get(base: str) -> CliRun:
        if base not in runs:
            root = tmp_path_factory.mktemp(f"corpus_{base}")
            landing = build_base(base, root / "landing")
            for case in CASES:
                if case.base == base and case.outcome != "error":
                    case.mutate(landing)
            runs[base] = run_cli(root, landing, RELAXED_RULES)
        return runs[base]

    return get


ERROR_CASES = [c for c in CASES if c.outcome == "error"]
PUBLISHING_CASES = [c for c in CASES if c.outcome != "error"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.id)
def test_error_case(case: Case, tmp_path: Path) -> None:
    landing = build_base(case.base, tmp_path / "landing")
    case.mutate(landing)
    before = _previous_publication(tmp_path / "warehouse" / "marts.duckdb")
    run = run_cli(tmp_path, landing)
    assert run.exit_code in (1, 2), run.output
    assert "Traceback" not in run.output, run.output
    for text in case.find:
        assert text in run.output, f"{text!r} not in:\n{run.output}"
    assert "root:x:0:0" not in run.output  # never echo a file outside the landing folder
    assert _digest(run.published_db) == before, "the previous publication was touched"
    assert not list(run.published_db.parent.glob(".marts.duckdb.*")), "temporary files left"


@pytest.mark.parametrize("case", PUBLISHING_CASES, ids=lambda c: c.id)
def test_publishing_case(case: Case, combined_runs) -> None:
    run = combined_runs(case.base)
    assert run.exit_code in EXIT_PUBLISHED, run.output
    assert "Traceback" not in run.output
    with duckdb.connect(str(run.published_db), read_only=True) as marts:
        if case.outcome == "quarantine":
            with duckdb.connect(str(run.working_db), read_only=True) as working:
                rows = working.execute(
                    "select concat_ws(' | ', source_file, row_number, line_number, reason, "
                    "raw_record) from raw._quarantine"
                ).fetchall()
            matches = [r[0] for r in rows if all(t in r[0] for t in case.find)]
            assert matches, f"no quarantine row with {case.find}:\n" + "\n".join(
                r[0][:300] for r in rows
            )
        elif case.outcome == "defect":
            rule, *record = case.find
            found = marts.execute(
                "select record_id, offending_values from data_quality_issues where rule_code = ?",
                [rule],
            ).fetchall()
            assert found, f"no data_quality_issues row for rule {rule}"
            if record:
                assert any(record[0] in str(r[0]) for r in found), (record, found)
        if case.check:
            case.check(marts)


def test_combined_runs_account_for_every_row(combined_runs) -> None:
    """Every data row of every canonical landing file is loaded or quarantined."""
    run = combined_runs("canonical")
    with duckdb.connect(str(run.working_db), read_only=True) as con:
        logged = {
            Path(file).name.lower(): (read, loaded, quarantined)
            for file, read, loaded, quarantined in con.execute(
                "select source_file, rows_read, rows_loaded, rows_quarantined from raw._load_log "
                "where load_id = (select max_by(load_id, loaded_at) from raw._load_log)"
            ).fetchall()
        }
    for path in sorted(run.landing.rglob("*")):
        if not path.is_file() or path.suffix.lower() != ".csv" or path.name == "target_2025.csv":
            continue
        records = _count_records(path)
        read, loaded, quarantined = logged[path.name.lower()]
        assert read == loaded + quarantined, path.name
        assert read == records, (path.name, read, records)


def _count_records(path: Path) -> int:
    """Data records of a CSV file counted by Python's csv module (independent of DuckDB)."""
    # The limit is process-wide: restored afterwards, or later tests of the reader's own limit
    # in the same worker would see this one.
    previous = csv.field_size_limit(1 << 30)
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1
    finally:
        csv.field_size_limit(previous)


def test_every_outcome_is_covered() -> None:
    outcomes = {c.outcome for c in CASES}
    assert outcomes == {"error", "quarantine", "defect", "accepted"}
    assert len(CASES) >= 57


def test_readme_table_matches_the_corpus() -> None:
    from tests.bad_inputs.render import README, rendered_readme

    readme = README.read_text(encoding="utf-8")
    assert rendered_readme(readme) == readme, "run: python -m tests.bad_inputs.render"


def test_a_night_with_warnings_says_so_and_publishes(combined_runs) -> None:
    """The canonical run's defects include an unknown owner and account, whose warn-level dbt
    relationship tests fail: exit 3, each warning named, and the published file is this run's
    (what the message says is what the file holds)."""
    run = combined_runs("canonical")
    assert run.exit_code == 3, run.output
    warnings = [line for line in run.output.splitlines() if line.startswith("  warning: ")]
    assert warnings and f"Published with {len(warnings)} warning(s)" in run.output
    assert any("relationships" in line for line in warnings), warnings
    assert "did not publish" not in run.output
    with duckdb.connect(str(run.published_db), read_only=True) as con:
        run_id = con.execute("select run_id from _publication").fetchone()[0]
    assert f"now holds this run's marts (run {run_id}" in run.output
