"""Reading delivered CSV and XLSX tables in every dialect docs/contract.md §2.5 allows, into typed values.

Dialects: UTF-8 with or without BOM; `;` or `,` as separator, detected from the header line (the
one that yields all required columns wins); RFC 4180 quoting; XLSX: the first visible sheet (the
first a person sees in Excel: hidden sheets before it are skipped, with a note naming them), the
first non-empty row is the header. The format is told by the bytes, not the file name, so an XLSX
saved as `.csv` still reads. Header names match case-insensitively after stripping; runs of
spaces and hyphens count as `_` (`Gemeente code` = `gemeente_code`). Extra columns are ignored;
rows whose cells are all empty are skipped (Excel leaves them behind).

Values (each rule chosen for what Dutch Excel and provider systems actually write):
- numbers: decimal comma or point. With both marks, the last one is the decimal mark and the other
  groups thousands in threes (`1.234,56`, `1,234.56`); the same mark twice or more groups
  thousands (`1.234.567`); a single mark is the decimal mark (`12,5`, `12.50`, `0,125`), except
  before exactly three digits after a non-zero integer part (`750.000`, `1,500`): thousands or
  decimals? Such an amount is refused, naming both readings and how to write each (`750000` or
  `750000,00`; `750,00`): Dutch thousands notation must never be read 1,000 times too small. A
  leading `€` is allowed. Amounts are rounded half-up to cents (`0,125` is 0.13; Excel floats
  such as 0.30000000000000004). XLSX number cells are numbers, never ambiguous.
- whole numbers (years, counts): as above, but must be whole (`2024`, `2024,0`); a single mark
  before exactly three digits groups thousands (`2.024`, `12.500`, `12,500`), the only reading a
  whole number allows, so `to_int` and `to_amount` never read the same text as different numbers
  (one of them refuses it).
- dates: `YYYY-MM-DD` (a trailing time of day is ignored), or `D-M-YYYY`/`DD-MM-YYYY` as Dutch
  Excel writes them (also with `/` or `.`); XLSX date cells as they are.
- codes keep their leading zeros. When Excel dropped them (`484` for gemeente 0484, a seven-digit
  AGB code), a purely numeric code shorter than its width is zero-padded back, and the file's
  ingestion notes say how many values were padded. Municipality codes may carry the `GM` prefix;
  raw stores the four digits.
- XLSX formulas are read by the value Excel stored beside them. A formula without one (scripts and
  exporters write formulas without calculating them; openpyxl writes `=70+8` so) is an
  `Uncalculated`, which a used column refuses naming the cell: open and save the workbook in
  Excel. In an ignored column it is harmless; in the header it is refused.
Anything else raises `QuarantineError` naming the line (or XLSX row) and column.

Streaming: a file is read once, front to back, through a `Delivery`, which hashes every byte read
(the file's id is the hash of exactly the bytes parsed). CSV is decoded and parsed a block at a
time (memory flat in the file's size). An XLSX (a zip, read at random) is hashed whole first, then
checked against `XlsxLimits` before openpyxl opens it from the same open file: the sum of its
members' inflated sizes (from the zip's central directory: a member never inflates beyond the
size declared there) and its inflation ratio, and the read sheet's declared dimension. Its rows
are then parsed one at a time by openpyxl's sheet parser (`_sheet_rows`), each let go once read,
the declared dimension ignored (rows are not padded to it): memory flat in the sheet's size.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from jeugdhulp.ingest.errors import QuarantineError
from jeugdhulp.settings import (
    DEFAULT_XLSX_MAX_CELLS,
    DEFAULT_XLSX_MAX_INFLATED_MB,
    DEFAULT_XLSX_MAX_RATIO,
)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other Office 97 files)
_SEPARATORS = (";", ",")
_CENTS = Decimal("0.01")
_BLOCK = 1 << 20  # bytes read at a time
_RATIO_FROM = 16 * 2**20  # the inflation ratio is checked above this inflated size
_MB = 2**20


@dataclass(frozen=True)
class XlsxLimits:
    """What an XLSX may be (docs/contract.md §2.5; settings.py: JEUGDHULP_XLSX_*)."""

    max_inflated_bytes: int = DEFAULT_XLSX_MAX_INFLATED_MB * _MB
    max_ratio: int = DEFAULT_XLSX_MAX_RATIO
    max_cells: int = DEFAULT_XLSX_MAX_CELLS


class Delivery:
    """A landed file read once, front to back: every byte read is hashed and counted. `raw` must be
    seekable for an XLSX (read whole first, see `open_sheet`)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self._sha = hashlib.sha256()
        self.size = 0
        self.complete = False  # read to the end (the raw stream may be read at random after)

    @classmethod
    def of(cls, data: bytes) -> Delivery:
        return cls(io.BytesIO(data))

    def read(self, size: int = _BLOCK) -> bytes:
        data = self.raw.read(size)
        self._sha.update(data)
        self.size += len(data)
        return data

    def read_rest(self) -> None:
        """Read (and hash) what is left: the id covers the whole file however far parsing got."""
        while not self.complete:
            self.complete = not self.read(_BLOCK)

    @property
    def file_id(self) -> str:
        return self._sha.hexdigest()


def normalise_header(name: object) -> str:
    text = "" if name is None else str(name)
    return re.sub(r"[\s\-]+", "_", text.replace("\ufeff", "").strip().lower())


@dataclass
class Sheet:
    """A delivered table: normalised header names and the data rows, each with its line/row."""

    header: list[str]
    rows: Iterator[tuple[int, Sequence[object]]]  # (line or row number, cell values)
    dialect: str  # for notes: "csv ';'", "xlsx"
    notes: list[str] = field(default_factory=list)  # for the file's ingestion notes


def open_sheet(
    data: bytes | Delivery, required: Sequence[str], limits: XlsxLimits | None = None
) -> Sheet:
    """Open a CSV or XLSX delivery; the header must name every `required` column."""
    delivery = Delivery.of(data) if isinstance(data, bytes) else data
    head = delivery.read(len(_OLE2_MAGIC))
    if head.startswith(_ZIP_MAGIC):
        return _open_xlsx(delivery, required, limits or XlsxLimits())
    if head.startswith(_OLE2_MAGIC):
        raise QuarantineError(
            "unsupported_format",
            "this is a legacy Excel (.xls) workbook; save it as .xlsx or as CSV UTF-8",
        )
    return _open_csv(delivery, head, required)


def _check_header(header: list[str], required: Sequence[str], where: str) -> None:
    missing = [name for name in required if name not in header]
    if missing:
        raise QuarantineError(
            "missing_columns",
            f"{where} lacks required column(s) {', '.join(missing)}; "
            f"found: {', '.join(h for h in header if h) or '(nothing)'}",
        )
    doubled = sorted({name for name in required if header.count(name) > 1})
    if doubled:
        raise QuarantineError(
            "duplicate_columns", f"{where} names column(s) {', '.join(doubled)} twice"
        )


# --- CSV ---------------------------------------------------------------------------------------


def _text_lines(delivery: Delivery, pending: bytes) -> Iterator[str]:
    """The delivery's lines as text (line ends kept, as `open(newline="")` gives them), decoded a
    block at a time: a block is cut after its last line end, which no UTF-8 sequence contains."""
    if pending.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise QuarantineError(
            "not_utf8", "the file is UTF-16 (Excel 'Unicode text'); save it as CSV UTF-8"
        )
    lines_before = 0
    first = True
    while True:
        block = delivery.read(_BLOCK)
        data = pending + block
        if block:
            cut = data.rfind(b"\n") + 1 or data.rfind(b"\r") + 1  # \r: classic Mac line ends
            if not cut:  # one long line so far
                pending = data
                continue
        else:
            cut = len(data)
        part, pending = data[:cut], data[cut:]
        try:
            text = part.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = lines_before + part[: exc.start].count(b"\n") + 1
            raise QuarantineError(
                "not_utf8",
                f"line {line}: byte 0x{part[exc.start]:02x} is not UTF-8; save the file as CSV UTF-8",
            ) from exc
        lines_before += part.count(b"\n")
        if first and text:
            text = text.removeprefix("\ufeff")
            first = False
        yield from io.StringIO(text, newline="")
        if not block:
            return


def _detect_separator(first: str, required: Sequence[str]) -> str:
    candidates = []
    for separator in _SEPARATORS:
        try:
            names = [normalise_header(n) for n in next(csv.reader([first], delimiter=separator))]
        except (csv.Error, StopIteration):
            continue
        if all(name in names for name in required):
            return separator
        candidates.append((len(names), separator, names))
    # neither separator yields the required columns: report against the likelier one
    _count, separator, names = max(candidates, default=(0, ";", []))
    _check_header(names, required, f"the header (separator {separator!r})")
    return separator  # pragma: no cover - _check_header raised


def _open_csv(delivery: Delivery, head: bytes, required: Sequence[str]) -> Sheet:
    lines = _text_lines(delivery, head)
    before_header: list[str] = []
    for line in lines:
        before_header.append(line)
        if line.strip():
            break
    else:
        raise QuarantineError("empty_file", "the file is empty")
    separator = _detect_separator(before_header[-1], required)
    reader = csv.reader(itertools.chain(before_header, lines), delimiter=separator, strict=True)
    try:
        header_row = next(row for row in reader if any(cell.strip() for cell in row))
    except csv.Error as exc:
        raise QuarantineError("csv_syntax", f"line {reader.line_num}: {exc}") from exc
    header = [normalise_header(n) for n in header_row]
    _check_header(header, required, "the header")
    return Sheet(header, _csv_rows(reader, len(header)), f"csv {separator!r}")


def _csv_rows(reader, width: int) -> Iterator[tuple[int, Sequence[object]]]:
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise QuarantineError("csv_syntax", f"line {reader.line_num}: {exc}") from exc
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width or any(cell.strip() for cell in row[width:]):
            raise QuarantineError(
                "csv_syntax", f"line {start}: {len(row)} fields where the header has {width}"
            )
        yield start, row


# --- XLSX --------------------------------------------------------------------------------------


def _check_zip(raw, size: int, limits: XlsxLimits) -> None:
    """Refuse a workbook that would inflate beyond the limits, before anything inflates it."""
    try:
        with zipfile.ZipFile(raw) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise QuarantineError("unreadable_xlsx", f"not a readable XLSX workbook: {exc}") from exc
    if inflated > limits.max_inflated_bytes:
        raise QuarantineError(
            "xlsx_too_large",
            f"the workbook would inflate to {inflated / _MB:,.0f} MB, more than the limit of "
            f"{limits.max_inflated_bytes / _MB:,.0f} MB (JEUGDHULP_XLSX_MAX_INFLATED_MB); "
            "deliver the table as CSV UTF-8",
        )
    if inflated > _RATIO_FROM and inflated > limits.max_ratio * max(size, 1):
        raise QuarantineError(
            "xlsx_too_large",
            f"the workbook would inflate from {size / 1024:,.0f} kB to {inflated / _MB:,.0f} MB "
            f"({inflated // max(size, 1):,}x), more than the limit of {limits.max_ratio}x "
            "(JEUGDHULP_XLSX_MAX_RATIO): a zip bomb, not a table",
        )


def _check_dimension(sheet, limits: XlsxLimits) -> None:
    """Refuse a sheet that declares more cells than the limit (<dimension ref="A1:XFD1048576"/>)."""
    rows, columns = sheet.max_row, sheet.max_column
    if rows is None or columns is None:
        return  # no declared dimension: rows are read as they come
    rows, columns = rows - sheet.min_row + 1, columns - sheet.min_column + 1
    if rows * columns > limits.max_cells:
        raise QuarantineError(
            "xlsx_too_large",
            f"the sheet {sheet.title!r} declares the range {sheet.calculate_dimension()} "
            f"({rows:,} rows x {columns:,} columns), more than the limit of "
            f"{limits.max_cells:,} cells (JEUGDHULP_XLSX_MAX_CELLS); delete the empty rows and "
            "columns beyond the table, or deliver it as CSV UTF-8",
        )


def _open_xlsx(delivery: Delivery, required: Sequence[str], limits: XlsxLimits) -> Sheet:
    import openpyxl  # only XLSX deliveries pay for the import

    delivery.read_rest()  # hashed whole first: the zip is read at random
    raw = delivery.raw
    raw.seek(0)
    _check_zip(raw, delivery.size, limits)
    raw.seek(0)
    try:
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise QuarantineError("unreadable_xlsx", f"not a readable XLSX workbook: {exc}") from exc
    rows = None
    try:
        sheet, notes = _first_visible_sheet(workbook)
        _check_dimension(sheet, limits)
        rows = _sheet_rows(workbook, sheet)
        for number, values in rows:
            if any(_cell_text(v) for v in values):
                where = f"the header (sheet {sheet.title!r}, row {number})"
                for value in values:
                    if isinstance(value, Uncalculated):
                        raise QuarantineError("bad_value", f"{where}, cell {value.cell}: {value}")
                header = [normalise_header(v) for v in values]
                _check_header(header, required, where)
                return Sheet(header, _xlsx_rows(rows, workbook), "xlsx", notes)
        raise QuarantineError("empty_file", f"the sheet {sheet.title!r} is empty")
    except BaseException:
        if rows is not None:
            rows.close()
        workbook.close()
        raise


def _first_visible_sheet(workbook):
    """The first sheet a person sees in Excel: hidden (and very hidden) sheets are skipped, with a
    note naming them."""
    hidden = []
    for sheet in workbook.worksheets:
        if sheet.sheet_state == "visible":
            notes = []
            if hidden:
                notes.append(
                    f"read sheet {sheet.title!r}, the first visible one; hidden sheet(s) skipped: "
                    + ", ".join(repr(title) for title in hidden)
                )
            return sheet, notes
        hidden.append(sheet.title)
    if hidden:
        raise QuarantineError(
            "unreadable_xlsx",
            "the workbook has no visible sheet (hidden: "
            + ", ".join(repr(title) for title in hidden)
            + "); unhide the sheet that holds the table",
        )
    raise QuarantineError("unreadable_xlsx", "the workbook has no sheets")


@dataclass(frozen=True)
class Uncalculated:
    """An XLSX cell holding a formula without a stored value. Excel stores the value it computed
    beside every formula; a workbook written by a script or an exporter may hold only the formula
    (openpyxl writes `=70+8` so), and nothing here calculates it."""

    cell: str  # e.g. E2
    formula: str

    def __str__(self) -> str:
        formula = self.formula if len(self.formula) <= 60 else self.formula[:57] + "..."
        shown = f"the formula ={formula}" if formula else "a shared formula"
        return (
            f"{shown} has no stored value (the program that wrote the workbook did not "
            "calculate it); open the workbook in Excel and save it, which stores the computed "
            "values, or deliver the table as CSV UTF-8"
        )


@functools.cache
def _parser_class():
    """openpyxl's sheet parser (so cells read as openpyxl reads them), with two changes. A formula
    without a stored value (an empty or missing `<v>`, except Excel's empty text result
    `t="str"`) is an `Uncalculated`, where openpyxl (data_only) gives None as for an empty cell.
    And `rows()` streams the rows in flat memory: openpyxl's `parse()` keeps every row it read in
    the XML tree (cleared) and the attributes of each row with a height or style (~450 bytes a
    row).
    Written against openpyxl 3.1 (requirements.lock)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import FORMULA_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse  # the one openpyxl uses (defusedxml if present)

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.get("t") != "str":
                formula = element.find(FORMULA_TAG)
                if formula is not None:
                    where = element.get("r") or f"{get_column_letter(cell['column'])}{cell['row']}"
                    cell["value"] = Uncalculated(where, (formula.text or "").strip())
            return cell

        def rows(self) -> Iterator[tuple[int, list[dict]]]:
            """(row number, cells) of each `<row>` of `<sheetData>`; what is read is let go."""
            depth, root, parent = 0, None, None
            for event, element in iterparse(self.source, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = element
                    elif depth == 2:
                        parent = element
                    continue
                depth -= 1
                if depth == 2 and element.tag == ROW_TAG:
                    row = self.parse_row(element)
                    parent.clear()
                    self.row_dimensions.clear()
                    yield row
                elif depth == 1:
                    root.clear()  # a part of the sheet other than its rows, read to its end

    return Parser


def _sheet_rows(workbook, sheet) -> Iterator[tuple[int, tuple]]:
    """(row number, cell values) of the rows the sheet stores, with the values openpyxl's
    read-only `iter_rows(values_only=True)` gives, except that a formula without a stored value
    is an `Uncalculated`, not None; rows are not padded to the declared dimension, and rows the
    sheet does not store (empty) are not yielded."""
    with sheet._get_source() as source:
        parser = _parser_class()(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.rows():
            values: list[object] = [None] * max((c["column"] for c in cells), default=0)
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, tuple(values)


def _xlsx_rows(rows, workbook) -> Iterator[tuple[int, Sequence[object]]]:
    try:
        for number, values in rows:
            if any(_cell_text(v) for v in values):
                yield number, values
    finally:
        rows.close()
        workbook.close()


def _cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


# --- values ------------------------------------------------------------------------------------


def _whole(value: float) -> str:
    if value != int(value):
        raise ValueError(f"{value!r} is not a whole number")
    return str(int(value))


def to_text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, float):
        return _whole(value) if value == int(value) else repr(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def to_decimal(value: object) -> Decimal | None:
    """A number (module docstring): refuses a lone mark before exactly three digits (ambiguous)."""
    return _number(value, whole=False)


def _number(value: object, *, whole: bool) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, (date, datetime)):
        raise ValueError(f"{value!s} is a date, not a number")
    else:
        shown = str(value).strip()
        text = shown.replace("\u00a0", "").replace(" ", "")
        if not text:
            return None
        number = _parse_number_text(text, shown, whole=whole)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


_NUMBER_TEXT = re.compile(r"[+-]?[0-9.,]*[0-9][0-9.,]*")


def _grouped(text: str, mark: str) -> bool:
    """`text` is digits grouped in threes by `mark`: 1.234 or 12.345.678 (at least one mark)."""
    return re.fullmatch(rf"[+-]?\d{{1,3}}(?:\{mark}\d{{3}})+", text) is not None


def _parse_number_text(text: str, shown: str, *, whole: bool) -> Decimal:
    """`text` is `shown` without spaces. `whole`: an integer column, where a lone mark before
    exactly three digits can only group thousands (an integer has no decimals)."""
    if text.startswith("€"):
        text = text[1:]
    if not _NUMBER_TEXT.fullmatch(text):
        raise ValueError(f"{shown!r} is not a number")
    dots, commas = text.count("."), text.count(",")
    if dots and commas:  # 1.234,56 or 1,234.56: the last mark is the decimal one
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        grouping = "," if decimal_mark == "." else "."
        integer, _, fraction = text.rpartition(decimal_mark)
        if not _grouped(integer, grouping) or not fraction.isdigit():
            raise ValueError(f"{shown!r} is not a number (write 1.234.567,89 or 1234567,89)")
        text = f"{integer.replace(grouping, '')}.{fraction}"
    elif dots + commas == 1:
        mark = "." if dots else ","
        integer, _, fraction = text.partition(mark)
        if len(fraction) == 3 and integer.strip("+-0"):  # 750.000, 1,500: thousands or decimals?
            if not whole:
                raise ValueError(_ambiguous(shown, mark, integer, fraction))
            if not _grouped(text, mark):  # 2024.000: not thousands, and decimals are not guessed
                raise ValueError(
                    f"{shown!r} is not a whole number as written: a single {mark!r} before three "
                    f"digits groups thousands in a whole number; write {integer} or "
                    f"{integer}{fraction}"
                )
            text = integer + fraction
        else:  # 12,5 12.50 0,125 12,3456: the decimal mark
            text = f"{integer}.{fraction}"
    elif dots + commas > 1:  # 1.234.567: the same mark twice or more groups thousands
        mark = "," if commas else "."
        if not _grouped(text, mark):
            raise ValueError(f"{shown!r} is not a number")
        text = text.replace(mark, "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{shown!r} is not a number") from exc


def _ambiguous(shown: str, mark: str, integer: str, fraction: str) -> str:
    thousands = integer + fraction
    decimals = fraction.rstrip("0")
    decimals = decimals.ljust(2, "0") if len(decimals) <= 2 else decimals + "0"
    return (
        f"{shown!r} is ambiguous: {thousands} (the {mark!r} groups thousands) or "
        f"{integer},{decimals} (the {mark!r} is the decimal mark)? Write {thousands} or "
        f"{thousands},00 for the first, {integer},{decimals} for the second: a single '.' or ',' "
        "before exactly three digits is not guessed"
    )


def to_amount(value: object) -> Decimal | None:
    number = to_decimal(value)
    if number is None:
        return None
    rounded = number.quantize(_CENTS, rounding=ROUND_HALF_UP)
    if abs(rounded) >= Decimal(10) ** 16:
        raise ValueError(f"{value!r} is too large")
    return rounded


def to_int(value: object) -> int | None:
    """A whole number: as `to_decimal`, but a lone mark before exactly three digits groups
    thousands (`12.500` is 12500, `2.024` is 2024), the only reading an integer allows."""
    number = _number(value, whole=True)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    if abs(number) >= 2**31:
        raise ValueError(f"{value!r} is too large")
    return int(number)


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DUTCH_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")


def to_date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is a number, not a date (format the cell as a date)")
    text = str(value).strip()
    if not text:
        return None
    try:
        if match := _ISO_DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DUTCH_DATE.fullmatch(text):
            return date(int(match[4]), int(match[3]), int(match[1]))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date ({exc})") from exc
    raise ValueError(f"{text!r} is not a date as YYYY-MM-DD or DD-MM-YYYY")


_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DUTCH_MONTH = re.compile(r"(\d{1,2})[-/](\d{4})")


def to_month(value: object) -> str | None:
    """A month as `YYYY-MM`; also accepts `M-YYYY` and a full date (Excel turns 2025-01 into one)."""
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    if not text:
        return None
    if match := _MONTH.fullmatch(text):
        year, month = int(match[1]), int(match[2])
    elif match := _DUTCH_MONTH.fullmatch(text):
        year, month = int(match[2]), int(match[1])
    else:
        try:
            day = to_date(text)
        except ValueError:
            day = None
        if day is None:
            raise ValueError(f"{text!r} is not a month as YYYY-MM")
        year, month = day.year, day.month
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a month as YYYY-MM")
    return f"{year:04d}-{month:02d}"


def to_yes_no(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "ja" if value else "nee"
    text = str(value).strip().lower()
    if not text:
        return None
    if text in {"ja", "j", "yes", "y", "true", "1"}:
        return "ja"
    if text in {"nee", "n", "no", "false", "0"}:
        return "nee"
    raise ValueError(f"{value!r} is not ja or nee")


def to_code(
    value: object, width: int, *, digits: bool, prefix: str = ""
) -> tuple[str | None, bool]:
    """A code as a string with its leading zeros; returns (code, whether it was zero-padded).

    `digits`: the code must be all digits (AGB, gemeente). Otherwise only purely numeric codes are
    padded (a product code like 45A48 stays as delivered).
    """
    text = to_text(value)
    if text is None:
        return None, False
    if prefix and text[: len(prefix)].upper() == prefix:
        text = text[len(prefix) :].strip()
    if not text.isascii() or not text.isdigit():
        if digits:
            raise ValueError(f"{text!r} is not a {width}-digit code")
        return text, False
    if len(text) > width:
        if digits:
            raise ValueError(f"{text!r} has more than {width} digits")
        return text, False
    return text.zfill(width), len(text) < width
