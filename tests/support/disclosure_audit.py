"""The differencing audit of a published folder (docs/publishing.md, "Disclosure control").

Reads what was published, not the publisher's state: the true values from
`published/intern/regio/rpt_*.parquet`, what the public sees from `published/openbaar/regio/`.
For every cell the intern tier shows 1 to 4 persons, it checks the openbaar tier hides it, then
solves for its lowest and highest amount and count given every published cell and the linear
relations between them (totals, subtotals along every classifying column, the year as the sum
of its months, the same municipality total in each table) with SciPy's HiGHS, and reports every
interval narrower than the protection margin.

The suite runs it on the fabricated warehouse (tests/publish/test_disclosure_audit.py) and on the
region profile (tests/e2e/test_region_profile.py).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from jeugdhulp.publish.catalogue import MIN_PERSONS, SPECS
from jeugdhulp.publish.sdc import PROTECTION_MARGIN, Leak, build_problems, leaks


def openbaar_tables(published: Path) -> list[str]:
    return sorted(path.stem for path in (published / "openbaar" / "regio").glob("*.parquet"))


def _read(published: Path) -> tuple[dict, dict]:
    """(table → (spec, intern rows)), (table → openbaar rows in the intern rows' order)."""
    tables = {}
    shown = {}
    for name in openbaar_tables(published):
        truth = pq.read_table(published / "intern" / "regio" / f"{name}.parquet").to_pylist()
        public = pq.read_table(published / "openbaar" / "regio" / f"{name}.parquet").to_pylist()
        spec = SPECS[name]
        dims = [*spec.shape.fixed, *spec.shape.dim_columns]
        by_key = {tuple(row[c] for c in dims): row for row in public}
        assert len(by_key) == len(truth) == len(public), name
        tables[name] = (spec, truth)
        shown[name] = [by_key[tuple(row[c] for c in dims)] for row in truth]
    return tables, shown


def intern_problems(published: Path) -> dict:
    """The audit's linear problems over the true (intern) values of the openbaar tables: what a
    test hands a weakened rule to show the audit catches it."""
    return build_problems(_read(published)[0])


def audit_published(published: Path, margin: float = PROTECTION_MARGIN) -> tuple[list[Leak], int]:
    """(leaks, primary cells audited) over the openbaar region set, which holds every row of
    every municipality's openbaar folder (test_openbaar_folders_are_subsets checks that)."""
    tables, shown = _read(published)
    found: list[Leak] = []
    audited = 0
    for problem in build_problems(tables).values():
        hidden, primary = set(), set()
        for cell_id, cell in enumerate(problem.cells):
            spec = SPECS[cell.table]
            row = shown[cell.table][cell.row]
            if row[spec.shape.persons] is None:
                hidden.add(cell_id)
                assert all(row[c] is None for c in spec.shape.amounts), (cell.table, cell.key)
            if 1 <= cell.persons < MIN_PERSONS:
                primary.add(cell_id)
                assert cell_id in hidden, f"{cell.table} {cell.fixed} {cell.key}: count shown"
        audited += len(primary)
        found += leaks(problem, hidden, primary, margin)
    return found, audited
