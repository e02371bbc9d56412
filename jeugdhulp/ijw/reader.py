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

Which element fills which field, and how its text is read, is declared once, in the field table
of `fields.py`; both readers below follow it (`_plan`, `_flat_plan`), and the record types of
`records.py` carry what they read.

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

import dataclasses
import operator
import os
import re
import threading
from collections.abc import Callable, Iterator
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
from jeugdhulp.ijw.fields import TABLES, MessageTable, Read
from jeugdhulp.ijw.records import (
    MESSAGE_CODES,
    NAMESPACE_TEMPLATE,
    RECORD_TYPES,
    Client,
    Declaration,
    DeclarationAnswer,
    Header,
    InvoiceLine,
    ReadItem,
    Record,
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
# the other forms of an xs:integer of the iJw's non-negative types (minInclusive 0): a plus sign
# and more leading zeros are the same number, and so is -0 (at most 18 significant digits)
_SIGNED = re.compile(r"\+?0*([0-9]{1,18})|-0*(0)")


def _whole(value: str) -> int | None:
    """The value of an xs:integer ≥ 0 in any of its lexical forms, else None."""
    if _DIGITS.fullmatch(value) is not None:  # the plain form, nearly every value
        return int(value)
    match = _SIGNED.fullmatch(value)
    return None if match is None else int(match[1] or match[2])


# the same few hundred dates recur on every line of a file: parse each text once
_DATES: dict[str, date] = {}
_DATE_CACHE_SIZE = 20_000

# per message type: the repeated record element and the containers above it, root first
_RECORD_PATHS: dict[str, tuple[str, ...]] = {code: t.record_path for code, t in TABLES.items()}


def read_messages(source: Source) -> Iterator[ReadItem]:
    """One ReadItem per record of the iJw 3.2 message in `source` (a path or a binary stream)."""
    with _opened(source) as stream:
        yield from _MessageReader(stream).items()


def message_reader(stream: BinaryIO) -> _MessageReader:
    """A reader of the iJw 3.2 message in `stream`: iterate `.items()` (as `read_messages`); once
    they are exhausted `.message_type` and `.header` tell what the message was, also when it had
    no record (a JW325 rejecting nothing)."""
    return _MessageReader(stream)


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
        number = _whole(value)
        if number is None:
            raise self._bad(
                tag,
                under,
                value,
                "is not a whole non-negative number (at most 18 digits)",
                "invalid_number",
            )
        return number

    def number(self, tag: str, under: str = "") -> str:
        return str(self.integer(tag, under))

    def optional_number(self, tag: str, under: str = "") -> str | None:
        value = self.optional_integer(tag, under)
        return None if value is None else str(value)

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
        self.plan: _Plan | None = None  # how to read this message type's fields
        self.header: Header | None = None
        self.declaration: Declaration | None = None
        self.parent: etree._Element | None = None  # the container of the last record read
        self.client: Client | None = None
        self.bsn_element: etree._Element | None = None
        self.count = 0
        self.answered = False  # JW325: its DeclaratieAntwoord was read

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
        bsn_tag = self.plan.bsn_tag if invoice else None
        client_tag = m + "Client" if invoice else None
        answer_tag = m + "DeclaratieAntwoord" if answer else None
        code_tag = self.plan.codes[0] if answer else None
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
                self.answered = True
                done = self._answer(element)
                for record, line, position in pending:
                    yield ReadItem(self.header, record, line, answer=done, position=position)
                pending.clear()
        self._finish()

    def _start(self, message_type: str) -> None:
        self.message_type = message_type
        self.m = f"{{http://www.istandaarden.nl/ijw/3_2/{message_type.lower()}/schema}}"
        self.record_path = "Bericht/" + "/".join(_RECORD_PATHS[message_type])
        self.plan = _PLANS[message_type]

    def _finish(self) -> None:
        if self.header is None:
            raise InvalidMessageError(
                "required element Bericht/Header is missing",
                reason="missing_element",
                path="Bericht/Header",
            )
        if self.message_type == "JW325" and not self.answered:
            # the schema lets a JW325 be a header alone (a declaration refused as a whole, by the
            # header's RetourCode); which declaration it answers is then not in the message
            raise InvalidMessageError(
                "required element Bericht/DeclaratieAntwoord is missing: the JW325 does not say "
                "which declaration (DeclaratieNummer) it answers",
                reason="missing_element",
                path="Bericht/DeclaratieAntwoord",
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
        return Header(message_type=self.message_type, **_nested(fields, self.plan.header))

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
        plan = self.plan
        if self.message_type == "JW323":
            return InvoiceLine(self._bsn(fields), *plan.in_order(_values(fields, plan.record)))
        if self.message_type == "JW325":
            code_tag, under = plan.codes
            return RejectedLine(
                line=InvoiceLine(self._bsn(fields), *plan.in_order(_values(fields, plan.record))),
                return_codes=_codes(codes, fields, under, code_tag),
            )
        return plan.record_type(self.client, *plan.in_order(_values(fields, plan.record)))

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
        path = f"Bericht/{names[0]}"
        self.parent = parent
        if self.message_type == "JW323":
            if self.declaration is None:
                top_fields = _Fields.of_children(top, path)
                self.declaration = Declaration(**_nested(top_fields, self.plan.context))
        elif self.message_type == "JW325":
            # fail on the first line rather than after all of them when what lands is missing
            _nested(_Fields.of_children(top, path), self.plan.context_stored)
        else:
            self.client = Client(**_nested(_Fields.of_children(top, path), self.plan.client))

    # JW323 / JW325 -----------------------------------------------------------------------------

    def _bsn(self, fields: _Fields) -> str:
        element = self.bsn_element
        value = None if element is None or element.text is None else element.text.strip()
        if not value:
            path = self.plan.bsn_path
            raise InvalidMessageError(
                f"required element {path} is {'missing' if element is None else 'empty'} "
                f"(for the Prestatie at line {fields.line})",
                reason="missing_element",
                path=path,
                line=fields.line,
            )
        return value

    def _answer(self, element: etree._Element) -> DeclarationAnswer:
        fields = _Fields.of_children(element, "Bericht/DeclaratieAntwoord")
        return DeclarationAnswer(**_nested(fields, self.plan.context))


def _codes(codes: list[etree._Element], fields: _Fields, under: str, tag: str) -> tuple[str, ...]:
    """The RetourCode values; at least one is required wherever RetourCodes appear."""
    values = tuple(value for element in codes if (value := (element.text or "").strip()))
    if not values:
        raise fields.missing(tag, under, "is missing")
    return values


def _release(element: etree._Element) -> None:
    """Drop a finished element and its already-finished earlier siblings: memory stays flat."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


# --- the field table, as the streaming reader reads it ---------------------------------------

# _Fields getters by (read, required); a code is read as text, cents as an integer
_READ_AS = {"code": "text", "cents": "integer"}
_GETTERS = {
    ("text", True): _Fields.text,
    ("text", False): _Fields.optional_text,
    ("date", True): _Fields.date,
    ("date", False): _Fields.optional_date,
    ("integer", True): _Fields.integer,
    ("integer", False): _Fields.optional_integer,
    ("number", True): _Fields.number,
    ("number", False): _Fields.optional_number,
    ("debit_credit", True): _Fields.debit_credit,
}


def _values(fields: _Fields, reads: tuple) -> list:
    """A record's fields in the table's order; inside a record elements are found by tag (see
    _Fields)."""
    elements = fields.elements
    return [
        None if group is not None and group not in elements else get(fields, tag, under)
        for group, get, tag, under in reads
    ]


def _nested(fields: _Fields, reads: tuple) -> dict:
    """Fields below one element (header, client, declaration, answer), group by group."""
    values = {}
    holder = fields
    at: tuple | None = None
    for attribute, groups, get, tag in reads:
        if groups != at:  # the fields of one group follow each other: read it once
            holder = fields
            for group in groups:
                holder = holder.group(group)
            at = groups
        values[attribute] = get(holder, tag)
    return values


def _codes_getter(code_tag: str) -> Callable[[_Fields, str], tuple[str, ...]]:
    """Reads the repeated `code_tag` of the group `tag` below `fields` (JW325 RetourCodes)."""

    def get(fields: _Fields, tag: str) -> tuple[str, ...]:
        holder = fields.group(tag)
        return _codes(list(fields.elements[tag].iterchildren(code_tag)), holder, "", code_tag)

    return get


def _tags(read: Read, m: str) -> list[str]:
    """The Clark names of the elements of a read's path, in message `m` ("{namespace}")."""
    return [(_BASE if base else m) + name for name, base in read.elements]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One message type's fields as the streaming reader reads them (see fields.py)."""

    record_type: type
    header: tuple  # (attribute, group tags, getter, tag): _nested
    context: tuple  # JW323 declaration, JW325 answer: _nested
    context_stored: tuple  # the context's fields that land
    client: tuple  # JW301/305/307/315 Client: _nested
    record: tuple  # (optional group tag or None, getter, tag, under): _values
    # the record's values in the order of its records.py fields (after its client or BSN)
    in_order: Callable[[list], tuple]
    codes: tuple[str, str] | None  # JW325 line RetourCode: (tag, under)
    bsn_tag: str | None  # JW323/325: the Client's Bsn
    bsn_path: str


def _nested_reads(reads: tuple[Read, ...], m: str) -> tuple:
    out = []
    for read in reads:
        if read.read == "codes":  # read from the group that holds the repeated element
            *groups, tag, code_tag = _tags(read, m)
            get = _codes_getter(code_tag)
        else:
            *groups, tag = _tags(read, m)
            get = _GETTERS[_READ_AS.get(read.read, read.read), read.required]
        out.append((read.attribute, tuple(groups), get, tag))
    return tuple(out)


def _plan(table: MessageTable) -> _Plan:
    m = "{" + NAMESPACE_TEMPLATE.format(code=table.message_type.lower()) + "}"
    optional = {m + group for group in table.optional_groups}
    record, attributes, codes = [], [], None
    for read in table.part_reads("record"):
        *groups, tag = _tags(read, m)
        under = "".join(name + "/" for name, _ in read.elements[:-1])
        if read.read == "codes":
            codes = (tag, under)
            continue
        get = _GETTERS[_READ_AS.get(read.read, read.read), read.required]
        group = groups[0] if groups and groups[0] in optional else None
        record.append((group, get, tag, under))
        attributes.append(read.attribute)
    # the records.py type the values make, and its fields after the client (or the line's BSN)
    record_type = RECORD_TYPES[table.message_type]
    made = InvoiceLine if table.message_type in ("JW323", "JW325") else record_type
    names = [f.name for f in dataclasses.fields(made)][1:]
    if sorted(names) != sorted(attributes):
        raise AssertionError(
            f"{table.message_type}: records.py {made.__name__} and fields.py differ in fields"
        )
    context = table.part_reads("declaration") + table.part_reads("answer")
    client = table.part_reads("client")
    containers = "/".join(table.record_path[:-2])
    return _Plan(
        record_type=record_type,
        header=_nested_reads(table.part_reads("header"), m),
        context=_nested_reads(context, m),
        context_stored=_nested_reads(tuple(r for r in context if r.columns), m),
        client=_nested_reads(client, m),
        record=tuple(record),
        in_order=operator.itemgetter(*(attributes.index(name) for name in names)),
        codes=codes,
        bsn_tag=_tags(client[0], m)[-1],
        bsn_path=f"Bericht/{containers}/{client[0].path}",
    )


_PLANS = {code: _plan(table) for code, table in TABLES.items()}


# --- the rows-only fast path (ingestion) ------------------------------------------------------

# What each tuple of `FlatMessage.records` holds, by position (fields.MessageTable.flat_reads):
# per value read that lands, in the raw table's column order, the value as read: where the row
# holds client_key and bsn_valid the tuple holds `bsn` (Client/Bsn), where it holds birth_year
# `birth_date`, where it holds the comma-joined return_codes the tuple of the line's RetourCodes.
FLAT_FIELDS: dict[str, tuple[str, ...]] = {
    code: tuple(read.label for read in table.flat_reads) for code, table in TABLES.items()
}

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
        # the same options as _iterparse, and no text nodes of whitespace only: every value is
        # read stripped, a blank one as missing, so such a node changes nothing but the time
        # spent building and walking the tree (about 15 % of the parse)
        parser = etree.XMLParser(**_SAFE_PARSER_OPTIONS, remove_blank_text=True)
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


def _flat_integer(value: str) -> int:
    number = _whole(value)
    if number is None:
        raise _NotFlat(value)
    return number


def _flat_message(root: etree._Element, message_type: str) -> FlatMessage:
    plan = _FLAT_PLANS[message_type]
    m = plan.m
    names = _RECORD_PATHS[message_type]
    record_tag = m + names[-1]
    header_tag = m + "Header"
    content = list(root)
    # exactly the Header, then the one element holding the records: no second Header, nothing
    # read_messages would take for a header or a record anywhere else (checked by counting below)
    if len(content) != 2 or content[0].tag != header_tag or content[1].tag != m + names[0]:
        raise _NotFlat("layout")
    header, head = _flat_header(content[0], plan, message_type)
    top = content[1]
    if message_type == "JW323" or message_type == "JW325":
        records, clients = _flat_invoice_records(top, plan, message_type, record_tag, head)
        specials = (header_tag, record_tag, plan.bsn_tag, m + "Client")
        expected = 1 + len(records) + 2 * clients  # a Bsn per Client
        if message_type == "JW325":
            specials += (m + "DeclaratieAntwoord",)
            expected += 1
    else:
        records = _flat_client_records(top, plan, names, record_tag, head)
        specials = (header_tag, record_tag)
        expected = 1 + len(records)
    # every element counted in `expected` was read above, so the tree holds at least that many
    # of each tag: equal totals mean equal counts per tag
    if sum(1 for _ in root.iter(*specials)) != expected:
        raise _NotFlat("a header, record, client or Bsn elsewhere")
    return FlatMessage(message_type, header, records)


def _flat_header(
    element: etree._Element, plan: _FlatPlan, message_type: str
) -> tuple[Header, tuple]:
    """The Header, and its fields that land in the order of the columns."""
    m = plan.m
    children = {child.tag: child for child in element}
    fields = {tag: child.text for tag, child in children.items()}
    if (
        _required(fields, m + "BerichtCode") != MESSAGE_CODES[message_type]
        or (_required(fields, m + "BerichtVersie"), _required(fields, m + "BerichtSubversie"))
        != _EXPECTED_RELEASE
    ):
        raise _NotFlat("header")
    head = tuple(_flat_nested(children, plan.header))
    return Header(message_type, *[head[i] for i in plan.header_order]), head


def _record_fields(record: etree._Element) -> dict:
    """Tag -> text of everything inside a record, which read_messages finds by tag: refused when
    a tag repeats (then which one read_messages takes depends on nesting)."""
    pairs = [(element.tag, element.text) for element in record.iter()]
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise _NotFlat("repeated element in a record")
    return fields


def _flat_client_records(
    client: etree._Element, plan: _FlatPlan, names: tuple[str, ...], record_tag: str, head: tuple
) -> list[tuple]:
    """JW301/305/307/315: Bericht/Client/<container>/<record>..."""
    children = list(client)
    container_tag = plan.m + names[1]
    # read_messages reads the client when the first record ends: only what precedes the
    # container exists then, so the container must be the client's last (and only) one
    if not children or children[-1].tag != container_tag:
        raise _NotFlat("container")
    if any(child.tag == container_tag for child in children[:-1]):
        raise _NotFlat("second container")
    head += tuple(_flat_nested({child.tag: child for child in children}, plan.client))
    records = []
    for record in children[-1]:
        if record.tag == record_tag:
            values = _flat_values(_record_fields(record), plan)
            records.append((len(records) + 1, *head, *values, record.sourceline))
    if not records:
        raise _NotFlat("no record")
    return records


def _flat_invoice_records(
    top: etree._Element, plan: _FlatPlan, message_type: str, record_tag: str, head: tuple
) -> tuple[list[tuple], int]:
    """JW323 Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie..., JW325 the same under
    DeclaratieAntwoord; (records, number of clients)."""
    m = plan.m
    children = list(top)
    clienten_tag = m + "Clienten"
    by_tag = {child.tag: child for child in children}
    if len(by_tag) != len(children):
        raise _NotFlat("repeated element")
    clienten = by_tag.get(clienten_tag)
    answer = message_type == "JW325"
    head += tuple(_flat_nested(by_tag, plan.context))
    if answer:
        # read_messages reads what lands of the answer when the first line ends
        if clienten is not None and any(
            children.index(by_tag[tag]) > children.index(clienten) for tag in plan.context_tops
        ):
            raise _NotFlat("DeclaratieNummer after the lines")
    # read_messages reads the declaration when the first line ends: only what precedes
    # Clienten exists then
    elif clienten is None or children[-1] is not clienten:
        raise _NotFlat("Clienten")
    records: list[tuple] = []
    clients = 0
    bsn_tag, lines_tag = plan.bsn_tag, m + "Prestaties"
    code_tag = plan.code_tag
    for client in clienten if clienten is not None else ():
        if client.tag != m + "Client":
            raise _NotFlat("not a Client")
        clients += 1
        tags = [child.tag for child in client]
        if tags.count(bsn_tag) != 1 or tags.count(lines_tag) > 1:
            raise _NotFlat("Bsn")
        if lines_tag not in tags:
            continue
        if tags.index(bsn_tag) > tags.index(lines_tag):
            raise _NotFlat("Bsn after the lines")
        lines = client[tags.index(lines_tag)]
        bsn = _required({bsn_tag: client[tags.index(bsn_tag)].text}, bsn_tag)
        for record in lines:
            if record.tag != record_tag:
                continue
            f = _record_fields_with_codes(record, code_tag) if answer else _record_fields(record)
            values = _flat_values(f, plan)
            records.append((len(records) + 1, *head, bsn, *values, record.sourceline))
    if not records and not answer:
        raise _NotFlat("no record")
    return records, clients


def _flat_values(f: dict, plan: _FlatPlan) -> list:
    """A record's values that land, in column order, from its fields by tag (`_record_fields`);
    what is read but never stored is checked all the same."""
    for tag, group, convert in plan.record_checks:
        if group is None or group in f:
            convert(f.get(tag))
    return [
        convert(f.get(tag)) if group is None or group in f else None
        for tag, group, convert in plan.record
    ]


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


# --- the field table, as the fast path reads it ------------------------------------------------


def _flat_nested(children: dict[str, etree._Element], reads: tuple) -> list:
    """The values that land of the fields below one element (header, client, declaration,
    answer), all of them checked as read_messages reads them; `children` by tag."""
    values = []
    holder = children
    at: tuple | None = None
    for groups, tag, convert, keep, code_tag in reads:
        if groups != at:  # the fields of one group follow each other: read it once
            holder = children
            for group in groups:
                element = holder.get(group)
                if element is None:
                    raise _NotFlat(group)
                holder = {child.tag: child for child in element}
            at = groups
        element = holder.get(tag)
        if code_tag is None:
            value = convert(None if element is None else element.text)
        else:  # `element` holds the repeated `code_tag`: at least one code
            value = () if element is None else _codes_in(element, code_tag)
            if not value:
                raise _NotFlat("RetourCodes")
        if keep:
            values.append(value)
    return values


def _codes_in(holder: etree._Element, code_tag: str) -> tuple[str, ...]:
    return tuple(
        value for code in holder.iterchildren(code_tag) if (value := (code.text or "").strip())
    )


def _text_required(text: str | None) -> str:
    if text is None or not (text := text.strip()):
        raise _NotFlat("missing")
    return text


def _text_optional(text: str | None) -> str | None:
    return (text.strip() or None) if text is not None else None


def _date_required(text: str | None) -> date:
    return _flat_date(_text_required(text))


def _date_optional(text: str | None) -> date | None:
    value = _text_optional(text)
    return None if value is None else _flat_date(value)


def _integer_required(text: str | None) -> int:
    return _flat_integer(_text_required(text))


def _integer_optional(text: str | None) -> int | None:
    value = _text_optional(text)
    return None if value is None else _flat_integer(value)


def _number_required(text: str | None) -> str:
    return str(_integer_required(text))


def _number_optional(text: str | None) -> str | None:
    value = _integer_optional(text)
    return None if value is None else str(value)


def _debit_credit(text: str | None) -> str:
    value = _text_required(text)
    if value != "D" and value != "C":
        raise _NotFlat("DebetCredit")
    return value


def _codes_as_read(codes: tuple[str, ...]) -> tuple[str, ...]:
    return codes  # _record_fields_with_codes collected them


# converters of an element's text, by (read, required), as the _GETTERS of read_messages
_CONVERTERS = {
    ("text", True): _text_required,
    ("text", False): _text_optional,
    ("date", True): _date_required,
    ("date", False): _date_optional,
    ("integer", True): _integer_required,
    ("integer", False): _integer_optional,
    ("number", True): _number_required,
    ("number", False): _number_optional,
    ("debit_credit", True): _debit_credit,
}


@dataclass(frozen=True, slots=True)
class _FlatPlan:
    """One message type's fields as the fast path reads them (see fields.py)."""

    m: str  # "{namespace}" of the message's own elements
    # (group tags, tag, converter of the text, whether it lands, tag of repeated codes or None)
    header: tuple  # _flat_nested
    header_order: tuple[int, ...]  # where Header's fields after message_type are in `header`
    context: tuple  # JW323 declaration, JW325 answer
    context_tops: tuple[str, ...]  # JW325: the answer's elements read at the first line
    client: tuple  # JW301/305/307/315
    record: tuple  # (tag, optional group tag or None, converter of the text): what lands
    record_checks: tuple  # the same, for what is read (it may fail) but never lands
    bsn_tag: str  # JW323/325: the Client's Bsn
    code_tag: str | None  # JW325: the line's RetourCode


def _flat_nested_reads(reads: tuple[Read, ...], m: str) -> tuple:
    out = []
    for read in reads:
        tags = _tags(read, m)
        if read.read == "codes":  # read from the group holding the repeated element
            *groups, tag, code_tag = tags
            out.append((tuple(groups), tag, None, bool(read.columns), code_tag))
        else:
            convert = _CONVERTERS[_READ_AS.get(read.read, read.read), read.required]
            out.append((tuple(tags[:-1]), tags[-1], convert, bool(read.columns), None))
    return tuple(out)


def _flat_plan(table: MessageTable) -> _FlatPlan:
    m = "{" + NAMESPACE_TEMPLATE.format(code=table.message_type.lower()) + "}"
    optional = {m + group for group in table.optional_groups}
    record, checks, code_tag = [], [], None
    for read in table.part_reads("record"):
        *groups, tag = _tags(read, m)
        if read.read == "codes":
            code_tag, convert = tag, _codes_as_read
        else:
            convert = _CONVERTERS[_READ_AS.get(read.read, read.read), read.required]
        group = groups[0] if groups and groups[0] in optional else None
        if read.columns:
            record.append((tag, group, convert))
        elif read.required or read.read not in ("text", "code"):  # an optional text cannot fail
            checks.append((tag, group, convert))
    context = table.part_reads("declaration") + table.part_reads("answer")
    client = table.part_reads("client")
    header = [read.attribute for read in table.part_reads("header") if read.columns]
    return _FlatPlan(
        m=m,
        header=_flat_nested_reads(table.part_reads("header"), m),
        header_order=tuple(header.index(f.name) for f in dataclasses.fields(Header)[1:]),
        context=_flat_nested_reads(context, m),
        context_tops=tuple(_tags(read, m)[0] for read in context if read.columns),
        client=_flat_nested_reads(client, m),
        record=tuple(record),
        record_checks=tuple(checks),
        bsn_tag=_tags(client[0], m)[-1],
        code_tag=code_tag,
    )


_FLAT_PLANS = {code: _flat_plan(table) for code, table in TABLES.items()}
