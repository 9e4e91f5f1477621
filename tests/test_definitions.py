"""The Dagster definitions load, and the graph is unbroken from landing file to publication."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.canonical_schema import ENTITIES


def test_definitions_load_without_error():
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    assert repository.get_job("sales_kpi_pipeline")


def test_lineage_from_raw_tables_to_published_marts():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for entity in ENTITIES:
        assert f"raw/{entity}" in keys
    for mart in ("kpi_funnel_conversion", "kpi_cac", "kpi_retention", "kpi_sales_cycle"):
        assert f"marts/{mart}" in keys
    published = dg.AssetKey(["published", "marts_duckdb"])
    upstream = graph.upstream_key_iterator(published)
    assert dg.AssetKey(["marts", "kpi_cac"]) in set(upstream)
    # Walk up from the published file: every canonical raw table is an ancestor.
    ancestors, frontier = set(), [published]
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    for entity in ("leads", "opportunities", "opportunity_stage_history", "subscriptions", "spend"):
        assert dg.AssetKey(["raw", entity]) in ancestors
    assert dg.AssetKey(["raw", "jp_public_holidays"]) in ancestors


def test_quality_checks_are_blocking_and_cover_every_mart():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    check_keys = graph.asset_check_keys
    gx = {key for key in check_keys if key.name.startswith("gx_")}
    covered = {key.asset_key.to_user_string() for key in gx}
    for mart in (
        "kpi_funnel_conversion",
        "kpi_cac",
        "kpi_retention",
        "kpi_sales_cycle",
        "kpi_sales_cycle_deals",
    ):
        assert f"marts/{mart}" in covered
    assert "raw/opportunities" in covered
    for key in gx:
        assert graph.get_check_spec(key).blocking, key


def test_schedule_and_sensor():
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_sales_kpi")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Tokyo"
    assert defs.resolve_sensor_def("landing_files_sensor")


def test_sensor_requests_a_run_only_for_new_or_changed_files(tmp_path, monkeypatch):
    from orchestration.sensors import landing_files_sensor

    monkeypatch.setenv("SALES_KPI_LANDING_DIR", str(tmp_path))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(landing_files_sensor(context), dg.SkipReason)
        (tmp_path / "leads.csv").write_text("lead_id\n")
        first = landing_files_sensor(context)
        assert isinstance(first, dg.RunRequest)
        context = dg.build_sensor_context(instance=instance, cursor=context.cursor)
        assert isinstance(landing_files_sensor(context), dg.SkipReason)
        (tmp_path / "leads.csv").write_text("lead_id\nL1\n")
        second = landing_files_sensor(context)
        assert isinstance(second, dg.RunRequest)
        assert second.run_key != first.run_key


def test_canonical_format_docs_are_generated_from_the_schema():
    from orchestration.lib.canonical_schema import render_markdown
    from orchestration.lib.settings import REPO_ROOT

    docs = (REPO_ROOT / "docs" / "canonical_format.md").read_text(encoding="utf-8")
    assert docs == render_markdown() + "\n", "run `python -m orchestration.cli docs`"
