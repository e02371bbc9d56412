"""Streams iJw 3.2 messages from XML files into typed records, safely and in flat memory.

`read_messages` yields one `ReadItem` per product record (ToegewezenProduct, StartProduct,
StopProduct, AangevraagdProduct, Prestatie) with the message header, the JW323 declaration or
JW325 answer, the record's position in the message (its ordinal, 1-based: the record's identity,
the same for every serialisation of the message) and the line of its start tag (diagnostics).
It parses with `lxml.etree.iterparse`, clearing every record once read, so a file with a million
lines costs little memory.

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

`read_flat` is a fast path for ingestion beside it: the same fields as plain tuples (no record
objects), from a whole-file parse of a small file held in memory. It vouches only for files it
can prove `read_messages` reads the same way (the usual, well-formed shape of each message); for
anything else (a file it cannot parse, an unexpected element or order, any value that
`read_messages` would refuse, a large file) it returns None and the caller uses
`read_messages`, which then decides (and raises the precise error). So where it answers, it answers
exactly what `read_messages` would.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from jeugdhulp.ijw.errors import (
    ForbiddenDtdError,
    InvalidMessageError,
    MalformedXmlError,
    UnknownMessageError,
    WrongVersionError,
)
from jeugdhulp.ijw.records import (
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

_NAMESPACE = re.compile(
    r"http://www\.istandaarden\.nl/(i[a-z]+)/([0-9]+)_([0-9]+)/([a-z0-9]+)/schema"
)
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

    def resolve(self, system_url, public_id, context):
        raise ForbiddenDtdError(f"refused to load external resource {system_url!r}")


# lxml options of every parse: no DTD, no entities, no network, libxml2's size limits on
_SAFE_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


def _iterparse(stream: BinaryIO, events: tuple[str, ...]) -> etree.iterparse:
    etree.clear_error_log()  # lxml's per-thread log keeps earlier files' errors otherwise
    context = etree.iterparse(stream, events=events, **_SAFE_PARSER_OPTIONS)
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
            f"root element is <{local}>, an iJw {message_type} message has root <Bericht>",
            line=line,
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
                tag,
                under,
                value,
                "is not a whole non-negative number (at most 18 digits)",
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
        # JW325 lines wait for the answer's codes: (record, line, position)
        pending: list[tuple[RejectedLine, int, int]] = []

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
                        pending.append((record, line, self.count))
                    else:
                        yield ReadItem(
                            self.header, record, line, self.declaration, position=self.count
                        )
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
                for record, line, position in pending:
                    yield ReadItem(self.header, record, line, answer=done, position=position)
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


# --- the rows-only fast path (ingestion) ------------------------------------------------------

_HEAD_FIELDS = ("position", "message_id", "message_date", "sender", "receiver")
_LINE_FIELDS = (
    "reference_number", "previous_reference_number", "allocation_number", "product_category",
    "product_code", "period_start", "period_end", "volume", "unit", "tariff_cents",
    "amount_cents", "debit_credit",
)  # fmt: skip

# What each tuple of `FlatMessage.records` holds, by position: the record's ordinal in the
# message (ReadItem.position), the header fields, then the record's fields, named as the records.py fields they equal.
# `bsn` is the client's (Client/Bsn), `birth_date` is Client/Geboortedatum/Datum,
# `declaration_*` come from the JW323 Declaratie, JW325 `declaration_number` from the
# DeclaratieAntwoord, `return_codes` is the tuple of the line's RetourCodes; last, `line`, the
# line of the record's start tag (ReadItem.line, diagnostics only).
FLAT_FIELDS: dict[str, tuple[str, ...]] = {
    "JW315": _HEAD_FIELDS + ("bsn", "birth_date") + (
        "provider_reference", "product_category", "product_code", "requested_start_date",
        "requested_end_date", "volume", "unit", "frequency", "referrer_type", "line",
    ),
    "JW301": _HEAD_FIELDS + ("bsn", "birth_date") + (
        "allocation_number", "provider_reference", "product_category", "product_code",
        "allocation_date", "allocation_time", "start_date", "end_date", "change_reason",
        "volume", "unit", "frequency", "budget_cents", "line",
    ),
    "JW305": _HEAD_FIELDS + ("bsn", "birth_date") + (
        "allocation_number", "product_category", "product_code", "allocation_start_date",
        "start_date", "delivery_status", "line",
    ),
    "JW307": _HEAD_FIELDS + ("bsn", "birth_date") + (
        "allocation_number", "product_category", "product_code", "allocation_start_date",
        "start_date", "end_reason", "end_date", "delivery_status", "line",
    ),
    "JW323": _HEAD_FIELDS + (
        "declaration_number", "declaration_period_start", "declaration_period_end",
        "declaration_date", "bsn",
    ) + _LINE_FIELDS + ("line",),
    "JW325": _HEAD_FIELDS + ("declaration_number", "bsn") + _LINE_FIELDS
    + ("return_codes", "line"),
}  # fmt: skip

# Larger files take the streaming reader: a whole-file tree of them would not be small.
FLAT_MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class FlatMessage:
    message_type: str
    header: Header
    records: list[tuple]  # laid out as FLAT_FIELDS[message_type]


def read_flat(data: bytes) -> FlatMessage | None:
    """The records of the iJw 3.2 message in `data` as tuples (see FLAT_FIELDS), exactly as
    `read_messages` would read them; None when the fast path cannot vouch for the file, and then
    `read_messages(io.BytesIO(data))` decides (it may read the file or raise)."""
    if len(data) > FLAT_MAX_BYTES or b"<!" in data or not _plain_prolog(data):
        return None  # large, or a DOCTYPE, comment or CDATA somewhere, or another encoding
    try:
        root = etree.fromstring(data, _flat_parser())
        message_type = _FLAT_ROOTS.get(root.tag)
        if message_type is None:
            return None
        return _flat_message(root, message_type)
    except Exception:  # whatever it is, the streaming reader decides
        return None


class _NotFlat(Exception):
    """Not the usual shape or a value read_messages would refuse: read_messages decides."""


_FLAT_ROOTS = {
    f"{{http://www.istandaarden.nl/ijw/3_2/{code.lower()}/schema}}Bericht": code
    for code in MESSAGE_CODES
}
_UTF8_DECLARATION = re.compile(rb"""encoding\s*=\s*["'](?i:utf-8)["']""")
_flat_local = threading.local()  # lxml parsers are not to be shared between threads


def _flat_parser() -> etree.XMLParser:
    parser = getattr(_flat_local, "parser", None)
    if parser is None:
        # the same options as _iterparse
        parser = etree.XMLParser(**_SAFE_PARSER_OPTIONS)
        parser.resolvers.add(_RefuseEverything())
        _flat_local.parser = parser
    return parser


def _plain_prolog(data: bytes) -> bool:
    """UTF-8 without a byte order mark, declared so or not declared at all."""
    if data.startswith(b"<?xml"):
        end = data.find(b"?>", 5, 512)
        if end < 0:
            return False
        return b"encoding" not in data[5:end] or _UTF8_DECLARATION.search(data, 5, end) is not None
    return data.startswith(b"<")


def _required(fields: dict, tag: str) -> str:
    """Required text, stripped, as _Fields.text (missing, no text or blank: not flat)."""
    text = fields.get(tag)
    if text is None or not (text := text.strip()):
        raise _NotFlat(tag)
    return text


def _optional(fields: dict, tag: str) -> str | None:
    text = fields.get(tag)
    return (text.strip() or None) if text is not None else None


def _flat_date(value: str) -> date:
    known = _DATES.get(value)
    if known is not None:
        return known
    match = _DATE.fullmatch(value)
    if match is None:
        raise _NotFlat(value)
    parsed = date(int(match[1]), int(match[2]), int(match[3]))  # ValueError: not flat
    if len(_DATES) >= _DATE_CACHE_SIZE:
        _DATES.clear()
    _DATES[value] = parsed
    return parsed


def _flat_optional_date(fields: dict, tag: str) -> date | None:
    value = _optional(fields, tag)
    return None if value is None else _flat_date(value)


def _flat_integer(value: str) -> int:
    if _DIGITS.fullmatch(value) is None:
        raise _NotFlat(value)
    return int(value)


def _flat_optional_integer(fields: dict, tag: str) -> int | None:
    value = _optional(fields, tag)
    return None if value is None else _flat_integer(value)


def _texts(element: etree._Element) -> dict:
    """Tag -> text of an element's children; a tag that repeats keeps its last, as _Fields does."""
    return {child.tag: child.text for child in element}


def _group(children: dict[str, etree._Element], tag: str) -> dict:
    child = children.get(tag)
    if child is None:
        raise _NotFlat(tag)
    return _texts(child)


def _flat_message(root: etree._Element, message_type: str) -> FlatMessage:
    m = f"{{http://www.istandaarden.nl/ijw/3_2/{message_type.lower()}/schema}}"
    names = _RECORD_PATHS[message_type]
    record_tag = m + names[-1]
    header_tag = m + "Header"
    content = list(root)
    # exactly the Header, then the one element holding the records: no second Header, nothing
    # read_messages would take for a header or a record anywhere else (checked by counting below)
    if len(content) != 2 or content[0].tag != header_tag or content[1].tag != m + names[0]:
        raise _NotFlat("layout")
    header = _flat_header(content[0], m, message_type)
    head = (header.message_id, header.message_date, header.sender, header.receiver)
    top = content[1]
    if message_type == "JW323" or message_type == "JW325":
        records, clients = _flat_invoice_records(top, m, message_type, record_tag, head)
        specials = (header_tag, record_tag, m + "Bsn", m + "Client")
        expected = {
            header_tag: 1,
            record_tag: len(records),
            m + "Bsn": clients,
            m + "Client": clients,
        }
        if message_type == "JW325":
            specials += (m + "DeclaratieAntwoord",)
            expected[m + "DeclaratieAntwoord"] = 1
    else:
        records = _flat_client_records(top, m, message_type, names, record_tag, head)
        specials = (header_tag, record_tag)
        expected = {header_tag: 1, record_tag: len(records)}
    found: dict[str, int] = {}
    for element in root.iter(*specials):
        found[element.tag] = found.get(element.tag, 0) + 1
    if found != {tag: n for tag, n in expected.items() if n}:
        raise _NotFlat("a header, record, client or Bsn elsewhere")
    return FlatMessage(message_type, header, records)


def _flat_header(element: etree._Element, m: str, message_type: str) -> Header:
    children = {child.tag: child for child in element}
    fields = {tag: child.text for tag, child in children.items()}
    if (
        _required(fields, m + "BerichtCode") != MESSAGE_CODES[message_type]
        or (_required(fields, m + "BerichtVersie"), _required(fields, m + "BerichtSubversie"))
        != _EXPECTED_RELEASE
    ):
        raise _NotFlat("header")
    identification = _group(children, m + "BerichtIdentificatie")
    return Header(
        message_type=message_type,
        sender=_required(fields, m + "Afzender"),
        receiver=_required(fields, m + "Ontvanger"),
        message_id=_required(identification, _BASE + "Identificatie"),
        message_date=_flat_date(_required(identification, _BASE + "Dagtekening")),
    )


def _record_fields(record: etree._Element) -> dict:
    """Tag -> text of everything inside a record, which read_messages finds by tag: refused when
    a tag repeats (then which one read_messages takes depends on nesting)."""
    pairs = [(element.tag, element.text) for element in record.iter()]
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise _NotFlat("repeated element in a record")
    return fields


def _flat_client_records(
    client: etree._Element,
    m: str,
    message_type: str,
    names: tuple[str, ...],
    record_tag: str,
    head: tuple,
) -> list[tuple]:
    """JW301/305/307/315: Bericht/Client/<container>/<record>..."""
    children = list(client)
    container_tag = m + names[1]
    # read_messages reads the client when the first record ends: only what precedes the
    # container exists then, so the container must be the client's last (and only) one
    if not children or children[-1].tag != container_tag:
        raise _NotFlat("container")
    if any(child.tag == container_tag for child in children[:-1]):
        raise _NotFlat("second container")
    by_tag = {child.tag: child for child in children}
    fields = {tag: child.text for tag, child in by_tag.items()}
    bsn = _required(fields, m + "Bsn")
    birth_date = _flat_date(_required(_group(by_tag, m + "Geboortedatum"), _BASE + "Datum"))
    _required(fields, m + "Geslacht")
    surname = by_tag.get(m + "Naam")
    if surname is None:
        raise _NotFlat("Naam")
    _required(_group({c.tag: c for c in surname}, _BASE + "Geslachtsnaam"), _BASE + "Achternaam")
    values = _FLAT_VALUES[message_type]
    records = []
    for record in children[-1]:
        if record.tag == record_tag:
            records.append(
                (
                    len(records) + 1, *head, bsn, birth_date,
                    *values(_record_fields(record), m), record.sourceline,
                )
            )  # fmt: skip
    if not records:
        raise _NotFlat("no record")
    return records


def _flat_product(f: dict, m: str) -> tuple[str | None, str | None]:
    if m + "Product" not in f:
        return None, None
    return _required(f, _BASE + "Categorie"), _optional(f, _BASE + "Code")


def _flat_omvang(f: dict, m: str) -> tuple[int | None, str | None, str | None]:
    if m + "Omvang" not in f:
        return None, None, None
    return (
        _flat_integer(_required(f, _BASE + "Volume")),
        _required(f, _BASE + "Eenheid"),
        _required(f, _BASE + "Frequentie"),
    )


def _flat_allocation(f: dict, m: str) -> tuple:
    category, code = _flat_product(f, m)
    volume, unit, frequency = _flat_omvang(f, m)
    return (
        _required(f, m + "ToewijzingNummer"), _optional(f, m + "ReferentieAanbieder"), category,
        code, _flat_date(_required(f, m + "Toewijzingsdatum")), _required(f, m + "Toewijzingstijd"),
        _flat_date(_required(f, m + "Ingangsdatum")), _flat_optional_date(f, m + "Einddatum"),
        _optional(f, m + "RedenWijziging"), volume, unit, frequency,
        _flat_optional_integer(f, m + "Budget"),
    )  # fmt: skip


def _flat_care_start(f: dict, m: str) -> tuple:
    category, code = _flat_product(f, m)
    return (
        _optional(f, m + "ToewijzingNummer"), category, code,
        _flat_optional_date(f, m + "ToewijzingIngangsdatum"),
        _flat_date(_required(f, m + "Begindatum")), _required(f, m + "StatusAanlevering"),
    )  # fmt: skip


def _flat_care_stop(f: dict, m: str) -> tuple:
    category, code = _flat_product(f, m)
    return (
        _optional(f, m + "ToewijzingNummer"), category, code,
        _flat_optional_date(f, m + "ToewijzingIngangsdatum"),
        _flat_date(_required(f, m + "Begindatum")), _required(f, m + "RedenBeeindiging"),
        _flat_date(_required(f, m + "Einddatum")), _required(f, m + "StatusAanlevering"),
    )  # fmt: skip


def _flat_referral_request(f: dict, m: str) -> tuple:
    category, code = _flat_product(f, m)
    volume, unit, frequency = _flat_omvang(f, m)
    return (
        _required(f, m + "ReferentieAanbieder"), category, code,
        _flat_date(_required(f, m + "ToewijzingIngangsdatum")),
        _flat_optional_date(f, m + "ToewijzingEinddatum"), volume, unit, frequency,
        _required(f, _BASE + "Type"),
    )  # fmt: skip


def _flat_line(f: dict, m: str) -> tuple:
    debit_credit = _required(f, _BASE + "DebetCredit")
    if debit_credit != "D" and debit_credit != "C":
        raise _NotFlat("DebetCredit")
    return (
        _required(f, _BASE + "ReferentieNummer"), _optional(f, _BASE + "VorigReferentieNummer"),
        _required(f, m + "ToewijzingNummer"), _required(f, m + "ProductCategorie"),
        _required(f, m + "ProductCode"), _flat_date(_required(f, _BASE + "Begindatum")),
        _flat_date(_required(f, _BASE + "Einddatum")),
        _flat_integer(_required(f, m + "GeleverdVolume")), _required(f, m + "Eenheid"),
        _flat_optional_integer(f, m + "ProductTarief"),
        _flat_integer(_required(f, _BASE + "Bedrag")), debit_credit,
    )  # fmt: skip


_FLAT_VALUES = {
    "JW315": _flat_referral_request,
    "JW301": _flat_allocation,
    "JW305": _flat_care_start,
    "JW307": _flat_care_stop,
}


def _flat_invoice_records(
    top: etree._Element, m: str, message_type: str, record_tag: str, head: tuple
) -> tuple[list[tuple], int]:
    """JW323 Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie..., JW325 the same under
    DeclaratieAntwoord; (records, number of clients)."""
    children = list(top)
    clienten_tag = m + "Clienten"
    by_tag = {child.tag: child for child in children}
    if len(by_tag) != len(children):
        raise _NotFlat("repeated element")
    clienten = by_tag.get(clienten_tag)
    answer = message_type == "JW325"
    if answer:
        context = _flat_answer(by_tag, m)
        number_at = children.index(by_tag[m + "DeclaratieNummer"])
        if clienten is not None and number_at > children.index(clienten):
            raise _NotFlat("DeclaratieNummer after the lines")
    else:
        # read_messages reads the declaration when the first line ends: only what precedes
        # Clienten exists then
        if clienten is None or children[-1] is not clienten:
            raise _NotFlat("Clienten")
        fields = {tag: child.text for tag, child in by_tag.items()}
        period = _group(by_tag, m + "DeclaratiePeriode")
        context = (
            _required(fields, m + "DeclaratieNummer"),
            _flat_date(_required(period, _BASE + "Begindatum")),
            _flat_date(_required(period, _BASE + "Einddatum")),
            _flat_date(_required(fields, m + "DeclaratieDagtekening")),
        )
    records: list[tuple] = []
    clients = 0
    code_tag = m + "RetourCode"
    for client in clienten if clienten is not None else ():
        if client.tag != m + "Client":
            raise _NotFlat("not a Client")
        clients += 1
        tags = [child.tag for child in client]
        if tags.count(m + "Bsn") != 1 or tags.count(m + "Prestaties") > 1:
            raise _NotFlat("Bsn")
        if m + "Prestaties" not in tags:
            continue
        if tags.index(m + "Bsn") > tags.index(m + "Prestaties"):
            raise _NotFlat("Bsn after the lines")
        lines = client[tags.index(m + "Prestaties")]
        bsn = _required({m + "Bsn": client[tags.index(m + "Bsn")].text}, m + "Bsn")
        for record in lines:
            if record.tag != record_tag:
                continue
            f = _record_fields_with_codes(record, code_tag) if answer else _record_fields(record)
            line = _flat_line(f, m)
            if answer:
                codes = f[code_tag]
                position = len(records) + 1
                records.append((position, *head, context[0], bsn, *line, codes, record.sourceline))
            else:
                position = len(records) + 1
                records.append((position, *head, *context, bsn, *line, record.sourceline))
    if not records and not answer:
        raise _NotFlat("no record")
    return records, clients


def _record_fields_with_codes(record: etree._Element, code_tag: str) -> dict:
    """As _record_fields, with the line's RetourCodes (which may repeat) under `code_tag`, as a
    tuple of their values (at least one)."""
    pairs = []
    codes = []
    for element in record.iter():
        if element.tag == code_tag:
            if len(element):
                raise _NotFlat("RetourCode with children")
            value = (element.text or "").strip()
            if value:
                codes.append(value)
        else:
            pairs.append((element.tag, element.text))
    fields = dict(pairs)
    if len(fields) != len(pairs) or not codes:
        raise _NotFlat("repeated element or no RetourCode in a line")
    fields[code_tag] = tuple(codes)
    return fields


def _flat_answer(by_tag: dict[str, etree._Element], m: str) -> tuple[str]:
    """Checks the DeclaratieAntwoord as read_messages does; (its DeclaratieNummer,)."""
    fields = {tag: child.text for tag, child in by_tag.items()}
    number = _required(fields, m + "DeclaratieNummer")
    for total in ("TotaalIngediendBedrag", "TotaalToegekendBedrag"):
        amounts = _group(by_tag, m + total)
        _flat_integer(_required(amounts, _BASE + "TotaalBedrag"))
        if _required(amounts, _BASE + "DebetCredit") not in ("D", "C"):
            raise _NotFlat("DebetCredit")
    holder = by_tag.get(m + "RetourCodes")
    if holder is None or not any(
        (code.text or "").strip() for code in holder.iterchildren(m + "RetourCode")
    ):
        raise _NotFlat("RetourCodes")
    return (number,)
