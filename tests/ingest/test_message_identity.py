"""Message identity: a re-delivered message is a no-op when its content is the same, whatever its
bytes; different content under the same identity is a conflict (quarantine, with the reason)."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from jeugdhulp.ingest.ijw_rows import parse_ijw
from jeugdhulp.ingest.message_identity import content_digest, decide_redelivery, identity_of
from jeugdhulp.ingest.parsed import ClientKeys, ParsedFile
from jeugdhulp.ingest.raw_tables import ensure_raw_schema
from jeugdhulp.synthetic.ijw_writer import write_message
from tests.ijw.test_codec import BUILDERS, invoice_line, jw323
from tests.ijw.test_conformance import VARIANTS

KEYS = ClientKeys("test-key-not-secret")


def _load(con, parsed: ParsedFile, file_id: str) -> None:
    ((table, rows),) = parsed.tables.items()
    columns = ("file_id", *rows.columns)
    marks = ", ".join("?" for _ in columns)
    con.executemany(
        f"insert into raw.{table} ({', '.join(columns)}) values ({marks})",
        [(file_id, *row) for row in rows.rows],
    )


@pytest.fixture
def con():
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("message_type", sorted(BUILDERS))
def test_a_reserialised_redelivery_is_a_no_op(con, message_type):
    original = write_message(BUILDERS[message_type]())
    parsed = parse_ijw(original, KEYS)
    assert decide_redelivery(con, parsed).kind == "new"
    _load(con, parsed, "a" * 64)
    for name in ("compact", "utf16", "prefixes", "comments_and_pis"):
        again = parse_ijw(VARIANTS[name](original), KEYS)
        decision = decide_redelivery(con, again)
        assert (decision.kind, decision.earlier_file_id) == ("same_content", "a" * 64), name
        assert not decision.load


def test_different_content_under_the_same_identity_is_a_conflict(con):
    _load(con, parse_ijw(write_message(jw323()), KEYS), "b" * 64)
    changed = jw323()
    changed = replace(changed, records=(*changed.records, invoice_line(9)))
    decision = decide_redelivery(con, parse_ijw(write_message(changed), KEYS))
    assert decision.kind == "conflict" and not decision.load
    assert decision.reason.startswith("conflicting_redelivery: JW323 M2026000001 of 2026-05-04")
    # another identifier is another message
    other = replace(changed, header=replace(changed.header, message_id="M2026000002"))
    assert decide_redelivery(con, parse_ijw(write_message(other), KEYS)).kind == "new"


def test_the_digest_ignores_diagnostics_and_row_order():
    parsed = parse_ijw(write_message(jw323()), KEYS)
    rows = parsed.tables["ijw_invoice_lines"]
    at = rows.columns.index("source_line")
    moved = [row[:at] + (row[at] + 100,) + row[at + 1 :] for row in reversed(rows.rows)]
    assert content_digest(rows.columns, moved) == content_digest(rows.columns, rows.rows)
    assert identity_of(parsed).message_id == "M2026000001"


def test_files_earlier_in_the_same_batch_count(con):
    first = decide_redelivery(con, parse_ijw(write_message(jw323()), KEYS))
    assert first.kind == "new" and first.digest
    earlier = {first.identity: {"c" * 64: first.digest}}
    compact = VARIANTS["compact"](write_message(jw323()))
    again = decide_redelivery(con, parse_ijw(compact, KEYS), earlier)
    assert (again.kind, again.earlier_file_id) == ("same_content", "c" * 64)
