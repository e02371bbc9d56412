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
