"""The regional-finance inputs (issue 15): the programme budget in reference/ and the providers'
own forecasts in prognoses/ (CSV or XLSX, Dutch headers, the segment column optional)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from jeugdhulp.ingest import ingest_source
from tests.support.ingest_files import land, make_settings, rows


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def test_programme_budget_and_its_amendment_are_both_kept(settings):
    land(
        settings,
        "reference",
        "programme_budget.csv",
        "year;segment;budget_eur;adopted_on\n"
        "2026;Jeugdhulp ambulant;12.500.000,00;2025-11-06\n2026;Verblijf;8400000;2025-11-06\n",
    )
    assert ingest_source(settings, "reference", workers=1).files_ingested == 1
    land(
        settings,
        "reference",
        "programme_budget_wijziging-2026.csv",
        "year,segment,budget_eur,adopted_on\n2026,Verblijf,9100000.50,2026-06-25\n",
    )
    assert ingest_source(settings, "reference", workers=1).files_ingested == 1
    assert rows(
        settings,
        "SELECT year, segment, budget_eur, adopted_on FROM raw.reference_programme_budget "
        "ORDER BY adopted_on, record_position",
    ) == [
        (2026, "Jeugdhulp ambulant", Decimal("12500000.00"), date(2025, 11, 6)),
        (2026, "Verblijf", Decimal("8400000.00"), date(2025, 11, 6)),
        (2026, "Verblijf", Decimal("9100000.50"), date(2026, 6, 25)),
    ]


def test_programme_budget_row_without_adoption_date_quarantines_the_file(settings):
    land(
        settings,
        "reference",
        "programme_budget.csv",
        "year;segment;budget_eur;adopted_on\n2026;Verblijf;8400000;\n",
    )
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 0
    assert report.files_quarantined[0][1] == "missing_value: line 2, column adopted_on: empty"


def test_prognoses_with_and_without_the_segment_column(settings):
    land(
        settings,
        "prognoses",
        "2026/zorg_een_q2.csv",
        "AGB-code;Jaar;Peildatum;Prognose EUR;Segment\n"
        "1234567;2026;2026-06-30;1.250.000,00;Verblijf\n"
        "01234567;2026;2026-06-30;310000;Jeugdhulp ambulant\n",
    )
    workbook = openpyxl.Workbook()
    workbook.active.append(["agb_code", "jaar", "peildatum", "prognose_eur"])
    workbook.active.append(["23456789", 2026, date(2026, 9, 30), 480000.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    land(settings, "prognoses", "twee.xlsx", buffer.getvalue())
    report = ingest_source(settings, "prognoses", workers=1)
    assert report.files_ingested == 2, report.files_quarantined
    assert rows(
        settings,
        "SELECT agb_code, jaar, peildatum, prognose_eur, segment FROM raw.provider_forecasts "
        "ORDER BY agb_code, record_position",
    ) == [
        ("01234567", 2026, date(2026, 6, 30), Decimal("1250000.00"), "Verblijf"),
        ("01234567", 2026, date(2026, 6, 30), Decimal("310000.00"), "Jeugdhulp ambulant"),
        ("23456789", 2026, date(2026, 9, 30), Decimal("480000.50"), None),
    ]


def test_prognoses_without_a_required_column_are_quarantined(settings):
    land(settings, "prognoses", "p.csv", "agb_code;jaar;prognose_eur\n12345678;2026;100\n")
    report = ingest_source(settings, "prognoses", workers=1)
    assert report.files_ingested == 0
    assert report.files_quarantined[0][1] == (
        "missing_columns: the header (separator ';') lacks required column(s) peildatum; "
        "found: agb_code, jaar, prognose_eur"
    )
