"""Helpers for the ingestion tests: settings on a temp data dir, small iJw files, raw-table reads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from jeugdhulp.ijw.records import (
    Allocation,
    Client,
    Declaration,
    DeclarationAnswer,
    Header,
    InvoiceLine,
    Message,
    RejectedLine,
)
from jeugdhulp.ingest.raw_tables import RAW_TABLES
from jeugdhulp.settings import Settings
from jeugdhulp.synthetic.ijw_writer import write_message

KEY = "test-key-not-secret"
PROVIDER = "12345678"
MUNICIPALITY = "0546"
VALID_BSNS = ("999900006", "999900018", "999900031", "999900043")
INVALID_BSN = "123456789"  # nine digits, fails the 11-proef


def make_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, as_of=date(2026, 10, 15), pseudonym_key=KEY, postgres_dsn=None
    )


def land(settings: Settings, source: str, relative: str, data: bytes | str) -> Path:
    path = settings.landing_dir / source / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def allocation_message(number: int, bsn: str = VALID_BSNS[0], records: int = 1) -> bytes:
    client = Client(bsn=bsn, birth_date=date(2012, 3, 4), surname="Jansen")
    allocations = tuple(
        Allocation(
            client=client,
            allocation_number=f"{number}{i:03d}",
            provider_reference=f"REF{number}-{i}",
            product_category="45",
            product_code="45A48",
            allocation_date=date(2026, 1, 2),
            start_date=date(2026, 1, 5),
            end_date=date(2026, 12, 31),
            volume=8,
            unit="04",
            frequency="4",
        )
        for i in range(records)
    )
    header = Header("JW301", MUNICIPALITY, PROVIDER, f"M{number}", date(2026, 1, 2))
    return write_message(Message(header, allocations))


def invoice_line(reference: str, bsn: str = VALID_BSNS[0], cents: int = 62400) -> InvoiceLine:
    return InvoiceLine(
        bsn=bsn,
        reference_number=reference,
        previous_reference_number=None,
        allocation_number="1000",
        product_category="45",
        product_code="45A48",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 28),
        volume=8,
        unit="04",
        tariff_cents=7800,
        amount_cents=cents,
    )


def invoice_message(number: int, bsns: tuple[str, ...] = VALID_BSNS[:2]) -> bytes:
    lines = tuple(invoice_line(f"R{number}-{i}", bsn) for i, bsn in enumerate(bsns))
    header = Header("JW323", PROVIDER, MUNICIPALITY, f"D{number}", date(2026, 3, 5))
    declaration = Declaration(f"DN{number}", date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 5))
    return write_message(Message(header, lines, declaration=declaration))


def answer_message(number: int, rejected: tuple[InvoiceLine, ...]) -> bytes:
    header = Header("JW325", MUNICIPALITY, PROVIDER, f"A{number}", date(2026, 3, 10))
    total = sum(line.amount_cents for line in rejected)
    answer = DeclarationAnswer(f"DN{number}", total, "D", 0, "D")
    records = tuple(RejectedLine(line, ("9346",)) for line in rejected)
    return write_message(Message(header, records, answer=answer))


def rows(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def count(settings: Settings, table: str) -> int:
    return rows(settings, f"SELECT count(*) FROM raw.{table}")[0][0]


def files_under(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def snapshot(settings) -> dict[str, list[tuple]]:
    """Every raw table's rows, sorted; the registry without its wall-clock column."""
    result = {}
    for table in RAW_TABLES:
        if table == "file_registry":
            sql = "SELECT * EXCLUDE (ingested_at) FROM raw.file_registry ORDER BY ingested_seq"
        else:
            sql = f"SELECT * FROM raw.{table} ORDER BY ALL"
        result[table] = rows(settings, sql)
    return result


def tabular_rows(path) -> list[dict]:
    """The rows of a delivered CSV (UTF-8 with or without BOM, `;` or `,`) or XLSX (first sheet)
    by header, values as delivered: for reading generated files in tests."""
    import csv
    import io

    import openpyxl

    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        return [dict(zip(rows[0], row)) for row in rows[1:]]
    text = path.read_bytes().decode("utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
