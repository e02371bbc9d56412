"""Size (issue 13): CSV and XLSX are read streaming, memory flat in the file's size; an XLSX zip bomb
or one declaring a huge sheet is quarantined fast, with the reason (docs/contract.md §2.5)."""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager

import pytest

from jeugdhulp.ingest import ingest_source
from tests.support.ingest_files import count, files_under, land, make_settings, rows
from tests.support.landing_files import (
    accountability_xlsx,
    ingest_peak_rss,
    write_accountability_csv,
    xlsx_bomb,
    xlsx_declaring,
)

MB = 2**20


@contextmanager
def _at_most(seconds: int):
    """Fail (instead of hanging the suite) when the block takes longer than `seconds`."""

    def expire(_signal, _frame):
        pytest.fail(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_large_csv_ingests_with_flat_memory(tmp_path):
    small, large = tmp_path / "small", tmp_path / "large"
    write_accountability_csv(small / "landing" / "verantwoording" / "a.csv", 1_000)
    write_accountability_csv(large / "landing" / "verantwoording" / "a.csv", 200_000)

    baseline = ingest_peak_rss(small, "verantwoording", timeout=60)
    measured = ingest_peak_rss(large, "verantwoording", timeout=120)

    assert (baseline["rows"], measured["rows"]) == (1_000, 200_000)
    growth = measured["peak_rss"] - baseline["peak_rss"]
    # the whole file is ~17 MB; read whole into Python rows it costs ~500 MB
    assert growth < 120 * MB, f"peak RSS grew {growth / MB:.0f} MB for 200,000 rows"


def test_an_xlsx_zip_bomb_is_quarantined_fast(tmp_path):
    settings = make_settings(tmp_path)
    bomb = xlsx_bomb()
    assert len(bomb) < 2 * MB
    land(settings, "verantwoording", "bomb.xlsx", bomb)
    land(settings, "verantwoording", "fine.xlsx", accountability_xlsx(3))

    started = time.monotonic()
    with _at_most(20):
        report = ingest_source(settings, "verantwoording", workers=1)

    assert time.monotonic() - started < 10
    [(path, reason)] = report.files_quarantined
    assert path == "verantwoording/bomb.xlsx"
    assert reason.startswith("xlsx_too_large"), reason
    assert "inflate" in reason
    assert count(settings, "accountability") == 3
    assert files_under(settings.quarantine_dir) == [
        "verantwoording/bomb.xlsx",
        "verantwoording/bomb.xlsx.reason.txt",
    ]


def test_an_xlsx_declaring_a_huge_sheet_is_quarantined_fast(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "verantwoording", "huge.xlsx", xlsx_declaring("A1:XFD1048576", 1048576))
    land(settings, "verantwoording", "wide_enough.xlsx", xlsx_declaring("A1:K40"))

    started = time.monotonic()
    with _at_most(20):
        report = ingest_source(settings, "verantwoording", workers=1)

    assert time.monotonic() - started < 10
    [(path, reason)] = report.files_quarantined
    assert path == "verantwoording/huge.xlsx"
    assert reason.startswith("xlsx_too_large"), reason
    assert "A1:XFD1048576" in reason
    assert report.files_ingested == 1
    assert rows(settings, "SELECT count(*) FROM raw.accountability") == [(3,)]
