"""Providers flagged for incomplete or late invoicing, read from the warehouse for the checks.

The flags are computed once, in dbt (`int_providers_invoicing_flagged`, thresholds as dbt vars),
and land in `marts.dq_findings` too; this module only reads them, so the thresholds have one
source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

FLAGS_RELATION = ("intermediate", "int_providers_invoicing_flagged")
SEVERITY_ORDER = {"error": 2, "warn": 1}


@dataclass(frozen=True)
class ProviderFlag:
    provider_agb: str
    provider_name: str | None
    severity: str  # error | warn
    expected_care_months: int
    missing_care_months: int
    missing_share_pct: float | None
    skipped_months: int  # months without any declaration, caught up later (8214)
    invoice_lines: int
    late_lines: int
    late_share_pct: float | None


class FlagsUnavailable(RuntimeError):
    """The flags relation is not in the warehouse (dbt has not built it)."""


def read_invoicing_flags(warehouse_path: Path, kind: str) -> list[ProviderFlag]:
    """Flagged providers for `kind` `incomplete` or `late`, worst first."""
    if kind not in ("incomplete", "late"):
        raise ValueError(f"kind must be 'incomplete' or 'late', got {kind!r}")
    schema, name = FLAGS_RELATION
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        exists = connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if not exists:
            raise FlagsUnavailable(
                f"{schema}.{name} is not in {warehouse_path}: run dbt build first"
            )
        rows = connection.execute(f"""
            select provider_agb, provider_name, {kind}_severity, expected_care_months,
                   missing_care_months, missing_share_pct, skipped_months, invoice_lines, late_lines,
                   late_share_pct
            from "{schema}"."{name}"
            where {kind}_severity is not null
        """).fetchall()
    finally:
        connection.close()
    flags = [
        ProviderFlag(
            row[0],
            row[1],
            row[2],
            int(row[3] or 0),
            int(row[4] or 0),
            _float(row[5]),
            int(row[6] or 0),
            int(row[7] or 0),
            int(row[8] or 0),
            _float(row[9]),
        )
        for row in rows
    ]
    return sorted(flags, key=lambda flag: _worst_first(flag, kind))


def _worst_first(flag: ProviderFlag, kind: str) -> tuple:
    if kind == "incomplete":
        return (
            -SEVERITY_ORDER[flag.severity],
            -(flag.missing_share_pct or 0.0),
            -flag.skipped_months,
            flag.provider_agb,
        )
    return -SEVERITY_ORDER[flag.severity], -(flag.late_share_pct or 0.0), flag.provider_agb


def worst_severity(flags: list[ProviderFlag]) -> str | None:
    return max((f.severity for f in flags), key=SEVERITY_ORDER.__getitem__, default=None)


def flags_markdown(flags: list[ProviderFlag], kind: str) -> str:
    """A Markdown table of flagged providers, for the asset check's metadata."""
    if kind == "incomplete":
        rows = [
            "| severity | provider | name | expected care months | missing | missing % | skipped months |",
            "|---|---|---|---|---|---|---|",
        ]
        rows += [
            f"| {f.severity} | {f.provider_agb} | {_cell(f.provider_name)} | {f.expected_care_months} | "
            f"{f.missing_care_months} | {_pct(f.missing_share_pct)} | {f.skipped_months} |"
            for f in flags
        ]
    else:
        rows = [
            "| severity | provider | name | invoice lines | late lines | late % |",
            "|---|---|---|---|---|---|",
        ]
        rows += [
            f"| {f.severity} | {f.provider_agb} | {_cell(f.provider_name)} | {f.invoice_lines} | "
            f"{f.late_lines} | {_pct(f.late_share_pct)} |"
            for f in flags
        ]
    if not flags:
        columns = rows[1].count("|") - 1
        rows.append("| – | no provider flagged |" + " |" * (columns - 2))
    return "\n".join(rows)


def _float(value) -> float | None:
    return None if value is None else float(value)


def _cell(value: str | None) -> str:
    return (value or "").replace("|", "/")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
