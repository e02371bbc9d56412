"""Publishing asset: per-municipality files, reports and (optionally) PostgreSQL, after the checks."""

import dataclasses

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.assets.dbt import dbt_models
from orchestration.resources import WAREHOUSE_POOL, JeugdhulpSettings

# Publishing waits for every mart the municipalities receive; the operations marts (freshness
# figures for the data engineer, orchestration/assets/freshness.py) are not published.
MART_KEYS = sorted(
    (
        key
        for key in dbt_models.keys
        if (key.path[0] == "marts" and dbt_models.group_names_by_key.get(key) != "operations")
        or key.path[0] == "publication"  # the rpt_* publication models (both tiers)
    ),
    key=lambda k: k.path,
)


@asset(
    key=AssetKey(["published", "municipality_outputs"]),
    deps=MART_KEYS,
    group_name="published",
    pool=WAREHOUSE_POOL,
    kinds={"parquet", "csv", "html"},
    description="Two tiers, per municipality and for the region: published/intern/ (the "
    "warehouse's figures to the cent) and published/openbaar/ (publication tables with primary and "
    "complementary suppression), as Parquet, Dutch CSV and an HTML report; also PostgreSQL when "
    "configured.",
)
def published_outputs(
    context: AssetExecutionContext, settings: JeugdhulpSettings
) -> MaterializeResult:
    from jeugdhulp.publish import publish

    settings = settings.get()
    report = publish(settings)
    metadata = {}
    for field in dataclasses.fields(report):
        value = getattr(report, field.name)
        if isinstance(value, (int, float, str, bool)):
            metadata[field.name] = value
        elif isinstance(value, dict):
            metadata[field.name] = MetadataValue.json({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, (list, tuple)):
            metadata[field.name] = len(value)
    metadata["published_dir"] = MetadataValue.path(str(settings.published_dir))
    metadata["intern_dir"] = MetadataValue.path(str(settings.published_dir / "intern"))
    metadata["openbaar_dir"] = MetadataValue.path(str(settings.published_dir / "openbaar"))
    context.log.info(f"published to {settings.published_dir}")
    return MaterializeResult(metadata=metadata)
