"""Who receives what: the publication targets and each target's rows of every published mart."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from jeugdhulp.publish.catalogue import MartSpec
from jeugdhulp.publish.warehouse import MUNICIPALITY_CODE, WorkCopy

REGION = "regio"
COSTS = "mart_costs_monthly"  # who invoiced whom: the provider-level marts' row filter


@dataclass(frozen=True)
class Target:
    """One published folder: the region set, or one municipality's own set."""

    code: str
    name: str

    @property
    def is_region(self) -> bool:
        return self.code == REGION

    @property
    def title(self) -> str:
        if self.is_region:
            return "regio (alle gemeenten)"
        return self.name if self.name == self.code else f"{self.name} ({self.code})"


def municipality_codes(work: WorkCopy, specs: list[MartSpec]) -> list[str]:
    """Every valid municipality code in the municipality-level marts (sorted)."""
    parts = [
        f"SELECT municipality_code FROM src.{spec.name}"
        + (f" WHERE municipality_code <> '{REGION}'" if spec.shape else "")
        for spec in specs
        if spec.scope == "municipality" and work.has(spec.name)
    ]
    if not parts:
        return []
    codes = [
        row[0]
        for row in work.con.execute(
            f"SELECT DISTINCT municipality_code FROM ({' UNION ALL '.join(parts)}) "
            "WHERE municipality_code IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    invalid = [code for code in codes if not MUNICIPALITY_CODE.match(code)]
    if invalid:
        work.notes.append(
            "municipality codes not of the form GM+4 digits get no folder (their rows "
            f"are in the region set only): {', '.join(invalid)}"
        )
    return [code for code in codes if MUNICIPALITY_CODE.match(code)]


def targets(work: WorkCopy, specs: list[MartSpec]) -> list[Target]:
    region = Target(REGION, "Regio")
    return [region] + [
        Target(code, work.municipality_names.get(code, code))
        for code in municipality_codes(work, specs)
    ]


def providers_of(code: str) -> str:
    """SQL for the providers that invoiced a municipality: the provider-level marts' row filter."""
    return f"SELECT provider_agb FROM src.{COSTS} WHERE municipality_code = '{code}'"


def receives(work: WorkCopy, spec: MartSpec, target: Target) -> bool:
    """Provider-level marts reach a municipality only through its providers in mart_costs_monthly."""
    return target.is_region or spec.scope != "provider" or work.has(COSTS)


def order_columns(spec: MartSpec, columns: tuple[str, ...]) -> list[str]:
    """Grain first, then the rest: a stable, readable row order (same marts → same bytes)."""
    grain = [column for column in spec.grain if column in columns]
    return grain + [column for column in columns if column not in grain]


def select_rows(work: WorkCopy, spec: MartSpec, target: Target, schema: str = "pub") -> pa.Table:
    """The target's rows of <schema>.<mart> (pub: intern, obr: openbaar), in a fixed order."""
    assert target.is_region or MUNICIPALITY_CODE.match(target.code), target
    where = ""
    if not target.is_region:
        if spec.scope == "municipality":
            where = f"WHERE municipality_code = '{target.code}'"
        elif spec.scope == "provider":
            where = f"WHERE provider_agb IN ({providers_of(target.code)})"
    columns = work.columns[spec.name]
    order = ", ".join(f'"{column}"' for column in order_columns(spec, columns))
    table = work.con.sql(
        f"SELECT * FROM {schema}.{spec.name} {where} ORDER BY {order}"
    ).to_arrow_table()
    return table.combine_chunks()


def municipality_providers(work: WorkCopy) -> pa.Table:
    """(municipality_code, provider_agb) pairs with invoices: the provider-level access list."""
    if not work.has(COSTS):
        return pa.table(
            {
                "municipality_code": pa.array([], pa.string()),
                "provider_agb": pa.array([], pa.string()),
            }
        )
    return (
        work.con.sql(
            f"SELECT DISTINCT municipality_code, provider_agb FROM src.{COSTS} "
            "WHERE municipality_code IS NOT NULL AND provider_agb IS NOT NULL ORDER BY 1, 2"
        )
        .to_arrow_table()
        .combine_chunks()
    )
