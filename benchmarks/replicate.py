"""A national-size raw layer without generating millions of files: a generated warehouse's raw rows, copied k times.

Copy k (1 ≤ k < factor) of every iJw, PGB and accountability row gets its own file, message,
provider (AGB code shifted), client (key suffixed), allocation, declaration and reference
numbers, so the copies never merge into the originals: the marts see `factor` times the
providers, clients and lines of the same municipalities. Reference snapshots keep their file and
gain the shifted providers' rows. Only the engine's work is representative this way (rows,
joins, groups); parsing and files are measured on real files elsewhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

_COPIED = (
    "ijw_requests",
    "ijw_allocations",
    "ijw_starts",
    "ijw_stops",
    "ijw_invoice_lines",
    "ijw_rejected_lines",
    "pgb",
    "accountability",
)
_SNAPSHOTS = ("reference_providers", "reference_budget_ceilings")
_SUFFIXED = {
    "message_id",
    "client_key",
    "allocation_number",
    "declaration_number",
    "reference_number",
    "previous_reference_number",
    "provider_reference",
}


def _agb(column: str) -> str:
    """An 8-digit AGB code shifted by copy k; a 4-digit municipality code stays as it is."""
    return (
        f"CASE WHEN length(trim({column})) = 8 THEN lpad(CAST((CAST(trim({column}) AS BIGINT) "
        f"+ k * 1000003) % 100000000 AS VARCHAR), 8, '0') ELSE {column} END"
    )


def _expression(column: str) -> str:
    if column == "file_id":
        return "file_id || '-' || CAST(k AS VARCHAR)"
    if column in ("sender", "receiver", "agb_code"):
        return _agb(column)
    if column in _SUFFIXED:
        return f"CASE WHEN {column} IS NOT NULL THEN {column} || 'x' || CAST(k AS VARCHAR) END"
    if column == "name":
        return "name || ' (kopie ' || CAST(k AS VARCHAR) || ')'"
    return column


def _columns(con, table: str) -> list[str]:
    return [
        c
        for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def replicate(source: Path, target: Path, factor: int) -> dict[str, int]:
    """Write `target`: the raw schema of `source` with its rows `factor` times; row counts per table."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    con = duckdb.connect(str(target))
    try:
        con.execute("SET enable_progress_bar = false")
        for (schema,) in con.execute(
            "SELECT DISTINCT schema_name FROM information_schema.schemata "
            "WHERE catalog_name = current_database() AND schema_name NOT IN "
            "('raw', 'main', 'information_schema', 'pg_catalog')"
        ).fetchall():
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')  # dbt rebuilds everything on the copy
        copies = f"(SELECT unnest(range(1, {factor})) AS k) AS copies"
        last_seq = con.execute(
            "SELECT coalesce(max(ingested_seq), 0) FROM raw.file_registry"
        ).fetchone()[0]
        copied_ids = "SELECT DISTINCT file_id FROM ({})".format(
            " UNION ALL ".join(f"SELECT file_id FROM raw.{t}" for t in _COPIED)
        )
        registry = _columns(con, "file_registry")
        registry_values = [
            "file_id || '-' || CAST(k AS VARCHAR)"
            if c == "file_id"
            else f"ingested_seq + k * {last_seq}"
            if c == "ingested_seq"
            else f"'copy' || CAST(k AS VARCHAR) || '/' || {c}"
            if c in ("landed_path", "stored_path")
            else c
            for c in registry
        ]
        con.execute("BEGIN TRANSACTION")
        con.execute(
            f"INSERT INTO raw.file_registry ({', '.join(registry)}) SELECT {', '.join(registry_values)} "
            f"FROM raw.file_registry, {copies} WHERE file_id IN ({copied_ids})"
        )
        for table in (*_COPIED, *_SNAPSHOTS):
            columns = _columns(con, table)
            values = [_expression(c) for c in columns]
            if table in _SNAPSHOTS:  # the same snapshot file, more rows in it
                values = [
                    c
                    if c == "file_id"
                    else "record_position + k * 1000000"
                    if c == "record_position"
                    else v
                    for c, v in zip(columns, values)
                ]
            con.execute(f"CREATE TEMP TABLE originals AS SELECT * FROM raw.{table}")
            con.execute(
                f"INSERT INTO raw.{table} ({', '.join(columns)}) SELECT {', '.join(values)} "
                f"FROM originals, {copies}"
            )
            con.execute("DROP TABLE originals")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        ]
        return {
            t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in sorted(tables)
        }
    finally:
        con.close()
