"""The report's figures for one target, selected from the publication models and the marts.

The figures are computed in dbt (dbt_project/models/publication/: the rpt_report_* models and
rpt_costs_segment_month, rpt_costs_provider_year; docs/publishing.md), each target's rows under
its municipality_code or 'regio'; this module only selects them (WHERE and ORDER BY, and which
year to show) and applies the tier:
- intern: the warehouse's figures, nothing hidden (the intern files show them too);
- openbaar: jeugdhulp/publish/openbaar.py, from the suppressed publication tables only.
A section whose model is absent stays None: the report says it is not available yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jeugdhulp.publish.dutch import long_date
from jeugdhulp.publish.selection import COSTS, REGION, Target, providers_of
from jeugdhulp.publish.warehouse import WorkCopy

INTERN = "intern"
REPORT_MONTHLY = "rpt_report_monthly"
REPORT_BUDGET = "rpt_report_budget"
REPORT_KPI = "rpt_report_kpi"
REPORT_LATENESS = "rpt_report_lateness"
REPORT_COMPLETENESS = "rpt_report_completeness"
REPORT_DQ = "rpt_report_dq"
REPORT_REFERRERS = "rpt_report_referrers"
REPORT_THROUGHPUT = "rpt_report_throughput"
REPORT_ACCOUNTABILITY = "rpt_report_accountability"
SEGMENT_MONTH = "rpt_costs_segment_month"
PROVIDER_YEAR = "rpt_costs_provider_year"
BUDGET = "mart_budget_utilisation"
SETTLEMENT = "mart_settlement"
CONCENTRATION = "mart_cost_concentration"
SEGMENT_BUDGET = "mart_segment_budget"
LOCAL_TEAM = "mart_local_team"
WAITING = "mart_waiting_times"
RESIDENCE = "mart_residence_signals"
BACKTEST = "mart_forecast_backtest_summary"  # `jeugdhulp backtest`, region report only
BY_DIMENSION = "mart_clients_by_dimension"
UNKNOWN_TO_MUNICIPALITY = "mart_youths_unknown_to_municipality"
COST_CHANGE = "mart_cost_change"
TOP_CLIENTS = "mart_top_clients"
PRODUCT_NORMS = "mart_product_norms"


def _f(value) -> float | None:
    return None if value is None else float(value)


@dataclass
class MonthlyCosts:
    year: int
    current: list[float | None]
    previous: list[float | None]
    hidden: int
    # month (1-12) of the report year → the forecast of its final cost, for the months whose
    # invoices are still coming in (rpt_report_monthly.expected_final_eur)
    expected_final: dict[int, float] = field(default_factory=dict)


@dataclass
class BudgetView:
    year: int
    cumulative: list[float | None]
    actual: float | None
    budget: float | None
    forecast: float | None
    forecast_method: str
    notes: list[str] = field(default_factory=list)
    # forecast / budget in percent and its signal (rpt_report_budget, macro budget_signal)
    utilisation_pct: float | None = None
    signal: str | None = None


@dataclass
class Ranked:
    """Label → value bars, with how many candidates were left out for small numbers."""

    labels: list[str]
    values: list[float]
    hidden: int
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class KpiRow:
    label: str
    previous: float | None
    current: float | None
    decimals: int
    annualised: bool
    money: bool = False
    change: float | None = None  # percent, like for like (the mart's *_change_pct)
    whole_years: bool = False  # both values are whole years (a forecast): their change holds


@dataclass
class KpiTable:
    previous_year: int
    current_year: int
    rows: list[KpiRow]
    footnotes: list[str]
    annualised_years: set[int]
    months_compared: int | None = None  # the observed months the changes compare (12: a year)


@dataclass
class Throughput:
    periods: list[str]
    started: list[int | None]
    ended: list[int | None]
    running: list[int | None]
    latest: str | None
    by_hulpvorm: list[dict]  # the latest half-year per CBS hulpvorm (code, Dutch name)
    latest_complete: bool = True


@dataclass
class WaitingTimes:
    """The providers' waiting-time deliveries (mart_waiting_times) as the report shows them."""

    month: date | None  # the latest month delivered
    latest: list[dict]  # that month's rows, providers near their ceiling with a growing list first
    missing: list[dict]  # deliveries due in the report year and not made (at most MISSING_SHOWN)


MISSING_SHOWN = 20


@dataclass
class ProductNorms:
    """mart_product_norms of the report year (docs/purchasing_marts.md), rows as the mart has them
    with `product` and `provider` labels added. Region page: `norms` are the product rows (the
    norm and spread over all providers); a municipality page: the rows of the providers that
    invoiced it (each carries its product's norm), as its published file. `outliers`, `rises`
    and `growth`: the rows flagged is_outlier, is_significant_rise, is_significant_volume_growth
    among those the page may show (growth on the region page: the product rows)."""

    months_compared: int | None
    norms: list[dict]
    outliers: list[dict]
    rises: list[dict]
    growth: list[dict]


@dataclass
class ReportFigures:
    target: Target
    as_of: date
    year: int
    missing: dict[str, str]
    monthly: MonthlyCosts | None = None
    budget: BudgetView | None = None
    segments: Ranked | None = None
    top_providers: Ranked | None = None
    kpi: KpiTable | None = None
    throughput: Throughput | None = None
    lateness: Ranked | None = None
    completeness: Ranked | None = None
    dq: list[dict] | None = None
    settlement: list[dict] | None = None
    concentration: list[dict] | None = None
    referrers: list[dict] | None = None
    segment_budget: list[dict] | None = None  # the region's programme budget per segment
    ceilings: list[dict] | None = None  # providers with a ceiling, nearest to it first
    outside_ceilings: list[dict] | None = None  # routes outside the ceilings, per provider
    local_team: list[dict] | None = None
    waiting: WaitingTimes | None = None
    residence: list[dict] | None = None
    backtest: list[dict] | None = None  # the forecast's track record, the latest replayed year
    # issue 17: total, ZIN and PGB per municipality; a municipality's clients per segment,
    # category and provider; the youths it does not know
    clients_by_financing: list[dict] | None = None
    clients_by_dimension: list[dict] | None = None
    unknown_to_municipality: list[dict] | None = None
    cost_change: list[dict] | None = None
    top_clients: list[dict] | None = None
    product_norms: ProductNorms | None = None
    # the accountability reconciliation (rpt_report_accountability) of the latest accounting
    # year whose 1 April deadline has passed: the providers, the largest difference first, and
    # the target's total ('totaal') last
    accountability: list[dict] | None = None
    accountability_year: int | None = None
    municipality_names: dict[str, str] = field(default_factory=dict)
    # "intern" (the warehouse's figures) or "openbaar" (jeugdhulp/publish/openbaar.py)
    tier: str = "intern"


class _Query:
    """Target-aware SQL helpers over the work copy."""

    def __init__(self, work: WorkCopy, target: Target) -> None:
        self.work, self.target = work, target
        self.code = REGION if target.is_region else target.code  # the publication models' code

    def municipality(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return (
            "TRUE" if self.target.is_region else f"{prefix}municipality_code = '{self.target.code}'"
        )

    def provider(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return (
            "TRUE"
            if self.target.is_region
            else f"{prefix}provider_agb IN ({providers_of(self.target.code)})"
        )

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.work.con.execute(sql, params or []).fetchall()

    def dicts(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.work.con.execute(sql, params or [])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def provider_label(self, agb: str) -> str:
        name = self.work.provider_names.get(agb)
        return f"{name} ({agb})" if name else f"AGB {agb}"


def report_year(work: WorkCopy, as_of: date) -> int:
    """The year the report is about: the latest year with cost data, not after the reporting date
    (rpt_report_budget.is_report_year)."""
    if work.has(REPORT_BUDGET):
        found = work.con.execute(
            f"SELECT year FROM src.{REPORT_BUDGET} WHERE municipality_code = ? AND is_report_year",
            [REGION],
        ).fetchone()
        if found:
            return int(found[0])
    elif work.has(SEGMENT_MONTH):
        found = work.con.execute(
            f"SELECT year FROM src.{SEGMENT_MONTH} WHERE municipality_code = ? "
            "AND segment = 'totaal' AND month = 'jaar' AND year <= ? ORDER BY year DESC LIMIT 1",
            [REGION, as_of.year],
        ).fetchone()
        if found:
            return int(found[0])
    return as_of.year


def _monthly(q: _Query, year: int) -> tuple[MonthlyCosts, list[float | None]]:
    """The cost per month of the report year and the year before (rpt_report_monthly), with the
    forecast final cost of the months still coming in, and the report year's cumulative line."""
    series: dict[int, list[float | None]] = {year - 1: [None] * 12, year: [None] * 12}
    cumulative: list[float | None] = [None] * 12
    expected: dict[int, float] = {}
    rows = q.rows(
        "SELECT year, month, amount_eur, cumulative_eur, is_still_coming_in, expected_final_eur "
        f"FROM src.{REPORT_MONTHLY} WHERE municipality_code = ? AND year IN (?, ?) "
        "ORDER BY year, month",
        [q.code, year - 1, year],
    )
    for row_year, month, amount, running, coming_in, final in rows:
        series[row_year][month - 1] = _f(amount)
        if row_year == year:
            cumulative[month - 1] = _f(running)
            if coming_in and final is not None:
                expected[month] = float(final)
    monthly = MonthlyCosts(
        year=year,
        current=series[year],
        previous=series[year - 1],
        hidden=0,
        expected_final=expected,
    )
    return monthly, cumulative


_BUDGET_NOTES = {
    "geen_plafonds": "Er zijn geen budgetplafonds voor {year}.",
    "geen_verdeelsleutel": "Er is geen verdeelsleutel voor {year}: het budgetaandeel ontbreekt.",
}


def _budget(q: _Query, year: int, cumulative: list[float | None]) -> BudgetView:
    """The budget view of the report year (rpt_report_budget): cost so far, the budget from the
    ceilings (a municipality: its key share), the year-end forecast and its signal. Without
    rpt_report_budget (dbt builds it from mart_budget_utilisation and mart_settlement): a note
    and the cost so far only, the year's row of rpt_costs_segment_month."""
    view = BudgetView(
        year=year,
        cumulative=list(cumulative),
        actual=None,
        budget=None,
        forecast=None,
        forecast_method="",
    )
    if q.work.has(REPORT_BUDGET):
        found = q.dicts(
            f"SELECT * FROM src.{REPORT_BUDGET} WHERE municipality_code = ? AND year = ?",
            [q.code, year],
        )
        row = found[0] if found else None
        if row is None:
            view.cumulative = [None] * 12
            return view
        view.budget = _f(row["ceiling_budget_eur"])
        view.utilisation_pct = _f(row["utilisation_pct"])
        view.signal = row["signal"]
        if row["budget_status"] in _BUDGET_NOTES:
            view.notes.append(_BUDGET_NOTES[row["budget_status"]].format(year=year))
        view.actual = _f(row["actual_eur"])
        view.forecast = _f(row["forecast_eur"])
        view.forecast_method = row["forecast_method"] or ""
        return view
    view.notes.append(
        "Het budget en de prognose ontbreken: de budgetbenutting per aanbieder is nog niet "
        "beschikbaar."
    )
    if q.work.has(SEGMENT_MONTH):
        found = q.rows(
            f"SELECT amount_eur FROM src.{SEGMENT_MONTH} WHERE municipality_code = ? "
            "AND segment = 'totaal' AND month = 'jaar' AND year = ?",
            [q.code, year],
        )
        if found:
            view.actual = _f(found[0][0])
            return view
    view.cumulative = [None] * 12
    return view


def _segments(q: _Query, year: int) -> Ranked:
    """The year's cost per segment (rpt_costs_segment_month, the whole year), largest first."""
    rows = q.rows(
        f"SELECT segment_name, amount_eur FROM src.{SEGMENT_MONTH} "
        "WHERE municipality_code = ? AND year = ? AND month = 'jaar' AND segment <> 'totaal' "
        "AND amount_eur IS NOT NULL ORDER BY amount_eur DESC, segment",
        [q.code, year],
    )
    return Ranked([label for label, _ in rows], [float(amount) for _, amount in rows], hidden=0)


def _top_providers(q: _Query, year: int, limit: int = 10) -> Ranked:
    """The year's cost per provider (rpt_costs_provider_year), the largest `limit`."""
    rows = q.rows(
        f"SELECT provider_agb, provider_name, amount_eur FROM src.{PROVIDER_YEAR} "
        "WHERE municipality_code = ? AND year = ? AND provider_agb <> 'totaal' "
        "ORDER BY amount_eur DESC NULLS LAST, provider_agb",
        [q.code, year],
    )
    shown = [(agb, name, amount) for agb, name, amount in rows if amount is not None][:limit]
    return Ranked(
        [_provider_label(agb, name) for agb, name, _ in shown],
        [float(amount) for _, _, amount in shown],
        hidden=0,
        extra={"providers": len(rows)},
    )


def _provider_label(agb: str, name: str | None) -> str:
    """'Name (AGB)' as rpt_costs_provider_year names it ('AGB <code>' without a name)."""
    if not name:
        return f"AGB {agb}"
    return name if name == f"AGB {agb}" else f"{name} ({agb})"


def _kpi(q: _Query, year: int, as_of: date) -> KpiTable:
    """The KPI table of the report year and the year before (rpt_report_kpi: a municipality's
    mart_kpi_annual rows, the region's summed in dbt, with the like-for-like changes)."""
    rows = q.dicts(
        f"SELECT * FROM src.{REPORT_KPI} WHERE municipality_code = ? AND year IN (?, ?) "
        "ORDER BY year",
        [q.code, year - 1, year],
    )
    by_year = {row["year"]: row for row in rows}

    def incomplete(row: dict | None) -> bool:
        return bool(row) and row.get("months_observed") is not None and row["months_observed"] < 12

    def value(row: dict | None, column: str, annualised_column: str | None = None):
        if not row:
            return None
        if annualised_column and incomplete(row):
            return _f(row.get(annualised_column))
        return _f(row.get(column))

    def avg_months(row: dict | None):
        if not row:
            return None
        if incomplete(row):
            return _f(row.get("avg_months_per_youth_annualised"))
        return _f(row.get("avg_months_per_youth"))

    previous, current = by_year.get(year - 1), by_year.get(year)
    changes = {key: _f((current or {}).get(column)) for key, column in _CHANGES.items()}
    left_out = int((current or {}).get("municipalities_left_out") or 0)
    table_rows = [
        KpiRow(
            "Unieke jeugdigen in zorg",
            value(previous, "unique_youths"),
            value(current, "unique_youths"),
            0,
            False,
            change=changes.get("unique_youths"),
        ),
        KpiRow(
            "Jeugdigen, niet uniek",
            value(previous, "non_unique_youths"),
            value(current, "non_unique_youths"),
            0,
            False,
            change=changes.get("non_unique_youths"),
        ),
        KpiRow(
            "Geleverde zorgmaanden",
            value(previous, "care_months", "care_months_annualised"),
            value(current, "care_months", "care_months_annualised"),
            0,
            True,
            change=changes.get("care_months"),
        ),
        KpiRow(
            "Gemiddeld aantal zorgmaanden per jeugdige",
            avg_months(previous),
            avg_months(current),
            2,
            True,
        ),
        KpiRow(
            "Totale kosten",
            value(previous, "total_cost_eur", "total_cost_annualised_eur"),
            value(current, "total_cost_eur", "total_cost_annualised_eur"),
            0,
            True,
            money=True,
            change=changes.get("total_cost"),
        ),
        KpiRow(
            "Gemiddelde kosten per jeugdige per maand",
            value(previous, "avg_cost_per_youth_month"),
            value(current, "avg_cost_per_youth_month"),
            2,
            False,
            money=True,
            change=changes.get("avg_cost_per_youth_month"),
        ),
        KpiRow(
            "Intensiteit (uren per maand)",
            value(previous, "intensity_hours_per_month"),
            value(current, "intensity_hours_per_month"),
            2,
            False,
        ),
    ]
    if current is not None and current.get("forecast_cost_eur") is not None:
        table_rows.append(
            KpiRow(
                "Totale kosten: jaarprognose",
                value(previous, "total_cost_eur", "total_cost_annualised_eur"),
                _f(current.get("forecast_cost_eur")),
                0,
                False,
                money=True,
                whole_years=True,
            )
        )
    annualised = {y for y, row in by_year.items() if incomplete(row)}
    footnotes = []
    for y in sorted(annualised):
        months = by_year[y]["months_observed"]
        if y == as_of.year:
            footnotes.append(f"* {y} op basis van stand per {long_date(as_of)} × 12/{months}")
        else:
            footnotes.append(f"* {y} op basis van {months} waargenomen maanden × 12/{months}")
    if q.target.is_region:
        footnotes.append(
            "Regio: som van de gemeenten; een jeugdige die in het jaar verhuisde, telt in "
            "beide gemeenten. De intensiteit is niet over gemeenten op te tellen."
        )
    if left_out:
        footnotes.append(
            f"% regio: over de gemeenten met beide kanten van de vergelijking; {left_out} "
            "gemeente(n) zonder dezelfde maanden in het jaar ervoor tellen niet mee."
        )
    months = current.get("months_observed") if current else None
    return KpiTable(year - 1, year, table_rows, footnotes, annualised, months)


_CHANGES = {
    "unique_youths": "unique_youths_change_pct",
    "non_unique_youths": "non_unique_youths_change_pct",
    "care_months": "care_months_change_pct",
    "total_cost": "total_cost_change_pct",
    "avg_cost_per_youth_month": "avg_cost_per_youth_month_change_pct",
}


def _throughput(q: _Query, as_of: date) -> Throughput:
    """rpt_report_throughput: the last six half-years up to the current one and the latest per
    hulpvorm."""
    current_half = f"{as_of.year}-H{1 if as_of.month <= 6 else 2}"
    totals = q.dicts(
        f"SELECT half_year, started, ended, running_at_end, is_complete_period "
        f"FROM src.{REPORT_THROUGHPUT} WHERE municipality_code = ? AND hulpvorm = 'totaal' "
        "AND half_year <= ? ORDER BY half_year DESC LIMIT 6",
        [q.code, current_half],
    )[::-1]
    latest = totals[-1]["half_year"] if totals else None
    categories = (
        q.dicts(
            "SELECT hulpvorm, hulpvorm_label AS label, youths, started, started_repeat, ended, "
            "ended_by_plan, ended_premature, running_at_end, avg_duration_days_ended "
            f"FROM src.{REPORT_THROUGHPUT} WHERE municipality_code = ? AND half_year = ? "
            "AND hulpvorm <> 'totaal' ORDER BY hulpvorm, label",
            [q.code, latest],
        )
        if latest is not None
        else []
    )
    return Throughput(
        periods=[row["half_year"] for row in totals],
        started=[row["started"] for row in totals],
        ended=[row["ended"] for row in totals],
        running=[row["running_at_end"] for row in totals],
        latest=latest,
        by_hulpvorm=categories,
        latest_complete=bool(not totals or totals[-1]["is_complete_period"] is not False),
    )


def _accountability(q: _Query, as_of: date) -> tuple[int | None, list[dict]]:
    """The latest accounting year due by `as_of` (accountability by 1 April of the next year),
    else the latest present; its rows for the target, the largest absolute difference first."""
    years = [
        row["year"]
        for row in q.dicts(
            f"SELECT DISTINCT year FROM src.{REPORT_ACCOUNTABILITY} WHERE municipality_code = ? "
            "ORDER BY year DESC",
            [q.code],
        )
    ]
    if not years:
        return None, []
    due = [year for year in years if date(year + 1, 4, 1) <= as_of]
    year = due[0] if due else years[0]
    rows = q.dicts(
        f"SELECT * FROM src.{REPORT_ACCOUNTABILITY} WHERE municipality_code = ? AND year = ? "
        "ORDER BY provider_agb = 'totaal', absolute_difference_eur DESC, provider_agb",
        [q.code, year],
    )
    return year, rows


def _lateness(q: _Query, year: int, limit: int = 12) -> Ranked:
    """rpt_report_lateness: the providers with lines, the latest first."""
    rows = q.dicts(
        f"SELECT provider_agb, lines, late_pct FROM src.{REPORT_LATENESS} "
        "WHERE municipality_code = ? AND year = ? AND provider_agb <> 'totaal' AND lines > 0 "
        "ORDER BY late_pct DESC, lines DESC, provider_agb",
        [q.code, year],
    )
    total = q.dicts(
        f"SELECT late_pct FROM src.{REPORT_LATENESS} "
        "WHERE municipality_code = ? AND year = ? AND provider_agb = 'totaal'",
        [q.code, year],
    )
    shown = rows[:limit]
    return Ranked(
        [q.provider_label(row["provider_agb"]) for row in shown],
        [float(row["late_pct"]) for row in shown],
        hidden=0,
        extra={
            "overall": _f(total[0]["late_pct"]) if total else None,
            "providers": len(rows),
            "lines": [int(row["lines"]) for row in shown],
        },
    )


def _completeness(q: _Query, year: int, limit: int = 10) -> Ranked:
    """rpt_report_completeness: the providers with the most missing care months."""
    missing = q.dicts(
        f"SELECT provider_agb, missing_care_months, invoiced_pct FROM src.{REPORT_COMPLETENESS} "
        "WHERE municipality_code = ? AND year = ? AND provider_agb <> 'totaal' "
        f"AND missing_care_months > 0 ORDER BY missing_care_months DESC, provider_agb LIMIT {limit}",
        [q.code, year],
    )
    total = q.dicts(
        f"SELECT expected_care_months, invoiced_care_months, invoiced_pct "
        f"FROM src.{REPORT_COMPLETENESS} WHERE municipality_code = ? AND year = ? "
        "AND provider_agb = 'totaal'",
        [q.code, year],
    )
    total_row = total[0] if total else {}
    return Ranked(
        [q.provider_label(row["provider_agb"]) for row in missing],
        [float(row["missing_care_months"]) for row in missing],
        hidden=0,
        extra={
            "pct": [_f(row["invoiced_pct"]) for row in missing],
            "overall": _f(total_row.get("invoiced_pct")),
            "expected": int(total_row.get("expected_care_months") or 0),
            "invoiced": int(total_row.get("invoiced_care_months") or 0),
        },
    )


def _dq(q: _Query) -> list[dict]:
    """rpt_report_dq: findings per rule and severity, the most first."""
    return q.dicts(
        f"SELECT rule_id, severity, findings, providers FROM src.{REPORT_DQ} "
        "WHERE municipality_code = ? ORDER BY findings DESC, rule_id, severity",
        [q.code],
    )


def _per_municipality_or_own(q: _Query, mart: str, year: int) -> list[dict]:
    """Region: every municipality's row for the year (or the latest before it); a municipality:
    its own rows, all years."""
    if q.target.is_region:
        return q.dicts(
            f"SELECT * FROM pub.{mart} WHERE year = (SELECT max(year) FROM pub.{mart} "
            "WHERE year <= ?) ORDER BY municipality_code",
            [year],
        )
    return q.dicts(
        f"SELECT * FROM pub.{mart} WHERE municipality_code = ? ORDER BY year", [q.target.code]
    )


def _referrers(q: _Query, year: int) -> list[dict]:
    """rpt_report_referrers: allocations, youths and cost per referrer type of the year."""
    rows = q.dicts(
        f"SELECT referrer_type, referrer_description, allocations, youths, cost_eur "
        f"FROM src.{REPORT_REFERRERS} WHERE municipality_code = ? AND year = ? "
        "ORDER BY referrer_type",
        [q.code, year],
    )
    return rows


def _segment_budget(q: _Query, year: int) -> list[dict]:
    """The region's programme budget per segment (no persons: the same on every page)."""
    return q.dicts(
        f"SELECT * FROM pub.{SEGMENT_BUDGET} WHERE year = ? ORDER BY budget_eur DESC NULLS LAST, "
        "segment",
        [year],
    )


def _ceilings(q: _Query, year: int) -> tuple[list[dict], list[dict]]:
    """(providers with a ceiling, the worst first: the highest utilisation of the ceiling by
    the forecast; the routes outside the ceilings), for the target's providers."""
    rows = q.dicts(  # as published: a provider's amounts hidden below 5 persons stay hidden
        f"SELECT * FROM pub.{BUDGET} WHERE year = ? AND {q.provider()} "
        "ORDER BY utilisation_pct DESC NULLS LAST, ceiling_reached_on NULLS LAST, provider_agb",
        [year],
    )
    for row in rows:
        row["provider"] = q.provider_label(row["provider_agb"])
    outside = [row for row in rows if row.get("outside_ceilings")]
    within = [row for row in rows if not row.get("outside_ceilings") and row["budget_ceiling_eur"]]
    outside.sort(key=lambda row: (str(row.get("contract_type")), -float(row["forecast_eur"] or 0)))
    return within, outside


def _waiting(q: _Query, year: int) -> WaitingTimes:
    month = q.rows(f"SELECT max(report_month) FROM pub.{WAITING} WHERE delivered")[0][0]
    latest = (
        q.dicts(
            f"SELECT * FROM pub.{WAITING} WHERE report_month = ? AND delivered "
            "ORDER BY near_ceiling_and_growing DESC, waiting_weeks DESC NULLS LAST, provider_agb, "
            "product_category",
            [month],
        )
        if month is not None
        else []
    )
    missing = q.dicts(
        f"SELECT * FROM pub.{WAITING} WHERE NOT delivered AND year(report_month) = ? "
        f"ORDER BY report_month, provider_agb, product_category LIMIT {MISSING_SHOWN + 1}",
        [year],
    )
    for row in latest + missing:
        row["provider"] = q.provider_label(row["provider_agb"])
    return WaitingTimes(month, latest, missing)


def _residence(q: _Query, year: int) -> list[dict]:
    return q.dicts(
        f"SELECT * FROM pub.{RESIDENCE} WHERE {q.municipality()} AND year(month) = ? "
        "ORDER BY month, municipality_code",
        [year],
    )


def _clients_by_financing(q: _Query, year: int) -> list[dict]:
    """Total, ZIN and PGB of the year as published: per municipality (distinct clients are
    never summed over municipalities, so the region page lists them), total first."""
    return q.dicts(
        f"SELECT * FROM pub.{BY_DIMENSION} WHERE {q.municipality()} AND year = ? "
        "AND dimension IN ('total', 'financing') ORDER BY municipality_code, "
        "CASE dimension_value WHEN 'totaal' THEN 0 WHEN 'ZIN' THEN 1 ELSE 2 END",
        [year],
    )


def _clients_by_dimension(q: _Query, year: int) -> list[dict]:
    """A municipality's clients and cost of the year per segment, product category and
    provider as published, the largest amounts first (hidden amounts last)."""
    rows = q.dicts(
        f"SELECT * FROM pub.{BY_DIMENSION} WHERE municipality_code = ? AND year = ? "
        "AND dimension IN ('segment', 'product_category', 'provider') "
        "ORDER BY dimension, amount_eur DESC NULLS LAST, dimension_value",
        [q.target.code, year],
    )
    for row in rows:
        if row["dimension"] == "provider":
            row["dimension_label"] = q.provider_label(row["dimension_value"])
    return rows


def _cost_change(q: _Query, year: int) -> list[dict]:
    """A municipality's cost change of the year per product category as published
    (mart_cost_change: volume, intensity and price effects), the largest changes first."""
    return q.dicts(
        f"SELECT * FROM pub.{COST_CHANGE} WHERE municipality_code = ? AND year = ? "
        "ORDER BY abs(cost_change_eur) DESC NULLS LAST, product_category",
        [q.target.code, year],
    )


def _top_clients(q: _Query, year: int) -> list[dict]:
    """The municipality's ten most expensive clients of the year under their case keys."""
    return q.dicts(
        f"SELECT * FROM pub.{TOP_CLIENTS} WHERE municipality_code = ? AND year = ? ORDER BY rank",
        [q.target.code, year],
    )


def _product_labels(q: _Query) -> dict[str, str]:
    """Product code → its description, from mart_clients_by_dimension's product rows."""
    if not q.work.has(BY_DIMENSION) or "dimension_label" not in q.work.columns[BY_DIMENSION]:
        return {}
    return {
        code: label
        for code, label in q.rows(
            f"SELECT dimension_value, max(dimension_label) FROM src.{BY_DIMENSION} "
            "WHERE dimension = 'product_code' GROUP BY 1"
        )
        if code and label
    }


def _product_norms(q: _Query, year: int) -> ProductNorms:
    """The norms and flags of mart_product_norms for the year, the largest products first: all of
    them on the region page, the rows of the municipality's providers on its own page."""
    scope = "TRUE" if q.target.is_region else f"level = 'provider' AND {q.provider()}"
    rows = q.dicts(
        f"SELECT * FROM pub.{PRODUCT_NORMS} WHERE year = ? AND {scope} "
        "ORDER BY product_code, provider_agb NULLS FIRST",
        [year],
    )
    labels = _product_labels(q)
    for row in rows:
        code = row["product_code"]
        row["product"] = f"{labels[code]} ({code})" if code in labels else code
        agb = row["provider_agb"]
        row["provider"] = q.provider_label(agb) if agb else "Alle aanbieders"
    size = {r["product_code"]: r["amount_eur"] or 0 for r in rows if r["level"] == "product"}
    if not q.target.is_region:
        size = {}
        for r in rows:
            size[r["product_code"]] = size.get(r["product_code"], 0) + (r["amount_eur"] or 0)
    rows.sort(key=lambda r: -size.get(r["product_code"], 0))  # stable: code, provider kept
    norms = [r for r in rows if r["level"] == ("product" if q.target.is_region else "provider")]
    months = max((r["months_compared"] or 0 for r in rows), default=0) or None
    return ProductNorms(
        months_compared=months,
        norms=norms,
        outliers=sorted(
            (r for r in rows if r["level"] == "provider" and r["is_outlier"]),
            key=lambda r: -(r["amount_index"] or 0),
        ),
        rises=sorted(
            (r for r in rows if r["is_significant_rise"]),
            key=lambda r: -(r["units_per_client_change_pct"] or 0),
        ),
        growth=sorted(
            (r for r in norms if r["is_significant_volume_growth"]),
            key=lambda r: -(r["clients_change_pct"] or 0),
        ),
    )


def _backtest(q: _Query) -> list[dict]:
    """mart_forecast_backtest_summary of the latest year replayed (no persons: region only)."""
    return q.dicts(
        f"SELECT * FROM src.{BACKTEST} WHERE year = (SELECT max(year) FROM src.{BACKTEST}) "
        "ORDER BY reporting_date"
    )


def compute(work: WorkCopy, target: Target, as_of: date, tier: str = INTERN) -> ReportFigures:
    """Everything the intern report shows for one target (the warehouse's figures, nothing
    hidden); a part is None when its model is absent. The openbaar page's figures are
    jeugdhulp/publish/openbaar.py's `openbaar_figures(work, <these>)`, from the suppressed
    tables only (that module imports this one, not the other way round)."""
    if tier != INTERN:
        raise ValueError(f"unknown tier {tier!r}: compute() gives the intern figures")
    q = _Query(work, target)
    year = report_year(work, as_of)
    figures = ReportFigures(
        target=target,
        as_of=as_of,
        year=year,
        missing=dict(work.skipped),
        municipality_names=dict(work.municipality_names),
        tier=INTERN,
    )
    if work.has(REPORT_MONTHLY):
        figures.monthly, cumulative = _monthly(q, year)
        figures.budget = _budget(q, year, cumulative)
    if work.has(SEGMENT_MONTH):
        figures.segments = _segments(q, year)
    if work.has(PROVIDER_YEAR):
        figures.top_providers = _top_providers(q, year)
    if work.has(REPORT_KPI):
        figures.kpi = _kpi(q, year, as_of)
    if work.has(REPORT_THROUGHPUT):
        figures.throughput = _throughput(q, as_of)
    if work.has(REPORT_LATENESS):
        figures.lateness = _lateness(q, year)
    if work.has(REPORT_COMPLETENESS):
        figures.completeness = _completeness(q, year)
    if work.has(REPORT_DQ):
        figures.dq = _dq(q)
    if work.has(SETTLEMENT) and "year" in work.columns[SETTLEMENT]:
        figures.settlement = _per_municipality_or_own(q, SETTLEMENT, year)
    if work.has(CONCENTRATION) and "year" in work.columns[CONCENTRATION]:
        figures.concentration = _per_municipality_or_own(q, CONCENTRATION, year)
    if work.has(REPORT_REFERRERS):
        figures.referrers = _referrers(q, year)
    if work.has(SEGMENT_BUDGET):
        figures.segment_budget = _segment_budget(q, year)
    if work.has(BUDGET) and {"outside_ceilings", "ceiling_reached_on"} <= set(work.columns[BUDGET]):
        figures.ceilings, figures.outside_ceilings = _ceilings(q, year)
    if work.has(LOCAL_TEAM):
        figures.local_team = _per_municipality_or_own(q, LOCAL_TEAM, year)
    if work.has(WAITING):
        figures.waiting = _waiting(q, year)
    if work.has(RESIDENCE):
        figures.residence = _residence(q, year)
    if work.has(REPORT_ACCOUNTABILITY):
        figures.accountability_year, figures.accountability = _accountability(q, as_of)
    if work.has(BACKTEST) and target.is_region:
        figures.backtest = _backtest(q)
    if work.has(BY_DIMENSION) and {"year", "dimension"} <= set(work.columns[BY_DIMENSION]):
        figures.clients_by_financing = _clients_by_financing(q, year)
        if not target.is_region:
            figures.clients_by_dimension = _clients_by_dimension(q, year)
    if work.has(COST_CHANGE) and not target.is_region:
        figures.cost_change = _cost_change(q, year)
    if work.has(TOP_CLIENTS) and not target.is_region:
        figures.top_clients = _top_clients(q, year)
    if work.has(PRODUCT_NORMS) and (target.is_region or work.has(COSTS)):
        figures.product_norms = _product_norms(q, year)
    if work.has(UNKNOWN_TO_MUNICIPALITY) and "year" in work.columns[UNKNOWN_TO_MUNICIPALITY]:
        figures.unknown_to_municipality = _per_municipality_or_own(q, UNKNOWN_TO_MUNICIPALITY, year)
    return figures
