"""CSV/XLSX reader findings: ambiguous thousands marks, uncalculated formulas, hidden sheets and
empty snapshots (docs/contract.md §2.2, §2.5)."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from jeugdhulp.ingest import ingest_source, tabular
from tests.support.ingest_files import count, land, make_settings, rows

CEILINGS_HEADER = "agb_code;year;budget_ceiling_eur\r\n"
PRODUCTS_HEADER = [
    "product_category",
    "product_code",
    "description",
    "unit",
    "tariff_eur",
    "valid_from",
    "valid_to",
    "segment",
]
PROVIDERS_HEADER = ["agb_code", "name", "contract_type"]


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def _only_reason(report) -> str:
    assert report.files_ingested == 0, report
    assert len(report.files_quarantined) == 1, report.files_quarantined
    return report.files_quarantined[0][1]


# --- 1. one mark followed by exactly three digits ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "thousands", "decimals"),
    [
        ("750.000", "750000", "750,00"),
        ("1,500", "1500", "1,50"),
        ("€ 1.500", "1500", "1,50"),
        ("-2.125", "-2125", "-2,1250"),
        ("1250.000", "1250000", "1250,00"),
    ],
)
def test_a_single_mark_before_three_digits_is_an_ambiguous_amount(text, thousands, decimals):
    with pytest.raises(ValueError) as caught:
        tabular.to_amount(text)
    message = str(caught.value)
    assert repr(text) in message and "ambiguous" in message
    assert f"{thousands} or {thousands},00" in message
    assert decimals in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.250.000", Decimal("1250000.00")),  # the same mark twice or more: thousands
        ("1,250,000", Decimal("1250000.00")),
        ("750.000,00", Decimal("750000.00")),  # both marks: the last one is the decimal mark
        ("750,000.00", Decimal("750000.00")),
        ("1.234,565", Decimal("1234.57")),  # more than two decimals: half-up to cents
        ("0,125", Decimal("0.13")),  # a thousands group never follows a lone 0
        ("12,3456", Decimal("12.35")),
        ("750000", Decimal("750000.00")),
        ("750000,00", Decimal("750000.00")),
        ("€ 1.500,00", Decimal("1500.00")),
        ("12,50", Decimal("12.50")),
        ("12.5", Decimal("12.50")),
    ],
)
def test_unambiguous_amounts(text, expected):
    assert tabular.to_amount(text) == expected


@pytest.mark.parametrize("text", ["1.23,5", "12.34.567,8", "1,2345.6", "1.234,"])
def test_both_marks_need_well_formed_thousands(text):
    with pytest.raises(ValueError):
        tabular.to_amount(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.500", 12500),  # an integer has no decimals: the mark groups thousands
        ("12,500", 12500),
        ("2.024", 2024),
        ("2,000", 2000),
        ("1.250.000", 1250000),
        ("2024,0", 2024),
        ("2024", 2024),
        ("1.234,00", 1234),
    ],
)
def test_whole_numbers_read_a_mark_before_three_digits_as_thousands(text, expected):
    assert tabular.to_int(text) == expected


@pytest.mark.parametrize("text", ["12,5", "1234.567", "2024.000", "1.234,5", "0,500"])
def test_bad_whole_numbers(text):
    with pytest.raises(ValueError):
        tabular.to_int(text)


@pytest.mark.parametrize(
    "text",
    ["12.500", "12,500", "750.000", "1.250.000", "2.024", "2024,0", "1.234,56", "0,125", "12,5"],
)
def test_integers_and_amounts_never_read_the_same_text_differently(text):
    try:
        whole = tabular.to_int(text)
    except ValueError:
        return
    try:
        amount = tabular.to_amount(text)
    except ValueError:
        return
    assert amount == whole


def test_ambiguous_budget_ceiling_quarantines_the_file_naming_line_column_and_value(settings):
    text = (
        CEILINGS_HEADER + "12345678;2026;1.250.000\r\n23456789;2026;750.000\r\n"
        "34567890;2026;€ 1.500\r\n"
    )
    land(settings, "reference", "budget_ceilings.csv", text)
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith(
        "bad_value: line 3, column budget_ceiling_eur: '750.000' is ambiguous"
    ), reason
    assert "750000 or 750000,00" in reason
    assert count(settings, "reference_budget_ceilings") == 0


def test_euro_sign_value_is_named_as_delivered(settings):
    land(settings, "reference", "budget_ceilings.csv", CEILINGS_HEADER + "34567890;2026;€ 1.500\n")
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("bad_value: line 2, column budget_ceiling_eur: '€ 1.500' is ambiguous")


def test_population_count_with_a_thousands_mark_is_read(settings):
    land(
        settings,
        "reference",
        "population.csv",
        "municipality_code;year;youth_0_17\n0546;2.025;12.500\n0484;2025;7500\n",
    )
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(
        settings,
        "SELECT municipality_code, year, youth_0_17 FROM raw.reference_population "
        "ORDER BY record_position",
    ) == [("0546", 2025, 12500), ("0484", 2025, 7500)]


# --- XLSX helpers -------------------------------------------------------------------------------


def _workbook_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _patched(data: bytes, member: str, change) -> bytes:
    """The workbook with one zip member's text changed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == member:
                changed = change(content.decode("utf-8"))
                assert changed != content.decode("utf-8"), "the patch changed nothing"
                content = changed.encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def _sheet(header, *data):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in data:
        sheet.append(row)
    return workbook


def test_xlsx_text_cell_with_ambiguous_amount_is_quarantined(settings):
    data = _workbook_bytes(
        _sheet(["agb_code", "year", "budget_ceiling_eur"], ["12345678", 2026, "750.000"])
    )
    land(settings, "reference", "budget_ceilings.xlsx", data)
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("bad_value: row 2, column budget_ceiling_eur: '750.000' is ambiguous")


def test_xlsx_numeric_cells_are_never_ambiguous(settings):
    data = _workbook_bytes(
        _sheet(["agb_code", "year", "budget_ceiling_eur"], ["12345678", 2026, 750000])
    )
    land(settings, "reference", "budget_ceilings.xlsx", data)
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(settings, "SELECT budget_ceiling_eur FROM raw.reference_budget_ceilings") == [
        (Decimal("750000.00"),)
    ]


# --- 2. a formula without a stored value --------------------------------------------------------


def _products_with_formula() -> bytes:
    # openpyxl writes the formula with an empty <v>: no computed value is stored
    return _workbook_bytes(_sheet(PRODUCTS_HEADER, [45, "45A48", "x", 4, "=70+8", None, None, "s"]))


def test_formula_without_stored_value_is_quarantined_naming_the_cell(settings):
    land(settings, "reference", "products.xlsx", _products_with_formula())
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("bad_value: row 2, column tariff_eur (cell E2): "), reason
    assert "=70+8" in reason and "no stored value" in reason
    assert "open the workbook in Excel and save it" in reason
    assert count(settings, "reference_products") == 0


def test_formula_without_value_in_a_key_column_is_not_reported_as_empty(settings):
    data = _workbook_bytes(
        _sheet(["agb_code", "year", "budget_ceiling_eur"], ["12345678", "=2020+6", 1000])
    )
    land(settings, "reference", "budget_ceilings.xlsx", data)
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("bad_value: row 2, column year (cell B2): "), reason
    assert "empty" not in reason


def test_formula_with_a_stored_value_is_read_by_its_value(settings):
    data = _patched(
        _products_with_formula(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("<f>70+8</f><v></v>", "<f>70+8</f><v>78</v>"),
    )
    land(settings, "reference", "products.xlsx", data)
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(settings, "SELECT product_code, tariff_eur FROM raw.reference_products") == [
        ("45A48", Decimal("78.00"))
    ]


def test_formula_whose_stored_value_is_empty_text_is_an_empty_cell(settings):
    # Excel stores a formula that yields "" as t="str" with an empty <v>
    data = _patched(
        _products_with_formula(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            '<c r="E2"><f>70+8</f><v></v>', '<c r="E2" t="str"><f>70+8</f><v></v>'
        ),
    )
    land(settings, "reference", "products.xlsx", data)
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(settings, "SELECT product_code, tariff_eur FROM raw.reference_products") == [
        ("45A48", None)
    ]


def test_formula_without_value_in_an_ignored_column_is_harmless(settings):
    data = _workbook_bytes(
        _sheet(PROVIDERS_HEADER + ["opmerking"], ["12345678", "A", "maatwerk", "=1+1"])
    )
    land(settings, "reference", "providers.xlsx", data)
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined


def test_formula_without_value_in_the_header_is_quarantined(settings):
    data = _workbook_bytes(
        _sheet(["agb_code", "name", '="contract"&"_type"'], ["12345678", "A", "x"])
    )
    land(settings, "reference", "providers.xlsx", data)
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("bad_value: "), reason
    assert "cell C1" in reason and "open the workbook in Excel and save it" in reason


# --- 3. hidden sheets ---------------------------------------------------------------------------


def _with_hidden_first(state: str = "hidden") -> bytes:
    workbook = _sheet(PROVIDERS_HEADER, ["11111111", "OLD", "maatwerk"])
    workbook.active.title = "oud"
    workbook.active.sheet_state = state
    current = workbook.create_sheet("actueel")
    current.append(PROVIDERS_HEADER)
    current.append(["22222222", "NEW", "maatwerk"])
    workbook.active = 1
    return _workbook_bytes(workbook)


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_first_sheet_is_skipped_for_the_first_visible_one(settings, state):
    land(settings, "reference", "providers.xlsx", _with_hidden_first(state))
    report = ingest_source(settings, "reference", workers=1)
    assert report.files_ingested == 1, report.files_quarantined
    assert rows(settings, "SELECT agb_code, name FROM raw.reference_providers") == [
        ("22222222", "NEW")
    ]
    assert report.notes == [
        (
            "reference/providers.xlsx",
            "read sheet 'actueel', the first visible one; hidden sheet(s) skipped: 'oud'",
        )
    ]


def test_workbook_without_a_visible_sheet_is_quarantined(settings):
    data = _patched(
        _with_hidden_first(),
        "xl/workbook.xml",
        lambda xml: re.sub(r'(name="actueel"[^>]*state=")visible', r"\1hidden", xml),
    )
    land(settings, "reference", "providers.xlsx", data)
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("unreadable_xlsx: "), reason
    assert "visible" in reason


# --- 4. a snapshot cannot be empty --------------------------------------------------------------


def test_header_only_xlsx_snapshot_is_quarantined_and_keeps_the_current_one(settings):
    land(settings, "reference", "providers.csv", ",".join(PROVIDERS_HEADER) + "\n12345678,A,x\n")
    assert ingest_source(settings, "reference", workers=1).files_ingested == 1
    land(settings, "reference", "providers_2.xlsx", _workbook_bytes(_sheet(PROVIDERS_HEADER)))
    reason = _only_reason(ingest_source(settings, "reference", workers=1))
    assert reason.startswith("no_rows: ") and "cannot be empty" in reason
    assert count(settings, "reference_providers") == 1


# --- streaming ----------------------------------------------------------------------------------


def _providers_xlsx(rows: int) -> bytes:
    """A providers sheet of `rows` rows, each with a height (row attributes openpyxl keeps)."""
    lines = "".join(
        f'<row r="{n}" ht="15" customHeight="1"><c r="A{n}" t="inlineStr"><is><t>{10000000 + n}'
        f'</t></is></c><c r="B{n}" t="inlineStr"><is><t>P</t></is></c><c r="C{n}" '
        f't="inlineStr"><is><t>maatwerk</t></is></c></row>'
        for n in range(2, rows + 2)
    )
    return _patched(
        _workbook_bytes(_sheet(PROVIDERS_HEADER)),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace("</row></sheetData>", "</row>" + lines + "</sheetData>"),
    )


def _peak_reading(data: bytes) -> int:
    tracemalloc.start()
    try:
        sheet = tabular.open_sheet(data, PROVIDERS_HEADER)
        assert sum(1 for _ in sheet.rows) > 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_xlsx_rows_stream_in_flat_memory():
    small, large = _providers_xlsx(1_000), _providers_xlsx(12_000)
    growth = _peak_reading(large) - _peak_reading(small)
    # openpyxl's own parse() kept every row read and its attributes: ~5 MB here
    assert growth < 1_000_000, f"peak grew {growth / 1e6:.1f} MB for 11,000 more rows"
