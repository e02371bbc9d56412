"""Typed records for the iJw 3.2 messages the pipeline reads and the generator writes.

A message is a `Header` plus flat records, one per repeated product element (ToegewezenProduct,
StartProduct, StopProduct, AangevraagdProduct, Prestatie). The writer groups records by client
again; the reader yields them one at a time with the header and the line they came from. Field
names are English; the iJw element each one is read from, and what it means, is declared once in
the field table of `fields.py` (the readers fill these attributes by its names, and
tests/ijw/test_fields.py checks that every field there has its attribute here).

Amounts are whole eurocents with a separate debit/credit sign, exactly as iJw carries them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

NAMESPACE_TEMPLATE = "http://www.istandaarden.nl/ijw/3_2/{code}/schema"
BASE_NAMESPACE = "http://www.istandaarden.nl/ijw/3_2/basisschema/schema"

# message type -> BerichtCode
MESSAGE_CODES: dict[str, str] = {
    "JW315": "446",
    "JW301": "436",
    "JW305": "438",
    "JW307": "440",
    "JW323": "490",
    "JW325": "491",
}


@dataclass(frozen=True, slots=True)
class Header:
    message_type: str  # "JW301" ... (from the root namespace)
    sender: str  # an AGB code (8 digits) or a CBS municipality code (4 digits)
    receiver: str
    message_id: str
    message_date: date


@dataclass(frozen=True, slots=True)
class Client:
    """The client block of JW301/305/307/315. Names are needed by the schema, never stored."""

    bsn: str
    birth_date: date
    gender: str = "0"  # 0 unknown, 1 male, 2 female
    surname: str = "Onbekend"


@dataclass(frozen=True, slots=True)
class ReferralRequest:
    """JW315 AangevraagdProduct: a provider asks for an allocation and names the referrer."""

    client: Client
    provider_reference: str
    product_category: str | None
    product_code: str | None
    requested_start_date: date
    requested_end_date: date | None
    referrer_type: str
    volume: int | None = None
    unit: str | None = None
    frequency: str | None = None
    referrer_name: str | None = None
    referrer_agb: str | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """JW301 ToegewezenProduct: one allocation version; a later one with the same number wins."""

    client: Client
    allocation_number: str
    provider_reference: str | None
    product_category: str | None
    product_code: str | None
    allocation_date: date
    start_date: date
    end_date: date | None
    change_reason: str | None = None  # 13 = deleted
    volume: int | None = None
    unit: str | None = None
    frequency: str | None = None
    budget_cents: int | None = None
    allocation_time: str = "12:00:00"


@dataclass(frozen=True, slots=True)
class CareStart:
    """JW305 StartProduct: the provider reports the actual start of care."""

    client: Client
    allocation_number: str | None
    product_category: str | None
    product_code: str | None
    allocation_start_date: date | None
    start_date: date
    delivery_status: str = "1"  # 1 new, 3 delete earlier


@dataclass(frozen=True, slots=True)
class CareStop:
    """JW307 StopProduct: the provider reports the actual end of care."""

    client: Client
    allocation_number: str | None
    product_category: str | None
    product_code: str | None
    allocation_start_date: date | None
    start_date: date
    end_reason: str  # JZ588; 20 = temporary stop
    end_date: date
    delivery_status: str = "1"  # 1 new, 3 delete earlier


@dataclass(frozen=True, slots=True)
class Declaration:
    """JW323 Declaratie: one provider, one municipality, one calendar month."""

    declaration_number: str
    period_start: date
    period_end: date
    declaration_date: date


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """JW323 Prestatie. A credit (debit_credit C) repeats its debit with previous_reference_number."""

    bsn: str
    reference_number: str
    previous_reference_number: str | None
    allocation_number: str
    product_category: str
    product_code: str
    period_start: date
    period_end: date
    volume: int
    unit: str
    tariff_cents: int | None
    amount_cents: int  # always >= 0; the sign is in debit_credit
    debit_credit: str = "D"


@dataclass(frozen=True, slots=True)
class DeclarationAnswer:
    """JW325 DeclaratieAntwoord: totals for one JW323 and the declaration-level return codes."""

    declaration_number: str
    submitted_cents: int  # the sign in submitted_debit_credit
    submitted_debit_credit: str
    granted_cents: int
    granted_debit_credit: str
    return_codes: tuple[str, ...] = ("0200",)


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """JW325 Prestatie: a line of the JW323 that the municipality rejected, with its codes."""

    line: InvoiceLine
    return_codes: tuple[str, ...]


Record = ReferralRequest | Allocation | CareStart | CareStop | InvoiceLine | RejectedLine

# which record type each message carries
RECORD_TYPES: dict[str, type] = {
    "JW315": ReferralRequest,
    "JW301": Allocation,
    "JW305": CareStart,
    "JW307": CareStop,
    "JW323": InvoiceLine,
    "JW325": RejectedLine,
}


@dataclass(frozen=True, slots=True)
class Message:
    """One iJw file: a header, its records and (JW323/JW325) the declaration they belong to."""

    header: Header
    records: tuple[Record, ...]
    declaration: Declaration | None = None  # JW323
    answer: DeclarationAnswer | None = None  # JW325
    header_return_codes: tuple[str, ...] = field(default=("0200",))  # JW325 Header/RetourCodes


@dataclass(frozen=True, slots=True)
class ReadItem:
    """What the streaming reader yields: one record with its message context, its place in the
    message and its source line.

    `position` is the record's identity within the message: its ordinal among the message's
    records in document order (1-based), the same for every serialisation of the message
    (compact or pretty, any line ends, encoding, namespace prefixes, comments). `line` is
    diagnostic only: a compact message has every record on one line.
    """

    header: Header
    record: Record
    line: int  # line of the record's element in the file (1-based): diagnostic only
    declaration: Declaration | None = None
    answer: DeclarationAnswer | None = None
    position: int = 0  # ordinal of the record in the message (1-based)
