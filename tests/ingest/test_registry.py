"""File registry, archive moves and idempotence: every file is read once, identified by its SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from jeugdhulp.ingest import ingest_all, ingest_source, pending_files
from jeugdhulp.sources import SOURCES
from tests.support.ingest_files import (
    allocation_message,
    answer_message,
    count,
    files_under,
    invoice_message,
    land,
    make_settings,
    rows,
    snapshot,
)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def test_files_are_registered_in_path_order_and_moved_to_the_archive(settings):
    land(settings, "ijw", "b/second.xml", invoice_message(2))
    land(settings, "ijw", "a/first.xml", allocation_message(1, records=3))
    land(settings, "ijw", "c.xml", allocation_message(3))
    progress = []

    report = ingest_source(
        settings, "ijw", workers=1, progress=lambda d, t, p: progress.append((d, t, p.name))
    )

    assert (report.files_seen, report.files_ingested, report.files_skipped_duplicate) == (3, 3, 0)
    assert report.rows_loaded == {"ijw_allocations": 4, "ijw_invoice_lines": 2}
    assert progress == [(1, 3, "first.xml"), (2, 3, "second.xml"), (3, 3, "c.xml")]
    assert files_under(settings.landing_dir) == []
    assert files_under(settings.archive_dir) == ["ijw/a/first.xml", "ijw/b/second.xml", "ijw/c.xml"]
    first_id = hashlib.sha256((settings.archive_dir / "ijw/a/first.xml").read_bytes()).hexdigest()
    assert rows(
        settings,
        "SELECT file_id, source, landed_path, stored_path, status, reason, content_type, rows_loaded, ingested_seq, size_bytes > 0 FROM raw.file_registry ORDER BY ingested_seq",
    )[0] == (
        first_id,
        "ijw",
        "ijw/a/first.xml",
        "archive/ijw/a/first.xml",
        "ingested",
        None,
        "JW301",
        3,
        1,
        True,
    )
    assert rows(
        settings,
        "SELECT landed_path, content_type, rows_loaded, ingested_seq FROM raw.file_registry ORDER BY ingested_seq",
    ) == [
        ("ijw/a/first.xml", "JW301", 3, 1),
        ("ijw/b/second.xml", "JW323", 2, 2),
        ("ijw/c.xml", "JW301", 1, 3),
    ]
    assert rows(
        settings,
        "SELECT DISTINCT file_id FROM raw.ijw_allocations ORDER BY record_position LIMIT 1",
    )[0][0] in {r[0] for r in rows(settings, "SELECT file_id FROM raw.file_registry")}


def test_same_bytes_twice_in_one_delivery_load_once(settings):
    land(settings, "ijw", "x.xml", allocation_message(1, records=2))
    land(settings, "ijw", "copy/x.xml", allocation_message(1, records=2))
    report = ingest_source(settings, "ijw", workers=1)
    assert (report.files_ingested, report.files_skipped_duplicate) == (1, 1)
    assert count(settings, "ijw_allocations") == 2
    assert count(settings, "file_registry") == 1
    assert files_under(settings.archive_dir) == ["ijw/copy/x.xml", "ijw/x.xml"]


def test_rerun_and_redelivery_change_nothing(settings):
    land(settings, "ijw", "x.xml", allocation_message(1, records=2))
    land(
        settings, "reference", "providers.csv", "agb_code;name;contract_type\n12345678;A;maatwerk\n"
    )
    ingest_all(settings, workers=1)
    before = snapshot(settings)

    again = ingest_all(settings, workers=1)  # nothing waiting
    assert {s: (r.files_seen, r.rows_loaded) for s, r in again.items()} == {
        source: (0, {})
        for source in SOURCES  # every landing source, none with anything waiting
    }
    assert snapshot(settings) == before

    # the same file delivered again under the same name: no-op, archived beside the first copy
    land(settings, "ijw", "x.xml", allocation_message(1, records=2))
    report = ingest_source(settings, "ijw", workers=1)
    assert (report.files_ingested, report.files_skipped_duplicate) == (0, 1)
    assert snapshot(settings) == before
    file_id = rows(settings, "SELECT file_id FROM raw.file_registry WHERE source = 'ijw'")[0][0]
    assert files_under(settings.archive_dir / "ijw") == sorted(["x.xml", f"x.{file_id[:12]}.xml"])
    assert files_under(settings.landing_dir) == []


def test_new_content_under_a_used_name_is_loaded_and_archived_without_overwriting(settings):
    land(settings, "ijw", "x.xml", allocation_message(1))
    ingest_source(settings, "ijw", workers=1)
    land(settings, "ijw", "x.xml", allocation_message(2))
    report = ingest_source(settings, "ijw", workers=1)
    assert report.files_ingested == 1
    second = rows(
        settings,
        "SELECT file_id, stored_path, ingested_seq FROM raw.file_registry ORDER BY ingested_seq",
    )[1]
    assert second[1:] == (f"archive/ijw/x.{second[0][:12]}.xml", 2)
    assert count(settings, "ijw_allocations") == 2
    assert (settings.data_dir / second[1]).read_bytes() == allocation_message(2)
    assert (settings.archive_dir / "ijw" / "x.xml").read_bytes() == allocation_message(1)


def test_reference_snapshots_are_kept_and_the_latest_is_found_by_ingested_seq(settings):
    land(
        settings,
        "reference",
        "providers.csv",
        "agb_code;name;contract_type\n12345678;Oud;maatwerk\n",
    )
    ingest_source(settings, "reference", workers=1)
    land(
        settings,
        "reference",
        "providers_2026-02.csv",
        "agb_code;name;contract_type\n12345678;Nieuw;raamcontract\n87654321;Erbij;maatwerk\n",
    )
    ingest_source(settings, "reference", workers=1)
    assert count(settings, "reference_providers") == 3  # append-only
    latest = rows(
        settings,
        """
        SELECT p.agb_code, p.name FROM raw.reference_providers p
        WHERE p.file_id = (SELECT file_id FROM raw.file_registry
                           WHERE status = 'ingested' AND content_type = 'providers'
                           ORDER BY ingested_seq DESC LIMIT 1)
        ORDER BY p.agb_code""",
    )
    assert latest == [("12345678", "Nieuw"), ("87654321", "Erbij")]


def test_a_quarantined_file_put_back_is_read_again_and_its_entry_replaced(settings):
    land(settings, "pgb", "p.csv", "bsn;gemeente_code\n999900006;0546\n")
    ingest_source(settings, "pgb", workers=1)
    # an operator puts it back (e.g. after a fix); it is read again, not skipped as a duplicate
    (settings.quarantine_dir / "pgb" / "p.csv").rename(settings.landing_dir / "pgb" / "p.csv")
    report = ingest_source(settings, "pgb", workers=1)
    assert len(report.files_quarantined) == 1 and report.files_skipped_duplicate == 0
    file_id = rows(settings, "SELECT file_id FROM raw.file_registry")[0][0]
    # its old reason file still holds the first spot, so the second stay gets the hash in its name
    assert rows(settings, "SELECT status, stored_path, ingested_seq FROM raw.file_registry") == [
        ("quarantined", f"quarantine/pgb/p.{file_id[:12]}.csv", 1)  # same place in the order
    ]
    assert files_under(settings.quarantine_dir / "pgb") == sorted(
        [
            "p.csv.reason.txt",
            f"p.{file_id[:12]}.csv",
            f"p.{file_id[:12]}.csv.reason.txt",
        ]
    )


def test_pending_files_lists_in_processing_order_and_skips_uploads_in_progress(settings):
    land(settings, "ijw", "b.xml", b"x")
    land(settings, "ijw", "a/z.xml", b"x")
    land(settings, "ijw", ".c.xml.part", b"x")
    land(settings, "ijw", ".tmp/d.xml", b"x")
    assert [
        p.relative_to(settings.landing_dir).as_posix() for p in pending_files(settings, "ijw")
    ] == [
        "ijw/a/z.xml",
        "ijw/b.xml",
    ]
    assert pending_files(settings, "pgb") == []
    with pytest.raises(ValueError, match="unknown landing source"):
        pending_files(settings, "facturen")


def test_missing_pseudonym_key_refuses_to_start(tmp_path):
    from dataclasses import replace

    from jeugdhulp.settings import SettingsError

    settings = replace(make_settings(tmp_path), pseudonym_key=None)
    with pytest.raises(SettingsError, match="JEUGDHULP_PSEUDONYM_KEY"):
        ingest_source(settings, "ijw")


def test_an_answer_rejecting_nothing_is_ingested_with_no_rows(settings):
    land(settings, "ijw", "jw325.xml", answer_message(5, ()))
    report = ingest_source(settings, "ijw", workers=1)
    assert (report.files_ingested, report.rows_loaded) == (1, {"ijw_rejected_lines": 0})
    assert rows(settings, "SELECT content_type, rows_loaded, status FROM raw.file_registry") == [
        ("JW325", 0, "ingested")
    ]
