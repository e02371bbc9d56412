"""The Dagster code location: every asset, check, job, schedule and sensor of the pipeline."""

from __future__ import annotations

from dagster import Definitions, colored_console_logger

import jeugdhulp.settings  # noqa: F401  (switches telemetry off before the tools load)
from orchestration.assets.dbt import dbt_models
from orchestration.assets.freshness import freshness_checks
from orchestration.assets.ingest import file_registry, ingest_assets
from orchestration.assets.publish import published_outputs
from orchestration.assets.quality import build_quality_checks
from orchestration.jobs import daily_refresh, freshness_watch
from orchestration.loggers import progress_logger
from orchestration.resources import SETTINGS_RESOURCE_KEY, JeugdhulpSettings, dbt_resource
from orchestration.schedules import daily_schedule, freshness_schedule
from orchestration.sensors import landing_sensor

defs = Definitions(
    assets=[*ingest_assets, file_registry, dbt_models, published_outputs],
    asset_checks=[*build_quality_checks(), *freshness_checks],
    jobs=[daily_refresh, freshness_watch],
    schedules=[daily_schedule, freshness_schedule],
    sensors=[landing_sensor],
    resources={"dbt": dbt_resource(), SETTINGS_RESOURCE_KEY: JeugdhulpSettings()},
    # the UI keeps the usual console log; `jeugdhulp run` selects the compact progress logger
    loggers={"console": colored_console_logger, "progress_logger": progress_logger},
)
