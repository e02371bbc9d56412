"""Accessible inline SVG charts (bars, horizontal bars, cumulative lines), drawn in plain Python."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Format = Callable[[float], str]

# Colours after the Dutch central government's palette; contrast ≥ 3:1 against white for marks.
BLUE = "#154273"
SKY = "#007bc7"
LIGHT_BLUE = "#8fcae7"
ORANGE = "#e17000"
GREEN = "#39870c"
RED = "#d52b1e"
GREY = "#696969"
GRID = "#e6e6e6"
INK = "#1a1a1a"

WIDTH = 760
FONT = 12
CHAR_WIDTH = 6.6  # average width of a 12px sans-serif character, for layout only
LABEL_CHAR_WIDTH = 7.2  # generous: digits and capitals in bar labels must never be clipped


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def _t(value: float) -> str:
    """Coordinates with at most one decimal: small, stable SVG text."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values covering [min(low, 0), high], about `count` intervals.

    integer: whole-number steps only (counts of trajectories or findings).
    """
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        return [0.0, 1.0]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [first + index * step for index in range(int(round((last - first) / step)) + 1)]


def _open(name: str, title: str, description: str, height: float) -> list[str]:
    ident = f"chart-{name}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(name)}" '
        f'role="img" viewBox="0 0 {WIDTH} {_t(height)}" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\" "
        f'font-size="{FONT}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]


def _legend(items: Sequence[tuple[str, str, str]], x: float, y: float) -> list[str]:
    """items: (label, colour, kind) with kind 'box', 'line' or 'dash'."""
    parts = ['<g class="legend">']
    for label, color, kind in items:
        if kind == "box":
            parts.append(
                f'<rect x="{_t(x)}" y="{_t(y - 9)}" width="12" height="12" fill="{color}"/>'
            )
        else:
            dash = ' stroke-dasharray="6 4"' if kind == "dash" else ""
            parts.append(
                f'<line x1="{_t(x)}" y1="{_t(y - 3)}" x2="{_t(x + 18)}" y2="{_t(y - 3)}" '
                f'stroke="{color}" stroke-width="2.5"{dash}/>'
            )
        text_x = x + (18 if kind == "box" else 24)
        parts.append(f'<text x="{_t(text_x)}" y="{_t(y + 1)}" fill="{INK}">{escape(label)}</text>')
        x = text_x + len(label) * CHAR_WIDTH + 22
    parts.append("</g>")
    return parts


def _y_axis(
    ticks: list[float],
    scale: Callable[[float], float],
    left: float,
    right: float,
    axis_format: Format,
    label: str,
    top: float,
    bottom: float,
) -> list[str]:
    parts = ['<g class="axis y-axis">']
    for tick in ticks:
        y = scale(tick)
        parts.append(
            f'<line x1="{_t(left)}" y1="{_t(y)}" x2="{_t(right)}" y2="{_t(y)}" '
            f'stroke="{INK if tick == 0 else GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_t(left - 8)}" y="{_t(y + 4)}" text-anchor="end" fill="{INK}">'
            f"{escape(axis_format(tick))}</text>"
        )
    middle = (top + bottom) / 2
    parts.append(
        f'<text transform="translate(14 {_t(middle)}) rotate(-90)" text-anchor="middle" '
        f'fill="{INK}">{escape(label)}</text>'
    )
    parts.append("</g>")
    return parts


def bar_chart(
    name: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    value_format: Format,
    axis_format: Format,
    y_label: str,
    x_label: str,
    integer: bool = False,
) -> str:
    """Vertical bars, grouped by category; a missing value (None) leaves a gap."""
    height, top, bottom, left, right = 330.0, 44.0, 276.0, 92.0, WIDTH - 16.0
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0), integer=integer)
    low, high = ticks[0], ticks[-1]

    def scale(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    parts = _open(name, title, description, height)
    parts += _legend([(s.name, s.color, "box") for s in series], left, 18)
    parts += _y_axis(ticks, scale, left, right, axis_format, y_label, top, bottom)
    group_width = (right - left) / max(len(categories), 1)
    bar_width = min(34.0, group_width * 0.8 / max(len(series), 1))
    label_every = 1 if group_width >= 34 else math.ceil(34 / group_width)
    parts.append('<g class="marks">')
    for index, category in enumerate(categories):
        start = left + index * group_width + (group_width - bar_width * len(series)) / 2
        for position, serie in enumerate(series):
            value = serie.values[index]
            if value is None:
                continue
            y0, y1 = scale(max(value, 0.0)), scale(min(value, 0.0))
            parts.append(
                f'<rect x="{_t(start + position * bar_width)}" y="{_t(y0)}" '
                f'width="{_t(bar_width - 2)}" height="{_t(max(y1 - y0, 0.5))}" fill="{serie.color}">'
                f"<title>{escape(f'{serie.name}, {category}: {value_format(value)}')}</title></rect>"
            )
    parts.append("</g>")
    parts.append('<g class="axis x-axis">')
    for index, category in enumerate(categories):
        if index % label_every == 0:
            x = left + (index + 0.5) * group_width
            parts.append(
                f'<text x="{_t(x)}" y="{_t(bottom + 18)}" text-anchor="middle" '
                f'fill="{INK}">{escape(category)}</text>'
            )
    parts.append(
        f'<text x="{_t((left + right) / 2)}" y="{_t(height - 10)}" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)}</text>'
    )
    parts.append("</g></svg>")
    return "\n".join(parts)


def horizontal_bar_chart(
    name: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    value_format: Format,
    axis_format: Format,
    x_label: str,
    colors: Sequence[str] | None = None,
    reference: tuple[float, str] | None = None,
    legend: Sequence[tuple[str, str]] = (),
    integer: bool = False,
) -> str:
    """One bar per label, largest first as given; optional dashed reference line (e.g. average)."""
    max_chars = min(max((len(label) for label in labels), default=10), 46)
    left = max(max_chars * LABEL_CHAR_WIDTH + 20, 90.0)
    row, top = 26.0, 40.0 if (reference or legend) else 14.0
    bottom = top + row * len(labels)
    height = bottom + 46.0
    right = WIDTH - 90.0  # room for the value labels
    extremes = list(values) + ([reference[0]] if reference else [])
    ticks = nice_ticks(min(extremes, default=0.0), max(extremes, default=1.0), integer=integer)
    low, high = ticks[0], ticks[-1]

    def scale(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    parts = _open(name, title, description, height)
    legend_items = [(label, color, "box") for label, color in legend]
    if reference:
        legend_items.append((reference[1], INK, "dash"))
    if legend_items:
        parts += _legend(legend_items, left, 18)
    parts.append('<g class="axis x-axis">')
    for tick in ticks:
        x = scale(tick)
        parts.append(
            f'<line x1="{_t(x)}" y1="{_t(top)}" x2="{_t(x)}" y2="{_t(bottom)}" '
            f'stroke="{INK if tick == 0 else GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_t(x)}" y="{_t(bottom + 16)}" text-anchor="middle" fill="{INK}">'
            f"{escape(axis_format(tick))}</text>"
        )
    parts.append(
        f'<text x="{_t((left + right) / 2)}" y="{_t(height - 8)}" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)}</text>'
    )
    parts.append("</g>")
    parts.append('<g class="marks">')
    for index, (label, value) in enumerate(zip(labels, values)):
        y = top + index * row
        shown = label if len(label) <= max_chars else label[: max_chars - 1] + "…"
        color = colors[index] if colors else BLUE
        x0, x1 = scale(min(value, 0.0)), scale(max(value, 0.0))
        parts.append(
            f'<text x="{_t(left - 8)}" y="{_t(y + row / 2 + 4)}" text-anchor="end" '
            f'fill="{INK}">{escape(shown)}<title>{escape(label)}</title></text>'
        )
        parts.append(
            f'<rect x="{_t(x0)}" y="{_t(y + 4)}" width="{_t(max(x1 - x0, 0.5))}" '
            f'height="{_t(row - 8)}" fill="{color}">'
            f"<title>{escape(f'{label}: {value_format(value)}')}</title></rect>"
        )
        parts.append(
            f'<text x="{_t(x1 + 6)}" y="{_t(y + row / 2 + 4)}" fill="{INK}">'
            f"{escape(value_format(value))}</text>"
        )
    parts.append("</g>")
    if reference:
        x = scale(reference[0])
        parts.append(
            f'<line class="reference" x1="{_t(x)}" y1="{_t(top - 4)}" x2="{_t(x)}" '
            f'y2="{_t(bottom)}" stroke="{INK}" stroke-width="1.5" stroke-dasharray="6 4">'
            f"<title>{escape(f'{reference[1]}: {value_format(reference[0])}')}</title></line>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def cumulative_chart(
    name: str,
    title: str,
    description: str,
    categories: Sequence[str],
    actual: Sequence[float | None],
    *,
    forecast: float | None,
    budget: float | None,
    axis_format: Format,
    value_format: Format,
    y_label: str,
    x_label: str,
    actual_label: str,
    forecast_label: str,
    budget_label: str,
) -> str:
    """Cumulative actual line, a dashed forecast to year end and a horizontal budget line."""
    height, top, bottom, left, right = 330.0, 44.0, 276.0, 92.0, WIDTH - 16.0
    known = [(index, value) for index, value in enumerate(actual) if value is not None]
    extremes = [value for _, value in known] + [v for v in (forecast, budget) if v is not None]
    ticks = nice_ticks(min(extremes, default=0.0), max(extremes, default=1.0))
    low, high = ticks[0], ticks[-1]
    step = (right - left) / max(len(categories), 1)

    def x_of(index: int) -> float:
        return left + (index + 0.5) * step

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    parts = _open(name, title, description, height)
    legend = [(actual_label, BLUE, "line")]
    if forecast is not None and known:
        legend.append((forecast_label, ORANGE, "dash"))
    if budget is not None:
        legend.append((budget_label, GREEN, "dash"))
    parts += _legend(legend, left, 18)
    parts += _y_axis(ticks, y_of, left, right, axis_format, y_label, top, bottom)
    parts.append('<g class="axis x-axis">')
    for index, category in enumerate(categories):
        parts.append(
            f'<text x="{_t(x_of(index))}" y="{_t(bottom + 18)}" text-anchor="middle" '
            f'fill="{INK}">{escape(category)}</text>'
        )
    parts.append(
        f'<text x="{_t((left + right) / 2)}" y="{_t(height - 10)}" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)}</text>'
    )
    parts.append("</g>")
    parts.append('<g class="marks">')
    if budget is not None:
        y = y_of(budget)
        parts.append(
            f'<line class="budget" x1="{_t(left)}" y1="{_t(y)}" x2="{_t(right)}" '
            f'y2="{_t(y)}" stroke="{GREEN}" stroke-width="2.5" stroke-dasharray="6 4">'
            f"<title>{escape(f'{budget_label}: {value_format(budget)}')}</title></line>"
        )
    if forecast is not None and known:
        last_index, last_value = known[-1]
        parts.append(
            f'<path class="forecast" d="M{_t(x_of(last_index))} {_t(y_of(last_value))} '
            f'L{_t(x_of(len(categories) - 1))} {_t(y_of(forecast))}" fill="none" stroke="{ORANGE}" '
            f'stroke-width="2.5" stroke-dasharray="6 4">'
            f"<title>{escape(f'{forecast_label}: {value_format(forecast)}')}</title></path>"
        )
        parts.append(
            f'<circle cx="{_t(x_of(len(categories) - 1))}" cy="{_t(y_of(forecast))}" r="4" '
            f'fill="{ORANGE}"><title>{escape(f"{forecast_label}: {value_format(forecast)}")}'
            f"</title></circle>"
        )
    if known:
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{_t(x_of(i))} {_t(y_of(v))}" for n, (i, v) in enumerate(known)
        )
        parts.append(
            f'<path class="actual" d="{path}" fill="none" stroke="{BLUE}" stroke-width="2.5"/>'
        )
        for index, value in known:
            parts.append(
                f'<circle cx="{_t(x_of(index))}" cy="{_t(y_of(value))}" r="3.5" '
                f'fill="{BLUE}"><title>{escape(f"{categories[index]}: {value_format(value)}")}'
                f"</title></circle>"
            )
    parts.append("</g></svg>")
    return "\n".join(parts)
