"""A warehouse that fails DuckDB's integrity check stops ingestion before anything is moved: a
damaged block in a raw table, a file waiting in landing, and nothing read, moved or written."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from jeugdhulp.ingest import ingest_all, ingest_source
from jeugdhulp.ingest.integrity import WarehouseCorrupt, forget_verified, verify_warehouse
from jeugdhulp.synthetic import generate
from tests.support.ingest_files import files_under, invoice_message, land, make_settings
from tests.support.pipeline import TINY_AS_OF, TINY_SEED, pipeline_env, run_cli

HEADER_BYTES = 3 * 4096  # DuckDB's file header and its two database headers
BLOCK_BYTES = 256 * 1024  # each block starts with its 8-byte checksum


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """A real warehouse: the tiny profile's landing zone, ingested."""
    data_dir = tmp_path_factory.mktemp("ingested")
    generate(data_dir, profile="tiny", seed=TINY_SEED, as_of=date.fromisoformat(TINY_AS_OF))
    reports = ingest_all(make_settings(data_dir), workers=1)
    assert reports["ijw"].files_ingested > 100
    return data_dir / "warehouse" / "warehouse.duckdb"


def _data_block_offset(path: Path, table: str) -> int:
    """A file offset inside the data of `table`: the block of one of its stored column segments."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        block_id, block_offset = con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info(?) "
            "WHERE persistent AND block_id >= 0 ORDER BY block_id DESC, block_offset LIMIT 1",
            [table],
        ).fetchone()
    finally:
        con.close()
    return HEADER_BYTES + block_id * BLOCK_BYTES + 8 + block_offset + 16


def _corrupt(path: Path, offset: int, length: int = 32) -> None:
    with open(path, "r+b") as file:
        file.seek(offset)
        original = file.read(length)
        file.seek(offset)
        file.write(bytes(b ^ 0xFF for b in original))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def corrupt_data_dir(warehouse, tmp_path) -> Path:
    """A data dir whose warehouse has a damaged block in raw.ijw_invoice_lines, and a new file."""
    target = tmp_path / "warehouse" / "warehouse.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copy2(warehouse, target)
    offset = _data_block_offset(target, "raw.ijw_invoice_lines")
    assert HEADER_BYTES < offset < target.stat().st_size - BLOCK_BYTES // 2  # in the middle
    _corrupt(target, offset)
    land(make_settings(tmp_path), "ijw", "2026/new_invoice.xml", invoice_message(901))
    forget_verified()
    return tmp_path


def test_a_healthy_warehouse_passes(warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(warehouse, copy)
    forget_verified()
    verify_warehouse(copy)  # no error
    verify_warehouse(tmp_path / "not_yet.duckdb")  # a first run creates it: nothing to check


def test_a_damaged_block_stops_ingestion_before_anything_moves(corrupt_data_dir):
    settings = make_settings(corrupt_data_dir)
    warehouse = settings.warehouse_path
    # the premise: the damage is where opening does not look (the catalog reads fine)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.file_registry").fetchone()[0] > 0
    con.close()
    landing_before = files_under(settings.landing_dir)
    warehouse_before = _sha256(warehouse)

    with pytest.raises(WarehouseCorrupt) as raised:
        ingest_source(settings, "ijw", workers=1)

    message = str(raised.value)
    assert str(warehouse) in message
    assert "backup" in message and "archive/" in message
    assert files_under(settings.landing_dir) == landing_before == ["ijw/2026/new_invoice.xml"]
    assert not settings.archive_dir.exists() or files_under(settings.archive_dir) == []
    assert not settings.quarantine_dir.exists() or files_under(settings.quarantine_dir) == []
    # the registry and every table: not a byte written, no write-ahead log begun
    assert _sha256(warehouse) == warehouse_before
    assert not warehouse.with_name(warehouse.name + ".wal").exists()


def test_a_warehouse_locked_by_another_process_is_not_called_corrupt(warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(warehouse, copy)
    forget_verified()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            " time.sleep(60)",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(duckdb.Error) as raised:
            verify_warehouse(copy)
        assert not isinstance(raised.value, WarehouseCorrupt)
        assert "lock" in str(raised.value).lower()
    finally:
        holder.kill()
        holder.wait()


def test_jeugdhulp_run_on_a_damaged_warehouse_says_so_and_moves_nothing(corrupt_data_dir):
    env = pipeline_env(corrupt_data_dir)
    landing_before = files_under(corrupt_data_dir / "landing")
    started = time.monotonic()
    result = run_cli(["run"], env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    summary = result.stdout[result.stdout.index("jeugdhulp run — as of") :]
    failed = [line for line in summary.splitlines() if "failed step: ingest_" in line]
    assert any("failed step: ingest_ijw" in line for line in failed), summary
    reason = failed[0]  # the first says why, the others "(the same)"
    assert "WarehouseCorrupt" in reason and "integrity check" in reason, summary
    assert all("WarehouseCorrupt" in line or "(the same)" in line for line in failed), summary
    assert str(corrupt_data_dir / "warehouse" / "warehouse.duckdb") in reason, summary
    assert files_under(corrupt_data_dir / "landing") == landing_before
    assert time.monotonic() - started < 120
