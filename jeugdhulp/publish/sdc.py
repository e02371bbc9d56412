"""Disclosure control of the openbaar tier: primary and complementary cell suppression, and the
linear-programming audit that proves no suppressed value can be narrowed down.

Practice of statistical offices (CBS; Eurostat/ESSnet Handbook on Statistical Disclosure
Control, ch. 4 "magnitude and frequency tables"): a minimum-frequency rule marks the sensitive
cells (primary suppression), then complementary (secondary) suppression hides further cells until
every sensitive cell's feasible interval, given everything published, is wide enough (the
protection level). docs/publishing.md states the rules and the margin.

The tables are the publication models (catalogue.Shape): classifying columns, each with a total
code, and per cell `persons` (distinct persons at the cell's own grain) and `amount_eur`.

- amounts add up: a total cell = the sum of its parts, along every classifying column;
- distinct persons do not add up, but each part counts at most the total's persons and the total
  at most the sum of its parts' persons;
- the same cell in several tables (a municipality's year total is in each cost table) is one value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from jeugdhulp.publish.catalogue import MIN_PERSONS, MartSpec

# Protection level: every primary-suppressed amount must be able to lie at least this fraction
# of its value below and above its true value, given everything in the openbaar tier.
PROTECTION_MARGIN = 0.5
# Every primary-suppressed count must keep its whole range 1 … MIN_PERSONS − 1 feasible.
PRIMARY = "primair"
SECONDARY = "secundair"
COUNT_MARKER = f"<{MIN_PERSONS}"  # a primary count in CSV
SECRET_MARKER = "x"  # a secondary count and every suppressed amount in CSV
_TOLERANCE = 0.005  # half a cent: the LP works in floats


@dataclass
class Cell:
    table: str
    row: int  # index of the row in its table
    key: tuple  # the classifying columns' values
    fixed: tuple  # the year
    persons: int
    amount: float


@dataclass
class Line:
    """One additive relation: total = sum(parts) (amounts), max(parts) ≤ total ≤ sum (persons)."""

    total: int
    parts: list[int]

    @property
    def members(self) -> list[int]:
        return [self.total, *self.parts]


@dataclass
class Leak:
    table: str
    key: tuple
    fixed: tuple
    measure: str  # "amount" or "persons"
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return (
            f"{self.table} {self.fixed} {self.key}: {self.measure} {self.value:.2f} "
            f"can only lie in [{self.low:.2f}, {self.high:.2f}]"
        )


@dataclass
class Problem:
    """Every cell of the openbaar tables for one value of the fixed columns, and their relations."""

    cells: list[Cell] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    links: list[list[int]] = field(default_factory=list)  # groups of cells that are one value


def build_problems(
    tables: dict[str, tuple[MartSpec, list[dict]]], amount_column: str = "amount_eur"
) -> dict[tuple, Problem]:
    """Per fixed key (year), the cells of all tables and their lines and links. `tables` maps a
    table name to its spec and rows (dicts with the true, unsuppressed values)."""
    problems: dict[tuple, Problem] = defaultdict(Problem)
    index: dict[tuple, dict[tuple[str, tuple], int]] = defaultdict(dict)
    for name, (spec, rows) in tables.items():
        shape = spec.shape
        assert shape is not None, name
        for number, row in enumerate(rows):
            fixed = tuple(row[column] for column in shape.fixed)
            key = tuple(row[column] for column in shape.dim_columns)
            problem = problems[fixed]
            amount = row[amount_column]
            problem.cells.append(
                Cell(
                    name,
                    number,
                    key,
                    fixed,
                    int(row[shape.persons] or 0),
                    0.0 if amount is None else float(amount),
                )
            )
            index[fixed][(name, key)] = len(problem.cells) - 1
    for fixed, problem in problems.items():
        ids = index[fixed]
        links: dict[tuple, list[int]] = defaultdict(list)
        for name, (spec, _) in tables.items():
            shape = spec.shape
            totals = [code for _, code in shape.dims]
            groups: dict[tuple, dict] = defaultdict(lambda: {"total": None, "parts": []})
            for (table, key), cell_id in ids.items():
                if table != name:
                    continue
                for d, total_code in enumerate(totals):
                    rest = (d, key[:d] + key[d + 1 :])
                    if key[d] == total_code:
                        groups[rest]["total"] = cell_id
                    else:
                        groups[rest]["parts"].append(cell_id)
                if all(value == code for value, code in zip(key[1:], totals[1:])):
                    links[(shape.link, key[0])].append(cell_id)
            for group in groups.values():
                if group["total"] is not None and group["parts"]:
                    problem.lines.append(Line(group["total"], sorted(group["parts"])))
        problem.links = [members for members in links.values() if len(members) > 1]
    return dict(problems)


def _abs_amount(problem: Problem, cell_id: int) -> float:
    return abs(problem.cells[cell_id].amount)


def _complement(problem: Problem, line: Line, hidden: set[int], need: float) -> int | None:
    """The visible cell of `line` to hide: the part with the smallest amount that still gives
    `need`, else the largest part; the total only when every part is hidden already."""
    parts = [c for c in line.parts if c not in hidden]
    if parts:
        enough = [c for c in parts if _abs_amount(problem, c) >= need]
        if enough:
            return min(enough, key=lambda c: (_abs_amount(problem, c), c))
        return max(parts, key=lambda c: (_abs_amount(problem, c), -c))
    return None if line.total in hidden else line.total


def primary_cells(problem: Problem) -> set[int]:
    return {i for i, cell in enumerate(problem.cells) if 1 <= cell.persons < MIN_PERSONS}


def suppress(
    problem: Problem, margin: float = PROTECTION_MARGIN, audit_rounds: int = 200
) -> tuple[set[int], set[int]]:
    """(primary, all hidden cell ids): primary by the minimum-frequency rule, complementary by
    the line heuristic, then refined until `audit` finds no leak (audit_rounds=0: heuristic
    only)."""
    primary = primary_cells(problem)
    hidden = set(primary)
    by_cell: dict[int, list[Line]] = defaultdict(list)
    for line in problem.lines:
        for member in line.members:
            by_cell[member].append(line)

    def hide(cell_id: int | None) -> bool:
        if cell_id is None or cell_id in hidden:
            return False
        hidden.add(cell_id)
        return True

    def heuristic() -> None:
        changed = True
        while changed:
            changed = False
            for members in problem.links:
                if any(m in hidden for m in members):
                    for m in members:
                        changed |= hide(m)
            for line in problem.lines:
                shut = [m for m in line.members if m in hidden]
                if not shut:
                    continue
                if len(shut) == 1:
                    need = margin * _abs_amount(problem, shut[0])
                    changed |= hide(_complement(problem, line, hidden, need))
                    continue
                for p in shut:
                    if p not in primary:
                        continue
                    others = sum(_abs_amount(problem, o) for o in shut if o != p)
                    need = margin * _abs_amount(problem, p)
                    if others < need:
                        changed |= hide(_complement(problem, line, hidden, need - others))

    heuristic()
    cache: dict[frozenset[int], list] = {}
    for _ in range(audit_rounds):
        leaks = audit(problem, hidden, primary, margin, cache=cache)
        if not leaks:
            break
        added = False
        for cell_id, _measure in leaks:
            lines = sorted(by_cell[cell_id], key=lambda ln: sum(m in hidden for m in ln.members))
            need = margin * _abs_amount(problem, cell_id)
            fixed = False
            # the binding relation is not known: widen every relation of the cell once
            for line in lines:
                if hide(_complement(problem, line, hidden, need)):
                    added = fixed = True
            if not fixed:  # its own lines are all hidden: widen through a hidden neighbour's
                neighbours = {m for line in lines for m in line.members if m != cell_id}
                for other in sorted(neighbours):
                    if any(hide(_complement(problem, ln, hidden, need)) for ln in by_cell[other]):
                        added = True
                        break
        if not added:
            break
        heuristic()
    return primary, hidden


def audit(
    problem: Problem,
    hidden: set[int],
    primary: set[int],
    margin: float = PROTECTION_MARGIN,
    cache: dict | None = None,
) -> list[tuple[int, str]]:
    """The primary cells whose amount or persons an attacker can narrow below the protection
    level, given the published cells: (cell id, "amount" | "persons")."""
    return [
        (leak_id, measure)
        for leak_id, measure, _, _ in intervals(
            problem, hidden, primary, margin, only_leaks=True, cache=cache
        )
    ]


def intervals(
    problem: Problem,
    hidden: set[int],
    primary: set[int],
    margin: float = PROTECTION_MARGIN,
    *,
    only_leaks: bool = False,
    cache: dict | None = None,
) -> Iterable[tuple[int, str, float, float]]:
    """For every primary cell: (id, measure, lowest, highest) feasible value by linear
    programming (HiGHS), per connected group of hidden cells."""
    cells = problem.cells
    variables = sorted(hidden)
    position = {cell_id: i for i, cell_id in enumerate(variables)}
    # union-find over the hidden cells that share a relation
    parent = list(range(len(variables)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(ids: list[int]) -> None:
        roots = [find(position[c]) for c in ids]
        for r in roots[1:]:
            parent[find(r)] = find(roots[0])

    relations = [line for line in problem.lines if any(m in hidden for m in line.members)]
    links = [m for m in problem.links if any(c in hidden for c in m)]
    for line in relations:
        union([m for m in line.members if m in hidden])
    for members in links:
        union([c for c in members if c in hidden])
    components: dict[int, list[int]] = defaultdict(list)
    for cell_id in variables:
        components[find(position[cell_id])].append(cell_id)

    by_root_lines: dict[int, list[Line]] = defaultdict(list)
    for line in relations:
        first = next(m for m in line.members if m in hidden)
        by_root_lines[find(position[first])].append(line)
    by_root_links: dict[int, list[list[int]]] = defaultdict(list)
    for group in links:
        first = next(c for c in group if c in hidden)
        by_root_links[find(position[first])].append(group)
    results: list[tuple[int, str, float, float]] = []
    for root, members in components.items():
        if not any(c in primary for c in members):
            continue
        known = frozenset(members)
        if cache is not None and known in cache:
            results += cache[known]
            continue
        found = _component_intervals(
            cells,
            members,
            primary,
            by_root_lines[root],
            by_root_links[root],
            margin,
            only_leaks,
        )
        if cache is not None:
            cache[known] = found
        results += found
    return results


def _component_intervals(
    cells: list[Cell],
    members: list[int],
    primary: set[int],
    relations: list[Line],
    links: list[list[int]],
    margin: float,
    only_leaks: bool,
) -> list[tuple[int, str, float, float]]:
    """The LPs of one connected group of hidden cells: per measure one model, solved for the
    lowest and the highest value of each primary cell in turn (only the objective changes, so
    HiGHS starts each solve from the previous basis)."""
    results: list[tuple[int, str, float, float]] = []
    targets = [c for c in members if c in primary]
    local = {cell_id: i for i, cell_id in enumerate(members)}
    inside = set(members)
    n = len(members)
    eq_rows, eq_b = [], []  # amounts
    ub_rows, ub_b = [], []  # persons
    for line in relations:
        if not any(m in inside for m in line.members):
            continue
        row: dict[int, float] = defaultdict(float)
        rhs = 0.0
        for sign, member in [(1.0, line.total)] + [(-1.0, p) for p in line.parts]:
            if member in inside:
                row[local[member]] += sign
            else:
                rhs -= sign * cells[member].amount
        eq_rows.append(dict(row))
        eq_b.append(rhs)

        # persons: part ≤ total, total ≤ sum(parts)
        def persons_row(coefs: list[tuple[float, int]]) -> None:
            prow: dict[int, float] = defaultdict(float)
            prhs = 0.0
            for coef, member in coefs:
                if member in inside:
                    prow[local[member]] += coef
                else:
                    prhs -= coef * cells[member].persons
            if prow:
                ub_rows.append(dict(prow))
                ub_b.append(prhs)

        for part in line.parts:
            if part in inside or line.total in inside:
                persons_row([(1.0, part), (-1.0, line.total)])
        persons_row([(1.0, line.total)] + [(-1.0, p) for p in line.parts])
    link_rows, link_b = [], []
    for group in links:
        if not any(c in inside for c in group):
            continue
        first = group[0]
        for other in group[1:]:
            row = defaultdict(float)
            rhs = 0.0
            for sign, member in ((1.0, first), (-1.0, other)):
                if member in inside:
                    row[local[member]] += sign
                else:
                    rhs -= sign * cells[member].amount
            if row:
                link_rows.append(dict(row))
                link_b.append(rhs)

    amount = _ExtremeValues(
        n,
        equal=list(zip(eq_rows + link_rows, eq_b + link_b, strict=True)),
        bounds=[(0.0 if cells[c].amount >= 0 else None, None) for c in members],
    )
    # persons: the same cell in several tables counts the same persons
    person_equal = []
    for group in links:
        if not any(c in inside for c in group):
            continue
        for other in group[1:]:
            row = defaultdict(float)
            rhs = 0.0
            for sign, member in ((1.0, group[0]), (-1.0, other)):
                if member in inside:
                    row[local[member]] += sign
                else:
                    rhs -= sign * cells[member].persons
            if row:
                person_equal.append((dict(row), rhs))
    persons = _ExtremeValues(
        n,
        equal=person_equal,
        at_most=list(zip(ub_rows, ub_b, strict=True)),
        bounds=[
            (1.0, float(MIN_PERSONS - 1)) if c in primary else (float(MIN_PERSONS), None)
            for c in members
        ],
    )

    def extreme(i: int, sense: float, kind: str) -> float:
        return (amount if kind == "amount" else persons).extreme(i, sense)

    for cell_id in targets:
        i = local[cell_id]
        value = cells[cell_id].amount
        low, high = extreme(i, 1.0, "amount"), extreme(i, -1.0, "amount")
        wide = low <= value - margin * abs(value) + _TOLERANCE and (
            high >= value + margin * abs(value) - _TOLERANCE
        )
        if not (only_leaks and wide):
            results.append((cell_id, "amount", low, high))
        plow, phigh = extreme(i, 1.0, "persons"), extreme(i, -1.0, "persons")
        wide = plow <= 1 + _TOLERANCE and phigh >= MIN_PERSONS - 1 - _TOLERANCE
        if not (only_leaks and wide):
            results.append((cell_id, "persons", plow, phigh))
    return results


def leaks(
    problem: Problem, hidden: set[int], primary: set[int], margin: float = PROTECTION_MARGIN
) -> list[Leak]:
    """Readable audit result: every primary cell narrowed below the protection level."""
    found = []
    for cell_id, measure, low, high in intervals(problem, hidden, primary, margin, only_leaks=True):
        cell = problem.cells[cell_id]
        value = cell.amount if measure == "amount" else cell.persons
        found.append(Leak(cell.table, cell.key, cell.fixed, measure, value, low, high))
    return found


class _ExtremeValues:
    """min or max of one variable over {A_eq x = b_eq, A_ub x ≤ b_ub, bounds}, by HiGHS."""

    def __init__(
        self,
        n: int,
        *,
        equal: list[tuple[dict[int, float], float]],
        bounds: list[tuple[float | None, float | None]],
        at_most: list[tuple[dict[int, float], float]] | None = None,
    ) -> None:
        import highspy
        import numpy as np

        infinity = highspy.kHighsInf
        rows = [(row, rhs, rhs) for row, rhs in equal]
        rows += [(row, -infinity, rhs) for row, rhs in at_most or []]
        starts, columns, values = [0], [], []
        for row, _, _ in rows:
            for column, value in row.items():
                if value:
                    columns.append(column)
                    values.append(value)
            starts.append(len(columns))
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.array([-infinity if low is None else low for low, _ in bounds])
        lp.col_upper_ = np.array([infinity if high is None else high for _, high in bounds])
        lp.row_lower_ = np.array([low for _, low, _ in rows], dtype=float)
        lp.row_upper_ = np.array([high for _, _, high in rows], dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(columns, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values, dtype=float)
        self._highs = _quiet_highs(highspy)
        status = self._highs.passModel(lp)
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("disclosure audit: HiGHS refused the model")
        self._statuses = highspy.HighsModelStatus
        self._objective = None

    def extreme(self, i: int, sense: float) -> float:
        """The lowest (sense 1) or highest (sense −1) feasible value of variable i."""
        highs = self._highs
        if self._objective is not None and self._objective != i:
            highs.changeColCost(self._objective, 0.0)
        highs.changeColCost(i, sense)
        self._objective = i
        highs.run()
        status = highs.getModelStatus()
        if status == self._statuses.kUnboundedOrInfeasible:
            # presolve could not tell which: the simplex without it can
            highs.setOptionValue("presolve", "off")
            highs.clearSolver()
            highs.run()
            highs.setOptionValue("presolve", "choose")
            status = highs.getModelStatus()
        if status == self._statuses.kUnbounded:
            return float("-inf") if sense > 0 else float("inf")
        if status != self._statuses.kOptimal:
            raise RuntimeError(f"disclosure audit: LP failed ({highs.modelStatusToString(status)})")
        return sense * highs.getInfo().objective_function_value


def _quiet_highs(highspy):
    """A HiGHS instance with its output off. The first one in a process prints a banner to the
    process's standard output (file descriptor 1), past Python's sys.stdout: it is made with that
    descriptor pointed at /dev/null."""
    import os
    import sys

    global _HIGHS_GREETED
    if not _HIGHS_GREETED:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _HIGHS_GREETED = True
    else:
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


_HIGHS_GREETED = False
