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


def test_groups_follow_the_path_of_the_data():
    """Collapsed, the graph reads landing -> raw -> staging -> intermediate -> core -> marts ->
    published: no asset reads one in a later group, so no group is drawn after a later one."""
    from orchestration.definitions import defs
    from orchestration.lib.asset_groups import GROUP_ORDER

    graph = defs.resolve_asset_graph()
    rank = {name: i for i, name in enumerate(GROUP_ORDER)}
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert set(groups.values()) == set(GROUP_ORDER)
    backwards = [
        f"{parent.to_user_string()} ({groups[parent]}) -> {key.to_user_string()} ({group})"
        for key, group in groups.items()
        for parent in graph.get(key).parent_keys
        if rank[groups[parent]] > rank[group]
    ]
    assert backwards == []
    # An intermediate model that reads a core fact is drawn with core; marts hold kpi_* only.
    assert groups[dg.AssetKey(["intermediate", "int_new_customers"])] == "core"
    assert groups[dg.AssetKey(["core", "fct_opportunities"])] == "core"
    assert groups[dg.AssetKey(["marts", "kpi_cac"])] == "marts"
    assert groups[dg.AssetKey(["intermediate", "int_opportunity_funnel_steps"])] == "intermediate"
    assert groups[dg.AssetKey(["staging", "stg_canonical__leads"])] == "staging"
    assert groups[dg.AssetKey(["published", "marts_duckdb"])] == "published"
    # The snapshot sits with the models it reads and feeds, not alone in a group of its own.
    snapshot = dg.AssetKey(["snapshots", "snap_opportunities"])
    neighbours = {
        groups[k] for k in graph.get(snapshot).parent_keys | graph.get(snapshot).child_keys
    }
    assert neighbours == {groups[snapshot]} == {"intermediate"}


def test_landing_files_are_source_assets_feeding_the_raw_load():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    landing = {k for k in graph.get_all_asset_keys() if k.path[0] == "landing"}
    assert landing == {dg.AssetKey(["landing", e]) for e in ENTITIES} | {
        dg.AssetKey(["landing", "sources"])
    }
    for key in landing:
        node = graph.get(key)
        assert not node.is_materializable and node.is_external, key
        assert node.group_name == "landing"
        assert not node.parent_keys
    for entity in ENTITIES:
        assert (
            dg.AssetKey(["landing", entity]) in graph.get(dg.AssetKey(["raw", entity])).parent_keys
        )
    for key in (["converted", "sources"], ["raw_salesforce", "opportunity"]):
        assert dg.AssetKey(["landing", "sources"]) in graph.get(dg.AssetKey(key)).parent_keys
    # The job runs what can be run: the landing files are not steps of it.
    job = defs.resolve_job_def("sales_kpi_pipeline")
    assert not landing & set(job.asset_layer.executable_asset_keys)


def test_path_rule_on_a_hand_made_manifest():
    """dbt_groups: folder group, raised to the latest group read; snapshot with what it reads."""
    from orchestration.lib.asset_groups import dbt_groups

    def model(path, *parents, kind="model"):
        fqn = ["sales_kpi", *path.split("/")]
        return {"resource_type": kind, "fqn": fqn, "depends_on": {"nodes": list(parents)}}

    manifest = {
        "sources": {"source.raw.leads": {}},
        "nodes": {
            "seed.map": model("map", kind="seed"),
            "model.stg": model("staging/canonical/stg", "source.raw.leads"),
            "model.int_a": model("intermediate/funnel/int_a", "model.stg", "seed.map"),
            "model.fct": model("marts/core/fct", "model.int_a"),
            "model.int_b": model("intermediate/funnel/int_b", "model.fct"),
            "model.int_c": model("intermediate/funnel/int_c", "model.int_b"),
            "model.kpi": model("marts/kpi/kpi", "model.int_c"),
            "snapshot.snap": model("snap", "model.int_a", kind="snapshot"),
            "model.int_d": model("intermediate/funnel/int_d", "snapshot.snap"),
            "test.not_null": model("not_null", "model.kpi", kind="test"),
        },
    }
    assert dbt_groups(manifest) == {
        "seed.map": "raw",
        "model.stg": "staging",
        "model.int_a": "intermediate",
        "model.fct": "core",
        "model.int_b": "core",
        "model.int_c": "core",
        "model.kpi": "marts",
        "snapshot.snap": "intermediate",
        "model.int_d": "intermediate",
    }


def test_loading_the_definitions_does_not_import_great_expectations():
    # The UI's code server, sensor and schedule ticks and skipped runs load the definitions
    # only: Great Expectations (~3.5 CPU-s to import) comes when a quality check runs.
    import subprocess
    import sys

    code = (
        "import sys, orchestration.definitions as d; d.defs; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'great_expectations')[:3])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_dbt_test_results_lost_from_the_stream_come_from_run_results() -> None:
    # On Spark the session's JVM writes into dbt's stdout and can break the line of a test's
    # result: a blocking check without a result would let the publication go ungated.
    from dagster_dbt.asset_utils import get_asset_check_key_for_test

    from orchestration.assets.transform import _manifest, lost_check_results, translator

    manifest = _manifest()
    tests = sorted(uid for uid in manifest["nodes"] if uid.startswith("test.sales_kpi.not_null"))
    lost, streamed, failed, warned = tests[:4]
    keys = {
        uid: get_asset_check_key_for_test(manifest, translator, uid, project=None)
        for uid in (lost, streamed, failed, warned)
    }
    run_results = {
        "results": [
            {"unique_id": lost, "status": "pass", "failures": 0},
            {"unique_id": streamed, "status": "fail", "failures": 3},
            {"unique_id": failed, "status": "fail", "failures": 2, "message": "Got 2 results"},
            {"unique_id": warned, "status": "warn", "failures": 1},
            {"unique_id": "model.sales_kpi.fct_leads", "status": "success"},
        ]
    }
    results = lost_check_results(run_results, manifest, keys.values(), reported={keys[streamed]})
    got = {(r.asset_key, r.check_name): (r.passed, r.severity) for r in results}
    assert got == {
        (keys[lost].asset_key, keys[lost].name): (True, dg.AssetCheckSeverity.ERROR),
        (keys[failed].asset_key, keys[failed].name): (False, dg.AssetCheckSeverity.ERROR),
        (keys[warned].asset_key, keys[warned].name): (False, dg.AssetCheckSeverity.WARN),
    }
    # Nothing for a check that was not selected, or when the stream reported everything.
    assert lost_check_results(run_results, manifest, [keys[lost]], {keys[lost]}) == []
    assert lost_check_results(run_results, manifest, [], set()) == []
