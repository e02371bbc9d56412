"""Writes a `Message` as iJw 3.2 XML bytes that validate against the official XSDs, fast.

The generator writes hundreds of thousands to millions of files, so the XML is built as strings
(no element tree): every value is checked against its basisschema restriction first and escaped,
so what comes out is schema-valid or the call raises `ValueError` naming the field. Same message
in, same bytes out.

Layout: UTF-8, an XML declaration, the message namespace as default namespace on `Bericht`, the
basisschema namespace under prefix `ijw`, one element per line (tab-indented) so line numbers in
reader errors point at one record.

What is written beyond the records' own fields (the XSD requires it, the records do not carry it):
- Header/XsdVersie (and JW325 XsdVersieDeclaratie): BasisschemaXsdVersie and BerichtXsdVersie
  `0.1.0`, the versions the release 3.2 XSDs declare about themselves.
- JW301/305/307/315 Client: Geboortedatum/Datum only; Naam/Geslachtsnaam/Achternaam only (JW301
  adds the required NaamGebruik `1`); JW301 a minimal Contactgegevens/Contact with Soort `01`
  (no address: synthetic data carries none).
- JW325: Header/DeclaratieIdentificatie (Identificatie = the answered DeclaratieNummer,
  Dagtekening = the JW325's own date: the records carry no JW323 message id) and, per Client, the
  required RetourCodes with `0200`.

Optional elements written when the record has a value, omitted when it is None:
- JW301 ToegewezenProduct: ReferentieAanbieder, Product (Categorie, Code), Einddatum,
  RedenWijziging, Omvang, Budget. Never: Commentaar, Client Communicatie/JuridischeStatus/
  WettelijkeVertegenwoordiging/Commentaar/Relaties.
- JW305/JW307: ToewijzingNummer, Product, ToewijzingIngangsdatum.
- JW315 AangevraagdProduct: Product, ToewijzingEinddatum, Omvang, Verwijzer/Naam,
  Verwijzer/ZorgverlenerCode. Never: BeschikkingNummer, BeschikkingIngangsdatum, Budget,
  Raamcontract, Commentaar, GezagsdragerBekend.
- JW323/JW325 Prestatie: ProductReferentie/VorigReferentieNummer, ProductTarief. JW325 XsltVersie
  is never written.

Omvang is all or nothing (the XSD needs Volume, Eenheid and Frequentie together); Product needs a
Categorie when it has a Code. JW301/305/307/315 carry exactly one Client per message (the XSD's
Client has maxOccurs 1): records of more than one client raise `ValueError`. JW323/JW325 group the
lines per BSN, clients in order of first appearance, lines in their given order.
"""

from __future__ import annotations

import re
from datetime import date

from jeugdhulp.ijw.records import (
    MESSAGE_CODES,
    RECORD_TYPES,
    Allocation,
    CareStart,
    CareStop,
    Client,
    Header,
    InvoiceLine,
    Message,
    ReferralRequest,
    RejectedLine,
)

RELEASE = "3_2"
XSD_VERSION = "0.1.0"

_NAMESPACE = "http://www.istandaarden.nl/ijw/{release}/{code}/schema"

# which header party is a municipality (4 digits) and which a provider (AGB, 8 digits)
_MUNICIPALITY_SENDS = frozenset({"JW301", "JW325"})

# basisschema enumerations the writer checks against (copied values, not text)
_PRODUCT_CATEGORIES = frozenset([str(n) for n in range(31, 39)] + [str(n) for n in range(40, 56)])
_UNITS = frozenset({"01", "04", "14", "16", "82", "83", "84"})
_FREQUENCIES = frozenset({"1", "2", "4", "6"})
_GENDERS = frozenset({"0", "1", "2"})
_CHANGE_REASONS = frozenset(f"{n:02d}" for n in range(1, 15))
_END_REASONS = frozenset({"02", "20", "31", "32", "33", "34", "35", "36", "37", "38", "39"})
_DELIVERY_STATUSES = frozenset({"1", "2", "3", "9"})
_REFERRER_TYPES = frozenset({"01", "02", "03", "04", "05", "06", "08"})
_DEBIT_CREDIT = frozenset({"D", "C"})
_RETURN_CODES = frozenset(
    "0001 0200 0233 0611 8001 8017 8021 8187 8214 8848 9019 9056 9063 9069 9071 9074 9307 9308 "
    "9319 9321 9322 9326 9332 9333 9338 9339 9340 9341 9346 9347 9349 9350 9351 9355 9357 9359 "
    "9360 9361 9365 9366 9367 9369 9373 9374 9375 9379 9384 9385 9387 9388 9389 9390 9411 9412 "
    "9413 9414 9415 S300 S329".split()
)

_AGB = re.compile(r"[0-9]{8}")
_MUNICIPALITY = re.compile(r"[0-9]{4}")
_BSN = re.compile(r"[0-9]{9}")
_NUMBER = re.compile(r"[0-9]{1,9}")  # LDT_Nummer: integer 0..999999999
_DECLARATION_NUMBER = re.compile(r"[a-zA-Z0-9]{1,12}")  # JW323 DeclaratieNummer
_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")
_RELEASE_NAME = re.compile(r"([0-9]+)_([0-9]+)")
# characters XML 1.0 cannot carry, plus CR/LF: the XSD patterns' `.` does not match line breaks
_BAD_TEXT_CHARS = re.compile("[\x00-\x08\x0a-\x1f\ud800-\udfff\ufffe\uffff]")

_AMOUNT_MAX = 99_999_999  # LDT_Bedrag, LDT_Budget, LDT_Volume
_TOTAL_MAX = 999_999_999_999  # LDT_TotaalBedrag


def write_message(message: Message, *, namespace_release: str = RELEASE) -> bytes:
    """The message as UTF-8 XML bytes.

    `namespace_release` other than "3_2" (e.g. "3_0") writes the same content in that release's
    namespaces, with BerichtVersie/BerichtSubversie to match: a deliberately wrong-version file.
    Raises ValueError when the message cannot be written schema-valid.
    """
    header = message.header
    message_type = header.message_type
    build = _BUILDERS.get(message_type)
    if build is None:
        raise ValueError(
            f"cannot write message type {message_type!r}: the writer handles {', '.join(_BUILDERS)}"
        )
    record_type = RECORD_TYPES[message_type]
    for position, record in enumerate(message.records, start=1):
        if type(record) is not record_type:
            raise ValueError(
                f"{message_type} record {position} is a {type(record).__name__}, "
                f"expected {record_type.__name__}"
            )
    release = _RELEASE_NAME.fullmatch(namespace_release)
    if release is None:
        raise ValueError(f"namespace_release must look like '3_2', got {namespace_release!r}")
    parts: list[str] = []
    _write_header(parts, header, release.group(1), release.group(2), namespace_release)
    build(parts, message)
    parts.append("</Bericht>\n")
    return "".join(parts).encode("utf-8")


def write_message_v30(message: Message) -> bytes:
    """The message in the iJw 3.0 namespaces: for testing that ingestion refuses other releases."""
    return write_message(message, namespace_release="3_0")


# --- value checks: each returns the text to put between tags, or raises ValueError ----------


def _fail(field: str, value: object, expected: str) -> ValueError:
    return ValueError(f"{field}: {value!r} is not valid ({expected})")


def _text(value: object, field: str, max_length: int) -> str:
    """Free text: 1..max_length characters, no surrounding whitespace, XML-escaped."""
    if (
        type(value) is not str
        or not 0 < len(value) <= max_length
        or value != value.strip(" \t\n\r")
        or _BAD_TEXT_CHARS.search(value)
    ):
        raise _fail(
            field,
            value,
            f"text of 1 to {max_length} characters without line breaks or "
            "leading/trailing whitespace",
        )
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def _pattern(value: object, field: str, pattern: re.Pattern[str], expected: str) -> str:
    if type(value) is not str or pattern.fullmatch(value) is None:
        raise _fail(field, value, expected)
    return value


def _code(value: object, field: str, allowed: frozenset[str]) -> str:
    if type(value) is not str or value not in allowed:
        raise _fail(field, value, f"one of {', '.join(sorted(allowed))}")
    return value  # type: ignore[return-value]


def _int(value: object, field: str, maximum: int) -> str:
    if type(value) is not int or not 0 <= value <= maximum:
        raise _fail(field, value, f"a whole number from 0 to {maximum}")
    return str(value)


def _date(value: object, field: str) -> str:
    # a datetime is a date too, but would print a time the XSD's xs:date refuses
    if type(value) is not date:
        raise _fail(field, value, "a datetime.date")
    return value.isoformat()


def _number(value: object, field: str) -> str:
    return _pattern(value, field, _NUMBER, "1 to 9 digits (LDT_Nummer)")


def _optional_text(value: str | None, field: str, max_length: int) -> str | None:
    return None if value is None else _text(value, field, max_length)


def _optional_number(value: str | None, field: str) -> str:
    if value is None:
        return ""
    return f"\t\t\t\t<ToewijzingNummer>{_number(value, field)}</ToewijzingNummer>\n"


def _return_codes(codes: tuple[str, ...], field: str, indent: str) -> str:
    if not codes:
        raise ValueError(f"{field}: at least one RetourCode is required")
    lines = "".join(
        f"{indent}\t<RetourCode>{_code(code, field, _RETURN_CODES)}</RetourCode>\n"
        for code in codes
    )
    return f"{indent}<RetourCodes>\n{lines}{indent}</RetourCodes>\n"


# --- shared blocks --------------------------------------------------------------------------


def _write_header(parts: list[str], header: Header, major: str, minor: str, release: str) -> None:
    message_type = header.message_type
    if message_type in _MUNICIPALITY_SENDS:
        sender = _pattern(header.sender, "Header.sender", _MUNICIPALITY, "a 4-digit CBS code")
        receiver = _pattern(header.receiver, "Header.receiver", _AGB, "an 8-digit AGB code")
    else:
        sender = _pattern(header.sender, "Header.sender", _AGB, "an 8-digit AGB code")
        receiver = _pattern(header.receiver, "Header.receiver", _MUNICIPALITY, "a 4-digit CBS code")
    message_id = _text(header.message_id, "Header.message_id", 12)
    message_date = _date(header.message_date, "Header.message_date")
    namespace = _NAMESPACE.format(release=release, code=message_type.lower())
    base_namespace = _NAMESPACE.format(release=release, code="basisschema")
    parts.append(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Bericht xmlns="{namespace}" xmlns:ijw="{base_namespace}">\n'
        "\t<Header>\n"
        f"\t\t<BerichtCode>{MESSAGE_CODES[message_type]}</BerichtCode>\n"
        f"\t\t<BerichtVersie>{int(major)}</BerichtVersie>\n"
        f"\t\t<BerichtSubversie>{int(minor)}</BerichtSubversie>\n"
        f"\t\t<Afzender>{sender}</Afzender>\n"
        f"\t\t<Ontvanger>{receiver}</Ontvanger>\n"
        "\t\t<BerichtIdentificatie>\n"
        f"\t\t\t<ijw:Identificatie>{message_id}</ijw:Identificatie>\n"
        f"\t\t\t<ijw:Dagtekening>{message_date}</ijw:Dagtekening>\n"
        "\t\t</BerichtIdentificatie>\n"
        f"{_XSD_VERSION}"
    )
    if message_type != "JW325":
        parts.append("\t</Header>\n")


def _xsd_version_block(tag: str) -> str:
    return (
        f"\t\t<{tag}>\n"
        f"\t\t\t<ijw:BasisschemaXsdVersie>{XSD_VERSION}</ijw:BasisschemaXsdVersie>\n"
        f"\t\t\t<ijw:BerichtXsdVersie>{XSD_VERSION}</ijw:BerichtXsdVersie>\n"
        f"\t\t</{tag}>\n"
    )


_XSD_VERSION = _xsd_version_block("XsdVersie")
_XSD_VERSION_DECLARATION = _xsd_version_block("XsdVersieDeclaratie")


def _single_client(message: Message) -> Client:
    records = message.records
    message_type = message.header.message_type
    if not records:
        raise ValueError(f"{message_type} needs at least one record (the XSD requires one product)")
    client = records[0].client  # type: ignore[union-attr]
    for record in records:
        other = record.client  # type: ignore[union-attr]
        if other is not client and other != client:
            bsns = {r.client.bsn for r in records}  # type: ignore[union-attr]
            if len(bsns) > 1:
                raise ValueError(
                    f"{message_type} carries one Client per message (Client has maxOccurs 1 in "
                    f"the XSD) but its records belong to {len(bsns)} clients: write one message "
                    "per client"
                )
            raise ValueError(
                f"{message_type} records share a BSN but disagree on the client's birth date, "
                "gender or name"
            )
    return client


def _client_start(client: Client, full_name: bool) -> str:
    bsn = _pattern(client.bsn, "Client.bsn", _BSN, "9 digits")
    birth_date = _date(client.birth_date, "Client.birth_date")
    gender = _code(client.gender, "Client.gender", _GENDERS)
    surname = _text(client.surname, "Client.surname", 200)
    naam_gebruik = "\t\t\t<ijw:NaamGebruik>1</ijw:NaamGebruik>\n" if full_name else ""
    return (
        "\t<Client>\n"
        f"\t\t<Bsn>{bsn}</Bsn>\n"
        "\t\t<Geboortedatum>\n"
        f"\t\t\t<ijw:Datum>{birth_date}</ijw:Datum>\n"
        "\t\t</Geboortedatum>\n"
        f"\t\t<Geslacht>{gender}</Geslacht>\n"
        "\t\t<Naam>\n"
        "\t\t\t<ijw:Geslachtsnaam>\n"
        f"\t\t\t\t<ijw:Achternaam>{surname}</ijw:Achternaam>\n"
        "\t\t\t</ijw:Geslachtsnaam>\n"
        f"{naam_gebruik}"
        "\t\t</Naam>\n"
    )


def _product(category: str | None, code: str | None, kind: str) -> str:
    if category is None:
        if code is not None:
            raise ValueError(f"{kind}.product_code {code!r} given without product_category")
        return ""
    category = _code(category, f"{kind}.product_category", _PRODUCT_CATEGORIES)
    code_line = (
        ""
        if code is None
        else f"\t\t\t\t\t<ijw:Code>{_text(code, f'{kind}.product_code', 5)}</ijw:Code>\n"
    )
    return (
        "\t\t\t\t<Product>\n"
        f"\t\t\t\t\t<ijw:Categorie>{category}</ijw:Categorie>\n"
        f"{code_line}"
        "\t\t\t\t</Product>\n"
    )


def _omvang(volume: int | None, unit: str | None, frequency: str | None, kind: str) -> str:
    if volume is None and unit is None and frequency is None:
        return ""
    if volume is None or unit is None or frequency is None:
        raise ValueError(
            f"{kind}: volume, unit and frequency go together (Omvang needs all three), got "
            f"volume={volume!r}, unit={unit!r}, frequency={frequency!r}"
        )
    volume_text = _int(volume, f"{kind}.volume", _AMOUNT_MAX)
    unit = _code(unit, f"{kind}.unit", _UNITS)
    frequency = _code(frequency, f"{kind}.frequency", _FREQUENCIES)
    return (
        "\t\t\t\t<Omvang>\n"
        f"\t\t\t\t\t<ijw:Volume>{volume_text}</ijw:Volume>\n"
        f"\t\t\t\t\t<ijw:Eenheid>{unit}</ijw:Eenheid>\n"
        f"\t\t\t\t\t<ijw:Frequentie>{frequency}</ijw:Frequentie>\n"
        "\t\t\t\t</Omvang>\n"
    )


def _optional_date(value: date | None, tag: str, field: str) -> str:
    return "" if value is None else f"\t\t\t\t<{tag}>{_date(value, field)}</{tag}>\n"


# --- JW301 / JW305 / JW307 / JW315 ------------------------------------------------------------


def _build_jw301(parts: list[str], message: Message) -> None:
    parts.append(_client_start(_single_client(message), full_name=True))
    parts.append(
        "\t\t<Contactgegevens>\n"
        "\t\t\t<Contact>\n"
        "\t\t\t\t<Soort>01</Soort>\n"
        "\t\t\t</Contact>\n"
        "\t\t</Contactgegevens>\n"
        "\t\t<ToegewezenProducten>\n"
    )
    for record in message.records:
        parts.append(_allocation(record))  # type: ignore[arg-type]
    parts.append("\t\t</ToegewezenProducten>\n\t</Client>\n")


def _allocation(record: Allocation) -> str:
    kind = "Allocation"
    number = _number(record.allocation_number, "Allocation.allocation_number")
    reference = _optional_text(record.provider_reference, "Allocation.provider_reference", 36)
    allocated = _date(record.allocation_date, "Allocation.allocation_date")
    time = _pattern(record.allocation_time, "Allocation.allocation_time", _TIME, "HH:MM:SS")
    start = _date(record.start_date, "Allocation.start_date")
    reason = record.change_reason
    if reason is not None:
        reason = _code(reason, "Allocation.change_reason", _CHANGE_REASONS)
    budget = record.budget_cents
    i = "\t\t\t\t"
    return (
        "\t\t\t<ToegewezenProduct>\n"
        f"{i}<ToewijzingNummer>{number}</ToewijzingNummer>\n"
        + (
            ""
            if reference is None
            else f"{i}<ReferentieAanbieder>{reference}</ReferentieAanbieder>\n"
        )
        + _product(record.product_category, record.product_code, kind)
        + f"{i}<Toewijzingsdatum>{allocated}</Toewijzingsdatum>\n"
        f"{i}<Toewijzingstijd>{time}</Toewijzingstijd>\n"
        f"{i}<Ingangsdatum>{start}</Ingangsdatum>\n"
        + _optional_date(record.end_date, "Einddatum", "Allocation.end_date")
        + ("" if reason is None else f"{i}<RedenWijziging>{reason}</RedenWijziging>\n")
        + _omvang(record.volume, record.unit, record.frequency, kind)
        + (
            ""
            if budget is None
            else f"{i}<Budget>{_int(budget, 'Allocation.budget_cents', _AMOUNT_MAX)}</Budget>\n"
        )
        + "\t\t\t</ToegewezenProduct>\n"
    )


def _build_jw305(parts: list[str], message: Message) -> None:
    parts.append(_client_start(_single_client(message), full_name=False))
    parts.append("\t\t<StartProducten>\n")
    for record in message.records:
        parts.append(_care_start(record))  # type: ignore[arg-type]
    parts.append("\t\t</StartProducten>\n\t</Client>\n")


def _care_start(record: CareStart) -> str:
    kind = "CareStart"
    start = _date(record.start_date, "CareStart.start_date")
    status = _code(record.delivery_status, "CareStart.delivery_status", _DELIVERY_STATUSES)
    i = "\t\t\t\t"
    return (
        "\t\t\t<StartProduct>\n"
        + _optional_number(record.allocation_number, "CareStart.allocation_number")
        + _product(record.product_category, record.product_code, kind)
        + _optional_date(
            record.allocation_start_date,
            "ToewijzingIngangsdatum",
            "CareStart.allocation_start_date",
        )
        + f"{i}<Begindatum>{start}</Begindatum>\n"
        f"{i}<StatusAanlevering>{status}</StatusAanlevering>\n"
        "\t\t\t</StartProduct>\n"
    )


def _build_jw307(parts: list[str], message: Message) -> None:
    parts.append(_client_start(_single_client(message), full_name=False))
    parts.append("\t\t<StopProducten>\n")
    for record in message.records:
        parts.append(_care_stop(record))  # type: ignore[arg-type]
    parts.append("\t\t</StopProducten>\n\t</Client>\n")


def _care_stop(record: CareStop) -> str:
    kind = "CareStop"
    start = _date(record.start_date, "CareStop.start_date")
    reason = _code(record.end_reason, "CareStop.end_reason", _END_REASONS)
    end = _date(record.end_date, "CareStop.end_date")
    status = _code(record.delivery_status, "CareStop.delivery_status", _DELIVERY_STATUSES)
    i = "\t\t\t\t"
    return (
        "\t\t\t<StopProduct>\n"
        + _optional_number(record.allocation_number, "CareStop.allocation_number")
        + _product(record.product_category, record.product_code, kind)
        + _optional_date(
            record.allocation_start_date, "ToewijzingIngangsdatum", "CareStop.allocation_start_date"
        )
        + f"{i}<Begindatum>{start}</Begindatum>\n"
        f"{i}<RedenBeeindiging>{reason}</RedenBeeindiging>\n"
        f"{i}<Einddatum>{end}</Einddatum>\n"
        f"{i}<StatusAanlevering>{status}</StatusAanlevering>\n"
        "\t\t\t</StopProduct>\n"
    )


def _build_jw315(parts: list[str], message: Message) -> None:
    parts.append(_client_start(_single_client(message), full_name=False))
    parts.append("\t\t<AangevraagdeProducten>\n")
    for record in message.records:
        parts.append(_referral_request(record))  # type: ignore[arg-type]
    parts.append("\t\t</AangevraagdeProducten>\n\t</Client>\n")


def _referral_request(record: ReferralRequest) -> str:
    kind = "ReferralRequest"
    reference = _text(record.provider_reference, "ReferralRequest.provider_reference", 36)
    start = _date(record.requested_start_date, "ReferralRequest.requested_start_date")
    referrer = _code(record.referrer_type, "ReferralRequest.referrer_type", _REFERRER_TYPES)
    name = _optional_text(record.referrer_name, "ReferralRequest.referrer_name", 64)
    agb = record.referrer_agb
    if agb is not None:
        agb = _pattern(agb, "ReferralRequest.referrer_agb", _AGB, "an 8-digit AGB code")
    i = "\t\t\t\t"
    return (
        "\t\t\t<AangevraagdProduct>\n"
        f"{i}<ReferentieAanbieder>{reference}</ReferentieAanbieder>\n"
        + _product(record.product_category, record.product_code, kind)
        + f"{i}<ToewijzingIngangsdatum>{start}</ToewijzingIngangsdatum>\n"
        + _optional_date(
            record.requested_end_date, "ToewijzingEinddatum", "ReferralRequest.requested_end_date"
        )
        + _omvang(record.volume, record.unit, record.frequency, kind)
        + f"{i}<Verwijzer>\n"
        f"{i}\t<ijw:Type>{referrer}</ijw:Type>\n"
        + ("" if name is None else f"{i}\t<ijw:Naam>{name}</ijw:Naam>\n")
        + ("" if agb is None else f"{i}\t<ijw:ZorgverlenerCode>{agb}</ijw:ZorgverlenerCode>\n")
        + f"{i}</Verwijzer>\n"
        "\t\t\t</AangevraagdProduct>\n"
    )


# --- JW323 / JW325 ----------------------------------------------------------------------------


def _signed_total(lines: list[InvoiceLine] | tuple[InvoiceLine, ...]) -> tuple[int, str]:
    total = 0
    for line in lines:
        total += -line.amount_cents if line.debit_credit == "C" else line.amount_cents
    return (total, "D") if total >= 0 else (-total, "C")


def _total_block(tag: str, cents: int, debit_credit: str, field: str) -> str:
    amount = _int(cents, field, _TOTAL_MAX)
    sign = _code(debit_credit, f"{field} debit/credit", _DEBIT_CREDIT)
    return (
        f"\t\t<{tag}>\n"
        f"\t\t\t<ijw:TotaalBedrag>{amount}</ijw:TotaalBedrag>\n"
        f"\t\t\t<ijw:DebetCredit>{sign}</ijw:DebetCredit>\n"
        f"\t\t</{tag}>\n"
    )


def _prestatie(line: InvoiceLine, return_codes: tuple[str, ...] | None) -> str:
    reference = _text(line.reference_number, "InvoiceLine.reference_number", 20)
    previous = _optional_text(
        line.previous_reference_number, "InvoiceLine.previous_reference_number", 20
    )
    number = _number(line.allocation_number, "InvoiceLine.allocation_number")
    category = _code(line.product_category, "InvoiceLine.product_category", _PRODUCT_CATEGORIES)
    code = _text(line.product_code, "InvoiceLine.product_code", 5)
    start = _date(line.period_start, "InvoiceLine.period_start")
    end = _date(line.period_end, "InvoiceLine.period_end")
    volume = _int(line.volume, "InvoiceLine.volume", _AMOUNT_MAX)
    unit = _code(line.unit, "InvoiceLine.unit", _UNITS)
    tariff = line.tariff_cents
    amount = _int(line.amount_cents, "InvoiceLine.amount_cents", _AMOUNT_MAX)
    sign = _code(line.debit_credit, "InvoiceLine.debit_credit", _DEBIT_CREDIT)
    i = "\t\t\t\t\t\t"
    codes = (
        "" if return_codes is None else _return_codes(return_codes, "RejectedLine.return_codes", i)
    )
    return (
        "\t\t\t\t\t<Prestatie>\n"
        f"{i}<ProductReferentie>\n"
        f"{i}\t<ijw:ReferentieNummer>{reference}</ijw:ReferentieNummer>\n"
        + (
            ""
            if previous is None
            else f"{i}\t<ijw:VorigReferentieNummer>{previous}</ijw:VorigReferentieNummer>\n"
        )
        + f"{i}</ProductReferentie>\n"
        f"{i}<ToewijzingNummer>{number}</ToewijzingNummer>\n"
        f"{i}<ProductCategorie>{category}</ProductCategorie>\n"
        f"{i}<ProductCode>{code}</ProductCode>\n"
        f"{i}<ProductPeriode>\n"
        f"{i}\t<ijw:Begindatum>{start}</ijw:Begindatum>\n"
        f"{i}\t<ijw:Einddatum>{end}</ijw:Einddatum>\n"
        f"{i}</ProductPeriode>\n"
        f"{i}<GeleverdVolume>{volume}</GeleverdVolume>\n"
        f"{i}<Eenheid>{unit}</Eenheid>\n"
        + (
            ""
            if tariff is None
            else f"{i}<ProductTarief>{_int(tariff, 'InvoiceLine.tariff_cents', _AMOUNT_MAX)}</ProductTarief>\n"
        )
        + f"{i}<IngediendBedrag>\n"
        f"{i}\t<ijw:Bedrag>{amount}</ijw:Bedrag>\n"
        f"{i}\t<ijw:DebetCredit>{sign}</ijw:DebetCredit>\n"
        f"{i}</IngediendBedrag>\n"
        f"{codes}"
        "\t\t\t\t\t</Prestatie>\n"
    )


def _clients_block(
    parts: list[str], lines: list[tuple[InvoiceLine, tuple[str, ...] | None]], client_codes: bool
) -> None:
    by_bsn: dict[str, list[str]] = {}
    for line, codes in lines:
        chunks = by_bsn.get(line.bsn)
        if chunks is None:
            chunks = by_bsn[line.bsn] = []
        chunks.append(_prestatie(line, codes))
    client_end = (
        "\t\t\t\t<RetourCodes>\n\t\t\t\t\t<RetourCode>0200</RetourCode>\n\t\t\t\t</RetourCodes>\n"
        if client_codes
        else ""
    )
    parts.append("\t\t<Clienten>\n")
    for bsn, chunks in by_bsn.items():
        parts.append(
            "\t\t\t<Client>\n"
            f"\t\t\t\t<Bsn>{_pattern(bsn, 'InvoiceLine.bsn', _BSN, '9 digits')}</Bsn>\n"
            "\t\t\t\t<Prestaties>\n"
        )
        parts.extend(chunks)
        parts.append(f"\t\t\t\t</Prestaties>\n{client_end}\t\t\t</Client>\n")
    parts.append("\t\t</Clienten>\n")


def _build_jw323(parts: list[str], message: Message) -> None:
    declaration = message.declaration
    if declaration is None:
        raise ValueError("JW323 needs message.declaration (DeclaratieNummer, period, date)")
    lines: tuple[InvoiceLine, ...] = message.records  # type: ignore[assignment]
    if not lines:
        raise ValueError("JW323 needs at least one InvoiceLine (the XSD requires one Prestatie)")
    clients: list[str] = []
    _clients_block(clients, [(line, None) for line in lines], client_codes=False)
    total, sign = _signed_total(lines)  # after the lines passed their checks
    number = _pattern(
        declaration.declaration_number,
        "Declaration.declaration_number",
        _DECLARATION_NUMBER,
        "1 to 12 letters or digits",
    )
    start = _date(declaration.period_start, "Declaration.period_start")
    end = _date(declaration.period_end, "Declaration.period_end")
    signed = _date(declaration.declaration_date, "Declaration.declaration_date")
    parts.append(
        "\t<Declaratie>\n"
        f"\t\t<DeclaratieNummer>{number}</DeclaratieNummer>\n"
        "\t\t<DeclaratiePeriode>\n"
        f"\t\t\t<ijw:Begindatum>{start}</ijw:Begindatum>\n"
        f"\t\t\t<ijw:Einddatum>{end}</ijw:Einddatum>\n"
        "\t\t</DeclaratiePeriode>\n"
        f"\t\t<DeclaratieDagtekening>{signed}</DeclaratieDagtekening>\n"
        + _total_block("TotaalIngediendBedrag", total, sign, "TotaalIngediendBedrag")
    )
    parts.extend(clients)
    parts.append("\t</Declaratie>\n")


def _build_jw325(parts: list[str], message: Message) -> None:
    answer = message.answer
    if answer is None:
        raise ValueError("JW325 needs message.answer (the DeclaratieAntwoord totals and codes)")
    number = _text(answer.declaration_number, "DeclarationAnswer.declaration_number", 12)
    parts.append(
        "\t\t<DeclaratieIdentificatie>\n"
        f"\t\t\t<ijw:Identificatie>{number}</ijw:Identificatie>\n"
        f"\t\t\t<ijw:Dagtekening>{message.header.message_date.isoformat()}</ijw:Dagtekening>\n"
        "\t\t</DeclaratieIdentificatie>\n"
        f"{_XSD_VERSION_DECLARATION}"
        + _return_codes(message.header_return_codes, "Message.header_return_codes", "\t\t")
        + "\t</Header>\n"
        "\t<DeclaratieAntwoord>\n"
        f"\t\t<DeclaratieNummer>{number}</DeclaratieNummer>\n"
        + _total_block(
            "TotaalIngediendBedrag",
            answer.submitted_cents,
            answer.submitted_debit_credit,
            "DeclarationAnswer.submitted_cents",
        )
        + _total_block(
            "TotaalToegekendBedrag",
            answer.granted_cents,
            answer.granted_debit_credit,
            "DeclarationAnswer.granted_cents",
        )
    )
    rejected: tuple[RejectedLine, ...] = message.records  # type: ignore[assignment]
    for position, record in enumerate(rejected, start=1):
        if type(record.line) is not InvoiceLine:
            raise ValueError(f"JW325 record {position}: RejectedLine.line must be an InvoiceLine")
    if rejected:
        _clients_block(parts, [(r.line, r.return_codes) for r in rejected], client_codes=True)
    parts.append(
        _return_codes(answer.return_codes, "DeclarationAnswer.return_codes", "\t\t")
        + "\t</DeclaratieAntwoord>\n"
    )


_BUILDERS = {
    "JW315": _build_jw315,
    "JW301": _build_jw301,
    "JW305": _build_jw305,
    "JW307": _build_jw307,
    "JW323": _build_jw323,
    "JW325": _build_jw325,
}
