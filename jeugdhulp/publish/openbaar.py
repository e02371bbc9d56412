"""The openbaar tier: the publication tables with disclosure control applied (schema `obr` of the
work copy), and the report figures derived from them only.

The openbaar report shows nothing the openbaar tables hide: every figure is a published cell
(or a partial sum of published cells that stops at the first suppressed one, for the cumulative
line), and the sections built from marts without a publication model stay in the intern report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pyarrow as pa

from jeugdhulp.publish.catalogue import SPECS, MartSpec
from jeugdhulp.publish.figures import BudgetView, MonthlyCosts, Ranked, ReportFigures
from jeugdhulp.publish.sdc import (
    COUNT_MARKER,
    PRIMARY,
    PROTECTION_MARGIN,
    SECONDARY,
    build_problems,
    suppress,
)
from jeugdhulp.publish.selection import REGION, Target, order_columns
from jeugdhulp.publish.warehouse import WorkCopy

SCHEMA = "obr"
SUPPRESSED = "suppressed"  # per row: NULL (shown), 'primair' or 'secundair'
PROVIDERS = "rpt_costs_provider_year"
SEGMENTS = "rpt_costs_segment_month"


def suppress_openbaar(
    work: WorkCopy, specs: list[MartSpec], margin: float = PROTECTION_MARGIN, audit: bool = True
) -> dict[str, int]:
    """Create obr.<table> for every openbaar spec: the measures of suppressed rows NULL and the
    row's status in `suppressed`. Returns the suppressed cells (values) per table. audit=False
    leaves out the LP refinement (the complementary heuristic only)."""
    work.con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    tables = {}
    for spec in specs:
        cursor = work.con.execute(f"SELECT * FROM src.{spec.name}")
        names = [column[0] for column in cursor.description]
        tables[spec.name] = (spec, [dict(zip(names, row)) for row in cursor.fetchall()])
    status: dict[str, dict[int, str]] = {spec.name: {} for spec in specs}
    for problem in build_problems(tables).values():
        primary, hidden = suppress(problem, margin, audit_rounds=200 if audit else 0)
        for cell_id in hidden:
            cell = problem.cells[cell_id]
            status[cell.table][cell.row] = PRIMARY if cell_id in primary else SECONDARY
    cells = {}
    for spec in specs:
        shape = spec.shape
        assert shape is not None
        rows = tables[spec.name][1]
        measures = [shape.persons, *shape.amounts]
        columns = work.columns[spec.name]
        data: dict[str, list] = {column: [] for column in columns}
        data[SUPPRESSED] = []
        for number, row in enumerate(rows):
            state = status[spec.name].get(number)
            for column in columns:
                data[column].append(None if state and column in measures else row[column])
            data[SUPPRESSED].append(state)
        source = work.con.sql(f"SELECT * FROM src.{spec.name} LIMIT 0").to_arrow_table()
        schema = source.schema.append(pa.field(SUPPRESSED, pa.string()))
        work.con.register("_obr_rows", pa.table(data, schema=schema))
        order = ", ".join(f'"{c}"' for c in order_columns(spec, columns))
        work.con.execute(
            f"CREATE OR REPLACE TABLE {SCHEMA}.{spec.name} AS "
            f"SELECT * FROM _obr_rows ORDER BY {order}"
        )
        work.con.unregister("_obr_rows")
        cells[spec.name] = len(status[spec.name]) * len(measures)
    return cells


def csv_markers(spec: MartSpec) -> dict[str, dict[str, str]]:
    """For files.write_csv: per measure column, the marker of a primary and a secondary cell."""
    shape = spec.shape
    assert shape is not None
    markers = {shape.persons: {PRIMARY: COUNT_MARKER, SECONDARY: "x"}}
    for column in shape.amounts:
        markers[column] = {PRIMARY: "x", SECONDARY: "x"}
    return markers


def _code(target: Target) -> str:
    return REGION if target.is_region else target.code


def openbaar_figures(work: WorkCopy, intern: ReportFigures) -> ReportFigures:
    """The report figures of the openbaar page: costs per month, the cumulative line (until the
    first suppressed month), segments and providers, all from the suppressed publication tables;
    the budget (contract ceilings × key share: about no person) from the intern figures; the
    forecast and every section without a publication model are left out."""
    target, year, as_of = intern.target, intern.year, intern.as_of
    missing = {
        name: "alleen in de interne publicatie"
        for name in list(work.present) + list(intern.missing)
        if name in SPECS and not SPECS[name].openbaar
    }
    figures = ReportFigures(
        target=target,
        as_of=as_of,
        year=year,
        missing=missing,
        municipality_names=intern.municipality_names,
    )
    if work.has(SEGMENTS):
        figures.monthly, figures.budget = _monthly_and_budget(work, target, year, as_of, intern)
        figures.segments = _segments(work, target, year)
    if work.has(PROVIDERS):
        figures.top_providers = _providers(work, target, year)
    return figures


def _monthly_and_budget(
    work: WorkCopy, target: Target, year: int, as_of: date, intern: ReportFigures
) -> tuple[MonthlyCosts, BudgetView]:
    rows = work.con.execute(
        f"SELECT year, month, amount_eur, {SUPPRESSED} FROM {SCHEMA}.{SEGMENTS} "
        "WHERE municipality_code = ? AND segment = 'totaal' AND year IN (?, ?)",
        [_code(target), year - 1, year],
    ).fetchall()
    series: dict[int, list[float | None]] = {year - 1: [None] * 12, year: [None] * 12}
    totals: dict[int, float | None] = {}
    hidden = 0
    months_present: dict[int, set[int]] = {year - 1: set(), year: set()}
    for row_year, month, amount, state in rows:
        if month == "jaar":
            totals[row_year] = None if amount is None else float(amount)
            continue
        number = int(month)
        if row_year == as_of.year and number > as_of.month:
            continue
        months_present[row_year].add(number)
        if state:
            hidden += 1
            continue
        series[row_year][number - 1] = float(amount)
    # the forecast final cost (intern: rpt_report_monthly) only beside a month published unsuppressed
    expected = {
        month: value
        for month, value in (intern.monthly.expected_final if intern.monthly else {}).items()
        if series[year][month - 1] is not None
    }
    monthly = MonthlyCosts(year, series[year], series[year - 1], hidden, expected)
    cumulative: list[float | None] = [None] * 12
    running = 0.0
    last = max(months_present[year], default=0)
    for month in range(1, last + 1):
        value = series[year][month - 1]
        if value is None and month in months_present[year]:
            break  # a suppressed month: the line stops (its next point would reveal it)
        running += value or 0.0
        cumulative[month - 1] = running
    budget = BudgetView(
        year=year,
        cumulative=cumulative,
        actual=totals.get(year),
        budget=intern.budget.budget if intern.budget else None,
        forecast=None,
        forecast_method="",
        notes=(list(intern.budget.notes) if intern.budget else [])
        + ["De jaarprognose staat alleen in de interne publicatie."],
    )
    return monthly, budget


def _segments(work: WorkCopy, target: Target, year: int) -> Ranked:
    rows = work.con.execute(
        f"SELECT segment_name, amount_eur, {SUPPRESSED} FROM {SCHEMA}.{SEGMENTS} "
        "WHERE municipality_code = ? AND year = ? AND month = 'jaar' AND segment <> 'totaal' "
        "ORDER BY amount_eur DESC NULLS LAST, segment",
        [_code(target), year],
    ).fetchall()
    shown = [(label, float(amount)) for label, amount, state in rows if not state]
    return Ranked([label for label, _ in shown], [v for _, v in shown], len(rows) - len(shown))


def _providers(work: WorkCopy, target: Target, year: int, limit: int = 10) -> Ranked:
    rows = work.con.execute(
        f"SELECT provider_name, provider_agb, amount_eur, {SUPPRESSED} FROM {SCHEMA}.{PROVIDERS} "
        "WHERE municipality_code = ? AND year = ? AND provider_agb <> 'totaal' "
        "ORDER BY amount_eur DESC NULLS LAST, provider_agb",
        [_code(target), year],
    ).fetchall()
    shown = [(f"{name} ({agb})", float(amount)) for name, agb, amount, state in rows if not state]
    return Ranked(
        [label for label, _ in shown[:limit]],
        [v for _, v in shown[:limit]],
        hidden=len(rows) - len(shown),
        extra={"providers": len(rows)},
    )


def with_tier(figures: ReportFigures, tier: str) -> ReportFigures:
    """The figures marked with their tier (the report says which publication it is)."""
    return replace(figures, tier=tier)
