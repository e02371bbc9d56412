"""Month arithmetic on plain dates: month indexes, first and last days, day clamping."""

from __future__ import annotations

from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def month_index(day: date) -> int:
    """Months since year 0: consecutive integers for consecutive calendar months."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_end(index: int) -> date:
    return month_start(index + 1) - ONE_DAY


def days_in_month(index: int) -> int:
    return (month_start(index + 1) - month_start(index)).days


def day_in_month(index: int, day: int) -> date:
    """The given day of the month, clamped to the month's length (31 February -> 28/29)."""
    return month_start(index).replace(day=max(1, min(day, days_in_month(index))))


def month_label(index: int) -> str:
    """YYYY-MM."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the target month's length."""
    return day_in_month(month_index(day) + months, day.day)


def overlap_days(start: date, end: date, other_start: date, other_end: date) -> int:
    """Number of days both closed intervals share (0 when they do not meet)."""
    first = max(start, other_start)
    last = min(end, other_end)
    return (last - first).days + 1 if last >= first else 0
