"""Crash safety: killing ingestion mid-transaction or between commit and move, then rerunning,
gives exactly the raw tables and archive of an uninterrupted run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jeugdhulp.ingest import ingest_source
from tests.support.ingest_files import (
    KEY,
    allocation_message,
    count,
    files_under,
    invoice_message,
    land,
    make_settings,
    rows,
    snapshot,
)
from tests.support.pipeline import REPO

# Ingestion in a child process, three files per transaction, so the crash hits transaction 2
# (files 4-6) while transaction 1 (files 1-3) is committed and transaction 3 (files 7-8) untouched.
CHILD = """
import sys
from jeugdhulp.ingest import runner
from jeugdhulp.settings import load_settings
runner.FILES_PER_TRANSACTION = 3
if __name__ == "__main__":
    runner.ingest_source(load_settings(), "ijw", workers=1)
    sys.exit(0)
"""


def _deliver(settings) -> None:
    for n in range(8):
        if n == 4:
            land(
                settings, "ijw", f"m{n}.xml", b"<broken"
            )  # a quarantined file inside transaction 2
        elif n % 2:
            land(settings, "ijw", f"m{n}.xml", invoice_message(n))
        else:
            land(settings, "ijw", f"m{n}.xml", allocation_message(n, records=2))


def _crash_run(settings, point: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        JEUGDHULP_DATA_DIR=str(settings.data_dir),
        JEUGDHULP_PSEUDONYM_KEY=KEY,
        JEUGDHULP_TEST_CRASH_AT=point,
        PYTHONPATH=str(REPO),
    )
    return subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("uninterrupted"))
    _deliver(settings)
    report = ingest_source(settings, "ijw", workers=1)
    assert (report.files_ingested, len(report.files_quarantined)) == (7, 1)
    return (
        snapshot(settings),
        files_under(settings.archive_dir),
        files_under(settings.quarantine_dir),
    )


def test_crash_before_commit_leaves_nothing_of_the_transaction(tmp_path, uninterrupted):
    settings = make_settings(tmp_path)
    _deliver(settings)

    crashed = _crash_run(settings, "before-commit:2")

    assert crashed.returncode == 75, crashed.stderr
    # transaction 1 is in, nothing of transaction 2 although its rows had been inserted
    assert rows(settings, "SELECT landed_path FROM raw.file_registry ORDER BY ingested_seq") == [
        ("ijw/m0.xml",),
        ("ijw/m1.xml",),
        ("ijw/m2.xml",),
    ]
    assert count(settings, "ijw_allocations") == 4 and count(settings, "ijw_invoice_lines") == 2
    assert files_under(settings.landing_dir / "ijw") == [f"m{n}.xml" for n in range(3, 8)]

    report = ingest_source(settings, "ijw", workers=1)

    assert (
        report.files_ingested,
        len(report.files_quarantined),
        report.files_skipped_duplicate,
    ) == (4, 1, 0)
    assert (
        snapshot(settings),
        files_under(settings.archive_dir),
        files_under(settings.quarantine_dir),
    ) == uninterrupted


def test_crash_between_commit_and_move_is_finished_by_the_rerun(tmp_path, uninterrupted):
    settings = make_settings(tmp_path)
    _deliver(settings)

    crashed = _crash_run(settings, "after-commit:2")

    assert crashed.returncode == 75, crashed.stderr
    assert count(settings, "file_registry") == 6  # transactions 1 and 2 committed
    assert files_under(settings.landing_dir / "ijw") == [
        f"m{n}.xml" for n in range(3, 8)
    ]  # none of 2 moved

    report = ingest_source(settings, "ijw", workers=1)

    # m3, m5: registered ingested -> moved where the registry says; m4: quarantined again in place
    assert (
        report.files_ingested,
        len(report.files_quarantined),
        report.files_skipped_duplicate,
    ) == (2, 1, 2)
    assert (
        snapshot(settings),
        files_under(settings.archive_dir),
        files_under(settings.quarantine_dir),
    ) == uninterrupted
    assert files_under(settings.landing_dir) == []
