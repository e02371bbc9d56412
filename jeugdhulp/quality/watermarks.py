"""Watermarks of the raw suites (`gx_state.watermarks`) and which raw rows are new since one.

Raw tables are append-only and every row carries its file's lineage (`file_id`, a key of
`raw.file_registry`, whose `ingested_seq` numbers files in registration order). A suite's
watermark is the highest `ingested_seq` whose rows passed its critical expectations, so a run
validates only the rows of files registered after it. A suite whose critical expectations fail
keeps its watermark: the failing rows are validated again, and keep failing, on the next run. A
changed suite file (its fingerprint) starts again from all rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from jeugdhulp.quality.results import SCOPE_NEW_ROWS, SCOPE_TABLE, SuiteResult
from jeugdhulp.quality.suites import SuiteDefinition

WATERMARK_SCHEMA = "gx_state"
WATERMARK_TABLE = f"{WATERMARK_SCHEMA}.watermarks"
REGISTRY_TABLE = "raw.file_registry"

# Bump when the runner's verdicts change meaning: every watermark then starts again from all rows.
# (raw-contract-1: the suites validate the raw input contract only; see docs/data_quality.md.)
RUNNER_VERSION = "raw-contract-1"


@dataclass(frozen=True)
class Scope:
    """Which rows of the table are validated: `where` (SQL) or every row."""

    kind: str  # SCOPE_TABLE | SCOPE_NEW_ROWS
    where: str | None
    seq_after: int | None  # the watermark validation starts from (exclusive)
    seq_through: int | None  # the highest ingested_seq in the registry


def rows_to_validate(
    connection, definition: SuiteDefinition, present: dict[str, str], after_seq: int | None
) -> Scope:
    """The rows of files registered after `after_seq` (None: every row). Every row, with no
    position to advance to, when the table has no lineage (no `file_id`) or there is no registry."""
    if not _has_registry(connection) or (
        definition.table != "file_registry" and "file_id" not in present
    ):
        return Scope(SCOPE_TABLE, None, None, None)
    through = int(
        connection.execute(
            f"select coalesce(max(ingested_seq), 0) from {REGISTRY_TABLE}"
        ).fetchall()[0][0]
    )
    if after_seq is None or after_seq > through:  # first run, or a registry that started over
        return Scope(SCOPE_TABLE, None, None, through)
    after = int(after_seq)
    seqs = f"ingested_seq > {after} and ingested_seq <= {through}"
    if definition.table == "file_registry":
        return Scope(SCOPE_NEW_ROWS, seqs, after, through)
    files = f"file_id in (select file_id from {REGISTRY_TABLE} where {seqs})"
    return Scope(SCOPE_NEW_ROWS, files, after, through)


def _has_registry(connection) -> bool:
    registry = dict(
        connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'file_registry'"
        ).fetchall()
    )
    return "ingested_seq" in registry


@dataclass(frozen=True)
class Watermark:
    """The highest `ingested_seq` whose rows passed a suite's critical expectations."""

    suite_name: str
    fingerprint: str  # the suite (and runner version) it was validated with
    seq: int
    rows: int  # rows validated in the run that set it
    updated_at: datetime


def suite_fingerprint(definition: SuiteDefinition) -> str:
    return f"{RUNNER_VERSION}:{definition.fingerprint}"


def read_watermarks(warehouse_path: Path) -> dict[str, Watermark]:
    """Every suite's watermark; empty when the warehouse has none yet."""
    try:
        connection = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.Error:
        return {}
    try:
        exists = connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = 'watermarks'",
            [WATERMARK_SCHEMA],
        ).fetchall()[0][0]
        if not exists:
            return {}
        rows = connection.execute(
            f"select suite_name, suite_fingerprint, validated_through_seq, rows_validated, "
            f"updated_at from {WATERMARK_TABLE}"
        ).fetchall()
    finally:
        connection.close()
    return {row[0]: Watermark(*row) for row in rows}


def watermark_start(definition: SuiteDefinition, watermarks: dict[str, Watermark]) -> int | None:
    """Where the suite's next validation starts: its watermark, or None (all rows) when it has none
    or it was set by another version of the suite."""
    mark = watermarks.get(definition.name)
    if mark is None or mark.fingerprint != suite_fingerprint(definition):
        return None
    return mark.seq


def advancing(result: SuiteResult) -> bool:
    """Whether a result may move its suite's watermark: it knows the registry's position and no
    critical expectation failed (warnings are reported once, on the run their rows arrive)."""
    return result.seq_through is not None and result.severity != "error"


def write_watermarks(
    warehouse_path: Path, results: Sequence[SuiteResult], definitions: dict[str, SuiteDefinition]
) -> dict[str, int]:
    """Advance the watermark of every suite whose result allows it; returns suite -> new watermark.

    Opens the warehouse for writing: call it from a step in the single-writer pool, with no
    connection of this process open on the warehouse.
    """
    moves = [(r, definitions[r.suite_name]) for r in results if advancing(r)]
    moves = [(r, d) for r, d in moves if not (r.nothing_new and r.seq_through == r.seq_after)]
    if not moves:
        return {}
    now = datetime.now(UTC).replace(tzinfo=None)
    connection = duckdb.connect(str(warehouse_path))
    try:
        connection.execute("begin transaction")
        connection.execute(f"create schema if not exists {WATERMARK_SCHEMA}")
        connection.execute(f"""create table if not exists {WATERMARK_TABLE} (
            suite_name varchar primary key,       -- e.g. raw.ijw_invoice_lines
            suite_fingerprint varchar not null,   -- runner version and SHA-256 of the suite's expectations
            validated_through_seq bigint not null,-- rows of files with ingested_seq <= this passed
            rows_validated bigint not null,       -- rows validated in the run that set it
            updated_at timestamp not null         -- UTC
        )""")
        for result, definition in moves:
            connection.execute(
                f"insert into {WATERMARK_TABLE} values (?, ?, ?, ?, ?) on conflict (suite_name) do update set "
                "suite_fingerprint = excluded.suite_fingerprint, "
                "validated_through_seq = excluded.validated_through_seq, "
                "rows_validated = excluded.rows_validated, updated_at = excluded.updated_at",
                [
                    result.suite_name,
                    suite_fingerprint(definition),
                    result.seq_through,
                    result.row_count,
                    now,
                ],
            )
        connection.execute("commit")
    finally:
        connection.close()
    return {result.suite_name: int(result.seq_through) for result, _ in moves}
