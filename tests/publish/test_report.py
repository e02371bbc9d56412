"""The Dutch HTML report: self-contained, accessible charts, right numbers, and it renders in Chromium."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from jeugdhulp.publish import publish
from jeugdhulp.publish.catalogue import MARTS
from jeugdhulp.publish.dutch import euro
from jeugdhulp.publish.figures import compute
from jeugdhulp.publish.selection import Target
from jeugdhulp.publish.suppression import suppress_all
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
    names = [re.search(r'data-chart="([^"]+)"', svg).group(1) for svg in charts]
    assert set(names) == CHARTS and len(names) == len(CHARTS)
    for svg in charts:
        opening = svg.split(">", 1)[0]
        assert 'role="img"' in opening and "aria-labelledby=" in opening
        assert re.match(r'<svg[^>]*>\s*<title id="[^"]+">[^<]+</title>\s*<desc', svg)
        assert re.search(r"<(rect|path|circle)\b", svg)
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


def test_a_region_total_never_reveals_a_hidden_municipality(published):
    with open_work_copy(published / "warehouse" / "warehouse.duckdb") as work:
        suppress_all(work, [spec for spec in MARTS if work.has(spec.name)])
        kpi = compute(work, Target("regio", "Regio"), AS_OF).kpi
        unique = kpi.rows[0]
        # 2025: Kaag en Braassem's 2 youths are hidden, so the total leaves them out (60+12+9);
        # 2024: the hidden ones (4 + 2) make 6 together, so they count (58+13+4+2)
        assert (unique.previous, unique.current) == (77, 81)
        assert any("2025: zonder de gemeente(n)" in note for note in kpi.footnotes)
        small = compute(work, Target("GM1884", "Kaag en Braassem"), AS_OF)
        assert small.budget.actual is None and small.segments.labels == []
        assert small.kpi.rows[0].current is None


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
    # too (2 persons: the openbaar page has no budget table at all)
    dated = [row[0] for row in rows if re.search(r"\d+ december 2025", " ".join(row))]
    assert dated == ["Kind & GGZ Holland (22222222)", "Woonhuis De Linde (33333333)"]
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
