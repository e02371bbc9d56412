"""Streams iJw 3.2 messages from XML files into typed records, safely and in flat memory.

`read_messages` yields one `ReadItem` per product record (ToegewezenProduct, StartProduct,
StopProduct, AangevraagdProduct, Prestatie) with the message header, the JW323 declaration or
JW325 answer, and the line of the record's start tag. It parses with `lxml.etree.iterparse`,
clearing every record once read, so a file with a million lines costs little memory.

Safety: a file with a DOCTYPE is refused (`ForbiddenDtdError`) before any record is read; entities
are never expanded, nothing is fetched (no network, a resolver that refuses every URL), and
libxml2's size limits stay on (no huge_tree).

What is checked: well-formedness, that the root is an iJw 3.2 message we read (from its namespace),
that BerichtCode/BerichtVersie/BerichtSubversie agree with it, that every element the XSD requires
and a record field maps to is present and non-empty, that dates are real `YYYY-MM-DD` dates
(2027-06-31 is refused), integers are digits, and DebetCredit is D or C. Not checked: code lists,
lengths, the BSN's 11-proef and any business rule; ingestion and the warehouse tests do that.
Values are returned as text with surrounding whitespace removed; an empty optional element is None.

Errors are `IjwReadError`s (see `errors.py`). One may surface after items were already yielded
(e.g. a bad date in the 500th line), so consume the whole iterator before committing a file.
JW325 items are held back until the end of DeclaratieAntwoord, because its RetourCodes follow the
lines; a JW325 answer is small (rejected lines only).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from orchestration.core.ijw.errors import (
    ForbiddenDtdError,
    InvalidMessageError,
    MalformedXmlError,
    UnknownMessageError,
    WrongVersionError,
)
from orchestration.core.ijw.records import (
    MESSAGE_CODES,
    Allocation,
    CareStart,
    CareStop,
    Client,
    Declaration,
    DeclarationAnswer,
    Header,
    InvoiceLine,
    ReadItem,
    Record,
    ReferralRequest,
    RejectedLine,
)

Source = str | os.PathLike[str] | BinaryIO

_NAMESPACE = re.compile(r"http://www\.istandaarden\.nl/(i[a-z]+)/([0-9]+)_([0-9]+)/([a-z0-9]+)/schema")
_EXPECTED_RELEASE = ("3", "2")
_BASE = "{http://www.istandaarden.nl/ijw/3_2/basisschema/schema}"
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DIGITS = re.compile(r"[0-9]{1,18}")  # fits the warehouse's BIGINT; iJw needs at most 12
# the same few hundred dates recur on every line of a file: parse each text once
_DATES: dict[str, date] = {}
_DATE_CACHE_SIZE = 20_000

# per message type: the repeated record element and the containers above it, root first
_RECORD_PATHS: dict[str, tuple[str, ...]] = {
    "JW315": ("Client", "AangevraagdeProducten", "AangevraagdProduct"),
    "JW301": ("Client", "ToegewezenProducten", "ToegewezenProduct"),
    "JW305": ("Client", "StartProducten", "StartProduct"),
    "JW307": ("Client", "StopProducten", "StopProduct"),
    "JW323": ("Declaratie", "Clienten", "Client", "Prestaties", "Prestatie"),
    "JW325": ("DeclaratieAntwoord", "Clienten", "Client", "Prestaties", "Prestatie"),
}


def read_messages(source: Source) -> Iterator[ReadItem]:
    """One ReadItem per record of the iJw 3.2 message in `source` (a path or a binary stream)."""
    with _opened(source) as stream:
        yield from _MessageReader(stream).items()


def sniff_message_type(source: Source) -> str:
    """The message type ("JW323", ...) from the root element alone; raises like `read_messages`."""
    with _opened(source) as stream:
        recorder = _PrologRecorder(stream)
        try:
            for _event, element in _iterparse(recorder, events=("start",)):
                return _message_type(element)
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error, recorder, reached_root=False) from None
    raise MalformedXmlError("not well-formed XML: the file has no root element")


# --- opening and guarding the parse -----------------------------------------------------------


@contextmanager
def _opened(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, (str, os.PathLike)):
        with open(Path(source), "rb") as stream:
            yield stream
    else:
        yield source


class _PrologRecorder:
    """Passes reads through to lxml and keeps the first bytes, to recognise a DOCTYPE after a
    parser error that happened before the root element was reached."""

    __slots__ = ("stream", "head")
    _KEEP = 65536

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.head = b""

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if len(self.head) < self._KEEP:
            self.head += data[: self._KEEP - len(self.head)]
        return data


class _RefuseEverything(etree.Resolver):
    """Belt and braces: even if libxml2 asked, no DTD or entity would ever be loaded."""

    def resolve(self, system_url, public_id, context):  # noqa: ANN001, ANN201
        raise ForbiddenDtdError(f"refused to load external resource {system_url!r}")


def _iterparse(stream: BinaryIO, events: tuple[str, ...]) -> etree.iterparse:
    etree.clear_error_log()  # lxml's per-thread log keeps earlier files' errors otherwise
    context = etree.iterparse(
        stream,
        events=events,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    context.resolvers.add(_RefuseEverything())
    return context


def _syntax_error(
    error: etree.XMLSyntaxError, recorder: _PrologRecorder, reached_root: bool
) -> MalformedXmlError | ForbiddenDtdError:
    line, column = error.position if error.position else (None, None)
    detail = (error.msg or str(error)).strip()
    # with entity resolution off, lxml's own message can be a bare "no element found" at 0:0;
    # libxml2's error in the log (cleared when the parse started) says what and where
    logged = [e for e in error.error_log if e.level >= etree.ErrorLevels.ERROR and e.line]
    if logged:
        line, column, detail = logged[-1].line, logged[-1].column, logged[-1].message.strip()
    if not line:
        line = column = None
    if not recorder.head.strip():
        return MalformedXmlError("not well-formed XML: the file is empty")
    if not reached_root and b"<!DOCTYPE" in recorder.head:
        # e.g. an entity bomb in an attribute of the root: libxml2 stops it before the root's
        # start event, where the DOCTYPE check would have refused the file anyway
        return ForbiddenDtdError(
            "the file has a DOCTYPE declaration; DTDs and entities are refused for safety "
            f"(the parser stopped at line {line}: {detail})",
            line=line,
        )
    where = f" at line {line}, column {column}" if line else ""
    return MalformedXmlError(f"not well-formed XML{where}: {detail}", line=line, column=column)


def _message_type(element: etree._Element) -> str:
    """Refuse a DOCTYPE, then map the root's namespace to a message type we read."""
    root_tree = element.getroottree()
    docinfo = root_tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ForbiddenDtdError(
            "the file has a DOCTYPE declaration; iJw messages never carry one and DTDs/entities "
            "are refused for safety"
        )
    root = root_tree.getroot()
    qname = etree.QName(root)
    namespace, local = qname.namespace, qname.localname
    line = root.sourceline
    if namespace is None:
        raise UnknownMessageError(
            f"root element <{local}> has no namespace: not an iJw message", line=line
        )
    match = _NAMESPACE.fullmatch(namespace)
    if match is None:
        raise UnknownMessageError(
            f"root element <{local}> is in namespace {namespace!r}: not an iJw message", line=line
        )
    standard, major, minor, code = match.groups()
    if standard != "ijw":
        raise UnknownMessageError(
            f"root namespace {namespace!r} is an {standard} message, not iJw (Jeugdwet)", line=line
        )
    if (major, minor) != _EXPECTED_RELEASE:
        raise WrongVersionError(
            f"iJw release {major}.{minor} found (root namespace {namespace!r}); this pipeline "
            f"reads iJw release 3.2 only",
            release=f"{major}.{minor}",
            line=line,
        )
    message_type = code.upper()
    if message_type not in MESSAGE_CODES:
        raise UnknownMessageError(
            f"{message_type} (root namespace {namespace!r}) is an iJw 3.2 message this pipeline "
            f"does not read; it reads {', '.join(sorted(MESSAGE_CODES))}",
            line=line,
        )
    if local != "Bericht":
        raise UnknownMessageError(
            f"root element is <{local}>, an iJw {message_type} message has root <Bericht>", line=line
        )
    return message_type


# --- field access with precise errors ---------------------------------------------------------


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


class _Fields:
    """Elements by tag with typed getters whose errors name the element's path and line.

    Built from one element's children (`of_children`), or from everything inside one record as
    the parser passed it: inside a record every element name occurs once (RetourCode aside), so
    nested fields are found by tag and `under` only names their parent in messages.
    """

    __slots__ = ("elements", "path", "line")

    def __init__(self, elements: dict[str, etree._Element], path: str, line: int | None) -> None:
        self.elements = elements
        self.path = path
        self.line = line

    @classmethod
    def of_children(cls, element: etree._Element, path: str) -> _Fields:
        return cls({child.tag: child for child in element}, path, element.sourceline)

    def has(self, tag: str) -> bool:
        return tag in self.elements

    def group(self, tag: str) -> _Fields:
        child = self.elements.get(tag)
        if child is None:
            raise self.missing(tag, "", "is missing")
        return _Fields.of_children(child, f"{self.path}/{_local(tag)}")

    def text(self, tag: str, under: str = "") -> str:
        value = self.optional_text(tag, under)
        if value is None:
            absent = tag not in self.elements
            raise self.missing(tag, under, "is missing" if absent else "is empty")
        return value

    def optional_text(self, tag: str, under: str = "") -> str | None:
        element = self.elements.get(tag)
        text = None if element is None else element.text
        return (text.strip() or None) if text is not None else None

    def date(self, tag: str, under: str = "") -> date:
        return self._date(tag, under, self.text(tag, under))

    def optional_date(self, tag: str, under: str = "") -> date | None:
        value = self.optional_text(tag, under)
        return None if value is None else self._date(tag, under, value)

    def integer(self, tag: str, under: str = "") -> int:
        return self._integer(tag, under, self.text(tag, under))

    def optional_integer(self, tag: str, under: str = "") -> int | None:
        value = self.optional_text(tag, under)
        return None if value is None else self._integer(tag, under, value)

    def _date(self, tag: str, under: str, value: str) -> date:
        known = _DATES.get(value)
        if known is not None:
            return known
        match = _DATE.fullmatch(value)
        problem = "is not a date in YYYY-MM-DD form"
        if match is not None:
            try:
                parsed = date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError as error:
                problem = f"is not a real date ({error})"
            else:
                if len(_DATES) >= _DATE_CACHE_SIZE:
                    _DATES.clear()
                _DATES[value] = parsed
                return parsed
        raise self._bad(tag, under, value, problem, "invalid_date")

    def _integer(self, tag: str, under: str, value: str) -> int:
        if _DIGITS.fullmatch(value) is None:
            raise self._bad(
                tag, under, value, "is not a whole non-negative number (at most 18 digits)",
                "invalid_number",
            )
        return int(value)

    def debit_credit(self, tag: str, under: str = "") -> str:
        value = self.text(tag, under)
        if value != "D" and value != "C":
            raise self._bad(tag, under, value, "is not D (debit) or C (credit)", "invalid_code")
        return value

    def missing(self, tag: str, under: str, what: str) -> InvalidMessageError:
        path = f"{self.path}/{under}{_local(tag)}"
        return InvalidMessageError(
            f"required element {path} {what} (in the element starting at line {self.line})",
            reason="missing_element",
            path=path,
            line=self.line,
        )

    def _bad(
        self, tag: str, under: str, value: str, problem: str, reason: str
    ) -> InvalidMessageError:
        path = f"{self.path}/{under}{_local(tag)}"
        line = self.elements[tag].sourceline
        return InvalidMessageError(
            f"{path} at line {line}: {value!r} {problem}", reason=reason, path=path, line=line
        )


# --- the streaming reader -----------------------------------------------------------------------


class _MessageReader:
    """One pass over one file: the header first, then each record as its end tag arrives."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.message_type = ""
        self.m = ""  # "{namespace}" of the message's own elements
        self.record_path = ""
        self.header: Header | None = None
        self.declaration: Declaration | None = None
        self.parent: etree._Element | None = None  # the container of the last record read
        self.client: Client | None = None
        self.bsn_element: etree._Element | None = None
        self.count = 0

    def items(self) -> Iterator[ReadItem]:
        recorder = _PrologRecorder(self.stream)
        context = _iterparse(recorder, events=("start", "end"))
        try:
            yield from self._walk(context)
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error, recorder, reached_root=bool(self.message_type)) from None

    def _walk(self, context: etree.iterparse) -> Iterator[ReadItem]:
        events = iter(context)
        for _event, root in events:
            self._start(_message_type(root))
            break
        else:
            raise MalformedXmlError("not well-formed XML: the file has no root element")
        m = self.m
        invoice = self.message_type in ("JW323", "JW325")
        answer = self.message_type == "JW325"
        record_tag = m + _RECORD_PATHS[self.message_type][-1]
        header_tag = m + "Header"
        bsn_tag = m + "Bsn" if invoice else None
        client_tag = m + "Client" if invoice else None
        answer_tag = m + "DeclaratieAntwoord" if answer else None
        code_tag = m + "RetourCode" if answer else None
        scope: dict[str, etree._Element] | None = None  # everything inside the current record
        codes: list[etree._Element] = []
        pending: list[tuple[RejectedLine, int]] = []  # JW325 lines wait for the answer's codes

        for event, element in events:
            if scope is not None:
                if event == "start":
                    continue
                tag = element.tag
                if tag == record_tag:
                    record = self._record(element, scope, codes)
                    line = element.sourceline
                    scope = None
                    codes = []
                    _release(element)
                    self.count += 1
                    if answer:
                        pending.append((record, line))
                    else:
                        yield ReadItem(self.header, record, line, declaration=self.declaration)
                elif tag == code_tag:
                    codes.append(element)
                else:
                    scope[tag] = element
                continue
            tag = element.tag
            if event == "start":
                if tag == record_tag:
                    scope = {}
            elif tag == header_tag:
                self.header = self._header(element)
            elif tag == bsn_tag:
                self.bsn_element = element
            elif tag == client_tag:
                self.bsn_element = None
                _release(element)
            elif tag == answer_tag:
                done = self._answer(element)
                for record, line in pending:
                    yield ReadItem(self.header, record, line, answer=done)
                pending.clear()
        self._finish()

    def _start(self, message_type: str) -> None:
        self.message_type = message_type
        self.m = f"{{http://www.istandaarden.nl/ijw/3_2/{message_type.lower()}/schema}}"
        self.record_path = "Bericht/" + "/".join(_RECORD_PATHS[message_type])

    def _finish(self) -> None:
        if self.header is None:
            raise InvalidMessageError(
                "required element Bericht/Header is missing",
                reason="missing_element",
                path="Bericht/Header",
            )
        if self.count == 0 and self.message_type != "JW325":
            raise InvalidMessageError(
                f"the {self.message_type} message has no record: required element "
                f"{self.record_path} is missing",
                reason="missing_element",
                path=self.record_path,
            )

    # header ----------------------------------------------------------------------------------

    def _header(self, element: etree._Element) -> Header:
        m = self.m
        fields = _Fields.of_children(element, "Bericht/Header")
        code = fields.text(m + "BerichtCode")
        expected = MESSAGE_CODES[self.message_type]
        if code != expected:
            line = fields.elements[m + "BerichtCode"].sourceline
            raise InvalidMessageError(
                f"Bericht/Header/BerichtCode at line {line} is {code!r} but the root namespace "
                f"says {self.message_type}, whose BerichtCode is {expected}",
                reason="message_code_mismatch",
                path="Bericht/Header/BerichtCode",
                line=line,
            )
        version = (fields.text(m + "BerichtVersie"), fields.text(m + "BerichtSubversie"))
        if version != _EXPECTED_RELEASE:
            line = fields.elements[m + "BerichtVersie"].sourceline
            raise InvalidMessageError(
                f"Bericht/Header at line {line} says BerichtVersie {version[0]}, BerichtSubversie "
                f"{version[1]} but the namespace is iJw 3.2 (expects 3 and 2)",
                reason="version_mismatch",
                path="Bericht/Header/BerichtVersie",
                line=line,
            )
        identification = fields.group(m + "BerichtIdentificatie")
        return Header(
            message_type=self.message_type,
            sender=fields.text(m + "Afzender"),
            receiver=fields.text(m + "Ontvanger"),
            message_id=identification.text(_BASE + "Identificatie"),
            message_date=identification.date(_BASE + "Dagtekening"),
        )

    # records -----------------------------------------------------------------------------------

    def _record(
        self, element: etree._Element, scope: dict[str, etree._Element], codes: list[etree._Element]
    ) -> Record:
        line = element.sourceline
        if self.header is None:
            raise InvalidMessageError(
                f"the record at line {line} comes before the Header (or there is no Header)",
                reason="missing_element",
                path="Bericht/Header",
                line=line,
            )
        parent = element.getparent()
        if parent is not self.parent:
            self._enter_container(element, parent)
        fields = _Fields(scope, self.record_path, line)
        if self.message_type == "JW323":
            return self._invoice_line(fields)
        if self.message_type == "JW325":
            return RejectedLine(
                line=self._invoice_line(fields),
                return_codes=_codes(codes, fields, "RetourCodes/"),
            )
        return _RECORD_PARSERS[self.message_type](self, fields)

    def _enter_container(self, element: etree._Element, parent: etree._Element | None) -> None:
        """First record of a new container: check where it sits, read the context above it."""
        names = _RECORD_PATHS[self.message_type]
        chain: list[etree._Element] = []
        ancestor = parent
        for name in reversed(names[:-1]):
            if ancestor is None or ancestor.tag != self.m + name:
                raise InvalidMessageError(
                    f"{_local(element.tag)} at line {element.sourceline} is not where the "
                    f"{self.message_type} schema puts it ({self.record_path})",
                    reason="misplaced_element",
                    path=self.record_path,
                    line=element.sourceline,
                )
            chain.append(ancestor)
            ancestor = ancestor.getparent()
        top = chain[-1]
        self.parent = parent
        if self.message_type == "JW323":
            if self.declaration is None:
                self.declaration = self._declaration(_Fields.of_children(top, "Bericht/Declaratie"))
        elif self.message_type == "JW325":
            # fail on the first line rather than after all of them when the number is missing
            _Fields.of_children(top, "Bericht/DeclaratieAntwoord").text(self.m + "DeclaratieNummer")
        else:
            self.client = self._client(_Fields.of_children(top, "Bericht/Client"))

    def _client(self, fields: _Fields) -> Client:
        m = self.m
        birth = fields.group(m + "Geboortedatum")
        surname = fields.group(m + "Naam").group(_BASE + "Geslachtsnaam")
        return Client(
            bsn=fields.text(m + "Bsn"),
            birth_date=birth.date(_BASE + "Datum"),
            gender=fields.text(m + "Geslacht"),
            surname=surname.text(_BASE + "Achternaam"),
        )

    def _product(self, fields: _Fields) -> tuple[str | None, str | None]:
        if not fields.has(self.m + "Product"):
            return None, None
        return (
            fields.text(_BASE + "Categorie", under="Product/"),
            fields.optional_text(_BASE + "Code", under="Product/"),
        )

    def _omvang(self, fields: _Fields) -> tuple[int | None, str | None, str | None]:
        if not fields.has(self.m + "Omvang"):
            return None, None, None
        return (
            fields.integer(_BASE + "Volume", under="Omvang/"),
            fields.text(_BASE + "Eenheid", under="Omvang/"),
            fields.text(_BASE + "Frequentie", under="Omvang/"),
        )

    def _allocation(self, fields: _Fields) -> Allocation:
        m = self.m
        category, code = self._product(fields)
        volume, unit, frequency = self._omvang(fields)
        return Allocation(
            client=self.client,
            allocation_number=fields.text(m + "ToewijzingNummer"),
            provider_reference=fields.optional_text(m + "ReferentieAanbieder"),
            product_category=category,
            product_code=code,
            allocation_date=fields.date(m + "Toewijzingsdatum"),
            start_date=fields.date(m + "Ingangsdatum"),
            end_date=fields.optional_date(m + "Einddatum"),
            change_reason=fields.optional_text(m + "RedenWijziging"),
            volume=volume,
            unit=unit,
            frequency=frequency,
            budget_cents=fields.optional_integer(m + "Budget"),
            allocation_time=fields.text(m + "Toewijzingstijd"),
        )

    def _care_start(self, fields: _Fields) -> CareStart:
        m = self.m
        category, code = self._product(fields)
        return CareStart(
            client=self.client,
            allocation_number=fields.optional_text(m + "ToewijzingNummer"),
            product_category=category,
            product_code=code,
            allocation_start_date=fields.optional_date(m + "ToewijzingIngangsdatum"),
            start_date=fields.date(m + "Begindatum"),
            delivery_status=fields.text(m + "StatusAanlevering"),
        )

    def _care_stop(self, fields: _Fields) -> CareStop:
        m = self.m
        category, code = self._product(fields)
        return CareStop(
            client=self.client,
            allocation_number=fields.optional_text(m + "ToewijzingNummer"),
            product_category=category,
            product_code=code,
            allocation_start_date=fields.optional_date(m + "ToewijzingIngangsdatum"),
            start_date=fields.date(m + "Begindatum"),
            end_reason=fields.text(m + "RedenBeeindiging"),
            end_date=fields.date(m + "Einddatum"),
            delivery_status=fields.text(m + "StatusAanlevering"),
        )

    def _referral_request(self, fields: _Fields) -> ReferralRequest:
        m = self.m
        category, code = self._product(fields)
        volume, unit, frequency = self._omvang(fields)
        return ReferralRequest(
            client=self.client,
            provider_reference=fields.text(m + "ReferentieAanbieder"),
            product_category=category,
            product_code=code,
            requested_start_date=fields.date(m + "ToewijzingIngangsdatum"),
            requested_end_date=fields.optional_date(m + "ToewijzingEinddatum"),
            referrer_type=fields.text(_BASE + "Type", under="Verwijzer/"),
            volume=volume,
            unit=unit,
            frequency=frequency,
            referrer_name=fields.optional_text(_BASE + "Naam", under="Verwijzer/"),
            referrer_agb=fields.optional_text(_BASE + "ZorgverlenerCode", under="Verwijzer/"),
        )

    # JW323 / JW325 -----------------------------------------------------------------------------

    def _bsn(self, fields: _Fields) -> str:
        element = self.bsn_element
        value = None if element is None or element.text is None else element.text.strip()
        if not value:
            path = self.record_path.replace("/Prestaties/Prestatie", "/Bsn")
            raise InvalidMessageError(
                f"required element {path} is {'missing' if element is None else 'empty'} "
                f"(for the Prestatie at line {fields.line})",
                reason="missing_element",
                path=path,
                line=fields.line,
            )
        return value

    def _invoice_line(self, fields: _Fields) -> InvoiceLine:
        m = self.m
        return InvoiceLine(
            bsn=self._bsn(fields),
            reference_number=fields.text(_BASE + "ReferentieNummer", under="ProductReferentie/"),
            previous_reference_number=fields.optional_text(
                _BASE + "VorigReferentieNummer", under="ProductReferentie/"
            ),
            allocation_number=fields.text(m + "ToewijzingNummer"),
            product_category=fields.text(m + "ProductCategorie"),
            product_code=fields.text(m + "ProductCode"),
            period_start=fields.date(_BASE + "Begindatum", under="ProductPeriode/"),
            period_end=fields.date(_BASE + "Einddatum", under="ProductPeriode/"),
            volume=fields.integer(m + "GeleverdVolume"),
            unit=fields.text(m + "Eenheid"),
            tariff_cents=fields.optional_integer(m + "ProductTarief"),
            amount_cents=fields.integer(_BASE + "Bedrag", under="IngediendBedrag/"),
            debit_credit=fields.debit_credit(_BASE + "DebetCredit", under="IngediendBedrag/"),
        )

    def _declaration(self, fields: _Fields) -> Declaration:
        m = self.m
        period = fields.group(m + "DeclaratiePeriode")
        return Declaration(
            declaration_number=fields.text(m + "DeclaratieNummer"),
            period_start=period.date(_BASE + "Begindatum"),
            period_end=period.date(_BASE + "Einddatum"),
            declaration_date=fields.date(m + "DeclaratieDagtekening"),
        )

    def _answer(self, element: etree._Element) -> DeclarationAnswer:
        m = self.m
        fields = _Fields.of_children(element, "Bericht/DeclaratieAntwoord")
        submitted = fields.group(m + "TotaalIngediendBedrag")
        granted = fields.group(m + "TotaalToegekendBedrag")
        holder = fields.group(m + "RetourCodes")
        codes = list(fields.elements[m + "RetourCodes"].iterchildren(m + "RetourCode"))
        return DeclarationAnswer(
            declaration_number=fields.text(m + "DeclaratieNummer"),
            submitted_cents=submitted.integer(_BASE + "TotaalBedrag"),
            submitted_debit_credit=submitted.debit_credit(_BASE + "DebetCredit"),
            granted_cents=granted.integer(_BASE + "TotaalBedrag"),
            granted_debit_credit=granted.debit_credit(_BASE + "DebetCredit"),
            return_codes=_codes(codes, holder, ""),
        )


def _codes(codes: list[etree._Element], fields: _Fields, under: str) -> tuple[str, ...]:
    """The RetourCode values; at least one is required wherever RetourCodes appear."""
    values = tuple(value for element in codes if (value := (element.text or "").strip()))
    if not values:
        raise fields.missing("RetourCode", under, "is missing")
    return values


def _release(element: etree._Element) -> None:
    """Drop a finished element and its already-finished earlier siblings: memory stays flat."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


_RECORD_PARSERS = {
    "JW315": _MessageReader._referral_request,
    "JW301": _MessageReader._allocation,
    "JW305": _MessageReader._care_start,
    "JW307": _MessageReader._care_stop,
}
