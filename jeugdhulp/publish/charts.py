"""Accessible inline SVG charts (bars, horizontal bars, cumulative lines), drawn in plain Python.

Every chart comes in two layouts of the same data: `wide` (a 760-unit viewBox, for screens from
700 px and for print) and `narrow` (a 360-unit viewBox, for phones: at 400 px its 12-unit text is
about 12 CSS px, where the wide chart's would be about 6). The report's style sheet shows one of
the two (svg.chart[data-layout]). Every text the SVG holds (titles, descriptions, labels, values,
legend) is escaped here, so the report may include the SVG as markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
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
NARROW_WIDTH = 360  # shown at 300–480 CSS px: text never smaller than about 9.7 px
FONT = 12
CHAR_WIDTH = 6.6  # average width of a 12px sans-serif character, for layout only
LABEL_CHAR_WIDTH = 7.2  # generous: digits and capitals in bar labels must never be clipped
COMING_IN = "nog binnenkomend"  # legend: recent months whose invoices are still arriving
EXPECTED_FINAL = "verwachte eindstand"  # legend: the forecast of such a month's final value


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def _t(value: float) -> str:
    """Coordinates with at most one decimal: small, stable SVG text."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _width(text: str) -> float:
    """Estimated width of a 12px text, for layout only."""
    return len(text) * CHAR_WIDTH


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


def _ident(name: str, narrow: bool) -> str:
    return f"chart-{name}-narrow" if narrow else f"chart-{name}"


def _open(name: str, title: str, description: str, height: float, narrow: bool) -> list[str]:
    ident = escape(_ident(name, narrow))
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(name)}" '
        f'data-layout="{"narrow" if narrow else "wide"}" role="img" '
        f'viewBox="0 0 {NARROW_WIDTH if narrow else WIDTH} {_t(height)}" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\" "
        f'font-size="{FONT}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]


def _hatch(name: str, narrow: bool, color: str) -> str:
    """The fill of a bar still coming in: diagonal stripes of its colour on white."""
    return (
        f'<defs><pattern id="{escape(_ident(name, narrow))}-hatch" patternUnits="userSpaceOnUse" '
        f'width="6" height="6" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{escape(color)}" stroke-width="2.5"/>'
        f"</pattern></defs>"
    )


LEGEND_ROW = 18.0


def _legend_rows(items: Sequence[tuple[str, str, str]], x: float, right: float) -> int:
    return len({row for row, _ in _legend_positions(items, x, right)})


def _legend_positions(
    items: Sequence[tuple[str, str, str]], x: float, right: float
) -> list[tuple[int, float]]:
    """(row, x) of each legend item: left to right, a new row when an item would pass `right`."""
    positions, row, start = [], 0, x
    for label, _, kind in items:
        width = (18 if kind in ("box", "hatch") else 24) + _width(label)
        if start > x and start + width > right:
            row, start = row + 1, x
        positions.append((row, start))
        start += width + 22
    return positions


def _legend(
    items: Sequence[tuple[str, str, str]],
    x: float,
    y: float,
    right: float = float("inf"),
    hatch: str = "",
) -> list[str]:
    """items: (label, colour, kind) with kind 'box', 'hatch' (`hatch`: the pattern's id),
    'line' or 'dash'; rows of LEGEND_ROW units, wrapped before `right`."""
    parts = ['<g class="legend">']
    for (label, color, kind), (row, left) in zip(items, _legend_positions(items, x, right)):
        top = y + row * LEGEND_ROW
        if kind == "box":
            parts.append(
                f'<rect x="{_t(left)}" y="{_t(top - 9)}" width="12" height="12" '
                f'fill="{escape(color)}"/>'
            )
        elif kind == "hatch":
            parts.append(
                f'<rect x="{_t(left + 0.75)}" y="{_t(top - 8.25)}" width="10.5" height="10.5" '
                f'fill="url(#{escape(hatch)})" stroke="{escape(color)}" stroke-width="1.5" '
                f'stroke-dasharray="3 2"/>'
            )
        else:
            dash = ' stroke-dasharray="6 4"' if kind == "dash" else ""
            parts.append(
                f'<line x1="{_t(left)}" y1="{_t(top - 3)}" x2="{_t(left + 18)}" y2="{_t(top - 3)}" '
                f'stroke="{escape(color)}" stroke-width="2.5"{dash}/>'
            )
        text_x = left + (18 if kind in ("box", "hatch") else 24)
        parts.append(
            f'<text x="{_t(text_x)}" y="{_t(top + 1)}" fill="{INK}">{escape(label)}</text>'
        )
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
    narrow: bool = False,
) -> list[str]:
    """Grid lines with their values; the axis title turned along the axis, or (narrow) written
    above it."""
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
    if narrow:
        parts.append(f'<text x="0" y="{_t(top - 12)}" fill="{INK}">{escape(label)}</text>')
    else:
        middle = (top + bottom) / 2
        parts.append(
            f'<text transform="translate(14 {_t(middle)}) rotate(-90)" text-anchor="middle" '
            f'fill="{INK}">{escape(label)}</text>'
        )
    parts.append("</g>")
    return parts


def _x_labels(
    categories: Sequence[str], x_of: Callable[[int], float], step: float, y: float
) -> tuple[list[str], float]:
    """Category labels under a narrow chart: level when they fit; else on two lines (split at
    the last space) when that fits; else every other one when that fits; else turned 45°. Returns
    the labels and the extra height they need below the axis."""
    widest = max((_width(c) for c in categories), default=0.0) + 6
    split = [c.rpartition(" ") if " " in c else ("", "", c) for c in categories]
    widest_split = max((max(_width(a), _width(b)) for a, _, b in split), default=0.0) + 6
    parts = []
    if widest > step and widest_split <= step:
        for index, (first, _, second) in enumerate(split):
            x = _t(x_of(index))
            parts.append(
                f'<text x="{x}" y="{_t(y)}" text-anchor="middle" fill="{INK}">'
                f'<tspan x="{x}">{escape(first)}</tspan>'
                f'<tspan x="{x}" dy="14">{escape(second)}</tspan></text>'
            )
        return parts, 14.0
    every = math.ceil(widest / step) if widest > step else 1
    if every <= 2:
        for index, category in enumerate(categories):
            if index % every == 0:
                parts.append(
                    f'<text x="{_t(x_of(index))}" y="{_t(y)}" text-anchor="middle" '
                    f'fill="{INK}">{escape(category)}</text>'
                )
        return parts, 0.0
    for index, category in enumerate(categories):
        x = x_of(index) + 4
        parts.append(
            f'<text transform="translate({_t(x)} {_t(y - 6)}) rotate(-45)" text-anchor="end" '
            f'fill="{INK}">{escape(category)}</text>'
        )
    return parts, widest * math.sqrt(0.5)


def _left_for(ticks: list[float], axis_format: Format) -> float:
    """Narrow charts: room left of the plot for the widest value on the axis."""
    return max(_width(axis_format(tick)) for tick in ticks) + 12


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
    coming_in: Mapping[int, float] | None = None,
    narrow: bool = False,
) -> str:
    """Vertical bars, grouped by category; a missing value (None) leaves a gap.

    coming_in: category index → the forecast of the final value of the last series' bar, for
    recent months whose invoices are still arriving. Such a bar is hatched with a dashed
    outline, with a dashed marker at its expected final value (legend: "nog binnenkomend")."""
    coming = dict(coming_in or {})
    values = [v for s in series for v in s.values if v is not None] + list(coming.values())
    ticks = nice_ticks(
        min(values, default=0.0), max(values, default=1.0), 4 if narrow else 5, integer=integer
    )
    legend_items = [(s.name, s.color, "box") for s in series]
    last = series[-1] if series else None
    if coming and last is not None:
        legend_items += [(COMING_IN, last.color, "hatch"), (EXPECTED_FINAL, INK, "dash")]
    if narrow:
        width = NARROW_WIDTH
        left, right = _left_for(ticks, axis_format), width - 6.0
        legend_rows = _legend_rows(legend_items, 0, width - 4)
        top = 18 + LEGEND_ROW * legend_rows + 22  # the legend, then the axis title
        bottom = top + 200.0
    else:
        width = WIDTH
        left, right = 92.0, width - 16.0
        legend_rows = _legend_rows(legend_items, left, width - 4)
        top = 44.0 + LEGEND_ROW * (legend_rows - 1)
        bottom = top + 232.0
    low, high = ticks[0], ticks[-1]

    def scale(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    group_width = (right - left) / max(len(categories), 1)
    bar_width = min(34.0, group_width * 0.8 / max(len(series), 1))

    def x_of(index: int) -> float:
        return left + (index + 0.5) * group_width

    if narrow:
        labels, extra = _x_labels(categories, x_of, group_width, bottom + 18)
    else:
        label_every = 1 if group_width >= 34 else math.ceil(34 / group_width)
        labels, extra = [], 0.0
        for index, category in enumerate(categories):
            if index % label_every == 0:
                labels.append(
                    f'<text x="{_t(x_of(index))}" y="{_t(bottom + 18)}" text-anchor="middle" '
                    f'fill="{INK}">{escape(category)}</text>'
                )
    height = bottom + 54.0 + extra
    hatch = f"{_ident(name, narrow)}-hatch"

    parts = _open(name, title, description, height, narrow)
    if coming and last is not None:
        parts.append(_hatch(name, narrow, last.color))
    parts += _legend(legend_items, 0 if narrow else left, 18, width - 4, hatch)
    parts += _y_axis(ticks, scale, left, right, axis_format, y_label, top, bottom, narrow)
    parts.append('<g class="marks">')
    for index, category in enumerate(categories):
        start = left + index * group_width + (group_width - bar_width * len(series)) / 2
        for position, serie in enumerate(series):
            value = serie.values[index]
            still = serie is last and index in coming
            x = start + position * bar_width
            if value is not None:
                y0, y1 = scale(max(value, 0.0)), scale(min(value, 0.0))
                tip = f"{serie.name}, {category}: {value_format(value)}"
                if still:
                    tip += (
                        f" tot nu toe ({COMING_IN}; {EXPECTED_FINAL} {value_format(coming[index])})"
                    )
                    fill = (
                        f'fill="url(#{escape(hatch)})" stroke="{escape(serie.color)}" '
                        f'stroke-width="1.5" stroke-dasharray="4 3" class="coming-in"'
                    )
                else:
                    fill = f'fill="{escape(serie.color)}"'
                parts.append(
                    f'<rect x="{_t(x)}" y="{_t(y0)}" width="{_t(bar_width - 2)}" '
                    f'height="{_t(max(y1 - y0, 0.5))}" {fill}>'
                    f"<title>{escape(tip)}</title></rect>"
                )
            if still:
                # a dashed outline from what is in up to the expected final value, and a marker
                y = scale(coming[index])
                top_so_far = scale(max(value or 0.0, 0.0))
                tip = f"{serie.name}, {category}: {EXPECTED_FINAL} {value_format(coming[index])}"
                if y < top_so_far - 0.5:
                    parts.append(
                        f'<rect class="expected-rest" x="{_t(x)}" y="{_t(y)}" '
                        f'width="{_t(bar_width - 2)}" height="{_t(top_so_far - y)}" fill="none" '
                        f'stroke="{escape(serie.color)}" stroke-width="1.5" '
                        f'stroke-dasharray="4 3"><title>{escape(tip)}</title></rect>'
                    )
                parts.append(
                    f'<line class="expected-final" x1="{_t(x - 3)}" y1="{_t(y)}" '
                    f'x2="{_t(x + bar_width + 1)}" y2="{_t(y)}" stroke="{INK}" stroke-width="2.5" '
                    f'stroke-dasharray="5 2"><title>{escape(tip)}</title></line>'
                )
    parts.append("</g>")
    parts.append('<g class="axis x-axis">')
    parts += labels
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
    narrow: bool = False,
) -> str:
    """One bar per label, largest first as given; optional dashed reference line (e.g. average).
    Narrow: each label on its own line above its bar, so the bars get the whole width."""
    extremes = list(values) + ([reference[0]] if reference else [])
    ticks = nice_ticks(
        min(extremes, default=0.0), max(extremes, default=1.0), 3 if narrow else 5, integer=integer
    )
    legend_items = [(label, color, "box") for label, color in legend]
    if reference:
        legend_items.append((reference[1], INK, "dash"))
    if narrow:
        width = NARROW_WIDTH
        max_chars = int(width / LABEL_CHAR_WIDTH) - 1
        value_room = max((_width(value_format(v)) for v in values), default=0.0) + 10
        tick_room = max(_width(axis_format(tick)) for tick in ticks) / 2 + 2
        left, right = tick_room, width - max(value_room, tick_room)
        row, label_room = 40.0, 16.0  # a label line, then the bar
        legend_rows = _legend_rows(legend_items, 0, width - 4)
        top = 6.0 + (LEGEND_ROW * legend_rows + 8 if legend_items else 0)
    else:
        width = WIDTH
        max_chars = min(max((len(label) for label in labels), default=10), 46)
        left = max(max_chars * LABEL_CHAR_WIDTH + 20, 90.0)
        right = width - 90.0  # room for the value labels
        row, label_room = 26.0, 0.0
        legend_rows = _legend_rows(legend_items, left, width - 4) if legend_items else 1
        top = 40.0 + LEGEND_ROW * (legend_rows - 1) if legend_items else 14.0
    bottom = top + row * len(labels)
    height = bottom + 46.0
    low, high = ticks[0], ticks[-1]

    def scale(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    parts = _open(name, title, description, height, narrow)
    if legend_items:
        parts += _legend(legend_items, 0 if narrow else left, 18, width - 4)
    parts.append('<g class="axis x-axis">')

    def bands(x: float, start: float) -> str:
        """Narrow: a vertical line through the bars' bands only, leaving the label lines clear."""
        return " ".join(
            f"M{_t(x)} {_t(max(top + i * row + label_room, start))}V{_t(top + (i + 1) * row)}"
            for i in range(len(labels))
        )

    for tick in ticks:
        x = scale(tick)
        color = INK if tick == 0 else GRID
        if narrow and labels:
            parts.append(
                f'<path d="{bands(x, top)}" fill="none" stroke="{color}" stroke-width="1"/>'
            )
        else:
            parts.append(
                f'<line x1="{_t(x)}" y1="{_t(top)}" x2="{_t(x)}" y2="{_t(bottom)}" '
                f'stroke="{color}" stroke-width="1"/>'
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
    above: list[str] = []  # narrow: the labels, drawn last
    for index, (label, value) in enumerate(zip(labels, values)):
        y = top + index * row
        shown = label if len(label) <= max_chars else label[: max_chars - 1] + "…"
        color = colors[index] if colors else BLUE
        x0, x1 = scale(min(value, 0.0)), scale(max(value, 0.0))
        if narrow:  # on its own line above the bar, over the grid: a white halo keeps it clear
            above.append(
                f'<text x="0" y="{_t(y + 13)}" fill="{INK}" stroke="#fff" stroke-width="3" '
                f'paint-order="stroke" stroke-linejoin="round">'
                f"{escape(shown)}<title>{escape(label)}</title></text>"
            )
        else:
            parts.append(
                f'<text x="{_t(left - 8)}" y="{_t(y + row / 2 + 4)}" text-anchor="end" '
                f'fill="{INK}">{escape(shown)}<title>{escape(label)}</title></text>'
            )
        bar_top, bar_height = y + label_room + 4, row - label_room - 8
        parts.append(
            f'<rect x="{_t(x0)}" y="{_t(bar_top)}" width="{_t(max(x1 - x0, 0.5))}" '
            f'height="{_t(bar_height)}" fill="{escape(color)}">'
            f"<title>{escape(f'{label}: {value_format(value)}')}</title></rect>"
        )
        parts.append(
            f'<text x="{_t(x1 + 6)}" y="{_t(bar_top + bar_height / 2 + 4)}" fill="{INK}">'
            f"{escape(value_format(value))}</text>"
        )
    parts.append("</g>")
    if reference:
        x = scale(reference[0])
        tip = escape(f"{reference[1]}: {value_format(reference[0])}")
        if narrow and labels:
            parts.append(
                f'<path class="reference" d="{bands(x, top - 4)}" fill="none" stroke="{INK}" '
                f'stroke-width="1.5" stroke-dasharray="6 4"><title>{tip}</title></path>'
            )
        else:
            parts.append(
                f'<line class="reference" x1="{_t(x)}" y1="{_t(top - 4)}" x2="{_t(x)}" '
                f'y2="{_t(bottom)}" stroke="{INK}" stroke-width="1.5" stroke-dasharray="6 4">'
                f"<title>{tip}</title></line>"
            )
    if above:
        parts += ['<g class="labels">', *above, "</g>"]
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
    coming_in: Mapping[int, float] | None = None,
    narrow: bool = False,
) -> str:
    """Cumulative actual line, a dashed forecast to year end and a horizontal budget line.

    coming_in: category index → the forecast of the final cumulative value, for recent months
    whose invoices are still arriving. The line is solid up to the last complete month; from
    there a dashed line runs through the expected final values (legend: "nog binnenkomend"), and
    what is in so far for those months is drawn as open points on a thin dotted line."""
    coming = {i: v for i, v in (coming_in or {}).items() if 0 <= i < len(categories)}
    known = [(index, value) for index, value in enumerate(actual) if value is not None]
    complete = [(i, v) for i, v in known if i not in coming]
    expected = sorted(coming.items())
    extremes = (
        [value for _, value in known]
        + [v for v in (forecast, budget) if v is not None]
        + [v for _, v in expected]
    )
    ticks = nice_ticks(min(extremes, default=0.0), max(extremes, default=1.0), 4 if narrow else 5)
    legend = [(actual_label, BLUE, "line")]
    if expected:
        legend.append((COMING_IN, BLUE, "dash"))
    if forecast is not None and known:
        legend.append((forecast_label, ORANGE, "dash"))
    if budget is not None:
        legend.append((budget_label, GREEN, "dash"))
    if narrow:
        width = NARROW_WIDTH
        left, right = _left_for(ticks, axis_format), width - 6.0
        top = 18 + LEGEND_ROW * _legend_rows(legend, 0, width - 4) + 22
        bottom = top + 200.0
    else:
        width = WIDTH
        left, right = 92.0, width - 16.0
        top = 44.0 + LEGEND_ROW * (_legend_rows(legend, left, width - 4) - 1)
        bottom = top + 232.0
    low, high = ticks[0], ticks[-1]
    step = (right - left) / max(len(categories), 1)

    def x_of(index: int) -> float:
        return left + (index + 0.5) * step

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    if narrow:
        labels, extra = _x_labels(categories, x_of, step, bottom + 18)
    else:
        labels, extra = [], 0.0
        for index, category in enumerate(categories):
            labels.append(
                f'<text x="{_t(x_of(index))}" y="{_t(bottom + 18)}" text-anchor="middle" '
                f'fill="{INK}">{escape(category)}</text>'
            )
    height = bottom + 54.0 + extra

    parts = _open(name, title, description, height, narrow)
    parts += _legend(legend, 0 if narrow else left, 18, width - 4)
    parts += _y_axis(ticks, y_of, left, right, axis_format, y_label, top, bottom, narrow)
    parts.append('<g class="axis x-axis">')
    parts += labels
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
        # from the last point drawn: the expected final value of the latest month still coming in
        last_index, last_value = max(expected + complete) if expected else known[-1]
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
    solid = complete if expected else known
    if expected:
        so_far = [(i, v) for i, v in known if i in coming]
        if so_far:
            start = complete[-1:] if complete and complete[-1][0] < so_far[0][0] else []
            path = " ".join(
                f"{'M' if n == 0 else 'L'}{_t(x_of(i))} {_t(y_of(v))}"
                for n, (i, v) in enumerate(start + so_far)
            )
            parts.append(
                f'<path class="so-far" d="{path}" fill="none" stroke="{BLUE}" '
                f'stroke-width="1.2" stroke-dasharray="2 3"/>'
            )
            for index, value in so_far:
                parts.append(
                    f'<circle cx="{_t(x_of(index))}" cy="{_t(y_of(value))}" r="3" fill="#fff" '
                    f'stroke="{BLUE}" stroke-width="1.2"><title>'
                    f"{escape(f'{categories[index]}: {value_format(value)} tot nu toe ({COMING_IN})')}"
                    f"</title></circle>"
                )
        start = complete[-1:] if complete and complete[-1][0] < expected[0][0] else []
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{_t(x_of(i))} {_t(y_of(v))}"
            for n, (i, v) in enumerate(start + expected)
        )
        parts.append(
            f'<path class="coming-in" d="{path}" fill="none" stroke="{BLUE}" '
            f'stroke-width="2.5" stroke-dasharray="6 4"/>'
        )
        for index, value in expected:
            parts.append(
                f'<circle class="expected-final" cx="{_t(x_of(index))}" cy="{_t(y_of(value))}" '
                f'r="4" fill="#fff" stroke="{BLUE}" stroke-width="2"><title>'
                f"{escape(f'{categories[index]}: {EXPECTED_FINAL} {value_format(value)} ({COMING_IN})')}"
                f"</title></circle>"
            )
    if solid:
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{_t(x_of(i))} {_t(y_of(v))}" for n, (i, v) in enumerate(solid)
        )
        parts.append(
            f'<path class="actual" d="{path}" fill="none" stroke="{BLUE}" stroke-width="2.5"/>'
        )
        for index, value in solid:
            parts.append(
                f'<circle cx="{_t(x_of(index))}" cy="{_t(y_of(value))}" r="3.5" '
                f'fill="{BLUE}"><title>{escape(f"{categories[index]}: {value_format(value)}")}'
                f"</title></circle>"
            )
    parts.append("</g></svg>")
    return "\n".join(parts)
