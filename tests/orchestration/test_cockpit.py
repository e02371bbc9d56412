"""Dagster as the data engineer's cockpit (issue 19), through a running dagster-webserver.

One tiny region, one `daily_refresh` launched over GraphQL with a reporting date in the run config
(not today, and no JEUGDHULP_AS_OF in the server's environment); the tests then read the result
through the same API and the warehouse: the marts are computed as of that date, the schedules and
the sensor are RUNNING after load, every check has a description, every dbt model a row count and
a column schema, and the warehouse carries the YAML descriptions as table and column comments.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from tests.support.pipeline import REPO, TINY_SEED, pipeline_env, run_cli
from tests.support.webserver import running_webserver

pytestmark = pytest.mark.slow

REPORT_DATE = "2026-08-15"  # the run's reporting date: before the data's own date and today
MANIFEST = REPO / "dbt_project" / "target" / "manifest.json"

ASSET_CHECKS = """
{ assetNodes { assetKey { path } opNames
    assetChecksOrError { __typename ... on AssetChecks { checks { name description } } } } }
"""

LATEST_MATERIALIZATIONS = """
{ assetNodes { assetKey { path } opNames
    assetMaterializations(limit: 1) { runId
      metadataEntries { label __typename
        ... on IntMetadataEntry { intValue }
        ... on TableSchemaMetadataEntry { schema { columns { name type description } } } } } } }
"""

AUTOMATION = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name scheduleState { status } }
    sensors { name sensorState { status } } } } } }
"""


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cockpit")
    env = pipeline_env(data_dir, REPORT_DATE)
    generated = run_cli(
        [
            "generate",
            "--out",
            str(data_dir),
            "--profile",
            "tiny",
            "--seed",
            str(TINY_SEED),
            "--as-of",
            REPORT_DATE,
        ],
        env,
    )
    assert generated.returncode == 0, generated.stderr
    # The server knows where the data is, not which date to report on: that comes with the run.
    for name in ("JEUGDHULP_AS_OF", "JEUGDHULP_AUTOMATION", "DAGSTER_HOME"):
        env.pop(name, None)
    with running_webserver(data_dir / ".dagster", env) as server:
        run_id = server.launch(
            "daily_refresh",
            {
                "resources": {"settings": {"config": {"as_of": REPORT_DATE}}},
                # one process for the whole run keeps the test lean; the steps are the same
                "execution": {"config": {"in_process": {}}},
            },
            tags={"jeugdhulp/trigger": "test"},
        )
        status = server.wait_for_run(run_id)
        yield server, data_dir, run_id, status


def _warehouse(data_dir):
    return duckdb.connect(str(data_dir / "warehouse" / "warehouse.duckdb"), read_only=True)


def test_run_launched_over_graphql_reports_as_of_its_run_config_date(cockpit):
    server, data_dir, run_id, status = cockpit
    log = (data_dir / ".dagster" / "webserver.log").read_text(errors="replace")[-3000:]
    assert status == "SUCCESS", log
    assert date.fromisoformat(REPORT_DATE) != date.today()
    with _warehouse(data_dir) as con:
        recorded = con.execute(
            "select distinct as_of from marts.mart_provider_deliveries"
        ).fetchall()
        observed = con.execute(
            "select distinct months_observed from marts.mart_kpi_annual where year = 2026"
        ).fetchall()
    assert recorded == [(date.fromisoformat(REPORT_DATE),)]
    # months of 2026 whose invoice deadline (the end of the next month) has passed by 15 August:
    # January-June, 6 (as of today it would be another number)
    assert observed == [(6,)]


def test_schedules_and_sensor_are_running_after_load(cockpit):
    server = cockpit[0]
    repo = server.graphql(AUTOMATION)["repositoriesOrError"]["nodes"][0]
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]}
    sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
    assert schedules["daily_refresh_0600"] == "RUNNING", schedules
    assert schedules["freshness_every_4h"] == "RUNNING", schedules
    assert sensors == {"landing_sensor": "RUNNING"}


def test_every_asset_check_has_a_description(cockpit):
    server = cockpit[0]
    nodes = server.graphql(ASSET_CHECKS)["assetNodes"]
    checks = [
        ("/".join(node["assetKey"]["path"]), check)
        for node in nodes
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for check in node["assetChecksOrError"]["checks"]
    ]
    assert len(checks) > 200
    missing = [f"{key}:{check['name']}" for key, check in checks if not check["description"]]
    assert not missing, missing
    by_name = {f"{key}:{check['name']}": check["description"] for key, check in checks}
    generated = by_name["marts/mart_costs_monthly:not_null_mart_costs_monthly_municipality_code"]
    assert "mart_costs_monthly.municipality_code" in generated and "blocks publishing" in generated
    assert "raw/file_registry:landing_received_recently" in by_name
    assert "marts/mart_provider_deliveries:providers_delivering" in by_name


def test_every_dbt_model_has_a_row_count_and_column_schema_after_the_run(cockpit):
    server, _, run_id, _ = cockpit
    manifest = json.loads(MANIFEST.read_text())
    models = {
        f"{node['schema']}/{node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        # an ephemeral model is a CTE inside others: nothing of its own to count
        and node["config"]["materialized"] != "ephemeral"
    }
    nodes = {
        "/".join(node["assetKey"]["path"]): node
        for node in server.graphql(LATEST_MATERIALIZATIONS)["assetNodes"]
    }
    assert models <= set(nodes)
    without = []
    for key in sorted(models):
        materializations = nodes[key]["assetMaterializations"]
        assert materializations and materializations[0]["runId"] == run_id, key
        entries = {e["label"]: e for e in materializations[0]["metadataEntries"]}
        row_count = entries.get("dagster/row_count", {}).get("intValue")
        columns = entries.get("dagster/column_schema", {}).get("schema", {}).get("columns")
        if row_count is None or not columns:
            without.append(key)
    assert not without, without


def test_warehouse_carries_the_yaml_descriptions_as_comments(cockpit):
    data_dir = cockpit[1]
    manifest = json.loads(MANIFEST.read_text())
    marts = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    with _warehouse(data_dir) as con:
        tables = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        )
        columns = {
            (t, c): comment
            for t, c, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns() "
                "where schema_name = 'marts'"
            ).fetchall()
        }
    assert set(marts) <= set(tables)
    for name, node in marts.items():
        assert node["description"].strip(), f"{name} has no YAML description"
        assert (tables[name] or "").strip() == node["description"].strip(), name
        built = {c for t, c in columns if t == name}
        assert built == set(node["columns"]), name
        for column, props in node["columns"].items():
            assert props["description"].strip(), f"{name}.{column} has no YAML description"
            assert (columns[(name, column)] or "").strip() == props["description"].strip(), (
                f"{name}.{column}"
            )


def test_screenshots_of_the_ui(cockpit, tmp_path):
    """Skips without Chromium (`orchestration/screenshots.py` says how to take them by hand)."""
    from orchestration.screenshots import PAGES, find_chromium, take_screenshots

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine")
    server = cockpit[0]
    written = take_screenshots(f"http://127.0.0.1:{server.port}", tmp_path, chromium=chromium)
    assert [p.name for p in written] == list(PAGES)
    for path in written:
        assert path.stat().st_size > 10_000, path  # a rendered page, not an empty canvas
