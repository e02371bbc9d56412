"""The product catalogue: iJw product codes with their units, segments and the region's tariffs per year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Tariffs are the region's 2024 tariffs (docs/glossary.md); other years are indexed from 2024 so that a
# line's tariff depends on the year of its service month, as in real contracts.
TARIFF_BASE_YEAR = 2024
_INDEX_BEFORE = 1.055  # yearly indexation applied backwards from 2024
_INDEX_AFTER = 1.04  # yearly indexation applied forwards from 2024


@dataclass(frozen=True, slots=True)
class Product:
    category: str  # iJw ProductCategorie (JZ020)
    code: str  # iJw ProductCode
    description: str  # Dutch, as on the region's product list
    unit: str  # iJw Eenheid: 01 minute, 04 hour, 14 etmaal, 16 dagdeel, 82 stuks, 83 euro's
    base_tariff_cents: int | None  # 2024 tariff per unit; None for unit 83 (the volume is euros)
    segment: str
    frequency: str  # iJw Frequentie the allocation is given in: 1 day, 2 week, 4 month, 6 total

    def tariff_cents(self, year: int) -> int | None:
        """The contract tariff for care delivered in `year`."""
        if self.base_tariff_cents is None:
            return None
        if year >= TARIFF_BASE_YEAR:
            factor = _INDEX_AFTER ** (year - TARIFF_BASE_YEAR)
        else:
            factor = 1 / _INDEX_BEFORE ** (TARIFF_BASE_YEAR - year)
        return round(self.base_tariff_cents * factor)

    @property
    def is_residential(self) -> bool:
        return self.segment == "verblijf"


PRODUCTS: tuple[Product, ...] = (
    Product("45", "45A48", "Ambulante jeugdhulp regulier", "04", 7800, "ambulant", "2"),
    Product("54", "54001", "Jeugd-ggz basis (per minuut)", "01", 126, "ggz", "4"),
    Product("54", "54002", "Jeugd-ggz regulier", "04", 9420, "ggz", "4"),
    Product("54", "54003", "Jeugd-ggz specialistisch", "04", 11280, "ggz", "4"),
    Product("54", "54004", "Jeugd-ggz hoogspecialistisch", "04", 13140, "ggz", "2"),
    Product("54", "54D01", "Dyslexiezorg (EED)", "04", 6840, "dyslexie", "6"),
    Product("41", "41A00", "Dagbehandeling regulier", "16", 6882, "dagbehandeling", "2"),
    Product("41", "41A03", "Dagbehandeling intensief", "16", 7437, "dagbehandeling", "2"),
    Product("42", "42A01", "Vervoer dagbehandeling (per dag)", "82", 1436, "vervoer", "2"),
    Product("44", "44A25", "Verblijf 24-uurs licht", "14", 8355, "verblijf", "1"),
    Product("44", "44A26", "Verblijf 24-uurs middel", "14", 13973, "verblijf", "1"),
    Product("44", "44A27", "Verblijf 24-uurs zwaar", "14", 19591, "verblijf", "1"),
    Product("44", "44A08", "Gezinshuis", "14", 16359, "verblijf", "1"),
    Product("50", "50A01", "Maatwerkarrangement (budget)", "83", None, "maatwerk", "6"),
)

PRODUCTS_BY_CODE: dict[str, Product] = {product.code: product for product in PRODUCTS}


def products_rows(years: list[int]) -> list[dict[str, str]]:
    """Rows of reference/products.csv: one per product per year, the tariff valid that year."""
    rows = []
    for product in PRODUCTS:
        for year in years:
            tariff = product.tariff_cents(year)
            rows.append(
                {
                    "product_category": product.category,
                    "product_code": product.code,
                    "description": product.description,
                    "unit": product.unit,
                    "tariff_eur": "" if tariff is None else f"{tariff // 100}.{tariff % 100:02d}",
                    "valid_from": date(year, 1, 1).isoformat(),
                    "valid_to": date(year, 12, 31).isoformat(),
                    "segment": product.segment,
                }
            )
    return rows
