"""Message identity in the runner: a re-delivered message is a no-op whatever its bytes, and a
different message under an identity already loaded is quarantined as a conflicting re-delivery
(issue 13, point 3; the decision itself is tested in test_message_identity.py)."""

from __future__ import annotations

import duckdb
import pytest

from jeugdhulp.ingest.runner import ingest_source
from tests.ijw.test_conformance import VARIANTS
from tests.support.ingest_files import (
    VALID_BSNS,
    answer_message,
    count,
    files_under,
    invoice_line,
    invoice_message,
    land,
    make_settings,
    rows,
)

REGISTRY = "SELECT landed_path, status, rows_loaded, reason FROM raw.file_registry ORDER BY 1"


def _changed_invoice(number: int) -> bytes:
    """The invoice message `number` with one line more: same identity, other content."""
    return invoice_message(number, VALID_BSNS[:3])


def test_a_reserialised_redelivery_in_a_later_run_loads_nothing(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    first = ingest_source(settings, "ijw")
    assert first.files_ingested == 1 and count(settings, "ijw_invoice_lines") == 2
    land(settings, "ijw", "2026/b.xml", VARIANTS["compact"](invoice_message(1)))
    land(settings, "ijw", "2026/c.xml", VARIANTS["utf16"](invoice_message(1)))

    second = ingest_source(settings, "ijw")

    assert count(settings, "ijw_invoice_lines") == 2
    assert (second.files_ingested, second.files_skipped_duplicate) == (0, 2)
    assert second.files_quarantined == []
    notes = dict(second.notes)
    assert notes["ijw/2026/b.xml"].startswith("same_message: JW323 D1 of 2026-03-05")
    registry = rows(settings, REGISTRY)
    assert registry == [
        ("ijw/2026/a.xml", "ingested", 2, None),
        ("ijw/2026/b.xml", "ingested", 0, None),
        ("ijw/2026/c.xml", "ingested", 0, None),
    ]
    assert files_under(settings.landing_dir) == []
    assert files_under(settings.archive_dir / "ijw") == ["2026/a.xml", "2026/b.xml", "2026/c.xml"]


def test_a_redelivery_within_one_run_loads_once(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    land(settings, "ijw", "2026/b.xml", VARIANTS["prefixes"](invoice_message(1)))
    land(settings, "ijw", "2026/c.xml", invoice_message(2))

    report = ingest_source(settings, "ijw")

    assert (report.files_ingested, report.files_skipped_duplicate) == (2, 1)
    assert count(settings, "ijw_invoice_lines") == 4
    assert rows(settings, "SELECT count(DISTINCT file_id) FROM raw.ijw_invoice_lines") == [(2,)]


def test_other_content_under_a_loaded_identity_is_quarantined(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    ingest_source(settings, "ijw")
    land(settings, "ijw", "2026/b.xml", _changed_invoice(1))

    report = ingest_source(settings, "ijw")

    assert report.files_ingested == 0
    ((path, reason),) = report.files_quarantined
    assert path == "ijw/2026/b.xml"
    assert reason.startswith(
        "conflicting_redelivery: JW323 D1 of 2026-03-05 from 12345678 to 0546 was already loaded"
    )
    assert count(settings, "ijw_invoice_lines") == 2
    assert rows(settings, "SELECT sum(amount_cents) FROM raw.ijw_invoice_lines") == [(124800,)]
    assert rows(
        settings, "SELECT status FROM raw.file_registry WHERE landed_path = 'ijw/2026/b.xml'"
    ) == [("quarantined",)]
    assert files_under(settings.quarantine_dir / "ijw") == ["2026/b.xml", "2026/b.xml.reason.txt"]
    reason_file = (settings.quarantine_dir / "ijw" / "2026" / "b.xml.reason.txt").read_text()
    assert "conflicting_redelivery" in reason_file


def test_a_conflict_within_one_run_keeps_the_first(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    land(settings, "ijw", "2026/b.xml", _changed_invoice(1))

    report = ingest_source(settings, "ijw")

    assert report.files_ingested == 1
    assert [p for p, _ in report.files_quarantined] == ["ijw/2026/b.xml"]
    assert rows(settings, "SELECT sum(amount_cents) FROM raw.ijw_invoice_lines") == [(124800,)]


def test_other_message_types_and_identifiers_are_new(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    # the same identifier from the other party is another message
    land(settings, "ijw", "2026/b.xml", answer_message(1, (invoice_line("R1-0"),)))
    land(settings, "ijw", "2026/c.xml", invoice_message(3))
    report = ingest_source(settings, "ijw")
    assert (report.files_ingested, report.files_skipped_duplicate) == (3, 0)


def test_a_warehouse_from_before_message_identity_is_caught_up(tmp_path):
    """A warehouse loaded before the identity index existed: the index is filled from raw."""
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    ingest_source(settings, "ijw")
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("DROP TABLE raw.ijw_message_identities")
    con.close()
    land(settings, "ijw", "2026/b.xml", VARIANTS["crlf"](invoice_message(1)))
    land(settings, "ijw", "2026/c.xml", _changed_invoice(1))

    report = ingest_source(settings, "ijw")

    assert (report.files_ingested, report.files_skipped_duplicate) == (0, 1)
    assert [p for p, _ in report.files_quarantined] == ["ijw/2026/c.xml"]
    assert count(settings, "ijw_invoice_lines") == 2


def test_a_message_taken_out_is_free_again(tmp_path):
    """A message an operator took out (`jeugdhulp quarantine`) no longer holds its identity: the
    corrected message loads."""
    from jeugdhulp.ingest.takeout import take_out

    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", invoice_message(1))
    ingest_source(settings, "ijw")
    (file_id,) = rows(settings, "SELECT file_id FROM raw.file_registry")[0]
    take_out(settings, file_id, "wrong amounts")
    land(settings, "ijw", "2026/b.xml", _changed_invoice(1))

    report = ingest_source(settings, "ijw")

    assert (report.files_ingested, report.files_quarantined) == (1, [])
    assert count(settings, "ijw_invoice_lines") == 3


def _answer(number: int, rejected: int) -> bytes:
    """A JW325 with identity A<number>, rejecting `rejected` lines (0: a message without rows)."""
    return answer_message(number, tuple(invoice_line(f"R1-{i}") for i in range(rejected)))


@pytest.mark.parametrize("first, second", [(0, 2), (2, 0)])
def test_an_answer_without_rows_has_an_identity_too(tmp_path, first, second):
    """A JW325 accepting everything (no rows) and one rejecting lines, under one identity, in
    either order: a conflict, not two answers."""
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", _answer(1, first))
    assert ingest_source(settings, "ijw").files_ingested == 1
    land(settings, "ijw", "2026/b.xml", _answer(1, second))
    land(settings, "ijw", "2026/c.xml", VARIANTS["compact"](_answer(1, first)))

    report = ingest_source(settings, "ijw")

    assert report.files_ingested == 0 and report.files_skipped_duplicate == 1
    assert [p for p, _ in report.files_quarantined] == ["ijw/2026/b.xml"]
    assert report.files_quarantined[0][1].startswith("conflicting_redelivery: JW325 A1")
    assert count(settings, "ijw_rejected_lines") == first


def test_answers_without_rows_in_one_run(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2026/a.xml", _answer(1, 0))
    land(settings, "ijw", "2026/b.xml", VARIANTS["crlf"](_answer(1, 0)))
    land(settings, "ijw", "2026/c.xml", _answer(1, 1))
    report = ingest_source(settings, "ijw")
    assert (report.files_ingested, report.files_skipped_duplicate) == (1, 1)
    assert [p for p, _ in report.files_quarantined] == ["ijw/2026/c.xml"]
    assert count(settings, "ijw_rejected_lines") == 0
