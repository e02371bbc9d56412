"""Jobs: `daily_refresh` materialises the whole asset graph, checks included."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

daily_refresh = define_asset_job(
    name="daily_refresh",
    selection=AssetSelection.all(),
    description="Ingest new landing files, build all dbt models and tests, run the quality "
    "checks, publish to the municipalities.",
)
