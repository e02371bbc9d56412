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


def html_of(data_dir: Path, code: str) -> str:
    return (data_dir / "published" / code / "index.html").read_text(encoding="utf-8")


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
        for link in re.findall(r'href="([^"#][^"]*)"', html):
            assert "/" not in link and (published / "published" / code / link).is_file(), link


def test_the_numbers_are_right_and_dutch(published):
    html = html_of(published, "GM0546")
    spent_2025 = sum(row[6] for row in cost_rows() if row[0] == "GM0546" and row[5].year == 2025)
    assert spent_2025 == Decimal("458963.40")
    assert f"is {euro(spent_2025)} gedeclareerd" in html  # € 458.963
    # KPI table with year-on-year change and the annualisation footnote
    assert re.search(
        r"Unieke jeugdigen in zorg</th><td class=\"num\">58</td><td class=\"num\">60</td>"
        r"<td class=\"num\">\+3,4</td>",
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


@needs_chromium
@pytest.mark.parametrize("code", ["regio", "GM0546"])
def test_the_report_renders_in_chromium_without_errors(published, code):
    pytest.importorskip("websockets.sync.client", reason="websockets is needed to drive chromium")
    page_file = published / "published" / code / "index.html"
    with browser.Page() as page:
        page.open(page_file.as_uri())
        charts = page.charts()
        assert {chart["name"] for chart in charts} == CHARTS
        for chart in charts:
            assert chart["drawn"] >= 3, chart
            assert chart["width"] > 300 and chart["height"] > 60, chart
            assert chart["role"] == "img" and chart["title"], chart
        assert page.console_errors() == []
        assert page.requested_urls() == [page_file.as_uri()]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot = page.screenshot(ARTIFACTS / f"publish_report_{code}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
