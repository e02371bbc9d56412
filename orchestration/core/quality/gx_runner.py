"""Runs a Great Expectations suite on a warehouse table and reports each expectation's outcome.

GX 1.x is called directly: an ephemeral context per run (nothing written, no telemetry), a pandas
data source, and one dataframe batch read from DuckDB with a short-lived read-only connection.
Only the columns the suite names are read, but every row of them: a sample could miss the one
defective record a check exists for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from orchestration.core.quality.suites import SUITES_DIR, SuiteDefinition, load_suite

# Set before GX is imported anywhere; settings.py does the same for the whole process.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

RESULT_FORMAT = "SUMMARY"  # counts plus up to 20 example values per expectation


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
    """The outcome of one suite on one table: overall, per expectation, and GX's own result."""

    suite_name: str
    asset_key: tuple[str, ...]
    row_count: int
    outcomes: tuple[ExpectationOutcome, ...]
    gx_result: Any = field(default=None, compare=False, repr=False)

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

    def summary_markdown(self) -> str:
        """A Markdown table of every expectation, failures first, for Dagster metadata."""
        rows = ["| | severity | expectation | unexpected | of | detail |", "|---|---|---|---|---|---|"]
        ordered = sorted(self.outcomes, key=lambda o: (o.success, o.severity != "critical", o.label))
        for outcome in ordered:
            mark = "✓" if outcome.success else ("✗" if outcome.severity == "critical" else "!")
            detail = outcome.error or outcome.observed_value or ", ".join(outcome.examples)
            detail = (detail or "").replace("|", "/").replace("\n", " ")[:120]
            rows.append(f"| {mark} | {outcome.severity} | `{outcome.label}` | "
                        f"{_blank(outcome.unexpected_count)} | {_blank(outcome.element_count)} | {detail} |")
        return "\n".join(rows)


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def gx_context():
    """A fresh in-memory GX context: no files, no docs sites, no progress bars, no analytics."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
        data_docs_sites={},
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_suite(suite_name: str, dataframe: pd.DataFrame, *, suites_dir: Path = SUITES_DIR) -> SuiteResult:
    """Validate `dataframe` against the suite `suite_name` (a file in `expectations/`)."""
    return run_suite_definition(load_suite(suite_name, suites_dir), dataframe)


def run_suite_definition(definition: SuiteDefinition, dataframe: pd.DataFrame) -> SuiteResult:
    from great_expectations.core import ExpectationSuite

    context = gx_context()
    batch_definition = (context.data_sources.add_pandas("warehouse")
                        .add_dataframe_asset(definition.name)
                        .add_batch_definition_whole_dataframe("whole_table"))
    suite = context.suites.add(ExpectationSuite(**definition.to_gx_dict()))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": dataframe})
    validation = batch.validate(suite, result_format=RESULT_FORMAT)
    outcomes = tuple(_outcome(result) for result in validation.results)
    return SuiteResult(suite_name=definition.name, asset_key=definition.asset_key,
                       row_count=len(dataframe), outcomes=outcomes, gx_result=validation)


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    columns += list(kwargs.get("column_list") or [])
    details = result.result or {}
    observed = details.get("observed_value")
    examples = tuple(str(_plain(v)) for v in (details.get("partial_unexpected_list") or [])[:5])
    return ExpectationOutcome(
        expectation_type=config.type,
        columns=tuple(columns),
        severity=getattr(config.severity, "value", str(config.severity)),
        success=bool(result.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        observed_value=None if observed is None else str(observed),
        examples=examples,
        error=_exception_message(result.exception_info or {}),
    )


def _exception_message(info: dict) -> str | None:
    """GX reports an exception either flat or per metric it could not compute."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "GX could not evaluate this expectation")
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message") or "GX could not evaluate this expectation")
    return None


def _plain(value: Any) -> Any:
    """numpy scalars as plain Python values, so examples read `(16000, 15600)`."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.datetime64):
        return str(pd.Timestamp(value).date()) if not pd.isna(value) else None
    return value.item() if isinstance(value, np.generic) else value


def read_suite_frame(warehouse_path: Path, definition: SuiteDefinition) -> pd.DataFrame | None:
    """The columns the suite needs, every row; None when the table does not exist.

    Columns the table lacks are left out of the frame, so the expectations on them fail in GX
    ("column not found") instead of the read failing as a whole.
    """
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        present = {row[0] for row in connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [definition.schema, definition.table]).fetchall()}
        if not present:
            return None
        selected = [f'"{name}"' for name in definition.columns if name in present]
        computed = [f'({expression}) as "{name}"' for name, expression in definition.computed_columns.items()]
        source = f'from "{definition.schema}"."{definition.table}"'
        try:
            return connection.execute(f"select {', '.join(selected + computed or ['1 as _row'])} {source}").df()
        except duckdb.BinderException:
            # a computed column names a missing column: its expectations fail, the others still run
            if not computed:
                raise
            return connection.execute(f"select {', '.join(selected or ['1 as _row'])} {source}").df()
    finally:
        connection.close()


def validate_table(warehouse_path: Path, suite_name: str, *, suites_dir: Path = SUITES_DIR) -> SuiteResult:
    """Read the suite's table from the warehouse and validate it."""
    definition = load_suite(suite_name, suites_dir)
    try:
        frame = read_suite_frame(Path(warehouse_path), definition)
    except duckdb.Error as exc:
        return _unreadable(definition, f"could not read {definition.name}: {exc}")
    if frame is None:
        return _unreadable(definition, f"table {definition.name} does not exist in {warehouse_path}")
    return run_suite_definition(definition, frame)


def _unreadable(definition: SuiteDefinition, reason: str) -> SuiteResult:
    outcome = ExpectationOutcome(expectation_type="table_is_readable", columns=(), severity="critical",
                                 success=False, error=reason)
    return SuiteResult(suite_name=definition.name, asset_key=definition.asset_key, row_count=0,
                       outcomes=(outcome,))
