"""Schedules: the whole refresh at 06:00 Amsterdam time, after the night's deliveries; the
freshness checks every few hours, so a silent landing zone is noticed even when nothing runs.

Both start RUNNING when the code location loads (JEUGDHULP_AUTOMATION=off: stopped,
orchestration/automation.py). The daily run reports as of its scheduled date, passed as run
config of the `settings` resource, so a run that starts late (or a backfill) keeps its date.
"""

from __future__ import annotations

from dagster import RunRequest, ScheduleEvaluationContext, schedule

from orchestration.automation import default_schedule_status
from orchestration.jobs import daily_refresh, freshness_watch
from orchestration.resources import REGION_TZ, SETTINGS_RESOURCE_KEY


def scheduled_run_config(scheduled_date: str) -> dict:
    return {"resources": {SETTINGS_RESOURCE_KEY: {"config": {"as_of": scheduled_date}}}}


@schedule(
    name="daily_refresh_0600",
    job=daily_refresh,
    cron_schedule="0 6 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=default_schedule_status(),
    description="Ingest what arrived, rebuild the marts as of the scheduled date, check quality, "
    "publish.",
)
def daily_schedule(context: ScheduleEvaluationContext):
    scheduled = context.scheduled_execution_time.astimezone(REGION_TZ).date().isoformat()
    return RunRequest(
        run_key=f"daily_refresh_{scheduled}",
        run_config=scheduled_run_config(scheduled),
        tags={"jeugdhulp/trigger": "schedule", "jeugdhulp/as_of": scheduled},
    )


@schedule(
    name="freshness_every_4h",
    job=freshness_watch,
    cron_schedule="15 */4 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=default_schedule_status(),
    description="Runs only the freshness checks (landing zone, providers, marts): cheap reads, "
    "no materialisation.",
)
def freshness_schedule(context: ScheduleEvaluationContext):
    return RunRequest(tags={"jeugdhulp/trigger": "freshness"})
