"""A sensor on landing/: requests a refresh when new files appear (lists them, never parses)."""

from __future__ import annotations

import hashlib

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from jeugdhulp.ingest import pending_files
from jeugdhulp.sources import SOURCES
from orchestration.automation import default_sensor_status
from orchestration.jobs import daily_refresh
from orchestration.resources import JeugdhulpSettings


@sensor(
    job=daily_refresh,
    minimum_interval_seconds=60,
    default_status=default_sensor_status(),
    description="Starts daily_refresh when files are waiting in landing/. Runs from load on "
    "(JEUGDHULP_AUTOMATION=off loads it stopped). The run reports as of its own start date.",
)
def landing_sensor(context: SensorEvaluationContext, settings: JeugdhulpSettings):
    resolved = settings.get()
    listing = []
    for source in SOURCES:
        for path in pending_files(resolved, source):
            try:
                stat = path.stat()
            except FileNotFoundError:  # ingested while we were listing
                continue
            listing.append(f"{path}|{stat.st_size}|{stat.st_mtime_ns}")
    if not listing:
        return SkipReason(f"no files waiting in {resolved.landing_dir}")
    # The same waiting set never triggers twice; a new or changed file does.
    run_key = hashlib.sha256("\n".join(sorted(listing)).encode()).hexdigest()[:32]
    return RunRequest(
        run_key=run_key,
        tags={"jeugdhulp/trigger": "landing", "jeugdhulp/files_waiting": str(len(listing))},
    )
