"""Takes an ingested file out again: its rows leave raw, it moves to quarantine, the registry says why.

An operator's remedy for a delivery that should not have been loaded (a blocking check names it):
`jeugdhulp quarantine <file> --reason "…"`. The file is named by its SHA-256 (the registry's
`file_id`), a unique prefix of at least 12 characters, or a path: the landed or stored path as
`raw.file_registry` records it, or any path of a file with its bytes (the archived copy). Nothing
or more than one file matching, a file not `ingested`, an empty reason, or a warehouse another
process holds (a run) is refused with a one-line reason, and nothing changes.

One DuckDB transaction then deletes the file's rows from every raw table with a `file_id` column,
makes its registry entry `quarantined` with reason `operator: <reason>` (BSNs masked) and its new
`stored_path`, keeping its `ingested_seq`, and records the takeout in `ingest_state.takeouts`,
where the next run finds what it must do over (below). After the commit the file moves from
`archive/<source>/…` to `quarantine/<source>/…` with `<name>.reason.txt` beside it, exactly as
ingestion quarantines (`landing.free_target`, `move_file`, `write_reason`), and the takeout's row
gets its `moved_at`.

A crash between the commit and the move leaves the registry pointing at the quarantine path while
the file still lies in archive/: no run reads archive/, so runs are unaffected, and every later
`jeugdhulp quarantine` first finishes such moves (running the same command again does exactly
that and says so). A file whose archived copy is gone is taken out all the same: its
`stored_path` becomes empty. A copy that ingestion committed but never moved (still in landing/
with the same bytes) is moved from there, so the next run does not read it again.

What the next run does over: raw tables lost rows that incremental steps may already have used.
- dbt: the incremental models (fct_invoice_lines, int_* of invoicing and quality) keep rows of
  files they have seen; `pending_full_refresh` tells the dbt step to build with `--full-refresh`
  (a build from raw as if the file had never been delivered) until `full_refresh_done` records one
  that rebuilt every incremental model.
- Great Expectations: the raw suites validate from their watermarks and carry a verdict over on a
  run without new rows; the takeout deletes the watermarks of the suites of the tables that lost
  rows and of `raw.file_registry`, so the next run validates those tables whole and a failure of
  the removed rows no longer blocks.

To put a file back, move it from quarantine/ to landing/: the next run loads it again (a
quarantined entry is read again when its bytes land).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from jeugdhulp.ingest import registry
from jeugdhulp.ingest.landing import (
    REASON_SUFFIX,
    free_target,
    move_file,
    path_bytes,
    path_text,
    write_reason,
)
from jeugdhulp.privacy.mask import mask_bsns
from jeugdhulp.quality.suites import list_suites
from jeugdhulp.quality.watermarks import WATERMARK_SCHEMA, WATERMARK_TABLE
from jeugdhulp.settings import Settings

OPERATOR_PREFIX = "operator: "  # the reason code of a takeout in the registry (and dq_findings)
MIN_PREFIX = 12  # characters of a SHA-256 that name a file (as free_target adds to a taken name)
TAKEOUT_SCHEMA = "ingest_state"
TAKEOUT_TABLE = f"{TAKEOUT_SCHEMA}.takeouts"

_TAKEOUT_DDL = f"""
create schema if not exists {TAKEOUT_SCHEMA};
create table if not exists {TAKEOUT_TABLE} (
    takeout_id bigint primary key,   -- 1, 2, ... in order
    file_id varchar not null,        -- raw.file_registry.file_id
    source varchar not null,
    landed_path varchar not null,
    from_path varchar,               -- where the file was, relative to the data dir; null: no copy
    to_path varchar,                 -- its quarantine path; null: nothing to move
    reason varchar not null,         -- as in the registry: 'operator: ...', BSNs masked
    rows_removed bigint not null,
    rows_by_table varchar not null,  -- JSON: raw table -> rows removed
    taken_out_at timestamp not null,
    moved_at timestamp,              -- null until the file and its reason file are in quarantine/
    dbt_refreshed_at timestamp       -- null until a dbt build rebuilt every incremental model
);
"""
_HEX = re.compile(r"[0-9a-f]+")
_LOCK_PID = re.compile(r"\(PID ([0-9]+)\)")
_SHOWN_CANDIDATES = 5


class TakeoutError(Exception):
    """The takeout was refused (or could not finish); the message is one line and says why."""


@dataclass(frozen=True)
class TakenOut:
    """What a takeout did. Paths are relative to the data dir, as text (`path_text`)."""

    file_id: str
    source: str
    landed_path: str
    from_path: str | None  # where the file was; None: no copy found
    stored_path: str | None  # where it is now (the registry's stored_path)
    reason: str  # as the registry records it: "operator: …"
    rows_removed: dict[str, int] = field(default_factory=dict)  # raw table -> rows deleted
    revalidated: tuple[str, ...] = ()  # GX suites the next run validates whole
    finished_earlier: bool = False  # only finished the move of a takeout cut short

    def describe(self) -> list[str]:
        """What happened, in lines for the terminal (no BSN: every text here is masked)."""
        head = "finished an interrupted takeout" if self.finished_earlier else "taken out"
        lines = [f"{head}: {self.landed_path} (sha256 {self.file_id})"]
        for table, count in sorted(self.rows_removed.items()):
            lines.append(f"  raw.{table}: {count} row{'s' if count != 1 else ''} removed")
        if not self.rows_removed:
            lines.append("  no rows in raw (the file loaded none)")
        if self.stored_path is not None:
            lines.append(
                f"  moved: {self.from_path} -> {self.stored_path} "
                f"(reason in {self.stored_path}{REASON_SUFFIX})"
            )
        else:
            lines.append("  no copy of the file on disk (its archived copy is gone): nothing moved")
        lines.append(f'  registry: quarantined, reason "{self.reason}"')
        lines.append(
            "  next run: dbt builds every model from raw (--full-refresh); Great Expectations "
            f"validates {', '.join(self.revalidated)} whole"
        )
        return lines


# --- the takeout -------------------------------------------------------------------------------


def take_out(settings: Settings, argument: str, reason: str) -> TakenOut:
    """Take the file `argument` names out of raw (see the module docstring)."""
    text = _one_line(reason)
    if not text:
        raise TakeoutError('give the reason: --reason "why this file is taken out"')
    recorded_reason = OPERATOR_PREFIX + mask_bsns(text)
    con = _connect(settings)
    try:
        _ensure_table(con)
        finished = {done.file_id: done for done in _finish_interrupted(con, settings)}
        entry = resolve(con, settings, argument)
        if entry.file_id in finished:
            return finished[entry.file_id]
        if entry.status != registry.INGESTED:
            raise TakeoutError(
                f"{entry.landed_path} ({entry.file_id[:MIN_PREFIX]}) is already {entry.status}: "
                f"{_one_line(entry.reason or 'no reason recorded')}"
            )
        source_path = _copy_on_disk(settings, entry)
        target = _target(settings, entry) if source_path else None
        done = _commit(con, settings, entry, recorded_reason, source_path, target)
        if target is not None:
            _finish(con, settings, _pending_of(con, entry.file_id))
        return done
    finally:
        con.close()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _connect(settings: Settings):
    path = settings.warehouse_path
    if not path.exists():
        raise TakeoutError(
            f"no warehouse at {mask_bsns(str(path))}: nothing has been ingested there"
        )
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        pid = _LOCK_PID.search(str(exc))
        holder = f" (PID {pid.group(1)})" if pid else ""
        raise TakeoutError(
            f"the warehouse is in use by another process{holder}, e.g. a `jeugdhulp run` or a run "
            "in the Dagster UI: try again when it has finished"
        ) from None


def _ensure_table(con) -> None:
    con.execute(_TAKEOUT_DDL)


def _commit(
    con,
    settings: Settings,
    entry: registry.Entry,
    reason: str,
    source_path: str | None,
    target: str | None,
) -> TakenOut:
    """The one transaction: rows out, registry entry quarantined, GX watermarks reset, recorded."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.columns where table_schema = 'raw' "
            "and column_name = 'file_id' and table_name <> 'file_registry' order by table_name"
        ).fetchall()
    ]
    from_path = _relative_text(settings, source_path) if source_path else None
    to_path = _relative_text(settings, target) if target else None
    con.execute("BEGIN TRANSACTION")
    try:
        removed: dict[str, int] = {}
        for table in tables:
            count = con.execute(
                f'DELETE FROM raw."{table}" WHERE file_id = ?', [entry.file_id]
            ).fetchone()[0]
            if count:
                removed[table] = int(count)
        updated = con.execute(
            "UPDATE raw.file_registry SET status = ?, reason = ?, stored_path = ?, rows_loaded = 0"
            " WHERE file_id = ? AND status = ?",
            [registry.QUARANTINED, reason, to_path, entry.file_id, registry.INGESTED],
        ).fetchone()[0]
        if updated != 1:
            raise TakeoutError(f"{entry.file_id[:MIN_PREFIX]} changed while it was taken out")
        suites = _suites_of(removed)
        _forget_watermarks(con, suites)
        _record(con, entry, from_path, to_path, reason, removed)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return TakenOut(
        entry.file_id,
        entry.source,
        entry.landed_path,
        from_path,
        to_path,
        reason,
        removed,
        suites,
    )


def _suites_of(removed: dict[str, int]) -> tuple[str, ...]:
    """The GX suites to validate whole: the registry's and those of the tables that lost rows."""
    known = set(list_suites())
    tables = [f"raw.{table}" for table in sorted(removed)]
    return ("raw.file_registry", *(suite for suite in tables if suite in known))


def _forget_watermarks(con, suites: Iterable[str]) -> None:
    """The next run validates these suites' tables whole (no watermark: every row)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name = 'watermarks'",
        [WATERMARK_SCHEMA],
    ).fetchone()[0]
    if exists:
        names = list(suites)
        con.execute(
            f"DELETE FROM {WATERMARK_TABLE} WHERE suite_name IN ({', '.join('?' * len(names))})",
            names,
        )


def _record(
    con,
    entry: registry.Entry,
    from_path: str | None,
    to_path: str | None,
    reason: str,
    removed: dict[str, int],
) -> None:
    now = datetime.now()
    con.execute(
        f"INSERT INTO {TAKEOUT_TABLE} (takeout_id, file_id, source, landed_path, from_path, "
        "to_path, reason, rows_removed, rows_by_table, taken_out_at, moved_at) "
        f"SELECT coalesce(max(takeout_id), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM {TAKEOUT_TABLE}",
        [
            entry.file_id,
            entry.source,
            entry.landed_path,
            from_path,
            to_path,
            reason,
            sum(removed.values()),
            json.dumps(removed, sort_keys=True),
            now,
            None if to_path else now,  # nothing to move: done
        ],
    )


# --- which file --------------------------------------------------------------------------------


def resolve(con, settings: Settings, argument: str) -> registry.Entry:
    """The one registry entry `argument` names: an id, an id prefix (>= 12), or a path."""
    if not argument.strip():
        raise TakeoutError("name the file: its SHA-256, its first 12 characters, or its path")
    shown = path_text(argument)
    candidate = argument.strip().lower()
    ids: set[str] = set()
    if _HEX.fullmatch(candidate) and len(candidate) >= MIN_PREFIX:
        ids = _by_prefix(con, candidate)
        if len(ids) > 1:
            raise TakeoutError(f"{shown} {_ambiguous(con, ids)}")
    if not ids:
        ids = _by_path(con, settings, argument)
    if not ids:
        hint = (
            f" (a SHA-256 prefix needs at least {MIN_PREFIX} characters)"
            if _HEX.fullmatch(candidate) and len(candidate) < MIN_PREFIX
            else ""
        )
        raise TakeoutError(f"no file in raw.file_registry matches {shown}{hint}")
    if len(ids) > 1:
        raise TakeoutError(f"{shown} {_ambiguous(con, ids)}; name it by its SHA-256 prefix")
    return registry.lookup(con, ids)[ids.pop()]


def _by_prefix(con, prefix: str) -> set[str]:
    found = con.execute(
        "SELECT file_id FROM raw.file_registry WHERE starts_with(file_id, ?) LIMIT 10", [prefix]
    ).fetchall()
    return {file_id for (file_id,) in found}


def _by_path(con, settings: Settings, argument: str) -> set[str]:
    """Entries whose landed or stored path is the argument's (as the registry writes paths, BSNs
    masked), or whose stored copy it is; else those a takeout moved from there; else the entry of
    the file's bytes."""
    text = path_text(argument.strip())
    texts = {text, text.removeprefix("./")}
    texts |= {t.removeprefix("landing/") for t in texts}
    stored = set(texts)
    absolute = os.path.abspath(argument)
    for root in {str(settings.data_dir), os.path.realpath(settings.data_dir)}:
        if absolute.startswith(root + os.sep):
            relative = path_text(absolute[len(root) + 1 :].replace(os.sep, "/"))
            stored.add(relative)
            texts.add(relative.removeprefix("landing/"))
    ids = {
        file_id
        for (file_id,) in con.execute(
            "SELECT file_id FROM raw.file_registry WHERE list_contains(?, landed_path) "
            "OR list_contains(?, stored_path)",
            [sorted(texts), sorted(stored)],
        ).fetchall()
    }
    if not ids and _has_table(con):  # where a takeout found it: "already quarantined"
        ids = {
            file_id
            for (file_id,) in con.execute(
                f"SELECT file_id FROM {TAKEOUT_TABLE} WHERE list_contains(?, from_path)",
                [sorted(stored)],
            ).fetchall()
        }
    if not ids and os.path.isfile(absolute) and not os.path.islink(absolute):
        file_id = _sha256(absolute)
        if registry.lookup(con, [file_id]):
            ids = {file_id}
    return ids


def _ambiguous(con, ids: set[str]) -> str:
    entries = sorted(registry.lookup(con, ids).values(), key=lambda e: e.ingested_seq or 0)
    shown = [
        f"{e.file_id[:MIN_PREFIX]} ({e.status}, {e.stored_path or e.landed_path})"
        for e in entries[:_SHOWN_CANDIDATES]
    ]
    more = len(entries) - len(shown)
    return f"matches {len(ids)} files: {'; '.join(shown)}" + (f"; and {more} more" if more else "")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# --- where the file is, where it goes ----------------------------------------------------------


def _on_disk(settings: Settings, text: str) -> str:
    """The file a registry path (text, relative to the data dir) names."""
    return os.path.join(str(settings.data_dir), os.fsdecode(path_bytes(text)))


def _relative_text(settings: Settings, path: str) -> str:
    """A path below the data dir as the registry records it (as runner._stored_path does)."""
    return path_text(os.path.relpath(path, settings.data_dir).replace(os.sep, "/"))


def _is_file(path: str) -> bool:
    return os.path.isfile(path) and not os.path.islink(path)


def _copy_on_disk(settings: Settings, entry: registry.Entry) -> str | None:
    """Where the file's bytes are: its stored path, or (ingestion committed it but did not move it
    yet) its landed path when that still holds these bytes; None when neither does."""
    if entry.stored_path:
        stored = _on_disk(settings, entry.stored_path)
        if _is_file(stored):
            return stored
    landed = os.path.join(str(settings.landing_dir), os.fsdecode(path_bytes(entry.landed_path)))
    if _is_file(landed) and _sha256(landed) == entry.file_id:
        return landed
    return None


def _target(settings: Settings, entry: registry.Entry) -> str:
    """A free quarantine path: the path the file was delivered under, below its source folder,
    as ingestion quarantines (an archive name that got the id prefix in a clash loses it)."""
    landed = os.fsdecode(path_bytes(entry.landed_path))
    relative = landed.removeprefix(entry.source + "/") if "/" in landed else landed
    return free_target(
        settings.quarantine_dir / entry.source,
        mask_bsns(relative),
        entry.file_id,
        with_reason=True,
    )


# --- after the commit: the move, and moves a crash left undone ---------------------------------


@dataclass(frozen=True)
class _Pending:
    takeout_id: int
    file_id: str
    source: str
    landed_path: str
    from_path: str
    to_path: str
    reason: str
    rows_by_table: str


def _pending_of(con, file_id: str | None = None) -> list[_Pending]:
    condition = " AND file_id = ?" if file_id else ""
    found = con.execute(
        "SELECT takeout_id, file_id, source, landed_path, from_path, to_path, reason, "
        f"rows_by_table FROM {TAKEOUT_TABLE} WHERE moved_at IS NULL AND to_path IS NOT NULL"
        f"{condition} ORDER BY takeout_id",
        [file_id] if file_id else [],
    ).fetchall()
    return [_Pending(*row) for row in found]


def _finish(con, settings: Settings, pending: list[_Pending]) -> list[TakenOut]:
    """Move each file to its quarantine path and write its reason file (whatever of it is not
    done yet), then record the move."""
    done = []
    for item in pending:
        source, target = _on_disk(settings, item.from_path), _on_disk(settings, item.to_path)
        if os.path.lexists(source):
            try:
                move_file(source, target)  # refuses another file at the target
            except OSError as exc:
                raise TakeoutError(
                    f"{item.file_id[:MIN_PREFIX]} is out of raw and quarantined in the registry, "
                    f"but the file could not be moved to {item.to_path}: {exc.strerror or exc}; "
                    "fix that and run `jeugdhulp quarantine` again to finish"
                ) from None
        elif not os.path.lexists(target):
            raise TakeoutError(
                f"{item.file_id[:MIN_PREFIX]} is out of raw and quarantined in the registry, but "
                f"neither {item.from_path} nor {item.to_path} exists: put the file at {item.to_path}"
                " and run `jeugdhulp quarantine` again to finish"
            )
        if not os.path.lexists(target + REASON_SUFFIX):
            write_reason(target, item.landed_path, item.file_id, item.reason)
        con.execute(
            f"UPDATE {TAKEOUT_TABLE} SET moved_at = ? WHERE takeout_id = ?",
            [datetime.now(), item.takeout_id],
        )
        done.append(
            TakenOut(
                item.file_id,
                item.source,
                item.landed_path,
                item.from_path,
                item.to_path,
                item.reason,
                json.loads(item.rows_by_table),
                _suites_of(json.loads(item.rows_by_table)),
                finished_earlier=True,
            )
        )
    return done


def _finish_interrupted(con, settings: Settings) -> list[TakenOut]:
    """Finish the moves of takeouts a crash cut short after their commit."""
    return _finish(con, settings, _pending_of(con))


# --- what the next dbt build must do -----------------------------------------------------------


def pending_full_refresh(warehouse_path: Path) -> int | None:
    """The last takeout the dbt build has not yet been rebuilt after (None: none): the build must
    then run with `--full-refresh`. Opens the warehouse read-only for a moment."""
    if not Path(warehouse_path).exists():
        return None
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        if not _has_table(con):
            return None
        return con.execute(
            f"SELECT max(takeout_id) FROM {TAKEOUT_TABLE} WHERE dbt_refreshed_at IS NULL"
        ).fetchone()[0]


def full_refresh_done(warehouse_path: Path, through_takeout: int) -> None:
    """Record that a dbt build rebuilt every incremental model after takeouts up to this one
    (a takeout committed while the build ran keeps its request)."""
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute(
            f"UPDATE {TAKEOUT_TABLE} SET dbt_refreshed_at = ? "
            "WHERE dbt_refreshed_at IS NULL AND takeout_id <= ?",
            [datetime.now(), through_takeout],
        )


def _has_table(con) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = 'takeouts'",
            [TAKEOUT_SCHEMA],
        ).fetchone()[0]
    )
