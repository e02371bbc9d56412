"""The files whose rows fail a blocking raw check, as the check's metadata and the run summary show
them, with the command that takes one out (`jeugdhulp quarantine`, jeugdhulp/ingest/takeout.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jeugdhulp.privacy.mask import mask_bsns
from jeugdhulp.quality.results import FAILING_FILES_KEPT, FailingFile, SuiteResult

__all__ = [
    "FAILING_FILES_KEPT",
    "as_metadata",
    "files_markdown",
    "files_metadata",
    "files_of_failing_rows",
    "summary_lines",
    "takeout_command",
]

PREFIX = 12  # characters of the SHA-256 that name a file to `jeugdhulp quarantine`
SUMMARY_FILES = 5  # files listed under a blocking check in the run summary


def takeout_command(file_id: str) -> str:
    return f'jeugdhulp quarantine {_prefix(file_id)} --reason "…"'


def _prefix(file_id: str) -> str:
    return file_id[:PREFIX]  # a SHA-256 (the suites' file_id expectation), never masked


def _path(file: FailingFile) -> str:
    """The registry's path (masked there already; masked again, to be sure) without `|`."""
    return mask_bsns(file.path).replace("|", "/") if file.path else "(not in raw.file_registry)"


def as_metadata(result: SuiteResult) -> dict[str, Any]:
    """The files as JSON-ready data: {"total": n, "files": [{file_id, path, unexpected}, ...]}."""
    return {
        "total": result.failing_files_total,
        "files": [f._asdict() for f in result.failing_files],
    }


def files_of_failing_rows(connection, relation: str) -> tuple[tuple[FailingFile, ...], int]:
    """The files whose rows a failed dbt test stored (`store_failures_as: view`, dbt_project.yml):
    the FAILING_FILES_KEPT with the most failing rows, and how many files in all; nothing when
    the stored rows carry no file_id (a test that returns values, not rows)."""
    from collections import Counter

    from jeugdhulp.quality.validation import failing_files_with_paths

    columns = [d[0] for d in connection.execute(f"select * from {relation} limit 0").description]
    if "file_id" not in columns:
        return (), 0
    counts = Counter(
        dict(
            connection.execute(
                f"select file_id, count(*) from {relation} where file_id is not null group by 1"
            ).fetchall()
        )
    )
    return failing_files_with_paths(connection, counts), len(counts)


def files_metadata(files: Sequence[FailingFile], total: int) -> dict[str, Any]:
    """As `as_metadata`, for files found otherwise than by a GX suite."""
    return {"total": total, "files": [f._asdict() for f in files]}


def files_markdown(files: Sequence[FailingFile], total: int) -> str:
    """A Markdown table of the files (for the check's metadata) and the takeout command."""
    lines = ["| file | sha256 | unexpected |", "|---|---|---|"]
    lines += [
        f"| `{_path(f)}` | `{_prefix(f.file_id)}` | {f.unexpected} |"
        if f.path
        else f"| {_path(f)} | `{_prefix(f.file_id)}` | {f.unexpected} |"
        for f in files
    ]
    if total > len(files):
        lines.append(f"| … and {total - len(files)} more files | | |")
    if files:
        lines += ["", f"Take one out: `{takeout_command(files[0].file_id)}` (docs/contract.md §1)."]
    return "\n".join(lines)


def summary_lines(data: dict | None, limit: int = SUMMARY_FILES) -> list[str]:
    """Lines for the run summary under a blocking check, from its `failing_files` metadata."""
    if not data or not data.get("files"):
        return []
    files = [FailingFile(**f) for f in data["files"]]
    total = int(data.get("total") or len(files))
    lines = [f"rows failing it come from {total} file{'s' if total != 1 else ''}:"]
    for f in files[:limit]:
        lines.append(f"  {_path(f)}  (sha256 {_prefix(f.file_id)}, {f.unexpected} unexpected)")
    if total > limit:
        lines.append(
            f"  … and {total - min(limit, len(files))} more "
            f"(the check's metadata lists the first {FAILING_FILES_KEPT})"
        )
    lines.append(f"take one out: {takeout_command(files[0].file_id)}")
    return lines
