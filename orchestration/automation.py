"""Whether schedules and sensors start RUNNING when the code location loads.

On by default: a fresh `jeugdhulp ui` (or a deployed code location) refreshes at 06:00 and when
files land without anyone switching anything on. JEUGDHULP_AUTOMATION=off (also 0, false, no,
stopped) loads them STOPPED, e.g. on a laptop with production-sized data. A status switched in the
UI is kept by the instance and wins over this default.
"""

from __future__ import annotations

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from jeugdhulp.settings import automation_enabled


def default_schedule_status() -> DefaultScheduleStatus:
    return DefaultScheduleStatus.RUNNING if automation_enabled() else DefaultScheduleStatus.STOPPED


def default_sensor_status() -> DefaultSensorStatus:
    return DefaultSensorStatus.RUNNING if automation_enabled() else DefaultSensorStatus.STOPPED
