"""Turns the iJw reader's records into rows of the raw iJw tables: BSN to pseudonym, birth date to year.

A file is all or nothing: any `IjwReadError` (malformed XML, a DTD, an unknown message, another
iJw release, a message that breaks the standard) quarantines the whole file, so a half-read
message never reaches the warehouse. An invalid BSN does not: its line is loaded with the
pseudonym of the given string and `bsn_valid = false`, for data quality to report.
Names and full birth dates are dropped here; they never leave this module.

Files are read by the reader's fast path (`read_flat`: tuples, no record objects) where it vouches
for them, else by the streaming reader (`message_reader`); both give the same values, so the rows
are the same.
"""

from __future__ import annotations

import dataclasses
import io
import operator

from jeugdhulp.ijw.errors import IjwReadError
from jeugdhulp.ijw.fields import TABLES, MessageTable, Read
from jeugdhulp.ijw.reader import FlatMessage, message_reader, read_flat
from jeugdhulp.ijw.records import RECORD_TYPES, Client, Header, InvoiceLine, ReadItem
from jeugdhulp.ingest.errors import QuarantineError
from jeugdhulp.ingest.parsed import ClientKeys, ParsedFile, TableRows

# The columns of a row, without file_id (added per file when batched): jeugdhulp/ijw/fields.py.
# record_position is the record's ordinal in the message (its identity, whatever the layout of the
# bytes); source_line, every table's last column, the line of its start tag (diagnostic only).
COLUMNS: dict[str, tuple[str, ...]] = {t.table: t.row_columns for t in TABLES.values()}
TABLE_OF_MESSAGE: dict[str, str] = {code: t.table for code, t in TABLES.items()}


class _FlatItem:
    """One record of the fast path, for `_row`: its message header and its FLAT_FIELDS values."""

    __slots__ = ("header", "values")

    def __init__(self, header: Header, values: tuple) -> None:
        self.header = header
        self.values = values


def _layout(table: MessageTable) -> tuple[int, int | None, int | None]:
    """Where a fast-path tuple holds the BSN, the birth date and the line's return codes: the
    values whose columns are not the value as read (the BSN makes two, client_key and bsn_valid).
    `_row` turns them into columns; a table needing another turn is refused here, at import."""
    bsn = birth = codes = None
    for i, read in enumerate(table.flat_reads):
        stores = tuple(column.store for column in read.columns)
        if stores == ("pseudonym", "11-proef"):
            bsn = i
        elif stores == ("year",):
            birth = i
        elif stores == ("comma-joined",):
            codes = i
        elif stores != ("as read",):
            raise AssertionError(f"{table.message_type}: no row layout for {read.path} {stores}")
    if bsn is None or (birth is not None and (birth != bsn + 1 or codes is not None)):
        raise AssertionError(f"{table.message_type}: no row layout for its BSN and birth date")
    return bsn, birth, codes


def _item_attribute(message_type: str, read: Read) -> str:
    """Where a ReadItem of the streaming reader holds the value of `read` (dotted)."""
    if read.part == "reader":
        return read.attribute
    if read.part in ("header", "declaration", "answer"):
        return f"{read.part}.{read.attribute}"
    record = RECORD_TYPES[message_type]
    own = {f.name for f in dataclasses.fields(record)}
    if read.attribute in own:
        return f"record.{read.attribute}"
    for holder, holder_type in (("client", Client), ("line", InvoiceLine)):
        if holder in own and read.attribute in {f.name for f in dataclasses.fields(holder_type)}:
            return f"record.{holder}.{read.attribute}"
    raise AssertionError(f"{message_type}: records.py has no attribute {read.attribute}")


_LAYOUT = {code: _layout(table) for code, table in TABLES.items()}
# a ReadItem's values laid out as a fast-path tuple
_ITEM_VALUES = {
    code: operator.attrgetter(*(_item_attribute(code, read) for read in table.flat_reads))
    for code, table in TABLES.items()
}


def _row(item: ReadItem | _FlatItem, keys: ClientKeys) -> tuple:
    """The raw row of one record: its values as read, with the BSN as key and validity, the
    birth date as its year and the return codes comma-joined."""
    message_type = item.header.message_type
    v = item.values if item.__class__ is _FlatItem else _ITEM_VALUES[message_type](item)
    bsn, birth, codes = _LAYOUT[message_type]
    if birth is not None:  # JW301/305/307/315: BSN, birth date -> key, valid, birth year
        return v[:bsn] + keys(v[bsn]) + (v[birth].year,) + v[birth + 1 :]
    if codes is not None:  # JW325: the line's return codes, comma-separated
        return v[:bsn] + keys(v[bsn]) + v[bsn + 1 : codes] + (",".join(v[codes]),) + v[codes + 1 :]
    return v[:bsn] + keys(v[bsn]) + v[bsn + 1 :]  # JW323


def parse_ijw(data: bytes, keys: ClientKeys) -> ParsedFile:
    """Read one iJw message into rows of its raw table, or raise QuarantineError."""
    if not data.strip():
        raise QuarantineError("empty_file", "the file is empty")
    flat = read_flat(data)
    if flat is not None:
        return _flat_rows(flat, keys)
    rows: list[tuple] = []
    reader = message_reader(io.BytesIO(data))
    try:
        for item in reader.items():
            rows.append(_row(item, keys))
    except IjwReadError as exc:
        raise QuarantineError(exc.reason, str(exc)) from exc
    # the message's own type and identity, also without records (a JW325 rejecting nothing)
    message_type, header = reader.message_type, reader.header
    identity = (header.sender, header.receiver, header.message_id, header.message_date)
    table = TABLE_OF_MESSAGE[message_type]
    return ParsedFile(message_type, {table: TableRows(COLUMNS[table], rows)}, message=identity)


def _flat_rows(flat: FlatMessage, keys: ClientKeys) -> ParsedFile:
    header = flat.header
    rows = [_row(_FlatItem(header, values), keys) for values in flat.records]
    table = TABLE_OF_MESSAGE[flat.message_type]
    parsed = ParsedFile(flat.message_type, {table: TableRows(COLUMNS[table], rows)})
    # its identity (ingest/message_identity.py), also when no row carries it
    parsed.message = (header.sender, header.receiver, header.message_id, header.message_date)
    return parsed
