"""Conformance: every valid serialisation of an iJw message gives exactly the same raw rows.

The identity of a record is its place in the message (`record_position`: the ordinal of the
record in the message), never the layout of the bytes; the source line is diagnostic only
(`source_line`). The originals are the pretty-printed messages of all six types (the writer's
output, as in test_codec.py); each variant re-serialises one: compact on one line, CRLF or CR-only
line ends, a byte order mark, other namespace prefixes or default namespaces everywhere, comments
and processing instructions between the elements, CDATA text, and the encodings an XML
declaration may name. Each variant set is ingested into a fresh warehouse and its raw rows are
compared with the original's, without the diagnostics (file_id, source_line).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from functools import cache

import duckdb
import pytest
from lxml import etree

from jeugdhulp.ijw.reader import read_flat, read_messages
from jeugdhulp.ingest import ingest_source
from jeugdhulp.ingest.ijw_rows import COLUMNS, TABLE_OF_MESSAGE, _flat_rows, _row, parse_ijw
from jeugdhulp.ingest.parsed import ClientKeys
from jeugdhulp.synthetic.ijw_writer import write_message
from tests.ijw.test_codec import BUILDERS, jw301
from tests.support.ingest_files import land, make_settings

KEYS = ClientKeys("test-key-not-secret")
DIAGNOSTIC = {"file_id", "source_line"}  # where the bytes were, not what the message says


@cache
def originals() -> dict[str, bytes]:
    """The pretty-printed original of each message type; JW301 with a non-ASCII stored value,
    so the encodings matter."""
    messages = {code: build() for code, build in BUILDERS.items()}
    jw = jw301()
    first = replace(jw.records[0], provider_reference="Zoë-Müller 1")
    messages["JW301"] = replace(jw, records=(first, *jw.records[1:]))
    return {code: write_message(message) for code, message in messages.items()}


# --- serialisations ---------------------------------------------------------------------------


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(remove_blank_text=True))


def _serialise(root: etree._Element, encoding: str = "UTF-8") -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding=encoding)


def compact(data: bytes) -> bytes:
    return _serialise(_tree(data))


def _copy(element: etree._Element, nsmap_of: Callable[[etree._Element], dict]) -> etree._Element:
    """A copy of the tree whose elements declare the namespaces `nsmap_of` gives them."""
    copy = etree.Element(element.tag, nsmap=nsmap_of(element))
    copy.text = element.text
    copy.tail = element.tail
    for child in element:
        if isinstance(child.tag, str):
            copy.append(_copy(child, nsmap_of))
    return copy


def prefixed(data: bytes) -> bytes:
    """Every namespace under a prefix of its own, no default namespace."""
    root = etree.fromstring(data)
    names = {ns: f"n{i}" for i, ns in enumerate(sorted(set(root.nsmap.values())))}
    return _serialise(_copy(root, lambda _e: {p: ns for ns, p in names.items()}))


def defaulted(data: bytes) -> bytes:
    """Every element in the default namespace, redeclared wherever it changes."""
    root = etree.fromstring(data)
    return _serialise(_copy(root, lambda e: {None: etree.QName(e).namespace}))


def commented(data: bytes) -> bytes:
    """A comment and a processing instruction before and inside every element, one after it."""
    root = etree.fromstring(data)
    for element in list(root.iter()):
        if element is root:
            continue
        element.addprevious(etree.Comment(" voor "))
        element.addprevious(etree.ProcessingInstruction("verwerk", "iets"))
        element.insert(0, etree.Comment(" binnen "))
        element.addnext(etree.Comment(" na "))
    text = _serialise(root)
    return text.replace(b"?>", b"?>\n<!-- kop --><?pi x?>", 1) + b"<!-- slot -->\n"


def cdata(data: bytes) -> bytes:
    root = etree.fromstring(data)
    for element in root.iter():
        if len(element) == 0 and element.text:
            element.text = etree.CDATA(element.text)
    return _serialise(root)


def _encoded(encoding: str) -> Callable[[bytes], bytes]:
    def variant(data: bytes) -> bytes:
        return _serialise(etree.fromstring(data), encoding)

    return variant


def _compact_crlf_mix(data: bytes) -> bytes:
    text = prefixed(compact(data)).replace(b"><", b">\r<")
    return b"\xef\xbb\xbf" + text


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "compact": compact,
    "crlf": lambda d: d.replace(b"\n", b"\r\n"),
    "cr_only": lambda d: d.replace(b"\n", b"\r"),
    "bom": lambda d: b"\xef\xbb\xbf" + d,
    "prefixes": prefixed,
    "default_namespaces": defaulted,
    "comments_and_pis": commented,
    "cdata": cdata,
    "utf16": _encoded("UTF-16"),
    "utf16_compact": lambda d: _serialise(_tree(d), "UTF-16"),
    "latin1": _encoded("ISO-8859-1"),
    "windows1252": _encoded("windows-1252"),
    "compact_cr_bom_prefixes": _compact_crlf_mix,
}


def _identity(rows: list[tuple], table: str) -> list[tuple]:
    """Rows without diagnostic columns, sorted."""
    columns = COLUMNS[table]
    keep = [i for i, c in enumerate(columns) if c not in DIAGNOSTIC]
    return sorted((tuple(row[i] for i in keep) for row in rows), key=repr)


def _parsed(data: bytes) -> tuple[str, list[tuple]]:
    parsed = parse_ijw(data, KEYS)
    ((table, rows),) = parsed.tables.items()
    return table, rows.rows


# --- the parsing level: fast, every type x every variant ---------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("message_type", sorted(BUILDERS))
def test_every_serialisation_parses_to_the_rows_of_the_original(message_type, variant):
    original = originals()[message_type]
    data = VARIANTS[variant](original)
    assert data != original
    table, expected = _parsed(original)
    got_table, got = _parsed(data)
    assert got_table == table == TABLE_OF_MESSAGE[message_type]
    assert _identity(got, table) == _identity(expected, table)
    # both reader paths agree on the variant, diagnostics included
    streamed = [_row(item, KEYS) for item in read_messages(io.BytesIO(data))]
    flat = read_flat(data)
    if flat is not None:
        assert _flat_rows(flat, KEYS).tables[table].rows == streamed
    # the identity is unique within the message
    position = COLUMNS[table].index("record_position")
    assert len({row[position] for row in got}) == len(got)


def test_a_jw323_on_one_line_has_one_position_per_line():
    data = compact(originals()["JW323"])
    assert data.count(b"\n") <= 1
    table, rows = _parsed(data)
    positions = [row[COLUMNS[table].index("record_position")] for row in rows]
    assert sorted(positions) == list(range(1, len(rows) + 1))


# --- the warehouse level: each variant set ingested into a fresh warehouse ----------------------


def _warehouse_rows(tmp_path, name: str, files: dict[str, bytes]) -> dict[str, list[tuple]]:
    settings = make_settings(tmp_path / name)
    for message_type, data in files.items():
        land(settings, "ijw", f"{message_type}_{name}.xml", data)
    report = ingest_source(settings, "ijw", workers=1)
    assert report.files_quarantined == [], (name, report)
    assert report.files_ingested == len(files), (name, report)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        result = {}
        for table in TABLE_OF_MESSAGE.values():
            present = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            columns = ", ".join(c for c in present if c not in DIAGNOSTIC)
            result[table] = con.execute(
                f"select {columns} from raw.{table} order by all"
            ).fetchall()
        return result
    finally:
        con.close()


def test_every_variant_lands_the_raw_rows_of_the_pretty_original(tmp_path):
    expected = _warehouse_rows(tmp_path, "original", originals())
    assert all(expected.values())
    differing = []
    for name, variant in VARIANTS.items():
        files = {code: variant(data) for code, data in originals().items()}
        if _warehouse_rows(tmp_path, name, files) != expected:
            differing.append(name)
    assert differing == []
