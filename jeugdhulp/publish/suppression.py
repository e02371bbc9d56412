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
    for column in spec.amounts_by_population:
        if column in conditions:
            # an amount of 0 says nothing about anybody
            conditions[column].append(
                f"(coalesce(p.population, 0) < {MIN_PERSONS} AND s.{_q(column)} <> 0)"
            )
    return conditions


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
    counts = ", ".join(f"count({_q(column)})" for column in columns)
    before = work.con.execute(f"SELECT {counts}, count(*) FROM src.{spec.name}").fetchone()
    after = work.con.execute(f"SELECT {counts}, count(*) FROM pub.{spec.name}").fetchone()
    if before[-1] != after[-1]:
        raise AssertionError(f"suppression changed the row count of {spec.name}")
    return Suppressed(rows=after[-1], cells=sum(b - a for b, a in zip(before[:-1], after[:-1])))


def suppress_all(work: WorkCopy, specs: list[MartSpec]) -> dict[str, Suppressed]:
    work.con.execute("CREATE SCHEMA IF NOT EXISTS pub")
    return {spec.name: suppress_mart(work, spec) for spec in specs}
