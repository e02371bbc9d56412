"""Parses a chunk of landed files (in a pool worker or in-process) into one Arrow table per raw table.

The worker reads each file once: the bytes are hashed (the file's id) and parsed as they are read
(an iJw message whole, from memory; a CSV/XLSX streaming, see tabular.py). It never touches the
warehouse; the main process decides, per file, whether the rows are loaded (new), dropped (a
duplicate) or replaced by a quarantine entry. Files are parsed whole before their rows join the
chunk, so a file that fails half-way contributes no row. A CSV/XLSX of more than SPOOL_ROWS rows
does not join the chunk's tables: its rows go, batch by batch, to an Arrow stream file in the
run's spool folder, which the main process inserts from (streaming) when it commits the file.

Complete files only (docs/contract.md §2): a file is opened without following a symlink and
without blocking (a FIFO swapped in is never waited on), and must be a regular file. One modified
less than `settle_seconds` ago is looked at again once it is that old (the wait is against its
mtime, so a run over files that landed earlier never waits; a chunk waits at most that long in
all); changed meanwhile, or while it was read (size or mtime), it is left in landing/ as
`still_arriving` for the next run. The (device, inode, size, mtime) it was read with travel with
the outcome, and `move_files` moves a file only while they still hold: the bytes archived are the
bytes hashed and parsed.

Privacy: every reason and note leaving here passes `mask_bsns`.

Given the archive and quarantine folders, the worker also proposes each file's target there (a
free name, see `landing.free_target`), so the main process need not look at the disk per file;
and `move_files` does the moves after the commit, in a worker too.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
import traceback
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

import pyarrow as pa

from jeugdhulp.ingest.errors import QuarantineError
from jeugdhulp.ingest.ijw_rows import parse_ijw
from jeugdhulp.ingest.landing import (
    FILE,
    REASON_SUFFIX,
    fits,
    free_target,
    move_file,
    name_max,
    write_reason,
)
from jeugdhulp.ingest.message_identity import INDEX_TABLE, index_rows, key_of
from jeugdhulp.ingest.parsed import ClientKeys, ParsedFile
from jeugdhulp.ingest.raw_tables import table_columns
from jeugdhulp.ingest.tabular import Delivery, XlsxLimits
from jeugdhulp.ingest.tabular_sources import parse_tabular
from jeugdhulp.privacy.mask import mask_bsns
from jeugdhulp.processes import end_with_parent_process

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
}


@cache
def arrow_type(table: str, column: str) -> pa.DataType:
    """The Arrow type a raw column is built with, from its DuckDB type in raw_tables.py."""
    return _ARROW_TYPES[dict(table_columns(table))[column]]


@dataclass
class FileOutcome:
    landed_path: str  # relative to landing/
    file_id: str  # SHA-256 hex of the bytes
    size: int
    status: str  # parsed | quarantined | repeated (same bytes earlier in this chunk) | vanished
    # | unreadable | arriving (not complete yet) | special (not a regular file: content_type says what)
    content_type: str | None = None
    reason: str | None = None  # quarantined: "<code>: <message>"
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    target: str | None = None  # proposed free path: archive/ (parsed, repeated) or quarantine/
    read_as: tuple[int, int, int, int] | None = None  # (device, inode, size, mtime_ns) when read
    # an iJw message: (sender, receiver, message_id, message_date, key), message_identity.py
    message: tuple | None = None


@dataclass
class ChunkResult:
    outcomes: list[FileOutcome]
    tables: dict[str, pa.Table]  # raw table -> rows of every parsed file in the chunk, with file_id
    # file_id -> raw table -> Arrow stream file of its rows, without file_id (large CSV/XLSX)
    spooled: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadOptions:
    """How files are read (from Settings): see the module docstring."""

    settle_seconds: float = 0.0
    xlsx_limits: XlsxLimits = XlsxLimits()
    spool_dir: str | None = None  # where large CSV/XLSX files spool their rows; None: in memory


_keys: ClientKeys | None = None


def init_worker(pseudonym_key: str) -> None:
    """Pool initializer: the pseudonymiser lives once per process (its cache is per process too).

    A worker also ends when the process that started it ends (jeugdhulp/processes.py): after a
    crash (or a kill) of the ingestion it would otherwise wait for work forever. A move cut short
    by that is finished by the rerun (see runner.py, crash safety).
    """
    global _keys
    end_with_parent_process()
    _keys = ClientKeys(pseudonym_key)


def _arrays(table: str, columns: tuple[str, ...], rows: list[tuple]) -> list[pa.Array]:
    arrays = []
    for name, values in zip(columns, zip(*rows)):
        try:
            arrays.append(pa.array(values, type=arrow_type(table, name)))
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"column {name}: {exc}") from exc
    return arrays


def _to_arrow(
    table: str, columns: tuple[str, ...], rows: list[tuple], file_ids: list[str]
) -> pa.Table:
    arrays = [pa.array(file_ids, type=pa.string()), *_arrays(table, columns, rows)]
    return pa.Table.from_arrays(arrays, names=["file_id", *columns])


class _Spool:
    """The rows of one large file, batch by batch, as Arrow stream files (one per raw table)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.paths: dict[str, str] = {}
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}

    def __call__(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        batch = pa.RecordBatch.from_arrays(_arrays(table, columns, rows), names=list(columns))
        writer = self._writers.get(table)
        if writer is None:
            os.makedirs(self.directory, exist_ok=True)
            path = os.path.join(self.directory, f"{uuid.uuid4().hex}.{table}.arrows")
            self.paths[table] = path
            writer = self._writers[table] = pa.ipc.new_stream(path, batch.schema)
        writer.write_batch(batch)

    def close(self) -> dict[str, str]:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        return self.paths

    def discard(self) -> None:
        self.close()
        remove_spooled(self.paths.values())
        self.paths = {}


def remove_spooled(paths) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class _NotNow(Exception):
    """The file is not to be read now: `status` and `reason` say why."""

    def __init__(self, status: str, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.kind = status, reason, kind


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "directory"
    return "other"


def special_reason(kind: str) -> str:
    if kind == "symlink":
        return "symlink: a symbolic link is never followed; left untouched in landing/"
    if kind == "directory":
        return "directory: a folder named like a file is not a delivery; left untouched in landing/"
    return f"{kind}: not a regular file; never opened, left untouched in landing/"


def _fingerprint(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _open_settled(path: str, settle_seconds: float) -> tuple[int, os.stat_result]:
    """An open descriptor of the regular file at `path` (no symlink followed) once its size and
    mtime held for `settle_seconds`; _NotNow otherwise."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:  # taken away since it was listed: not ours to account for
        raise _NotNow("vanished", "vanished") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a symlink since it was listed
            raise _NotNow("special", special_reason("symlink"), "symlink") from None
        raise _NotNow("unreadable", f"unreadable: {exc.strerror}") from None  # e.g. no permission
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = _special_kind(status.st_mode)
            raise _NotNow("special", special_reason(kind), kind)
        age = time.time() - status.st_mtime_ns / 1e9
        if age < settle_seconds:
            time.sleep(min(settle_seconds - age, settle_seconds))
            again = os.fstat(fd)
            if (again.st_size, again.st_mtime_ns) != (status.st_size, status.st_mtime_ns):
                raise _NotNow(
                    "arriving",
                    f"still_arriving: the file was still being written (it changed within "
                    f"{settle_seconds:g} s); left in landing/ for the next run",
                )
            status = again
        return fd, status
    except BaseException:
        os.close(fd)
        raise


def _unchanged(fd: int, before: os.stat_result, size_read: int) -> None:
    after = os.fstat(fd)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
        size_read != after.st_size
    ):
        raise _NotNow(
            "arriving",
            "still_arriving: the file changed while it was read; left in landing/ for the next run",
        )


def _read_all(fd: int, size: int) -> bytes:
    """Every byte of the open file: a plain read, no file object per message. `size` is its
    fstat size; one byte more is asked for to meet the end at once. A short read, or a file that
    grew, is read on to the end (and `_unchanged` then tells a grown file)."""
    data = os.read(fd, size + 1)
    if len(data) == size:
        return data
    parts = [data]
    while more := os.read(fd, 1 << 20):
        parts.append(more)
    return b"".join(parts)


def _read_and_parse(
    source: str,
    path: str,
    relative: str,
    keys: ClientKeys,
    options: ReadOptions,
    seen: set[str],
) -> tuple[str, int, tuple, ParsedFile | None, dict[str, str], QuarantineError | None]:
    """(file id, size, fingerprint, parsed or None (repeated), spooled paths, quarantine error)."""
    fd, status = _open_settled(path, options.settle_seconds)
    if source == "ijw":
        try:
            data = _read_all(fd, status.st_size)
            _unchanged(fd, status, len(data))
        finally:
            os.close(fd)
        file_id = hashlib.sha256(data).hexdigest()
        if file_id in seen:
            return file_id, len(data), _fingerprint(status), None, {}, None
        try:
            return file_id, len(data), _fingerprint(status), parse_ijw(data, keys), {}, None
        except QuarantineError as exc:
            return file_id, len(data), _fingerprint(status), None, {}, exc
    with open(fd, "rb") as stream:
        delivery = Delivery(stream)
        spool = _Spool(options.spool_dir) if options.spool_dir else None
        parsed = error = None
        try:
            parsed = parse_tabular(
                source, relative, delivery, keys, spool=spool, limits=options.xlsx_limits
            )
        except QuarantineError as exc:
            error = exc
        except BaseException:
            if spool is not None:
                spool.discard()
            raise
        delivery.read_rest()
        spooled = spool.close() if spool is not None else {}
        try:
            _unchanged(fd, status, delivery.size)
        except _NotNow:
            remove_spooled(spooled.values())
            raise
        file_id = delivery.file_id
        if file_id in seen or error is not None:
            remove_spooled(spooled.values())
            spooled = {}
            parsed = None if file_id in seen else parsed
        return file_id, delivery.size, _fingerprint(status), parsed, spooled, error


def parse_chunk(
    source: str,
    files: list[tuple],
    pseudonym_key: str | None = None,
    roots: tuple[str, str] | None = None,
    options: ReadOptions | None = None,
) -> ChunkResult:
    """Parse files given as (absolute path, path below landing/<source>/ as it is to be stored
    (BSNs masked), path below landing/ as text[, kind]) (see landing.LandedFile).

    With `roots` (the source's archive and quarantine folders), each outcome proposes a free
    target in the one its status points to.
    """
    keys = _keys if pseudonym_key is None else ClientKeys(pseudonym_key)
    if keys is None:
        raise RuntimeError("parse_chunk needs a pseudonym key or init_worker() first")
    options = options or ReadOptions()
    outcomes: list[FileOutcome] = []
    parsed_files: list[tuple[FileOutcome, ParsedFile]] = []
    spooled: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for task in files:
        path, relative, landed_path = task[:3]
        kind = task[3] if len(task) > 3 else FILE
        if kind != FILE:
            reason = special_reason(kind)
            outcomes.append(FileOutcome(landed_path, "", 0, "special", kind, reason))
            continue
        try:
            file_id, size, read_as, parsed, spools, error = _read_and_parse(
                source, path, relative, keys, options, seen
            )
        except _NotNow as exc:
            outcomes.append(
                FileOutcome(landed_path, "", 0, exc.status, exc.kind, mask_bsns(exc.reason))
            )
            continue
        except OSError as exc:  # e.g. an I/O error half-way: leave it in landing, say why
            reason = mask_bsns(f"unreadable: {exc.strerror or exc}")
            outcomes.append(FileOutcome(landed_path, "", 0, "unreadable", reason=reason))
            continue
        except Exception as exc:  # a bug must not stop the run: quarantine, keep the trace
            outcome = FileOutcome(landed_path, *_hash_of(path), "parsed")
            outcomes.append(outcome)
            _quarantine_internal(outcome, exc)
            continue
        outcome = FileOutcome(landed_path, file_id, size, "parsed", read_as=read_as)
        outcomes.append(outcome)
        if file_id in seen:
            outcome.status = "repeated"
            continue
        seen.add(file_id)
        if error is not None:
            outcome.status, outcome.reason = "quarantined", mask_bsns(error.text)
            continue
        outcome.content_type = parsed.content_type
        # an iJw message: its identity and the identity's key (none: an incomplete header)
        if parsed.message is not None and None not in parsed.message:
            outcome.message = (*parsed.message, key_of(parsed.content_type, *parsed.message))
        outcome.notes = [mask_bsns(note) for note in parsed.notes]
        outcome.rows = {table: len(rows.rows) for table, rows in parsed.tables.items()}
        outcome.rows.update(parsed.spooled)
        if spools:
            spooled[file_id] = spools
        parsed_files.append((outcome, parsed))
    tables = _chunk_tables(parsed_files)
    for outcome, _parsed in parsed_files:  # a file whose rows did not convert is quarantined
        if outcome.status == "quarantined" and outcome.file_id in spooled:
            remove_spooled(spooled.pop(outcome.file_id).values())
        elif outcome.message is not None and outcome.rows and any(outcome.rows.values()):
            # its identity is in the index's rows of `tables` now: not sent back twice (only a
            # message without rows keeps it, which tells the writer it has an index row)
            outcome.message = None
    if roots is not None:
        archive, quarantine = roots
        folders: dict[
            str, bool
        ] = {}  # folder -> exists (a first load finds none: no lstat per file)
        for task, outcome in zip(files, outcomes):
            relative = task[1]
            if outcome.status in ("parsed", "repeated"):
                outcome.target = _propose(archive, relative, outcome.file_id, False, folders)
            elif outcome.status == "quarantined":
                outcome.target = _propose(quarantine, relative, outcome.file_id, True, folders)
    return ChunkResult(outcomes, tables)


def _propose(
    root: str, relative: str, file_id: str, with_reason: bool, folders: dict[str, bool]
) -> str:
    """A free target below root; the file's own name when its folder does not even exist (and
    every name fits)."""
    target = os.path.join(root, relative)
    folder = os.path.dirname(target)
    missing = folders.get(folder)
    if missing is None:
        missing = folders[folder] = _missing(folder)
    if missing and fits(relative, name_max(root), with_reason):
        return target
    return free_target(root, relative, file_id, with_reason=with_reason)


def _missing(folder: str) -> bool:
    """Nothing at `folder`, and every folder above it that exists is a folder (a file on the way
    gives ENOTDIR, not ENOENT)."""
    try:
        os.lstat(folder)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


class MoveProblem(NamedTuple):
    """A file `move_files` did not move to its target: `kind` is CHANGED (not moved: changed
    since it was read), ELSEWHERE (at `path`, a fallback name, because of `detail`) or LEFT
    (still in landing/, because of `detail`)."""

    index: int
    kind: str
    path: str | None = None
    detail: str | None = None


CHANGED, ELSEWHERE, LEFT = "changed", "elsewhere", "left"
_FALLBACK_TRIES = 20


def move_files(moves: list[tuple]) -> list[MoveProblem]:
    """After a commit: move each file (source, target[, read_as[, fallback]]) and, for a
    quarantined one, write its reason file from (landed path, file id, reason). Returns the files
    not moved to their target:

    - a file whose (device, inode, size, mtime) differ from `read_as`, the ones it was read with,
      is not moved (CHANGED);
    - a move, or a reason file, that fails with an OSError all the same (targets are chosen to be
      creatable: landing.free_target) does not stop the run: the file goes to `fallback` (then
      `fallback-2`, ...), its reason file beside it (ELSEWHERE); when that fails too, or without a
      fallback, it stays where it is (LEFT: in landing/, for the next run to move).
    """
    problems = []
    for index, (source, target, reason, *rest) in enumerate(moves):
        expected = rest[0] if rest else None
        fallback = rest[1] if len(rest) > 1 else None
        if expected is not None:
            try:
                now = _fingerprint(os.lstat(source))
            except FileNotFoundError:
                now = None  # moved by a crashed run's link + unlink: move_file knows
            if now is not None and now != expected:
                problems.append(MoveProblem(index, CHANGED))
                continue
        try:
            move_file(source, target)
        except OSError as exc:
            problems.append(_elsewhere(index, source, fallback, reason, exc, moved=False))
            continue
        if reason is not None:
            try:
                write_reason(target, *reason)
            except OSError as exc:  # never a quarantined file without its reason: move it on
                problems.append(_elsewhere(index, target, fallback, reason, exc, moved=True))
    return problems


def _elsewhere(
    index: int, current: str, fallback: str | None, reason, exc: OSError, *, moved: bool
) -> MoveProblem:
    """Move the file at `current` to its fallback name after `exc` (see `move_files`); `moved`:
    it is at its target already, whose reason file could not be written."""
    what = "write its reason file" if moved else "move it to its target"
    why = mask_bsns(f"could not {what}: {type(exc).__name__}: {exc.strerror or exc}")
    for attempt in range(1, _FALLBACK_TRIES + 1) if fallback else ():
        candidate = fallback if attempt == 1 else f"{fallback}-{attempt}"
        try:
            move_file(current, candidate)
        except FileExistsError:
            continue
        except OSError:
            break
        if moved:  # a reason file half written is ours (its name was free): not left behind
            try:
                os.unlink(current + REASON_SUFFIX)
            except OSError:
                pass
        if reason is not None:
            try:
                write_reason(candidate, *reason)
            except OSError as again:
                why += mask_bsns(f"; no reason file either: {again.strerror or again}")
        return MoveProblem(index, ELSEWHERE, candidate, why)
    if moved:  # in quarantine, without its reason file
        return MoveProblem(index, ELSEWHERE, current, why)
    return MoveProblem(index, LEFT, None, why)


def _hash_of(path: str) -> tuple[str, int]:
    """(SHA-256, size) of a file a bug stopped parsing, read again to quarantine it."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(os.open(path, _OPEN_FLAGS), "rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
                size += len(block)
    except OSError:
        pass
    return digest.hexdigest(), size


def _quarantine_internal(outcome: FileOutcome, exc: Exception) -> None:
    outcome.status = "quarantined"
    outcome.reason = mask_bsns(f"internal_error: {type(exc).__name__}: {exc}")
    outcome.rows = {}
    outcome.notes = [mask_bsns(traceback.format_exc(limit=6))]


def _chunk_tables(parsed_files: list[tuple[FileOutcome, ParsedFile]]) -> dict[str, pa.Table]:
    """One Arrow table per raw table for the whole chunk; a file whose values do not convert is
    found by converting file by file, and quarantined."""
    try:
        return _build(parsed_files)
    except ValueError:
        pass
    good = []
    for outcome, parsed in parsed_files:
        try:
            _build([(outcome, parsed)])
            good.append((outcome, parsed))
        except ValueError as exc:
            _quarantine_internal(outcome, exc)
    return _build(good)


def _build(parsed_files: list[tuple[FileOutcome, ParsedFile]]) -> dict[str, pa.Table]:
    gathered: dict[str, tuple[tuple[str, ...], list[tuple], list[str]]] = {}
    for outcome, parsed in parsed_files:
        for table, part in parsed.tables.items():
            if not part.rows:
                continue
            columns, rows, file_ids = gathered.setdefault(table, (part.columns, [], []))
            if columns != part.columns:
                raise ValueError(f"{table}: columns differ between files")  # a parser bug
            rows.extend(part.rows)
            file_ids.extend([outcome.file_id] * len(part.rows))
    tables = {
        table: _to_arrow(table, columns, rows, file_ids)
        for table, (columns, rows, file_ids) in gathered.items()
    }
    # the iJw messages' rows of the identity index (ingest/message_identity.py), built here, in
    # parallel, and inserted with the chunk's other rows
    messages = [
        (outcome.file_id, outcome.content_type, outcome.message)
        for outcome, _ in parsed_files
        if outcome.message is not None
    ]
    if messages:
        tables[INDEX_TABLE] = index_rows(messages)
    return tables
