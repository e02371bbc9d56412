"""Ingests the landing zone into the raw schema: every file once, all of it or none of it.

Order: files are handled in order of their path below `landing/<source>/`, so `ingested_seq`
(and with it "the latest reference snapshot") is deterministic.

Parallelism: worker processes (`workers`, default the CPU count) parse chunks of files into Arrow
tables and propose each file's archive or quarantine name; this process alone writes to DuckDB (it
allows one writer), inserting each chunk's Arrow tables through DuckDB's Arrow scan, never row by
row, and committing. The moves after a commit are tasks for the same workers, so per file this
process only plans (a few dictionary and set operations) and inserts. Small runs are parsed and
moved in-process because starting a pool costs more than it saves.

Memory stays flat however many files wait: the landing folder is listed lazily
(`landing.iter_landed_files`), at most a few chunks are in flight, the DuckDB connection has a
memory limit (`Settings.ingest_memory_limit`) and one thread (the workers have the cores), and
what the run remembers per file is only what it quarantined (files it loaded are known to the
registry, see Duplicates).

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
run); loaded now, it gets a new one. The moves run in the workers while the next chunks commit, so
a crash may leave the moves of several committed chunks undone; the rerun finishes them alike.

Names: a target is chosen before the commit and never overwrites anything (landing.free_target);
the names this run has promised but not yet moved to are remembered, so two files of one run
never get the same one.

Moves that fail: a target is chosen to be creatable (landing.free_target), but a move after the
commit that fails all the same (an OSError: a name the file system refuses, a folder replaced by
a file meanwhile, ...) never stops the run: the file goes to `<archive or quarantine>/<source>/
_unplaceable/<sha256>` (then `-2`, ...), with its reason file when quarantined, its registry entry
names that path and the report notes it (`move_failed`). Should that fail too, the file stays in
landing (`files_left`, `move_failed`) and its entry keeps the target, as after a crash: the next
run moves it. A reason file that cannot be written moves the file on to the fallback alike.

Test hook: see `_CRASH_ENV` below (tests only).

What real deliveries do (docs/contract.md §2): a symlink, FIFO, socket, device or a folder named
like a file is never followed or opened, and is reported (`IngestReport.special_entries`, every
run, until someone removes it) and left untouched; the registry holds files, identified by their
bytes, so it has no entry for them. A file still being written (see worker.py) is left for the next
run (`files_left`, `still_arriving`); a file that changed between its read and its move is not
moved (`files_left`, `changed_after_read`): its registry entry records what was read, and the next
run reads the new bytes as a new file. Names and reasons leave this module as text with BSNs
masked (landing.path_text, privacy/mask.py): in the registry, the reports, the reason files and
the archive and quarantine names.

Large CSV/XLSX files: their rows come from the workers' spool (worker.py) and are inserted from it
streaming, in the transaction of their chunk; a run's spool folder is removed when the run ends.

Duplicates: a file whose bytes are already registered `ingested` (or were ingested earlier in the
same run) loads nothing and records nothing; it moves to the archive, beside the first copy, so
the landing zone empties. Into an empty registry (a first load) the run does not look up each
chunk's ids: bytes loaded by an earlier chunk of the run then make the chunk's commit fail on the
registry's primary key, and the chunk is planned again with the registry's answer.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from jeugdhulp.ingest import message_identity, registry
from jeugdhulp.ingest.landing import (
    FILE,
    REASON_SUFFIX,
    SOURCES,
    UNKNOWN_SOURCE,
    LandedFile,
    count_landed_files,
    free_target,
    iter_landed_files,
    path_text,
    unknown_files,
)
from jeugdhulp.ingest.raw_tables import ensure_raw_schema
from jeugdhulp.ingest.tabular import XlsxLimits
from jeugdhulp.ingest.worker import (
    CHANGED,
    LEFT,
    ChunkResult,
    FileOutcome,
    MoveProblem,
    ReadOptions,
    init_worker,
    move_files,
    parse_chunk,
    remove_spooled,
    special_reason,
)
from jeugdhulp.privacy.development_key import GeneratedFiles
from jeugdhulp.privacy.mask import mask_bsns
from jeugdhulp.settings import DEVELOPMENT_PSEUDONYM_KEY, Settings, SettingsError

IJW_SOURCE = "ijw"  # the landing source of iJw messages (jeugdhulp/sources.py)
UNPLACEABLE = "_unplaceable"  # below archive/<source>/ and quarantine/<source>/: moves that failed

# duckdb and pyarrow.compute are imported where they are used: the pool's workers import this
# module too (it is the package's), and they need neither.

# a transaction has a fixed cost (~10 statements: an insert per raw table, the registry, COMMIT;
# ~10 ms): at 1000 files a chunk that was half the warehouse's time per file, at 2500 under a third
FILES_PER_TRANSACTION = 2500
BYTES_PER_TRANSACTION = 64 * 2**20
# A pool costs ~1 s to start (each worker imports lxml and pyarrow); below this much work
# (about a second of parsing) files are parsed in-process.
PARALLEL_FROM_FILES = 2000
PARALLEL_FROM_BYTES = 32 * 2**20

Progress = Callable[[int, int, Path], None]

# TEST ONLY. `JEUGDHULP_TEST_CRASH_AT=<point>:<n>` ends the process abruptly (os._exit) at <point>
# of the n-th transaction of a run, so tests can prove what a crash leaves behind. Points:
# `before-commit` (the rows are inserted, not committed) and `after-commit` (committed, no file
# moved yet). Nothing sets it outside tests/ingest/test_crash.py.
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
    # (path, kind): symlinks, FIFOs, sockets, devices, folders named like files; left untouched
    special_entries: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_total(self) -> int:
        return sum(self.rows_loaded.values())


def pending_files(settings: Settings, source: str) -> list[Path]:
    """Files waiting in landing/<source>/, in processing order. Lists only: no reading, no hashing."""
    return [f.path for f in iter_landed_files(settings.landing_dir, source)]


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
    total, sized_bytes = count_landed_files(
        settings.landing_dir, source, sizes_of_first=PARALLEL_FROM_FILES
    )
    worth_a_pool = total >= PARALLEL_FROM_FILES or sized_bytes >= PARALLEL_FROM_BYTES
    return _Ingestion(settings, source, key, progress).run(
        lambda: iter_landed_files(settings.landing_dir, source), total, workers, worth_a_pool
    )


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
    ingestion = _Ingestion(settings, UNKNOWN_SOURCE, _pseudonym_key(settings), progress)
    return ingestion.run(lambda: iter(strays), len(strays), 1, False)


def _pseudonym_key(settings: Settings) -> str:
    if not settings.pseudonym_key:
        raise SettingsError(
            "JEUGDHULP_PSEUDONYM_KEY is not set: ingestion replaces every BSN by a keyed pseudonym "
            "and cannot run without the key"
        )
    return settings.pseudonym_key


_CHANGED = (
    "changed_after_read: the file changed after it was read, so it was not archived; left in "
    "landing/ for the next run, which reads it again"
)
# a spool folder no run has written to for this long is a crashed run's: removed
_STALE_SPOOL_SECONDS = 24 * 3600


def _read_options(settings: Settings, spool_dir: str | None) -> ReadOptions:
    limits = XlsxLimits(
        settings.xlsx_max_inflated_mb * 2**20, settings.xlsx_max_ratio, settings.xlsx_max_cells
    )
    return ReadOptions(settings.settle_seconds, limits, spool_dir)


class _Plan:
    """What happens to one file of a chunk: load, quarantine, or duplicate (move only)."""

    __slots__ = ("file", "outcome", "action", "target", "entry", "replaces")

    def __init__(self, file: LandedFile, outcome: FileOutcome, action: str) -> None:
        self.file = file
        self.outcome = outcome
        # load | quarantine | duplicate | same_message | leave | special | changed
        self.action = action
        self.target: str | None = None  # archive/quarantine path, decided before the commit
        self.entry: registry.Entry | None = None  # registry row to write (None: write nothing)
        self.replaces = False  # the registry already has an entry for these bytes


class _Taken:
    """The paths this run has promised to files: `unusual` (kept for the whole run) holds every
    promised path that is not a file's own relative path below archive/ and every quarantine
    path with its reason file; `pending` holds every promised path until its move is done (then
    the disk says it is taken). A file's own archive path can only clash with an unusual one:
    relative paths of one run differ."""

    __slots__ = ("unusual", "pending")

    def __init__(self) -> None:
        self.unusual: set[str] = set()
        self.pending: set[str] = set()

    def __contains__(self, path: object) -> bool:
        return path in self.unusual or path in self.pending


class _Ingestion:
    def __init__(
        self, settings: Settings, source: str, key: str, progress: Progress | None
    ) -> None:
        self.settings = settings
        self.source = source
        self.key = key
        self.progress = progress
        self.report = IngestReport(source)
        self._data_dir_prefix = str(settings.data_dir) + os.sep
        self._archive_root = os.path.join(settings.archive_dir, source)
        self._archive_prefix = self._archive_root + os.sep  # + relative = os.path.join, cheaper
        self._quarantine_root = os.path.join(settings.quarantine_dir, source)
        # where a file goes whose move fails all the same (see Moves that fail): + its file id
        self._archive_fallback = os.path.join(self._archive_root, UNPLACEABLE, "")
        self._quarantine_fallback = os.path.join(self._quarantine_root, UNPLACEABLE, "")
        # file_id -> reason of the files this run quarantined (few); files it loaded are in the
        # registry, found there when needed (see the module docstring)
        self.quarantined: dict[str, str] = {}
        self.taken = _Taken()
        self.pool: ProcessPoolExecutor | None = None  # while the workers run
        self.moving: deque[tuple[list[_Plan], Future | None]] = deque()  # committed, to account
        self.with_rows: set[str] = set()  # of the chunk at hand, see _handle_chunk
        self.transactions = 0
        self.done = 0
        self.total = 0
        self.spooled: dict[str, dict[str, str]] = {}  # of the chunk at hand
        self.options = _read_options(settings, None)
        # under the development key: the files the generator made (privacy/development_key.py)
        self.generated: GeneratedFiles | None = None

    # --- the run -------------------------------------------------------------------------------

    def run(
        self,
        listing: Callable[[], Iterator[LandedFile]],
        total: int,
        workers: int | None,
        worth_a_pool: bool,
    ) -> IngestReport:
        import duckdb

        from jeugdhulp.ingest.integrity import verify_warehouse

        # a damaged warehouse stops the run here, before a file is read, committed or moved
        verify_warehouse(
            self.settings.warehouse_path, memory_limit=self.settings.ingest_memory_limit
        )
        started = time.perf_counter()
        self.total = self.report.files_seen = total
        self.settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.settings.warehouse_path))
        spool_dir = _spool_dir(self.settings.warehouse_path.parent)
        self.options = _read_options(self.settings, spool_dir)
        try:
            # the workers parse on every core; this connection only appends, in one thread,
            # and keeps no more than the limit of written blocks cached (flat memory)
            con.execute(f"SET memory_limit = '{self.settings.ingest_memory_limit}'")
            con.execute("SET threads = 1")
            ensure_raw_schema(con)
            if self.source == IJW_SOURCE:
                message_identity.ensure_identity_index(con)
            if self.key == DEVELOPMENT_PSEUDONYM_KEY:
                self.generated = GeneratedFiles(con, self.settings.data_dir)
            self.con = con
            self.seq = registry.last_seq(con)
            self.registry_had_entries = registry.has_entries(con)
            workers = workers or os.cpu_count() or 1
            for chunk, result in self._parsed_chunks(listing, workers, worth_a_pool):
                self._handle_chunk(chunk, result)
                self._settle(wait=False)
            self._settle(wait=True)
        finally:
            con.close()
            shutil.rmtree(spool_dir, ignore_errors=True)
        # files that arrived after the count was taken were handled too
        self.report.files_seen = max(self.report.files_seen, self.done)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _parsed_chunks(
        self, listing: Callable[[], Iterator[LandedFile]], workers: int, worth_a_pool: bool
    ) -> Iterator[tuple[list[LandedFile], ChunkResult]]:
        if self.source == UNKNOWN_SOURCE:
            for chunk in _chunks(listing(), self.total, workers):
                yield chunk, _unknown_chunk(chunk)
            return
        if workers > 1 and worth_a_pool and _chunk_count(self.total, workers) > 1:
            try:
                yield from self._parallel(_chunks(listing(), self.total, workers), workers)
                return
            except _PoolUnavailable:
                pass  # e.g. inside a daemonic process, which may not have children; nothing done yet
        roots = (self._archive_root, self._quarantine_root)
        for chunk in _chunks(listing(), self.total, workers):
            yield chunk, parse_chunk(self.source, _tasks(chunk), self.key, roots, self.options)

    def _parallel(
        self, chunks: Iterable[list[LandedFile]], workers: int
    ) -> Iterator[tuple[list[LandedFile], ChunkResult]]:
        # spawn, not fork: the caller (Dagster) may run threads, and fork copies their locks
        context = multiprocessing.get_context("spawn")
        try:
            pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=init_worker, initargs=(self.key,)
            )
        except (OSError, ValueError, AssertionError) as exc:
            raise _PoolUnavailable() from exc
        roots = (self._archive_root, self._quarantine_root)
        with pool:
            waiting = iter(chunks)
            in_flight: deque = deque()

            def submit_next() -> None:
                chunk = next(waiting, None)
                if chunk is not None:
                    task = pool.submit(
                        parse_chunk, self.source, _tasks(chunk), None, roots, self.options
                    )
                    in_flight.append((chunk, task))

            try:
                for _ in range(2 * workers):  # bounded read-ahead: memory stays flat
                    submit_next()
            except (AssertionError, OSError, BrokenProcessPool) as exc:
                raise _PoolUnavailable() from exc
            first = True
            self.pool = pool
            try:
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
            finally:
                self.pool = None  # leaving `with pool` waits for the moves still queued

    # --- one chunk: plan, commit, move -------------------------------------------------------

    def _handle_chunk(self, chunk: list[LandedFile], result: ChunkResult) -> None:
        import duckdb

        ids = [o.file_id for o in result.outcomes if o.file_id]
        if self.generated is not None:  # before anything of the chunk is stored
            self.generated.refuse_foreign(
                self.source, [(o.landed_path, o.file_id) for o in result.outcomes if o.file_id]
            )
        # the files whose rows the chunk's tables hold (before planning changes any outcome)
        self.with_rows = {
            o.file_id
            for o in result.outcomes
            if o.status == "parsed" and (any(o.rows.values()) or o.message is not None)
        }  # (an iJw message without rows has its row in the identity index)
        looked_up = self.registry_had_entries
        self.spooled = result.spooled
        try:
            known = registry.lookup(self.con, ids) if looked_up else {}
            undo = self._undo_point()
            plans = self._plans(chunk, result.outcomes, known, result.tables)
            try:
                self._commit(plans, result.tables)
            except duckdb.Error:
                if not looked_up:
                    # maybe bytes an earlier chunk of this run loaded (the primary key refuses
                    # them): ask the registry, plan again
                    known = registry.lookup(self.con, ids)
                    if known:
                        self._undo(undo, plans)
                        plans = self._plans(chunk, result.outcomes, known, result.tables)
                        try:
                            self._commit(plans, result.tables)
                        except duckdb.Error:
                            self._commit_file_by_file(plans, result.tables)
                    else:
                        self._commit_file_by_file(plans, result.tables)
                else:
                    self._commit_file_by_file(plans, result.tables)
        finally:
            for paths in self.spooled.values():
                remove_spooled(paths.values())
            self.spooled = {}
        self._move(plans)

    def _commit_file_by_file(self, plans: list[_Plan], tables: dict[str, pa.Table]) -> None:
        """Something in the chunk is refused: find it by committing file by file."""
        import duckdb

        for plan in plans:
            if plan.action == "load":
                try:
                    self._commit([plan], tables)
                except duckdb.Error as exc:
                    self._demote_to_quarantine(plan, mask_bsns(f"load_failed: {exc}"))
                    self._commit([plan], {})
            elif plan.entry is not None:
                self._commit([plan], {})

    def _undo_point(self) -> tuple[int, int]:
        return self.seq, len(self.quarantined)

    def _undo(self, point: tuple[int, int], plans: list[_Plan]) -> None:
        """Forget what planning `plans` promised: sequence numbers, targets, quarantines."""
        self.seq, quarantined = point
        for file_id in list(self.quarantined)[quarantined:]:  # dicts keep insertion order
            del self.quarantined[file_id]
        for plan in plans:  # every target planned here was new to `taken`
            if plan.target is not None:
                self.taken.pending.discard(plan.target)
                self.taken.unusual.discard(plan.target)
                if plan.action == "quarantine":
                    self.taken.unusual.discard(plan.target + REASON_SUFFIX)

    def _plans(
        self,
        chunk: list[LandedFile],
        outcomes: list[FileOutcome],
        known: dict[str, registry.Entry],
        tables: dict[str, pa.Table],
    ) -> list[_Plan]:
        now = datetime.now()
        here: dict[str, str] = {}  # file_id -> action of this chunk's files so far
        plans = [self._plan(f, o, known.get(o.file_id), here, now) for f, o in zip(chunk, outcomes)]
        if self.source == IJW_SOURCE:
            self._identify_messages(plans, tables)
        return plans

    def _identify_messages(self, plans: list[_Plan], tables: dict[str, pa.Table]) -> None:
        """Message identity (message_identity.py): a message already loaded under its identity
        loads nothing when its content is the same (`same_message`: registered, archived) and is
        quarantined when it differs (`conflicting_redelivery`)."""
        loads = {plan.outcome.file_id: plan for plan in plans if plan.action == "load"}
        if not loads:
            return
        # the workers read each message's identity from its header (rows or none) into the
        # chunk's rows of the index (a new message's row commits with its other rows)
        decisions = message_identity.decide_messages(self.con, tables, loads.keys())
        for file_id, decision in decisions.items():
            plan = loads[file_id]
            if decision.kind == "same_content":
                plan.action = "same_message"
                plan.outcome.rows = {}
                plan.outcome.notes = [message_identity.same_message_note(decision)]
                plan.entry = plan.entry._replace(rows_loaded=0)
            else:
                self._demote_to_quarantine(plan, mask_bsns(decision.reason))

    def _plan(
        self,
        file: LandedFile,
        outcome: FileOutcome,
        prior: registry.Entry | None,
        here: dict[str, str],
        now: datetime,
    ) -> _Plan:
        plan = _Plan(file, outcome, "leave")
        status = outcome.status
        if status == "special":
            plan.action = "special"
            return plan
        if status == "vanished" or status == "unreadable" or status == "arriving":
            return plan
        file_id = outcome.file_id
        reason = self.quarantined.get(file_id)
        if reason is not None:  # same bytes quarantined earlier in this run
            plan.action, outcome.reason = "quarantine", reason
            plan.target = self._claim("quarantine", file, outcome)
            return plan
        if here.get(file_id) == "load":  # same bytes loaded earlier in this chunk
            plan.action = "duplicate"
            plan.target = self._claim("archive", file, outcome)
            return plan
        if prior is not None and prior.status == registry.INGESTED:
            plan.action = "duplicate"
            plan.target = self._unfinished_move(prior, file) or self._claim(
                "archive", file, outcome
            )
            here[file_id] = "load"
            return plan
        if status == "quarantined":
            plan.action = "quarantine"
            unfinished = self._unfinished_move(prior, file) if prior is not None else None
            plan.target = unfinished or self._claim("quarantine", file, outcome)
        else:
            plan.action = "load"
            plan.target = self._claim("archive", file, outcome)
        if prior is not None and plan.action == "quarantine":
            # quarantined again (same bytes, same reason): the entry keeps its place in the order
            seq = prior.ingested_seq
        else:
            self.seq += 1
            seq = self.seq
        plan.replaces = prior is not None
        loaded = plan.action == "load"
        plan.entry = registry.Entry(
            file_id,
            self.source,
            outcome.landed_path,  # = file.landed_path, made once (path_text) for the worker
            self._stored_path(plan.target),
            outcome.size,
            registry.INGESTED if loaded else registry.QUARANTINED,
            None if loaded else outcome.reason,
            outcome.content_type,
            sum(outcome.rows.values()) if loaded else 0,
            now,
            seq,
        )
        if loaded:
            here[file_id] = "load"
        else:
            self.quarantined[file_id] = outcome.reason
        return plan

    def _unfinished_move(self, prior: registry.Entry, file: LandedFile) -> str | None:
        """The recorded target of a file a crash left in landing after its commit, if so."""
        if prior.landed_path != file.landed_path or not prior.stored_path:
            return None
        recorded = os.path.join(self.settings.data_dir, prior.stored_path)
        if recorded in self.taken:
            return None
        if os.path.lexists(recorded) or os.path.lexists(recorded + REASON_SUFFIX):
            # taken, unless by this very file (a `link` + `unlink` move cut short)
            if not _same_file(file.location, recorded):
                return None
        self.taken.pending.add(recorded)
        self.taken.unusual.add(recorded)
        self.taken.unusual.add(recorded + REASON_SUFFIX)
        return recorded

    def _claim(self, kind: str, file: LandedFile, outcome: FileOutcome) -> str:
        """A free path for the file in archive/ or quarantine/, promised to it: the worker's
        proposal when it still holds, else one found now (strings: this is the hot path)."""
        taken = self.taken
        proposal = outcome.target
        if kind == "archive":
            # the worker proposed an archive path for a file it parsed; the file's own path there
            # was free when it looked, and only an unusual promise of this run can have taken it
            relative = file.stored_relative
            natural = self._archive_prefix + relative
            if (
                proposal == natural
                and outcome.status != "quarantined"
                and natural not in taken.unusual
            ):
                taken.pending.add(natural)
                return natural
            target = free_target(self._archive_root, relative, outcome.file_id, taken=taken)
            if target != natural:
                taken.unusual.add(target)
            taken.pending.add(target)
            return target
        target = free_target(
            self._quarantine_root,
            file.stored_relative,
            outcome.file_id,
            with_reason=True,
            taken=taken,
        )
        taken.unusual.add(target)
        taken.unusual.add(target + REASON_SUFFIX)
        taken.pending.add(target)
        return target

    def _stored_path(self, target: str) -> str:
        """The target relative to the data dir, as the registry records it (`path_text`)."""
        return path_text(target[len(self._data_dir_prefix) :].replace(os.sep, "/"))

    def _demote_to_quarantine(self, plan: _Plan, reason: str) -> None:
        plan.action = "quarantine"
        plan.outcome.reason = reason
        plan.outcome.rows = {}
        self.taken.pending.discard(plan.target)
        plan.target = self._claim("quarantine", plan.file, plan.outcome)
        plan.entry = plan.entry._replace(
            status=registry.QUARANTINED,
            reason=reason,
            rows_loaded=0,
            stored_path=self._stored_path(plan.target),
        )
        self.quarantined[plan.outcome.file_id] = reason

    def _commit(self, plans: list[_Plan], tables: dict[str, pa.Table]) -> None:
        """One transaction: the rows of the plans' loaded files and their registry entries."""
        entries = [p for p in plans if p.entry is not None]
        if not entries:
            return
        load_ids = {p.outcome.file_id for p in plans if p.action == "load"}
        whole = self.with_rows <= load_ids  # the tables hold rows of loaded files only
        self.transactions += 1
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for name, table in tables.items():
                _ingest_rows = table if whole else _rows_of(table, load_ids)
                if _ingest_rows.num_rows:
                    # DuckDB scans the Arrow table named by this local variable (a replacement
                    # scan): no view to register and drop per table and chunk
                    con.execute(f"INSERT INTO raw.{name} BY NAME SELECT * FROM _ingest_rows")
            for file_id in sorted(load_ids & self.spooled.keys()):
                self._insert_spooled(file_id, self.spooled[file_id])
            _test_crash_point("before-commit", self.transactions)
            registry.insert(con, [p.entry for p in entries if not p.replaces])
            registry.insert(con, [p.entry for p in entries if p.replaces], replace=True)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        _test_crash_point("after-commit", self.transactions)

    def _insert_spooled(self, file_id: str, paths: dict[str, str]) -> None:
        """A large file's rows, streamed from its spool into its raw tables (in the transaction)."""
        import pyarrow.ipc

        if len(file_id) != 64 or not all(c in "0123456789abcdef" for c in file_id):
            raise ValueError(f"not a file id: {file_id!r}")  # it is written into the statement
        for name, path in paths.items():
            with pyarrow.ipc.open_stream(path) as _spooled_rows:  # a reader: DuckDB streams it
                self.con.execute(
                    f"INSERT INTO raw.{name} BY NAME "
                    f"SELECT '{file_id}' AS file_id, * FROM _spooled_rows"
                )

    # --- after the commit: move, account -----------------------------------------------------

    def _move(self, plans: list[_Plan]) -> None:
        """Move the chunk's files: a task for the workers when there are any, else here."""
        moves = []
        moved = []  # the plans of `moves`, in order
        for plan in plans:
            if plan.action == "leave" or plan.action == "special":
                continue
            reason = None
            if plan.action == "quarantine":
                outcome = plan.outcome
                details = "\n".join(outcome.notes)
                reason = (
                    plan.file.landed_path,
                    outcome.file_id,
                    outcome.reason + (f"\n\ndetails:\n{details}" if details else ""),
                )
            # (string concatenation: os.path.join per file costs more than it is worth here)
            fallback = (
                self._quarantine_fallback if reason is not None else self._archive_fallback
            ) + plan.outcome.file_id
            moves.append((plan.file.location, plan.target, reason, plan.outcome.read_as, fallback))
            moved.append(plan)
        if self.pool is not None and moves:
            self.moving.append((plans, moved, self.pool.submit(move_files, moves)))
        else:
            self.moving.append((plans, moved, move_files(moves)))

    def _settle(self, *, wait: bool) -> None:
        """Account for the chunks whose moves are done, in order (`wait`: for all of them)."""
        while self.moving:
            plans, moved, moves = self.moving[0]
            if isinstance(moves, Future):
                if not wait and not moves.done():
                    return
                moves = moves.result()  # only a bug stops the run here (an OSError does not)
            self.moving.popleft()
            for problem in moves:  # not moved to their target
                self._not_moved(moved[problem.index], problem)
            for plan in plans:
                self._account(plan)

    def _not_moved(self, plan: _Plan, problem: MoveProblem) -> None:
        """A file changed after it was read stays in landing/: its entry (if it wrote one)
        keeps what was read, with no stored path (nothing was archived). A move that failed (see
        the module docstring): the registry names the fallback the file went to, or keeps the
        target for the next run to move it to (as after a crash); the report says so."""
        if problem.kind != CHANGED:
            landed, why = plan.file.landed_path, f"move_failed: {problem.detail}"
            if problem.kind == LEFT:
                self.report.files_left.append((landed, f"{why}; left in landing/ for the next run"))
                return
            stored = self._stored_path(problem.path)
            self.report.notes.append((landed, f"{why}; stored as {stored}"))
            self.con.execute(  # the entry that names this target: this file's, or its first copy's
                "UPDATE raw.file_registry SET stored_path = ? WHERE file_id = ? AND stored_path = ?",
                [stored, plan.outcome.file_id, self._stored_path(plan.target)],
            )
            return
        plan.action = "changed"
        if plan.entry is not None:
            self.con.execute(
                "UPDATE raw.file_registry SET stored_path = NULL"
                " WHERE file_id = ? AND stored_path = ?",
                [plan.entry.file_id, plan.entry.stored_path],
            )

    def _account(self, plan: _Plan) -> None:
        file, outcome, report = plan.file, plan.outcome, self.report
        if plan.target is not None:
            self.taken.pending.discard(plan.target)  # on disk now
        if plan.action == "leave":
            report.files_left.append((file.landed_path, outcome.reason or outcome.status))
        elif plan.action == "special":
            report.special_entries.append((file.landed_path, outcome.content_type or "other"))
        elif plan.action == "changed":
            report.files_left.append((file.landed_path, _CHANGED))
        elif plan.action == "duplicate":
            report.files_skipped_duplicate += 1
        elif plan.action == "same_message":
            report.files_skipped_duplicate += 1
            report.notes.extend((file.landed_path, note) for note in outcome.notes)
        elif plan.action == "load":
            report.files_ingested += 1
            rows_loaded = report.rows_loaded
            for table, count in outcome.rows.items():
                rows_loaded[table] = rows_loaded.get(table, 0) + count
            if outcome.notes:
                report.notes.extend((file.landed_path, note) for note in outcome.notes)
        else:
            report.files_quarantined.append((file.landed_path, outcome.reason))
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done), file.path)


class _PoolUnavailable(Exception):
    """No worker processes here; parse in-process instead."""


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samestat(os.lstat(a), os.lstat(b))
    except OSError:
        return False


def _rows_of(table: pa.Table, file_ids: set[str]) -> pa.Table:
    """The rows of these files only (a chunk may hold rows of a file found to be a duplicate)."""
    import pyarrow.compute as pc

    present = set(pc.unique(table.column("file_id")).to_pylist())
    if present <= file_ids:
        return table
    mask = pc.is_in(table.column("file_id"), value_set=pa.array(sorted(file_ids), pa.string()))
    return table.filter(mask)


def _files_per_chunk(total: int, workers: int) -> int:
    if workers > 1:
        return max(1, min(FILES_PER_TRANSACTION, math.ceil(total / (4 * workers))))
    return FILES_PER_TRANSACTION


def _chunk_count(total: int, workers: int) -> int:
    """How many chunks `total` files make at least (more when the byte limit cuts them)."""
    return math.ceil(total / _files_per_chunk(total, workers))


def _chunks(files: Iterable[LandedFile], total: int, workers: int) -> Iterator[list[LandedFile]]:
    """Consecutive runs of files, small enough to spread over the workers and to commit at once."""
    per_chunk = _files_per_chunk(total, workers)
    chunk: list[LandedFile] = []
    size = 0
    for file in files:
        if chunk and (len(chunk) >= per_chunk or size + file.size > BYTES_PER_TRANSACTION):
            yield chunk
            chunk, size = [], 0
        chunk.append(file)
        size += file.size
    if chunk:
        yield chunk


def _tasks(chunk: list[LandedFile]) -> list[tuple[str, str, str, str]]:
    return [(f.location, f.stored_relative, f.landed_path, f.kind) for f in chunk]


def _spool_dir(parent: Path) -> str:
    """A new spool folder for this run (see the module docstring); stale ones are removed."""
    root = parent / ".ingest-spool"
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in root.iterdir():
        try:
            if now - old.stat().st_mtime > _STALE_SPOOL_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            continue
    return tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root)


def _unknown_chunk(chunk: list[LandedFile]) -> ChunkResult:
    """Files outside the known source folders: hashed (streaming) and quarantined unread."""
    from jeugdhulp.ingest.worker import _NotNow, _open_settled, _unchanged

    outcomes = []
    for file in chunk:
        if file.kind != FILE:
            reason = special_reason(file.kind)
            outcomes.append(FileOutcome(file.landed_path, "", 0, "special", file.kind, reason))
            continue
        try:
            fd, status = _open_settled(file.location, 0.0)
            digest = hashlib.sha256()
            size = 0
            with open(fd, "rb") as stream:
                while block := stream.read(1 << 20):
                    digest.update(block)
                    size += len(block)
                _unchanged(fd, status, size)
        except _NotNow as exc:
            outcomes.append(
                FileOutcome(file.landed_path, "", 0, exc.status, exc.kind, mask_bsns(exc.reason))
            )
            continue
        except OSError as exc:
            reason = mask_bsns(f"unreadable: {exc.strerror or exc}")
            outcomes.append(FileOutcome(file.landed_path, "", 0, "unreadable", reason=reason))
            continue
        outcomes.append(
            FileOutcome(
                file.landed_path,
                digest.hexdigest(),
                size,
                "quarantined",
                reason=(
                    "unknown_source: files must be delivered in landing/<source>/ with source one "
                    f"of {', '.join(SOURCES)}"
                ),
                read_as=(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns),
            )
        )
    return ChunkResult(outcomes, {})
