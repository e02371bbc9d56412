"""The daily schedule: the whole refresh at 06:00 Amsterdam time, after the night's deliveries."""

from __future__ import annotations

from dagster import ScheduleDefinition

from orchestration.jobs import daily_refresh

daily_schedule = ScheduleDefinition(
    name="daily_refresh_0600",
    job=daily_refresh,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Amsterdam",
    description="Ingest what arrived, rebuild the marts, check quality, publish.",
)
