"""Small-cell suppression: turn each `src.<mart>` into `pub.<mart>` with counts below 5 hidden."""

from __future__ import annotations

from dataclasses import dataclass

from jeugdhulp.publish.catalogue import MIN_PERSONS, MartSpec
from jeugdhulp.publish.warehouse import WorkCopy

COSTS = "mart_costs_monthly"


@dataclass(frozen=True)
class Suppressed:
    rows: int
    cells: int


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def small_count(expression: str) -> str:
    """SQL that is true when `expression` counts 1 to 4 persons (0 and NULL are not small)."""
    return f"({expression}) BETWEEN 1 AND {MIN_PERSONS - 1}"


def order_columns(spec: MartSpec, columns: tuple[str, ...]) -> list[str]:
    """Grain first, then the rest: a stable, readable row order (same marts → same bytes)."""
    grain = [column for column in spec.grain if column in columns]
    return grain + [column for column in columns if column not in grain]


def population_sql(work: WorkCopy, keys: tuple[str, ...]) -> str | None:
    """Per key, the fewest persons the matching cost cells certainly cover: their largest `clients`."""
    if not work.has(COSTS):
        return None
    available = set(work.columns[COSTS]) | (
        {"year"} if "service_month" in work.columns[COSTS] else set()
    )
    if not set(keys) <= available or "clients" not in available:
        return None
    select = ", ".join(_q(key) for key in keys)
    cells = (
        f"SELECT *, year(service_month) AS year FROM src.{COSTS}"
        if "service_month" in work.columns[COSTS]
        else f"SELECT * FROM src.{COSTS}"
    )
    return f"SELECT {select}, max(clients) AS population FROM ({cells}) GROUP BY {select}"


def _conditions(work: WorkCopy, spec: MartSpec, columns: tuple[str, ...]) -> dict[str, list[str]]:
    conditions: dict[str, list[str]] = {column: [] for column in columns}
    for cell in spec.cells:
        if cell.count not in columns:
            continue
        condition = small_count(f"s.{_q(cell.count)} - {cell.offset}")
        for column in cell.suppressed_columns:
            if column in conditions:
                conditions[column].append(condition)
    numeric = _numeric_columns(work, spec.name)
    for column in spec.amounts_by_population:
        if column in conditions:
            # an amount of 0 says nothing about anybody (a date that follows from an amount,
            # such as the day a ceiling is reached, is never 0)
            zero = f" AND s.{_q(column)} <> 0" if column in numeric else ""
            conditions[column].append(f"(coalesce(p.population, 0) < {MIN_PERSONS}{zero})")
    return conditions


def _numeric_columns(work: WorkCopy, name: str) -> set[str]:
    rows = work.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'src' AND table_name = ?",
        [name],
    ).fetchall()
    kinds = ("DECIMAL", "INTEGER", "BIGINT", "DOUBLE", "FLOAT", "HUGEINT", "SMALLINT", "UBIGINT")
    return {column for column, kind in rows if kind.upper().startswith(kinds)}


def suppress_mart(work: WorkCopy, spec: MartSpec) -> Suppressed:
    """Create pub.<mart> from src.<mart>; count the values that became NULL."""
    columns = work.columns[spec.name]
    conditions = _conditions(work, spec, columns)
    select = []
    for column in columns:
        if conditions[column]:
            select.append(
                f"CASE WHEN {' OR '.join(conditions[column])} THEN NULL "
                f"ELSE s.{_q(column)} END AS {_q(column)}"
            )
        else:
            select.append(f"s.{_q(column)}")
    source = f"src.{spec.name} s"
    if spec.amounts_by_population:
        population = population_sql(work, spec.population_keys)
        if population is None:
            population = (
                f"SELECT {', '.join(f'NULL AS {_q(k)}' for k in spec.population_keys)}, "
                "NULL::BIGINT AS population WHERE false"
            )
        join = " AND ".join(f"s.{_q(key)} = p.{_q(key)}" for key in spec.population_keys)
        source += f" LEFT JOIN ({population}) p ON {join}"
    order = ", ".join(_q(column) for column in order_columns(spec, columns))
    work.con.execute(
        f"CREATE OR REPLACE TABLE pub.{spec.name} AS "
        f"SELECT * FROM (SELECT {', '.join(select)} FROM {source}) ORDER BY {order}"
    )
    if spec.row_sums or spec.margin_groups:
        _complementary(work, spec, columns)
    counts = ", ".join(f"count({_q(column)})" for column in columns)
    before = work.con.execute(f"SELECT {counts}, count(*) FROM src.{spec.name}").fetchone()
    after = work.con.execute(f"SELECT {counts}, count(*) FROM pub.{spec.name}").fetchone()
    if before[-1] != after[-1]:
        raise AssertionError(f"suppression changed the row count of {spec.name}")
    return Suppressed(rows=after[-1], cells=sum(b - a for b, a in zip(before[:-1], after[:-1])))


def _complementary(work: WorkCopy, spec: MartSpec, columns: tuple[str, ...]) -> None:
    """Rule 3: hide further counts of pub.<mart> until no hidden count can be derived by
    subtraction. Within a row, the hidden parts of a `row_sums` total must add up to 0 or at
    least 5; within a margin group, so must the hidden cells of each measure (another group's
    visible total minus this group's visible cells would give them). Else the smallest visible
    non-zero part is hidden too (with what its Cell hides along), until both hold."""
    grain = [column for column in spec.grain if column in columns]
    order = ", ".join(_q(column) for column in grain)
    src = work.con.execute(f"SELECT * FROM src.{spec.name} ORDER BY {order}").fetchall()
    pub = work.con.execute(f"SELECT * FROM pub.{spec.name} ORDER BY {order}").fetchall()
    index = {column: i for i, column in enumerate(columns)}
    along = {cell.count: cell.with_columns for cell in spec.cells}
    hidden = {
        (r, column)
        for r, (s_row, p_row) in enumerate(zip(src, pub))
        for column in columns
        if p_row[index[column]] is None and s_row[index[column]] is not None
    }
    added: set[tuple[int, str]] = set()

    def value(r: int, column: str) -> int:
        return src[r][index[column]] or 0

    def hide_smallest(parts: list[tuple[int, str]]) -> bool:
        visible = [p for p in parts if p not in hidden and value(*p) > 0]
        if not visible:
            return False
        r, column = min(visible, key=lambda p: (value(*p), p))
        for name in (column, *along.get(column, ())):
            if name in index and src[r][index[name]] is not None and (r, name) not in hidden:
                hidden.add((r, name))
                added.add((r, name))
        return True

    def small(parts: list[tuple[int, str]]) -> bool:
        hidden_parts = [p for p in parts if p in hidden]
        return bool(hidden_parts) and 1 <= sum(value(*p) for p in hidden_parts) < MIN_PERSONS

    groups: dict[tuple, list[int]] = {}
    if spec.margin_groups and all(column in index for column in spec.margin_groups):
        for r, row in enumerate(src):
            key = tuple(row[index[column]] for column in spec.margin_groups)
            groups.setdefault(key, []).append(r)
    measures = [m for m in spec.margin_measures if m in index]
    sums = [(t, [p for p in parts if p in index]) for t, parts in spec.row_sums if t in index]
    changed = True
    while changed:
        changed = False
        for r in range(len(src)):
            for total, parts in sums:
                cells = [(r, p) for p in parts]
                if (r, total) not in hidden and small(cells):
                    changed |= hide_smallest(cells) or hide_smallest([(r, total)])
        for rows in groups.values():
            for measure in measures:
                cells = [(r, measure) for r in rows]
                if small(cells):
                    changed |= hide_smallest(cells)
    if not added:
        return
    work.con.execute(
        "CREATE OR REPLACE TEMP TABLE _hide AS SELECT "
        + "".join(f"{_q(column)}, " for column in grain)
        + f"CAST(NULL AS VARCHAR) AS _column FROM src.{spec.name} WHERE false"
    )
    work.con.executemany(
        f"INSERT INTO _hide VALUES ({', '.join('?' for _ in range(len(grain) + 1))})",
        [[src[r][index[column]] for column in grain] + [name] for r, name in sorted(added)],
    )
    match = " AND ".join(f"m.{_q(c)} IS NOT DISTINCT FROM h.{_q(c)}" for c in grain)
    for name in sorted({name for _, name in added}):
        work.con.execute(
            f"UPDATE pub.{spec.name} AS m SET {_q(name)} = NULL FROM _hide h "
            f"WHERE h._column = ? AND {match}",
            [name],
        )
    work.con.execute(
        f"CREATE OR REPLACE TABLE pub.{spec.name} AS "
        f"SELECT * FROM pub.{spec.name} ORDER BY "
        + ", ".join(_q(column) for column in order_columns(spec, columns))
    )
    work.con.execute("DROP TABLE _hide")


def suppress_all(work: WorkCopy, specs: list[MartSpec]) -> dict[str, Suppressed]:
    work.con.execute("CREATE SCHEMA IF NOT EXISTS pub")
    return {spec.name: suppress_mart(work, spec) for spec in specs}
