"""Moves after the commit that cannot go as planned (docs/contract.md §2, "A move never
overwrites"): a file archived where a later delivery has a folder, names grown past NAME_MAX by a
hash suffix, a mask or a reason file, and moves that fail anyway. The run completes, every file
ends in archive/ or quarantine/ (or is listed as left in landing/), the registry names where it
is, and the next run succeeds."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from jeugdhulp.ingest import ingest_source, runner, worker
from jeugdhulp.ingest.landing import REASON_SUFFIX
from tests.support.ingest_files import (
    VALID_BSNS,
    allocation_message,
    count,
    files_under,
    invoice_message,
    land,
    make_settings,
    rows,
)

NAME_MAX = 255
LONG = "x" * 246 + ".xml"  # 250 bytes: room for neither `.<sha12>` nor `.reason.txt`
BAD = b"<not xml"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _registry(settings) -> dict[str, tuple[str, str | None]]:
    found = rows(settings, "SELECT file_id, status, stored_path FROM raw.file_registry")
    return {file_id: (status, stored) for file_id, status, stored in found}


def _all_placed(settings) -> None:
    """Landing is empty; every registered file is where its stored_path says, with its bytes (a
    quarantined one with its reason file); every name below archive/ and quarantine/ fits."""
    assert files_under(settings.landing_dir) == []
    for file_id, (status, stored) in _registry(settings).items():
        assert stored, file_id
        path = settings.data_dir / stored
        assert _sha(path.read_bytes()) == file_id, stored
        if status == "quarantined":
            assert os.path.isfile(str(path) + REASON_SUFFIX), stored
    for root in (settings.archive_dir, settings.quarantine_dir):
        for relative in files_under(root):
            assert all(len(os.fsencode(part)) <= NAME_MAX for part in relative.split("/"))


# --- a file first, then a folder of that name ---------------------------------------------------


def test_a_folder_delivered_where_a_file_was_archived_goes_to_a_renamed_folder(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2025-06", allocation_message(1))  # no extension: archived as a file
    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1
    land(settings, "ijw", "2025-06/JW301.xml", allocation_message(2))
    land(settings, "ijw", "2025-07.xml", allocation_message(3))

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_ingested, report.files_left) == (2, [])
    assert files_under(settings.archive_dir / "ijw") == [
        "2025-06",
        "2025-06.folder/JW301.xml",
        "2025-07.xml",
    ]
    _all_placed(settings)
    assert _registry(settings)[_sha(allocation_message(2))] == (
        "ingested",
        "archive/ijw/2025-06.folder/JW301.xml",
    )
    # a later delivery into that folder joins the same renamed folder
    land(settings, "ijw", "2025-06/JW302.xml", allocation_message(4))
    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1
    assert "2025-06.folder/JW302.xml" in files_under(settings.archive_dir / "ijw")
    _all_placed(settings)
    assert count(settings, "ijw_allocations") == 4


def test_a_folder_quarantined_where_a_file_was_quarantined_goes_to_a_renamed_folder(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "q", BAD)
    assert len(ingest_source(settings, "ijw", workers=1).files_quarantined) == 1
    land(settings, "ijw", "q/bad.xml", BAD + b" either")
    land(settings, "ijw", "r.xml", allocation_message(1))

    report = ingest_source(settings, "ijw", workers=1)

    assert (len(report.files_quarantined), report.files_ingested, report.files_left) == (1, 1, [])
    assert files_under(settings.quarantine_dir / "ijw") == [
        "q",
        "q.folder/bad.xml",
        "q.folder/bad.xml.reason.txt",
        "q.reason.txt",
    ]
    _all_placed(settings)
    assert ingest_source(settings, "ijw", workers=1).files_seen == 0


def test_a_file_in_the_way_of_a_deeper_folder_and_of_the_renamed_one_too(tmp_path):
    settings = make_settings(tmp_path)
    (settings.archive_dir / "ijw" / "a").mkdir(parents=True)
    (settings.archive_dir / "ijw" / "a" / "b").write_bytes(b"a file where a folder goes")
    (settings.archive_dir / "ijw" / "a" / "b.folder").write_bytes(b"and its first new name")
    land(settings, "ijw", "a/b/c/m.xml", allocation_message(1))

    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1

    assert "a/b.folder-2/c/m.xml" in files_under(settings.archive_dir / "ijw")
    _all_placed(settings)


# --- names that outgrow NAME_MAX ----------------------------------------------------------------


def test_a_long_name_delivered_again_gets_a_shortened_archive_name(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", LONG, allocation_message(1))
    ingest_source(settings, "ijw", workers=1)
    land(settings, "ijw", LONG, allocation_message(2))  # the same name, other content
    land(settings, "ijw", "later.xml", allocation_message(3))

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_ingested, report.files_left) == (2, [])
    [other] = set(files_under(settings.archive_dir / "ijw")) - {LONG, "later.xml"}
    assert other.startswith("xxx") and other.endswith(f".{_sha(allocation_message(2))[:12]}.xml")
    assert len(other.encode()) <= NAME_MAX
    _all_placed(settings)
    assert ingest_source(settings, "ijw", workers=1).files_seen == 0


def test_a_255_byte_name_whose_target_is_taken_is_shortened(tmp_path):
    settings = make_settings(tmp_path)
    name = "B" * 251 + ".xml"
    (settings.archive_dir / "ijw").mkdir(parents=True)
    (settings.archive_dir / "ijw" / name).write_bytes(b"old")
    land(settings, "ijw", name, allocation_message(1))
    land(settings, "ijw", "ok.xml", allocation_message(2))

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_ingested, report.files_left) == (2, [])
    assert len(files_under(settings.archive_dir / "ijw")) == 3
    _all_placed(settings)


def test_a_255_byte_name_holding_a_bsn_is_shortened_when_masked(tmp_path):
    settings = make_settings(tmp_path)
    name = "A" * 242 + f"{VALID_BSNS[0]}.xml"  # 255 bytes; `BSN-masked` is one longer
    land(settings, "ijw", name, allocation_message(1))
    land(settings, "ijw", "ok.xml", allocation_message(2))

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_ingested, report.files_left) == (2, [])
    [archived] = set(files_under(settings.archive_dir / "ijw")) - {"ok.xml"}
    assert archived.startswith("AAA") and archived.endswith(".xml")
    assert VALID_BSNS[0] not in archived and len(archived.encode()) <= NAME_MAX
    _all_placed(settings)


def test_shortening_never_makes_nine_digits_of_a_longer_number(tmp_path):
    settings = make_settings(tmp_path)
    name = "A" * 236 + "1234567890.xml"  # ten digits (not a BSN); nine of them would pass
    (settings.archive_dir / "ijw").mkdir(parents=True)
    (settings.archive_dir / "ijw" / name).write_bytes(b"old")
    land(settings, "ijw", name, allocation_message(1))

    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1

    [archived] = set(files_under(settings.archive_dir / "ijw")) - {name}
    assert "123456789" not in archived
    _all_placed(settings)


def test_a_quarantined_long_name_keeps_room_for_its_reason_file(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "ijw", LONG, BAD)
    land(settings, "ijw", "ok.xml", allocation_message(1))

    report = ingest_source(settings, "ijw", workers=1)

    assert (len(report.files_quarantined), report.files_ingested, report.files_left) == (1, 1, [])
    quarantined = files_under(settings.quarantine_dir / "ijw")
    assert len(quarantined) == 2 and quarantined[1] == quarantined[0] + REASON_SUFFIX
    assert quarantined[0].endswith(f".{_sha(BAD)[:12]}.xml")
    _all_placed(settings)
    assert ingest_source(settings, "ijw", workers=1).files_seen == 0


def test_in_worker_processes_too(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "PARALLEL_FROM_FILES", 16)  # a pool even for these few files
    settings = make_settings(tmp_path)
    land(settings, "ijw", "2025-06", allocation_message(1))
    land(settings, "ijw", LONG, allocation_message(2))
    ingest_source(settings, "ijw", workers=1)
    for n in range(20):
        land(settings, "ijw", f"2025-06/m{n:02d}.xml", invoice_message(n))
    land(settings, "ijw", LONG, allocation_message(3))
    land(settings, "ijw", "x" * 246 + ".bad", BAD)

    report = ingest_source(settings, "ijw", workers=2)

    assert (report.files_ingested, len(report.files_quarantined)) == (21, 1)
    assert report.files_left == []
    _all_placed(settings)


# --- the last line of defence: a move that fails anyway ---------------------------------------------


def _failing_moves(monkeypatch, *, fallback_too: bool = False):
    real = worker.move_file

    def move(source, target):
        if fallback_too or "_unplaceable" not in str(target):
            raise OSError(errno.EIO, "Input/output error", str(target))
        real(source, target)

    monkeypatch.setattr(worker, "move_file", move)


def test_a_move_that_fails_after_the_commit_goes_to_the_fallback_folder(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "a.xml", allocation_message(1))
    land(settings, "ijw", "sub/c.xml", BAD)
    _failing_moves(monkeypatch)

    report = ingest_source(settings, "ijw", workers=1)
    monkeypatch.undo()

    assert (report.files_ingested, len(report.files_quarantined), report.files_left) == (1, 1, [])
    good, bad = _sha(allocation_message(1)), _sha(BAD)
    assert files_under(settings.archive_dir / "ijw") == [f"_unplaceable/{good}"]
    assert files_under(settings.quarantine_dir / "ijw") == [
        f"_unplaceable/{bad}",
        f"_unplaceable/{bad}{REASON_SUFFIX}",
    ]
    assert _registry(settings)[good] == ("ingested", f"archive/ijw/_unplaceable/{good}")
    assert {path for path, _note in report.notes} >= {"ijw/a.xml", "ijw/sub/c.xml"}
    _all_placed(settings)
    land(settings, "ijw", "b.xml", allocation_message(2))
    assert ingest_source(settings, "ijw", workers=1).files_ingested == 1
    _all_placed(settings)


def test_a_reason_file_that_cannot_be_written_moves_the_file_on_to_the_fallback(
    tmp_path, monkeypatch
):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "c.xml", BAD)
    real = worker.write_reason

    def write(target, *args):
        if "_unplaceable" not in str(target):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(target, *args)

    monkeypatch.setattr(worker, "write_reason", write)

    report = ingest_source(settings, "ijw", workers=1)
    monkeypatch.undo()

    assert len(report.files_quarantined) == 1 and report.files_left == []
    bad = _sha(BAD)
    assert files_under(settings.quarantine_dir / "ijw") == [
        f"_unplaceable/{bad}",
        f"_unplaceable/{bad}{REASON_SUFFIX}",
    ]
    _all_placed(settings)


def test_a_file_that_cannot_be_moved_at_all_stays_in_landing_for_the_next_run(
    tmp_path, monkeypatch
):
    settings = make_settings(tmp_path)
    land(settings, "ijw", "a.xml", allocation_message(1))
    land(settings, "ijw", "b.xml", allocation_message(2))
    _failing_moves(monkeypatch, fallback_too=True)

    report = ingest_source(settings, "ijw", workers=1)
    monkeypatch.undo()

    assert report.files_ingested == 2  # the rows committed
    assert [path for path, _why in report.files_left] == ["ijw/a.xml", "ijw/b.xml"]
    assert all(why.startswith("move_failed: ") for _path, why in report.files_left)
    assert files_under(settings.landing_dir / "ijw") == ["a.xml", "b.xml"]
    assert count(settings, "ijw_allocations") == 2

    again = ingest_source(settings, "ijw", workers=1)  # finishes the moves, as after a crash

    assert (again.files_ingested, again.files_skipped_duplicate, again.files_left) == (0, 2, [])
    assert files_under(settings.archive_dir / "ijw") == ["a.xml", "b.xml"]
    _all_placed(settings)
    assert count(settings, "ijw_allocations") == 2


def test_a_recorded_target_that_became_unplaceable_is_repaired_by_the_next_run(
    tmp_path, monkeypatch
):
    """As a run of an earlier version left it: rows committed, the file still in landing, the
    registry naming a target no move can reach. The next run moves it to the fallback."""
    settings = make_settings(tmp_path)
    land(settings, "ijw", "sub/a.xml", allocation_message(1))
    _failing_moves(monkeypatch, fallback_too=True)
    ingest_source(settings, "ijw", workers=1)
    monkeypatch.undo()
    good = _sha(allocation_message(1))
    assert _registry(settings)[good] == ("ingested", "archive/ijw/sub/a.xml")
    (settings.archive_dir / "ijw").mkdir(parents=True)
    (settings.archive_dir / "ijw" / "sub").write_bytes(b"a file where the folder goes")

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_skipped_duplicate, report.files_left) == (1, [])
    assert _registry(settings)[good] == ("ingested", f"archive/ijw/_unplaceable/{good}")
    _all_placed(settings)
    assert ingest_source(settings, "ijw", workers=1).files_seen == 0


@pytest.mark.parametrize("relative", ["2025-06/JW301.xml", LONG])
def test_free_target_only_names_paths_that_can_be_created(tmp_path, relative):
    from jeugdhulp.ingest.landing import free_target, move_file

    root = tmp_path / "archive"
    (root / "2025-06").parent.mkdir(parents=True)
    (root / "2025-06").write_bytes(b"a file")
    (root / LONG).write_bytes(b"taken")
    source = tmp_path / "source"
    source.write_bytes(b"new")

    target = free_target(root, relative, "f" * 64, with_reason=True)

    move_file(source, target)
    with open(target + REASON_SUFFIX, "x"):
        pass
