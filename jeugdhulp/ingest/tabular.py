"""Reading delivered CSV and XLSX tables in every dialect CONTRACT §2.5 allows, into typed values.

Dialects: UTF-8 with or without BOM; `;` or `,` as separator, detected from the header line (the
one that yields all required columns wins); RFC 4180 quoting; XLSX: the first sheet, the first
non-empty row is the header. The format is told by the bytes, not the file name, so an XLSX saved
as `.csv` still reads. Header names match case-insensitively after stripping; runs of spaces and
hyphens count as `_` (`Gemeente code` = `gemeente_code`). Extra columns are ignored; rows whose
cells are all empty are skipped (Excel leaves them behind).

Values (each rule chosen for what Dutch Excel and provider systems actually write):
- numbers: decimal comma or point. With both marks, the last one is the decimal mark and the other
  groups thousands (`1.234,56`, `1,234.56`); a single mark is the decimal mark (`12,5`, `12.5`);
  the same mark twice or more groups thousands (`1.234.567`). A leading `€` is allowed. Amounts
  are rounded half-up to cents (Excel floats such as 0.30000000000000004).
- whole numbers (years, counts): as above, but must be whole (`2024`, `2.024`, `2024,0`).
- dates: `YYYY-MM-DD` (a trailing time of day is ignored), or `D-M-YYYY`/`DD-MM-YYYY` as Dutch
  Excel writes them (also with `/` or `.`); XLSX date cells as they are.
- codes keep their leading zeros. When Excel dropped them (`484` for gemeente 0484, a seven-digit
  AGB code), a purely numeric code shorter than its width is zero-padded back, and the file's
  ingestion notes say how many values were padded. Municipality codes may carry the `GM` prefix;
  raw stores the four digits.
Anything else raises `QuarantineError` naming the line (or XLSX row) and column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from jeugdhulp.ingest.errors import QuarantineError

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other Office 97 files)
_SEPARATORS = (";", ",")
_CENTS = Decimal("0.01")


def normalise_header(name: object) -> str:
    text = "" if name is None else str(name)
    return re.sub(r"[\s\-]+", "_", text.replace("\ufeff", "").strip().lower())


@dataclass
class Sheet:
    """A delivered table: normalised header names and the data rows, each with its line/row."""

    header: list[str]
    rows: Iterator[tuple[int, Sequence[object]]]  # (line or row number, cell values)
    dialect: str  # for notes: "csv ';'", "xlsx"


def open_sheet(data: bytes, required: Sequence[str]) -> Sheet:
    """Open CSV or XLSX bytes; the header must name every `required` column."""
    if not data.strip():
        raise QuarantineError("empty_file", "the file is empty")
    if data.startswith(_ZIP_MAGIC):
        return _open_xlsx(data, required)
    if data.startswith(_OLE2_MAGIC):
        raise QuarantineError(
            "unsupported_format",
            "this is a legacy Excel (.xls) workbook; save it as .xlsx or as CSV UTF-8",
        )
    return _open_csv(data, required)


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


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise QuarantineError(
            "not_utf8", "the file is UTF-16 (Excel 'Unicode text'); save it as CSV UTF-8"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QuarantineError(
            "not_utf8",
            f"line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; save the file as CSV UTF-8",
        ) from exc


def _header_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _detect_separator(text: str, required: Sequence[str]) -> str:
    first = _header_line(text)
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


def _open_csv(data: bytes, required: Sequence[str]) -> Sheet:
    text = _decode(data)
    if not text.strip():
        raise QuarantineError("empty_file", "the file is empty")
    separator = _detect_separator(text, required)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
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


def _open_xlsx(data: bytes, required: Sequence[str]) -> Sheet:
    import openpyxl  # only XLSX deliveries pay for the import

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise QuarantineError("unreadable_xlsx", f"not a readable XLSX workbook: {exc}") from exc
    if not workbook.worksheets:
        raise QuarantineError("unreadable_xlsx", "the workbook has no sheets")
    sheet = workbook.worksheets[0]
    rows = enumerate(sheet.iter_rows(values_only=True), start=1)
    for number, values in rows:
        if any(_cell_text(v) for v in values):
            header = [normalise_header(v) for v in values]
            _check_header(header, required, f"the header (sheet {sheet.title!r}, row {number})")
            return Sheet(header, _xlsx_rows(rows, workbook), "xlsx")
    workbook.close()
    raise QuarantineError("empty_file", f"the first sheet ({sheet.title!r}) is empty")


def _xlsx_rows(rows, workbook) -> Iterator[tuple[int, Sequence[object]]]:
    try:
        for number, values in rows:
            if any(_cell_text(v) for v in values):
                yield number, values
    finally:
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
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            return None
        number = _parse_number_text(text)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


def _parse_number_text(text: str) -> Decimal:
    original = text
    if text.startswith("€"):
        text = text[1:]
    if not re.fullmatch(r"[+-]?[0-9.,]*[0-9][0-9.,]*", text):
        raise ValueError(f"{original!r} is not a number")
    if "." in text and "," in text:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        grouping = "," if decimal_mark == "." else "."
        if text.count(decimal_mark) > 1:
            raise ValueError(f"{original!r} is not a number")
        text = text.replace(grouping, "").replace(decimal_mark, ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        mark = "," if "," in text else "."
        if not re.fullmatch(rf"[+-]?\d{{1,3}}(\{mark}\d{{3}})+", text):
            raise ValueError(f"{original!r} is not a number")
        text = text.replace(mark, "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{original!r} is not a number") from exc


def to_amount(value: object) -> Decimal | None:
    number = to_decimal(value)
    if number is None:
        return None
    rounded = number.quantize(_CENTS, rounding=ROUND_HALF_UP)
    if abs(rounded) >= Decimal(10) ** 16:
        raise ValueError(f"{value!r} is too large")
    return rounded


def to_int(value: object) -> int | None:
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,3}(\.\d{3})+\s*", value):
        value = value.replace(".", "")  # Dutch thousands grouping, e.g. 2.024 or 12.500
    number = to_decimal(value)
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
