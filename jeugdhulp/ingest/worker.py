"""Parses a chunk of landed files (in a pool worker or in-process) into one Arrow table per raw table.

The worker reads each file once: the bytes are hashed (the file's id) and parsed from memory. It
never touches the warehouse; the main process decides, per file, whether the rows are loaded
(new), dropped (a duplicate) or replaced by a quarantine entry. Files are parsed whole before
their rows join the chunk, so a file that fails half-way contributes no row.

Given the archive and quarantine folders, the worker also proposes each file's target there (a
free name, see `landing.free_target`), so the main process need not look at the disk per file;
and `move_files` does the moves after the commit, in a worker too.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.connection
import os
import threading
import traceback
from dataclasses import dataclass, field
from functools import cache

import pyarrow as pa

from jeugdhulp.ingest.errors import QuarantineError
from jeugdhulp.ingest.ijw_rows import parse_ijw
from jeugdhulp.ingest.landing import free_target, move_file, write_reason
from jeugdhulp.ingest.parsed import ClientKeys, ParsedFile
from jeugdhulp.ingest.raw_tables import table_columns
from jeugdhulp.ingest.tabular_sources import parse_tabular

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
    status: str  # parsed | quarantined | repeated (same bytes earlier in this chunk) | vanished | unreadable
    content_type: str | None = None
    reason: str | None = None  # quarantined: "<code>: <message>"
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    target: str | None = None  # proposed free path: archive/ (parsed, repeated) or quarantine/


@dataclass
class ChunkResult:
    outcomes: list[FileOutcome]
    tables: dict[str, pa.Table]  # raw table -> rows of every parsed file in the chunk, with file_id


_keys: ClientKeys | None = None


def init_worker(pseudonym_key: str) -> None:
    """Pool initializer: the pseudonymiser lives once per process (its cache is per process too).

    A worker also ends when the process that started it ends: after a crash (or a kill) of the
    ingestion it would otherwise wait for work forever. A move cut short by that is finished by
    the rerun (see runner.py, crash safety).
    """
    global _keys
    _keys = ClientKeys(pseudonym_key)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _parse(source: str, relative: str, data: bytes, keys: ClientKeys) -> ParsedFile:
    if source == "ijw":
        return parse_ijw(data, keys)
    return parse_tabular(source, relative, data, keys)


def _to_arrow(
    table: str, columns: tuple[str, ...], rows: list[tuple], file_ids: list[str]
) -> pa.Table:
    arrays = [pa.array(file_ids, type=pa.string())]
    names = ["file_id", *columns]
    for name, values in zip(columns, zip(*rows)):
        try:
            arrays.append(pa.array(values, type=arrow_type(table, name)))
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"column {name}: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=names)


def parse_chunk(
    source: str,
    files: list[tuple[str, str, str]],
    pseudonym_key: str | None = None,
    roots: tuple[str, str] | None = None,
) -> ChunkResult:
    """Parse files given as (absolute path, path below landing/<source>/, path below landing/).

    With `roots` (the source's archive and quarantine folders), each outcome proposes a free
    target in the one its status points to.
    """
    keys = _keys if pseudonym_key is None else ClientKeys(pseudonym_key)
    if keys is None:
        raise RuntimeError("parse_chunk needs a pseudonym key or init_worker() first")
    outcomes: list[FileOutcome] = []
    parsed_files: list[tuple[FileOutcome, ParsedFile]] = []
    seen: set[str] = set()
    for path, relative, landed_path in files:
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except FileNotFoundError:  # taken away since it was listed: not ours to account for
            outcomes.append(FileOutcome(landed_path, "", 0, "vanished", reason="vanished"))
            continue
        except OSError as exc:  # e.g. no permission: leave it in landing, say why
            outcomes.append(
                FileOutcome(landed_path, "", 0, "unreadable", reason=f"unreadable: {exc}")
            )
            continue
        file_id = hashlib.sha256(data).hexdigest()
        outcome = FileOutcome(landed_path, file_id, len(data), "parsed")
        outcomes.append(outcome)
        if file_id in seen:
            outcome.status = "repeated"
            continue
        seen.add(file_id)
        try:
            parsed = _parse(source, relative, data, keys)
        except QuarantineError as exc:
            outcome.status, outcome.reason = "quarantined", exc.text
            continue
        except Exception as exc:  # a bug must not stop the run: quarantine, keep the trace
            _quarantine_internal(outcome, exc)
            continue
        outcome.content_type = parsed.content_type
        outcome.notes = parsed.notes
        outcome.rows = {table: len(rows.rows) for table, rows in parsed.tables.items()}
        parsed_files.append((outcome, parsed))
    tables = _chunk_tables(parsed_files)
    if roots is not None:
        archive, quarantine = roots
        folders: dict[
            str, bool
        ] = {}  # folder -> exists (a first load finds none: no lstat per file)
        for (_path, relative, _landed), outcome in zip(files, outcomes):
            if outcome.status in ("parsed", "repeated"):
                outcome.target = _propose(archive, relative, outcome.file_id, False, folders)
            elif outcome.status == "quarantined":
                outcome.target = _propose(quarantine, relative, outcome.file_id, True, folders)
    return ChunkResult(outcomes, tables)


def _propose(
    root: str, relative: str, file_id: str, with_reason: bool, folders: dict[str, bool]
) -> str:
    """A free target below root; the file's own name when its folder does not even exist."""
    target = os.path.join(root, relative)
    folder = os.path.dirname(target)
    exists = folders.get(folder)
    if exists is None:
        exists = folders[folder] = os.path.isdir(folder)
    if not exists:
        return target
    return free_target(root, relative, file_id, with_reason=with_reason)


def move_files(moves: list[tuple[str, str, tuple[str, str, str] | None]]) -> None:
    """After a commit: move each file (source, target) and, for a quarantined one, write its reason
    file from (landed path, file id, reason). Stops at the first failure (raised)."""
    for source, target, reason in moves:
        move_file(source, target)
        if reason is not None:
            write_reason(target, *reason)


def _quarantine_internal(outcome: FileOutcome, exc: Exception) -> None:
    outcome.status = "quarantined"
    outcome.reason = f"internal_error: {type(exc).__name__}: {exc}"
    outcome.rows = {}
    outcome.notes = [traceback.format_exc(limit=6)]


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
    return {
        table: _to_arrow(table, columns, rows, file_ids)
        for table, (columns, rows, file_ids) in gathered.items()
    }
