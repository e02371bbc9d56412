"""The Great Expectations suites in `expectations/`: one reviewable JSON file per table.

A suite file is a GX 1.x suite as GX serialises it (`name`, `expectations`, `meta`), with two
project keys in `meta`:
- `asset_key`: the Dagster asset the suite checks, `[schema, table]`; the table read is
  `schema.table` in the warehouse.
- `computed_columns` (optional): name -> DuckDB SQL expression over the table's columns, added to
  the frame GX sees (GX has no expression expectations for pandas, e.g. amount = volume × tariff).

Each expectation carries GX's own `severity`: `critical` breaks the table's contract (blocks
publishing), `warning` flags data the providers should fix (reported, not blocking).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.core.settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"
SEVERITIES = ("critical", "warning")

# kwargs that name columns of the frame
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list", "column_set")


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class SuiteDefinition:
    name: str
    asset_key: tuple[str, str]
    expectations: tuple[dict[str, Any], ...]
    computed_columns: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.asset_key[0]

    @property
    def table(self) -> str:
        return self.asset_key[1]

    @property
    def columns(self) -> list[str]:
        """Table columns the expectations need, in first-use order (computed ones excluded)."""
        names: list[str] = []
        for expectation in self.expectations:
            kwargs = expectation["kwargs"]
            for key in _COLUMN_KWARGS:
                if key in kwargs:
                    names.append(kwargs[key])
            for key in _COLUMN_LIST_KWARGS:
                names.extend(kwargs.get(key) or [])
            names.extend(_condition_columns(kwargs.get("row_condition")))
        seen = dict.fromkeys(n for n in names if n not in self.computed_columns)
        return list(seen)

    def to_gx_dict(self) -> dict[str, Any]:
        """The suite as GX's `ExpectationSuite(**...)` accepts it."""
        return {"name": self.name, "expectations": [dict(e) for e in self.expectations],
                "meta": dict(self.meta)}


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
    if not (isinstance(asset_key, list) and len(asset_key) == 2 and all(isinstance(p, str) for p in asset_key)):
        raise SuiteError(f"{source}: meta.asset_key must be [schema, table], got {asset_key!r}")
    if name != ".".join(asset_key):
        raise SuiteError(f"{source}: name {name!r} must be schema.table of its asset_key {asset_key}")
    expectations = document.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise SuiteError(f"{source}: `expectations` must be a non-empty list")
    for position, expectation in enumerate(expectations, start=1):
        if not isinstance(expectation.get("type"), str) or not isinstance(expectation.get("kwargs"), dict):
            raise SuiteError(f"{source}: expectation {position} needs `type` and `kwargs`")
        if expectation.get("severity", "critical") not in SEVERITIES:
            raise SuiteError(f"{source}: expectation {position} ({expectation['type']}) has severity "
                             f"{expectation.get('severity')!r}; use one of {', '.join(SEVERITIES)}")
    computed = meta.get("computed_columns") or {}
    if not isinstance(computed, dict) or not all(isinstance(v, str) for v in computed.values()):
        raise SuiteError(f"{source}: meta.computed_columns must map a name to an SQL expression")
    return SuiteDefinition(name=name, asset_key=(asset_key[0], asset_key[1]),
                           expectations=tuple(expectations), computed_columns=dict(computed),
                           meta=dict(meta))
