"""The Dutch HTML report: self-contained, accessible charts, right numbers, and it renders in Chromium."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from jeugdhulp.publish import publish
from jeugdhulp.publish.dutch import euro
from jeugdhulp.publish.figures import compute
from jeugdhulp.publish.selection import Target
from jeugdhulp.publish.warehouse import open_work_copy
from jeugdhulp.settings import Settings
from tests.support import browser
from tests.support.pipeline import REPO
from tests.support.publish_warehouse import AS_OF, build_warehouse, cost_rows

ARTIFACTS = REPO / "test-artifacts"
CHARTS = {
    "kosten-cumulatief",
    "kosten-per-maand",
    "kosten-per-segment",
    "top-aanbieders",
    "doorstroom",
    "te-laat-per-aanbieder",
    "volledigheid",
    "datakwaliteit",
}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("report")
    build_warehouse(data_dir / "warehouse" / "warehouse.duckdb")
    publish(Settings(data_dir=data_dir, as_of=AS_OF, pseudonym_key=None, postgres_dsn=None))
    return data_dir


def html_of(data_dir: Path, code: str, tier: str = "intern") -> str:
    return (data_dir / "published" / tier / code / "index.html").read_text(encoding="utf-8")


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


@pytest.mark.parametrize("code", ["regio", "GM0546"])
def test_every_chart_is_an_accessible_svg(published, code):
    html = html_of(published, code)
    charts = svgs(html)
    # every chart twice: a wide drawing (screens from 700 px, print) and a narrow one (phones)
    drawn = [re.search(r'data-chart="([^"]+)" data-layout="(wide|narrow)"', svg) for svg in charts]
    assert all(drawn)
    for layout in ("wide", "narrow"):
        names = [found.group(1) for found in drawn if found.group(2) == layout]
        assert set(names) == CHARTS and len(names) == len(CHARTS), layout
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # the two drawings of a chart have their own ids
    for svg in charts:
        opening = svg.split(">", 1)[0]
        assert 'role="img"' in opening and "aria-labelledby=" in opening
        assert re.match(r'<svg[^>]*>\s*<title id="[^"]+">[^<]+</title>\s*<desc', svg)
        assert re.search(r"<(rect|path|circle)\b", svg)
        for ident in re.search(r'aria-labelledby="([^"]+)"', opening).group(1).split():
            assert f'id="{ident}"' in svg
    # each chart has a table alternative
    assert html.count("Tabel bij deze grafiek") == len(CHARTS)
    assert '<html lang="nl">' in html


def test_the_report_is_self_contained(published):
    for code in ["regio", "GM0546", "GM1884"]:
        html = html_of(published, code)
        without_namespaces = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", without_namespaces), code
        assert not re.search(
            r"<script\b[^>]*\bsrc=|<link\b|<img\b|@import|url\(|@font-face", html
        ), code
        # the files of its own folder, or (relative) another published page that exists
        folder = published / "published" / "intern" / code
        for link in re.findall(r'href="([^"#][^"]*)"', html):
            assert "/" not in link or re.fullmatch(r"(\.\./)+[\w/]+/index\.html", link), link
            assert (folder / link).resolve().is_file(), link


def test_the_numbers_are_right_and_dutch(published):
    html = html_of(published, "GM0546")
    spent_2025 = sum(row[6] for row in cost_rows() if row[0] == "GM0546" and row[5].year == 2025)
    assert spent_2025 == Decimal("458963.40")
    assert f"is {euro(spent_2025)} gedeclareerd" in html  # € 458.963
    # KPI table with the like-for-like change (60 youths in 2025's 9 observed months against 57
    # in the same months of 2024, not 58 in the whole year) and the annualisation footnote
    assert re.search(
        r"Unieke jeugdigen in zorg</th><td class=\"num\">58</td><td class=\"num\">60</td>"
        r"<td class=\"num\">\+5,3</td>",
        html,
    )
    assert ">2025*</th>" in html
    assert "* 2025 op basis van stand per 15 oktober 2025 × 12/9" in html
    # care months 540 in 9 months → 720 on a yearly basis, against 700: +2,9 %
    assert re.search(
        r"Geleverde zorgmaanden</th><td class=\"num\">700</td><td class=\"num\">720</td>"
        r"<td class=\"num\">\+2,9</td>",
        html,
    )


REPORT_MODELS = (
    "rpt_report_monthly",
    "rpt_report_budget",
    "rpt_report_kpi",
    "rpt_report_throughput",
    "rpt_report_lateness",
    "rpt_report_completeness",
    "rpt_report_dq",
    "rpt_report_referrers",
    "rpt_report_accountability",
)


def test_a_section_without_its_model_is_left_out_not_summed_in_python(published):
    """The report's figures come from dbt models only: without its rpt_report_* model a section
    stays None (the page says it is not available), though the marts it is built from are
    there; and the figures have the two tiers only (the report's own small-number rule is gone)."""
    from jeugdhulp.publish.report import render

    with open_work_copy(published / "warehouse" / "warehouse.duckdb") as work:
        work.con.execute("CREATE SCHEMA pub")
        for name in work.present:
            work.con.execute(f"CREATE TABLE pub.{name} AS SELECT * FROM src.{name}")
        region = Target("regio", "Regio")
        for retired in (None, "geen"):
            with pytest.raises(ValueError, match="unknown tier"):
                compute(work, region, AS_OF, tier=retired)
        sections = ("monthly", "budget", "kpi", "throughput", "lateness", "completeness", "dq")
        full = compute(work, region, AS_OF)
        assert all(getattr(full, name) is not None for name in (*sections, "referrers"))
        for name in REPORT_MODELS:
            work.present.remove(name)
        assert all(work.has(mart) for mart in ("mart_kpi_annual", "mart_throughput"))
        bare = compute(work, region, AS_OF)
        assert all(getattr(bare, name) is None for name in (*sections, "referrers"))
        assert bare.accountability is None
        assert bare.segments.labels == full.segments.labels  # rpt_costs_segment_month: still there
        html = render(bare, [])
    missing = re.search(r'<section id="kerncijfers".*?</section>', html, flags=re.S).group(0)
    assert "Niet beschikbaar: " in missing and "(<code>mart_kpi_annual</code>)" in missing
    assert 'data-chart="kosten-per-segment"' in html


needs_chromium = pytest.mark.skipif(
    not browser.available(), reason="chromium is not installed at /usr/bin/chromium"
)


OPENBAAR_CHARTS = {"kosten-cumulatief", "kosten-per-maand", "kosten-per-segment", "top-aanbieders"}


@needs_chromium
@pytest.mark.parametrize(
    "tier, code",
    [("intern", "regio"), ("intern", "GM0546"), ("openbaar", "regio"), ("openbaar", "GM0546")],
)
def test_the_report_renders_in_chromium_without_errors(published, tier, code):
    pytest.importorskip("websockets.sync.client", reason="websockets is needed to drive chromium")
    page_file = published / "published" / tier / code / "index.html"
    with browser.Page() as page:
        page.open(page_file.as_uri())
        charts = page.charts()
        assert {chart["name"] for chart in charts} == (
            CHARTS if tier == "intern" else OPENBAAR_CHARTS
        )
        for chart in charts:
            assert chart["drawn"] >= 3, chart
            assert chart["width"] > 300 and chart["height"] > 60, chart
            assert chart["role"] == "img" and chart["title"], chart
        assert page.console_errors() == []
        assert page.requested_urls() == [page_file.as_uri()]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot = page.screenshot(ARTIFACTS / f"publish_report_{tier}_{code}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def section_rows(html: str, anchor: str) -> list[list[str]]:
    """The cells of every table row in the section `anchor`, as text."""
    import html as html_lib

    section = re.search(rf'<section id="{anchor}".*?</section>', html, flags=re.S).group(0)
    return [
        [
            html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).replace("\xa0", " ")
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)
    ]


def test_finance_section_shows_segments_ceiling_dates_and_settlement_as_published(published):
    rows = section_rows(html_of(published, "GM0546"), "financien")
    # the region's programme budget per segment (fabricated: budget, invoiced 70 %, forecast 97 %)
    assert [
        "ambulant",
        "€ 700.000",
        "€ 490.000",
        "€ 679.000",
        "97,0%",
        "dreigende overschrijding",
    ] in rows
    # providers above 80 % get a (fabricated) date; the intern page shows Woonhuis De Linde's
    # too (2 persons: the openbaar page has no budget table at all). The table lists every
    # provider with a ceiling, the highest utilisation first: De Linde 88.86 %, GGZ 84.33 %
    dated = [row[0] for row in rows if re.search(r"\d+ december 2025", " ".join(row))]
    assert dated == ["Woonhuis De Linde (33333333)", "Kind & GGZ Holland (22222222)"]
    assert "Geen kosten via routes buiten de plafonds in 2025." in html_of(published, "GM0546")


def test_access_section_shows_team_waiting_times_and_residence_signals_suppressed(published):
    leiden = section_rows(html_of(published, "GM0546"), "toegang")
    assert ["2025", "31", "12", "48", "40", "37,4%"] in leiden  # 31 / (31 + 12 + 40)
    hillegom = section_rows(html_of(published, "GM0534"), "toegang")
    # intern: 3 youths helped by the team only are shown, with the share (3 / 17)
    assert ["2025", "3", "6", "20", "8", "17,6%"] in hillegom
    # the latest month delivered (September): GGZ's list grows near its ceiling; 3 waiting hidden
    assert ["Kind & GGZ Holland (22222222)", "54", "13,5", "13,5", "26", "nee", "ja"] in leiden
    assert ["Woonhuis De Linde (33333333)", "44", "9,0", "9,0", "3", "nee", ""] in leiden
    # a monthly delivery that never came, named for the provider's municipalities
    assert ["Dyslexiepraktijk Leiden (44444444)", "45", "aug 2025"] in leiden
    assert ["mrt 2025", "6", "0", "5", "0"] in leiden
    assert ["jun 2025", "0", "2", "0", "7"] in leiden  # 2 clients with overlapping allocations
    # a municipality sees its own signals only; the region page names the municipality
    assert ["jun 2025", "0", "0", "0", "1"] in hillegom
    assert any(
        row[0] == "mrt 2025 · Leiden (GM0546)"
        for row in section_rows(html_of(published, "regio"), "toegang")
    )


def kpi_rows(html: str) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in section_rows(html, "kerncijfers") if row and row[0]}


def test_kpi_changes_compare_like_with_like(published):
    from tests.support.publish_warehouse import KPI, money

    leiden = kpi_rows(html_of(published, "GM0546"))
    # 2025 holds 9 observed months; the % is the mart's: the same 9 months of 2024 (fabricated
    # as 9/12 of 2024's cost), never 2025 × 12/9 against the whole of 2024
    before = money(KPI[("GM0546", 2024)][3] * 9 / 12)
    expected = round(100 * KPI[("GM0546", 2025)][3] / before - 100, 1)
    assert leiden["Totale kosten"][2] == f"+{str(expected).replace('.', ',')}"
    assert leiden["Totale kosten: jaarprognose"][1] == euro(
        money(KPI[("GM0546", 2025)][3] * 12 / 9 * Decimal("1.02"))
    ).replace("\xa0", " ")
    assert leiden["Gemiddeld aantal zorgmaanden per jeugdige"][2] == "–"  # no like-for-like
    # Zoeterwoude: the same months of 2024 had 3 youths; the intern page shows the change
    zoeterwoude = kpi_rows(html_of(published, "GM0638"))
    assert (
        zoeterwoude["Totale kosten"][2] == "+154,0"
        and zoeterwoude["Unieke jeugdigen in zorg"][2] == "+200,0"
    )
    html = html_of(published, "regio")
    assert "ten opzichte van dezelfde maanden van 2024" in html
    # the region's (intern): both sides summed over every municipality, none left out
    codes = ("GM0546", "GM0534", "GM0638", "GM1884")
    now = sum(KPI[(code, 2025)][3] for code in codes)
    then = sum(money(KPI[(code, 2024)][3] * 9 / 12) for code in codes)
    region = kpi_rows(html)
    assert (
        region["Totale kosten"][2] == f"+{str(round(100 * now / then - 100, 1)).replace('.', ',')}"
    )
    assert "gemeente(n) met minder dan 5 jeugdigen in een van beide perioden" not in html


# ---- issue 14: templates, recent months still coming in, escaping in the charts ----

HOSTILE = "<img src=x onerror=alert(1)> & \"quote\" 'apos'"


def test_the_report_is_rendered_from_autoescaping_templates_without_html_in_python():
    import ast

    from jinja2 import StrictUndefined

    from jeugdhulp.publish import report

    env = report.ENVIRONMENT
    assert env.autoescape is True and env.undefined is StrictUndefined
    templates = Path(report.__file__).parent / "templates"
    names = sorted(p.relative_to(templates).as_posix() for p in templates.rglob("*.j2"))
    assert "report.html.j2" in names and len(names) >= 10
    for name in names:
        text = (templates / name).read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", text), name
    # no HTML built in Python strings: no string constant in report.py (docstrings aside) holds
    # a tag; the charts come from charts.py as SVG
    tree = ast.parse(Path(report.__file__).read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]
    tag = re.compile(r"</?[a-z][a-z0-9]*(\s[^<>]*)?>")
    assert [s for s in strings if tag.search(s)] == []


def _coming_in_figures(expected_final: dict[int, float] | None):
    """Hand-built figures of a municipality in October 2025: January–July complete at
    € 100.000 a month, August (€ 90.000) and September (€ 40.000) still coming in."""

    from jeugdhulp.publish.figures import BudgetView, MonthlyCosts, ReportFigures

    current = [100_000.0] * 7 + [90_000.0, 40_000.0] + [None] * 3
    monthly = MonthlyCosts(year=2025, current=current, previous=[95_000.0] * 12, hidden=0)
    if expected_final is not None:
        monthly.expected_final = expected_final  # MonthlyCosts.expected_final (issue 14)
    cumulative = [100_000.0 * (m + 1) for m in range(7)] + [790_000.0, 830_000.0] + [None] * 3
    budget = BudgetView(
        year=2025,
        cumulative=cumulative,
        actual=830_000.0,
        budget=1_300_000.0,
        forecast=1_250_000.0,
        forecast_method="prognose",
    )
    return ReportFigures(
        target=Target("GM0546", "Leiden"),
        as_of=AS_OF,
        year=2025,
        missing={},
        monthly=monthly,
        budget=budget,
    )


def _chart_trees(html: str, name: str):
    import xml.etree.ElementTree as ET

    found = [svg for svg in svgs(html) if f'data-chart="{name}"' in svg]
    assert len(found) == 2  # wide and narrow
    return [ET.fromstring(svg) for svg in found]


SVG = "{http://www.w3.org/2000/svg}"


def test_recent_months_still_coming_in_are_drawn_apart_with_their_expected_final_value():
    from jeugdhulp.publish.report import render

    html = render(_coming_in_figures({8: 104_000.0, 9: 101_000.0}), [])
    for tree in _chart_trees(html, "kosten-per-maand"):
        rects = tree.iter(f"{SVG}rect")
        bars = [r for r in rects if r.find(f"{SVG}title") is not None]
        coming = [r for r in bars if r.get("class") == "coming-in"]
        # only August and September of 2025; hatched, with a dashed outline
        assert [r.find(f"{SVG}title").text for r in coming] == [
            f"2025, aug: {euro(90_000)} tot nu toe (nog binnenkomend; verwachte eindstand "
            f"{euro(104_000)})",
            f"2025, sep: {euro(40_000)} tot nu toe (nog binnenkomend; verwachte eindstand "
            f"{euro(101_000)})",
        ]
        assert all(r.get("fill").startswith("url(#") and r.get("stroke-dasharray") for r in coming)
        assert sum(1 for r in bars if r.get("fill") == "#154273") == 7  # January–July, solid
        markers = [m for m in tree.iter(f"{SVG}line") if m.get("class") == "expected-final"]
        assert len(markers) == 2 and all(m.get("stroke-dasharray") for m in markers)
        for bar, marker, final, so_far in zip(
            coming, markers, (104_000, 101_000), (90_000, 40_000)
        ):
            # the marker stands at the expected final value on the bar's own scale
            zero = float(bar.get("y")) + float(bar.get("height"))
            ratio = (zero - float(marker.get("y1"))) / float(bar.get("height"))
            assert ratio == pytest.approx(final / so_far, rel=0.01)
        legend = [t.text for t in tree.iter(f"{SVG}text")]
        assert "nog binnenkomend" in legend
    rows = section_rows(html, "kosten")
    assert ["augustus", "€ 95.000", "€ 90.000", "€ 104.000"] in rows
    assert ["juli", "€ 95.000", "€ 100.000", ""] in rows
    # the cumulative line: 700.000 by July; then 700.000 + 104.000 and + 101.000 expected
    for tree in _chart_trees(html, "kosten-cumulatief"):
        assert any(p.get("class") == "coming-in" for p in tree.iter(f"{SVG}path"))
        points = [c for c in tree.iter(f"{SVG}circle") if c.get("class") == "expected-final"]
        assert [c.find(f"{SVG}title").text for c in points] == [
            f"aug: verwachte eindstand {euro(804_000)} (nog binnenkomend)",
            f"sep: verwachte eindstand {euro(905_000)} (nog binnenkomend)",
        ]
        actual = next(p for p in tree.iter(f"{SVG}path") if p.get("class") == "actual")
        assert actual.get("d").count("L") == 6  # solid through July only, not flat after it
        forecast = next(p for p in tree.iter(f"{SVG}path") if p.get("class") == "forecast")
        start = forecast.get("d").split("L")[0]
        assert start == f"M{points[-1].get('cx')} {points[-1].get('cy')} "
    assert ["september", "€ 830.000", "€ 905.000"] in section_rows(html, "kosten")


def test_without_months_coming_in_the_charts_are_drawn_as_before():
    from jeugdhulp.publish.report import render

    for expected in (None, {}):
        html = render(_coming_in_figures(expected), [])
        assert "coming-in" not in html and "nog binnenkomend" not in html
        for tree in _chart_trees(html, "kosten-cumulatief"):
            actual = next(p for p in tree.iter(f"{SVG}path") if p.get("class") == "actual")
            assert actual.get("d").count("L") == 8  # January–September


def test_the_charts_escape_every_text_they_draw():
    import xml.etree.ElementTree as ET

    from jeugdhulp.publish import charts
    from jeugdhulp.publish.report import render

    def show(value: float) -> str:
        return HOSTILE

    for narrow in (False, True):
        drawn = [
            charts.bar_chart(
                HOSTILE,
                HOSTILE,
                HOSTILE,
                [HOSTILE, "b"],
                [charts.Series(HOSTILE, [1.0, 2.0], charts.BLUE)],
                value_format=show,
                axis_format=show,
                y_label=HOSTILE,
                x_label=HOSTILE,
                coming_in={1: 3.0},
                narrow=narrow,
            ),
            charts.horizontal_bar_chart(
                HOSTILE,
                HOSTILE,
                HOSTILE,
                [HOSTILE, "b"],
                [1.0, 2.0],
                value_format=show,
                axis_format=show,
                x_label=HOSTILE,
                reference=(1.5, HOSTILE),
                legend=[(HOSTILE, charts.ORANGE)],
                narrow=narrow,
            ),
            charts.cumulative_chart(
                HOSTILE,
                HOSTILE,
                HOSTILE,
                [HOSTILE, "b", "c"],
                [1.0, 2.0, None],
                forecast=4.0,
                budget=5.0,
                axis_format=show,
                value_format=show,
                y_label=HOSTILE,
                x_label=HOSTILE,
                actual_label=HOSTILE,
                forecast_label=HOSTILE,
                budget_label=HOSTILE,
                coming_in={1: 2.5},
                narrow=narrow,
            ),
        ]
        for svg in drawn:
            assert "<img" not in svg
            tree = ET.fromstring(svg)  # well-formed: every text and attribute escaped
            assert tree.get("data-chart") == HOSTILE
            texts = [el.text for el in tree.iter() if el.text and el.text.strip()]
            assert texts.count(HOSTILE) >= 5
    # and a page about a municipality with such a name
    figures = _coming_in_figures({8: 104_000.0})
    figures.target = Target("GM0546", HOSTILE)
    html = render(figures, [])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_budget_card_shows_the_signal_of_the_publication_model():
    from jeugdhulp.publish.report import render

    figures = _coming_in_figures(None)
    html = render(figures, [])
    # without the model's signal: forecast / budget = 1.250.000 / 1.300.000 = 96,2 %
    assert re.search(
        r'<div class="card warn"><p class="label">Budget 2025</p><p class="value">€\xa01\.300\.000'
        r'</p><p class="sub">prognose is 96% van het budget: dreigende overschrijding</p>',
        html,
    )
    # rpt_report_budget's utilisation and signal (dbt macro budget_signal) win when present
    figures.budget.utilisation_pct, figures.budget.signal = 101.4, "overschrijding"
    html = render(figures, [])
    assert (
        '<div class="card bad"><p class="label">Budget 2025</p><p class="value">€\xa01.300.000'
        '</p><p class="sub">prognose is 101% van het budget: overschrijding</p>'
    ) in html


def test_a_month_with_nothing_in_yet_is_drawn_by_its_expected_final_value_alone():
    from jeugdhulp.publish.report import render

    # October 2025: no invoice yet, € 60.000 expected
    html = render(_coming_in_figures({8: 104_000.0, 9: 101_000.0, 10: 60_000.0}), [])
    for tree in _chart_trees(html, "kosten-per-maand"):
        hatched = [r for r in tree.iter(f"{SVG}rect") if r.get("class") == "coming-in"]
        rest = [r for r in tree.iter(f"{SVG}rect") if r.get("class") == "expected-rest"]
        markers = [m for m in tree.iter(f"{SVG}line") if m.get("class") == "expected-final"]
        assert (len(hatched), len(rest), len(markers)) == (2, 3, 3)
        # October's outline stands on the axis: from 0 up to € 60.000, on August's scale
        august, october = rest[0], rest[2]
        aug_bar = hatched[0]
        zero = float(aug_bar.get("y")) + float(aug_bar.get("height"))
        assert float(october.get("y")) + float(october.get("height")) == pytest.approx(
            zero, abs=0.1
        )
        ratio = float(october.get("height")) / (zero - float(august.get("y")))
        assert ratio == pytest.approx(60_000 / 104_000, rel=0.01)
    rows = section_rows(html, "kosten")
    assert ["oktober", "–", "€ 965.000"] in rows  # 905.000 by September, + 60.000
    assert ["oktober", "€ 95.000", "–", "€ 60.000"] in rows
