"""Jobs: `daily_refresh` materialises the whole asset graph, checks included; `freshness_watch`
runs only the freshness checks (orchestration/assets/freshness.py)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from orchestration.assets.freshness import freshness_checks

daily_refresh = define_asset_job(
    name="daily_refresh",
    selection=AssetSelection.all(),
    description="Ingest new landing files, build all dbt models and tests, run the quality "
    "checks, publish to the municipalities. The reporting date is the `settings` resource's "
    "as_of (launchpad: resources.settings.config.as_of), else the run's creation date.",
)

freshness_watch = define_asset_job(
    name="freshness_watch",
    selection=AssetSelection.checks(*freshness_checks),
    description="Only the freshness checks: landing zone, providers with care that stopped "
    "invoicing, age of the marts. Reads; materialises nothing.",
)
