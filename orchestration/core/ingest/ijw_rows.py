"""Turns the iJw reader's records into rows of the raw iJw tables: BSN to pseudonym, birth date to year.

A file is all or nothing: any `IjwReadError` (malformed XML, a DTD, an unknown message, another
iJw release, a message that breaks the standard) quarantines the whole file, so a half-read
message never reaches the warehouse. An invalid BSN does not: its line is loaded with the
pseudonym of the given string and `bsn_valid = false`, for data quality to report.
Names and full birth dates are dropped here; they never leave this module.
"""

from __future__ import annotations

import io
import re

from orchestration.core.ijw.errors import IjwReadError
from orchestration.core.ijw.reader import read_messages, sniff_message_type
from orchestration.core.ijw.records import (
    Allocation,
    CareStart,
    CareStop,
    InvoiceLine,
    ReadItem,
    ReferralRequest,
    RejectedLine,
)
from orchestration.core.ingest.errors import QuarantineError
from orchestration.core.ingest.parsed import ClientKeys, ParsedFile, TableRows

_ROOT_TYPE = re.compile(rb"http://www\.istandaarden\.nl/ijw/3_2/(jw[0-9]{3})/schema")
_HEADER = ("record_position", "message_id", "message_date", "sender", "receiver")
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
    ),
    "ijw_allocations": _HEADER + _CLIENT + (
        "allocation_number", "provider_reference", "product_category", "product_code",
        "allocation_date", "allocation_time", "start_date", "end_date", "change_reason",
        "volume", "unit", "frequency", "budget_cents",
    ),
    "ijw_starts": _HEADER + _CLIENT + (
        "allocation_number", "product_category", "product_code", "allocation_start_date",
        "start_date", "delivery_status",
    ),
    "ijw_stops": _HEADER + _CLIENT + (
        "allocation_number", "product_category", "product_code", "allocation_start_date",
        "start_date", "end_reason", "end_date", "delivery_status",
    ),
    "ijw_invoice_lines": _HEADER + (
        "declaration_number", "declaration_period_start", "declaration_period_end",
        "declaration_date", "client_key", "bsn_valid",
    ) + _LINE,
    "ijw_rejected_lines": _HEADER + ("declaration_number", "client_key", "bsn_valid")
    + _LINE + ("return_codes",),
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


def _row(item: ReadItem, keys: ClientKeys) -> tuple:
    h = item.header
    head = (item.line, h.message_id, h.message_date, h.sender, h.receiver)
    r = item.record
    if isinstance(r, InvoiceLine):
        d = item.declaration
        return head + (
            d.declaration_number, d.period_start, d.period_end, d.declaration_date, *keys(r.bsn),
        ) + _line_values(r)  # fmt: skip
    if isinstance(r, RejectedLine):
        return (
            head + (item.answer.declaration_number, *keys(r.line.bsn))
            + _line_values(r.line) + (",".join(r.return_codes),)
        )  # fmt: skip
    client = head + keys(r.client.bsn) + (r.client.birth_date.year,)
    if isinstance(r, Allocation):
        return client + (
            r.allocation_number, r.provider_reference, r.product_category, r.product_code,
            r.allocation_date, r.allocation_time, r.start_date, r.end_date, r.change_reason,
            r.volume, r.unit, r.frequency, r.budget_cents,
        )  # fmt: skip
    if isinstance(r, CareStart):
        return client + (
            r.allocation_number, r.product_category, r.product_code, r.allocation_start_date,
            r.start_date, r.delivery_status,
        )  # fmt: skip
    if isinstance(r, CareStop):
        return client + (
            r.allocation_number, r.product_category, r.product_code, r.allocation_start_date,
            r.start_date, r.end_reason, r.end_date, r.delivery_status,
        )  # fmt: skip
    if isinstance(r, ReferralRequest):
        return client + (
            r.provider_reference, r.product_category, r.product_code, r.requested_start_date,
            r.requested_end_date, r.volume, r.unit, r.frequency, r.referrer_type,
        )  # fmt: skip
    raise TypeError(f"no raw table for record type {type(r).__name__}")


def parse_ijw(data: bytes, keys: ClientKeys) -> ParsedFile:
    """Read one iJw message into rows of its raw table, or raise QuarantineError."""
    if not data.strip():
        raise QuarantineError("empty_file", "the file is empty")
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
            message_type = found[1].decode().upper() if found else sniff_message_type(io.BytesIO(data))
    except IjwReadError as exc:
        raise QuarantineError(exc.reason, str(exc)) from exc
    table = TABLE_OF_MESSAGE[message_type]
    return ParsedFile(message_type, {table: TableRows(COLUMNS[table], rows)})
