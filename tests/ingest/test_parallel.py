"""Parsing in worker processes gives exactly what in-process parsing gives, in the same order."""

from __future__ import annotations

from jeugdhulp.ingest import ingest_source, runner
from tests.support.ingest_files import (
    VALID_BSNS,
    allocation_message,
    files_under,
    invoice_message,
    land,
    make_settings,
    snapshot,
)


def _deliver(settings) -> None:
    for n in range(80):
        if n == 7:
            data = b"<not xml"
        elif n % 3:
            data = allocation_message(n, VALID_BSNS[n % 4], records=1 + n % 3)
        else:
            data = invoice_message(n)
        land(settings, "ijw", f"p{n % 5}/m{n:03d}.xml", data)
    land(settings, "ijw", "p9/copy.xml", allocation_message(1, VALID_BSNS[1], records=2))  # = m001


def test_two_workers_load_what_one_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "PARALLEL_FROM_FILES", 16)  # a pool even for these few files
    from_pool = []
    real_parallel = runner._Ingestion._parallel

    def counting_parallel(self, chunks, workers):
        for chunk, result in real_parallel(self, chunks, workers):
            from_pool.append(len(chunk))
            yield chunk, result

    monkeypatch.setattr(runner._Ingestion, "_parallel", counting_parallel)
    serial, parallel = make_settings(tmp_path / "serial"), make_settings(tmp_path / "parallel")
    _deliver(serial)
    _deliver(parallel)

    one = ingest_source(serial, "ijw", workers=1)
    seen = []
    two = ingest_source(parallel, "ijw", workers=2, progress=lambda d, t, p: seen.append(d))

    assert (
        two.files_seen,
        two.files_ingested,
        len(two.files_quarantined),
        two.files_skipped_duplicate,
    ) == (81, 79, 1, 1)
    assert (
        one.files_ingested,
        len(one.files_quarantined),
        one.files_skipped_duplicate,
        one.rows_loaded,
    ) == (
        two.files_ingested,
        len(two.files_quarantined),
        two.files_skipped_duplicate,
        two.rows_loaded,
    )
    assert seen == list(range(1, 82))
    assert (
        sum(from_pool) == 81 and len(from_pool) == 8
    )  # really parsed by the pool, 4 chunks a worker
    assert snapshot(parallel) == snapshot(serial)
    assert files_under(parallel.archive_dir) == files_under(serial.archive_dir)
