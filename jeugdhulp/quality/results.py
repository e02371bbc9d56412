"""What validating a suite found: a verdict per expectation and per table, and which rows it saw."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

SCOPE_TABLE = "table"  # every row of the table
SCOPE_NEW_ROWS = "new_rows"  # rows of files registered after the suite's watermark


FAILING_FILES_KEPT = 20  # files named per suite result (most unexpected values first)


class FailingFile(NamedTuple):
    """A file whose rows fail a critical expectation of the suite: what a takeout would remove."""

    file_id: str
    path: str | None  # its stored path as raw.file_registry holds it (BSNs masked); None: no entry
    unexpected: int  # its unexpected values, summed over the failed critical expectations


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict on the table."""

    expectation_type: str
    columns: tuple[str, ...]
    severity: str  # critical | warning
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed_value: str | None = None
    examples: tuple[str, ...] = ()  # a few unexpected values, for the reader
    error: str | None = None  # GX could not evaluate it (a missing column, a bad type)

    @property
    def label(self) -> str:
        target = ", ".join(self.columns)
        return f"{self.expectation_type}({target})" if target else self.expectation_type


@dataclass(frozen=True)
class SuiteResult:
    """The outcome of one suite on one table: overall, per expectation, GX's own result, and
    which rows were validated."""

    suite_name: str
    asset_key: tuple[str, ...]
    row_count: int  # rows validated
    outcomes: tuple[ExpectationOutcome, ...]
    gx_result: Any = field(default=None, compare=False, repr=False)
    scope: str = (
        SCOPE_TABLE  # SCOPE_TABLE: every row; SCOPE_NEW_ROWS: rows of files above seq_after
    )
    seq_after: int | None = None  # the watermark validation started from (exclusive)
    seq_through: int | None = None  # the highest ingested_seq in the registry when validated
    batches: int = 0  # GX validations run (batches of rows); 0 when nothing was read
    validated_at: str | None = None  # UTC, ISO 8601
    # no new rows this run: this is the verdict of the rows validated last (validated_at), kept
    carried_over: bool = False
    # the files whose validated rows fail a failed critical expectation (FAILING_FILES_KEPT of
    # them, most unexpected values first), and how many there are in all
    failing_files: tuple[FailingFile, ...] = ()
    failing_files_total: int = 0

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    @property
    def severity(self) -> str | None:
        """`error` when a critical expectation failed, `warn` when only warnings did, else None."""
        failed = {outcome.severity for outcome in self.failed}
        if "critical" in failed:
            return "error"
        return "warn" if failed else None

    @property
    def unexpected_counts(self) -> dict[str, int]:
        return {outcome.label: outcome.unexpected_count or 0 for outcome in self.failed}

    @property
    def nothing_new(self) -> bool:
        """An incremental run that found no rows above the watermark: nothing was validated."""
        return self.scope == SCOPE_NEW_ROWS and self.row_count == 0 and not self.outcomes

    @property
    def seq_range(self) -> tuple[int, int] | None:
        """(first, last) ingested_seq of the files whose rows were validated; None for a whole table."""
        if self.scope != SCOPE_NEW_ROWS or self.seq_after is None or self.seq_through is None:
            return None
        return self.seq_after + 1, self.seq_through

    def validated_rows(self) -> str:
        """Which rows were validated, in a sentence."""
        if self.scope == SCOPE_NEW_ROWS:
            first, last = self.seq_range or (None, None)
            if first is None or last is None or last < first:
                return (
                    f"no files registered after ingested_seq {self.seq_after}: nothing to validate"
                )
            files = f"ingested_seq {first}" if first == last else f"ingested_seq {first}–{last}"
            return f"{self.row_count} new rows, of files {files} (earlier rows passed before)"
        through = (
            f" (files up to ingested_seq {self.seq_through})"
            if self.seq_through is not None
            else ""
        )
        return f"all {self.row_count} rows{through}"

    def summary_markdown(self) -> str:
        """A Markdown table of every expectation, failures first, for Dagster metadata."""
        rows = [
            "| | severity | expectation | unexpected | of | detail |",
            "|---|---|---|---|---|---|",
        ]
        ordered = sorted(
            self.outcomes, key=lambda o: (o.success, o.severity != "critical", o.label)
        )
        for outcome in ordered:
            mark = "✓" if outcome.success else ("✗" if outcome.severity == "critical" else "!")
            detail = outcome.error or outcome.observed_value or ", ".join(outcome.examples)
            detail = (detail or "").replace("|", "/").replace("\n", " ")[:120]
            rows.append(
                f"| {mark} | {outcome.severity} | `{outcome.label}` | "
                f"{_blank(outcome.unexpected_count)} | {_blank(outcome.element_count)} | {detail} |"
            )
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """Everything but GX's own result, as JSON-ready values."""
        return {
            "suite_name": self.suite_name,
            "asset_key": list(self.asset_key),
            "row_count": self.row_count,
            "outcomes": [asdict(outcome) for outcome in self.outcomes],
            "scope": self.scope,
            "seq_after": self.seq_after,
            "seq_through": self.seq_through,
            "batches": self.batches,
            "validated_at": self.validated_at,
            "carried_over": self.carried_over,
            "failing_files": [f._asdict() for f in self.failing_files],
            "failing_files_total": self.failing_files_total,
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any], gx_result: Any = None) -> SuiteResult:
        outcomes = tuple(
            ExpectationOutcome(
                **(o | {"columns": tuple(o["columns"]), "examples": tuple(o["examples"])})
            )
            for o in document["outcomes"]
        )
        return cls(
            suite_name=document["suite_name"],
            asset_key=tuple(document["asset_key"]),
            row_count=document["row_count"],
            outcomes=outcomes,
            gx_result=gx_result,
            scope=document.get("scope", SCOPE_TABLE),
            seq_after=document.get("seq_after"),
            seq_through=document.get("seq_through"),
            batches=document.get("batches", 0),
            validated_at=document.get("validated_at"),
            carried_over=document.get("carried_over", False),
            failing_files=tuple(FailingFile(**f) for f in document.get("failing_files") or ()),
            failing_files_total=document.get("failing_files_total", 0),
        )


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)
