"""Runs Great Expectations suites on warehouse tables, in batches of rows, and reports each expectation.

GX 1.x is called directly: an ephemeral context per suite (nothing written, no telemetry) and a
pandas data source. A table is never read into pandas whole:

- **Row-wise expectations** (not null, in set, regex, pair comparisons, types) run per batch of
  `batch_rows` rows, streamed from DuckDB as Arrow record batches and converted to pandas with the
  dtypes DuckDB's own `.df()` would give the whole validated range as one frame (see `_FramePlan`).
  The per-batch results are combined into one result per expectation: counts summed, the first 20
  unexpected values kept in table order, percentages and `mostly` recomputed from the totals.
- **Table-wide expectations** (uniqueness, row counts; `suites.TABLE_WIDE_TYPES`) are evaluated in
  SQL over the whole table, so a duplicate across batches, or of an older row, is found.

Raw tables are append-only and every row carries its file's lineage, so a raw suite validates only
the rows of files registered after its **watermark**: the highest `raw.file_registry.ingested_seq`
whose rows passed the suite's critical expectations. The watermarks live in the warehouse, in
`gx_state.watermarks` (outside dbt's sources and what is published); a suite whose critical
expectations fail keeps its watermark, so the failing rows are validated again, and keep failing,
on the next run. A changed suite file (its fingerprint) starts again from all rows.
A suite of a table dbt builds incrementally from raw rows names its lineage in
`meta.lineage_columns` (suites.py; `marts.fct_invoice_lines`: `file_id`, and `rejection_file_id`
for a row a later JW325 changed) and is validated the same way, with the watermark bounded by the
files whose rows the table holds. The other marts are rebuilt every run and are validated whole,
in batches.

`run_suites_in_child` runs a whole check step (validation, watermarks, Data Docs) in a child
process, so the memory pandas, Arrow and GX take is returned to the system when the step ends.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from jeugdhulp.quality.suites import SUITES_DIR, TABLE_WIDE_TYPES, SuiteDefinition, load_suite

# Set before GX is imported anywhere; settings.py does the same for the whole process.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

RESULT_FORMAT = "SUMMARY"  # counts plus up to 20 example values per expectation
PARTIAL_UNEXPECTED = 20  # how many unexpected values GX's SUMMARY format keeps

BATCH_ROWS_ENV = "JEUGDHULP_GX_BATCH_ROWS"
DEFAULT_BATCH_ROWS = 250_000

WATERMARK_SCHEMA = "gx_state"
WATERMARK_TABLE = f"{WATERMARK_SCHEMA}.watermarks"
REGISTRY_TABLE = "raw.file_registry"

# Bump when the runner's verdicts change meaning: every watermark then starts again from all rows.
RUNNER_VERSION = "batched-1"

SCOPE_TABLE = "table"  # every row of the table
SCOPE_NEW_ROWS = "new_rows"  # rows of files registered after the suite's watermark


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
        )


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def batch_rows_setting(env: dict[str, str] | None = None) -> int:
    """Rows per GX batch: `JEUGDHULP_GX_BATCH_ROWS`, default 250,000 (≈ 0.3–0.5 GB for the widest suite)."""
    env = os.environ if env is None else env
    text = env.get(BATCH_ROWS_ENV, "").strip()
    if not text:
        return DEFAULT_BATCH_ROWS
    try:
        rows = int(text)
    except ValueError:
        rows = 0
    if rows < 1:
        raise ValueError(f"{BATCH_ROWS_ENV} must be a positive number of rows, got {text!r}")
    return rows


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


# --- one frame you already have -------------------------------------------------------------------


def run_suite(
    suite_name: str, dataframe: pd.DataFrame, *, suites_dir: Path = SUITES_DIR
) -> SuiteResult:
    """Validate `dataframe` against the suite `suite_name` (a file in `expectations/`)."""
    return run_suite_definition(load_suite(suite_name, suites_dir), dataframe)


def run_suite_definition(definition: SuiteDefinition, dataframe: pd.DataFrame) -> SuiteResult:
    """Validate one frame with the whole suite in GX, table-wide expectations included (the frame
    is the table). Memory grows with the frame: tables go through `validate_table` instead."""
    validator = _SuiteValidator(definition, definition.expectations)
    validation = validator.validate(dataframe)
    outcomes = tuple(_outcome(result) for result in validation.results)
    return SuiteResult(
        suite_name=definition.name,
        asset_key=definition.asset_key,
        row_count=len(dataframe),
        outcomes=outcomes,
        gx_result=validation,
        batches=1,
        validated_at=_now(),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _SuiteValidator:
    """A GX context, data source and suite made once, then validating any number of frames."""

    def __init__(self, definition: SuiteDefinition, expectations: Sequence[dict[str, Any]]):
        from great_expectations.core import ExpectationSuite

        context = gx_context()
        self.batch_definition = (
            context.data_sources.add_pandas("warehouse")
            .add_dataframe_asset(definition.name)
            .add_batch_definition_whole_dataframe("whole_table")
        )
        self.suite = context.suites.add(
            ExpectationSuite(**definition.to_gx_dict(tuple(expectations)))
        )

    @property
    def expectation_ids(self) -> list[str]:
        return [expectation.id for expectation in self.suite.expectations]

    def validate(self, frame: pd.DataFrame):
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(self.suite, result_format=RESULT_FORMAT)


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
    """numpy scalars and timestamps as plain Python values, so examples read `(16000, 15600)`."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, np.datetime64):
        return str(pd.Timestamp(value).date()) if not pd.isna(value) else None
    if isinstance(value, pd.Timestamp | datetime):
        if pd.isna(value):
            return None
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value


def read_suite_frame(
    warehouse_path: Path, definition: SuiteDefinition, *, where: str | None = None
) -> pd.DataFrame | None:
    """The columns the suite needs, every row (or those matching `where`), in ONE pandas frame via
    DuckDB's `.df()`; None when the table does not exist. Memory grows with the table: this is the
    reference the batched reader is tested against, not what the checks use.

    Columns the table lacks are left out of the frame, so the expectations on them fail in GX
    ("column not found") instead of the read failing as a whole.
    """
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        present = _table_columns(connection, definition)
        if not present:
            return None
        selected = [f'"{name}"' for name in definition.columns if name in present]
        computed = [
            f'({expression}) as "{name}"'
            for name, expression in definition.computed_columns.items()
        ]
        source = f'from "{definition.schema}"."{definition.table}"' + (
            f" where {where}" if where else ""
        )
        try:
            return connection.execute(
                f"select {', '.join(selected + computed or ['1 as _row'])} {source}"
            ).df()
        except duckdb.BinderException:
            # a computed column names a missing column: its expectations fail, the others still run
            if not computed:
                raise
            return connection.execute(
                f"select {', '.join(selected or ['1 as _row'])} {source}"
            ).df()
    finally:
        connection.close()


# --- a warehouse table, in batches ----------------------------------------------------------------


def validate_table(
    warehouse_path: Path,
    suite_name: str,
    *,
    suites_dir: Path = SUITES_DIR,
    batch_rows: int | None = None,
    after_seq: int | None = None,
) -> SuiteResult:
    """Validate the suite's table in the warehouse, in batches of `batch_rows` rows.

    `after_seq` (raw tables only): validate only the rows of files whose `ingested_seq` is above it
    (None: every row).
    """
    return validate_definition(
        Path(warehouse_path),
        load_suite(suite_name, suites_dir),
        batch_rows=batch_rows,
        after_seq=after_seq,
    )


def validate_definition(
    warehouse_path: Path,
    definition: SuiteDefinition,
    *,
    batch_rows: int | None = None,
    after_seq: int | None = None,
) -> SuiteResult:
    rows_per_batch = batch_rows or batch_rows_setting()
    try:
        connection = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.Error as exc:
        return _unreadable(definition, f"could not read {definition.name}: {exc}")
    try:
        present = _table_columns(connection, definition)
        if not present:
            return _unreadable(
                definition, f"table {definition.name} does not exist in {warehouse_path}"
            )
        scope = _scope(connection, definition, present, after_seq)
        return _validate(connection, definition, present, scope, rows_per_batch)
    except duckdb.Error as exc:
        return _unreadable(definition, f"could not read {definition.name}: {exc}")
    finally:
        connection.close()


def _unreadable(definition: SuiteDefinition, reason: str) -> SuiteResult:
    outcome = ExpectationOutcome(
        expectation_type="table_is_readable",
        columns=(),
        severity="critical",
        success=False,
        error=reason,
    )
    return SuiteResult(
        suite_name=definition.name,
        asset_key=definition.asset_key,
        row_count=0,
        outcomes=(outcome,),
        validated_at=_now(),
    )


def _table_columns(connection, definition: SuiteDefinition) -> dict[str, str]:
    """Column name -> SQL type of the suite's table; empty when it does not exist."""
    return dict(
        connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [definition.schema, definition.table],
        ).fetchall()
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Scope:
    """Which rows of the table are validated: `where` (SQL) or every row."""

    kind: str
    where: str | None
    seq_after: int | None
    seq_through: int | None


def _lineage(connection, definition: SuiteDefinition, present: dict[str, str]) -> str | None:
    """How a table's rows map to `ingested_seq`: its own column (the registry), through `file_id`
    (raw tables), through the suite's `lineage_columns` (a table dbt builds incrementally from
    raw rows), or not at all (other marts, or a warehouse without a registry)."""
    if definition.schema == "raw":
        if definition.table == "file_registry":
            return "ingested_seq" if _has_registry(connection) else None
        return "file_id" if "file_id" in present and _has_registry(connection) else None
    if (
        definition.meta.get("lineage_columns")
        and "file_id" in present
        and _has_registry(connection)
    ):
        return "mart_file_id"
    return None


def _has_registry(connection) -> bool:
    registry = dict(
        connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'file_registry'"
        ).fetchall()
    )
    return "ingested_seq" in registry


def _scope(
    connection, definition: SuiteDefinition, present: dict[str, str], after_seq: int | None
) -> _Scope:
    lineage = _lineage(connection, definition, present)
    if lineage is None:
        return _Scope(SCOPE_TABLE, None, None, None)
    if lineage == "mart_file_id":
        # how far the mart has got, not the registry: should dbt not have built it this run, its
        # watermark must not pass files whose rows are not in it yet
        table = f"{_quote(definition.schema)}.{_quote(definition.table)}"
        through = int(
            connection.execute(
                f"select coalesce(max(ingested_seq), 0) from {REGISTRY_TABLE} "
                f"where file_id in (select file_id from {table})"
            ).fetchall()[0][0]
        )
    else:
        through = int(
            connection.execute(
                f"select coalesce(max(ingested_seq), 0) from {REGISTRY_TABLE}"
            ).fetchall()[0][0]
        )
    if after_seq is None or after_seq > through:  # first run, or a registry that started over
        return _Scope(SCOPE_TABLE, None, None, through)
    after = int(after_seq)
    seqs = f"ingested_seq > {after} and ingested_seq <= {through}"
    if lineage == "ingested_seq":
        return _Scope(SCOPE_NEW_ROWS, seqs, after, through)
    files = f"(select file_id from {REGISTRY_TABLE} where ingested_seq > {after})"
    if lineage == "mart_file_id":
        # rows of new files, and rows a later file changed (fct_invoice_lines: a late JW325)
        changed = [
            f"{_quote(column)} in {files}"
            for column in definition.meta["lineage_columns"]
            if column in present
        ]
        return _Scope(SCOPE_NEW_ROWS, "(" + " or ".join(changed) + ")", after, through)
    return _Scope(
        SCOPE_NEW_ROWS,
        f"file_id in (select file_id from {REGISTRY_TABLE} where {seqs})",
        after,
        through,
    )


_NULLABLE_DTYPES = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}


@dataclass
class _FramePlan:
    """The frame query and how to turn its Arrow batches into the frame `.df()` would give.

    DuckDB's `.df()` picks some dtypes from the data: an integer or boolean column is nullable
    (`Int32`, `boolean`) only when it holds a NULL, and a VARCHAR column that is entirely NULL is
    `object`. A batch must get the dtype the whole validated range would get, not its own, or a
    type expectation could pass on one batch and fail on another. So the plan counts the NULLs per
    column over the range first, and every batch follows that count.
    DATE arrives as `datetime64[us]` and DECIMAL as `float64`, as in `.df()`: both are cast in SQL.
    """

    query: str
    rows: int
    numpy_dtypes: dict[str, Any]  # integer / boolean columns without a NULL in the range
    object_columns: list[str]  # VARCHAR columns with no value at all in the range


def _frame_plan(
    connection, definition: SuiteDefinition, present: dict[str, str], where: str | None
) -> _FramePlan:
    source = f"{_quote(definition.schema)}.{_quote(definition.table)}" + (
        f" where {where}" if where else ""
    )
    selected = [_quote(name) for name in definition.frame_columns if name in present]
    computed = [
        f"({expression}) as {_quote(name)}"
        for name, expression in definition.computed_columns.items()
    ]
    inner = f"select {', '.join(selected + computed or ['1 as _row'])} from {source}"
    try:
        relation = connection.sql(inner)
    except duckdb.BinderException:
        # a computed column names a missing column: its expectations fail, the others still run
        if not computed:
            raise
        inner = f"select {', '.join(selected or ['1 as _row'])} from {source}"
        relation = connection.sql(inner)
    columns = list(relation.columns)
    types = [str(kind).upper() for kind in relation.types]
    outer, counted = [], []
    for name, kind in zip(columns, types):
        if kind == "DATE":
            outer.append(f"cast({_quote(name)} as timestamp) as {_quote(name)}")
        elif kind.startswith("DECIMAL") or kind in ("HUGEINT", "UHUGEINT"):
            outer.append(f"cast({_quote(name)} as double) as {_quote(name)}")
        else:
            outer.append(_quote(name))
        if kind in _INTEGER_TYPES or kind in ("BOOLEAN", "VARCHAR"):
            counted.append((name, kind))
    stats = connection.execute(
        "select count(*)"
        + "".join(f", count({_quote(name)})" for name, _ in counted)
        + f" from ({inner})"
    ).fetchall()[0]
    rows = int(stats[0])
    numpy_dtypes: dict[str, Any] = {}
    object_columns: list[str] = []
    for (name, kind), values in zip(counted, stats[1:]):
        if kind == "VARCHAR":
            if values == 0:
                object_columns.append(name)
        elif values == rows:
            numpy_dtypes[name] = kind
    return _FramePlan(
        query=f"select {', '.join(outer)} from ({inner})",
        rows=rows,
        numpy_dtypes=numpy_dtypes,
        object_columns=object_columns,
    )


def _frames(connection, plan: _FramePlan, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The plan's rows as pandas frames of `batch_rows` rows (the last one shorter), in table order.

    DuckDB streams Arrow batches of its own size (a row group, ≈ 123k rows); they are regrouped so
    GX's fixed cost per validation is paid once per `batch_rows`.
    """
    reader = connection.sql(plan.query).to_arrow_reader(min(batch_rows, 1_000_000))
    try:
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        emitted = False
        for record_batch in reader:
            while record_batch.num_rows:
                take = min(batch_rows - pending_rows, record_batch.num_rows)
                pending.append(record_batch.slice(0, take))
                pending_rows += take
                record_batch = record_batch.slice(take)
                if pending_rows == batch_rows:
                    table = pa.Table.from_batches(pending)
                    pending, pending_rows = [], 0
                    yield _to_pandas(table, plan)
                    emitted = True
        if pending_rows or not emitted:
            yield _to_pandas(pa.Table.from_batches(pending, schema=reader.schema), plan)
    finally:
        reader.close()


def _to_pandas(table: pa.Table, plan: _FramePlan) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=_NULLABLE_DTYPES.get)
    for name in plan.numpy_dtypes:
        frame[name] = frame[name].to_numpy(dtype=table.schema.field(name).type.to_pandas_dtype())
    for name in plan.object_columns:
        frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame


def _validate(
    connection, definition: SuiteDefinition, present: dict[str, str], scope: _Scope, batch_rows: int
) -> SuiteResult:
    plan = _frame_plan(connection, definition, present, scope.where)
    summary = dict(
        suite_name=definition.name,
        asset_key=definition.asset_key,
        scope=scope.kind,
        seq_after=scope.seq_after,
        seq_through=scope.seq_through,
        validated_at=_now(),
    )
    if scope.kind == SCOPE_NEW_ROWS and plan.rows == 0:
        return SuiteResult(
            row_count=0, outcomes=(), **summary
        )  # nothing new: GX is not even loaded

    from great_expectations.core import ExpectationSuite
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    # row-wise expectations: GX per batch, combined per expectation
    combined: dict[int, Any] = {}
    validations = []
    batches = 0
    row_expectations = definition.row_expectations
    if row_expectations:
        validator = _SuiteValidator(definition, row_expectations)
        parts: list[list[Any]] = [[] for _ in row_expectations]
        offsets: list[int] = []
        position = {
            expectation_id: index for index, expectation_id in enumerate(validator.expectation_ids)
        }
        start = 0
        for frame in _frames(connection, plan, batch_rows):
            validation = validator.validate(frame)
            for result in validation.results:
                parts[position[result.expectation_config.id]].append(result)
            offsets.append(start)
            start += len(frame)
            batches += 1
            validations.append(validation)
            del frame
        for index, results in enumerate(parts):
            combined[index] = _combine(results, offsets, ExpectationValidationResult)

    # table-wide expectations: SQL over the whole table
    table_configs = ExpectationSuite(
        **definition.to_gx_dict(definition.table_expectations)
    ).expectations
    table_results = [
        _table_wide_result(
            connection,
            definition,
            present,
            scope,
            expectation,
            config.configuration,
            ExpectationValidationResult,
        )
        for expectation, config in zip(definition.table_expectations, table_configs)
    ]

    # back in the suite file's order
    row_iter, table_iter = iter(range(len(row_expectations))), iter(table_results)
    results = [
        next(table_iter) if expectation["type"] in TABLE_WIDE_TYPES else combined[next(row_iter)]
        for expectation in definition.expectations
    ]
    statistics = calc_validation_statistics(results)
    first = validations[0] if validations else None
    meta = dict(first.meta) if first is not None else {}
    meta["validated_rows"] = {
        "scope": scope.kind,
        "rows": plan.rows,
        "batches": batches,
        "batch_rows": batch_rows,
        "ingested_seq_after": scope.seq_after,
        "ingested_seq_through": scope.seq_through,
    }
    gx_result = ExpectationSuiteValidationResult(
        success=statistics.success,
        results=results,
        suite_name=definition.name,
        suite_parameters=first.suite_parameters if first is not None else {},
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=meta,
        batch_id=first.batch_id if first is not None else None,
    )
    return SuiteResult(
        row_count=plan.rows,
        outcomes=tuple(_outcome(r) for r in results),
        gx_result=gx_result,
        batches=batches,
        **summary,
    )


def _raised(info: dict | None) -> bool:
    return _exception_message(info or {}) is not None


def _combine(parts: list[Any], offsets: list[int], result_class) -> Any:
    """One expectation's results on consecutive batches as one result on all their rows."""
    first = parts[0]
    if len(parts) == 1:
        return first
    config = first.expectation_config
    broken = next((part for part in parts if _raised(part.exception_info)), None)
    if broken is not None:  # GX could not evaluate it (e.g. a missing column): same on every batch
        return result_class(
            success=False,
            expectation_config=config,
            result=broken.result or {},
            exception_info=broken.exception_info,
            meta=broken.meta,
        )
    details = [part.result or {} for part in parts]
    if all("unexpected_count" in d for d in details):
        result = _combine_counts(details, offsets)
        mostly = config.kwargs.get("mostly")
        if mostly is None or mostly >= 1:
            success = all(bool(part.success) for part in parts)
        else:  # GX: (rows considered − unexpected) / rows considered ≥ mostly, vacuously true at 0
            considered = result["element_count"] - (result.get("missing_count") or 0)
            unexpected = result["unexpected_count"] or 0
            success = considered == 0 or (considered - unexpected) / considered >= mostly
    else:  # an aggregate of the batch (a column's dtype): the same on every batch, by _FramePlan
        result = dict(details[0])
        observed = list(dict.fromkeys(str(d.get("observed_value")) for d in details))
        if len(observed) > 1:
            result["observed_value"] = ", ".join(observed)
        success = all(bool(part.success) for part in parts)
    return result_class(
        success=success,
        expectation_config=config,
        result=result,
        exception_info=first.exception_info,
        meta=first.meta,
    )


def _combine_counts(details: list[dict], offsets: list[int]) -> dict[str, Any]:
    """Sum GX's map-expectation counts and recompute its percentages (`_format_map_output`)."""
    element = sum(d.get("element_count") or 0 for d in details)
    unexpected = sum(d.get("unexpected_count") or 0 for d in details)
    with_missing = all("missing_count" in d for d in details)
    missing = sum(d.get("missing_count") or 0 for d in details) if with_missing else 0
    considered = element - missing
    partial = [value for d in details for value in d.get("partial_unexpected_list") or []][
        :PARTIAL_UNEXPECTED
    ]
    total_pct = unexpected / element * 100 if element else None
    if with_missing:
        nonmissing_pct = unexpected / considered * 100 if element and considered else None
    else:
        nonmissing_pct = total_pct
    result: dict[str, Any] = {
        "element_count": element,
        "unexpected_count": unexpected,
        "unexpected_percent": nonmissing_pct,
    }
    if any("partial_unexpected_list" in d for d in details):
        result["partial_unexpected_list"] = partial
    if with_missing:
        result["missing_count"] = missing
        result["missing_percent"] = missing / element * 100 if element else None
        result["unexpected_percent_total"] = total_pct
        result["unexpected_percent_nonmissing"] = nonmissing_pct
    if any("partial_unexpected_counts" in d for d in details):
        result["partial_unexpected_counts"] = _value_counts(partial)
    if any("partial_unexpected_index_list" in d for d in details):
        result["partial_unexpected_index_list"] = [
            index + offset
            for d, offset in zip(details, offsets)
            for index in d.get("partial_unexpected_index_list") or []
        ][:PARTIAL_UNEXPECTED]
    return result


def _value_counts(values: list[Any]) -> list[dict[str, Any]]:
    """GX's `partial_unexpected_counts`: the most common of the partial list, by count then value."""
    hashable = [
        tuple(v.values()) if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v
        for v in values
    ]
    try:
        counted = Counter(hashable).most_common(PARTIAL_UNEXPECTED)
        return [
            {"value": value, "count": count}
            for value, count in sorted(counted, key=lambda x: (-x[1], x[0]))
        ]
    except TypeError:
        return [{"error": "partial_exception_counts requires a hashable type"}]


# --- table-wide expectations in SQL ---------------------------------------------------------------


def _table_wide_result(
    connection,
    definition: SuiteDefinition,
    present: dict[str, str],
    scope: _Scope,
    expectation: dict[str, Any],
    config,
    result_class,
) -> Any:
    kwargs = expectation["kwargs"]
    kind = expectation["type"]
    try:
        if kind in ("expect_table_row_count_to_equal", "expect_table_row_count_to_be_between"):
            result, success = _row_count(connection, definition, kind, kwargs)
        else:
            result, success = _uniqueness(connection, definition, present, scope, kind, kwargs)
        info = {"raised_exception": False, "exception_traceback": None, "exception_message": None}
    except (duckdb.Error, _ColumnMissing) as exc:
        result, success = {}, False
        info = {
            "raised_exception": True,
            "exception_traceback": None,
            "exception_message": str(exc),
        }
    return result_class(
        success=success, expectation_config=config, result=result, exception_info=info
    )


class _ColumnMissing(ValueError):
    pass


def _row_count(
    connection, definition: SuiteDefinition, kind: str, kwargs: dict
) -> tuple[dict, bool]:
    """The table's row count: a property of the whole table, whatever range was validated."""
    count = int(
        connection.execute(
            f"select count(*) from {_quote(definition.schema)}.{_quote(definition.table)}"
        ).fetchall()[0][0]
    )
    if kind == "expect_table_row_count_to_equal":
        return {"observed_value": count}, count == kwargs.get("value")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    above = low is None or (count > low if kwargs.get("strict_min") else count >= low)
    below = high is None or (count < high if kwargs.get("strict_max") else count <= high)
    return {"observed_value": count}, above and below


def _uniqueness(
    connection,
    definition: SuiteDefinition,
    present: dict[str, str],
    scope: _Scope,
    kind: str,
    kwargs: dict,
) -> tuple[dict, bool]:
    """GX's uniqueness on the validated rows, with duplicates sought in the whole table.

    As in GX on one frame: rows with a missing key are left out (`expect_column_values_to_be_unique`:
    a NULL value; compound: `ignore_row_if`, default all values missing) and counted as missing;
    every considered row whose key occurs more than once among considered rows is unexpected (NULLs
    compare equal inside a compound key, as in pandas). The rows looked at for duplicates are the
    whole table; only validated rows are counted, so on an incremental run an old pair of duplicates
    is not reported again, and a new row duplicating an old one is.
    """
    if kind == "expect_column_values_to_be_unique":
        names, mode = [kwargs["column"]], "any_value_is_missing"
    else:
        names, mode = (
            list(kwargs["column_list"]),
            kwargs.get("ignore_row_if", "all_values_are_missing"),
        )
    expressions = []
    for name in names:
        if name in definition.computed_columns:
            expressions.append(f"({definition.computed_columns[name]})")
        elif name in present:
            expressions.append(_quote(name))
        else:
            raise _ColumnMissing(f"column {name!r} not found in {definition.name}")
    keys = [f"k{i}" for i in range(len(names))]

    def keep(prefix: str = "") -> str:
        if mode == "any_value_is_missing":
            return " and ".join(f"{prefix}{k} is not null" for k in keys)
        if mode == "never":
            return "true"
        return "not (" + " and ".join(f"{prefix}{k} is null" for k in keys) + ")"

    table = f"{_quote(definition.schema)}.{_quote(definition.table)}"
    select_keys = ", ".join(f"{e} as {k}" for e, k in zip(expressions, keys))
    key_list = ", ".join(keys)
    hashed = f"hash({key_list})"
    same = " and ".join(f"a.{k} is not distinct from b.{k}" for k in keys)
    in_scope = scope.where or "true"
    every_row = f"(select {select_keys} from {table})"
    validated = f"(select {select_keys}, rowid as _rid from {table} where {in_scope})"
    element, considered = connection.execute(
        f"select count(*), count(*) filter (where {keep()}) from {validated}"
    ).fetchall()[0]
    # Keys seen more than once, found by a 64-bit hash first (a small hash table even for millions
    # of rows), then confirmed on the keys themselves. An incremental run looks only at the hashes
    # of its validated rows.
    of_validated = (
        f" and {hashed} in (select {hashed} from {validated} where {keep()})" if scope.where else ""
    )
    connection.execute(
        f"create or replace temp table _gx_candidates as select {hashed} as h from {every_row} "
        f"where {keep()}{of_validated} group by h having count(*) > 1"
    )
    try:
        unexpected, examples = 0, []
        if connection.execute("select count(*) from _gx_candidates").fetchall()[0][0]:
            connection.execute(
                f"create or replace temp table _gx_duplicated as select {key_list} from {every_row} "
                f"where {keep()} and {hashed} in (select h from _gx_candidates) group by all having count(*) > 1"
            )
            flagged = (
                f"from {validated} as a semi join _gx_duplicated as b on {same} where {keep('a.')}"
            )
            unexpected = connection.execute(f"select count(*) {flagged}").fetchall()[0][0]
            examples = connection.execute(
                f"select {', '.join(f'a.{k}' for k in keys)} {flagged} "
                f"order by a._rid limit {PARTIAL_UNEXPECTED}"
            ).fetchall()
    finally:
        connection.execute("drop table if exists _gx_candidates")
        connection.execute("drop table if exists _gx_duplicated")
    if kind == "expect_column_values_to_be_unique":
        partial = [_plain(row[0]) for row in examples]
    else:
        partial = [{name: _plain(value) for name, value in zip(names, row)} for row in examples]
    missing = element - considered
    result = {
        "element_count": element,
        "unexpected_count": unexpected,
        "unexpected_percent": unexpected / considered * 100 if element and considered else None,
        "partial_unexpected_list": partial,
        "missing_count": missing,
        "missing_percent": missing / element * 100 if element else None,
        "unexpected_percent_total": unexpected / element * 100 if element else None,
        "unexpected_percent_nonmissing": unexpected / considered * 100
        if element and considered
        else None,
        "partial_unexpected_counts": _value_counts(partial),
    }
    mostly = kwargs.get("mostly", 1)
    success = (
        element == 0
        or considered == 0
        or unexpected == 0
        or (mostly < 1 and (considered - unexpected) / considered >= mostly)
    )
    return result, success


# --- watermarks -----------------------------------------------------------------------------------


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


# --- a check step: suites, watermarks, Data Docs ----------------------------------------------------


@dataclass
class StepReport:
    """What one check step did: a result per suite, the watermarks after it, the docs."""

    results: list[SuiteResult]
    watermarks: dict[str, int]  # suite -> watermark after the step (suites with file lineage)
    docs_path: Path | None = None
    docs_error: str | None = None
    peak_memory_mb: float | None = None  # of the process that validated
    watermark_error: str | None = None  # the watermarks could not be written (the verdicts stand)

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [r.to_dict() for r in self.results],
            "watermarks": self.watermarks,
            "docs_path": None if self.docs_path is None else str(self.docs_path),
            "docs_error": self.docs_error,
            "peak_memory_mb": self.peak_memory_mb,
            "watermark_error": self.watermark_error,
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> StepReport:
        return cls(
            results=[SuiteResult.from_dict(r) for r in document["results"]],
            watermarks={k: int(v) for k, v in document["watermarks"].items()},
            docs_path=None if document.get("docs_path") is None else Path(document["docs_path"]),
            docs_error=document.get("docs_error"),
            peak_memory_mb=document.get("peak_memory_mb"),
            watermark_error=document.get("watermark_error"),
        )


def run_suites(
    settings,
    suite_names: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    incremental: bool = True,
    batch_rows: int | None = None,
    docs: bool = True,
) -> StepReport:
    """Validate the suites (from their watermarks when `incremental`: raw ones, and those with
    `lineage_columns`), advance the watermarks of those without a critical failure, and rebuild
    the Data Docs, in this process."""
    warehouse = settings.warehouse_path
    definitions = {name: load_suite(name, suites_dir) for name in suite_names}
    marks = read_watermarks(warehouse) if incremental else {}
    results = [
        validate_definition(
            warehouse,
            definition,
            batch_rows=batch_rows,
            after_seq=watermark_start(definition, marks),
        )
        for definition in definitions.values()
    ]
    kept = {name: watermark_start(definition, marks) for name, definition in definitions.items()}
    watermark_error = None
    try:
        moved = write_watermarks(warehouse, results, definitions)
    except duckdb.Error as exc:  # only costs work: the next run validates these rows again
        moved, watermark_error = {}, f"watermarks not advanced: {type(exc).__name__}: {exc}"
    after = {name: seq for name, seq in kept.items() if seq is not None} | moved
    report = StepReport(results=results, watermarks=after, watermark_error=watermark_error)
    if docs:
        from jeugdhulp.quality.data_docs import (
            build_data_docs,
            load_saved_results,
            save_results,
            site_dir,
        )

        # an incremental run without new rows keeps the page of the last rows validated
        fresh = [r for r in results if not r.nothing_new]
        index = site_dir(settings) / "index.html"
        try:
            if fresh or not index.exists():
                save_results(settings, fresh)
                index = build_data_docs(
                    settings, load_saved_results(settings), suites_dir=suites_dir
                )
            report.docs_path = index  # nothing new anywhere: the site stays as it is
        except Exception as exc:  # the checks' verdicts matter more than the docs page
            report.docs_error = f"{type(exc).__name__}: {exc}"
    report.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


class GXStepError(RuntimeError):
    """The child process that validates the suites failed; the message holds its last output."""


def run_suites_in_child(
    settings,
    suite_names: Sequence[str],
    *,
    suites_dir: Path = SUITES_DIR,
    incremental: bool = True,
    batch_rows: int | None = None,
) -> StepReport:
    """`run_suites` in a fresh Python process, so its memory is returned when it ends (pandas, Arrow
    and GX keep what they took; the Dagster process would hold it while dbt runs next)."""
    request = {
        "data_dir": str(settings.data_dir),
        "as_of": settings.as_of.isoformat(),
        "suites": list(suite_names),
        "suites_dir": str(suites_dir),
        "incremental": incremental,
        "batch_rows": batch_rows,
    }
    with tempfile.TemporaryDirectory(prefix="jeugdhulp-gx-") as folder:
        request_path, response_path = Path(folder) / "request.json", Path(folder) / "response.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "jeugdhulp.quality.gx_runner",
                str(request_path),
                str(response_path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "GX_ANALYTICS_ENABLED": "False"},
            check=False,
        )
        if completed.returncode != 0 or not response_path.exists():
            output = (completed.stderr or completed.stdout or "").strip()[-3000:]
            raise GXStepError(
                f"the Great Expectations process ended with exit code {completed.returncode}:\n{output}"
            )
        return StepReport.from_dict(json.loads(response_path.read_text(encoding="utf-8")))


def _child_main(argv: list[str]) -> int:
    from jeugdhulp.settings import Settings

    request_path, response_path = Path(argv[0]), Path(argv[1])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    settings = Settings(
        data_dir=Path(request["data_dir"]),
        as_of=date.fromisoformat(request["as_of"]),
        pseudonym_key=None,
        postgres_dsn=None,
    )
    report = run_suites(
        settings,
        request["suites"],
        suites_dir=Path(request["suites_dir"]),
        incremental=request["incremental"],
        batch_rows=request["batch_rows"],
    )
    temporary = response_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report.to_dict()), encoding="utf-8")
    os.replace(temporary, response_path)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
