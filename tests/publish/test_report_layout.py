"""The report's layout in Chromium: no sideways scrolling at 400 px or 1400 px, an A4 print in
which no chart is separated from its title, and relative links between the published pages.

Print check (explained): Chromium prints the page to PDF (DevTools Page.printToPDF, the page's own
@page A4 size and margins); pypdf extracts the text of every PDF page. For every figure with a
chart, the page on which its title (figcaption h3) is printed must also hold every text the
chart draws (axis ticks, labels, legend), taken from the DOM. A chart pushed to the next page, or
cut in two, leaves some of its texts off the title's page. Text comparison ignores whitespace and
ligatures (NFKC), so it does not depend on how the PDF spaces its glyphs.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from jeugdhulp.publish import publish
from jeugdhulp.publish.report import DATA_DOCS
from jeugdhulp.settings import Settings
from tests.support import browser
from tests.support.pipeline import REPO
from tests.support.publish_warehouse import AS_OF, build_warehouse

ARTIFACTS = REPO / "test-artifacts"
MUNICIPALITIES = ["GM0534", "GM0546", "GM0638", "GM1884"]
PAGES = [("intern", "regio"), ("intern", "GM0546"), ("openbaar", "regio"), ("openbaar", "GM0546")]

needs_chromium = pytest.mark.skipif(
    not browser.available(), reason="chromium is not installed at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("layout")
    build_warehouse(data_dir / "warehouse" / "warehouse.duckdb")
    # the Data Docs site the quality step leaves in published/regio/kwaliteit/
    docs = data_dir.joinpath("published", *DATA_DOCS)
    docs.parent.mkdir(parents=True)
    docs.write_text("<!DOCTYPE html><title>Datakwaliteit</title>", encoding="utf-8")
    publish(Settings(data_dir=data_dir, as_of=AS_OF, pseudonym_key=None, postgres_dsn=None))
    return data_dir / "published"


def page_file(published: Path, tier: str, code: str) -> Path:
    return published / tier / code / "index.html"


def links(path: Path) -> list[str]:
    return re.findall(r'href="([^"#][^"]*)"', path.read_text(encoding="utf-8"))


def test_every_link_resolves_inside_the_published_tree(published):
    pages = sorted(
        p for tier in ("intern", "openbaar") for p in published.glob(f"{tier}/*/index.html")
    )
    assert len(pages) == 2 * (1 + len(MUNICIPALITIES))
    for page in pages:
        for href in links(page):
            assert not re.match(r"^[a-z]+:|^/", href), (page, href)  # relative only
            target = (page.parent / href).resolve()
            assert target.is_file() and published.resolve() in target.parents, (page, href)


def test_region_municipality_openbaar_and_data_docs_link_to_each_other(published):
    for tier in ("intern", "openbaar"):
        region = links(page_file(published, tier, "regio"))
        for code in MUNICIPALITIES:
            assert f"../{code}/index.html" in region, (tier, code)
            assert "../regio/index.html" in links(page_file(published, tier, code)), (tier, code)
    assert "../../openbaar/regio/index.html" in links(page_file(published, "intern", "regio"))
    assert "../../openbaar/GM0546/index.html" in links(page_file(published, "intern", "GM0546"))
    assert "../../regio/kwaliteit/index.html" in links(page_file(published, "intern", "regio"))
    # openbaar pages are public: no way into the intern tier or the Data Docs
    for code in ["regio", *MUNICIPALITIES]:
        assert all(
            "intern" not in href and "kwaliteit" not in href
            for href in links(page_file(published, "openbaar", code))
        ), code
    html = page_file(published, "intern", "regio").read_text(encoding="utf-8")
    assert '<a href="../GM0546/index.html">Leiden (GM0546)</a>' in html


@needs_chromium
@pytest.mark.parametrize("tier, code", PAGES)
def test_no_sideways_scrolling_at_1400_and_400_px(published, tier, code):
    pytest.importorskip("websockets.sync.client", reason="websockets is needed to drive chromium")
    with browser.Page(width=1400) as page:
        for width in (1400, 400):
            page.resize(width)
            page.open(page_file(published, tier, code).as_uri())
            assert page.console_errors() == [], width
            scroll, inner = page.evaluate(
                "[document.scrollingElement.scrollWidth, window.innerWidth]"
            )
            assert inner == width and scroll <= inner, (width, scroll)
            # the charts shrink with the page, they are not cut off
            for chart in page.charts():
                assert 0 < chart["width"] <= width, (width, chart)
            page.screenshot(ARTIFACTS / f"publish_layout_{tier}_{code}_{width}px.png")
        # real data has longer names than the fabricated warehouse: an 80-character code in
        # every kind of text still wraps instead of widening the page
        page.evaluate(LONG_WORDS)
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


LONG_WORDS = """
document.querySelectorAll(
  'h1, h2, h3, .lead, figcaption p, .card .label, .card .sub, .note, .missing, li, code, footer,'
  + ' table.files th, table.files a'
).forEach(el => el.append(' ' + 'Zorgaanbieder_' + 'x'.repeat(66)));
"""


def flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def charts_split_from_their_title(page: browser.Page, pdf: Path) -> list[str]:
    """Per chart on the page: a problem when its title is not printed on exactly one PDF page,
    or when a text of the chart is missing from that page."""
    from pypdf import PdfReader

    pages = [flat(p.extract_text()) for p in PdfReader(pdf).pages]
    problems = []
    for figure in page.figures():
        on = [number for number, text in enumerate(pages) if flat(figure["title"]) in text]
        if len(on) != 1:
            problems.append(f"{figure['name']}: title on pages {on}")
            continue
        missing = sorted({flat(t) for t in figure["texts"] if flat(t)} - {""})
        missing = [t for t in missing if t not in pages[on[0]]]
        if missing:
            problems.append(f"{figure['name']}: not on page {on[0] + 1}: {missing[:4]}")
    return problems


@needs_chromium
@pytest.mark.parametrize("tier, code", PAGES)
def test_printing_never_splits_a_chart_from_its_title(published, tmp_path, tier, code):
    pytest.importorskip("websockets.sync.client", reason="websockets is needed to drive chromium")
    pytest.importorskip("pypdf", reason="pypdf reads the printed PDF")
    with browser.Page() as page:
        page.open(page_file(published, tier, code).as_uri())
        figures = page.figures()
        # every chart sits in a figure with a title (8 intern, 4 openbaar when this was written)
        assert len(figures) == len(page.charts()) >= (8 if tier == "intern" else 4)
        assert all(figure["title"] and len(figure["texts"]) >= 5 for figure in figures)
        pdf = page.print_pdf(ARTIFACTS / f"publish_report_{tier}_{code}.pdf")
        assert charts_split_from_their_title(page, pdf) == []
        # Where the page breaks fall depends on the data. Push everything down by a third and
        # two thirds of an A4 page (≈ 1,000 CSS px printable) so that page breaks cross every
        # chart somewhere: the stylesheet, not luck, must keep each chart with its title.
        for shift in (340, 680):  # cumulative
            page.evaluate(
                "document.querySelector('main').insertAdjacentHTML('afterbegin', "
                "'<div style=\"height: 340px\"></div>')"
            )
            shifted = page.print_pdf(tmp_path / f"shifted_{shift}.pdf")
            assert charts_split_from_their_title(page, shifted) == [], shift
    # A4 portrait (595 × 842 pt), and no navigation on paper
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    printed = flat("".join(p.extract_text() for p in reader.pages))
    for label in (
        "Kosten en budget",
        "Pagina per gemeente",
        "Naar de regiopagina",
        "Openbare versie",
    ):
        assert flat(label) not in printed, label


def legibility_problems(page: browser.Page, layout: str) -> list[str]:
    """Every text drawn in the charts shown: from the expected drawing, at least 9 CSS px on
    screen (font size × the chart's scale; and its box, getBoundingClientRect, at least 9 px
    high), and inside its chart (nothing cut off at the edges)."""
    texts = page.chart_texts()
    problems = [
        f"{t['chart']}: {t['layout']} drawing shown" for t in texts if t["layout"] != layout
    ]
    for t in texts:
        if t["text"].strip() and (t["size"] < 9 or t["box"][3] < 9):
            problems.append(f"{t['chart']}: {t['text']!r} is {t['size']:.1f} px ({t['box']})")
        if t["text"].strip() and not t["inside"]:
            problems.append(f"{t['chart']}: {t['text']!r} outside the chart ({t['box']})")
    return problems


@needs_chromium
@pytest.mark.parametrize("tier, code", PAGES)
def test_chart_text_is_legible_at_400_px(published, tier, code):
    """At 400 px the wide charts (a 760-unit viewBox) would shrink their 12-unit text to about
    6 px; the narrow drawing is shown instead."""
    pytest.importorskip("websockets.sync.client", reason="websockets is needed to drive chromium")
    with browser.Page(width=400) as page:
        page.open(page_file(published, tier, code).as_uri())
        texts = page.chart_texts()
        assert len({t["chart"] for t in texts}) == len(page.charts()) >= 4
        assert legibility_problems(page, "narrow") == []
        assert min(t["size"] for t in texts) >= 9
        page.screenshot(ARTIFACTS / f"publish_charts_{tier}_{code}_400px.png")
        page.resize(1400)
        page.open(page_file(published, tier, code).as_uri())
        assert legibility_problems(page, "wide") == []


@needs_chromium
def test_months_still_coming_in_at_400_and_1400_px(tmp_path):
    """The page of a municipality whose August and September are still coming in (hand-built
    figures with MonthlyCosts.expected_final): hatched bars and expected-final markers are drawn
    in both drawings, legible, and the page does not scroll sideways."""
    pytest.importorskip("websockets.sync.client", reason="websockets is needed to drive chromium")
    from jeugdhulp.publish.report import render
    from tests.publish.test_report import _coming_in_figures

    page_path = tmp_path / "index.html"
    page_path.write_text(
        render(_coming_in_figures({8: 104_000.0, 9: 101_000.0}), []), encoding="utf-8"
    )
    probe = """Array.from(document.querySelectorAll(
      'svg[data-chart="kosten-per-maand"] .coming-in, svg[data-chart="kosten-per-maand"]'
      + ' .expected-final, svg[data-chart="kosten-cumulatief"] .coming-in')).filter(
      mark => mark.getClientRects().length > 0).length"""
    with browser.Page(width=400) as page:
        for width, layout in ((400, "narrow"), (1400, "wide")):
            page.resize(width)
            page.open(page_path.as_uri())
            assert page.console_errors() == [], width
            assert page.evaluate(probe) == 2 + 2 + 1, width  # 2 bars, 2 markers, 1 line
            assert legibility_problems(page, layout) == [], width
            assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
            top = page.evaluate(
                "document.querySelector('section#kosten').getBoundingClientRect().top"
                " + window.scrollY"
            )
            page.screenshot(
                ARTIFACTS / f"publish_coming_in_{width}px.png", top=int(top), height=1400
            )
