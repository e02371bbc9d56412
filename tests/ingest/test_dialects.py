"""CSV/XLSX dialects (docs/contract.md §2.5) and value conversion of the reference, verantwoording and pgb sources."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from jeugdhulp.ingest import ingest_source, tabular
from jeugdhulp.privacy.pseudonym import Pseudonymiser
from tests.support.ingest_files import KEY, count, land, make_settings, rows

PROVIDERS_HEADER = "agb_code,name,contract_type"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def _providers(settings):
    return rows(
        settings,
        "SELECT record_position, agb_code, name, contract_type FROM raw.reference_providers ORDER BY record_position",
    )


def test_bom_comma_separator_and_quoted_fields(settings):
    text = (
        "\ufeffAGB_Code , Name,Contract_Type\r\n"
        '12345678,"Zorg, Jeugd & Co",raamcontract\r\n'
        '87654321,"Zegt ""hallo""\nop twee regels",maatwerk\r\n'
        ",,\r\n"  # Excel's trailing empty row
        "11112222,Derde,nee_tenzij\r\n"
    )
    land(settings, "reference", "providers.csv", text)
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1 and len(report.files_quarantined) == 0
    assert _providers(settings) == [
        (2, "12345678", "Zorg, Jeugd & Co", "raamcontract"),
        (3, "87654321", 'Zegt "hallo"\nop twee regels', "maatwerk"),
        (6, "11112222", "Derde", "nee_tenzij"),
    ]


def test_semicolon_separator_decimal_comma_and_dutch_dates(settings):
    text = (
        "product_category;product_code;description;unit;tariff_eur;valid_from;valid_to;segment\n"
        '45;45A48;"Ambulant; regulier";04;78,00;01-01-2024;31-12-2024;ambulant\n'
        "54;54001;GGZ;4;1.234,565;2024-01-01;;specialistisch\n"
        "44;44A27;Verblijf;14;195.91;1/1/2024;2024-12-31 00:00:00;verblijf\n"
    )
    land(settings, "reference", "products_2024.csv", text.encode("utf-8"))
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(
        settings,
        "SELECT product_category, product_code, description, unit, tariff_eur, valid_from, valid_to, segment FROM raw.reference_products ORDER BY record_position",
    ) == [
        (
            "45",
            "45A48",
            "Ambulant; regulier",
            "04",
            Decimal("78.00"),
            date(2024, 1, 1),
            date(2024, 12, 31),
            "ambulant",
        ),
        ("54", "54001", "GGZ", "04", Decimal("1234.57"), date(2024, 1, 1), None, "specialistisch"),
        (
            "44",
            "44A27",
            "Verblijf",
            "14",
            Decimal("195.91"),
            date(2024, 1, 1),
            date(2024, 12, 31),
            "verblijf",
        ),
    ]
    assert report.notes == [
        (
            "reference/products_2024.csv",
            "1 value(s) of unit had lost leading zeros and were zero-padded",
        )
    ]


def test_verantwoording_csv_with_dropped_leading_zeros_and_gm_prefix(settings):
    text = (
        "Boekjaar;AGB_code;Gemeente code;Productcategorie;Productcode;Volume;Eenheid;Bedrag_EUR;"
        "Aantal_clienten;Accountantsverklaring;Datum_aanlevering\n"
        "2025;1234567;GM0546;45;45A48;120,5;04;9.399,00;12;Ja;28-03-2026\n"
        "2025;01234567;484;45;45A48;10;4;780;1;nee;2026-03-28\n"
    )
    land(settings, "verantwoording", "2025/zorg_bv.csv", text)
    report = ingest_source(settings, "verantwoording", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(
        settings,
        "SELECT boekjaar, agb_code, gemeente_code, productcategorie, productcode, volume, eenheid, bedrag_eur, aantal_clienten, accountantsverklaring, datum_aanlevering FROM raw.accountability ORDER BY record_position",
    ) == [
        (
            2025,
            "01234567",
            "0546",
            "45",
            "45A48",
            Decimal("120.50"),
            "04",
            Decimal("9399.00"),
            12,
            "ja",
            date(2026, 3, 28),
        ),
        (
            2025,
            "01234567",
            "0484",
            "45",
            "45A48",
            Decimal("10.00"),
            "04",
            Decimal("780.00"),
            1,
            "nee",
            date(2026, 3, 28),
        ),
    ]
    assert report.notes == [
        (
            "verantwoording/2025/zorg_bv.csv",
            "1 value(s) of agb_code had lost leading zeros and were zero-padded",
        ),
        (
            "verantwoording/2025/zorg_bv.csv",
            "1 value(s) of eenheid had lost leading zeros and were zero-padded",
        ),
        (
            "verantwoording/2025/zorg_bv.csv",
            "1 value(s) of gemeente_code had lost leading zeros and were zero-padded",
        ),
    ]


def _xlsx(header: list[str], data: list[list[object]], title: str = "Blad1") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(header)
    for row in data:
        sheet.append(row)
    second = workbook.create_sheet("Toelichting")  # only the first sheet counts
    second.append(["agb_code", "name", "contract_type"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_first_sheet_with_native_numbers_and_dates(settings):
    data = _xlsx(
        [
            "Boekjaar",
            "agb_code",
            "gemeente_code",
            "productcategorie",
            "productcode",
            "volume",
            "eenheid",
            "bedrag_eur",
            "aantal_clienten",
            "accountantsverklaring",
            "datum_aanlevering",
            "opmerking",
        ],
        [
            [
                2025,
                1234567,
                546,
                45,
                "45A48",
                120.5,
                4,
                0.1 + 0.2,
                3,
                True,
                datetime(2026, 3, 28),
                "extra kolom",
            ],
            [None] * 12,  # an empty row Excel kept
            [
                2025,
                "87654321",
                "0484",
                "45",
                54001,
                2,
                "04",
                "1.234,50",
                1,
                "nee",
                "01-04-2026",
                None,
            ],
        ],
    )
    land(settings, "verantwoording", "aanlevering.xlsx", data)
    report = ingest_source(settings, "verantwoording", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(
        settings,
        "SELECT record_position, boekjaar, agb_code, gemeente_code, productcategorie, productcode, volume, eenheid, bedrag_eur, aantal_clienten, accountantsverklaring, datum_aanlevering FROM raw.accountability ORDER BY record_position",
    ) == [
        (
            2,
            2025,
            "01234567",
            "0546",
            "45",
            "45A48",
            Decimal("120.50"),
            "04",
            Decimal("0.30"),
            3,
            "ja",
            date(2026, 3, 28),
        ),
        (
            4,
            2025,
            "87654321",
            "0484",
            "45",
            "54001",
            Decimal("2.00"),
            "04",
            Decimal("1234.50"),
            1,
            "nee",
            date(2026, 4, 1),
        ),
    ]


def test_xlsx_saved_with_csv_extension_is_read_by_content(settings):
    land(
        settings,
        "reference",
        "providers.csv",
        _xlsx(["agb_code", "name", "contract_type"], [["12345678", "A", "maatwerk"]]),
    )
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert _providers(settings) == [(2, "12345678", "A", "maatwerk")]


def test_pgb_bsn_becomes_pseudonym_and_excel_shortened_bsn_is_padded(settings):
    text = (
        "bsn;gemeente_code;maand;productcategorie;bedrag_eur\n"
        "999900006;0546;2025-01;45;1.250,00\n"
        "99900018;GM0546;2-2025;45;100\n"  # not a real case of a lost zero, but shows padding
        "123456789;0546;2025-03-01;45;50,5\n"
    )
    land(settings, "pgb", "svb/2025.csv", text)
    report = ingest_source(settings, "pgb", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    pseudonym = Pseudonymiser(KEY)
    assert rows(
        settings,
        "SELECT client_key, bsn_valid, gemeente_code, maand, productcategorie, bedrag_eur FROM raw.pgb ORDER BY record_position",
    ) == [
        (pseudonym("999900006"), True, "0546", "2025-01", "45", Decimal("1250.00")),
        (pseudonym("099900018"), False, "0546", "2025-02", "45", Decimal("100.00")),
        (pseudonym("123456789"), False, "0546", "2025-03", "45", Decimal("50.50")),
    ]


def test_header_only_reference_file_is_quarantined_not_an_empty_snapshot(settings):
    land(settings, "reference", "providers.csv", PROVIDERS_HEADER + "\n")
    report = ingest_source(settings, "reference", workers=1)
    assert len(report.files_quarantined) == 1
    assert report.files_quarantined[0][1].startswith("no_rows:")
    assert count(settings, "reference_providers") == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,50", Decimal("12.50")),
        ("12.50", Decimal("12.50")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234.567", Decimal("1234567")),
        ("-7,5", Decimal("-7.5")),
        ("€ 3,10", Decimal("3.10")),
        ("  ", None),
    ],
)
def test_number_dialects(text, expected):
    assert tabular.to_decimal(text) == expected


@pytest.mark.parametrize("text", ["12,5,0", "1.2.3", "abc", "12 eur", "1,2.3.4"])
def test_bad_numbers_raise(text):
    with pytest.raises(ValueError):
        tabular.to_decimal(text)


def test_amounts_round_half_up_to_cents():
    assert tabular.to_amount("0,125") == Decimal("0.13")
    assert tabular.to_amount(0.1 + 0.2) == Decimal("0.30")


def test_whole_numbers():
    assert tabular.to_int("2.024") == 2024
    assert tabular.to_int("2024,0") == 2024
    assert tabular.to_int(2024.0) == 2024
    with pytest.raises(ValueError):
        tabular.to_int("12,5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-28", date(2026, 3, 28)),
        ("28-03-2026", date(2026, 3, 28)),
        ("1-4-2026", date(2026, 4, 1)),
        ("01/04/2026", date(2026, 4, 1)),
        ("2026-03-28T00:00:00", date(2026, 3, 28)),
    ],
)
def test_date_dialects(text, expected):
    assert tabular.to_date(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "03/28/2026", "28-3-26", "maart 2026", "20260328"])
def test_bad_dates_raise(text):
    with pytest.raises(ValueError):
        tabular.to_date(text)


def test_codes_keep_and_restore_leading_zeros():
    assert tabular.to_code("0484", 4, digits=True, prefix="GM") == ("0484", False)
    assert tabular.to_code(484, 4, digits=True, prefix="GM") == ("0484", True)
    assert tabular.to_code("gm0484", 4, digits=True, prefix="GM") == ("0484", False)
    assert tabular.to_code("45A48", 5, digits=False) == ("45A48", False)
    with pytest.raises(ValueError):
        tabular.to_code("04840", 4, digits=True)
    with pytest.raises(ValueError):
        tabular.to_code("12A45678", 8, digits=True)
