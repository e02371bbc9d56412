"""Typed records for the iJw 3.2 messages the pipeline reads and the generator writes.

A message is a `Header` plus flat records, one per repeated product element (ToegewezenProduct,
StartProduct, StopProduct, AangevraagdProduct, Prestatie). The writer groups records by client
again; the reader yields them one at a time with the header and the line they came from. Field
names are English; the iJw element each one maps to is named in the comment beside it.

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
    sender: str  # Afzender: AGB code (8 digits) or CBS municipality code (4 digits)
    receiver: str  # Ontvanger
    message_id: str  # BerichtIdentificatie/Identificatie
    message_date: date  # BerichtIdentificatie/Dagtekening


@dataclass(frozen=True, slots=True)
class Client:
    """The client block of JW301/305/307/315. Names are needed by the schema, never stored."""

    bsn: str  # Bsn
    birth_date: date  # Geboortedatum/Datum
    gender: str = "0"  # Geslacht: 0 unknown, 1 male, 2 female
    surname: str = "Onbekend"  # Naam/Geslachtsnaam/Achternaam


@dataclass(frozen=True, slots=True)
class ReferralRequest:
    """JW315 AangevraagdProduct: a provider asks for an allocation and names the referrer."""

    client: Client
    provider_reference: str  # ReferentieAanbieder
    product_category: str | None  # Product/Categorie
    product_code: str | None  # Product/Code
    requested_start_date: date  # ToewijzingIngangsdatum
    requested_end_date: date | None  # ToewijzingEinddatum
    referrer_type: str  # Verwijzer/Type (COD327)
    volume: int | None = None  # Omvang/Volume
    unit: str | None = None  # Omvang/Eenheid
    frequency: str | None = None  # Omvang/Frequentie
    referrer_name: str | None = None  # Verwijzer/Naam
    referrer_agb: str | None = None  # Verwijzer/ZorgverlenerCode


@dataclass(frozen=True, slots=True)
class Allocation:
    """JW301 ToegewezenProduct: one allocation version; a later one with the same number wins."""

    client: Client
    allocation_number: str  # ToewijzingNummer
    provider_reference: str | None  # ReferentieAanbieder
    product_category: str | None  # Product/Categorie
    product_code: str | None  # Product/Code
    allocation_date: date  # Toewijzingsdatum
    start_date: date  # Ingangsdatum
    end_date: date | None  # Einddatum
    change_reason: str | None = None  # RedenWijziging (13 = deleted)
    volume: int | None = None  # Omvang/Volume
    unit: str | None = None  # Omvang/Eenheid
    frequency: str | None = None  # Omvang/Frequentie
    budget_cents: int | None = None  # Budget
    allocation_time: str = "12:00:00"  # Toewijzingstijd


@dataclass(frozen=True, slots=True)
class CareStart:
    """JW305 StartProduct: the provider reports the actual start of care."""

    client: Client
    allocation_number: str | None  # ToewijzingNummer
    product_category: str | None  # Product/Categorie
    product_code: str | None  # Product/Code
    allocation_start_date: date | None  # ToewijzingIngangsdatum
    start_date: date  # Begindatum
    delivery_status: str = "1"  # StatusAanlevering: 1 new, 3 delete earlier


@dataclass(frozen=True, slots=True)
class CareStop:
    """JW307 StopProduct: the provider reports the actual end of care."""

    client: Client
    allocation_number: str | None  # ToewijzingNummer
    product_category: str | None  # Product/Categorie
    product_code: str | None  # Product/Code
    allocation_start_date: date | None  # ToewijzingIngangsdatum
    start_date: date  # Begindatum
    end_reason: str  # RedenBeeindiging (JZ588; 20 = temporary stop)
    end_date: date  # Einddatum
    delivery_status: str = "1"  # StatusAanlevering


@dataclass(frozen=True, slots=True)
class Declaration:
    """JW323 Declaratie: one provider, one municipality, one calendar month."""

    declaration_number: str  # DeclaratieNummer
    period_start: date  # DeclaratiePeriode/Begindatum
    period_end: date  # DeclaratiePeriode/Einddatum
    declaration_date: date  # DeclaratieDagtekening


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """JW323 Prestatie. A credit (debit_credit C) repeats its debit with previous_reference_number."""

    bsn: str  # Client/Bsn
    reference_number: str  # ProductReferentie/ReferentieNummer
    previous_reference_number: str | None  # ProductReferentie/VorigReferentieNummer
    allocation_number: str  # ToewijzingNummer
    product_category: str  # ProductCategorie
    product_code: str  # ProductCode
    period_start: date  # ProductPeriode/Begindatum
    period_end: date  # ProductPeriode/Einddatum
    volume: int  # GeleverdVolume
    unit: str  # Eenheid
    tariff_cents: int | None  # ProductTarief
    amount_cents: int  # IngediendBedrag/Bedrag (always >= 0)
    debit_credit: str = "D"  # IngediendBedrag/DebetCredit


@dataclass(frozen=True, slots=True)
class DeclarationAnswer:
    """JW325 DeclaratieAntwoord: totals for one JW323 and the declaration-level return codes."""

    declaration_number: str  # DeclaratieNummer
    submitted_cents: int  # TotaalIngediendBedrag/TotaalBedrag (sign in submitted_debit_credit)
    submitted_debit_credit: str
    granted_cents: int  # TotaalToegekendBedrag/TotaalBedrag
    granted_debit_credit: str
    return_codes: tuple[str, ...] = ("0200",)  # RetourCodes/RetourCode


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """JW325 Prestatie: a line of the JW323 that the municipality rejected, with its codes."""

    line: InvoiceLine
    return_codes: tuple[str, ...]  # RetourCodes/RetourCode


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
