"""Validates a warehouse table against its suite with GX, in batches of rows (uniqueness in SQL).

GX 1.x is called directly: an ephemeral context per suite (nothing written, no telemetry) and a
pandas data source. A table is never read into pandas whole:

- **Row-wise expectations** (not null, in set, regex, between, pair comparisons) run per batch of
  `batch_rows` rows, streamed from DuckDB as Arrow record batches and converted to pandas with the
  dtypes DuckDB's own `.df()` would give the whole validated range as one frame (see `_FramePlan`).
  The per-batch results are combined into one result per expectation: counts summed, the first 20
  unexpected values kept in table order, percentages and `mostly` recomputed from the totals.
- **Uniqueness** (`suites.TABLE_WIDE_TYPES`) is evaluated in SQL over the whole table, so a
  duplicate across batches, or of an older row, is found.

Raw suites validate only the rows that arrived since their watermark (watermarks.py).

When a critical expectation fails, the result names the files whose rows fail it (`file_id`, its
stored path from raw.file_registry, its unexpected values): a batch with unexpected values of a
critical expectation is validated once more for those expectations with GX's COMPLETE format and
`file_id` as index column (a second look at failing batches only), and uniqueness collects the
`file_id` of its flagged rows in the same SQL.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from jeugdhulp.quality.results import (
    FAILING_FILES_KEPT,
    SCOPE_NEW_ROWS,
    ExpectationOutcome,
    FailingFile,
    SuiteResult,
)
from jeugdhulp.quality.suites import SUITES_DIR, TABLE_WIDE_TYPES, SuiteDefinition, load_suite
from jeugdhulp.quality.watermarks import Scope, rows_to_validate

# Set before GX is imported anywhere; settings.py does the same for the whole process.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

RESULT_FORMAT = "SUMMARY"  # counts plus up to 20 example values per expectation
PARTIAL_UNEXPECTED = 20  # how many unexpected values GX's SUMMARY format keeps
LINEAGE = "file_id"  # the column naming the file of a raw row (raw_tables.py)
# every unexpected row with its file: only for the critical expectations failing in a batch
FILES_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [LINEAGE],
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
}

BATCH_ROWS_ENV = "JEUGDHULP_GX_BATCH_ROWS"
DEFAULT_BATCH_ROWS = 250_000


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

    def validate(self, frame: pd.DataFrame, result_format: Any = RESULT_FORMAT):
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(self.suite, result_format=result_format)


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
        scope = rows_to_validate(connection, definition, present, after_seq)
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
    `object`. A batch gets the dtype the whole validated range would get, not its own, so that
    every batch is the slice of the one frame `run_suite` would validate (the reference the batched
    verdicts are tested against). So the plan counts the NULLs per column over the range first,
    and every batch follows that count. (Column types themselves are not checked: the DDL fixes
    them, and `suites.py` refuses type expectations.)
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
    connection, definition: SuiteDefinition, present: dict[str, str], scope: Scope, batch_rows: int
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
    # expectation index -> file_id -> unexpected values (critical expectations only)
    files_of: dict[int, Counter] = defaultdict(Counter)
    if row_expectations:
        validator = _SuiteValidator(definition, row_expectations)
        files = _FilesOfFailures(definition, row_expectations)
        parts: list[list[Any]] = [[] for _ in row_expectations]
        offsets: list[int] = []
        position = {
            expectation_id: index for index, expectation_id in enumerate(validator.expectation_ids)
        }
        start = 0
        for frame in _frames(connection, plan, batch_rows):
            validation = validator.validate(frame)
            failing = []
            for result in validation.results:
                index = position[result.expectation_config.id]
                parts[index].append(result)
                if (result.result or {}).get("unexpected_count"):
                    failing.append(index)
            files.collect(frame, failing, files_of)
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
    table_results, table_files = [], []
    for expectation, config in zip(definition.table_expectations, table_configs):
        result, flagged = _table_wide_result(
            connection,
            definition,
            present,
            scope,
            expectation,
            config.configuration,
            ExpectationValidationResult,
        )
        table_results.append(result)
        if expectation.get("severity", "critical") == "critical" and not result.success:
            table_files.append(flagged)

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
    # the files of the failed critical expectations' unexpected values
    unexpected_by_file: Counter = Counter()
    for index, counted in files_of.items():
        if row_expectations[index].get("severity", "critical") == "critical":
            if not combined[index].success:
                unexpected_by_file.update(counted)
    for flagged in table_files:
        unexpected_by_file.update(flagged)
    failing_files = failing_files_with_paths(connection, unexpected_by_file)
    return SuiteResult(
        row_count=plan.rows,
        outcomes=tuple(_outcome(r) for r in results),
        gx_result=gx_result,
        batches=batches,
        failing_files=failing_files,
        failing_files_total=len(unexpected_by_file),
        **summary,
    )


class _FilesOfFailures:
    """Which files a batch's unexpected values of critical expectations come from: those
    expectations validated again on the batch with GX's COMPLETE format, `file_id` as index
    column. Only batches with such values pay for it; the validator is made at the first."""

    def __init__(self, definition: SuiteDefinition, expectations: Sequence[dict[str, Any]]):
        self.definition = definition
        self.critical = [
            index
            for index, expectation in enumerate(expectations)
            if expectation.get("severity", "critical") == "critical"
        ]
        self.expectations = expectations
        self.validator: _SuiteValidator | None = None
        self.position: dict[str, int] = {}

    def collect(self, frame: pd.DataFrame, failing: list[int], into: dict[int, Counter]) -> None:
        wanted = set(failing).intersection(self.critical)
        if not wanted or LINEAGE not in frame.columns:
            return
        if self.validator is None:
            self.validator = _SuiteValidator(
                self.definition, [self.expectations[i] for i in self.critical]
            )
            self.position = dict(zip(self.validator.expectation_ids, self.critical))
        validation = self.validator.validate(frame, FILES_FORMAT)
        for result in validation.results:
            index = self.position[result.expectation_config.id]
            if index not in wanted:
                continue
            for row in (result.result or {}).get("unexpected_index_list") or []:
                if isinstance(row, dict) and row.get(LINEAGE) is not None:
                    into[index][str(row[LINEAGE])] += 1


def failing_files_with_paths(connection, unexpected: Counter) -> tuple[FailingFile, ...]:
    """The FAILING_FILES_KEPT files with the most unexpected values, with their stored path."""
    if not unexpected:
        return ()
    ordered = sorted(unexpected.items(), key=lambda item: (-item[1], item[0]))[:FAILING_FILES_KEPT]
    ids = [file_id for file_id, _ in ordered]
    try:
        paths = dict(
            connection.execute(
                "select file_id, coalesce(stored_path, landed_path) from raw.file_registry "
                f"where file_id in ({', '.join('?' * len(ids))})",
                ids,
            ).fetchall()
        )
    except duckdb.CatalogException:  # no registry: the files are named by their id only
        paths = {}
    return tuple(FailingFile(file_id, paths.get(file_id), count) for file_id, count in ordered)


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
    result = _combine_counts(details, offsets)
    mostly = config.kwargs.get("mostly")
    if mostly is None or mostly >= 1:
        success = all(bool(part.success) for part in parts)
    else:  # GX: (rows considered − unexpected) / rows considered ≥ mostly, vacuously true at 0
        considered = result["element_count"] - (result.get("missing_count") or 0)
        unexpected = result["unexpected_count"] or 0
        success = considered == 0 or (considered - unexpected) / considered >= mostly
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


# --- uniqueness in SQL over the whole table ---------------------------------------------------------------


def _table_wide_result(
    connection,
    definition: SuiteDefinition,
    present: dict[str, str],
    scope: Scope,
    expectation: dict[str, Any],
    config,
    result_class,
) -> Any:
    kwargs = expectation["kwargs"]
    kind = expectation["type"]
    flagged: Counter = Counter()
    try:
        result, success, flagged = _uniqueness(connection, definition, present, scope, kind, kwargs)
        info = {"raised_exception": False, "exception_traceback": None, "exception_message": None}
    except (duckdb.Error, _ColumnMissing) as exc:
        result, success = {}, False
        info = {
            "raised_exception": True,
            "exception_traceback": None,
            "exception_message": str(exc),
        }
    outcome = result_class(
        success=success, expectation_config=config, result=result, exception_info=info
    )
    return outcome, flagged


class _ColumnMissing(ValueError):
    pass


def _uniqueness(
    connection,
    definition: SuiteDefinition,
    present: dict[str, str],
    scope: Scope,
    kind: str,
    kwargs: dict,
) -> tuple[dict, bool, Counter]:
    """GX's uniqueness on the validated rows, with duplicates sought in the whole table, and the
    files of the flagged rows (file_id -> rows; empty without lineage).

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
    lineage = f", {_quote(LINEAGE)} as _file" if LINEAGE in present else ""
    validated = f"(select {select_keys}, rowid as _rid{lineage} from {table} where {in_scope})"
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
        unexpected, examples, flagged_files = 0, [], Counter()
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
            if lineage and unexpected:
                flagged_files = Counter(
                    dict(
                        connection.execute(
                            f"select a._file, count(*) {flagged} and a._file is not null "
                            "group by a._file"
                        ).fetchall()
                    )
                )
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
    return result, success, flagged_files
