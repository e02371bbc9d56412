"""Dutch formatting of numbers, amounts, percentages and dates for reports and CSV files."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

MINUS = "\u2212"  # typographic minus for the report; CSV files keep the ASCII hyphen for Excel
NOT_SHOWN = "\u2013"  # en dash: suppressed or not available

MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
MONTHS_LONG = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def number(value: float | Decimal | int | None, decimals: int = 0) -> str:
    """1234567.891 → '1.234.567,89' (decimals=2); None → en dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NOT_SHOWN
    rounded = round(Decimal(str(value)), decimals)
    if rounded == 0:
        rounded = abs(rounded)  # no "−0"
    text = (
        f"{abs(rounded):,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    )
    return (MINUS if rounded < 0 else "") + text


def euro(value: float | Decimal | int | None, decimals: int = 0) -> str:
    """€ 1.234 (decimals=0) or € 1.234,56; negative amounts as −€ 1.234."""
    if value is None:
        return NOT_SHOWN
    text = number(value, decimals)
    if text.startswith(MINUS):
        return f"{MINUS}€\u00a0{text[1:]}"
    return f"€\u00a0{text}"


def euro_compact(value: float) -> str:
    """Axis labels: € 2,5 mln, € 750.000, € 0."""
    if abs(value) >= 1_000_000:
        return f"€\u00a0{number(value / 1_000_000, 1 if value % 1_000_000 else 0)}\u00a0mln"
    return euro(value)


def percent(value: float | Decimal | None, decimals: int = 1) -> str:
    """12.345 → '12,3%' (the value is already a percentage)."""
    if value is None:
        return NOT_SHOWN
    return f"{number(value, decimals)}%"


def change_percent(new: float | Decimal | None, old: float | Decimal | None) -> str:
    """Year-on-year change as '+2,4' / '−3,5' (percent, one decimal); en dash when unknown."""
    if new is None or old is None or old == 0:
        return NOT_SHOWN
    change = (Decimal(str(new)) - Decimal(str(old))) / Decimal(str(old)) * 100
    text = number(change, 1)
    return text if text.startswith(MINUS) or text == "0,0" else "+" + text


def signed_percent(change: float | Decimal | None) -> str:
    """A change already in percent as change_percent writes it: '+2,4' / '−3,5' / en dash."""
    if change is None:
        return NOT_SHOWN
    text = number(change, 1)
    return text if text.startswith(MINUS) or text == "0,0" else "+" + text


def long_date(day: date) -> str:
    """date(2025, 10, 15) → '15 oktober 2025'."""
    return f"{day.day} {MONTHS_LONG[day.month - 1]} {day.year}"


def half_year_label(code: str) -> str:
    """'2025-H1' → '1e halfjaar 2025'; anything else unchanged."""
    year, _, half = code.partition("-H")
    if half in ("1", "2") and year.isdigit():
        return f"{half}e halfjaar {year}"
    return code


# ---- CSV (Dutch Excel dialect): decimal comma, no thousands separator, ASCII minus ----


def csv_decimal(value: Decimal) -> str:
    return format(value, "f").replace(".", ",")


def csv_float(value: float) -> str:
    """Six decimals at most (shares, percentages, days), trailing zeros dropped."""
    if not math.isfinite(value):
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")
