"""The Dutch, self-contained HTML report (index.html) of one published folder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

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
REFERRERS = {
    "01": "Gemeente (lokaal team)",
    "02": "Huisarts",
    "03": "Jeugdarts",
    "04": "Gecertificeerde instelling",
    "05": "Medisch specialist",
    "06": "Zelfverwijzing of geen verwijzer",
    "08": "Rechter of officier van justitie",
}

STYLE = """
:root { --blue:#154273; --sky:#007bc7; --ink:#1a1a1a; --muted:#545454; --line:#d9d9d9;
        --soft:#f3f7fb; --orange:#e17000; --red:#d52b1e; --green:#39870c; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: var(--ink); background: #fff; line-height: 1.5; }
body { margin: 0; }
a { color: var(--sky); }
a:focus, summary:focus { outline: 3px solid var(--orange); outline-offset: 2px; }
header.top { background: var(--blue); color: #fff; padding: 28px 0 22px; }
header.top .wrap > p { margin: 4px 0 0; color: #dce8f3; }
header.top .eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: .8rem; margin: 0; }
h1 { margin: 6px 0 0; font-size: 2rem; line-height: 1.2; }
h2 { font-size: 1.4rem; color: var(--blue); margin: 0 0 8px; padding-top: 8px; }
h3 { font-size: 1.05rem; margin: 0 0 4px; }
.wrap { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
nav.toc { background: var(--soft); border-bottom: 1px solid var(--line); }
nav.toc ul { list-style: none; margin: 0; padding: 10px 0; display: flex; flex-wrap: wrap; gap: 6px 18px; }
nav.toc a { text-decoration: none; font-size: .95rem; }
main section { padding: 26px 0 12px; border-bottom: 1px solid var(--line); }
.lead { color: var(--muted); max-width: 70ch; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 14px; margin: 8px 0 6px; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--sky); border-radius: 6px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: .85rem; margin: 0; }
.card .value { font-size: 1.45rem; font-weight: 650; margin: 2px 0 0; font-variant-numeric: tabular-nums; }
.card .sub { font-size: .85rem; color: var(--muted); margin: 2px 0 0; }
.card.warn { border-left-color: var(--orange); }
.card.bad { border-left-color: var(--red); }
.card.good { border-left-color: var(--green); }
figure { margin: 18px 0 22px; }
figcaption p { margin: 0 0 6px; color: var(--muted); max-width: 75ch; }
svg.chart { width: 100%; height: auto; max-width: 860px; display: block; margin: 6px 0; }
details { margin: 4px 0 0; }
summary { cursor: pointer; color: var(--sky); }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: .93rem; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--blue); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.table-scroll { max-width: 100%; overflow-x: auto; }
tbody tr:nth-child(even) { background: #fafafa; }
.note { font-size: .88rem; color: var(--muted); max-width: 80ch; }
.missing { background: #fff6ec; border-left: 4px solid var(--orange); padding: 8px 12px; max-width: 80ch; }
.pos { color: var(--red); }
.neg { color: var(--green); }
footer { color: var(--muted); font-size: .85rem; padding: 18px 0 40px; }
/* Narrow screens (400 px phones): the page itself never scrolls sideways. Wide tables scroll
   inside their .table-scroll; long words, codes and file names wrap. */
h1, h2, h3, p, li, dd, caption, figcaption, footer, code { overflow-wrap: anywhere; }
.cards { grid-template-columns: repeat(auto-fill, minmax(min(190px, 100%), 1fr)); }
table.files a { overflow-wrap: anywhere; }
nav.pages { font-size: .95rem; margin: 10px 0 0; }
nav.pages ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
header.top nav.pages a { color: #fff; }
ul.pages { columns: 16rem; padding-left: 1.2rem; }
@media (max-width: 600px) {
  .wrap { padding: 0 14px; }
  h1 { font-size: 1.55rem; }
  th, td { padding: 4px 6px; }
  /* the files table: one block per table, its file names on their own lines */
  table.files, table.files tbody, table.files tr, table.files th, table.files td { display: block; }
  table.files thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.files tr { padding: 6px 0; border-bottom: 1px solid var(--line); }
  table.files th, table.files td { border: 0; padding: 1px 0; text-align: left; }
  table.files td.num::before { content: "Rijen: "; }
}
/* Print (A4): a chart stays on one page with its title and caption; headings stay with what
   follows them; no navigation, no interactive tables; colours as on screen. */
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { font-size: 10.5pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  nav.toc, nav.pages, details, section#gemeenten { display: none; }
  header.top { background: none; color: var(--ink); padding: 0 0 8px; border-bottom: 2px solid var(--blue); }
  header.top .wrap > p { color: var(--muted); }
  .wrap { max-width: none; padding: 0; }
  main section { padding: 14px 0 6px; border-bottom: none; }
  h1, h2, h3, caption, .lead, figcaption { break-after: avoid; page-break-after: avoid; }
  figure, figcaption, .card, tr, .missing, svg.chart { break-inside: avoid; page-break-inside: avoid; }
  figure { margin: 10px 0 14px; }
  svg.chart { max-width: 100%; max-height: 150mm; }
  .table-scroll { overflow: visible; }
  table { font-size: 8.5pt; }
  a { color: var(--ink); }
}
"""


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


def _page_nav(links: PageLinks) -> str:
    items = []
    if links.region:
        items.append(f'<li><a href="{escape(links.region)}">Naar de regiopagina</a></li>')
    if links.municipalities:
        items.append('<li><a href="#gemeenten">Pagina per gemeente</a></li>')
    if links.openbaar:
        items.append(f'<li><a href="{escape(links.openbaar)}">Openbare versie</a></li>')
    if links.data_docs:
        items.append(
            f'<li><a href="{escape(links.data_docs)}">Datakwaliteit: alle controles</a></li>'
        )
    if not items:
        return ""
    return f'<nav class="pages" aria-label="Andere pagina\'s"><ul>{"".join(items)}</ul></nav>'


def _pages_section(links: PageLinks) -> str:
    if not links.municipalities:
        return ""
    items = "".join(
        f'<li><a href="{escape(href)}">{escape(label)}</a></li>'
        for label, href in links.municipalities
    )
    return (
        '<section id="gemeenten" aria-labelledby="gemeenten-h"><div class="wrap">'
        '<h2 id="gemeenten-h">Pagina per gemeente</h2>'
        f'<ul class="pages">{items}</ul></div></section>'
    )


@dataclass(frozen=True)
class PublishedFile:
    mart: str
    rows: int
    csv_name: str
    parquet_name: str


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    caption: str | None = None,
) -> str:
    num = ' class="num"'
    head = "".join(
        f'<th scope="col"{num if i in numeric else ""}>{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == 0:
                cells.append(f'<th scope="row">{escape(cell)}</th>')
            else:
                cells.append(f"<td{num if i in numeric else ''}>{escape(cell)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-scroll"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figure(title: str, text: str, svg: str, table_html: str) -> str:
    return (
        f"<figure><figcaption><h3>{escape(title)}</h3><p>{text}</p></figcaption>{svg}"
        f"<details><summary>Tabel bij deze grafiek</summary>{table_html}</details></figure>"
    )


def _missing(text: str) -> str:
    return f'<p class="missing">{text}</p>'


def _absent(figures: ReportFigures, *marts: str) -> str:
    names = ", ".join(
        f"{escape(SPECS[m].title[0].lower() + SPECS[m].title[1:])} (<code>{m}</code>)"
        for m in marts
        if m in SPECS
    )
    if figures.tier == "openbaar":
        return _missing(f"Alleen in de interne publicatie: {names}.")
    return _missing(f"Niet beschikbaar: {names} ontbreekt nog in het datawarehouse.")


def _hidden_note(count: int, what: str) -> str:
    if not count:
        return ""
    return (
        f'<p class="note">{count} {what} met minder dan {MIN_PERSONS} cliënten '
        "niet getoond (privacy).</p>"
    )


def _nothing_shown(hidden: int, what: str) -> str:
    if hidden:
        return f"Niet getoond: alle {what} hebben minder dan {MIN_PERSONS} cliënten (privacy)."
    return f"Geen {what} om te tonen."


def _card(label: str, value: str, sub: str = "", tone: str = "") -> str:
    sub_html = f'<p class="sub">{escape(sub)}</p>' if sub else ""
    return (
        f'<div class="card {tone}"><p class="label">{escape(label)}</p>'
        f'<p class="value">{escape(value)}</p>{sub_html}</div>'
    )


def _summary(f: ReportFigures) -> str:
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
            if budget.forecast is not None and budget.budget:
                ratio = budget.forecast / budget.budget * 100
                # the contract's budget signals: > 100 overspend, > 95 threatening, < 80 underspend
                tone = "bad" if ratio > 100 else "warn" if ratio > 95 or ratio < 80 else "good"
                signal = (
                    "overschrijding"
                    if ratio > 100
                    else "dreigende overschrijding"
                    if ratio > 95
                    else "onderbesteding"
                    if ratio < 80
                    else "op koers"
                )
                sub = f"prognose is {percent(ratio, 0)} van het budget: {signal}"
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
    if not cards:
        return ""
    return f'<div class="cards">{"".join(cards)}</div>'


def _costs_section(f: ReportFigures) -> str:
    parts = [
        '<section id="kosten" aria-labelledby="kosten-h"><div class="wrap">',
        '<h2 id="kosten-h">Kosten, budget en prognose</h2>',
        '<p class="lead">Geaccepteerde declaraties per zorgmaand (de maand waarin de zorg is '
        "geleverd). Recente maanden zijn nog niet compleet: aanbieders declareren achteraf.</p>",
    ]
    if f.budget is None or f.monthly is None:
        parts.append(_absent(f, "mart_costs_monthly"))
        parts.append("</div></section>")
        return "".join(parts)
    b = f.budget
    months = list(MONTHS_SHORT)
    shown = [i for i, v in enumerate(b.cumulative) if v is not None]
    if b.actual is None or not shown:
        parts.append(
            _missing(
                "De cumulatieve kosten worden niet getoond: ze gaan over minder dan "
                f"{MIN_PERSONS} cliënten."
            )
        )
    else:
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
        svg = charts.cumulative_chart(
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
        )
        rows = [[MONTHS_LONG[i], euro(v)] for i, v in enumerate(b.cumulative) if v is not None]
        rows += [["Prognose jaareinde", euro(b.forecast)], ["Budget", euro(b.budget)]]
        parts.append(
            _figure(
                f"Cumulatieve kosten {f.year} tegen budget en prognose",
                escape(text),
                svg,
                _table(["Maand", "Cumulatief"], rows, numeric=[1]),
            )
        )
    for note in b.notes:
        parts.append(_missing(escape(note)))

    m = f.monthly
    if any(v is not None for v in m.current + m.previous):
        svg = charts.bar_chart(
            "kosten-per-maand",
            f"Kosten per zorgmaand, {m.year - 1} en {m.year}",
            f"Staafdiagram van de kosten per maand in {m.year - 1} en {m.year}.",
            months,
            [
                Series(str(m.year - 1), m.previous, charts.LIGHT_BLUE),
                Series(str(m.year), m.current, charts.BLUE),
            ],
            value_format=euro,
            axis_format=euro_compact,
            y_label="Kosten (€)",
            x_label="Zorgmaand",
        )
        rows = [[MONTHS_LONG[i], euro(m.previous[i]), euro(m.current[i])] for i in range(12)]
        parts.append(
            _figure(
                f"Kosten per zorgmaand, {m.year - 1} en {m.year}",
                "Vergelijk met dezelfde maand een jaar eerder.",
                svg,
                _table(["Maand", str(m.year - 1), str(m.year)], rows, numeric=[1, 2]),
            )
        )
        if m.hidden:
            parts.append(
                f'<p class="note">{m.hidden} maand(en) niet getoond: minder dan '
                f"{MIN_PERSONS} cliënten.</p>"
            )
    elif b.actual is not None or not m.hidden:
        parts.append(_missing("Geen kosten per maand om te tonen."))

    if f.settlement is not None:
        parts.append(_settlement(f))
    else:
        parts.append(_absent(f, "mart_settlement"))
    parts.append("</div></section>")
    return "".join(parts)


def _municipality(f: ReportFigures, code: str) -> str:
    name = f.municipality_names.get(code)
    return f"{name} ({code})" if name else code


def _settlement(f: ReportFigures) -> str:
    rows = []
    for row in f.settlement or []:
        first = (
            _municipality(f, row["municipality_code"]) if f.target.is_region else str(row["year"])
        )
        rows.append(
            [
                first,
                percent(row.get("key_share_pct"), 2),
                euro(row.get("contribution_eur")),
                euro(row.get("settlement_eur")),
                euro(row.get("forecast_settlement_eur")),
                euro(row.get("actual_cost_eur")),
                euro(row.get("own_vs_key_eur")),
            ]
        )
    if not rows:
        return _missing("Nog geen verrekening berekend.")
    first_header = "Gemeente" if f.target.is_region else "Jaar"
    shown_year = (f.settlement or [{}])[0].get("year", f.year)
    caption = (
        f"Bijdrage en verrekening {shown_year} per gemeente"
        if f.target.is_region
        else "Bijdrage en verrekening volgens de verdeelsleutel T-2"
    )
    return (
        _table(
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
        + '<p class="note">Verdeelsleutel T-2: het aandeel van de gemeente in de regionale kosten '
        "twee jaar eerder. Bijdrage = sleutel × regionale programmabegroting. Verrekening = sleutel "
        "× (werkelijke regionale kosten − programmabegroting): positief betekent bijbetalen; samen "
        "zijn de verrekeningen de over- of onderbesteding van de regio. Verrekening op prognose: "
        "hetzelfde op de jaarprognose. Eigen kosten − sleutelaandeel is informatie "
        "(solidariteit), geen verrekening.</p>"
    )


def _finance_section(f: ReportFigures) -> str:
    """The region's programme budget per segment, the ceilings and when they are reached, and
    the routes outside the ceilings (issue 15)."""
    parts = [
        '<section id="financien" aria-labelledby="financien-h"><div class="wrap">',
        f'<h2 id="financien-h">Begroting, plafonds en routes buiten de plafonds, {f.year}</h2>',
    ]
    if f.segment_budget is None:
        parts.append(_absent(f, "mart_segment_budget"))
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
        parts.append(
            _table(
                ["Segment", "Begroting", "Gedeclareerd", "Prognose", "Benutting", "Signaal"],
                rows,
                numeric=[1, 2, 3, 4],
                caption=f"Programmabegroting {f.year} van de regio per segment",
            )
            + '<p class="note">De budgetplafonds gelden per aanbieder over de segmenten heen; '
            "de prognose per segment is de prognose per aanbieder verdeeld naar rato van de "
            "kosten per product. Regiocijfers: op elke gemeentepagina dezelfde.</p>"
        )
    else:
        parts.append(f"<p>Geen programmabegroting voor {f.year}.</p>")
    if f.ceilings is None:
        parts.append(_absent(f, "mart_budget_utilisation"))
    else:
        reached = [row for row in f.ceilings if row["ceiling_reached_on"] is not None]
        rows = [
            [
                row["provider"],
                euro(row["budget_ceiling_eur"]),
                euro(row["forecast_eur"]),
                percent(row["utilisation_pct"]),
                long_date(row["ceiling_reached_on"]),
                number(row["headroom_months"], 1),
            ]
            for row in reached
        ]
        if rows:
            parts.append(
                _table(
                    [
                        "Aanbieder",
                        "Plafond",
                        "Prognose",
                        "Benutting",
                        "Plafond bereikt op",
                        "Ruimte",
                    ],
                    rows,
                    numeric=[1, 2, 3, 5],
                    caption="Aanbieders die hun plafond dit jaar naar verwachting bereiken",
                )
                + '<p class="note">Plafond bereikt op: de dag waarop de opgetelde prognose van '
                "de zorgmaanden het plafond haalt (daarna dreigt een cliëntenstop). Ruimte: het "
                "plafond min de prognose tot nu, in maanden van de verwachte maandkosten; "
                "negatief is al voorbij.</p>"
            )
        else:
            parts.append(
                f"<p>Geen aanbieder bereikt naar verwachting zijn plafond in {f.year}.</p>"
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
        parts.append(
            _table(
                ["Aanbieder", "Route", "Gedeclareerd", "Prognose"],
                rows,
                numeric=[2, 3],
                caption=f"Routes buiten de plafonds, {f.year}",
            )
            + '<p class="note">Nee-tenzij, expertteam en maatwerk vallen buiten de '
            "budgetplafonds maar wel binnen de programmabegroting.</p>"
        )
    elif f.outside_ceilings is not None:
        parts.append(f"<p>Geen kosten via routes buiten de plafonds in {f.year}.</p>")
    parts.append("</div></section>")
    return "".join(parts)


def _access_section(f: ReportFigures) -> str:
    """What the invoices do not tell (issue 18): the municipal team, waiting times and the
    woonplaatsbeginsel signals."""
    parts = [
        '<section id="toegang" aria-labelledby="toegang-h"><div class="wrap">',
        '<h2 id="toegang-h">Lokaal team, wachttijden en woonplaatsbeginsel</h2>',
    ]
    if f.local_team is None:
        parts.append(_absent(f, "mart_local_team"))
    elif f.local_team:
        rows = [
            [
                _municipality(f, row["municipality_code"])
                if f.target.is_region
                else str(row["year"]),
                number(row["youths_team_only"]),
                number(row["youths_team_then_specialist"]),
                number(row["median_days_team_to_specialist"]),
                number(row["youths_specialist_without_team"]),
                percent(row["team_share_pct"]),
            ]
            for row in f.local_team
        ]
        parts.append(
            _table(
                [
                    "Gemeente" if f.target.is_region else "Jaar",
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
            + f'<p class="note">Uit de registratie van het lokale team, gekoppeld aan de '
            f"iJw-berichten via het pseudoniem. {NOT_SHOWN} = minder dan {MIN_PERSONS} "
            "jeugdigen (niet getoond).</p>"
        )
    else:
        parts.append("<p>Geen registratie van het lokale team aangeleverd.</p>")
    if f.waiting is None:
        parts.append(_absent(f, "mart_waiting_times"))
    elif f.waiting.month is None and not f.waiting.missing:
        parts.append("<p>Geen wachttijden aangeleverd (Beschikbaarheidswijzer).</p>")
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
            parts.append(
                _table(
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
            )
        if f.waiting.missing:
            shown = f.waiting.missing[:MISSING_SHOWN]
            more = len(f.waiting.missing) > MISSING_SHOWN
            rows = [
                [
                    row["provider"],
                    str(row["product_category"]),
                    f"{MONTHS_SHORT[row['report_month'].month - 1]} {row['report_month'].year}",
                ]
                for row in shown
            ]
            parts.append(
                _table(
                    ["Aanbieder", "Categorie", "Maand"],
                    rows,
                    caption=f"Niet aangeleverde wachttijden {f.year} (contractuele plicht)",
                )
                + (
                    f'<p class="note">Meer dan {MISSING_SHOWN}: de volledige lijst staat in '
                    "het bestand mart_waiting_times (Aangeleverd = onwaar).</p>"
                    if more
                    else ""
                )
            )
    if f.residence is None:
        parts.append(_absent(f, "mart_residence_signals"))
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
        parts.append(
            _table(
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
            + f'<p class="note">{NOT_SHOWN} = minder dan {MIN_PERSONS} cliënten (niet getoond). '
            "De signalen per cliënt staan alleen in het datawarehouse (dq_findings, regels "
            "residence_*), voor wie de toewijzingen mag inzien.</p>"
        )
    else:
        parts.append(f"<p>Geen signalen over het woonplaatsbeginsel in {f.year}.</p>")
    parts.append("</div></section>")
    return "".join(parts)


def _distribution_section(f: ReportFigures) -> str:
    parts = [
        '<section id="verdeling" aria-labelledby="verdeling-h"><div class="wrap">',
        f'<h2 id="verdeling-h">Kosten per segment en aanbieder, {f.year}</h2>',
    ]
    if f.segments is None or f.top_providers is None:
        parts.append(_absent(f, "mart_costs_monthly"))
        parts.append("</div></section>")
        return "".join(parts)
    s = f.segments
    if s.labels:
        svg = charts.horizontal_bar_chart(
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
        parts.append(
            _figure(
                f"Kosten per segment, {f.year}",
                "Welk deel van de kosten gaat naar welk segment.",
                svg,
                _table(["Segment", "Kosten", "Aandeel"], rows, numeric=[1, 2]),
            )
        )
        parts.append(_hidden_note(s.hidden, "segment(en)"))
    else:
        parts.append(_missing(_nothing_shown(s.hidden, "segmenten")))
    t = f.top_providers
    if t.labels:
        svg = charts.horizontal_bar_chart(
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
        parts.append(
            _figure(
                f"Aanbieders met de hoogste kosten, {f.year}",
                f"De top {len(t.labels)} van {t.extra['providers']} aanbieders.",
                svg,
                _table(["Aanbieder", "Kosten"], rows, numeric=[1]),
            )
        )
        parts.append(_hidden_note(t.hidden, "aanbieder(s)"))
    else:
        parts.append(_missing(_nothing_shown(t.hidden, "aanbieders")))
    parts.append("</div></section>")
    return "".join(parts)


def _kpi_section(f: ReportFigures) -> str:
    parts = [
        '<section id="kerncijfers" aria-labelledby="kerncijfers-h"><div class="wrap">',
        '<h2 id="kerncijfers-h">Kerncijfers</h2>',
        '<p class="lead">Regionaal ingekochte jeugdhulp in natura. Een zorgmaand is een '
        "jeugdige × aanbieder × product × maand met een geaccepteerd bedrag groter dan nul.</p>",
    ]
    if f.kpi is None:
        parts.append(_absent(f, "mart_kpi_annual"))
        parts.append("</div></section>")
        return "".join(parts)
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
    parts.append(
        _table(
            ["", head(k.previous_year), head(k.current_year), "%"],
            rows,
            numeric=[1, 2, 3],
            caption=f"Kerncijfers {k.previous_year}–{k.current_year}",
        )
    )
    for note in k.footnotes:
        parts.append(f'<p class="note">{escape(note)}</p>')
    if k.annualised_years:
        parts.append(
            '<p class="note">Met * gemarkeerd jaar: zorgmaanden, gemiddeld aantal '
            "zorgmaanden en totale kosten zijn naar een heel jaar doorgetrokken; aantallen "
            "jeugdigen zijn de stand tot nu toe.</p>"
        )
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
    parts.append(
        f'<p class="note">{NOT_SHOWN} = niet getoond (minder dan {MIN_PERSONS} '
        f"jeugdigen) of niet beschikbaar. {escape(compared)}</p>"
    )
    parts.append("</div></section>")
    return "".join(parts)


def _throughput_section(f: ReportFigures) -> str:
    parts = [
        '<section id="doorstroom" aria-labelledby="doorstroom-h"><div class="wrap">',
        '<h2 id="doorstroom-h">Instroom, uitstroom en duur</h2>',
        '<p class="lead">Trajecten per halfjaar (CBS-definitie): één vorm van hulp voor één '
        "jeugdige bij één aanbieder, van start tot einde. Een tijdelijke stop telt niet als "
        "einde.</p>",
    ]
    t = f.throughput
    if t is None:
        if "mart_throughput" in f.missing:
            parts.append(_absent(f, "mart_throughput"))
        else:
            parts.append(
                _missing("Niet beschikbaar: de doorstroom heeft geen kolom <code>half_year</code>.")
            )
        parts.append("</div></section>")
        return "".join(parts)
    if t.periods and any(v is not None for v in t.started + t.ended + t.running):
        labels = [half_year_label(p) for p in t.periods]
        svg = charts.bar_chart(
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
        parts.append(
            _figure(
                "Gestarte, beëindigde en lopende trajecten per halfjaar",
                "Opgeteld over de hulpvormen (CBS).",
                svg,
                _table(
                    ["Halfjaar", "Gestart", "Beëindigd", "Lopend aan einde"],
                    rows,
                    numeric=[1, 2, 3],
                ),
            )
        )
    else:
        parts.append(_missing("Geen trajecten om te tonen."))
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
        parts.append(
            _table(
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
        )
        parts.append(
            f'<p class="note">{NOT_SHOWN} = minder dan {MIN_PERSONS} (niet getoond). Een '
            "jeugdige telt één keer per hulpvorm; opgeteld over hulpvormen is het meer dan "
            "het aantal unieke jeugdigen. Vervoer (categorie 42) en jeugdbescherming en "
            "-reclassering (47–49) zijn geen jeugdhulptrajecten in de zin van het CBS en tellen "
            "hier niet mee.</p>"
        )
    if t.excluded:
        parts.append(
            f'<p class="note">Totalen zonder de delen met 1 tot en met {MIN_PERSONS - 1} '
            "trajecten of jeugdigen die niet getoond worden: anders zouden die uit het "
            "verschil te berekenen zijn.</p>"
        )
    parts.append("</div></section>")
    return "".join(parts)


def _lateness_section(f: ReportFigures) -> str:
    parts = [
        '<section id="tijdigheid" aria-labelledby="tijdigheid-h"><div class="wrap">',
        f'<h2 id="tijdigheid-h">Tijdig declareren, {f.year}</h2>',
        '<p class="lead">Een declaratieregel is te laat als hij later is ingediend dan de laatste '
        "dag van de maand na de zorgmaand. Late declaraties maken de kosten van recente maanden "
        "te laag en prognoses onbetrouwbaar.</p>",
    ]
    r = f.lateness
    if r is None:
        parts.append(_absent(f, "mart_invoice_timeliness"))
        parts.append("</div></section>")
        return "".join(parts)
    if r.labels:
        overall = r.extra["overall"]
        colors = [charts.ORANGE if value > overall else charts.SKY for value in r.values]
        scope = (
            "de aanbieders in de regio"
            if f.target.is_region
            else f"de aanbieders die aan {f.target.name} declareren (hun regels in de hele regio)"
        )
        svg = charts.horizontal_bar_chart(
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
        parts.append(
            _figure(
                f"Aandeel te laat gedeclareerde regels per aanbieder, {f.year}",
                f"Het aandeel te late regels bij {escape(scope)}: de {len(r.labels)} hoogste van "
                f"{r.extra['providers']} aanbieders. Gemiddeld {percent(overall)}.",
                svg,
                _table(["Aanbieder", "Te laat", "Regels"], rows, numeric=[1, 2]),
            )
        )
    else:
        parts.append(_missing("Geen declaratieregels om te tonen."))
    if r.hidden:
        parts.append(
            f'<p class="note">{r.hidden} aanbieder(s) met minder dan {MIN_PERSONS} '
            "regels niet getoond.</p>"
        )
    parts.append("</div></section>")
    return "".join(parts)


def _quality_section(f: ReportFigures) -> str:
    parts = [
        '<section id="kwaliteit" aria-labelledby="kwaliteit-h"><div class="wrap">',
        '<h2 id="kwaliteit-h">Volledigheid en datakwaliteit</h2>',
    ]
    c = f.completeness
    if c is None:
        parts.append(_absent(f, "mart_invoicing_completeness"))
    else:
        overall = c.extra.get("overall")
        parts.append(
            '<p class="lead">Verwacht: een lopende toewijzing met een gestarte zorg, '
            "waarvan de declaratietermijn voor die maand verstreken is. Ontbrekend: "
            "daarvoor is (nog) niets gedeclareerd.</p>"
        )
        if overall is not None:
            parts.append(
                f"<p>Volledigheid {f.year}: {percent(overall)} "
                f"({number(c.extra['invoiced'])} van {number(c.extra['expected'])} "
                "verwachte zorgmaanden gedeclareerd).</p>"
            )
        if c.labels:
            svg = charts.horizontal_bar_chart(
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
            parts.append(
                _figure(
                    f"Ontbrekende zorgmaanden per aanbieder, {f.year}",
                    "Aanbieders met de meeste ontbrekende zorgmaanden.",
                    svg,
                    _table(["Aanbieder", "Ontbrekend", "Volledigheid"], rows, numeric=[1, 2]),
                )
            )
        else:
            parts.append("<p>Geen ontbrekende zorgmaanden gevonden.</p>")
        parts.append(_hidden_note(c.hidden, "aanbieder(s)"))

    if f.dq is None:
        parts.append(_absent(f, "dq_findings_summary"))
    elif not f.dq:
        parts.append("<p>Geen bevindingen over de datakwaliteit.</p>")
    else:
        labels, values, colors = [], [], []
        rows = []
        for row in f.dq[:15]:
            rule = str(row["rule_id"])
            description = RULE_DESCRIPTIONS.get(rule, "")
            labels.append(f"{rule} {description}".strip())
            values.append(float(row["findings"]))
            colors.append(charts.RED if row["severity"] == "error" else charts.ORANGE)
        for row in f.dq:
            rule = str(row["rule_id"])
            rows.append(
                [
                    rule,
                    RULE_DESCRIPTIONS.get(rule, NOT_SHOWN),
                    SEVERITY.get(row["severity"], str(row["severity"])),
                    number(row["findings"]),
                    number(row["providers"]),
                ]
            )
        svg = charts.horizontal_bar_chart(
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
        parts.append(
            _figure(
                "Bevindingen datakwaliteit per regel",
                "Controles op de declaraties, met de iJw-retourcode waar die bestaat.",
                svg,
                _table(
                    ["Regel", "Omschrijving", "Ernst", "Bevindingen", "Aanbieders"],
                    rows,
                    numeric=[3, 4],
                ),
            )
        )
    parts.append("</div></section>")
    return "".join(parts)


def _other_section(f: ReportFigures) -> str:
    parts = [
        '<section id="verwijzers" aria-labelledby="verwijzers-h"><div class="wrap">',
        '<h2 id="verwijzers-h">Verwijzers en kostenconcentratie</h2>',
    ]
    if f.referrers is None:
        parts.append(_absent(f, "mart_referrers"))
    elif f.referrers:
        rows = [
            [
                REFERRERS.get(str(row["referrer_type"]), f"code {row['referrer_type']}"),
                number(row["allocations"]),
                number(row["youths"]),
                euro(row["cost_eur"]),
            ]
            for row in f.referrers
        ]
        parts.append(
            _table(
                ["Verwijzer", "Toewijzingen", "Jeugdigen", "Kosten"],
                rows,
                numeric=[1, 2, 3],
                caption=f"Verwijzers {f.year}",
            )
        )
        note = f"{NOT_SHOWN} = minder dan {MIN_PERSONS} jeugdigen (niet getoond)."
        if any(row["excluded"] for row in f.referrers):
            note += (
                " Regiototalen zijn zonder de gemeenten met minder dan "
                f"{MIN_PERSONS} jeugdigen voor die verwijzer."
            )
        parts.append(f'<p class="note">{note}</p>')
    else:
        parts.append(f"<p>Geen verwijzingen in {f.year}.</p>")
    if f.concentration is None:
        parts.append(_absent(f, "mart_cost_concentration"))
    elif f.concentration:
        rows = []
        for row in f.concentration:
            first = (
                _municipality(f, row["municipality_code"])
                if f.target.is_region
                else str(row["year"])
            )
            rows.append(
                [
                    first,
                    number(row["clients"]),
                    euro(row["total_cost_eur"]),
                    euro(row["top10_cost_eur"]),
                    percent(row["top10_share_pct"]),
                ]
            )
        shown_year = f.concentration[0].get("year", f.year)
        caption = (
            f"Kostenconcentratie {shown_year} per gemeente"
            if f.target.is_region
            else "Kostenconcentratie: aandeel van de tien duurste cliënten"
        )
        parts.append(
            _table(
                [
                    "Gemeente" if f.target.is_region else "Jaar",
                    "Cliënten",
                    "Totale kosten",
                    "Kosten top-10",
                    "Aandeel top-10",
                ],
                rows,
                numeric=[1, 2, 3, 4],
                caption=caption,
            )
        )
    parts.append("</div></section>")
    return "".join(parts)


def _purchasing_section(f: ReportFigures) -> str:
    """Issue 17: the municipality's cost change split into volume, intensity and price
    (mart_cost_change), and in the intern tier its ten most expensive clients under their case
    keys (mart_top_clients). Municipality pages only."""
    if f.cost_change is None and f.top_clients is None:
        return ""
    parts = [
        '<section id="inkoop" aria-labelledby="inkoop-h"><div class="wrap">',
        '<h2 id="inkoop-h">Inkoopanalyses: kostenverandering en duurste cliënten</h2>',
    ]
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
        parts.append(
            _table(
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
        )
        parts.append(
            '<p class="note">De verandering is precies de som van drie effecten: eerst het aantal '
            "cliënten (tegen vorig jaar eenheden per cliënt en tarieven), dan de eenheden per "
            "cliënt (tegen vorig jaar tarieven), dan de tarieven. Beide jaren over dezelfde "
            f"maanden. {NOT_SHOWN} = minder dan {MIN_PERSONS} cliënten (niet getoond).</p>"
        )
    elif f.cost_change is not None:
        parts.append(f"<p>Geen vergelijking met {f.year - 1} beschikbaar.</p>")
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
        parts.append(
            _table(
                ["Rang", "Casussleutel", "Kosten", "Aanbieders", "Producten", "Maanden in zorg"],
                rows,
                numeric=[2, 3, 4, 5],
                caption=f"De tien duurste cliënten van {f.year} (alleen intern)",
            )
        )
        parts.append(
            '<p class="note">De casussleutel is per gemeente verschillend: zonder de geheime '
            "sleutel van de regio is hij niet terug te voeren op een BSN, op de sleutel in het "
            "datawarehouse of op de casussleutel van een andere gemeente.</p>"
        )
    parts.append("</div></section>")
    return "".join(parts)


def _norm_spread(row: dict, name: str, money: bool) -> str:
    """'€ 624 (€ 600–€ 650)': the median with the quartiles of a *_per_care_month figure."""
    show = (lambda v: euro(v)) if money else (lambda v: number(v, 1))
    median, low, high = (row[f"{name}_per_care_month_{s}"] for s in ("median", "p25", "p75"))
    return f"{show(median)} ({show(low)}–{show(high)})"


def _product_norms_section(f: ReportFigures) -> str:
    """Issue 17: mart_product_norms of the report year. Region page: every product's norm and
    spread of the amount and units per care month, the providers far above the norm, the rises
    of units per client and the products with significant volume growth. A municipality page:
    the same for the providers that invoiced it, each against its product's regional norm."""
    norms = f.product_norms
    if norms is None:
        return ""
    region = f.target.is_region
    months = norms.months_compared
    period = f"{f.year}, {'januari' if months == 1 else f'eerste {months} maanden'}"
    parts = [
        '<section id="productnormen" aria-labelledby="productnormen-h"><div class="wrap">',
        '<h2 id="productnormen-h">Productnormen: bedrag en eenheden per zorgmaand</h2>',
        "<p>Een zorgmaand is één cliënt bij één aanbieder met één product in één maand. De norm "
        "van een product is het gemiddelde bedrag per zorgmaand over alle aanbieders in de "
        "regio; de index zet een aanbieder daartegen af (100 = de norm). Een jaar telt alleen "
        "de maanden waarvan de declaratietermijn voorbij is en wordt vergeleken met dezelfde "
        f"maanden van het jaar ervoor ({escape(period if months else str(f.year))}).</p>",
    ]
    if not norms.norms:
        parts.append(f"<p>Geen zorgmaanden met productnormen in {f.year}.</p>")
    elif region:
        parts.append(
            _table(
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
        )
    else:
        parts.append(
            _table(
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
        )
    parts.append(f"<h3>Aanbieders ver boven de norm in {f.year}</h3>")
    if norms.outliers:
        parts.append(
            _table(
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
        )
    else:
        parts.append(f"<p>Geen aanbieder ver boven de norm van een product in {f.year}.</p>")
    parts.append(
        '<p class="note">Uitschieter: een aanbieder met minstens 24 zorgmaanden en 10 cliënten '
        "van het product, als minstens 5 aanbieders zo groot zijn, met een gemiddeld bedrag per "
        "zorgmaand van minstens 1,5 × de mediaan van die aanbieders en een robuuste z-score "
        "boven 3,5 (docs/purchasing_marts.md).</p>"
    )
    parts.append(
        f"<h3>Significante stijging van de eenheden per cliënt, {f.year - 1} → {f.year}</h3>"
    )
    if norms.rises:
        parts.append(
            _table(
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
        )
    else:
        parts.append(f"<p>Geen significante stijging van de eenheden per cliënt in {f.year}.</p>")
    growth_what = "Producten" if region else "Aanbieders en producten"
    parts.append(f"<h3>{growth_what} met significante volumegroei, {f.year - 1} → {f.year}</h3>")
    if norms.growth:
        parts.append(
            _table(
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
        )
    else:
        parts.append(f"<p>Geen significante volumegroei in {f.year}.</p>")
    parts.append(
        '<p class="note">Significant: minstens 10 cliënten in beide jaren en een stijging van '
        "minstens 10% eenheden per cliënt (Welch t boven 1,96), of minstens 5% meer cliënten "
        "en meer eenheden (z boven 1,96). Een signaal om na te vragen, geen oordeel.</p>"
    )
    parts.append("</div></section>")
    return "".join(parts)


def _clients_section(f: ReportFigures) -> str:
    """Issue 17: ZIN and PGB, clients per segment, category and provider, and the youths the
    municipality pays for without having referred them."""
    parts = [
        '<section id="clienten" aria-labelledby="clienten-h"><div class="wrap">',
        '<h2 id="clienten-h">ZIN en PGB, cliënten per aanbieder en product</h2>',
    ]
    if f.clients_by_financing is None:
        parts.append(_absent(f, "mart_clients_by_dimension"))
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
        parts.append(
            _table(
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
        )
        parts.append(
            '<p class="note">Een cliënt met zowel ZIN als PGB telt één keer in het totaal en '
            "één keer bij elke vorm. Een PGB-zorgmaand is een cliënt × productcategorie × maand "
            "met PGB-uitgaven. Cliënten per 1.000 inwoners van 0 tot en met 17 jaar. "
            f"{NOT_SHOWN} = minder dan {MIN_PERSONS} cliënten (niet getoond).</p>"
        )
    else:
        parts.append(f"<p>Geen zorg in {f.year}.</p>")
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
        parts.append(
            _table(
                ["", "Cliënten (uniek in het jaar)", "Zorgmaanden", "Kosten", "Kosten per cliënt"],
                rows,
                numeric=[1, 2, 3, 4],
                caption=f"{title} {f.year}",
            )
        )
    if f.unknown_to_municipality:
        rows = [
            [
                _municipality(f, row["municipality_code"])
                if f.target.is_region
                else str(row["year"]),
                number(row["youths"]),
                number(row["youths_unknown_to_municipality"]),
                euro(row["cost_unknown_to_municipality_eur"]),
            ]
            for row in f.unknown_to_municipality
        ]
        parts.append(
            _table(
                [
                    "Gemeente" if f.target.is_region else "Jaar",
                    "Jeugdigen met een toewijzing",
                    "Onbekend bij de gemeente",
                    "Kosten onbekend bij de gemeente",
                ],
                rows,
                numeric=[1, 2, 3],
                caption="Jeugdigen die de gemeente niet kent maar wel betaalt",
            )
        )
        parts.append(
            '<p class="note">Onbekend bij de gemeente: elke toewijzing van de jeugdige in het '
            "jaar kwam via een andere verwijzer dan de gemeente (huisarts, jeugdarts, "
            "gecertificeerde instelling, medisch specialist, rechter of zelfverwijzer).</p>"
        )
    parts.append("</div></section>")
    return "".join(parts)


def _backtest_section(f: ReportFigures) -> str:
    """The forecast's track record on the region's own data (`jeugdhulp backtest`, issue 16):
    per replayed reporting date the errors of the forecast and of naive annualisation. Region
    report only, and only once a backtest ran."""
    if not f.backtest:
        return ""
    rows_in = f.backtest
    year = rows_in[0]["year"]
    labels = [long_date(row["reporting_date"]) for row in rows_in]

    def pct(value) -> float | None:
        return None if value is None else float(value)

    svg = charts.bar_chart(
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
    table = _table(
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
    return (
        '<section id="trefzekerheid" aria-labelledby="trefzekerheid-h"><div class="wrap">'
        f'<h2 id="trefzekerheid-h">Trefzekerheid van de prognose, {year}</h2>'
        + _figure(
            "Hoe goed voorspelde de prognose de jaarkosten?",
            f"Het datawarehouse is voor elke peildatum in {year} teruggezet naar wat er toen "
            "binnen was, en de prognose is opnieuw berekend (<code>jeugdhulp backtest</code>). "
            "Afwijking: de som van de absolute verschillen met de werkelijke jaarkosten per "
            "aanbieder, gedeeld door de werkelijke kosten.",
            svg,
            table,
        )
        + "</div></section>"
    )


def _about_section(f: ReportFigures, files: Sequence[PublishedFile]) -> str:
    parts = [
        '<section id="toelichting" aria-labelledby="toelichting-h"><div class="wrap">',
        '<h2 id="toelichting-h">Over deze cijfers</h2>',
        f"<p>Stand per {long_date(f.as_of)}. Bron: iJw-berichten (toewijzingen, start- en "
        "stopberichten, declaraties en declaratie-antwoorden) en de productieverantwoording van "
        "de aanbieders. Bedragen zijn geaccepteerde declaraties; creditregels zijn verrekend.</p>",
        f"<p><strong>Privacy.</strong> Aantallen van 1 tot en met {MIN_PERSONS - 1} personen "
        "worden niet getoond, samen met de bedragen en gemiddelden die bij die personen horen "
        f"(weergegeven als {NOT_SHOWN} of een lege cel). Een 0 wordt wel getoond. De bestanden "
        "bevatten geen burgerservicenummers en geen cliëntsleutels.</p>",
    ]
    if not f.target.is_region:
        parts.append(
            "<p>De cijfers per aanbieder over tijdig declareren en budgetbenutting gaan over "
            "de hele regio, voor de aanbieders die aan deze gemeente hebben gedeclareerd.</p>"
        )
    if f.missing:
        items = "".join(
            f"<li>{escape(SPECS[m].title if m in SPECS else m)} (<code>{escape(m)}</code>)</li>"
            for m in sorted(f.missing)
        )
        parts.append(f"<p>Nog niet beschikbaar in deze publicatie:</p><ul>{items}</ul>")
    if files:
        rows = "".join(
            f'<tr><th scope="row">{escape(SPECS[pf.mart].title if pf.mart in SPECS else pf.mart)}'
            f'</th><td class="num">{escape(number(pf.rows))}</td>'
            f'<td><a href="{escape(pf.csv_name)}">{escape(pf.csv_name)}</a></td>'
            f'<td><a href="{escape(pf.parquet_name)}">{escape(pf.parquet_name)}</a></td></tr>'
            for pf in files
        )
        parts.append(
            "<h3>Bestanden in deze map</h3>"
            '<p class="note">CSV: puntkomma als scheidingsteken, decimale komma, UTF-8; '
            "opent direct in Excel, met Nederlandse kolomkoppen. Parquet: dezelfde gegevens "
            "met de Engelse kolomnamen van het datacontract (voor Power BI en analisten).</p>"
            '<div class="table-scroll"><table class="files"><thead><tr><th scope="col">Tabel</th>'
            '<th scope="col" class="num">Rijen'
            '</th><th scope="col">CSV</th><th scope="col">Parquet</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div>"
        )
    parts.append("</div></section>")
    return "".join(parts)


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
    nav = "".join(f'<li><a href="#{anchor}">{escape(label)}</a></li>' for anchor, label in toc)
    body = [
        '<header class="top"><div class="wrap">',
        '<p class="eyebrow">Regionaal ingekochte jeugdhulp · managementinformatie</p>',
        f"<h1>{escape(title)}</h1><p>{escape(subtitle)}</p>{_page_nav(links)}</div></header>",
        f'<nav class="toc" aria-label="Inhoud"><div class="wrap"><ul>{nav}</ul></div></nav>',
        "<main>",
        '<section id="samenvatting" aria-label="Samenvatting"><div class="wrap">',
        _summary(f),
        "</div></section>",
        _pages_section(links),
        _costs_section(f),
        _distribution_section(f),
        _kpi_section(f),
        _throughput_section(f),
        _lateness_section(f),
        _quality_section(f),
        _other_section(f),
        _clients_section(f),
        _purchasing_section(f),
        _product_norms_section(f),
        _finance_section(f),
        _backtest_section(f),
        _access_section(f),
        _about_section(f, files),
        "</main>",
        f'<footer><div class="wrap">Gemaakt door de jeugdhulp-rapportagestraat · stand per '
        f"{escape(long_date(f.as_of))}.</div></footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} – stand per {escape(long_date(f.as_of))}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
