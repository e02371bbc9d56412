"""The Dagster code location loads, and the UI's GraphQL API serves its assets."""

from __future__ import annotations

import os

import pytest
from dagster import AssetKey

from tests.support.webserver import running_webserver


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs as definitions

    return definitions


def test_job_schedule_and_sensor_are_defined(defs):
    job = defs.resolve_job_def("daily_refresh")
    assert job.name == "daily_refresh"
    schedule = defs.resolve_schedule_def("daily_refresh_0600")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Europe/Amsterdam"
    assert schedule.job_name == "daily_refresh"
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.job_name == "daily_refresh"


def test_assets_cover_every_stage(defs):
    keys = set(defs.resolve_asset_graph().get_all_asset_keys())
    for key in (
        ["raw", "ijw_invoice_lines"],
        ["raw", "reference_products"],
        ["raw", "accountability"],
        ["raw", "pgb"],
        ["raw", "local_team_registrations"],
        ["raw", "waiting_times"],
        ["marts", "mart_local_team"],
        ["marts", "mart_waiting_times"],
        ["marts", "fct_invoice_lines"],
        ["marts", "mart_costs_monthly"],
        ["marts", "mart_kpi_annual"],
        ["marts", "mart_invoice_timeliness"],
        ["marts", "mart_invoicing_completeness"],
        ["published", "municipality_outputs"],
    ):
        assert AssetKey(key) in keys, key


def test_dbt_tests_and_quality_checks_are_asset_checks(defs):
    graph = defs.resolve_asset_graph()
    check_keys = list(graph.asset_check_keys)
    on_fct = [k for k in check_keys if k.asset_key == AssetKey(["marts", "fct_invoice_lines"])]
    assert on_fct, "dbt tests on fct_invoice_lines should be asset checks"
    assert any(k.asset_key.path[0] == "raw" for k in check_keys), "GX suites on raw tables"
    assert len(check_keys) >= 10


def test_every_asset_that_opens_the_warehouse_is_in_the_single_writer_pool(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        assets_def = node.assets_def
        pools = (
            {op.pool for op in assets_def.node_def.iterate_op_defs()}
            if hasattr(assets_def.node_def, "iterate_op_defs")
            else {assets_def.op.pool}
        )
        assert pools == {"warehouse"}, (key, pools)


def test_the_dbt_resource_builds_no_dbt_adapter_in_the_runs_process(defs):
    """The dbt assets count rows and read column schemas themselves, after dbt has ended: the
    adapter dagster-dbt would build in the run's process before each command (profile, project,
    every macro parsed) would go unused (orchestration/resources.py)."""
    from dagster_dbt import DbtCliResource

    dbt = defs.resources["dbt"]
    assert isinstance(dbt, DbtCliResource)
    assert dbt._initialize_dbt_core_adapter(["build", "--vars", "{}"]) is None


@pytest.mark.slow
def test_webserver_serves_the_assets_over_graphql(tmp_path):
    env = dict(
        os.environ,
        JEUGDHULP_DATA_DIR=str(tmp_path / "data"),
        JEUGDHULP_PSEUDONYM_KEY="test-key",
    )
    with running_webserver(tmp_path / "dagster_home", env) as server:
        nodes = server.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
        paths = {"/".join(node["assetKey"]["path"]) for node in nodes}
        assert "marts/mart_costs_monthly" in paths
        assert "raw/ijw_invoice_lines" in paths
        assert "published/municipality_outputs" in paths
        jobs = server.graphql(
            "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
            "jobs { name } schedules { name } sensors { name } } } } }"
        )
        repo = jobs["repositoriesOrError"]["nodes"][0]
        assert "daily_refresh" in {j["name"] for j in repo["jobs"]}
        assert "daily_refresh_0600" in {s["name"] for s in repo["schedules"]}
        assert "landing_sensor" in {s["name"] for s in repo["sensors"]}
