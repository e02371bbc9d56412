"""Ingests the landing zone into the raw schema: every file once, all of it or none of it.

Order: files are handled in order of their path below `landing/<source>/`, so `ingested_seq`
(and with it "the latest reference snapshot") is deterministic.

Parallelism: worker processes (`workers`, default the CPU count) parse chunks of files into Arrow
tables; this process alone writes to DuckDB (it allows one writer), inserting each chunk's Arrow
tables through DuckDB's Arrow scan, never row by row. Small runs are parsed in-process because
starting a pool costs more than it saves.

Transactions: one per chunk of whole files (up to FILES_PER_TRANSACTION files or
BYTES_PER_TRANSACTION bytes): the rows of every file in the chunk and their registry entries
commit together or not at all, so "all or nothing per file" holds while ~150k small files do not
cost 150k commits. Should the chunk's insert fail (a value the raw table refuses), the chunk is
rolled back and retried file by file, and the file that fails alone is quarantined. Only after
the commit are the files moved: new and duplicate files to `archive/`, unreadable ones to
`quarantine/` with a reason file.

Crash safety: a crash before the commit leaves nothing of the chunk in the warehouse and its files
in landing, so the rerun loads them. A crash after the commit but before the moves leaves files in
landing whose SHA-256 is registered `ingested`: the rerun counts them as duplicates and moves them
to the archive path the registry recorded. A file registered `quarantined` is read again when it
shows up in landing (after a crash, or put back by an operator after a fix) and its entry updated:
quarantined again, it keeps its `ingested_seq` (so a rerun after a crash equals an uninterrupted
run); loaded now, it gets a new one.

Test hook: see `_CRASH_ENV` below (tests only).

Duplicates: a file whose bytes are already registered `ingested` (or were ingested earlier in the
same run) loads nothing and records nothing; it moves to the archive, beside the first copy, so
the landing zone empties.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.core.ingest import registry
from orchestration.core.ingest.landing import (
    REASON_SUFFIX,
    SOURCES,
    UNKNOWN_SOURCE,
    LandedFile,
    free_target,
    landed_files,
    move_file,
    unknown_files,
    write_reason,
)
from orchestration.core.ingest.raw_tables import ensure_raw_schema
from orchestration.core.ingest.worker import ChunkResult, FileOutcome, init_worker, parse_chunk
from orchestration.core.settings import Settings, SettingsError

FILES_PER_TRANSACTION = 1000
BYTES_PER_TRANSACTION = 64 * 2**20
# A pool costs ~1 s to start (each worker imports lxml, pyarrow, duckdb); below this much work
# (about a second of parsing) files are parsed in-process.
PARALLEL_FROM_FILES = 2000
PARALLEL_FROM_BYTES = 32 * 2**20

Progress = Callable[[int, int, Path], None]

# TEST ONLY. `JEUGDHULP_TEST_CRASH_AT=<point>:<n>` ends the process abruptly (os._exit) at <point>
# of the n-th transaction of a run, so tests can prove what a crash leaves behind. Points:
# `before-commit` (the rows are inserted, not committed) and `after-commit` (committed, no file
# moved yet). Nothing sets it outside tests/test_ingest_crash.py.
_CRASH_ENV = "JEUGDHULP_TEST_CRASH_AT"


def _test_crash_point(point: str, transaction: int) -> None:
    if os.environ.get(_CRASH_ENV) == f"{point}:{transaction}":
        os._exit(75)


@dataclass
class IngestReport:
    """What one source's ingestion did. Paths are relative to landing/."""

    source: str
    files_seen: int = 0
    files_ingested: int = 0
    files_skipped_duplicate: int = 0
    files_quarantined: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    rows_loaded: dict[str, int] = field(default_factory=dict)  # raw table -> rows
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, note): loaded, but look
    files_left: list[tuple[str, str]] = field(default_factory=list)  # (path, why) not handled now
    seconds: float = 0.0

    @property
    def rows_total(self) -> int:
        return sum(self.rows_loaded.values())


def pending_files(settings: Settings, source: str) -> list[Path]:
    """Files waiting in landing/<source>/, in processing order. Lists only: no reading, no hashing."""
    return [f.path for f in landed_files(settings.landing_dir, source)]


def ingest_source(
    settings: Settings,
    source: str,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Ingest every file waiting in landing/<source>/ (see the module docstring).

    `workers` (default: the CPU count) worker processes are started with `spawn`, which imports
    the caller's `__main__` again: a script calling this must guard its code with
    `if __name__ == "__main__":` (console scripts, Dagster and pytest do). `progress(done, total,
    path)` is called after each file is archived or quarantined.
    """
    key = _pseudonym_key(settings)
    files = landed_files(settings.landing_dir, source)
    return _Ingestion(settings, source, key, progress).run(files, workers)


def ingest_all(
    settings: Settings,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, IngestReport]:
    """Ingest every source, then `quarantine_unknown` (its report, keyed `_unknown`, appears only
    when there were such files)."""
    reports = {
        source: ingest_source(settings, source, progress=progress, workers=workers)
        for source in SOURCES
    }
    strays = quarantine_unknown(settings, progress=progress)
    if strays.files_seen:
        reports[UNKNOWN_SOURCE] = strays
    return reports


def quarantine_unknown(settings: Settings, *, progress: Progress | None = None) -> IngestReport:
    """Quarantine files directly in landing/ or under a folder that is not a known source, under
    `quarantine/_unknown/`, with a registry entry each: nothing that arrives is silently ignored."""
    strays = unknown_files(settings.landing_dir)
    return _Ingestion(settings, UNKNOWN_SOURCE, _pseudonym_key(settings), progress).run(strays, 1)


def _pseudonym_key(settings: Settings) -> str:
    if not settings.pseudonym_key:
        raise SettingsError(
            "JEUGDHULP_PSEUDONYM_KEY is not set: ingestion replaces every BSN by a keyed pseudonym "
            "and cannot run without the key"
        )
    return settings.pseudonym_key


@dataclass
class _Plan:
    """What happens to one file of a chunk: load, quarantine, or duplicate (move only)."""

    file: LandedFile
    outcome: FileOutcome
    action: str  # load | quarantine | duplicate | leave
    target: str | None = None  # archive/quarantine path, decided before the commit
    entry: registry.Entry | None = None  # registry row to write (None: write nothing)
    replaces: bool = False  # the registry already has an entry for these bytes


class _Ingestion:
    def __init__(self, settings: Settings, source: str, key: str, progress: Progress | None) -> None:
        self.settings = settings
        self.source = source
        self.key = key
        self.progress = progress
        self.report = IngestReport(source)
        self._data_dir_prefix = str(settings.data_dir) + os.sep
        self._archive_root = os.path.join(settings.archive_dir, source)
        self._quarantine_root = os.path.join(settings.quarantine_dir, source)
        self.decided: dict[str, tuple[str, str | None]] = {}  # file_id -> (action, reason) this run
        self.transactions = 0
        self.done = 0
        self.total = 0

    # --- the run -------------------------------------------------------------------------------

    def run(self, files: list[LandedFile], workers: int | None) -> IngestReport:
        started = time.perf_counter()
        self.total = self.report.files_seen = len(files)
        self.settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.settings.warehouse_path))
        try:
            ensure_raw_schema(con)
            self.con = con
            self.seq = registry.last_seq(con)
            self.registry_had_entries = registry.has_entries(con)
            for chunk, result in self._parsed_chunks(files, workers or os.cpu_count() or 1):
                self._handle_chunk(chunk, result)
        finally:
            con.close()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _parsed_chunks(
        self, files: list[LandedFile], workers: int
    ) -> Iterator[tuple[list[LandedFile], ChunkResult]]:
        if self.source == UNKNOWN_SOURCE:
            for chunk in _chunks(files, workers):
                yield chunk, _unknown_chunk(chunk)
            return
        chunks = _chunks(files, workers)
        worth_a_pool = (
            len(files) >= PARALLEL_FROM_FILES or sum(f.size for f in files) >= PARALLEL_FROM_BYTES
        )
        if workers > 1 and worth_a_pool and len(chunks) > 1:
            try:
                yield from self._parallel(chunks, workers)
                return
            except _PoolUnavailable:
                pass  # e.g. inside a daemonic process, which may not have children
        for chunk in chunks:
            yield chunk, parse_chunk(self.source, _tasks(chunk), self.key)

    def _parallel(
        self, chunks: list[list[LandedFile]], workers: int
    ) -> Iterator[tuple[list[LandedFile], ChunkResult]]:
        # spawn, not fork: the caller (Dagster) may run threads, and fork copies their locks
        context = multiprocessing.get_context("spawn")
        try:
            pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=init_worker, initargs=(self.key,)
            )
        except (OSError, ValueError, AssertionError) as exc:
            raise _PoolUnavailable() from exc
        with pool:
            waiting = iter(chunks)
            in_flight: deque = deque()

            def submit_next() -> None:
                chunk = next(waiting, None)
                if chunk is not None:
                    in_flight.append((chunk, pool.submit(parse_chunk, self.source, _tasks(chunk))))

            try:
                for _ in range(2 * workers):  # bounded read-ahead: memory stays flat
                    submit_next()
            except (AssertionError, OSError, BrokenProcessPool) as exc:
                raise _PoolUnavailable() from exc
            first = True
            while in_flight:
                chunk, future = in_flight.popleft()
                try:
                    result = future.result()
                except (AssertionError, BrokenProcessPool) as exc:
                    if first:
                        raise _PoolUnavailable() from exc
                    raise
                first = False
                submit_next()
                yield chunk, result

    # --- one chunk: plan, commit, move -------------------------------------------------------

    def _handle_chunk(self, chunk: list[LandedFile], result: ChunkResult) -> None:
        known = {}
        if self.registry_had_entries:  # else only this run registered anything: `decided` knows it
            known = registry.lookup(self.con, (o.file_id for o in result.outcomes if o.file_id))
        plans = [self._plan(f, o, known.get(o.file_id)) for f, o in zip(chunk, result.outcomes)]
        try:
            self._commit(plans, result.tables)
        except duckdb.Error:
            # something in the chunk is refused: find it by committing file by file
            for plan in plans:
                if plan.action == "load":
                    try:
                        self._commit([plan], result.tables)
                    except duckdb.Error as exc:
                        self._demote_to_quarantine(plan, f"load_failed: {exc}")
                        self._commit([plan], {})
                elif plan.entry is not None:
                    self._commit([plan], {})
        for plan in plans:
            self._finish(plan)

    def _plan(self, file: LandedFile, outcome: FileOutcome, prior: registry.Entry | None) -> _Plan:
        plan = _Plan(file, outcome, "leave")
        if outcome.status in ("vanished", "unreadable"):
            return plan
        earlier = self.decided.get(outcome.file_id)
        if earlier is not None:  # same bytes earlier in this run
            action, reason = earlier
            if action == "load":
                plan.action = "duplicate"
            else:
                plan.action, outcome.reason = "quarantine", reason
                plan.target = self._target("quarantine", file, outcome.file_id)
            return plan
        if prior is not None and prior.status == registry.INGESTED:
            plan.action = "duplicate"
            plan.target = self._unfinished_move(prior, file)
            self.decided[outcome.file_id] = ("load", None)
            return plan
        if outcome.status == "quarantined":
            plan.action = "quarantine"
            plan.target = self._target("quarantine", file, outcome.file_id)
        else:
            plan.action = "load"
            plan.target = self._target("archive", file, outcome.file_id)
        if prior is not None and plan.action == "quarantine":
            # quarantined again (same bytes, same reason): the entry keeps its place in the order
            plan.target = self._unfinished_move(prior, file) or plan.target
            seq = prior.ingested_seq
        else:
            self.seq += 1
            seq = self.seq
        plan.replaces = prior is not None
        plan.entry = registry.Entry(
            file_id=outcome.file_id,
            source=self.source,
            landed_path=file.landed_path,
            stored_path=self._stored_path(plan.target),
            size_bytes=outcome.size,
            status=registry.INGESTED if plan.action == "load" else registry.QUARANTINED,
            reason=outcome.reason if plan.action == "quarantine" else None,
            content_type=outcome.content_type,
            rows_loaded=sum(outcome.rows.values()) if plan.action == "load" else 0,
            ingested_at=datetime.now(),
            ingested_seq=seq,
        )
        self.decided[outcome.file_id] = (plan.action, outcome.reason)
        return plan

    def _unfinished_move(self, prior: registry.Entry, file: LandedFile) -> str | None:
        """The recorded target of a file a crash left in landing after its commit, if so."""
        if prior.landed_path != file.landed_path or not prior.stored_path:
            return None
        recorded = os.path.join(self.settings.data_dir, prior.stored_path)
        if os.path.lexists(recorded) or os.path.lexists(recorded + REASON_SUFFIX):
            return None
        return recorded

    def _target(self, kind: str, file: LandedFile, file_id: str) -> str:
        """A free path for the file in archive/ or quarantine/ (strings: this is the hot path)."""
        root = self._archive_root if kind == "archive" else self._quarantine_root
        return free_target(root, file.relative, file_id, with_reason=kind == "quarantine")

    def _stored_path(self, target: str) -> str:
        """The target relative to the data dir, as the registry records it."""
        return target[len(self._data_dir_prefix) :].replace(os.sep, "/")

    def _demote_to_quarantine(self, plan: _Plan, reason: str) -> None:
        plan.action = "quarantine"
        plan.outcome.reason = reason
        plan.outcome.rows = {}
        plan.target = self._target("quarantine", plan.file, plan.outcome.file_id)
        plan.entry = replace(
            plan.entry,
            status=registry.QUARANTINED,
            reason=reason,
            rows_loaded=0,
            stored_path=self._stored_path(plan.target),
        )
        self.decided[plan.outcome.file_id] = ("quarantine", reason)

    def _commit(self, plans: list[_Plan], tables: dict[str, pa.Table]) -> None:
        """One transaction: the rows of the plans' loaded files and their registry entries."""
        entries = [(p, p.entry) for p in plans if p.entry is not None]
        if not entries:
            return
        load_ids = {p.outcome.file_id for p in plans if p.action == "load"}
        self.transactions += 1
        con = self.con
        registered: list[str] = []
        con.execute("BEGIN TRANSACTION")
        try:
            for name, table in tables.items():
                rows = _rows_of(table, load_ids)
                if rows.num_rows:
                    view = f"_rows_{name}"
                    con.register(view, rows)
                    registered.append(view)
                    con.execute(f"INSERT INTO raw.{name} BY NAME SELECT * FROM {view}")
            _test_crash_point("before-commit", self.transactions)
            registry.insert(con, [e for p, e in entries if not p.replaces])
            registry.insert(con, [e for p, e in entries if p.replaces], replace=True)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            for view in registered:  # after COMMIT/ROLLBACK: an aborted transaction refuses it
                con.unregister(view)
        _test_crash_point("after-commit", self.transactions)

    def _finish(self, plan: _Plan) -> None:
        """After the commit: move the file and account for it."""
        file, outcome, report = plan.file, plan.outcome, self.report
        if plan.action == "leave":
            report.files_left.append((file.landed_path, outcome.reason or outcome.status))
        elif plan.action == "duplicate":
            target = plan.target or self._target("archive", file, outcome.file_id)
            move_file(file.path, target)
            report.files_skipped_duplicate += 1
        elif plan.action == "load":
            move_file(file.path, plan.target)
            report.files_ingested += 1
            for table, count in outcome.rows.items():
                report.rows_loaded[table] = report.rows_loaded.get(table, 0) + count
            report.notes.extend((file.landed_path, note) for note in outcome.notes)
        else:
            move_file(file.path, plan.target)
            details = "\n".join(outcome.notes)
            write_reason(
                plan.target, file.landed_path, outcome.file_id,
                outcome.reason + (f"\n\ndetails:\n{details}" if details else ""),
            )
            report.files_quarantined.append((file.landed_path, outcome.reason))
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, file.path)


class _PoolUnavailable(Exception):
    """No worker processes here; parse in-process instead."""


def _rows_of(table: pa.Table, file_ids: set[str]) -> pa.Table:
    """The rows of these files only (a chunk may hold rows of a file found to be a duplicate)."""
    present = set(pc.unique(table.column("file_id")).to_pylist())
    if present <= file_ids:
        return table
    mask = pc.is_in(table.column("file_id"), value_set=pa.array(sorted(file_ids), pa.string()))
    return table.filter(mask)


def _chunks(files: list[LandedFile], workers: int) -> list[list[LandedFile]]:
    """Consecutive runs of files, small enough to spread over the workers and to commit at once."""
    per_chunk = FILES_PER_TRANSACTION
    if workers > 1:
        per_chunk = max(1, min(per_chunk, math.ceil(len(files) / (4 * workers))))
    chunks: list[list[LandedFile]] = []
    chunk: list[LandedFile] = []
    size = 0
    for file in files:
        if chunk and (len(chunk) >= per_chunk or size + file.size > BYTES_PER_TRANSACTION):
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(file)
        size += file.size
    if chunk:
        chunks.append(chunk)
    return chunks


def _tasks(chunk: list[LandedFile]) -> list[tuple[str, str, str]]:
    return [(str(f.path), f.relative, f.landed_path) for f in chunk]


def _unknown_chunk(chunk: list[LandedFile]) -> ChunkResult:
    """Files outside the known source folders: hashed and quarantined unread."""
    outcomes = []
    for file in chunk:
        try:
            data = file.path.read_bytes()
        except FileNotFoundError:
            outcomes.append(FileOutcome(file.landed_path, "", 0, "vanished", reason="vanished"))
            continue
        outcomes.append(
            FileOutcome(
                file.landed_path,
                hashlib.sha256(data).hexdigest(),
                len(data),
                "quarantined",
                reason=(
                    "unknown_source: files must be delivered in landing/<source>/ with source one "
                    f"of {', '.join(SOURCES)}"
                ),
            )
        )
    return ChunkResult(outcomes, {})
