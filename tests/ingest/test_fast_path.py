"""Ingestion's fast reader path (`reader.read_flat`) gives exactly the rows of the streaming reader.

`parse_ijw` takes `read_flat` where it vouches for a file and the record-building reader
(`read_messages`) otherwise; both must give the same raw rows, and files the fast path is unsure
of must fall through to the streaming reader, which decides (reads or refuses).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from jeugdhulp.ijw.errors import IjwReadError
from jeugdhulp.ijw.reader import read_flat, read_messages
from jeugdhulp.ingest.ijw_rows import _flat_rows, _row
from jeugdhulp.ingest.parsed import ClientKeys
from jeugdhulp.synthetic import generate

KEYS = ClientKeys("test-key-not-secret")


def streaming_rows(data: bytes) -> list[tuple]:
    return [_row(item, KEYS) for item in read_messages(io.BytesIO(data))]


@pytest.fixture(scope="module")
def ijw_files(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("fast_path")
    generate(out, profile="tiny", seed=7, as_of=date(2026, 10, 15), progress=False)
    return sorted((out / "landing" / "ijw").rglob("*.xml"))


def test_fast_path_rows_equal_the_streaming_reader_on_every_tiny_file(ijw_files):
    taken = refused = 0
    for path in ijw_files:
        data = path.read_bytes()
        flat = read_flat(data)
        try:
            expected = streaming_rows(data)
        except IjwReadError:
            assert flat is None, path  # the fast path must never accept what the reader refuses
            refused += 1
            continue
        if flat is None:
            continue
        taken += 1
        assert _flat_rows(flat, KEYS).tables.popitem()[1].rows == expected, path
    assert refused >= 2  # the generator's malformed and iJw 3.0 files
    assert taken >= 0.95 * (len(ijw_files) - refused)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.replace(b"?>", b"?><!-- opmerking -->", 1),  # a comment: not the usual shape
        lambda d: d.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1),  # another encoding
        lambda d: d[: len(d) // 2],  # truncated
        lambda d: d.replace(b"<", b"<!DOCTYPE x>\n<", 1),  # a DTD
    ],
)
def test_files_the_fast_path_is_unsure_of_go_to_the_streaming_reader(ijw_files, change):
    data = change(next(p for p in ijw_files if p.name.startswith("JW323")).read_bytes())
    assert read_flat(data) is None


def _blanked(data: bytes) -> list[bytes]:
    """The file once per leaf element, that element's text replaced by whitespace only."""
    from lxml import etree

    root = etree.fromstring(data)
    variants = []
    for index, element in enumerate(root.iter()):
        if len(element) or element.text is None:
            continue
        copy = etree.fromstring(data)
        leaf = list(copy.iter())[index]
        leaf.text = " \n\t "
        variants.append(etree.tostring(copy, xml_declaration=True, encoding="UTF-8"))
    return variants


def test_blank_values_read_alike_in_both_paths(ijw_files):
    """The fast path drops text nodes of whitespace only (remove_blank_text): a value that is
    blank must read exactly as the streaming reader reads it (missing), or not be vouched for."""
    checked = 0
    for kind in ("JW301", "JW305", "JW307", "JW315", "JW323", "JW325"):
        path = next(p for p in ijw_files if p.name.startswith(kind))
        for data in _blanked(path.read_bytes()):
            flat = read_flat(data)
            try:
                expected = streaming_rows(data)
            except IjwReadError:
                assert flat is None, (path.name, data[:300])
                continue
            if flat is not None:
                checked += 1
                assert _flat_rows(flat, KEYS).tables.popitem()[1].rows == expected, path.name
    assert checked >= 20  # optional values blanked: the fast path still vouches for the file


def _with_stray(data: bytes, local: str) -> list[bytes]:
    """The file once per element of the tree, a copy of its first `local` element (a header, a
    record, a client or a Bsn) added inside that element: somewhere the reader does not expect."""
    from lxml import etree

    root = etree.fromstring(data)
    model = next((e for e in root.iter() if etree.QName(e).localname == local), None)
    if model is None:
        return []
    variants = []
    for index in range(sum(1 for _ in root.iter())):
        copy = etree.fromstring(data)
        host = list(copy.iter())[index]
        if host.text and host.text.strip():
            continue  # not inside a value
        host.append(copy.makeelement(model.tag))
        host[-1].extend(etree.fromstring(etree.tostring(model)))
        variants.append(etree.tostring(copy, xml_declaration=True, encoding="UTF-8"))
    return variants


@pytest.mark.parametrize("local", ["Header", "Client", "Bsn", "Prestatie", "ToegewezenProduct"])
def test_a_stray_header_record_client_or_bsn_is_never_vouched_for_wrongly(ijw_files, local):
    """The fast path counts those elements in the whole tree: one more anywhere (where the
    streaming reader might take it) means it does not vouch, or reads exactly the same rows."""
    tried = 0
    for kind in ("JW301", "JW323", "JW325"):
        path = next(p for p in ijw_files if p.name.startswith(kind))
        for data in _with_stray(path.read_bytes(), local):
            tried += 1
            flat = read_flat(data)
            if flat is None:
                continue
            assert _flat_rows(flat, KEYS).tables.popitem()[1].rows == streaming_rows(data)
    assert tried >= 10
