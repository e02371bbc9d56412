"""Turns the iJw reader's records into rows of the raw iJw tables: BSN to pseudonym, birth date to year.

A file is all or nothing: any `IjwReadError` (malformed XML, a DTD, an unknown message, another
iJw release, a message that breaks the standard) quarantines the whole file, so a half-read
message never reaches the warehouse. An invalid BSN does not: its line is loaded with the
pseudonym of the given string and `bsn_valid = false`, for data quality to report.
Names and full birth dates are dropped here; they never leave this module.

Files are read by the reader's fast path (`read_flat`: tuples, no record objects) where it vouches
for them, else by `read_messages`; both give the same values, so the rows are the same.
"""

from __future__ import annotations

import io
import re

from jeugdhulp.ijw.errors import IjwReadError
from jeugdhulp.ijw.reader import (
    FLAT_FIELDS,
    FlatMessage,
    read_flat,
    read_messages,
    sniff_message_type,
)
from jeugdhulp.ijw.records import (
    Allocation,
    CareStart,
    CareStop,
    Header,
    InvoiceLine,
    ReadItem,
    ReferralRequest,
    RejectedLine,
)
from jeugdhulp.ingest.errors import QuarantineError
from jeugdhulp.ingest.parsed import ClientKeys, ParsedFile, TableRows

_ROOT_TYPE = re.compile(rb"http://www\.istandaarden\.nl/ijw/3_2/(jw[0-9]{3})/schema")
# record_position: the record's ordinal in the message (its identity, whatever the layout of the
# bytes); source_line, every table's last column: the line of its start tag in the file
# (diagnostic only)
_HEADER = ("record_position", "message_id", "message_date", "sender", "receiver")
_DIAGNOSTICS = ("source_line",)
_CLIENT = ("client_key", "bsn_valid", "birth_year")
_LINE = (
    "reference_number", "previous_reference_number", "allocation_number", "product_category",
    "product_code", "period_start", "period_end", "volume", "unit", "tariff_cents",
    "amount_cents", "debit_credit",
)  # fmt: skip

COLUMNS: dict[str, tuple[str, ...]] = {
    "ijw_requests": _HEADER + _CLIENT + (
        "provider_reference", "product_category", "product_code", "requested_start_date",
        "requested_end_date", "volume", "unit", "frequency", "referrer_type",
    ) + _DIAGNOSTICS,
    "ijw_allocations": _HEADER + _CLIENT + (
        "allocation_number", "provider_reference", "product_category", "product_code",
        "allocation_date", "allocation_time", "start_date", "end_date", "change_reason",
        "volume", "unit", "frequency", "budget_cents",
    ) + _DIAGNOSTICS,
    "ijw_starts": _HEADER + _CLIENT + (
        "allocation_number", "product_category", "product_code", "allocation_start_date",
        "start_date", "delivery_status",
    ) + _DIAGNOSTICS,
    "ijw_stops": _HEADER + _CLIENT + (
        "allocation_number", "product_category", "product_code", "allocation_start_date",
        "start_date", "end_reason", "end_date", "delivery_status",
    ) + _DIAGNOSTICS,
    "ijw_invoice_lines": _HEADER + (
        "declaration_number", "declaration_period_start", "declaration_period_end",
        "declaration_date", "client_key", "bsn_valid",
    ) + _LINE + _DIAGNOSTICS,
    "ijw_rejected_lines": _HEADER + ("declaration_number", "client_key", "bsn_valid")
    + _LINE + ("return_codes",) + _DIAGNOSTICS,
}  # fmt: skip

TABLE_OF_MESSAGE: dict[str, str] = {
    "JW315": "ijw_requests",
    "JW301": "ijw_allocations",
    "JW305": "ijw_starts",
    "JW307": "ijw_stops",
    "JW323": "ijw_invoice_lines",
    "JW325": "ijw_rejected_lines",
}


def _line_values(line: InvoiceLine) -> tuple:
    return (
        line.reference_number, line.previous_reference_number, line.allocation_number,
        line.product_category, line.product_code, line.period_start, line.period_end,
        line.volume, line.unit, line.tariff_cents, line.amount_cents, line.debit_credit,
    )  # fmt: skip


class _FlatItem:
    """One record of the fast path, for `_row`: its message header and its FLAT_FIELDS values."""

    __slots__ = ("header", "values")

    def __init__(self, header: Header, values: tuple) -> None:
        self.header = header
        self.values = values


def _flat_layout(message_type: str) -> tuple[int, int | None, bool]:
    """(position of the BSN, position of the birth date or None, whether the tuple ends in return
    codes) in a fast-path tuple, checked against the raw table's columns so the two layouts
    cannot drift apart."""
    fields = FLAT_FIELDS[message_type]
    bsn = fields.index("bsn")
    birth = fields.index("birth_date") if "birth_date" in fields else None
    renamed = {"position": "record_position", "line": "source_line"}
    mapped = [renamed.get(f, f) for f in fields]
    mapped[bsn : bsn + 1] = ["client_key", "bsn_valid"]
    if birth is not None:
        mapped[birth + 1] = "birth_year"
    columns = COLUMNS[TABLE_OF_MESSAGE[message_type]]
    if tuple(mapped) != columns:
        raise AssertionError(f"{message_type}: reader.FLAT_FIELDS do not match the raw columns")
    return bsn, birth, fields[-2] == "return_codes"


_FLAT_LAYOUT = {message_type: _flat_layout(message_type) for message_type in TABLE_OF_MESSAGE}


def _row(item: ReadItem | _FlatItem, keys: ClientKeys) -> tuple:
    if item.__class__ is _FlatItem:
        v = item.values
        bsn, birth, codes = _FLAT_LAYOUT[item.header.message_type]
        if birth is not None:  # JW301/305/307/315: BSN, birth date -> key, valid, birth year
            return v[:bsn] + keys(v[bsn]) + (v[birth].year,) + v[birth + 1 :]
        if codes:  # JW325: the line's return codes, comma-separated (then the source line)
            return v[:bsn] + keys(v[bsn]) + v[bsn + 1 : -2] + (",".join(v[-2]), v[-1])
        return v[:bsn] + keys(v[bsn]) + v[bsn + 1 :]  # JW323
    h = item.header
    head = (item.position, h.message_id, h.message_date, h.sender, h.receiver)
    line = (item.line,)
    r = item.record
    if isinstance(r, InvoiceLine):
        d = item.declaration
        return head + (
            d.declaration_number, d.period_start, d.period_end, d.declaration_date, *keys(r.bsn),
        ) + _line_values(r) + line  # fmt: skip
    if isinstance(r, RejectedLine):
        return (
            head + (item.answer.declaration_number, *keys(r.line.bsn))
            + _line_values(r.line) + (",".join(r.return_codes), item.line)
        )  # fmt: skip
    client = head + keys(r.client.bsn) + (r.client.birth_date.year,)
    if isinstance(r, Allocation):
        return client + (
            r.allocation_number, r.provider_reference, r.product_category, r.product_code,
            r.allocation_date, r.allocation_time, r.start_date, r.end_date, r.change_reason,
            r.volume, r.unit, r.frequency, r.budget_cents, item.line,
        )  # fmt: skip
    if isinstance(r, CareStart):
        return client + (
            r.allocation_number, r.product_category, r.product_code, r.allocation_start_date,
            r.start_date, r.delivery_status, item.line,
        )  # fmt: skip
    if isinstance(r, CareStop):
        return client + (
            r.allocation_number, r.product_category, r.product_code, r.allocation_start_date,
            r.start_date, r.end_reason, r.end_date, r.delivery_status, item.line,
        )  # fmt: skip
    if isinstance(r, ReferralRequest):
        return client + (
            r.provider_reference, r.product_category, r.product_code, r.requested_start_date,
            r.requested_end_date, r.volume, r.unit, r.frequency, r.referrer_type, item.line,
        )  # fmt: skip
    raise TypeError(f"no raw table for record type {type(r).__name__}")


def parse_ijw(data: bytes, keys: ClientKeys) -> ParsedFile:
    """Read one iJw message into rows of its raw table, or raise QuarantineError."""
    if not data.strip():
        raise QuarantineError("empty_file", "the file is empty")
    flat = read_flat(data)
    if flat is not None:
        return _flat_rows(flat, keys)
    rows: list[tuple] = []
    message_type = None
    try:
        for item in read_messages(io.BytesIO(data)):
            if message_type is None:
                message_type = item.header.message_type
            rows.append(_row(item, keys))
        if message_type is None:  # a valid message without records, e.g. a JW325 rejecting nothing
            # the reader accepted its root, so the namespace names the type; no second parse
            found = _ROOT_TYPE.search(data, 0, 4096)
            message_type = (
                found[1].decode().upper() if found else sniff_message_type(io.BytesIO(data))
            )
    except IjwReadError as exc:
        raise QuarantineError(exc.reason, str(exc)) from exc
    table = TABLE_OF_MESSAGE[message_type]
    return ParsedFile(message_type, {table: TableRows(COLUMNS[table], rows)})


def _flat_rows(flat: FlatMessage, keys: ClientKeys) -> ParsedFile:
    header = flat.header
    rows = [_row(_FlatItem(header, values), keys) for values in flat.records]
    table = TABLE_OF_MESSAGE[flat.message_type]
    return ParsedFile(flat.message_type, {table: TableRows(COLUMNS[table], rows)})
