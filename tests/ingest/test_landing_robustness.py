"""What real deliveries do to the landing zone (issue 13): symlinks, FIFOs, folders named like files,
file names that are not UTF-8, files still being written, and BSNs in names and reasons."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import replace

import pytest

from jeugdhulp.ingest import ingest_all, ingest_source, runner
from jeugdhulp.privacy.bsn import is_valid_bsn
from jeugdhulp.privacy.mask import BSN_MASK, mask_bsns
from tests.support.ingest_files import (
    VALID_BSNS,
    allocation_message,
    count,
    land,
    make_settings,
    rows,
)
from tests.support.landing_files import ACCOUNTABILITY_HEADER, accountability_line

# --- file system ---------------------------------------------------------------------------------


def _everything_under(root) -> list[str]:
    return sorted(
        os.fsdecode(os.path.relpath(os.path.join(folder, name), root))
        for folder, folders, files in os.walk(root)
        for name in folders + files
    )


def test_symlink_to_a_file_outside_is_neither_read_nor_moved(tmp_path):
    settings = make_settings(tmp_path / "data")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:secret\n")
    land(settings, "ijw", "a.xml", allocation_message(1))
    link = settings.landing_dir / "ijw" / "passwd.xml"
    os.symlink(secret, link)
    stray_link = settings.landing_dir / "passwd"
    os.symlink("/etc/passwd", stray_link)

    reports = ingest_all(settings, workers=1)

    assert os.path.islink(link) and os.readlink(link) == str(secret)
    assert os.path.islink(stray_link)
    assert secret.read_bytes() == b"root:x:0:0:secret\n"
    for folder in (settings.archive_dir, settings.quarantine_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                assert b"root:x:0" not in path.read_bytes(), path
    assert reports["ijw"].files_ingested == 1
    assert ("ijw/passwd.xml", "symlink") in reports["ijw"].special_entries
    assert ("passwd", "symlink") in reports["_unknown"].special_entries
    # reported in the run's report (the registry holds files, identified by their bytes)
    assert rows(settings, "SELECT landed_path FROM raw.file_registry") == [("ijw/a.xml",)]
    # every run reports them again, until someone removes them
    again = ingest_all(settings, workers=1)
    assert ("ijw/passwd.xml", "symlink") in again["ijw"].special_entries
    assert count(settings, "file_registry") == 1


def test_symlinked_valid_message_is_not_ingested(tmp_path):
    settings = make_settings(tmp_path / "data")
    outside = tmp_path / "elsewhere.xml"
    outside.write_bytes(allocation_message(7))
    os.makedirs(settings.landing_dir / "ijw")
    os.symlink(outside, settings.landing_dir / "ijw" / "linked.xml")

    report = ingest_source(settings, "ijw", workers=1)

    assert report.files_ingested == 0 and count(settings, "ijw_allocations") == 0
    assert report.special_entries == [("ijw/linked.xml", "symlink")]
    assert os.path.islink(settings.landing_dir / "ijw" / "linked.xml")
    assert _everything_under(settings.archive_dir) == []
    assert outside.read_bytes() == allocation_message(7)


def test_fifo_directory_symlink_and_folder_named_like_a_file_are_reported_untouched(tmp_path):
    settings = make_settings(tmp_path / "data")
    land(settings, "ijw", "a.xml", allocation_message(1))
    ijw = settings.landing_dir / "ijw"
    os.mkfifo(ijw / "pipe.xml")
    target = tmp_path / "folder"
    target.mkdir()
    (target / "inside.xml").write_bytes(allocation_message(2))
    os.symlink(target, ijw / "linked_folder")
    land(settings, "ijw", "x.xml/inner.xml", allocation_message(3))

    started = time.monotonic()
    report = ingest_source(settings, "ijw", workers=1)

    assert time.monotonic() - started < 30  # a FIFO is never opened for a blocking read
    assert report.files_ingested == 1
    assert sorted(report.special_entries) == [
        ("ijw/linked_folder", "symlink"),
        ("ijw/pipe.xml", "fifo"),
        ("ijw/x.xml", "directory"),
    ]
    assert (ijw / "pipe.xml").exists() and os.path.islink(ijw / "linked_folder")
    assert (ijw / "x.xml" / "inner.xml").read_bytes() == allocation_message(3)
    assert (target / "inside.xml").exists()
    assert count(settings, "ijw_allocations") == 1


def test_a_file_name_that_is_not_utf8_is_ingested_and_stored_losslessly(tmp_path):
    settings = make_settings(tmp_path / "data")
    land(settings, "ijw", "a.xml", allocation_message(1))
    ijw = os.fsencode(settings.landing_dir / "ijw")
    with open(os.path.join(ijw, b"caf\xe9.xml"), "wb") as out:
        out.write(allocation_message(2))
    land(settings, "ijw", "z.xml", allocation_message(3))

    report = ingest_source(settings, "ijw", workers=1)

    assert (report.files_ingested, report.files_quarantined) == (3, [])
    [(landed, stored)] = rows(
        settings,
        "SELECT landed_path, stored_path FROM raw.file_registry WHERE landed_path LIKE 'ijw/caf%'",
    )
    assert landed == "ijw/caf\\xe9.xml" and stored == "archive/ijw/caf\\xe9.xml"
    from jeugdhulp.ingest.landing import path_bytes

    assert path_bytes(landed) == b"ijw/caf\xe9.xml"
    archived = os.path.join(os.fsencode(settings.archive_dir), b"ijw", b"caf\xe9.xml")
    assert open(archived, "rb").read() == allocation_message(2)
    assert count(settings, "ijw_allocations") == 3


def _appending(path, lines: int, every: float) -> threading.Thread:
    def write() -> None:
        with open(path, "a", encoding="utf-8") as out:
            for number in range(lines):
                out.write(accountability_line(number))
                out.flush()
                time.sleep(every)

    return threading.Thread(target=write)


def test_a_csv_still_being_written_is_left_for_the_next_run_and_no_row_is_lost(tmp_path):
    settings = replace(make_settings(tmp_path), settle_seconds=0.5)
    path = land(settings, "verantwoording", "provider.csv", ACCOUNTABILITY_HEADER)
    writer = _appending(path, 45, 0.05)
    writer.start()
    time.sleep(0.3)
    try:
        report = ingest_source(settings, "verantwoording", workers=1)
    finally:
        writer.join()
    if report.files_ingested == 0:
        assert report.files_left and report.files_left[0][1].startswith("still_arriving")
        assert path.exists()
    time.sleep(0.6)
    ingest_source(settings, "verantwoording", workers=1)
    assert not path.exists()
    # every registered file's archived bytes are exactly the bytes whose rows were loaded
    for file_id, stored, loaded in rows(
        settings, "SELECT file_id, stored_path, rows_loaded FROM raw.file_registry"
    ):
        data = (settings.data_dir / stored).read_bytes()
        assert hashlib.sha256(data).hexdigest() == file_id
        assert loaded == data.count(b"\n") - 1
    assert rows(settings, "SELECT max(rows_loaded) FROM raw.file_registry") == [(45,)]


def test_a_file_changed_after_it_was_read_is_not_archived_as_what_was_parsed(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    path = land(
        settings,
        "verantwoording",
        "provider.csv",
        ACCOUNTABILITY_HEADER + "".join(map(accountability_line, range(8))),
    )
    parse = runner.parse_chunk

    def parse_then_append(*args, **kwargs):
        result = parse(*args, **kwargs)
        with open(path, "a", encoding="utf-8") as out:
            out.write("".join(map(accountability_line, range(8, 45))))
        return result

    monkeypatch.setattr(runner, "parse_chunk", parse_then_append)
    report = ingest_source(settings, "verantwoording", workers=1)
    monkeypatch.undo()

    assert report.files_left and report.files_left[0][1].startswith("changed_after_read")
    assert path.exists() and path.read_bytes().count(b"\n") == 46
    ingest_source(settings, "verantwoording", workers=1)
    for file_id, stored in rows(
        settings, "SELECT file_id, stored_path FROM raw.file_registry WHERE status = 'ingested'"
    ):
        if stored and (settings.data_dir / stored).exists():
            assert hashlib.sha256((settings.data_dir / stored).read_bytes()).hexdigest() == file_id
    assert rows(settings, "SELECT max(rows_loaded) FROM raw.file_registry") == [(45,)]
    assert not path.exists()


# --- privacy -------------------------------------------------------------------------------------

_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")


def _bsns_in(text: str) -> list[str]:
    return [number for number in _NINE_DIGITS.findall(text) if is_valid_bsn(number)]


def test_mask_bsns():
    assert mask_bsns("JW323_client_999900006.xml") == f"JW323_client_{BSN_MASK}.xml"
    assert mask_bsns("a999900018b 999900031x") == f"a{BSN_MASK}b {BSN_MASK}x"
    assert mask_bsns("123456789 and 2026010512 and 12345678") == (
        "123456789 and 2026010512 and 12345678"
    )  # fails the 11-proef; ten digits; eight digits
    assert mask_bsns("caf\udce9_999900006") == f"caf\udce9_{BSN_MASK}"
    assert mask_bsns(None) is None


def test_a_bsn_in_a_file_name_or_reason_is_never_stored(tmp_path):
    settings = make_settings(tmp_path)
    bsn, other, third, fourth = VALID_BSNS
    land(settings, "ijw", f"JW301_client_{bsn}.xml", allocation_message(1))
    land(settings, "ijw", f"{other}/bad_{other}.xml", b"<not-xml " + other.encode())
    land(settings, "verantwoording", f"v_{third}.csv", f"boekjaar;{third};agb_code\n2025;x;1\n")
    # a BSN typed into the agb_code column: quoted by the bad_value reason
    land(
        settings,
        "verantwoording",
        "w.csv",
        ACCOUNTABILITY_HEADER + accountability_line(1).replace("12345678", fourth),
    )
    land(settings, "reference", f"stray_{bsn}.csv", "a,b\n")
    (settings.landing_dir / f"loose_{other}.txt").write_text("hello")

    reports = ingest_all(settings, workers=1)

    texts = []
    for report in reports.values():
        texts.append(repr(report))
    for table_row in rows(settings, "SELECT * FROM raw.file_registry"):
        texts.append(repr(table_row))
    for folder in (settings.archive_dir, settings.quarantine_dir):  # landing/ is the provider's
        for path in _everything_under(folder):
            texts.append(path)
            full = folder / path
            if full.is_file() and path.endswith(".reason.txt"):
                texts.append(full.read_text())
    text = "\n".join(texts)
    assert _bsns_in(text) == [], _bsns_in(text)
    assert BSN_MASK in text
    quarantined = {path for report in reports.values() for path, _ in report.files_quarantined}
    assert f"ijw/{BSN_MASK}/bad_{BSN_MASK}.xml" in quarantined
    reasons = dict(reports["verantwoording"].files_quarantined)
    assert reasons["verantwoording/w.csv"].startswith("bad_value: line 2, column agb_code")
    assert BSN_MASK in reasons["verantwoording/w.csv"]
    assert count(settings, "ijw_allocations") == 1
    [(stored,)] = rows(
        settings, "SELECT stored_path FROM raw.file_registry WHERE content_type = 'JW301'"
    )
    assert (settings.data_dir / stored).read_bytes() == allocation_message(1)


@pytest.mark.parametrize("kind", ["vanished", "unreadable"])
def test_reasons_of_files_left_are_masked(tmp_path, kind):
    settings = make_settings(tmp_path)
    path = land(settings, "ijw", f"m_{VALID_BSNS[0]}.xml", allocation_message(1))
    if kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads anything")
        path.chmod(0)
    else:
        parse = runner.parse_chunk

        def vanish_first(source, tasks, *args, **kwargs):
            os.unlink(path)
            return parse(source, tasks, *args, **kwargs)

        runner.parse_chunk, restore = vanish_first, parse
    try:
        report = ingest_source(settings, "ijw", workers=1)
    finally:
        if kind == "vanished":
            runner.parse_chunk = restore
        else:
            path.chmod(0o644)
    assert _bsns_in(repr(report)) == []


def test_a_fresh_complete_file_is_taken_after_the_settle_time(tmp_path):
    settings = replace(make_settings(tmp_path), settle_seconds=0.5)
    land(settings, "ijw", "a.xml", allocation_message(1))
    old = land(settings, "ijw", "b.xml", allocation_message(2))
    os.utime(old, (time.time() - 60, time.time() - 60))

    started = time.monotonic()
    report = ingest_source(settings, "ijw", workers=1)

    assert report.files_ingested == 2 and report.files_left == []
    assert time.monotonic() - started < 5  # waited for a.xml once, not for b.xml


def test_settle_seconds_setting():
    from jeugdhulp.settings import SettingsError, load_settings

    assert load_settings({}).settle_seconds == 2.0
    assert load_settings({"JEUGDHULP_SETTLE_SECONDS": "0.5"}).settle_seconds == 0.5
    assert load_settings({"JEUGDHULP_XLSX_MAX_CELLS": "1000"}).xlsx_max_cells == 1000
    with pytest.raises(SettingsError, match="JEUGDHULP_SETTLE_SECONDS"):
        load_settings({"JEUGDHULP_SETTLE_SECONDS": "soon"})
