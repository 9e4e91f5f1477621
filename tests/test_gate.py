"""The quality gate: a corrupted input or mart fails it, and nothing is published.

Each scenario first publishes the good tiny fixture, then runs again on a corrupted copy and
checks that the run did not publish and that the earlier published file is intact.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.quality import load_suites, validate
from orchestration.lib.settings import EXPECTATIONS_DIR
from orchestration.pipeline import run_pipeline, settings_for
from tests.conftest import TINY, TINY_AS_OF

LAYERS = {"raw": "raw", "core": "core", "marts": "marts"}


@pytest.fixture(scope="module")
def published_once(tiny_run, tmp_path_factory):
    """A base folder whose published file holds the good tiny marts: a copy of the session's
    run of the tiny fixture (its landing folder and warehouse: working database, published
    file, quality results), as if that run had been made here."""
    tiny_settings, outcome = tiny_run
    assert outcome.success, outcome
    base = tmp_path_factory.mktemp("gate")
    shutil.copytree(tiny_settings.landing_dir, base / "landing")
    shutil.copytree(tiny_settings.working_db.parent, base / "warehouse")
    settings = settings_for(base, base / "landing", TINY_AS_OF)
    assert settings.working_db.parent == base / "warehouse"
    shutil.copy(settings.working_db, base / "good_working.duckdb")
    return base, settings, outcome.run_id


def _published_run_id(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from kpi_cac").fetchone()[0] > 0
        return con.execute("select run_id from _publication").fetchone()[0]


def _corrupt(base: Path, name: str, file: str, old: str, new: str) -> Path:
    landing = base / name
    shutil.copytree(TINY, landing)
    path = landing / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return landing


def _rerun(base: Path, landing: Path, dbt_vars: dict | None = None):
    good = settings_for(base, base / "landing", TINY_AS_OF)
    settings = settings_for(base, landing, TINY_AS_OF, dbt_vars)
    assert settings.published_db == good.published_db
    return run_pipeline(settings)


def test_negative_amounts_over_their_threshold_block_publication(published_once):
    base, settings, good_run = published_once
    landing = _corrupt(
        base, "landing_negative", "opportunities.csv", ",1200000,JPY,", ",-1200000,JPY,"
    )
    outcome = _rerun(base, landing)
    assert not outcome.published
    # One deal of four (25 %) is far over rule negative_amount's 5 %.
    assert "assert_data_quality_within_thresholds" in " ".join(outcome.failed_checks)
    assert _published_run_id(settings.published_db) == good_run


def test_unmapped_stage_fails_the_dbt_tests(published_once):
    base, settings, good_run = published_once
    landing = _corrupt(
        base, "landing_stage", "opportunities.csv", ",proposal,6000000,", ",提案中,6000000,"
    )
    outcome = _rerun(base, landing)
    assert not outcome.published
    assert outcome.failed_steps or outcome.failed_checks
    assert _published_run_id(settings.published_db) == good_run


def test_out_of_range_mart_value_fails_the_marts_gate(published_once):
    base, settings, good_run = published_once
    # A gross margin of 150 % makes kpi_cac.gross_margin leave [0, 1]: only the GX suite on the
    # mart catches it (dbt builds it fine).
    outcome = _rerun(base, base / "landing", {"gross_margin": 1.5})
    assert not outcome.published
    assert outcome.failed_checks == ["marts/kpi_cac:gx_kpi_cac"]
    assert _published_run_id(settings.published_db) == good_run
    # Data Docs and the validation results were written for the failed run.
    assert (settings.quality_dir / "data_docs" / "index.html").exists()


def test_gate_really_evaluates_mart_rows(published_once, tmp_path):
    base, _, _ = published_once
    corrupted = tmp_path / "working.duckdb"
    shutil.copy(base / "good_working.duckdb", corrupted)
    suites = load_suites(EXPECTATIONS_DIR, layer="marts")
    report = validate(corrupted, suites, LAYERS, tmp_path / "quality_ok")
    assert report.success, report.summary_text()
    with duckdb.connect(str(corrupted)) as con:
        con.execute(
            "update marts.kpi_funnel_conversion set conversion_rate = 1.5 "
            "where analysis_basis = 'cohort' and conversion_step = 'lead_to_opportunity'"
        )
        con.execute(
            "update marts.kpi_retention set active_customers = cohort_customers + 1 "
            "where periods_since_acquisition = 1"
        )
    report = validate(corrupted, suites, LAYERS, tmp_path / "quality_bad")
    assert not report.success
    failed = {s.table: s.failures for s in report.failed_suites}
    assert set(failed) == {"kpi_funnel_conversion", "kpi_retention"}
    assert any("conversion_rate" in message for message in failed["kpi_funnel_conversion"])
    assert any("active_customers" in message for message in failed["kpi_retention"])
