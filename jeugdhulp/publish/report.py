"""The Dutch, self-contained HTML report (index.html) of one published folder.

The page is rendered from the Jinja2 templates in jeugdhulp/publish/templates/ (autoescaping on,
undefined names an error). This module only prepares the view data: which parts a page has, the
numbers and dates as Dutch text (jeugdhulp/publish/dutch.py) and the tables' cells. The only
markup made in Python is the SVG charts (jeugdhulp/publish/charts.py, which escapes every text
it draws), passed to the templates as Markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from jeugdhulp.publish import charts
from jeugdhulp.publish.catalogue import MIN_PERSONS, SPECS
from jeugdhulp.publish.charts import Series
from jeugdhulp.publish.dutch import (
    MONTHS_LONG,
    MONTHS_SHORT,
    NOT_SHOWN,
    change_percent,
    euro,
    euro_compact,
    half_year_label,
    long_date,
    number,
    percent,
    signed_percent,
)
from jeugdhulp.publish.figures import MISSING_SHOWN, ReportFigures

# iJw return codes used as data-quality rules (docs/glossary.md), in the words of a municipal controller.
RULE_DESCRIPTIONS = {
    "9346": "Bedrag is niet gelijk aan volume × tarief",
    "9321": "Volume hoger dan toegewezen",
    "9322": "Volume hoger dan toegewezen",
    "9307": "Zorg geleverd vóór de toewijzingsperiode",
    "9308": "Zorg geleverd na de toewijzingsperiode",
    "9338": "Geen passende toewijzing",
    "9339": "Productcategorie wijkt af van de toewijzing",
    "9340": "Productcode wijkt af van de toewijzing",
    "9341": "Eenheid wijkt af van de toewijzing",
    "9333": "Declaratienummer is niet uniek",
    "9389": "Tweede debet voor dezelfde periode",
    "8017": "Credit zonder bijbehorend debet",
    "8214": "Gat tussen opeenvolgende declaratieperiodes",
    "0611": "Tarief wijkt af van het contracttarief",
}
SEVERITY = {"error": "fout", "warn": "waarschuwing"}
SIGNALS = {
    "overschrijding": "overschrijding",
    "dreigende_overschrijding": "dreigende overschrijding",
    "onderbesteding": "onderbesteding",
    "op_koers": "op koers",
}
CONTRACT_TYPES = {
    "raamcontract": "raamcontract",
    "maatwerk": "maatwerk",
    "nee_tenzij": "nee, tenzij",
    "expertteam": "expertteam",
}


@dataclass(frozen=True)
class PageLinks:
    """Relative links from one page to other published pages that exist (run.py knows the tree):
    published/<tier>/<code>/index.html, and the Data Docs in published/regio/kwaliteit/."""

    region: str | None = None  # a municipality page: the region page of the same tier
    municipalities: tuple[tuple[str, str], ...] = ()  # the region page: (label, href), same tier
    openbaar: str | None = None  # an intern page: the openbaar version of the same page
    data_docs: str | None = None  # the intern region page: the Data Docs index


DATA_DOCS = ("regio", "kwaliteit", "index.html")  # jeugdhulp/quality/data_docs.py, under published/


def page_links(
    published_dir: Path, tier: str, code: str, municipalities: Sequence[tuple[str, str]]
) -> PageLinks:
    """The links of page published/<tier>/<code>/index.html. `municipalities`: (code, label) of
    every municipality published in this run (each gets a page in both tiers). An openbaar page
    never links to the intern tier or to the Data Docs (both are for authorised staff only)."""
    if code != "regio":
        return PageLinks(
            region="../regio/index.html",
            openbaar=f"../../openbaar/{code}/index.html" if tier == "intern" else None,
        )
    docs = published_dir.joinpath(*DATA_DOCS)
    return PageLinks(
        municipalities=tuple((label, f"../{other}/index.html") for other, label in municipalities),
        openbaar="../../openbaar/regio/index.html" if tier == "intern" else None,
        data_docs="../../" + "/".join(DATA_DOCS) if tier == "intern" and docs.is_file() else None,
    )


@dataclass(frozen=True)
class PublishedFile:
    mart: str
    rows: int
    csv_name: str
    parquet_name: str


TEMPLATES = "templates"  # jeugdhulp/publish/templates/, shipped as package data


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("jeugdhulp.publish", TEMPLATES),
        autoescape=True,  # every template is HTML: escape every value not marked safe by us
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(MIN_PERSONS=MIN_PERSONS, NOT_SHOWN=NOT_SHOWN)
    return env


ENVIRONMENT = _environment()

View = dict[str, Any]


@dataclass(frozen=True)
class Table:
    """A table as the templates draw it (macros.html.j2 `table`): text cells, the first of a row
    its header; `numeric` columns aligned right."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[int] = ()
    caption: str | None = None


@dataclass(frozen=True)
class Figure:
    """A chart in its figure: title, caption text, the SVG (Markup from charts.py) and the
    table alternative."""

    title: str
    text: str
    svg: Markup
    table: Table


def _chart(draw, *args, **kwargs) -> Markup:
    """A chart from jeugdhulp/publish/charts.py in its two layouts, wide (screens from 700 px,
    print) and narrow (phones), as Markup: charts.py escapes every text it puts in the SVG
    (labels, titles, descriptions, values), so the SVG needs no escaping here. The style sheet
    shows one of the two."""
    return Markup(draw(*args, **kwargs) + "\n" + draw(*args, narrow=True, **kwargs))


def _absent(figures: ReportFigures, *marts: str) -> View:
    """A part whose mart the page lacks: only in intern (openbaar), or not yet in the warehouse."""
    return {
        "openbaar": figures.tier == "openbaar",
        "names": [(SPECS[m].title[0].lower() + SPECS[m].title[1:], m) for m in marts if m in SPECS],
    }


def _card(label: str, value: str, sub: str = "", tone: str = "") -> View:
    return {"label": label, "value": value, "sub": sub, "tone": tone}


def _summary(f: ReportFigures) -> list[View]:
    cards = []
    budget = f.budget
    if budget and budget.actual is not None:
        cards.append(
            _card(f"Kosten {f.year} tot nu toe", euro(budget.actual), "geaccepteerde declaraties")
        )
        if budget.forecast is not None:
            cards.append(_card(f"Prognose {f.year}", euro(budget.forecast), "verwachte jaarkosten"))
        if budget.budget is not None:
            tone = ""
            sub = "aandeel in de budgetplafonds" if not f.target.is_region else "som budgetplafonds"
            # the signal of rpt_report_budget (dbt macro budget_signal), when the figures have it
            ratio = getattr(budget, "utilisation_pct", None)
            signal = getattr(budget, "signal", None)
            if signal is None and budget.forecast is not None and budget.budget:
                ratio = budget.forecast / budget.budget * 100
                # the contract's budget signals: > 100 overspend, > 95 threatening, < 80 underspend
                signal = (
                    "overschrijding"
                    if ratio > 100
                    else "dreigende_overschrijding"
                    if ratio > 95
                    else "onderbesteding"
                    if ratio < 80
                    else "op_koers"
                )
            if signal in SIGNALS:
                tone = {"overschrijding": "bad", "op_koers": "good"}.get(signal, "warn")
                sub = (
                    f"prognose is {percent(ratio, 0)} van het budget: {SIGNALS[signal]}"
                    if ratio is not None
                    else f"signaal: {SIGNALS[signal]}"
                )
            cards.append(_card(f"Budget {f.year}", euro(budget.budget), sub, tone))
    if f.kpi and f.kpi.rows[0].current is not None:
        cards.append(
            _card(
                f"Unieke jeugdigen {f.year}",
                number(f.kpi.rows[0].current),
                "met ten minste één zorgmaand",
            )
        )
    if f.lateness and f.lateness.extra.get("overall") is not None:
        overall = f.lateness.extra["overall"]
        cards.append(
            _card(
                f"Te laat gedeclareerd {f.year}",
                percent(overall),
                "van de declaratieregels",
                "warn" if overall > 10 else "",
            )
        )
    return cards


def _still_coming_in(f: ReportFigures) -> dict[int, float]:
    """Month index (0–11) → forecast of the final cost, for the recent months of the report year
    whose invoices are still coming in (MonthlyCosts.expected_final, keyed by month 1–12)."""
    expected = getattr(f.monthly, "expected_final", None) or {}
    return {
        int(month) - 1: float(value)
        for month, value in expected.items()
        if value is not None and 1 <= int(month) <= 12
    }


def _expected_cumulative(
    cumulative: Sequence[float | None],
    monthly: Sequence[float | None],
    coming: dict[int, float],
) -> dict[int, float]:
    """Month index → the cumulative cost once the months still coming in are complete: the
    cumulative so far (carried on through a month with nothing in yet) plus, for every month
    still coming in up to it, its expected final cost minus what is in so far."""
    expected: dict[int, float] = {}
    so_far: float | None = None
    added = 0.0
    for index in range(len(cumulative)):
        if cumulative[index] is not None:
            so_far = cumulative[index]
        if index in coming and so_far is not None:
            added += coming[index] - (monthly[index] or 0.0)
            expected[index] = so_far + added
    return expected


def _costs(f: ReportFigures) -> View:
    view: View = {
        "absent": None,
        "cumulative": None,
        "notes": [],
        "monthly": None,
        "monthly_hidden": 0,
        "monthly_empty": False,
        "settlement": None,
        "settlement_absent": None,
    }
    if f.budget is None or f.monthly is None:
        view["absent"] = _absent(f, "mart_costs_monthly")
        return view
    b = f.budget
    months = list(MONTHS_SHORT)
    shown = [i for i, v in enumerate(b.cumulative) if v is not None]
    coming = _still_coming_in(f)
    if b.actual is not None and shown:
        last = max(shown)
        text = (
            f"Tot en met {MONTHS_LONG[last]} {f.year} is {euro(b.actual)} gedeclareerd en "
            "geaccepteerd."
        )
        if b.forecast is not None:
            text += f" De prognose voor heel {f.year} is {euro(b.forecast)} ({b.forecast_method})."
        if b.budget is not None:
            what = (
                "de som van de budgetplafonds van de aanbieders"
                if f.target.is_region
                else "het aandeel van de gemeente in de budgetplafonds volgens de verdeelsleutel T-2"
            )
            text += f" Het budget is {euro(b.budget)}: {what}."
        expected = _expected_cumulative(b.cumulative, f.monthly.current, coming)
        if expected:
            text += (
                " Gestreepte blauwe lijn: de maanden die nog binnenkomen, op hun verwachte "
                "eindstand; open rondjes: wat er van die maanden tot nu toe binnen is."
            )
        svg = _chart(
            charts.cumulative_chart,
            "kosten-cumulatief",
            f"Cumulatieve kosten {f.year} tegen budget en prognose",
            text,
            months,
            b.cumulative,
            forecast=b.forecast,
            budget=b.budget,
            axis_format=euro_compact,
            value_format=euro,
            y_label="Cumulatieve kosten (€)",
            x_label=f"Zorgmaand {f.year}",
            actual_label="Werkelijk (cumulatief)",
            forecast_label="Prognose jaareinde",
            budget_label="Budget" if f.target.is_region else "Budgetaandeel",
            **({"coming_in": expected} if expected else {}),
        )
        headers = ["Maand", "Cumulatief"]
        months_shown = [i for i, v in enumerate(b.cumulative) if v is not None or i in expected]
        rows = [[MONTHS_LONG[i], euro(b.cumulative[i])] for i in months_shown]
        rows += [["Prognose jaareinde", euro(b.forecast)], ["Budget", euro(b.budget)]]
        if expected:
            headers.append("Verwacht cumulatief (nog binnenkomend)")
            for row, index in zip(rows, [*months_shown, None, None]):
                row.append(euro(expected[index]) if index in expected else "")
        view["cumulative"] = Figure(
            f"Cumulatieve kosten {f.year} tegen budget en prognose",
            text,
            svg,
            Table(headers, rows, numeric=list(range(1, len(headers)))),
        )
    view["notes"] = list(b.notes)

    m = f.monthly
    if any(v is not None for v in m.current + m.previous):
        text = "Vergelijk met dezelfde maand een jaar eerder."
        headers = ["Maand", str(m.year - 1), str(m.year)]
        rows = [[MONTHS_LONG[i], euro(m.previous[i]), euro(m.current[i])] for i in range(12)]
        if coming:
            text += (
                " Gestreepte staven: maanden die nog binnenkomen (aanbieders declareren "
                "achteraf); de gestreepte rand erboven loopt tot de verwachte eindstand."
            )
            headers.append(f"{m.year}: verwachte eindstand (nog binnenkomend)")
            for i, row in enumerate(rows):
                row.append(euro(coming[i]) if i in coming else "")
        svg = _chart(
            charts.bar_chart,
            "kosten-per-maand",
            f"Kosten per zorgmaand, {m.year - 1} en {m.year}",
            f"Staafdiagram van de kosten per maand in {m.year - 1} en {m.year}."
            + (
                " Recente maanden komen nog binnen: gestreept, met de verwachte eindstand."
                if coming
                else ""
            ),
            months,
            [
                Series(str(m.year - 1), m.previous, charts.LIGHT_BLUE),
                Series(str(m.year), m.current, charts.BLUE),
            ],
            value_format=euro,
            axis_format=euro_compact,
            y_label="Kosten (€)",
            x_label="Zorgmaand",
            **({"coming_in": coming} if coming else {}),
        )
        view["monthly"] = Figure(
            f"Kosten per zorgmaand, {m.year - 1} en {m.year}",
            text,
            svg,
            Table(headers, rows, numeric=list(range(1, len(headers)))),
        )
        view["monthly_hidden"] = m.hidden
    elif b.actual is not None or not m.hidden:
        view["monthly_empty"] = True

    if f.settlement is not None:
        view["settlement"] = _settlement(f)
    else:
        view["settlement_absent"] = _absent(f, "mart_settlement")
    return view


def _municipality(f: ReportFigures, code: str) -> str:
    name = f.municipality_names.get(code)
    return f"{name} ({code})" if name else code


def _row_label(f: ReportFigures, row: dict) -> str:
    """A per-municipality mart's row: the region page lists the municipalities (of one year), a
    municipality's page its own years."""
    return _municipality(f, row["municipality_code"]) if f.target.is_region else str(row["year"])


def _row_header(f: ReportFigures) -> str:
    return "Gemeente" if f.target.is_region else "Jaar"


def _settlement(f: ReportFigures) -> Table | None:
    rows = []
    for row in f.settlement or []:
        rows.append(
            [
                _row_label(f, row),
                percent(row.get("key_share_pct"), 2),
                euro(row.get("contribution_eur")),
                euro(row.get("settlement_eur")),
                euro(row.get("forecast_settlement_eur")),
                euro(row.get("actual_cost_eur")),
                euro(row.get("own_vs_key_eur")),
            ]
        )
    if not rows:
        return None
    first_header = _row_header(f)
    shown_year = (f.settlement or [{}])[0].get("year", f.year)
    caption = (
        f"Bijdrage en verrekening {shown_year} per gemeente"
        if f.target.is_region
        else "Bijdrage en verrekening volgens de verdeelsleutel T-2"
    )
    return Table(
        [
            first_header,
            "Verdeelsleutel T-2",
            "Bijdrage",
            "Verrekening",
            "Verrekening op prognose",
            "Eigen kosten",
            "Eigen kosten − sleutelaandeel",
        ],
        rows,
        numeric=[1, 2, 3, 4, 5, 6],
        caption=caption,
    )


def _pct(probability) -> float | None:
    """A probability 0-1 as a percentage (the marts keep probabilities as fractions)."""
    return None if probability is None else 100 * float(probability)


def _interval(low, high) -> str:
    """P10-P90 as '€ 1.200 – € 1.450'; en dash when either end is unknown."""
    if low is None or high is None:
        return NOT_SHOWN
    return f"{euro(low)} – {euro(high)}"


def _finance(f: ReportFigures) -> View:
    """The region's programme budget per segment, the ceilings and when they are reached, and
    the routes outside the ceilings (issue 15)."""
    view: View = {
        "year": f.year,
        "segment_budget_absent": None,
        "segment_budget": None,
        "ceilings_absent": None,
        "ceilings": None,
        "outside": None,
        "outside_none": False,
        "accountability": None,
        "accountability_year": f.accountability_year,
        "accountability_none": f.accountability is not None and not f.accountability,
    }
    if f.segment_budget is None:
        view["segment_budget_absent"] = _absent(f, "mart_segment_budget")
    elif f.segment_budget:
        rows = [
            [
                str(row["segment"]),
                euro(row["budget_eur"]),
                euro(row["invoiced_eur"]),
                euro(row["forecast_eur"]),
                percent(row["utilisation_pct"]),
                SIGNALS.get(str(row["signal"]), NOT_SHOWN),
            ]
            for row in f.segment_budget
        ]
        view["segment_budget"] = Table(
            ["Segment", "Begroting", "Gedeclareerd", "Prognose", "Benutting", "Signaal"],
            rows,
            numeric=[1, 2, 3, 4],
            caption=f"Programmabegroting {f.year} van de regio per segment",
        )
    if f.ceilings is None:
        view["ceilings_absent"] = _absent(f, "mart_budget_utilisation")
    elif f.ceilings:
        rows = [
            [
                row["provider"],
                euro(row["budget_ceiling_eur"]),
                euro(row["invoiced_eur"]),
                euro(row["forecast_eur"]),
                _interval(row.get("forecast_p10_eur"), row.get("forecast_p90_eur")),
                percent(row["utilisation_pct"]),
                percent(_pct(row.get("probability_over_ceiling")), 0),
                SIGNALS.get(str(row["signal"]), NOT_SHOWN),
                long_date(row["ceiling_reached_on"]) if row["ceiling_reached_on"] else "—",
            ]
            for row in f.ceilings
        ]
        view["ceilings"] = Table(
            [
                "Aanbieder",
                "Plafond",
                "Gedeclareerd",
                "Prognose",
                "Prognose-interval (P10–P90)",
                "Benutting",
                "Kans boven plafond",
                "Signaal",
                "Plafond bereikt op",
            ],
            rows,
            numeric=[1, 2, 3, 5, 6],
            caption=f"Budgetplafonds per aanbieder, {f.year}: de hoogste benutting eerst",
        )
    if f.outside_ceilings:
        rows = [
            [
                row["provider"],
                CONTRACT_TYPES.get(str(row["contract_type"]), str(row["contract_type"])),
                euro(row["invoiced_eur"]),
                euro(row["forecast_eur"]),
            ]
            for row in f.outside_ceilings
        ]
        view["outside"] = Table(
            ["Aanbieder", "Route", "Gedeclareerd", "Prognose"],
            rows,
            numeric=[2, 3],
            caption=f"Routes buiten de plafonds, {f.year}",
        )
    elif f.outside_ceilings is not None:
        view["outside_none"] = True
    if f.accountability:
        rows = [
            [
                row["provider_name"] if row["provider_agb"] != "totaal" else "Totaal",
                euro(row["accountability_amount_eur"], 2),
                euro(row["invoiced_amount_eur"], 2),
                euro(row["difference_eur"], 2),
                euro(row["absolute_difference_eur"], 2),
                f"{row['products_akkoord']} van {row['products']}",
                str(row["status"]),
                _on_time(row["delivered_on_time"]),
            ]
            for row in f.accountability
        ]
        view["accountability"] = Table(
            [
                "Aanbieder",
                "Verantwoord",
                "Gedeclareerd",
                "Verschil",
                "Absoluut verschil",
                "Producten akkoord",
                "Status",
                "Tijdig (1 april)",
            ],
            rows,
            numeric=[1, 2, 3, 4],
            caption=f"Productieverantwoording {f.accountability_year} per aanbieder",
        )
    return view


def _on_time(value) -> str:
    return NOT_SHOWN if value is None else ("ja" if value else "nee")


def _access(f: ReportFigures) -> View:
    """What the invoices do not tell (issue 18): the municipal team, waiting times and the
    woonplaatsbeginsel signals."""
    view: View = {
        "year": f.year,
        "team_absent": None,
        "team": None,
        "waiting_absent": None,
        "waiting_none": False,
        "waiting": None,
        "waiting_missing": None,
        "waiting_missing_more": False,
        "missing_shown": MISSING_SHOWN,
        "residence_absent": None,
        "residence": None,
    }
    if f.local_team is None:
        view["team_absent"] = _absent(f, "mart_local_team")
    elif f.local_team:
        rows = [
            [
                _row_label(f, row),
                number(row["youths_team_only"]),
                number(row["youths_team_then_specialist"]),
                number(row["median_days_team_to_specialist"]),
                number(row["youths_specialist_without_team"]),
                percent(row["team_share_pct"]),
            ]
            for row in f.local_team
        ]
        view["team"] = Table(
            [
                _row_header(f),
                "Alleen lokaal team",
                "Team, daarna specialistisch",
                "Mediane dagen tot specialistisch",
                "Specialistisch zonder team",
                "Aandeel zelf doen",
            ],
            rows,
            numeric=[1, 2, 3, 4, 5],
            caption="Jeugdigen van het lokale team en in specialistische jeugdhulp",
        )
    if f.waiting is None:
        view["waiting_absent"] = _absent(f, "mart_waiting_times")
    elif f.waiting.month is None and not f.waiting.missing:
        view["waiting_none"] = True
    else:
        if f.waiting.latest:
            month = f.waiting.month
            rows = [
                [
                    row["provider"],
                    str(row["product_category"]),
                    number(row["waiting_weeks"], 1),
                    number(row["region_median_waiting_weeks"], 1),
                    number(row["waiting_count"]),
                    "ja" if row["capacity_open"] else "nee",
                    "ja" if row["near_ceiling_and_growing"] else "",
                ]
                for row in f.waiting.latest
            ]
            view["waiting"] = Table(
                [
                    "Aanbieder",
                    "Categorie",
                    "Wachttijd (weken)",
                    "Mediaan regio",
                    "Wachtenden",
                    "Capaciteit",
                    "Bijna plafond, lijst groeit",
                ],
                rows,
                numeric=[2, 3, 4],
                caption=f"Wachttijden {MONTHS_LONG[month.month - 1]} {month.year}",
            )
        if f.waiting.missing:
            rows = [
                [
                    row["provider"],
                    str(row["product_category"]),
                    f"{MONTHS_SHORT[row['report_month'].month - 1]} {row['report_month'].year}",
                ]
                for row in f.waiting.missing[:MISSING_SHOWN]
            ]
            view["waiting_missing"] = Table(
                ["Aanbieder", "Categorie", "Maand"],
                rows,
                caption=f"Niet aangeleverde wachttijden {f.year} (contractuele plicht)",
            )
            view["waiting_missing_more"] = len(f.waiting.missing) > MISSING_SHOWN
    if f.residence is None:
        view["residence_absent"] = _absent(f, "mart_residence_signals")
    elif f.residence:
        rows = [
            [
                f"{MONTHS_SHORT[row['month'].month - 1]} {row['month'].year}"
                + (
                    f" · {_municipality(f, row['municipality_code'])}" if f.target.is_region else ""
                ),
                number(row["months_billed_to_two"]),
                number(row["overlapping_allocations"]),
                number(row["invoice_other_than_allocation"]),
                number(row["move_with_running_allocation"]),
            ]
            for row in f.residence
        ]
        view["residence"] = Table(
            [
                "Maand",
                "Zorgmaand bij twee gemeenten",
                "Overlappende toewijzingen",
                "Declaratie bij andere gemeente",
                "Verhuisd, oude toewijzing loopt door",
            ],
            rows,
            numeric=[1, 2, 3, 4],
            caption=f"Signalen woonplaatsbeginsel {f.year} (aantal cliënten)",
        )
    return view


def _distribution(f: ReportFigures) -> View:
    view: View = {
        "year": f.year,
        "absent": None,
        "segments": None,
        "segments_hidden": 0,
        "providers": None,
        "providers_hidden": 0,
    }
    if f.segments is None or f.top_providers is None:
        view["absent"] = _absent(f, "mart_costs_monthly")
        return view
    s = f.segments
    view["segments_hidden"] = s.hidden
    if s.labels:
        svg = _chart(
            charts.horizontal_bar_chart,
            "kosten-per-segment",
            f"Kosten per segment, {f.year}",
            f"Liggende staven: kosten per segment in {f.year}, hoogste eerst.",
            s.labels,
            s.values,
            value_format=euro,
            axis_format=euro_compact,
            x_label="Kosten (€)",
            colors=None,
        )
        total = sum(s.values)
        rows = [
            [label, euro(value), percent(value / total * 100 if total else None)]
            for label, value in zip(s.labels, s.values)
        ]
        view["segments"] = Figure(
            f"Kosten per segment, {f.year}",
            "Welk deel van de kosten gaat naar welk segment.",
            svg,
            Table(["Segment", "Kosten", "Aandeel"], rows, numeric=[1, 2]),
        )
    t = f.top_providers
    view["providers_hidden"] = t.hidden
    if t.labels:
        svg = _chart(
            charts.horizontal_bar_chart,
            "top-aanbieders",
            f"Aanbieders met de hoogste kosten, {f.year}",
            f"Liggende staven: de {len(t.labels)} aanbieders met de hoogste kosten in {f.year}.",
            t.labels,
            t.values,
            value_format=euro,
            axis_format=euro_compact,
            x_label="Kosten (€)",
            colors=[charts.SKY] * len(t.labels),
        )
        rows = [[label, euro(value)] for label, value in zip(t.labels, t.values)]
        view["providers"] = Figure(
            f"Aanbieders met de hoogste kosten, {f.year}",
            f"De top {len(t.labels)} van {t.extra['providers']} aanbieders.",
            svg,
            Table(["Aanbieder", "Kosten"], rows, numeric=[1]),
        )
    return view


def _kpi(f: ReportFigures) -> View:
    if f.kpi is None:
        return {"absent": _absent(f, "mart_kpi_annual")}
    k = f.kpi

    def head(year: int) -> str:
        return f"{year}*" if year in k.annualised_years else str(year)

    def show(row, value):
        if row.money:
            return euro(value, row.decimals)
        return number(value, row.decimals)

    def change(row) -> str:
        if row.change is not None:  # like for like, from the mart
            return signed_percent(row.change)
        if row.whole_years or not k.annualised_years:
            return change_percent(row.current, row.previous)
        return NOT_SHOWN  # a running year against a whole one: no comparison

    rows = [
        [row.label, show(row, row.previous), show(row, row.current), change(row)] for row in k.rows
    ]
    months = k.months_compared
    if months is not None and 0 < months < 12:
        compared = (
            f"% = verandering van de {months} waargenomen maanden van {k.current_year} "
            f"(januari–{MONTHS_LONG[months - 1]}: maanden waarvan de declaratietermijn verstreken "
            f"is) ten opzichte van dezelfde maanden van {k.previous_year}; bij de jaarprognose: "
            f"ten opzichte van heel {k.previous_year}."
        )
    else:
        compared = "% = verandering ten opzichte van het jaar ervoor."
    return {
        "absent": None,
        "table": Table(
            ["", head(k.previous_year), head(k.current_year), "%"],
            rows,
            numeric=[1, 2, 3],
            caption=f"Kerncijfers {k.previous_year}–{k.current_year}",
        ),
        "footnotes": list(k.footnotes),
        "annualised": bool(k.annualised_years),
        "compared": compared,
    }


def _throughput(f: ReportFigures) -> View:
    view: View = {
        "absent": None,
        "no_half_year": False,
        "chart": None,
        "by_hulpvorm": None,
    }
    t = f.throughput
    if t is None:
        if "mart_throughput" in f.missing:
            view["absent"] = _absent(f, "mart_throughput")
        else:
            view["no_half_year"] = True
        return view
    if t.periods and any(v is not None for v in t.started + t.ended + t.running):
        labels = [half_year_label(p) for p in t.periods]
        svg = _chart(
            charts.bar_chart,
            "doorstroom",
            "Gestarte, beëindigde en lopende trajecten per halfjaar",
            "Gegroepeerde staven per halfjaar: gestart, beëindigd en lopend aan het einde.",
            labels,
            [
                Series("Gestart", t.started, charts.SKY),
                Series("Beëindigd", t.ended, charts.ORANGE),
                Series("Lopend aan einde", t.running, charts.BLUE),
            ],
            value_format=lambda v: number(v),
            axis_format=lambda v: number(v),
            y_label="Aantal trajecten",
            x_label="Halfjaar",
            integer=True,
        )
        rows = [
            [label, number(s), number(e), number(r)]
            for label, s, e, r in zip(labels, t.started, t.ended, t.running)
        ]
        view["chart"] = Figure(
            "Gestarte, beëindigde en lopende trajecten per halfjaar",
            "Opgeteld over de hulpvormen (CBS).",
            svg,
            Table(
                ["Halfjaar", "Gestart", "Beëindigd", "Lopend aan einde"], rows, numeric=[1, 2, 3]
            ),
        )
    if t.by_hulpvorm:
        rows = [
            [
                f"{row['hulpvorm']} {row['label']}" if row.get("label") else str(row["hulpvorm"]),
                number(row["youths"]),
                number(row["started"]),
                number(row["started_repeat"]),
                number(row["ended"]),
                number(row["ended_by_plan"]),
                number(row["ended_premature"]),
                number(row["avg_duration_days_ended"]),
                number(row["running_at_end"]),
            ]
            for row in t.by_hulpvorm
        ]
        caption = f"Per hulpvorm (CBS), {half_year_label(t.latest or '')}"
        if not t.latest_complete:
            caption += f" (lopend halfjaar, tot en met {long_date(f.as_of)})"
        view["by_hulpvorm"] = Table(
            [
                "Hulpvorm",
                "Jeugdigen",
                "Gestart",
                "waarvan herhaald beroep",
                "Beëindigd",
                "waarvan volgens plan",
                "waarvan voortijdig",
                "Gem. duur beëindigd (dagen)",
                "Lopend aan einde",
            ],
            rows,
            numeric=[1, 2, 3, 4, 5, 6, 7, 8],
            caption=caption,
        )
    return view


def _lateness(f: ReportFigures) -> View:
    view: View = {"year": f.year, "absent": None, "chart": None, "hidden": 0}
    r = f.lateness
    if r is None:
        view["absent"] = _absent(f, "mart_invoice_timeliness")
        return view
    if r.labels:
        overall = r.extra["overall"]
        colors = [charts.ORANGE if value > overall else charts.SKY for value in r.values]
        scope = (
            "de aanbieders in de regio"
            if f.target.is_region
            else f"de aanbieders die aan {f.target.name} declareren (hun regels in de hele regio)"
        )
        svg = _chart(
            charts.horizontal_bar_chart,
            "te-laat-per-aanbieder",
            f"Aandeel te laat gedeclareerde regels per aanbieder, {f.year}",
            f"Liggende staven per aanbieder; stippellijn: gemiddelde van {scope}.",
            r.labels,
            r.values,
            value_format=lambda v: percent(v),
            axis_format=lambda v: percent(v, 0),
            x_label="Aandeel te laat (% van de regels)",
            colors=colors,
            reference=(overall, "Gemiddelde"),
            legend=[("Boven gemiddelde", charts.ORANGE), ("Gemiddeld of lager", charts.SKY)],
        )
        rows = [
            [label, percent(value), number(lines)]
            for label, value, lines in zip(r.labels, r.values, r.extra["lines"])
        ]
        view["chart"] = Figure(
            f"Aandeel te laat gedeclareerde regels per aanbieder, {f.year}",
            f"Het aandeel te late regels bij {scope}: de {len(r.labels)} hoogste van "
            f"{r.extra['providers']} aanbieders. Gemiddeld {percent(overall)}.",
            svg,
            Table(["Aanbieder", "Te laat", "Regels"], rows, numeric=[1, 2]),
        )
    view["hidden"] = r.hidden
    return view


def _quality(f: ReportFigures) -> View:
    view: View = {
        "year": f.year,
        "completeness_absent": None,
        "overall": None,
        "completeness": None,
        "completeness_hidden": 0,
        "dq_absent": None,
        "dq": None,
    }
    c = f.completeness
    if c is None:
        view["completeness_absent"] = _absent(f, "mart_invoicing_completeness")
    else:
        overall = c.extra.get("overall")
        if overall is not None:
            view["overall"] = {
                "percent": percent(overall),
                "invoiced": number(c.extra["invoiced"]),
                "expected": number(c.extra["expected"]),
            }
        if c.labels:
            svg = _chart(
                charts.horizontal_bar_chart,
                "volledigheid",
                f"Ontbrekende zorgmaanden per aanbieder, {f.year}",
                "Liggende staven: aanbieders met de meeste verwachte maar niet gedeclareerde "
                "zorgmaanden.",
                c.labels,
                c.values,
                value_format=lambda v: number(v),
                axis_format=lambda v: number(v),
                x_label="Ontbrekende zorgmaanden",
                colors=[charts.ORANGE] * len(c.labels),
                integer=True,
            )
            rows = [
                [label, number(value), percent(pct)]
                for label, value, pct in zip(c.labels, c.values, c.extra["pct"])
            ]
            view["completeness"] = Figure(
                f"Ontbrekende zorgmaanden per aanbieder, {f.year}",
                "Aanbieders met de meeste ontbrekende zorgmaanden.",
                svg,
                Table(["Aanbieder", "Ontbrekend", "Volledigheid"], rows, numeric=[1, 2]),
            )
        view["completeness_hidden"] = c.hidden

    if f.dq is None:
        view["dq_absent"] = _absent(f, "dq_findings_summary")
    elif f.dq:
        labels, values, colors = [], [], []
        for row in f.dq[:15]:
            rule = str(row["rule_id"])
            description = RULE_DESCRIPTIONS.get(rule, "")
            labels.append(f"{rule} {description}".strip())
            values.append(float(row["findings"]))
            colors.append(charts.RED if row["severity"] == "error" else charts.ORANGE)
        rows = [
            [
                str(row["rule_id"]),
                RULE_DESCRIPTIONS.get(str(row["rule_id"]), NOT_SHOWN),
                SEVERITY.get(row["severity"], str(row["severity"])),
                number(row["findings"]),
                number(row["providers"]),
            ]
            for row in f.dq
        ]
        svg = _chart(
            charts.horizontal_bar_chart,
            "datakwaliteit",
            "Bevindingen datakwaliteit per regel",
            "Liggende staven: aantal bevindingen per controleregel; rood is een fout, oranje een "
            "waarschuwing.",
            labels,
            values,
            value_format=lambda v: number(v),
            axis_format=lambda v: number(v),
            x_label="Aantal bevindingen",
            colors=colors,
            legend=[("Fout", charts.RED), ("Waarschuwing", charts.ORANGE)],
            integer=True,
        )
        view["dq"] = Figure(
            "Bevindingen datakwaliteit per regel",
            "Controles op de declaraties, met de iJw-retourcode waar die bestaat.",
            svg,
            Table(
                ["Regel", "Omschrijving", "Ernst", "Bevindingen", "Aanbieders"],
                rows,
                numeric=[3, 4],
            ),
        )
    return view


def _referrers(f: ReportFigures) -> View:
    view: View = {
        "year": f.year,
        "referrers_absent": None,
        "referrers": None,
        "concentration_absent": None,
        "concentration": None,
    }
    if f.referrers is None:
        view["referrers_absent"] = _absent(f, "mart_referrers")
    elif f.referrers:
        rows = [
            [
                row["referrer_description"] or f"code {row['referrer_type']}",
                number(row["allocations"]),
                number(row["youths"]),
                euro(row["cost_eur"]),
            ]
            for row in f.referrers
        ]
        view["referrers"] = Table(
            ["Verwijzer", "Toewijzingen", "Jeugdigen", "Kosten"],
            rows,
            numeric=[1, 2, 3],
            caption=f"Verwijzers {f.year}",
        )
    if f.concentration is None:
        view["concentration_absent"] = _absent(f, "mart_cost_concentration")
    elif f.concentration:
        rows = [
            [
                _row_label(f, row),
                number(row["clients"]),
                euro(row["total_cost_eur"]),
                euro(row["top10_cost_eur"]),
                percent(row["top10_share_pct"]),
            ]
            for row in f.concentration
        ]
        shown_year = f.concentration[0].get("year", f.year)
        caption = (
            f"Kostenconcentratie {shown_year} per gemeente"
            if f.target.is_region
            else "Kostenconcentratie: aandeel van de tien duurste cliënten"
        )
        view["concentration"] = Table(
            [
                _row_header(f),
                "Cliënten",
                "Totale kosten",
                "Kosten top-10",
                "Aandeel top-10",
            ],
            rows,
            numeric=[1, 2, 3, 4],
            caption=caption,
        )
    return view


def _purchasing(f: ReportFigures) -> View | None:
    """Issue 17: the municipality's cost change split into volume, intensity and price
    (mart_cost_change), and in the intern tier its ten most expensive clients under their case
    keys (mart_top_clients). Municipality pages only."""
    if f.cost_change is None and f.top_clients is None:
        return None
    view: View = {
        "year": f.year,
        "cost_change": None,
        "no_comparison": f.cost_change is not None and not f.cost_change,
        "top_clients": None,
    }
    if f.cost_change:
        rows = [
            [
                str(row["product_category_description"] or row["product_category"]),
                euro(row["previous_cost_eur"]),
                euro(row["cost_eur"]),
                euro(row["cost_change_eur"]),
                euro(row["volume_effect_eur"]),
                euro(row["intensity_effect_eur"]),
                euro(row["price_effect_eur"]),
            ]
            for row in f.cost_change
        ]
        months = f.cost_change[0]["months_compared"]
        view["cost_change"] = Table(
            [
                "Productcategorie",
                f"{f.year - 1}",
                f"{f.year}",
                "Verandering",
                "Volume (cliënten)",
                "Intensiteit (eenheden per cliënt)",
                "Prijs (tarief)",
            ],
            rows,
            numeric=[1, 2, 3, 4, 5, 6],
            caption=f"Kostenverandering {f.year - 1} → {f.year}, eerste {months} maanden",
        )
    if f.top_clients:
        rows = [
            [
                str(row["rank"]),
                str(row["case_key"]),
                euro(row["amount_eur"]),
                number(row["providers"]),
                number(row["products"]),
                number(row["months_in_care"]),
            ]
            for row in f.top_clients
        ]
        view["top_clients"] = Table(
            ["Rang", "Casussleutel", "Kosten", "Aanbieders", "Producten", "Maanden in zorg"],
            rows,
            numeric=[2, 3, 4, 5],
            caption=f"De tien duurste cliënten van {f.year} (alleen intern)",
        )
    return view


def _norm_spread(row: dict, name: str, money: bool) -> str:
    """'€ 624 (€ 600–€ 650)': the median with the quartiles of a *_per_care_month figure."""
    show = (lambda v: euro(v)) if money else (lambda v: number(v, 1))
    median, low, high = (row[f"{name}_per_care_month_{s}"] for s in ("median", "p25", "p75"))
    return f"{show(median)} ({show(low)}–{show(high)})"


def _product_norms(f: ReportFigures) -> View | None:
    """Issue 17: mart_product_norms of the report year. Region page: every product's norm and
    spread of the amount and units per care month, the providers far above the norm, the rises
    of units per client and the products with significant volume growth. A municipality page:
    the same for the providers that invoiced it, each against its product's regional norm."""
    norms = f.product_norms
    if norms is None:
        return None
    region = f.target.is_region
    months = norms.months_compared
    period = f"{f.year}, {'januari' if months == 1 else f'eerste {months} maanden'}"
    view: View = {
        "year": f.year,
        "period": period if months else str(f.year),
        "norms": None,
        "outliers": None,
        "rises": None,
        "growth": None,
        "growth_what": "Producten" if region else "Aanbieders en producten",
    }
    if norms.norms and region:
        view["norms"] = Table(
            [
                "Product",
                "Cliënten",
                "Zorgmaanden",
                "Gem. bedrag per zorgmaand",
                "Mediaan bedrag (25e–75e percentiel)",
                "Standaardafwijking bedrag",
                "Gem. eenheden per zorgmaand",
                "Mediaan eenheden (25e–75e percentiel)",
                "Standaardafwijking eenheden",
                "Aanbieders vergeleken",
            ],
            [
                [
                    row["product"],
                    number(row["clients"]),
                    number(row["care_months"]),
                    euro(row["amount_per_care_month_avg"]),
                    _norm_spread(row, "amount", True),
                    euro(row["amount_per_care_month_stddev"]),
                    number(row["units_per_care_month_avg"], 1),
                    _norm_spread(row, "units", False),
                    number(row["units_per_care_month_stddev"], 1),
                    number(row["providers_compared"]),
                ]
                for row in norms.norms
            ],
            numeric=[1, 2, 3, 4, 5, 6, 7, 8, 9],
            caption=f"Norm per product, {f.year} (alle aanbieders in de regio)",
        )
    elif norms.norms:
        view["norms"] = Table(
            [
                "Product",
                "Aanbieder",
                "Cliënten",
                "Zorgmaanden",
                "Gem. bedrag per zorgmaand",
                "Norm (regio)",
                "Index bedrag",
                "Gem. eenheden per zorgmaand",
                "Index eenheden",
            ],
            [
                [
                    row["product"],
                    row["provider"],
                    number(row["clients"]),
                    number(row["care_months"]),
                    euro(row["amount_per_care_month_avg"]),
                    euro(row["norm_amount_per_care_month"]),
                    number(row["amount_index"], 1),
                    number(row["units_per_care_month_avg"], 1),
                    number(row["units_index"], 1),
                ]
                for row in norms.norms
            ],
            numeric=[2, 3, 4, 5, 6, 7, 8],
            caption=f"De aanbieders van deze gemeente tegen de norm van de regio, {f.year}",
        )
    if norms.outliers:
        view["outliers"] = Table(
            [
                "Product",
                "Aanbieder",
                "Cliënten",
                "Zorgmaanden",
                "Gem. bedrag per zorgmaand",
                "Norm (gem. product)",
                "Mediaan van de aanbieders",
                "Index bedrag",
                "Index eenheden",
                "Robuuste z-score",
            ],
            [
                [
                    row["product"],
                    row["provider"],
                    number(row["clients"]),
                    number(row["care_months"]),
                    euro(row["amount_per_care_month_avg"]),
                    euro(row["norm_amount_per_care_month"]),
                    euro(row["provider_median_amount_per_care_month"]),
                    number(row["amount_index"], 1),
                    number(row["units_index"], 1),
                    number(row["amount_robust_z"], 2),
                ]
                for row in norms.outliers
            ],
            numeric=[2, 3, 4, 5, 6, 7, 8, 9],
            caption=f"Uitschieters {f.year}",
        )
    if norms.rises:
        view["rises"] = Table(
            [
                "Product",
                "Aanbieder",
                f"Cliënten {f.year - 1}",
                f"Cliënten {f.year}",
                f"Eenheden per cliënt {f.year - 1}",
                f"Eenheden per cliënt {f.year}",
                "Verandering (%)",
                "Welch t",
            ],
            [
                [
                    row["product"],
                    row["provider"],
                    number(row["previous_clients"]),
                    number(row["clients"]),
                    number(row["previous_units_per_client"], 1),
                    number(row["units_per_client"], 1),
                    signed_percent(row["units_per_client_change_pct"]),
                    number(row["units_per_client_welch_t"], 2),
                ]
                for row in norms.rises
            ],
            numeric=[2, 3, 4, 5, 6, 7],
            caption=f"Stijging eenheden per cliënt {f.year}",
        )
    if norms.growth:
        view["growth"] = Table(
            [
                "Product",
                "Aanbieder",
                f"Cliënten {f.year - 1}",
                f"Cliënten {f.year}",
                "Verandering cliënten (%)",
                "Verandering eenheden (%)",
                "z",
            ],
            [
                [
                    row["product"],
                    row["provider"],
                    number(row["previous_clients"]),
                    number(row["clients"]),
                    signed_percent(row["clients_change_pct"]),
                    signed_percent(row["units_change_pct"]),
                    number(row["clients_growth_z"], 2),
                ]
                for row in norms.growth
            ],
            numeric=[2, 3, 4, 5, 6],
            caption=f"Volumegroei {f.year}",
        )
    return view


def _clients(f: ReportFigures) -> View:
    """Issue 17: ZIN and PGB, clients per segment, category and provider, and the youths the
    municipality pays for without having referred them."""
    view: View = {
        "year": f.year,
        "financing_absent": None,
        "financing": None,
        "dimensions": [],
        "unknown": None,
    }
    if f.clients_by_financing is None:
        view["financing_absent"] = _absent(f, "mart_clients_by_dimension")
    elif f.clients_by_financing:
        rows = []
        for row in f.clients_by_financing:
            label = str(row["dimension_label"] or row["dimension_value"])
            if f.target.is_region:
                label = f"{_municipality(f, row['municipality_code'])}: {label}"
            rows.append(
                [
                    label,
                    number(row["clients"]),
                    number(row["care_months"]),
                    euro(row["amount_eur"]),
                    euro(row["amount_per_client_eur"]),
                    number(row["clients_per_1000_youths"], 1),
                ]
            )
        view["financing"] = Table(
            [
                "Financieringsvorm",
                "Cliënten",
                "Zorgmaanden",
                "Kosten",
                "Kosten per cliënt",
                "Cliënten per 1.000 jeugdigen",
            ],
            rows,
            numeric=[1, 2, 3, 4, 5],
            caption=f"Zorg in natura (ZIN) en persoonsgebonden budget (PGB) {f.year}",
        )
    titles = {
        "segment": "Per segment",
        "product_category": "Per productcategorie (ZIN en PGB)",
        "provider": "Per aanbieder (ZIN)",
    }
    for dimension, title in titles.items():
        shown = [r for r in f.clients_by_dimension or [] if r["dimension"] == dimension]
        if not shown:
            continue
        rows = [
            [
                str(row["dimension_label"] or row["dimension_value"]),
                number(row["clients"]),
                number(row["care_months"]),
                euro(row["amount_eur"]),
                euro(row["amount_per_client_eur"]),
            ]
            for row in shown
        ]
        view["dimensions"].append(
            Table(
                ["", "Cliënten (uniek in het jaar)", "Zorgmaanden", "Kosten", "Kosten per cliënt"],
                rows,
                numeric=[1, 2, 3, 4],
                caption=f"{title} {f.year}",
            )
        )
    if f.unknown_to_municipality:
        rows = [
            [
                _row_label(f, row),
                number(row["youths"]),
                number(row["youths_unknown_to_municipality"]),
                euro(row["cost_unknown_to_municipality_eur"]),
            ]
            for row in f.unknown_to_municipality
        ]
        view["unknown"] = Table(
            [
                _row_header(f),
                "Jeugdigen met een toewijzing",
                "Onbekend bij de gemeente",
                "Kosten onbekend bij de gemeente",
            ],
            rows,
            numeric=[1, 2, 3],
            caption="Jeugdigen die de gemeente niet kent maar wel betaalt",
        )
    return view


def _backtest(f: ReportFigures) -> View | None:
    """The forecast's track record on the region's own data (`jeugdhulp backtest`, issue 16):
    per replayed reporting date the errors of the forecast and of naive annualisation. Region
    report only, and only once a backtest ran."""
    if not f.backtest:
        return None
    rows_in = f.backtest
    year = rows_in[0]["year"]
    labels = [long_date(row["reporting_date"]) for row in rows_in]

    def pct(value) -> float | None:
        return None if value is None else float(value)

    svg = _chart(
        charts.bar_chart,
        "prognose-trefzekerheid",
        f"Afwijking van de prognose en van de jaarextrapolatie, {year}",
        f"Staafdiagram: per peildatum in {year} de kostengewogen gemiddelde afwijking van de "
        "prognose en van de extrapolatie (gefactureerd × 12 / maanden) van de werkelijke "
        "jaarkosten per aanbieder.",
        [f"{row['reporting_date']:%d-%m}" for row in rows_in],
        [
            Series("Prognose", [pct(r["forecast_wape_pct"]) for r in rows_in], charts.BLUE),
            Series("Extrapolatie", [pct(r["naive_wape_pct"]) for r in rows_in], charts.ORANGE),
        ],
        value_format=lambda v: percent(v),
        axis_format=lambda v: percent(v, 0),
        y_label="Afwijking (%)",
        x_label="Peildatum",
    )
    rows = [
        [
            label,
            number(row["providers"]),
            percent(row["forecast_wape_pct"]),
            percent(row["naive_wape_pct"]),
            number(row["naive_to_forecast_ratio"], 1) + "×",
            f"{row['over_ceiling_signalled']} van {row['over_ceiling']}",
            number(row["false_overschrijding"]),
            percent(row["interval_coverage_pct"]),
        ]
        for label, row in zip(labels, rows_in, strict=True)
    ]
    table = Table(
        [
            "Peildatum",
            "Aanbieders",
            "Afwijking prognose",
            "Afwijking extrapolatie",
            "Extrapolatie ÷ prognose",
            "Boven plafond gesignaleerd",
            "Onterecht overschrijding",
            "Binnen P10–P90",
        ],
        rows,
        numeric=[1, 2, 3, 4, 6, 7],
        caption=f"Trefzekerheid van de prognose per peildatum, {year}",
    )
    return {
        "year": year,
        "chart": Figure("Hoe goed voorspelde de prognose de jaarkosten?", "", svg, table),
    }


def _about(f: ReportFigures, files: Sequence[PublishedFile]) -> View:
    return {
        "is_region": f.target.is_region,
        "missing": [(SPECS[m].title if m in SPECS else m, m) for m in sorted(f.missing)],
        "files": [
            {
                "title": SPECS[pf.mart].title if pf.mart in SPECS else pf.mart,
                "rows": number(pf.rows),
                "csv": pf.csv_name,
                "parquet": pf.parquet_name,
            }
            for pf in files
        ],
    }


def render(
    figures: ReportFigures, files: Sequence[PublishedFile], links: PageLinks | None = None
) -> str:
    """The complete index.html: no external scripts, fonts, images or style sheets. `links`: the
    relative links to the other published pages (region, municipalities, openbaar, Data Docs)."""
    f = figures
    links = links or PageLinks()
    title = "Jeugdhulp in de regio" if f.target.is_region else f"Jeugdhulp in {f.target.name}"
    subtitle = (
        f"Stand per {long_date(f.as_of)} · alle gemeenten"
        if f.target.is_region
        else f"Stand per {long_date(f.as_of)} · gemeentecode {f.target.code}"
    ) + (" · openbare versie" if f.tier == "openbaar" else " · interne versie")
    toc = [
        ("kosten", "Kosten en budget"),
        ("verdeling", "Segmenten en aanbieders"),
        ("kerncijfers", "Kerncijfers"),
        ("doorstroom", "Doorstroom"),
        ("tijdigheid", "Tijdig declareren"),
        ("kwaliteit", "Datakwaliteit"),
        ("verwijzers", "Verwijzers"),
        ("clienten", "ZIN/PGB en cliënten"),
        *([("inkoop", "Inkoopanalyses")] if f.cost_change is not None else []),
        *([("productnormen", "Productnormen")] if f.product_norms is not None else []),
        ("financien", "Begroting en plafonds"),
        ("toegang", "Lokaal team en wachttijden"),
        ("toelichting", "Toelichting"),
    ]
    page = {
        "title": title,
        "subtitle": subtitle,
        "as_of": long_date(f.as_of),
        "toc": toc,
        "links": links,
    }
    return ENVIRONMENT.get_template("report.html.j2").render(
        page=page,
        summary=_summary(f),
        costs=_costs(f),
        distribution=_distribution(f),
        kpi=_kpi(f),
        throughput=_throughput(f),
        lateness=_lateness(f),
        quality=_quality(f),
        referrers=_referrers(f),
        clients=_clients(f),
        purchasing=_purchasing(f),
        norms=_product_norms(f),
        finance=_finance(f),
        backtest=_backtest(f),
        access=_access(f),
        about=_about(f, files),
    )
