"""The regional reference files: providers, budget ceilings per provider per year, products and tariffs, population."""

from __future__ import annotations

from jeugdhulp.synthetic.catalogue import products_rows
from jeugdhulp.synthetic.landing_files import FileSink, csv_bytes, format_amount
from jeugdhulp.synthetic.municipalities import Municipality, population_rows
from jeugdhulp.synthetic.providers import Provider


def ceiling_cents(care_cents: int, factor: float) -> int:
    """A budget ceiling as a contract manager sets it: a round number of thousands (hundreds when small)."""
    raw = care_cents * factor
    step = 100_000 if raw >= 2_000_000 else 10_000
    return max(step, round(raw / step) * step)


def budget_ceilings(
    providers: list[Provider], years: list[int], care_cost: dict[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """Ceilings of framework-contract providers, set against the care they will deliver that year."""
    ceilings = {}
    for provider in providers:
        if provider.ceiling_plan == "none":
            continue
        for year in years:
            care = care_cost.get((provider.agb, year), 0)
            if care > 0:
                ceilings[(provider.agb, year)] = ceiling_cents(care, provider.ceiling_factor)
    return ceilings


def write_reference(
    sink: FileSink,
    seed: int,
    providers: list[Provider],
    municipalities: list[Municipality],
    years: list[int],
    ceilings: dict[tuple[str, int], int],
    year_written: int,
) -> list[str]:
    """Write the four reference CSVs (standard dialect: comma, decimal point, no BOM)."""
    written = []
    provider_rows = [
        [p.agb, p.name, p.contract_type] for p in sorted(providers, key=lambda p: p.agb)
    ]
    written.append(
        sink.write(
            "landing/reference/providers.csv",
            csv_bytes(["agb_code", "name", "contract_type"], provider_rows),
            "reference",
            year_written,
        )
    )
    ceiling_rows = [
        [agb, str(year), format_amount(cents)] for (agb, year), cents in sorted(ceilings.items())
    ]
    written.append(
        sink.write(
            "landing/reference/budget_ceilings.csv",
            csv_bytes(["agb_code", "year", "budget_ceiling_eur"], ceiling_rows),
            "reference",
            year_written,
        )
    )
    product_rows = products_rows(years)
    header = list(product_rows[0])
    written.append(
        sink.write(
            "landing/reference/products.csv",
            csv_bytes(header, [[row[h] for h in header] for row in product_rows]),
            "reference",
            year_written,
        )
    )
    population = population_rows(seed, municipalities, years)
    header = list(population[0])
    written.append(
        sink.write(
            "landing/reference/population.csv",
            csv_bytes(header, [[row[h] for h in header] for row in population]),
            "reference",
            year_written,
        )
    )
    return written
