"""The Great Expectations suites in `expectations/`: one reviewable JSON file per raw table.

GX validates the raw input contract only (what a landed file may contain: code lists, ranges,
formats, cross-field rules) and nothing the raw DDL or a dbt test already guarantees; dbt tests
own the marts (docs/data_quality.md). A suite file is a GX 1.x suite as GX serialises it (`name`,
`expectations`, `meta`), with these project keys in `meta`:
- `asset_key`: the Dagster asset the suite checks, `["raw", table]`; the table read is `raw.table`.
- `computed_columns` (optional): name -> DuckDB SQL expression over the table's columns, added to
  the frame GX sees (GX has no expression expectations for pandas, e.g. amount = volume × tariff).

Each expectation carries GX's own `severity`: `critical` breaks the contract (blocks dbt),
`warning` flags data the providers should fix (reported, not blocking), and a `notes` line a data
engineer can act on.

Tables are validated in batches of rows (validation.py), so each expectation is one of:
- row-wise (the default: every map expectation, e.g. not null, in set, regex, pair comparisons):
  a row's verdict does not depend on other rows, so GX runs them per batch and the counts add up;
- uniqueness (`TABLE_WIDE_TYPES`): evaluated in SQL over the whole table;
- refused when the suite is loaded: column statistics and order checks (`UNBATCHABLE_TYPES`: no
  per-batch verdict adds up to the table's) and column types (`DDL_TYPES`: the raw DDL fixes them).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jeugdhulp.settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"
SEVERITIES = ("critical", "warning")

# kwargs that name columns of the frame
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list", "column_set")

# Evaluated in SQL over the whole table (validation._uniqueness), never per batch.
TABLE_WIDE_TYPES = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)
# The raw DDL types every column (jeugdhulp/ingest/raw_tables.py): such an expectation cannot fail.
DDL_TYPES = frozenset(
    {"expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list"}
)
# Their verdict is a statistic of the whole column (or depends on row order across batches):
# the batched runner cannot combine them, so a suite with one is refused.
UNBATCHABLE_TYPES = frozenset(
    {
        "expect_column_distinct_values_to_be_in_set",
        "expect_column_distinct_values_to_contain_set",
        "expect_column_distinct_values_to_equal_set",
        "expect_column_kl_divergence_to_be_less_than",
        "expect_column_max_to_be_between",
        "expect_column_mean_to_be_between",
        "expect_column_median_to_be_between",
        "expect_column_min_to_be_between",
        "expect_column_most_common_value_to_be_in_set",
        "expect_column_pair_cramers_phi_value_to_be_less_than",
        "expect_column_proportion_of_non_null_values_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
        "expect_column_quantile_values_to_be_between",
        "expect_column_stdev_to_be_between",
        "expect_column_sum_to_be_between",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_values_to_be_decreasing",
        "expect_column_values_to_be_increasing",
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_row_count_to_equal_other_table",
    }
)


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class SuiteDefinition:
    name: str
    asset_key: tuple[str, str]
    expectations: tuple[dict[str, Any], ...]
    computed_columns: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: str = ""  # what the table is, in a line (the suite file's top-level `notes`)

    @property
    def schema(self) -> str:
        return self.asset_key[0]

    @property
    def table(self) -> str:
        return self.asset_key[1]

    @property
    def columns(self) -> list[str]:
        """Table columns the expectations need, in first-use order (computed ones excluded)."""
        return _columns_of(self.expectations, self.computed_columns)

    @property
    def row_expectations(self) -> tuple[dict[str, Any], ...]:
        """Expectations GX evaluates per batch of rows (their counts add up over batches)."""
        return tuple(e for e in self.expectations if e["type"] not in TABLE_WIDE_TYPES)

    @property
    def table_expectations(self) -> tuple[dict[str, Any], ...]:
        """Expectations evaluated in SQL over the whole table (uniqueness)."""
        return tuple(e for e in self.expectations if e["type"] in TABLE_WIDE_TYPES)

    @property
    def frame_columns(self) -> list[str]:
        """Table columns the row-wise expectations need: the columns read into pandas."""
        return _columns_of(self.row_expectations, self.computed_columns)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of what decides verdicts (expectations, computed columns): a changed suite
        invalidates the rows validated under the old one."""
        document = {
            "expectations": list(self.expectations),
            "computed_columns": self.computed_columns,
        }
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_gx_dict(self, expectations: tuple[dict[str, Any], ...] | None = None) -> dict[str, Any]:
        """The suite (or the given subset of its expectations) as GX's `ExpectationSuite(**...)` accepts it."""
        chosen = self.expectations if expectations is None else expectations
        return {
            "name": self.name,
            "expectations": [dict(e) for e in chosen],
            "meta": dict(self.meta),
        }


def _columns_of(expectations, computed: dict[str, str]) -> list[str]:
    names: list[str] = []
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        for key in _COLUMN_KWARGS:
            if key in kwargs:
                names.append(kwargs[key])
        for key in _COLUMN_LIST_KWARGS:
            names.extend(kwargs.get(key) or [])
        names.extend(_condition_columns(kwargs.get("row_condition")))
    return list(dict.fromkeys(n for n in names if n not in computed))


def _condition_columns(condition: Any) -> list[str]:
    """Columns a GX row condition (its JSON form) refers to."""
    if isinstance(condition, dict):
        column = condition.get("column")
        found = [column["name"]] if isinstance(column, dict) and "name" in column else []
        for value in condition.values():
            found.extend(_condition_columns(value))
        return found
    if isinstance(condition, list):
        return [name for item in condition for name in _condition_columns(item)]
    return []


def suite_path(name: str, suites_dir: Path = SUITES_DIR) -> Path:
    return suites_dir / f"{name}.json"


def list_suites(suites_dir: Path = SUITES_DIR) -> list[str]:
    """Names of all suites (`schema.table`), sorted."""
    return sorted(p.stem for p in suites_dir.glob("*.json"))


def load_suite(name: str, suites_dir: Path = SUITES_DIR) -> SuiteDefinition:
    path = suite_path(name, suites_dir)
    if not path.exists():
        known = ", ".join(list_suites(suites_dir)) or "none"
        raise SuiteError(f"no suite {name!r} in {suites_dir} (known: {known})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path.name}: not valid JSON ({exc})") from exc
    return parse_suite(document, source=path.name)


def parse_suite(document: dict[str, Any], source: str = "<suite>") -> SuiteDefinition:
    name = document.get("name")
    meta = document.get("meta") or {}
    asset_key = meta.get("asset_key")
    if not isinstance(name, str) or not name:
        raise SuiteError(f"{source}: the suite needs a `name`")
    if not (
        isinstance(asset_key, list)
        and len(asset_key) == 2
        and all(isinstance(p, str) for p in asset_key)
    ):
        raise SuiteError(f"{source}: meta.asset_key must be [schema, table], got {asset_key!r}")
    if asset_key[0] != "raw":
        raise SuiteError(
            f"{source}: GX validates the raw input contract only, not {asset_key[0]!r} tables; "
            "checks on what dbt builds are dbt tests (docs/data_quality.md)"
        )
    if name != ".".join(asset_key):
        raise SuiteError(
            f"{source}: name {name!r} must be schema.table of its asset_key {asset_key}"
        )
    expectations = document.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{source}: `expectations` must be a non-empty list")
    for position, expectation in enumerate(expectations, start=1):
        if not isinstance(expectation.get("type"), str) or not isinstance(
            expectation.get("kwargs"), dict
        ):
            raise SuiteError(f"{source}: expectation {position} needs `type` and `kwargs`")
        if expectation.get("severity", "critical") not in SEVERITIES:
            raise SuiteError(
                f"{source}: expectation {position} ({expectation['type']}) has severity "
                f"{expectation.get('severity')!r}; use one of {', '.join(SEVERITIES)}"
            )
        if expectation["type"] in UNBATCHABLE_TYPES:
            raise SuiteError(
                f"{source}: expectation {position} ({expectation['type']}) is a statistic of "
                "the whole column; tables are validated in batches of rows, which cannot "
                'combine it (see docs/data_quality.md, "Incremental validation")'
            )
        if expectation["type"] in DDL_TYPES:
            raise SuiteError(
                f"{source}: expectation {position} ({expectation['type']}) checks a column type, "
                "which the raw DDL already fixes (jeugdhulp/ingest/raw_tables.py)"
            )
        if expectation["type"] in TABLE_WIDE_TYPES and expectation["kwargs"].get("row_condition"):
            raise SuiteError(
                f"{source}: expectation {position} ({expectation['type']}) is evaluated in "
                "SQL over the whole table and cannot take a row_condition"
            )
    computed = meta.get("computed_columns") or {}
    if not isinstance(computed, dict) or not all(isinstance(v, str) for v in computed.values()):
        raise SuiteError(f"{source}: meta.computed_columns must map a name to an SQL expression")
    return SuiteDefinition(
        name=name,
        asset_key=(asset_key[0], asset_key[1]),
        expectations=tuple(expectations),
        computed_columns=dict(computed),
        meta=dict(meta),
        notes=str(document.get("notes") or ""),
    )
