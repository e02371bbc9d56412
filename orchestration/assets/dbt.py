"""The dbt project as Dagster assets: models keyed by schema and name, dbt tests as asset checks."""

import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from jeugdhulp.settings import load_settings
from orchestration.resources import (
    WAREHOUSE_POOL,
    dbt_environment,
    dbt_project,
    ensure_dbt_manifest,
)


class JeugdhulpTranslator(DagsterDbtTranslator):
    """Keys are [schema, name] (raw sources: ["raw", table]), so they match the warehouse."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props["identifier"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = JeugdhulpTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=ensure_dbt_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
    name="dbt_models",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: seeds, models and their tests in dependency order."""
    settings = load_settings()
    # DbtCliResource runs dbt with this process's environment.
    os.environ.update(
        {k: v for k, v in dbt_environment(settings).items() if k.startswith(("JEUGDHULP_", "DBT_"))}
    )
    target_path = settings.data_dir / "dbt_target"
    # A per-data-dir target keeps concurrent pipelines (tests, UI runs) from sharing run state.
    # Unit tests pin the SQL on fixed inputs, not on today's data: the test suite runs them.
    yield from dbt.cli(
        ["build", "--exclude-resource-type", "unit_test"], context=context, target_path=target_path
    ).stream()
