"""The report's figures for one target, aggregated from the marts and suppressed like the files.

Two rules keep the report as safe as the files:
- a cost total (an amount) is shown only when one of its cost cells has at least 5 clients: the
  largest `clients` is the fewest distinct persons the total certainly covers;
- a total of counts of persons is the sum of its parts that the files show, plus the hidden parts
  only when those add up to 0 or at least 5 persons; so nobody can subtract the published parts
  from a total and find a hidden count of 1 to 4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jeugdhulp.publish.catalogue import DQ_SUMMARY, MIN_PERSONS, SPECS
from jeugdhulp.publish.dutch import long_date
from jeugdhulp.publish.selection import Target, providers_of
from jeugdhulp.publish.suppression import COSTS
from jeugdhulp.publish.warehouse import WorkCopy

KPI = "mart_kpi_annual"
TIMELINESS = "mart_invoice_timeliness"
COMPLETENESS = "mart_invoicing_completeness"
BUDGET = "mart_budget_utilisation"
THROUGHPUT = "mart_throughput"
SETTLEMENT = "mart_settlement"
CONCENTRATION = "mart_cost_concentration"
REFERRERS = "mart_referrers"
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


def is_small(count: float | int | None) -> bool:
    return count is not None and 1 <= count < MIN_PERSONS


def _f(value) -> float | None:
    return None if value is None else float(value)


@dataclass
class MonthlyCosts:
    year: int
    current: list[float | None]
    previous: list[float | None]
    hidden: int


@dataclass
class BudgetView:
    year: int
    cumulative: list[float | None]
    actual: float | None
    budget: float | None
    forecast: float | None
    forecast_method: str
    notes: list[str] = field(default_factory=list)


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
    excluded: bool = False
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
    municipality_names: dict[str, str] = field(default_factory=dict)
    # "intern" (the warehouse's figures) or "openbaar" (jeugdhulp/publish/openbaar.py)
    tier: str = "intern"


class _Query:
    """Target-aware SQL helpers over the work copy."""

    def __init__(self, work: WorkCopy, target: Target) -> None:
        self.work, self.target = work, target

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

    def visible_totals(
        self,
        mart: str,
        group_by: dict[str, str],
        measures: dict[str, tuple[str, str]],
        where: str,
        params: list | None = None,
        include_hidden: bool = True,
    ) -> list[dict]:
        """Per group, each measure summed over the parts the files show, plus the hidden parts only
        when their persons add up to 0 or at least 5 (never with include_hidden=False: for a
        table whose rows are the published cells themselves, where showing a hidden part of 5 or
        more would undo complementary suppression).

        group_by: alias → SQL over `s` (src row); measures: name → (SQL over `s`, person-count
        columns): a part is hidden when the first of those columns is NULL in `p` (the published
        row), and the hidden parts count only when each of the columns adds up to 0 or ≥ 5 over
        them. Each result row has `excluded`: True when some hidden parts were left out.
        """
        grain = [c for c in SPECS[mart].grain if c in self.work.columns[mart]]
        join = " AND ".join(f"s.{c} IS NOT DISTINCT FROM p.{c}" for c in grain)
        select = [f"{expr} AS {alias}" for alias, expr in group_by.items()]
        for name, (expr, populations) in measures.items():
            hidden = f"p.{populations[0]} IS NULL"
            select += [
                f"sum(CASE WHEN NOT ({hidden}) THEN {expr} END) AS {name}__v",
                f"sum(CASE WHEN {hidden} THEN {expr} END) AS {name}__h",
            ]
            select += [
                f"sum(CASE WHEN {hidden} THEN s.{column} END) AS {name}__p{index}"
                for index, column in enumerate(populations)
            ]
        order = ", ".join(str(i) for i in range(1, len(group_by) + 1))
        rows = self.dicts(
            f"SELECT {', '.join(select)} FROM src.{mart} s JOIN pub.{mart} p ON {join} "
            f"WHERE {where} GROUP BY {order} ORDER BY {order}",
            params,
        )
        results = []
        for row in rows:
            result = {alias: row[alias] for alias in group_by}
            result["excluded"] = False
            for name, (_, populations) in measures.items():
                visible, hidden = row[f"{name}__v"], row[f"{name}__h"]
                if not include_hidden and hidden is not None:
                    result[name] = visible
                    result["excluded"] = result["excluded"] or visible is not None
                elif any(is_small(row[f"{name}__p{index}"]) for index in range(len(populations))):
                    result[name] = visible
                    # a total is shown without its small hidden parts (all hidden: nothing shown)
                    result["excluded"] = result["excluded"] or visible is not None
                elif visible is None and hidden is None:
                    result[name] = None
                else:
                    result[name] = (visible or 0) + (hidden or 0)
            results.append(result)
        return results


def report_year(work: WorkCopy, as_of: date) -> int:
    """The year the report is about: the latest year with cost data, not after the reporting date."""
    if work.has(COSTS):
        found = work.con.execute(
            f"SELECT max(year(service_month)) FROM src.{COSTS} WHERE year(service_month) <= ?",
            [as_of.year],
        ).fetchone()[0]
        if found:
            return int(found)
    return as_of.year


def _monthly(q: _Query, year: int, as_of: date) -> MonthlyCosts:
    rows = q.rows(
        f"SELECT year(service_month), month(service_month), sum(amount_eur), max(clients) "
        f"FROM src.{COSTS} WHERE {q.municipality()} AND year(service_month) IN (?, ?) "
        "GROUP BY ALL",
        [year - 1, year],
    )
    series = {year - 1: [None] * 12, year: [None] * 12}
    hidden = 0
    for row_year, month, amount, persons in rows:
        if row_year == as_of.year and month > as_of.month:
            continue
        if persons is None or persons < MIN_PERSONS:
            hidden += 1
            continue
        series[row_year][month - 1] = float(amount)
    return MonthlyCosts(year=year, current=series[year], previous=series[year - 1], hidden=hidden)


def _budget(q: _Query, year: int, as_of: date) -> BudgetView:
    work = q.work
    notes: list[str] = []
    rows = q.rows(
        f"SELECT month(service_month), sum(amount_eur) FROM src.{COSTS} "
        f"WHERE {q.municipality()} AND year(service_month) = ? GROUP BY ALL ORDER BY 1",
        [year],
    )
    persons = q.rows(
        f"SELECT max(clients) FROM src.{COSTS} WHERE {q.municipality()} "
        "AND year(service_month) = ?",
        [year],
    )[0][0]
    by_month = {
        month: float(amount)
        for month, amount in rows
        if not (year == as_of.year and month > as_of.month)
    }
    cumulative: list[float | None] = [None] * 12
    actual = None
    if by_month and persons is not None and persons >= MIN_PERSONS:
        running = 0.0
        for month in range(1, max(by_month) + 1):
            running += by_month.get(month, 0.0)
            cumulative[month - 1] = running
        actual = running

    budget = None
    if work.has(BUDGET):
        ceilings = q.rows(
            f"SELECT sum(budget_ceiling_eur) FROM src.{BUDGET} WHERE year = ?", [year]
        )[0][0]
        if ceilings is None:
            notes.append(f"Er zijn geen budgetplafonds voor {year}.")
        elif q.target.is_region:
            budget = float(ceilings)
        elif work.has(SETTLEMENT):
            share = q.rows(
                f"SELECT key_share_pct FROM src.{SETTLEMENT} WHERE municipality_code = ? "
                "AND year = ?",
                [q.target.code, year],
            )
            if share and share[0][0] is not None:
                budget = float(ceilings) * float(share[0][0]) / 100
            else:
                notes.append(f"Er is geen verdeelsleutel voor {year}: het budgetaandeel ontbreekt.")
        else:
            notes.append(
                "Het budgetaandeel ontbreekt: de verrekening (verdeelsleutel T-2) is nog "
                "niet beschikbaar."
            )
    else:
        notes.append(
            "Het budget ontbreekt: de budgetbenutting per aanbieder is nog niet beschikbaar."
        )

    forecast, method = None, ""
    if actual is not None and work.has(BUDGET):
        # months with cost data in the region this year: the naive factor for providers that
        # have no forecast of their own (e.g. maatwerk without a ceiling)
        months = q.rows(
            f"SELECT count(DISTINCT service_month) FROM src.{COSTS} "
            "WHERE year(service_month) = ? AND service_month <= ?",
            [year, as_of],
        )[0][0]
        naive = 12 / months if months else 1.0
        forecast, without = q.rows(
            f"WITH own AS (SELECT provider_agb, sum(amount_eur) AS amount FROM src.{COSTS} "
            f"  WHERE {q.municipality()} AND year(service_month) = ? GROUP BY ALL), "
            f"factor AS (SELECT provider_agb, CASE WHEN invoiced_eur > 0 "
            f"  THEN CAST(forecast_eur AS DOUBLE) / CAST(invoiced_eur AS DOUBLE) END AS factor "
            f"  FROM src.{BUDGET} WHERE year = ?) "
            "SELECT sum(CAST(amount AS DOUBLE) * coalesce(factor, ?)), count(*) FILTER (factor IS NULL) "
            "FROM own LEFT JOIN factor USING (provider_agb)",
            [year, year, naive],
        )[0]
        method = (
            "per aanbieder de regionale jaarprognose (inclusief nog niet gedeclareerde zorg), "
            "naar rato van de eigen kosten"
        )
        if without:
            method += f"; {without} aanbieder(s) zonder prognose doorgetrokken × 12/{months}"
    elif actual is not None and work.has(KPI):
        row = q.rows(
            f"SELECT sum(total_cost_annualised_eur), max(months_observed) FROM src.{KPI} "
            f"WHERE {q.municipality()} AND year = ?",
            [year],
        )[0]
        if row[0] is not None and row[1] is not None and row[1] < 12:
            forecast = float(row[0])
            method = f"eenvoudige doortrekking: stand × 12/{row[1]}"
        notes.append(
            "De prognose per aanbieder ontbreekt; de prognose is een eenvoudige doortrekking."
        )
    return BudgetView(
        year=year,
        cumulative=cumulative,
        actual=actual,
        budget=budget,
        forecast=_f(forecast),
        forecast_method=method,
        notes=notes,
    )


def _segments(q: _Query, year: int) -> Ranked:
    rows = q.rows(
        f"SELECT coalesce(segment, 'onbekend'), sum(amount_eur), max(clients) "
        f"FROM src.{COSTS} WHERE {q.municipality()} AND year(service_month) = ? "
        "GROUP BY ALL ORDER BY 2 DESC, 1",
        [year],
    )
    shown = [
        (label, float(amount)) for label, amount, persons in rows if (persons or 0) >= MIN_PERSONS
    ]
    return Ranked(
        [label for label, _ in shown], [value for _, value in shown], hidden=len(rows) - len(shown)
    )


def _top_providers(q: _Query, year: int, limit: int = 10) -> Ranked:
    rows = q.rows(
        f"SELECT provider_agb, sum(amount_eur), max(clients) FROM src.{COSTS} "
        f"WHERE {q.municipality()} AND year(service_month) = ? GROUP BY ALL "
        "ORDER BY 2 DESC, 1",
        [year],
    )
    shown = [(agb, float(amount)) for agb, amount, persons in rows if (persons or 0) >= MIN_PERSONS]
    return Ranked(
        [q.provider_label(agb) for agb, _ in shown[:limit]],
        [value for _, value in shown[:limit]],
        hidden=len(rows) - len(shown),
        extra={"providers": len(rows)},
    )


def _kpi(q: _Query, year: int, as_of: date) -> KpiTable:
    excluded_years = []
    if q.target.is_region:
        measures = {
            column: (f"s.{column}", ("unique_youths", "non_unique_youths"))
            for column in (
                "unique_youths",
                "non_unique_youths",
                "care_months",
                "total_cost_eur",
                "total_cost_annualised_eur",
                "care_months_annualised",
            )
        }
        if "forecast_cost_eur" in q.work.columns[KPI]:
            measures["forecast_cost_eur"] = (
                "s.forecast_cost_eur",
                ("unique_youths", "non_unique_youths"),
            )
        rows = q.visible_totals(
            KPI, {"year": "s.year"}, measures, "s.year IN (?, ?)", [year - 1, year]
        )
        observed = dict(
            q.rows(
                f"SELECT year, max(months_observed) FROM src.{KPI} "
                "WHERE year IN (?, ?) GROUP BY year",
                [year - 1, year],
            )
        )
        for row in rows:
            row["months_observed"] = observed.get(row["year"])
            if row["excluded"]:
                excluded_years.append(row["year"])
            months, youths = row["care_months"], row["non_unique_youths"]
            row["avg_months_per_youth"] = (
                float(months) / youths if months is not None and youths else None
            )
            cost = row["total_cost_eur"]
            row["avg_cost_per_youth_month"] = (
                float(cost) / float(months) if cost is not None and months else None
            )
            row["intensity_hours_per_month"] = None  # hours are not in the mart: not summable
    else:
        rows = q.dicts(
            f"SELECT * FROM pub.{KPI} WHERE municipality_code = ? AND year IN (?, ?)",
            [q.target.code, year - 1, year],
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
            months, youths = row.get("care_months_annualised"), row.get("non_unique_youths")
            return float(months) / float(youths) if months is not None and youths else None
        return _f(row.get("avg_months_per_youth"))

    previous, current = by_year.get(year - 1), by_year.get(year)
    changes, left_out = _like_for_like(q, year, current)
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
            f"% regio: over de gemeenten waarvan beide kanten van de vergelijking getoond "
            f"worden; {left_out} gemeente(n) met minder dan {MIN_PERSONS} jeugdigen in een van "
            "beide perioden tellen niet mee."
        )
    for y in excluded_years:
        footnotes.append(
            f"{y}: zonder de gemeente(n) met minder dan {MIN_PERSONS} jeugdigen "
            "(niet getoond, privacy)."
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
# the sides of each like-for-like change the region's is summed from (mart_kpi_annual)
_SIDES = {
    "unique_youths": ("unique_youths_observed", "previous_unique_youths_observed"),
    "care_months": ("care_months_observed", "previous_care_months_observed"),
    "total_cost": ("total_cost_observed_eur", "previous_total_cost_observed_eur"),
}


def _like_for_like(q: _Query, year: int, current: dict | None) -> tuple[dict, int]:
    """Per KPI, the change in percent of the observed months against the same months of the
    year before, and how many municipalities the region's leaves out. A municipality's comes
    from its mart row. The region's is the sum of both sides over the municipalities whose both
    sides the files show (a side of 1 to 4 youths is hidden, and so is that municipality's
    change): sums of published values only, so nothing hidden can be recovered from it."""
    if current is None:
        return {}, 0
    if not q.target.is_region:
        return {key: _f(current.get(column)) for key, column in _CHANGES.items()}, 0
    columns = [column for pair in _SIDES.values() for column in pair]
    if not set(columns) <= set(q.work.columns[KPI]):
        return {}, 0
    both = " AND ".join(f"{column} IS NOT NULL" for column in columns)
    sums = ", ".join(f"sum({column}) AS {column}" for column in columns)
    left_out = q.rows(
        f"SELECT count(*) FILTER (WHERE NOT ({both})) FROM pub.{KPI} WHERE year = ?", [year]
    )[0][0]
    usable = q.dicts(
        f"SELECT {sums} FROM pub.{KPI} WHERE year = ? AND {both}",
        [year],
    )[0]

    def change(now, before) -> float | None:
        if now is None or before is None or float(before) <= 0:
            return None
        return round(100 * float(now) / float(before) - 100, 2)

    changes = {key: change(usable[now], usable[before]) for key, (now, before) in _SIDES.items()}
    cost, months = _SIDES["total_cost"], _SIDES["care_months"]
    if usable[months[0]] and usable[months[1]]:
        changes["avg_cost_per_youth_month"] = change(
            float(usable[cost[0]]) / float(usable[months[0]]),
            float(usable[cost[1]]) / float(usable[months[1]]),
        )
    return changes, int(left_out or 0)


def _throughput(q: _Query, as_of: date) -> Throughput | None:
    columns = q.work.columns[THROUGHPUT]
    if "half_year" not in columns or "dimension" not in columns:
        return None
    # each trajectory once: the rows of one dimension (docs/throughput_method.md)
    by_hulpvorm = "s.dimension = 'hulpvorm'"
    current_half = f"{as_of.year}-H{1 if as_of.month <= 6 else 2}"
    totals = q.visible_totals(
        THROUGHPUT,
        {"half_year": "s.half_year"},
        {
            "started": ("s.started", ("started", "youths")),
            "ended": ("s.ended", ("ended", "youths")),
            "running": ("s.running_at_end", ("running_at_end", "youths")),
        },
        f"{q.municipality('s')} AND {by_hulpvorm} AND s.half_year <= ?",
        [current_half],
    )[-6:]
    latest = totals[-1]["half_year"] if totals else None
    categories: list[dict] = []
    latest_complete = True
    if latest is not None:
        categories = q.visible_totals(
            THROUGHPUT,
            {"hulpvorm": "s.dimension_value", "label": "s.dimension_label"},
            {
                "youths": ("s.youths", ("youths",)),
                "started": ("s.started", ("started", "youths")),
                "started_repeat": ("s.started_repeat", ("started_repeat", "youths")),
                "ended": ("s.ended", ("ended", "youths")),
                "ended_by_plan": ("s.ended_by_plan", ("ended_by_plan", "youths")),
                "ended_premature": ("s.ended_premature", ("ended_premature", "youths")),
                "running_at_end": ("s.running_at_end", ("running_at_end", "youths")),
                "duration_days": ("s.avg_duration_days_ended * s.ended", ("ended", "youths")),
            },
            f"{q.municipality('s')} AND {by_hulpvorm} AND s.half_year = ?",
            [latest],
            include_hidden=False,
        )
        if "is_complete_period" in columns:
            found = q.dicts(
                f"SELECT bool_and(s.is_complete_period) AS complete FROM src.{THROUGHPUT} s "
                "WHERE s.half_year = ?",
                [latest],
            )
            latest_complete = bool(found and found[0]["complete"] is not False)
        for row in categories:
            days, ended = row.pop("duration_days"), row["ended"]
            row["avg_duration_days_ended"] = (
                float(days) / ended if days is not None and ended else None
            )
    return Throughput(
        periods=[row["half_year"] for row in totals],
        started=[row["started"] for row in totals],
        ended=[row["ended"] for row in totals],
        running=[row["running"] for row in totals],
        latest=latest,
        by_hulpvorm=categories,
        excluded=any(row["excluded"] for row in totals + categories),
        latest_complete=latest_complete,
    )


def _lateness(q: _Query, year: int, limit: int = 12) -> Ranked:
    rows = q.visible_totals(
        TIMELINESS,
        {"provider_agb": "s.provider_agb"},
        {"lines": ("s.lines", ("lines",)), "late": ("s.late_lines", ("lines",))},
        f"{q.provider('s')} AND year(s.service_month) = ?",
        [year],
    )
    kept = [
        (row["provider_agb"], row["lines"], row["late"] or 0)
        for row in rows
        if row["lines"] and row["lines"] >= MIN_PERSONS
    ]
    kept.sort(key=lambda row: (-row[2] / row[1], -row[1], row[0]))
    total_lines = sum(row[1] for row in kept)
    overall = 100 * sum(row[2] for row in kept) / total_lines if total_lines else None
    shown = kept[:limit]
    return Ranked(
        [q.provider_label(agb) for agb, _, _ in shown],
        [100 * late / lines for _, lines, late in shown],
        hidden=len(rows) - len(kept),
        extra={
            "overall": overall,
            "providers": len(kept),
            "lines": [int(lines) for _, lines, _ in shown],
        },
    )


def _completeness(q: _Query, year: int, limit: int = 10) -> Ranked:
    rows = q.visible_totals(
        COMPLETENESS,
        {"provider_agb": "s.provider_agb"},
        {
            "expected": ("s.expected_care_months", ("expected_care_months",)),
            "invoiced": ("s.invoiced_care_months", ("expected_care_months",)),
            "missing": ("s.missing_care_months", ("expected_care_months",)),
        },
        f"{q.municipality('s')} AND year(s.service_month) = ?",
        [year],
    )
    kept = [row for row in rows if row["expected"] is not None and row["expected"] >= MIN_PERSONS]
    expected = sum(row["expected"] for row in kept)
    invoiced = sum(row["invoiced"] or 0 for row in kept)
    missing = sorted(
        (row for row in kept if row["missing"]),
        key=lambda row: (-row["missing"], row["provider_agb"]),
    )[:limit]
    return Ranked(
        [q.provider_label(row["provider_agb"]) for row in missing],
        [float(row["missing"]) for row in missing],
        hidden=len(rows) - len(kept),
        extra={
            "pct": [100 * (row["invoiced"] or 0) / row["expected"] for row in missing],
            "overall": 100 * invoiced / expected if expected else None,
            "expected": expected,
            "invoiced": invoiced,
        },
    )


def _dq(q: _Query) -> list[dict]:
    return q.dicts(
        f"SELECT rule_id, severity, sum(findings) AS findings, "
        f"count(DISTINCT provider_agb) AS providers FROM src.{DQ_SUMMARY} "
        f"WHERE {q.municipality()} GROUP BY ALL ORDER BY findings DESC, rule_id, severity"
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
    return q.visible_totals(
        REFERRERS,
        {"referrer_type": "s.referrer_type"},
        {
            "allocations": ("s.allocations", ("youths", "allocations")),
            "youths": ("s.youths", ("youths", "allocations")),
            "cost_eur": ("s.cost_eur", ("youths", "allocations")),
        },
        f"{q.municipality('s')} AND s.year = ?",
        [year],
    )


def _segment_budget(q: _Query, year: int) -> list[dict]:
    """The region's programme budget per segment (no persons: the same on every page)."""
    return q.dicts(
        f"SELECT * FROM pub.{SEGMENT_BUDGET} WHERE year = ? ORDER BY budget_eur DESC NULLS LAST, "
        "segment",
        [year],
    )


def _ceilings(q: _Query, year: int) -> tuple[list[dict], list[dict]]:
    """(providers with a ceiling, the one projected to reach it first first; the routes outside
    the ceilings), for the target's providers."""
    rows = q.dicts(  # as published: a provider's amounts hidden below 5 persons stay hidden
        f"SELECT * FROM pub.{BUDGET} WHERE year = ? AND {q.provider()} "
        "ORDER BY ceiling_reached_on NULLS LAST, utilisation_pct DESC NULLS LAST, provider_agb",
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


def compute(work: WorkCopy, target: Target, as_of: date) -> ReportFigures:
    """Everything the report shows for one target; a part is None when its mart is absent."""
    q = _Query(work, target)
    year = report_year(work, as_of)
    figures = ReportFigures(
        target=target,
        as_of=as_of,
        year=year,
        missing=dict(work.skipped),
        municipality_names=dict(work.municipality_names),
    )
    if work.has(COSTS):
        figures.monthly = _monthly(q, year, as_of)
        figures.budget = _budget(q, year, as_of)
        figures.segments = _segments(q, year)
        figures.top_providers = _top_providers(q, year)
    if work.has(KPI) and "year" in work.columns[KPI]:
        figures.kpi = _kpi(q, year, as_of)
    if work.has(THROUGHPUT):
        figures.throughput = _throughput(q, as_of)
    if work.has(TIMELINESS) and (target.is_region or work.has(COSTS)):
        figures.lateness = _lateness(q, year)
    if work.has(COMPLETENESS):
        figures.completeness = _completeness(q, year)
    if work.has(DQ_SUMMARY):
        figures.dq = _dq(q)
    if work.has(SETTLEMENT) and "year" in work.columns[SETTLEMENT]:
        figures.settlement = _per_municipality_or_own(q, SETTLEMENT, year)
    if work.has(CONCENTRATION) and "year" in work.columns[CONCENTRATION]:
        figures.concentration = _per_municipality_or_own(q, CONCENTRATION, year)
    if work.has(REFERRERS) and {"year", "referrer_type"} <= set(work.columns[REFERRERS]):
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
